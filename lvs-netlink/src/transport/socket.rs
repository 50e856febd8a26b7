//! The real transport: a `NETLINK_GENERIC` socket (neli's [`NlSocket`], which lvs uses for
//! nothing but the socket), in the handle's network namespace.

use super::Transport;
use crate::Error;
use crate::netns::{self, Netns};
use crate::proto::deadline_after;
use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use std::io;
use std::ops::Range;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// Socket buffer size lvs asks for (8 MiB), so that thousands of pipelined acks fit.
const BUFFER_SIZE: usize = 8 << 20;
/// Each half of the main socket's receive buffer: the kernel caps a dump datagram at 32 KiB
/// (`SKB_WITH_OVERHEAD(32768)`), and a reply that does not fit is `EMSGSIZE`.
const HALF_MAIN: usize = 32 << 10;

/// What a socket is for, which decides its receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Requests, batches and the service dump.
    Main,
    /// One service's real servers at a time (see [`SocketTransport::open`]).
    SmallDumps,
}

/// A generic-netlink socket in one network namespace.
pub(crate) struct SocketTransport {
    sock: NlSocket,
    netns: Option<Netns>,
    purpose: Purpose,
    /// Two halves, one datagram each (`recvmmsg`).
    buf: Vec<u8>,
    /// Where the datagram handed out last is, and the second one of the last `recvmmsg`
    /// that is not handed out yet.
    current: Range<usize>,
    queued: Option<Range<usize>>,
    /// The send and receive buffer sizes the kernel granted (already doubled).
    pub(crate) sndbuf: usize,
    pub(crate) rcvbuf: usize,
}

impl SocketTransport {
    /// Opens a socket in `netns` (the calling thread's without one).
    ///
    /// For [`Purpose::SmallDumps`] the receive buffer is one page per datagram: the kernel
    /// sizes each dump datagram after the largest buffer the socket has read into (up to 32
    /// KiB, an order-3 allocation), and a dump costs two datagrams (its data and its end), so
    /// a one-page buffer keeps those allocations at one page (`NLMSG_GOODSIZE`, which always
    /// fits); a service with many real servers just takes more datagrams.
    pub(crate) fn open(netns: Option<&Netns>, purpose: Purpose) -> Result<SocketTransport, Error> {
        let sock = netns::run_in(netns, || Ok(open_socket()?))?;
        let half = match purpose {
            Purpose::Main => HALF_MAIN,
            // SAFETY: sysconf has no preconditions.
            Purpose::SmallDumps => usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
                .unwrap_or(4096)
                .max(4096),
        };
        Ok(SocketTransport {
            sndbuf: get_buffer(&sock, libc::SO_SNDBUF),
            rcvbuf: get_buffer(&sock, libc::SO_RCVBUF),
            sock,
            netns: netns.cloned(),
            purpose,
            buf: vec![0; 2 * half],
            current: 0..0,
            queued: None,
        })
    }

    /// Receives one datagram, and a second one in the same call if it is already queued
    /// (`recvmmsg` with `MSG_WAITFORONE`), each into one half of the buffer; never blocks
    /// (`WouldBlock` when nothing is there). Reading a dump's last data makes the kernel queue
    /// its end at once, so a small dump takes one call.
    fn recv_two(&mut self) -> io::Result<[Range<usize>; 2]> {
        let half = self.buf.len() / 2;
        let (first, second) = self.buf.split_at_mut(half);
        let mut iov = [first, &mut second[..half]].map(|b| libc::iovec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: b.len(),
        });
        // SAFETY: mmsghdr is plain data; all-zero is a valid empty header.
        let mut msgs: [libc::mmsghdr; 2] = unsafe { std::mem::zeroed() };
        for (m, v) in msgs.iter_mut().zip(iov.iter_mut()) {
            m.msg_hdr.msg_iov = v;
            m.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: two headers, each pointing at one iovec over its half of self.buf, all
        // alive for the call.
        let n = unsafe {
            libc::recvmmsg(
                self.sock.as_raw_fd(),
                msgs.as_mut_ptr(),
                2,
                libc::MSG_WAITFORONE | libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let got = usize::try_from(n).unwrap_or(0);
        if msgs[..got]
            .iter()
            .any(|m| m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0)
        {
            // A reply larger than the buffer: it cannot be read whole.
            return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
        }
        let len = |i: usize| if i < got { msgs[i].msg_len as usize } else { 0 };
        Ok([0..len(0), half..half + len(1)])
    }

    /// Makes the next datagram [`SocketTransport::current`] if one is there already: the
    /// second of the last `recvmmsg`, or a new one; never waits (`WouldBlock` when nothing
    /// is there). The async client calls this when tokio says the socket is readable.
    pub(crate) fn next_ready(&mut self) -> io::Result<()> {
        if let Some(next) = self.queued.take() {
            self.current = next;
            return Ok(());
        }
        let [first, second] = self.recv_two()?;
        self.current = first;
        self.queued = Some(second).filter(|r| !r.is_empty());
        Ok(())
    }

    /// The datagram [`SocketTransport::next_ready`] received last.
    pub(crate) fn current(&self) -> &[u8] {
        &self.buf[self.current.clone()]
    }

    /// Puts the socket in non-blocking mode (`O_NONBLOCK`), as tokio's `AsyncFd` needs:
    /// a send that would wait says `WouldBlock` instead.
    #[cfg(feature = "tokio")]
    pub(crate) fn set_nonblocking(&self) -> io::Result<()> {
        self.sock.nonblock()
    }

    /// Where this socket is (its namespace) and what it is for: what a fresh one needs.
    #[cfg(feature = "tokio")]
    pub(crate) fn origin(&self) -> (Option<Netns>, Purpose) {
        (self.netns.clone(), self.purpose)
    }

    /// Waits until the socket is readable or `deadline` passes; false when it passed.
    fn wait(&self, deadline: Instant) -> io::Result<bool> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Rounded up, so that a wait under a millisecond does not spin.
            let ms = left.as_micros().div_ceil(1000);
            let mut fd = libc::pollfd {
                fd: self.sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut fd, 1, i32::try_from(ms).unwrap_or(i32::MAX)) };
            match n {
                0 if Instant::now() >= deadline => return Ok(false),
                0 => continue,
                n if n > 0 => return Ok(true),
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
    }
}

impl AsRawFd for SocketTransport {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl Transport for SocketTransport {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        loop {
            match self.sock.send(datagram, Msg::empty()) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other.map(drop),
            }
        }
    }

    fn recv(&mut self, timeout: Duration) -> io::Result<Option<&[u8]>> {
        // The kernel answers a request inside the call that sends it, so the answer is
        // usually there already: read first, and wait (and read the clock, a system call in
        // a VM) only when nothing is.
        let mut deadline = None;
        loop {
            match self.next_ready() {
                Ok(()) => return Ok(Some(self.current())),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
            let deadline = *deadline.get_or_insert_with(|| deadline_after(timeout));
            if !self.wait(deadline)? {
                return Ok(None);
            }
        }
    }

    fn reset(&mut self) -> io::Result<()> {
        let fresh =
            SocketTransport::open(self.netns.as_ref(), self.purpose).map_err(|e| match e {
                Error::Io(e) | Error::Namespace { source: e, .. } => e,
                other => io::Error::other(other.to_string()),
            })?;
        *self = fresh;
        Ok(())
    }

    fn read_conn_table(&mut self) -> io::Result<String> {
        read_conn_table_in(self.netns.as_ref())
    }
}

/// The text of `/proc/net/ip_vs_conn` in `netns` (the calling thread's without one).
pub(crate) fn read_conn_table_in(netns: Option<&Netns>) -> io::Result<String> {
    let read = || Ok(std::fs::read_to_string("/proc/thread-self/net/ip_vs_conn")?);
    netns::run_in(netns, read).map_err(|e| match e {
        Error::Io(e) | Error::Namespace { source: e, .. } => e,
        other => io::Error::other(other.to_string()),
    })
}

/// A blocking generic-netlink socket with lvs's buffer sizes and capped acks.
fn open_socket() -> io::Result<NlSocket> {
    let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
    sock.block()?;
    set_buffer(&sock, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF);
    set_buffer(&sock, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF);
    cap_acks(&sock);
    Ok(sock)
}

/// `NETLINK_CAP_ACK` (Linux 4.2): errors and acks carry only the failed request's header, not
/// its whole payload back, which saves the kernel a copy per answer. Older kernels refuse the
/// option and echo the request; lvs reads both.
fn cap_acks(sock: &NlSocket) {
    let on: libc::c_int = 1;
    // SAFETY: a valid fd, a pointer to a c_int and its size.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_NETLINK,
            libc::NETLINK_CAP_ACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn set_buffer(sock: &NlSocket, force: libc::c_int, plain: libc::c_int) {
    let size = libc::c_int::try_from(BUFFER_SIZE).unwrap_or(libc::c_int::MAX);
    for opt in [force, plain] {
        // SAFETY: a valid fd, a pointer to a c_int and its size.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        // The FORCE variant needs CAP_NET_ADMIN; the plain one is capped by net.core.*mem_max.
        if rc == 0 {
            return;
        }
    }
}

fn get_buffer(sock: &NlSocket, opt: libc::c_int) -> usize {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid fd, a pointer to a c_int and its size.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        usize::try_from(v).unwrap_or(0)
    } else {
        // The kernel's usual default.
        212_992
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ctrl;
    use crate::wire::netlink::{self, Reply, flags};

    // Generic netlink needs no privilege and no IPVS: these run on any Linux host.

    #[test]
    fn a_socket_with_nothing_to_read_returns_at_the_deadline() {
        let mut t = SocketTransport::open(None, Purpose::Main).expect("a netlink socket");
        let start = Instant::now();
        let got = t.recv(Duration::from_millis(30)).expect("recv");
        assert!(got.is_none());
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn the_controller_answers_through_the_socket() {
        let mut t = SocketTransport::open(None, Purpose::SmallDumps).expect("a netlink socket");
        let mut datagram = Vec::new();
        let req = ctrl::get_family("nlctrl");
        let request_flags = flags::REQUEST | flags::ACK;
        netlink::append(
            &mut datagram,
            ctrl::GENL_ID_CTRL,
            request_flags,
            7,
            &req.encode(),
        );
        t.send(&datagram).expect("send");
        let reply = t
            .recv(Duration::from_secs(5))
            .expect("recv")
            .expect("an answer");
        let msg = netlink::messages(reply)
            .next()
            .expect("a message")
            .expect("framed");
        let Reply::Data(payload) = msg.reply().expect("a reply") else {
            panic!("expected nlctrl's own family, got {msg:?}");
        };
        let id = ctrl::decode_family_id(&payload[4..]).expect("an id");
        assert_eq!(id, ctrl::GENL_ID_CTRL, "nlctrl describes itself");
        t.reset().expect("a fresh socket");
        assert!(
            t.recv(Duration::ZERO).expect("recv").is_none(),
            "the ack went with the old socket"
        );
    }
}
