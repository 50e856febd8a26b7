//! [`AsyncIpvs`]: the [`crate::Ipvs`] handle for tokio (feature `tokio`).
//!
//! - this file: the handle, how it is opened, its links and its reply timeout;
//! - `link`: the async link, the same protocol code as the blocking one's, over tokio's
//!   readiness;
//! - `ops`: the reads, the changes, batches, snapshots and declarative apply.
//!
//! Everything that is not moving bytes (framing, pipelining, answer matching, deadlines'
//! policy, checks, decoding, planning) is the blocking client's own code: `proto`,
//! `client::common`, `apply`. What differs is only how a wait happens.

mod link;
mod ops;

use crate::Error;
use crate::client::common::{Common, DEFAULT_REPLY_TIMEOUT};
use crate::module;
use crate::netns::Netns;
use crate::transport::Transport;
use link::{AsyncLink, blocking};
use std::path::Path;
use std::time::Duration;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// A handle on the IPVS table of one network namespace, for async code on tokio: the same
/// operations as [`crate::Ipvs`], each an `async fn` with the same arguments, results and
/// [`Error`]s (feature `tokio`).
///
/// It is named beside `Ipvs` rather than put in a module of its own: the two are one client
/// with two ways of waiting, and a program uses one or the other, or both (a blocking
/// [`crate::Reconciler`] in a `spawn_blocking` task beside an `AsyncIpvs` for reads).
///
/// - **Same protocol code.** Requests are framed, pipelined into datagrams and matched with
///   their answers by the code the blocking client runs; only the waiting differs. The
///   netlink socket is non-blocking, registered with tokio's reactor
///   ([`tokio::io::unix::AsyncFd`]), so a task waiting for the kernel holds no thread.
/// - **Deadlines.** Every wait for the kernel is bounded by the reply timeout
///   ([`AsyncIpvs::set_reply_timeout`], [`DEFAULT_REPLY_TIMEOUT`] unless set) with
///   [`tokio::time::timeout`], and gives [`Error::Timeout`]; the socket is then replaced, so a
///   late answer is never taken for a later request's. A runtime with both the I/O and time
///   drivers is needed (`#[tokio::main]` and `Runtime::new` enable both).
/// - **Sharing.** Calls are serialised on the handle's socket (a [`tokio::sync::Mutex`]): share
///   one handle between tasks behind an `Arc`, or open one per task for parallel exchanges.
///   The handle and its futures are `Send`.
/// - **Cancellation.** Dropping a call's future (a `select!`, an outer timeout) is safe: the
///   next call starts on a fresh socket, so answers to the abandoned request are never read.
///   Whether a dropped change was carried out is unknown, as after [`Error::Timeout`]; a
///   dropped [`AsyncIpvs::batch`] may have sent some of its datagrams.
/// - **Blocking work** goes to tokio's blocking pool ([`tokio::task::spawn_blocking`]): opening
///   a socket (`modprobe ip_vs` when the family is missing; joining another network namespace
///   for [`AsyncIpvs::in_netns`], see there) and reading `/proc/net/ip_vs_conn`. Sending a
///   datagram is one system call in which the kernel carries the requests out (a batch's
///   4,096 changes take the kernel a few milliseconds inside it), as with any netlink library.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, Forward, Service, ServiceEntry, ServiceKey};
/// use lvs_netlink::AsyncIpvs;
///
/// let ipvs = AsyncIpvs::new().await?;
/// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
/// ipvs.add_service(&Service::new(key).with_scheduler("rr")).await?;
/// let real = Destination::new("192.168.8.14:80".parse()?);
/// ipvs.add_destination(&key, &real.with_forward(Forward::Masquerade)).await?;
/// for ServiceEntry { service, state } in ipvs.services().await? {
///     println!("{} {} conns={}", service.key, service.scheduler, state.stats.conns);
/// }
/// # Ok(())
/// # }
/// ```
pub struct AsyncIpvs {
    link: Mutex<AsyncLink>,
    dumps: Dumps,
    common: Common,
}

/// Where `GET_DEST` dumps go (as for [`crate::Ipvs`]).
enum Dumps {
    /// On the handle's one link (any transport but the kernel's socket).
    Shared,
    /// On a second socket with a one-page receive buffer, opened on first use in the
    /// handle's namespace.
    Socket {
        netns: Option<Netns>,
        family: u16,
        link: Mutex<Option<Box<AsyncLink>>>,
    },
}

impl std::fmt::Debug for AsyncIpvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncIpvs")
            .field("kernel_release", &self.common.release())
            .field("reply_timeout", &self.reply_timeout())
            .finish_non_exhaustive()
    }
}

impl AsyncIpvs {
    /// Opens the IPVS table of the calling thread's network namespace ([`crate::Ipvs::new`]):
    /// if the kernel has no "IPVS" family yet, runs `modprobe -- ip_vs` and tries again
    /// ([`Error::NotAvailable`] when IPVS is not in this kernel). Opening runs on tokio's
    /// blocking pool.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::AsyncIpvs::new().await?;
    /// println!("IP Virtual Server version {}", ipvs.info().await?.version);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn new() -> Result<AsyncIpvs, Error> {
        AsyncIpvs::over_socket(Netns::current()).await
    }

    /// Opens the IPVS table of another network namespace: a name under `/run/netns` or a
    /// path such as `/proc/PID/ns/net` ([`crate::Ipvs::in_netns`]).
    ///
    /// `setns(2)` moves one thread, and tokio moves tasks between threads: so no runtime
    /// thread ever joins the namespace. The handle's sockets are opened by a short-lived
    /// thread (started from tokio's blocking pool) that joins it, and a socket stays in the
    /// namespace it was opened in whichever thread then uses it; a fresh socket after a
    /// timeout and the connection table's `/proc` file are opened the same way.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_netlink::AsyncIpvs;
    ///
    /// // The directors of a lab, read at once.
    /// let (a, b) = (AsyncIpvs::in_netns("director-a").await?, AsyncIpvs::in_netns("director-b").await?);
    /// let (a, b) = tokio::try_join!(a.services(), b.services())?;
    /// println!("{} and {} services", a.len(), b.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn in_netns(ns: impl AsRef<Path>) -> Result<AsyncIpvs, Error> {
        AsyncIpvs::over_socket(Some(Netns::open(ns.as_ref())?)).await
    }

    async fn over_socket(netns: Option<Netns>) -> Result<AsyncIpvs, Error> {
        let ns = netns.clone();
        let link =
            blocking(move || module::connect_socket(ns.as_ref(), DEFAULT_REPLY_TIMEOUT)).await?;
        let family = link.family();
        let dumps = Dumps::Socket {
            netns,
            family,
            link: Mutex::new(None),
        };
        Ok(AsyncIpvs::from_parts(AsyncLink::over_socket(link)?, dumps))
    }

    /// A handle over any [`Transport`] ([`crate::Ipvs::with_transport`]): the fake kernel of
    /// the `fake` feature, to test async controllers without root. The transport is called in
    /// the task, so its `recv` must not wait long: the fake kernel's `fake::FakeTransport`
    /// never waits (with nothing queued, nothing will come, and it says so at once). For a
    /// transport that blocks, use [`crate::Ipvs`] on tokio's blocking pool instead.
    ///
    /// ```
    /// # #[cfg(feature = "fake")]
    /// # fn main() -> Result<(), lvs_netlink::Error> {
    /// use lvs_netlink::AsyncIpvs;
    /// use lvs_netlink::fake::FakeKernel;
    ///
    /// let kernel = FakeKernel::new();
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// runtime.block_on(async {
    ///     let ipvs = AsyncIpvs::with_transport(kernel.transport()).await?;
    ///     assert_eq!(ipvs.info().await?.version.to_string(), "1.2.1");
    ///     Ok(())
    /// })
    /// # }
    /// # #[cfg(not(feature = "fake"))]
    /// # fn main() {}
    /// ```
    pub async fn with_transport(transport: impl Transport + 'static) -> Result<AsyncIpvs, Error> {
        let mut link = AsyncLink::over_transport(Box::new(transport));
        let id = link
            .resolve_family(DEFAULT_REPLY_TIMEOUT)
            .await?
            .ok_or_else(crate::module::no_family)?;
        link.set_family(id);
        Ok(AsyncIpvs::from_parts(link, Dumps::Shared))
    }

    fn from_parts(link: AsyncLink, dumps: Dumps) -> AsyncIpvs {
        AsyncIpvs {
            link: Mutex::new(link),
            dumps,
            common: Common::new(),
        }
    }

    /// How long the handle waits for each answer of the kernel ([`crate::Ipvs::reply_timeout`]).
    pub fn reply_timeout(&self) -> Duration {
        self.common.reply_timeout()
    }

    /// Sets how long the handle waits for each answer of the kernel
    /// ([`crate::Ipvs::set_reply_timeout`]); each wait is a [`tokio::time::timeout`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// let ipvs = lvs_netlink::AsyncIpvs::new().await?;
    /// ipvs.set_reply_timeout(Duration::from_millis(500));
    /// match ipvs.services().await {
    ///     Err(lvs_netlink::Error::Timeout { after, .. }) => eprintln!("no answer in {after:?}"),
    ///     other => println!("{} services", other?.len()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_reply_timeout(&self, timeout: Duration) {
        self.common.set_reply_timeout(timeout);
    }

    /// The link for `GET_DEST` dumps: the dump socket (opened the first time, in the
    /// handle's namespace) or the handle's one link.
    async fn dump_link(&self) -> Result<DumpLink<'_>, Error> {
        match &self.dumps {
            Dumps::Shared => Ok(DumpLink::Main(self.link.lock().await)),
            Dumps::Socket {
                netns,
                family,
                link,
            } => {
                let mut slot = link.lock().await;
                if slot.is_none() {
                    let (ns, family) = (netns.clone(), *family);
                    let opened =
                        blocking(move || module::connect_small_dumps_socket(ns.as_ref(), family))
                            .await?;
                    *slot = Some(Box::new(AsyncLink::over_socket(opened)?));
                }
                MutexGuard::try_map(slot, Option::as_deref_mut)
                    .map(DumpLink::Own)
                    .map_err(|_| Error::Io(std::io::Error::other("no dump socket")))
            }
        }
    }
}

/// The link a dump goes through, locked.
enum DumpLink<'a> {
    Main(MutexGuard<'a, AsyncLink>),
    Own(MappedMutexGuard<'a, AsyncLink>),
}

impl std::ops::Deref for DumpLink<'_> {
    type Target = AsyncLink;

    fn deref(&self) -> &AsyncLink {
        match self {
            DumpLink::Main(l) => l,
            DumpLink::Own(l) => l,
        }
    }
}

impl std::ops::DerefMut for DumpLink<'_> {
    fn deref_mut(&mut self) -> &mut AsyncLink {
        match self {
            DumpLink::Main(l) => l,
            DumpLink::Own(l) => l,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_their_futures_can_move_between_threads() {
        fn shareable<T: Send + Sync>() {}
        fn sendable<T: Send>(_: &T) {}
        shareable::<AsyncIpvs>();
        let never = async {
            let ipvs = AsyncIpvs::new().await?;
            ipvs.snapshot().await?;
            ipvs.batch(&[]).await;
            ipvs.apply(&lvs_core::Ruleset::new(), &Default::default())
                .await
        };
        sendable(&never);
    }
}
