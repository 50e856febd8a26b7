//! Declarative apply against the real kernel: A then B equals a fresh restore of B, a second
//! apply sends nothing, a failure half-way is reported and a re-run converges.

mod support;

use lvs_netlink::{ApplyOptions, Outcome};
use support::*;

const A: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.16 -m
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-a -t 10.0.0.13:443 -r 192.168.8.15:443 -m
-A -u 10.0.0.13:53 -s rr
-a -u 10.0.0.13:53 -r 192.168.8.20 -m
";

const B: &str = "-A -t 10.0.0.13:80 -s wrr -p 600
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.17 -m -x 100 -y 10
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-a -t 10.0.0.13:443 -r 192.168.8.15:443 -m
-A -f 10 -s sh -b sh-port
-a -f 10 -r 192.168.8.14 -m
";

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn apply_a_then_b_equals_a_fresh_restore_of_b() {
    let ipvs = ipvs();
    let first = ipvs
        .apply(&model(A), &ApplyOptions::default())
        .expect("apply A");
    assert!(first.is_success(), "{first}");
    assert_eq!(read_back(&ipvs), model(A));

    let second = ipvs
        .apply(&model(B), &ApplyOptions::default())
        .expect("apply B");
    assert!(second.is_success(), "{second}");
    // Only what differs: the UDP service goes, .16 goes, .17 comes, :80 and .14 change, the
    // mark service comes with its real server; :443 is untouched.
    assert_eq!(second.plan.len(), 7, "{}", second.plan);
    assert!(!second.plan.to_rules().contains(":443"), "{}", second.plan);
    assert_eq!(read_back(&ipvs), model(B));

    // The same state as ipvsadm -C; ipvsadm -R < B gives, as ipvsadm itself reads it.
    let after_apply = ipvsadm_save();
    run_ok("ipvsadm", &["-C"], None);
    ipvsadm_restore(B);
    assert_eq!(after_apply, ipvsadm_save());
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn applying_the_same_ruleset_again_sends_nothing() {
    let ipvs = ipvs();
    let desired = model(B);
    assert!(
        ipvs.apply(&desired, &ApplyOptions::default())
            .expect("apply")
            .is_success()
    );
    let again = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply again");
    assert!(
        again.plan.is_empty(),
        "second apply planned:\n{}",
        again.plan
    );
    assert!(again.outcomes.is_empty());
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn keep_unlisted_and_dry_run() {
    let ipvs = ipvs();
    ipvsadm_restore(A);
    let only_web = model("-A -t 10.0.0.13:80 -s wrr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n");
    let dry = ApplyOptions {
        keep_unlisted: true,
        dry_run: true,
        ..ApplyOptions::default()
    };
    let report = ipvs.apply(&only_web, &dry).expect("dry run");
    assert!(!report.plan.is_empty());
    assert!(
        report
            .outcomes
            .iter()
            .all(|o| matches!(o, Outcome::NotTried))
    );
    assert_eq!(read_back(&ipvs), model(A), "a dry run changed the kernel");

    let keep = ApplyOptions {
        keep_unlisted: true,
        ..ApplyOptions::default()
    };
    assert!(ipvs.apply(&only_web, &keep).expect("apply").is_success());
    let now = read_back(&ipvs);
    assert_eq!(now.services.len(), 3, "the unlisted services stay");
    assert_eq!(
        now.service(&only_web.services[0].service.key),
        Some(&only_web.services[0])
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn drain_keeps_busy_real_servers_at_weight_zero() {
    let ipvs = ipvs();
    ipvsadm_restore(A);
    let fewer = model(&A.replace("-a -t 10.0.0.13:80 -r 192.168.8.16 -m\n", ""));
    let drain = ApplyOptions {
        drain: true,
        ..ApplyOptions::default()
    };
    // No connections: the first apply sets weight 0, the second deletes (idle by then).
    let first = ipvs.apply(&fewer, &drain).expect("drain");
    assert!(first.is_success(), "{first}");
    assert!(
        first.plan.to_rules().contains("-r 192.168.8.16:80 -m -w 0"),
        "{}",
        first.plan
    );
    let second = ipvs.apply(&fewer, &drain).expect("delete drained");
    assert_eq!(
        second.plan.to_rules(),
        "-d -t 10.0.0.13:80 -r 192.168.8.16:80\n"
    );
    assert_eq!(read_back(&ipvs), fewer);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_failure_half_way_is_reported_and_a_rerun_converges() {
    let ipvs = ipvs();
    ipvsadm_restore(A);
    let desired = model(B);
    let plan = ipvs.plan(&desired, &ApplyOptions::default()).expect("plan");
    // Someone else deletes the web service between the plan and its execution: the plan's
    // edit of it and of its real servers are refused, the deletion of its real server .16
    // (which depends on them) is not tried, and the rest of the plan is applied.
    run_ok("ipvsadm", &["-D", "-t", "10.0.0.13:80"], None);
    let report = ipvs.execute_plan(plan);
    assert!(!report.is_success());
    let failed: Vec<String> = report
        .failed()
        .map(|(c, e)| {
            format!(
                "{}: {e}",
                lvs_core::rules::command_rule(c, Default::default())
            )
        })
        .collect();
    assert_eq!(failed.len(), 3, "{report}");
    assert!(
        failed.iter().all(|f| f.contains("-t 10.0.0.13:80 ")),
        "{report}"
    );
    assert!(
        failed[0].starts_with("-E -t 10.0.0.13:80") && failed[0].contains("No such service"),
        "{report}"
    );
    let not_tried: Vec<_> = report.not_tried().collect();
    assert_eq!(
        not_tried,
        [&lvs_core::Command::DeleteDestination {
            service: lvs_core::ServiceKey::tcp("10.0.0.13:80".parse().unwrap()),
            addr: "192.168.8.16:80".parse().unwrap(),
        }],
        "{report}"
    );
    let shown = report.to_string();
    assert!(
        shown.contains("-d -t 10.0.0.13:80 -r 192.168.8.16:80  # not tried"),
        "{report}"
    );
    assert!(shown.contains("- -D -u 10.0.0.13:53\n"), "{report}");

    let rerun = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("re-run");
    assert!(rerun.is_success(), "{rerun}");
    assert_eq!(read_back(&ipvs), desired);
}

/// A desired ruleset whose new service the kernel refuses (a scheduler module it lacks: Debian's
/// 6.1 ships no `ip_vs_twos`; see `missing_scheduler`) replaces every service of the table:
/// nothing is deleted, because the replacement is not in place.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_refused_replacement_leaves_the_old_services_in_place() {
    let ipvs = ipvs();
    ipvsadm_restore(A);
    let desired = model_unchecked(&format!(
        "-A -t 10.0.0.14:80 -s {}\n-a -t 10.0.0.14:80 -r 192.168.8.14 -m\n",
        missing_scheduler()
    ));
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    let failed: Vec<String> = report.failed().map(|(_, e)| e.to_string()).collect();
    assert_eq!(failed.len(), 2, "{report}");
    assert!(
        failed[0].contains("Scheduler or persistence engine not found"),
        "{report}"
    );
    assert!(failed[1].contains("Service not defined"), "{report}");
    assert_eq!(
        report.not_tried().count(),
        3,
        "the three deletions: {report}"
    );
    assert_eq!(read_back(&ipvs), model(A));
}

/// A refused edit (a persistence engine the kernel lacks) holds back the removals in its own
/// service; a removal elsewhere still runs.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_refused_edit_holds_back_only_its_own_services_removals() {
    let ipvs = ipvs();
    ipvsadm_restore(A);
    let text = A
        .replace(
            "-A -t 10.0.0.13:80 -s rr",
            "-A -t 10.0.0.13:80 -s rr -p 60 --pe nosuch",
        )
        .replace("-a -t 10.0.0.13:80 -r 192.168.8.16 -m\n", "")
        .replace("-a -t 10.0.0.13:443 -r 192.168.8.15:443 -m\n", "");
    let report = ipvs
        .apply(&model_unchecked(&text), &ApplyOptions::default())
        .expect("apply");
    let failed: Vec<String> = report.failed().map(|(_, e)| e.to_string()).collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert!(
        failed[0].contains("Scheduler or persistence engine not found"),
        "{report}"
    );
    let shown = report.to_string();
    assert!(
        shown.contains("-d -t 10.0.0.13:80 -r 192.168.8.16:80  # not tried"),
        "{report}"
    );
    assert!(
        shown.contains("- -d -t 10.0.0.13:443 -r 192.168.8.15:443\n"),
        "{report}"
    );
    let expected = A.replace("-a -t 10.0.0.13:443 -r 192.168.8.15:443 -m\n", "");
    assert_eq!(read_back(&ipvs), model(&expected));
}

/// A desired ruleset that breaks a rule is refused whole: nothing read, nothing sent.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn an_invalid_desired_ruleset_changes_nothing() {
    let ipvs = ipvs();
    ipvsadm_restore(A);
    let before = ipvsadm_save();
    let mut desired = model("-A -t 10.0.0.14:80 -s rr\n");
    desired.services.push(desired.services[0].clone());
    let e = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect_err("a duplicate service is refused");
    assert_eq!(
        e.to_string(),
        "invalid ruleset: services[1] (-t 10.0.0.14:80): listed twice: the same service as services[0]"
    );
    assert!(matches!(e, lvs_netlink::Error::InvalidRuleset(_)));
    assert_eq!(ipvsadm_save(), before);
}

/// The kernel reports a daemon with its defaults filled in (group, port, TTL, maxlen); a
/// desired daemon that leaves them unset is the running one, so a second apply sends nothing.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_daemon_applied_twice_is_left_running() {
    let ipvs = ipvs();
    let desired =
        model("-A -t 10.0.0.13:80 -s rr\n--start-daemon backup --mcast-interface lo --syncid 3\n");
    let first = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert!(first.is_success(), "{first}");
    let running = ipvs.daemons().expect("daemons");
    assert_eq!(running.len(), 1, "{running:?}");
    assert!(
        running[0].port.is_some(),
        "the kernel's default: {running:?}"
    );
    let again = ipvs
        .apply(&desired, &ApplyOptions::default())
        .expect("apply again");
    assert!(again.plan.is_empty(), "{}", again.plan);
}
