//! The async link: the blocking [`crate::client::link::Link`]'s twin, over the same protocol
//! code ([`Protocol`] frames, [`Pipeline`] chunks, [`Exchange`] matches, [`Turn`] decides how
//! long to wait). Only the moving of bytes differs: the netlink socket, non-blocking, under
//! tokio's [`AsyncFd`], each wait bounded by [`tokio::time::timeout`].

use crate::Error;
use crate::client::link::{self, Link, decode_family, family_outcome};
use crate::netns::Netns;
use crate::proto::{Exchange, Interrupted, Limits, Pipeline, Protocol, Turn};
use crate::transport::Transport;
use crate::transport::socket::{self, Purpose, SocketTransport};
use crate::wire::request::Request;
use std::io;
use std::time::Duration;
use tokio::io::unix::AsyncFd;

/// What a caller does with each data message (as [`crate::proto::OnData`]), and `Send`, so
/// that a future holding it can move between a runtime's threads.
pub(crate) type OnData<'a> = dyn FnMut(usize, &[u8]) -> Result<(), Error> + Send + 'a;

/// One request's data messages, as [`AsyncLink::request`] takes them.
pub(crate) type Each<'a> = dyn FnMut(&[u8]) -> Result<(), Error> + Send + 'a;

pub(crate) struct AsyncLink {
    wire: Wire,
    proto: Protocol,
    limits: Limits,
    /// The transport must be reset before the next exchange: an exchange was given up and
    /// the reset failed, or a caller dropped an exchange's future before it was done (its
    /// answers may still come; a dump left unread would make the kernel refuse the next).
    stale: bool,
}

/// What moves the datagrams.
enum Wire {
    /// The kernel's netlink socket, non-blocking, registered with tokio.
    Socket(AsyncSocket),
    /// Any [`Transport`] (the fake kernel), called in place: its `recv` must not wait long.
    Transport(Box<dyn Transport>),
}

/// The netlink socket under tokio. `fd` is `None` only after a reset failed to open a new
/// socket; the next exchange tries again.
struct AsyncSocket {
    fd: Option<AsyncFd<SocketTransport>>,
    netns: Option<Netns>,
    purpose: Purpose,
}

/// Runs `f` on tokio's blocking pool: opening a socket in another namespace (a thread that
/// joins it), `modprobe`, reading `/proc`. The runtime's own threads never change namespace.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))?
}

/// The socket, non-blocking, registered with the runtime's reactor.
fn register(socket: SocketTransport) -> io::Result<AsyncFd<SocketTransport>> {
    socket.set_nonblocking()?;
    // SAFETY: the SocketTransport owns its socket's fd, open until it is dropped, and the
    // fd never changes while the AsyncFd holds it: only `send` and `next_ready` are called
    // through it (never `Transport::reset`, which replaces the socket: a reset here drops the
    // AsyncFd and registers a new one).
    Ok(unsafe { AsyncFd::register(socket) }?)
}

fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

impl AsyncSocket {
    fn fd(&mut self) -> io::Result<&mut AsyncFd<SocketTransport>> {
        self.fd
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "no netlink socket"))
    }

    async fn send(&mut self, datagram: &[u8], timeout: Duration) -> io::Result<()> {
        let fd = self.fd()?;
        loop {
            match fd.get_mut().send(datagram) {
                Err(e) if is_retry(&e) => {}
                other => return other,
            }
            // The send buffer is full (the kernel takes a datagram inside the send call, so
            // this is rare): wait for room, as long as for an answer at most.
            let mut guard = tokio::time::timeout(timeout, fd.writable_mut())
                .await
                .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
            guard.clear_ready();
        }
    }

    async fn recv(&mut self, wait: Duration) -> io::Result<Option<&[u8]>> {
        let fd = self.fd()?;
        // The kernel answers a request inside the call that sends it, so the answer is usually
        // there already: read first, and set a timer only when nothing is.
        match fd.get_mut().next_ready() {
            Ok(()) => return Ok(Some(fd.get_ref().current())),
            Err(e) if is_retry(&e) => {}
            Err(e) => return Err(e),
        }
        let readable = async {
            loop {
                let mut guard = fd.readable_mut().await?;
                match guard.try_io(|s| s.get_mut().next_ready()) {
                    Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                    Ok(received) => return received,
                    Err(_would_block) => {}
                }
            }
        };
        match tokio::time::timeout(wait, readable).await {
            Ok(Ok(())) => Ok(Some(fd.get_ref().current())),
            Ok(Err(e)) => Err(e),
            Err(_elapsed) => Ok(None),
        }
    }

    /// A fresh socket in the same namespace, for the same purpose.
    async fn reset(&mut self) -> io::Result<()> {
        self.fd = None;
        let (netns, purpose) = (self.netns.clone(), self.purpose);
        let fresh = blocking(move || SocketTransport::open(netns.as_ref(), purpose))
            .await
            .map_err(|e| match e {
                Error::Io(e) | Error::Namespace { source: e, .. } => e,
                other => io::Error::other(other.to_string()),
            })?;
        self.fd = Some(register(fresh)?);
        Ok(())
    }
}

impl Wire {
    async fn send(&mut self, datagram: &[u8], timeout: Duration) -> io::Result<()> {
        match self {
            Wire::Socket(s) => s.send(datagram, timeout).await,
            Wire::Transport(t) => t.send(datagram),
        }
    }

    async fn recv(&mut self, wait: Duration) -> io::Result<Option<&[u8]>> {
        match self {
            Wire::Socket(s) => s.recv(wait).await,
            Wire::Transport(t) => t.recv(wait),
        }
    }

    async fn reset(&mut self) -> io::Result<()> {
        match self {
            Wire::Socket(s) => s.reset().await,
            Wire::Transport(t) => t.reset(),
        }
    }
}

impl AsyncLink {
    /// Takes over a blocking link's socket (its family resolved), registered with the
    /// runtime.
    pub(crate) fn over_socket(link: Link<SocketTransport>) -> Result<AsyncLink, Error> {
        let (socket, proto, limits) = link.into_parts();
        let (netns, purpose) = socket.origin();
        Ok(AsyncLink {
            wire: Wire::Socket(AsyncSocket {
                fd: Some(register(socket)?),
                netns,
                purpose,
            }),
            proto,
            limits,
            stale: false,
        })
    }

    /// A link over any transport (family not resolved yet).
    pub(crate) fn over_transport(transport: Box<dyn Transport>) -> AsyncLink {
        AsyncLink {
            wire: Wire::Transport(transport),
            proto: Protocol::new(0),
            limits: Limits::default(),
            stale: false,
        }
    }

    pub(crate) fn set_family(&mut self, family: u16) {
        self.proto.set_family(family);
    }

    /// The reply loop of [`Link`], awaiting instead of blocking (see [`Turn`]).
    async fn run(
        &mut self,
        datagram: &[u8],
        exchange: &mut Exchange,
        timeout: Duration,
        data: &mut OnData<'_>,
    ) -> Option<Interrupted> {
        if self.stale {
            if let Err(e) = self.wire.reset().await {
                return Some(Interrupted::NotSent(e));
            }
            self.stale = false;
        }
        if let Err(e) = self.wire.send(datagram, timeout).await {
            return Some(Interrupted::NotSent(e));
        }
        // Until the exchange is done, a dropped future leaves its answers on the way.
        self.stale = true;
        let mut turn = Turn::new(timeout);
        while !exchange.is_done() {
            let got = self.wire.recv(turn.wait()).await;
            if let Err(why) = turn.received(exchange, got, data) {
                self.stale = self.wire.reset().await.is_err();
                return Some(why);
            }
        }
        self.stale = false;
        None
    }

    /// One request; the payload of each data message it brings goes to `each`.
    pub(crate) async fn request(
        &mut self,
        req: &Request,
        timeout: Duration,
        each: &mut Each<'_>,
    ) -> Result<(), Error> {
        let (datagram, mut exchange) = self.proto.single(req);
        let interrupted = self
            .run(&datagram, &mut exchange, timeout, &mut |_, p| each(p))
            .await;
        exchange.outcome(interrupted)
    }

    /// The "IPVS" family's id, or `None` when the kernel has no such family.
    pub(crate) async fn resolve_family(&mut self, timeout: Duration) -> Result<Option<u16>, Error> {
        let (datagram, mut exchange) = self.proto.get_family();
        let mut id = None;
        let mut take = |_: usize, payload: &[u8]| {
            id = Some(decode_family(payload)?);
            Ok(())
        };
        let interrupted = self.run(&datagram, &mut exchange, timeout, &mut take).await;
        family_outcome(exchange.outcome(interrupted), id)
    }

    /// [`Link::batch`]: the present requests pipelined, each outcome written at its index.
    pub(crate) async fn batch(
        &mut self,
        requests: &[Option<Request>],
        timeout: Duration,
        results: &mut [Option<Result<(), Error>>],
    ) {
        for (chunk, bytes) in Pipeline::new(requests, self.limits) {
            let Some((datagram, mut exchange)) = self.proto.pipelined(chunk, bytes) else {
                continue;
            };
            let interrupted = self
                .run(&datagram, &mut exchange, timeout, &mut |_, _| Ok(()))
                .await;
            link::record(exchange, interrupted, results);
        }
    }

    /// The kernel's `/proc/net/ip_vs_conn`, read where the transport's kernel is (for the
    /// socket, on the blocking pool).
    pub(crate) async fn read_conn_table(&mut self) -> io::Result<String> {
        match &mut self.wire {
            Wire::Socket(s) => {
                let netns = s.netns.clone();
                blocking(move || Ok(socket::read_conn_table_in(netns.as_ref())?))
                    .await
                    .map_err(|e| match e {
                        Error::Io(e) => e,
                        other => io::Error::other(other.to_string()),
                    })
            }
            Wire::Transport(t) => t.read_conn_table(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::request;
    use lvs_core::Operation;
    use std::time::Instant;

    // Generic netlink needs no privilege and no IPVS: these run on any Linux host, over the
    // kernel's own socket.

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    }

    fn link() -> AsyncLink {
        let socket = SocketTransport::open(None, Purpose::Main).expect("a netlink socket");
        AsyncLink::over_socket(Link::new(socket, 0, Limits::default())).expect("registered")
    }

    /// A link whose requests go to message type 1 (`NLMSG_NOOP`): the kernel takes them and,
    /// for a dump (no `NLM_F_ACK`), answers nothing at all.
    fn unanswered() -> AsyncLink {
        let mut link = link();
        link.set_family(1);
        link
    }

    #[test]
    fn the_controller_answers_through_the_async_socket() {
        runtime().block_on(async {
            let mut link = link();
            // This host may or may not have IPVS: either answer came back in time.
            let found = link.resolve_family(Duration::from_secs(5)).await;
            assert!(found.is_ok(), "{found:?}");
        });
    }

    #[test]
    fn a_kernel_that_never_answers_times_out_at_the_deadline() {
        runtime().block_on(async {
            let mut link = unanswered();
            let wait = Duration::from_millis(50);
            let start = Instant::now();
            let got = link
                .request(&request::get_services(), wait, &mut |_| Ok(()))
                .await;
            assert!(
                matches!(got, Err(Error::Timeout { op: Operation::GetServices, after }) if after == wait),
                "{got:?}"
            );
            assert!(start.elapsed() >= wait);
            assert!(!link.stale, "the socket was replaced");
            assert!(link.resolve_family(Duration::from_secs(5)).await.is_ok());
        });
    }

    #[test]
    fn a_dropped_exchange_leaves_the_next_one_a_fresh_socket() {
        runtime().block_on(async {
            let mut link = unanswered();
            let long = Duration::from_secs(60);
            let abandoned = tokio::time::timeout(
                Duration::from_millis(20),
                link.request(&request::get_services(), long, &mut |_| Ok(())),
            )
            .await;
            assert!(abandoned.is_err(), "the caller gave up first");
            assert!(
                link.stale,
                "answers may still come: reset before the next exchange"
            );
            assert!(link.resolve_family(Duration::from_secs(5)).await.is_ok());
            assert!(!link.stale);
        });
    }
}
