//! `lvsadm fmt`: check and normalise a rule file offline.

use lvs::Ruleset;
use lvs::rules::{SaveOptions, save};
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
                    "lvsadm fmt: unexpected argument `{other}'\n{}",
                    super::USAGE
                );
                return ExitCode::from(2);
            }
        }
    }
    let (name, text) = match read_input(path) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("lvsadm fmt: {e}");
            return ExitCode::from(2);
        }
    };
    match Ruleset::from_rules(&text) {
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

fn read_input(path: Option<&str>) -> Result<(String, String), String> {
    match path {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("<stdin>: {e}"))?;
            Ok(("<stdin>".to_owned(), text))
        }
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
            Ok((p.to_owned(), text))
        }
    }
}
