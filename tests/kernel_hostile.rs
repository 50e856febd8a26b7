//! The hostile-input matrix against a live table: `lvsadm apply` of every file of
//! `tests/hostile/` (each one fault away from the live ruleset, so that a lenient reader would
//! plan deletions) exits 2 with the file's message, and the kernel's table stays as it was,
//! byte for byte in `ipvsadm -Sn`.

mod support;

use support::{built_lvsadm, hostile_cases, ipvsadm, ipvsadm_ok, lvsadm_message, run};

/// The table the cases are one fault away from.
const LIVE: &str = "-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.8.14:80 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.8.15:80 -m -w 1
-A -u 10.0.0.2:53 -s rr
-a -u 10.0.0.2:53 -r 192.168.8.20:53 -m -w 1
";

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_apply_of_a_hostile_file_changes_nothing() {
    let restored = ipvsadm(&["-R"], Some(LIVE.as_bytes()));
    assert_eq!(restored.status, 0, "{restored:?}");
    let before = ipvsadm_ok(&["-Sn"]).stdout;
    assert!(before.contains("-A -u 10.0.0.2:53"), "{before}");
    let lvsadm = built_lvsadm();
    let lvsadm = lvsadm.to_str().expect("a UTF-8 path");
    for (path, expected) in hostile_cases() {
        let file = path.to_str().expect("a UTF-8 path");
        let out = run(lvsadm, &["apply", file], None);
        assert_eq!(out.status, 2, "{file}: {out:?}");
        assert_eq!(
            out.stderr,
            lvsadm_message("apply", file, &expected),
            "{file}"
        );
        assert_eq!(
            ipvsadm_ok(&["-Sn"]).stdout,
            before,
            "{file} changed the table"
        );
    }
    // The same table, written as a document lvsadm accepts, changes nothing either: the cases
    // are refused for their fault, not for their shape.
    let same = run(lvsadm, &["apply", "-"], Some(LIVE.as_bytes()));
    assert_eq!((same.status, same.stdout.as_str()), (0, ""), "{same:?}");
    assert_eq!(ipvsadm_ok(&["-Sn"]).stdout, before);
}
