//! Golden tests: every `tests/golden/NAME.rules` against what the real ipvsadm 1.31 did with it
//! on a real kernel (`NAME.save`, `NAME.restore-status`), captured by `tests/harness.sh capture`.
//!
//! - When ipvsadm restored the file cleanly, lvs must accept it and print `NAME.save` byte for
//!   byte (in ipvsadm's exact mode), and lvs's lossless save must read back to the same ruleset.
//! - When ipvsadm refused a line, lvs must refuse the file, with ipvsadm's message.

use lvs_core::Ruleset;
use lvs_core::rules::{RulesError, SaveOptions, save};
use std::fs;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

struct Golden {
    name: String,
    rules: String,
    save: String,
    status: i32,
    stderr: String,
}

fn goldens() -> Vec<Golden> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    paths.sort();
    for rules_path in paths {
        let name = rules_path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let read = |ext: &str| {
            fs::read_to_string(rules_path.with_extension(ext))
                .unwrap_or_else(|e| panic!("{name}.{ext}: {e} (run tests/harness.sh capture)"))
        };
        let status_file = read("restore-status");
        let (status, stderr) = status_file.split_once('\n').unwrap_or((&status_file, ""));
        out.push(Golden {
            rules: read("rules"),
            save: read("save"),
            status: status.trim().parse().expect("status line is a number"),
            stderr: stderr.to_owned(),
            name,
        });
    }
    assert!(
        out.len() >= 7,
        "expected the golden corpus, found {} files",
        out.len()
    );
    out
}

#[test]
fn lvs_prints_what_ipvsadm_saved() {
    let mut failures = Vec::new();
    for g in goldens()
        .iter()
        .filter(|g| g.status == 0 && g.stderr.is_empty())
    {
        match Ruleset::from_rules(&g.rules) {
            Err(e) => failures.push(format!("{}: lvs refused what ipvsadm took: {e}", g.name)),
            Ok(r) => {
                let ours = save(&r, SaveOptions::IPVSADM);
                if ours != g.save {
                    failures.push(format!(
                        "{}:\n--- ipvsadm\n{}--- lvs\n{}",
                        g.name, g.save, ours
                    ));
                }
                let lossless = Ruleset::from_rules(&r.to_rules())
                    .unwrap_or_else(|e| panic!("{}: lvs cannot read its own save: {e}", g.name));
                // A save holds services and real servers only, as ipvsadm's does.
                let services_only = Ruleset {
                    services: r.services.clone(),
                    ..Ruleset::new()
                };
                if lossless != services_only {
                    failures.push(format!("{}: lossless save does not read back", g.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lvs_refuses_what_ipvsadm_refused_with_its_words() {
    let mut failures = Vec::new();
    for g in goldens()
        .iter()
        .filter(|g| g.status != 0 || !g.stderr.is_empty())
    {
        let want = g.stderr.lines().next().unwrap_or_default();
        match Ruleset::from_rules(&g.rules) {
            Ok(_) => failures.push(format!("{}: lvs took what ipvsadm refused: {want}", g.name)),
            Err(RulesError::Refused { refusal, .. }) => {
                if refusal.ipvsadm_message() != want {
                    failures.push(format!(
                        "{}: kernel refusal `{}', ipvsadm said `{want}'",
                        g.name,
                        refusal.ipvsadm_message()
                    ));
                }
            }
            Err(RulesError::Syntax { kind, .. }) => {
                if kind.to_string() != want {
                    failures.push(format!(
                        "{}: lvs said `{kind}', ipvsadm said `{want}'",
                        g.name
                    ));
                }
            }
            Err(e) => failures.push(format!("{}: unexpected {e}", g.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
