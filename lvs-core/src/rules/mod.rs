//! ipvsadm rule files: what `ipvsadm-save -n` writes and `ipvsadm-restore` reads.
//!
//! - [`parse()`] reads a rule file into [`Rule`]s (one [`Command`] per line, with its position),
//!   accepting every line `ipvsadm -R` accepts and refusing the rest with ipvsadm's message and
//!   the line and column.
//! - [`Ruleset::from_rules`] also applies them, refusing what the kernel would refuse.
//! - [`save`] writes a ruleset back, byte-identical to `ipvsadm -S -n`.
//!
//! Lines are split on blanks with no quoting; a token `ipvsadm` is dropped wherever it stands
//! (so lines may start with it); blank lines and lines whose first non-blank character is `#`
//! are skipped (ipvsadm-restore drops `#` lines before ipvsadm sees them).

pub mod addr;
pub mod list;
pub mod options;
pub mod parse;
pub mod print;
pub mod sort;

pub use list::{ListedDestination, ListedService, Names, NoNames, Table};
pub use options::Token;
pub use parse::{
    ArgError, ArgErrorKind, Format, Invocation, ListWhat, NumericOnly, Resolver, parse_args,
};
pub use print::{SaveOptions, command_rule, save};

use crate::ruleset::Batch;
use crate::{Command, Refusal, Ruleset};
use thiserror::Error;

/// One rule: a command and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column of the command.
    pub column: usize,
    /// What the line asks for.
    pub command: Command,
}

/// Why a rule file was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RulesError {
    /// ipvsadm would refuse the line before it reaches the kernel.
    #[error("{line}:{column}: {kind}")]
    Syntax {
        /// The 1-based line.
        line: usize,
        /// The 1-based column of the token at fault.
        column: usize,
        /// What is wrong.
        kind: ArgErrorKind,
    },
    /// The kernel would refuse the line.
    #[error("{line}:{column}: {refusal}")]
    Refused {
        /// The 1-based line.
        line: usize,
        /// The 1-based column of the command.
        column: usize,
        /// The kernel's answer.
        refusal: Refusal,
    },
}

impl RulesError {
    /// The 1-based line.
    pub fn line(&self) -> usize {
        match self {
            RulesError::Syntax { line, .. } | RulesError::Refused { line, .. } => *line,
        }
    }

    /// The 1-based column.
    pub fn column(&self) -> usize {
        match self {
            RulesError::Syntax { column, .. } | RulesError::Refused { column, .. } => *column,
        }
    }
}

/// Splits a line into tokens as ipvsadm's `config_stream_read` does: on spaces, tabs and
/// carriage returns, dropping every `ipvsadm` token.
pub fn tokenize(line: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    tokenize_into(line, &mut tokens);
    tokens
}

/// [`tokenize`] into `tokens` (cleared first), so that one buffer serves a whole file.
fn tokenize_into<'a>(line: &'a str, tokens: &mut Vec<Token<'a>>) {
    fn is_blank(b: u8) -> bool {
        matches!(b, b' ' | b'\t' | b'\r' | b'\n')
    }
    tokens.clear();
    let bytes = line.as_bytes();
    // Columns count characters. The blanks are ASCII, which never occurs inside a UTF-8
    // sequence, so splitting bytes is splitting characters; only the columns of a line with
    // other characters need counting.
    let ascii = line.is_ascii();
    let (mut counted, mut chars) = (0, 0);
    let mut i = 0;
    loop {
        while i < bytes.len() && is_blank(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            return;
        }
        let start = i;
        while i < bytes.len() && !is_blank(bytes[i]) {
            i += 1;
        }
        let text = &line[start..i];
        // A bare `ipvsadm` is dropped wherever it stands, as config_stream_read does.
        if text == "ipvsadm" {
            continue;
        }
        let column = if ascii {
            start + 1
        } else {
            chars += line[counted..start].chars().count();
            counted = start;
            chars + 1
        };
        tokens.push(Token { text, column });
    }
}

/// Reads a rule file with ipvsadm's checks. Host and service names are refused: lvs-core reads
/// numeric rules (what `ipvsadm-save -n` writes); see [`parse_with`] to resolve names.
pub fn parse(text: &str) -> Result<Vec<Rule>, RulesError> {
    parse_with(text, &NumericOnly)
}

/// [`parse()`] with a resolver for host and service names.
pub fn parse_with(text: &str, resolver: &dyn Resolver) -> Result<Vec<Rule>, RulesError> {
    let mut rules = Vec::new();
    for_each_rule(text, resolver, |rule| rules.push(rule))?;
    Ok(rules)
}

/// Reads a rule file, handing each rule to `f` as soon as it is read; stops at the first
/// syntax error.
fn for_each_rule(
    text: &str,
    resolver: &dyn Resolver,
    mut f: impl FnMut(Rule),
) -> Result<(), RulesError> {
    let mut tokens = Vec::new();
    // The lines of `str::lines`, but a line that ends in "\r\n" keeps its '\r': a blank to
    // the tokenizer, so nothing changes, and finding the line ends is a plain byte search.
    let mut rest = text;
    let mut line_no = 0;
    while !rest.is_empty() {
        line_no += 1;
        let line;
        (line, rest) = match rest.bytes().position(|b| b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        };
        if let Some(rule) = parse_tokens(line_no, line, &mut tokens, resolver)? {
            f(rule);
        }
    }
    Ok(())
}

/// Reads one line of a rule file; blank and comment lines give `None`.
pub fn parse_line(
    line_no: usize,
    line: &str,
    resolver: &dyn Resolver,
) -> Result<Option<Rule>, RulesError> {
    parse_tokens(line_no, line, &mut Vec::new(), resolver)
}

/// [`parse_line`] with a token buffer to reuse.
fn parse_tokens<'a>(
    line_no: usize,
    line: &'a str,
    tokens: &mut Vec<Token<'a>>,
    resolver: &dyn Resolver,
) -> Result<Option<Rule>, RulesError> {
    if line.trim_start().starts_with('#') {
        return Ok(None);
    }
    tokenize_into(line, tokens);
    let Some(first) = tokens.first() else {
        return Ok(None);
    };
    let syntax = |e: ArgError| RulesError::Syntax {
        line: line_no,
        column: e.column,
        kind: e.kind,
    };
    let command = match parse_args(tokens, resolver).map_err(syntax)? {
        Invocation::Change(c) => c,
        _ => {
            return Err(RulesError::Syntax {
                line: line_no,
                column: first.column,
                kind: ArgErrorKind::NotARule(first.text.to_owned()),
            });
        }
    };
    Ok(Some(Rule {
        line: line_no,
        column: first.column,
        command,
    }))
}

impl Ruleset {
    /// Reads a rule file and applies it to an empty table, as `ipvsadm -C; ipvsadm -R` would on
    /// a fresh kernel, refusing the first line that ipvsadm or the kernel would refuse.
    pub fn from_rules(text: &str) -> Result<Ruleset, RulesError> {
        // What apply_rules does on an empty ruleset, but applying each rule as it is read, so
        // that the rules are never all held at once: after a refusal the rest is only checked
        // for syntax errors, which take precedence wherever they are.
        let mut ruleset = Ruleset::new();
        let kernel = crate::KernelProfile::default();
        let mut batch = Batch::new(&mut ruleset, &kernel);
        let mut refused = None;
        for_each_rule(text, &NumericOnly, |rule| {
            if refused.is_none() {
                if let Err(refusal) = batch.apply(&rule.command) {
                    refused = Some(RulesError::Refused {
                        line: rule.line,
                        column: rule.column,
                        refusal,
                    });
                }
            }
        })?;
        match refused {
            Some(e) => Err(e),
            None => Ok(ruleset),
        }
    }

    /// Reads a rule file and applies it to this ruleset. A syntax error anywhere applies
    /// nothing; a line the kernel would refuse stops there, with the lines before it applied
    /// (as `ipvsadm -R` leaves them).
    pub fn apply_rules(&mut self, text: &str) -> Result<(), RulesError> {
        let rules = parse(text)?;
        self.apply_all(
            rules.iter().map(|r| &r.command),
            &crate::KernelProfile::default(),
        )
        .map_err(|(i, refusal)| RulesError::Refused {
            line: rules[i].line,
            column: rules[i].column,
            refusal,
        })
    }

    /// The rules that rebuild this ruleset's services and real servers, as `ipvsadm -S -n`
    /// writes them, plus non-zero thresholds (which ipvsadm drops).
    pub fn to_rules(&self) -> String {
        save(self, SaveOptions::default())
    }
}

#[cfg(test)]
mod tests;
