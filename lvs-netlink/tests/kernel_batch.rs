//! The pipelined batch API at scale: 10,000 services with 4 real servers each.

mod support;

use lvs_core::{Command, Destination, Forward, Service, ServiceKey};
use std::net::SocketAddr;
use support::*;

const SERVICES: u32 = 10_000;
const DESTS: u32 = 4;

fn vip(i: u32) -> SocketAddr {
    format!("10.{}.{}.1:80", i >> 8, i & 0xff).parse().unwrap()
}

fn commands() -> Vec<Command> {
    let mut out = Vec::new();
    for i in 0..SERVICES {
        let key = ServiceKey::tcp(vip(i));
        out.push(Command::AddService(
            Service::new(key).with_scheduler(if i % 2 == 0 { "rr" } else { "wlc" }),
        ));
        for d in 0..DESTS {
            let addr: SocketAddr = format!("192.168.{}.{}:8080", d, i % 250 + 1)
                .parse()
                .unwrap();
            out.push(Command::AddDestination {
                service: key,
                destination: Destination::new(addr)
                    .with_forward(Forward::Masquerade)
                    .with_weight(i32::try_from(d).unwrap() + 1),
            });
        }
    }
    out
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn ten_thousand_services_with_four_destinations() {
    let ipvs = ipvs();
    let commands = commands();
    let results = ipvs.batch(&commands);
    assert_eq!(results.len(), commands.len());
    for (c, r) in commands.iter().zip(&results) {
        if let Err(e) = r {
            panic!("{c:?}: {e}");
        }
    }
    let snap = ipvs.snapshot().expect("snapshot");
    assert_eq!(snap.ruleset.services.len(), SERVICES as usize);
    assert_eq!(snap.object_count(), (SERVICES * (1 + DESTS)) as usize);
    let mut want = lvs_core::Ruleset::new();
    want.execute_all(&commands, &lvs_core::KernelProfile::default())
        .expect("the model takes it");
    assert_eq!(
        snap.services(),
        want,
        "lvs reads back exactly what the batch wrote"
    );
    // Spot checks with the reference tool.
    let save = ipvsadm_save();
    assert_eq!(save.lines().count(), (SERVICES * (1 + DESTS)) as usize);
    for i in [0, 1, 4321, SERVICES - 1] {
        let v = vip(i).to_string();
        let out = run_ok("ipvsadm", &["-L", "-n", "-t", &v], None);
        assert_eq!(
            out.matches("  -> 192.168.").count(),
            DESTS as usize,
            "{out}"
        );
        let want = format!("  -> 192.168.3.{}:8080", i % 250 + 1);
        let line = out
            .lines()
            .find(|l| l.starts_with(&want))
            .unwrap_or_else(|| panic!("{want} in {out}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&fields[2..4], ["Masq", "4"], "{line}");
        // The save line as ipvsadm writes it is in the whole save.
        assert!(
            save.contains(&format!(
                "-a -t {v} -r 192.168.3.{}:8080 -m -w 4\n",
                i % 250 + 1
            )),
            "{v}"
        );
    }
    // A second batch that fails half-way keeps going and reports each result on its own.
    let key = ServiceKey::tcp(vip(0));
    let mixed = [
        Command::AddService(Service::new(key)),
        Command::DeleteService(ServiceKey::tcp(vip(1))),
        Command::DeleteService(ServiceKey::tcp(vip(1))),
        Command::Flush,
    ];
    let r = ipvs.batch(&mixed);
    assert!(
        r[0].is_err() && r[1].is_ok() && r[2].is_err() && r[3].is_ok(),
        "{r:?}"
    );
    assert!(ipvs.services().expect("services").is_empty());
}

/// Only a datagram's last request asks for an ack, so refusals in the middle and at the end
/// must still come back each to its own command, and the silent successes must be real.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn refusals_come_back_to_their_own_commands() {
    use lvs_core::RefusalKind;
    let ipvs = ipvs();
    let a = ServiceKey::tcp(vip(1));
    let b = ServiceKey::tcp(vip(2));
    let dest =
        Destination::new("192.168.0.1:8080".parse().unwrap()).with_forward(Forward::Masquerade);
    let batch = [
        Command::AddService(Service::new(a)),
        Command::AddService(Service::new(a)),
        Command::AddDestination {
            service: a,
            destination: dest,
        },
        Command::DeleteService(b),
        Command::AddService(Service::new(b).with_scheduler("nosuchsched")),
        Command::AddService(Service::new(b)),
        Command::AddDestination {
            service: b,
            destination: dest,
        },
        Command::AddDestination {
            service: b,
            destination: dest,
        },
    ];
    let kinds: Vec<Option<RefusalKind>> = ipvs
        .batch(&batch)
        .iter()
        .map(|r| {
            r.as_ref()
                .err()
                .map(|e| e.refusal().expect("a kernel refusal").kind())
        })
        .collect();
    assert_eq!(
        kinds,
        [
            None,
            Some(RefusalKind::ServiceExists),
            None,
            Some(RefusalKind::NoSuchService),
            Some(RefusalKind::SchedulerNotFound),
            None,
            None,
            Some(RefusalKind::DestinationExists),
        ]
    );
    // What the accepted commands alone build, read by ipvsadm.
    let mut accepted = lvs_core::Ruleset::new();
    for i in [0, 2, 5, 6] {
        accepted
            .execute(&batch[i])
            .expect("accepted by the kernel, so by the model");
    }
    assert_eq!(accepted.object_count(), 4);
    assert_eq!(ipvsadm_save(), expected_save(&accepted));
}
