//! The lines `ipvsadm -Sn` writes, read without the general tokenizer and option scanner.
//!
//! Nearly every line of a saved rule file looks like `-a -t 10.0.0.1:80 -r 192.168.0.1:8080
//! -m -w 1`: options of one letter, each followed by its value if it takes one, one space
//! apart. For such a line popt's scan is trivial, so [`plain_rule`] reads the line in one pass
//! over its bytes and hands each option to the code that reads options for every line
//! ([`take_command`], [`take_option`], and the checks and building of [`conclude_change`], in
//! [`crate::ipvsadm::parse`]): what an option means is written once, and only the splitting
//! into options is done here.
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
    let mut tokens = PlainTokens::new(text);
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
///
/// The bytes are classed eight at a time, each word once: a token's end is looked for in the
/// word where the token before it ended, which tokens one space apart mostly share.
struct PlainTokens<'a> {
    /// The text, from the line's start (columns are byte offsets + 1: the line is ASCII up
    /// to the next token).
    text: &'a str,
    /// Where the next token starts.
    at: usize,
    /// Where the word of `stops` starts.
    word: usize,
    /// The high bit of each byte of the word at `word` that is not printable ASCII (0x21 to
    /// 0x7e); the padding past the end of the text is blank.
    stops: u64,
    /// The line's length, once its end is reached.
    end: Option<usize>,
}

impl<'a> PlainTokens<'a> {
    #[inline(always)]
    fn new(text: &'a str) -> Self {
        PlainTokens {
            text,
            at: 0,
            word: 0,
            stops: not_printable(word_at(text.as_bytes(), 0)),
            end: None,
        }
    }

    /// The first byte from `start` on that is not printable ASCII, or the end of the text.
    /// `start` is at most 8 past the current word's start.
    #[inline(always)]
    fn stop_from(&mut self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        if start - self.word >= 8 {
            self.word = start;
            self.stops = not_printable(word_at(bytes, start));
        }
        let mut stops = self.stops & (u64::MAX << (8 * (start - self.word)));
        while stops == 0 {
            self.word += 8;
            self.stops = not_printable(word_at(bytes, self.word));
            stops = self.stops;
        }
        // The padding past the end is blank, so this is at most the text's length.
        self.word + (stops.trailing_zeros() / 8) as usize
    }

    /// The next token and its column; `None` at the end of the line.
    // Inlined (as is `next_option`) so that the scan's state stays in registers: a call per
    // token cost more than the scan.
    #[inline(always)]
    fn next(&mut self) -> Result<Option<(&'a str, usize)>, NotPlain> {
        if self.end.is_some() {
            return Ok(None);
        }
        let start = self.at;
        let end = self.stop_from(start);
        if end == start {
            // A blank at the start or the end of the line, two in a row, or another byte.
            return Err(NotPlain);
        }
        // Both ends are at ASCII bytes or the end, so never refused.
        let token = self.text.get(start..end).ok_or(NotPlain)?;
        match self.text.as_bytes().get(end) {
            None | Some(b'\n') => self.end = Some(end),
            Some(b' ') => self.at = end + 1,
            Some(_) => return Err(NotPlain),
        }
        if token == "ipvsadm" {
            // The tokenizer drops it.
            return Err(NotPlain);
        }
        Ok(Some((token, start + 1)))
    }

    /// The next option and its value, as popt scans a one-letter option standing alone:
    /// a required value is the next token, whatever it is; an optional one (`-p`) is the next
    /// token unless it starts with '-'.
    #[inline(always)]
    fn next_option(&mut self) -> Result<Option<Found<'a>>, NotPlain> {
        if self.end.is_some() {
            return Ok(None);
        }
        // An option is '-', a letter, then a blank or the end: its three bytes say so without
        // classing a word (a letter of the option table is printable ASCII, and the token
        // `ipvsadm` is longer).
        let column = self.at + 1;
        let (letter, after) = match self.text.as_bytes().get(self.at..) {
            Some([b'-', letter, after @ ..]) => (*letter, after.first()),
            _ => return Err(NotPlain),
        };
        match after {
            None | Some(b'\n') => self.end = Some(self.at + 2),
            Some(b' ') => self.at += 3,
            Some(_) => return Err(NotPlain),
        }
        let def = short_def(char::from(letter)).ok_or(NotPlain)?;
        let value = match def.arg {
            ArgKind::None => None,
            ArgKind::Optional
                if self.end.is_some() || self.text.as_bytes().get(self.at) == Some(&b'-') =>
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

/// The high bit of each byte of `word` that is not printable ASCII (0x21 to 0x7e).
#[inline(always)]
fn not_printable(word: u64) -> u64 {
    const LOW_BITS: u64 = !HIGH_BITS;
    let low = word & LOW_BITS;
    // Per byte, without carries between bytes: low + 0x5f has its high bit set when the byte
    // is above 0x20, low + 0x01 when it is 0x7f; `word` when it is 0x80 or more.
    let printable = (low + 0x5f5f_5f5f_5f5f_5f5f) & !(low + 0x0101_0101_0101_0101) & !word;
    !printable & HIGH_BITS
}
