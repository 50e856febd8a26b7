//! The reply loop of one exchange, without I/O: how long the next wait for the kernel may last,
//! and what a receive's result does to the exchange. Both clients drive it the same way:
//!
//! ```text
//! send the datagram
//! while !exchange.is_done():
//!     got = receive, waiting turn.wait() at most      (poll(2), or tokio's readiness)
//!     turn.received(&mut exchange, got, data)?        (Err: give the exchange up)
//! ```

use super::{Exchange, Interrupted, OnData};
use std::io;
use std::time::{Duration, Instant};

/// The waiting policy of one exchange. Each wait for the kernel's next answer lasts the reply
/// timeout at most: a kernel that streams a long dump never times out, one that goes silent
/// always does, and stray datagrams for other requests (late answers to abandoned ones) do not
/// extend the wait.
#[derive(Debug)]
pub(crate) struct Turn {
    timeout: Duration,
    /// Set only while stray datagrams arrive; the clock is not read otherwise.
    deadline: Option<Instant>,
}

impl Turn {
    pub(crate) fn new(timeout: Duration) -> Turn {
        Turn {
            timeout,
            deadline: None,
        }
    }

    /// How long the next receive may wait.
    pub(crate) fn wait(&self) -> Duration {
        self.deadline.map_or(self.timeout, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }

    /// Takes what one receive brought: a datagram (fed to `exchange`), nothing within
    /// [`Turn::wait`] (a timeout), or an error. `Err` says why the exchange must be given up;
    /// `Ok` to go on receiving until the exchange is done.
    pub(crate) fn received(
        &mut self,
        exchange: &mut Exchange,
        got: io::Result<Option<&[u8]>>,
        data: &mut OnData<'_>,
    ) -> Result<(), Interrupted> {
        let fed = match got {
            Ok(Some(received)) => exchange.feed(received, data),
            Ok(None) => return Err(Interrupted::Timeout(self.timeout)),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(Interrupted::Lost(e)),
        };
        match fed {
            Ok(true) => self.deadline = None,
            Ok(false) => {
                self.deadline
                    .get_or_insert_with(|| deadline_after(self.timeout));
            }
            Err(e) => return Err(Interrupted::Garbled(e)),
        }
        Ok(())
    }
}

/// `timeout` from now; a timeout too long for the clock means "as late as it can tell".
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::netlink::{self, NLMSG_ERROR, flags};
    use lvs_core::Operation;

    fn ack(seq: u32) -> Vec<u8> {
        let mut out = Vec::new();
        netlink::append(&mut out, NLMSG_ERROR, flags::CAPPED, seq, &[0; 20]);
        out
    }

    #[test]
    fn any_timeout_gives_a_deadline() {
        assert!(deadline_after(Duration::MAX) > Instant::now() + Duration::from_secs(3600));
        assert!(deadline_after(Duration::ZERO) <= Instant::now());
    }

    #[test]
    fn strays_shorten_the_wait_and_an_answer_restores_it() {
        let timeout = Duration::from_secs(60);
        let mut e = Exchange::single(5, Operation::GetInfo);
        let mut turn = Turn::new(timeout);
        assert_eq!(turn.wait(), timeout);
        let mut none = |_: usize, _: &[u8]| Ok(());
        turn.received(&mut e, Ok(Some(&ack(4))), &mut none).unwrap();
        assert!(turn.wait() < timeout, "a stray does not extend the wait");
        let interrupted = io::Error::from(io::ErrorKind::Interrupted);
        assert!(turn.received(&mut e, Err(interrupted), &mut none).is_ok());
        turn.received(&mut e, Ok(Some(&ack(5))), &mut none).unwrap();
        assert!(e.is_done());
    }

    #[test]
    fn silence_errors_and_garbage_give_the_exchange_up() {
        let mut e = Exchange::single(1, Operation::GetInfo);
        let mut turn = Turn::new(Duration::from_millis(7));
        let mut none = |_: usize, _: &[u8]| Ok(());
        assert!(matches!(
            turn.received(&mut e, Ok(None), &mut none),
            Err(Interrupted::Timeout(d)) if d == Duration::from_millis(7)
        ));
        let enobufs = io::Error::from_raw_os_error(libc::ENOBUFS);
        assert!(matches!(
            turn.received(&mut e, Err(enobufs), &mut none),
            Err(Interrupted::Lost(_))
        ));
        assert!(matches!(
            turn.received(&mut e, Ok(Some(&[1, 2, 3])), &mut none),
            Err(Interrupted::Garbled(_))
        ));
    }
}
