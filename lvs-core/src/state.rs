//! What the kernel reports about services and real servers: statistics and connection
//! counters. Kept apart from configuration so that comparing rulesets never looks at them;
//! [`ServiceEntry`] and [`DestinationEntry`] pair the two, as one read of the kernel's table
//! gives them; [`VirtualServiceEntry`] holds a service's entry with its real servers'.

use crate::{Destination, Service};
use serde::{Deserialize, Serialize};

/// The ten IPVS counters (`ip_vs_stats64`): totals since creation or the last zero, and rates
/// estimated over the last seconds.
///
/// ```
/// use lvs_core::Stats;
/// // Average bytes per connection from a service's totals.
/// let s = Stats { conns: 18, inbytes: 7282, outbytes: 8172, ..Stats::default() };
/// assert_eq!((s.inbytes + s.outbytes) / s.conns, 858);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets in (client to server).
    pub inpkts: u64,
    /// Packets out (server to client).
    pub outpkts: u64,
    /// Bytes in.
    pub inbytes: u64,
    /// Bytes out.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Packets in per second.
    pub inpps: u64,
    /// Packets out per second.
    pub outpps: u64,
    /// Bytes in per second.
    pub inbps: u64,
    /// Bytes out per second.
    pub outbps: u64,
}

/// What the kernel reports about a virtual service beyond its configuration.
///
/// ```
/// use lvs_core::{ServiceState, Stats};
/// let state = ServiceState { stats: Stats { conns: 9, ..Stats::default() }, internal_flags: 0 };
/// assert_eq!(state.stats.conns, 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceState {
    /// The service's counters.
    pub stats: Stats,
    /// Flag bits the kernel keeps for itself (`IP_VS_SVC_F_HASHED`).
    pub internal_flags: u32,
}

/// What the kernel reports about a real server beyond its configuration.
///
/// ```
/// use lvs_core::DestinationState;
/// // A drained real server can go once nothing points at it any more.
/// let idle = |s: &DestinationState| s.active_conns + s.inactive_conns + s.persistent_conns == 0;
/// assert!(idle(&DestinationState::default()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationState {
    /// Established connections (`ActiveConn`).
    pub active_conns: u32,
    /// Other connections (`InActConn`).
    pub inactive_conns: u32,
    /// Persistence templates pointing at this server (`PersistConn`).
    pub persistent_conns: u32,
    /// The server's counters.
    pub stats: Stats,
}

/// One service of the kernel's table as a read gives it: its configuration and what the
/// kernel reports about it (what `Ipvs::services` and `Ipvs::service` return).
///
/// ```
/// use lvs_core::{Service, ServiceEntry, ServiceKey, ServiceState};
/// let entry = ServiceEntry {
///     service: Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)),
///     state: ServiceState::default(),
/// };
/// assert_eq!(entry.state.stats.conns, 0);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    /// The configuration: what identifies the service and how it schedules.
    pub service: Service,
    /// Its counters and the kernel's own flags.
    pub state: ServiceState,
}

/// One real server of a service as a read gives it: its configuration and what the kernel
/// reports about it (what `Ipvs::destinations` returns).
///
/// ```
/// use lvs_core::{Destination, DestinationEntry, DestinationState};
/// let entry = DestinationEntry {
///     destination: Destination::new("192.168.8.14:80".parse()?),
///     state: DestinationState { active_conns: 2, ..DestinationState::default() },
/// };
/// assert_eq!(entry.destination.weight, 1);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationEntry {
    /// The configuration: the real server's address, forwarding method, weight, thresholds.
    pub destination: Destination,
    /// Its connection counters and statistics.
    pub state: DestinationState,
}

/// One service of the kernel's table with its real servers, each with what the kernel reports
/// about it: a [`ServiceEntry`] and its [`DestinationEntry`]s, as one read of the whole table
/// gives them (what `Snapshot::entries` returns, and what [`crate::ipvsadm::list::Table`]
/// lists). Equality compares the real servers in the kernel's order (two reads of an
/// unchanged table give the same order). The configuration alone is a
/// [`crate::VirtualService`], whose equality ignores order.
///
/// ```
/// use lvs_core::{Destination, DestinationEntry, DestinationState};
/// use lvs_core::{Service, ServiceKey, ServiceState, VirtualServiceEntry};
/// let entry = VirtualServiceEntry {
///     service: Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)),
///     state: ServiceState::default(),
///     destinations: vec![DestinationEntry {
///         destination: Destination::new("192.168.8.14:80".parse()?),
///         state: DestinationState { active_conns: 2, ..DestinationState::default() },
///     }],
/// };
/// // Established connections across the service's real servers.
/// let active: u32 = entry.destinations.iter().map(|d| d.state.active_conns).sum();
/// assert_eq!(active, 2);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualServiceEntry {
    /// The configuration: what identifies the service and how it schedules.
    pub service: Service,
    /// Its counters and the kernel's own flags.
    pub state: ServiceState,
    /// Its real servers, in the kernel's order.
    pub destinations: Vec<DestinationEntry>,
}
