//! `-R`: rules from standard input, line by line, as ipvsadm's `restore_table` reads them.
//!
//! Each line is split on blanks (a token `ipvsadm` is dropped) and goes through the whole
//! command-line path: lines with no tokens are skipped; `#` starts no comment (ipvsadm-restore's
//! `grep -v '^#'` removes comment lines before `ipvsadm -R` sees them); a line that ipvsadm's
//! grammar refuses ends the restore with status 2, the lines before it staying applied; a
//! kernel refusal is printed and the restore goes on. The status is the last line's.

use crate::compat::{Session, Status, process};
use lvs::rules::tokenize;
use std::io::BufRead;

/// Runs `-R`.
pub fn run(session: &mut Session) -> Status {
    let stdin = std::io::stdin();
    let mut result = 0;
    for line in stdin.lock().split(b'\n') {
        let Ok(line) = line else { break };
        let line = String::from_utf8_lossy(&line);
        let tokens = tokenize(&line);
        if tokens.is_empty() {
            continue;
        }
        result = process(session, &tokens, true)?;
    }
    Ok(result)
}
