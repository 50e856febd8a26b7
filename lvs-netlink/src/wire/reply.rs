//! Replies: what the kernel answers, byte for byte as it writes them (the attribute order of
//! its `ip_vs_genl_fill_*` functions, nests without `NLA_F_NESTED`, both counter nests). The
//! fake kernel answers with these; `tests/wire_golden.rs` checks them against the captured
//! replies of a real kernel.
//!
//! Each function gives the generic-netlink payload of one reply message: `NEW_SERVICE` for a
//! service (also in a dump), `NEW_DEST`, `NEW_DAEMON`, `SET_CONFIG` for the timeouts and
//! `SET_INFO` for the version.

use super::attr::AttrWriter;
use super::{GenlMessage, cmd, cmd_attr, config, daemon, dest, service, stats};
use lvs_core::{Destination, DestinationState, Info, Service, ServiceState, SyncDaemon, Timeouts};
use std::net::IpAddr;

/// A service with its state (`ip_vs_genl_fill_service`): the configuration as
/// [`service::encode`] writes it, the state's internal flags (`HASHED`) added to `FLAGS`, then
/// `STATS` and `STATS64`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Service, ServiceKey, ServiceState};
/// use lvs_netlink::wire::{cmd, cmd_attr, command_nest, reply, service};
///
/// let svc = Service::new(ServiceKey::tcp("10.0.0.1:80".parse()?)).with_scheduler("rr");
/// let state = ServiceState { internal_flags: 2, ..ServiceState::default() };
/// let msg = reply::service(&svc, &state);
/// assert_eq!(msg.cmd, cmd::NEW_SERVICE);
/// let read = service::decode(command_nest(&msg.attrs, cmd_attr::SERVICE)?)?;
/// assert_eq!((read.service, read.state), (svc, state));
/// # Ok(())
/// # }
/// ```
pub fn service(svc: &Service, state: &ServiceState) -> GenlMessage {
    let mut w = AttrWriter::new();
    w.nest_noflag(cmd_attr::SERVICE, |n| {
        service::encode_with_flags(n, svc, state.internal_flags);
        n.nest_noflag(service::STATS, |s| stats::encode32(s, &state.stats));
        n.nest_noflag(service::STATS64, |s| stats::encode64(s, &state.stats));
    });
    GenlMessage::new(cmd::NEW_SERVICE, w.finish())
}

/// A real server with its state (`ip_vs_genl_fill_dest`), in the kernel's order: `ADDR`,
/// `PORT`, `FWD_METHOD`, `WEIGHT`, the three `TUN_*`, the thresholds, the connection
/// counters, `ADDR_FAMILY`, `STATS`, `STATS64`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, DestinationState, Family};
/// use lvs_netlink::wire::{cmd_attr, command_nest, dest, reply};
///
/// let real = Destination::new("192.168.1.1:8080".parse()?).with_weight(3);
/// let state = DestinationState { active_conns: 2, ..DestinationState::default() };
/// let msg = reply::destination(&real, &state);
/// let read = dest::decode(command_nest(&msg.attrs, cmd_attr::DEST)?, Family::Inet)?;
/// assert_eq!((read.destination, read.state), (real, state));
/// # Ok(())
/// # }
/// ```
pub fn destination(d: &Destination, state: &DestinationState) -> GenlMessage {
    let tunnel = d.forward.tunnel().copied().unwrap_or_default();
    let mut w = AttrWriter::new();
    w.nest_noflag(cmd_attr::DEST, |n| {
        n.bytes(dest::ADDR, &service::addr_bytes(&d.addr.ip()))
            .be16(dest::PORT, d.addr.port())
            .u32(dest::FWD_METHOD, d.forward.kernel_value())
            .bytes(dest::WEIGHT, &d.weight.to_ne_bytes())
            .u8(dest::TUN_TYPE, tunnel.kind.kernel_value())
            .be16(dest::TUN_PORT, tunnel.port)
            .u16(dest::TUN_FLAGS, tunnel.checksum.kernel_value())
            .u32(dest::U_THRESH, d.upper_threshold)
            .u32(dest::L_THRESH, d.lower_threshold)
            .u32(dest::ACTIVE_CONNS, state.active_conns)
            .u32(dest::INACT_CONNS, state.inactive_conns)
            .u32(dest::PERSIST_CONNS, state.persistent_conns)
            .u16(dest::ADDR_FAMILY, d.family().af());
        n.nest_noflag(dest::STATS, |s| stats::encode32(s, &state.stats));
        n.nest_noflag(dest::STATS64, |s| stats::encode64(s, &state.stats));
    });
    GenlMessage::new(cmd::NEW_DEST, w.finish())
}

/// A running sync daemon (`ip_vs_genl_fill_daemon`): `STATE`, `MCAST_IFN`, `SYNC_ID`, then
/// the optional values that are set (the kernel has filled in its defaults by then:
/// `SYNC_MAXLEN`, `MCAST_PORT`, `MCAST_TTL`, and the group).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{DaemonRole, SyncDaemon};
/// use lvs_netlink::wire::{cmd_attr, command_nest, daemon, reply};
///
/// let running = SyncDaemon {
///     maxlen: Some(65507),
///     group: Some("224.0.0.81".parse()?),
///     port: Some(8848),
///     ttl: Some(1),
///     ..SyncDaemon::new(DaemonRole::Backup, "lo", 5)
/// };
/// let msg = reply::daemon(&running);
/// assert_eq!(daemon::decode(command_nest(&msg.attrs, cmd_attr::DAEMON)?)?, running);
/// # Ok(())
/// # }
/// ```
pub fn daemon(d: &SyncDaemon) -> GenlMessage {
    let mut w = AttrWriter::new();
    w.nest_noflag(cmd_attr::DAEMON, |n| {
        n.u32(daemon::STATE, d.role.kernel_value())
            .string(daemon::MCAST_IFN, &d.interface)
            .u32(daemon::SYNC_ID, u32::from(d.syncid));
        if let Some(maxlen) = d.maxlen {
            n.u16(daemon::SYNC_MAXLEN, maxlen);
        }
        if let Some(port) = d.port {
            n.u16(daemon::MCAST_PORT, port);
        }
        if let Some(ttl) = d.ttl {
            n.u8(daemon::MCAST_TTL, ttl);
        }
        match d.group {
            Some(IpAddr::V4(g)) => {
                n.bytes(daemon::MCAST_GROUP, &g.octets());
            }
            Some(IpAddr::V6(g)) => {
                n.bytes(daemon::MCAST_GROUP6, &g.octets());
            }
            None => {}
        }
    });
    GenlMessage::new(cmd::NEW_DAEMON, w.finish())
}

/// The timeouts (`GET_CONFIG`'s answer, command `SET_CONFIG`).
///
/// ```
/// use lvs_core::Timeouts;
/// use lvs_netlink::wire::{cmd, config, reply};
///
/// let msg = reply::timeouts(&Timeouts::KERNEL_DEFAULT);
/// assert_eq!(msg.cmd, cmd::SET_CONFIG);
/// assert_eq!(config::decode_timeouts(&msg.attrs)?, Timeouts::KERNEL_DEFAULT);
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn timeouts(t: &Timeouts) -> GenlMessage {
    let mut w = AttrWriter::new();
    config::encode_timeouts(&mut w, t);
    GenlMessage::new(cmd::SET_CONFIG, w.finish())
}

/// The version and connection table size (`GET_INFO`'s answer, command `SET_INFO`).
///
/// ```
/// use lvs_core::{Info, Version};
/// use lvs_netlink::wire::{config, reply};
///
/// let info = Info { version: Version::new(1, 2, 1), conn_table_size: 4096 };
/// assert_eq!(config::decode_info(&reply::info(&info).attrs)?, info);
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn info(info: &Info) -> GenlMessage {
    let mut w = AttrWriter::new();
    w.u32(config::INFO_VERSION, info.version.0)
        .u32(config::INFO_CONN_TAB_SIZE, info.conn_table_size);
    GenlMessage::new(cmd::SET_INFO, w.finish())
}
