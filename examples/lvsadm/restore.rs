//! `-R`: rules from standard input, line by line, as ipvsadm's `restore_table` reads them.
//!
//! Each line is split on blanks (a token `ipvsadm` is dropped) and goes through the whole
//! command-line path: lines with no tokens are skipped; `#` starts no comment (ipvsadm-restore's
//! `grep -v '^#'` removes comment lines before `ipvsadm -R` sees them); a line that ipvsadm's
//! grammar refuses ends the restore with status 2, the lines before it staying applied; a
//! kernel refusal is printed and the restore goes on. The status is the last line's.
//!
//! As ipvsadm does, IPVS is opened before anything is read, so that a kernel without IPVS or
//! a user without CAP_NET_ADMIN gets ipvsadm's message and status 2 even on empty input. Unlike
//! ipvsadm, the whole input is read first and must be UTF-8 text without a byte order mark
//! ([`lvs::rules::decode`]): otherwise nothing is applied, the message names the line and
//! column, and the status is 2.

use crate::compat::{Exit, Session, Status, process};
use lvs::ipvsadm::tokens;
use lvs::rules::decode;
use std::io::Read;

/// Runs `-R`.
pub fn run(session: &mut Session) -> Status {
    session.ipvs()?;
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut input) {
        eprintln!("<stdin>: {e}");
        return Err(Exit(2));
    }
    let text = match decode(&input) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("<stdin>:{e}");
            return Err(Exit(2));
        }
    };
    let mut result = 0;
    for line in text.split('\n') {
        let tokens = tokens(line);
        if tokens.clone().next().is_none() {
            continue;
        }
        result = process(session, tokens, true)?;
    }
    Ok(result)
}
