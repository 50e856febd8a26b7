//! Conversions between libipvs's structs and the lvs-core model, both ways. Nothing else: the
//! rules about what the kernel takes live in lvs-core and the kernel itself.
//!
//! Where libipvs passes a value through that the model does not hold, the conversion says so:
//! - a non-persistent service's `timeout` and `netmask` are not sent (lvs sends 0 and the host
//!   mask, as ipvsadm does) and read back as 0 and the host mask;
//! - a real server's `tun_*` fields are sent only with tunnel forwarding, and read back as 0
//!   otherwise;
//! - a real server with `af` 0 takes the service's family (what the kernel does with 0).

use crate::ffi::{Failure, Result, field_str, set_field};
use crate::types::*;
use lvs_core::{
    DaemonRole, Destination, DestinationState, Family, Forward, Netmask, Persistence, Protocol,
    Service, ServiceFlags, ServiceKey, ServiceState, Stats, SyncDaemon, Tunnel, TunnelChecksum,
    TunnelType,
};
use lvs_netlink::wire::service::netmask_value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address in an `nf_inet_addr` of `family`.
pub(crate) fn ip_of(family: Family, addr: &nf_inet_addr) -> IpAddr {
    // SAFETY: every field of the union is plain bytes; `all` covers all 16.
    let words = unsafe { addr.all };
    let mut bytes = [0u8; 16];
    for (chunk, w) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_ne_bytes());
    }
    match family {
        Family::Inet => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(bytes)),
    }
}

/// An `nf_inet_addr` holding `ip` (IPv4 in the first four bytes, the rest zero).
pub(crate) fn inet_addr(ip: &IpAddr) -> nf_inet_addr {
    let bytes = lvs_netlink::wire::service::addr_bytes(ip);
    let mut all = [0u32; 4];
    for (w, chunk) in all.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    nf_inet_addr { all }
}

pub(crate) fn family_of(af: u16) -> Result<Family> {
    Family::from_af(af)
        .ok_or_else(|| Failure::new(libc::EAFNOSUPPORT, format!("address family {af}")))
}

/// The key of a service given as libipvs fields (`port` in network order).
pub(crate) fn key_of(
    fwmark: u32,
    af: u16,
    protocol: u16,
    addr: &nf_inet_addr,
    port: u16,
) -> Result<ServiceKey> {
    let family = family_of(af)?;
    Ok(if fwmark != 0 {
        ServiceKey::FwMark {
            family,
            mark: fwmark,
        }
    } else {
        ServiceKey::Inet {
            protocol: Protocol::from_number(protocol),
            addr: SocketAddr::new(ip_of(family, addr), u16::from_be(port)),
        }
    })
}

pub(crate) fn service_key(s: &ipvs_service_t) -> Result<ServiceKey> {
    key_of(s.fwmark, s.af, s.protocol, &s.addr, s.port)
}

pub(crate) fn entry_key(s: &ipvs_service_entry_t) -> Result<ServiceKey> {
    key_of(s.fwmark, s.af, s.protocol, &s.addr, s.port)
}

/// An `ipvs_service_t` as a model service.
pub(crate) fn service(s: &ipvs_service_t) -> Result<Service> {
    let key = service_key(s)?;
    let family = key.family();
    let scheduler = field_str(&s.sched_name, "sched_name")?;
    let pe = field_str(&s.pe_name, "pe_name")?;
    let persistence = if s.flags & IP_VS_SVC_F_PERSISTENT != 0 {
        let netmask =
            match family {
                Family::Inet => Netmask::V4(Ipv4Addr::from(s.netmask.to_ne_bytes())),
                Family::Inet6 => Netmask::V6(u8::try_from(s.netmask).map_err(|_| {
                    Failure::invalid(format!("IPv6 persistence prefix {}", s.netmask))
                })?),
            };
        Some(Persistence {
            timeout: s.timeout,
            netmask,
        })
    } else {
        None
    };
    Ok(Service {
        key,
        scheduler: scheduler.into(),
        flags: ServiceFlags::from_bits_retain(
            s.flags & !(ServiceFlags::KERNEL_PERSISTENT | ServiceFlags::KERNEL_HASHED),
        ),
        persistence,
        pe: (!pe.is_empty()).then(|| pe.to_owned()),
    })
}

/// An `ipvs_dest_t` of a service of `service_family` as a model destination.
pub(crate) fn destination(d: &ipvs_dest_t, service_family: Family) -> Result<Destination> {
    let family = if d.af == 0 {
        service_family
    } else {
        family_of(d.af)?
    };
    let kind = u8::try_from(d.tun_type)
        .map_err(|_| Failure::invalid(format!("tun_type {}", d.tun_type)))?;
    let tunnel = Tunnel {
        kind: TunnelType::from_kernel(kind),
        port: u16::from_be(d.tun_port),
        checksum: TunnelChecksum::from_kernel(d.tun_flags),
    };
    Ok(Destination {
        addr: SocketAddr::new(ip_of(family, &d.addr), u16::from_be(d.port)),
        forward: Forward::from_kernel(d.conn_flags & IP_VS_CONN_F_FWD_MASK, tunnel),
        weight: d.weight,
        upper_threshold: d.u_threshold,
        lower_threshold: d.l_threshold,
    })
}

fn stats32(s: &Stats) -> ip_vs_stats_user {
    // The 32-bit fields wrap, as the kernel's own 32-bit counters do.
    ip_vs_stats_user {
        conns: s.conns as u32,
        inpkts: s.inpkts as u32,
        outpkts: s.outpkts as u32,
        inbytes: s.inbytes,
        outbytes: s.outbytes,
        cps: s.cps as u32,
        inpps: s.inpps as u32,
        outpps: s.outpps as u32,
        inbps: s.inbps as u32,
        outbps: s.outbps as u32,
    }
}

fn stats64(s: &Stats) -> ip_vs_stats64 {
    ip_vs_stats64 {
        conns: s.conns,
        inpkts: s.inpkts,
        outpkts: s.outpkts,
        inbytes: s.inbytes,
        outbytes: s.outbytes,
        cps: s.cps,
        inpps: s.inpps,
        outpps: s.outpps,
        inbps: s.inbps,
        outbps: s.outbps,
    }
}

/// The identifying fields of `key` as libipvs reports them: firewall-mark services have
/// protocol, address and port 0 (the kernel sends none).
fn key_fields(key: &ServiceKey) -> (u32, u16, u16, nf_inet_addr, u16) {
    match key {
        ServiceKey::FwMark { family, mark } => {
            (*mark, family.af(), 0, nf_inet_addr { all: [0; 4] }, 0)
        }
        ServiceKey::Inet { protocol, addr } => (
            0,
            key.family().af(),
            protocol.number(),
            inet_addr(&addr.ip()),
            addr.port().to_be(),
        ),
    }
}

/// A service the kernel reported, as an `ipvs_service_entry_t` (zeroed first: the padding and
/// `num_dests` stay 0, as with libipvs over netlink).
pub(crate) fn service_entry(svc: &Service, state: &ServiceState, e: &mut ipvs_service_entry_t) {
    let (fwmark, af, protocol, addr, port) = key_fields(&svc.key);
    let (timeout, netmask) = match &svc.persistence {
        Some(p) => (p.timeout, p.netmask),
        None => (0, Netmask::host(svc.key.family())),
    };
    e.protocol = protocol;
    e.__addr_v4 = 0;
    e.port = port;
    e.fwmark = fwmark;
    set_field(&mut e.sched_name, svc.scheduler.name());
    e.flags = svc.kernel_flags() | state.internal_flags;
    e.timeout = timeout;
    e.netmask = netmask_value(netmask);
    e.num_dests = 0;
    e.stats = stats32(&state.stats);
    e.af = af;
    e.addr = addr;
    set_field(&mut e.pe_name, svc.pe.as_deref().unwrap_or(""));
    e.stats64 = stats64(&state.stats);
}

/// A real server the kernel reported, as an `ipvs_dest_entry_t`.
pub(crate) fn dest_entry(d: &Destination, state: &DestinationState, e: &mut ipvs_dest_entry_t) {
    let tunnel = d.forward.tunnel().copied().unwrap_or_default();
    e.__addr_v4 = 0;
    e.port = d.addr.port().to_be();
    e.conn_flags = d.forward.kernel_value();
    e.weight = d.weight;
    e.u_threshold = d.upper_threshold;
    e.l_threshold = d.lower_threshold;
    e.activeconns = state.active_conns;
    e.inactconns = state.inactive_conns;
    e.persistconns = state.persistent_conns;
    e.stats = stats32(&state.stats);
    e.af = d.family().af();
    e.addr = inet_addr(&d.addr.ip());
    e.stats64 = stats64(&state.stats);
    e.tun_type = u16::from(tunnel.kind.kernel_value());
    e.tun_port = tunnel.port.to_be();
    e.tun_flags = tunnel.checksum.kernel_value();
}

/// The header of an `ip_vs_get_dests` for the service `svc` names.
pub(crate) fn dests_header(svc: &ipvs_service_entry_t, count: usize, g: &mut ip_vs_get_dests) {
    g.protocol = svc.protocol;
    g.__addr_v4 = 0;
    g.port = svc.port;
    g.fwmark = svc.fwmark;
    g.num_dests = count as u32;
    g.af = svc.af;
    g.addr = svc.addr;
}

/// An `ipvs_daemon_t` to start, as a model daemon. Zero means "the kernel's default" for the
/// optional values, as in libipvs.
pub(crate) fn daemon(d: &ipvs_daemon_t) -> Result<SyncDaemon> {
    let role = role_of(d.state)?;
    let interface = field_str(&d.mcast_ifn, "mcast_ifn")?;
    let syncid =
        u8::try_from(d.syncid).map_err(|_| Failure::invalid(format!("syncid {}", d.syncid)))?;
    let optional = |v: i64, what: &str| -> Result<Option<u16>> {
        match v {
            0 => Ok(None),
            v => u16::try_from(v)
                .map(Some)
                .map_err(|_| Failure::invalid(format!("{what} {v}"))),
        }
    };
    let ttl = match d.mcast_ttl {
        0 => None,
        t => Some(u8::try_from(t).map_err(|_| Failure::invalid(format!("mcast_ttl {t}")))?),
    };
    let group = match i32::from(d.mcast_af) {
        libc::AF_INET => Some(ip_of(Family::Inet, &d.mcast_group)),
        libc::AF_INET6 => Some(ip_of(Family::Inet6, &d.mcast_group)),
        _ => None,
    };
    Ok(SyncDaemon {
        role,
        interface: interface.to_owned(),
        syncid,
        maxlen: optional(i64::from(d.sync_maxlen), "sync_maxlen")?,
        group,
        port: optional(i64::from(d.mcast_port), "mcast_port")?,
        ttl,
    })
}

pub(crate) fn role_of(state: i32) -> Result<DaemonRole> {
    u32::try_from(state)
        .ok()
        .and_then(DaemonRole::from_kernel)
        .ok_or_else(|| Failure::invalid(format!("daemon state {state}")))
}

/// A running daemon as an `ipvs_daemon_t`.
pub(crate) fn daemon_entry(d: &SyncDaemon, e: &mut ipvs_daemon_t) {
    e.state = d.role.kernel_value() as i32;
    set_field(&mut e.mcast_ifn, &d.interface);
    e.syncid = i32::from(d.syncid);
    e.sync_maxlen = d.maxlen.map_or(0, i32::from);
    e.mcast_port = d.port.unwrap_or(0);
    e.mcast_ttl = d.ttl.map_or(0, u16::from);
    match &d.group {
        Some(ip) => {
            e.mcast_af = Family::of(ip).af();
            e.mcast_group = inet_addr(ip);
        }
        None => {
            e.mcast_af = 0;
            e.mcast_group = nf_inet_addr { all: [0; 4] };
        }
    }
}

/// A connection of the connection table as an `lvs_connection`.
pub(crate) fn connection(c: &lvs_netlink::Connection, e: &mut lvs_connection) {
    e.protocol = c.protocol.number();
    e.client_af = Family::of(&c.client.ip()).af();
    e.client_addr = inet_addr(&c.client.ip());
    e.client_port = c.client.port().to_be();
    e.virtual_af = Family::of(&c.virtual_addr.ip()).af();
    e.virtual_addr = inet_addr(&c.virtual_addr.ip());
    e.virtual_port = c.virtual_addr.port().to_be();
    e.dest_af = Family::of(&c.destination.ip()).af();
    e.dest_addr = inet_addr(&c.destination.ip());
    e.dest_port = c.destination.port().to_be();
    set_field(&mut e.state, &c.state);
    e.expires = c.expires;
    let (pe_name, pe_data) =
        c.pe.as_ref()
            .map_or(("", ""), |(n, d)| (n.as_str(), d.as_str()));
    set_field(&mut e.pe_name, pe_name);
    set_field(&mut e.pe_data, pe_data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::set_field;

    fn zeroed<T>() -> T {
        // SAFETY: only used for the plain C structs of this crate, for which all-zero is valid.
        unsafe { std::mem::zeroed() }
    }

    #[test]
    fn service_round_trips_through_the_struct() {
        let mut s: ipvs_service_t = zeroed();
        s.af = libc::AF_INET6 as u16;
        s.protocol = libc::IPPROTO_UDP as u16;
        s.addr = inet_addr(&"2001:db8::1".parse().unwrap());
        s.port = 53u16.to_be();
        set_field(&mut s.sched_name, "sh");
        set_field(&mut s.pe_name, "sip");
        s.flags = IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED_SH_PORT | IP_VS_SVC_F_HASHED;
        s.timeout = 300;
        s.netmask = 64;
        let svc = service(&s).unwrap();
        assert_eq!(
            svc.key,
            ServiceKey::udp("[2001:db8::1]:53".parse().unwrap())
        );
        assert_eq!(svc.scheduler.name(), "sh");
        assert_eq!(svc.pe.as_deref(), Some("sip"));
        assert_eq!(
            svc.persistence,
            Some(Persistence {
                timeout: 300,
                netmask: Netmask::V6(64)
            })
        );
        let mut e: ipvs_service_entry_t = zeroed();
        let state = ServiceState {
            internal_flags: IP_VS_SVC_F_HASHED,
            ..ServiceState::default()
        };
        service_entry(&svc, &state, &mut e);
        assert_eq!(e.flags, s.flags);
        assert_eq!(
            (e.af, e.protocol, e.port, e.timeout, e.netmask),
            (10, 17, s.port, 300, 64)
        );
        assert_eq!(unsafe { e.addr.all }, unsafe { s.addr.all });
        assert_eq!(entry_key(&e).unwrap(), svc.key);
    }

    #[test]
    fn ipv4_netmask_is_mask_bytes_in_network_order() {
        let mut s: ipvs_service_t = zeroed();
        s.af = libc::AF_INET as u16;
        s.fwmark = 7;
        s.flags = IP_VS_SVC_F_PERSISTENT;
        s.timeout = 10;
        s.netmask = u32::from_ne_bytes([255, 255, 255, 0]);
        let svc = service(&s).unwrap();
        assert_eq!(svc.key, ServiceKey::fwmark(Family::Inet, 7));
        assert_eq!(
            svc.persistence.unwrap().netmask,
            Netmask::V4(Ipv4Addr::new(255, 255, 255, 0))
        );
        let mut e: ipvs_service_entry_t = zeroed();
        service_entry(&svc, &ServiceState::default(), &mut e);
        assert_eq!((e.protocol, e.port, e.netmask), (0, 0, s.netmask));
    }

    #[test]
    fn unknown_family_is_eafnosupport() {
        let mut s: ipvs_service_t = zeroed();
        s.af = 99;
        assert_eq!(service(&s).unwrap_err().errno, libc::EAFNOSUPPORT);
    }

    #[test]
    fn destination_round_trips_with_tunnel() {
        let mut d: ipvs_dest_t = zeroed();
        d.af = 0;
        d.addr = inet_addr(&"192.168.1.2".parse().unwrap());
        d.port = 8080u16.to_be();
        d.conn_flags = IP_VS_CONN_F_TUNNEL;
        d.weight = 7;
        d.u_threshold = 100;
        d.l_threshold = 10;
        d.tun_type = IP_VS_CONN_F_TUNNEL_TYPE_GUE as u16;
        d.tun_port = 6080u16.to_be();
        d.tun_flags = IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM as u16;
        let dest = destination(&d, Family::Inet).unwrap();
        assert_eq!(dest.addr, "192.168.1.2:8080".parse().unwrap());
        assert_eq!(
            dest.forward,
            Forward::Tunnel(Tunnel::gue(6080, TunnelChecksum::RemCsum))
        );
        let mut e: ipvs_dest_entry_t = zeroed();
        dest_entry(&dest, &DestinationState::default(), &mut e);
        assert_eq!(
            (
                e.af,
                e.port,
                e.conn_flags,
                e.weight,
                e.u_threshold,
                e.l_threshold
            ),
            (2, d.port, 2, 7, 100, 10)
        );
        assert_eq!((e.tun_type, e.tun_port, e.tun_flags), (1, d.tun_port, 2));
    }

    #[test]
    fn daemon_optional_values_are_zero_for_default() {
        let mut d: ipvs_daemon_t = zeroed();
        d.state = IP_VS_STATE_BACKUP;
        set_field(&mut d.mcast_ifn, "eth0");
        d.syncid = 9;
        let m = daemon(&d).unwrap();
        assert_eq!(m, SyncDaemon::new(DaemonRole::Backup, "eth0", 9));
        d.mcast_af = libc::AF_INET as u16;
        d.mcast_group = inet_addr(&"239.1.2.3".parse().unwrap());
        d.mcast_port = 8849;
        d.mcast_ttl = 3;
        d.sync_maxlen = 1400;
        let m = daemon(&d).unwrap();
        let mut back: ipvs_daemon_t = zeroed();
        daemon_entry(&m, &mut back);
        assert_eq!(
            (
                back.mcast_af,
                back.mcast_port,
                back.mcast_ttl,
                back.sync_maxlen
            ),
            (2, 8849, 3, 1400)
        );
        assert_eq!(unsafe { back.mcast_group.ip }, unsafe { d.mcast_group.ip });
        d.state = 5;
        assert_eq!(daemon(&d).unwrap_err().errno, libc::EINVAL);
    }
}
