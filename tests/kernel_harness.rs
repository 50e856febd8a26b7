//! Kernel tests that prove the harness itself: IPVS is there, each test gets an empty table, and
//! the real ipvsadm reproduces the committed goldens. Run by `tests/harness.sh test`.

mod support;

use support::{golden_dir, ipvsadm, ipvsadm_ok, read};

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn ipvs_is_present_and_the_table_starts_empty() {
    assert!(
        std::path::Path::new("/proc/net/ip_vs").exists(),
        "/proc/net/ip_vs is missing: IPVS is not loaded in this kernel"
    );
    let save = ipvsadm(&["-Sn"], None);
    assert_eq!(save.status, 0, "ipvsadm -Sn failed: {}", save.stderr);
    // The harness runs each test in a fresh network namespace, whose IPVS table is empty.
    assert_eq!(save.stdout, "", "the IPVS table is not empty at test start");
}

/// The kernel series this test runs on (`6.1`, `6.12`, `7.2`), from its release.
fn kernel_series() -> String {
    let release = read(std::path::Path::new("/proc/sys/kernel/osrelease"));
    release.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// The golden `NAME.EXT` as this kernel's real ipvsadm gives it: `tests/golden/kernel-SERIES/`
/// where that kernel's capture differed from 6.1's, the 6.1 capture otherwise.
fn golden_for(dir: &std::path::Path, series: &str, file: &str) -> std::path::PathBuf {
    let own = dir.join(format!("kernel-{series}")).join(file);
    if own.exists() { own } else { dir.join(file) }
}

/// Every `tests/golden/*.rules`, restored with the real ipvsadm on this kernel, answers exactly
/// as captured on this kernel: `ipvsadm -R`'s exit status and messages, `-Sn`, and `-Ln`.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn every_golden_is_what_this_kernel_gives() {
    let dir = golden_dir();
    let series = kernel_series();
    let mut rules: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("cannot read a tests/golden entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    rules.sort();
    assert!(
        rules.len() > 20 && rules.iter().any(|r| r.ends_with("seed-nat.rules")),
        "expected the golden corpus and the seed scenarios in {}, found {rules:?}",
        dir.display()
    );

    let mut mismatches = Vec::new();
    for rule_file in &rules {
        let input = read(rule_file);
        ipvsadm_ok(&["-C"]);
        let restore = ipvsadm(&["-R"], Some(input.as_bytes()));
        let status = format!("{}\n{}", restore.status, restore.stderr);
        let save = ipvsadm_ok(&["-Sn"]).stdout;
        let list = ipvsadm_ok(&["-Ln"]).stdout;
        let stem = rule_file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        for (ext, got) in [
            ("restore-status", &status),
            ("save", &save),
            ("list", &list),
        ] {
            let golden = golden_for(&dir, &series, &format!("{stem}.{ext}"));
            let want = read(&golden);
            if *got != want {
                mismatches.push(format!(
                    "{} on {series}:\n--- golden\n{want}--- this kernel\n{got}",
                    golden.display()
                ));
            }
        }
    }
    ipvsadm_ok(&["-C"]);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
