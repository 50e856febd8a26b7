//! Every refusal provoked for real: the error says what ipvsadm says, and the table is
//! unchanged afterwards. Where lvs refuses bad input itself ([`Error::Invalid`]), the same
//! command sent unchecked shows the kernel refusing it too.

mod support;

use lvs_core::{
    Command, DaemonRole, Destination, Forward, Operation, RefusalKind, Service, ServiceKey, Tunnel,
    TunnelChecksum, ValidationError, errno,
};
use lvs_netlink::{Error, Ipvs};
use support::*;

const BASE: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 1
";

fn key() -> ServiceKey {
    ServiceKey::tcp("10.0.0.1:80".parse().unwrap())
}

fn add(d: Destination) -> Command {
    Command::AddDestination {
        service: key(),
        destination: d,
    }
}

fn dest(addr: &str) -> Destination {
    Destination::new(addr.parse().unwrap())
}

/// Sets up BASE and returns the handle and the table's rules before the failure.
fn setup() -> (Ipvs, String) {
    let ipvs = ipvs();
    ipvsadm_restore(BASE);
    let before = ipvsadm_save();
    assert_eq!(read_back(&ipvs), model(BASE));
    (ipvs, before)
}

#[track_caller]
fn refused(result: Result<(), Error>, op: Operation, errno: i32, kind: RefusalKind, text: &str) {
    let e = result.expect_err("the kernel must refuse");
    let r = e
        .refusal()
        .unwrap_or_else(|| panic!("not a kernel refusal: {e}"));
    assert_eq!((r.op, r.errno, r.kind()), (op, errno, kind), "{e}");
    assert!(e.to_string().contains(text), "`{e}` should say `{text}`");
}

#[track_caller]
fn unchanged(ipvs: &Ipvs, before: &str) {
    assert_eq!(ipvsadm_save(), before, "ipvsadm sees the table unchanged");
    assert_eq!(read_back(ipvs), model(BASE), "lvs sees the table unchanged");
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn duplicate_service() {
    let (ipvs, before) = setup();
    let r = ipvs.add_service(&Service::new(key()).with_scheduler("wlc"));
    refused(
        r,
        Operation::AddService,
        errno::EEXIST,
        RefusalKind::ServiceExists,
        "Service already exists",
    );
    unchanged(&ipvs, &before);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn missing_service() {
    let (ipvs, before) = setup();
    let other = ServiceKey::tcp("10.0.0.2:80".parse().unwrap());
    refused(
        ipvs.edit_service(&Service::new(other)),
        Operation::EditService,
        errno::ESRCH,
        RefusalKind::NoSuchService,
        "No such service",
    );
    refused(
        ipvs.delete_service(&other),
        Operation::DeleteService,
        errno::ESRCH,
        RefusalKind::NoSuchService,
        "No such service",
    );
    refused(
        ipvs.add_destination(&other, &dest("192.168.1.9:80")),
        Operation::AddDestination,
        errno::ESRCH,
        RefusalKind::NoSuchService,
        "Service not defined",
    );
    refused(
        ipvs.zero(Some(&other)),
        Operation::Zero,
        errno::ESRCH,
        RefusalKind::NoSuchService,
        "No such service",
    );
    unchanged(&ipvs, &before);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn unknown_scheduler() {
    let (ipvs, before) = setup();
    let other = ServiceKey::tcp("10.0.0.2:80".parse().unwrap());
    refused(
        ipvs.add_service(&Service::new(other).with_scheduler("nosuch")),
        Operation::AddService,
        errno::ENOENT,
        RefusalKind::SchedulerNotFound,
        "Scheduler or persistence engine not found",
    );
    refused(
        ipvs.edit_service(&Service::new(key()).with_scheduler("nosuch")),
        Operation::EditService,
        errno::ENOENT,
        RefusalKind::SchedulerNotFound,
        "Scheduler or persistence engine not found",
    );
    let mut pe = Service::new(other).with_persistence(10);
    pe.pe = Some("nosuchpe".into());
    refused(
        ipvs.add_service(&pe),
        Operation::AddService,
        errno::ENOENT,
        RefusalKind::SchedulerNotFound,
        "persistence engine",
    );
    unchanged(&ipvs, &before);
}

/// lvs refuses `command` with `invalid`; sent unchecked, the kernel refuses it with `errno`.
#[track_caller]
fn invalid_then_kernel(command: Command, invalid: ValidationError, errno: i32, kind: RefusalKind) {
    let (ipvs, before) = setup();
    match ipvs.execute(&command) {
        Err(Error::Invalid(v)) => assert_eq!(v, invalid),
        other => panic!("expected Error::Invalid({invalid:?}), got {other:?}"),
    }
    unchanged(&ipvs, &before);
    let op = command.operation();
    refused(ipvs.execute_unchecked(&command), op, errno, kind, "");
    unchanged(&ipvs, &before);
    // The batch API reports the same, per command.
    let results = ipvs.batch(&[command]);
    assert!(
        matches!(results.as_slice(), [Err(Error::Invalid(_))]),
        "{results:?}"
    );
    unchanged(&ipvs, &before);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn negative_weight() {
    invalid_then_kernel(
        add(dest("192.168.1.2:80").with_weight(-1)),
        ValidationError::NegativeWeight(-1),
        errno::ERANGE,
        RefusalKind::OutOfRange,
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lower_threshold_above_upper() {
    let d = Destination {
        upper_threshold: 5,
        lower_threshold: 10,
        ..dest("192.168.1.2:80")
    };
    invalid_then_kernel(
        add(d),
        ValidationError::ThresholdOrder {
            lower: 10,
            upper: 5,
        },
        errno::ERANGE,
        RefusalKind::OutOfRange,
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn gue_without_port() {
    let d =
        dest("192.168.1.2:80").with_forward(Forward::Tunnel(Tunnel::gue(0, TunnelChecksum::None)));
    invalid_then_kernel(
        add(d),
        ValidationError::GueNeedsPort,
        errno::EINVAL,
        RefusalKind::InvalidArgument,
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn mixed_family_without_tunnel() {
    invalid_then_kernel(
        add(dest("[2001:db8::9]:80").with_forward(Forward::Masquerade)),
        ValidationError::MixedFamily,
        errno::EINVAL,
        RefusalKind::InvalidArgument,
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn missing_destination() {
    let (ipvs, before) = setup();
    refused(
        ipvs.edit_destination(&key(), &dest("192.168.1.2:80")),
        Operation::EditDestination,
        errno::ENOENT,
        RefusalKind::NoSuchDestination,
        "No such destination",
    );
    refused(
        ipvs.delete_destination(&key(), &"192.168.1.2:80".parse().unwrap()),
        Operation::DeleteDestination,
        errno::ENOENT,
        RefusalKind::NoSuchDestination,
        "No such destination",
    );
    unchanged(&ipvs, &before);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn duplicate_destination() {
    let (ipvs, before) = setup();
    refused(
        ipvs.add_destination(&key(), &dest("192.168.1.1:80").with_weight(7)),
        Operation::AddDestination,
        errno::EEXIST,
        RefusalKind::DestinationExists,
        "Destination already exists",
    );
    unchanged(&ipvs, &before);
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn stop_daemon_when_none_runs() {
    let (ipvs, before) = setup();
    refused(
        ipvs.stop_daemon(DaemonRole::Backup),
        Operation::StopDaemon,
        errno::ESRCH,
        RefusalKind::NoSuchDaemon,
        "No daemon is running",
    );
    assert!(ipvs.daemons().expect("daemons").is_empty());
    unchanged(&ipvs, &before);
}
