//! [`Ipvs::apply`], [`Ipvs::plan`] and [`Ipvs::execute_plan`] against the fake
//! kernel, on the host (the VM's `kernel_apply.rs` is the proof on a real kernel).

use lvs_core::{Command, DestinationState, Operation, Ruleset, ServiceKey, errno};
use lvs_netlink::fake::{FakeKernel, Fault};
use lvs_netlink::{ApplyOptions, Error, Outcome};
use std::time::Duration;

const A: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.16 -m
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-A -u 10.0.0.13:53 -s rr
-a -u 10.0.0.13:53 -r 192.168.8.20 -m
";

const B: &str = "-A -t 10.0.0.13:80 -s wrr -p 600
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.17 -m -x 100 -y 10
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-A -f 10 -s sh -b sh-port
-a -f 10 -r 192.168.8.14 -m
";

fn rules(text: &str) -> Ruleset {
    Ruleset::from_rules(text).expect("valid rules")
}

fn services(kernel: &FakeKernel) -> Ruleset {
    Ruleset {
        services: kernel.ruleset().services,
        ..Ruleset::new()
    }
}

/// The requests that change something.
fn changes(kernel: &FakeKernel) -> usize {
    kernel.requests().iter().filter(|op| !op.is_read()).count()
}

#[test]
fn apply_a_then_b_gives_b_and_again_sends_nothing() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let first = ipvs.apply(&rules(A), &ApplyOptions::default()).unwrap();
    assert!(first.is_success(), "{first}");
    assert_eq!(services(&kernel), rules(A));
    let second = ipvs.apply(&rules(B), &ApplyOptions::default()).unwrap();
    assert!(second.is_success(), "{second}");
    assert_eq!(second.plan.len(), 7, "{}", second.plan);
    assert_eq!(services(&kernel), rules(B));
    kernel.clear_requests();
    let third = ipvs.apply(&rules(B), &ApplyOptions::default()).unwrap();
    assert!(third.plan.is_empty(), "{}", third.plan);
    assert_eq!(changes(&kernel), 0);
    // One read of the table: the services, each one's real servers, timeouts, daemons.
    assert_eq!(kernel.requests().len(), 1 + 3 + 1 + 1);
}

#[test]
fn a_dry_run_and_a_plan_send_no_change() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let dry = ApplyOptions {
        dry_run: true,
        ..ApplyOptions::default()
    };
    let report = ipvs.apply(&rules(A), &dry).unwrap();
    assert!(!report.plan.is_empty());
    assert_eq!(report.not_tried().count(), report.plan.len());
    let plan = ipvs.plan(&rules(A), &ApplyOptions::default()).unwrap();
    assert_eq!(changes(&kernel), 0);
    let report = ipvs.execute_plan(plan);
    assert!(report.is_success(), "{report}");
    assert_eq!(services(&kernel), rules(A));
}

#[test]
fn unlisted_services_are_kept_when_asked() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    assert!(
        ipvs.apply(&rules(A), &ApplyOptions::default())
            .unwrap()
            .is_success()
    );
    let only_443 =
        rules("-A -t 10.0.0.13:443 -s wrr\n-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m\n");
    let keep = ApplyOptions {
        keep_unlisted: true,
        ..ApplyOptions::default()
    };
    let report = ipvs.apply(&only_443, &keep).unwrap();
    assert_eq!(report.plan.len(), 1, "{}", report.plan);
    assert_eq!(kernel.ruleset().services.len(), 3);
}

#[test]
fn draining_waits_for_connections_to_end() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    assert!(
        ipvs.apply(&rules(A), &ApplyOptions::default())
            .unwrap()
            .is_success()
    );
    let key = ServiceKey::tcp("10.0.0.13:80".parse().unwrap());
    let leaving = "192.168.8.16:80".parse().unwrap();
    let busy = DestinationState {
        active_conns: 2,
        ..DestinationState::default()
    };
    assert!(kernel.set_destination_state(&key, &leaving, busy));
    let without_16 = rules(&A.replace("-a -t 10.0.0.13:80 -r 192.168.8.16 -m\n", ""));
    let drain = ApplyOptions {
        drain: true,
        ..ApplyOptions::default()
    };
    assert!(ipvs.apply(&without_16, &drain).unwrap().is_success());
    let vs = kernel.ruleset().service(&key).cloned().unwrap();
    assert_eq!(
        vs.destination(&leaving).map(|d| d.weight),
        Some(0),
        "drained, kept"
    );
    assert!(kernel.set_destination_state(&key, &leaving, DestinationState::default()));
    assert!(ipvs.apply(&without_16, &drain).unwrap().is_success());
    assert_eq!(services(&kernel), without_16, "deleted once idle");
}

#[test]
fn a_refused_step_is_reported_with_the_kernels_words() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    kernel.inject_once(Operation::AddService, Fault::Refuse(errno::ENOENT));
    let report = ipvs.apply(&rules(A), &ApplyOptions::default()).unwrap();
    let failed: Vec<(&Command, &Error)> = report.failed().collect();
    // The service, and its real servers after it ("Service not defined").
    assert_eq!(failed.len(), 4, "{report}");
    let refused = failed
        .iter()
        .find(|(c, _)| matches!(c, Command::AddService(_)));
    let (_, e) = refused.expect("the refused service is reported");
    assert_eq!(
        e.to_string(),
        "add service: Scheduler or persistence engine not found"
    );
    assert!(!report.is_success());
    // The next apply converges.
    let again = ipvs.apply(&rules(A), &ApplyOptions::default()).unwrap();
    assert!(again.is_success(), "{again}");
    assert_eq!(services(&kernel), rules(A));
}

#[test]
fn a_failed_read_changes_nothing() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    assert!(
        ipvs.apply(&rules(A), &ApplyOptions::default())
            .unwrap()
            .is_success()
    );
    kernel.clear_requests();
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate {
            after: 1,
            errno: libc::EINTR,
        },
    );
    assert!(ipvs.apply(&rules(B), &ApplyOptions::default()).is_err());
    ipvs.set_reply_timeout(Duration::from_millis(20));
    kernel.inject_once(Operation::GetDestinations, Fault::Drop);
    match ipvs.apply(&rules(B), &ApplyOptions::default()) {
        Err(Error::Timeout { op, .. }) => assert_eq!(op, Operation::GetDestinations),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(changes(&kernel), 0);
    assert_eq!(services(&kernel), rules(A));
    // And a report can say a step's outcome is unknown: the answers to a batch of real
    // servers are lost.
    kernel.inject(Operation::AddDestination, Fault::Drop);
    kernel.inject(Operation::EditDestination, Fault::Drop);
    let report = ipvs.apply(&rules(B), &ApplyOptions::default()).unwrap();
    assert!(
        report
            .outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Failed(e) if e.outcome_unknown()))
    );
}
