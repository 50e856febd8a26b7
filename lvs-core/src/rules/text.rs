//! Rule files as bytes.
//!
//! - [`decode`] is the one way in for bytes (a file, standard input, a C string): UTF-8 text,
//!   or an error with the line and column of the first byte that is not, or naming a leading
//!   byte order mark.

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
}
