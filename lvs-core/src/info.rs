//! What `ipvsadm -L` prints in its first line: the IPVS version and connection table size.

use crate::UnknownName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kernel's IPVS version, packed as `(major << 16) | (minor << 8) | patch`.
///
/// ```
/// use lvs_core::Version;
/// let v: Version = "1.2.1".parse()?;
/// assert_eq!(v, Version(0x01_02_01));
/// assert!(v >= Version::new(1, 2, 0));
/// # Ok::<(), lvs_core::UnknownName>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version(pub u32);

impl Version {
    /// A version from its three parts.
    ///
    /// ```
    /// assert_eq!(lvs_core::Version::new(1, 2, 1).to_string(), "1.2.1");
    /// ```
    pub const fn new(major: u8, minor: u8, patch: u8) -> Version {
        Version(((major as u32) << 16) | ((minor as u32) << 8) | patch as u32)
    }

    /// The major number.
    ///
    /// ```
    /// assert_eq!(lvs_core::Version(0x01_02_01).major(), 1);
    /// ```
    pub const fn major(self) -> u32 {
        (self.0 >> 16) & 0xff
    }

    /// The minor number.
    ///
    /// ```
    /// assert_eq!(lvs_core::Version(0x01_02_01).minor(), 2);
    /// ```
    pub const fn minor(self) -> u32 {
        (self.0 >> 8) & 0xff
    }

    /// The patch number.
    ///
    /// ```
    /// assert_eq!(lvs_core::Version(0x01_02_01).patch(), 1);
    /// ```
    pub const fn patch(self) -> u32 {
        self.0 & 0xff
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major(), self.minor(), self.patch())
    }
}

impl FromStr for Version {
    type Err = UnknownName;

    /// `major.minor.patch`, each 0 to 255 (`1.2.1`).
    fn from_str(s: &str) -> Result<Version, UnknownName> {
        let mut parts = s.split('.').map(str::parse::<u8>);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch)), None) => {
                Ok(Version::new(major, minor, patch))
            }
            _ => Err(UnknownName::new(
                "version",
                s,
                "major.minor.patch, e.g. 1.2.1",
            )),
        }
    }
}

/// The IPVS version and the size of the connection hash table (the first line of
/// `ipvsadm -L`: `IP Virtual Server version 1.2.1 (size=4096)`).
///
/// ```
/// use lvs_core::{Info, Version};
/// let info = Info { version: Version::new(1, 2, 1), conn_table_size: 4096 };
/// assert_eq!(info.version.to_string(), "1.2.1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    /// The IPVS version (1.2.1 in every kernel since 2.6.x).
    pub version: Version,
    /// Buckets in the connection table (4096 by default).
    pub conn_table_size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prints_like_ipvsadm() {
        assert_eq!(Version(0x010201).to_string(), "1.2.1");
        assert_eq!(Version::new(1, 2, 1), Version(0x010201));
        assert_eq!("1.2.1".parse::<Version>(), Ok(Version(0x010201)));
        for bad in ["1.2", "1.2.1.0", "1.2.256", "a.b.c", ""] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }
}
