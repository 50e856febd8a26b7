//! The lines `ipvsadm -Sn` writes, read without the general tokenizer and option scanner.
//!
//! Nearly every line of a saved rule file looks like `-a -t 10.0.0.1:80 -r 192.168.0.1:8080
//! -m -w 1`: options of one letter, each followed by its value if it takes one, one space
//! apart. For such a line popt's scan is trivial, so [`plain_rule`] reads the line in one pass
//! over its bytes and hands each option to the code that reads options for every line
//! ([`take_command`], [`take_option`], [`conclude_change`] in [`crate::ipvsadm::parse`]): what an option means
//! is written once, and only the splitting into options is done here.
//!
//! Anything else gives `None`, and the line goes to the general reader, which reads it as
//! always: a tab, a carriage return, two blanks in a row, a blank at either end, a byte that is
//! not printable ASCII, `ipvsadm`, a long option, a cluster of short options, a value glued to
//! its option, a positional argument, a missing value, and every line ipvsadm refuses (so every
//! message comes from the general reader). A property test checks that both readers agree.

use crate::Command;
use crate::ipvsadm::options::{ArgKind, Found, short_def};
use crate::ipvsadm::parse::{
    Entry, PlainAddr, Resolver, conclude_change, take_command, take_option,
};
use crate::ipvsadm::split::{HIGH_BITS, word_at};

/// Reads the first line of `text` if it is plain: its command and the line's length (without
/// the '\n'). `None` leaves the line to the general reader.
///
/// `last_service` is the last service address read, carried from line to line (see
/// [`PlainAddr`]); the line's own is left there.
#[inline]
pub(super) fn plain_rule<'a>(
    text: &'a str,
    resolver: &dyn Resolver,
    last_service: &mut PlainAddr<'a>,
) -> Option<(Command, usize)> {
    let mut tokens = PlainTokens {
        rest: text,
        column: 1,
        end: None,
    };
    let mut entry = Entry::new();
    entry.last_service = *last_service;
    let read = read_options(&mut entry, &mut tokens, resolver);
    *last_service = entry.last_service;
    Some((read?, tokens.end?))
}

/// The options of a plain line, read into `entry`, and the line's command.
#[inline(always)]
fn read_options<'a>(
    entry: &mut Entry<'a>,
    tokens: &mut PlainTokens<'a>,
    resolver: &dyn Resolver,
) -> Option<Command> {
    let first = tokens.next_option().ok()??;
    // `-h` and `-v` end the reading; no rule anyway.
    if take_command(entry, first, "").ok()?.is_some() {
        return None;
    }
    while let Some(found) = tokens.next_option().ok()? {
        take_option(entry, found, "", resolver).ok()?;
    }
    conclude_change(entry)
}

/// The line is not plain.
struct NotPlain;

/// The tokens of a plain line: printable ASCII, one space apart, up to '\n' or the end.
struct PlainTokens<'a> {
    /// The text from the next token on.
    rest: &'a str,
    /// The column of the next token.
    column: usize,
    /// The line's length, once its end is reached.
    end: Option<usize>,
}

impl<'a> PlainTokens<'a> {
    /// The next token and its column; `None` at the end of the line.
    // Inlined (as is `next_option`) so that the scan's state stays in registers: a call per
    // token cost more than the scan.
    #[inline(always)]
    fn next(&mut self) -> Result<Option<(&'a str, usize)>, NotPlain> {
        if self.end.is_some() {
            return Ok(None);
        }
        let len = printable_end(self.rest.as_bytes());
        if len == 0 {
            // A blank at the start or the end of the line, two in a row, or another byte.
            return Err(NotPlain);
        }
        // Split where `printable_end` stopped: at an ASCII byte or the end, so never refused.
        let (token, after) = self.rest.split_at_checked(len).ok_or(NotPlain)?;
        let column = self.column;
        match after.as_bytes().first() {
            None | Some(b'\n') => self.end = Some(column - 1 + len),
            Some(b' ') => {
                self.rest = after.get(1..).ok_or(NotPlain)?;
                self.column = column + len + 1;
            }
            Some(_) => return Err(NotPlain),
        }
        if token == "ipvsadm" {
            // The tokenizer drops it.
            return Err(NotPlain);
        }
        Ok(Some((token, column)))
    }

    /// The next option and its value, as popt scans a one-letter option standing alone:
    /// a required value is the next token, whatever it is; an optional one (`-p`) is the next
    /// token unless it starts with '-'.
    #[inline(always)]
    fn next_option(&mut self) -> Result<Option<Found<'a>>, NotPlain> {
        let Some((token, column)) = self.next()? else {
            return Ok(None);
        };
        let def = match token.as_bytes() {
            [b'-', c] => short_def(char::from(*c)).ok_or(NotPlain)?,
            _ => return Err(NotPlain),
        };
        let value = match def.arg {
            ArgKind::None => None,
            ArgKind::Optional
                if self.end.is_some() || self.rest.as_bytes().first() == Some(&b'-') =>
            {
                None
            }
            ArgKind::Required | ArgKind::Optional => Some(self.next()?.ok_or(NotPlain)?),
        };
        Ok(Some(Found {
            opt: def.opt,
            column,
            value,
        }))
    }
}

/// The length of the run of printable ASCII (0x21 to 0x7e) that starts `bytes`. Looks at
/// eight bytes at a time.
#[inline(always)]
fn printable_end(bytes: &[u8]) -> usize {
    let mut i = 0;
    const LOW_BITS: u64 = !HIGH_BITS;
    loop {
        let word = word_at(bytes, i);
        let low = word & LOW_BITS;
        // Per byte, without carries between bytes: low + 0x5f has its high bit set when the
        // byte is above 0x20, low + 0x01 when it is 0x7f; `word` when it is 0x80 or more.
        let printable = (low + 0x5f5f_5f5f_5f5f_5f5f) & !(low + 0x0101_0101_0101_0101) & !word;
        let other = !printable & HIGH_BITS;
        if other != 0 {
            // The padding past the end is blank.
            return (i + (other.trailing_zeros() / 8) as usize).min(bytes.len());
        }
        i += 8;
    }
}
