//! The main job: the LVS tutorial's NAT practice, rebuilt through lvs only.
//!
//! A client, a director with the VIP 10.0.0.13 and three real servers 192.168.8.14-16 answering
//! HTTP with their own names, each in its own network namespace. lvs applies a round-robin NAT
//! service and the client's requests spread evenly; lvs then applies the weighted variant
//! (3:1:1) in place, without dropping a connection, and the split follows the weights. The
//! demo ends with the statistics listing.
//!
//! Run it with `tests/harness.sh demo` (it boots a kernel with IPVS when this one has none), or
//! as root in a fresh network namespace of a kernel with IPVS:
//! `unshare --net --mount -- cargo run --example demo`.

// The lab of the kernel tests: namespaces, veth pairs, the HTTP servers.
#[path = "../../tests/support/mod.rs"]
mod support;

use lvs::Ruleset;
use lvs::ipvsadm::Format;
use lvs::ipvsadm::list::NoNames;
use lvs::netlink::{ApplyOptions, Ipvs};
use std::collections::BTreeMap;
use std::process::ExitCode;
use support::{LAB_SERVERS, NatLab};

const ROUND_ROBIN: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.16 -m
";

const WEIGHTED: &str = "-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15 -m -w 1
-a -t 10.0.0.13:80 -r 192.168.8.16 -m -w 1
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(text: &str) {
    println!("\n== {text}");
}

/// `n` requests from the client through the VIP, each a new connection; the answers counted.
fn requests(lab: &NatLab, n: u16, first_port: u16) -> Result<BTreeMap<String, usize>, String> {
    let mut counts = BTreeMap::new();
    for i in 0..n {
        let answer = lab
            .client
            .curl("http://10.0.0.13/", Some(first_port + i))
            .ok_or_else(|| format!("request {i} through the VIP failed"))?;
        *counts.entry(answer).or_insert(0) += 1;
    }
    for s in LAB_SERVERS {
        let name = format!("rs{s}");
        let got = counts.get(&name).copied().unwrap_or(0);
        println!(
            "   {name} (192.168.8.{s})  {:<12} {got}",
            "#".repeat(got * 2)
        );
    }
    Ok(counts)
}

fn apply(ipvs: &Ipvs, rules: &str) -> Result<(), String> {
    let desired = Ruleset::from_rules(rules).map_err(|e| e.to_string())?;
    let report = ipvs
        .apply_ruleset(&desired, &ApplyOptions::default())
        .map_err(|e| e.to_string())?;
    print!("{}", indent(&report.to_string()));
    if report.is_success() {
        Ok(())
    } else {
        Err("the apply failed".into())
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}

fn run() -> Result<(), String> {
    step("building the lab: client 10.0.0.12, director 10.0.0.13, real servers 192.168.8.14-16");
    let lab = NatLab::new();
    let ipvs = Ipvs::in_netns(lab.director_path()).map_err(|e| e.to_string())?;
    let info = ipvs.info().map_err(|e| e.to_string())?;
    println!(
        "   IPVS {} in the director's namespace, {} connection buckets",
        info.version, info.conn_table_size
    );

    step("lvs applies the NAT service, round robin (ipvsadm -A -t 10.0.0.13:80 -s rr; -a ... -m)");
    apply(&ipvs, ROUND_ROBIN)?;
    step("9 requests from the client to http://10.0.0.13/");
    requests(&lab, 9, 40000)?;

    step("lvs applies the weighted variant 3:1:1: edited in place, nothing deleted");
    apply(&ipvs, WEIGHTED)?;
    step("10 requests");
    requests(&lab, 10, 41000)?;

    step("the same ruleset again: nothing to send");
    let desired = Ruleset::from_rules(WEIGHTED).map_err(|e| e.to_string())?;
    let again = ipvs
        .plan_ruleset(&desired, &ApplyOptions::default())
        .map_err(|e| e.to_string())?;
    println!("   {} change(s)", again.len());

    step("lvsadm -Ln --stats");
    // The kernel folds its per-CPU counters into the totals every two seconds.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let snapshot = ipvs.snapshot().map_err(|e| e.to_string())?;
    let format = Format {
        stats: true,
        numeric: true,
        ..Format::default()
    };
    print!("{}", indent(&snapshot.table(info).list(&format, &NoNames)));
    Ok(())
}
