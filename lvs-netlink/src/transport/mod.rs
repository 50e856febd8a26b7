//! The seam between lvs's netlink protocol and the kernel: a [`Transport`] moves datagrams,
//! nothing more. Sequence numbers, pipelining, answer matching, dumps and errors are the
//! protocol's business (`proto`), the same over any transport.
//!
//! lvs has two: the real generic-netlink socket (what [`crate::Ipvs::new`] opens) and, with
//! the `fake` feature, [`crate::fake::FakeKernel`]'s in-memory kernel for tests.

pub(crate) mod socket;

use std::io;
use std::time::Duration;

/// A connection to one kernel's IPVS: sends netlink datagrams to it and receives its answers.
///
/// A datagram holds one or more netlink messages (`nlmsghdr` and payload, each padded to 4
/// bytes), exactly as on an `AF_NETLINK` socket; the kernel answers each request with its
/// own datagrams. [`crate::Ipvs::with_transport`] runs the whole client over any
/// implementation.
///
/// ```
/// use lvs_netlink::Transport;
/// use std::io;
/// use std::time::Duration;
///
/// /// A kernel that never answers: every exchange over it ends in `Error::Timeout`.
/// struct Silent;
///
/// impl Transport for Silent {
///     fn send(&mut self, _datagram: &[u8]) -> io::Result<()> {
///         Ok(())
///     }
///     fn recv(&mut self, _timeout: Duration) -> io::Result<Option<&[u8]>> {
///         Ok(None) // it knows nothing will come: no need to wait for the deadline
///     }
///     fn reset(&mut self) -> io::Result<()> {
///         Ok(())
///     }
/// }
///
/// let err = lvs_netlink::Ipvs::with_transport(Silent).unwrap_err();
/// assert!(matches!(err, lvs_netlink::Error::Timeout { .. }), "{err}");
/// ```
pub trait Transport: Send {
    /// Sends one datagram. The kernel handles its messages in order, before this returns.
    fn send(&mut self, datagram: &[u8]) -> io::Result<()>;

    /// The next datagram received, waiting for it `timeout` at most; `Ok(None)` when none
    /// came by then (a transport that knows none will come may say so at once). A datagram
    /// already there is returned without waiting, and without reading the clock.
    fn recv(&mut self, timeout: Duration) -> io::Result<Option<&[u8]>>;

    /// Starts afresh after an exchange was abandoned (no answer in time, a lost answer):
    /// whatever the kernel still sends for earlier requests must never be received after
    /// this. The socket opens a new socket; the fake kernel forgets pending answers.
    fn reset(&mut self) -> io::Result<()>;

    /// The text of the kernel's `/proc/net/ip_vs_conn` (the connection table, which netlink
    /// does not carry), read in this transport's network namespace. By default, the calling
    /// thread's.
    fn read_conn_table(&mut self) -> io::Result<String> {
        std::fs::read_to_string("/proc/thread-self/net/ip_vs_conn")
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        (**self).send(datagram)
    }

    fn recv(&mut self, timeout: Duration) -> io::Result<Option<&[u8]>> {
        (**self).recv(timeout)
    }

    fn reset(&mut self) -> io::Result<()> {
        (**self).reset()
    }

    fn read_conn_table(&mut self) -> io::Result<String> {
        (**self).read_conn_table()
    }
}
