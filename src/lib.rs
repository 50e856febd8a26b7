//! lvs: drive Linux IPVS (the kernel's layer-4 load balancer, LVS) from Rust.
//!
//! This crate is the front door: it re-exports [`lvs_core`] (the model, ipvsadm rule files,
//! JSON/TOML rulesets, validation and the plan; no I/O) and [`lvs_netlink`] as [`netlink`] (the
//! kernel: [`Ipvs`], `netlink::Reconciler`; with the `tokio` feature, `AsyncIpvs`, the same
//! client for async code). The kernel side exists on Linux only; on other targets this crate is
//! lvs-core alone.
//!
//! The `cli` feature (off by default) builds the `lvsadm` command, an ipvsadm-compatible
//! command line with `apply`, `diff` and `fmt` (source and guide in `examples/lvsadm`):
//! `cargo install lvs --features cli`. The library itself never needs it.
//!
//! The `exporter` feature adds the `exporter` module (Linux): a Prometheus exporter of every service's
//! and real server's counters, one snapshot per scrape (`lvsadm exporter` is the same command).

pub use lvs_core::*;
#[cfg(all(target_os = "linux", feature = "exporter"))]
pub mod exporter;
#[cfg(target_os = "linux")]
pub use lvs_netlink as netlink;
#[cfg(all(target_os = "linux", feature = "tokio"))]
pub use lvs_netlink::AsyncIpvs;
#[cfg(target_os = "linux")]
pub use lvs_netlink::Ipvs;
