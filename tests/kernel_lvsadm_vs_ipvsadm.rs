//! lvsadm against the real ipvsadm 1.31, on the real kernel: a table of command lines, each run
//! through both, comparing standard output, standard error and exit status byte for byte.
//!
//! - Changes run on two network namespaces built alike: `ip netns exec A ipvsadm ARGS` and
//!   `lvsadm --netns B ARGS`; after each, both tables must save the same (`ipvsadm -Sn` in
//!   each), so the next line meets the same state.
//! - Listings run on one namespace with both tools (`lvsadm --netns A ARGS`), retried a few
//!   times when the two runs straddle a rate-estimator tick or a connection timer second.
//! - lvsadm runs with argv\[0\] `ipvsadm`, so the "Try `ipvsadm -h'" lines agree too.
//!
//! The lvsadm binary is the `lvsadm` bin target (source in examples/lvsadm), which `cargo test`
//! (and `--no-run`) builds with the `cli` feature. Deliberate differences
//! (README.md of examples/lvsadm) are rows with an [`Expect`] other than `Same`, each checked
//! to differ exactly as documented.

mod support;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Netns, Output};

/// The lvsadm binary, copied once to a private temporary folder: the VM reads the repository
/// over 9p, where paging in a 16 MB debug binary for each of hundreds of runs is slow.
fn lvsadm_path() -> PathBuf {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lvsadm-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        let copy = dir.join("lvsadm");
        std::fs::copy(support::built_lvsadm(), &copy).expect("copy lvsadm");
        copy
    })
    .clone()
}

fn output(mut cmd: Command, stdin: Option<&str>) -> Output {
    use std::io::Write;
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `ip netns exec NS ipvsadm ARGS` (argv\[0\] is `ipvsadm`).
fn ipvsadm_in(ns: &Netns, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name, "ipvsadm"]).args(args);
    output(cmd, stdin)
}

/// `lvsadm --netns NS ARGS`, run as `ipvsadm`.
fn lvsadm_in(ns: &Netns, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(lvsadm_path());
    cmd.arg0("ipvsadm").args(["--netns", &ns.name]).args(args);
    output(cmd, stdin)
}

/// What lvsadm must print compared with ipvsadm.
#[derive(Clone, Copy)]
enum Expect {
    /// The same bytes and status.
    Same,
    /// Standard output differs on purpose (help, version); stderr and status agree, and both
    /// print something.
    OwnStdout(&'static str),
    /// lvsadm's stdout, once `fix` undoes a documented difference, equals ipvsadm's; and the
    /// difference is really there (so the row does not rot into `Same`).
    Differs(&'static str, fn(&str) -> String),
    /// The connection table: the same bytes, but expiry timers may tick between the two runs.
    Timers,
}

struct Row {
    args: &'static str,
    stdin: Option<&'static str>,
    expect: Expect,
}

const fn same(args: &'static str) -> Row {
    Row {
        args,
        stdin: None,
        expect: Expect::Same,
    }
}

const fn restore(stdin: &'static str) -> Row {
    Row {
        args: "-R",
        stdin: Some(stdin),
        expect: Expect::Same,
    }
}

/// Drops ` -x N` and ` -y N` (lvsadm's save keeps non-zero thresholds; ipvsadm loses them).
fn drop_thresholds(s: &str) -> String {
    s.lines()
        .map(|l| {
            let mut words: Vec<&str> = l.split(' ').collect();
            while let Some(i) = words.iter().position(|w| *w == "-x" || *w == "-y") {
                words.drain(i..i + 2);
            }
            words.join(" ") + "\n"
        })
        .collect()
}

/// ipvsadm 1.31 prints marks above 2^31 - 1 as negative numbers; lvsadm unsigned.
fn negative_marks(s: &str) -> String {
    s.replace("3000000000", "-1294967296")
}

/// lvsadm's save names scheduler flag 3 under sh and mh (`flag-3`); ipvsadm writes nothing.
fn drop_flag_3(s: &str) -> String {
    s.replace("-port,flag-3", "-port")
        .replace("-fallback,flag-3", "-fallback")
}

fn save_differences(s: &str) -> String {
    drop_flag_3(&negative_marks(&drop_thresholds(s)))
}

/// The expiry column (`MM:SS`) of `-Lc`, in seconds, and the line without it.
fn split_expiry(line: &str) -> Option<(u64, String)> {
    let (m, s) = line.get(4..10)?.trim_end().split_once(':')?;
    let secs = m.parse::<u64>().ok()? * 60 + s.parse::<u64>().ok()?;
    Some((secs, format!("{}{}", &line[..4], &line[10..])))
}

/// `-Lc` taken by two programs one after the other: the same bytes but for expiry timers,
/// which may have ticked by up to `slack` seconds in between.
fn same_but_timers(a: &str, b: &str, slack: u64) -> bool {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    la.len() == lb.len()
        && la.iter().zip(&lb).enumerate().all(|(i, (x, y))| {
            x == y
                || (i >= 2
                    && match (split_expiry(x), split_expiry(y)) {
                        (Some((tx, rx)), Some((ty, ry))) => rx == ry && tx.abs_diff(ty) <= slack,
                        _ => false,
                    })
        })
}

/// Services and real servers: changes and the kernel's refusals, each run by ipvsadm on A and by
/// lvsadm on B.
const CHANGES: &[Row] = &[
    same("-A -t 10.1.0.1:80 -s rr"),
    same("-A -t 10.1.0.1:80"),
    same("-A -t 10.1.0.1:80 -s rr -p 600 -M 255.255.0.0 --pe sip"),
    same("-E -t 10.1.0.1:80 -s wrr -p 300 -M 255.255.255.0"),
    same("-E -t 10.1.0.9:80"),
    same("-D -t 10.1.0.9:80"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.1 -m -w 5"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.1 -m"),
    same("-a -t 10.1.0.9:80 -r 10.2.0.1"),
    same("-e -t 10.1.0.1:80 -r 10.2.0.1 -m -w 7 -x 100 -y 50"),
    same("-e -t 10.1.0.1:80 -r 10.2.0.7 -m"),
    same("-d -t 10.1.0.1:80 -r 10.2.0.7"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.2 -m -x 10 -y 20"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.3 -g -w 0"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.4 -i --tun-type gue --tun-port 6080 --tun-csum"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.5 -i --tun-type gre --tun-nocsum"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.6 -i"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.8 -g --tun-type gue"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.8 -i --tun-type gue"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.8 -i --tun-type ipip --tun-port 1"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.8 -i --tun-type gre --tun-csum --tun-nocsum"),
    same("-a -t 10.1.0.1:80 -r [2001:db8::8]:80 -m"),
    same("-a -t 10.1.0.1:80 -r 224.0.0.1 -m"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.9 -w 65536"),
    same("-a -t 10.1.0.1:80 -r 10.2.0.9 -w -1"),
    same("-A -t 10.1.0.2:80 -w 3"),
    same("-A -t 10.1.0.2"),
    same("-A -t 10.1.0.2 -p"),
    same("-A -t 10.1.0.3:80 -o"),
    same("-A -u 10.1.0.3:53 -o -s sh -b sh-fallback,sh-port"),
    same("-A -u 10.1.0.4:53 -b sh-port"),
    same("-A -u 10.1.0.4:53 -s mh -b mh-port,flag-3"),
    same("-A -u 10.1.0.5:53 -b nonsense"),
    same("-A -t 10.1.0.5:80 -s nosuchsched"),
    same("-A -t 10.1.0.5:80 --pe nosuchpe -p"),
    same("-A --sctp-service 10.1.0.6:5000 -s lc"),
    same("-A -t [2001:db8::1]:443 -s sed -p 60 -M 64"),
    same("-A -f 7 -s nq"),
    same("-A -f 7 -6 -s dh -M 96 -p"),
    same("-A -6 -f 8"),
    same("-A -f 0"),
    same("-A -f 3000000000 -s lblc"),
    Row {
        args: "-Ln -f 3000000000",
        stdin: None,
        expect: Expect::Differs("marks above 2^31 - 1 print unsigned", negative_marks),
    },
    Row {
        args: "-Sn",
        stdin: None,
        expect: Expect::Differs(
            "lossless save: non-zero -x/-y kept, marks above 2^31 - 1 unsigned",
            save_differences,
        ),
    },
    same("-a -f 7 -r 10.2.1.1:8080 -m"),
    same("-a -f 7 -6 -r [2001:db8::2]:80 -g -w 2"),
    same("-D -f 3000000000"),
    same("-D -t 10.1.0.9:80"),
];

/// Refusals of the command-line grammar, timeouts, sync daemons, counters, help: by ipvsadm on
/// A and lvsadm on B (split from [`CHANGES`] so that each test stays well within the
/// harness's time limit for one test).
const COMMANDS: &[Row] = &[
    same("-A -t 10.1.0.1:80 -s rr"),
    same("-A -t 10.1.0.1:80 -s rr -s wrr"),
    same("-A -E -t 10.1.0.1:80"),
    same("-A -t"),
    same("-A -t 10.1.0.1:80 --bogus"),
    same("--bogus"),
    same("foo"),
    same("-t 10.1.0.1:80"),
    same("-A -t 10.1.0.1:80 extra"),
    same("-A -t nosuch.invalid:80"),
    same("-A -t 10.1.0.7:nosuchservice"),
    same("-S --stats"),
    same("-L --stats --timeout"),
    same("-L --daemon --persistent-conn"),
    same("-L -c -t 10.1.0.1:80"),
    same("-D"),
    same("-C -t 10.1.0.1:80"),
    same("--set 1 2"),
    same("--set 1 2 x"),
    same("--set 1000 130 310"),
    same("--set 0 0 0"),
    same("-L --timeout"),
    same("--start-daemon foo"),
    same("--stop-daemon foo"),
    same(
        "--start-daemon master --mcast-interface dummy0 --syncid 7 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 8849 --mcast-ttl 2",
    ),
    same("--start-daemon master --mcast-interface dummy0"),
    same("--start-daemon backup --mcast-interface dummy0 --syncid 9"),
    same("--start-daemon backup --mcast-group 10.0.0.1"),
    same("-L --daemon"),
    same("--stop-daemon master --syncid 3"),
    same("-L --daemon"),
    same("-Z"),
    same("-Z -t 10.1.0.1:80"),
    same("-Z -t 10.1.0.9:80"),
    Row {
        args: "-h",
        stdin: None,
        expect: Expect::OwnStdout(
            "lvsadm's help adds --netns, --json, fmt and how to save and restore",
        ),
    },
    Row {
        args: "--version",
        stdin: None,
        expect: Expect::OwnStdout("lvsadm's version line names lvsadm"),
    },
];

/// `-R`, fed the same standard input, by ipvsadm on A and lvsadm on B.
const RESTORES: &[Row] = &[
    restore(
        "-A -t 10.3.0.1:80 -s rr\n\n  \n-a -t 10.3.0.1:80 -r 10.4.0.1 -m\nipvsadm -a -t 10.3.0.1:80 -r 10.4.0.2 -m\n",
    ),
    restore("-A -t 10.3.0.1:80\n-A -t 10.3.0.2:80\n"),
    restore("-A -t 10.3.0.3:80\n-A -t 10.3.0.3:80\n"),
    restore("-A -t 10.3.0.4:80\n-A -t 10.3.0.5:80 -w 1\n-A -t 10.3.0.6:80\n"),
    restore("-A -t 10.3.0.7:80 --bogus\n-A -t 10.3.0.8:80\n"),
    restore("-A -t 10.3.0.9:80\n-R\n-A -t 10.3.0.10:80\n"),
    restore("# a comment\n-A -t 10.3.0.11:80\n"),
    restore("-A -t 10.3.0.12:80 # a comment\n"),
    restore("-L -n --timeout\n--set 0 0 400\n-L -n --timeout\n"),
    // Nothing to read: both exit 0 (without IPVS, both fail opening it: see
    // `lvsadm_without_privilege_like_ipvsadm`).
    restore(""),
    Row {
        args: "-R",
        stdin: Some("-A -t 10.3.0.13:80\n-h\n-A -t 10.3.0.14:80\n"),
        expect: Expect::OwnStdout("-h inside -R prints the (lvsadm) help and ends the restore"),
    },
];

/// Listings of one namespace, by both tools.
const LISTINGS: &[Row] = &[
    same("-Ln"),
    same("-L"),
    same("-l -n"),
    same("--list --numeric --nosort"),
    same("-Ln --sort"),
    same("-Ln --stats"),
    same("-Ln --stats --exact"),
    same("-Ln --rate"),
    same("-Ln --rate --exact"),
    same("-Ln --thresholds"),
    same("-Ln --persistent-conn"),
    same("-Ln --tun-info"),
    same("-Ln --rate --thresholds --persistent-conn"),
    same("-L --stats"),
    same("-Ln -t 10.1.0.1:80"),
    same("-L -t 10.1.0.1:http"),
    same("-Ln -t 10.1.0.1:80 --stats"),
    same("-Ln -u 10.9.9.9:53 --rate --exact"),
    same("-Ln -f 7 -6"),
    same("-Ln -t 10.1.0.9:80"),
    same("-L --timeout"),
    same("-L --daemon"),
    Row {
        args: "-Lc",
        stdin: None,
        expect: Expect::Timers,
    },
    Row {
        args: "-Lnc",
        stdin: None,
        expect: Expect::Timers,
    },
    Row {
        args: "-Lnc --persistent-conn",
        stdin: None,
        expect: Expect::Timers,
    },
    Row {
        args: "-Sn",
        stdin: None,
        expect: Expect::Differs(
            "lossless save: non-zero -x/-y kept, marks above 2^31 - 1 unsigned",
            save_differences,
        ),
    },
    Row {
        args: "-S",
        stdin: None,
        expect: Expect::Differs(
            "lossless save: non-zero -x/-y kept, marks above 2^31 - 1 unsigned",
            save_differences,
        ),
    },
    same("-S -n -n"),
];

/// Compares one row; `None` when it matches what the row expects. `took` is the time from
/// the start of the first run to the end of the second (how far timers may have ticked).
fn compare(row: &Row, ipvsadm: &Output, lvsadm: &Output, took: Duration) -> Option<String> {
    let why = match row.expect {
        Expect::Same => "",
        Expect::Timers => "timers may tick between the runs",
        Expect::OwnStdout(why) | Expect::Differs(why, _) => why,
    };
    let show = || {
        format!(
            "`{}`{} ({why}):\n--- ipvsadm: status {}\n{}--- stderr\n{}--- lvsadm: status {}\n{}--- stderr\n{}",
            row.args,
            row.stdin.map_or(String::new(), |s| format!(" <<< {s:?}")),
            ipvsadm.status,
            ipvsadm.stdout,
            ipvsadm.stderr,
            lvsadm.status,
            lvsadm.stdout,
            lvsadm.stderr
        )
    };
    let same_rest = ipvsadm.status == lvsadm.status && ipvsadm.stderr == lvsadm.stderr;
    let ok = match row.expect {
        Expect::Same => same_rest && ipvsadm.stdout == lvsadm.stdout,
        Expect::OwnStdout(_) => {
            same_rest && !ipvsadm.stdout.is_empty() && !lvsadm.stdout.is_empty()
        }
        Expect::Timers => {
            // A timer shown as MM:SS may read one second apart even with no time between.
            let slack = took.as_secs() + 2;
            same_rest && same_but_timers(&ipvsadm.stdout, &lvsadm.stdout, slack)
        }
        Expect::Differs(_, fix) => {
            same_rest && ipvsadm.stdout != lvsadm.stdout && fix(&lvsadm.stdout) == ipvsadm.stdout
        }
    };
    (!ok).then(show)
}

/// A namespace with a multicast-capable `dummy0` holding 10.9.9.1/24 (for the sync daemons
/// and for traffic to 10.9.9.9).
fn lab(role: &str) -> Netns {
    let ns = Netns::new(role);
    ns.ip(&["link", "add", "dummy0", "type", "dummy"]);
    ns.ip(&["link", "set", "dummy0", "multicast", "on"]);
    ns.addr("dummy0", "10.9.9.1/24");
    ns
}

fn args(row: &Row) -> Vec<&'static str> {
    row.args.split_whitespace().collect()
}

/// Everything both namespaces hold, read in-process with lvs.
fn state(ns: &Netns) -> lvs::Ruleset {
    lvs::Ipvs::in_netns(&ns.name)
        .and_then(|ipvs| ipvs.snapshot())
        .unwrap_or_else(|e| panic!("cannot read the IPVS table of {}: {e}", ns.name))
        .ruleset
}

/// Runs `rows` by ipvsadm on one namespace and by lvsadm on its twin, checking after each row
/// that both tables are still alike; returns the mismatches.
fn run_on_twins(rows: &[Row]) -> Vec<String> {
    let a = lab("a");
    let b = lab("b");
    let mut mismatches = Vec::new();
    for row in rows {
        let start = Instant::now();
        let theirs = ipvsadm_in(&a, &args(row), row.stdin);
        let ours = lvsadm_in(&b, &args(row), row.stdin);
        mismatches.extend(compare(row, &theirs, &ours, start.elapsed()));
        assert_eq!(
            state(&a),
            state(&b),
            "after `{}` the two tables differ; stopping (mismatches so far:\n{})",
            row.args,
            mismatches.join("\n")
        );
    }
    mismatches
}

fn assert_no_mismatch(rows: &[Row], mismatches: &[String]) {
    assert!(
        mismatches.is_empty(),
        "{} of {} rows differ:\n{}",
        mismatches.len(),
        rows.len(),
        mismatches.join("\n")
    );
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_changes_and_refuses_like_ipvsadm() {
    assert_no_mismatch(CHANGES, &run_on_twins(CHANGES));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_commands_like_ipvsadm() {
    assert_no_mismatch(COMMANDS, &run_on_twins(COMMANDS));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_restores_like_ipvsadm() {
    assert_no_mismatch(RESTORES, &run_on_twins(RESTORES));
}

/// What the listings are run on: every kind of service, flag and forwarding method, real
/// servers out of order, names that resolve (127.0.0.1 is `localhost`, port 80 `http`).
const LISTING_RULES: &str = "\
-A -t 10.1.0.1:80 -s wrr -p 300 -M 255.255.255.0 --pe sip
-a -t 10.1.0.1:80 -r 10.2.0.3 -g -w 0
-a -t 10.1.0.1:80 -r 10.2.0.1 -m -w 7 -x 100 -y 50
-a -t 10.1.0.1:80 -r 10.2.0.4 -i --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.1.0.1:80 -r 10.2.0.5 -i --tun-type gre --tun-nocsum
-a -t 10.1.0.1:80 -r 10.2.0.6 -i
-a -t 10.1.0.1:80 -r 10.2.0.44:8080 -m
-A -t 127.0.0.1:80 -s rr
-a -t 127.0.0.1:80 -r 127.0.0.1:8080 -m
-A -u 10.1.0.3:53 -o -s sh -b sh-fallback,sh-port
-A -u 10.1.0.4:53 -s mh -b mh-port,flag-3
-A --sctp-service 10.1.0.6:5000 -s lc
-a --sctp-service 10.1.0.6:5000 -r 10.2.0.9 -m
-A -t [2001:db8::1]:443 -s sed -p 60 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m
-a -t [2001:db8::1]:443 -r 10.2.0.12 -i
-A -f 7 -s nq
-a -f 7 -r 10.2.1.1:8080 -m
-A -f 7 -6 -s dh -M 96 -p
-a -f 7 -6 -r [2001:db8::2]:80 -g -w 2
-A -t 10.1.0.200:80 -s lblcr
-A -u 10.9.9.9:53 -s rr -p 120
-a -u 10.9.9.9:53 -r 127.0.0.1:53 -m -x 5
";

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_lists_like_ipvsadm() {
    let a = lab("a");
    let restored = ipvsadm_in(&a, &["-R"], Some(LISTING_RULES));
    assert!(
        restored.success() && restored.stderr.is_empty(),
        "ipvsadm -R: {restored:?}"
    );
    // Counters, rates and connection entries (and a persistence template): datagrams from
    // the namespace itself to the persistent UDP service.
    for _ in 0..3 {
        a.exec_ok("bash", &["-c", "echo hello > /dev/udp/10.9.9.9/53"]);
    }
    let mut mismatches = Vec::new();
    for row in LISTINGS {
        let mut last = None;
        // Rates move every two seconds and connection timers every second: a few tries.
        for _ in 0..4 {
            let start = Instant::now();
            let theirs = ipvsadm_in(&a, &args(row), row.stdin);
            let ours = lvsadm_in(&a, &args(row), row.stdin);
            last = compare(row, &theirs, &ours, start.elapsed());
            if last.is_none() {
                break;
            }
        }
        mismatches.extend(last);
    }
    // The table must have held what the listings are meant to show.
    let conns = ipvsadm_in(&a, &["-Lnc"], None).stdout;
    assert!(conns.lines().count() > 2, "no connection entries:\n{conns}");
    assert_no_mismatch(LISTINGS, &mismatches);
}

/// Without `--netns`, lvsadm works on its own namespace, and with no arguments lists it.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_uses_its_own_namespace_by_default() {
    support::ipvsadm_ok(&["-A", "-t", "10.5.0.1:80", "-s", "rr"]);
    support::ipvsadm_ok(&["-a", "-t", "10.5.0.1:80", "-r", "10.6.0.1", "-m"]);
    let lvsadm = |args: &[&str]| {
        let mut cmd = Command::new(lvsadm_path());
        cmd.arg0("ipvsadm").args(args);
        output(cmd, None)
    };
    for line in [&[][..], &["-Ln"], &["-Sn"], &["-L", "--timeout"]] {
        let theirs = support::ipvsadm(line, None);
        let ours = lvsadm(line);
        assert_eq!(
            (theirs.status, &theirs.stdout, &theirs.stderr),
            (ours.status, &ours.stdout, &ours.stderr),
            "{line:?}"
        );
    }
    let ours = lvsadm(&["-D", "-t", "10.5.0.1:80"]);
    assert!(ours.success(), "{ours:?}");
    assert_eq!(support::ipvsadm_ok(&["-Sn"]).stdout, "");
}

/// `--json` gives the model: what lvs reads back is what was configured.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_json_listings_parse() {
    support::ipvsadm_ok(&["-A", "-t", "10.5.0.1:80", "-s", "rr", "-p", "60"]);
    support::ipvsadm_ok(&["-a", "-t", "10.5.0.1:80", "-r", "10.6.0.1", "-m", "-w", "4"]);
    let lvsadm = |args: &[&str]| {
        let mut cmd = Command::new(lvsadm_path());
        cmd.args(args);
        let out = output(cmd, None);
        assert!(out.success(), "{args:?}: {out:?}");
        serde_json::from_str::<serde_json::Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{}", out.stdout))
    };
    let table: lvs::ipvsadm::list::Table =
        serde_json::from_value(lvsadm(&["-Ln", "--json"])).expect("a Table");
    assert_eq!(table.services.len(), 1);
    let vs = &table.services[0];
    assert_eq!(vs.service.scheduler.name(), "rr");
    assert_eq!(vs.service.persistence.map(|p| p.timeout), Some(60));
    assert_eq!(vs.destinations[0].destination.weight, 4);
    let one = lvsadm(&["--json", "-L", "-t", "10.5.0.1:80"]);
    assert_eq!(one["destinations"][0]["destination"]["weight"], 4);
    let t = lvsadm(&["-L", "--timeout", "--json"]);
    assert_eq!(t["tcp"], 900);
    assert_eq!(lvsadm(&["-L", "--daemon", "--json"]), serde_json::json!([]));
    assert!(lvsadm(&["-Lc", "--json"]).is_array());
}

/// Without CAP_NET_ADMIN (as `nobody`, or as root with the capability dropped), both tools fail
/// opening IPVS with ipvsadm's words and status 2, `-R` on empty input included, and change
/// nothing. Both run in the test's own namespace: an unprivileged lvsadm cannot join another.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_without_privilege_like_ipvsadm() {
    let lvsadm = lvsadm_path();
    let droppers: [&[&str]; 2] = [
        &["--reuid=65534", "--regid=65534", "--clear-groups"],
        &["--bounding-set=-net_admin"],
    ];
    let lines: [(&[&str], Option<&str>); 5] = [
        (&["-Ln"], None),
        (&["-R"], Some("")),
        (&["-R"], Some("-A -t 10.7.0.1:80 -s rr\n")),
        (&["-A", "-t", "10.7.0.1:80", "-s", "rr"], None),
        (&["-L", "--timeout"], None),
    ];
    let want = "Can't initialize ipvs: Permission denied (you must be root)\n\
                Are you sure that IP Virtual Server is built in the kernel or as module?\n";
    let mut mismatches = Vec::new();
    for dropper in droppers {
        for (args, stdin) in lines {
            let run = |program: &str| {
                let mut cmd = Command::new("setpriv");
                cmd.args(dropper).arg(program).args(args);
                output(cmd, stdin)
            };
            let theirs = run("ipvsadm");
            let ours = run(lvsadm.to_str().expect("a UTF-8 path"));
            if (
                theirs.status,
                theirs.stdout.as_str(),
                theirs.stderr.as_str(),
            ) != (2, "", want)
                || ours != theirs
            {
                mismatches.push(format!(
                    "setpriv {dropper:?} {args:?} <<< {stdin:?}:\n--- ipvsadm: {theirs:?}\n--- lvsadm: {ours:?}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(
        support::ipvsadm_ok(&["-Sn"]).stdout,
        "",
        "the table changed"
    );
}

/// `-R` input that is not UTF-8 text, or starts with a byte order mark, is refused before
/// any line is applied (ipvsadm would apply the lines before and stumble on the bytes): the
/// place and status 2, and an unchanged table.
#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn lvsadm_restore_refuses_text_that_is_not_utf8() {
    let cases: [(&[u8], &str); 2] = [
        (
            b"-A -t 10.8.0.1:80 -s rr\n-a -t 10.8.0.1:80 -r 10.9.0.\xff -m\n",
            "<stdin>:2:29: invalid UTF-8 (byte 0xff): rule files are UTF-8 text\n",
        ),
        (
            b"\xef\xbb\xbf-A -t 10.8.0.1:80 -s rr\n",
            "<stdin>:1:1: the text starts with a UTF-8 byte order mark (EF BB BF), which ipvsadm reads as part of the first word: save the file without it\n",
        ),
    ];
    let lvsadm = lvsadm_path();
    for (input, want) in cases {
        let out = support::run(lvsadm.to_str().expect("a UTF-8 path"), &["-R"], Some(input));
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (2, "", want),
            "{input:?}"
        );
        assert_eq!(
            support::ipvsadm_ok(&["-Sn"]).stdout,
            "",
            "the table changed"
        );
    }
}
