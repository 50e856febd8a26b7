//! Property tests: any ruleset lvs can hold reads back from its own save (`parse(print(r)) ==
//! r`), and no input text makes the parser panic.

use lvs_core::rules::{SaveOptions, parse, save};
use lvs_core::{
    Destination, Family, Forward, Netmask, Persistence, Protocol, Ruleset, Scheduler, Service,
    ServiceFlags, ServiceKey, Tunnel, TunnelChecksum, VirtualService,
};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Unicast addresses the kernel takes for real servers.
fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    (1u8..=223, any::<u8>(), any::<u8>(), any::<u8>())
        .prop_map(|(a, b, c, d)| Ipv4Addr::new(a, b, c, d))
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    prop_oneof![
        // Global unicast with runs of zeros, which exercise `::` placement.
        (0x2001u16..0x3fff, any::<[bool; 7]>(), any::<[u16; 7]>()).prop_map(|(first, zero, w)| {
            let mut s = [first, 0, 0, 0, 0, 0, 0, 0];
            for i in 0..7 {
                s[i + 1] = if zero[i] { 0 } else { w[i] };
            }
            Ipv6Addr::from(s)
        }),
        // IPv4-compatible addresses, which glibc prints dotted.
        ipv4().prop_map(|a| Ipv6Addr::from(u128::from(u32::from(a)))),
    ]
}

fn ip(family: Family) -> BoxedStrategy<IpAddr> {
    match family {
        Family::Inet => ipv4().prop_map(IpAddr::V4).boxed(),
        Family::Inet6 => ipv6().prop_map(IpAddr::V6).boxed(),
    }
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Inet), Just(Family::Inet6)]
}

fn scheduler() -> impl Strategy<Value = Scheduler> {
    let debian: Vec<Scheduler> = Scheduler::all_known()
        .filter(|s| *s != Scheduler::TwoChoice)
        .collect();
    proptest::sample::select(debian)
}

fn service() -> impl Strategy<Value = Service> {
    let key = family().prop_flat_map(|f| {
        prop_oneof![
            (
                prop_oneof![
                    Just(Protocol::Tcp),
                    Just(Protocol::Udp),
                    Just(Protocol::Sctp)
                ],
                ip(f),
                any::<u16>()
            )
                .prop_map(|(protocol, ip, port)| ServiceKey::Inet {
                    protocol,
                    addr: SocketAddr::new(ip, port)
                }),
            (1u32..).prop_map(move |mark| ServiceKey::FwMark { family: f, mark }),
        ]
    });
    (
        key,
        scheduler(),
        any::<bool>(),
        0u32..8,
        any::<Option<(u32, u8, Ipv4Addr)>>(),
        any::<bool>(),
    )
        .prop_map(|(key, scheduler, ops, sched_bits, persist, pe)| {
            let mut flags = ServiceFlags::from_bits_retain(sched_bits << 3);
            if ops && (key.is_fwmark() || key.protocol() == Protocol::Udp) {
                flags |= ServiceFlags::ONE_PACKET;
            }
            let mut persistence = persist.map(|(t, plen, mask)| Persistence {
                timeout: 1 + t % 2_678_400,
                netmask: match key.family() {
                    Family::Inet => Netmask::V4(mask),
                    Family::Inet6 => Netmask::V6(1 + plen % 128),
                },
            });
            if key.port() == 0 && !key.is_fwmark() && persistence.is_none() {
                persistence = Some(Persistence::new(360, key.family()));
            }
            Service {
                key,
                scheduler,
                flags,
                persistence,
                pe: pe.then(|| "sip".to_owned()),
            }
        })
}

fn tunnel() -> impl Strategy<Value = Tunnel> {
    let csum = prop_oneof![
        Just(TunnelChecksum::None),
        Just(TunnelChecksum::Csum),
        Just(TunnelChecksum::RemCsum)
    ];
    prop_oneof![
        Just(Tunnel::IPIP),
        (1u16.., csum).prop_map(|(port, c)| Tunnel::gue(port, c)),
        prop_oneof![Just(TunnelChecksum::None), Just(TunnelChecksum::Csum)].prop_map(Tunnel::gre),
    ]
}

fn destination(svc: ServiceKey) -> impl Strategy<Value = Destination> {
    let forward = prop_oneof![
        Just(Forward::Masquerade),
        Just(Forward::DirectRoute),
        tunnel().prop_map(Forward::Tunnel),
    ];
    (
        forward,
        any::<bool>(),
        any::<u16>(),
        0..=i32::MAX,
        any::<(u32, u32)>(),
    )
        .prop_flat_map(move |(forward, other_family, port, weight, (a, b))| {
            let tunnel = matches!(forward, Forward::Tunnel(_));
            let f = match (tunnel && other_family, svc.family()) {
                (true, Family::Inet) => Family::Inet6,
                (true, Family::Inet6) => Family::Inet,
                (false, f) => f,
            };
            // ipvsadm forces the service port for -g and -i on address services.
            let port = if !svc.is_fwmark() && forward != Forward::Masquerade {
                svc.port()
            } else {
                port
            };
            let (lower, upper) = (a.min(b) % (i32::MAX as u32), a.max(b) % (i32::MAX as u32));
            let (lower, upper) = (lower.min(upper), upper);
            ip(f).prop_map(move |ip| Destination {
                addr: SocketAddr::new(ip, port),
                forward,
                weight,
                upper_threshold: upper,
                lower_threshold: lower,
            })
        })
}

fn virtual_service() -> impl Strategy<Value = VirtualService> {
    service().prop_flat_map(|service| {
        proptest::collection::vec(destination(service.key), 0..5).prop_map(move |mut dests| {
            let mut seen = std::collections::HashSet::new();
            dests.retain(|d| seen.insert(d.addr));
            VirtualService {
                service: service.clone(),
                destinations: dests,
            }
        })
    })
}

fn ruleset() -> impl Strategy<Value = Ruleset> {
    proptest::collection::vec(virtual_service(), 0..6).prop_map(|mut services| {
        let mut seen = std::collections::HashSet::new();
        services.retain(|vs| seen.insert(vs.service.key));
        Ruleset {
            services,
            ..Ruleset::new()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn save_reads_back(r in ruleset()) {
        for vs in &r.services {
            prop_assert_eq!(vs.service.validate(), Ok(()));
            for d in &vs.destinations {
                prop_assert_eq!(d.validate(&vs.service.key), Ok(()));
            }
        }
        let text = r.to_rules();
        let back = Ruleset::from_rules(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &r, "{}", text);
        // The text itself need not repeat: libipvs's comparison is not a total order for
        // addresses 2^31 apart or of mixed families, so, as with ipvsadm, the printed order of
        // such real servers follows the order they were added in.
    }

    #[test]
    fn ipvsadm_mode_differs_only_where_documented(r in ruleset()) {
        let exact = save(&r, SaveOptions::IPVSADM);
        let lossless = r.to_rules();
        prop_assert_eq!(exact.lines().count(), lossless.lines().count());
        for (e, l) in exact.lines().zip(lossless.lines()) {
            if e != l {
                let thresholds = l.starts_with(e) && (l[e.len()..].starts_with(" -x") || l[e.len()..].starts_with(" -y"));
                let flag3 = l.contains("flag-3") || e.contains("-f -");
                prop_assert!(thresholds || flag3, "{} / {}", e, l);
            }
        }
    }

    #[test]
    fn parser_never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn parser_never_panics_on_option_soup(
        words in proptest::collection::vec(
            prop_oneof![
                Just("-A"), Just("-a"), Just("-e"), Just("-t"), Just("-u"), Just("-f"), Just("-6"),
                Just("-p"), Just("-M"), Just("-r"), Just("-b"), Just("-w"), Just("-x"), Just("-y"),
                Just("--tun-type"), Just("--tun-port"), Just("gue"), Just("10.0.0.1:80"),
                Just("[::1]:80"), Just("sh-port,flag-3"), Just("1"), Just("-1"), Just("--set"),
                Just("--start-daemon"), Just("master"), Just("--mcast-group"), Just("ff02::1"),
                Just("="), Just("--"), Just("-"), Just("ipvsadm"), Just("#"),
            ],
            0..12,
        )
    ) {
        let _ = Ruleset::from_rules(&words.join(" "));
    }
}

/// The object a command touches: a service, or a real server of a service.
fn touched(c: &lvs_core::Command) -> Option<(ServiceKey, Option<SocketAddr>)> {
    use lvs_core::Command::*;
    match c {
        AddService(s) | EditService(s) => Some((s.key, None)),
        DeleteService(k) => Some((*k, None)),
        AddDestination {
            service,
            destination,
        }
        | EditDestination {
            service,
            destination,
        } => Some((*service, Some(destination.addr))),
        DeleteDestination { service, addr } => Some((*service, Some(*addr))),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn plan_turns_current_into_desired(current in ruleset(), desired in ruleset(), overlap in any::<bool>()) {
        // Half the time, let the two share services so that edits happen.
        let desired = if overlap {
            let mut d = current.clone();
            for vs in desired.services {
                if d.service(&vs.service.key).is_none() {
                    d.services.push(vs);
                }
            }
            for vs in d.services.iter_mut().step_by(2) {
                vs.destinations.pop();
                if let Some(first) = vs.destinations.first_mut() {
                    first.weight = first.weight.wrapping_add(1).max(0);
                }
            }
            d
        } else {
            desired
        };
        let plan = lvs_core::plan(&current, &desired, &lvs_core::PlanOptions::default());
        let mut applied = current.clone();
        for step in &plan.steps {
            applied.execute(&step.command).map_err(|e| {
                TestCaseError::fail(format!("{e} at {:?}\n{plan}", step.command))
            })?;
        }
        prop_assert_eq!(&applied, &desired, "{}", plan);
        // Nothing to do the second time.
        prop_assert!(lvs_core::plan(&applied, &desired, &Default::default()).is_empty());
        // No step undoes or repeats another: each object is touched at most once, and nothing
        // touches a real server of a service the plan deletes.
        let mut seen = std::collections::HashSet::new();
        for c in plan.commands() {
            if let Some(obj) = touched(c) {
                prop_assert!(seen.insert(obj), "{:?} touched twice\n{}", obj, plan);
            }
        }
        for c in plan.commands() {
            if let lvs_core::Command::DeleteService(k) = c {
                prop_assert!(!seen.iter().any(|(s, d)| s == k && d.is_some()), "{}", plan);
            }
        }
        // The printed plan reads back as the same commands.
        let reread: Vec<_> = parse(&plan.to_rules()).map_err(|e| TestCaseError::fail(e.to_string()))?
            .into_iter().map(|r| r.command).collect();
        let planned: Vec<_> = plan.commands().cloned().collect();
        prop_assert_eq!(reread, planned);
    }

    #[test]
    fn draining_converges(current in ruleset(), desired in ruleset()) {
        let mut state = current;
        let mut options = lvs_core::PlanOptions { drain: true, ..Default::default() };
        for round in 0..3 {
            let plan = lvs_core::plan(&state, &desired, &options);
            if plan.is_empty() {
                prop_assert_eq!(&state, &desired, "converged to something else after {} rounds", round);
                return Ok(());
            }
            for c in plan.commands() {
                state.execute(c).map_err(|e| TestCaseError::fail(format!("{e}\n{plan}")))?;
            }
            // Every drained real server has finished its connections by the next round.
            options.idle = state.services.iter()
                .flat_map(|vs| vs.destinations.iter().map(move |d| (vs.service.key, d.addr)))
                .collect();
        }
        prop_assert!(false, "no convergence in 3 rounds");
    }
}

// ---------------------------------------------------------------------------------------------
// Rules <-> JSON <-> TOML <-> model, and what `from_rules` accepts passes `validate`.
// ---------------------------------------------------------------------------------------------

use lvs_core::{DaemonRole, KernelProfile, PlanOptions, SyncDaemon, Timeouts};

/// Timeouts as a ruleset may set them (0 keeps the kernel's value).
fn timeouts() -> impl Strategy<Value = Timeouts> {
    let t = prop_oneof![Just(0u32), 1u32..=2_678_400];
    (t.clone(), t.clone(), t).prop_map(|(tcp, tcp_fin, udp)| Timeouts { tcp, tcp_fin, udp })
}

fn daemon(role: DaemonRole) -> impl Strategy<Value = SyncDaemon> {
    let group = prop_oneof![
        (224u8..=239, any::<[u8; 3]>())
            .prop_map(|(a, [b, c, d])| IpAddr::V4(Ipv4Addr::new(a, b, c, d))),
        any::<[u16; 7]>().prop_map(|w| IpAddr::V6(Ipv6Addr::new(
            0xff02, w[0], w[1], w[2], w[3], w[4], w[5], w[6]
        ))),
    ];
    (
        "[a-z][a-z0-9.]{0,14}",
        any::<u8>(),
        proptest::option::of(1u16..=65507),
        proptest::option::of(group),
        proptest::option::of(1u16..),
        proptest::option::of(1u8..),
    )
        .prop_map(
            move |(interface, syncid, maxlen, group, port, ttl)| SyncDaemon {
                role,
                interface,
                syncid,
                maxlen,
                group,
                port,
                ttl,
            },
        )
}

/// [`ruleset`] with timeouts and sync daemons (none beside mixed-family real servers, which
/// the kernel refuses).
fn full_ruleset() -> impl Strategy<Value = Ruleset> {
    (
        ruleset(),
        proptest::option::of(timeouts()),
        proptest::option::of(daemon(DaemonRole::Master)),
        proptest::option::of(daemon(DaemonRole::Backup)),
    )
        .prop_map(|(mut r, timeouts, master, backup)| {
            r.timeouts = timeouts;
            let mixed = r.services.iter().any(|vs| {
                let family = vs.service.key.family();
                vs.destinations.iter().any(|d| d.family() != family)
            });
            if !mixed {
                r.daemons = master.into_iter().chain(backup).collect();
            }
            r
        })
}

/// Every way back to the model gives `r` again: JSON, TOML, and the rule file (whose `--set`
/// lays its values over the kernel's defaults, a 0 keeping the default).
fn check_round_trips(r: &Ruleset) -> Result<(), TestCaseError> {
    r.validate()
        .map_err(|e| TestCaseError::fail(format!("validate: {e}")))?;
    let json = r
        .to_json()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back =
        Ruleset::from_json(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
    prop_assert_eq!(&back, r, "{}", json);
    let toml = r
        .to_toml()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back =
        Ruleset::from_toml(&toml).map_err(|e| TestCaseError::fail(format!("{e}\n{toml}")))?;
    prop_assert_eq!(&back, r, "{}", toml);
    let text = r.to_rule_file();
    let back =
        Ruleset::from_rules(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    let expected = Ruleset {
        timeouts: r.timeouts.map(|t| t.over(Timeouts::KERNEL_DEFAULT)),
        ..r.clone()
    };
    prop_assert_eq!(&back, &expected, "{}", text);
    Ok(())
}

/// An option that is there or not: one of `valid` (values ipvsadm takes) or, one time in 50,
/// one of `invalid` (just past what it takes, or out of place).
fn opt(valid: &'static [&'static str], invalid: &'static [&'static str]) -> BoxedStrategy<String> {
    let invalid = if invalid.is_empty() { valid } else { invalid };
    prop_oneof![
        20 => Just(String::new()),
        29 => proptest::sample::select(valid).prop_map(str::to_owned),
        1 => proptest::sample::select(invalid).prop_map(str::to_owned),
    ]
    .boxed()
}

/// A rule file in ipvsadm's syntax: services, each with its real servers and sometimes an
/// edit or a deletion, then sometimes `--set` and a daemon; one option in 50 is one ipvsadm
/// refuses, so that more than half the files are accepted (175 of 301 in one run).
fn rule_file_text() -> impl Strategy<Value = String> {
    // (service, its family's netmask, the other family's, real servers of its family)
    type Vip = (&'static str, &'static str, &'static str, [&'static str; 3]);
    const VIPS: [Vip; 5] = [
        (
            "-t 10.0.0.1:80",
            "-M 255.255.255.0",
            "-M 64",
            ["10.1.0.1", "10.1.0.2:8080", "10.1.0.3:0"],
        ),
        (
            "-u 10.0.0.1:53 -o",
            "-M 255.255.0.0",
            "-M 64",
            ["10.1.0.1", "10.1.0.2:8080", "10.1.0.3:0"],
        ),
        (
            "-f 1",
            "-M 255.255.255.0",
            "-M 64",
            ["10.1.0.1:80", "10.1.0.2:0", "10.1.0.3:8080"],
        ),
        (
            "--sctp-service [2001:db8::1]:80",
            "-M 64",
            "-M 255.255.255.0",
            ["[2001:db8::7]:80", "[2001:db8::8]:8080", "[2001:db8::9]:0"],
        ),
        (
            "-f 2 -6",
            "-M 128",
            "-M 255.0.0.0",
            ["[2001:db8::7]:80", "[2001:db8::8]:0", "[2001:db8::9]:80"],
        ),
    ];
    let service_options = (
        opt(
            &[
                "-s rr",
                "-s wlc",
                "-s sh -b sh-port,sh-fallback",
                "-s mh -b flag-3",
                "-s dh -b flag-1",
            ],
            &["-s nosuch", "-b flag-4"],
        ),
        opt(&["-p", "-p 1", "-p 2678400"], &["-p 0", "-p 2678401"]),
        prop_oneof![20 => Just(0u8), 29 => Just(1), 1 => Just(2)],
        opt(&["--pe sip"], &["--pe nosuch"]),
    );
    let real_options = (
        opt(
            &[
                "-m",
                "-g",
                "-i",
                "-i --tun-type gue --tun-port 6080 --tun-csum",
                "-i --tun-type gre --tun-nocsum",
            ],
            &[
                "-i --tun-type gue",
                "-m --tun-type gre",
                "-i --tun-type ipip --tun-port 1",
            ],
        ),
        opt(
            &["-w 0", "-w 3", "-w 65535", "-w 2147483647"],
            &["-w 2147483648", "-w -1"],
        ),
        opt(
            &["-x 10 -y 5", "-x 10", "-x 2147483647 -y 2147483647"],
            &["-x 2147483648", "-y 100"],
        ),
    );
    let real = (real_options, 0u8..8);
    let service = (
        0..3usize,
        service_options.clone(),
        proptest::collection::vec(real, 0..=3),
        proptest::option::of(service_options),
        proptest::bool::weighted(0.2),
    );
    let set = opt(
        &["--set 900 120 300", "--set 0 60 0", "--set 2678400 1 1"],
        &["--set 2678401 0 0"],
    );
    let daemon = opt(
        &[
            "--start-daemon master --mcast-interface lo --syncid 3",
            "--start-daemon backup --mcast-interface eth0 --mcast-group ff02::1 --mcast-port 8848",
        ],
        &["--start-daemon master --mcast-interface lo --sync-maxlen 0"],
    );
    (
        0..VIPS.len(),
        proptest::collection::vec(service, 1..4),
        set,
        daemon,
    )
        .prop_map(|(first, services, set, daemon)| {
            let mut lines = Vec::new();
            type Options = (String, String, u8, String);
            let service_line = |cmd: &str, (vip, mask, other, _): Vip, o: Options| {
                let mask = [mask, "", other][usize::from(o.2)];
                format!("{cmd} {vip} {} {} {mask} {}", o.0, o.1, o.3)
            };
            // Distinct services, and distinct real servers in each.
            for (i, (first_real, options, reals, edit, delete)) in services.into_iter().enumerate()
            {
                let v = VIPS[(first + i) % VIPS.len()];
                let vip = v.0.trim_end_matches(" -o");
                lines.push(service_line("-A", v, options));
                for (j, ((forward, weight, thresholds), change)) in reals.into_iter().enumerate() {
                    let real = v.3[(first_real + j) % v.3.len()];
                    lines.push(format!(
                        "-a {vip} -r {real} {forward} {weight} {thresholds}"
                    ));
                    match change {
                        0 => lines.push(format!("-e {vip} -r {real} {forward} -w 3")),
                        1 => lines.push(format!("-d {vip} -r {real}")),
                        _ => {}
                    }
                }
                if let Some(edit) = edit {
                    lines.push(service_line("-E", v, edit));
                }
                if delete {
                    lines.push(format!("-D {vip}"));
                }
            }
            lines.push(set);
            lines.push(daemon);
            lines.join("\n") + "\n"
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// `from_json(to_json(r)) == r`, the same for TOML, and the rule file reads back too.
    #[test]
    fn documents_and_rules_round_trip(r in full_ruleset()) {
        check_round_trips(&r)?;
    }

    /// What `from_rules` accepts passes `validate` and round-trips through every format.
    #[test]
    fn accepted_rules_validate(text in rule_file_text()) {
        if let Ok(r) = Ruleset::from_rules(&text) {
            check_round_trips(&r)?;
        }
    }

    /// `plan(current, desired)` applied by the kernel simulation gives `desired`, with
    /// timeouts and daemons too (they change only when `desired` names them) and with
    /// `keep_unlisted`; a second plan is empty.
    #[test]
    fn plan_reaches_full_rulesets(
        current in full_ruleset(),
        desired in full_ruleset(),
        keep_unlisted in any::<bool>(),
    ) {
        // As a kernel reports it: timeouts always set.
        let current = Ruleset {
            timeouts: Some(current.timeouts.unwrap_or_default().over(Timeouts::KERNEL_DEFAULT)),
            ..current
        };
        let options = PlanOptions { keep_unlisted, ..PlanOptions::default() };
        let mut expected = desired.clone();
        if keep_unlisted {
            expected.services.extend(
                current.services.iter().filter(|vs| desired.service(&vs.service.key).is_none()).cloned(),
            );
        }
        let now = current.timeouts.unwrap_or_default();
        expected.timeouts = Some(desired.timeouts.map_or(now, |t| t.over(now)));
        if desired.daemons.is_empty() {
            expected.daemons = current.daemons.clone();
        }
        // Daemons left alone beside new mixed-family real servers: no kernel holds that, and
        // the plan is not asked to reach it.
        prop_assume!(expected.validate().is_ok());
        let plan = lvs_core::plan(&current, &desired, &options);
        let mut applied = current.clone();
        applied.execute_all(plan.commands(), &KernelProfile::default())
            .map_err(|(i, e)| TestCaseError::fail(format!("step {}: {e}\n{plan}", i + 1)))?;
        prop_assert_eq!(&applied, &expected, "{}", plan);
        let again = lvs_core::plan(&applied, &desired, &options);
        prop_assert!(again.is_empty(), "{}", again);
    }
}

/// Every golden rule file ipvsadm restored cleanly passes `validate` and round-trips.
#[test]
fn golden_rules_validate_and_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/golden") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "rules") {
            continue;
        }
        let status =
            std::fs::read_to_string(path.with_extension("restore-status")).expect("restore-status");
        if status.lines().next() != Some("0") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("rules");
        let r = Ruleset::from_rules(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(e) = check_round_trips(&r) {
            panic!("{}: {e}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} golden rule files");
}
