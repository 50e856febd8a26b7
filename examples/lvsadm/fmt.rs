//! `lvsadm fmt`: check a ruleset offline and print it normalised, as rules, JSON or TOML.
//!
//! Rules are printed losslessly: what `ipvsadm -Sn` prints after restoring the file on a fresh
//! kernel, non-zero connection thresholds as ` -x N -y N` (ipvsadm drops them), then a `--set`
//! line for the timeouts and a `--start-daemon` line per sync daemon when the ruleset has them
//! (ipvsadm-save writes neither). `--ipvsadm` prints exactly what `ipvsadm -Sn` would.
//!
//! Every format reads back to the same ruleset: rules converted to JSON or TOML and back print
//! exactly what `fmt` prints. JSON and TOML keep the ruleset's order (services as added, each
//! one's real servers as the kernel lists them), which the rules' order is worked out from:
//! ipvsadm's sort is not a total order, so sorting the documents instead could change it.

use crate::cli::Format;
use lvs::rules::{SaveOptions, save};
use std::io::Read;
use std::process::ExitCode;

/// Runs `lvsadm fmt`: reads `path` (`-`: standard input) in `from` (or the detected format) and
/// prints it in `to`.
pub fn run(path: &str, from: Option<Format>, to: Format, ipvsadm: bool) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("{msg}");
        ExitCode::from(2)
    };
    let (name, bytes) = match read_bytes(path) {
        Ok(input) => input,
        Err(msg) => return fail(format!("lvsadm fmt: {msg}")),
    };
    let ruleset = match crate::apply::parse(name, path, from, &bytes) {
        Ok(r) => r,
        Err(msg) => return fail(msg),
    };
    let text = match to {
        Format::Rules if ipvsadm => Ok(save(&ruleset, SaveOptions::IPVSADM)),
        Format::Rules => Ok(ruleset.to_rule_file()),
        Format::Json => ruleset.to_json(),
        Format::Toml => ruleset.to_toml(),
    };
    match text {
        Ok(text) => {
            crate::compat::out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("lvsadm fmt: {name}: {e}")),
    }
}

/// The name to show and the bytes of a file (`-`: standard input).
pub fn read_bytes(path: &str) -> Result<(&str, Vec<u8>), String> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: {e}"))?;
        Ok(("<stdin>", bytes))
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        Ok((path, bytes))
    }
}
