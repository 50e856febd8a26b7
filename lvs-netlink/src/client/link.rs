//! A link: one transport with the protocol state that goes with it, and the one reply loop
//! that every exchange (a request, a dump, a pipelined batch, the family lookup) runs through.

use crate::Error;
use crate::proto::{Exchange, Interrupted, Limits, OnData, Pipeline, Protocol};
use crate::transport::Transport;
use crate::transport::socket::deadline_after;
use crate::wire::request::Request;
use crate::wire::{attrs_of, ctrl};
use lvs_core::errno;
use std::io;
use std::time::{Duration, Instant};

pub(crate) struct Link {
    transport: Box<dyn Transport>,
    proto: Protocol,
    limits: Limits,
    /// An interrupted exchange left the transport to be reset, and the reset failed: try
    /// again before the next exchange.
    stale: bool,
}

impl Link {
    /// A link over `transport` for the IPVS family `family` (0: not resolved yet).
    pub(crate) fn new(transport: Box<dyn Transport>, family: u16, limits: Limits) -> Link {
        Link {
            transport,
            proto: Protocol::new(family),
            limits,
            stale: false,
        }
    }

    pub(crate) fn family(&self) -> u16 {
        self.proto.family()
    }

    pub(crate) fn set_family(&mut self, family: u16) {
        self.proto.set_family(family);
    }

    /// The reply loop: sends `datagram`, then feeds what arrives to `exchange` until its last
    /// request is answered. Each wait for the kernel's next answer lasts `timeout` at most: a
    /// kernel that streams a long dump never times out, one that goes silent always does
    /// (and stray datagrams for other requests do not extend the wait). An interrupted
    /// exchange resets the transport, so that its late answers are never read.
    fn run(
        &mut self,
        datagram: &[u8],
        exchange: &mut Exchange,
        timeout: Duration,
        data: &mut OnData<'_>,
    ) -> Option<Interrupted> {
        if self.stale {
            if let Err(e) = self.transport.reset() {
                return Some(Interrupted::NotSent(e));
            }
            self.stale = false;
        }
        if let Err(e) = self.transport.send(datagram) {
            return Some(Interrupted::NotSent(e));
        }
        // Set only while stray datagrams arrive; the clock is not read otherwise.
        let mut deadline: Option<Instant> = None;
        while !exchange.is_done() {
            let wait = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            let fed = match self.transport.recv(wait) {
                Ok(Some(received)) => exchange.feed(received, data),
                Ok(None) => return Some(self.abandon(Interrupted::Timeout(timeout))),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(self.abandon(Interrupted::Lost(e))),
            };
            match fed {
                Ok(true) => deadline = None,
                Ok(false) => {
                    deadline.get_or_insert_with(|| deadline_after(timeout));
                }
                Err(e) => return Some(self.abandon(Interrupted::Garbled(e))),
            }
        }
        None
    }

    /// Gives up on an exchange: the transport is reset so that its late answers are never read.
    fn abandon(&mut self, why: Interrupted) -> Interrupted {
        self.stale = self.transport.reset().is_err();
        why
    }

    /// One request; the payload of each data message it brings goes to `each`.
    pub(crate) fn request(
        &mut self,
        req: &Request,
        timeout: Duration,
        each: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let (datagram, mut exchange) = self.proto.single(req);
        let interrupted = self.run(&datagram, &mut exchange, timeout, &mut |_, p| each(p));
        exchange.outcome(interrupted)
    }

    /// The "IPVS" family's id, or `None` when the kernel has no such family.
    pub(crate) fn resolve_family(&mut self, timeout: Duration) -> Result<Option<u16>, Error> {
        let (datagram, mut exchange) = self.proto.get_family();
        let mut id = None;
        let interrupted = self.run(&datagram, &mut exchange, timeout, &mut |_, payload| {
            id = Some(ctrl::decode_family_id(attrs_of(payload)?)?);
            Ok(())
        });
        match exchange.outcome(interrupted) {
            Ok(()) => id.map(Some).ok_or(Error::MissingReply {
                op: lvs_core::Operation::GetFamily,
            }),
            Err(Error::Kernel(r)) if r.errno == errno::ENOENT => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends the present requests pipelined, as few datagrams as the limits allow, and
    /// writes each one's outcome into `results` at its index.
    pub(crate) fn batch(
        &mut self,
        requests: &[Option<Request>],
        timeout: Duration,
        results: &mut [Option<Result<(), Error>>],
    ) {
        for (chunk, bytes) in Pipeline::new(requests, self.limits) {
            let Some((datagram, mut exchange)) = self.proto.pipelined(chunk, bytes) else {
                continue;
            };
            let interrupted = self.run(&datagram, &mut exchange, timeout, &mut |_, _| Ok(()));
            for (i, outcome) in exchange.outcomes(interrupted.as_ref()) {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(outcome);
                }
            }
        }
    }

    /// The kernel's `/proc/net/ip_vs_conn`, read where the transport's kernel is.
    pub(crate) fn read_conn_table(&mut self) -> io::Result<String> {
        self.transport.read_conn_table()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_timeout_gives_a_deadline() {
        assert!(deadline_after(Duration::MAX) > Instant::now() + Duration::from_secs(3600));
        assert!(deadline_after(Duration::ZERO) <= Instant::now());
    }
}
