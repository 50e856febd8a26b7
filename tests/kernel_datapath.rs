//! The seed tutorial's "NAT实践" as a real data path through IPVS: a client, a director doing NAT,
//! and three real servers answering their own names, all in network namespaces made here (inside
//! the harness's VM). Run by `tests/harness.sh test`.
//! The namespaces are `support::NatLab`.

mod support;

use std::collections::BTreeMap;
use support::{LAB_SERVERS, NatLab, Netns, tally};

const VIP: &str = "10.0.0.13:80";

/// `n` requests from the client to the VIP, each on its own client port (`first_port + i`), so
/// every one is a new connection; returns how many each real server answered.
#[track_caller]
fn ask(client: &Netns, n: u16, first_port: u16) -> BTreeMap<String, usize> {
    tally((0..n).map(|i| {
        client
            .curl("http://10.0.0.13/", Some(first_port + i))
            .unwrap_or_else(|| panic!("request {i} to {VIP} through IPVS failed"))
    }))
}

#[track_caller]
fn expect_counts(got: &BTreeMap<String, usize>, want: [usize; 3]) {
    let want: BTreeMap<String, usize> = LAB_SERVERS
        .iter()
        .map(|s| format!("rs{s}"))
        .zip(want)
        .collect();
    assert_eq!(got, &want, "answers per real server");
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn nat_rr_then_wrr_distributes_requests() {
    let lab = NatLab::new();
    let director = &lab.director;

    // ipvsadm -A -t 10.0.0.13:80 -s rr; -a ... -m for each real server
    director.ipvsadm_ok(&["-A", "-t", VIP, "-s", "rr"]);
    for s in LAB_SERVERS {
        director.ipvsadm_ok(&["-a", "-t", VIP, "-r", &format!("192.168.8.{s}"), "-m"]);
    }
    expect_counts(&ask(&lab.client, 9, 40000), [3, 3, 3]);

    // The tutorial's switch to weighted round robin: -E -s wrr, -e ... -w 3 -m (others stay 1).
    director.ipvsadm_ok(&["-E", "-t", VIP, "-s", "wrr"]);
    director.ipvsadm_ok(&["-e", "-t", VIP, "-r", "192.168.8.14:80", "-w", "3", "-m"]);
    expect_counts(&ask(&lab.client, 10, 41000), [6, 2, 2]);
}
