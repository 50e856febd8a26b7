//! The Rust API's side of the benchmark (`tests/harness.sh bench`, driven by
//! `tests/bench/run.py`): one operation per process, so that the driver measures its wall time
//! and its user/system CPU time from the outside, like every other implementation's.
//!
//! ```text
//! bench restore FILE      parse an ipvsadm rule file, send every rule as one pipelined batch
//! bench one-by-one FILE   the same, one request and one ack at a time (Ipvs::execute)
//! bench snapshot          read every service and real server with their counters
//! bench services          read every service (one dump, no real servers)
//! bench proc              read /proc/net/ip_vs whole (every service and real server, one file)
//! bench apply FILE        bring the kernel to FILE with the fewest changes (Ipvs::apply)
//! bench reconcile FROM TO [ROUNDS [partial]]
//!                         a Reconciler on a kernel holding FROM (read once, untimed by the
//!                         driver's in-process clock: read_ms) applies TO, FROM, TO, ... ROUNDS
//!                         times (default 1); apply_ms is the median apply, first_ms the first.
//!                         With `partial`, each apply names only the services that differ
//!                         between FROM and TO (found before the clock starts), with
//!                         keep_unlisted: what a health checker that changed one service sends
//!                         With LVS_BENCH_PAUSE set, it says `read` on standard error after
//!                         its first read and waits for a line on standard input (so that a
//!                         counter of netlink requests can start between the two)
//! bench async-restore FILE | async-one-by-one FILE | async-snapshot
//!                         restore, one-by-one and snapshot through AsyncIpvs (feature tokio) on
//!                         a current-thread runtime made before the clock starts
//! bench reconcile-fake FROM TO [ROUNDS [partial]]
//!                         the same against the in-memory fake kernel (no root, no IPVS): the
//!                         Reconciler's own cost, and the requests it sent (reads counted apart)
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
use lvs_netlink::fake::FakeKernel;
use lvs_netlink::{ApplyOptions, AsyncIpvs, Ipvs, Reconciler, Snapshot};
use std::process::ExitCode;
use std::time::Instant;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn open() -> Result<Ipvs, String> {
    Ipvs::new().map_err(|e| e.to_string())
}

/// The commands of the rule file at `path`, and how long reading and parsing it took (ms;
/// freeing the file's text is not counted).
fn commands(path: &str) -> Result<(Vec<Command>, f64), String> {
    let t = Instant::now();
    let text = read(path)?;
    let rules = lvs_core::rules::parse(&text).map_err(|e| format!("{path}:{e}"))?;
    let commands = rules.into_iter().map(|r| r.command).collect();
    let parse_ms = ms(t);
    Ok((commands, parse_ms))
}

/// The line `restore` and `async-restore` print.
fn restore_line(ops: usize, parse_ms: f64, open_ms: f64, send_ms: f64) -> String {
    format!("ops={ops} parse_ms={parse_ms:.1} open_ms={open_ms:.1} send_ms={send_ms:.1}")
}

/// The line `snapshot` and `async-snapshot` print.
fn snapshot_line(snap: &Snapshot, open_ms: f64, read_ms: f64) -> String {
    format!(
        "objects={} stats={} open_ms={open_ms:.1} read_ms={read_ms:.1}",
        snap.object_count(),
        snap.service_state.len() + snap.destination_state.len()
    )
}

fn restore(path: &str, one_by_one: bool) -> Result<String, String> {
    let (commands, parse_ms) = commands(path)?;
    let t = Instant::now();
    let ipvs = open()?;
    let open_ms = ms(t);
    let t = Instant::now();
    let failed: Vec<String> = if one_by_one {
        commands
            .iter()
            .filter_map(|c| ipvs.execute(c).err().map(|e| format!("{c:?}: {e}")))
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
    Ok(restore_line(commands.len(), parse_ms, open_ms, send_ms))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

fn async_restore(path: &str, one_by_one: bool) -> Result<String, String> {
    let rt = runtime()?;
    let (commands, parse_ms) = commands(path)?;
    rt.block_on(async {
        let t = Instant::now();
        let ipvs = AsyncIpvs::new().await.map_err(|e| e.to_string())?;
        let open_ms = ms(t);
        let t = Instant::now();
        let results = if one_by_one {
            let mut out = Vec::with_capacity(commands.len());
            for c in &commands {
                out.push(ipvs.execute(c).await);
            }
            out
        } else {
            ipvs.batch(&commands).await
        };
        let send_ms = ms(t);
        if let Some((c, Err(e))) = commands.iter().zip(&results).find(|(_, r)| r.is_err()) {
            return Err(format!("{c:?}: {e}"));
        }
        Ok(restore_line(commands.len(), parse_ms, open_ms, send_ms))
    })
}

fn async_snapshot() -> Result<String, String> {
    let rt = runtime()?;
    rt.block_on(async {
        let t = Instant::now();
        let ipvs = AsyncIpvs::new().await.map_err(|e| e.to_string())?;
        let open_ms = ms(t);
        let t = Instant::now();
        let snap = ipvs.snapshot().await.map_err(|e| e.to_string())?;
        Ok(snapshot_line(&snap, open_ms, ms(t)))
    })
}

fn snapshot() -> Result<String, String> {
    let t = Instant::now();
    let ipvs = open()?;
    let open_ms = ms(t);
    let t = Instant::now();
    let snap = ipvs.snapshot().map_err(|e| e.to_string())?;
    Ok(snapshot_line(&snap, open_ms, ms(t)))
}

fn services() -> Result<String, String> {
    let ipvs = open()?;
    let t = Instant::now();
    let services = ipvs.services().map_err(|e| e.to_string())?;
    let read_ms = ms(t);
    Ok(format!("services={} read_ms={read_ms:.1}", services.len()))
}

fn proc() -> Result<String, String> {
    let t = Instant::now();
    let text = read("/proc/net/ip_vs")?;
    let read_ms = ms(t);
    // Services start in the first column, real servers with "  ->"; three lines of heading.
    let lines = text.lines().skip(3);
    let (mut services, mut dests) = (0, 0);
    for line in lines {
        if line.starts_with("  ->") {
            dests += 1;
        } else if !line.is_empty() {
            services += 1;
        }
    }
    Ok(format!(
        "objects={} services={services} read_ms={read_ms:.1} bytes={}",
        services + dests,
        text.len()
    ))
}

fn apply(path: &str) -> Result<String, String> {
    let t = Instant::now();
    let text = read(path)?;
    let desired = Ruleset::from_rules(&text).map_err(|e| format!("{path}:{e}"))?;
    let parse_ms = ms(t);
    let ipvs = open()?;
    let t = Instant::now();
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
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

fn ruleset(path: &str) -> Result<Ruleset, String> {
    Ruleset::from_rules(&read(path)?).map_err(|e| format!("{path}:{e}"))
}

/// A Reconciler on `ipvs` (whose table holds `from`) applying `to`, `from`, `to`, ...
/// `rounds` times; each apply must succeed, the first must change something.
fn reconcile(ipvs: Ipvs, from: &Ruleset, to: &Ruleset, how: How) -> Result<String, String> {
    let How { rounds, partial } = how;
    let t = Instant::now();
    let mut reconciler = Reconciler::new(ipvs).map_err(|e| e.to_string())?;
    let read_ms = ms(t);
    if std::env::var_os("LVS_BENCH_PAUSE").is_some() {
        eprintln!("read");
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
    }
    let options = ApplyOptions {
        keep_unlisted: partial,
        ..ApplyOptions::default()
    };
    let (from, to) = if partial {
        (&differing(from, to), &differing(to, from))
    } else {
        (from, to)
    };
    let mut times = Vec::with_capacity(rounds);
    let mut changes = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let desired = if round % 2 == 0 { to } else { from };
        let t = Instant::now();
        let report = reconciler
            .apply(desired, &options)
            .map_err(|e| e.to_string())?;
        times.push(ms(t));
        if !report.is_success() {
            return Err(format!("apply {round} failed:\n{report}"));
        }
        changes.push(report.plan.len());
    }
    let first_ms = times.first().copied().unwrap_or(0.0);
    times.sort_by(f64::total_cmp);
    let apply_ms = times.get(times.len() / 2).copied().unwrap_or(0.0);
    Ok(format!(
        "changes={} rounds={rounds} partial={partial} read_ms={read_ms:.1} first_ms={first_ms:.3} apply_ms={apply_ms:.3}",
        changes.first().copied().unwrap_or(0)
    ))
}

/// The services of `a` that are not the same in `b`.
fn differing(a: &Ruleset, b: &Ruleset) -> Ruleset {
    let b: std::collections::HashMap<_, _> =
        b.services.iter().map(|vs| (vs.service.key, vs)).collect();
    Ruleset {
        services: a
            .services
            .iter()
            .filter(|vs| b.get(&vs.service.key) != Some(vs))
            .cloned()
            .collect(),
        ..Ruleset::new()
    }
}

/// How `reconcile` applies: how many times, and whether with only the differing services.
#[derive(Clone, Copy)]
struct How {
    rounds: usize,
    partial: bool,
}

fn reconcile_real(from: &str, to: &str, how: How) -> Result<String, String> {
    let (from, to) = (ruleset(from)?, ruleset(to)?);
    reconcile(open()?, &from, &to, how)
}

/// [`reconcile`] against the fake kernel, loaded with `from` first; adds the requests the
/// Reconciler sent after its first read, by kind.
fn reconcile_fake(from_path: &str, to: &str, how: How) -> Result<String, String> {
    let (from, to) = (ruleset(from_path)?, ruleset(to)?);
    let kernel = FakeKernel::new();
    let ipvs = kernel.ipvs().map_err(|e| e.to_string())?;
    let load = ipvs
        .apply(&from, &ApplyOptions::default())
        .map_err(|e| e.to_string())?;
    if !load.is_success() {
        return Err(format!("loading {from_path}:\n{load}"));
    }
    let loaded = kernel.requests().len();
    let line = reconcile(ipvs, &from, &to, how)?;
    let requests = &kernel.requests()[loaded..];
    let first_write = requests
        .iter()
        .position(|op| !op.is_read())
        .unwrap_or(requests.len());
    let reads = requests[first_write..]
        .iter()
        .filter(|op| op.is_read())
        .count();
    let writes = requests.len() - first_write - reads;
    Ok(format!("{line} writes={writes} reads_after_start={reads}"))
}

fn how(rest: &[&str]) -> Result<How, String> {
    let (rounds, partial) = match rest {
        [] => ("1", false),
        [r] => (*r, false),
        [r, "partial"] => (*r, true),
        _ => return Err("reconcile FROM TO [ROUNDS [partial]]".into()),
    };
    let rounds = rounds
        .parse()
        .map_err(|e| format!("ROUNDS {rounds}: {e}"))?;
    Ok(How { rounds, partial })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["restore", path] => restore(path, false),
        ["one-by-one", path] => restore(path, true),
        ["snapshot"] => snapshot(),
        ["async-restore", path] => async_restore(path, false),
        ["async-one-by-one", path] => async_restore(path, true),
        ["async-snapshot"] => async_snapshot(),
        ["services"] => services(),
        ["proc"] => proc(),
        ["apply", path] => apply(path),
        ["reconcile", from, to, rest @ ..] => how(rest).and_then(|h| reconcile_real(from, to, h)),
        ["reconcile-fake", from, to, rest @ ..] => {
            how(rest).and_then(|h| reconcile_fake(from, to, h))
        }
        _ => Err(
            "usage: bench restore FILE | one-by-one FILE | snapshot | services | proc | apply FILE \
                  | async-restore FILE | async-one-by-one FILE | async-snapshot \
                  | reconcile[-fake] FROM TO [ROUNDS [partial]]"
                .into(),
        ),
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
