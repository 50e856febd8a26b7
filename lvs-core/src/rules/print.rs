//! Writing a ruleset as `ipvsadm -S -n` does, byte for byte.

use super::addr::ntop;
use super::sort::{cmp_dests, cmp_services, glibc_msort};
use crate::{
    Command, Destination, Family, Forward, Netmask, Ruleset, Service, ServiceFlags, ServiceKey,
    TunnelType, VirtualService,
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
    let mut out = String::with_capacity(24);
    write_addr_port(&mut out, addr);
    out
}

/// [`addr_port`], appended to `out`.
pub fn write_addr_port(out: &mut String, addr: &SocketAddr) {
    let _ = match addr {
        SocketAddr::V4(a) => write!(out, "{}:{}", a.ip(), a.port()),
        SocketAddr::V6(_) => write!(out, "[{}]:{}", ntop(&addr.ip()), addr.port()),
    };
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
    let mut out = String::with_capacity(ruleset.object_count() * 56);
    for vs in sorted_services(ruleset) {
        let name = rule_service_name(&vs.service.key, options);
        write_service_rule(&mut out, "-A", &vs.service, options);
        out.push('\n');
        for d in sorted_destinations(vs) {
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
pub fn service_rule(cmd: &str, svc: &Service, options: SaveOptions) -> String {
    let mut out = String::new();
    write_service_rule(&mut out, cmd, svc, options);
    out
}

/// [`service_rule`], appended to `out`.
pub fn write_service_rule(out: &mut String, cmd: &str, svc: &Service, options: SaveOptions) {
    let _ = write!(
        out,
        "{cmd} {} -s {}",
        rule_service_name(&svc.key, options),
        svc.scheduler
    );
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
    if svc.flags.contains(ServiceFlags::ONE_PACKET) {
        out.push_str(" -o");
    }
    if svc.flags.intersects(ServiceFlags::SCHED_ALL) {
        let names = if options.lossless {
            svc.flags.sched_flag_names_lossless(&svc.scheduler)
        } else {
            svc.flags.sched_flag_names(&svc.scheduler)
        };
        let _ = write!(out, " -b {names}");
    }
}

/// A real server as a rule line introduced by `cmd` (`-a` or `-e`) for the service named
/// `svc_name`, as ipvsadm -S writes it.
pub fn destination_rule(
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
pub fn write_destination_rule(
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
    let _ = write!(out, " {switch} -w {}", d.weight);
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
}
