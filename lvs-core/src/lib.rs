//! lvs-core: the IPVS model, ipvsadm rule files, and validation. Pure: no sockets, no files.
//!
//! IPVS is the Linux kernel's layer-4 load balancer (LVS). This crate holds what every other
//! part of lvs speaks:
//!
//! - [`service`]: virtual services, what `ipvsadm -A/-E/-D` manage ([`Service`], [`ServiceKey`]).
//! - [`destination`]: real servers, what `ipvsadm -a/-e/-d` manage ([`Destination`]).
//! - [`scheduler`]: scheduling algorithms ([`Scheduler`]).
//! - [`forward`]: forwarding methods and tunnels ([`Forward`], [`Tunnel`]).
//! - [`timeouts`], [`daemon`], [`info`]: `--set`, sync daemons, the version line.
//! - [`state`]: what the kernel reports (statistics, connection counters), kept apart from
//!   configuration.
//! - [`ruleset`]: a whole configuration, and the kernel's rules for changing it
//!   ([`Ruleset::execute`]).
//! - [`command`]: one change ([`Command`]).
//! - [`conn`]: the connection table as the kernel writes it in `/proc/net/ip_vs_conn`.
//! - [`mod@plan`]: the fewest changes from one ruleset to another ([`plan()`]), for apply.
//! - [`rules`]: ipvsadm rule files, read and written exactly as ipvsadm 1.31 does.
//! - [`ipvsadm`]: ipvsadm's command line and `-L` listings, emulated byte for byte, for
//!   drop-in tools (the `lvsadm` example, the C API); programs driving IPVS do not need it.
//! - [`document`]: rulesets as JSON and TOML documents, read strictly.
//! - [`error`]: validation errors and kernel refusals in ipvsadm's words.
//!
//! ```
//! use lvs_core::Ruleset;
//!
//! let rules = "-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n";
//! let ruleset = Ruleset::from_rules(rules)?;
//! assert_eq!(
//!     ruleset.to_rules(),
//!     "-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 1\n"
//! );
//! # Ok::<(), lvs_core::rules::RulesError>(())
//! ```

#![warn(missing_docs)]

pub mod command;
pub mod conn;
pub mod daemon;
pub mod destination;
pub mod document;
pub mod error;
pub mod family;
pub mod forward;
pub mod info;
pub mod ipvsadm;
pub mod plan;
pub mod rules;
pub mod ruleset;
pub mod scheduler;
pub mod service;
mod shown;
pub mod state;
pub mod timeouts;
mod validate;

pub use command::Command;
pub use daemon::{DaemonRole, SyncDaemon};
pub use destination::Destination;
pub use error::{
    InvalidRuleset, Operation, Refusal, RefusalKind, UnknownName, ValidationError, errno,
    ipvsadm_message,
};
pub use family::Family;
pub use forward::{Forward, Tunnel, TunnelChecksum, TunnelType};
pub use info::{Info, Version};
pub use plan::{Plan, PlanOptions, Stage, Step, plan};
pub use ruleset::{KernelProfile, Ruleset, VirtualService};
pub use scheduler::Scheduler;
pub use service::{Netmask, Persistence, Protocol, SchedFlag, Service, ServiceFlags, ServiceKey};
pub use state::{
    DestinationEntry, DestinationState, ServiceEntry, ServiceState, Stats, VirtualServiceEntry,
};
pub use timeouts::Timeouts;
