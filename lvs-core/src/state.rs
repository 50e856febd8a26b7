//! What the kernel reports about services and real servers: statistics and connection
//! counters. Kept apart from configuration so that comparing rulesets never looks at them.

use serde::{Deserialize, Serialize};

/// The ten IPVS counters (`ip_vs_stats64`): totals since creation or the last zero, and rates
/// estimated over the last seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ServiceState {
    /// The service's counters.
    pub stats: Stats,
    /// Flag bits the kernel keeps for itself (`IP_VS_SVC_F_HASHED`).
    pub internal_flags: u32,
}

/// What the kernel reports about a real server beyond its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
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
