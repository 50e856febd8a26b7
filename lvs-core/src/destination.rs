//! Real servers ("destinations"): what `ipvsadm -a/-e/-d` manage.

use crate::{Family, Forward};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The largest weight ipvsadm's `-w` accepts; the kernel takes up to `i32::MAX`.
pub const IPVSADM_WEIGHT_MAX: i32 = 65535;

/// A real server of a virtual service: its identity (`addr`: family, address and port) and its
/// configuration. What the kernel reports about it lives in [`crate::DestinationState`].
///
/// ```
/// use lvs_core::{Destination, Forward, ServiceKey};
///
/// // `-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3 -x 500 -y 400`
/// let real = Destination {
///     upper_threshold: 500,
///     lower_threshold: 400,
///     ..Destination::new("192.168.8.14:80".parse()?)
///         .with_forward(Forward::Masquerade)
///         .with_weight(3)
/// };
/// assert!(real.validate(&ServiceKey::tcp("10.0.0.13:80".parse()?)).is_ok());
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// The real server's address and port. Its family may differ from the service's only for
    /// tunnelled servers.
    pub addr: SocketAddr,
    /// How packets reach it.
    #[serde(default)]
    pub forward: Forward,
    /// Its share of new connections relative to the others; 0 takes it out of rotation while
    /// its connections drain. Never negative.
    #[serde(default = "default_weight")]
    pub weight: i32,
    /// Stop sending new connections above this many (0: no limit) (`-x`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub upper_threshold: u32,
    /// Resume below this many (`-y`); never above `upper_threshold`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lower_threshold: u32,
}

fn default_weight() -> i32 {
    1
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Destination {
    /// A real server with ipvsadm's defaults: direct routing, weight 1, no thresholds.
    ///
    /// ```
    /// use lvs_core::{Destination, Forward};
    /// let real = Destination::new("10.0.0.20:80".parse()?);
    /// assert_eq!((real.forward, real.weight), (Forward::DirectRoute, 1));
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn new(addr: SocketAddr) -> Self {
        Destination {
            addr,
            forward: Forward::default(),
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// The same server with another forwarding method.
    ///
    /// ```
    /// use lvs_core::{Destination, Forward, Tunnel};
    /// let far = Destination::new("198.51.100.7:80".parse()?)
    ///     .with_forward(Forward::Tunnel(Tunnel::IPIP));
    /// assert_eq!(far.forward.switch(), Some("-i"));
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn with_forward(mut self, forward: Forward) -> Self {
        self.forward = forward;
        self
    }

    /// The same server with another weight.
    ///
    /// ```
    /// use lvs_core::Destination;
    /// // Weight 0: no new connections, the existing ones drain.
    /// let draining = Destination::new("192.168.8.14:80".parse()?).with_weight(0);
    /// assert_eq!(draining.weight, 0);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn with_weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// The address family of the real server.
    ///
    /// ```
    /// use lvs_core::{Destination, Family};
    /// assert_eq!(Destination::new("[2001:db8::14]:80".parse()?).family(), Family::Inet6);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn family(&self) -> Family {
        Family::of(&self.addr.ip())
    }
}
