//! Deadlines, on the host: a kernel that stops answering gives a typed timeout, never a
//! blocked thread; the connection is replaced; a long dump that keeps coming is not cut short.
//!
//! The transports here wait for real (as a socket does), so these tests sleep through their
//! short deadlines; they check what happens, not how fast.

use lvs_core::{Command, Operation, Service, ServiceKey};
use lvs_netlink::fake::{FakeKernel, FakeTransport};
use lvs_netlink::{Error, Ipvs, Transport};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// The fake kernel behind a connection that can go silent: once `silent` is set, nothing more
/// arrives, and `recv` waits out its timeout, as a socket's would. `pace` delays each
/// datagram (without passing the deadline), as a slow kernel would.
struct Flaky {
    inner: FakeTransport,
    silent: Arc<AtomicBool>,
    pace: Duration,
    resets: Arc<AtomicUsize>,
}

impl Transport for Flaky {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        self.inner.send(datagram)
    }

    fn recv(&mut self, timeout: Duration) -> io::Result<Option<&[u8]>> {
        let wait = if self.silent.load(Ordering::Relaxed) {
            Duration::MAX
        } else {
            self.pace
        };
        if wait > timeout {
            std::thread::sleep(timeout);
            return Ok(None);
        }
        std::thread::sleep(wait);
        self.inner.recv(timeout)
    }

    fn reset(&mut self) -> io::Result<()> {
        self.resets.fetch_add(1, Ordering::Relaxed);
        self.inner.reset()
    }
}

struct Rig {
    kernel: FakeKernel,
    ipvs: Ipvs,
    silent: Arc<AtomicBool>,
    resets: Arc<AtomicUsize>,
}

fn rig(pace: Duration) -> Rig {
    let kernel = FakeKernel::new();
    let silent = Arc::new(AtomicBool::new(false));
    let resets = Arc::new(AtomicUsize::new(0));
    let flaky = Flaky {
        inner: kernel.transport(),
        silent: Arc::clone(&silent),
        pace,
        resets: Arc::clone(&resets),
    };
    let ipvs = Ipvs::with_transport(flaky).expect("a handle");
    Rig {
        kernel,
        ipvs,
        silent,
        resets,
    }
}

fn key(i: usize) -> ServiceKey {
    ServiceKey::tcp(
        format!("10.0.{}.{}:80", i / 250, i % 250 + 1)
            .parse()
            .unwrap(),
    )
}

fn timed_out(r: Result<impl std::fmt::Debug, Error>, want: Operation, after: Duration) {
    match r {
        Err(Error::Timeout { op, after: waited }) => assert_eq!((op, waited), (want, after)),
        other => panic!("expected a timeout of {want}, got {other:?}"),
    }
}

#[test]
fn every_call_to_a_silent_kernel_times_out() {
    let r = rig(Duration::ZERO);
    let t = Duration::from_millis(30);
    r.ipvs.set_reply_timeout(t);
    r.ipvs.add_service(&Service::new(key(0))).unwrap();
    r.silent.store(true, Ordering::Relaxed);
    let start = Instant::now();
    timed_out(r.ipvs.info(), Operation::GetInfo, t);
    assert!(start.elapsed() >= t, "it waited for the deadline");
    timed_out(r.ipvs.services(), Operation::GetServices, t);
    timed_out(r.ipvs.service(&key(0)), Operation::GetService, t);
    timed_out(r.ipvs.destinations(&key(0)), Operation::GetDestinations, t);
    timed_out(r.ipvs.timeouts(), Operation::GetTimeouts, t);
    timed_out(r.ipvs.daemons(), Operation::GetDaemons, t);
    timed_out(r.ipvs.snapshot(), Operation::GetServices, t);
    timed_out(
        r.ipvs.add_service(&Service::new(key(1))),
        Operation::AddService,
        t,
    );
    timed_out(r.ipvs.flush(), Operation::Flush, t);
    let results = r.ipvs.batch(&[
        Command::AddService(Service::new(key(2))),
        Command::DeleteService(key(0)),
    ]);
    timed_out(
        results.into_iter().next().unwrap(),
        Operation::AddService,
        t,
    );
    // Every exchange that timed out replaced the connection.
    assert_eq!(r.resets.load(Ordering::Relaxed), 10);
    // The kernel answers again: so does the handle, with the kernel's current table.
    r.silent.store(false, Ordering::Relaxed);
    let now: Vec<ServiceKey> = r
        .ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|e| e.service.key)
        .collect();
    assert_eq!(
        now,
        r.kernel
            .ruleset()
            .services
            .iter()
            .map(|vs| vs.service.key)
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_blocked_call_returns_on_another_thread_too() {
    // What a controller sees: its thread comes back with an error, whatever the kernel does.
    let r = rig(Duration::ZERO);
    r.ipvs.set_reply_timeout(Duration::from_millis(30));
    r.silent.store(true, Ordering::Relaxed);
    let ipvs = Arc::new(r.ipvs);
    let (tx, rx) = mpsc::channel();
    let worker = Arc::clone(&ipvs);
    std::thread::spawn(move || {
        let _ = tx.send(worker.services().map(|s| s.len()));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Err(Error::Timeout { .. })) => {}
        other => panic!("expected the thread to come back with a timeout, got {other:?}"),
    }
}

#[test]
fn the_family_lookup_has_a_deadline_too() {
    let silent = Flaky {
        inner: FakeKernel::new().transport(),
        silent: Arc::new(AtomicBool::new(true)),
        pace: Duration::ZERO,
        resets: Arc::new(AtomicUsize::new(0)),
    };
    // The lookup uses the default timeout (5 s): that is how long this test waits.
    let start = Instant::now();
    timed_out(
        Ipvs::with_transport(silent),
        Operation::GetFamily,
        lvs_netlink::DEFAULT_REPLY_TIMEOUT,
    );
    assert!(start.elapsed() >= lvs_netlink::DEFAULT_REPLY_TIMEOUT);
}

#[test]
fn a_long_dump_that_keeps_coming_is_not_cut_short() {
    // Each datagram takes 150 ms, the whole dump over 1 s; the timeout is 500 ms.
    let r = rig(Duration::from_millis(150));
    let commands: Vec<Command> = (0..60)
        .map(|i| Command::AddService(Service::new(key(i))))
        .collect();
    assert!(r.ipvs.batch(&commands).iter().all(Result::is_ok));
    r.ipvs.set_reply_timeout(Duration::from_millis(500));
    let start = Instant::now();
    let services = r.ipvs.services().unwrap();
    assert_eq!(services.len(), 60);
    assert!(
        start.elapsed() > Duration::from_millis(500),
        "the dump took several datagrams, longer than one timeout in all"
    );
    assert_eq!(r.resets.load(Ordering::Relaxed), 0);
}

#[test]
fn a_stop_the_kernel_carries_out_without_answering_is_confirmed_by_a_read() {
    // The kernel stops a sync daemon whose thread has not run yet without answering (its
    // kthread_stop gives -EINTR, which netlink takes for "no ack"); seen in the VM.
    use lvs_core::{DaemonRole, SyncDaemon};
    use lvs_netlink::fake::Fault;
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    ipvs.set_reply_timeout(Duration::from_millis(20));
    ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Master, "lo", 9))
        .unwrap();
    kernel.inject_once(Operation::StopDaemon, Fault::Drop);
    ipvs.stop_daemon(DaemonRole::Master)
        .expect("stopped, as a read shows");
    assert!(kernel.ruleset().daemons.is_empty());
    // In a batch too: the last stop (the one asked to ack) goes unanswered.
    ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Backup, "lo", 9))
        .unwrap();
    let backup = Command::StopDaemon(DaemonRole::Backup);
    kernel.inject_once(backup.clone(), Fault::Drop);
    let results = ipvs.batch(&[Command::StopDaemon(DaemonRole::Master), backup]);
    assert!(results[1].is_ok(), "{results:?}");
    let refused = results[0].as_ref().unwrap_err().refusal().map(|r| r.kind());
    assert_eq!(refused, Some(lvs_core::RefusalKind::NoSuchDaemon));
    // When the read cannot tell either, the timeout stands.
    ipvs.start_daemon(&SyncDaemon::new(DaemonRole::Master, "lo", 9))
        .unwrap();
    kernel.inject(lvs_netlink::fake::Target::Any, Fault::Drop);
    timed_out(
        ipvs.stop_daemon(DaemonRole::Master),
        Operation::StopDaemon,
        Duration::from_millis(20),
    );
}
