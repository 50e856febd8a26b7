//! lvs-netlink: the kernel backend of lvs. It drives the Linux kernel's IPVS table over
//! generic netlink (the "IPVS" family), speaking the lvs-core model.
//!
//! - [`Ipvs`] (in `client`): a handle on one network namespace's IPVS table: read
//!   services, real servers, timeouts, daemons and counters; change them one at a time
//!   ([`Ipvs::execute`]) or pipelined ([`Ipvs::batch`]); read everything at once
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
//! - [`Ipvs::apply`]: bring the kernel to a desired ruleset with the fewest changes
//!   ([`ApplyOptions`], [`Report`]).
//! - [`Reconciler`]: keep the kernel at a desired ruleset, sending only what changed, with
//!   no read when nothing else changed the table.
//! - [`Features`]: what the running kernel supports (`ADDR_FAMILY`, `STATS64`, `TUN_*`).
//! - [`Ipvs::connections`]: the connection table from `/proc/net/ip_vs_conn`, as lvs-core's
//!   [`Connection`]s.
//! - [`Error`]: kernel refusals in ipvsadm's words, invalid input, decode errors, I/O with its
//!   errno, timeouts.
//! - `AsyncIpvs` (feature `tokio`): the same operations as `async fn`s, on the same protocol
//!   code; only the waiting differs (tokio's reactor and timers instead of `poll(2)`).
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

//! The same with tokio (feature `tokio`):
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lvs_core::Ruleset;
//! use lvs_netlink::{ApplyOptions, AsyncIpvs};
//!
//! let ipvs = AsyncIpvs::new().await?;
//! let wanted = Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n")?;
//! let report = ipvs.apply(&wanted, &ApplyOptions::default()).await?;
//! assert!(report.is_success(), "{report}");
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

// Generic netlink is Linux's: elsewhere the crate is this one error, and every item below is
// left out so that the message stands alone (neli, a Linux-only dependency, is not even built).
#[cfg(not(target_os = "linux"))]
compile_error!(
    "lvs-netlink drives the Linux kernel's IPVS over generic netlink and builds only for Linux \
     targets (target_os = \"linux\"); lvs-core (the model, rule files, validation and plan) \
     builds on every target"
);

#[cfg(target_os = "linux")]
mod apply;
#[cfg(target_os = "linux")]
mod client;
#[cfg(all(target_os = "linux", feature = "tokio"))]
mod client_async;
#[cfg(target_os = "linux")]
mod error;
#[cfg(all(target_os = "linux", feature = "fake"))]
pub mod fake;
#[cfg(target_os = "linux")]
mod features;
#[cfg(target_os = "linux")]
mod module;
#[cfg(target_os = "linux")]
mod netns;
#[cfg(target_os = "linux")]
mod proto;
#[cfg(target_os = "linux")]
mod reconcile;
#[cfg(target_os = "linux")]
mod snapshot;
#[cfg(target_os = "linux")]
mod transport;
#[cfg(target_os = "linux")]
pub mod wire;

#[cfg(target_os = "linux")]
pub use apply::{ApplyOptions, Outcome, Report};
#[cfg(target_os = "linux")]
pub use client::{DEFAULT_REPLY_TIMEOUT, Ipvs};
#[cfg(all(target_os = "linux", feature = "tokio"))]
pub use client_async::AsyncIpvs;
#[cfg(target_os = "linux")]
pub use error::Error;
#[cfg(target_os = "linux")]
pub use features::{Features, parse_release};
#[cfg(target_os = "linux")]
pub use reconcile::Reconciler;
// lvs-core's types, re-exported because `Ipvs::connections` returns them.
#[cfg(target_os = "linux")]
pub use lvs_core::conn::{ConnParseError, Connection};
#[cfg(target_os = "linux")]
pub use snapshot::Snapshot;
#[cfg(target_os = "linux")]
pub use transport::Transport;

// The README's examples, compiled (and the fake kernel's run) by `cargo test --doc`.
#[cfg(all(doctest, target_os = "linux"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
