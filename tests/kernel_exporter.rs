//! `lvsadm exporter` against the real kernel with real traffic: the NAT lab of the seed tutorial
//! (`support::NatLab`), scraped over HTTP and read by Python's prometheus_client parser (Debian's
//! python3-prometheus-client), with every counter checked against the real ipvsadm's
//! `-L -n --stats --exact` and connection counts against `-L -n`, before and after traffic.
//! Run by `tests/harness.sh test`.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{LAB_SERVERS, NatLab, Netns, built_lvsadm, python};

const RULES: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 1
-a -t 10.0.0.13:80 -r 192.168.8.15:80 -m -w 2
-a -t 10.0.0.13:80 -r 192.168.8.16:80 -m -w 3
";

/// argv: URL. Scrapes URL and prints, as JSON, the Content-Type, each family's type and every
/// sample, as prometheus_client's text parser reads them.
const SCRAPE_PY: &str = r#"
import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
with urllib.request.urlopen(sys.argv[1], timeout=10) as answer:
    content_type = answer.headers["Content-Type"]
    text = answer.read().decode()
families, samples = {}, []
for family in text_string_to_metric_families(text):
    families[family.name] = family.type
    samples += [[s.name, s.labels, s.value] for s in family.samples]
print(json.dumps({"content_type": content_type, "families": families, "samples": samples}))
"#;

/// `lvsadm exporter` running in a namespace, killed on drop.
struct Exporter {
    child: Child,
    url: String,
}

impl Exporter {
    fn start(ns: &Netns) -> Exporter {
        let lvsadm = built_lvsadm();
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(&lvsadm)
            .args(["exporter", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lvsadm exporter");
        // Its first line says where it listens: "lvsadm exporter: serving http://ADDR/metrics".
        let mut line = String::new();
        let stderr = child.stderr.take().expect("piped");
        BufReader::new(stderr)
            .read_line(&mut line)
            .expect("read its stderr");
        let url = line
            .trim()
            .strip_prefix("lvsadm exporter: serving ")
            .unwrap_or_else(|| panic!("lvsadm exporter did not start: {line:?}"))
            .to_owned();
        Exporter { child, url }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scrape: `(metric, labels) -> value`, with the families' types checked on the way.
type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

fn scrape(ns: &Netns, url: &str) -> Samples {
    let out = ns.exec_ok(python(), &["-c", SCRAPE_PY, url]);
    let doc: Value = serde_json::from_str(&out.stdout).expect("the scraper prints JSON");
    let content_type = doc["content_type"].as_str().unwrap_or_default();
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    let families = doc["families"].as_object().expect("families");
    for (family, kind) in families {
        let want = if family.ends_with("_bytes")
            || family.ends_with("_packets")
            || family.ends_with("_connections")
        {
            "counter"
        } else {
            "gauge"
        };
        assert_eq!(kind.as_str(), Some(want), "{family}");
    }
    let mut samples = Samples::new();
    for s in doc["samples"].as_array().expect("samples") {
        let name = s[0].as_str().expect("name").to_owned();
        let labels = s[1].as_object().expect("labels");
        let labels = labels
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let value = s[2].as_f64().expect("value");
        assert!(
            samples.insert((name, labels), value).is_none(),
            "a sample twice"
        );
    }
    samples
}

fn labels(remote: Option<&str>) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = [
        ("proto", "TCP"),
        ("local_address", "10.0.0.13"),
        ("local_port", "80"),
        ("local_mark", ""),
        ("family", "inet"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Some(addr) = remote {
        labels.insert("remote_address".to_owned(), addr.to_owned());
        labels.insert("remote_port".to_owned(), "80".to_owned());
    }
    labels
}

fn value(samples: &Samples, name: &str, remote: Option<&str>) -> f64 {
    sample(samples, name, labels(remote))
}

fn sample(samples: &Samples, name: &str, labels: BTreeMap<String, String>) -> f64 {
    let key = (name.to_owned(), labels);
    *samples
        .get(&key)
        .unwrap_or_else(|| panic!("no {key:?} in {:#?}", samples.keys()))
}

/// The real ipvsadm's numbers for the service (`None`) or a real server: the five columns of
/// `-L -n --stats --exact` and ActiveConn, InActConn of `-L -n`.
fn ipvsadm_numbers(ns: &Netns) -> BTreeMap<Option<String>, Vec<u64>> {
    let stats = ns.ipvsadm_ok(&["-L", "-n", "--stats", "--exact"]).stdout;
    let conns = ns.ipvsadm_ok(&["-L", "-n"]).stdout;
    let rows = |text: &str, columns: std::ops::Range<usize>| -> Vec<(Option<String>, Vec<u64>)> {
        text.lines()
            .filter_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let who = match f.first() {
                    Some(&"TCP") => None,
                    Some(&"->") if f.get(1).is_some_and(|a| a.starts_with("192.")) => {
                        Some(f[1].trim_end_matches(":80").to_owned())
                    }
                    _ => return None,
                };
                let numbers = f
                    .get(columns.clone())?
                    .iter()
                    .map(|n| n.parse().unwrap())
                    .collect();
                Some((who, numbers))
            })
            .collect()
    };
    let mut numbers: BTreeMap<Option<String>, Vec<u64>> = rows(&stats, 2..7).into_iter().collect();
    for (who, c) in rows(&conns, 4..6) {
        if who.is_some() {
            numbers
                .get_mut(&who)
                .expect("a real server of both listings")
                .extend(c);
        }
    }
    numbers
}

/// The exporter's numbers in the same order as [`ipvsadm_numbers`].
fn exporter_numbers(samples: &Samples) -> BTreeMap<Option<String>, Vec<u64>> {
    let mut numbers = BTreeMap::new();
    let who =
        std::iter::once(None).chain(LAB_SERVERS.iter().map(|s| Some(format!("192.168.8.{s}"))));
    for remote in who {
        let level = if remote.is_some() {
            "backend"
        } else {
            "service"
        };
        let mut row: Vec<u64> = [
            "connections_total",
            "incoming_packets_total",
            "outgoing_packets_total",
            "incoming_bytes_total",
            "outgoing_bytes_total",
        ]
        .iter()
        .map(|m| value(samples, &format!("ipvs_{level}_{m}"), remote.as_deref()) as u64)
        .collect();
        if remote.is_some() {
            for m in ["connections_active", "connections_inactive"] {
                row.push(value(samples, &format!("ipvs_backend_{m}"), remote.as_deref()) as u64);
            }
        }
        numbers.insert(remote, row);
    }
    numbers
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn exporter_counts_real_traffic_as_ipvsadm_does() {
    let lab = NatLab::new();
    let ipvs = lvs::Ipvs::in_netns(lab.director_path()).expect("open the director's IPVS");
    let desired = lvs::Ruleset::from_rules(RULES).expect("rules");
    let report = ipvs.apply(&desired, &Default::default()).expect("apply");
    assert!(report.is_success(), "{report}");
    let exporter = Exporter::start(&lab.director);

    let before = scrape(&lab.director, &exporter.url);
    assert_eq!(sample(&before, "ipvs_up", BTreeMap::new()), 1.0);
    assert_eq!(value(&before, "ipvs_service_connections_total", None), 0.0);
    for (s, weight) in LAB_SERVERS.iter().zip([1.0, 2.0, 3.0]) {
        let real = format!("192.168.8.{s}");
        assert_eq!(value(&before, "ipvs_backend_weight", Some(&real)), weight);
    }

    // Nine requests, round robin over three: three connections each.
    for _ in 0..9 {
        let answer = lab.client.curl("http://10.0.0.13/", None);
        assert!(
            answer.is_some_and(|a| a.starts_with("rs")),
            "a request failed"
        );
    }
    std::thread::sleep(Duration::from_secs(1));
    let after = scrape(&lab.director, &exporter.url);
    assert_eq!(value(&after, "ipvs_service_connections_total", None), 9.0);
    for s in LAB_SERVERS {
        let real = format!("192.168.8.{s}");
        assert_eq!(
            value(&after, "ipvs_backend_connections_total", Some(&real)),
            3.0
        );
        let bytes_out = value(&after, "ipvs_backend_outgoing_bytes_total", Some(&real));
        assert!(bytes_out > 0.0, "no bytes out of {real}");
    }
    // Every counter and connection count as the real ipvsadm lists them.
    assert_eq!(exporter_numbers(&after), ipvsadm_numbers(&lab.director));

    // Weights follow a change made through lvs.
    let drained = RULES.replace("192.168.8.16:80 -m -w 3", "192.168.8.16:80 -m -w 0");
    let desired = lvs::Ruleset::from_rules(&drained).expect("rules");
    let report = ipvs.apply(&desired, &Default::default()).expect("apply");
    assert!(report.is_success(), "{report}");
    let last = scrape(&lab.director, &exporter.url);
    assert_eq!(
        value(&last, "ipvs_backend_weight", Some("192.168.8.16")),
        0.0
    );
    let duration = sample(&last, "ipvs_scrape_duration_seconds", BTreeMap::new());
    assert!(duration > 0.0 && duration < 10.0, "{duration}");
}
