//! lvs-core's reading and printing of rule files checked live against the real ipvsadm on the
//! real kernel: for every `tests/golden/*.rules`, `ipvsadm -R` then `ipvsadm -Sn` must print what
//! lvs-core prints for the same rules, and lvs-core must refuse exactly the files ipvsadm or the
//! kernel refused. (The committed goldens are checked on the host by lvs-core's own tests; this
//! proves they still describe the kernel we run.)

mod support;

use lvs::Ruleset;
use lvs::rules::{SaveOptions, save};
use support::{golden_dir, ipvsadm, ipvsadm_ok, read};

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvs_core_prints_what_the_kernel_and_ipvsadm_hold() {
    let dir = golden_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("cannot read a tests/golden entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    assert!(
        files.len() > 20,
        "expected the golden corpus in {}",
        dir.display()
    );

    let mut mismatches = Vec::new();
    for file in &files {
        let text = read(file);
        ipvsadm_ok(&["-C"]);
        let restore = ipvsadm(&["-R"], Some(text.as_bytes()));
        let refused = restore.status != 0 || !restore.stderr.is_empty();
        let kernel = ipvsadm_ok(&["-Sn"]).stdout;
        let name = file.display();
        match (Ruleset::from_rules(&text), refused) {
            (Ok(r), false) => {
                let ours = save(&r, SaveOptions::IPVSADM);
                if ours != kernel {
                    mismatches.push(format!("{name}:\n--- ipvsadm -Sn\n{kernel}--- lvs\n{ours}"));
                }
            }
            (Err(e), true) => {
                let first = restore.stderr.lines().next().unwrap_or("");
                let ours = e.to_string();
                if !ours.contains(first) {
                    mismatches.push(format!("{name}: ipvsadm said `{first}', lvs said `{ours}'"));
                }
            }
            (Ok(_), true) => mismatches.push(format!(
                "{name}: ipvsadm refused ({}), lvs accepted",
                restore.stderr.trim()
            )),
            (Err(e), false) => {
                mismatches.push(format!("{name}: ipvsadm accepted, lvs refused: {e}"))
            }
        }
    }
    ipvsadm_ok(&["-C"]);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
