//! Writing a ruleset as `ipvsadm -S -n` does, byte for byte.

use crate::ipvsadm::addr::{ntop, write_decimal, write_ipv4};
use crate::ipvsadm::sort::{SortKey, cmp_dests, glibc_msort, msort_with};
use crate::{
    Command, Destination, Family, Forward, Netmask, Ruleset, Service, ServiceFlags, ServiceKey,
    TunnelType, VirtualService,
};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

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
    let mut out = String::with_capacity(24);
    write_addr_port(&mut out, addr);
    out
}

/// [`addr_port`], appended to `out`.
pub(crate) fn write_addr_port(out: &mut String, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => write_ipv4(out, ip),
        ip @ IpAddr::V6(_) => {
            out.push('[');
            out.push_str(&ntop(&ip));
            out.push(']');
        }
    }
    out.push(':');
    write_decimal(out, addr.port());
}

/// How a service is named in a rule: `-t 10.0.0.1:80`, `-f 10 -6`.
///
/// ipvsadm 1.31 prints marks above 2^31 - 1 as negative numbers (`%d`), which it cannot read
/// back; with `options.lossless` they print unsigned, as later ipvsadm versions do.
pub(crate) fn rule_service_name(key: &ServiceKey, options: SaveOptions) -> String {
    let mut out = String::with_capacity(32);
    write_rule_service_name(&mut out, key, options);
    out
}

/// [`rule_service_name`], appended to `out`.
pub(crate) fn write_rule_service_name(out: &mut String, key: &ServiceKey, options: SaveOptions) {
    match key {
        ServiceKey::FwMark { family, mark } => {
            out.push_str("-f ");
            if options.lossless {
                write_decimal(out, *mark);
            } else {
                write_decimal(out, *mark as i32);
            }
            if *family == Family::Inet6 {
                out.push_str(" -6");
            }
        }
        ServiceKey::Inet { protocol, addr } => {
            out.push_str(protocol.option());
            out.push(' ');
            write_addr_port(out, addr);
        }
    }
}

/// The services in the order ipvsadm lists them.
///
/// The kernel lists address services before firewall-mark services (two hash tables), and
/// libipvs's comparison is not a total order for values more than 2^31 apart, so the input
/// order can matter: lvs feeds the sort in the kernel's table order, and within a table in
/// the ruleset's order. (The kernel's bucket order within a table depends on a per-namespace
/// address, so ipvsadm itself is not deterministic there.)
pub(crate) fn sorted_services(ruleset: &Ruleset) -> Vec<&VirtualService> {
    let (inet, marks) = ruleset
        .services
        .iter()
        .partition::<Vec<&VirtualService>, _>(|vs| !vs.service.key.is_fwmark());
    // Each service's sort key is worked out once, not at each of the n log n comparisons.
    let mut keyed: Vec<(SortKey, &VirtualService)> = inet
        .into_iter()
        .chain(marks)
        .map(|vs| (SortKey::of(&vs.service.key), vs))
        .collect();
    glibc_msort(&mut keyed, &|a: &(SortKey, _), b: &(SortKey, _)| {
        a.0.compare(&b.0)
    });
    keyed.into_iter().map(|(_, vs)| vs).collect()
}

/// A service's real servers in the order ipvsadm lists them, into `dests`, with `scratch` for the merge sort: buffers that one
/// save reuses for every service.
fn sort_destinations_into<'r>(
    vs: &'r VirtualService,
    dests: &mut Vec<&'r Destination>,
    scratch: &mut Vec<&'r Destination>,
) {
    dests.clear();
    dests.extend(vs.destinations.iter());
    msort_with(dests, scratch, &|a: &&Destination, b: &&Destination| {
        cmp_dests(a, b)
    });
}

/// The rules that rebuild `ruleset`'s services and real servers, as `ipvsadm -S -n` writes
/// them (with thresholds too, unless `options` say otherwise).
pub fn save(ruleset: &Ruleset, options: SaveOptions) -> String {
    let mut out = String::with_capacity(ruleset.object_count() * 56);
    let mut name = String::new();
    let (mut dests, mut scratch) = (Vec::new(), Vec::new());
    for vs in sorted_services(ruleset) {
        name.clear();
        write_rule_service_name(&mut name, &vs.service.key, options);
        out.push_str("-A ");
        out.push_str(&name);
        write_service_options(&mut out, &vs.service, options);
        out.push('\n');
        sort_destinations_into(vs, &mut dests, &mut scratch);
        for d in &dests {
            write_destination_rule(&mut out, "-a", &name, d, options);
            out.push('\n');
        }
    }
    out
}

/// One command as the rule line ipvsadm reads (`-A -t 10.0.0.13:80 -s rr`, `--set 900 120 300`).
pub fn command_rule(command: &Command, options: SaveOptions) -> String {
    let name = |key: &ServiceKey| rule_service_name(key, options);
    match command {
        Command::AddService(s) => service_rule("-A", s, options),
        Command::EditService(s) => service_rule("-E", s, options),
        Command::DeleteService(key) => format!("-D {}", name(key)),
        Command::Flush => "-C".to_owned(),
        Command::AddDestination {
            service,
            destination,
        } => destination_rule("-a", &name(service), destination, options),
        Command::EditDestination {
            service,
            destination,
        } => destination_rule("-e", &name(service), destination, options),
        Command::DeleteDestination { service, addr } => {
            format!("-d {} -r {}", name(service), addr_port(addr))
        }
        Command::Zero(None) => "-Z".to_owned(),
        Command::Zero(Some(key)) => format!("-Z {}", name(key)),
        Command::SetTimeouts(t) => format!("--set {} {} {}", t.tcp, t.tcp_fin, t.udp),
        Command::StartDaemon(d) => {
            let mut line = format!(
                "--start-daemon {} --mcast-interface {} --syncid {}",
                d.role, d.interface, d.syncid
            );
            if let Some(n) = d.maxlen {
                let _ = write!(line, " --sync-maxlen {n}");
            }
            if let Some(g) = d.group {
                let _ = write!(line, " --mcast-group {}", ntop(&g));
            }
            if let Some(p) = d.port {
                let _ = write!(line, " --mcast-port {p}");
            }
            if let Some(t) = d.ttl {
                let _ = write!(line, " --mcast-ttl {t}");
            }
            line
        }
        Command::StopDaemon(role) => format!("--stop-daemon {role}"),
    }
}

/// A service as a rule line introduced by `cmd` (`-A` or `-E`), as ipvsadm -S writes it.
pub(crate) fn service_rule(cmd: &str, svc: &Service, options: SaveOptions) -> String {
    let mut out = String::new();
    write_service_rule(&mut out, cmd, svc, options);
    out
}

/// [`service_rule`], appended to `out`.
pub(crate) fn write_service_rule(out: &mut String, cmd: &str, svc: &Service, options: SaveOptions) {
    out.push_str(cmd);
    out.push(' ');
    write_rule_service_name(out, &svc.key, options);
    write_service_options(out, svc, options);
}

/// What follows the service's name in its rule: ` -s rr -p 300 ...`.
fn write_service_options(out: &mut String, svc: &Service, options: SaveOptions) {
    out.push_str(" -s ");
    out.push_str(svc.scheduler.name());
    if let Some(p) = &svc.persistence {
        out.push_str(" -p ");
        write_decimal(out, p.timeout);
        match (svc.key.family(), p.netmask) {
            (Family::Inet, Netmask::V4(m)) if !p.netmask.is_host() => {
                out.push_str(" -M ");
                write_ipv4(out, m);
            }
            (Family::Inet6, Netmask::V6(plen)) if plen != 128 => {
                out.push_str(" -M ");
                write_decimal(out, plen);
            }
            _ => {}
        }
    }
    if let Some(pe) = &svc.pe {
        out.push_str(" --pe ");
        out.push_str(pe);
    }
    if svc.flags.contains(ServiceFlags::ONE_PACKET) {
        out.push_str(" -o");
    }
    if svc.flags.intersects(ServiceFlags::SCHED_ALL) {
        let names = if options.lossless {
            svc.flags.sched_flag_names_lossless(&svc.scheduler)
        } else {
            svc.flags.sched_flag_names(&svc.scheduler)
        };
        out.push_str(" -b ");
        out.push_str(&names);
    }
}

/// A real server as a rule line introduced by `cmd` (`-a` or `-e`) for the service named
/// `svc_name`, as ipvsadm -S writes it.
pub(crate) fn destination_rule(
    cmd: &str,
    svc_name: &str,
    d: &Destination,
    options: SaveOptions,
) -> String {
    let mut out = String::new();
    write_destination_rule(&mut out, cmd, svc_name, d, options);
    out
}

/// [`destination_rule`], appended to `out`.
pub(crate) fn write_destination_rule(
    out: &mut String,
    cmd: &str,
    svc_name: &str,
    d: &Destination,
    options: SaveOptions,
) {
    // glibc prints a NULL string as "(null)"; ipvsadm passes NULL for methods it cannot name.
    let switch = d.forward.switch().unwrap_or("(null)");
    out.push_str(cmd);
    out.push(' ');
    out.push_str(svc_name);
    out.push_str(" -r ");
    write_addr_port(out, &d.addr);
    out.push(' ');
    out.push_str(switch);
    out.push_str(" -w ");
    write_decimal(out, d.weight);
    if let Forward::Tunnel(t) = &d.forward {
        let csum = t.checksum.option().unwrap_or("(null)");
        match t.kind {
            TunnelType::Gre => {
                out.push_str(" --tun-type gre ");
                out.push_str(csum);
            }
            TunnelType::Gue => {
                out.push_str(" --tun-type gue --tun-port ");
                write_decimal(out, t.port);
                out.push(' ');
                out.push_str(csum);
            }
            TunnelType::Ipip => out.push_str(" --tun-type ipip"),
            TunnelType::Other(_) => {}
        }
    }
    if options.lossless {
        if d.upper_threshold != 0 {
            out.push_str(" -x ");
            write_decimal(out, d.upper_threshold);
        }
        if d.lower_threshold != 0 {
            out.push_str(" -y ");
            write_decimal(out, d.lower_threshold);
        }
    }
}
