//! lvsadm: ipvsadm 1.31's command line rebuilt on lvs's public API.
//!
//! ```text
//! lvsadm [--netns NAME] [--json] IPVSADM-ARGS...   every ipvsadm 1.31 command and option
//! lvsadm fmt [--ipvsadm] [FILE|-]                 check and normalise a rule file offline
//! lvsadm apply [OPTIONS] FILE                      bring the kernel to FILE with the fewest changes
//! lvsadm apply --watch [--resync SECS] FILE        keep the kernel at FILE
//! lvsadm diff [OPTIONS] FILE                       show what apply would change (exit 1 if any)
//! ```
//!
//! With ipvsadm's arguments, lvsadm accepts the same command lines, applies the same legality
//! rules, prints the same bytes and exits with the same statuses as ipvsadm 1.31 (the
//! differences, and why, are in README.md next to this file). `--netns NAME` works on the IPVS
//! table of the network namespace `/run/netns/NAME`; `--json` prints `-L` listings as JSON.
//!
//! `fmt` reads ipvsadm rules (what `ipvsadm-save -n` writes) from FILE or standard input and
//! prints what `ipvsadm -S -n` would print after `ipvsadm -C; ipvsadm -R < FILE` on a fresh
//! kernel. A line that ipvsadm or the kernel would refuse is reported as `FILE:LINE:COL:
//! message` on standard error, with exit status 2 and nothing on standard output. Non-zero
//! connection thresholds are written as ` -x N -y N` (ipvsadm drops them); `--ipvsadm` drops
//! them too.
//!
//! One file per concern: `compat.rs` reads an ipvsadm command line and dispatches it (as
//! ipvsadm's `process_options`), `change.rs` sends changes, `list.rs` lists and saves,
//! `restore.rs` is `-R`, `names.rs` looks names up through the C library, `usage.rs` holds the
//! help and version texts, `fmt.rs` is `lvsadm fmt`.

mod apply;
mod change;
mod compat;
mod fmt;
mod list;
mod names;
mod restore;
mod usage;
mod watch;

use std::process::ExitCode;

const USAGE: &str = "usage: lvsadm fmt [--ipvsadm] [FILE|-]";

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let program = if argv.is_empty() {
        "lvsadm".to_owned()
    } else {
        argv.remove(0)
    };
    match argv.first().map(String::as_str) {
        Some("fmt") => fmt::run(&argv[1..]),
        Some("apply") => apply::run(&argv[1..], false),
        Some("diff") => apply::run(&argv[1..], true),
        // Subcommands of lvsadm's own go above, before the ipvsadm grammar sees the arguments.
        _ => compat::main(&program, argv),
    }
}
