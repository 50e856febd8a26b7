//! W5 of the benchmark issue: reading and writing a 1,000,000-line rule file on the host.
//!
//! `cargo bench -p lvs-core --bench rules` reports throughput in bytes per second for
//! parsing (text to commands: a vector of every rule with `parse`, or one rule at a time with
//! `parse_iter`, each dropped once counted), reading (text to a ruleset, with the kernel's
//! checks) and printing (ruleset to text, sorted as ipvsadm sorts).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lvs_core::Ruleset;
use lvs_core::rules::{SaveOptions, parse, parse_iter, save};
use std::fmt::Write;
use std::hint::black_box;

/// 200,000 services with 4 real servers each: 1,000,000 lines in `ipvsadm -Sn` form.
pub fn rule_file(services: u32) -> String {
    let mut text = String::with_capacity(services as usize * 240);
    for i in 0..services {
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

fn rules(c: &mut Criterion) {
    let text = rule_file(200_000);
    let ruleset = Ruleset::from_rules(&text).expect("the generated rules are valid");
    let mut group = c.benchmark_group("rules-1M-lines");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse(black_box(&text)).map(|r| r.len()))
    });
    group.bench_function("parse_iter (one rule at a time)", |b| {
        b.iter(|| parse_iter(black_box(&text)).try_fold(0usize, |n, r| r.map(|_| n + 1)))
    });
    group.bench_function("read (parse + kernel checks)", |b| {
        b.iter(|| Ruleset::from_rules(black_box(&text)).map(|r| r.services.len()))
    });
    group.bench_function("print", |b| {
        b.iter(|| save(black_box(&ruleset), SaveOptions::IPVSADM).len())
    });
    group.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
