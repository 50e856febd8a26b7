//! What the fuzz targets share: the checks every accepted ruleset must pass, and the builder
//! of valid rulesets from fuzz bytes for the planner target.
//!
//! A failed check panics: libFuzzer records the input as a crash.

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use lvs_core::rules::{SaveOptions, command_rule, parse};
use lvs_core::{
    Command, DaemonRole, Destination, Family, Forward, KernelProfile, Netmask, Persistence,
    Protocol, Ruleset, Scheduler, Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel,
    TunnelChecksum, VirtualService,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Checks a ruleset that one of lvs's readers accepted from `source`:
///
/// - it passes [`Ruleset::validate`];
/// - it reads back equal from its own JSON ([`Ruleset::to_json`]) and TOML
///   ([`Ruleset::to_toml`]);
/// - its rule file ([`Ruleset::to_rules`] for the services, `--set` for the timeouts and
///   `--start-daemon` for each daemon) reads back equal, applied to an empty table by a kernel
///   that has every scheduler and persistence engine it names (whether a module exists is not
///   the rule format's business). A `--set` value of 0 keeps the kernel's: the timeouts read
///   back laid over the kernel's defaults.
pub fn check_accepted(r: &Ruleset, source: &str) {
    if let Err(e) = r.validate() {
        panic!("accepted but refused by validate: {e}\n--- source:\n{source}");
    }
    let json = r
        .to_json()
        .unwrap_or_else(|e| panic!("to_json: {e}\n--- source:\n{source}"));
    match Ruleset::from_json(&json) {
        Ok(back) => assert_eq!(&back, r, "JSON round trip\n--- JSON:\n{json}"),
        Err(e) => panic!("from_json(to_json(r)): {e}\n--- JSON:\n{json}"),
    }
    let toml = r
        .to_toml()
        .unwrap_or_else(|e| panic!("to_toml: {e}\n--- source:\n{source}"));
    match Ruleset::from_toml(&toml) {
        Ok(back) => assert_eq!(&back, r, "TOML round trip\n--- TOML:\n{toml}"),
        Err(e) => panic!("from_toml(to_toml(r)): {e}\n--- TOML:\n{toml}"),
    }
    let text = rule_file(r);
    let rules = parse(&text).unwrap_or_else(|e| panic!("rules: {e}\n--- rules:\n{text}"));
    let mut back = Ruleset::new();
    if let Err((i, e)) = back.execute_all(rules.iter().map(|r| &r.command), &kernel_for(r)) {
        panic!("rules: line {}: {e}\n--- rules:\n{text}", i + 1);
    }
    let expected = Ruleset {
        timeouts: r.timeouts.map(|t| t.over(Timeouts::KERNEL_DEFAULT)),
        ..r.clone()
    };
    assert_eq!(back, expected, "rules round trip\n--- rules:\n{text}");
}

/// The whole ruleset as a rule file: services and real servers, then timeouts and daemons.
pub fn rule_file(r: &Ruleset) -> String {
    let mut text = r.to_rules();
    let mut line = |c: Command| {
        text.push_str(&command_rule(&c, SaveOptions::default()));
        text.push('\n');
    };
    if let Some(t) = r.timeouts {
        line(Command::SetTimeouts(t));
    }
    for d in &r.daemons {
        line(Command::StartDaemon(d.clone()));
    }
    text
}

/// Debian's kernel plus every scheduler and persistence engine `r` names.
fn kernel_for(r: &Ruleset) -> KernelProfile {
    let mut kernel = KernelProfile::default();
    for vs in &r.services {
        kernel.schedulers.push(vs.service.scheduler.clone());
        kernel.engines.extend(vs.service.pe.clone());
    }
    kernel
}

// ---------------------------------------------------------------------------------------------
// Valid rulesets from fuzz bytes, for the planner.
// ---------------------------------------------------------------------------------------------

/// The schedulers the simulated kernel has ([`KernelProfile::default`]).
fn schedulers() -> Vec<Scheduler> {
    KernelProfile::default().schedulers
}

/// Small pools of addresses and ports, so that two rulesets built from them share services
/// and real servers often: the planner's edits, not only its adds and deletes, get exercised.
const VIPS4: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
const VIPS6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2),
];
const REALS4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(192, 168, 1, 1),
    Ipv4Addr::new(192, 168, 1, 2),
    Ipv4Addr::new(192, 168, 1, 3),
];
const REALS6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1),
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2),
];

fn family(u: &mut Unstructured) -> Result<Family> {
    Ok(if u.arbitrary()? {
        Family::Inet6
    } else {
        Family::Inet
    })
}

fn ip(u: &mut Unstructured, family: Family, v4: &[Ipv4Addr], v6: &[Ipv6Addr]) -> Result<IpAddr> {
    Ok(match family {
        Family::Inet => IpAddr::V4(*u.choose(v4)?),
        Family::Inet6 => IpAddr::V6(*u.choose(v6)?),
    })
}

fn service_key(u: &mut Unstructured) -> Result<ServiceKey> {
    let f = family(u)?;
    Ok(match u.int_in_range(0..=3u8)? {
        0 => ServiceKey::FwMark {
            family: f,
            mark: u.int_in_range(1..=2)?,
        },
        n => ServiceKey::Inet {
            protocol: [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][usize::from(n - 1)],
            addr: SocketAddr::new(ip(u, f, &VIPS4, &VIPS6)?, *u.choose(&[80, 0])?),
        },
    })
}

fn service(u: &mut Unstructured, key: ServiceKey) -> Result<Service> {
    let mut flags = ServiceFlags::from_bits_retain(u.int_in_range(0..=7u32)? << 3);
    if u.arbitrary()? && (key.is_fwmark() || key.protocol() == Protocol::Udp) {
        flags |= ServiceFlags::ONE_PACKET;
    }
    let mut persistence = if u.arbitrary()? {
        let netmask = match key.family() {
            Family::Inet => {
                Netmask::V4(*u.choose(&[Ipv4Addr::BROADCAST, Ipv4Addr::new(255, 255, 255, 0)])?)
            }
            Family::Inet6 => Netmask::V6(*u.choose(&[128, 64])?),
        };
        Some(Persistence {
            timeout: *u.choose(&[1, 300, 2_678_400])?,
            netmask,
        })
    } else {
        None
    };
    if !key.is_fwmark() && key.port() == 0 && persistence.is_none() {
        persistence = Some(Persistence::new(360, key.family()));
    }
    Ok(Service {
        key,
        scheduler: u.choose(&schedulers())?.clone(),
        flags,
        persistence,
        pe: u.arbitrary::<bool>()?.then(|| "sip".to_owned()),
    })
}

fn destination(u: &mut Unstructured, key: &ServiceKey) -> Result<Destination> {
    let forward = match u.int_in_range(0..=4u8)? {
        0 | 1 => Forward::Masquerade,
        2 => Forward::DirectRoute,
        3 => Forward::Tunnel(Tunnel::IPIP),
        _ => Forward::Tunnel(if u.arbitrary()? {
            Tunnel::gue(
                *u.choose(&[6080, 6081])?,
                *u.choose(&[
                    TunnelChecksum::None,
                    TunnelChecksum::Csum,
                    TunnelChecksum::RemCsum,
                ])?,
            )
        } else {
            Tunnel::gre(*u.choose(&[TunnelChecksum::None, TunnelChecksum::Csum])?)
        }),
    };
    let tunnel = matches!(forward, Forward::Tunnel(_));
    let f = match (tunnel && u.ratio(1, 4)?, key.family()) {
        (true, Family::Inet) => Family::Inet6,
        (true, Family::Inet6) => Family::Inet,
        (false, f) => f,
    };
    // ipvsadm gives -g and -i real servers of an address service the service's port.
    let port = if forward != Forward::Masquerade && !key.is_fwmark() {
        key.port()
    } else {
        *u.choose(&[80, 8080])?
    };
    let upper = *u.choose(&[0, 10, 100])?;
    Ok(Destination {
        addr: SocketAddr::new(ip(u, f, &REALS4, &REALS6)?, port),
        forward,
        weight: *u.choose(&[0, 1, 2, 100])?,
        upper_threshold: upper,
        lower_threshold: upper / u.int_in_range(1..=10)?,
    })
}

fn daemon(u: &mut Unstructured, role: DaemonRole) -> Result<SyncDaemon> {
    let mut d = SyncDaemon::new(role, *u.choose(&["lo", "eth0"])?, u.int_in_range(0..=2)?);
    if u.arbitrary()? {
        d.maxlen = Some(1472);
    }
    if u.arbitrary()? {
        d.group = Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81)));
        d.port = Some(8848);
        d.ttl = Some(*u.choose(&[1, 2])?);
    }
    Ok(d)
}

fn timeouts(u: &mut Unstructured, zero_keeps: bool) -> Result<Timeouts> {
    let mut pick = || -> Result<u32> {
        let v = *u.choose(&[0, 60, 300, 900])?;
        Ok(if v == 0 && !zero_keeps { 120 } else { v })
    };
    Ok(Timeouts {
        tcp: pick()?,
        tcp_fin: pick()?,
        udp: pick()?,
    })
}

fn add_destinations(u: &mut Unstructured, vs: &mut VirtualService, n: usize) -> Result<()> {
    for _ in 0..n {
        let d = destination(u, &vs.service.key)?;
        if vs.destination(&d.addr).is_none() {
            vs.destinations.push(d);
        }
    }
    Ok(())
}

fn add_services(u: &mut Unstructured, r: &mut Ruleset, n: usize) -> Result<()> {
    for _ in 0..n {
        let key = service_key(u)?;
        if r.service(&key).is_some() {
            continue;
        }
        let mut vs = VirtualService::new(service(u, key)?);
        let dests = u.int_in_range(0..=3)?;
        add_destinations(u, &mut vs, dests)?;
        r.services.push(vs);
    }
    Ok(())
}

fn has_mixed_family(r: &Ruleset) -> bool {
    r.services.iter().any(|vs| {
        vs.destinations
            .iter()
            .any(|d| d.family() != vs.service.key.family())
    })
}

fn add_daemons(u: &mut Unstructured, r: &mut Ruleset) -> Result<()> {
    if has_mixed_family(r) {
        return Ok(());
    }
    for role in [DaemonRole::Master, DaemonRole::Backup] {
        if u.ratio(1, 3)? {
            r.daemons.push(daemon(u, role)?);
        }
    }
    Ok(())
}

/// A valid ruleset as a kernel reports it: its timeouts are set (no 0 among them).
pub fn current_ruleset(u: &mut Unstructured) -> Result<Ruleset> {
    let mut r = Ruleset::new();
    let n = u.int_in_range(0..=4)?;
    add_services(u, &mut r, n)?;
    r.timeouts = Some(timeouts(u, false)?);
    add_daemons(u, &mut r)?;
    Ok(r)
}

/// A valid desired ruleset: built afresh from the same pools as `current`, or `current` with
/// services and real servers dropped, edited and added.
pub fn desired_ruleset(u: &mut Unstructured, current: &Ruleset) -> Result<Ruleset> {
    let mut r = Ruleset::new();
    if u.arbitrary()? {
        for vs in &current.services {
            match u.int_in_range(0..=5u8)? {
                0 => continue,
                1 => {
                    let svc = service(u, vs.service.key)?;
                    r.services.push(VirtualService {
                        service: svc,
                        destinations: vs.destinations.clone(),
                    });
                }
                2 => {
                    let mut vs = vs.clone();
                    vs.destinations.retain(|_| u.arbitrary().unwrap_or(true));
                    let n = u.int_in_range(0..=2)?;
                    add_destinations(u, &mut vs, n)?;
                    r.services.push(vs);
                }
                3 => {
                    let mut vs = vs.clone();
                    for d in &mut vs.destinations {
                        if u.arbitrary()? {
                            d.weight = *u.choose(&[0, 1, 3])?;
                        }
                    }
                    r.services.push(vs);
                }
                _ => r.services.push(vs.clone()),
            }
        }
    }
    let n = u.int_in_range(0..=3)?;
    add_services(u, &mut r, n)?;
    r.timeouts = match u.int_in_range(0..=2u8)? {
        0 => None,
        1 => current.timeouts,
        _ => Some(timeouts(u, true)?),
    };
    match u.int_in_range(0..=2u8)? {
        0 => {}
        1 if !has_mixed_family(&r) => r.daemons = current.daemons.clone(),
        _ => add_daemons(u, &mut r)?,
    }
    Ok(r)
}
