//! One exchange: the requests of one datagram, and what the kernel has answered to each.

use crate::Error;
use crate::wire::DecodeError;
use crate::wire::netlink::{self, Reply};
use lvs_core::{Operation, Refusal};
use std::io;
use std::time::Duration;

/// What a caller does with each data message: gets its request's caller index (a batch
/// command's position; 0 for a single request) and its generic-netlink payload.
pub(crate) type OnData<'a> = dyn FnMut(usize, &[u8]) -> Result<(), Error> + 'a;

/// Why an exchange ended before its last request was answered.
#[derive(Debug)]
pub(crate) enum Interrupted {
    /// The datagram could not be sent: the kernel got none of it.
    NotSent(io::Error),
    /// No answer came within this long.
    Timeout(Duration),
    /// Receiving failed: answers were lost (`ENOBUFS`), or could not be read.
    Lost(io::Error),
    /// A received datagram was not netlink messages.
    Garbled(DecodeError),
}

impl Interrupted {
    /// The error for a request of `op` that this left without an answer.
    fn error(&self, op: Operation) -> Error {
        match self {
            Interrupted::NotSent(e) => Error::Io(Error::copy_io(e)),
            Interrupted::Timeout(after) => Error::Timeout { op, after: *after },
            Interrupted::Lost(e) => Error::Lost {
                op,
                source: Error::copy_io(e),
            },
            Interrupted::Garbled(e) => Error::from(e.clone()),
        }
    }
}

/// One request of an exchange.
#[derive(Debug)]
struct Slot {
    seq: u32,
    /// The caller's index for it (its command's position in a batch).
    index: usize,
    op: Operation,
    /// Whether its answer ends the exchange.
    last: bool,
    /// Its final answer, once received.
    answer: Option<Result<(), Error>>,
    /// The first of its data messages that the caller could not take.
    bad_data: Option<Error>,
}

/// The requests of one datagram, waiting for their answers.
#[derive(Debug)]
pub(crate) struct Exchange {
    slots: Vec<Slot>,
    done: bool,
}

impl Exchange {
    /// One request, answered by an ack, an error or (a dump) its end.
    pub(super) fn single(seq: u32, op: Operation) -> Exchange {
        let mut e = Exchange::pipelined();
        e.push(seq, 0, op, true);
        e
    }

    /// An exchange to fill with [`Exchange::push`].
    pub(super) fn pipelined() -> Exchange {
        Exchange {
            slots: Vec::new(),
            done: false,
        }
    }

    /// Adds a request sent with sequence number `seq`; `last` for the one whose answer ends
    /// the exchange.
    pub(super) fn push(&mut self, seq: u32, index: usize, op: Operation, last: bool) {
        self.slots.push(Slot {
            seq,
            index,
            op,
            last,
            answer: None,
            bad_data: None,
        });
    }

    pub(super) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether the last request has its answer.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// The slot of sequence number `seq`. An exchange's numbers are consecutive (but for the
    /// wrap from `u32::MAX` to 1), so the position is usually `seq - first`.
    fn find(&self, seq: u32) -> Option<usize> {
        let first = self.slots.first()?.seq;
        let guess = seq.wrapping_sub(first) as usize;
        match self.slots.get(guess) {
            Some(s) if s.seq == seq => Some(guess),
            _ => self.slots.iter().position(|s| s.seq == seq),
        }
    }

    /// Reads one received datagram: hands each data message's generic-netlink payload to
    /// `data` with its request's caller index, and records final answers. Messages for other
    /// requests (late answers to abandoned ones) are skipped. Returns whether anything in it
    /// was for this exchange; an error when the datagram is not netlink messages.
    pub(crate) fn feed(
        &mut self,
        datagram: &[u8],
        data: &mut OnData<'_>,
    ) -> Result<bool, DecodeError> {
        let mut progress = false;
        for m in netlink::messages(datagram) {
            let m = m?;
            let Some(i) = self.find(m.seq) else {
                continue;
            };
            progress = true;
            let slot = &mut self.slots[i];
            if slot.answer.is_some() {
                continue;
            }
            let answer = match m.reply() {
                Ok(Reply::Data(payload)) => {
                    if slot.bad_data.is_none() {
                        slot.bad_data = data(slot.index, payload).err();
                    }
                    continue;
                }
                Ok(Reply::Ack | Reply::Done(0)) => slot.bad_data.take().map_or(Ok(()), Err),
                Ok(Reply::Error(errno) | Reply::Done(errno)) => {
                    Err(Error::Kernel(Refusal::new(slot.op, errno)))
                }
                Ok(Reply::Ignore) => continue,
                Err(e) => Err(Error::from(e)),
            };
            slot.answer = Some(answer);
            self.done |= slot.last;
        }
        Ok(progress)
    }

    /// Each request's outcome, with its caller index: its answer if it had one; success for
    /// one without an answer once the exchange is done (the kernel answers a request without
    /// `NLM_F_ACK` only to refuse it); else the error of why the exchange ended early.
    pub(crate) fn outcomes(
        self,
        interrupted: Option<&Interrupted>,
    ) -> impl Iterator<Item = (usize, Result<(), Error>)> {
        let done = self.done;
        self.slots.into_iter().map(move |s| {
            let outcome = match s.answer {
                Some(answer) => answer,
                None if done => Ok(()),
                None => Err(match interrupted {
                    Some(why) => why.error(s.op),
                    None => Error::MissingReply { op: s.op },
                }),
            };
            (s.index, outcome)
        })
    }

    /// The outcome of a single request.
    pub(crate) fn outcome(self, interrupted: Option<Interrupted>) -> Result<(), Error> {
        if let Some(Interrupted::NotSent(e)) = interrupted {
            return Err(Error::Io(e));
        }
        let mut all = self.outcomes(interrupted.as_ref());
        all.next().map_or(Ok(()), |(_, r)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::{NLMSG_DONE, NLMSG_ERROR, flags};
    use lvs_core::errno;

    fn answer(out: &mut Vec<u8>, seq: u32, errno: i32) {
        let mut payload = errno.saturating_neg().to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        netlink::append(out, NLMSG_ERROR, flags::CAPPED, seq, &payload);
    }

    fn data(out: &mut Vec<u8>, seq: u32, byte: u8) {
        netlink::append(out, 0x20, flags::MULTI, seq, &[1, 1, 0, 0, byte, 0, 0, 0]);
    }

    fn keep_all(seen: &mut Vec<(usize, u8)>) -> impl FnMut(usize, &[u8]) -> Result<(), Error> {
        move |i, p| {
            seen.push((i, p[4]));
            Ok(())
        }
    }

    #[test]
    fn a_dump_collects_its_data_until_done_across_datagrams() {
        let mut e = Exchange::single(7, Operation::GetServices);
        let mut seen = Vec::new();
        let (mut first, mut second) = (Vec::new(), Vec::new());
        data(&mut first, 7, 1);
        data(&mut first, 6, 99); // a late answer to an abandoned request
        data(&mut first, 7, 2);
        data(&mut second, 7, 3);
        netlink::append(
            &mut second,
            NLMSG_DONE,
            flags::MULTI,
            7,
            &0i32.to_ne_bytes(),
        );
        assert_eq!(e.feed(&first, &mut keep_all(&mut seen)), Ok(true));
        assert!(!e.is_done());
        let mut stale = Vec::new();
        answer(&mut stale, 6, 0);
        assert_eq!(e.feed(&stale, &mut keep_all(&mut seen)), Ok(false));
        assert_eq!(e.feed(&second, &mut keep_all(&mut seen)), Ok(true));
        assert!(e.is_done());
        assert_eq!(seen, [(0, 1), (0, 2), (0, 3)]);
        assert!(e.outcome(None).is_ok());
    }

    #[test]
    fn a_failed_dump_or_refused_request_is_the_kernels_refusal() {
        let mut e = Exchange::single(3, Operation::GetDestinations);
        let mut end = Vec::new();
        netlink::append(
            &mut end,
            NLMSG_DONE,
            flags::MULTI,
            3,
            &(-errno::EPERM).to_ne_bytes(),
        );
        e.feed(&end, &mut |_, _| Ok(())).unwrap();
        let err = e.outcome(None).unwrap_err();
        assert_eq!(
            err.refusal().map(|r| (r.op, r.errno)),
            Some((Operation::GetDestinations, errno::EPERM))
        );
    }

    #[test]
    fn data_the_caller_refuses_fails_the_request_once_its_end_is_read() {
        let mut e = Exchange::single(4, Operation::GetServices);
        let mut d = Vec::new();
        data(&mut d, 4, 1);
        data(&mut d, 4, 2);
        netlink::append(&mut d, NLMSG_DONE, flags::MULTI, 4, &0i32.to_ne_bytes());
        let mut calls = 0;
        e.feed(&d, &mut |_, _| {
            calls += 1;
            Err(Error::from(DecodeError::new("IPVS_SVC_ATTR_AF", "missing")))
        })
        .unwrap();
        assert!(
            e.is_done(),
            "read to its end (a socket with an unfinished dump refuses the next)"
        );
        assert_eq!(
            calls, 1,
            "the first bad message fails it; the rest are not decoded"
        );
        assert!(matches!(e.outcome(None), Err(Error::Decode { .. })));
    }

    #[test]
    fn refusals_in_a_pipeline_go_to_their_own_requests_and_silence_is_success() {
        let mut e = Exchange::pipelined();
        let ops = [
            Operation::AddService,
            Operation::AddDestination,
            Operation::AddService,
        ];
        // Sequence numbers across the wrap, caller indices with a gap (an invalid command
        // that was never sent).
        for ((seq, index), op) in [(u32::MAX, 0), (1, 2), (2, 3)].into_iter().zip(ops) {
            e.push(seq, index, op, seq == 2);
        }
        let mut d = Vec::new();
        answer(&mut d, 1, errno::ENOENT);
        answer(&mut d, 2, 0);
        e.feed(&d, &mut |_, _| Ok(())).unwrap();
        assert!(e.is_done());
        let got: Vec<(usize, Result<(), i32>)> = e
            .outcomes(None)
            .map(|(i, r)| (i, r.map_err(|e| e.errno().unwrap_or(-1))))
            .collect();
        assert_eq!(got, [(0, Ok(())), (2, Err(errno::ENOENT)), (3, Ok(()))]);
    }

    #[test]
    fn an_interrupted_pipeline_keeps_the_answers_it_had() {
        let mut e = Exchange::pipelined();
        for seq in 1..=3 {
            e.push(seq, seq as usize, Operation::AddService, seq == 3);
        }
        let mut d = Vec::new();
        answer(&mut d, 2, errno::EEXIST);
        e.feed(&d, &mut |_, _| Ok(())).unwrap();
        let why = Interrupted::Timeout(Duration::from_millis(20));
        let got: Vec<_> = e.outcomes(Some(&why)).collect();
        assert!(matches!(
            got[0],
            (
                1,
                Err(Error::Timeout {
                    op: Operation::AddService,
                    ..
                })
            )
        ));
        assert_eq!(got[1].1.as_ref().unwrap_err().errno(), Some(errno::EEXIST));
        assert!(matches!(got[2], (3, Err(Error::Timeout { .. }))));
        let mut lost = Exchange::single(9, Operation::Flush);
        lost.feed(&[], &mut |_, _| Ok(())).unwrap();
        let enobufs = Interrupted::Lost(io::Error::from_raw_os_error(105));
        let err = lost.outcome(Some(enobufs)).unwrap_err();
        assert!(matches!(
            err,
            Error::Lost {
                op: Operation::Flush,
                ..
            }
        ));
        assert_eq!(err.errno(), Some(105));
    }

    #[test]
    fn a_garbled_datagram_is_an_error() {
        let mut e = Exchange::single(1, Operation::GetInfo);
        assert!(e.feed(&[1, 2, 3, 4, 5], &mut |_, _| Ok(())).is_err());
    }
}
