//! The user's text as a message echoes it: control and invisible characters escaped, a long
//! token cut short with its length. Every error message of lvs-core that quotes input goes
//! through [`shown`]; it depends on nothing else in the crate.

use std::fmt;

/// How many characters of the user's text a message shows whole.
const SHOWN_MAX: usize = 64;

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
