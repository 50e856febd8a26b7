//! The Reconciler and lvsadm across process restarts, in the real kernel: a drain started by one
//! process is recognised and finished by brand-new ones from the kernel alone (real TCP
//! traffic through the tutorial's NAT lab), and an apply killed with SIGKILL half-way leaves a
//! table that a new process converges from.

mod support;

use lvs::Ruleset;
use lvs::netlink::{ApplyOptions, Reconciler};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{LAB_SERVERS, NatLab, built_lvsadm, ipvsadm_ok, run};

const BEFORE: &str = "-A -t 10.0.0.13:9000 -s rr
-a -t 10.0.0.13:9000 -r 192.168.8.14:9000 -m -w 1
-a -t 10.0.0.13:9000 -r 192.168.8.15:9000 -m -w 1
-a -t 10.0.0.13:9000 -r 192.168.8.16:9000 -m -w 1
";

/// argv: HOST PORT TRIGGER. Opens connections until rs16 answers one, says `held`, keeps it
/// open until the TRIGGER file exists (bounded), then resets it (SO_LINGER 0: the director's
/// connection entry goes to CLOSE, which IPVS keeps 10 s, not TIME_WAIT's 2 minutes).
const HOLD_PY: &str = r#"
import os, socket, struct, sys, time
host, port, trigger = sys.argv[1], int(sys.argv[2]), sys.argv[3]
held = None
for i in range(60):
    s = socket.create_connection((host, port), timeout=10)
    f = s.makefile("rw")
    f.write("x\n"); f.flush()
    if f.readline().startswith("rs16"):
        held = s
        break
    s.close()
print("held" if held else "never rs16", flush=True)
deadline = time.time() + 300
while held and not os.path.exists(trigger) and time.time() < deadline:
    time.sleep(0.1)
if held:
    held.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    held.close()
print("reset", flush=True)
"#;

/// `lvsadm apply --drain --netns NS FILE` in a new process: its standard output.
fn lvsadm_drain(ns: &str, file: &str) -> String {
    let lvsadm = built_lvsadm();
    let out = run(
        lvsadm.to_str().expect("a UTF-8 path"),
        &["apply", "--drain", "--netns", ns, file],
        None,
    );
    assert_eq!(out.status, 0, "{out:?}");
    out.stdout
}

/// The director's real server `.16` as `ipvsadm -Ln` lists it, if it does.
fn rs16(lab: &NatLab) -> Option<String> {
    let list = lab.director.exec_ok("ipvsadm", &["-Ln"]).stdout;
    list.lines()
        .find(|l| l.contains("192.168.8.16:9000"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn a_drain_survives_a_restart_and_is_finished_by_a_new_process() {
    let mut lab = NatLab::new();
    for (s, ns) in LAB_SERVERS.iter().zip(&lab.real) {
        lab.servers
            .push(ns.echo_server("0.0.0.0", 9000, &format!("rs{s}")));
    }
    let ns = lab.director.name.clone();
    let mut first =
        Reconciler::new(lvs::Ipvs::in_netns(lab.director_path()).expect("open")).expect("read");
    let before = Ruleset::from_rules(BEFORE).expect("rules");
    assert!(
        first
            .apply(&before, &ApplyOptions::default())
            .expect("apply")
            .is_success()
    );
    let dir = std::env::temp_dir().join(format!("lvs-drain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let after = dir.join("after.rules");
    std::fs::write(
        &after,
        BEFORE.replace("-a -t 10.0.0.13:9000 -r 192.168.8.16:9000 -m -w 1\n", ""),
    )
    .expect("write");
    let after = after.to_str().expect("a UTF-8 path");
    let trigger = dir.join("reset");

    let mut client = lab.client.python(
        HOLD_PY,
        &["10.0.0.13", "9000", trigger.to_str().expect("a UTF-8 path")],
        Stdio::piped(),
    );
    let mut line = String::new();
    {
        use std::io::BufRead;
        let out = client.child.stdout.as_mut().expect("piped");
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .expect("read");
    }
    assert_eq!(line.trim(), "held", "the client never reached rs16");
    assert_eq!(
        rs16(&lab).as_deref(),
        Some("-> 192.168.8.16:9000 Masq 1 1 0")
    );

    // A new process drains .16: weight 0, kept while its connection lives.
    let out = lvsadm_drain(&ns, after);
    assert_eq!(out, "= -e -t 10.0.0.13:9000 -r 192.168.8.16:9000 -m -w 0\n");
    assert_eq!(
        rs16(&lab).as_deref(),
        Some("-> 192.168.8.16:9000 Masq 0 1 0")
    );
    // Another new process, and a brand-new reconciler, see the drain from the kernel alone:
    // nothing to do (not deleted while busy, not put back at weight 1).
    assert_eq!(lvsadm_drain(&ns, after), "");
    let mut fresh =
        Reconciler::new(lvs::Ipvs::in_netns(lab.director_path()).expect("open")).expect("read");
    let drain = ApplyOptions {
        drain: true,
        ..ApplyOptions::default()
    };
    let desired =
        Ruleset::from_rules(&std::fs::read_to_string(after).expect("read")).expect("rules");
    assert!(
        fresh
            .apply(&desired, &drain)
            .expect("apply")
            .plan
            .is_empty()
    );
    assert_eq!(
        rs16(&lab).as_deref(),
        Some("-> 192.168.8.16:9000 Masq 0 1 0")
    );

    // The connection ends (reset); once IPVS forgets it, a new process deletes .16.
    std::fs::write(&trigger, "go").expect("write the trigger");
    let deadline = Instant::now() + Duration::from_secs(90);
    while rs16(&lab).as_deref() != Some("-> 192.168.8.16:9000 Masq 0 0 0") {
        assert!(
            Instant::now() < deadline,
            "rs16 still has connections: {:?}",
            rs16(&lab)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        lvsadm_drain(&ns, after),
        "- -d -t 10.0.0.13:9000 -r 192.168.8.16:9000\n"
    );
    assert_eq!(rs16(&lab), None);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `count` services with 4 real servers each, their VIPs spread over the kernel's hash.
fn big_rules(count: usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        let vip = format!("10.{}.{}.{}", 1 + i / 65536, (i / 256) % 256, i % 256);
        text.push_str(&format!("-A -t {vip}:80 -s rr\n"));
        for r in 1..=4 {
            text.push_str(&format!(
                "-a -t {vip}:80 -r 192.168.{}.{r}:80 -m -w 1\n",
                i % 200
            ));
        }
    }
    text
}

/// Lines of `/proc/net/ip_vs` that name a service or a real server.
fn objects() -> usize {
    std::fs::read_to_string("/proc/net/ip_vs")
        .expect("read /proc/net/ip_vs")
        .lines()
        .filter(|l| l.starts_with("TCP") || l.trim_start().starts_with("->"))
        .count()
        .saturating_sub(1) // the header's "-> RemoteAddress:Port"
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn an_apply_killed_half_way_is_converged_by_a_new_process() {
    const SERVICES: usize = 5000;
    let text = big_rules(SERVICES);
    let file = std::env::temp_dir().join(format!("lvs-kill-{}.rules", std::process::id()));
    std::fs::write(&file, &text).expect("write");
    let mut child = Command::new(built_lvsadm())
        .arg("apply")
        .arg(&file)
        .stdout(Stdio::null())
        .spawn()
        .expect("start lvsadm apply");
    let deadline = Instant::now() + Duration::from_secs(300);
    while objects() < 100 {
        assert!(Instant::now() < deadline, "the apply never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let partial = objects();
    assert!(
        partial < SERVICES * 5,
        "the apply finished before it was killed ({partial} objects)"
    );
    let desired = Ruleset::from_rules(&text).expect("rules");
    let mut reconciler = Reconciler::new(lvs::Ipvs::new().expect("open")).expect("read");
    let report = reconciler
        .apply(&desired, &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{}", report.failed().count());
    assert_eq!(
        report.plan.len(),
        SERVICES * 5 - partial,
        "only what was missing"
    );
    let fresh = lvs::Ipvs::new()
        .expect("open")
        .snapshot()
        .expect("read")
        .services();
    assert_eq!(fresh, desired);
    assert!(ipvsadm_ok(&["-Sn"]).stdout.lines().count() == SERVICES * 5);
    let _ = std::fs::remove_file(&file);
}
