//! The netlink protocol of lvs, with no I/O (as quinn-proto is to quinn): requests become
//! datagrams ([`Protocol`]), received datagrams become results ([`Exchange`]), and many
//! requests become a few pipelined datagrams ([`Pipeline`]). Whatever moves the bytes (a
//! [`crate::Transport`]) and however long it waits is the caller's business; everything here
//! runs in host tests on hand-made datagrams.
//!
//! - Every request gets its own sequence number; answers are matched by it, so an answer to
//!   an earlier, abandoned request is never taken for a later one's.
//! - A plain request asks for an ack (`NLM_F_ACK`) and is done at its ack or error; a dump
//!   (`NLM_F_DUMP`) is done at its `NLMSG_DONE`; data messages (`NLM_F_MULTI` or not) go to
//!   the caller as they come.
//! - Each wait for an answer has a deadline ([`Turn`]), whatever does the waiting (`poll(2)` in
//!   the blocking client, tokio's readiness in the async one).
//! - In a pipelined datagram only the last request asks for an ack: the kernel handles a
//!   datagram's messages in order and answers the others only to refuse them, so once the
//!   last is answered, a request without an answer succeeded.

mod exchange;
mod pipeline;
mod turn;

pub(crate) use exchange::{Exchange, Interrupted, OnData};
pub(crate) use pipeline::{Limits, Pipeline};
pub(crate) use turn::{Turn, deadline_after};

use crate::wire::netlink::{self, flags};
use crate::wire::request::Request;
use crate::wire::{GenlMessage, ctrl};
use lvs_core::Operation;

/// What one conversation with the kernel needs to frame requests: the IPVS family id and the
/// next sequence number.
#[derive(Debug, Clone)]
pub(crate) struct Protocol {
    family: u16,
    seq: u32,
}

impl Protocol {
    /// A protocol for the IPVS family `family` (0 until the family is resolved: only
    /// [`Protocol::get_family`] can be sent then).
    pub(crate) fn new(family: u16) -> Protocol {
        Protocol { family, seq: 0 }
    }

    /// The IPVS family id.
    pub(crate) fn family(&self) -> u16 {
        self.family
    }

    /// Sets the IPVS family id, once resolved.
    pub(crate) fn set_family(&mut self, family: u16) {
        self.family = family;
    }

    /// The next sequence number: never 0 (the kernel's own notifications use it), wrapping
    /// from `u32::MAX` to 1.
    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Appends `msg` to `out` as one netlink message of type `ty`; returns its sequence
    /// number.
    fn frame(&mut self, out: &mut Vec<u8>, ty: u16, msg: &GenlMessage, flags: u16) -> u32 {
        let seq = self.next_seq();
        let header = [msg.cmd, msg.version, 0, 0];
        netlink::append_parts(out, ty, flags, seq, &[&header, &msg.attrs]);
        seq
    }

    /// One request on its own: the datagram, and the exchange that reads its answers.
    pub(crate) fn single(&mut self, req: &Request) -> (Vec<u8>, Exchange) {
        let mut out = Vec::with_capacity(netlink::HEADER_LEN + 4 + req.msg.attrs.len());
        let request_flags = if req.dump {
            flags::REQUEST | flags::DUMP
        } else {
            flags::REQUEST | flags::ACK
        };
        let seq = self.frame(&mut out, self.family, &req.msg, request_flags);
        (out, Exchange::single(seq, req.op))
    }

    /// The generic-netlink controller's `GETFAMILY` for "IPVS".
    pub(crate) fn get_family(&mut self) -> (Vec<u8>, Exchange) {
        let msg = ctrl::get_family(crate::wire::FAMILY_NAME);
        let mut out = Vec::with_capacity(netlink::HEADER_LEN + 4 + msg.attrs.len());
        let request_flags = flags::REQUEST | flags::ACK;
        let seq = self.frame(&mut out, ctrl::GENL_ID_CTRL, &msg, request_flags);
        (out, Exchange::single(seq, Operation::GetFamily))
    }

    /// Changes pipelined in one datagram, each with its caller's index: only the last asks
    /// for an ack. `None` when there is nothing to send.
    pub(crate) fn pipelined<'r>(
        &mut self,
        requests: impl IntoIterator<Item = (usize, &'r Request)>,
        bytes: usize,
    ) -> Option<(Vec<u8>, Exchange)> {
        let mut requests = requests.into_iter().peekable();
        let mut out = Vec::with_capacity(bytes);
        let mut exchange = Exchange::pipelined();
        while let Some((index, req)) = requests.next() {
            let last = requests.peek().is_none();
            let request_flags = if last {
                flags::REQUEST | flags::ACK
            } else {
                flags::REQUEST
            };
            let seq = self.frame(&mut out, self.family, &req.msg, request_flags);
            exchange.push(seq, index, req.op, last);
        }
        (!exchange.is_empty()).then_some((out, exchange))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::Reply;
    use crate::wire::request;

    #[test]
    fn sequence_numbers_skip_zero_when_they_wrap() {
        let mut p = Protocol::new(0x20);
        p.seq = u32::MAX - 1;
        let seqs: Vec<u32> = (0..3).map(|_| p.next_seq()).collect();
        assert_eq!(seqs, [u32::MAX, 1, 2]);
    }

    #[test]
    fn a_plain_request_asks_for_an_ack_and_a_dump_does_not() {
        let mut p = Protocol::new(0x20);
        let (info, _) = p.single(&request::get_info());
        let (dump, _) = p.single(&request::get_services());
        let info = netlink::messages(&info).next().unwrap().unwrap();
        let dump = netlink::messages(&dump).next().unwrap().unwrap();
        assert_eq!(
            (info.ty, info.flags, info.seq),
            (0x20, flags::REQUEST | flags::ACK, 1)
        );
        assert_eq!((dump.flags, dump.seq), (flags::REQUEST | flags::DUMP, 2));
        assert!(matches!(info.reply(), Ok(Reply::Data(&[15, 1, 0, 0]))));
    }

    #[test]
    fn only_the_last_pipelined_request_asks_for_an_ack() {
        let mut p = Protocol::new(0x20);
        let reqs = [
            request::get_info(),
            request::get_timeouts(),
            request::get_info(),
        ];
        let (datagram, exchange) = p
            .pipelined(reqs.iter().enumerate(), 0)
            .expect("three requests");
        let msgs: Vec<_> = netlink::messages(&datagram).map(Result::unwrap).collect();
        let seen: Vec<(u16, u32)> = msgs.iter().map(|m| (m.flags, m.seq)).collect();
        assert_eq!(
            seen,
            [
                (flags::REQUEST, 1),
                (flags::REQUEST, 2),
                (flags::REQUEST | flags::ACK, 3)
            ]
        );
        assert!(!exchange.is_done());
        assert!(p.pipelined(std::iter::empty(), 0).is_none());
    }
}
