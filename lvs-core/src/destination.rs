//! Real servers ("destinations"): what `ipvsadm -a/-e/-d` manage.

use crate::{Family, Forward};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The largest weight ipvsadm's `-w` accepts; the kernel takes up to `i32::MAX`.
pub const IPVSADM_WEIGHT_MAX: i32 = 65535;

/// A real server of a virtual service: its identity (`addr`: family, address and port) and its
/// configuration. What the kernel reports about it lives in [`crate::DestinationState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    pub fn with_forward(mut self, forward: Forward) -> Self {
        self.forward = forward;
        self
    }

    /// The same server with another weight.
    pub fn with_weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// The address family of the real server.
    pub fn family(&self) -> Family {
        Family::of(&self.addr.ip())
    }
}
