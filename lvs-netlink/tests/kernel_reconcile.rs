//! The Reconciler against the real kernel: it repairs what another writer (the real ipvsadm)
//! changed behind its back when an answer contradicts its model, converges exactly after a
//! resync, leaves unmanaged services alone, and keeps a true model across refused steps.

mod support;

use lvs_core::Ruleset;
use lvs_netlink::{ApplyOptions, Outcome, Reconciler};
use support::*;

const MINE: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-A -f 10 -s sh
-a -f 10 -r 192.168.8.14 -m
";

/// Only what this reconciler manages: the rest of the table is someone else's.
fn mine() -> ApplyOptions {
    ApplyOptions {
        keep_unlisted: true,
        ..ApplyOptions::default()
    }
}

/// The services and real servers of the table but the one the test keeps for "someone
/// else".
fn managed(ruleset: Ruleset) -> Ruleset {
    let mut services = ruleset.services;
    services.retain(|vs| vs.service.key.to_string() != "-t 10.0.0.99:80");
    Ruleset {
        services,
        ..Ruleset::new()
    }
}

fn drifted(report: &lvs_netlink::Report) -> usize {
    report
        .outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Drifted(_)))
        .count()
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn contradictions_are_repaired_in_the_same_apply() {
    // Someone else's service, there before the reconciler starts.
    ipvsadm_restore("-A -t 10.0.0.99:80 -s rr\n-a -t 10.0.0.99:80 -r 192.168.8.99 -m\n");
    let mut reconciler = Reconciler::new(ipvs()).expect("read the table");
    let first = reconciler.apply(&model(MINE), &mine()).expect("apply");
    assert!(first.is_success(), "{first}");
    assert_eq!(managed(read_back(reconciler.ipvs())), model(MINE));

    // Behind its back: a real server it will edit is deleted, one it will add is added with
    // other settings, a service whose real server it will delete is deleted.
    run_ok(
        "ipvsadm",
        &["-d", "-t", "10.0.0.13:80", "-r", "192.168.8.14"],
        None,
    );
    run_ok(
        "ipvsadm",
        &[
            "-a",
            "-t",
            "10.0.0.13:443",
            "-r",
            "192.168.8.15:443",
            "-m",
            "-w",
            "9",
        ],
        None,
    );
    run_ok("ipvsadm", &["-D", "-f", "10"], None);

    let desired = model(
        "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-a -t 10.0.0.13:443 -r 192.168.8.15:443 -m
-A -f 10 -s sh
",
    );
    let second = reconciler.apply(&desired, &mine()).expect("apply");
    assert!(second.is_success(), "{second}");
    // The edit of .14 (gone), the add of .15:443 (there) and the delete of the mark service's
    // real server (service gone) each contradicted the model, and were repaired.
    assert_eq!(drifted(&second), 3, "{second}");
    assert_eq!(managed(read_back(reconciler.ipvs())), desired);
    assert_eq!(
        reconciler.model().map(|m| managed(m.clone())),
        Some(desired.clone())
    );
    // Someone else's service is untouched.
    assert!(ipvsadm_save().contains("-a -t 10.0.0.99:80 -r 192.168.8.99:80 -m -w 1"));

    // A change the reconciler never touches is invisible to it until a resync; then the
    // next apply converges exactly.
    run_ok(
        "ipvsadm",
        &[
            "-e",
            "-t",
            "10.0.0.13:443",
            "-r",
            "192.168.8.14:443",
            "-m",
            "-w",
            "5",
        ],
        None,
    );
    assert!(
        reconciler
            .apply(&desired, &mine())
            .expect("apply")
            .plan
            .is_empty()
    );
    reconciler.resync().expect("resync");
    let third = reconciler.apply(&desired, &mine()).expect("apply");
    assert_eq!(
        third.plan.to_rules(),
        "-e -t 10.0.0.13:443 -r 192.168.8.14:443 -m -w 1\n"
    );
    assert!(third.is_success(), "{third}");
    assert_eq!(managed(read_back(reconciler.ipvs())), desired);
    assert!(ipvsadm_save().contains("-A -t 10.0.0.99:80 -s rr"));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_refused_step_keeps_the_model_true() {
    let mut reconciler = Reconciler::new(ipvs()).expect("read the table");
    assert!(
        reconciler
            .apply(&model(MINE), &ApplyOptions::default())
            .expect("apply")
            .is_success()
    );
    // A new service with a scheduler the kernel lacks (Debian's 6.1 ships no ip_vs_twos), beside
    // changes that do not depend on it.
    let missing = missing_scheduler();
    let mut text = MINE.replace("-a -t 10.0.0.13:80 -r 192.168.8.15 -m\n", "");
    text.push_str(&format!(
        "-A -t 10.0.0.13:8080 -s {missing}\n-a -t 10.0.0.13:8080 -r 192.168.8.14 -m\n"
    ));
    text = text.replace("-A -f 10 -s sh", "-A -f 10 -s wrr");
    let report = reconciler
        .apply(&model_unchecked(&text), &ApplyOptions::default())
        .expect("apply");
    let failed: Vec<String> = report
        .failed()
        .map(|(c, e)| {
            format!(
                "{}: {e}",
                lvs_core::rules::command_rule(c, Default::default())
            )
        })
        .collect();
    assert_eq!(failed.len(), 2, "{report}");
    assert!(
        failed[0].starts_with(&format!("-A -t 10.0.0.13:8080 -s {missing}: "))
            && failed[0].contains("Scheduler or persistence engine not found"),
        "{report}"
    );
    assert_eq!(
        drifted(&report),
        0,
        "a refusal's consequence is no drift: {report}"
    );
    let shown = report.to_string();
    assert!(shown.contains("~ -E -f 10 -s wrr\n"), "{report}");
    assert!(
        shown.contains("- -d -t 10.0.0.13:80 -r 192.168.8.15:80\n"),
        "{report}"
    );
    // The model is what a fresh read gives.
    let fresh = ipvs().snapshot().expect("snapshot").ruleset;
    assert_eq!(reconciler.model(), Some(&fresh));
}
