//! The Prometheus exporter (`lvs::exporter`, `lvsadm exporter`) against the fake kernel: every
//! counter in its place with its labels, the HTTP answers, a failed scrape. The same against the
//! real kernel with real traffic, read by Python's prometheus_client parser:
//! tests/kernel_exporter.rs.

use lvs::exporter::{CONTENT_TYPE, Exporter, encode};
use lvs::netlink::fake::{FakeKernel, Fault};
use lvs::{DestinationState, Operation, Ruleset, ServiceKey, ServiceState, Stats};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const RULES: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.2:80 -m -w 3
-a -t 10.0.0.1:80 -r 192.168.1.3:8080 -m -w 0
-A -u [2001:db8::1]:53 -s wlc
-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -g -w 1
-A -f 10 -s sh
-a -f 10 -r 192.168.1.4:0 -g -w 2
-A -f 10 -6 -s sh
-a -f 10 -6 -r [2001:db8::4]:0 -g -w 2
";

/// A fake kernel holding RULES, and counters that differ in every field.
fn kernel() -> FakeKernel {
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let desired = Ruleset::from_rules(RULES).unwrap();
    ipvs.apply(&desired, &Default::default()).unwrap();
    let web = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
    let stats = |base: u64| Stats {
        conns: base + 1,
        inpkts: base + 2,
        outpkts: base + 3,
        inbytes: base + 4,
        outbytes: base + 5,
        cps: base + 6,
        inpps: base + 7,
        outpps: base + 8,
        inbps: base + 9,
        outbps: base + 10,
    };
    let service = ServiceState {
        stats: stats(1 << 40),
        internal_flags: 0,
    };
    assert!(kernel.set_service_state(&web, service));
    let real = DestinationState {
        active_conns: 7,
        inactive_conns: 8,
        persistent_conns: 9,
        stats: stats(100),
    };
    assert!(kernel.set_destination_state(&web, &"192.168.1.2:80".parse().unwrap(), real));
    kernel
}

const WEB: &str =
    r#"proto="TCP",local_address="10.0.0.1",local_port="80",local_mark="",family="inet""#;
const REAL: &str = r#"remote_address="192.168.1.2",remote_port="80""#;

#[test]
fn every_counter_of_a_service_and_a_real_server_with_its_labels() {
    let text = encode(kernel().ipvs().unwrap().snapshot().unwrap(), Instant::now()).unwrap();
    let base = 1u64 << 40;
    let names = [
        "connections_total",
        "incoming_packets_total",
        "outgoing_packets_total",
        "incoming_bytes_total",
        "outgoing_bytes_total",
        "connections_per_second",
        "incoming_packets_per_second",
        "outgoing_packets_per_second",
        "incoming_bytes_per_second",
        "outgoing_bytes_per_second",
    ];
    for (i, name) in (1u64..).zip(names) {
        let service = format!("ipvs_service_{name}{{{WEB}}} {}\n", base + i);
        assert!(text.contains(&service), "no {service:?} in\n{text}");
        let backend = format!("ipvs_backend_{name}{{{WEB},{REAL}}} {}\n", 100 + i);
        assert!(text.contains(&backend), "no {backend:?} in\n{text}");
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let family = name.trim_end_matches("_total");
        for level in ["service", "backend"] {
            let line = format!("# TYPE ipvs_{level}_{family} {kind}\n");
            let line = line.replace(
                &format!("{family} counter"),
                &format!("{family}_total counter"),
            );
            assert!(text.contains(&line), "no {line:?} in\n{text}");
        }
    }
    for (name, value) in [
        ("weight", 3),
        ("connections_active", 7),
        ("connections_inactive", 8),
        ("connections_persistent", 9),
    ] {
        let line = format!("ipvs_backend_{name}{{{WEB},{REAL}}} {value}\n");
        assert!(text.contains(&line), "no {line:?} in\n{text}");
    }
    // A drained real server is still listed, with weight 0 and counters at zero.
    let drained = format!(
        "ipvs_backend_weight{{{WEB},remote_address=\"192.168.1.3\",remote_port=\"8080\"}} 0\n"
    );
    assert!(text.contains(&drained), "{text}");
    for line in ["ipvs_services 4\n", "ipvs_backends 5\n", "ipvs_up 1\n"] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}

#[test]
fn ipv6_and_both_families_of_one_mark_are_told_apart() {
    let text = encode(kernel().ipvs().unwrap().snapshot().unwrap(), Instant::now()).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("ipvs_backend_weight{"))
        .collect();
    for want in [
        r#"ipvs_backend_weight{proto="UDP",local_address="2001:db8::1",local_port="53",local_mark="",family="inet6",remote_address="2001:db8::2",remote_port="53"} 1"#,
        r#"ipvs_backend_weight{proto="FWM",local_address="",local_port="0",local_mark="10",family="inet",remote_address="192.168.1.4",remote_port="0"} 2"#,
        r#"ipvs_backend_weight{proto="FWM",local_address="",local_port="0",local_mark="10",family="inet6",remote_address="2001:db8::4",remote_port="0"} 2"#,
    ] {
        assert!(lines.contains(&want), "no {want} in {lines:#?}");
    }
    // No two samples of one metric share their labels.
    let samples: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    let mut unique = samples.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), samples.len());
}

/// One HTTP/1.0 request to the exporter, answered by `serve_one` on this thread.
fn get(exporter: &Exporter, method: &str, path: &str) -> String {
    let at: SocketAddr = exporter.local_addr().unwrap();
    let request = format!("{method} {path} HTTP/1.0\r\nHost: lvs\r\n\r\n");
    let client = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(at).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    });
    let served = exporter
        .serve_one(Duration::from_secs(10), |e| panic!("scrape failed: {e}"))
        .unwrap();
    assert!(served, "no request came");
    client.join().unwrap()
}

#[test]
fn serves_metrics_over_http_and_refuses_other_paths() {
    let kernel = kernel();
    let exporter = Exporter::bind("127.0.0.1:0".parse().unwrap(), kernel.ipvs().unwrap()).unwrap();
    let answer = get(&exporter, "GET", "/metrics");
    assert!(answer.starts_with("HTTP/1.0 200 "), "{answer}");
    assert!(
        answer.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")),
        "{answer}"
    );
    let backend = format!("ipvs_backend_connections_active{{{WEB},{REAL}}} 7\n");
    assert!(answer.contains(&backend), "{answer}");
    assert!(
        answer.contains("\nipvs_scrape_duration_seconds "),
        "{answer}"
    );
    // One snapshot per scrape: the services, the real servers and the info.
    kernel.clear_requests();
    get(&exporter, "GET", "/metrics?x=1");
    let dumps = kernel
        .requests()
        .into_iter()
        .filter(|op| *op == Operation::GetServices)
        .count();
    assert_eq!(dumps, 1);
    let page = get(&exporter, "GET", "/");
    assert!(
        page.starts_with("HTTP/1.0 200 ") && page.contains("href=\"/metrics\""),
        "{page}"
    );
    assert!(get(&exporter, "GET", "/nothing").starts_with("HTTP/1.0 404 "));
    assert!(get(&exporter, "POST", "/metrics").starts_with("HTTP/1.0 405 "));
}

#[test]
fn a_scrape_that_cannot_read_the_table_says_ipvs_up_0() {
    let kernel = kernel();
    let ipvs = kernel.ipvs().unwrap();
    ipvs.set_reply_timeout(Duration::from_millis(100));
    let exporter = Exporter::bind("127.0.0.1:0".parse().unwrap(), ipvs).unwrap();
    kernel.inject(Operation::GetServices, Fault::Refuse(libc::EPERM));
    let at = exporter.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(at).unwrap();
        stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    });
    let mut errors = Vec::new();
    assert!(
        exporter
            .serve_one(Duration::from_secs(10), |e| errors.push(e.to_string()))
            .unwrap()
    );
    let answer = client.join().unwrap();
    assert!(answer.starts_with("HTTP/1.0 200 "), "{answer}");
    assert!(answer.contains("\nipvs_up 0\n"), "{answer}");
    assert!(!answer.contains("ipvs_backend_"), "{answer}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("CAP_NET_ADMIN"), "{errors:?}");
    // The next scrape, with the kernel answering again, is whole.
    kernel.clear_faults();
    assert!(get(&exporter, "GET", "/metrics").contains("\nipvs_up 1\n"));
}

#[test]
fn lvsadm_exporter_says_why_it_cannot_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lvsadm"))
        .args([
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--netns",
            "lvs-no-such-netns",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("lvsadm exporter: ") && err.contains("lvs-no-such-netns"),
        "{err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lvsadm"))
        .args(["exporter", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_exporter_can_serve_from_a_thread_of_its_own() {
    fn send<T: Send>(_: &T) {}
    let kernel = kernel();
    let exporter = Exporter::bind("127.0.0.1:0".parse().unwrap(), kernel.ipvs().unwrap()).unwrap();
    send(&exporter);
    let at = exporter.local_addr().unwrap();
    let server =
        std::thread::spawn(move || exporter.serve_one(Duration::from_secs(10), |_| {}).unwrap());
    let mut stream = TcpStream::connect(at).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(server.join().unwrap());
    assert!(answer.contains("\nipvs_services 4\n"), "{answer}");
}
