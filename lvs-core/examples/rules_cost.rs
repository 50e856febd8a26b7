//! What reading a large or hostile rule file costs: time, and peak memory beyond the input.
//!
//! ```text
//! cargo build --release -p lvs-core --example rules_cost
//! /usr/bin/time -v target/release/examples/rules_cost CASE
//! ```
//!
//! CASE is one of:
//!
//! - `lines`: 1,000,000 lines in `ipvsadm -Sn` form (200,000 services x 4 real servers, W5's
//!   file) read to a checked ruleset (`Ruleset::from_rules`);
//! - `parse`: the same file to commands only (`rules::parse`);
//! - `parse-iter`: the same, one rule at a time, each dropped once counted (`rules::parse_iter`);
//! - `servers`: 200,000 real servers on one service, read the same way;
//! - `execute`: the same 200,000 additions as commands, through `Ruleset::execute_all`;
//! - `long-line`: one 50 MB line of one-character tokens (`x x x ...`), refused for having no
//!   command: the whole line must be read to know;
//! - `long-line-early`: a 50 MB line whose second token is already an error (`-A -A x x ...`);
//! - `long-token`: one 50 MB token as a fwmark (`-A -f 999...`): the message shows 40
//!   characters of it.
//!
//! It prints the input's size, the time of the read alone, the result (a message cut to 200
//! characters), and the peak resident memory (`VmHWM`) after building the input and after the
//! read: their difference is what the read itself took.

use lvs_core::rules::{Rule, RulesError};
use lvs_core::{Command, Destination, KernelProfile, Ruleset, Service, ServiceKey};
use std::fmt::Write;
use std::time::Instant;

/// `VmHWM` of this process, in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The W5 file: 200,000 services with 4 real servers each.
fn million_lines() -> String {
    let mut text = String::with_capacity(200_000 * 240);
    for i in 0..200_000u32 {
        let vip = format!("10.{}.{}.{}:80", i >> 16, (i >> 8) & 0xff, i & 0xff);
        let _ = writeln!(text, "-A -t {vip} -s wrr -p 300");
        for d in 0..4 {
            let _ = writeln!(
                text,
                "-a -t {vip} -r 192.168.{d}.{}:8080 -m -w {}",
                i % 250 + 1,
                d + 1
            );
        }
    }
    text
}

fn real_server(i: u32) -> String {
    let [_, a, b, c] = i.to_be_bytes();
    format!("10.{a}.{b}.{c}:80")
}

fn one_service() -> String {
    let mut text = String::from("-A -t 10.255.0.1:80 -s rr\n");
    for i in 0..200_000 {
        let _ = writeln!(text, "-a -t 10.255.0.1:80 -r {} -m", real_server(i));
    }
    text
}

const FIFTY_MB: usize = 50 << 20;

fn summary(result: Result<Read, RulesError>) -> String {
    match result {
        Ok(Read::Ruleset(r)) => format!(
            "ok: {} services, {} real servers",
            r.services.len(),
            r.object_count() - r.services.len()
        ),
        Ok(Read::Rules(rules)) => format!("ok: {} rules", rules.len()),
        Ok(Read::Count(n)) => format!("ok: {n} rules"),
        Err(e) => {
            let msg = e.to_string();
            let cut = msg.char_indices().nth(200).map_or(msg.len(), |(i, _)| i);
            format!("error: {}", &msg[..cut])
        }
    }
}

/// The read that is timed, apart so that callgrind can count its instructions alone
/// (`--toggle-collect='rules_cost::read'`).
#[inline(never)]
fn read(case: &str, text: &str, commands: &[Command]) -> Result<Read, RulesError> {
    if case == "execute" {
        let mut r = Ruleset::new();
        r.execute_all(commands, &KernelProfile::default())
            .map(|()| Read::Ruleset(r))
            .map_err(|(i, e)| RulesError::Refused {
                line: i + 1,
                column: 1,
                refusal: e,
            })
    } else if case == "parse" {
        lvs_core::rules::parse(text).map(Read::Rules)
    } else if case == "parse-iter" {
        lvs_core::rules::parse_iter(text)
            .try_fold(0usize, |n, rule| rule.map(|_| n + 1))
            .map(Read::Count)
    } else {
        Ruleset::from_rules(text).map(Read::Ruleset)
    }
}

/// What a read gives, dropped after the read is timed.
enum Read {
    Ruleset(Ruleset),
    Rules(Vec<Rule>),
    Count(usize),
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let text = match case.as_str() {
        "lines" | "parse" | "parse-iter" => million_lines(),
        "servers" | "execute" => one_service(),
        "long-line" => "x ".repeat(FIFTY_MB / 2),
        "long-line-early" => format!("-A -A {}", "x ".repeat(FIFTY_MB / 2)),
        "long-token" => format!("-A -f {}", "9".repeat(FIFTY_MB)),
        _ => {
            eprintln!(
                "usage: rules_cost lines|parse|parse-iter|servers|execute|long-line|long-line-early|long-token"
            );
            std::process::exit(2);
        }
    };
    let commands: Vec<Command> = if case == "execute" {
        let key = ServiceKey::tcp("10.255.0.1:80".parse().expect("an address"));
        std::iter::once(Command::AddService(Service::new(key)))
            .chain((0..200_000).map(|i| Command::AddDestination {
                service: key,
                destination: Destination::new(real_server(i).parse().expect("an address")),
            }))
            .collect()
    } else {
        Vec::new()
    };
    let before = peak_kib();
    let start = Instant::now();
    let result = read(&case, &text, &commands);
    let took = start.elapsed();
    let after = peak_kib();
    println!("case: {case}");
    println!("input: {} bytes", text.len());
    println!("read: {:.3} s", took.as_secs_f64());
    println!("result: {}", summary(result));
    println!(
        "peak memory: {} KiB with the input built, {} KiB after the read (+{} KiB)",
        before,
        after,
        after - before
    );
}
