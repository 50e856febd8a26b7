//! lvs: drive Linux IPVS (the kernel's layer-4 load balancer, LVS) from Rust.
//!
//! This crate is the front door: it re-exports [`lvs_core`] (the model, ipvsadm rule files and
//! validation, no I/O). The kernel backend joins it when `lvs-netlink` lands.

pub use lvs_core::*;
pub use lvs_netlink as netlink;
pub use lvs_netlink::Ipvs;
