//! The transport: a neli netlink socket bound to the generic-netlink bus, the IPVS family id,
//! sequence numbers, and request/reply exchanges.

use crate::Error;
use crate::wire::netlink::{self, Reply, flags};
use crate::wire::request::Request;
use crate::wire::{FAMILY_NAME, GenlMessage};
use lvs_core::{Refusal, errno};
use neli::consts::genl::{CtrlAttr, CtrlCmd};
use neli::consts::nl::{GenlId, NlmF};
use neli::consts::socket::{Msg, NlFamily};
use neli::genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, NlattrBuilder};
use neli::nl::{NlPayload, NlmsghdrBuilder};
use neli::socket::NlSocket;
use neli::types::GenlBuffer;
use neli::utils::Groups;
use neli::{FromBytesWithInput, ToBytes};
use std::io::{self, Cursor};
use std::os::fd::AsRawFd;

/// Socket buffer size lvs asks for (8 MiB), so that thousands of pipelined acks fit.
const BUFFER_SIZE: usize = 8 << 20;
/// Receive buffer: the kernel caps a dump datagram at 32 KiB plus overhead.
const RECV_LEN: usize = 64 << 10;

/// A netlink socket talking to the IPVS family.
pub(crate) struct Transport {
    sock: NlSocket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
    /// The send and receive buffer sizes the kernel granted (already doubled).
    pub(crate) sndbuf: usize,
    pub(crate) rcvbuf: usize,
}

/// A socket that is open but whose family is not resolved yet.
pub(crate) fn open_socket() -> Result<NlSocket, Error> {
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

impl Transport {
    /// Resolves the IPVS family on `sock`; `Ok(None)` when the kernel has no such family.
    pub(crate) fn resolve(sock: NlSocket) -> Result<Result<Transport, NlSocket>, Error> {
        let sndbuf = get_buffer(&sock, libc::SO_SNDBUF);
        let rcvbuf = get_buffer(&sock, libc::SO_RCVBUF);
        let mut t = Transport {
            sock,
            family: 0,
            seq: 1,
            buf: vec![0; RECV_LEN],
            sndbuf,
            rcvbuf,
        };
        match t.resolve_family()? {
            Some(id) => {
                t.family = id;
                Ok(Ok(t))
            }
            None => Ok(Err(t.sock)),
        }
    }

    /// A transport on `sock` for an already resolved family id, for small dumps (one
    /// service's real servers).
    ///
    /// The kernel sizes each dump datagram after the largest buffer the socket has read into
    /// (up to 32 KiB, an order-3 allocation), and a dump costs two datagrams (its data and its
    /// end). A receive buffer of one page keeps those allocations at one page
    /// (`NLMSG_GOODSIZE`, which always fits); a service with many real servers just takes more
    /// datagrams.
    pub(crate) fn for_small_dumps(sock: NlSocket, family: u16) -> Result<Transport, Error> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Ok(Transport {
            sndbuf: get_buffer(&sock, libc::SO_SNDBUF),
            rcvbuf: get_buffer(&sock, libc::SO_RCVBUF),
            sock,
            family,
            seq: 1,
            buf: vec![0; 2 * usize::try_from(page).unwrap_or(4096).max(4096)],
        })
    }

    /// The IPVS family id.
    pub(crate) fn family(&self) -> u16 {
        self.family
    }

    fn resolve_family(&mut self) -> Result<Option<u16>, Error> {
        let neli_err = |e: &dyn std::fmt::Display| Error::Protocol(format!("neli: {e}"));
        let attr = NlattrBuilder::default()
            .nla_type(
                AttrTypeBuilder::default()
                    .nla_type(CtrlAttr::FamilyName)
                    .build()
                    .map_err(|e| neli_err(&e))?,
            )
            .nla_payload(FAMILY_NAME)
            .build()
            .map_err(|e| neli_err(&e))?;
        let genl = GenlmsghdrBuilder::default()
            .cmd(CtrlCmd::Getfamily)
            .version(2)
            .attrs(std::iter::once(attr).collect::<GenlBuffer<_, _>>())
            .build()
            .map_err(|e| neli_err(&e))?;
        let seq = self.next_seq();
        let msg = NlmsghdrBuilder::default()
            .nl_type(GenlId::Ctrl)
            .nl_flags(NlmF::REQUEST | NlmF::ACK)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(genl))
            .build()
            .map_err(|e| neli_err(&e))?;
        let mut out = Cursor::new(Vec::new());
        msg.to_bytes(&mut out).map_err(|e| neli_err(&e))?;
        self.sock.send(out.get_ref(), Msg::empty())?;
        let mut id = None;
        loop {
            let n = self.recv()?;
            for m in netlink::messages(&self.buf[..n]) {
                let m = m?;
                if m.seq != seq {
                    continue;
                }
                match m.reply()? {
                    Reply::Data(payload) => {
                        let hdr = Genlmsghdr::<CtrlCmd, CtrlAttr>::from_bytes_with_input(
                            &mut Cursor::new(payload),
                            payload.len(),
                        )
                        .map_err(|e| neli_err(&e))?;
                        id = hdr
                            .attrs()
                            .get_attr_handle()
                            .get_attr_payload_as::<u16>(CtrlAttr::FamilyId)
                            .ok();
                    }
                    Reply::Ack | Reply::Done(_) => return Ok(id),
                    Reply::Error(e) if e == errno::ENOENT => return Ok(None),
                    Reply::Error(e) => {
                        return Err(Error::Io(io::Error::from_raw_os_error(e)));
                    }
                    Reply::Ignore => {}
                }
            }
        }
    }

    pub(crate) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Appends `req` as one netlink message with sequence number `seq` to `out`; the kernel
    /// answers it with an ack (or its data, for a dump).
    pub(crate) fn frame(&self, out: &mut Vec<u8>, req: &Request, seq: u32) {
        self.frame_acked(out, req, seq, true);
    }

    /// Like [`Transport::frame`]; without `ack` the kernel answers a change only when it
    /// refuses it (`netlink_rcv_skb` acks every request that fails or asks for one).
    pub(crate) fn frame_acked(&self, out: &mut Vec<u8>, req: &Request, seq: u32, ack: bool) {
        let f = if req.dump {
            flags::REQUEST | flags::DUMP
        } else if ack {
            flags::REQUEST | flags::ACK
        } else {
            flags::REQUEST
        };
        let msg = &req.msg;
        netlink::append_parts(
            out,
            self.family,
            f,
            seq,
            &[&[msg.cmd, msg.version, 0, 0], &msg.attrs],
        );
    }

    pub(crate) fn send(&self, datagram: &[u8]) -> Result<(), Error> {
        self.sock.send(datagram, Msg::empty())?;
        Ok(())
    }

    /// Receives one datagram into the internal buffer; returns its length.
    pub(crate) fn recv(&mut self) -> Result<usize, Error> {
        loop {
            match self.sock.recv(&mut self.buf[..], Msg::empty()) {
                Ok((n, _)) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    /// The last datagram received.
    pub(crate) fn received(&self, n: usize) -> &[u8] {
        &self.buf[..n]
    }

    /// Receives one datagram, and a second one in the same call if it is already queued
    /// (`recvmmsg` with `MSG_WAITFORONE`), each into one half of the buffer; gives where each
    /// landed (the second range is empty when only one came). Reading a dump's last data makes
    /// the kernel queue its end at once, so a small dump takes one call.
    fn recv_two(&mut self) -> Result<[std::ops::Range<usize>; 2], Error> {
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
        loop {
            // SAFETY: two headers, each pointing at one iovec over its half of self.buf, all
            // alive for the call.
            let n = unsafe {
                libc::recvmmsg(
                    self.sock.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    2,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Error::Io(e));
            }
            let got = usize::try_from(n).unwrap_or(0);
            if msgs[..got]
                .iter()
                .any(|m| m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0)
            {
                return Err(Error::Protocol(
                    "a reply did not fit the receive buffer".into(),
                ));
            }
            let len = |i: usize| if i < got { msgs[i].msg_len as usize } else { 0 };
            return Ok([0..len(0), half..half + len(1)]);
        }
    }

    /// Sends the dump request `req` and hands the attributes of each data message to `each`,
    /// reading with [`Transport::recv_two`] so that a small dump's data and its end take one
    /// system call. Meant for a [`Transport::for_small_dumps`] socket.
    pub(crate) fn dump(
        &mut self,
        req: &Request,
        mut each: impl FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let seq = self.next_seq();
        let mut datagram = Vec::with_capacity(64);
        self.frame(&mut datagram, req, seq);
        self.send(&datagram)?;
        // A failure in `each` still reads the dump to its end: a socket with an unfinished
        // dump refuses the next one (EBUSY).
        let mut failed = None;
        loop {
            let [first, second] = self.recv_two()?;
            let mut done = None;
            for m in [first, second]
                .into_iter()
                .flat_map(|r| netlink::messages(&self.buf[r]))
            {
                let m = m?;
                if m.seq != seq {
                    // A late answer to an earlier, abandoned request.
                    continue;
                }
                match m.reply()? {
                    Reply::Data(payload) => {
                        let msg = payload.get(4..).ok_or_else(|| {
                            Error::Protocol("a dump message without its genlmsghdr".into())
                        })?;
                        if failed.is_none() {
                            failed = each(msg).err();
                        }
                    }
                    Reply::Ack | Reply::Done(0) => done = Some(Ok(())),
                    Reply::Error(e) | Reply::Done(e) => {
                        done = Some(Err(Error::Kernel(Refusal::new(req.op, e))))
                    }
                    Reply::Ignore => {}
                }
            }
            if let Some(result) = done {
                return match failed {
                    Some(e) => Err(e),
                    None => result,
                };
            }
        }
    }

    /// Sends one request and collects its replies (the data messages of a doit or a dump).
    pub(crate) fn transact(&mut self, req: &Request) -> Result<Vec<GenlMessage>, Error> {
        let seq = self.next_seq();
        let mut out = Vec::new();
        self.frame(&mut out, req, seq);
        self.send(&out)?;
        let mut replies = Vec::new();
        loop {
            let n = self.recv()?;
            let mut finished = None;
            for m in netlink::messages(&self.buf[..n]) {
                let m = m?;
                if m.seq != seq {
                    // A late answer to an earlier, abandoned request.
                    continue;
                }
                match m.reply()? {
                    Reply::Data(payload) => replies.push(GenlMessage::decode(payload)?),
                    Reply::Ack | Reply::Done(0) => finished = Some(Ok(())),
                    Reply::Error(e) | Reply::Done(e) => {
                        finished = Some(Err(Error::Kernel(Refusal::new(req.op, e))))
                    }
                    Reply::Ignore => {}
                }
            }
            if let Some(result) = finished {
                return result.map(|()| replies);
            }
        }
    }
}
