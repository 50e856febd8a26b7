//! Splitting a line into tokens as ipvsadm's `config_stream_read` does for `ipvsadm -R`.

use super::options::Token;

/// [`tokens`] of a line, all at once.
#[cfg(test)]
pub(crate) fn tokenize(line: &str) -> Vec<Token<'_>> {
    tokens(line).collect()
}

/// Splits a line into tokens as ipvsadm's `config_stream_read` does: on spaces, tabs,
/// carriage returns and line feeds, dropping every `ipvsadm` token. The tokens are found one
/// at a time: a reader that stops at an error never looks at the rest of the line, and holds
/// no token it has passed.
pub(crate) fn tokens(line: &str) -> Tokens<'_> {
    Tokens {
        text: line,
        at: 0,
        chars: (!line.is_ascii()).then_some((0, 0)),
    }
}

/// The iterator of [`tokens`].
#[derive(Debug, Clone)]
pub(crate) struct Tokens<'a> {
    text: &'a str,
    /// Where the search for the next token starts.
    at: usize,
    /// For a line that is not all ASCII, where columns (which count characters) were last
    /// counted: the byte offset and the characters before it. ASCII lines count bytes.
    chars: Option<(usize, usize)>,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    #[inline]
    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.text.as_bytes();
        loop {
            // Tokens are mostly one blank apart: the blanks go a byte at a time.
            let start = self.at + bytes.get(self.at..)?.iter().position(|&b| !is_blank(b))?;
            let end = token_end(bytes, start);
            self.at = end;
            // Both ends are at ASCII bytes or the ends of the text: on character boundaries.
            let text = self.text.get(start..end)?;
            // A bare `ipvsadm` is dropped wherever it stands, as config_stream_read does.
            if text == "ipvsadm" {
                continue;
            }
            let column = match &mut self.chars {
                None => start + 1,
                Some((counted, chars)) => {
                    // The blanks are ASCII, which never occurs inside a UTF-8 sequence.
                    *chars += self.text.get(*counted..start)?.chars().count();
                    *counted = start;
                    *chars + 1
                }
            };
            return Some(Token { text, column });
        }
    }
}

/// Whether `b` separates tokens: ipvsadm's `config_stream_read` splits on " \t\r\n".
#[inline]
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Eight bytes of `bytes` from `i`, the first in the low byte, padded with spaces past the end
/// (a space ends the last token like the end of the text does).
#[inline]
pub(crate) fn word_at(bytes: &[u8], i: usize) -> u64 {
    match bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        Some(w) => u64::from_le_bytes(*w),
        None => {
            let mut w = [b' '; 8];
            let tail = bytes.get(i..).unwrap_or_default();
            w[..tail.len()].copy_from_slice(tail);
            u64::from_le_bytes(w)
        }
    }
}

pub(crate) const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `word` that may be a blank: every byte up to 0x20 (the space
/// and the control characters, among them tab, '\r' and '\n'). Tokens rarely hold control
/// characters, so checking each candidate byte costs less than an exact test of every byte.
#[inline]
fn maybe_blank(word: u64) -> u64 {
    // For a byte b below 0x80, (b & 0x7f) + 0x5f sets the high bit exactly when b > 0x20 (and
    // never carries into the next byte); or-ing `word` in marks the bytes from 0x80 up too.
    !(((word & !HIGH_BITS) + 0x5f5f_5f5f_5f5f_5f5f) | word) & HIGH_BITS
}

/// The end of the token that starts at `i`: its first blank, or the end of `bytes`. Looks at
/// eight bytes at a time.
#[inline]
fn token_end(bytes: &[u8], mut i: usize) -> usize {
    loop {
        let word = word_at(bytes, i);
        let mut candidates = maybe_blank(word);
        while candidates != 0 {
            let j = i + (candidates.trailing_zeros() / 8) as usize;
            match bytes.get(j) {
                // The padding after the end.
                None => return bytes.len(),
                Some(&b) if is_blank(b) => return j,
                Some(_) => candidates &= candidates - 1,
            }
        }
        i += 8;
    }
}
