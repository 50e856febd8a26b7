//! Rule files as bytes, and input as messages show it.
//!
//! - [`decode`] is the one way in for bytes (a file, standard input, a C string): UTF-8 text,
//!   or an error with the line and column of the first byte that is not, or naming a leading
//!   byte order mark.
//! - [`shown`] is how a message echoes what the user wrote: control and invisible characters
//!   escaped, a long token cut short with its length.

use super::RulesError;
use std::fmt;
use thiserror::Error;

/// Why a text is not a rule file before any line is read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TextProblem {
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 ({}): rule files are UTF-8 text", Bytes(bytes))]
    InvalidUtf8 {
        /// The offending bytes (at most 3: one bad sequence).
        bytes: Vec<u8>,
    },
    /// A UTF-8 sequence that the end of the text cuts short.
    #[error(
        "the text ends inside a UTF-8 character ({}): rule files are UTF-8 text",
        Bytes(bytes)
    )]
    TruncatedUtf8 {
        /// The bytes of the unfinished character.
        bytes: Vec<u8>,
    },
    /// A byte order mark (U+FEFF) at the start: ipvsadm would read it as part of the first
    /// word, and it is invisible in a message.
    #[error(
        "the text starts with a UTF-8 byte order mark (EF BB BF), which ipvsadm reads as part of the first word: save the file without it"
    )]
    ByteOrderMark,
}

/// Bytes as `byte 0xff` or `bytes 0xe2 0x28`.
struct Bytes<'a>(&'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.len() == 1 { "byte" } else { "bytes" })?;
        for b in self.0 {
            write!(f, " {b:#04x}")?;
        }
        Ok(())
    }
}

const BOM: &str = "\u{feff}";

/// Reads bytes as the text of a rule file: UTF-8, not starting with a byte order mark.
/// Errors carry the line and column (in characters) of the first bad byte, as every other
/// error of a rule file does.
///
/// ```
/// use lvs_core::rules::{RulesError, decode};
///
/// assert_eq!(decode(b"-A -t 10.0.0.1:80\n").unwrap(), "-A -t 10.0.0.1:80\n");
/// let e = decode(b"-A -t 10.0.0.1:80\n-a -t \xff").unwrap_err();
/// assert_eq!((e.line(), e.column()), (2, 7));
/// assert_eq!(
///     e.to_string(),
///     "2:7: invalid UTF-8 (byte 0xff): rule files are UTF-8 text"
/// );
/// assert!(matches!(decode(b"\xef\xbb\xbf-A"), Err(RulesError::Text { line: 1, column: 1, .. })));
/// ```
pub fn decode(bytes: &[u8]) -> Result<&str, RulesError> {
    if bytes.starts_with(BOM.as_bytes()) {
        return Err(bom());
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let (valid, rest) = bytes.split_at(e.valid_up_to());
        // Valid by definition; an empty prefix would only misplace the column.
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        let line = 1 + valid.bytes().filter(|&b| b == b'\n').count();
        let column = 1 + valid[line_start..].chars().count();
        let problem = match e.error_len() {
            Some(n) => TextProblem::InvalidUtf8 {
                bytes: rest[..n.min(rest.len())].to_vec(),
            },
            None => TextProblem::TruncatedUtf8 {
                bytes: rest[..rest.len().min(3)].to_vec(),
            },
        };
        RulesError::Text {
            line,
            column,
            problem,
        }
    })
}

/// The error for a byte order mark at the start of a text.
pub(super) fn bom() -> RulesError {
    RulesError::Text {
        line: 1,
        column: 1,
        problem: TextProblem::ByteOrderMark,
    }
}

/// Whether `text` starts with a byte order mark.
pub(super) fn starts_with_bom(text: &str) -> bool {
    text.starts_with(BOM)
}

/// How many characters of the user's text a message shows whole.
pub(crate) const SHOWN_MAX: usize = 64;

/// How many characters of a longer text a message shows before cutting it.
const SHOWN_HEAD: usize = 40;

/// Text from the input as a message shows it (see [`shown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown<'a>(&'a str);

/// The user's text as a message shows it: as written when it is short and printable (so that
/// ipvsadm's messages stay byte for byte ipvsadm's); control and invisible characters
/// escaped (`\u{1b}`, `\u{feff}`); longer than 64 characters, its first 40 and
/// its length in bytes. A message never costs more than a few lines, whatever the input.
///
/// ```
/// use lvs_core::rules::shown;
///
/// assert_eq!(shown("rr").to_string(), "rr");
/// assert_eq!(shown("a\u{1b}[2J").to_string(), "a\\u{1b}[2J");
/// let long = "x".repeat(10_000_000);
/// assert_eq!(
///     shown(&long).to_string(),
///     format!("{}...[10000000 bytes]", "x".repeat(40))
/// );
/// ```
pub fn shown(text: &str) -> impl fmt::Display + Copy + '_ {
    Shown(text)
}

/// Characters a terminal would act on or not show: C0 and C1 controls, DEL, and the
/// zero-width and direction-changing format characters.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let cut = text.len() > SHOWN_MAX && text.chars().nth(SHOWN_MAX).is_some();
        let head = if cut {
            let end = text
                .char_indices()
                .nth(SHOWN_HEAD)
                .map_or(text.len(), |(i, _)| i);
            &text[..end]
        } else {
            text
        };
        if head.chars().any(needs_escape) {
            for c in head.chars() {
                if needs_escape(c) {
                    write!(f, "\\u{{{:x}}}", u32::from(c))?;
                } else {
                    fmt::Write::write_char(f, c)?;
                }
            }
        } else {
            f.write_str(head)?;
        }
        if cut {
            write!(f, "...[{} bytes]", text.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_says_where_and_what() {
        let cases: [(&[u8], usize, usize, &str); 6] = [
            (b"\xff", 1, 1, "invalid UTF-8 (byte 0xff)"),
            (
                b"-A\n\n  \xc3\xa9 \xe2\x28\xa1",
                3,
                5,
                "invalid UTF-8 (byte 0xe2)",
            ),
            (b"-A -t 1\xc0\x80", 1, 8, "invalid UTF-8 (byte 0xc0)"),
            (b"ok\r\n\xed\xa0\x80", 2, 1, "invalid UTF-8 (byte 0xed)"),
            (
                b"-A \xe2\x82",
                1,
                4,
                "the text ends inside a UTF-8 character (bytes 0xe2 0x82)",
            ),
            (
                b"\xef\xbb\xbf-A -t 10.0.0.1:80",
                1,
                1,
                "the text starts with a UTF-8 byte order mark",
            ),
        ];
        for (bytes, line, column, start) in cases {
            let e = decode(bytes).unwrap_err();
            assert_eq!((e.line(), e.column()), (line, column), "{bytes:?}");
            let msg = e.to_string();
            let want = format!("{line}:{column}: {start}");
            assert!(msg.starts_with(&want), "{bytes:?}: {msg}");
        }
        // A BOM comes before any other problem.
        assert_eq!(decode(b"\xef\xbb\xbf\xff").unwrap_err(), bom());
        assert_eq!(decode(b"").unwrap(), "");
        assert_eq!(decode("é €\n".as_bytes()).unwrap(), "é €\n");
        // U+FEFF elsewhere is a character like another (the parser shows it escaped).
        assert_eq!(decode("-A \u{feff}".as_bytes()).unwrap(), "-A \u{feff}");
    }

    #[test]
    fn shown_escapes_and_cuts() {
        assert_eq!(shown("10.0.0.1:80").to_string(), "10.0.0.1:80");
        assert_eq!(shown("é€").to_string(), "é€");
        assert_eq!(shown("\0\u{7f}\u{9b}").to_string(), "\\u{0}\\u{7f}\\u{9b}");
        assert_eq!(shown("\u{feff}-A").to_string(), "\\u{feff}-A");
        assert_eq!(shown("a\u{202e}b").to_string(), "a\\u{202e}b");
        let exactly = "y".repeat(SHOWN_MAX);
        assert_eq!(shown(&exactly).to_string(), exactly);
        let wide = "é".repeat(SHOWN_MAX);
        assert_eq!(shown(&wide).to_string(), wide);
        let over = "é".repeat(SHOWN_MAX + 1);
        assert_eq!(
            shown(&over).to_string(),
            format!("{}...[130 bytes]", "é".repeat(SHOWN_HEAD))
        );
        let escaped = "\u{1}".repeat(100);
        assert_eq!(
            shown(&escaped).to_string(),
            format!("{}...[100 bytes]", "\\u{1}".repeat(SHOWN_HEAD))
        );
    }
}
