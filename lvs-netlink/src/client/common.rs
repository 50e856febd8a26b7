//! What both clients ([`crate::Ipvs`] and, with the `tokio` feature, `AsyncIpvs`) keep besides
//! their links, and everything they do that is not moving bytes: the checks before a change,
//! decoding the kernel's answers, a batch's bookkeeping, a snapshot's assembly. A client's
//! method is then a request sent through its link, with these on either side.

use crate::Error;
use crate::Snapshot;
use crate::features::{self, Features, Observed};
use crate::wire::request::{self, Request};
use crate::wire::{attrs_of, cmd_attr, command_nest, config, daemon, dest, service};
use lvs_core::{
    Command, DestinationEntry, Info, Operation, Refusal, Ruleset, ServiceEntry, ServiceKey,
    SyncDaemon, Timeouts, Version, VirtualService, errno,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a handle waits for each answer of the kernel unless told otherwise
/// ([`crate::Ipvs::set_reply_timeout`]). The kernel answers at once (it handles a request
/// inside the system call that sends it); silence this long means the answer is lost.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle's state besides its links.
pub(crate) struct Common {
    reply_timeout_ns: AtomicU64,
    observed: Mutex<Observed>,
    release: String,
}

/// A lock that a panic elsewhere did not spoil: replies are matched by sequence number and an
/// interrupted exchange resets its transport, so the state behind it stays usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Common {
    pub(crate) fn new() -> Common {
        Common {
            reply_timeout_ns: AtomicU64::new(nanos(DEFAULT_REPLY_TIMEOUT)),
            observed: Mutex::new(Observed::default()),
            release: features::kernel_release(),
        }
    }

    pub(crate) fn release(&self) -> &str {
        &self.release
    }

    pub(crate) fn reply_timeout(&self) -> Duration {
        Duration::from_nanos(self.reply_timeout_ns.load(Ordering::Relaxed))
    }

    pub(crate) fn set_reply_timeout(&self, timeout: Duration) {
        self.reply_timeout_ns
            .store(nanos(timeout), Ordering::Relaxed);
    }

    fn observe(&self, f: impl FnOnce(&mut Observed)) {
        f(&mut lock(&self.observed));
    }

    pub(crate) fn feature_flags(&self, version: Version) -> Features {
        let seen = *lock(&self.observed);
        Features::from_parts(version, self.release.clone(), seen)
    }

    pub(crate) fn decode_service(&self, payload: &[u8]) -> Result<ServiceEntry, Error> {
        let r = service::decode(command_nest(attrs_of(payload)?, cmd_attr::SERVICE)?)?;
        self.observe(|o| o.stats64 = Some(r.has_stats64));
        Ok(ServiceEntry {
            service: r.service,
            state: r.state,
        })
    }

    pub(crate) fn decode_destination(
        &self,
        payload: &[u8],
        key: &ServiceKey,
    ) -> Result<DestinationEntry, Error> {
        let nest = command_nest(attrs_of(payload)?, cmd_attr::DEST)?;
        let r = dest::decode(nest, key.family())?;
        self.observe(|o| {
            o.addr_family = Some(r.has_addr_family);
            o.stats64 = Some(r.has_stats64);
            o.tunnel_type = Some(r.has_tun_type);
            o.tunnel_flags = Some(r.has_tun_flags);
        });
        Ok(DestinationEntry {
            destination: r.destination,
            state: r.state,
        })
    }

    /// The checks a change is made after ([`crate::Ipvs::execute`]), and the request to send.
    pub(crate) fn check(&self, command: &Command) -> Result<Request, Error> {
        match command {
            Command::AddService(s) | Command::EditService(s) => s.validate()?,
            Command::AddDestination {
                service,
                destination,
            }
            | Command::EditDestination {
                service,
                destination,
            } => {
                destination.validate(service)?;
                if features::needs_gate(service, destination) {
                    self.feature_flags(Version(0))
                        .check_destination(service, destination)?;
                }
            }
            Command::StartDaemon(d) => d.validate()?,
            _ => {}
        }
        request::command(command).ok_or_else(|| unknown_command(command))
    }

    /// A batch's requests (`None` for a command its checks refused) and its results so far
    /// (the refusals).
    pub(crate) fn prepare_batch(&self, commands: &[Command]) -> Batch {
        let mut batch = Batch {
            requests: Vec::with_capacity(commands.len()),
            results: Vec::with_capacity(commands.len()),
        };
        for c in commands {
            match self.check(c) {
                Ok(r) => {
                    batch.requests.push(Some(r));
                    batch.results.push(None);
                }
                Err(e) => {
                    batch.requests.push(None);
                    batch.results.push(Some(Err(e)));
                }
            }
        }
        batch
    }
}

/// A batch on its way: what to send, and each command's result once known.
pub(crate) struct Batch {
    pub(crate) requests: Vec<Option<Request>>,
    pub(crate) results: Vec<Option<Result<(), Error>>>,
}

impl Batch {
    /// One result per command: a command left without one is [`Error::MissingReply`].
    pub(crate) fn finish(self, commands: &[Command]) -> Vec<Result<(), Error>> {
        self.results
            .into_iter()
            .zip(commands)
            .map(|(r, c)| r.unwrap_or(Err(Error::MissingReply { op: c.operation() })))
            .collect()
    }
}

pub(crate) fn unknown_command(command: &Command) -> Error {
    Error::NotSupported {
        what: format!("{} (this lvs-netlink cannot send it)", command.operation()),
    }
}

/// Whether some `--stop-daemon` went unanswered: the kernel does not answer a stop when the
/// daemon's thread has not run yet (started a moment before, on a busy machine): its
/// `kthread_stop` gives `-EINTR`, which netlink takes for "no answer", though the daemon is
/// gone (seen in the VM; without a deadline the caller would wait forever). One read of the
/// daemons settles every such stop ([`settle_stops`]).
pub(crate) fn unanswered_stops(commands: &[Command], answers: &[Result<(), Error>]) -> bool {
    commands.iter().zip(answers).any(|(c, a)| unanswered(c, a))
}

fn unanswered(c: &Command, a: &Result<(), Error>) -> bool {
    matches!((c, a), (Command::StopDaemon(_), Err(Error::Timeout { .. })))
}

/// Replaces the timeouts of `--stop-daemon` commands whose daemon is not `running` by success.
pub(crate) fn settle_stops(
    commands: &[Command],
    answers: &mut [Result<(), Error>],
    running: &[SyncDaemon],
) {
    for (c, a) in commands.iter().zip(answers.iter_mut()) {
        if let Command::StopDaemon(role) = c {
            if unanswered(c, a) && running.iter().all(|d| d.role != *role) {
                *a = Ok(());
            }
        }
    }
}

pub(crate) fn decode_info(payload: &[u8]) -> Result<Info, Error> {
    Ok(config::decode_info(attrs_of(payload)?)?)
}

pub(crate) fn decode_timeouts(payload: &[u8]) -> Result<Timeouts, Error> {
    Ok(config::decode_timeouts(attrs_of(payload)?)?)
}

pub(crate) fn decode_daemon(payload: &[u8]) -> Result<SyncDaemon, Error> {
    let nest = command_nest(attrs_of(payload)?, cmd_attr::DAEMON)?;
    Ok(daemon::decode(nest)?)
}

/// The one answer a `GET_*` of `op` must bring.
pub(crate) fn one<T>(found: Option<T>, op: Operation) -> Result<T, Error> {
    found.ok_or(Error::MissingReply { op })
}

/// `GET_SERVICE`'s outcome: "no such service" is `None`.
pub(crate) fn found_service<T>(
    asked: Result<(), Error>,
    found: Option<T>,
) -> Result<Option<T>, Error> {
    match asked {
        Ok(()) => one(found, Operation::GetService).map(Some),
        Err(Error::Kernel(r)) if r.errno == errno::ESRCH => Ok(None),
        Err(e) => Err(e),
    }
}

/// The error for the real servers of a service that is not there: the kernel answers a dump
/// for a missing service with an empty list, so the caller looks the service up.
pub(crate) fn no_such_service() -> Error {
    Error::Kernel(Refusal::new(Operation::GetDestinations, errno::ESRCH))
}

/// A snapshot from its reads: the services, each one's real servers in the same order, the
/// timeouts and the daemons.
pub(crate) fn assemble_snapshot(
    services: Vec<ServiceEntry>,
    dests: Vec<Vec<DestinationEntry>>,
    timeouts: Timeouts,
    daemons: Vec<SyncDaemon>,
) -> Snapshot {
    let mut dests = dests.into_iter();
    let mut snap = Snapshot {
        ruleset: Ruleset::new(),
        service_state: HashMap::with_capacity(services.len()),
        destination_state: HashMap::new(),
    };
    for ServiceEntry { service, state } in services {
        let key = service.key;
        let mut vs = VirtualService::new(service);
        for d in dests.next().unwrap_or_default() {
            snap.destination_state
                .insert((key, d.destination.addr), d.state);
            vs.destinations.push(d.destination);
        }
        snap.service_state.insert(key, state);
        snap.ruleset.services.push(vs);
    }
    snap.ruleset.timeouts = Some(timeouts);
    snap.ruleset.daemons = daemons;
    snap
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
