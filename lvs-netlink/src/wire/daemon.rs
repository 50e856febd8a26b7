//! `IPVS_DAEMON_ATTR_*`: connection-synchronisation daemons.
//!
//! The optional settings (maxlen, group, port, ttl; Linux 4.3) are sent only when set, as
//! libipvs does; the kernel reports all of them, with its defaults filled in.

use super::DecodeError;
use super::attr::{AttrWriter, Payload, attrs};
use lvs_core::{DaemonRole, SyncDaemon};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `IP_VS_STATE_MASTER` or `_BACKUP` (u32).
pub const STATE: u16 = 1;
/// Multicast interface (string).
pub const MCAST_IFN: u16 = 2;
/// Sync id (u32).
pub const SYNC_ID: u16 = 3;
/// Largest sync message (u16).
pub const SYNC_MAXLEN: u16 = 4;
/// IPv4 multicast group (4 bytes, network order).
pub const MCAST_GROUP: u16 = 5;
/// IPv6 multicast group (16 bytes).
pub const MCAST_GROUP6: u16 = 6;
/// Multicast port (u16, host order).
pub const MCAST_PORT: u16 = 7;
/// Multicast TTL (u8).
pub const MCAST_TTL: u16 = 8;

/// The attribute's UAPI name.
///
/// ```
/// use lvs_netlink::wire::daemon;
/// assert_eq!(daemon::name(daemon::SYNC_ID), "IPVS_DAEMON_ATTR_SYNC_ID");
/// ```
pub fn name(ty: u16) -> &'static str {
    match ty {
        STATE => "IPVS_DAEMON_ATTR_STATE",
        MCAST_IFN => "IPVS_DAEMON_ATTR_MCAST_IFN",
        SYNC_ID => "IPVS_DAEMON_ATTR_SYNC_ID",
        SYNC_MAXLEN => "IPVS_DAEMON_ATTR_SYNC_MAXLEN",
        MCAST_GROUP => "IPVS_DAEMON_ATTR_MCAST_GROUP",
        MCAST_GROUP6 => "IPVS_DAEMON_ATTR_MCAST_GROUP6",
        MCAST_PORT => "IPVS_DAEMON_ATTR_MCAST_PORT",
        MCAST_TTL => "IPVS_DAEMON_ATTR_MCAST_TTL",
        _ => "IPVS_DAEMON_ATTR_(unknown)",
    }
}

/// Writes a daemon to start (`NEW_DAEMON`).
///
/// ```
/// use lvs_core::{DaemonRole, SyncDaemon};
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::daemon;
///
/// // `--start-daemon backup --mcast-interface eth1 --syncid 7 --mcast-port 8849`
/// let mut backup = SyncDaemon::new(DaemonRole::Backup, "eth1", 7);
/// backup.port = Some(8849);
/// let mut w = AttrWriter::new();
/// daemon::encode(&mut w, &backup);
/// assert_eq!(daemon::decode(&w.finish())?, backup);
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn encode(w: &mut AttrWriter, d: &SyncDaemon) {
    w.u32(STATE, d.role.kernel_value())
        .string(MCAST_IFN, &d.interface)
        .u32(SYNC_ID, u32::from(d.syncid));
    if let Some(maxlen) = d.maxlen {
        w.u16(SYNC_MAXLEN, maxlen);
    }
    match d.group {
        Some(IpAddr::V4(g)) => {
            w.bytes(MCAST_GROUP, &g.octets());
        }
        Some(IpAddr::V6(g)) => {
            w.bytes(MCAST_GROUP6, &g.octets());
        }
        None => {}
    }
    if let Some(port) = d.port {
        w.u16(MCAST_PORT, port);
    }
    if let Some(ttl) = d.ttl {
        w.u8(MCAST_TTL, ttl);
    }
}

/// Writes the daemon to stop (`DEL_DAEMON`).
///
/// ```
/// use lvs_core::DaemonRole;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::daemon;
///
/// let mut w = AttrWriter::new();
/// daemon::encode_stop(&mut w, DaemonRole::Master);
/// assert_eq!(w.finish().len(), 8, "only the state");
/// ```
pub fn encode_stop(w: &mut AttrWriter, role: DaemonRole) {
    w.u32(STATE, role.kernel_value());
}

/// Reads a daemon nest (`IPVS_CMD_ATTR_DAEMON` of a `NEW_DAEMON` reply). Every value the
/// kernel reports is kept, defaults included.
///
/// ```
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::daemon;
///
/// // A daemon nest without an interface name does not decode.
/// let mut w = AttrWriter::new();
/// w.u32(daemon::STATE, 1).u32(daemon::SYNC_ID, 7);
/// let e = daemon::decode(&w.finish()).unwrap_err();
/// assert_eq!(e.attribute, "IPVS_DAEMON_ATTR_MCAST_IFN");
/// ```
pub fn decode(nest: &[u8]) -> Result<SyncDaemon, DecodeError> {
    let mut role = None;
    let mut interface = None;
    let mut syncid = None;
    let mut d = SyncDaemon::new(DaemonRole::Master, String::new(), 0);
    for a in attrs("IPVS_DAEMON_ATTR", nest) {
        let a = a?;
        let p = Payload::new(name(a.ty), a.payload);
        match a.ty {
            STATE => {
                let v = p.u32()?;
                role = Some(DaemonRole::from_kernel(v).ok_or_else(|| {
                    DecodeError::new(name(STATE), format!("unknown daemon state {v}"))
                })?);
            }
            MCAST_IFN => interface = Some(p.string()?),
            SYNC_ID => {
                let v = p.u32()?;
                syncid = Some(u8::try_from(v).map_err(|_| {
                    DecodeError::new(name(SYNC_ID), format!("sync id {v} above 255"))
                })?);
            }
            SYNC_MAXLEN => d.maxlen = Some(p.u16()?),
            MCAST_GROUP => d.group = Some(IpAddr::V4(Ipv4Addr::from(p.raw4()?))),
            MCAST_GROUP6 => d.group = Some(IpAddr::V6(Ipv6Addr::from(p.raw16()?))),
            MCAST_PORT => d.port = Some(p.u16()?),
            MCAST_TTL => d.ttl = Some(p.u8()?),
            _ => {}
        }
    }
    d.role = role.ok_or_else(|| DecodeError::missing(name(STATE)))?;
    d.interface = interface.ok_or_else(|| DecodeError::missing(name(MCAST_IFN)))?;
    d.syncid = syncid.ok_or_else(|| DecodeError::missing(name(SYNC_ID)))?;
    Ok(d)
}

/// Reads the role of a `DEL_DAEMON` request (its `STATE`, the only attribute the kernel reads).
///
/// ```
/// use lvs_core::DaemonRole;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::daemon;
///
/// let mut w = AttrWriter::new();
/// daemon::encode_stop(&mut w, DaemonRole::Backup);
/// assert_eq!(daemon::decode_role(&w.finish())?, DaemonRole::Backup);
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn decode_role(nest: &[u8]) -> Result<DaemonRole, DecodeError> {
    for a in attrs("IPVS_DAEMON_ATTR", nest) {
        let a = a?;
        if a.ty == STATE {
            let v = Payload::new(name(STATE), a.payload).u32()?;
            return DaemonRole::from_kernel(v)
                .ok_or_else(|| DecodeError::new(name(STATE), format!("unknown daemon state {v}")));
        }
    }
    Err(DecodeError::missing(name(STATE)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_and_without_options() {
        let plain = SyncDaemon::new(DaemonRole::Backup, "lo", 9);
        let mut w = AttrWriter::new();
        encode(&mut w, &plain);
        assert_eq!(decode(&w.finish()).unwrap(), plain);
        let full = SyncDaemon {
            maxlen: Some(1400),
            group: Some("ff02::5".parse().unwrap()),
            port: Some(9000),
            ttl: Some(3),
            ..SyncDaemon::new(DaemonRole::Master, "eth0", 255)
        };
        let mut w = AttrWriter::new();
        encode(&mut w, &full);
        assert_eq!(decode(&w.finish()).unwrap(), full);
    }

    #[test]
    fn bad_state_is_named() {
        let mut w = AttrWriter::new();
        w.u32(STATE, 7);
        let e = decode(&w.finish()).unwrap_err();
        assert_eq!(e.attribute, "IPVS_DAEMON_ATTR_STATE");
    }
}
