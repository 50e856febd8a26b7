//! The hostile-input matrix, on the host: every file of `tests/hostile/` (a JSON or TOML
//! ruleset document or a rule file, each one fault away from a valid ruleset) is refused by
//! lvs-core with exactly the message in its `.error` file, and by `lvsadm diff` with exit
//! status 2 and that message behind the file's name. `tests/kernel_hostile.rs` checks the same
//! files against a live table (nothing changes), `lvs-py/tests/test_hostile.py` through
//! Python and `lvs-capi/tests/c/hostile.c` through the C API.

mod support;

use std::path::Path;
use std::process::Command;
use support::{built_lvsadm, hostile_cases, lvsadm_message};

/// What lvs-core says of the file.
fn core_error(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read a case");
    let text = || String::from_utf8(bytes.clone()).expect("a JSON or TOML case is UTF-8");
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => lvs::Ruleset::from_json(&text()).map_err(|e| e.to_string()),
        Some("toml") => lvs::Ruleset::from_toml(&text()).map_err(|e| e.to_string()),
        Some("rules") => lvs::Ruleset::from_rules_bytes(&bytes).map_err(|e| e.to_string()),
        other => panic!("{}: unknown kind {other:?}", path.display()),
    };
    match result {
        Ok(r) => panic!("{} was accepted: {r:?}", path.display()),
        Err(e) => e,
    }
}

#[test]
fn lvs_core_refuses_each_case_with_its_message() {
    let mut wrong = Vec::new();
    for (path, expected) in hostile_cases() {
        let got = core_error(&path);
        if got != expected {
            wrong.push(format!(
                "{}:\n  expected {expected}\n  got      {got}",
                path.display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn lvsadm_diff_refuses_each_case_before_opening_the_kernel() {
    // No IPVS on the host: a case that got past reading would fail differently.
    for (path, expected) in hostile_cases() {
        let file = path.file_name().and_then(|f| f.to_str()).expect("a name");
        let out = Command::new(built_lvsadm())
            .arg("diff")
            .arg(file)
            .current_dir(path.parent().expect("a folder"))
            .output()
            .expect("run lvsadm");
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            lvsadm_message("diff", file, &expected),
            "{file}"
        );
        assert!(out.stdout.is_empty(), "{file}");
    }
}
