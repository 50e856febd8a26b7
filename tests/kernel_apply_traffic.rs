//! Declarative apply under live traffic, through lvs only: an established connection to a real
//! server of a service the apply leaves alone keeps working across an apply that changes other
//! services (where `ipvsadm-restore` would flush the table first). Run by `tests/harness.sh test`
//! in the seed tutorial's NAT lab (`support::NatLab`).

mod support;

use lvs::Ruleset;
use lvs::netlink::ApplyOptions;
use std::process::Stdio;
use std::time::Duration;
use support::{LAB_SERVERS, NatLab};

const BEFORE: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-a -t 10.0.0.13:80 -r 192.168.8.16 -m
-A -t 10.0.0.13:9000 -s rr
-a -t 10.0.0.13:9000 -r 192.168.8.14 -m
-a -t 10.0.0.13:9000 -r 192.168.8.15 -m
-a -t 10.0.0.13:9000 -r 192.168.8.16 -m
";

/// The web service changes (wrr 3:1:1, one server gone) and a new service comes; the echo
/// service on :9000 is untouched.
const AFTER: &str = "-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15 -m
-A -t 10.0.0.13:8080 -s rr
-a -t 10.0.0.13:8080 -r 192.168.8.16:80 -m
-A -t 10.0.0.13:9000 -s rr
-a -t 10.0.0.13:9000 -r 192.168.8.14 -m
-a -t 10.0.0.13:9000 -r 192.168.8.15 -m
-a -t 10.0.0.13:9000 -r 192.168.8.16 -m
";

/// argv: HOST PORT TRIGGER. One connection: send "first", print the answer, wait (bounded)
/// for the TRIGGER file, send "second" on the same connection, print the answer.
const CLIENT_PY: &str = r#"
import os, socket, sys, time
host, port, trigger = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=10)
f = s.makefile("rw")
f.write("first\n"); f.flush(); print(f.readline().strip(), flush=True)
deadline = time.time() + 120
while not os.path.exists(trigger) and time.time() < deadline:
    time.sleep(0.1)
f.write("second\n"); f.flush(); print(f.readline().strip(), flush=True)
"#;

fn rules(text: &str) -> Ruleset {
    Ruleset::from_rules(text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn established_connections_survive_an_apply_that_changes_other_services() {
    let mut lab = NatLab::new();
    for (s, ns) in LAB_SERVERS.iter().zip(&lab.real) {
        lab.servers
            .push(ns.echo_server("0.0.0.0", 9000, &format!("rs{s}")));
    }
    let ipvs = lvs::Ipvs::in_netns(lab.director_path()).expect("open the director's IPVS");
    let report = ipvs
        .apply(&rules(BEFORE), &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{report}");
    // Wait until every echo server answers the director (bounded).
    for s in LAB_SERVERS {
        let probe = format!(
            "exec 3<>/dev/tcp/192.168.8.{s}/9000 && echo ping >&3 && read -t 2 line <&3 && echo $line"
        );
        let start = std::time::Instant::now();
        while !lab
            .director
            .exec("bash", &["-c", &probe])
            .stdout
            .contains("ping")
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "echo server rs{s} never came up"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    let trigger = format!("/tmp/lvs-apply-trigger-{}", std::process::id());
    let _ = std::fs::remove_file(&trigger);
    let client = lab
        .client
        .python(CLIENT_PY, &["10.0.0.13", "9000", &trigger], Stdio::piped());
    // Let the first exchange happen, then change the other services under it.
    std::thread::sleep(Duration::from_secs(2));
    let report = ipvs
        .apply(&rules(AFTER), &ApplyOptions::default())
        .expect("apply");
    assert!(report.is_success(), "{report}");
    assert!(
        !report.plan.to_rules().contains(":9000"),
        "the echo service was touched:\n{}",
        report.plan
    );
    assert!(report.plan.len() >= 4, "{}", report.plan);
    std::fs::write(&trigger, "go").expect("write the trigger");

    let answers = client.output();
    let _ = std::fs::remove_file(&trigger);
    let lines: Vec<&str> = answers.lines().collect();
    assert_eq!(lines.len(), 2, "the connection broke: {answers:?}");
    let (first, second) = (lines[0], lines[1]);
    let server = first
        .strip_suffix(" first")
        .unwrap_or_else(|| panic!("first answer: {first:?}"));
    assert_eq!(
        second,
        format!("{server} second"),
        "same server, same connection"
    );

    // And the web service now balances 3:1 over .14 and .15.
    let mut counts = std::collections::BTreeMap::new();
    for i in 0..8u16 {
        let answer = lab
            .client
            .curl("http://10.0.0.13/", Some(42000 + i))
            .expect("web through the VIP");
        *counts.entry(answer).or_insert(0) += 1;
    }
    let want: std::collections::BTreeMap<String, i32> =
        [("rs14".to_owned(), 6), ("rs15".to_owned(), 2)]
            .into_iter()
            .collect();
    assert_eq!(counts, want);
}
