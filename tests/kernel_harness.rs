//! Kernel tests that prove the harness itself: IPVS is there, each test gets an empty table, and
//! the real ipvsadm reproduces the committed goldens. Run by `tests/harness.sh test`.

mod support;

use support::{golden_dir, ipvsadm, read};

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

    // Each rule file in a fresh network namespace, as tests/harness/capture-goldens.sh captured
    // it: on 7.2 the `-Ln` header's table size stays 256 once a namespace has held a service,
    // even after `ipvsadm -C`, so one namespace for every file would not give the capture's text.
    let out = std::env::temp_dir().join(format!("lvs-golden-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("cannot create a scratch folder");
    let mut mismatches = Vec::new();
    for rule_file in &rules {
        let run = std::process::Command::new("unshare")
            .args(["--net", "--", "bash", "-c"])
            .arg(
                r#"ip link set lo up && ipvsadm -C || exit 99
                   status=0; ipvsadm -R <"$1" 2>"$2/stderr" || status=$?
                   { echo "$status"; cat "$2/stderr"; } >"$2/restore-status"
                   ipvsadm -Sn >"$2/save" && ipvsadm -Ln >"$2/list""#,
            )
            .arg("golden")
            .arg(rule_file)
            .arg(&out)
            .status()
            .expect("cannot run unshare");
        assert!(
            run.success(),
            "{}: the namespace's ipvsadm run failed: {run}",
            rule_file.display()
        );
        let stem = rule_file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        for ext in ["restore-status", "save", "list"] {
            let got = read(&out.join(ext));
            let golden = golden_for(&dir, &series, &format!("{stem}.{ext}"));
            let want = read(&golden);
            if got != want {
                mismatches.push(format!(
                    "{} on {series}:\n--- golden\n{want}--- this kernel\n{got}",
                    golden.display()
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
