//! [`Ipvs`]: a handle on one network namespace's IPVS table.
//!
//! - this file: the handle, how it is opened, its links and its reply timeout;
//! - `link`: one transport with its protocol state, and the reply loop;
//! - `read`: the queries (`info`, `services`, `destinations`, ...);
//! - `change`: single changes and the checks made before sending them;
//! - `batch`: many changes, pipelined;
//! - `snapshot`: everything at once.

mod batch;
mod change;
pub(crate) mod common;
pub(crate) mod link;
mod read;
mod snapshot;

use crate::Error;
use crate::module;
use crate::netns::Netns;
use crate::proto::Limits;
use crate::transport::Transport;
use crate::wire::GenlMessage;
use crate::wire::request::Request;
pub use common::DEFAULT_REPLY_TIMEOUT;
use common::{Common, lock};
use link::Link;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// A handle on the IPVS table of one network namespace, over generic netlink.
///
/// It owns one netlink socket; calls are serialised on it, so a handle may be shared between
/// threads. Every operation needs CAP_NET_ADMIN, reads included. No call blocks for longer
/// than the reply timeout without an answer from the kernel ([`Error::Timeout`]).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, Forward, Service, ServiceEntry, ServiceKey};
/// use lvs_netlink::Ipvs;
///
/// let ipvs = Ipvs::new()?;
/// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
/// ipvs.add_service(&Service::new(key).with_scheduler("rr"))?;
/// let real = Destination::new("192.168.8.14:80".parse()?);
/// ipvs.add_destination(&key, &real.with_forward(Forward::Masquerade))?;
/// for ServiceEntry { service, state } in ipvs.services()? {
///     println!("{} {} conns={}", service.key, service.scheduler, state.stats.conns);
/// }
/// # Ok(())
/// # }
/// ```
pub struct Ipvs {
    link: Mutex<Link>,
    dumps: Dumps,
    common: Common,
}

/// Where `GET_DEST` dumps go.
enum Dumps {
    /// On the handle's one link (any transport but the kernel's socket).
    Shared,
    /// On a second socket with a one-page receive buffer, opened on first use in the
    /// handle's namespace (see [`crate::transport::socket::Purpose::SmallDumps`]).
    Socket {
        netns: Option<Netns>,
        link: Mutex<Option<Link>>,
    },
}

impl std::fmt::Debug for Ipvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ipvs")
            .field("kernel_release", &self.common.release())
            .field("reply_timeout", &self.reply_timeout())
            .finish_non_exhaustive()
    }
}

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
        Ipvs::over_socket(Netns::current())
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
    /// for entry in director.services()? {
    ///     println!("{} {}", entry.service.key, entry.state.stats.conns);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn in_netns(ns: impl AsRef<Path>) -> Result<Ipvs, Error> {
        Ipvs::over_socket(Some(Netns::open(ns.as_ref())?))
    }

    fn over_socket(netns: Option<Netns>) -> Result<Ipvs, Error> {
        let link = module::connect(netns.as_ref(), DEFAULT_REPLY_TIMEOUT)?;
        let dumps = Dumps::Socket {
            netns,
            link: Mutex::new(None),
        };
        Ok(Ipvs::from_parts(link, dumps))
    }

    /// A handle over any [`Transport`]: the fake kernel of the `fake` feature, or a wrapper of
    /// your own (one that counts or logs requests, say). It looks the "IPVS" family up through
    /// the transport, as [`Ipvs::new`] does (but loads no module); every request, batch and
    /// dump then goes through it.
    ///
    /// ```
    /// # #[cfg(feature = "fake")]
    /// # fn main() -> Result<(), lvs_netlink::Error> {
    /// use lvs_netlink::Ipvs;
    /// use lvs_netlink::fake::FakeKernel;
    ///
    /// let kernel = FakeKernel::new();
    /// let ipvs = Ipvs::with_transport(kernel.transport())?;
    /// assert_eq!(ipvs.info()?.version.to_string(), "1.2.1");
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "fake"))]
    /// # fn main() {}
    /// ```
    ///
    /// A kernel that never answers gives [`Error::Timeout`], the family lookup included:
    ///
    /// ```
    /// use lvs_netlink::{Error, Ipvs, Transport};
    /// use std::time::Duration;
    ///
    /// struct Silent;
    ///
    /// impl Transport for Silent {
    ///     fn send(&mut self, _datagram: &[u8]) -> std::io::Result<()> {
    ///         Ok(())
    ///     }
    ///     fn recv(&mut self, _timeout: Duration) -> std::io::Result<Option<&[u8]>> {
    ///         Ok(None)
    ///     }
    ///     fn reset(&mut self) -> std::io::Result<()> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// assert!(matches!(Ipvs::with_transport(Silent), Err(Error::Timeout { .. })));
    /// ```
    pub fn with_transport(transport: impl Transport + 'static) -> Result<Ipvs, Error> {
        let mut link: Link = Link::new(Box::new(transport), 0, Limits::default());
        let id = link
            .resolve_family(DEFAULT_REPLY_TIMEOUT)?
            .ok_or_else(crate::module::no_family)?;
        link.set_family(id);
        Ok(Ipvs::from_parts(link, Dumps::Shared))
    }

    fn from_parts(link: Link, dumps: Dumps) -> Ipvs {
        Ipvs {
            link: Mutex::new(link),
            dumps,
            common: Common::new(),
        }
    }

    /// How long the handle waits for each answer of the kernel before it gives up on an
    /// exchange with [`Error::Timeout`]: [`DEFAULT_REPLY_TIMEOUT`] unless set.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// assert_eq!(ipvs.reply_timeout(), lvs_netlink::DEFAULT_REPLY_TIMEOUT);
    /// # Ok(())
    /// # }
    /// ```
    pub fn reply_timeout(&self) -> Duration {
        self.common.reply_timeout()
    }

    /// Sets how long the handle waits for each answer of the kernel (not to be confused with
    /// [`Ipvs::set_timeouts`], IPVS's connection timeouts). A long dump is never cut short
    /// while the kernel keeps answering: the wait starts again at each of its datagrams.
    /// After a timeout the socket is replaced, so a late answer is never taken for a later
    /// request's.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// // A health checker that must never stall for long.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.set_reply_timeout(Duration::from_millis(500));
    /// match ipvs.services() {
    ///     Err(lvs_netlink::Error::Timeout { after, .. }) => eprintln!("no answer in {after:?}"),
    ///     other => println!("{} services", other?.len()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_reply_timeout(&self, timeout: Duration) {
        self.common.set_reply_timeout(timeout);
    }

    fn link(&self) -> MutexGuard<'_, Link> {
        lock(&self.link)
    }

    /// Runs `f` on the link for `GET_DEST` dumps: the dump socket (opened the first time,
    /// in the handle's namespace) or the handle's one link.
    fn with_dump_link<T>(&self, f: impl FnOnce(&mut Link) -> Result<T, Error>) -> Result<T, Error> {
        match &self.dumps {
            Dumps::Shared => f(&mut self.link()),
            Dumps::Socket { netns, link } => {
                let mut slot = lock(link);
                let link = match &mut *slot {
                    Some(link) => link,
                    None => {
                        let family = self.link().family();
                        slot.insert(module::connect_small_dumps(netns.as_ref(), family)?)
                    }
                };
                f(link)
            }
        }
    }

    /// One request on the handle's link; each data message's payload goes to `each`.
    fn request(
        &self,
        req: &Request,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let timeout = self.reply_timeout();
        self.link().request(req, timeout, &mut each)
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
        let mut replies = Vec::new();
        self.request(req, |payload| {
            replies.push(GenlMessage::decode(payload)?);
            Ok(())
        })?;
        Ok(replies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Ipvs>();
    }
}
