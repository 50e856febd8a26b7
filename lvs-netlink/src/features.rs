//! What the running kernel's IPVS can do, and the gates that keep lvs from sending settings
//! an older kernel would silently drop.

use crate::Error;
use lvs_core::{Destination, Forward, ServiceKey, TunnelChecksum, TunnelType, Version};

/// Features of the running kernel's IPVS.
///
/// Each flag comes from what the kernel's replies carried when lvs has seen one (a
/// destination reply with or without `ADDR_FAMILY`, say); before that, from the kernel release
/// (`uname -r`) and the feature timeline in the IPVS reference.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Destination, Forward, ServiceKey, Tunnel, TunnelChecksum};
///
/// // Use gue with checksums where the kernel has them, plain ipip otherwise.
/// let ipvs = lvs_netlink::Ipvs::new()?;
/// let features = ipvs.features()?;
/// let tunnel = if features.tunnel_flags {
///     Tunnel::gue(6080, TunnelChecksum::Csum)
/// } else {
///     Tunnel::default()
/// };
/// let real = Destination::new("192.168.9.20:80".parse()?).with_forward(Forward::Tunnel(tunnel));
/// ipvs.add_destination(&ServiceKey::tcp("10.0.0.13:80".parse()?), &real)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// The IPVS version (`GET_INFO`; 1.2.1 in every kernel since 2.6).
    pub ipvs_version: Version,
    /// The kernel release, e.g. `6.1.0-28-amd64`.
    pub kernel_release: String,
    /// Real servers of another family than their service (`IPVS_DEST_ATTR_ADDR_FAMILY`,
    /// Linux 3.18).
    pub addr_family: bool,
    /// 64-bit counters (`IPVS_*_ATTR_STATS64`, Linux 4.1).
    pub stats64: bool,
    /// gue tunnels (`IPVS_DEST_ATTR_TUN_TYPE`/`TUN_PORT`, Linux 5.2).
    pub tunnel_type: bool,
    /// Tunnel checksum flags and gre (`IPVS_DEST_ATTR_TUN_FLAGS`, Linux 5.3).
    pub tunnel_flags: bool,
}

/// What lvs has seen in the kernel's replies; `None` until a reply told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    pub addr_family: Option<bool>,
    pub stats64: Option<bool>,
    pub tunnel_type: Option<bool>,
    pub tunnel_flags: Option<bool>,
}

/// `(major, minor)` of a release string such as `6.1.0-28-amd64`.
///
/// ```
/// use lvs_netlink::parse_release;
///
/// assert_eq!(parse_release("6.1.0-28-amd64"), Some((6, 1)));
/// assert!(parse_release("5.15.0-91-generic") >= Some((5, 3)));
/// assert_eq!(parse_release("unknown"), None);
/// ```
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The running kernel's release (`uname -r`).
pub(crate) fn kernel_release() -> String {
    // SAFETY: uname fills a zeroed utsname; the release is NUL-terminated within its array.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return String::new();
    }
    let bytes: Vec<u8> = uts
        .release
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Features {
    pub(crate) fn from_parts(ipvs_version: Version, release: String, seen: Observed) -> Features {
        let at_least = |want: (u32, u32)| parse_release(&release).is_none_or(|have| have >= want);
        Features {
            ipvs_version,
            addr_family: seen.addr_family.unwrap_or_else(|| at_least((3, 18))),
            stats64: seen.stats64.unwrap_or_else(|| at_least((4, 1))),
            tunnel_type: seen.tunnel_type.unwrap_or_else(|| at_least((5, 2))),
            tunnel_flags: seen.tunnel_flags.unwrap_or_else(|| at_least((5, 3))),
            kernel_release: release,
        }
    }
}

/// Whether `d` uses anything that depends on the kernel's version (mixed families,
/// tunnels), so that the common case skips the gate.
pub(crate) fn needs_gate(key: &ServiceKey, d: &Destination) -> bool {
    d.family() != key.family() || matches!(d.forward, Forward::Tunnel(_))
}

impl Features {
    /// [`Error::NotSupported`] if this kernel would drop part of `d` (a real server of
    /// another family, gue, gre or tunnel checksums) instead of refusing it.
    pub(crate) fn check_destination(&self, key: &ServiceKey, d: &Destination) -> Result<(), Error> {
        let unsupported = |what: &str| {
            Err(Error::NotSupported {
                what: format!("{what} (kernel {})", self.kernel_release),
            })
        };
        if d.family() != key.family() && !self.addr_family {
            return unsupported("real servers of another family than the service (Linux 3.18)");
        }
        if let Forward::Tunnel(t) = &d.forward {
            if (t.kind != TunnelType::Ipip || t.port != 0) && !self.tunnel_type {
                return unsupported("tunnel types other than ipip (Linux 5.2)");
            }
            if (t.checksum != TunnelChecksum::None || t.kind == TunnelType::Gre)
                && !self.tunnel_flags
            {
                return unsupported("tunnel checksums and gre (Linux 5.3)");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_timeline() {
        assert_eq!(parse_release("6.1.0-28-amd64"), Some((6, 1)));
        assert_eq!(parse_release("5.2"), Some((5, 2)));
        assert_eq!(parse_release("garbage"), None);
        let old = Features::from_parts(Version(0x010201), "5.2.0".into(), Observed::default());
        assert!(old.tunnel_type && !old.tunnel_flags && old.stats64);
        let seen = Observed {
            tunnel_type: Some(false),
            ..Observed::default()
        };
        let f = Features::from_parts(Version(0x010201), "6.1.0".into(), seen);
        assert!(!f.tunnel_type && f.tunnel_flags);
    }

    #[test]
    fn gates_refuse_what_an_old_kernel_would_drop() {
        use lvs_core::Tunnel;
        let key = ServiceKey::tcp("10.0.0.13:80".parse().unwrap());
        let gue = Destination::new("192.168.8.14:80".parse().unwrap())
            .with_forward(Forward::Tunnel(Tunnel::gue(6080, TunnelChecksum::None)));
        assert!(needs_gate(&key, &gue));
        let old = Features::from_parts(Version(0x010201), "5.1.0".into(), Observed::default());
        let e = old.check_destination(&key, &gue).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not supported by this kernel: tunnel types other than ipip (Linux 5.2) (kernel 5.1.0)"
        );
        let new = Features::from_parts(Version(0x010201), "6.1.0".into(), Observed::default());
        assert!(new.check_destination(&key, &gue).is_ok());
        let plain = Destination::new("192.168.8.14:80".parse().unwrap());
        assert!(!needs_gate(&key, &plain));
    }
}
