//! A link: one transport with the protocol state that goes with it, and the one reply loop
//! that every exchange (a request, a dump, a pipelined batch, the family lookup) runs through.

use crate::Error;
use crate::proto::{Exchange, Interrupted, Limits, OnData, Pipeline, Protocol, Turn};
use crate::transport::Transport;
use crate::wire::request::Request;
use crate::wire::{attrs_of, ctrl};
use lvs_core::errno;
use std::io;
use std::time::Duration;

/// A link over any transport: `Box<dyn Transport>` in a handle; the socket itself while a new
/// socket looks the family up (so that the async client can take the socket over).
pub(crate) struct Link<T: Transport = Box<dyn Transport>> {
    transport: T,
    proto: Protocol,
    limits: Limits,
    /// An interrupted exchange left the transport to be reset, and the reset failed: try
    /// again before the next exchange.
    stale: bool,
}

impl<T: Transport> Link<T> {
    /// A link over `transport` for the IPVS family `family` (0: not resolved yet).
    pub(crate) fn new(transport: T, family: u16, limits: Limits) -> Link<T> {
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

    /// The same link over a boxed transport, as a handle keeps it.
    pub(crate) fn boxed(self) -> Link
    where
        T: 'static,
    {
        Link {
            transport: Box::new(self.transport),
            proto: self.proto,
            limits: self.limits,
            stale: self.stale,
        }
    }

    /// The transport and the protocol state, for a link of another kind.
    #[cfg(feature = "tokio")]
    pub(crate) fn into_parts(self) -> (T, Protocol, Limits) {
        (self.transport, self.proto, self.limits)
    }

    /// The reply loop ([`Turn`]): sends `datagram`, then feeds what arrives to `exchange`
    /// until its last request is answered, each wait `timeout` at most. An interrupted
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
        let mut turn = Turn::new(timeout);
        while !exchange.is_done() {
            let got = self.transport.recv(turn.wait());
            if let Err(why) = turn.received(exchange, got, data) {
                return Some(self.abandon(why));
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
            id = Some(decode_family(payload)?);
            Ok(())
        });
        family_outcome(exchange.outcome(interrupted), id)
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
            record(exchange, interrupted, results);
        }
    }

    /// The kernel's `/proc/net/ip_vs_conn`, read where the transport's kernel is.
    pub(crate) fn read_conn_table(&mut self) -> io::Result<String> {
        self.transport.read_conn_table()
    }
}

/// The family id in a `GETFAMILY` answer.
pub(crate) fn decode_family(payload: &[u8]) -> Result<u16, Error> {
    Ok(ctrl::decode_family_id(attrs_of(payload)?)?)
}

/// The family lookup's result: its id, `None` when the kernel has no such family (`ENOENT`).
pub(crate) fn family_outcome(
    answer: Result<(), Error>,
    id: Option<u16>,
) -> Result<Option<u16>, Error> {
    match answer {
        Ok(()) => id.map(Some).ok_or(Error::MissingReply {
            op: lvs_core::Operation::GetFamily,
        }),
        Err(Error::Kernel(r)) if r.errno == errno::ENOENT => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes each outcome of a pipelined exchange into `results` at its caller index.
pub(crate) fn record(
    exchange: Exchange,
    interrupted: Option<Interrupted>,
    results: &mut [Option<Result<(), Error>>],
) {
    for (i, outcome) in exchange.outcomes(interrupted.as_ref()) {
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(outcome);
        }
    }
}
