//! `IPVS_SVC_ATTR_*`: virtual services.
//!
//! Quirks handled here: ports are big-endian; addresses are always 16 bytes (`nf_inet_addr`);
//! firewall-mark services carry no protocol, address or port; `FLAGS` is `{flags, mask}` and
//! lvs always sends `mask = ~0` (a full replace, as libipvs does); the kernel's `HASHED` bit is
//! state, not configuration; the persistence netmask is mask bytes for IPv4 but a prefix
//! length (host-order `u32`) for IPv6; a non-persistent service sends timeout 0 and the host
//! mask, as ipvsadm does.

use super::attr::{AttrWriter, Payload, attrs};
use super::{DecodeError, stats};
use lvs_core::{
    Family, Netmask, Persistence, Protocol, Scheduler, Service, ServiceFlags, ServiceKey,
    ServiceState,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Address family (u16).
pub const AF: u16 = 1;
/// Protocol number (u16).
pub const PROTOCOL: u16 = 2;
/// Address (16 bytes).
pub const ADDR: u16 = 3;
/// Port (be16).
pub const PORT: u16 = 4;
/// Firewall mark (u32).
pub const FWMARK: u16 = 5;
/// Scheduler name (string).
pub const SCHED_NAME: u16 = 6;
/// `struct ip_vs_flags { u32 flags; u32 mask; }`.
pub const FLAGS: u16 = 7;
/// Persistence timeout in seconds (u32).
pub const TIMEOUT: u16 = 8;
/// Persistence netmask (u32, see the module docs).
pub const NETMASK: u16 = 9;
/// 32-bit counters (nest).
pub const STATS: u16 = 10;
/// Persistence engine name (string).
pub const PE_NAME: u16 = 11;
/// 64-bit counters (nest).
pub const STATS64: u16 = 12;

/// The attribute's UAPI name.
///
/// ```
/// use lvs_netlink::wire::service;
/// assert_eq!(service::name(service::SCHED_NAME), "IPVS_SVC_ATTR_SCHED_NAME");
/// ```
pub fn name(ty: u16) -> &'static str {
    match ty {
        AF => "IPVS_SVC_ATTR_AF",
        PROTOCOL => "IPVS_SVC_ATTR_PROTOCOL",
        ADDR => "IPVS_SVC_ATTR_ADDR",
        PORT => "IPVS_SVC_ATTR_PORT",
        FWMARK => "IPVS_SVC_ATTR_FWMARK",
        SCHED_NAME => "IPVS_SVC_ATTR_SCHED_NAME",
        FLAGS => "IPVS_SVC_ATTR_FLAGS",
        TIMEOUT => "IPVS_SVC_ATTR_TIMEOUT",
        NETMASK => "IPVS_SVC_ATTR_NETMASK",
        STATS => "IPVS_SVC_ATTR_STATS",
        PE_NAME => "IPVS_SVC_ATTR_PE_NAME",
        STATS64 => "IPVS_SVC_ATTR_STATS64",
        _ => "IPVS_SVC_ATTR_(unknown)",
    }
}

/// An address as `union nf_inet_addr`: 16 bytes, IPv4 in the first four.
///
/// ```
/// use lvs_netlink::wire::service::addr_bytes;
/// let b = addr_bytes(&"10.0.0.13".parse().unwrap());
/// assert_eq!(b[..4], [10, 0, 0, 13]);
/// assert_eq!(b[4..], [0; 12]);
/// ```
pub fn addr_bytes(ip: &IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            b
        }
        IpAddr::V6(a) => a.octets(),
    }
}

/// Reads an `nf_inet_addr` of `family`: 16 bytes (what the kernel sends) or, for IPv4, 4.
///
/// ```
/// use lvs_core::Family;
/// use lvs_netlink::wire::service::{addr_bytes, addr_of};
///
/// let ip = "192.168.8.14".parse()?;
/// assert_eq!(addr_of("IPVS_SVC_ATTR_ADDR", Family::Inet, &addr_bytes(&ip))?, ip);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn addr_of(name: &'static str, family: Family, bytes: &[u8]) -> Result<IpAddr, DecodeError> {
    let p = Payload::new(name, bytes);
    match family {
        Family::Inet if bytes.len() == 4 => Ok(IpAddr::V4(Ipv4Addr::from(p.raw4()?))),
        Family::Inet => {
            let b = p.raw16()?;
            Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
        }
        Family::Inet6 => Ok(IpAddr::V6(Ipv6Addr::from(p.raw16()?))),
    }
}

/// Reads an `AF_*` number.
///
/// ```
/// use lvs_core::Family;
/// use lvs_netlink::wire::service::family_of;
///
/// assert_eq!(family_of("IPVS_SVC_ATTR_AF", &10u16.to_ne_bytes())?, Family::Inet6);
/// assert!(family_of("IPVS_SVC_ATTR_AF", &7u16.to_ne_bytes()).is_err());
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn family_of(name: &'static str, bytes: &[u8]) -> Result<Family, DecodeError> {
    let af = Payload::new(name, bytes).u16()?;
    Family::from_af(af)
        .ok_or_else(|| DecodeError::new(name, format!("unsupported address family {af}")))
}

/// Writes the attributes that identify `key` (what `DEL_SERVICE`, `GET_SERVICE`, `ZERO` and
/// every destination command carry), in libipvs's order.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::ServiceKey;
/// use lvs_netlink::wire::attr::{AttrWriter, attrs};
/// use lvs_netlink::wire::service;
///
/// let mut w = AttrWriter::new();
/// service::encode_key(&mut w, &ServiceKey::tcp("10.0.0.13:80".parse()?));
/// let bytes = w.finish();
/// let types: Vec<u16> =
///     attrs("IPVS_SVC_ATTR", &bytes).map(|a| a.map(|a| a.ty)).collect::<Result<_, _>>()?;
/// assert_eq!(types, [service::AF, service::PROTOCOL, service::ADDR, service::PORT]);
/// # Ok(())
/// # }
/// ```
pub fn encode_key(w: &mut AttrWriter, key: &ServiceKey) {
    w.u16(AF, key.family().af());
    match key {
        ServiceKey::FwMark { mark, .. } => {
            w.u32(FWMARK, *mark);
        }
        ServiceKey::Inet { protocol, addr } => {
            w.u16(PROTOCOL, protocol.number())
                .bytes(ADDR, &addr_bytes(&addr.ip()))
                .be16(PORT, addr.port());
        }
    }
}

/// The `NETMASK` value for a netmask, as a host-order `u32` whose bytes are what the kernel
/// reads: IPv4 mask bytes in network order, or the IPv6 prefix length.
///
/// ```
/// use lvs_core::Netmask;
/// use lvs_netlink::wire::service::netmask_value;
///
/// // -M 255.255.255.0 on an IPv4 service, -M 64 on an IPv6 one.
/// let v4 = Netmask::V4("255.255.255.0".parse().unwrap());
/// assert_eq!(netmask_value(v4).to_ne_bytes(), [255, 255, 255, 0]);
/// assert_eq!(netmask_value(Netmask::V6(64)), 64);
/// ```
pub fn netmask_value(mask: Netmask) -> u32 {
    match mask {
        Netmask::V4(m) => u32::from_ne_bytes(m.octets()),
        Netmask::V6(plen) => u32::from(plen),
    }
}

/// Writes a whole service (`NEW_SERVICE`, `SET_SERVICE`), in libipvs's order.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Service, ServiceKey};
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::service;
///
/// // `-A -t 10.0.0.13:443 -s wlc -p 300` encodes and decodes back unchanged.
/// let svc = Service::new(ServiceKey::tcp("10.0.0.13:443".parse()?))
///     .with_scheduler("wlc")
///     .with_persistence(300);
/// let mut w = AttrWriter::new();
/// service::encode(&mut w, &svc);
/// assert_eq!(service::decode(&w.finish())?.service, svc);
/// # Ok(())
/// # }
/// ```
pub fn encode(w: &mut AttrWriter, svc: &Service) {
    encode_with_flags(w, svc, 0);
}

/// [`encode`] with `extra` flag bits in `FLAGS` (the kernel's `HASHED` in its replies).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Service, ServiceKey};
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::service;
///
/// let svc = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?));
/// let mut w = AttrWriter::new();
/// service::encode_with_flags(&mut w, &svc, 2);
/// let read = service::decode(&w.finish())?;
/// assert_eq!((read.service, read.state.internal_flags), (svc, 2));
/// # Ok(())
/// # }
/// ```
pub fn encode_with_flags(w: &mut AttrWriter, svc: &Service, extra: u32) {
    encode_key(w, &svc.key);
    w.string(SCHED_NAME, svc.scheduler.name());
    if let Some(pe) = &svc.pe {
        w.string(PE_NAME, pe);
    }
    let mut flags = [0u8; 8];
    flags[..4].copy_from_slice(&(svc.kernel_flags() | extra).to_ne_bytes());
    flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    w.bytes(FLAGS, &flags);
    let (timeout, netmask) = match &svc.persistence {
        Some(p) => (p.timeout, p.netmask),
        None => (0, Netmask::host(svc.key.family())),
    };
    w.u32(TIMEOUT, timeout).u32(NETMASK, netmask_value(netmask));
}

/// A service as the kernel reports it.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Service, ServiceKey, Stats};
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::{service, stats};
///
/// // A reply as a 4.1+ kernel writes it: the configuration plus a STATS64 nest.
/// let svc = Service::new(ServiceKey::udp("10.0.0.13:53".parse()?)).with_scheduler("rr");
/// let mut w = AttrWriter::new();
/// service::encode(&mut w, &svc);
/// w.nest(service::STATS64, |n| stats::encode64(n, &Stats { conns: 42, ..Stats::default() }));
/// let reply = service::decode(&w.finish())?;
/// assert_eq!((reply.service, reply.state.stats.conns, reply.has_stats64), (svc, 42, true));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceReply {
    /// The configuration.
    pub service: Service,
    /// Counters and internal flags.
    pub state: ServiceState,
    /// Whether the reply had a `STATS64` nest (Linux 4.1 and later).
    pub has_stats64: bool,
}

/// Reads a service nest (`IPVS_CMD_ATTR_SERVICE` of a `NEW_SERVICE` reply).
///
/// ```
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::service;
///
/// // A reply with no scheduler name is refused, and the error names what is missing.
/// let mut w = AttrWriter::new();
/// w.u16(service::AF, 2).u32(service::FWMARK, 10).bytes(service::FLAGS, &[0; 8]);
/// let e = service::decode(&w.finish()).unwrap_err();
/// assert_eq!(e.to_string(), "IPVS_SVC_ATTR_SCHED_NAME: missing");
/// ```
pub fn decode(nest: &[u8]) -> Result<ServiceReply, DecodeError> {
    let mut parts = KeyParts::default();
    let mut sched = None;
    let mut pe = None;
    let mut flags = None;
    let mut timeout = 0;
    let mut netmask: Option<&[u8]> = None;
    let mut stats32 = None;
    let mut stats64 = None;
    for a in attrs("IPVS_SVC_ATTR", nest) {
        let a = a?;
        let p = Payload::new(name(a.ty), a.payload);
        match a.ty {
            AF => parts.af = Some(family_of(name(AF), a.payload)?),
            PROTOCOL => parts.protocol = Some(p.u16()?),
            ADDR => parts.addr = Some(a.payload),
            PORT => parts.port = Some(p.be16()?),
            FWMARK => parts.fwmark = Some(p.u32()?),
            SCHED_NAME => sched = Some(p.string()?),
            PE_NAME => pe = Some(p.string()?).filter(|s| !s.is_empty()),
            FLAGS => {
                let b = Payload::new(name(FLAGS), a.payload).exact8()?;
                flags = Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
            }
            TIMEOUT => timeout = p.u32()?,
            NETMASK => netmask = Some(a.payload),
            STATS => stats32 = Some(stats::decode(a.payload)?),
            STATS64 => stats64 = Some(stats::decode(a.payload)?),
            _ => {}
        }
    }
    let key = parts.key()?;
    let family = key.family();
    let flags = flags.ok_or_else(|| DecodeError::missing(name(FLAGS)))?;
    let persistence = if flags & ServiceFlags::KERNEL_PERSISTENT != 0 {
        let netmask = match netmask {
            Some(bytes) => netmask_of(family, bytes)?,
            None => Netmask::host(family),
        };
        Some(Persistence { timeout, netmask })
    } else {
        None
    };
    let sched = sched.ok_or_else(|| DecodeError::missing(name(SCHED_NAME)))?;
    let service = Service {
        key,
        scheduler: Scheduler::from(sched),
        flags: ServiceFlags::from_bits_retain(
            flags & !(ServiceFlags::KERNEL_PERSISTENT | ServiceFlags::KERNEL_HASHED),
        ),
        persistence,
        pe,
    };
    let has_stats64 = stats64.is_some();
    Ok(ServiceReply {
        service,
        state: ServiceState {
            stats: stats64.or(stats32).unwrap_or_default(),
            internal_flags: flags & ServiceFlags::KERNEL_HASHED,
        },
        has_stats64,
    })
}

/// Reads what identifies a service (`AF` and `FWMARK`, or `AF`, `PROTOCOL`, `ADDR` and `PORT`),
/// ignoring the rest: how the kernel reads the service nest of `DEL_SERVICE`, `GET_SERVICE`,
/// `ZERO` and the destination commands.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::ServiceKey;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::service;
///
/// let key = ServiceKey::udp("[2001:db8::1]:53".parse()?);
/// let mut w = AttrWriter::new();
/// service::encode_key(&mut w, &key);
/// assert_eq!(service::decode_key(&w.finish())?, key);
/// assert!(service::decode_key(&[]).is_err(), "no AF");
/// # Ok(())
/// # }
/// ```
pub fn decode_key(nest: &[u8]) -> Result<ServiceKey, DecodeError> {
    let mut parts = KeyParts::default();
    for a in attrs("IPVS_SVC_ATTR", nest) {
        let a = a?;
        let p = Payload::new(name(a.ty), a.payload);
        match a.ty {
            AF => parts.af = Some(family_of(name(AF), a.payload)?),
            PROTOCOL => parts.protocol = Some(p.u16()?),
            ADDR => parts.addr = Some(a.payload),
            PORT => parts.port = Some(p.be16()?),
            FWMARK => parts.fwmark = Some(p.u32()?),
            _ => {}
        }
    }
    parts.key()
}

/// The attributes that make a service key, as read.
#[derive(Default)]
struct KeyParts<'a> {
    af: Option<Family>,
    protocol: Option<u16>,
    addr: Option<&'a [u8]>,
    port: Option<u16>,
    fwmark: Option<u32>,
}

impl KeyParts<'_> {
    fn key(&self) -> Result<ServiceKey, DecodeError> {
        let family = self.af.ok_or_else(|| DecodeError::missing(name(AF)))?;
        if let Some(mark) = self.fwmark.filter(|m| *m != 0) {
            return Ok(ServiceKey::FwMark { family, mark });
        }
        let protocol = self
            .protocol
            .ok_or_else(|| DecodeError::missing(name(PROTOCOL)))?;
        let addr = self.addr.ok_or_else(|| DecodeError::missing(name(ADDR)))?;
        let ip = addr_of(name(ADDR), family, addr)?;
        let port = self.port.ok_or_else(|| DecodeError::missing(name(PORT)))?;
        Ok(ServiceKey::Inet {
            protocol: Protocol::from_number(protocol),
            addr: SocketAddr::new(ip, port),
        })
    }
}

fn netmask_of(family: Family, bytes: &[u8]) -> Result<Netmask, DecodeError> {
    let p = Payload::new(name(NETMASK), bytes);
    match family {
        Family::Inet => Ok(Netmask::V4(Ipv4Addr::from(p.raw4()?))),
        Family::Inet6 => {
            let plen = p.u32()?;
            u8::try_from(plen)
                .map(Netmask::V6)
                .map_err(|_| DecodeError::new(name(NETMASK), format!("IPv6 prefix length {plen}")))
        }
    }
}

impl Payload<'_> {
    /// Eight raw bytes (`struct ip_vs_flags`).
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// let flags = Payload::new("IPVS_SVC_ATTR_FLAGS", &[0; 8]).exact8()?;
    /// assert_eq!(flags, [0; 8]);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn exact8(&self) -> Result<[u8; 8], DecodeError> {
        <[u8; 8]>::try_from(self.bytes).map_err(|_| {
            DecodeError::new(
                self.name,
                format!("expected 8 bytes, got {}", self.bytes.len()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_core::Stats;

    fn reply_of(svc: &Service, hashed: bool, stats: &Stats) -> Vec<u8> {
        // Built the way the kernel's ip_vs_genl_fill_service orders it.
        let mut w = AttrWriter::new();
        encode_key(&mut w, &svc.key);
        w.string(SCHED_NAME, svc.scheduler.name());
        if let Some(pe) = &svc.pe {
            w.string(PE_NAME, pe);
        }
        let mut f = [0u8; 8];
        let bits = svc.kernel_flags() | if hashed { 2 } else { 0 };
        f[..4].copy_from_slice(&bits.to_ne_bytes());
        f[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.bytes(FLAGS, &f);
        let (t, m) = svc
            .persistence
            .map(|p| (p.timeout, p.netmask))
            .unwrap_or((0, Netmask::host(svc.key.family())));
        w.u32(TIMEOUT, t).u32(NETMASK, netmask_value(m));
        w.nest(STATS, |n| stats::encode32(n, stats));
        w.nest(STATS64, |n| stats::encode64(n, stats));
        w.finish()
    }

    #[test]
    fn round_trips_with_hashed_as_state() {
        let mut svc =
            Service::new(ServiceKey::udp("[2001:db8::1]:53".parse().unwrap())).with_scheduler("sh");
        svc.flags = ServiceFlags::SCHED_1 | ServiceFlags::ONE_PACKET;
        svc.persistence = Some(Persistence {
            timeout: 60,
            netmask: Netmask::V6(64),
        });
        svc.pe = Some("sip".into());
        let stats = Stats {
            conns: 3,
            ..Stats::default()
        };
        let r = decode(&reply_of(&svc, true, &stats)).unwrap();
        assert_eq!(r.service, svc);
        assert_eq!(r.state.internal_flags, 2);
        assert_eq!(r.state.stats, stats);
        assert!(r.has_stats64);
    }

    #[test]
    fn fwmark_services_have_no_address() {
        let svc = Service::new(ServiceKey::fwmark(Family::Inet6, 7));
        let mut w = AttrWriter::new();
        encode(&mut w, &svc);
        let bytes = w.finish();
        let r = decode(&bytes).unwrap();
        assert_eq!(r.service, svc);
        assert!(!r.has_stats64);
        assert!(attrs("T", &bytes).all(|a| a.unwrap().ty != ADDR));
    }

    #[test]
    fn short_flags_are_named() {
        let mut w = AttrWriter::new();
        w.u16(AF, 2).u32(FWMARK, 1).u32(FLAGS, 0);
        let e = decode(&w.finish()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "IPVS_SVC_ATTR_FLAGS: expected 8 bytes, got 4"
        );
    }

    #[test]
    fn ipv4_netmask_is_sent_as_mask_bytes() {
        let m = Netmask::V4(Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(netmask_value(m).to_ne_bytes(), [255, 255, 255, 0]);
        assert_eq!(netmask_value(Netmask::V6(128)), 128);
    }
}
