//! `IPVS_DEST_ATTR_*`: real servers.
//!
//! Quirks handled here: `PORT` and `TUN_PORT` are big-endian; `TUN_TYPE` is a `u8`;
//! `ADDR_FAMILY` (Linux 3.18) and `TUN_*` (5.2/5.3) are optional on read; a missing
//! `ADDR_FAMILY` means "the service's family". lvs always sends `ADDR_FAMILY` and the three
//! `TUN_*` attributes, as libipvs 1.31 does.

use super::attr::{AttrWriter, Payload, attrs};
use super::service::{addr_bytes, addr_of, family_of};
use super::{DecodeError, stats};
use lvs_core::{
    Destination, DestinationState, Family, Forward, Tunnel, TunnelChecksum, TunnelType,
};
use std::net::SocketAddr;

/// Address (16 bytes).
pub const ADDR: u16 = 1;
/// Port (be16).
pub const PORT: u16 = 2;
/// Forwarding method (u32, low 3 bits).
pub const FWD_METHOD: u16 = 3;
/// Weight (u32 holding an int).
pub const WEIGHT: u16 = 4;
/// Upper connection threshold (u32).
pub const U_THRESH: u16 = 5;
/// Lower connection threshold (u32).
pub const L_THRESH: u16 = 6;
/// Active connections (u32, read-only).
pub const ACTIVE_CONNS: u16 = 7;
/// Inactive connections (u32, read-only).
pub const INACT_CONNS: u16 = 8;
/// Persistence templates (u32, read-only).
pub const PERSIST_CONNS: u16 = 9;
/// 32-bit counters (nest).
pub const STATS: u16 = 10;
/// The real server's family (u16).
pub const ADDR_FAMILY: u16 = 11;
/// 64-bit counters (nest).
pub const STATS64: u16 = 12;
/// Tunnel type (u8).
pub const TUN_TYPE: u16 = 13;
/// Tunnel port (be16).
pub const TUN_PORT: u16 = 14;
/// Tunnel flags (u16).
pub const TUN_FLAGS: u16 = 15;

/// The attribute's UAPI name.
///
/// ```
/// use lvs_netlink::wire::dest;
/// assert_eq!(dest::name(dest::TUN_FLAGS), "IPVS_DEST_ATTR_TUN_FLAGS");
/// ```
pub fn name(ty: u16) -> &'static str {
    match ty {
        ADDR => "IPVS_DEST_ATTR_ADDR",
        PORT => "IPVS_DEST_ATTR_PORT",
        FWD_METHOD => "IPVS_DEST_ATTR_FWD_METHOD",
        WEIGHT => "IPVS_DEST_ATTR_WEIGHT",
        U_THRESH => "IPVS_DEST_ATTR_U_THRESH",
        L_THRESH => "IPVS_DEST_ATTR_L_THRESH",
        ACTIVE_CONNS => "IPVS_DEST_ATTR_ACTIVE_CONNS",
        INACT_CONNS => "IPVS_DEST_ATTR_INACT_CONNS",
        PERSIST_CONNS => "IPVS_DEST_ATTR_PERSIST_CONNS",
        STATS => "IPVS_DEST_ATTR_STATS",
        ADDR_FAMILY => "IPVS_DEST_ATTR_ADDR_FAMILY",
        STATS64 => "IPVS_DEST_ATTR_STATS64",
        TUN_TYPE => "IPVS_DEST_ATTR_TUN_TYPE",
        TUN_PORT => "IPVS_DEST_ATTR_TUN_PORT",
        TUN_FLAGS => "IPVS_DEST_ATTR_TUN_FLAGS",
        _ => "IPVS_DEST_ATTR_(unknown)",
    }
}

/// Writes what identifies a real server (`DEL_DEST`).
///
/// ```
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::dest;
///
/// // What `ipvsadm -d` names: address, port and family, no forwarding or weight.
/// let mut w = AttrWriter::new();
/// dest::encode_key(&mut w, &"[2001:db8::14]:80".parse()?);
/// assert_eq!(w.finish().len(), (4 + 16) + 8 + 8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_key(w: &mut AttrWriter, addr: &SocketAddr) {
    w.bytes(ADDR, &addr_bytes(&addr.ip()))
        .be16(PORT, addr.port())
        .u16(ADDR_FAMILY, Family::of(&addr.ip()).af());
}

/// Writes a whole real server (`NEW_DEST`, `SET_DEST`): the attributes libipvs sends, in an
/// order of lvs's own (the kernel reads them by type; tests/wire_requests_golden.rs compares
/// them with ipvsadm's captured requests).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, Family, Forward, Tunnel};
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::dest;
///
/// // An IPv6 real server behind an IPv4 service, reached through an ipip tunnel.
/// let real = Destination::new("[2001:db8::14]:80".parse()?)
///     .with_forward(Forward::Tunnel(Tunnel::default()));
/// let mut w = AttrWriter::new();
/// dest::encode(&mut w, &real);
/// assert_eq!(dest::decode(&w.finish(), Family::Inet)?.destination, real);
/// # Ok(())
/// # }
/// ```
pub fn encode(w: &mut AttrWriter, d: &Destination) {
    let tunnel = d.forward.tunnel().copied().unwrap_or_default();
    w.bytes(ADDR, &addr_bytes(&d.addr.ip()))
        .be16(PORT, d.addr.port())
        .u32(FWD_METHOD, d.forward.kernel_value())
        .bytes(WEIGHT, &d.weight.to_ne_bytes())
        .u32(U_THRESH, d.upper_threshold)
        .u32(L_THRESH, d.lower_threshold)
        .u16(ADDR_FAMILY, d.family().af())
        .u8(TUN_TYPE, tunnel.kind.kernel_value())
        .be16(TUN_PORT, tunnel.port)
        .u16(TUN_FLAGS, tunnel.checksum.kernel_value());
}

/// A real server as the kernel reports it.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, Family};
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::dest;
///
/// let mut w = AttrWriter::new();
/// dest::encode(&mut w, &Destination::new("192.168.8.14:80".parse()?));
/// w.u32(dest::ACTIVE_CONNS, 3).u32(dest::INACT_CONNS, 9);
/// let reply = dest::decode(&w.finish(), Family::Inet)?;
/// assert_eq!((reply.state.active_conns, reply.state.inactive_conns), (3, 9));
/// assert!(reply.has_tun_flags && !reply.has_stats64);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestReply {
    /// The configuration.
    pub destination: Destination,
    /// Connection counters and statistics.
    pub state: DestinationState,
    /// Whether the reply had `ADDR_FAMILY` (Linux 3.18 and later).
    pub has_addr_family: bool,
    /// Whether the reply had `STATS64` (Linux 4.1 and later).
    pub has_stats64: bool,
    /// Whether the reply had `TUN_TYPE` and `TUN_PORT` (Linux 5.2 and later).
    pub has_tun_type: bool,
    /// Whether the reply had `TUN_FLAGS` (Linux 5.3 and later).
    pub has_tun_flags: bool,
}

/// Reads a destination nest (`IPVS_CMD_ATTR_DEST` of a `NEW_DEST` reply) of a service of
/// `service_family`.
///
/// ```
/// use lvs_core::Family;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::dest;
///
/// // Kernels before 3.18 send no ADDR_FAMILY: the address is of the service's family.
/// let mut w = AttrWriter::new();
/// w.bytes(dest::ADDR, &[192, 168, 8, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
///     .be16(dest::PORT, 80)
///     .u32(dest::FWD_METHOD, 0)
///     .u32(dest::WEIGHT, 1);
/// let old = dest::decode(&w.finish(), Family::Inet)?;
/// assert_eq!(old.destination.addr, "192.168.8.14:80".parse()?);
/// assert!(!old.has_addr_family);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(nest: &[u8], service_family: Family) -> Result<DestReply, DecodeError> {
    let mut addr: Option<&[u8]> = None;
    let mut port = None;
    let mut fwd = None;
    let mut weight = None;
    let (mut upper, mut lower) = (0, 0);
    let mut state = DestinationState::default();
    let mut family = None;
    let (mut stats32, mut stats64) = (None, None);
    let (mut tun_type, mut tun_port, mut tun_flags) = (None, None, None);
    for a in attrs("IPVS_DEST_ATTR", nest) {
        let a = a?;
        let p = Payload::new(name(a.ty), a.payload);
        match a.ty {
            ADDR => addr = Some(a.payload),
            PORT => port = Some(p.be16()?),
            FWD_METHOD => fwd = Some(p.u32()?),
            WEIGHT => weight = Some(i32::from_ne_bytes(p.raw4()?)),
            U_THRESH => upper = p.u32()?,
            L_THRESH => lower = p.u32()?,
            ACTIVE_CONNS => state.active_conns = p.u32()?,
            INACT_CONNS => state.inactive_conns = p.u32()?,
            PERSIST_CONNS => state.persistent_conns = p.u32()?,
            STATS => stats32 = Some(stats::decode(a.payload)?),
            STATS64 => stats64 = Some(stats::decode(a.payload)?),
            ADDR_FAMILY => family = Some(family_of(name(ADDR_FAMILY), a.payload)?),
            TUN_TYPE => tun_type = Some(p.u8()?),
            TUN_PORT => tun_port = Some(p.be16()?),
            TUN_FLAGS => tun_flags = Some(p.u16()?),
            _ => {}
        }
    }
    let has_addr_family = family.is_some();
    let family = family.unwrap_or(service_family);
    let addr = addr.ok_or_else(|| DecodeError::missing(name(ADDR)))?;
    let ip = addr_of(name(ADDR), family, addr)?;
    let port = port.ok_or_else(|| DecodeError::missing(name(PORT)))?;
    let fwd = fwd.ok_or_else(|| DecodeError::missing(name(FWD_METHOD)))?;
    let weight = weight.ok_or_else(|| DecodeError::missing(name(WEIGHT)))?;
    let tunnel = Tunnel {
        kind: TunnelType::from_kernel(tun_type.unwrap_or(0)),
        port: tun_port.unwrap_or(0),
        checksum: TunnelChecksum::from_kernel(tun_flags.unwrap_or(0)),
    };
    state.stats = stats64.or(stats32).unwrap_or_default();
    Ok(DestReply {
        destination: Destination {
            addr: SocketAddr::new(ip, port),
            forward: Forward::from_kernel(fwd, tunnel),
            weight,
            upper_threshold: upper,
            lower_threshold: lower,
        },
        state,
        has_addr_family,
        has_stats64: stats64.is_some(),
        has_tun_type: tun_type.is_some() && tun_port.is_some(),
        has_tun_flags: tun_flags.is_some(),
    })
}

/// Reads what identifies a real server (`ADDR`, `PORT`, and `ADDR_FAMILY` if present, else
/// the service's family): how the kernel reads the destination nest of `DEL_DEST`.
///
/// ```
/// use lvs_core::Family;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::dest;
///
/// let addr = "[2001:db8::14]:80".parse()?;
/// let mut w = AttrWriter::new();
/// dest::encode_key(&mut w, &addr);
/// assert_eq!(dest::decode_key(&w.finish(), Family::Inet)?, addr);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_key(nest: &[u8], service_family: Family) -> Result<SocketAddr, DecodeError> {
    let (mut addr, mut port, mut family) = (None, None, None);
    for a in attrs("IPVS_DEST_ATTR", nest) {
        let a = a?;
        match a.ty {
            ADDR => addr = Some(a.payload),
            PORT => port = Some(Payload::new(name(PORT), a.payload).be16()?),
            ADDR_FAMILY => family = Some(family_of(name(ADDR_FAMILY), a.payload)?),
            _ => {}
        }
    }
    let addr = addr.ok_or_else(|| DecodeError::missing(name(ADDR)))?;
    let ip = addr_of(name(ADDR), family.unwrap_or(service_family), addr)?;
    let port = port.ok_or_else(|| DecodeError::missing(name(PORT)))?;
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_mixed_family_gue_server() {
        let d = Destination {
            addr: "[2001:db8::5]:8080".parse().unwrap(),
            forward: Forward::Tunnel(Tunnel::gue(6080, TunnelChecksum::RemCsum)),
            weight: 7,
            upper_threshold: 100,
            lower_threshold: 10,
        };
        let mut w = AttrWriter::new();
        encode(&mut w, &d);
        let bytes = w.finish();
        let r = decode(&bytes, Family::Inet).unwrap();
        assert_eq!(r.destination, d);
        assert!(r.has_addr_family && r.has_tun_type && r.has_tun_flags && !r.has_stats64);
        // TUN_PORT is big-endian on the wire.
        let port = attrs("T", &bytes)
            .map(Result::unwrap)
            .find(|a| a.ty == TUN_PORT)
            .unwrap();
        assert_eq!(port.payload, 6080u16.to_be_bytes());
    }

    #[test]
    fn old_kernels_without_family_or_tunnel_attributes() {
        let mut w = AttrWriter::new();
        w.bytes(ADDR, &addr_bytes(&"10.0.0.2".parse().unwrap()))
            .be16(PORT, 80)
            .u32(FWD_METHOD, 0)
            .u32(WEIGHT, 3)
            .u32(U_THRESH, 0)
            .u32(L_THRESH, 0)
            .u32(ACTIVE_CONNS, 4)
            .u32(200, 1);
        let r = decode(&w.finish(), Family::Inet).unwrap();
        assert_eq!(r.destination.addr, "10.0.0.2:80".parse().unwrap());
        assert_eq!(r.destination.forward, Forward::Masquerade);
        assert_eq!(r.state.active_conns, 4);
        assert!(!r.has_addr_family && !r.has_tun_type);
    }

    #[test]
    fn missing_address_is_named() {
        let e = decode(&[], Family::Inet).unwrap_err();
        assert_eq!(e.to_string(), "IPVS_DEST_ATTR_ADDR: missing");
    }
}
