//! Changes (`-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon`): one request each,
//! as ipvsadm sends them.

use crate::compat::{Session, Status, message};
use lvs::Command;

/// Sends `command`. Like ipvsadm, lvsadm lets the kernel judge what the command line grammar
/// let through (so the kernel's own answer, in ipvsadm's words, is what the user sees); a
/// refusal is printed and gives status -1 (255).
pub fn run(session: &mut Session, command: &Command) -> Status {
    let (ipvs, _) = session.ipvs()?;
    match ipvs.execute_unchecked(command) {
        Ok(()) => Ok(0),
        Err(e) => {
            eprintln!("{}", message(&e));
            Ok(-1)
        }
    }
}
