//! [`Ipvs::batch`] and [`Ipvs::snapshot`] against the fake kernel, on the host: pipelining,
//! answers matched to their own commands, lost and late answers.

use lvs_core::{
    Command, DaemonRole, Destination, DestinationState, Operation, RefusalKind, Ruleset, Service,
    ServiceKey, SyncDaemon, Timeouts, errno,
};
use lvs_netlink::fake::{FakeKernel, Fault, Target};
use lvs_netlink::{Error, Ipvs, Transport};
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn vip(i: usize) -> ServiceKey {
    ServiceKey::tcp(format!("10.{}.{}.1:80", i / 250, i % 250).parse().unwrap())
}

fn add_service(i: usize) -> Command {
    Command::AddService(Service::new(vip(i)))
}

fn add_real(i: usize, host: u8) -> Command {
    Command::AddDestination {
        service: vip(i),
        destination: Destination::new(format!("192.168.1.{host}:80").parse().unwrap()),
    }
}

/// A transport that counts the datagrams sent through it and its resets.
struct Counting<T> {
    inner: T,
    sent: Arc<AtomicUsize>,
    resets: Arc<AtomicUsize>,
}

impl<T: Transport> Transport for Counting<T> {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.inner.send(datagram)
    }
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<&[u8]>> {
        self.inner.recv(timeout)
    }
    fn reset(&mut self) -> io::Result<()> {
        self.resets.fetch_add(1, Ordering::Relaxed);
        self.inner.reset()
    }
}

fn errnos(results: &[Result<(), Error>]) -> Vec<Option<i32>> {
    results
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.errno().unwrap_or(-1)))
        .collect()
}

#[test]
fn refusals_come_back_to_their_own_commands() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    ipvs.add_service(&Service::new(vip(1))).unwrap();
    let invalid = Command::AddDestination {
        service: vip(0),
        destination: Destination::new("192.168.1.9:80".parse().unwrap()).with_weight(-1),
    };
    let commands = [
        add_service(0),
        add_real(0, 1),
        add_service(1), // exists: EEXIST
        invalid,        // lvs refuses it: never sent
        add_real(2, 1), // no such service: ESRCH
        add_real(0, 2),
        add_real(0, 1), // exists: EEXIST
    ];
    kernel.clear_requests();
    let results = ipvs.batch(&commands);
    // -1: an error of lvs's own, with no errno.
    let (exists, no_service) = (Some(errno::EEXIST), Some(errno::ESRCH));
    assert_eq!(
        errnos(&results),
        [None, None, exists, Some(-1), no_service, None, exists]
    );
    assert!(matches!(results[3], Err(Error::Invalid(_))));
    assert_eq!(
        results[2].as_ref().unwrap_err().refusal().unwrap().kind(),
        RefusalKind::ServiceExists
    );
    assert_eq!(
        kernel.requests().len(),
        6,
        "the invalid command was not sent"
    );
    let table = kernel.ruleset();
    assert_eq!(table.service(&vip(0)).unwrap().destinations.len(), 2);
}

#[test]
fn a_refusal_aimed_at_one_command_hits_only_it() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let commands: Vec<Command> = (0..50)
        .flat_map(|i| [add_service(i), add_real(i, 1)])
        .collect();
    kernel.inject(add_real(31, 1), Fault::Refuse(errno::ENOMEM));
    let results = ipvs.batch(&commands);
    let failed: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].is_err())
        .collect();
    assert_eq!(failed, [63]);
    assert_eq!(
        results[63].as_ref().unwrap_err().errno(),
        Some(errno::ENOMEM)
    );
    assert_eq!(kernel.ruleset().object_count(), 99);
}

#[test]
fn a_large_batch_goes_in_few_datagrams() {
    let kernel = FakeKernel::new();
    let sent = Arc::new(AtomicUsize::new(0));
    let counting = Counting {
        inner: kernel.transport(),
        sent: Arc::clone(&sent),
        resets: Arc::new(AtomicUsize::new(0)),
    };
    let ipvs = Ipvs::with_transport(counting).unwrap();
    assert_eq!(sent.load(Ordering::Relaxed), 1, "the family lookup");
    let commands: Vec<Command> = (0..5000)
        .flat_map(|i| [add_service(i), add_real(i, 1)])
        .collect();
    let results = ipvs.batch(&commands);
    assert!(results.iter().all(Result::is_ok));
    // 10,000 requests, at most 4,096 per datagram.
    assert_eq!(sent.load(Ordering::Relaxed), 1 + 3);
    assert_eq!(kernel.ruleset().object_count(), 10_000);
}

#[test]
fn a_lost_ack_leaves_the_outcome_unknown_and_the_next_batch_right() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    ipvs.add_service(&Service::new(vip(1))).unwrap();
    // The last command's ack is lost with an overflowing receive buffer (ENOBUFS).
    kernel.inject_once(add_real(1, 1), Fault::Overrun);
    let results = ipvs.batch(&[add_service(0), add_service(1), add_real(1, 1)]);
    assert!(
        matches!(&results[0], Err(e @ Error::Lost { op: Operation::AddService, .. }) if e.outcome_unknown())
    );
    assert_eq!(
        results[1].as_ref().unwrap_err().errno(),
        Some(errno::EEXIST),
        "answered before the loss"
    );
    assert_eq!(
        results[2].as_ref().unwrap_err().errno(),
        Some(libc::ENOBUFS)
    );
    // The kernel did carry them out; the next batch is answered correctly.
    assert_eq!(kernel.ruleset().object_count(), 3);
    let again = ipvs.batch(&[add_service(0), add_service(2)]);
    assert_eq!(errnos(&again), [Some(errno::EEXIST), None]);
}

#[test]
fn a_dropped_ack_times_out_and_a_late_one_is_never_matched() {
    let kernel = FakeKernel::new();
    let (sent, resets) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counting = Counting {
        inner: kernel.transport(),
        sent: Arc::clone(&sent),
        resets: Arc::clone(&resets),
    };
    let ipvs = Ipvs::with_transport(counting).unwrap();
    ipvs.set_reply_timeout(Duration::from_millis(20));
    kernel.inject_once(add_service(1), Fault::Drop);
    let results = ipvs.batch(&[add_service(0), add_service(1)]);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(e @ Error::Timeout { .. }) if e.outcome_unknown())),
        "{results:?}"
    );
    assert_eq!(
        resets.load(Ordering::Relaxed),
        1,
        "the connection was replaced"
    );
    // The last ack comes late: the refusal before it still reaches its command.
    kernel.inject_once(add_service(3), Fault::Delay);
    let results = ipvs.batch(&[add_service(0), add_service(3)]);
    assert_eq!(
        results[0].as_ref().unwrap_err().errno(),
        Some(errno::EEXIST)
    );
    assert!(matches!(
        results[1],
        Err(Error::Timeout {
            op: Operation::AddService,
            ..
        })
    ));
    assert_eq!(resets.load(Ordering::Relaxed), 2);
    // The late ack is gone with the old connection; the next batch gets its own answers.
    let results = ipvs.batch(&[add_service(4), add_service(0)]);
    assert_eq!(errnos(&results), [None, Some(errno::EEXIST)]);
    assert_eq!(kernel.ruleset().services.len(), 4, "0, 1, 3 and 4");
    assert_eq!(sent.load(Ordering::Relaxed), 4);
}

#[test]
fn a_snapshot_reads_everything_with_its_state() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let wanted = Ruleset::from_rules(
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m\n\
         -a -t 10.0.0.1:80 -r 192.168.1.2:80 -m -w 2\n-A -f 7 -s wlc -p 60\n",
    )
    .unwrap();
    let commands: Vec<Command> = lvs_core::rules::parse(&wanted.to_rules())
        .unwrap()
        .into_iter()
        .map(|r| r.command)
        .collect();
    assert!(ipvs.batch(&commands).iter().all(Result::is_ok));
    ipvs.set_timeouts(&Timeouts {
        tcp: 60,
        tcp_fin: 0,
        udp: 0,
    })
    .unwrap();
    ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Master, "eth0", 3))
        .unwrap();
    let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
    let busy = DestinationState {
        active_conns: 7,
        ..DestinationState::default()
    };
    assert!(kernel.set_destination_state(&key, &"192.168.1.2:80".parse().unwrap(), busy));
    let snap = ipvs.snapshot().unwrap();
    assert_eq!(snap.services(), wanted);
    assert_eq!(
        snap.timeouts(),
        Timeouts {
            tcp: 60,
            tcp_fin: 120,
            udp: 300
        }
    );
    assert_eq!(snap.daemons()[0].maxlen, Some(1472), "eth0: an MTU of 1500");
    assert_eq!(
        snap.destination_state[&(key, "192.168.1.2:80".parse().unwrap())].active_conns,
        7
    );
    assert_eq!(snap.service_state.len(), 2);
    assert_eq!(snap.object_count(), 4);
    // The entries are what the reads of each service and its real servers give.
    let entries = snap.entries();
    assert_eq!(entries.len(), 2);
    for vs in &entries {
        let key = vs.service.key;
        let read = ipvs.service(&key).unwrap().unwrap();
        assert_eq!((&vs.service, vs.state), (&read.service, read.state));
        assert_eq!(vs.destinations, ipvs.destinations(&key).unwrap(), "{key}");
    }
    let real = &entries
        .iter()
        .find(|vs| vs.service.key == key)
        .unwrap()
        .destinations;
    assert_eq!(real.len(), 2);
    assert!(
        real.iter()
            .any(|d| d.state == busy && d.destination.weight == 2)
    );
}

#[test]
fn a_snapshot_fails_whole_when_a_dump_fails() {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let commands: Vec<Command> = (0..40)
        .flat_map(|i| [add_service(i), add_real(i, 1)])
        .collect();
    assert!(ipvs.batch(&commands).iter().all(Result::is_ok));
    // 40 services take several dump datagrams; the dump ends early, with an error.
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate {
            after: 12,
            errno: libc::EINTR,
        },
    );
    match ipvs.snapshot() {
        Err(e) => assert_eq!(
            e.refusal().map(|r| (r.op, r.errno)),
            Some((Operation::GetServices, libc::EINTR))
        ),
        Ok(s) => panic!(
            "a snapshot of {} objects from a failed dump",
            s.object_count()
        ),
    }
    // A silently short dump is short: what the kernel sent is all a client can know.
    kernel.inject_once(
        Operation::GetServices,
        Fault::Truncate {
            after: 12,
            errno: 0,
        },
    );
    assert_eq!(ipvs.services().unwrap().len(), 12);
    assert_eq!(ipvs.snapshot().unwrap().object_count(), 80);
    // A real-server dump that is never answered: a timeout, not a hang, and no snapshot.
    ipvs.set_reply_timeout(Duration::from_millis(20));
    kernel.inject_once(Target::Operation(Operation::GetDestinations), Fault::Drop);
    assert!(matches!(
        ipvs.snapshot(),
        Err(Error::Timeout {
            op: Operation::GetDestinations,
            ..
        })
    ));
    assert_eq!(ipvs.snapshot().unwrap().object_count(), 80);
}
