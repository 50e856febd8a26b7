//! lvs-netlink: the kernel backend of lvs. It drives the Linux kernel's IPVS table over
//! generic netlink (the "IPVS" family), speaking the lvs-core model.
//!
//! - [`Ipvs`] (in `client`): a handle on one network namespace's IPVS table: read
//!   services, real servers, timeouts, daemons and counters; change them one at a time
//!   ([`Ipvs::apply`]) or pipelined ([`Ipvs::batch`]); read everything at once
//!   ([`Ipvs::snapshot`]); open another namespace ([`Ipvs::in_netns`]). Every exchange has a
//!   deadline ([`Ipvs::set_reply_timeout`]).
//! - [`wire`]: the pure wire format, one module per attribute space, with no socket: requests
//!   and the kernel's replies, both ways.
//! - `proto` (internal): the netlink protocol without I/O: sequence numbers, pipelining,
//!   answer matching, dumps, error mapping.
//! - [`Transport`]: the seam under the protocol: the generic-netlink socket (neli's, used for
//!   the socket only), or `fake::FakeKernel` (feature `fake`), an in-memory kernel to test
//!   controllers without root; [`Ipvs::with_transport`] runs the client over either.
//! - [`Snapshot`]: configuration plus state, as one read gives it.
//! - [`Ipvs::apply_ruleset`]: bring the kernel to a desired ruleset with the fewest changes
//!   ([`ApplyOptions`], [`Report`]).
//! - [`Reconciler`]: keep the kernel at a desired ruleset, sending only what changed, with
//!   no read when nothing else changed the table.
//! - [`Features`]: what the running kernel supports (`ADDR_FAMILY`, `STATS64`, `TUN_*`).
//! - [`Ipvs::connections`]: the connection table from `/proc/net/ip_vs_conn`, as lvs-core's
//!   [`Connection`]s.
//! - [`Error`]: kernel refusals in ipvsadm's words, invalid input, decode errors, I/O with its
//!   errno, timeouts.
//!
//! Every operation needs CAP_NET_ADMIN (the kernel checks it on reads too).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use lvs_core::{Command, Ruleset};
//! use lvs_netlink::Ipvs;
//!
//! let ipvs = Ipvs::new()?;
//! let wanted =
//!     Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n")?;
//! let mut commands = Vec::new();
//! for vs in &wanted.services {
//!     commands.push(Command::AddService(vs.service.clone()));
//!     for d in &vs.destinations {
//!         commands.push(Command::AddDestination { service: vs.service.key, destination: *d });
//!     }
//! }
//! for result in ipvs.batch(&commands) {
//!     result?;
//! }
//! assert_eq!(ipvs.snapshot()?.services(), wanted);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod apply;
mod client;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
mod features;
mod module;
mod netns;
mod proto;
mod reconcile;
mod snapshot;
mod transport;
pub mod wire;

pub use apply::{ApplyOptions, Outcome, Report};
pub use client::{DEFAULT_REPLY_TIMEOUT, Ipvs};
pub use error::Error;
pub use features::{Features, parse_release};
pub use reconcile::Reconciler;
// lvs-core's types, re-exported because `Ipvs::connections` returns them.
pub use lvs_core::conn::{ConnParseError, Connection};
pub use snapshot::Snapshot;
pub use transport::Transport;

// The README's examples, compiled (and the fake kernel's run) by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
