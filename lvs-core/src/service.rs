//! Virtual services: what `ipvsadm -A/-E/-D` manage.
//!
//! A service is identified by a [`ServiceKey`] (protocol, address and port, or a firewall mark
//! and a family) and configured by the rest of [`Service`]. What the kernel reports about a
//! service (statistics, the internal `HASHED` flag) lives in [`crate::ServiceState`].

use crate::{Family, Scheduler, UnknownName};
use bitflags::bitflags;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;

/// The longest persistence-engine name the kernel takes (`IP_VS_PENAME_MAXLEN`).
pub const PE_NAME_MAX: usize = 16;

/// The longest persistence timeout ipvsadm accepts, in seconds (31 days).
pub const PERSISTENCE_TIMEOUT_MAX: u32 = 86400 * 31;

/// The persistence timeout `-p` means when given without a value (`IPVS_SVC_PERSISTENT_TIMEOUT`).
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;

/// A layer-4 protocol, by its IP protocol number.
///
/// ```
/// use lvs_core::Protocol;
/// assert_eq!("udp".parse::<Protocol>()?, Protocol::Udp);
/// assert_eq!(Protocol::from_number(50), Protocol::Other(50)); // ESP keeps its number
/// # Ok::<(), lvs_core::UnknownName>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Protocol {
    /// TCP (6): `-t`.
    Tcp,
    /// UDP (17): `-u`.
    Udp,
    /// SCTP (132): `--sctp-service`.
    Sctp,
    /// Any other protocol number the kernel reports (AH and ESP exist in the kernel).
    Other(u16),
}

impl Protocol {
    /// The IP protocol number.
    ///
    /// ```
    /// assert_eq!(lvs_core::Protocol::Sctp.number(), 132);
    /// ```
    pub const fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Other(n) => n,
        }
    }

    /// The protocol for an IP protocol number.
    ///
    /// ```
    /// assert_eq!(lvs_core::Protocol::from_number(17), lvs_core::Protocol::Udp);
    /// ```
    pub const fn from_number(n: u16) -> Protocol {
        match n {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            132 => Protocol::Sctp,
            n => Protocol::Other(n),
        }
    }

    /// The lower-case name (`tcp`, `udp`, `sctp`); none for other protocols.
    ///
    /// ```
    /// assert_eq!(lvs_core::Protocol::Tcp.name(), Some("tcp"));
    /// ```
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Protocol::Tcp => Some("tcp"),
            Protocol::Udp => Some("udp"),
            Protocol::Sctp => Some("sctp"),
            Protocol::Other(_) => None,
        }
    }

    /// The name ipvsadm's listing shows (`TCP`, `UDP`, `SCTP`, `?` for others).
    ///
    /// ```
    /// assert_eq!(lvs_core::Protocol::Other(47).listing_name(), "?");
    /// ```
    pub const fn listing_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Other(_) => "?",
        }
    }

    /// The ipvsadm option that introduces a service of this protocol (`-t`, `-u`,
    /// `--sctp-service`; `--xxx-service`, as ipvsadm writes it, for others).
    ///
    /// ```
    /// assert_eq!(lvs_core::Protocol::Sctp.option(), "--sctp-service");
    /// ```
    pub const fn option(self) -> &'static str {
        match self {
            Protocol::Tcp => "-t",
            Protocol::Udp => "-u",
            Protocol::Sctp => "--sctp-service",
            Protocol::Other(_) => "--xxx-service",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "proto-{}", self.number()),
        }
    }
}

impl FromStr for Protocol {
    type Err = UnknownName;

    /// `tcp`, `udp` or `sctp`, in any case.
    fn from_str(s: &str) -> Result<Protocol, UnknownName> {
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
            .into_iter()
            .find(|p| p.name().is_some_and(|n| n.eq_ignore_ascii_case(s)))
            .ok_or_else(|| UnknownName::new("protocol", s, "tcp, udp or sctp"))
    }
}

/// What identifies a virtual service.
///
/// ```
/// use lvs_core::{Family, ServiceKey};
///
/// let web = ServiceKey::tcp("10.0.0.13:80".parse()?);
/// let dns = ServiceKey::udp("[2001:db8::13]:53".parse()?);
/// let marked = ServiceKey::fwmark(Family::Inet, 10);
/// // Display is how ipvsadm names the service on its command line.
/// assert_eq!(web.to_string(), "-t 10.0.0.13:80");
/// assert_eq!(dns.to_string(), "-u [2001:db8::13]:53");
/// assert_eq!(marked.to_string(), "-f 10");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum ServiceKey {
    /// A protocol with an address and a port (`-t`, `-u`, `--sctp-service`). Port 0 matches
    /// every port and is only allowed for persistent services.
    Inet {
        /// The transport protocol.
        protocol: Protocol,
        /// The virtual address and port.
        addr: SocketAddr,
    },
    /// A firewall mark set by netfilter (`-f MARK`, `-f MARK -6`).
    FwMark {
        /// Which family's packets the mark applies to.
        family: Family,
        /// The mark, 1 or more.
        mark: u32,
    },
}

impl ServiceKey {
    /// A TCP service.
    ///
    /// ```
    /// let key = lvs_core::ServiceKey::tcp("10.0.0.13:443".parse()?);
    /// assert_eq!(key.port(), 443);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn tcp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr,
        }
    }

    /// A UDP service.
    ///
    /// ```
    /// let key = lvs_core::ServiceKey::udp("10.0.0.13:53".parse()?);
    /// assert_eq!(key.protocol(), lvs_core::Protocol::Udp);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn udp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Udp,
            addr,
        }
    }

    /// An SCTP service.
    ///
    /// ```
    /// let key = lvs_core::ServiceKey::sctp("10.0.0.13:3868".parse()?);
    /// assert_eq!(key.to_string(), "--sctp-service 10.0.0.13:3868");
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn sctp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Sctp,
            addr,
        }
    }

    /// A firewall-mark service.
    ///
    /// ```
    /// use lvs_core::{Family, ServiceKey};
    /// assert_eq!(ServiceKey::fwmark(Family::Inet6, 7).to_string(), "-f 7 -6");
    /// ```
    pub fn fwmark(family: Family, mark: u32) -> Self {
        ServiceKey::FwMark { family, mark }
    }

    /// The service's address family.
    ///
    /// ```
    /// use lvs_core::{Family, ServiceKey};
    /// assert_eq!(ServiceKey::tcp("[2001:db8::1]:80".parse()?).family(), Family::Inet6);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Inet { addr, .. } => Family::of(&addr.ip()),
            ServiceKey::FwMark { family, .. } => *family,
        }
    }

    /// The protocol; the kernel records TCP for firewall-mark services.
    ///
    /// ```
    /// use lvs_core::{Protocol, ServiceKey};
    /// assert_eq!(ServiceKey::tcp("10.0.0.13:80".parse()?).protocol(), Protocol::Tcp);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn protocol(&self) -> Protocol {
        match self {
            ServiceKey::Inet { protocol, .. } => *protocol,
            ServiceKey::FwMark { .. } => Protocol::Tcp,
        }
    }

    /// The virtual port (0 for firewall-mark services).
    ///
    /// ```
    /// use lvs_core::{Family, ServiceKey};
    /// assert_eq!(ServiceKey::fwmark(Family::Inet, 10).port(), 0);
    /// ```
    pub fn port(&self) -> u16 {
        match self {
            ServiceKey::Inet { addr, .. } => addr.port(),
            ServiceKey::FwMark { .. } => 0,
        }
    }

    /// Whether this is a firewall-mark service.
    ///
    /// ```
    /// use lvs_core::{Family, ServiceKey};
    /// assert!(ServiceKey::fwmark(Family::Inet, 10).is_fwmark());
    /// ```
    pub fn is_fwmark(&self) -> bool {
        matches!(self, ServiceKey::FwMark { .. })
    }
}

/// `[v6]:port` for IPv6, `a.b.c.d:port` for IPv4: how ipvsadm writes addresses.
pub(crate) struct AddrPort<'a>(pub &'a SocketAddr);

impl fmt::Display for AddrPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.ip() {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.0.port()),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.0.port()),
        }
    }
}

/// The key as ipvsadm writes it in a rule: `-t 10.0.0.1:80`, `-f 10 -6`.
impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet { protocol, addr } => {
                write!(f, "{} {}", protocol.option(), AddrPort(addr))
            }
            ServiceKey::FwMark {
                family: Family::Inet,
                mark,
            } => write!(f, "-f {mark}"),
            ServiceKey::FwMark {
                family: Family::Inet6,
                mark,
            } => write!(f, "-f {mark} -6"),
        }
    }
}

bitflags! {
    /// Service flags that configure a service (`IP_VS_SVC_F_*`).
    ///
    /// Persistence is not a flag here: it is [`Service::persistence`], and the kernel's
    /// `PERSISTENT` bit is derived from it. The kernel's `HASHED` bit is state, not
    /// configuration. Unknown bits from a newer kernel are kept (`from_bits_retain`).
    ///
    /// ```
    /// use lvs_core::{Scheduler, ServiceFlags};
    ///
    /// // `-s sh -b sh-port -o`
    /// let flags = ServiceFlags::SCHED_2 | ServiceFlags::ONE_PACKET;
    /// assert_eq!(flags.sched_flag_names(&Scheduler::SourceHash), "sh-port");
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
    pub struct ServiceFlags: u32 {
        /// One-packet scheduling (`-o`, `--ops`): UDP or firewall-mark services only.
        const ONE_PACKET = 0x0004;
        /// Scheduler flag 1: `sh-fallback` for sh, `mh-fallback` for mh, `flag-1` otherwise.
        const SCHED_1 = 0x0008;
        /// Scheduler flag 2: `sh-port` for sh, `mh-port` for mh, `flag-2` otherwise.
        const SCHED_2 = 0x0010;
        /// Scheduler flag 3: `flag-3`.
        const SCHED_3 = 0x0020;
        // Keep every other bit the kernel sends.
        const _ = !0;
    }
}

impl ServiceFlags {
    /// The kernel's `IP_VS_SVC_F_PERSISTENT` bit (derived from [`Service::persistence`]).
    pub const KERNEL_PERSISTENT: u32 = 0x0001;
    /// The kernel's `IP_VS_SVC_F_HASHED` bit (state the kernel reports, never configuration).
    pub const KERNEL_HASHED: u32 = 0x0002;

    /// The three scheduler flags.
    pub const SCHED_ALL: ServiceFlags = ServiceFlags::SCHED_1
        .union(ServiceFlags::SCHED_2)
        .union(ServiceFlags::SCHED_3);

    /// The scheduler flags by ipvsadm's names for this scheduler, comma-separated
    /// (`sh-fallback,sh-port`, `flag-1`); empty when none is set. Like ipvsadm, this drops
    /// flag 3 under sh and mh, which have no name for it.
    ///
    /// ```
    /// use lvs_core::{Scheduler, ServiceFlags};
    /// let flags = ServiceFlags::SCHED_1 | ServiceFlags::SCHED_2;
    /// assert_eq!(flags.sched_flag_names(&Scheduler::MaglevHash), "mh-fallback,mh-port");
    /// assert_eq!(flags.sched_flag_names(&Scheduler::RoundRobin), "flag-1,flag-2");
    /// ```
    pub fn sched_flag_names(self, scheduler: &Scheduler) -> String {
        self.names(scheduler, "")
    }

    /// [`Self::sched_flag_names`], but naming flag 3 `flag-3` under sh and mh too, so that
    /// every set bit is written.
    ///
    /// ```
    /// use lvs_core::{Scheduler, ServiceFlags};
    /// // ipvsadm drops flag-3 on an sh service; the lossless names keep it.
    /// let flags = ServiceFlags::SCHED_3;
    /// assert_eq!(flags.sched_flag_names(&Scheduler::SourceHash), "");
    /// assert_eq!(flags.sched_flag_names_lossless(&Scheduler::SourceHash), "flag-3");
    /// ```
    pub fn sched_flag_names_lossless(self, scheduler: &Scheduler) -> String {
        self.names(scheduler, "flag-3")
    }

    fn names(self, scheduler: &Scheduler, hashed_flag_3: &'static str) -> String {
        let names: [&str; 3] = match scheduler {
            Scheduler::SourceHash => ["sh-fallback", "sh-port", hashed_flag_3],
            Scheduler::MaglevHash => ["mh-fallback", "mh-port", hashed_flag_3],
            _ => ["flag-1", "flag-2", "flag-3"],
        };
        [
            ServiceFlags::SCHED_1,
            ServiceFlags::SCHED_2,
            ServiceFlags::SCHED_3,
        ]
        .iter()
        .zip(names)
        .filter(|(flag, name)| self.contains(**flag) && !name.is_empty())
        .map(|(_, name)| name)
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// A scheduler flag by name, as `-b` takes it.
///
/// ```
/// use lvs_core::{SchedFlag, Scheduler, ServiceFlags};
///
/// let flag = SchedFlag::from_name("sh-fallback").expect("an ipvsadm flag name");
/// assert_eq!(flag.bits(), ServiceFlags::SCHED_1);
/// assert!(!flag.allowed_with(&Scheduler::RoundRobin));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedFlag {
    /// `flag-1`, `flag-2`, `flag-3`: the raw scheduler flags, for any scheduler.
    Raw(ServiceFlags),
    /// `sh-fallback` or `sh-port`: only with the sh scheduler.
    Sh(ServiceFlags),
    /// `mh-fallback` or `mh-port`: only with the mh scheduler.
    Mh(ServiceFlags),
}

impl SchedFlag {
    /// Parses one of ipvsadm's scheduler flag names.
    ///
    /// ```
    /// assert_eq!(lvs_core::SchedFlag::from_name("sh-weight"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<SchedFlag> {
        Some(match name {
            "flag-1" => SchedFlag::Raw(ServiceFlags::SCHED_1),
            "flag-2" => SchedFlag::Raw(ServiceFlags::SCHED_2),
            "flag-3" => SchedFlag::Raw(ServiceFlags::SCHED_3),
            "sh-fallback" => SchedFlag::Sh(ServiceFlags::SCHED_1),
            "sh-port" => SchedFlag::Sh(ServiceFlags::SCHED_2),
            "mh-fallback" => SchedFlag::Mh(ServiceFlags::SCHED_1),
            "mh-port" => SchedFlag::Mh(ServiceFlags::SCHED_2),
            _ => return None,
        })
    }

    /// The flag bit.
    ///
    /// ```
    /// use lvs_core::{SchedFlag, ServiceFlags};
    /// assert_eq!(SchedFlag::Mh(ServiceFlags::SCHED_2).bits(), ServiceFlags::SCHED_2);
    /// ```
    pub fn bits(self) -> ServiceFlags {
        match self {
            SchedFlag::Raw(f) | SchedFlag::Sh(f) | SchedFlag::Mh(f) => f,
        }
    }

    /// Whether this flag may be used with `scheduler`.
    ///
    /// ```
    /// use lvs_core::{SchedFlag, Scheduler, ServiceFlags};
    /// let flag_3 = SchedFlag::Raw(ServiceFlags::SCHED_3);
    /// assert!(flag_3.allowed_with(&Scheduler::WeightedLeastConnection));
    /// ```
    pub fn allowed_with(self, scheduler: &Scheduler) -> bool {
        match self {
            SchedFlag::Raw(_) => true,
            SchedFlag::Sh(_) => *scheduler == Scheduler::SourceHash,
            SchedFlag::Mh(_) => *scheduler == Scheduler::MaglevHash,
        }
    }
}

/// The persistence granularity: which client addresses share a persistent real server.
///
/// ```
/// use lvs_core::{Family, Netmask, Service, ServiceKey};
///
/// // `-p 600 -M 255.255.255.0`: clients of one /24 stick to the same real server.
/// let mut svc = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)).with_persistence(600);
/// if let Some(p) = &mut svc.persistence {
///     p.netmask = Netmask::V4("255.255.255.0".parse()?);
/// }
/// assert!(svc.validate().is_ok());
/// assert_eq!(Netmask::host(Family::Inet6).to_string(), "128");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Netmask {
    /// An IPv4 mask (`-M 255.255.255.0`); ipvsadm takes any dotted value.
    V4(Ipv4Addr),
    /// An IPv6 prefix length, 1 to 128 (`-M 64`).
    V6(u8),
}

impl Netmask {
    /// The mask that makes every client its own group: /32 or /128.
    ///
    /// ```
    /// use lvs_core::{Family, Netmask};
    /// assert_eq!(Netmask::host(Family::Inet).to_string(), "255.255.255.255");
    /// ```
    pub const fn host(family: Family) -> Netmask {
        match family {
            Family::Inet => Netmask::V4(Ipv4Addr::BROADCAST),
            Family::Inet6 => Netmask::V6(128),
        }
    }

    /// Whether this is the host mask (/32 or /128), which ipvsadm does not print.
    ///
    /// ```
    /// assert!(!lvs_core::Netmask::V6(64).is_host());
    /// ```
    pub fn is_host(self) -> bool {
        matches!(self, Netmask::V4(Ipv4Addr::BROADCAST) | Netmask::V6(128))
    }

    /// The family the mask belongs to.
    ///
    /// ```
    /// assert_eq!(lvs_core::Netmask::V6(64).family(), lvs_core::Family::Inet6);
    /// ```
    pub fn family(self) -> Family {
        match self {
            Netmask::V4(_) => Family::Inet,
            Netmask::V6(_) => Family::Inet6,
        }
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netmask::V4(m) => write!(f, "{m}"),
            Netmask::V6(p) => write!(f, "{p}"),
        }
    }
}

/// Persistence (`-p [timeout] [-M netmask]`): a client keeps its real server for `timeout`
/// seconds after its last connection ends.
///
/// ```
/// use lvs_core::{Family, Persistence};
/// let p = Persistence::new(300, Family::Inet);
/// assert!(p.netmask.is_host());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persistence {
    /// Seconds, 1 to 2678400 (ipvsadm's default when `-p` has no value is 360).
    pub timeout: u32,
    /// Client grouping; [`Netmask::host`] of the service's family by default.
    pub netmask: Netmask,
}

impl Persistence {
    /// Persistence for `timeout` seconds with the host mask of `family`.
    ///
    /// ```
    /// use lvs_core::{Family, Netmask, Persistence};
    /// assert_eq!(Persistence::new(60, Family::Inet6).netmask, Netmask::V6(128));
    /// ```
    pub fn new(timeout: u32, family: Family) -> Self {
        Persistence {
            timeout,
            netmask: Netmask::host(family),
        }
    }
}

/// A virtual service: its identity and its configuration.
///
/// ```
/// use lvs_core::{Scheduler, Service, ServiceKey};
///
/// // `-A -u 10.0.0.13:5060 -s sh -p 120 --pe sip`: SIP calls stick to one real server.
/// let mut sip = Service::new(ServiceKey::udp("10.0.0.13:5060".parse()?))
///     .with_scheduler("sh")
///     .with_persistence(120);
/// sip.pe = Some("sip".into());
/// assert_eq!(sip.scheduler, Scheduler::SourceHash);
/// assert!(sip.validate().is_ok());
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// What identifies the service.
    pub key: ServiceKey,
    /// The scheduling algorithm (`-s`, `wlc` by default).
    pub scheduler: Scheduler,
    /// One-packet scheduling and scheduler flags (`-o`, `-b`).
    #[serde(default, skip_serializing_if = "ServiceFlags::is_empty")]
    pub flags: ServiceFlags,
    /// Persistence (`-p`, `-M`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    /// The persistence engine (`--pe`; the kernel ships `sip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe: Option<String>,
}

impl Service {
    /// A service with ipvsadm's defaults: the `wlc` scheduler, no flags, no persistence.
    ///
    /// ```
    /// use lvs_core::{Scheduler, Service, ServiceKey};
    /// let svc = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?));
    /// assert_eq!(svc.scheduler, Scheduler::WeightedLeastConnection);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn new(key: ServiceKey) -> Self {
        Service {
            key,
            scheduler: Scheduler::default(),
            flags: ServiceFlags::empty(),
            persistence: None,
            pe: None,
        }
    }

    /// The same service with another scheduler.
    ///
    /// ```
    /// use lvs_core::{Scheduler, Service, ServiceKey};
    /// let svc = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)).with_scheduler("twos");
    /// assert_eq!(svc.scheduler, Scheduler::TwoChoice);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn with_scheduler(mut self, scheduler: impl Into<Scheduler>) -> Self {
        self.scheduler = scheduler.into();
        self
    }

    /// The same service, persistent for `timeout` seconds with the host netmask.
    ///
    /// ```
    /// use lvs_core::{Service, ServiceKey};
    /// let svc = Service::new(ServiceKey::tcp("10.0.0.13:443".parse()?)).with_persistence(300);
    /// assert_eq!(svc.persistence.map(|p| p.timeout), Some(300));
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn with_persistence(mut self, timeout: u32) -> Self {
        self.persistence = Some(Persistence::new(timeout, self.key.family()));
        self
    }

    /// The flags as the kernel holds them, with `PERSISTENT` derived from [`Self::persistence`].
    ///
    /// ```
    /// use lvs_core::{Service, ServiceFlags, ServiceKey};
    /// let svc = Service::new(ServiceKey::tcp("10.0.0.13:443".parse()?)).with_persistence(300);
    /// assert_ne!(svc.kernel_flags() & ServiceFlags::KERNEL_PERSISTENT, 0);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn kernel_flags(&self) -> u32 {
        let persistent = if self.persistence.is_some() {
            ServiceFlags::KERNEL_PERSISTENT
        } else {
            0
        };
        (self.flags.bits() & !(ServiceFlags::KERNEL_PERSISTENT | ServiceFlags::KERNEL_HASHED))
            | persistent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_display_matches_ipvsadm_rules() {
        let tcp = ServiceKey::tcp("10.0.0.13:80".parse().unwrap());
        assert_eq!(tcp.to_string(), "-t 10.0.0.13:80");
        let v6 = ServiceKey::udp("[2001:db8::1]:53".parse().unwrap());
        assert_eq!(v6.to_string(), "-u [2001:db8::1]:53");
        assert_eq!(
            ServiceKey::fwmark(Family::Inet6, 10).to_string(),
            "-f 10 -6"
        );
        assert_eq!(
            ServiceKey::fwmark(Family::Inet6, 10).protocol(),
            Protocol::Tcp
        );
    }

    #[test]
    fn sched_flag_names_follow_scheduler() {
        let f = ServiceFlags::SCHED_1 | ServiceFlags::SCHED_2;
        assert_eq!(
            f.sched_flag_names(&Scheduler::SourceHash),
            "sh-fallback,sh-port"
        );
        assert_eq!(
            f.sched_flag_names(&Scheduler::MaglevHash),
            "mh-fallback,mh-port"
        );
        assert_eq!(f.sched_flag_names(&Scheduler::RoundRobin), "flag-1,flag-2");
        assert_eq!(
            ServiceFlags::SCHED_3.sched_flag_names(&Scheduler::SourceHash),
            ""
        );
    }

    #[test]
    fn unknown_flag_bits_survive() {
        let f = ServiceFlags::from_bits_retain(0x8000 | 0x4);
        assert_eq!(f.bits(), 0x8004);
        let s = Service {
            flags: f,
            ..Service::new(ServiceKey::fwmark(Family::Inet, 1))
        };
        assert_eq!(s.kernel_flags(), 0x8004);
        assert_eq!(s.with_persistence(10).kernel_flags(), 0x8005);
    }
}
