//! Address families: what `-6` selects for firewall-mark services, and what every address carries.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// An address family as the kernel numbers it (`AF_INET` = 2, `AF_INET6` = 10).
///
/// ```
/// use lvs_core::Family;
/// let family = Family::of(&"2001:db8::13".parse()?);
/// assert_eq!((family, family.af()), (Family::Inet6, 10));
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The kernel's `AF_*` number.
    ///
    /// ```
    /// assert_eq!(lvs_core::Family::Inet.af(), 2);
    /// ```
    pub const fn af(self) -> u16 {
        match self {
            Family::Inet => 2,
            Family::Inet6 => 10,
        }
    }

    /// The family for a kernel `AF_*` number, if it is one IPVS knows.
    ///
    /// ```
    /// assert_eq!(lvs_core::Family::from_af(7), None, "AF_BRIDGE is no IPVS family");
    /// ```
    pub const fn from_af(af: u16) -> Option<Family> {
        match af {
            2 => Some(Family::Inet),
            10 => Some(Family::Inet6),
            _ => None,
        }
    }

    /// The family of an address.
    ///
    /// ```
    /// use lvs_core::Family;
    /// assert_eq!(Family::of(&"10.0.0.13".parse()?), Family::Inet);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub const fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
        })
    }
}
