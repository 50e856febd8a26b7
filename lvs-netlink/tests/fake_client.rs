//! Every public method of [`Ipvs`] against the fake kernel (`lvs_netlink::fake`), on the host:
//! no root, no IPVS. The real-kernel tests (`kernel_*.rs`, in the VM) stay the proof; these
//! make the client's logic cheap to test, and check that the fake kernel answers as the real
//! one did (the captured replies of `tests/golden`).

use lvs_core::{
    Command, DaemonRole, Destination, DestinationEntry, DestinationState, Family, Forward,
    Operation, RefusalKind, Service, ServiceEntry, ServiceKey, ServiceState, Stats, SyncDaemon,
    Timeouts, Tunnel, TunnelChecksum, ValidationError,
};
use lvs_netlink::fake::FakeKernel;
use lvs_netlink::wire::{GenlMessage, request};
use lvs_netlink::{DEFAULT_REPLY_TIMEOUT, Error, Ipvs};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

fn key() -> ServiceKey {
    ServiceKey::tcp("10.0.0.13:80".parse().unwrap())
}

fn real(addr: &str) -> Destination {
    Destination::new(addr.parse().unwrap()).with_forward(Forward::Masquerade)
}

fn open() -> (FakeKernel, Ipvs) {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().expect("a handle on the fake kernel");
    (kernel, ipvs)
}

fn kind(r: Result<(), Error>) -> Option<RefusalKind> {
    r.err().and_then(|e| e.refusal().map(|r| r.kind()))
}

#[test]
fn opening_looks_the_family_up_once() {
    let (kernel, ipvs) = open();
    assert_eq!(kernel.requests(), [Operation::GetFamily]);
    assert_eq!(ipvs.reply_timeout(), DEFAULT_REPLY_TIMEOUT);
    ipvs.set_reply_timeout(Duration::from_millis(1500));
    assert_eq!(ipvs.reply_timeout(), Duration::from_millis(1500));
    assert!(format!("{ipvs:?}").contains("1.5s"));
    match FakeKernel::without_ipvs().ipvs() {
        Err(Error::NotAvailable { reason }) => assert!(reason.contains("IPVS"), "{reason}"),
        other => panic!("expected NotAvailable, got {other:?}"),
    }
}

#[test]
fn a_missing_namespace_is_named_with_its_errno() {
    match Ipvs::in_netns("lvs-fake-test-no-such-netns") {
        Err(e @ Error::Namespace { .. }) => {
            assert_eq!(e.errno(), Some(libc::ENOENT));
            assert!(
                e.to_string()
                    .contains("/run/netns/lvs-fake-test-no-such-netns")
            );
        }
        other => panic!("expected a namespace error, got {other:?}"),
    }
}

#[test]
fn info_and_features() {
    let (_, ipvs) = open();
    let info = ipvs.info().unwrap();
    assert_eq!(
        (info.version.to_string(), info.conn_table_size),
        ("1.2.1".into(), 4096)
    );
    ipvs.add_service(&Service::new(key())).unwrap();
    ipvs.add_destination(&key(), &real("192.168.8.14:80"))
        .unwrap();
    ipvs.destinations(&key()).unwrap();
    // The fake's replies carry every attribute of a 5.3+ kernel, which the handle has now seen.
    let f = ipvs.features().unwrap();
    assert!(
        f.addr_family && f.stats64 && f.tunnel_type && f.tunnel_flags,
        "{f:?}"
    );
    assert_eq!(f.ipvs_version, info.version);
}

#[test]
fn services_are_added_read_edited_and_deleted() {
    let (kernel, ipvs) = open();
    let web = Service::new(key())
        .with_scheduler("wlc")
        .with_persistence(300);
    ipvs.add_service(&web).unwrap();
    assert_eq!(
        kind(ipvs.add_service(&web)),
        Some(RefusalKind::ServiceExists)
    );
    let ServiceEntry {
        service: read,
        state,
    } = ipvs.service(&key()).unwrap().expect("the service");
    assert_eq!(read, web);
    assert_eq!(state.internal_flags, 2, "HASHED, as the kernel reports it");
    let dns = Service::new(ServiceKey::udp("[2001:db8::1]:53".parse().unwrap()));
    ipvs.add_service(&dns).unwrap();
    let fw = Service::new(ServiceKey::fwmark(Family::Inet, 7)).with_persistence(60);
    ipvs.add_service(&fw).unwrap();
    let all: Vec<Service> = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|e| e.service)
        .collect();
    assert_eq!(all, [web.clone(), dns, fw]);
    ipvs.edit_service(&web.clone().with_scheduler("wrr"))
        .unwrap();
    assert_eq!(
        ipvs.service(&key())
            .unwrap()
            .unwrap()
            .service
            .scheduler
            .name(),
        "wrr"
    );
    ipvs.delete_service(&key()).unwrap();
    assert_eq!(ipvs.service(&key()).unwrap(), None);
    assert_eq!(
        kind(ipvs.delete_service(&key())),
        Some(RefusalKind::NoSuchService)
    );
    assert_eq!(
        kind(ipvs.edit_service(&web)),
        Some(RefusalKind::NoSuchService)
    );
    assert_eq!(kernel.ruleset().services.len(), 2);
    ipvs.flush().unwrap();
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn invalid_input_is_refused_before_anything_is_sent() {
    let (kernel, ipvs) = open();
    ipvs.add_service(&Service::new(key())).unwrap();
    kernel.clear_requests();
    let negative = real("192.168.8.14:80").with_weight(-1);
    match ipvs.add_destination(&key(), &negative) {
        Err(Error::Invalid(v)) => assert_eq!(v, ValidationError::NegativeWeight(-1)),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(kernel.requests().is_empty(), "nothing was sent");
    // execute_unchecked lets the kernel say it: ERANGE.
    let command = Command::AddDestination {
        service: key(),
        destination: negative,
    };
    assert_eq!(
        kind(ipvs.execute_unchecked(&command)),
        Some(RefusalKind::OutOfRange)
    );
    assert_eq!(kernel.requests(), [Operation::AddDestination]);
    assert!(kernel.ruleset().services[0].destinations.is_empty());
}

#[test]
fn real_servers_are_added_read_edited_and_deleted() {
    let (kernel, ipvs) = open();
    assert_eq!(
        kind(ipvs.add_destination(&key(), &real("192.168.8.14:80"))),
        Some(RefusalKind::NoSuchService)
    );
    ipvs.add_service(&Service::new(key())).unwrap();
    let a = real("192.168.8.14:80").with_weight(3);
    let tunnelled = Destination::new("[2001:db8::7]:80".parse().unwrap())
        .with_forward(Forward::Tunnel(Tunnel::gue(6080, TunnelChecksum::Csum)));
    ipvs.add_destination(&key(), &a).unwrap();
    ipvs.add_destination(&key(), &tunnelled).unwrap();
    assert_eq!(
        kind(ipvs.add_destination(&key(), &a)),
        Some(RefusalKind::DestinationExists)
    );
    let read: Vec<Destination> = ipvs
        .destinations(&key())
        .unwrap()
        .into_iter()
        .map(|e| e.destination)
        .collect();
    assert_eq!(
        read,
        [tunnelled, a],
        "the newest first, as the kernel lists them"
    );
    let busy = DestinationState {
        active_conns: 4,
        inactive_conns: 1,
        ..DestinationState::default()
    };
    assert!(kernel.set_destination_state(&key(), &a.addr, busy));
    ipvs.edit_destination(&key(), &a.with_weight(0)).unwrap();
    let DestinationEntry {
        destination: drained,
        state,
    } = ipvs.destinations(&key()).unwrap()[1];
    assert_eq!((drained.weight, state.active_conns), (0, 4));
    ipvs.delete_destination(&key(), &a.addr).unwrap();
    assert_eq!(
        kind(ipvs.delete_destination(&key(), &a.addr)),
        Some(RefusalKind::NoSuchDestination)
    );
    assert_eq!(
        kind(ipvs.edit_destination(&key(), &a)),
        Some(RefusalKind::NoSuchDestination)
    );
    let missing = ServiceKey::tcp("10.9.9.9:80".parse().unwrap());
    match ipvs.destinations(&missing) {
        Err(e) => assert_eq!(
            e.refusal().map(|r| (r.op, r.kind())),
            Some((Operation::GetDestinations, RefusalKind::NoSuchService))
        ),
        Ok(d) => panic!("expected No such service, got {d:?}"),
    }
}

#[test]
fn zero_clears_counters_of_one_service_or_all() {
    let (kernel, ipvs) = open();
    let other = ServiceKey::udp("10.0.0.13:53".parse().unwrap());
    let dest: SocketAddr = "192.168.8.14:80".parse().unwrap();
    for k in [key(), other] {
        ipvs.add_service(&Service::new(k)).unwrap();
        ipvs.add_destination(&k, &real(&dest.to_string())).unwrap();
    }
    let stats = Stats {
        conns: 9,
        inbytes: 1 << 40,
        ..Stats::default()
    };
    for k in [key(), other] {
        assert!(kernel.set_service_state(
            &k,
            ServiceState {
                stats,
                internal_flags: 0
            }
        ));
        let d = DestinationState {
            active_conns: 2,
            stats,
            ..DestinationState::default()
        };
        assert!(kernel.set_destination_state(&k, &dest, d));
    }
    let conns = |k: &ServiceKey| ipvs.service(k).unwrap().unwrap().state.stats.conns;
    assert_eq!(
        ipvs.service(&key()).unwrap().unwrap().state.stats.inbytes,
        1 << 40,
        "64-bit counters"
    );
    ipvs.zero(Some(&key())).unwrap();
    assert_eq!((conns(&key()), conns(&other)), (0, 9));
    let d = ipvs.destinations(&key()).unwrap()[0].state;
    assert_eq!(
        (d.stats.conns, d.active_conns),
        (0, 2),
        "connections are not counters"
    );
    ipvs.zero(None).unwrap();
    assert_eq!(conns(&other), 0);
    let gone = ServiceKey::tcp("10.9.9.9:80".parse().unwrap());
    assert_eq!(
        kind(ipvs.zero(Some(&gone))),
        Some(RefusalKind::NoSuchService)
    );
    assert!(!kernel.set_service_state(&gone, ServiceState::default()));
}

#[test]
fn timeouts_keep_what_zero_leaves() {
    let (_, ipvs) = open();
    assert_eq!(ipvs.timeouts().unwrap(), Timeouts::KERNEL_DEFAULT);
    ipvs.set_timeouts(&Timeouts {
        tcp: 3600,
        tcp_fin: 0,
        udp: 0,
    })
    .unwrap();
    assert_eq!(
        ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 3600,
            tcp_fin: 120,
            udp: 300
        }
    );
}

#[test]
fn daemons_start_with_the_kernels_defaults_and_stop() {
    let (_, ipvs) = open();
    assert!(ipvs.daemons().unwrap().is_empty());
    ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Backup, "lo", 5))
        .unwrap();
    let running = ipvs.daemons().unwrap();
    assert_eq!(running.len(), 1);
    let d = &running[0];
    assert_eq!(
        (d.maxlen, d.port, d.ttl),
        (Some(65507), Some(8848), Some(1))
    );
    assert_eq!(d.group, Some("224.0.0.81".parse().unwrap()));
    assert_eq!(
        kind(ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Backup, "lo", 5))),
        Some(RefusalKind::DaemonExists)
    );
    ipvs.stop_daemon(DaemonRole::Backup).unwrap();
    assert_eq!(
        kind(ipvs.stop_daemon(DaemonRole::Backup)),
        Some(RefusalKind::NoSuchDaemon)
    );
    assert!(ipvs.daemons().unwrap().is_empty());
}

#[test]
fn the_connection_table_is_read_from_the_kernel() {
    let (kernel, ipvs) = open();
    assert!(ipvs.connections().unwrap().is_empty());
    kernel.set_conn_table(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
         TCP 0A00000C D431 0A00000D 0050 C0A8080E 0050 ESTABLISHED     897\n",
    );
    let conns = ipvs.connections().unwrap();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].destination, "192.168.8.14:80".parse().unwrap());
    kernel.set_conn_table("TCP 0A00000C D431\n");
    assert!(matches!(ipvs.connections(), Err(Error::ConnTable(_))));
}

#[test]
fn a_second_handle_sees_the_same_kernel() {
    let (kernel, ipvs) = open();
    let other = kernel.ipvs().unwrap();
    ipvs.add_service(&Service::new(key())).unwrap();
    assert_eq!(other.services().unwrap().len(), 1);
    kernel.execute(&Command::DeleteService(key())).unwrap();
    assert!(
        ipvs.services().unwrap().is_empty(),
        "changed behind the handles' backs"
    );
}

// --- The fake kernel answers with the real kernel's bytes ---------------------------------

/// The rules `examples/capture_goldens.rs` loads before capturing `tests/golden` (the same file).
const SETUP: &str = include_str!("golden/setup.rules");

fn golden(name: &str) -> Vec<GenlMessage> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    (0..)
        .map(|i| dir.join(format!("{name}.{i}.bin")))
        .take_while(|p| p.exists())
        .map(|p| GenlMessage::decode(&std::fs::read(&p).unwrap()).unwrap())
        .collect()
}

#[test]
fn replies_are_the_captured_kernel_replies() {
    let (_, ipvs) = open();
    // As capture_goldens does: the daemon first, alone (no daemon beside mixed families).
    ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Backup, "lo", 5))
        .unwrap();
    assert_eq!(
        ipvs.query_raw(&request::get_daemons()).unwrap(),
        golden("get_daemon_dump")
    );
    ipvs.stop_daemon(DaemonRole::Backup).unwrap();
    let commands: Vec<Command> = lvs_core::rules::parse(SETUP)
        .unwrap()
        .into_iter()
        .map(|r| r.command)
        .collect();
    assert!(ipvs.batch(&commands).iter().all(Result::is_ok));
    ipvs.set_timeouts(&Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    })
    .unwrap();
    let tcp = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
    assert_eq!(
        ipvs.query_raw(&request::get_info()).unwrap(),
        golden("get_info")
    );
    assert_eq!(
        ipvs.query_raw(&request::get_timeouts()).unwrap(),
        golden("get_config")
    );
    assert_eq!(
        ipvs.query_raw(&request::get_service(&tcp)).unwrap(),
        golden("get_service_one")
    );
    assert_eq!(
        ipvs.query_raw(&request::get_destinations(&tcp)).unwrap(),
        golden("get_dest_dump")
    );
    // The kernel walks its service hash, whose order depends on a per-namespace seed: the
    // same messages, in another order.
    let mut ours = ipvs.query_raw(&request::get_services()).unwrap();
    let mut theirs = golden("get_service_dump");
    ours.sort_by(|a, b| a.attrs.cmp(&b.attrs));
    theirs.sort_by(|a, b| a.attrs.cmp(&b.attrs));
    assert_eq!(ours, theirs);
}
