//! The Rust API's side of the benchmark (`tests/harness.sh bench`, driven by
//! `tests/bench/run.py`): one operation per process, so that the driver measures its wall time
//! and its user/system CPU time from the outside, like every other implementation's.
//!
//! ```text
//! bench restore FILE      parse an ipvsadm rule file, send every rule as one pipelined batch
//! bench one-by-one FILE   the same, one request and one ack at a time (Ipvs::apply)
//! bench snapshot          read every service and real server with their counters
//! bench apply FILE        bring the kernel to FILE with the fewest changes (Ipvs::apply_ruleset)
//! ```
//!
//! Each prints one line of `key=value` pairs on standard output: the number of objects or
//! changes (the driver checks it) and where the time went inside the process (`*_ms`). It exits
//! non-zero if anything failed. Run it as root in a network namespace of a kernel with IPVS,
//! with `lo` up (without any route the kernel refuses real servers as "not unicast"):
//!
//! ```text
//! cargo build --release -p lvs-netlink --example bench
//! tests/harness.sh exec -- unshare -n sh -c 'ip link set lo up && target/release/examples/bench snapshot'
//! ```
//!
//! Timings in the VM are emulated: compare ratios within one boot, never absolute times.

use lvs_core::{Command, Ruleset};
use lvs_netlink::{ApplyOptions, Ipvs};
use std::process::ExitCode;
use std::time::Instant;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn parse(text: &str, path: &str) -> Result<Vec<Command>, String> {
    let rules = lvs_core::rules::parse(text).map_err(|e| format!("{path}:{e}"))?;
    Ok(rules.into_iter().map(|r| r.command).collect())
}

fn restore(path: &str, one_by_one: bool) -> Result<String, String> {
    let t = Instant::now();
    let text = read(path)?;
    let commands = parse(&text, path)?;
    let parse_ms = ms(t);
    let t = Instant::now();
    let ipvs = Ipvs::new().map_err(|e| e.to_string())?;
    let open_ms = ms(t);
    let t = Instant::now();
    let failed: Vec<String> = if one_by_one {
        commands
            .iter()
            .filter_map(|c| ipvs.apply(c).err().map(|e| format!("{c:?}: {e}")))
            .collect()
    } else {
        commands
            .iter()
            .zip(ipvs.batch(&commands))
            .filter_map(|(c, r)| r.err().map(|e| format!("{c:?}: {e}")))
            .collect()
    };
    let send_ms = ms(t);
    if let Some(first) = failed.first() {
        return Err(format!(
            "{} of {} failed, first: {first}",
            failed.len(),
            commands.len()
        ));
    }
    Ok(format!(
        "ops={} parse_ms={parse_ms:.1} open_ms={open_ms:.1} send_ms={send_ms:.1}",
        commands.len()
    ))
}

fn snapshot() -> Result<String, String> {
    let t = Instant::now();
    let ipvs = Ipvs::new().map_err(|e| e.to_string())?;
    let open_ms = ms(t);
    let t = Instant::now();
    let snap = ipvs.snapshot().map_err(|e| e.to_string())?;
    let read_ms = ms(t);
    Ok(format!(
        "objects={} stats={} open_ms={open_ms:.1} read_ms={read_ms:.1}",
        snap.object_count(),
        snap.service_state.len() + snap.destination_state.len()
    ))
}

fn apply(path: &str) -> Result<String, String> {
    let t = Instant::now();
    let text = read(path)?;
    let desired = Ruleset::from_rules(&text).map_err(|e| format!("{path}:{e}"))?;
    let parse_ms = ms(t);
    let ipvs = Ipvs::new().map_err(|e| e.to_string())?;
    let t = Instant::now();
    let report = ipvs
        .apply_ruleset(&desired, &ApplyOptions::default())
        .map_err(|e| e.to_string())?;
    let apply_ms = ms(t);
    if !report.is_success() {
        return Err(format!("apply failed:\n{report}"));
    }
    Ok(format!(
        "changes={} parse_ms={parse_ms:.1} apply_ms={apply_ms:.1}",
        report.plan.len()
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["restore", path] => restore(path, false),
        ["one-by-one", path] => restore(path, true),
        ["snapshot"] => snapshot(),
        ["apply", path] => apply(path),
        _ => Err("usage: bench restore FILE | one-by-one FILE | snapshot | apply FILE".into()),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
