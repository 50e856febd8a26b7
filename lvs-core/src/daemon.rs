//! Connection-synchronisation daemons (`ipvsadm --start-daemon`, `--stop-daemon`,
//! `-L --daemon`).

use crate::UnknownName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The longest interface name (`IP_VS_IFNAME_MAXLEN` - 1).
pub const IFNAME_MAX: usize = 15;

/// The default multicast interface ipvsadm starts a daemon on.
pub const DEFAULT_MCAST_INTERFACE: &str = "eth0";

/// The largest sync message payload ipvsadm accepts (65535 - 20 - 8).
pub const SYNC_MAXLEN_MAX: u16 = 65507;

/// Which side a sync daemon is.
///
/// ```
/// use lvs_core::DaemonRole;
/// let role: DaemonRole = "backup".parse()?;
/// assert_eq!((role.to_string(), role.kernel_value()), ("backup".to_owned(), 2));
/// # Ok::<(), lvs_core::UnknownName>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonRole {
    /// Sends connection state (`IP_VS_STATE_MASTER`, 1).
    Master,
    /// Receives it (`IP_VS_STATE_BACKUP`, 2).
    Backup,
}

impl DaemonRole {
    /// The kernel's `IP_VS_STATE_*` value.
    ///
    /// ```
    /// assert_eq!(lvs_core::DaemonRole::Master.kernel_value(), 1);
    /// ```
    pub const fn kernel_value(self) -> u32 {
        match self {
            DaemonRole::Master => 1,
            DaemonRole::Backup => 2,
        }
    }

    /// The role for a kernel state value.
    ///
    /// ```
    /// assert_eq!(lvs_core::DaemonRole::from_kernel(3), None);
    /// ```
    pub const fn from_kernel(v: u32) -> Option<DaemonRole> {
        match v {
            1 => Some(DaemonRole::Master),
            2 => Some(DaemonRole::Backup),
            _ => None,
        }
    }

    /// Parses ipvsadm's word (`master`, `backup`).
    ///
    /// ```
    /// assert_eq!(lvs_core::DaemonRole::from_name("master"), Some(lvs_core::DaemonRole::Master));
    /// ```
    pub fn from_name(name: &str) -> Option<DaemonRole> {
        match name {
            "master" => Some(DaemonRole::Master),
            "backup" => Some(DaemonRole::Backup),
            _ => None,
        }
    }
}

impl FromStr for DaemonRole {
    type Err = UnknownName;

    /// `master` or `backup`, in any case ([`DaemonRole::from_name`] is ipvsadm's exact
    /// spelling).
    ///
    /// ```
    /// use lvs_core::DaemonRole;
    /// assert_eq!("Backup".parse::<DaemonRole>()?, DaemonRole::Backup);
    /// # Ok::<(), lvs_core::UnknownName>(())
    /// ```
    fn from_str(s: &str) -> Result<DaemonRole, UnknownName> {
        if s.eq_ignore_ascii_case("master") {
            Ok(DaemonRole::Master)
        } else if s.eq_ignore_ascii_case("backup") {
            Ok(DaemonRole::Backup)
        } else {
            Err(UnknownName::new("role", s, "master or backup"))
        }
    }
}

impl fmt::Display for DaemonRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DaemonRole::Master => "master",
            DaemonRole::Backup => "backup",
        })
    }
}

/// A sync daemon's configuration. Optional values left `None` take the kernel's defaults
/// (group 224.0.0.81, port 8848, ttl 1, maxlen from the interface MTU).
///
/// ```
/// use lvs_core::{DaemonRole, SyncDaemon};
///
/// // `--start-daemon master --mcast-interface eth1 --syncid 7`
/// // `--mcast-group ff02::81 --mcast-ttl 2`
/// let master = SyncDaemon {
///     group: Some("ff02::81".parse()?),
///     ttl: Some(2),
///     ..SyncDaemon::new(DaemonRole::Master, "eth1", 7)
/// };
/// assert!(master.validate().is_ok());
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncDaemon {
    /// Master or backup.
    pub role: DaemonRole,
    /// The multicast interface (`--mcast-interface`).
    pub interface: String,
    /// The sync id, 0 to 255 (`--syncid`).
    pub syncid: u8,
    /// Largest sync message payload, 1 to 65507 (`--sync-maxlen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlen: Option<u16>,
    /// Multicast group, IPv4 or IPv6 (`--mcast-group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<IpAddr>,
    /// UDP port, 1 to 65535 (`--mcast-port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Multicast TTL, 1 to 255 (`--mcast-ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon on `interface` with sync id `syncid` and the kernel's defaults otherwise.
    ///
    /// ```
    /// use lvs_core::{DaemonRole, SyncDaemon};
    /// let backup = SyncDaemon::new(DaemonRole::Backup, "eth1", 7);
    /// assert_eq!((backup.port, backup.ttl), (None, None), "the kernel's defaults");
    /// ```
    pub fn new(role: DaemonRole, interface: impl Into<String>, syncid: u8) -> Self {
        SyncDaemon {
            role,
            interface: interface.into(),
            syncid,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// Whether `running` (as the kernel reports it, its defaults filled in) is this daemon:
    /// the same role, interface and sync id, and the same value for every setting this one
    /// gives (a setting left `None` takes whatever the kernel chose).
    ///
    /// ```
    /// use lvs_core::{DaemonRole, SyncDaemon};
    /// let wanted = SyncDaemon::new(DaemonRole::Master, "eth1", 7);
    /// let running = SyncDaemon { port: Some(8848), ttl: Some(1), ..wanted.clone() };
    /// assert!(wanted.is_satisfied_by(&running));
    /// let other_port = SyncDaemon { port: Some(9000), ..wanted.clone() };
    /// assert!(!other_port.is_satisfied_by(&running));
    /// ```
    pub fn is_satisfied_by(&self, running: &SyncDaemon) -> bool {
        fn given<T: PartialEq>(wanted: &Option<T>, running: &Option<T>) -> bool {
            wanted.is_none() || wanted == running
        }
        self.role == running.role
            && self.interface == running.interface
            && self.syncid == running.syncid
            && given(&self.maxlen, &running.maxlen)
            && given(&self.group, &running.group)
            && given(&self.port, &running.port)
            && given(&self.ttl, &running.ttl)
    }
}
