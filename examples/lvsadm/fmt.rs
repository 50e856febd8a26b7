//! `lvsadm fmt`: check and normalise a rule file offline.

use lvs::Ruleset;
use lvs::rules::{SaveOptions, decode, save, shown};
use std::io::Read;
use std::process::ExitCode;

/// Runs `lvsadm fmt ARGS`.
pub fn run(args: &[String]) -> ExitCode {
    let mut options = SaveOptions::default();
    let mut path: Option<&str> = None;
    for arg in args {
        match arg.as_str() {
            "--ipvsadm" => options = SaveOptions::IPVSADM,
            p if path.is_none() && (p == "-" || !p.starts_with('-')) => path = Some(p),
            other => {
                eprintln!(
                    "lvsadm fmt: unexpected argument `{}'\n{}",
                    shown(other),
                    super::USAGE
                );
                return ExitCode::from(2);
            }
        }
    }
    let (name, bytes) = match read_bytes(path.unwrap_or("-")) {
        Ok(input) => input,
        Err(msg) => {
            eprintln!("lvsadm fmt: {msg}");
            return ExitCode::from(2);
        }
    };
    match Ruleset::from_rules_bytes(&bytes) {
        Ok(ruleset) => {
            print!("{}", save(&ruleset, options));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}:{e}");
            ExitCode::from(2)
        }
    }
}

/// The name to show and the bytes of a file (`-`: standard input).
fn read_bytes(path: &str) -> Result<(&str, Vec<u8>), String> {
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

/// The text of a file (`-`: standard input), decoded as a rule file's text is: UTF-8 without
/// a byte order mark, or an error `NAME:LINE:COL: why`.
pub fn read_text(path: &str) -> Result<String, String> {
    let (name, bytes) = read_bytes(path)?;
    decode(&bytes).map_err(|e| format!("{name}:{e}"))?;
    // Decoded above: the conversion cannot fail, and takes the bytes without a copy.
    String::from_utf8(bytes).map_err(|e| format!("{name}: {e}"))
}
