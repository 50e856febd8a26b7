//! ipvsadm rule files: what `ipvsadm-save -n` writes and `ipvsadm-restore` reads.
//!
//! - [`parse()`] reads a rule file into [`Rule`]s (one [`Command`] per line, with its position),
//!   accepting every line `ipvsadm -R` accepts and refusing the rest with ipvsadm's message and
//!   the line and column. [`parse_iter`] reads the same rules one at a time, without holding
//!   them all; `parse` and `from_rules` are built on it.
//! - [`Ruleset::from_rules`] also applies them, refusing what the kernel would refuse.
//! - [`save`] writes a ruleset back, byte-identical to `ipvsadm -S -n`.
//! - [`decode`] reads bytes as a rule file's text (UTF-8, no byte order mark), with the line
//!   and column of the first bad byte; [`Ruleset::from_rules_bytes`] reads bytes to a ruleset.
//! - [`shown`] is how messages echo the input: escaped, and cut short when long.
//!
//! A rule file's line is an ipvsadm command line; it is read with [`crate::ipvsadm`]'s
//! grammar, which also reads the commands that are not rules (`-L`, `-S`, `-h`, ...).
//!
//! Lines are split on blanks with no quoting; a token `ipvsadm` is dropped wherever it stands
//! (so lines may start with it); blank lines and lines whose first non-blank character is `#`
//! are skipped (ipvsadm-restore drops `#` lines before ipvsadm sees them). A line is read a
//! token at a time and reading stops at the first error, so an error early in a huge line
//! costs no more than the line's length, and memory stays bounded whatever the line holds.

mod plain;
pub(crate) mod print;
mod text;

pub use crate::ipvsadm::parse::{ArgErrorKind, NumericOnly, Resolver};
pub use crate::shown::shown;
pub use print::{SaveOptions, addr_port, command_rule, save};
pub use text::{TextProblem, decode};

use crate::ipvsadm::parse::{ArgError, Invocation, PlainAddr, parse_args_from};
use crate::ipvsadm::split::{HIGH_BITS, tokens, word_at};
use crate::ruleset::Batch;
use crate::{Command, Refusal, Ruleset};
use std::fmt;
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
    /// The text is not a rule file's text (see [`decode`]).
    #[error("{line}:{column}: {problem}")]
    Text {
        /// The 1-based line.
        line: usize,
        /// The 1-based column (in characters) of the first bad byte.
        column: usize,
        /// What is wrong.
        problem: TextProblem,
    },
}

impl RulesError {
    /// The 1-based line.
    pub fn line(&self) -> usize {
        match self {
            RulesError::Syntax { line, .. }
            | RulesError::Refused { line, .. }
            | RulesError::Text { line, .. } => *line,
        }
    }

    /// The 1-based column.
    pub fn column(&self) -> usize {
        match self {
            RulesError::Syntax { column, .. }
            | RulesError::Refused { column, .. }
            | RulesError::Text { column, .. } => *column,
        }
    }
}

/// The length of the first line of `text`, without its '\n'.
fn line_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    loop {
        // Eight bytes at a time: the high bit of each byte that is '\n' (0x0a), found as a
        // zero byte of the word xor-ed with '\n' everywhere.
        let word = word_at(bytes, i) ^ 0x0a0a_0a0a_0a0a_0a0a;
        let zero = word.wrapping_sub(0x0101_0101_0101_0101) & !word & HIGH_BITS;
        if zero != 0 {
            // The lowest flagged byte is a real zero (borrows only run upwards).
            return (i + (zero.trailing_zeros() / 8) as usize).min(bytes.len());
        }
        if i + 8 >= bytes.len() {
            return bytes.len();
        }
        i += 8;
    }
}

/// Reads a rule file with ipvsadm's checks. Host and service names are refused: lvs-core reads
/// numeric rules (what `ipvsadm-save -n` writes); see [`parse_with`] to resolve names.
///
/// This is [`parse_iter`] collected: a program that handles each rule as it comes (sends it,
/// counts it, applies it) can read the rules one at a time with [`parse_iter`] instead, and
/// never hold them all.
pub fn parse(text: &str) -> Result<Vec<Rule>, RulesError> {
    parse_with(text, &NumericOnly)
}

/// [`parse()`] with a resolver for host and service names.
pub fn parse_with(text: &str, resolver: &dyn Resolver) -> Result<Vec<Rule>, RulesError> {
    let mut rules = Vec::new();
    for rule in parse_iter_with(text, resolver) {
        rules.push(rule?);
    }
    Ok(rules)
}

/// The rules of a rule file, read one at a time as the iterator is advanced: the same rules
/// and the same first error as [`parse()`], without a vector of every rule. After an error
/// the iterator ends. Names are refused, as [`parse()`] refuses them.
///
/// ```
/// use lvs_core::rules::parse_iter;
///
/// let text = "-A -t 10.0.0.1:80 -s rr\n# a comment\n-a -t 10.0.0.1:80 -r 10.1.0.1 -m\n";
/// let lines: Vec<usize> = parse_iter(text).map(|r| r.map(|r| r.line)).collect::<Result<_, _>>()?;
/// assert_eq!(lines, [1, 3]);
///
/// let mut rules = parse_iter("-A -t 10.0.0.1:80\n-A -x\n-A -t 10.0.0.2:80\n");
/// assert!(rules.next().unwrap().is_ok());
/// assert_eq!(rules.next().unwrap().unwrap_err().line(), 2);
/// assert!(rules.next().is_none());
/// # Ok::<(), lvs_core::rules::RulesError>(())
/// ```
pub fn parse_iter(text: &str) -> RuleIter<'_> {
    parse_iter_with(text, &NumericOnly)
}

/// [`parse_iter`] with a resolver for host and service names.
pub fn parse_iter_with<'a>(text: &'a str, resolver: &'a dyn Resolver) -> RuleIter<'a> {
    RuleIter {
        rest: text,
        line_no: 0,
        resolver,
        last_service: PlainAddr::default(),
        failed: false,
    }
}

/// The rules of a rule file, one at a time: see [`parse_iter`].
///
/// Plain lines (what `ipvsadm -Sn` writes; see `plain`) are read in one pass, the others a
/// token at a time through [`crate::ipvsadm::parse_args_from`]; both give the same rules.
#[derive(Clone)]
pub struct RuleIter<'a> {
    /// The text from the next line on.
    rest: &'a str,
    /// The number of the line last read (0 before the first).
    line_no: usize,
    resolver: &'a dyn Resolver,
    /// The last service address of a plain line, read once for the lines that repeat it.
    last_service: PlainAddr<'a>,
    /// An error was returned: the iterator has ended.
    failed: bool,
}

impl fmt::Debug for RuleIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuleIter")
            .field("line", &self.line_no)
            .field("rest_len", &self.rest.len())
            .field("failed", &self.failed)
            .finish()
    }
}

impl Iterator for RuleIter<'_> {
    type Item = Result<Rule, RulesError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.line_no == 0 && text::starts_with_bom(self.rest) {
            self.failed = true;
            return Some(Err(text::bom()));
        }
        // The lines of `str::lines`, but a line that ends in "\r\n" keeps its '\r': a blank to
        // the tokenizer, and white space to the comment check, so nothing changes.
        while !self.rest.is_empty() {
            self.line_no += 1;
            if let Some((command, len)) =
                plain::plain_rule(self.rest, self.resolver, &mut self.last_service)
            {
                self.rest = self.rest.get(len + 1..).unwrap_or_default();
                return Some(Ok(Rule {
                    line: self.line_no,
                    column: 1,
                    command,
                }));
            }
            let len = line_len(self.rest);
            let line = &self.rest[..len];
            self.rest = self.rest.get(len + 1..).unwrap_or_default();
            match read_line(self.line_no, line, self.resolver) {
                Ok(None) => {}
                Ok(Some(rule)) => return Some(Ok(rule)),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

impl std::iter::FusedIterator for RuleIter<'_> {}

/// Reads one line of a rule file; blank and comment lines give `None`. Line 1 must not start
/// with a byte order mark.
pub fn parse_line(
    line_no: usize,
    line: &str,
    resolver: &dyn Resolver,
) -> Result<Option<Rule>, RulesError> {
    if line_no == 1 && text::starts_with_bom(line) {
        return Err(text::bom());
    }
    read_line(line_no, line, resolver)
}

/// [`parse_line`] without the check for a byte order mark.
fn read_line(
    line_no: usize,
    line: &str,
    resolver: &dyn Resolver,
) -> Result<Option<Rule>, RulesError> {
    if line.trim_start().starts_with('#') {
        return Ok(None);
    }
    let tokens = tokens(line);
    let Some(first) = tokens.clone().next() else {
        return Ok(None);
    };
    let syntax = |e: ArgError| RulesError::Syntax {
        line: line_no,
        column: e.column,
        kind: e.kind,
    };
    let command = match parse_args_from(tokens, resolver).map_err(syntax)? {
        Invocation::Change(c) => c,
        _ => {
            return Err(RulesError::Syntax {
                line: line_no,
                column: first.column,
                kind: ArgErrorKind::NotARule(shown(first.text).to_string()),
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
    /// Reads a rule file and executes it on an empty table, as `ipvsadm -C; ipvsadm -R` would on
    /// a fresh kernel, refusing the first line that ipvsadm or the kernel would refuse.
    pub fn from_rules(text: &str) -> Result<Ruleset, RulesError> {
        // What execute_rules does on an empty ruleset, but executing each rule as it is read, so
        // that the rules are never all held at once: after a refusal the rest is only checked
        // for syntax errors, which take precedence wherever they are.
        let mut ruleset = Ruleset::new();
        let kernel = crate::KernelProfile::default();
        let mut batch = Batch::new(&mut ruleset, &kernel);
        let mut refused = None;
        for rule in parse_iter(text) {
            let rule = rule?;
            if refused.is_none() {
                if let Err(refusal) = batch.execute(&rule.command) {
                    refused = Some(RulesError::Refused {
                        line: rule.line,
                        column: rule.column,
                        refusal,
                    });
                }
            }
        }
        // The batch puts its indexed real servers back into the ruleset.
        drop(batch);
        match refused {
            Some(e) => Err(e),
            None => Ok(ruleset),
        }
    }

    /// [`Ruleset::from_rules`] of bytes (a file as read, standard input): text that is not
    /// UTF-8, or starts with a byte order mark, is refused with its line and column (see
    /// [`decode`]).
    pub fn from_rules_bytes(bytes: &[u8]) -> Result<Ruleset, RulesError> {
        Ruleset::from_rules(decode(bytes)?)
    }

    /// Reads a rule file and executes its commands on this ruleset, one by one as
    /// [`Ruleset::execute`] would (`ipvsadm -R`). A syntax error anywhere executes nothing; a
    /// line the kernel would refuse stops there, with the lines before it executed (as
    /// `ipvsadm -R` leaves them).
    pub fn execute_rules(&mut self, text: &str) -> Result<(), RulesError> {
        let rules = parse(text)?;
        self.execute_all(
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

    /// The whole ruleset as a rule file that [`Ruleset::from_rules`] reads back to it:
    /// [`Ruleset::to_rules`], then a `--set` line for the timeouts and a `--start-daemon` line
    /// for each sync daemon (ipvsadm-save writes neither). A timeout of 0 (keep the kernel's)
    /// reads back as the fresh kernel's, as `from_rules` reads every `--set`.
    ///
    /// ```
    /// use lvs_core::Ruleset;
    /// let text = "-A -u 10.0.0.13:53 -s rr\n--set 900 60 300\n";
    /// let r = Ruleset::from_rules(text)?;
    /// assert_eq!(r.to_rules(), "-A -u 10.0.0.13:53 -s rr\n");
    /// assert_eq!(r.to_rule_file(), text);
    /// # Ok::<(), lvs_core::rules::RulesError>(())
    /// ```
    pub fn to_rule_file(&self) -> String {
        let mut text = self.to_rules();
        let settings = self
            .timeouts
            .map(Command::SetTimeouts)
            .into_iter()
            .chain(self.daemons.iter().cloned().map(Command::StartDaemon));
        for command in settings {
            text.push_str(&command_rule(&command, SaveOptions::default()));
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests;
