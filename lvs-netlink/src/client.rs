//! [`Ipvs`]: a handle on one network namespace's IPVS table.

use crate::Error;
use crate::features::{self, Features, Observed};
use crate::snapshot::Snapshot;
use crate::socket::{Transport, open_socket};
use crate::wire::netlink::{self, Reply};
use crate::wire::request::{self, Request};
use crate::wire::{GenlMessage, cmd_attr, command_nest, config, daemon, dest, service};
use lvs_core::conn::Connection;
use lvs_core::{
    Command, DaemonRole, Destination, DestinationState, Forward, Info, Refusal, Ruleset, Service,
    ServiceKey, ServiceState, SyncDaemon, Timeouts, TunnelChecksum, TunnelType, Version,
    VirtualService, errno,
};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// A handle on the IPVS table of one network namespace, over generic netlink.
///
/// It owns one netlink socket; calls are serialised on it, so a handle may be shared between
/// threads. Every operation needs CAP_NET_ADMIN, reads included.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, Forward, Service, ServiceKey};
/// use lvs_netlink::Ipvs;
///
/// let ipvs = Ipvs::new()?;
/// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
/// ipvs.add_service(&Service::new(key).with_scheduler("rr"))?;
/// let real = Destination::new("192.168.8.14:80".parse()?);
/// ipvs.add_destination(&key, &real.with_forward(Forward::Masquerade))?;
/// for (service, state) in ipvs.services()? {
///     println!("{} {} conns={}", service.key, service.scheduler, state.stats.conns);
/// }
/// # Ok(())
/// # }
/// ```
pub struct Ipvs {
    transport: Mutex<Transport>,
    /// A second socket for `GET_DEST` dumps, opened on first use: its receive buffer is one
    /// page, so the kernel builds small dump datagrams (see [`Transport::for_small_dumps`]).
    dumps: Mutex<Option<Transport>>,
    /// The handle's network namespace, for `/proc/net/ip_vs_conn`.
    netns: Option<File>,
    observed: Mutex<Observed>,
    release: String,
}

impl std::fmt::Debug for Ipvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ipvs")
            .field("kernel_release", &self.release)
            .finish_non_exhaustive()
    }
}

/// Opens a socket and resolves the family, loading `ip_vs` once if the family is missing.
fn connect() -> Result<Transport, Error> {
    let sock = open_socket()?;
    let sock = match Transport::resolve(sock)? {
        Ok(t) => return Ok(t),
        Err(sock) => sock,
    };
    // As ipvsadm does: the module may just not be loaded yet.
    let modprobe = std::process::Command::new("modprobe")
        .args(["--", "ip_vs"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match Transport::resolve(sock)? {
        Ok(t) => Ok(t),
        Err(_) => Err(Error::NotAvailable {
            reason: match modprobe {
                Ok(status) if status.success() => {
                    "the kernel has no \"IPVS\" generic-netlink family".to_owned()
                }
                Ok(_) => "the kernel has no \"IPVS\" generic-netlink family and `modprobe ip_vs` \
                          failed: this kernel is built without IPVS (CONFIG_IP_VS)"
                    .to_owned(),
                Err(e) => format!(
                    "the kernel has no \"IPVS\" generic-netlink family and `modprobe ip_vs` \
                     could not run ({e}); load the ip_vs module"
                ),
            },
        }),
    }
}

/// `/run/netns/NAME` for a bare name, the path itself otherwise.
fn netns_path(ns: &Path) -> PathBuf {
    if ns.components().count() == 1 && !ns.has_root() {
        Path::new("/run/netns").join(ns)
    } else {
        ns.to_path_buf()
    }
}

/// Whether `ns` is the calling thread's network namespace (then sockets can be opened here,
/// without a thread to carry them there).
fn is_current_namespace(ns: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (ns.metadata(), std::fs::metadata("/proc/thread-self/ns/net")) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Runs `f` on a short-lived thread that has joined the network namespace `ns`, so the
/// calling thread never moves. Sockets and files opened there keep that namespace.
fn in_namespace<T: Send>(
    ns: &File,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    let fd = ns.as_raw_fd();
    std::thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: fd is a namespace file kept open by the caller for this scope.
            if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                return Err(Error::Io(io::Error::last_os_error()));
            }
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(Error::Protocol("namespace thread panicked".into())))
    })
}

/// The most requests lvs keeps in flight per datagram in [`Ipvs::batch`].
const MAX_BATCH_CHUNK: usize = 4096;

impl Ipvs {
    /// Opens the IPVS table of the calling thread's network namespace.
    ///
    /// If the kernel has no "IPVS" family yet, runs `modprobe -- ip_vs` (as ipvsadm does) and
    /// tries again; [`Error::NotAvailable`] says when IPVS is not in this kernel.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// println!("IP Virtual Server version {}", ipvs.info()?.version);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Result<Ipvs, Error> {
        let transport = connect()?;
        Ok(Ipvs::from_parts(
            transport,
            File::open("/proc/thread-self/ns/net").ok(),
        ))
    }

    /// Opens the IPVS table of another network namespace: a name under `/run/netns` (what
    /// `ip netns add` creates) or a path such as `/proc/PID/ns/net`. The calling thread stays
    /// where it is.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_netlink::Ipvs;
    ///
    /// // The director of a lab built with `ip netns add director`.
    /// let director = Ipvs::in_netns("director")?;
    /// for (service, state) in director.services()? {
    ///     println!("{} {}", service.key, state.stats.conns);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_netns(ns: impl AsRef<Path>) -> Result<Ipvs, Error> {
        let path = netns_path(ns.as_ref());
        let file = File::open(&path).map_err(|e| {
            Error::Io(io::Error::new(
                e.kind(),
                format!("cannot open network namespace {}: {e}", path.display()),
            ))
        })?;
        let transport = in_namespace(&file, connect)?;
        Ok(Ipvs::from_parts(transport, Some(file)))
    }

    fn from_parts(transport: Transport, netns: Option<File>) -> Ipvs {
        Ipvs {
            transport: Mutex::new(transport),
            dumps: Mutex::new(None),
            netns,
            observed: Mutex::new(Observed::default()),
            release: features::kernel_release(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Transport> {
        // A panic while holding the lock leaves the socket usable: replies are matched by
        // sequence number, so stale ones are skipped.
        self.transport
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the dump socket, opening it (in the handle's namespace) the first time.
    fn with_dump_socket<T>(
        &self,
        f: impl FnOnce(&mut Transport) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut slot = self
            .dumps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let t = match &mut *slot {
            Some(t) => t,
            None => {
                let family = self.lock().family();
                let open = move || Transport::for_small_dumps(open_socket()?, family);
                // The extra socket must live in the handle's namespace too.
                let t = match &self.netns {
                    Some(ns) if !is_current_namespace(ns) => in_namespace(ns, open)?,
                    _ => open()?,
                };
                slot.insert(t)
            }
        };
        f(t)
    }

    /// One `GET_DEST` dump on the dump socket, decoded.
    fn dump_destinations(
        &self,
        t: &mut Transport,
        key: &ServiceKey,
    ) -> Result<Vec<(Destination, DestinationState)>, Error> {
        let mut out = Vec::new();
        t.dump(&request::get_destinations(key), |attrs| {
            out.push(self.decode_dest_attrs(attrs, key)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn observe(&self, f: impl FnOnce(&mut Observed)) {
        let mut o = self
            .observed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut o);
    }

    fn transact(&self, req: &Request) -> Result<Vec<GenlMessage>, Error> {
        self.lock().transact(req)
    }

    /// Sends any request and returns the generic-netlink payloads of the replies, undecoded
    /// (for captures and diagnostics; see `examples/capture_goldens.rs`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_netlink::Ipvs;
    /// use lvs_netlink::wire::{config, request};
    ///
    /// let ipvs = Ipvs::new()?;
    /// let replies = ipvs.query_raw(&request::get_info())?;
    /// let reply = replies.first().ok_or("no reply")?;
    /// println!("command {}, {} attribute bytes", reply.cmd, reply.attrs.len());
    /// println!("{:?}", config::decode_info(&reply.attrs)?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn query_raw(&self, req: &Request) -> Result<Vec<GenlMessage>, Error> {
        self.transact(req)
    }

    /// The IPVS version and connection table size (the first line of `ipvsadm -L`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::rules::list;
    ///
    /// let info = lvs_netlink::Ipvs::new()?.info()?;
    /// // IP Virtual Server version 1.2.1 (size=4096)
    /// print!("{}", list::header(&info));
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> Result<Info, Error> {
        let replies = self.transact(&request::get_info())?;
        let reply = replies
            .first()
            .ok_or_else(|| Error::Protocol("no reply to GET_INFO".into()))?;
        Ok(config::decode_info(&reply.attrs)?)
    }

    /// What the running kernel's IPVS supports.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let features = lvs_netlink::Ipvs::new()?.features()?;
    /// if !features.tunnel_flags {
    ///     eprintln!("kernel {}: no gre tunnels or tunnel checksums", features.kernel_release);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn features(&self) -> Result<Features, Error> {
        let info = self.info()?;
        Ok(self.feature_flags(info.version))
    }

    fn feature_flags(&self, version: Version) -> Features {
        let seen = *self
            .observed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Features::from_parts(version, self.release.clone(), seen)
    }

    fn decode_service(&self, msg: &GenlMessage) -> Result<(Service, ServiceState), Error> {
        let r = service::decode(command_nest(&msg.attrs, cmd_attr::SERVICE)?)?;
        self.observe(|o| o.stats64 = Some(r.has_stats64));
        Ok((r.service, r.state))
    }

    fn decode_dest_attrs(
        &self,
        attrs: &[u8],
        key: &ServiceKey,
    ) -> Result<(Destination, DestinationState), Error> {
        let r = dest::decode(command_nest(attrs, cmd_attr::DEST)?, key.family())?;
        self.observe(|o| {
            o.addr_family = Some(r.has_addr_family);
            o.stats64 = Some(r.has_stats64);
            o.tunnel_type = Some(r.has_tun_type);
            o.tunnel_flags = Some(r.has_tun_flags);
        });
        Ok((r.destination, r.state))
    }

    /// Every service with its counters (`ipvsadm -L` without the real servers).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let services = ipvs.services()?;
    /// let total: u64 = services.iter().map(|(_, state)| state.stats.conns).sum();
    /// println!("{} services, {total} connections scheduled", services.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn services(&self) -> Result<Vec<(Service, ServiceState)>, Error> {
        self.transact(&request::get_services())?
            .iter()
            .map(|m| self.decode_service(m))
            .collect()
    }

    /// One service, or `None` if there is no such service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// match ipvs.service(&key)? {
    ///     Some((service, _)) => println!("{key} is scheduled by {}", service.scheduler),
    ///     None => println!("{key} is not configured"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn service(&self, key: &ServiceKey) -> Result<Option<(Service, ServiceState)>, Error> {
        match self.transact(&request::get_service(key)) {
            Ok(replies) => match replies.first() {
                Some(m) => self.decode_service(m).map(Some),
                None => Err(Error::Protocol("no reply to GET_SERVICE".into())),
            },
            Err(Error::Kernel(r)) if r.errno == errno::ESRCH => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A service's real servers with their counters. A missing service is an error
    /// ("No such service").
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// for (real, state) in ipvs.destinations(&key)? {
    ///     println!(
    ///         "  -> {} {} weight {}: {} active, {} inactive",
    ///         real.addr, real.forward, real.weight, state.active_conns, state.inactive_conns
    ///     );
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn destinations(
        &self,
        key: &ServiceKey,
    ) -> Result<Vec<(Destination, DestinationState)>, Error> {
        let dests = self.with_dump_socket(|t| self.dump_destinations(t, key))?;
        // The kernel answers a dump for a missing service with an empty list.
        if dests.is_empty() && self.service(key)?.is_none() {
            return Err(Error::Kernel(Refusal::new(
                lvs_core::Operation::GetDestinations,
                errno::ESRCH,
            )));
        }
        Ok(dests)
    }

    /// `ipvsadm -A`: adds a service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{RefusalKind, Service, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// // Clients stick to their real server for 5 minutes.
    /// let web = Service::new(ServiceKey::tcp("10.0.0.13:443".parse()?))
    ///     .with_scheduler("wlc")
    ///     .with_persistence(300);
    /// match ipvs.add_service(&web) {
    ///     Err(e) if e.refusal().is_some_and(|r| r.kind() == RefusalKind::ServiceExists) => {
    ///         ipvs.update_service(&web)?
    ///     }
    ///     other => other?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_service(&self, service: &Service) -> Result<(), Error> {
        self.apply(&Command::AddService(service.clone()))
    }

    /// `ipvsadm -E`: replaces a service's configuration.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// let (service, _) = ipvs.service(&key)?.ok_or("no such service")?;
    /// // Switch to weighted round robin; the real servers and their connections stay.
    /// ipvs.update_service(&service.with_scheduler("wrr"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_service(&self, service: &Service) -> Result<(), Error> {
        self.apply(&Command::EditService(service.clone()))
    }

    /// `ipvsadm -D`: deletes a service and its real servers.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Family, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// // ipvsadm -D -f 10
    /// ipvs.delete_service(&ServiceKey::fwmark(Family::Inet, 10))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_service(&self, key: &ServiceKey) -> Result<(), Error> {
        self.apply(&Command::DeleteService(*key))
    }

    /// `ipvsadm -a`: adds a real server to a service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Destination, Forward, Service, ServiceKey};
    ///
    /// // A NAT service with two real servers, weighted 3:1.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// ipvs.add_service(&Service::new(key).with_scheduler("wrr"))?;
    /// for (addr, weight) in [("192.168.8.14:80", 3), ("192.168.8.15:80", 1)] {
    ///     let real = Destination::new(addr.parse()?)
    ///         .with_forward(Forward::Masquerade)
    ///         .with_weight(weight);
    ///     ipvs.add_destination(&key, &real)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.apply(&Command::AddDestination {
            service: *key,
            destination: *dest,
        })
    }

    /// `ipvsadm -e`: replaces a real server's configuration.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    /// use std::net::SocketAddr;
    ///
    /// // Drain a real server: weight 0 takes no new connections, existing ones finish.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// let addr: SocketAddr = "192.168.8.14:80".parse()?;
    /// let (real, state) = ipvs
    ///     .destinations(&key)?
    ///     .into_iter()
    ///     .find(|(real, _)| real.addr == addr)
    ///     .ok_or("not a real server of the service")?;
    /// ipvs.update_destination(&key, &real.with_weight(0))?;
    /// println!("draining {addr}: {} active connections left", state.active_conns);
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.apply(&Command::EditDestination {
            service: *key,
            destination: *dest,
        })
    }

    /// `ipvsadm -d`: removes a real server.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// ipvs.delete_destination(&key, &"192.168.8.14:80".parse()?)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_destination(&self, key: &ServiceKey, addr: &SocketAddr) -> Result<(), Error> {
        self.apply(&Command::DeleteDestination {
            service: *key,
            addr: *addr,
        })
    }

    /// `ipvsadm -Z`: zeroes one service's counters, or every counter.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.zero(Some(&ServiceKey::tcp("10.0.0.13:80".parse()?)))?; // ipvsadm -Z -t 10.0.0.13:80
    /// ipvs.zero(None)?; // ipvsadm -Z
    /// # Ok(())
    /// # }
    /// ```
    pub fn zero(&self, key: Option<&ServiceKey>) -> Result<(), Error> {
        self.apply(&Command::Zero(key.copied()))
    }

    /// `ipvsadm -C`: deletes every service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.flush()?;
    /// assert!(ipvs.services()?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn flush(&self) -> Result<(), Error> {
        self.apply(&Command::Flush)
    }

    /// `ipvsadm -L --timeout`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let timeouts = lvs_netlink::Ipvs::new()?.timeouts()?;
    /// // Timeout (tcp tcpfin udp): 900 120 300
    /// print!("{}", lvs_core::rules::list::timeouts(&timeouts));
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeouts(&self) -> Result<Timeouts, Error> {
        let replies = self.transact(&request::get_timeouts())?;
        let reply = replies
            .first()
            .ok_or_else(|| Error::Protocol("no reply to GET_CONFIG".into()))?;
        Ok(config::decode_timeouts(&reply.attrs)?)
    }

    /// `ipvsadm --set`: sets timeouts (0 keeps a value).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Timeouts;
    ///
    /// // ipvsadm --set 3600 0 0: idle TCP connections live an hour; the other two stay.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.set_timeouts(&Timeouts { tcp: 3600, tcp_fin: 0, udp: 0 })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_timeouts(&self, timeouts: &Timeouts) -> Result<(), Error> {
        self.apply(&Command::SetTimeouts(*timeouts))
    }

    /// `ipvsadm -L --daemon`: the running sync daemons, with the kernel's defaults filled in.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// for d in lvs_netlink::Ipvs::new()?.daemons()? {
    ///     println!("{} sync daemon on {}, syncid {}", d.role, d.interface, d.syncid);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn daemons(&self) -> Result<Vec<SyncDaemon>, Error> {
        self.transact(&request::get_daemons())?
            .iter()
            .map(|m| Ok(daemon::decode(command_nest(&m.attrs, cmd_attr::DAEMON)?)?))
            .collect()
    }

    /// `ipvsadm --start-daemon`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{DaemonRole, SyncDaemon};
    ///
    /// // The active director sends its connections to the backup over eth1.
    /// let mut master = SyncDaemon::new(DaemonRole::Master, "eth1", 7);
    /// master.group = Some("224.0.0.81".parse()?);
    /// lvs_netlink::Ipvs::new()?.start_daemon(&master)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_daemon(&self, daemon: &SyncDaemon) -> Result<(), Error> {
        self.apply(&Command::StartDaemon(daemon.clone()))
    }

    /// `ipvsadm --stop-daemon`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::DaemonRole;
    ///
    /// lvs_netlink::Ipvs::new()?.stop_daemon(DaemonRole::Backup)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop_daemon(&self, role: DaemonRole) -> Result<(), Error> {
        self.apply(&Command::StopDaemon(role))
    }

    /// Carries out one command, after checking it ([`Error::Invalid`]) and that the kernel
    /// can do it ([`Error::NotSupported`]); on error nothing changed.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // Replay a rule file line by line, as `ipvsadm -R` does, saying which lines failed.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let text = std::fs::read_to_string("/etc/lvs/web.rules")?;
    /// for rule in lvs_core::rules::parse(&text)? {
    ///     if let Err(e) = ipvs.apply(&rule.command) {
    ///         eprintln!("web.rules:{}: {e}", rule.line);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn apply(&self, command: &Command) -> Result<(), Error> {
        let req = self.check(command)?;
        self.transact(&req).map(drop)
    }

    /// Sends `command` with no checks of lvs's own, so that the kernel's answer comes back as
    /// it is (for tests and diagnostics).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Command, Destination, ServiceKey};
    ///
    /// // What does the kernel itself say to a negative weight? (`apply` would not send it.)
    /// let command = Command::AddDestination {
    ///     service: ServiceKey::tcp("10.0.0.13:80".parse()?),
    ///     destination: Destination::new("192.168.8.14:80".parse()?).with_weight(-1),
    /// };
    /// if let Err(e) = lvs_netlink::Ipvs::new()?.apply_unchecked(&command) {
    ///     println!("the kernel: {e}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn apply_unchecked(&self, command: &Command) -> Result<(), Error> {
        let req = request::command(command).ok_or_else(|| unknown_command(command))?;
        self.transact(&req).map(drop)
    }

    /// The checks [`Ipvs::apply`] makes, and the request to send.
    fn check(&self, command: &Command) -> Result<Request, Error> {
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
                self.check_dest_features(service, destination)?;
            }
            Command::StartDaemon(d) => d.validate()?,
            _ => {}
        }
        request::command(command).ok_or_else(|| unknown_command(command))
    }

    fn check_dest_features(&self, key: &ServiceKey, d: &Destination) -> Result<(), Error> {
        let mixed = d.family() != key.family();
        if !mixed && !matches!(d.forward, Forward::Tunnel(_)) {
            // Nothing that depends on the kernel's version (the common case, kept cheap).
            return Ok(());
        }
        let f = self.feature_flags(Version(0));
        let unsupported = |what: &str| {
            Err(Error::NotSupported {
                what: format!("{what} (kernel {})", f.kernel_release),
            })
        };
        if mixed && !f.addr_family {
            return unsupported("real servers of another family than the service (Linux 3.18)");
        }
        if let Forward::Tunnel(t) = &d.forward {
            if (t.kind != TunnelType::Ipip || t.port != 0) && !f.tunnel_type {
                return unsupported("tunnel types other than ipip (Linux 5.2)");
            }
            if (t.checksum != TunnelChecksum::None || t.kind == TunnelType::Gre) && !f.tunnel_flags
            {
                return unsupported("tunnel checksums and gre (Linux 5.3)");
            }
        }
        Ok(())
    }

    /// Reads everything at once: the services (one dump), every service's real servers (one
    /// `GET_DEST` dump per service, on a second socket kept for dumps), the timeouts and
    /// the daemons.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let snap = ipvs.snapshot()?;
    /// print!("{}", snap.ruleset.to_rules());
    /// for ((service, addr), state) in &snap.destination_state {
    ///     println!("{service} -> {addr}: {} active", state.active_conns);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn snapshot(&self) -> Result<Snapshot, Error> {
        let services = self.services()?;
        // One dump per service, one after the other: the kernel produces a dump inside the
        // send and receive calls that ask for it, under its own lock, so dumps on parallel
        // sockets would not overlap anyway.
        let mut dests = self
            .with_dump_socket(|t| {
                services
                    .iter()
                    .map(|(s, _)| self.dump_destinations(t, &s.key))
                    .collect::<Result<Vec<_>, Error>>()
            })?
            .into_iter();
        let mut snap = Snapshot {
            ruleset: Ruleset::new(),
            service_state: HashMap::with_capacity(services.len()),
            destination_state: HashMap::new(),
        };
        for (svc, state) in services {
            let key = svc.key;
            let mut vs = VirtualService::new(svc);
            for (d, dstate) in dests.next().unwrap_or_default() {
                snap.destination_state.insert((key, d.addr), dstate);
                vs.destinations.push(d);
            }
            snap.service_state.insert(key, state);
            snap.ruleset.services.push(vs);
        }
        snap.ruleset.timeouts = Some(self.timeouts()?);
        snap.ruleset.daemons = self.daemons()?;
        Ok(snap)
    }

    /// Carries out many commands, pipelined: each is checked (as [`Ipvs::apply`] does), then
    /// as many requests as the socket buffers hold go out in one datagram, each with its own
    /// sequence number. Only the datagram's last request asks for an ack (`NLM_F_ACK`): the
    /// kernel answers the others only when it refuses them, and those answers are matched back
    /// by sequence number. The kernel applies them in order and goes on after a failure, so
    /// the result for each command is its own; there is no transaction.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Command, Destination, Service, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let mut commands = Vec::new();
    /// for i in 0..1000u16 {
    ///     let key = ServiceKey::tcp(format!("10.0.{}.{}:80", i / 250, i % 250 + 1).parse()?);
    ///     commands.push(Command::AddService(Service::new(key)));
    ///     commands.push(Command::AddDestination {
    ///         service: key,
    ///         destination: Destination::new("192.168.1.1:80".parse()?),
    ///     });
    /// }
    /// let results = ipvs.batch(&commands);
    /// let failed = results.iter().filter(|r| r.is_err()).count();
    /// println!("{failed} of {} failed", commands.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn batch(&self, commands: &[Command]) -> Vec<Result<(), Error>> {
        let mut results: Vec<Option<Result<(), Error>>> = Vec::with_capacity(commands.len());
        let mut requests: Vec<Option<Request>> = Vec::with_capacity(commands.len());
        for c in commands {
            match self.check(c) {
                Ok(r) => {
                    requests.push(Some(r));
                    results.push(None);
                }
                Err(e) => {
                    requests.push(None);
                    results.push(Some(Err(e)));
                }
            }
        }
        let mut t = self.lock();
        // Should every request of a datagram fail, each error's skb takes under 2 KiB of the
        // receive budget; a datagram must stay below the send buffer.
        let max_count = (t.rcvbuf / 2048).clamp(16, MAX_BATCH_CHUNK);
        let max_bytes = (t.sndbuf / 2).clamp(16 << 10, 4 << 20);
        let mut next = 0;
        while next < requests.len() {
            // One datagram of requests; only the last asks for an ack. The kernel handles a
            // datagram's messages in order and answers the others only if it refuses them, so
            // the last one's answer means every earlier one is done, and a request without an
            // answer by then succeeded.
            let mut chunk: Vec<(u32, usize)> = Vec::new();
            let mut bytes = 0;
            while next < requests.len() && chunk.len() < max_count && bytes < max_bytes {
                if let Some(req) = &requests[next] {
                    chunk.push((t.next_seq(), next));
                    bytes += req.msg.attrs.len() + 32;
                }
                next += 1;
            }
            let Some(&(last_seq, _)) = chunk.last() else {
                continue;
            };
            let mut datagram = Vec::with_capacity(bytes);
            for &(seq, i) in &chunk {
                if let Some(req) = &requests[i] {
                    t.frame_acked(&mut datagram, req, seq, seq == last_seq);
                }
            }
            if let Err(e) = t.send(&datagram) {
                let msg = e.to_string();
                for (_, i) in chunk {
                    results[i] = Some(Err(Error::Protocol(format!("not sent: {msg}"))));
                }
                continue;
            }
            let mut finished = false;
            while !finished {
                let n = match t.recv() {
                    Ok(n) => n,
                    Err(e) => {
                        // Most likely ENOBUFS: answers were lost and the outcome is unknown.
                        let msg = e.to_string();
                        for &(_, i) in &chunk {
                            results[i].get_or_insert_with(|| {
                                Err(Error::Protocol(format!(
                                    "acknowledgement lost ({msg}); the outcome is unknown"
                                )))
                            });
                        }
                        break;
                    }
                };
                for m in netlink::messages(t.received(n)) {
                    let Ok(m) = m else { continue };
                    let Some(i) = chunk_index(&chunk, m.seq) else {
                        continue;
                    };
                    let outcome = match m.reply() {
                        Ok(Reply::Ack) => Ok(()),
                        Ok(Reply::Error(e)) => {
                            Err(Error::Kernel(Refusal::new(commands[i].operation(), e)))
                        }
                        Ok(_) => continue,
                        Err(e) => Err(Error::from(e)),
                    };
                    results[i] = Some(outcome);
                    finished |= m.seq == last_seq;
                }
            }
            if finished {
                for (_, i) in chunk {
                    results[i].get_or_insert(Ok(()));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Protocol("no answer".into()))))
            .collect()
    }

    /// The connection table of the handle's namespace (`/proc/net/ip_vs_conn`, read from
    /// inside that namespace).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::rules::Format;
    /// use lvs_core::rules::list::{self, NoNames};
    ///
    /// // ipvsadm -Lnc
    /// let conns = lvs_netlink::Ipvs::new()?.connections()?;
    /// let numeric = Format { numeric: true, ..Format::default() };
    /// print!("{}", list::connections(&conns, &numeric, &NoNames));
    /// # Ok(())
    /// # }
    /// ```
    pub fn connections(&self) -> Result<Vec<Connection>, Error> {
        let read = || -> Result<String, Error> {
            let mut text = String::new();
            File::open("/proc/thread-self/net/ip_vs_conn")?.read_to_string(&mut text)?;
            Ok(text)
        };
        let text = match &self.netns {
            Some(ns) => in_namespace(ns, read)?,
            None => read()?,
        };
        lvs_core::conn::parse(&text).map_err(|e| Error::Protocol(e.to_string()))
    }
}

/// The command index of sequence number `seq` in a chunk of (sequence number, index) pairs.
/// A chunk's numbers are consecutive (but for the wrap from `u32::MAX` to 1), so the position
/// is usually `seq - first`.
fn chunk_index(chunk: &[(u32, usize)], seq: u32) -> Option<usize> {
    let first = chunk.first()?.0;
    match chunk.get(seq.wrapping_sub(first) as usize) {
        Some(&(s, i)) if s == seq => Some(i),
        _ => chunk.iter().find(|&&(s, _)| s == seq).map(|&(_, i)| i),
    }
}

fn unknown_command(command: &Command) -> Error {
    Error::NotSupported {
        what: format!("{} (this lvs-netlink cannot send it)", command.operation()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_find_their_command_even_across_the_sequence_wrap() {
        let chunk = [(10, 0), (11, 2), (12, 5)];
        assert_eq!(chunk_index(&chunk, 11), Some(2));
        assert_eq!(chunk_index(&chunk, 13), None);
        assert_eq!(chunk_index(&chunk, 9), None);
        let wrapped = [(u32::MAX - 1, 0), (u32::MAX, 1), (1, 2), (2, 3)];
        assert_eq!(chunk_index(&wrapped, 1), Some(2));
        assert_eq!(chunk_index(&wrapped, 2), Some(3));
        assert_eq!(chunk_index(&wrapped, u32::MAX), Some(1));
        assert_eq!(chunk_index(&wrapped, 0), None);
        assert_eq!(chunk_index(&[], 1), None);
    }

    #[test]
    fn handles_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Ipvs>();
    }

    #[test]
    fn netns_names_and_paths() {
        assert_eq!(netns_path(Path::new("blue")), Path::new("/run/netns/blue"));
        assert_eq!(
            netns_path(Path::new("/proc/1/ns/net")),
            Path::new("/proc/1/ns/net")
        );
        assert_eq!(netns_path(Path::new("a/b")), Path::new("a/b"));
    }
}
