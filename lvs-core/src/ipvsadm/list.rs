//! Listing the IPVS table as `ipvsadm -L` prints it, byte for byte (ipvsadm 1.31's
//! `list_all`, `print_title`, `print_service_entry`, `print_largenum`, `list_timeout`,
//! `list_daemon`, `list_conn`).
//!
//! Everything here renders values the caller already read: a [`Table`] of services with their
//! real servers and what the kernel reports about them ([`VirtualServiceEntry`]s, as
//! lvs-netlink's `Snapshot::entries` reads them), an [`Info`], [`Timeouts`], [`SyncDaemon`]s
//! and [`Connection`]s. Without `-n`, ipvsadm prints host and service names; lvs-core does no
//! I/O, so names come through a [`Names`] hook (a program answers it with `gethostbyaddr` and
//! `getservbyport`; [`NoNames`] answers nothing, so every address prints numerically).
//!
//! ```
//! use lvs_core::ipvsadm::list::{NoNames, Table};
//! use lvs_core::ipvsadm::Format;
//! use lvs_core::{Info, Service, ServiceKey, ServiceState, Version, VirtualServiceEntry};
//!
//! let key = ServiceKey::tcp("10.0.0.13:80".parse().unwrap());
//! let info = Info { version: Version::new(1, 2, 1), conn_table_size: 4096 };
//! let entry = VirtualServiceEntry {
//!     service: Service::new(key).with_scheduler("rr"),
//!     state: ServiceState::default(),
//!     destinations: Vec::new(),
//! };
//! let table = Table::new(info, vec![entry]);
//! let format = Format { numeric: true, ..Format::default() };
//! assert_eq!(
//!     table.list(&format, &NoNames),
//!     "IP Virtual Server version 1.2.1 (size=4096)\n\
//!      Prot LocalAddress:Port Scheduler Flags\n  \
//!      -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
//!      TCP  10.0.0.13:80 rr\n"
//! );
//! ```

use super::addr::ntop;
use super::parse::Format;
use super::sort::{cmp_dests, cmp_services, glibc_msort};
use crate::conn::Connection;
use crate::rules::SaveOptions;
use crate::{
    DestinationEntry, Family, Forward, Info, Netmask, Protocol, Service, ServiceFlags, SyncDaemon,
    Timeouts, TunnelType, VirtualServiceEntry,
};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

/// Names for addresses and ports, where ipvsadm calls `gethostbyaddr` and `getservbyport`.
pub trait Names {
    /// The host name of an address, if it has one.
    fn host_name(&self, addr: &IpAddr) -> Option<String>;
    /// The service name of a port for a protocol (TCP, UDP and SCTP only), if it has one.
    fn service_name(&self, port: u16, protocol: Protocol) -> Option<String>;
}

/// A [`Names`] that knows no names: listings are numeric even without `-n`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Names for NoNames {
    fn host_name(&self, _: &IpAddr) -> Option<String> {
        None
    }
    fn service_name(&self, _: u16, _: Protocol) -> Option<String> {
        None
    }
}

/// The whole table as `ipvsadm -L` lists it: the version line and the services, in the order
/// the kernel dumped them (the listing sorts them unless `--nosort`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The IPVS version and connection table size.
    pub info: Info,
    /// The services, in the kernel's order.
    pub services: Vec<VirtualServiceEntry>,
}

impl Table {
    /// The table of `services` (in the kernel's order, as lvs-netlink's `Snapshot::entries`
    /// gives them) under the version line of `info` (`Ipvs::info`).
    pub fn new(info: Info, services: Vec<VirtualServiceEntry>) -> Self {
        Table { info, services }
    }

    /// `ipvsadm -L [format]`: the version line, the title and every service.
    pub fn list(&self, format: &Format, names: &dyn Names) -> String {
        let mut out = header(&self.info);
        out.push_str(&title(format));
        for vs in ordered(&self.services, format) {
            write_service_entry(&mut out, vs, format, names);
        }
        out
    }

    /// `ipvsadm -S [-n]`: the rules that rebuild the services and real servers. With
    /// [`SaveOptions::IPVSADM`] and no names this is [`crate::rules::save`]'s output for the same
    /// services.
    pub fn rules(&self, format: &Format, names: &dyn Names, options: SaveOptions) -> String {
        let mut out = String::new();
        for vs in ordered(&self.services, format) {
            write_rules(&mut out, vs, format, names, options);
        }
        out
    }
}

impl Table {
    /// The same table in the order `format` lists it (libipvs's sort of services and of each
    /// service's real servers, unless `--nosort`), for output other than text.
    pub fn in_listing_order(&self, format: &Format) -> Table {
        Table {
            info: self.info,
            services: ordered(&self.services, format)
                .into_iter()
                .map(|vs| VirtualServiceEntry {
                    service: vs.service.clone(),
                    state: vs.state,
                    destinations: ordered_destinations(vs, format)
                        .into_iter()
                        .copied()
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The services in listing order: libipvs's sort unless `--nosort`.
fn ordered<'a>(
    services: &'a [VirtualServiceEntry],
    format: &Format,
) -> Vec<&'a VirtualServiceEntry> {
    let mut v: Vec<&VirtualServiceEntry> = services.iter().collect();
    if !format.nosort {
        glibc_msort(
            &mut v,
            &|a: &&VirtualServiceEntry, b: &&VirtualServiceEntry| {
                cmp_services(&a.service.key, &b.service.key)
            },
        );
    }
    v
}

fn ordered_destinations<'a>(
    vs: &'a VirtualServiceEntry,
    format: &Format,
) -> Vec<&'a DestinationEntry> {
    let mut v: Vec<&DestinationEntry> = vs.destinations.iter().collect();
    if !format.nosort {
        glibc_msort(&mut v, &|a: &&DestinationEntry, b: &&DestinationEntry| {
            cmp_dests(&a.destination, &b.destination)
        });
    }
    v
}

/// `IP Virtual Server version 1.2.1 (size=4096)`, the first line of `ipvsadm -L`.
fn header(info: &Info) -> String {
    format!(
        "IP Virtual Server version {}.{}.{} (size={})\n",
        info.version.major(),
        info.version.minor(),
        info.version.patch(),
        info.conn_table_size as i32
    )
}

/// The two title lines for a format (`print_title`); stats win over rate, rate over
/// thresholds, thresholds over persistent-conn, persistent-conn over tun-info.
fn title(format: &Format) -> String {
    const PROT: &str = "Prot LocalAddress:Port";
    const REMOTE: &str = "  -> RemoteAddress:Port";
    if format.stats || format.rate {
        let cols = if format.stats {
            ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]
        } else {
            ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]
        };
        let [a, b, c, d, e] = cols;
        format!("{PROT:<33} {a:>8} {b:>8} {c:>8} {d:>8} {e:>8}\n{REMOTE}\n")
    } else if format.thresholds {
        let [a, b, c, d] = ["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"];
        format!("{PROT:<33} {a:<10} {b:<10} {c:<10} {d:<10}\n{REMOTE}\n")
    } else if format.persistent_conn {
        let [a, b, c, d] = ["Weight", "PersistConn", "ActiveConn", "InActConn"];
        format!("{PROT:<33} {a:<9} {b:<11} {c:<10} {d:<10}\n{REMOTE}\n")
    } else if format.tun_info {
        format!(
            "{PROT} Scheduler Flags\n{REMOTE}           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        )
    } else {
        format!("{PROT} Scheduler Flags\n{REMOTE}           Forward Weight ActiveConn InActConn\n")
    }
}

/// `ipvsadm -L -t ADDR [format]`: one service, with the title and no version line.
pub fn list_service(vs: &VirtualServiceEntry, format: &Format, names: &dyn Names) -> String {
    let mut out = title(format);
    write_service_entry(&mut out, vs, format, names);
    out
}

/// `print_largenum`: a counter in 9 columns, scaled to K, M, G or T when it does not fit, or
/// in full (at least 9 columns) with `--exact`.
pub(crate) fn largenum(out: &mut String, n: u64, exact: bool) {
    let _ = if exact {
        let width = n.to_string().len().max(8) + 1;
        write!(out, "{n:>width$}")
    } else if n < 100_000_000 {
        write!(out, "{n:>9}")
    } else if n < 1_000_000_000 {
        write!(out, "{:>8}K", n / 1_000)
    } else if n < 100_000_000_000 {
        write!(out, "{:>8}M", n / 1_000_000)
    } else if n < 100_000_000_000_000 {
        write!(out, "{:>8}G", n / 1_000_000_000)
    } else {
        write!(out, "{:>8}T", n / 1_000_000_000_000)
    };
}

/// `addrport_to_anyname`: `a.b.c.d:port` or `[v6]:port`, with names unless `-n`. Names are
/// those of `protocol`'s services; `None` (ipvsadm's protocol 0) never has service names.
pub(crate) fn addr_port(
    addr: &SocketAddr,
    protocol: Option<Protocol>,
    format: &Format,
    names: &dyn Names,
) -> String {
    let (open, close) = match addr {
        SocketAddr::V4(_) => ("", ""),
        SocketAddr::V6(_) => ("[", "]"),
    };
    let mut s = if format.numeric {
        format!("{open}{}{close}:{}", ntop(&addr.ip()), addr.port())
    } else {
        let host = names
            .host_name(&addr.ip())
            .unwrap_or_else(|| ntop(&addr.ip()));
        let port = protocol
            .filter(|p| matches!(p, Protocol::Tcp | Protocol::Udp | Protocol::Sctp))
            .and_then(|p| names.service_name(addr.port(), p))
            .unwrap_or_else(|| addr.port().to_string());
        format!("{open}{host}{close}:{port}")
    };
    // ipvsadm formats into a 60-byte buffer.
    truncate(&mut s, 59);
    s
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// `FWM  10`, `FWM  10 IPv6` or `TCP  10.0.0.1:80` (cut to 33 bytes for IPv4).
fn listing_service_name(service: &Service, format: &Format, names: &dyn Names) -> String {
    match service.key {
        // ipvsadm 1.31 prints marks above 2^31 - 1 negative (`%d`); later versions and lvs
        // print them unsigned.
        crate::ServiceKey::FwMark {
            family: Family::Inet,
            mark,
        } => format!("FWM  {mark}"),
        crate::ServiceKey::FwMark {
            family: Family::Inet6,
            mark,
        } => format!("FWM  {mark} IPv6"),
        crate::ServiceKey::Inet { protocol, addr } => {
            let vname = addr_port(&addr, Some(protocol), format, names);
            let mut s = format!("{:<4} {vname}", protocol.listing_name());
            if addr.is_ipv4() {
                truncate(&mut s, 33);
            }
            s
        }
    }
}

/// Whose service names a service's real servers get: the service's protocol, or none for a
/// firewall-mark service (the kernel reports no protocol for those, and libipvs leaves 0).
fn name_protocol(service: &Service) -> Option<Protocol> {
    match service.key {
        crate::ServiceKey::Inet { protocol, .. } => Some(protocol),
        crate::ServiceKey::FwMark { .. } => None,
    }
}

fn sched_flags(service: &Service) -> Option<String> {
    service
        .flags
        .intersects(ServiceFlags::SCHED_ALL)
        .then(|| service.flags.sched_flag_names(&service.scheduler))
}

fn write_service_entry(
    out: &mut String,
    vs: &VirtualServiceEntry,
    format: &Format,
    names: &dyn Names,
) {
    let svc = &vs.service;
    let name = listing_service_name(svc, format, names);
    let st = &vs.state.stats;
    if format.stats {
        let _ = write!(out, "{name:<33}");
        for n in [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] {
            largenum(out, n, format.exact);
        }
    } else if format.rate {
        let _ = write!(out, "{name:<33}");
        for n in [st.cps, st.inpps, st.outpps, st.inbps, st.outbps] {
            largenum(out, n, format.exact);
        }
    } else {
        let _ = write!(out, "{name} {}", svc.scheduler);
        if let Some(flags) = sched_flags(svc) {
            let _ = write!(out, " ({flags})");
        }
        if let Some(p) = &svc.persistence {
            let _ = write!(out, " persistent {}", p.timeout);
            if let Some(mask) = mask_text(svc, p.netmask) {
                let _ = write!(out, " mask {mask}");
            }
            if let Some(pe) = &svc.pe {
                let _ = write!(out, " pe {pe}");
            }
        }
        if svc.flags.contains(ServiceFlags::ONE_PACKET) {
            out.push_str(" ops");
        }
    }
    out.push('\n');
    let protocol = name_protocol(svc);
    for ld in ordered_destinations(vs, format) {
        write_destination_entry(out, ld, protocol, format, names);
    }
}

/// One real server's line of a service entry (`print_service_entry`'s loop).
fn write_destination_entry(
    out: &mut String,
    ld: &DestinationEntry,
    protocol: Option<Protocol>,
    format: &Format,
    names: &dyn Names,
) {
    let d = &ld.destination;
    let s = &ld.state;
    let mut dname = addr_port(&d.addr, protocol, format, names);
    if d.addr.is_ipv4() {
        truncate(&mut dname, 28);
    }
    let ds = &s.stats;
    let _ = if format.stats {
        let _ = write!(out, "  -> {dname:<28}");
        for n in [ds.conns, ds.inpkts, ds.outpkts, ds.inbytes, ds.outbytes] {
            largenum(out, n, format.exact);
        }
        writeln!(out)
    } else if format.rate {
        let _ = write!(
            out,
            "  -> {dname:<28} {:>8} {:>8} {:>8}",
            ds.cps, ds.inpps, ds.outpps
        );
        largenum(out, ds.inbps, format.exact);
        largenum(out, ds.outbps, format.exact);
        writeln!(out)
    } else if format.thresholds {
        writeln!(
            out,
            "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
            d.upper_threshold, d.lower_threshold, s.active_conns, s.inactive_conns
        )
    } else if format.persistent_conn {
        writeln!(
            out,
            "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
            d.weight as u32, s.persistent_conns, s.active_conns, s.inactive_conns
        )
    } else if format.tun_info {
        writeln!(
            out,
            "  -> {dname:<28} {:<7} {:<13} {:<6} {:<10} {:<10}",
            forward_name(&d.forward),
            tunnel_info(&d.forward),
            d.weight,
            s.active_conns,
            s.inactive_conns
        )
    } else {
        writeln!(
            out,
            "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
            forward_name(&d.forward),
            d.weight,
            s.active_conns,
            s.inactive_conns
        )
    };
}

/// The persistence mask as ipvsadm prints it, unless it is the host mask.
fn mask_text(svc: &Service, netmask: Netmask) -> Option<String> {
    match (svc.key.family(), netmask) {
        (Family::Inet, Netmask::V4(m)) if !netmask.is_host() => Some(m.to_string()),
        (Family::Inet6, Netmask::V6(plen)) if plen != 128 => Some(plen.to_string()),
        _ => None,
    }
}

/// `fwd_name`; glibc prints the NULL ipvsadm passes for other methods as `(null)`.
fn forward_name(f: &Forward) -> &'static str {
    f.listing_name().unwrap_or("(null)")
}

/// `fwd_tun_info`: `ipip`, `gue:PORT:-c`, `gre:+c`, or `n/a`.
fn tunnel_info(f: &Forward) -> String {
    let Forward::Tunnel(t) = f else {
        return "n/a".to_owned();
    };
    let csum = t.checksum.info().unwrap_or("?");
    let mut s = match t.kind {
        TunnelType::Ipip => "ipip".to_owned(),
        TunnelType::Gue => format!("gue:{}:{csum}", t.port),
        TunnelType::Gre => format!("gre:{csum}"),
        TunnelType::Other(_) => return "n/a".to_owned(),
    };
    truncate(&mut s, 15);
    s
}

/// How a service is named in a rule, with names unless `-n` (`-t web:http`).
fn rule_service_name(
    service: &Service,
    format: &Format,
    names: &dyn Names,
    options: SaveOptions,
) -> String {
    match service.key {
        crate::ServiceKey::Inet { protocol, addr } => format!(
            "{} {}",
            protocol.option(),
            addr_port(&addr, Some(protocol), format, names)
        ),
        key => crate::rules::print::rule_service_name(&key, options),
    }
}

fn write_rules(
    out: &mut String,
    vs: &VirtualServiceEntry,
    format: &Format,
    names: &dyn Names,
    options: SaveOptions,
) {
    let svc = &vs.service;
    let name = rule_service_name(svc, format, names, options);
    let _ = write!(out, "-A {name} -s {}", svc.scheduler);
    if let Some(p) = &svc.persistence {
        let _ = write!(out, " -p {}", p.timeout);
        if let Some(mask) = mask_text(svc, p.netmask) {
            let _ = write!(out, " -M {mask}");
        }
    }
    if let Some(pe) = &svc.pe {
        let _ = write!(out, " --pe {pe}");
    }
    if svc.flags.contains(ServiceFlags::ONE_PACKET) {
        out.push_str(" -o");
    }
    if svc.flags.intersects(ServiceFlags::SCHED_ALL) {
        let flags = if options.lossless {
            svc.flags.sched_flag_names_lossless(&svc.scheduler)
        } else {
            svc.flags.sched_flag_names(&svc.scheduler)
        };
        let _ = write!(out, " -b {flags}");
    }
    out.push('\n');
    let protocol = name_protocol(svc);
    for ld in ordered_destinations(vs, format) {
        let d = &ld.destination;
        let dname = addr_port(&d.addr, protocol, format, names);
        let switch = d.forward.switch().unwrap_or("(null)");
        let _ = write!(out, "-a {name} -r {dname} {switch} -w {}", d.weight);
        if let Forward::Tunnel(t) = &d.forward {
            let csum = t.checksum.option().unwrap_or("(null)");
            let _ = match t.kind {
                TunnelType::Gre => write!(out, " --tun-type gre {csum}"),
                TunnelType::Gue => write!(out, " --tun-type gue --tun-port {} {csum}", t.port),
                TunnelType::Ipip => write!(out, " --tun-type ipip"),
                TunnelType::Other(_) => Ok(()),
            };
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
}

/// `ipvsadm -L --timeout`.
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// `ipvsadm -L --daemon`: one line per running daemon, in the kernel's order.
pub fn daemons(daemons: &[SyncDaemon]) -> String {
    let mut out = String::new();
    for d in daemons {
        let _ = write!(
            out,
            "{} sync daemon (mcast={}, syncid={}",
            d.role, d.interface, d.syncid
        );
        if let Some(n) = d.maxlen.filter(|n| *n != 0) {
            let _ = write!(out, ", maxlen={n}");
        }
        if let Some(g) = &d.group {
            let _ = write!(out, ", group={}", ntop(g));
        }
        if let Some(p) = d.port.filter(|p| *p != 0) {
            let _ = write!(out, ", port={p}");
        }
        if let Some(t) = d.ttl.filter(|t| *t != 0) {
            let _ = write!(out, ", ttl={t}");
        }
        out.push_str(")\n");
    }
    out
}

/// `ipvsadm -L -c [--persistent-conn]`: the connection table.
pub fn connections(conns: &[Connection], format: &Format, names: &dyn Names) -> String {
    let mut out = String::from("IPVS connection entries\n");
    let _ = if format.persistent_conn {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        )
    } else {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        )
    };
    for c in conns {
        // ipvsadm looks service names up only for the protocols it knows.
        let proto = matches!(c.protocol, Protocol::Tcp | Protocol::Udp | Protocol::Sctp)
            .then_some(c.protocol);
        let cname = addr_port(&c.client, proto, format, names);
        let vname = addr_port(&c.virtual_addr, proto, format, names);
        let dname = addr_port(&c.destination, proto, format, names);
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        let pname = crate::conn::protocol_name(c.protocol);
        let _ = match &c.pe {
            // sscanf fills pe_data only when the line has it.
            Some((pe_name, pe_data)) if format.persistent_conn && !pe_data.is_empty() => writeln!(
                out,
                "{pname:<3} {expire:<6} {:<11} {cname:<18} {vname:<18} {dname:<16} {pe_name:<18} {pe_data}",
                c.state
            ),
            _ => writeln!(
                out,
                "{pname:<3} {expire:<6} {:<11} {cname:<18} {vname:<18} {dname}",
                c.state
            ),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DestinationState, Ruleset, ServiceState, Stats, Version};

    fn numeric() -> Format {
        Format {
            numeric: true,
            ..Format::default()
        }
    }

    fn info() -> Info {
        Info {
            version: Version::new(1, 2, 1),
            conn_table_size: 4096,
        }
    }

    fn table_from_rules(rules: &str) -> Table {
        let ruleset = Ruleset::from_rules(rules).unwrap();
        Table {
            info: info(),
            services: ruleset
                .services
                .iter()
                .map(|vs| VirtualServiceEntry {
                    service: vs.service.clone(),
                    state: ServiceState::default(),
                    destinations: vs
                        .destinations
                        .iter()
                        .map(|d| DestinationEntry {
                            destination: *d,
                            state: DestinationState::default(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    // From tests/golden/seed-basic: what ipvsadm 1.31 printed for this table.
    #[test]
    fn default_listing_matches_a_captured_ipvsadm_listing() {
        let t = table_from_rules(
            "-A -t 10.0.0.13:80 -s rr -p 600 -M 255.255.255.0\n\
             -a -t 10.0.0.13:80 -r 192.168.8.14 -m\n\
             -a -t 10.0.0.13:80 -r 192.168.8.13 -g -w 3\n\
             -A -f 10 -6 -s sh -b sh-port\n\
             -A -u [2001:db8::1]:53 -s wrr -o\n",
        );
        assert_eq!(
            t.list(&numeric(), &NoNames),
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n  \
             -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
             TCP  10.0.0.13:80 rr persistent 600 mask 255.255.255.0\n  \
             -> 192.168.8.13:80              Route   3      0          0         \n  \
             -> 192.168.8.14:80              Masq    1      0          0         \n\
             UDP  [2001:db8::1]:53 wrr ops\n\
             FWM  10 IPv6 sh (sh-port)\n"
        );
    }

    #[test]
    fn largenum_scales_like_ipvsadm() {
        let f = |n, exact| {
            let mut s = String::new();
            largenum(&mut s, n, exact);
            s
        };
        assert_eq!(f(0, false), "        0");
        assert_eq!(f(99_999_999, false), " 99999999");
        assert_eq!(f(100_000_000, false), "  100000K");
        assert_eq!(f(1_000_000_000, false), "    1000M");
        assert_eq!(f(99_999_999_999, false), "   99999M");
        assert_eq!(f(100_000_000_000, false), "     100G");
        assert_eq!(f(100_000_000_000_000, false), "     100T");
        assert_eq!(f(5, true), "        5");
        assert_eq!(f(123_456_789_012, true), " 123456789012");
    }

    #[test]
    fn titles_follow_the_precedence() {
        let f = Format {
            rate: true,
            thresholds: true,
            ..Format::default()
        };
        assert!(title(&f).contains("CPS"));
        let f = Format {
            persistent_conn: true,
            tun_info: true,
            ..Format::default()
        };
        assert!(title(&f).contains("PersistConn"));
        // The thresholds title ends with a blank, as ipvsadm's "%-10s\n" writes it.
        assert!(
            title(&Format {
                thresholds: true,
                ..Format::default()
            })
            .starts_with(
                "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
            )
        );
    }

    #[test]
    fn stats_and_rate_rows() {
        let mut t = table_from_rules("-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2\n");
        let stats = Stats {
            conns: 3,
            inpkts: 150_000_000,
            outpkts: 2,
            inbytes: 12_345_678_901,
            outbytes: 0,
            cps: 1,
            inpps: 2,
            outpps: 3,
            inbps: 4,
            outbps: 1_000_000_000,
        };
        t.services[0].state.stats = stats;
        t.services[0].destinations[0].state.stats = stats;
        let f = Format {
            numeric: true,
            stats: true,
            ..Format::default()
        };
        assert_eq!(
            list_service(&t.services[0], &f, &NoNames),
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  \
             -> RemoteAddress:Port\n\
             TCP  10.0.0.1:80                         3  150000K        2   12345M        0\n  \
             -> 10.0.0.2:80                         3  150000K        2   12345M        0\n"
        );
        let f = Format {
            numeric: true,
            rate: true,
            ..Format::default()
        };
        assert_eq!(
            list_service(&t.services[0], &f, &NoNames),
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  \
             -> RemoteAddress:Port\n\
             TCP  10.0.0.1:80                         1        2        3        4    1000M\n  \
             -> 10.0.0.2:80                         1        2        3        4    1000M\n"
        );
    }

    #[test]
    fn thresholds_persistent_and_tunnel_rows() {
        let mut t = table_from_rules(
            "-A -t 10.0.0.1:80 -s rr\n\
             -a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-remcsum -x 9 -y 4 -w 2\n\
             -a -t 10.0.0.1:80 -r 10.0.0.3 -m\n",
        );
        // The kernel lists new servers first: 10.0.0.3 comes first until sorted.
        t.services[0].destinations[1].state.persistent_conns = 7;
        let f = |extra: Format| Format {
            numeric: true,
            ..extra
        };
        let th = list_service(
            &t.services[0],
            &f(Format {
                thresholds: true,
                ..Format::default()
            }),
            &NoNames,
        );
        assert!(
            th.contains(
                "\n  -> 10.0.0.2:80                  9          4          0          0         \n"
            ),
            "{th}"
        );
        let pc = list_service(
            &t.services[0],
            &f(Format {
                persistent_conn: true,
                ..Format::default()
            }),
            &NoNames,
        );
        assert!(
            pc.contains(
                "\n  -> 10.0.0.2:80                  2         7           0          0         \n"
            ),
            "{pc}"
        );
        let ti = list_service(
            &t.services[0],
            &f(Format {
                tun_info: true,
                ..Format::default()
            }),
            &NoNames,
        );
        assert!(
            ti.ends_with(
                "  -> 10.0.0.2:80                  Tunnel  gue:6080:r+c  2      0          0         \n  \
                 -> 10.0.0.3:80                  Masq    n/a           1      0          0         \n"
            ),
            "{ti}"
        );
    }

    struct FakeNames;
    impl Names for FakeNames {
        fn host_name(&self, addr: &IpAddr) -> Option<String> {
            match addr.to_string().as_str() {
                "10.0.0.1" => Some("a-rather-long-virtual-host-name.example.com".into()),
                "10.0.0.2" => Some("web".into()),
                "2001:db8::1" => Some("six".into()),
                _ => None,
            }
        }
        fn service_name(&self, port: u16, protocol: Protocol) -> Option<String> {
            (port == 80 && protocol == Protocol::Tcp).then(|| "http".into())
        }
    }

    #[test]
    fn names_are_used_and_ipv4_names_cut() {
        let t = table_from_rules(
            "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.0.2 -m\n\
             -a -t 10.0.0.1:80 -r 10.0.0.9:8080 -m\n-A -t [2001:db8::1]:80 -s rr\n",
        );
        let out = t.list(&Format::default(), &FakeNames);
        assert!(
            out.contains("\nTCP  a-rather-long-virtual-host-n rr\n"),
            "{out}"
        );
        assert!(
            out.contains("\n  -> web:http                     Masq "),
            "{out}"
        );
        assert!(
            out.contains(&format!("\n  -> {:<28} Masq ", "10.0.0.9:8080")),
            "{out}"
        );
        assert!(out.contains("\nTCP  [six]:http rr\n"), "{out}");
        let rules = t.rules(&Format::default(), &FakeNames, SaveOptions::IPVSADM);
        assert!(rules.starts_with(
            "-A -t a-rather-long-virtual-host-name.example.com:http -s rr\n\
             -a -t a-rather-long-virtual-host-name.example.com:http -r web:http -m -w 1\n"
        ));
    }

    #[test]
    fn mark_services_get_no_service_names() {
        let t = table_from_rules("-A -f 7 -s rr\n-a -f 7 -r 10.0.0.2:80 -m\n");
        let out = t.list(&Format::default(), &FakeNames);
        assert!(out.contains("\n  -> web:80 "), "{out}");
        let rules = t.rules(&Format::default(), &FakeNames, SaveOptions::IPVSADM);
        assert!(rules.ends_with("-a -f 7 -r web:80 -m -w 1\n"), "{rules}");
    }

    #[test]
    fn numeric_rules_equal_the_save_printer() {
        let rules = "-A -t 10.0.0.13:80 -s rr -p 600 -M 255.255.255.0 --pe sip\n\
             -a -t 10.0.0.13:80 -r 192.168.8.14 -m -x 5 -y 2\n\
             -a -t 10.0.0.13:80 -r 192.168.8.13 -i --tun-type gre --tun-csum\n\
             -A -f 4294967295 -6 -s sh -b sh-port,flag-3\n\
             -A -u 10.0.0.1:53 -s mh -b mh-fallback -o\n";
        let t = table_from_rules(rules);
        let ruleset = Ruleset::from_rules(rules).unwrap();
        for options in [SaveOptions::IPVSADM, SaveOptions::default()] {
            assert_eq!(
                t.rules(&numeric(), &NoNames, options),
                crate::rules::save(&ruleset, options)
            );
        }
    }

    #[test]
    fn marks_print_unsigned_and_other_methods_null() {
        let mut t = table_from_rules("-A -f 4294967295 -s rr\n-a -f 4294967295 -r 10.0.0.2\n");
        t.services[0].destinations[0].destination.forward = Forward::Bypass;
        let out = t.list(&numeric(), &NoNames);
        assert!(
            out.contains("FWM  4294967295 rr\n  -> 10.0.0.2:0                   (null)  1 "),
            "{out}"
        );
    }

    #[test]
    fn timeouts_and_daemons() {
        assert_eq!(
            timeouts(&Timeouts::KERNEL_DEFAULT),
            "Timeout (tcp tcpfin udp): 900 120 300\n"
        );
        let mut d = SyncDaemon::new(crate::DaemonRole::Master, "eth0", 7);
        assert_eq!(
            daemons(&[d.clone()]),
            "master sync daemon (mcast=eth0, syncid=7)\n"
        );
        d.maxlen = Some(1472);
        d.group = Some("224.0.0.81".parse().unwrap());
        d.port = Some(8848);
        d.ttl = Some(1);
        assert_eq!(
            daemons(&[d]),
            "master sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
        );
    }

    #[test]
    fn connection_listing() {
        let c = Connection {
            protocol: Protocol::Tcp,
            client: "10.0.79.182:69".parse().unwrap(),
            virtual_addr: "10.0.79.182:8080".parse().unwrap(),
            destination: "10.0.79.183:8081".parse().unwrap(),
            state: "SYN_RECV".into(),
            expires: 57,
            pe: None,
        };
        let sip = Connection {
            protocol: Protocol::Udp,
            pe: Some(("sip".into(), "a84b4c76e66710".into())),
            expires: 3725,
            ..c.clone()
        };
        assert_eq!(
            connections(&[c.clone(), sip.clone()], &numeric(), &NoNames),
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             TCP 00:57  SYN_RECV    10.0.79.182:69     10.0.79.182:8080   10.0.79.183:8081\n\
             UDP 62:05  SYN_RECV    10.0.79.182:69     10.0.79.182:8080   10.0.79.183:8081\n"
        );
        let f = Format {
            numeric: true,
            persistent_conn: true,
            ..Format::default()
        };
        assert_eq!(
            connections(&[c, sip], &f, &NoNames),
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination        pe name          pe_data\n\
             TCP 00:57  SYN_RECV    10.0.79.182:69     10.0.79.182:8080   10.0.79.183:8081\n\
             UDP 62:05  SYN_RECV    10.0.79.182:69     10.0.79.182:8080   10.0.79.183:8081 sip                a84b4c76e66710\n"
        );
    }

    #[test]
    fn nosort_keeps_the_kernel_order() {
        let t = table_from_rules("-A -t 10.0.0.2:80\n-A -t 10.0.0.1:80\n");
        let f = Format {
            numeric: true,
            nosort: true,
            ..Format::default()
        };
        let out = t.list(&f, &NoNames);
        let a = out.find("10.0.0.2").unwrap();
        let b = out.find("10.0.0.1").unwrap();
        assert!(a < b, "{out}");
        let sorted = t.list(&numeric(), &NoNames);
        assert!(sorted.find("10.0.0.1").unwrap() < sorted.find("10.0.0.2").unwrap());
    }

    /// Every golden listing ipvsadm 1.31 printed after a clean restore (`tests/golden/*.list`),
    /// rebuilt from the rules. Marks above 2^31 - 1 are left out: ipvsadm 1.31 prints them
    /// negative, lvs unsigned.
    #[test]
    fn listings_match_the_captured_goldens() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
        let mut checked = 0;
        let mut failures = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rules"))
            .collect();
        paths.sort();
        for p in paths {
            let read = |ext: &str| std::fs::read_to_string(p.with_extension(ext)).unwrap();
            if read("restore-status") != "0\n" || read("list").contains("FWM  -") {
                continue;
            }
            let t = table_from_rules(&read("rules"));
            let ours = t.list(&numeric(), &NoNames);
            if ours != read("list") {
                failures.push(format!("{}:\n{}---\n{ours}", p.display(), read("list")));
            }
            checked += 1;
        }
        assert!(checked > 15, "only {checked} goldens");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// `lvsadm --json -L` prints a [`Table`] in listing order, and `-L -t ADDR` one of its
    /// services: the field names are its JSON shape, pinned here.
    #[test]
    fn a_table_serializes_to_the_listing_json_shape() {
        let mut t = table_from_rules(
            "-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 2\n",
        );
        t.services[0].state.stats.conns = 7;
        t.services[0].destinations[0].state.active_conns = 3;
        let json = serde_json::to_string(&t.in_listing_order(&numeric())).unwrap();
        let zero = r#"{"conns":0,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0,"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0}"#;
        let service = [
            r#"{"service":{"key":{"inet":{"protocol":"tcp","addr":"10.0.0.13:80"}},"scheduler":"rr"},"#,
            r#""state":{"stats":{"conns":7,"inpkts":0,"outpkts":0,"inbytes":0,"outbytes":0,"cps":0,"inpps":0,"outpps":0,"inbps":0,"outbps":0},"internal_flags":0},"#,
            r#""destinations":[{"destination":{"addr":"192.168.8.14:80","forward":"masq","weight":2},"#,
            &format!(r#""state":{{"active_conns":3,"inactive_conns":0,"persistent_conns":0,"stats":{zero}}}}}]}}"#),
        ]
        .concat();
        assert_eq!(
            json,
            format!(
                r#"{{"info":{{"version":66049,"conn_table_size":4096}},"services":[{service}]}}"#
            )
        );
        assert_eq!(serde_json::to_string(&t.services[0]).unwrap(), service);
        assert_eq!(serde_json::from_str::<Table>(&json).unwrap(), t);
    }

    #[test]
    fn header_is_the_version_line() {
        assert_eq!(
            header(&info()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
        );
    }

    /// `ipvsadm -Lnc` prints the kernel's protocol name as it is, left-aligned in three
    /// columns, and looks up no service names for it.
    #[test]
    fn unnamed_protocols_list_like_ipvsadm() {
        let c = crate::conn::parse(
            "IP_47 0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE            120\n\
             IP_50 0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE             59\n\
             ICMP 0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE              1\n\
             UDP 0A00000C 0035 0A00000D 0035 C0A8080E 0035 UDP             299\n",
        )
        .unwrap();
        assert_eq!(
            connections(&c, &numeric(), &NoNames),
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             IP_47 02:00  NONE        10.0.0.12:0        10.0.0.13:0        192.168.8.14:0\n\
             IP_50 00:59  NONE        10.0.0.12:0        10.0.0.13:0        192.168.8.14:0\n\
             ICMP 00:01  NONE        10.0.0.12:0        10.0.0.13:0        192.168.8.14:0\n\
             UDP 04:59  UDP         10.0.0.12:53       10.0.0.13:53       192.168.8.14:53\n"
        );
    }
}
