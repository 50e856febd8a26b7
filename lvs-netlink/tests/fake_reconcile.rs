//! The Reconciler against the fake kernel, on the host: no read when nothing else changed the
//! table, repair of contradictions with reads of just the services concerned, deadlines and
//! lost answers leaving the model unknown, and nothing deleted on a failed or short read.
//! (`kernel_reconcile.rs` is the proof on a real kernel.)

use lvs_core::{Command, DestinationState, Operation, Ruleset, ServiceKey, errno};
use lvs_netlink::fake::{FakeKernel, Fault};
use lvs_netlink::{ApplyOptions, Error, Outcome, Reconciler};
use std::time::Duration;

const WEB: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.16 -m
-A -t 10.0.0.13:443 -s rr
-a -t 10.0.0.13:443 -r 192.168.8.14:443 -m
-A -u 10.0.0.13:53 -s rr
-a -u 10.0.0.13:53 -r 192.168.8.20 -m
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

fn reads(kernel: &FakeKernel) -> Vec<Operation> {
    kernel
        .requests()
        .into_iter()
        .filter(|op| op.is_read())
        .collect()
}

fn key(text: &str) -> ServiceKey {
    rules(&format!("-A {text}\n")).services[0].service.key
}

/// A reconciler on a fake kernel already holding `WEB`, its requests cleared.
fn started() -> (FakeKernel, Reconciler) {
    let kernel = FakeKernel::new();
    let mut reconciler = Reconciler::new(kernel.ipvs().expect("open")).expect("read");
    let report = reconciler
        .apply(&rules(WEB), &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{report}");
    kernel.clear_requests();
    (kernel, reconciler)
}

#[test]
fn an_apply_sends_the_change_and_reads_nothing() {
    let (kernel, mut reconciler) = started();
    let desired = rules(&WEB.replace("192.168.8.15 -m", "192.168.8.15 -m -w 0"));
    let report = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert_eq!(
        report.plan.to_rules(),
        "-e -t 10.0.0.13:80 -r 192.168.8.15:80 -m -w 0\n"
    );
    assert_eq!(kernel.requests(), [Operation::EditDestination]);
    assert_eq!(services(&kernel), desired);
    kernel.clear_requests();
    assert!(
        reconciler
            .apply(&desired, &ApplyOptions::default())
            .expect("again")
            .plan
            .is_empty()
    );
    assert!(kernel.requests().is_empty(), "{:?}", kernel.requests());
}

#[test]
fn a_contradiction_rereads_only_its_service_and_repairs_it() {
    let (kernel, mut reconciler) = started();
    // Behind its back: the real server it is about to edit goes.
    let web = key("-t 10.0.0.13:80");
    kernel
        .execute(&Command::DeleteDestination {
            service: web,
            addr: "192.168.8.14:80".parse().unwrap(),
        })
        .expect("delete");
    let desired = rules(&WEB.replace("192.168.8.14 -m", "192.168.8.14 -m -w 5"));
    let report = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{report}");
    assert!(
        matches!(report.outcomes[0], Outcome::Drifted(_)),
        "{report}"
    );
    assert_eq!(
        report.to_string(),
        "~ -e -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 5  # drift: edit destination: No such destination; read again\n\
         + -a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 5\n"
    );
    assert_eq!(
        reads(&kernel),
        [Operation::GetService, Operation::GetDestinations]
    );
    assert_eq!(services(&kernel), desired);
    assert_eq!(reconciler.model().map(|m| m.services.len()), Some(3));
}

#[test]
fn a_lost_answer_leaves_the_model_unknown_and_the_next_apply_reads() {
    let (kernel, mut reconciler) = started();
    reconciler
        .ipvs()
        .set_reply_timeout(Duration::from_millis(200));
    let desired = rules(&WEB.replace("-s rr\n-a -t 10.0.0.13:80", "-s wrr\n-a -t 10.0.0.13:80"));
    kernel.inject_once(Operation::EditService, Fault::Drop);
    let report = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    let (_, error) = report.failed().next().expect("a failure");
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(reconciler.model().is_none(), "the outcome is unknown");
    kernel.clear_requests();
    let again = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("again");
    assert!(
        reads(&kernel).contains(&Operation::GetServices),
        "a full read"
    );
    // The dropped edit was carried out: nothing left to do.
    assert!(again.plan.is_empty(), "{again}");
    assert_eq!(services(&kernel), desired);
}

#[test]
fn a_short_read_sends_nothing() {
    let kernel = FakeKernel::new();
    kernel
        .execute(&Command::AddService(rules(WEB).services[0].service.clone()))
        .expect("add");
    for vs in &rules(WEB).services[1..] {
        kernel
            .execute(&Command::AddService(vs.service.clone()))
            .expect("add");
    }
    // The service dump ends early, with an error: the reconciler cannot start.
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate {
            after: 1,
            errno: libc::EINTR,
        },
    );
    assert!(Reconciler::new(kernel.ipvs().expect("open")).is_err());
    let mut reconciler = Reconciler::new(kernel.ipvs().expect("open")).expect("read");
    // A resync whose dump fails sends nothing, deletes nothing, and the model is unknown.
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate {
            after: 1,
            errno: libc::EINTR,
        },
    );
    assert!(reconciler.resync().is_err());
    assert!(reconciler.model().is_none());
    kernel.clear_requests();
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate {
            after: 1,
            errno: libc::EINTR,
        },
    );
    assert!(
        reconciler
            .apply(&Ruleset::new(), &ApplyOptions::default())
            .is_err()
    );
    assert!(
        kernel
            .requests()
            .iter()
            .all(|op| *op == Operation::GetServices),
        "{:?}",
        kernel.requests()
    );
    assert_eq!(kernel.ruleset().services.len(), 3);
}

#[test]
fn a_failed_reread_during_repair_sends_no_repair() {
    let (kernel, mut reconciler) = started();
    let dns = key("-u 10.0.0.13:53");
    kernel
        .execute(&Command::DeleteService(dns))
        .expect("delete behind its back");
    kernel.inject(Operation::GetService, Fault::Refuse(errno::ENOMEM));
    let desired = rules(&WEB.replace("-a -u 10.0.0.13:53 -r 192.168.8.20 -m\n", ""));
    let report = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    // The deletion of .20 contradicted the model; re-reading the service failed.
    assert_eq!(report.plan.len(), 1, "{report}");
    assert!(reconciler.model().is_none());
    kernel.clear_faults();
    let again = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("again");
    assert!(again.is_success(), "{again}");
    assert_eq!(services(&kernel), desired);
}

#[test]
fn draining_reads_only_the_services_that_drain() {
    let (kernel, mut reconciler) = started();
    let web = key("-t 10.0.0.13:80");
    let drain = ApplyOptions {
        drain: true,
        ..ApplyOptions::default()
    };
    let fewer = rules(&WEB.replace("-a -t 10.0.0.13:80 -r 192.168.8.16 -m\n", ""));
    let busy = DestinationState {
        active_conns: 2,
        ..DestinationState::default()
    };
    let sixteen = "192.168.8.16:80".parse().unwrap();
    assert!(kernel.set_destination_state(&web, &sixteen, busy));
    let first = reconciler.apply(&fewer, &drain).expect("drain");
    assert_eq!(
        first.to_string(),
        "= -e -t 10.0.0.13:80 -r 192.168.8.16:80 -m -w 0\n"
    );
    assert!(
        reads(&kernel).is_empty(),
        "nothing at weight 0 yet: {:?}",
        kernel.requests()
    );
    // Still busy: one read of that service's real servers, nothing sent.
    kernel.clear_requests();
    assert!(
        reconciler
            .apply(&fewer, &drain)
            .expect("again")
            .plan
            .is_empty()
    );
    assert_eq!(kernel.requests(), [Operation::GetDestinations]);
    // A brand-new reconciler, from the kernel alone, finishes the drain once idle.
    assert!(kernel.set_destination_state(&web, &sixteen, DestinationState::default()));
    let mut fresh = Reconciler::new(kernel.ipvs().expect("open")).expect("read");
    let last = fresh.apply(&fewer, &drain).expect("finish");
    assert_eq!(
        last.to_string(),
        "- -d -t 10.0.0.13:80 -r 192.168.8.16:80\n"
    );
    assert_eq!(services(&kernel), fewer);
}

#[test]
fn an_invalid_desired_ruleset_sends_and_reads_nothing() {
    let (kernel, mut reconciler) = started();
    let mut twice = rules(WEB);
    twice.services.push(twice.services[0].clone());
    let e = reconciler
        .apply(&twice, &ApplyOptions::default())
        .expect_err("refused");
    assert!(matches!(e, Error::InvalidRuleset(_)), "{e}");
    assert!(kernel.requests().is_empty());
    assert_eq!(services(&kernel), rules(WEB));
}

/// A dump that looks complete but is short (errno 0: the kernel resumes a dump by position, so
/// one racing with changes can skip entries) makes services look missing, never extra: the
/// apply adds them, the kernel answers "exists", and the repair reads them. Nothing that is
/// wanted is deleted.
#[test]
fn a_short_but_clean_read_never_deletes() {
    let (kernel, mut reconciler) = started();
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate { after: 1, errno: 0 },
    );
    reconciler.resync().expect("a short read looks complete");
    assert_eq!(reconciler.model().map(|m| m.services.len()), Some(1));
    let report = reconciler
        .apply(&rules(WEB), &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{report}");
    assert!(
        report.to_string().lines().all(|l| !l.starts_with('-')),
        "{report}"
    );
    assert_eq!(services(&kernel), rules(WEB));
    assert_eq!(reconciler.model().map(|m| m.services.len()), Some(3));
}

/// Rule files over a small universe (four VIPs, four real servers, two schedulers, optional
/// timeouts), so that random pairs share services, differ in some and not in others.
fn small_rules() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let service = (
        prop::bool::ANY,
        prop::collection::btree_map(0..4u8, 0..3u8, 0..4),
    );
    (
        prop::collection::btree_map(0..4u8, service, 0..4),
        prop::option::of(1..5u32),
    )
        .prop_map(|(services, timeout)| {
            let mut text = String::new();
            for (vip, (wrr, dests)) in services {
                let sched = if wrr { "wrr" } else { "rr" };
                text += &format!("-A -t 10.0.0.{}:80 -s {sched}\n", 10 + vip);
                for (d, w) in dests {
                    text += &format!(
                        "-a -t 10.0.0.{}:80 -r 192.168.8.{}:80 -m -w {w}\n",
                        10 + vip,
                        20 + d
                    );
                }
            }
            if let Some(t) = timeout {
                text += &format!("--set {t} {t} {t}\n");
            }
            text
        })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// The Reconciler plans only the services that differ from its model; its plan must be
    /// the plan of the whole tables, and the kernel must end at the desired table.
    #[test]
    fn planning_the_differing_services_is_planning_the_whole(
        now in small_rules(),
        wanted in small_rules(),
        keep_unlisted in proptest::bool::ANY,
    ) {
        let kernel = FakeKernel::new();
        let mut reconciler = Reconciler::new(kernel.ipvs().expect("open")).expect("read");
        let loaded = reconciler.apply(&rules(&now), &ApplyOptions::default()).expect("load");
        proptest::prop_assert!(loaded.is_success(), "{}", loaded);
        let model = reconciler.model().expect("known").clone();
        let desired = rules(&wanted);
        let options = ApplyOptions { keep_unlisted, ..ApplyOptions::default() };
        let plan_options = lvs_core::PlanOptions { keep_unlisted, ..Default::default() };
        let whole = lvs_core::plan(&model, &desired, &plan_options);
        let dry = ApplyOptions { dry_run: true, ..options };
        let report = reconciler.apply(&desired, &dry).expect("dry run");
        proptest::prop_assert_eq!(&report.plan, &whole);
        let report = reconciler.apply(&desired, &options).expect("apply");
        proptest::prop_assert!(report.is_success(), "{}", report);
        proptest::prop_assert_eq!(&report.plan, &whole);
        let mut fresh = model.clone();
        fresh.execute_all(whole.commands(), &lvs_core::KernelProfile::ANY).expect("replay");
        let sorted = |mut r: Ruleset| {
            r.services.sort_by_key(|vs| vs.service.key.to_string());
            r
        };
        proptest::prop_assert_eq!(sorted(reconciler.model().expect("known").clone()), sorted(fresh));
        proptest::prop_assert_eq!(
            sorted(reconciler.model().expect("known").clone()),
            sorted(Reconciler::new(kernel.ipvs().expect("open")).expect("read").model().expect("read").clone())
        );
        kernel.clear_requests();
        let again = reconciler.apply(&desired, &options).expect("again");
        proptest::prop_assert!(again.plan.is_empty(), "{}", again.plan);
        proptest::prop_assert!(kernel.requests().is_empty());
    }
}
