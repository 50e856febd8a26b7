//! The seed tutorial's "NAT实践" as a real data path through IPVS: a client, a director doing NAT,
//! and three real servers answering their own names, all in network namespaces made here (inside
//! the harness's VM). Run by `tests/harness.sh test`.
//!
//! ```text
//!  client 10.0.0.12 --veth-- 10.0.0.13 director (ip_forward=1) br0 192.168.8.13
//!                                                   |-- veth -- rs14 192.168.8.14 (gw .13)
//!                                                   |-- veth -- rs15 192.168.8.15 (gw .13)
//!                                                   `-- veth -- rs16 192.168.8.16 (gw .13)
//! ```

mod support;

use std::collections::BTreeMap;
use std::time::Duration;
use support::{HttpServer, Netns, tally, veth};

const VIP: &str = "10.0.0.13:80";
const SERVERS: [&str; 3] = ["14", "15", "16"];

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
    let want: BTreeMap<String, usize> =
        SERVERS.iter().map(|s| format!("rs{s}")).zip(want).collect();
    assert_eq!(got, &want, "answers per real server");
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn nat_rr_then_wrr_distributes_requests() {
    // Field order matters on drop: servers die first, then the namespaces are deleted.
    let client = Netns::new("client");
    let director = Netns::new("director");
    let real: Vec<Netns> = SERVERS
        .iter()
        .map(|s| Netns::new(&format!("rs{s}")))
        .collect();

    veth(&client, "eth0", &director, "eth0");
    client.addr("eth0", "10.0.0.12/24");
    director.addr("eth0", "10.0.0.13/24");
    director.ip(&["link", "add", "br0", "type", "bridge"]);
    director.addr("br0", "192.168.8.13/24");
    director.sysctl("net.ipv4.ip_forward", "1");

    let mut servers: Vec<HttpServer> = Vec::new();
    for (s, ns) in SERVERS.iter().zip(&real) {
        let port_dev = format!("rs{s}");
        veth(ns, "eth0", &director, &port_dev);
        director.ip(&["link", "set", &port_dev, "master", "br0"]);
        ns.addr("eth0", &format!("192.168.8.{s}/24"));
        ns.ip(&["route", "add", "default", "via", "192.168.8.13"]);
        servers.push(ns.http_server("0.0.0.0", 80, &format!("rs{s}")));
    }
    for s in SERVERS {
        director.wait_for_http(
            &format!("http://192.168.8.{s}/"),
            &format!("rs{s}"),
            Duration::from_secs(60),
        );
    }

    // ipvsadm -A -t 10.0.0.13:80 -s rr; -a ... -m for each real server
    director.ipvsadm_ok(&["-A", "-t", VIP, "-s", "rr"]);
    for s in SERVERS {
        director.ipvsadm_ok(&["-a", "-t", VIP, "-r", &format!("192.168.8.{s}"), "-m"]);
    }
    expect_counts(&ask(&client, 9, 40000), [3, 3, 3]);

    // The tutorial's switch to weighted round robin: -E -s wrr, -e ... -w 3 -m (others stay 1).
    director.ipvsadm_ok(&["-E", "-t", VIP, "-s", "wrr"]);
    director.ipvsadm_ok(&["-e", "-t", VIP, "-r", "192.168.8.14:80", "-w", "3", "-m"]);
    expect_counts(&ask(&client, 10, 41000), [6, 2, 2]);

    drop(servers);
}
