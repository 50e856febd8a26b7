//! lvsadm: an ipvsadm-compatible command line built on lvs's public API.
//!
//! Today it has one subcommand:
//!
//! ```text
//! lvsadm fmt [--ipvsadm] [FILE|-]
//! ```
//!
//! `fmt` reads ipvsadm rules (what `ipvsadm-save -n` writes) from FILE or standard input and
//! prints what `ipvsadm -S -n` would print after `ipvsadm -C; ipvsadm -R < FILE` on a fresh
//! kernel. A line that ipvsadm or the kernel would refuse is reported as `FILE:LINE:COL:
//! message` on standard error, with exit status 2 and nothing on standard output. Non-zero
//! connection thresholds are written as ` -x N -y N` (ipvsadm drops them); `--ipvsadm` drops
//! them too.

mod fmt;

use std::process::ExitCode;

const USAGE: &str = "usage: lvsadm fmt [--ipvsadm] [FILE|-]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fmt") => fmt::run(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
