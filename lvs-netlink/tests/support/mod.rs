//! Helpers for the lvs-netlink kernel tests. These tests run only inside
//! `tests/harness.sh test` (a VM with IPVS), each in its own fresh network namespace, so they
//! may change the IPVS table freely. Everything here panics with a clear message on failure.
#![allow(dead_code)] // each test file uses a different part of this module

use lvs_core::rules::{self, SaveOptions};
use lvs_core::{Command, Ruleset};
use lvs_netlink::Ipvs;
use std::io::Write;
use std::process::{Command as Process, Stdio};

/// A handle on this test's namespace.
pub fn ipvs() -> Ipvs {
    Ipvs::new().unwrap_or_else(|e| panic!("Ipvs::new: {e}"))
}

/// Runs `program args...` with optional stdin; returns (status, stdout, stderr).
pub fn run(program: &str, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Process::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} {args:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("cannot feed {program}: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {program}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a command and panics unless it succeeds; returns stdout.
#[track_caller]
pub fn run_ok(program: &str, args: &[&str], stdin: Option<&str>) -> String {
    let (status, out, err) = run(program, args, stdin);
    assert_eq!(
        status, 0,
        "{program} {args:?} failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

/// `ipvsadm -Sn`: what the reference implementation reads back.
pub fn ipvsadm_save() -> String {
    run_ok("ipvsadm", &["-S", "-n"], None)
}

/// `ipvsadm -R` with `rules` on stdin.
#[track_caller]
pub fn ipvsadm_restore(rules: &str) {
    run_ok("ipvsadm", &["-R"], Some(rules));
}

/// A scheduler this kernel lacks, for tests of a step the kernel refuses: `twos`, a mainline
/// scheduler Debian's 6.1 does not build, where the kernel has no `ip_vs_twos` module; on kernels
/// that have it (Debian's 6.12 and 7.2), a name no kernel has. Both are refused the same way
/// (ENOENT, "Scheduler or persistence engine not found").
pub fn missing_scheduler() -> &'static str {
    let (status, _, _) = run("modprobe", &["-q", "-n", "ip_vs_twos"], None);
    if status == 0 { "nosuch" } else { "twos" }
}

/// The commands of a rule file, in order.
pub fn commands(text: &str) -> Vec<Command> {
    rules::parse(text)
        .unwrap_or_else(|e| panic!("bad rules: {e}"))
        .into_iter()
        .map(|r| r.command)
        .collect()
}

/// The model of a rule file applied to an empty table.
pub fn model(text: &str) -> Ruleset {
    Ruleset::from_rules(text).unwrap_or_else(|e| panic!("bad rules: {e}"))
}

/// The model of a rule file whose schedulers or persistence engines the real kernel lacks
/// (`twos`, `--pe nosuch`): read for a simulated kernel that loads any module.
pub fn model_unchecked(text: &str) -> Ruleset {
    let mut ruleset = Ruleset::new();
    ruleset
        .execute_all(&commands(text), &lvs_core::KernelProfile::ANY)
        .unwrap_or_else(|(i, e)| panic!("bad rules, command {i}: {e}"));
    ruleset
}

/// What `ipvsadm -Sn` must print for `ruleset`.
pub fn expected_save(ruleset: &Ruleset) -> String {
    rules::save(ruleset, SaveOptions::IPVSADM)
}

/// The services and real servers lvs reads back.
#[track_caller]
pub fn read_back(ipvs: &Ipvs) -> Ruleset {
    ipvs.snapshot()
        .unwrap_or_else(|e| panic!("snapshot: {e}"))
        .services()
}
