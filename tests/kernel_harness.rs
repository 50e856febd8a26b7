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

/// Every `tests/golden/seed-*.rules`, restored with the real ipvsadm, saves back exactly as its
/// captured `.save` golden, with the captured `ipvsadm -R` exit status.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn seed_goldens_round_trip_through_the_kernel() {
    let dir = golden_dir();
    let mut rules: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("cannot read a tests/golden entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("seed-") && name.ends_with(".rules")
        })
        .collect();
    rules.sort();
    assert!(
        rules.len() >= 7,
        "expected the 7 seed scenarios in {}, found {rules:?}",
        dir.display()
    );

    let mut mismatches = Vec::new();
    for rule_file in &rules {
        let input = read(rule_file);
        ipvsadm_ok(&["-C"]);
        let restore = ipvsadm(&["-R"], Some(input.as_bytes()));
        let save = ipvsadm_ok(&["-Sn"]);

        let expected_save = read(&rule_file.with_extension("save"));
        let status_file = read(&rule_file.with_extension("restore-status"));
        let expected_status = status_file.lines().next().unwrap_or("").trim();

        let name = rule_file.display();
        if save.stdout != expected_save {
            mismatches.push(format!(
                "{name}: ipvsadm -Sn differs\n--- golden\n{expected_save}--- kernel\n{}",
                save.stdout
            ));
        }
        if restore.status.to_string() != expected_status {
            mismatches.push(format!(
                "{name}: ipvsadm -R exited {} (stderr: {}), golden says {expected_status}",
                restore.status, restore.stderr
            ));
        }
    }
    ipvsadm_ok(&["-C"]);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
