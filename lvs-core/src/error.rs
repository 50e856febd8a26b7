//! Errors: broken model rules ([`ValidationError`]) and kernel refusals ([`Refusal`]), worded
//! like ipvsadm.

use crate::{Family, Netmask, TunnelType};
use std::fmt;
use thiserror::Error;

/// A name that is none of a value's spellings, from a `FromStr` of the model
/// (`"masq".parse::<Forward>()`, `"tcp".parse::<Protocol>()`, `"1.2.1".parse::<Version>()`).
///
/// ```
/// let e = "masquerade".parse::<lvs_core::Forward>().unwrap_err();
/// assert_eq!(e.name, "masquerade");
/// assert!(e.to_string().starts_with("unknown forwarding method \"masquerade\": expected masq"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} {name:?}: expected {expected}")]
pub struct UnknownName {
    /// What was being named (`"forwarding method"`).
    pub what: &'static str,
    /// The name given.
    pub name: String,
    /// The spellings taken, for the message (`"masq, route, tunnel, local or bypass"`).
    pub expected: &'static str,
}

impl UnknownName {
    pub(crate) fn new(what: &'static str, name: &str, expected: &'static str) -> UnknownName {
        UnknownName {
            what,
            name: name.to_owned(),
            expected,
        }
    }
}

/// A configuration that breaks one of ipvsadm's or the kernel's rules. Each variant names the
/// rule.
///
/// ```
/// use lvs_core::{Destination, ServiceKey, ValidationError};
///
/// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
/// let real = Destination::new("192.168.8.14:80".parse()?).with_weight(-1);
/// let e = real.validate(&key).unwrap_err();
/// assert_eq!(e, ValidationError::NegativeWeight(-1));
/// assert_eq!(e.to_string(), "illegal weight specified: -1 (weights are 0 or more)");
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// Firewall marks start at 1.
    #[error("invalid fwmark value 0: marks start at 1")]
    ZeroFwMark,
    /// Port 0 means "every port" and needs persistence.
    #[error("Zero port specified for non-persistent service")]
    ZeroPortNotPersistent,
    /// `-o` only makes sense for datagrams.
    #[error("One-Packet Scheduling is only for UDP virtual services")]
    OnePacketNotUdp,
    /// The scheduler name is empty or longer than 15 bytes.
    #[error("invalid scheduler name {}: 1 to 15 printable bytes, no blanks", shown(.0))]
    SchedulerName(String),
    /// The persistence-engine name is empty or longer than 16 bytes.
    #[error("invalid persistence engine name {}: 1 to 16 printable bytes, no blanks", shown(.0))]
    PeName(String),
    /// Persistence lasts 1 to 2678400 seconds.
    #[error("invalid timeout value `{0}' specified: persistence lasts 1 to 2678400 seconds")]
    PersistenceTimeout(u32),
    /// The persistence netmask is of the other family.
    #[error("persistence netmask {mask} does not fit the service's family ({family})")]
    NetmaskFamily {
        /// The mask given.
        mask: Netmask,
        /// The service's family.
        family: Family,
    },
    /// IPv6 persistence prefixes are 1 to 128.
    #[error("illegal ipv6 netmask specified: {0} (1 to 128)")]
    Ipv6Prefix(u8),
    /// The kernel refuses negative weights.
    #[error("illegal weight specified: {0} (weights are 0 or more)")]
    NegativeWeight(i32),
    /// The lower connection threshold is above the upper one.
    #[error("lower threshold {lower} is above upper threshold {upper}")]
    ThresholdOrder {
        /// `-y`.
        lower: u32,
        /// `-x`.
        upper: u32,
    },
    /// A real server of another family than the service's needs tunnelling.
    #[error("Different address family is allowed only for tunneling servers")]
    MixedFamily,
    /// gue tunnels need a port.
    #[error("You need to supply the 'tun-port' option for the 'gue' tunnel type")]
    GueNeedsPort,
    /// Only gue takes a tunnel port.
    #[error("Illegal 'tun-port' option with the '{0}' tunnel type")]
    TunnelPortNotAllowed(TunnelType),
    /// This checksum mode is not available for this tunnel type.
    #[error("Illegal '{option}' option with the '{kind}' tunnel type")]
    TunnelChecksumNotAllowed {
        /// The tunnel type.
        kind: TunnelType,
        /// The checksum option.
        option: String,
    },
    /// The interface name is empty or longer than 15 bytes.
    #[error("invalid interface name {}: 1 to 15 printable bytes, no blanks", shown(.0))]
    InterfaceName(String),
    /// A multicast group that is not a multicast address.
    #[error("invalid mcast-group `{0}': not a multicast address")]
    McastGroup(std::net::IpAddr),
    /// A zero where ipvsadm takes 1 or more (sync-maxlen, mcast-port, mcast-ttl).
    #[error("illegal {0} specified: 0")]
    ZeroDaemonValue(&'static str),
    /// The sync message payload is above 65507 bytes.
    #[error("illegal sync-maxlen specified: {0} (1 to 65507)")]
    SyncMaxlen(u16),
    /// A connection timeout above ipvsadm's limit (31 days).
    #[error("invalid timeout value `{0}' specified: 0 (keep) to 2678400 seconds")]
    Timeout(u32),
    /// A protocol ipvsadm cannot name: services are TCP, UDP or SCTP.
    #[error("protocol {0} cannot be written as a rule: services are tcp, udp or sctp")]
    UnknownProtocol(u16),
    /// Service flag bits that are none of `-o` and the scheduler flags.
    #[error(
        "flag bits {0:#x} cannot be written as a rule: flags are ONE_PACKET, SCHED_1, SCHED_2 and SCHED_3"
    )]
    UnknownFlags(u32),
    /// A forwarding method ipvsadm cannot set (`-m`, `-g` or `-i` only).
    #[error("forwarding method {0} cannot be written as a rule: use masq, route or tunnel")]
    UnknownForward(String),
    /// A `-g` or `-i` real server of an address service on another port than the service's:
    /// ipvsadm gives such a real server the service's port, so the rule would read back
    /// changed.
    #[error(
        "real server port {port} cannot be written as a rule: ipvsadm gives -g and -i real servers the service's port ({service_port})"
    )]
    ForwardPort {
        /// The real server's port.
        port: u16,
        /// The service's port.
        service_port: u16,
    },
    /// A connection threshold above what ipvsadm's `-x` and `-y` take (`i32::MAX`; the
    /// kernel's field is unsigned).
    #[error("illegal {option} specified: {value} (0 to 2147483647)")]
    ThresholdRange {
        /// `u_threshold` (`-x`) or `l_threshold` (`-y`), as ipvsadm names them.
        option: &'static str,
        /// The threshold given.
        value: u32,
    },
    /// An IPv6 address with a scope id (`%2`) or a flow label, which IPVS does not keep.
    #[error("{0}: IPVS addresses have no scope id or flow label (write the address without %)")]
    ScopedAddress(std::net::SocketAddrV6),
    /// A tunnel type or checksum mode ipvsadm cannot name.
    #[error(
        "tunnel {0} cannot be written as a rule: types are ipip, gue and gre, checksums nocsum, csum and remcsum"
    )]
    UnknownTunnel(String),
    /// A name (scheduler, persistence engine, interface) with blanks, control or non-ASCII
    /// characters, which a rule line cannot carry.
    #[error("invalid {what} {}: printable ASCII with no blanks", shown(.name))]
    Unprintable {
        /// What the name names.
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// The kernel takes only unicast real servers.
    #[error("{0} is not a unicast address: the kernel refuses it as a real server")]
    NotUnicast(std::net::IpAddr),
    /// Sync daemons and real servers of another family than their service exclude each other.
    #[error("sync daemons cannot run beside real servers of another family than their service")]
    DaemonsWithMixedFamily,
    /// The same object twice in one list.
    #[error("listed twice: the same {what} as {first}")]
    Duplicate {
        /// What is listed twice (`service`, `real server`, `daemon`).
        what: &'static str,
        /// Where it was listed first.
        first: Location,
    },
}

/// `name` quoted for a message as ipvsadm quotes (`` `name' ``), shortened and escaped by
/// [`crate::rules::shown`].
fn shown(name: &str) -> String {
    format!("`{}'", crate::shown::shown(name))
}

/// Where an object sits in a [`crate::Ruleset`]: the path a JSON or TOML document uses for it
/// (`services[2].destinations[0]`, `daemons[1]`, `timeouts`), 0-based.
///
/// ```
/// use lvs_core::error::Location;
/// assert_eq!(Location::destination(2, 0).to_string(), "services[2].destinations[0]");
/// assert_eq!(Location::Daemon(1).to_string(), "daemons[1]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// `services[i]`, or one of its real servers.
    Service {
        /// The service's index.
        service: usize,
        /// The real server's index in the service's `destinations`.
        destination: Option<usize>,
    },
    /// `timeouts`.
    Timeouts,
    /// `daemons[i]`.
    Daemon(usize),
}

impl Location {
    /// `services[service]`.
    pub const fn service(service: usize) -> Location {
        Location::Service {
            service,
            destination: None,
        }
    }

    /// `services[service].destinations[destination]`.
    pub const fn destination(service: usize, destination: usize) -> Location {
        Location::Service {
            service,
            destination: Some(destination),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Service {
                service,
                destination,
            } => {
                write!(f, "services[{service}]")?;
                match destination {
                    Some(d) => write!(f, ".destinations[{d}]"),
                    None => Ok(()),
                }
            }
            Location::Timeouts => f.write_str("timeouts"),
            Location::Daemon(i) => write!(f, "daemons[{i}]"),
        }
    }
}

/// A ruleset that breaks a rule, found by [`crate::Ruleset::validate`] before anything is
/// sent: where, which object (as ipvsadm names it), and what is wrong.
///
/// ```
/// use lvs_core::{Ruleset, ValidationError};
///
/// let mut r = Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n")?;
/// r.services[0].destinations[0].weight = -1;
/// let e = r.validate().unwrap_err();
/// assert_eq!(e.error, ValidationError::NegativeWeight(-1));
/// assert_eq!(
///     e.to_string(),
///     "services[0].destinations[0] (-t 10.0.0.13:80 -r 192.168.8.14:80): \
///      illegal weight specified: -1 (weights are 0 or more)"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{at} ({object}): {error}")]
pub struct InvalidRuleset {
    /// Where the object is.
    pub at: Location,
    /// The object, as ipvsadm's command line names it (`-t 10.0.0.13:80 -r 192.168.8.14:80`,
    /// `--start-daemon master`).
    pub object: String,
    /// What is wrong with it.
    pub error: ValidationError,
}

/// The kernel errno values IPVS answers with.
pub mod errno {
    /// Operation not permitted: no CAP_NET_ADMIN.
    pub const EPERM: i32 = 1;
    /// No such file or directory: scheduler, engine or destination missing.
    pub const ENOENT: i32 = 2;
    /// No such process: service or daemon missing.
    pub const ESRCH: i32 = 3;
    /// Out of memory.
    pub const ENOMEM: i32 = 12;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// File exists: service, destination or daemon already there.
    pub const EEXIST: i32 = 17;
    /// No such device: the daemon's interface.
    pub const ENODEV: i32 = 19;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Numerical result out of range: weight or thresholds.
    pub const ERANGE: i32 = 34;
    /// Message too long.
    pub const EMSGSIZE: i32 = 90;
    /// Protocol not available.
    pub const ENOPROTOOPT: i32 = 92;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
    /// Address family not supported.
    pub const EAFNOSUPPORT: i32 = 97;

    /// glibc's `strerror` text for the errno values IPVS uses.
    ///
    /// ```
    /// use lvs_core::errno;
    /// assert_eq!(errno::strerror(errno::EPERM), "Operation not permitted");
    /// ```
    pub fn strerror(errno: i32) -> String {
        let text = match errno {
            EPERM => "Operation not permitted",
            ENOENT => "No such file or directory",
            ESRCH => "No such process",
            ENOMEM => "Cannot allocate memory",
            EBUSY => "Device or resource busy",
            EEXIST => "File exists",
            ENODEV => "No such device",
            EINVAL => "Invalid argument",
            ERANGE => "Numerical result out of range",
            EMSGSIZE => "Message too long",
            ENOPROTOOPT => "Protocol not available",
            EOPNOTSUPP => "Operation not supported",
            EAFNOSUPPORT => "Address family not supported by protocol",
            n => return format!("Unknown error {n}"),
        };
        text.to_owned()
    }
}

/// An operation on the kernel's IPVS table, as libipvs names them.
///
/// ```
/// use lvs_core::{Operation, Refusal, errno};
/// let r = Refusal::new(Operation::DeleteDestination, errno::ENOENT);
/// assert_eq!(format!("{}: {r}", r.op), "delete destination: No such destination");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Read the version and table size.
    GetInfo,
    /// `-A`.
    AddService,
    /// `-E`.
    EditService,
    /// `-D`.
    DeleteService,
    /// Read services.
    GetServices,
    /// Read one service.
    GetService,
    /// `-a`.
    AddDestination,
    /// `-e`.
    EditDestination,
    /// `-d`.
    DeleteDestination,
    /// Read a service's destinations.
    GetDestinations,
    /// `-Z`.
    Zero,
    /// `-C`.
    Flush,
    /// `--set`.
    SetTimeouts,
    /// `-L --timeout`.
    GetTimeouts,
    /// `--start-daemon`.
    StartDaemon,
    /// `--stop-daemon`.
    StopDaemon,
    /// `-L --daemon`.
    GetDaemons,
    /// Look up the "IPVS" generic-netlink family (its id), as every client does first.
    GetFamily,
}

impl Operation {
    /// Whether the operation only reads: it changes nothing in the kernel's tables.
    ///
    /// ```
    /// use lvs_core::Operation;
    /// assert!(Operation::GetServices.is_read());
    /// assert!(!Operation::Zero.is_read());
    /// ```
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Operation::GetInfo
                | Operation::GetServices
                | Operation::GetService
                | Operation::GetDestinations
                | Operation::GetTimeouts
                | Operation::GetDaemons
                | Operation::GetFamily
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::GetInfo => "get info",
            Operation::AddService => "add service",
            Operation::EditService => "edit service",
            Operation::DeleteService => "delete service",
            Operation::GetServices => "get services",
            Operation::GetService => "get service",
            Operation::AddDestination => "add destination",
            Operation::EditDestination => "edit destination",
            Operation::DeleteDestination => "delete destination",
            Operation::GetDestinations => "get destinations",
            Operation::Zero => "zero",
            Operation::Flush => "flush",
            Operation::SetTimeouts => "set timeouts",
            Operation::GetTimeouts => "get timeouts",
            Operation::StartDaemon => "start daemon",
            Operation::StopDaemon => "stop daemon",
            Operation::GetDaemons => "get daemons",
            Operation::GetFamily => "get family",
        })
    }
}

/// ipvsadm's message for `errno` after `op` (libipvs's `ipvs_strerror` table), falling back to
/// `strerror`.
///
/// ```
/// use lvs_core::{Operation, errno, ipvsadm_message};
/// assert_eq!(ipvsadm_message(Operation::AddService, errno::EEXIST), "Service already exists");
/// assert_eq!(ipvsadm_message(Operation::StartDaemon, errno::EEXIST), "Daemon has already run");
/// ```
pub fn ipvsadm_message(op: Operation, errno: i32) -> String {
    use Operation::*;
    use errno::*;
    let specific = match (op, errno) {
        (AddService, EEXIST) => Some("Service already exists"),
        (AddService | EditService, ENOENT) => Some("Scheduler or persistence engine not found"),
        (EditService | DeleteService | Zero, ESRCH) => Some("No such service"),
        (AddDestination | EditDestination | DeleteDestination, ESRCH) => {
            Some("Service not defined")
        }
        (AddDestination, EEXIST) => Some("Destination already exists"),
        (EditDestination | DeleteDestination, ENOENT) => Some("No such destination"),
        (StartDaemon, EEXIST) => Some("Daemon has already run"),
        (StopDaemon, ESRCH) => Some("No daemon is running"),
        (GetServices | GetDestinations | GetService, ESRCH) => Some("No such service"),
        (_, EPERM) => Some("Permission denied (you must be root)"),
        (_, EINVAL) => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        (_, ENOPROTOOPT) => Some("Protocol not available"),
        (_, ENOMEM) => Some("Memory allocation problem"),
        (_, EOPNOTSUPP) => Some("Operation not supported with IPv6"),
        (_, EAFNOSUPPORT) => Some("Operation not supported with specified address family"),
        (_, EMSGSIZE) => Some("Module is wrong version"),
        _ => None,
    };
    specific
        .map(str::to_owned)
        .unwrap_or_else(|| errno::strerror(errno))
}

/// What a refusal means, for callers that branch on it.
///
/// ```
/// use lvs_core::{Operation, Refusal, RefusalKind, errno};
/// // The same errno means different things for different operations.
/// let kind = |op| Refusal::new(op, errno::ENOENT).kind();
/// assert_eq!(kind(Operation::AddService), RefusalKind::SchedulerNotFound);
/// assert_eq!(kind(Operation::EditDestination), RefusalKind::NoSuchDestination);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The service exists already.
    ServiceExists,
    /// No such service.
    NoSuchService,
    /// The destination exists already.
    DestinationExists,
    /// No such destination.
    NoSuchDestination,
    /// The scheduler or persistence engine module is not there.
    SchedulerNotFound,
    /// The daemon runs already.
    DaemonExists,
    /// No such daemon runs.
    NoSuchDaemon,
    /// CAP_NET_ADMIN is missing.
    PermissionDenied,
    /// A value out of range (weight, thresholds).
    OutOfRange,
    /// An argument the kernel refuses.
    InvalidArgument,
    /// The family or feature is not supported.
    NotSupported,
    /// Anything else.
    Other,
}

/// The kernel (or lvs's model of it) refused an operation.
///
/// ```
/// use lvs_core::{Command, RefusalKind, Ruleset, Service, ServiceKey};
///
/// // Ruleset::execute refuses what the kernel would, with the kernel's errno.
/// let add = Command::AddService(Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)));
/// let mut table = Ruleset::new();
/// table.execute(&add)?;
/// let r = table.execute(&add).unwrap_err();
/// assert_eq!(r.kind(), RefusalKind::ServiceExists);
/// assert_eq!(r.to_string(), "Service already exists");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What was tried.
    pub op: Operation,
    /// The kernel's errno.
    pub errno: i32,
    /// Why, when lvs knows more than the errno says.
    pub detail: Option<String>,
}

impl Refusal {
    /// A refusal of `op` with `errno`.
    ///
    /// ```
    /// use lvs_core::{Operation, Refusal, errno};
    /// let r = Refusal::new(Operation::GetServices, errno::EPERM);
    /// assert!(r.to_string().contains("CAP_NET_ADMIN"));
    /// ```
    pub fn new(op: Operation, errno: i32) -> Self {
        Refusal {
            op,
            errno,
            detail: None,
        }
    }

    /// The same refusal with an explanation.
    ///
    /// ```
    /// use lvs_core::{Operation, Refusal, errno};
    /// let r = Refusal::new(Operation::StartDaemon, errno::ENODEV).because("no interface eth9");
    /// assert_eq!(r.detail.as_deref(), Some("no interface eth9"));
    /// ```
    pub fn because(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// What the refusal means.
    ///
    /// ```
    /// use lvs_core::{Operation, Refusal, RefusalKind, errno};
    /// let r = Refusal::new(Operation::StopDaemon, errno::ESRCH);
    /// assert_eq!(r.kind(), RefusalKind::NoSuchDaemon);
    /// ```
    pub fn kind(&self) -> RefusalKind {
        use Operation::*;
        use errno::*;
        match (self.op, self.errno) {
            (AddService, EEXIST) => RefusalKind::ServiceExists,
            (AddDestination, EEXIST) => RefusalKind::DestinationExists,
            (StartDaemon, EEXIST) => RefusalKind::DaemonExists,
            (StopDaemon, ESRCH) => RefusalKind::NoSuchDaemon,
            (_, ESRCH) => RefusalKind::NoSuchService,
            (AddService | EditService, ENOENT) => RefusalKind::SchedulerNotFound,
            (_, ENOENT) => RefusalKind::NoSuchDestination,
            (_, EPERM) => RefusalKind::PermissionDenied,
            (_, ERANGE) => RefusalKind::OutOfRange,
            (_, EINVAL) => RefusalKind::InvalidArgument,
            (_, EAFNOSUPPORT | EOPNOTSUPP) => RefusalKind::NotSupported,
            _ => RefusalKind::Other,
        }
    }

    /// ipvsadm's message for this refusal.
    ///
    /// ```
    /// use lvs_core::{Operation, Refusal, errno};
    /// let r = Refusal::new(Operation::DeleteService, errno::ESRCH);
    /// assert_eq!(r.ipvsadm_message(), "No such service");
    /// ```
    pub fn ipvsadm_message(&self) -> String {
        ipvsadm_message(self.op, self.errno)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ipvsadm_message())?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if self.errno == errno::EPERM {
            f.write_str(": IPVS needs CAP_NET_ADMIN; run as root or grant the capability")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_ipvs_strerror() {
        assert_eq!(
            ipvsadm_message(Operation::AddService, errno::EEXIST),
            "Service already exists"
        );
        assert_eq!(
            ipvsadm_message(Operation::AddDestination, errno::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            ipvsadm_message(Operation::EditService, errno::ESRCH),
            "No such service"
        );
        assert_eq!(
            ipvsadm_message(Operation::AddDestination, errno::ERANGE),
            "Numerical result out of range"
        );
        let r = Refusal::new(Operation::DeleteDestination, errno::ENOENT);
        assert_eq!(r.kind(), RefusalKind::NoSuchDestination);
        assert_eq!(r.to_string(), "No such destination");
    }
}
