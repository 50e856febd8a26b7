//! Measures bulk changes: the pipelined batch API against one request at a time and against
//! `ipvsadm -R`, and a snapshot against `ipvsadm -Sn`.
//!
//! Run it as root in an empty network namespace (with `lo` up: without any route the kernel
//! refuses real servers as "not unicast") of a kernel with IPVS, e.g.
//!
//! ```text
//! cargo build --release -p lvs-netlink --example bench_batch
//! tests/harness.sh exec -- unshare -n sh -c 'ip link set lo up && target/release/examples/bench_batch 10000 4 500'
//! ```
//!
//! Arguments: services, real servers per service, and services for the (slow) one-by-one
//! run. Timings in the VM are emulated: compare the ratios, not the times.

use lvs_core::{Command, Destination, Forward, Service, ServiceKey};
use lvs_netlink::Ipvs;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

fn commands(services: u32, dests: u32) -> Vec<Command> {
    let mut out = Vec::new();
    for i in 0..services {
        let vip: SocketAddr = format!("10.{}.{}.1:80", i >> 8, i & 0xff).parse().unwrap();
        let key = ServiceKey::tcp(vip);
        out.push(Command::AddService(Service::new(key).with_scheduler("rr")));
        for d in 0..dests {
            let addr: SocketAddr = format!("192.168.{d}.{}:8080", i % 250 + 1).parse().unwrap();
            out.push(Command::AddDestination {
                service: key,
                destination: Destination::new(addr).with_forward(Forward::Masquerade),
            });
        }
    }
    out
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    let d = t.elapsed();
    println!("{what:<48} {:>10.1} ms", d.as_secs_f64() * 1000.0);
    (v, d)
}

fn ipvsadm(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Process::new("ipvsadm")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ipvsadm");
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "ipvsadm {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check(commands: &[Command], results: &[Result<(), lvs_netlink::Error>]) {
    let failed: Vec<_> = commands
        .iter()
        .zip(results)
        .filter_map(|(c, r)| r.as_ref().err().map(|e| format!("{c:?}: {e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed, first: {:?}",
        failed.len(),
        failed.first()
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number"))
        .collect();
    let (services, dests) = (
        args.first().copied().unwrap_or(10_000),
        args.get(1).copied().unwrap_or(4),
    );
    let slow = args.get(2).copied().unwrap_or(services / 5).max(1);
    let ipvs = Ipvs::new()?;
    ipvs.flush()?;
    let all = commands(services, dests);
    let few = commands(slow, dests);
    println!(
        "{} ops ({services} services x {dests} dests); one-by-one on {} ops",
        all.len(),
        few.len()
    );

    let (results, batch) = timed("batch (pipelined), all ops", || ipvs.batch(&all));
    check(&all, &results);
    let (snap, snap_t) = timed("snapshot (lvs)", || ipvs.snapshot());
    assert_eq!(snap?.object_count(), all.len());
    let (save, save_t) = timed("ipvsadm -Sn", || ipvsadm(&["-S", "-n"], None));
    ipvs.flush()?;

    let (_, one) = timed("one request at a time, subset", || {
        for c in &few {
            ipvs.apply(c).expect("apply");
        }
    });
    ipvs.flush()?;
    let (results, batch_few) = timed("batch (pipelined), same subset", || ipvs.batch(&few));
    check(&few, &results);
    ipvs.flush()?;

    let (_, restore) = timed("ipvsadm -R, all ops", || ipvsadm(&["-R"], Some(&save)));
    ipvs.flush()?;

    println!();
    println!(
        "one-by-one / batch (same {} ops):   {:.1}x",
        few.len(),
        one.as_secs_f64() / batch_few.as_secs_f64()
    );
    println!(
        "ipvsadm -R / batch (all ops):       {:.1}x",
        restore.as_secs_f64() / batch.as_secs_f64()
    );
    println!(
        "ipvsadm -Sn / lvs snapshot:         {:.1}x",
        save_t.as_secs_f64() / snap_t.as_secs_f64()
    );
    Ok(())
}
