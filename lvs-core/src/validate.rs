//! Validation: the rules ipvsadm and the kernel apply, checked before anything is sent.

use crate::error::{InvalidRuleset, Location};
use crate::service::AddrPort;
use crate::{
    Destination, Family, Forward, Netmask, Protocol, Ruleset, Service, ServiceFlags, ServiceKey,
    SyncDaemon, Timeouts, Tunnel, TunnelChecksum, TunnelType, ValidationError,
    daemon::{IFNAME_MAX, SYNC_MAXLEN_MAX},
    scheduler::SCHEDULER_NAME_MAX,
    service::{PE_NAME_MAX, PERSISTENCE_TIMEOUT_MAX},
    timeouts::TIMEOUT_MAX,
};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};

impl Ruleset {
    /// Checks a whole ruleset before any of it is sent: every service, real server, timeout
    /// and daemon against ipvsadm's and the kernel's rules ([`Service::validate`],
    /// [`Destination::validate`], [`SyncDaemon::validate`]); that each can be written back
    /// as an ipvsadm rule (no protocol, flag, forwarding method or tunnel that only a newer
    /// kernel could report); no service, real server of one service, or daemon role listed
    /// twice; real servers that are unicast; no sync daemon beside mixed-family real servers.
    ///
    /// Whether the kernel has a scheduler or persistence-engine module can only be known by
    /// trying; everything else the kernel would refuse is found here. A ruleset read by
    /// [`Ruleset::from_rules`] always passes. The cost is linear in the number of objects.
    ///
    /// ```
    /// use lvs_core::{Ruleset, ValidationError};
    ///
    /// let mut r = Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n")?;
    /// r.services.push(r.services[0].clone());
    /// let e = r.validate().unwrap_err();
    /// assert!(matches!(e.error, ValidationError::Duplicate { what: "service", .. }));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "services[1] (-t 10.0.0.13:80): listed twice: the same service as services[0]"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), InvalidRuleset> {
        let mut services = HashMap::with_capacity(self.services.len());
        let mut mixed_family = false;
        for (i, vs) in self.services.iter().enumerate() {
            let key = vs.service.key;
            let at = Location::service(i);
            let fail = |error| InvalidRuleset {
                at,
                object: key.to_string(),
                error,
            };
            vs.service.validate().map_err(fail)?;
            vs.service.writable().map_err(fail)?;
            first_time(&mut services, key, at, "service").map_err(fail)?;
            let mut addrs = HashMap::with_capacity(vs.destinations.len());
            for (j, d) in vs.destinations.iter().enumerate() {
                let at = Location::destination(i, j);
                let fail = |error| InvalidRuleset {
                    at,
                    object: format!("{key} -r {}", AddrPort(&d.addr)),
                    error,
                };
                d.validate(&key).map_err(fail)?;
                d.writable(&key).map_err(fail)?;
                if !unicast(&d.addr.ip()) {
                    return Err(fail(ValidationError::NotUnicast(d.addr.ip())));
                }
                first_time(&mut addrs, d.addr, at, "real server").map_err(fail)?;
                mixed_family |= d.family() != key.family();
            }
        }
        if let Some(t) = &self.timeouts {
            t.validate().map_err(|error| InvalidRuleset {
                at: Location::Timeouts,
                object: "--set".to_owned(),
                error,
            })?;
        }
        let mut roles = HashMap::new();
        for (i, d) in self.daemons.iter().enumerate() {
            let at = Location::Daemon(i);
            let fail = |error| InvalidRuleset {
                at,
                object: format!("--start-daemon {}", d.role),
                error,
            };
            d.validate().map_err(fail)?;
            first_time(&mut roles, d.role, at, "daemon").map_err(fail)?;
            if mixed_family {
                return Err(fail(ValidationError::DaemonsWithMixedFamily));
            }
        }
        Ok(())
    }
}

/// Records where `key` was first seen, or says where, if this is the second time.
fn first_time<K: Hash + Eq>(
    seen: &mut HashMap<K, Location>,
    key: K,
    at: Location,
    what: &'static str,
) -> Result<(), ValidationError> {
    match seen.entry(key) {
        Entry::Occupied(first) => Err(ValidationError::Duplicate {
            what,
            first: *first.get(),
        }),
        Entry::Vacant(slot) => {
            slot.insert(at);
            Ok(())
        }
    }
}

/// An IPv6 socket address with a scope id or flow label: IPVS keeps neither (a rule cannot
/// write them, the kernel's attributes have no room for them), and `[fe80::1%2]:80` and
/// `[fe80::1]:80` would be two objects here and one in the kernel.
fn plain_address(addr: &SocketAddr) -> Result<(), ValidationError> {
    match addr {
        SocketAddr::V6(a) if a.scope_id() != 0 || a.flowinfo() != 0 => {
            Err(ValidationError::ScopedAddress(*a))
        }
        _ => Ok(()),
    }
}

/// Whether a name can stand as one token of a rule line: printable ASCII, no blanks.
fn printable(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_graphic())
}

impl Service {
    /// Whether every value can be written back as an ipvsadm rule (values only a newer kernel
    /// reports cannot).
    fn writable(&self) -> Result<(), ValidationError> {
        if let ServiceKey::Inet { protocol, addr } = self.key {
            if protocol.name().is_none() {
                return Err(ValidationError::UnknownProtocol(protocol.number()));
            }
            plain_address(&addr)?;
        }
        let known = ServiceFlags::ONE_PACKET | ServiceFlags::SCHED_ALL;
        let unknown = self.flags.bits() & !known.bits();
        if unknown != 0 {
            return Err(ValidationError::UnknownFlags(unknown));
        }
        Ok(())
    }
}

impl Destination {
    /// Whether the forwarding method can be written back as an ipvsadm rule (`-m`, `-g`,
    /// `-i` with ipvsadm's tunnel types and checksums), the port too (ipvsadm gives a `-g` or
    /// `-i` real server of an address service the service's port, whatever the rule says),
    /// and the thresholds (ipvsadm's `-x` and `-y` go up to `i32::MAX`).
    fn writable(&self, service: &ServiceKey) -> Result<(), ValidationError> {
        plain_address(&self.addr)?;
        let forced_port = matches!(self.forward, Forward::DirectRoute | Forward::Tunnel(_))
            && !service.is_fwmark();
        if forced_port && self.addr.port() != service.port() {
            return Err(ValidationError::ForwardPort {
                port: self.addr.port(),
                service_port: service.port(),
            });
        }
        // ipvsadm reads -x and -y as ints; the kernel's fields are unsigned.
        for (option, value) in [
            ("u_threshold", self.upper_threshold),
            ("l_threshold", self.lower_threshold),
        ] {
            if value > i32::MAX.unsigned_abs() {
                return Err(ValidationError::ThresholdRange { option, value });
            }
        }
        match self.forward {
            Forward::Masquerade | Forward::DirectRoute => Ok(()),
            Forward::Tunnel(t) => match (t.kind.name(), t.checksum.name()) {
                (Some(_), Some(_)) => Ok(()),
                _ => Err(ValidationError::UnknownTunnel(format!(
                    "type {} checksum {}",
                    t.kind, t.checksum
                ))),
            },
            other => Err(ValidationError::UnknownForward(other.to_string())),
        }
    }
}

impl Timeouts {
    /// Checks the timeouts against ipvsadm's range (0, which keeps a value, to 31 days).
    ///
    /// ```
    /// use lvs_core::Timeouts;
    /// assert!(Timeouts { tcp: 900, tcp_fin: 0, udp: 300 }.validate().is_ok());
    /// assert!(Timeouts { tcp: 86400 * 32, tcp_fin: 0, udp: 0 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        match [self.tcp, self.tcp_fin, self.udp]
            .into_iter()
            .find(|t| *t > TIMEOUT_MAX)
        {
            Some(t) => Err(ValidationError::Timeout(t)),
            None => Ok(()),
        }
    }
}

impl Service {
    /// Checks the service against ipvsadm's and the kernel's rules.
    ///
    /// ```
    /// use lvs_core::{Service, ServiceKey, ValidationError};
    /// // Port 0 ("every port") needs persistence, as ipvsadm says.
    /// let any_port = Service::new(ServiceKey::tcp("10.0.0.13:0".parse()?));
    /// assert_eq!(any_port.validate(), Err(ValidationError::ZeroPortNotPersistent));
    /// assert!(any_port.with_persistence(300).validate().is_ok());
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let ServiceKey::FwMark { mark: 0, .. } = self.key {
            return Err(ValidationError::ZeroFwMark);
        }
        zero_port(&self.key, self.persistence.is_some())?;
        one_packet(&self.key, self.flags)?;
        let name = self.scheduler.name();
        if name.is_empty() || name.len() > SCHEDULER_NAME_MAX || !printable(name) {
            return Err(ValidationError::SchedulerName(name.to_owned()));
        }
        if let Some(pe) = &self.pe {
            if pe.is_empty() || pe.len() > PE_NAME_MAX || !printable(pe) {
                return Err(ValidationError::PeName(pe.clone()));
            }
        }
        if let Some(p) = &self.persistence {
            if p.timeout == 0 || p.timeout > PERSISTENCE_TIMEOUT_MAX {
                return Err(ValidationError::PersistenceTimeout(p.timeout));
            }
            netmask(p.netmask, self.key.family())?;
        }
        Ok(())
    }
}

impl Destination {
    /// Checks the real server against ipvsadm's and the kernel's rules, for `service`.
    ///
    /// ```
    /// use lvs_core::{Destination, ServiceKey, ValidationError};
    /// // An IPv6 real server behind an IPv4 service needs a tunnel.
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// let v6 = Destination::new("[2001:db8::14]:80".parse()?);
    /// assert_eq!(v6.validate(&key), Err(ValidationError::MixedFamily));
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn validate(&self, service: &ServiceKey) -> Result<(), ValidationError> {
        weight(self.weight)?;
        thresholds(self.lower_threshold, self.upper_threshold)?;
        mixed_family(&self.forward, self.family(), service.family())?;
        match &self.forward {
            Forward::Tunnel(t) => t.validate(),
            _ => Ok(()),
        }
    }
}

impl Tunnel {
    /// Checks the tunnel options against ipvsadm's table of tunnel types and options.
    ///
    /// ```
    /// use lvs_core::{Tunnel, TunnelChecksum, TunnelType, ValidationError};
    /// let ipip = Tunnel { kind: TunnelType::Ipip, port: 6080, checksum: TunnelChecksum::None };
    /// let refused = Err(ValidationError::TunnelPortNotAllowed(TunnelType::Ipip));
    /// assert_eq!(ipip.validate(), refused);
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        let checksum_ok = match (self.kind, self.checksum) {
            (TunnelType::Other(_), _) => true,
            (_, TunnelChecksum::Other(_)) => false,
            (TunnelType::Ipip, c) => c == TunnelChecksum::None,
            (TunnelType::Gre, c) => c != TunnelChecksum::RemCsum,
            (TunnelType::Gue, _) => true,
        };
        if !checksum_ok {
            let option = self
                .checksum
                .option()
                .unwrap_or("tun-flags")
                .trim_start_matches('-');
            return Err(ValidationError::TunnelChecksumNotAllowed {
                kind: self.kind,
                option: option.to_owned(),
            });
        }
        gue_port(self)?;
        match (self.kind, self.port) {
            (TunnelType::Ipip | TunnelType::Gre, p) if p != 0 => {
                Err(ValidationError::TunnelPortNotAllowed(self.kind))
            }
            _ => Ok(()),
        }
    }
}

// The rules of IPVS that more than one reader applies: `validate` here, the rule-file and
// command-line parser (in ipvsadm's words), the kernel simulation (with the kernel's errno)
// and the bindings each call these and translate the one error.

/// Port 0 ("every port") needs persistence.
pub(crate) fn zero_port(key: &ServiceKey, persistent: bool) -> Result<(), ValidationError> {
    match key {
        ServiceKey::Inet { addr, .. } if addr.port() == 0 && !persistent => {
            Err(ValidationError::ZeroPortNotPersistent)
        }
        _ => Ok(()),
    }
}

/// One-packet scheduling is for UDP address services (and firewall marks).
pub(crate) fn one_packet(key: &ServiceKey, flags: ServiceFlags) -> Result<(), ValidationError> {
    if flags.contains(ServiceFlags::ONE_PACKET)
        && !key.is_fwmark()
        && key.protocol() != Protocol::Udp
    {
        return Err(ValidationError::OnePacketNotUdp);
    }
    Ok(())
}

/// Whether the kernel takes `ip` as a real server in a fresh namespace (`inet_addr_type` is
/// unicast, or `ipv6_addr_type` is unicast and not link-local).
pub(crate) fn unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(o[0] == 0 || a.is_broadcast() || a.is_multicast())
        }
        IpAddr::V6(a) => {
            let seg = a.segments();
            !(a.is_unspecified()
                || a.is_multicast()
                || (seg[0] & 0xffc0) == 0xfe80
                || a.to_ipv4_mapped().is_some())
        }
    }
}

/// A persistence netmask is of the service's family, and an IPv6 prefix is 1 to 128 bits.
pub(crate) fn netmask(mask: Netmask, family: Family) -> Result<(), ValidationError> {
    if mask.family() != family {
        return Err(ValidationError::NetmaskFamily { mask, family });
    }
    match mask {
        Netmask::V6(plen) if plen == 0 || plen > 128 => Err(ValidationError::Ipv6Prefix(plen)),
        _ => Ok(()),
    }
}

/// A weight is not negative.
pub(crate) fn weight(weight: i32) -> Result<(), ValidationError> {
    if weight < 0 {
        return Err(ValidationError::NegativeWeight(weight));
    }
    Ok(())
}

/// The lower connection threshold is not above the upper one.
pub(crate) fn thresholds(lower: u32, upper: u32) -> Result<(), ValidationError> {
    if lower > upper {
        return Err(ValidationError::ThresholdOrder { lower, upper });
    }
    Ok(())
}

/// A real server of another family than its service is reached through a tunnel.
pub(crate) fn mixed_family(
    forward: &Forward,
    destination: Family,
    service: Family,
) -> Result<(), ValidationError> {
    if destination != service && !matches!(forward, Forward::Tunnel(_)) {
        return Err(ValidationError::MixedFamily);
    }
    Ok(())
}

/// A gue tunnel needs a port.
pub(crate) fn gue_port(tunnel: &Tunnel) -> Result<(), ValidationError> {
    if tunnel.kind == TunnelType::Gue && tunnel.port == 0 {
        return Err(ValidationError::GueNeedsPort);
    }
    Ok(())
}

impl SyncDaemon {
    /// Checks the daemon's settings against ipvsadm's ranges.
    ///
    /// ```
    /// use lvs_core::{DaemonRole, SyncDaemon};
    /// let too_long = SyncDaemon::new(DaemonRole::Master, "a-very-long-ifname", 1);
    /// assert!(too_long.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.interface.is_empty()
            || self.interface.len() > IFNAME_MAX
            || !printable(&self.interface)
        {
            return Err(ValidationError::InterfaceName(self.interface.clone()));
        }
        if let Some(group) = self.group {
            if !group.is_multicast() {
                return Err(ValidationError::McastGroup(group));
            }
        }
        match self.maxlen {
            Some(0) => return Err(ValidationError::ZeroDaemonValue("sync-maxlen")),
            Some(n) if n > SYNC_MAXLEN_MAX => return Err(ValidationError::SyncMaxlen(n)),
            _ => {}
        }
        if self.port == Some(0) {
            return Err(ValidationError::ZeroDaemonValue("mcast-port"));
        }
        if self.ttl == Some(0) {
            return Err(ValidationError::ZeroDaemonValue("mcast-ttl"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Family, Persistence, Scheduler};

    fn tcp(s: &str) -> ServiceKey {
        ServiceKey::tcp(s.parse().unwrap())
    }

    #[test]
    fn service_rules() {
        assert_eq!(
            Service::new(tcp("10.0.0.1:0")).validate(),
            Err(ValidationError::ZeroPortNotPersistent)
        );
        assert!(
            Service::new(tcp("10.0.0.1:0"))
                .with_persistence(360)
                .validate()
                .is_ok()
        );
        let mut s = Service::new(tcp("10.0.0.1:80"));
        s.flags = ServiceFlags::ONE_PACKET;
        assert_eq!(s.validate(), Err(ValidationError::OnePacketNotUdp));
        s.key = ServiceKey::udp("10.0.0.1:53".parse().unwrap());
        assert!(s.validate().is_ok());
        s.key = ServiceKey::fwmark(Family::Inet, 0);
        assert_eq!(s.validate(), Err(ValidationError::ZeroFwMark));
        let mut s = Service::new(tcp("10.0.0.1:80"));
        s.persistence = Some(Persistence {
            timeout: 10,
            netmask: Netmask::V6(64),
        });
        assert!(matches!(
            s.validate(),
            Err(ValidationError::NetmaskFamily { .. })
        ));
        s.persistence = Some(Persistence {
            timeout: 0,
            netmask: Netmask::host(Family::Inet),
        });
        assert_eq!(s.validate(), Err(ValidationError::PersistenceTimeout(0)));
        let s = Service::new(tcp("10.0.0.1:80")).with_scheduler("a-very-long-scheduler");
        assert!(matches!(
            s.validate(),
            Err(ValidationError::SchedulerName(_))
        ));
        let s = Service::new(tcp("10.0.0.1:80")).with_scheduler(Scheduler::MaglevHash);
        assert!(s.validate().is_ok());
    }

    #[test]
    fn destination_rules() {
        let svc = tcp("10.0.0.1:80");
        let d = Destination::new("192.168.0.1:80".parse().unwrap());
        assert!(d.validate(&svc).is_ok());
        assert_eq!(
            d.with_weight(-1).validate(&svc),
            Err(ValidationError::NegativeWeight(-1))
        );
        let t = Destination {
            lower_threshold: 5,
            ..d
        };
        assert_eq!(
            t.validate(&svc),
            Err(ValidationError::ThresholdOrder { lower: 5, upper: 0 })
        );
        let v6 = Destination::new("[2001:db8::1]:80".parse().unwrap());
        assert_eq!(v6.validate(&svc), Err(ValidationError::MixedFamily));
        assert!(
            v6.with_forward(Forward::Tunnel(Tunnel::IPIP))
                .validate(&svc)
                .is_ok()
        );
        let gue = Forward::Tunnel(Tunnel::gue(0, TunnelChecksum::None));
        assert_eq!(
            d.with_forward(gue).validate(&svc),
            Err(ValidationError::GueNeedsPort)
        );
        let gre = Forward::Tunnel(Tunnel::gre(TunnelChecksum::RemCsum));
        assert!(matches!(
            d.with_forward(gre).validate(&svc),
            Err(ValidationError::TunnelChecksumNotAllowed { .. })
        ));
        let ipip_port = Forward::Tunnel(Tunnel {
            port: 5,
            ..Tunnel::IPIP
        });
        assert_eq!(
            d.with_forward(ipip_port).validate(&svc),
            Err(ValidationError::TunnelPortNotAllowed(TunnelType::Ipip))
        );
    }
}
