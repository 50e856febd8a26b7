//! Connection timeouts (`ipvsadm --set tcp tcpfin udp`, `ipvsadm -L --timeout`).

use serde::{Deserialize, Serialize};

/// The largest timeout ipvsadm's `--set` accepts, in seconds (31 days).
pub const TIMEOUT_MAX: u32 = 86400 * 31;

/// Idle timeouts in seconds for established TCP, TCP after FIN, and UDP. In a `--set`, 0 keeps
/// the kernel's current value.
///
/// ```
/// use lvs_core::Timeouts;
/// // `--set 3600 0 0` over the kernel's defaults.
/// let set = Timeouts { tcp: 3600, tcp_fin: 0, udp: 0 };
/// assert_eq!(set.over(Timeouts::KERNEL_DEFAULT), Timeouts { tcp: 3600, tcp_fin: 120, udp: 300 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// Established TCP connections (kernel default 900).
    pub tcp: u32,
    /// TCP connections after a FIN (kernel default 120).
    pub tcp_fin: u32,
    /// UDP "connections" (kernel default 300).
    pub udp: u32,
}

impl Timeouts {
    /// The kernel's defaults: 900 120 300.
    pub const KERNEL_DEFAULT: Timeouts = Timeouts {
        tcp: 900,
        tcp_fin: 120,
        udp: 300,
    };

    /// `self` laid over `current`: each value of 0 keeps the current one, as the kernel does.
    ///
    /// ```
    /// use lvs_core::Timeouts;
    /// assert_eq!(Timeouts::default().over(Timeouts::KERNEL_DEFAULT), Timeouts::KERNEL_DEFAULT);
    /// ```
    pub fn over(self, current: Timeouts) -> Timeouts {
        let pick = |new: u32, old: u32| if new == 0 { old } else { new };
        Timeouts {
            tcp: pick(self.tcp, current.tcp),
            tcp_fin: pick(self.tcp_fin, current.tcp_fin),
            udp: pick(self.udp, current.udp),
        }
    }
}
