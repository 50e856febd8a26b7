//! An in-memory kernel for tests (the `fake` feature): test a controller built on [`Ipvs`]
//! without root, without IPVS, in milliseconds.
//!
//! [`FakeKernel`] holds an IPVS table and changes it with lvs-core's kernel simulation
//! ([`Ruleset::execute_with`], with a [`KernelProfile`] of the modules it has), so it refuses
//! what the kernel refuses, with the kernel's errno. Its connections ([`FakeTransport`]) speak
//! the kernel's bytes: they read the same request datagrams the kernel gets (every one,
//! including the generic-netlink family lookup, through [`crate::wire::request::parse`]) and
//! answer with the datagrams the kernel sends (acks and errors with `NETLINK_CAP_ACK`, dump
//! messages packed as the kernel packs them, its end on a datagram of its own, replies written
//! by [`crate::wire::reply`], which is checked against a real kernel's captured replies). So
//! the client, [`Ipvs::batch`], [`Ipvs::snapshot`], [`Ipvs::apply`] and your code over
//! them run unchanged against it. What it does not model: traffic (connections and counters
//! stay as you set them), network devices (every interface exists), other processes' sockets.
//!
//! Faults ([`FakeKernel::inject`]) make it refuse a request with an errno, drop or delay an
//! answer, cut a dump short, or overflow the receive buffer, so that a controller's error
//! paths and deadlines can be tested too.
//!
//! ```
//! use lvs_core::{Operation, Ruleset, errno};
//! use lvs_netlink::fake::{Fault, FakeKernel};
//! use lvs_netlink::ApplyOptions;
//!
//! let kernel = FakeKernel::new();
//! let ipvs = kernel.ipvs()?;
//! let desired = Ruleset::from_rules(
//!     "-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n",
//! )?;
//! let report = ipvs.apply(&desired, &ApplyOptions::default())?;
//! assert!(report.is_success());
//! assert_eq!(kernel.ruleset().services, desired.services);
//!
//! // Another writer deletes the service; a refused real server is reported, not fatal.
//! kernel.execute(&lvs_core::Command::Flush)?;
//! kernel.inject(Operation::AddDestination, Fault::Refuse(errno::ENOMEM));
//! let report = ipvs.apply(&desired, &ApplyOptions::default())?;
//! assert_eq!(report.failed().count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fault;
mod kernel;

pub use fault::{Fault, Target};

use crate::transport::Transport;
use crate::{Error, Ipvs};
use kernel::{Delivery, Kernel};
use lvs_core::{
    Command, DestinationState, Info, KernelProfile, Operation, Refusal, Ruleset, ServiceKey,
    ServiceState,
};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// An in-memory IPVS kernel. Clones share the same kernel; each [`FakeKernel::transport`] is
/// a connection to it, as a socket is.
///
/// ```
/// use lvs_core::{Service, ServiceKey};
///
/// let kernel = lvs_netlink::fake::FakeKernel::new();
/// let ipvs = kernel.ipvs()?;
/// ipvs.add_service(&Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)))?;
/// assert_eq!(kernel.ruleset().object_count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FakeKernel {
    kernel: Arc<Mutex<Kernel>>,
}

impl Default for FakeKernel {
    fn default() -> FakeKernel {
        FakeKernel::new()
    }
}

impl FakeKernel {
    /// An empty kernel with Debian's modules ([`KernelProfile::default`]), IPVS 1.2.1, a
    /// connection table of 4096 buckets and the default timeouts.
    pub fn new() -> FakeKernel {
        FakeKernel::with_profile(KernelProfile::default())
    }

    /// An empty kernel with these scheduler and persistence-engine modules.
    ///
    /// ```
    /// use lvs_core::{KernelProfile, RefusalKind, Scheduler, Service, ServiceKey};
    ///
    /// let rr_only = KernelProfile {
    ///     schedulers: vec![Scheduler::from("rr")],
    ///     engines: vec![],
    ///     any_module: false,
    /// };
    /// let ipvs = lvs_netlink::fake::FakeKernel::with_profile(rr_only).ipvs()?;
    /// let wlc = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)).with_scheduler("wlc");
    /// let e = ipvs.add_service(&wlc).unwrap_err();
    /// assert_eq!(e.refusal().map(|r| r.kind()), Some(RefusalKind::SchedulerNotFound));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_profile(profile: KernelProfile) -> FakeKernel {
        FakeKernel {
            kernel: Arc::new(Mutex::new(Kernel::new(profile))),
        }
    }

    /// A kernel without IPVS (no "IPVS" generic-netlink family): opening a handle on it is
    /// [`Error::NotAvailable`].
    ///
    /// ```
    /// use lvs_netlink::{Error, fake::FakeKernel};
    /// assert!(matches!(FakeKernel::without_ipvs().ipvs(), Err(Error::NotAvailable { .. })));
    /// ```
    pub fn without_ipvs() -> FakeKernel {
        let k = FakeKernel::new();
        k.lock().ipvs = false;
        k
    }

    fn lock(&self) -> MutexGuard<'_, Kernel> {
        self.kernel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new connection to this kernel.
    pub fn transport(&self) -> FakeTransport {
        let port = self.lock().port();
        FakeTransport {
            kernel: Arc::clone(&self.kernel),
            port,
            inbox: VecDeque::new(),
            late: Vec::new(),
            current: Vec::new(),
        }
    }

    /// A handle on this kernel, over a new connection ([`Ipvs::with_transport`]).
    pub fn ipvs(&self) -> Result<Ipvs, Error> {
        Ipvs::with_transport(self.transport())
    }

    /// An async handle on this kernel, over a new connection
    /// ([`crate::AsyncIpvs::with_transport`]; features `fake` and `tokio`).
    ///
    /// ```
    /// use lvs_core::{Service, ServiceKey};
    ///
    /// let kernel = lvs_netlink::fake::FakeKernel::new();
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// runtime.block_on(async {
    ///     let ipvs = kernel.async_ipvs().await?;
    ///     ipvs.add_service(&Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?))).await?;
    ///     Ok::<(), Box<dyn std::error::Error>>(())
    /// })?;
    /// assert_eq!(kernel.ruleset().object_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tokio")]
    pub async fn async_ipvs(&self) -> Result<crate::AsyncIpvs, Error> {
        crate::AsyncIpvs::with_transport(self.transport()).await
    }

    /// The table: services with their real servers (newest real server first, as the kernel
    /// lists them), the timeouts if ever set, the running daemons as they were started.
    pub fn ruleset(&self) -> Ruleset {
        self.lock().table.clone()
    }

    /// Carries out a command as another process would (`ipvsadm`, say), behind the back of
    /// every handle; a refusal says why, and changes nothing.
    ///
    /// ```
    /// use lvs_core::{Command, RefusalKind, ServiceKey};
    ///
    /// let kernel = lvs_netlink::fake::FakeKernel::new();
    /// let gone = Command::DeleteService(ServiceKey::tcp("10.0.0.13:80".parse()?));
    /// assert_eq!(kernel.execute(&gone).unwrap_err().kind(), RefusalKind::NoSuchService);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn execute(&self, command: &Command) -> Result<(), Refusal> {
        self.lock()
            .execute(command)
            .map_err(|errno| Refusal::new(command.operation(), errno))
    }

    /// Sets what the kernel reports about a service (its counters; the `HASHED` flag is
    /// always added). False if there is no such service.
    pub fn set_service_state(&self, key: &ServiceKey, state: ServiceState) -> bool {
        let mut k = self.lock();
        if k.service(key).is_none() {
            return false;
        }
        k.service_state.insert(*key, state);
        true
    }

    /// Sets what the kernel reports about a real server (its connection counters and
    /// statistics). False if there is no such real server.
    ///
    /// ```
    /// use lvs_core::{Destination, DestinationState, Service, ServiceKey};
    ///
    /// let kernel = lvs_netlink::fake::FakeKernel::new();
    /// let ipvs = kernel.ipvs()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// let real: std::net::SocketAddr = "192.168.8.14:80".parse()?;
    /// ipvs.add_service(&Service::new(key))?;
    /// ipvs.add_destination(&key, &Destination::new(real))?;
    /// let busy = DestinationState { active_conns: 3, ..DestinationState::default() };
    /// assert!(kernel.set_destination_state(&key, &real, busy));
    /// assert_eq!(ipvs.destinations(&key)?[0].state.active_conns, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_destination_state(
        &self,
        key: &ServiceKey,
        addr: &SocketAddr,
        state: DestinationState,
    ) -> bool {
        let mut k = self.lock();
        let known = k.service(key).and_then(|vs| vs.destination(addr));
        if known.is_none() {
            return false;
        }
        k.dest_state.entry(*key).or_default().insert(*addr, state);
        true
    }

    /// Sets the version and connection table size `GET_INFO` answers.
    pub fn set_info(&self, info: Info) {
        self.lock().info = info;
    }

    /// Sets the text of `/proc/net/ip_vs_conn` ([`Ipvs::connections`] reads it), as the
    /// kernel writes it.
    pub fn set_conn_table(&self, text: impl Into<String>) {
        self.lock().conn_table = text.into();
    }

    /// Injects `fault` into every request `target` names from now on, until
    /// [`FakeKernel::clear_faults`]. When several faults name a request, the first injected
    /// wins.
    ///
    /// ```
    /// use lvs_core::{Operation, errno};
    /// use lvs_netlink::Error;
    /// use lvs_netlink::fake::{Fault, FakeKernel};
    /// use std::time::Duration;
    ///
    /// let kernel = FakeKernel::new();
    /// let ipvs = kernel.ipvs()?;
    /// ipvs.set_reply_timeout(Duration::from_millis(50));
    /// kernel.inject(Operation::GetServices, Fault::Drop);
    /// assert!(matches!(ipvs.services(), Err(Error::Timeout { .. })));
    /// kernel.clear_faults();
    /// assert!(ipvs.services()?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inject(&self, target: impl Into<Target>, fault: Fault) {
        self.arm(target.into(), fault, None);
    }

    /// Injects `fault` into the next request `target` names only.
    pub fn inject_once(&self, target: impl Into<Target>, fault: Fault) {
        self.arm(target.into(), fault, Some(1));
    }

    fn arm(&self, target: Target, fault: Fault, remaining: Option<usize>) {
        self.lock().faults.push(fault::Armed {
            target,
            fault,
            remaining,
        });
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// The operation of every request received so far, in order (the family lookup is
    /// [`Operation::GetFamily`]): how many requests an operation costs.
    pub fn requests(&self) -> Vec<Operation> {
        self.lock().requests.clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }
}

/// A connection to a [`FakeKernel`], as a netlink socket is to the kernel: its own port id,
/// its own queue of answers. The kernel answers a datagram while it is sent, so
/// [`Transport::recv`] never waits: with nothing queued, nothing will come, and it says so
/// at once (a client's timeout then passes without sleeping through it).
#[derive(Debug)]
pub struct FakeTransport {
    kernel: Arc<Mutex<Kernel>>,
    port: u32,
    inbox: VecDeque<Delivery>,
    /// Answers held back by [`Fault::Delay`].
    late: Vec<Delivery>,
    current: Vec<u8>,
}

impl FakeTransport {
    fn kernel(&self) -> MutexGuard<'_, Kernel> {
        self.kernel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Transport for FakeTransport {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let answers = self.kernel().receive(datagram, self.port);
        self.inbox.extend(self.late.drain(..));
        self.inbox.extend(answers.now);
        self.late.extend(answers.late);
        Ok(())
    }

    fn recv(&mut self, _timeout: Duration) -> io::Result<Option<&[u8]>> {
        match self.inbox.pop_front() {
            Some(Delivery::Datagram(d)) => {
                self.current = d;
                Ok(Some(&self.current))
            }
            Some(Delivery::Error(errno)) => Err(io::Error::from_raw_os_error(errno)),
            None => Ok(None),
        }
    }

    fn reset(&mut self) -> io::Result<()> {
        self.inbox.clear();
        self.late.clear();
        let port = self.kernel().port();
        self.port = port;
        Ok(())
    }

    fn read_conn_table(&mut self) -> io::Result<String> {
        Ok(self.kernel().conn_table.clone())
    }
}
