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
            applied.apply(&step.command).map_err(|e| {
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
                state.apply(c).map_err(|e| TestCaseError::fail(format!("{e}\n{plan}")))?;
            }
            // Every drained real server has finished its connections by the next round.
            options.idle = state.services.iter()
                .flat_map(|vs| vs.destinations.iter().map(move |d| (vs.service.key, d.addr)))
                .collect();
        }
        prop_assert!(false, "no convergence in 3 rounds");
    }
}
