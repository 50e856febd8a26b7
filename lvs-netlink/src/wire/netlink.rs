//! Netlink message framing: `nlmsghdr`, and what a reply means (data, ack, error, end of dump).

use super::DecodeError;
use super::attr::align;

/// `NLMSG_NOOP`.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: an error, or an ack when the code is 0.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// `NLMSG_OVERRUN`.
pub const NLMSG_OVERRUN: u16 = 4;

/// `nlmsghdr` flags lvs uses.
pub mod flags {
    /// `NLM_F_REQUEST`.
    pub const REQUEST: u16 = 0x1;
    /// `NLM_F_MULTI`: part of a dump.
    pub const MULTI: u16 = 0x2;
    /// `NLM_F_ACK`: answer with an ack.
    pub const ACK: u16 = 0x4;
    /// `NLM_F_DUMP` (`ROOT | MATCH`).
    pub const DUMP: u16 = 0x300;
    /// `NLM_F_CAPPED`: an ack or error that carries only the request's header (the socket
    /// has `NETLINK_CAP_ACK`, or the answer is an ack).
    pub const CAPPED: u16 = 0x100;
}

/// The size of `nlmsghdr`.
pub const HEADER_LEN: usize = 16;

/// Appends one netlink message (port id 0: the kernel) to `out`.
///
/// ```
/// use lvs_netlink::wire::netlink::{self, HEADER_LEN, flags};
/// use lvs_netlink::wire::request;
///
/// // Two requests in one datagram; the family id comes from resolving "IPVS" at run time.
/// let family_id = 0x22;
/// let mut datagram = Vec::new();
/// for (seq, req) in [(1, request::get_info()), (2, request::get_timeouts())] {
///     let request_flags = flags::REQUEST | flags::ACK;
///     netlink::append(&mut datagram, family_id, request_flags, seq, &req.msg.encode());
/// }
/// assert_eq!(datagram.len(), 2 * (HEADER_LEN + 4));
/// ```
pub fn append(out: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, payload: &[u8]) {
    append_parts(out, ty, flags, seq, &[payload]);
}

/// Like [`append`], with the payload given in pieces (a generic-netlink header and the
/// attributes, say), so that it need not be gathered into one buffer first.
///
/// ```
/// use lvs_netlink::wire::netlink;
///
/// let (mut whole, mut parts) = (Vec::new(), Vec::new());
/// netlink::append(&mut whole, 0x22, 1, 7, &[4, 1, 0, 0, 9, 9]);
/// netlink::append_parts(&mut parts, 0x22, 1, 7, &[&[4, 1, 0, 0], &[9, 9]]);
/// assert_eq!(whole, parts);
/// ```
pub fn append_parts(out: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, payload: &[&[u8]]) {
    append_to(out, ty, flags, seq, 0, payload);
}

/// Like [`append_parts`], addressed to port id `pid`: how the kernel answers a socket.
///
/// ```
/// use lvs_netlink::wire::netlink::{self, flags};
///
/// let mut reply = Vec::new();
/// netlink::append_to(&mut reply, 0x20, flags::MULTI, 7, 4242, &[&[1, 1, 0, 0]]);
/// let msg = netlink::messages(&reply).next().ok_or("no message")??;
/// assert_eq!((msg.seq, msg.pid, msg.payload), (7, 4242, &[1u8, 1, 0, 0][..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn append_to(out: &mut Vec<u8>, ty: u16, flags: u16, seq: u32, pid: u32, payload: &[&[u8]]) {
    let len = HEADER_LEN + payload.iter().map(|p| p.len()).sum::<usize>();
    out.reserve(align(len));
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    out.extend_from_slice(&ty.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&pid.to_ne_bytes());
    for p in payload {
        out.extend_from_slice(p);
    }
    out.resize(out.len() + (align(len) - len), 0);
}

/// Appends the kernel's answer to `request` (an ack when `errno` is 0, else an error), as
/// `netlink_ack` writes it for a socket with `NETLINK_CAP_ACK`: the negated errno, then the
/// request's header alone, with `NLM_F_CAPPED`.
///
/// ```
/// use lvs_netlink::wire::netlink::{self, Reply, flags};
///
/// let mut request = Vec::new();
/// netlink::append(&mut request, 0x20, flags::REQUEST | flags::ACK, 9, &[17, 1, 0, 0]);
/// let request = netlink::messages(&request).next().ok_or("no message")??;
/// let mut answer = Vec::new();
/// netlink::append_ack(&mut answer, 4242, &request, lvs_core::errno::EEXIST);
/// let msg = netlink::messages(&answer).next().ok_or("no message")??;
/// assert_eq!((msg.seq, msg.pid, msg.reply()?), (9, 4242, Reply::Error(lvs_core::errno::EEXIST)));
/// assert_eq!(msg.payload.len(), 4 + 16, "the request's header, not its payload");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn append_ack(out: &mut Vec<u8>, pid: u32, request: &Message<'_>, errno: i32) {
    let code = errno.saturating_neg().to_ne_bytes();
    let len = u32::try_from(HEADER_LEN + request.payload.len()).unwrap_or(u32::MAX);
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&len.to_ne_bytes());
    header[4..6].copy_from_slice(&request.ty.to_ne_bytes());
    header[6..8].copy_from_slice(&request.flags.to_ne_bytes());
    header[8..12].copy_from_slice(&request.seq.to_ne_bytes());
    header[12..16].copy_from_slice(&request.pid.to_ne_bytes());
    append_to(
        out,
        NLMSG_ERROR,
        flags::CAPPED,
        request.seq,
        pid,
        &[&code, &header],
    );
}

/// Appends the end of a dump (`NLMSG_DONE` with `NLM_F_MULTI`), carrying the negated
/// `errno` (0: the dump is complete).
///
/// ```
/// use lvs_netlink::wire::netlink::{self, Reply};
///
/// let mut end = Vec::new();
/// netlink::append_done(&mut end, 5, 4242, 0);
/// let msg = netlink::messages(&end).next().ok_or("no message")??;
/// assert_eq!(msg.reply()?, Reply::Done(0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn append_done(out: &mut Vec<u8>, seq: u32, pid: u32, errno: i32) {
    let code = errno.saturating_neg().to_ne_bytes();
    append_to(out, NLMSG_DONE, flags::MULTI, seq, pid, &[&code]);
}

/// One netlink message of a received datagram.
///
/// ```
/// use lvs_netlink::wire::netlink::{self, NLMSG_DONE, Reply, flags};
///
/// // The end of a dump, as the kernel sends it for sequence number 5.
/// let mut buf = Vec::new();
/// netlink::append(&mut buf, NLMSG_DONE, flags::MULTI, 5, &0i32.to_ne_bytes());
/// let msg = netlink::messages(&buf).next().ok_or("no message")??;
/// assert_eq!((msg.seq, msg.reply()?), (5, Reply::Done(0)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// `nlmsg_type`: the family id, or `NLMSG_ERROR`/`NLMSG_DONE`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`: the request this answers.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub pid: u32,
    /// The bytes after the header.
    pub payload: &'a [u8],
}

/// What a received message means.
///
/// ```
/// use lvs_netlink::wire::netlink::{self, NLMSG_ERROR, Reply};
///
/// // `nlmsgerr`: the negated errno, then the header of the request it answers.
/// let mut payload = (-17i32).to_ne_bytes().to_vec();
/// payload.extend_from_slice(&[0; 16]);
/// let mut buf = Vec::new();
/// netlink::append(&mut buf, NLMSG_ERROR, 0, 9, &payload);
/// for msg in netlink::messages(&buf) {
///     match msg?.reply()? {
///         Reply::Error(errno) => assert_eq!(lvs_core::errno::EEXIST, errno),
///         other => panic!("unexpected {other:?}"),
///     }
/// }
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A reply with data (a generic-netlink payload).
    Data(&'a [u8]),
    /// The request succeeded (`NLMSG_ERROR` with code 0).
    Ack,
    /// The request failed with this (positive) errno.
    Error(i32),
    /// The dump ended; a non-zero errno means it failed.
    Done(i32),
    /// `NLMSG_NOOP` or `NLMSG_OVERRUN`: nothing to act on.
    Ignore,
}

impl<'a> Message<'a> {
    /// What the message means.
    ///
    /// ```
    /// use lvs_netlink::wire::netlink::{self, NLMSG_ERROR, Reply};
    ///
    /// let mut buf = Vec::new();
    /// netlink::append(&mut buf, NLMSG_ERROR, 0, 3, &[0; 20]); // error code 0: an ack
    /// let ack = netlink::messages(&buf).next().ok_or("no message")??;
    /// assert_eq!(ack.reply()?, Reply::Ack);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reply(&self) -> Result<Reply<'a>, DecodeError> {
        let code = || -> Result<i32, DecodeError> {
            let bytes = self.payload.get(..4).ok_or_else(|| {
                DecodeError::new("nlmsgerr", format!("{} bytes", self.payload.len()))
            })?;
            let mut b = [0u8; 4];
            b.copy_from_slice(bytes);
            Ok(i32::from_ne_bytes(b))
        };
        Ok(match self.ty {
            NLMSG_ERROR => match code()? {
                0 => Reply::Ack,
                e => Reply::Error(e.saturating_neg()),
            },
            // An old kernel may send DONE with no payload.
            NLMSG_DONE if self.payload.len() < 4 => Reply::Done(0),
            NLMSG_DONE => Reply::Done(code()?.saturating_neg()),
            NLMSG_NOOP | NLMSG_OVERRUN => Reply::Ignore,
            _ => Reply::Data(self.payload),
        })
    }
}

/// Walks the messages of a datagram.
///
/// ```
/// use lvs_netlink::wire::netlink::{self, flags};
/// use lvs_netlink::wire::{GenlMessage, cmd};
///
/// let mut buf = Vec::new();
/// let reply = GenlMessage::new(cmd::NEW_SERVICE, Vec::new()).encode();
/// netlink::append(&mut buf, 0x22, flags::MULTI, 4, &reply);
/// netlink::append(&mut buf, 0x22, flags::MULTI, 4, &reply);
/// let seqs: Vec<u32> =
///     netlink::messages(&buf).map(|m| m.map(|m| m.seq)).collect::<Result<_, _>>()?;
/// assert_eq!(seqs, [4, 4]);
/// assert!(netlink::messages(&buf[..30]).any(|m| m.is_err()), "a cut datagram is an error");
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn messages(buf: &[u8]) -> impl Iterator<Item = Result<Message<'_>, DecodeError>> + '_ {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() < HEADER_LEN {
            let n = rest.len();
            rest = &[];
            return Some(Err(DecodeError::new(
                "nlmsghdr",
                format!("{n} trailing bytes, too short for a header"),
            )));
        }
        let word = |i: usize| u32::from_ne_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
        let len = usize::try_from(word(0)).unwrap_or(usize::MAX);
        if len < HEADER_LEN || len > rest.len() {
            let problem = format!("length {len} with {} bytes left", rest.len());
            rest = &[];
            return Some(Err(DecodeError::new("nlmsghdr", problem)));
        }
        let msg = Message {
            ty: u16::from_ne_bytes([rest[4], rest[5]]),
            flags: u16::from_ne_bytes([rest[6], rest[7]]),
            seq: word(8),
            pid: word(12),
            payload: &rest[HEADER_LEN..len],
        };
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(Ok(msg))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_reads_back() {
        let mut buf = Vec::new();
        append(&mut buf, 0x20, flags::REQUEST | flags::ACK, 7, &[1, 2, 3]);
        append(&mut buf, NLMSG_ERROR, 0, 8, &(-17i32).to_ne_bytes());
        append(&mut buf, NLMSG_ERROR, 0, 9, &0i32.to_ne_bytes());
        append(&mut buf, NLMSG_DONE, flags::MULTI, 10, &0i32.to_ne_bytes());
        assert_eq!(buf.len(), 20 + 20 + 20 + 20);
        let msgs: Vec<_> = messages(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs[0].seq, 7);
        assert_eq!(msgs[0].reply().unwrap(), Reply::Data(&[1, 2, 3]));
        assert_eq!(msgs[1].reply().unwrap(), Reply::Error(17));
        assert_eq!(msgs[2].reply().unwrap(), Reply::Ack);
        assert_eq!(msgs[3].reply().unwrap(), Reply::Done(0));
    }

    #[test]
    fn bad_lengths_are_errors() {
        let mut buf = Vec::new();
        append(&mut buf, 0x20, 0, 1, &[]);
        buf[0] = 200;
        assert!(messages(&buf).next().unwrap().is_err());
        assert!(messages(&[0u8; 5]).next().unwrap().is_err());
        let short = Message {
            ty: NLMSG_ERROR,
            flags: 0,
            seq: 0,
            pid: 0,
            payload: &[0, 0],
        };
        assert!(short.reply().is_err());
    }
}
