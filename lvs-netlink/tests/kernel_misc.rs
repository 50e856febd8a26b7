//! Namespaces, timeouts, daemons, counters, zero and flush, and the connection table.

mod support;

use lvs_core::{
    DaemonRole, Destination, Forward, Operation, RefusalKind, Service, ServiceKey, SyncDaemon,
    Timeouts,
};
use lvs_netlink::Ipvs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use support::*;

fn my_netns() -> String {
    std::fs::read_link("/proc/thread-self/ns/net")
        .expect("readlink")
        .display()
        .to_string()
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_handle_in_namespace_b_never_touches_a() {
    let before = my_netns();
    run_ok("ip", &["netns", "add", "lvs-b"], None);
    let a = ipvs();
    let b = Ipvs::in_netns("lvs-b").expect("open lvs-b");
    assert_eq!(my_netns(), before, "the calling thread did not move");
    let x = ServiceKey::tcp("10.1.0.1:80".parse().unwrap());
    let y = ServiceKey::udp("10.2.0.1:53".parse().unwrap());
    b.add_service(&Service::new(x)).expect("add in B");
    assert!(
        a.services().expect("A").is_empty(),
        "A does not see B's service"
    );
    assert_eq!(ipvsadm_save(), "", "ipvsadm in A sees nothing");
    let in_b = run_ok(
        "ip",
        &["netns", "exec", "lvs-b", "ipvsadm", "-S", "-n"],
        None,
    );
    assert_eq!(in_b, "-A -t 10.1.0.1:80 -s wlc\n");
    a.add_service(&Service::new(y)).expect("add in A");
    a.flush().expect("flush A");
    assert_eq!(
        b.services().expect("B").len(),
        1,
        "flushing A leaves B alone"
    );
    // A path works as well as a name, and reads the same table.
    let b2 = Ipvs::in_netns("/run/netns/lvs-b").expect("open by path");
    assert_eq!(b2.services().expect("B").len(), 1);
    // B's connection table is read inside B (empty, but it must be B's file).
    assert!(b.connections().expect("conns in B").is_empty());
    assert_eq!(my_netns(), before);
    drop((b, b2));
    run_ok("ip", &["netns", "del", "lvs-b"], None);
    assert!(
        Ipvs::in_netns("lvs-nonexistent").is_err(),
        "a missing namespace is an error"
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn timeouts_round_trip() {
    let ipvs = ipvs();
    assert_eq!(ipvs.timeouts().expect("get"), Timeouts::KERNEL_DEFAULT);
    let t = Timeouts {
        tcp: 1000,
        tcp_fin: 20,
        udp: 30,
    };
    ipvs.set_timeouts(&t).expect("set");
    assert_eq!(ipvs.timeouts().expect("get"), t);
    let out = run_ok("ipvsadm", &["-L", "--timeout"], None);
    assert_eq!(out, "Timeout (tcp tcpfin udp): 1000 20 30\n");
    // 0 keeps a value.
    ipvs.set_timeouts(&Timeouts {
        tcp: 0,
        tcp_fin: 0,
        udp: 45,
    })
    .expect("set");
    assert_eq!(ipvs.timeouts().expect("get"), Timeouts { udp: 45, ..t });
    run_ok("ipvsadm", &["--set", "7", "8", "9"], None);
    let snap = ipvs.snapshot().expect("snapshot");
    assert_eq!(
        snap.timeouts(),
        Timeouts {
            tcp: 7,
            tcp_fin: 8,
            udp: 9
        }
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn backup_daemon_on_lo() {
    let ipvs = ipvs();
    let d = SyncDaemon::new(DaemonRole::Backup, "lo", 5);
    ipvs.start_daemon(&d).expect("start");
    let running = ipvs.daemons().expect("daemons");
    assert_eq!(running.len(), 1, "{running:?}");
    let r = &running[0];
    assert_eq!(
        (r.role, r.interface.as_str(), r.syncid),
        (DaemonRole::Backup, "lo", 5)
    );
    // The kernel fills in its defaults.
    assert_eq!(r.group, Some("224.0.0.81".parse().unwrap()));
    assert_eq!(r.port, Some(8848));
    assert_eq!(r.ttl, Some(1));
    assert!(r.maxlen.is_some());
    let out = run_ok("ipvsadm", &["-L", "--daemon"], None);
    assert!(
        out.contains("backup sync daemon (mcast=lo, syncid=5"),
        "{out}"
    );
    let e = ipvs.start_daemon(&d).expect_err("twice");
    assert_eq!(
        e.refusal().map(|r| (r.op, r.kind())),
        Some((Operation::StartDaemon, RefusalKind::DaemonExists)),
        "{e}"
    );
    assert_eq!(
        ipvs.snapshot().expect("snapshot").daemons(),
        running.as_slice()
    );
    ipvs.stop_daemon(DaemonRole::Backup).expect("stop");
    assert!(ipvs.daemons().expect("daemons").is_empty());
    // With options, read back as given.
    let full = SyncDaemon {
        maxlen: Some(1000),
        group: Some("239.1.2.3".parse().unwrap()),
        port: Some(9000),
        ttl: Some(3),
        ..SyncDaemon::new(DaemonRole::Master, "lo", 9)
    };
    ipvs.start_daemon(&full).expect("start master");
    assert_eq!(ipvs.daemons().expect("daemons"), vec![full]);
    ipvs.stop_daemon(DaemonRole::Master).expect("stop master");
}

/// Runs `f` on a thread inside the named network namespace.
fn in_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> T {
    use std::os::fd::AsRawFd;
    let ns = std::fs::File::open(format!("/run/netns/{name}")).expect("open netns");
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: a namespace fd kept open for this scope.
            assert_eq!(
                unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
                0
            );
            f()
        })
        .join()
        .expect("netns thread")
    })
}

/// A service on the director's own address (the test's namespace), a client in another
/// namespace over a veth pair, the server in the test: counters move, the connection table
/// shows the connections, zero and flush clear them.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn counters_move_with_traffic_then_zero_and_flush() {
    run_ok("ip", &["netns", "add", "lvs-client"], None);
    run_ok(
        "ip",
        &[
            "link",
            "add",
            "veth-d",
            "type",
            "veth",
            "peer",
            "name",
            "veth-c",
            "netns",
            "lvs-client",
        ],
        None,
    );
    run_ok(
        "ip",
        &["addr", "add", "10.99.0.1/24", "dev", "veth-d"],
        None,
    );
    run_ok("ip", &["link", "set", "veth-d", "up"], None);
    for args in [
        &["addr", "add", "10.99.0.2/24", "dev", "veth-c"][..],
        &["link", "set", "veth-c", "up"],
        &["link", "set", "lo", "up"],
    ] {
        let mut full = vec!["-n", "lvs-client"];
        full.extend_from_slice(args);
        run_ok("ip", &full, None);
    }
    let ipvs = ipvs();
    let vip = "10.99.0.1:8080";
    let key = ServiceKey::tcp(vip.parse().unwrap());
    ipvs.add_service(&Service::new(key).with_scheduler("rr"))
        .expect("add service");
    ipvs.add_destination(
        &key,
        &Destination::new(vip.parse().unwrap()).with_forward(Forward::Masquerade),
    )
    .expect("add dest");
    let listener = TcpListener::bind(vip).expect("listen");
    let server = std::thread::spawn(move || {
        for _ in 0..3 {
            let (mut s, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).expect("read");
            s.write_all(b"world").expect("write");
        }
    });
    in_netns("lvs-client", || {
        for _ in 0..3 {
            let mut c = TcpStream::connect_timeout(&vip.parse().unwrap(), Duration::from_secs(20))
                .expect("connect through IPVS");
            c.write_all(b"hello").expect("write");
            let mut buf = [0u8; 5];
            c.read_exact(&mut buf).expect("read");
            assert_eq!(&buf, b"world");
        }
    });
    server.join().expect("server");
    // The kernel publishes counters when its rate estimator runs (every 2 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let snap = loop {
        let snap = ipvs.snapshot().expect("snapshot");
        if snap.service_state[&key].stats.conns >= 3 || std::time::Instant::now() > deadline {
            break snap;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let s = snap.service_state[&key].stats;
    assert!(s.conns >= 3 && s.inpkts > 0 && s.inbytes > 0, "{s:?}");
    let d = snap.destination_state[&(key, vip.parse().unwrap())];
    assert!(d.stats.conns >= 3, "{d:?}");
    // The kernel forwards to a local real server itself, but reports the configured method.
    let dest = &snap.ruleset.services[0].destinations[0];
    assert_eq!(dest.forward, Forward::Masquerade);
    let conns = ipvs.connections().expect("connections");
    assert!(
        conns
            .iter()
            .filter(|c| c.virtual_addr == vip.parse().unwrap())
            .count()
            >= 3,
        "{conns:?}"
    );
    ipvs.zero(Some(&key)).expect("zero one");
    let snap = ipvs.snapshot().expect("snapshot");
    assert_eq!(snap.service_state[&key].stats.conns, 0);
    assert_eq!(
        snap.destination_state[&(key, vip.parse().unwrap())]
            .stats
            .conns,
        0
    );
    ipvs.zero(None).expect("zero all");
    ipvs.flush().expect("flush");
    assert!(ipvs.services().expect("services").is_empty());
    assert_eq!(ipvsadm_save(), "");
    run_ok("ip", &["netns", "del", "lvs-client"], None);
}
