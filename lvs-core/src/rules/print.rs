//! Writing a ruleset as `ipvsadm -S -n` does, byte for byte.

use super::addr::ntop;
use super::sort::{cmp_dests, cmp_services, glibc_msort};
use crate::{
    Destination, Family, Forward, Netmask, Ruleset, ServiceKey, TunnelType, VirtualService,
};
use std::fmt::Write;
use std::net::SocketAddr;

/// How to write rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveOptions {
    /// Write what ipvsadm -S loses, in a form ipvsadm -R reads: ` -x N` and ` -y N` for
    /// non-zero connection thresholds, `flag-3` for the third scheduler flag under sh and mh
    /// (ipvsadm writes nothing for it, leaving a bare `-b `), and firewall marks above
    /// 2^31 - 1 unsigned (ipvsadm writes them negative). On by default.
    pub lossless: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions { lossless: true }
    }
}

impl SaveOptions {
    /// Exactly what ipvsadm 1.31 writes.
    pub const IPVSADM: SaveOptions = SaveOptions { lossless: false };
}

/// `a.b.c.d:port` or `[v6]:port`, as ipvsadm writes with `-n`.
pub fn addr_port(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(_) => format!("{}:{}", ntop(&addr.ip()), addr.port()),
        SocketAddr::V6(_) => format!("[{}]:{}", ntop(&addr.ip()), addr.port()),
    }
}

/// How a service is named in a rule: `-t 10.0.0.1:80`, `-f 10 -6`.
///
/// ipvsadm 1.31 prints marks above 2^31 - 1 as negative numbers (`%d`), which it cannot read
/// back; with `options.lossless` they print unsigned, as later ipvsadm versions do.
pub fn rule_service_name(key: &ServiceKey, options: SaveOptions) -> String {
    let mark = |m: u32| {
        if options.lossless {
            m.to_string()
        } else {
            (m as i32).to_string()
        }
    };
    match key {
        ServiceKey::FwMark {
            family: Family::Inet,
            mark: m,
        } => format!("-f {}", mark(*m)),
        ServiceKey::FwMark {
            family: Family::Inet6,
            mark: m,
        } => format!("-f {} -6", mark(*m)),
        ServiceKey::Inet { protocol, addr } => format!("{} {}", protocol.option(), addr_port(addr)),
    }
}

/// The services in the order ipvsadm lists them.
///
/// The kernel lists address services before firewall-mark services (two hash tables), and
/// libipvs's comparison is not a total order for values more than 2^31 apart, so the input
/// order can matter: lvs feeds the sort in the kernel's table order, and within a table in
/// the ruleset's order. (The kernel's bucket order within a table depends on a per-namespace
/// address, so ipvsadm itself is not deterministic there.)
pub fn sorted_services(ruleset: &Ruleset) -> Vec<&VirtualService> {
    let (mut services, marks): (Vec<&VirtualService>, Vec<&VirtualService>) = ruleset
        .services
        .iter()
        .partition(|vs| !vs.service.key.is_fwmark());
    services.extend(marks);
    glibc_msort(
        &mut services,
        &|a: &&VirtualService, b: &&VirtualService| cmp_services(&a.service.key, &b.service.key),
    );
    services
}

/// A service's real servers in the order ipvsadm lists them.
pub fn sorted_destinations(vs: &VirtualService) -> Vec<&Destination> {
    let mut dests: Vec<&Destination> = vs.destinations.iter().collect();
    glibc_msort(&mut dests, &|a: &&Destination, b: &&Destination| {
        cmp_dests(a, b)
    });
    dests
}

/// The rules that rebuild `ruleset`'s services and real servers, as `ipvsadm -S -n` writes
/// them (with thresholds too, unless `options` say otherwise).
pub fn save(ruleset: &Ruleset, options: SaveOptions) -> String {
    let mut out = String::new();
    for vs in sorted_services(ruleset) {
        write_service(&mut out, vs, options);
    }
    out
}

fn write_service(out: &mut String, vs: &VirtualService, options: SaveOptions) {
    let svc = &vs.service;
    let name = rule_service_name(&svc.key, options);
    let _ = write!(out, "-A {name} -s {}", svc.scheduler);
    if let Some(p) = &svc.persistence {
        let _ = write!(out, " -p {}", p.timeout);
        match (svc.key.family(), p.netmask) {
            (Family::Inet, Netmask::V4(m)) if !p.netmask.is_host() => {
                let _ = write!(out, " -M {m}");
            }
            (Family::Inet6, Netmask::V6(plen)) if plen != 128 => {
                let _ = write!(out, " -M {plen}");
            }
            _ => {}
        }
    }
    if let Some(pe) = &svc.pe {
        let _ = write!(out, " --pe {pe}");
    }
    if svc.flags.contains(crate::ServiceFlags::ONE_PACKET) {
        out.push_str(" -o");
    }
    if svc.flags.intersects(crate::ServiceFlags::SCHED_ALL) {
        let names = if options.lossless {
            svc.flags.sched_flag_names_lossless(&svc.scheduler)
        } else {
            svc.flags.sched_flag_names(&svc.scheduler)
        };
        let _ = write!(out, " -b {names}");
    }
    out.push('\n');
    for d in sorted_destinations(vs) {
        write_destination(out, &name, d, options);
    }
}

fn write_destination(out: &mut String, svc_name: &str, d: &Destination, options: SaveOptions) {
    // glibc prints a NULL string as "(null)"; ipvsadm passes NULL for methods it cannot name.
    let switch = d.forward.switch().unwrap_or("(null)");
    let _ = write!(
        out,
        "-a {svc_name} -r {} {switch} -w {}",
        addr_port(&d.addr),
        d.weight
    );
    if let Forward::Tunnel(t) = &d.forward {
        let csum = t.checksum.option().unwrap_or("(null)");
        match t.kind {
            TunnelType::Gre => {
                let _ = write!(out, " --tun-type gre {csum}");
            }
            TunnelType::Gue => {
                let _ = write!(out, " --tun-type gue --tun-port {} {csum}", t.port);
            }
            TunnelType::Ipip => out.push_str(" --tun-type ipip"),
            TunnelType::Other(_) => {}
        }
    }
    if options.lossless {
        if d.upper_threshold != 0 {
            let _ = write!(out, " -x {}", d.upper_threshold);
        }
        if d.lower_threshold != 0 {
            let _ = write!(out, " -y {}", d.lower_threshold);
        }
    }
    out.push('\n');
}
