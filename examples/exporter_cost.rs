//! What `lvs::exporter::encode` costs on its own, without a kernel: 10,000 services x 4 real
//! servers in the fake kernel, encoded three times (BENCHMARKS.md, "The exporter").
//!
//! `cargo run --release --features exporter --example exporter_cost`

fn main() {
    let kernel = lvs::netlink::fake::FakeKernel::new();
    let ipvs = kernel.ipvs().unwrap();
    let mut rules = String::new();
    for i in 0..10000u32 {
        let vip = format!("10.{}.{}.{}:80", i / 62500, i / 250 % 250, i % 250 + 1);
        rules.push_str(&format!("-A -t {vip} -s rr\n"));
        for d in 0..4 {
            rules.push_str(&format!(
                "-a -t {vip} -r 192.168.{d}.{}:8080 -m -w 1\n",
                i % 250 + 1
            ));
        }
    }
    ipvs.apply(
        &lvs::Ruleset::from_rules(&rules).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let snap = ipvs.snapshot().unwrap();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let text = lvs::exporter::encode(snap.clone(), std::time::Instant::now()).unwrap();
        eprintln!("encode: {:?} {} bytes", t.elapsed(), text.len());
    }
}
