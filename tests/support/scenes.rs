//! The LVS tutorial's practices as scenes: each builds its own namespaces (named after the scene,
//! so scenes run one after another in one boot; all removed on drop), configures IPVS through lvs
//! only (`Ruleset::from_rules`, `Ipvs::in_netns`, `Ipvs::apply`), sends real requests, narrates
//! what a learner should see, and returns its findings for the kernel test to assert on.
//!
//! [`SCENES`] is the demo's table (`tests/harness.sh demo [SCENE | --list]`); the kernel tests are
//! `tests/kernel_scenes.rs`. The two scenes past one director are in `support::directors`
//! (their kernel tests: `tests/kernel_directors.rs`). Addresses follow the tutorial: client 10.0.0.12, director (VIP)
//! 10.0.0.13, real servers 192.168.8.14-16 answering HTTP with their names (`rs14`...).
#![allow(dead_code)] // the kernel tests call the scenes, not the table

use crate::stage::{
    Cert, Client, Counts, Wiring, apply, detail, exec, ipvs_in, listing, modprobe, netns, packets,
    require, serve, show, split, step, wait_http,
};
use crate::support::{HttpServer, Netns, directors};

/// One entry of the demo: a name, one sentence on what it teaches, and the scene.
pub struct Scene {
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn() -> Result<(), String>,
}

/// Every scene, in the demo's order. To add one: a `pub fn NAME() -> Result<FINDINGS, String>`
/// and a line here.
pub const SCENES: &[Scene] = &[
    Scene {
        name: "nat",
        about: "NAT with round robin, then weighted round robin 3:1:1 applied in place",
        run: || nat().map(drop),
    },
    Scene {
        name: "dr",
        about: "direct routing: real servers hold the VIP on lo and answer the client themselves",
        run: || dr().map(drop),
    },
    Scene {
        name: "tun",
        about: "IP tunnelling: real servers in another subnet decapsulate IPIP and answer directly",
        run: || tun().map(drop),
    },
    Scene {
        name: "fwmark",
        about: "firewall mark: nftables marks ports 80 and 443 with 10, one -f 10 service serves both",
        run: || fwmark().map(drop),
    },
    Scene {
        name: "sh",
        about: "source hashing: each client address always reaches the same real server",
        run: || sh().map(drop),
    },
    Scene {
        name: "persistence",
        about: "persistence (-p): a client stays on its real server while the timeout runs",
        run: || persistence().map(drop),
    },
    Scene {
        name: "wrr",
        about: "weighted round robin 1:2:3 over three real servers: an exact split",
        run: || wrr().map(drop),
    },
    Scene {
        name: "multi-port",
        about: "two services on one VIP: HTTP on 80 over three servers, HTTPS on 443 over two",
        run: || multi_port().map(drop),
    },
    Scene {
        name: "nat-two-hop",
        about: "NAT with the real servers behind a second router (the tutorial's advanced practice)",
        run: || nat_two_hop().map(drop),
    },
    Scene {
        name: "active-backup",
        about: "two directors: the sync daemon and keepalived's VRRP carry a connection through a failover",
        run: || directors::active_backup().map(drop),
    },
    Scene {
        name: "scale-out",
        about: "three directors behind an ECMP route, mh with DR: a transfer outlives its director",
        run: || directors::scale_out().map(drop),
    },
];

const NAMES: [&str; 3] = ["rs14", "rs15", "rs16"];
const SERVERS: [(&str, &str); 3] = [
    ("rs14", "192.168.8.14"),
    ("rs15", "192.168.8.15"),
    ("rs16", "192.168.8.16"),
];

/// The tutorial's NAT lab, named after its scene:
///
/// ```text
///  client 10.0.0.12 (+ .22) --veth-- 10.0.0.13 director (ip_forward=1) br0 192.168.8.13
///                                        |-- rs14 192.168.8.14, rs15 .15, rs16 .16 (gw .13)
/// ```
/// `servers` picks the real servers (from 14, 15, 16); `tls` gives them HTTPS on 443 too.
struct NatStage {
    // Field order matters on drop: servers die first, then the namespaces are deleted.
    servers: Vec<HttpServer>,
    client: Netns,
    director: Netns,
    real: Vec<Netns>,
    cert: Option<Cert>,
}

impl NatStage {
    fn new(scene: &str, octets: &[u8], tls: &[u8]) -> Result<NatStage, String> {
        let cert = if tls.is_empty() {
            None
        } else {
            Some(Cert::new("10.0.0.13")?)
        };
        let client = netns(&format!("{scene}-client"));
        let director = netns(&format!("{scene}-director"));
        let real: Vec<Netns> = octets
            .iter()
            .map(|s| netns(&format!("{scene}-rs{s}")))
            .collect();
        let mut wiring = Wiring::default();
        wiring.veth(&client, "eth0", &director, "eth0");
        wiring.addr(&client, "eth0", "10.0.0.12/24");
        wiring.addr(&director, "eth0", "10.0.0.13/24");
        wiring.bridge(&director, "br0");
        wiring.addr(&director, "br0", "192.168.8.13/24");
        wiring.sysctl(&director, "net.ipv4.ip_forward", "1");
        for (s, ns) in octets.iter().zip(&real) {
            wiring.plug(ns, "eth0", &director, &format!("rs{s}"), "br0");
            wiring.addr(ns, "eth0", &format!("192.168.8.{s}/24"));
            wiring.ip(ns, "route add default via 192.168.8.13");
        }
        wiring.build()?;
        let mut servers = Vec::new();
        for (s, ns) in octets.iter().zip(&real) {
            let with_tls = if tls.contains(s) { cert.as_ref() } else { None };
            servers.push(serve(ns, &format!("rs{s}"), with_tls));
        }
        let mut urls = Vec::new();
        for s in octets {
            urls.push((format!("http://192.168.8.{s}/"), format!("rs{s}")));
            if tls.contains(s) {
                urls.push((format!("https://192.168.8.{s}/"), format!("rs{s}")));
            }
        }
        wait_http(&director, &urls)?;
        Ok(NatStage {
            servers,
            client,
            director,
            real,
            cert,
        })
    }

    /// A second client address, 10.0.0.22, on the client's interface.
    fn second_client(&self) {
        self.client
            .ip(&["addr", "add", "10.0.0.22/24", "dev", "eth0"]);
    }

    fn client(&self) -> Client<'_> {
        Client {
            ns: &self.client,
            next_port: 40000,
        }
    }
}

/// `(http://NET.S/, rsS)` for every real server `S`: what [`wait_http`] polls for.
fn urls(net: &str, octets: &[u8]) -> Vec<(String, String)> {
    octets
        .iter()
        .map(|s| (format!("http://{net}.{s}/"), format!("rs{s}")))
        .collect()
}

fn rules_rr(vip: &str, forward: &str, reals: &[&str]) -> String {
    let mut rules = format!("-A -t {vip} -s rr\n");
    for r in reals {
        rules.push_str(&format!("-a -t {vip} -r {r} {forward}\n"));
    }
    rules
}

// ---- nat -----------------------------------------------------------------------------------

/// What the `nat` scene saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatFindings {
    /// 9 requests under round robin, per real server.
    pub rr: Counts,
    /// 10 requests under weighted round robin 3:1:1.
    pub wrr: Counts,
    /// Changes a second apply of the same ruleset would send.
    pub second_apply: usize,
}

/// The tutorial's NAT practice: rr over three real servers, then wrr 3:1:1 in place.
pub fn nat() -> Result<NatFindings, String> {
    step("building the lab: client 10.0.0.12, director 10.0.0.13, real servers 192.168.8.14-16");
    let lab = NatStage::new("nat", &[14, 15, 16], &[])?;
    let ipvs = ipvs_in(&lab.director)?;
    let info = ipvs.info().map_err(|e| e.to_string())?;
    detail(&format!(
        "IPVS {} in the director's namespace, {} connection buckets",
        info.version, info.conn_table_size
    ));
    let mut client = lab.client();

    step("lvs applies the NAT service, round robin (ipvsadm -A -t 10.0.0.13:80 -s rr; -a ... -m)");
    apply(
        &ipvs,
        &rules_rr(
            "10.0.0.13:80",
            "-m",
            &["192.168.8.14", "192.168.8.15", "192.168.8.16"],
        ),
    )?;
    step("9 requests from the client to http://10.0.0.13/");
    let rr = client.ask("http://10.0.0.13/", None, 9)?;
    show(&rr, &SERVERS);

    step("lvs applies the weighted variant 3:1:1: edited in place, nothing deleted");
    let weighted = "-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15 -m -w 1
-a -t 10.0.0.13:80 -r 192.168.8.16 -m -w 1
";
    apply(&ipvs, weighted)?;
    step("10 requests");
    let wrr = client.ask("http://10.0.0.13/", None, 10)?;
    show(&wrr, &SERVERS);

    step("the same ruleset again: nothing to send");
    let desired = lvs::Ruleset::from_rules(weighted).map_err(|e| e.to_string())?;
    let again = ipvs
        .plan(&desired, &lvs::netlink::ApplyOptions::default())
        .map_err(|e| e.to_string())?;
    detail(&format!("{} change(s)", again.len()));

    step("lvsadm -Ln --stats");
    listing(&ipvs, true)?;
    Ok(NatFindings {
        rr,
        wrr,
        second_apply: again.len(),
    })
}

// ---- dr and tun: the director sees only the requests -----------------------------------------

/// What a direct-return scene (`dr`, `tun`) saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectFindings {
    /// 9 requests under round robin, per real server.
    pub answers: Counts,
    /// The service's IPVS counters: packets from the client (in) and to it (out).
    pub inpkts: u64,
    pub outpkts: u64,
    /// Packets the client's interface sent and received during the requests.
    pub client_tx: u64,
    pub client_rx: u64,
    /// Packets the director's interface received during the requests.
    pub director_rx: u64,
}

/// Sends 9 requests to the VIP and measures who saw which direction.
fn direct_requests(
    client: &Netns,
    director: &Netns,
    ipvs: &lvs::netlink::Ipvs,
    servers: &[(&str, &str)],
) -> Result<DirectFindings, String> {
    let (client_rx0, client_tx0) = packets(client, "eth0")?;
    let (director_rx0, _) = packets(director, "eth0")?;
    step("9 requests from the client to http://10.0.0.100/");
    let answers = Client {
        ns: client,
        next_port: 40000,
    }
    .ask("http://10.0.0.100/", None, 9)?;
    show(&answers, servers);
    let (client_rx1, client_tx1) = packets(client, "eth0")?;
    let (director_rx1, _) = packets(director, "eth0")?;

    step("lvsadm -Ln --stats: IPVS counted the requests (InPkts), never a reply (OutPkts)");
    let stats = listing(ipvs, true)?;
    let found = DirectFindings {
        answers,
        inpkts: stats.inpkts,
        outpkts: stats.outpkts,
        client_tx: client_tx1 - client_tx0,
        client_rx: client_rx1 - client_rx0,
        director_rx: director_rx1 - director_rx0,
    };
    step("packet counters of the interfaces (ip -s link) during the requests");
    detail(&format!(
        "client eth0:   sent {:>4}, received {:>4}",
        found.client_tx, found.client_rx
    ));
    detail(&format!(
        "director eth0: received {:>4}: about what the client sent, none of the replies",
        found.director_rx
    ));
    Ok(found)
}

/// Direct routing: client, director and real servers on one switch; the real servers hold the
/// VIP on `lo` without answering ARP for it (arp_ignore=1, arp_announce=2) and reply straight to
/// the client.
pub fn dr() -> Result<DirectFindings, String> {
    step(
        "building the lab: one switch; client 10.0.0.12, director 10.0.0.13 with the VIP 10.0.0.100, real servers 10.0.0.14-16",
    );
    let switch = netns("dr-switch");
    let client = netns("dr-client");
    let director = netns("dr-director");
    let real: Vec<Netns> = [14, 15, 16]
        .iter()
        .map(|s| netns(&format!("dr-rs{s}")))
        .collect();
    let mut wiring = Wiring::default();
    wiring.bridge(&switch, "br0");
    wiring.ip(&switch, "link set br0 up");
    wiring.plug(&client, "eth0", &switch, "client", "br0");
    wiring.plug(&director, "eth0", &switch, "director", "br0");
    wiring.addr(&client, "eth0", "10.0.0.12/24");
    wiring.addr(&director, "eth0", "10.0.0.13/24");
    wiring.ip(&director, "addr add 10.0.0.100/32 dev eth0");
    for (s, ns) in [14, 15, 16].iter().zip(&real) {
        wiring.plug(ns, "eth0", &switch, &format!("rs{s}"), "br0");
        // The tutorial's peers: answer ARP only for addresses of the asking interface, and
        // announce only the interface's own address, so the VIP on lo stays the director's.
        for dev in ["all", "eth0"] {
            wiring.sysctl(ns, &format!("net.ipv4.conf.{dev}.arp_ignore"), "1");
            wiring.sysctl(ns, &format!("net.ipv4.conf.{dev}.arp_announce"), "2");
        }
        wiring.addr(ns, "eth0", &format!("10.0.0.{s}/24"));
        wiring.ip(ns, "addr add 10.0.0.100/32 dev lo");
    }
    wiring.build()?;
    let servers: Vec<HttpServer> = [14, 15, 16]
        .iter()
        .zip(&real)
        .map(|(s, ns)| serve(ns, &format!("rs{s}"), None))
        .collect();
    wait_http(&director, &urls("10.0.0", &[14, 15, 16]))?;
    detail("real servers: VIP 10.0.0.100/32 on lo, arp_ignore=1, arp_announce=2");

    step("lvs applies the DR service (ipvsadm -A -t 10.0.0.100:80 -s rr; -a ... -g)");
    let ipvs = ipvs_in(&director)?;
    apply(
        &ipvs,
        &rules_rr(
            "10.0.0.100:80",
            "-g",
            &["10.0.0.14", "10.0.0.15", "10.0.0.16"],
        ),
    )?;
    let found = direct_requests(
        &client,
        &director,
        &ipvs,
        &[
            ("rs14", "10.0.0.14"),
            ("rs15", "10.0.0.15"),
            ("rs16", "10.0.0.16"),
        ],
    )?;
    drop(servers);
    Ok(found)
}

/// IP tunnelling: the real servers sit in 172.16.0.0/24 behind a router, receive the requests
/// inside IPIP from the director, decapsulate them on `tunl0` (which holds the VIP) and reply
/// through the router, never through the director.
pub fn tun() -> Result<DirectFindings, String> {
    modprobe(
        "ipip",
        "the real servers of the tun scene decapsulate IPIP on tunl0 (CONFIG_NET_IPIP)",
    )?;
    step(
        "building the lab: client 10.0.0.12 and director 10.0.0.13 (VIP 10.0.0.100) on one side of a router, real servers 172.16.0.14-16 on the other",
    );
    let router = netns("tun-router");
    let client = netns("tun-client");
    let director = netns("tun-director");
    let real: Vec<Netns> = [14, 15, 16]
        .iter()
        .map(|s| netns(&format!("tun-rs{s}")))
        .collect();
    let mut wiring = Wiring::default();
    wiring.sysctl(&router, "net.ipv4.ip_forward", "1");
    for (bridge, addr) in [("br0", "10.0.0.1/24"), ("br1", "172.16.0.1/24")] {
        wiring.bridge(&router, bridge);
        wiring.addr(&router, bridge, addr);
    }
    for (ns, port, addr) in [
        (&client, "client", "10.0.0.12/24"),
        (&director, "director", "10.0.0.13/24"),
    ] {
        wiring.plug(ns, "eth0", &router, port, "br0");
        wiring.addr(ns, "eth0", addr);
        wiring.ip(ns, "route add default via 10.0.0.1");
    }
    wiring.ip(&director, "addr add 10.0.0.100/32 dev eth0");
    for (s, ns) in [14, 15, 16].iter().zip(&real) {
        wiring.plug(ns, "eth0", &router, &format!("rs{s}"), "br1");
        wiring.addr(ns, "eth0", &format!("172.16.0.{s}/24"));
        wiring.ip(ns, "route add default via 172.16.0.1");
        // The decapsulated request arrives on tunl0 from a client routed via eth0: no
        // reverse-path filter.
        wiring.addr(ns, "tunl0", "10.0.0.100/32");
        for dev in ["all", "tunl0"] {
            wiring.sysctl(ns, &format!("net.ipv4.conf.{dev}.rp_filter"), "0");
        }
    }
    wiring.build().map_err(|e| {
        if e.contains("tunl0") {
            format!(
                "a real server has no tunl0 although ipip is loaded (net.core.fb_tunnels_only_for_init_net?): {e}"
            )
        } else {
            e
        }
    })?;
    let servers: Vec<HttpServer> = [14, 15, 16]
        .iter()
        .zip(&real)
        .map(|(s, ns)| serve(ns, &format!("rs{s}"), None))
        .collect();
    wait_http(&director, &urls("172.16.0", &[14, 15, 16]))?;
    detail(
        "real servers: tunl0 up with the VIP 10.0.0.100/32, rp_filter=0, default route via the router",
    );

    step("lvs applies the TUN service (ipvsadm -A -t 10.0.0.100:80 -s rr; -a ... -i)");
    let ipvs = ipvs_in(&director)?;
    apply(
        &ipvs,
        &rules_rr(
            "10.0.0.100:80",
            "-i",
            &["172.16.0.14", "172.16.0.15", "172.16.0.16"],
        ),
    )?;
    let found = direct_requests(
        &client,
        &director,
        &ipvs,
        &[
            ("rs14", "172.16.0.14"),
            ("rs15", "172.16.0.15"),
            ("rs16", "172.16.0.16"),
        ],
    )?;
    drop(servers);
    Ok(found)
}

// ---- fwmark --------------------------------------------------------------------------------

/// What the `fwmark` scene saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwmarkFindings {
    /// 6 HTTP requests (port 80), per real server.
    pub http: Counts,
    /// 6 HTTPS requests (port 443), per real server.
    pub https: Counts,
    /// Connections the one `-f 10` service scheduled.
    pub conns: u64,
}

/// The tutorial's firewall-mark practice: nftables marks TCP 80 and 443 to the VIP with 10 in
/// the director's prerouting (mangle priority), and one `-f 10` service balances both.
pub fn fwmark() -> Result<FwmarkFindings, String> {
    require(
        "nft",
        "the fwmark scene marks packets with nftables (tests/harness.sh setup installs it)",
    )?;
    step(
        "building the lab: client 10.0.0.12, director 10.0.0.13, real servers 192.168.8.14-16 with HTTP and HTTPS",
    );
    let lab = NatStage::new("fwmark", &[14, 15, 16], &[14, 15, 16])?;

    step("the mangle rule (nft; the tutorial's iptables -t mangle ... --set-mark 10)");
    let ruleset = "table ip lvs_mangle {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr 10.0.0.13 tcp dport { 80, 443 } meta mark set 10
  }
}
";
    let file = std::env::temp_dir().join(format!("lvs-scene-fwmark-{}.nft", std::process::id()));
    std::fs::write(&file, ruleset).map_err(|e| format!("{}: {e}", file.display()))?;
    let loaded = exec(
        &lab.director,
        "timeout",
        &["20", "nft", "-f", &file.display().to_string()],
    );
    let _ = std::fs::remove_file(&file);
    loaded.map_err(|e| format!("nftables refused the mangle rule: {e}"))?;
    detail("ip daddr 10.0.0.13 tcp dport { 80, 443 } meta mark set 10");

    step("lvs applies one service for the mark (ipvsadm -A -f 10; -a -f 10 -r ... -m)");
    let ipvs = ipvs_in(&lab.director)?;
    apply(
        &ipvs,
        "-A -f 10 -s rr
-a -f 10 -r 192.168.8.14 -m
-a -f 10 -r 192.168.8.15 -m
-a -f 10 -r 192.168.8.16 -m
",
    )?;
    let mut client = lab.client();
    step("6 requests to http://10.0.0.13/");
    let http = client.ask("http://10.0.0.13/", None, 6)?;
    show(&http, &SERVERS);
    step("6 requests to https://10.0.0.13/ (certificate not checked)");
    let https = client.ask("https://10.0.0.13/", None, 6)?;
    show(&https, &SERVERS);

    step("lvsadm -Ln --stats: both ports went through the one FWM 10 service");
    let stats = listing(&ipvs, true)?;
    let rule = exec(
        &lab.director,
        "nft",
        &["list", "chain", "ip", "lvs_mangle", "prerouting"],
    )?;
    if let Some(line) = rule.lines().find(|l| l.contains("mark set")) {
        detail(&format!("nft: {}", line.trim()));
    }
    Ok(FwmarkFindings {
        http,
        https,
        conns: stats.conns,
    })
}

// ---- sh and persistence: stickiness --------------------------------------------------------

/// What a stickiness scene (`sh`, `persistence`) saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickyFindings {
    /// Requests from client A (10.0.0.12), per real server.
    pub client_a: Counts,
    /// Requests from client B (10.0.0.22), per real server.
    pub client_b: Counts,
}

/// Six requests from each client, twice interleaved, shown per client.
fn two_clients(lab: &NatStage) -> Result<StickyFindings, String> {
    lab.second_client();
    let mut client = lab.client();
    let mut a = Counts::new();
    let mut b = Counts::new();
    for round in 1..=2 {
        step(&format!(
            "round {round}: 3 requests from client A (10.0.0.12), then 3 from client B (10.0.0.22)"
        ));
        for (counts, source, label) in [(&mut a, "10.0.0.12", "A"), (&mut b, "10.0.0.22", "B")] {
            let got = client.ask("http://10.0.0.13/", Some(source), 3)?;
            let said: Vec<String> = got.iter().map(|(k, v)| format!("{k} x{v}")).collect();
            detail(&format!("client {label}: {}", said.join(", ")));
            for (k, v) in got {
                *counts.entry(k).or_insert(0) += v;
            }
        }
    }
    step("in all");
    detail("client A (10.0.0.12):");
    show(&a, &SERVERS);
    detail("client B (10.0.0.22):");
    show(&b, &SERVERS);
    Ok(StickyFindings {
        client_a: a,
        client_b: b,
    })
}

/// The tutorial's SH practice: the scheduler hashes the client's address, so each client keeps
/// its real server for every new connection.
pub fn sh() -> Result<StickyFindings, String> {
    step(
        "building the lab: clients 10.0.0.12 and 10.0.0.22, director 10.0.0.13, real servers 192.168.8.14-16",
    );
    let lab = NatStage::new("sh", &[14, 15, 16], &[])?;
    step("lvs applies the service with source hashing (ipvsadm -A -t 10.0.0.13:80 -s sh)");
    let ipvs = ipvs_in(&lab.director)?;
    apply(
        &ipvs,
        &rules_rr(
            "10.0.0.13:80",
            "-m",
            &["192.168.8.14", "192.168.8.15", "192.168.8.16"],
        )
        .replace("-s rr", "-s sh"),
    )?;
    let found = two_clients(&lab)?;
    step("lvsadm -Ln");
    listing(&ipvs, false)?;
    Ok(found)
}

/// Persistence: round robin places a client's first connection, and for the persistence
/// timeout (`-p 60`) every new connection from that address follows it.
pub fn persistence() -> Result<StickyFindings, String> {
    step(
        "building the lab: clients 10.0.0.12 and 10.0.0.22, director 10.0.0.13, real servers 192.168.8.14-16",
    );
    let lab = NatStage::new("persist", &[14, 15, 16], &[])?;
    step("lvs applies round robin with persistence (ipvsadm -A -t 10.0.0.13:80 -s rr -p 60)");
    let ipvs = ipvs_in(&lab.director)?;
    apply(
        &ipvs,
        &rules_rr(
            "10.0.0.13:80",
            "-m",
            &["192.168.8.14", "192.168.8.15", "192.168.8.16"],
        )
        .replace("-s rr", "-s rr -p 60"),
    )?;
    let found = two_clients(&lab)?;
    step("lvsadm -Ln: the service is persistent for 60 s");
    listing(&ipvs, false)?;
    Ok(found)
}

// ---- wrr -----------------------------------------------------------------------------------

/// What the `wrr` scene saw: 12 requests, per real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrrFindings {
    pub answers: Counts,
}

/// The tutorial's WRR practice: weights 1, 2 and 3 give 2, 4 and 6 of 12 requests.
pub fn wrr() -> Result<WrrFindings, String> {
    step("building the lab: client 10.0.0.12, director 10.0.0.13, real servers 192.168.8.14-16");
    let lab = NatStage::new("wrr", &[14, 15, 16], &[])?;
    step(
        "lvs applies weighted round robin 1:2:3 (ipvsadm -A -t 10.0.0.13:80 -s wrr; -a ... -m -w N)",
    );
    let ipvs = ipvs_in(&lab.director)?;
    apply(
        &ipvs,
        "-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14 -m -w 1
-a -t 10.0.0.13:80 -r 192.168.8.15 -m -w 2
-a -t 10.0.0.13:80 -r 192.168.8.16 -m -w 3
",
    )?;
    step("12 requests to http://10.0.0.13/");
    let answers = lab.client().ask("http://10.0.0.13/", None, 12)?;
    show(&answers, &SERVERS);
    step("lvsadm -Ln");
    listing(&ipvs, false)?;
    Ok(WrrFindings { answers })
}

// ---- multi-port ----------------------------------------------------------------------------

/// What the `multi-port` scene saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiPortFindings {
    /// 6 HTTP requests to 10.0.0.13:80, per real server.
    pub http: Counts,
    /// 6 HTTPS requests to 10.0.0.13:443, per real server.
    pub https: Counts,
}

/// The tutorial's multi-service NAT: HTTP on port 80 over rs14-16, HTTPS on 443 over rs14 and
/// rs15 (the two with a certificate), two services on one VIP.
pub fn multi_port() -> Result<MultiPortFindings, String> {
    step(
        "building the lab: real servers 192.168.8.14-16 with HTTP, rs14 and rs15 also HTTPS (a certificate made by openssl now)",
    );
    let lab = NatStage::new("multi", &[14, 15, 16], &[14, 15])?;
    step(
        "lvs applies two services on the VIP (ipvsadm -A -t 10.0.0.13:80 ...; -A -t 10.0.0.13:443 ...)",
    );
    let ipvs = ipvs_in(&lab.director)?;
    let mut rules = rules_rr(
        "10.0.0.13:80",
        "-m",
        &["192.168.8.14", "192.168.8.15", "192.168.8.16"],
    );
    rules.push_str(&rules_rr(
        "10.0.0.13:443",
        "-m",
        &["192.168.8.14:443", "192.168.8.15:443"],
    ));
    apply(&ipvs, &rules)?;
    let mut client = lab.client();
    step("6 requests to http://10.0.0.13/");
    let http = client.ask("http://10.0.0.13/", None, 6)?;
    show(&http, &SERVERS);
    step("6 requests to https://10.0.0.13/ (certificate not checked)");
    let https = client.ask("https://10.0.0.13/", None, 6)?;
    show(&https, &SERVERS[..2]);
    step("lvsadm -Ln --stats");
    listing(&ipvs, true)?;
    Ok(MultiPortFindings { http, https })
}

// ---- nat-two-hop ---------------------------------------------------------------------------

/// What the `nat-two-hop` scene saw: 8 requests, per real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoHopFindings {
    pub answers: Counts,
}

/// The tutorial's advanced NAT practice: the real servers are not on the director's network
/// but behind host 16, a router; the director routes 192.168.8.0/24 via it, it routes the
/// client network back via the director, and the real servers' default route is the router.
pub fn nat_two_hop() -> Result<TwoHopFindings, String> {
    step(
        "building the lab: client 10.0.0.12 -- director 10.0.0.13/172.168.100.13 -- router 172.168.100.16/192.168.8.16 -- rs14, rs15",
    );
    let client = netns("hop-client");
    let director = netns("hop-director");
    let router = netns("hop-router");
    let real: Vec<Netns> = [14, 15]
        .iter()
        .map(|s| netns(&format!("hop-rs{s}")))
        .collect();
    let mut wiring = Wiring::default();
    wiring.veth(&client, "eth0", &director, "eth0");
    wiring.addr(&client, "eth0", "10.0.0.12/24");
    wiring.addr(&director, "eth0", "10.0.0.13/24");
    wiring.veth(&director, "eth1", &router, "eth0");
    wiring.addr(&director, "eth1", "172.168.100.13/24");
    wiring.addr(&router, "eth0", "172.168.100.16/24");
    wiring.bridge(&router, "br0");
    wiring.addr(&router, "br0", "192.168.8.16/24");
    for ns in [&director, &router] {
        wiring.sysctl(ns, "net.ipv4.ip_forward", "1");
    }
    wiring.ip(&director, "route add 192.168.8.0/24 via 172.168.100.16");
    wiring.ip(&router, "route add 10.0.0.0/24 via 172.168.100.13");
    for (s, ns) in [14, 15].iter().zip(&real) {
        wiring.plug(ns, "eth0", &router, &format!("rs{s}"), "br0");
        wiring.addr(ns, "eth0", &format!("192.168.8.{s}/24"));
        wiring.ip(ns, "route add default via 192.168.8.16");
    }
    wiring.build()?;
    let servers: Vec<HttpServer> = [14, 15]
        .iter()
        .zip(&real)
        .map(|(s, ns)| serve(ns, &format!("rs{s}"), None))
        .collect();
    wait_http(&director, &urls("192.168.8", &[14, 15]))?;
    detail("director: 192.168.8.0/24 via 172.168.100.16; router: 10.0.0.0/24 via 172.168.100.13");
    detail("real servers: default via 192.168.8.16 (the router, not the director)");

    step("lvs applies the NAT service (ipvsadm -A -t 10.0.0.13:80 -s rr; -a ... -m)");
    let ipvs = ipvs_in(&director)?;
    apply(
        &ipvs,
        &rules_rr("10.0.0.13:80", "-m", &["192.168.8.14", "192.168.8.15"]),
    )?;
    step("8 requests from the client to http://10.0.0.13/");
    let (rx0, tx0) = packets(&router, "eth0")?;
    let answers = Client {
        ns: &client,
        next_port: 40000,
    }
    .ask("http://10.0.0.13/", None, 8)?;
    show(&answers, &SERVERS[..2]);
    let (rx1, tx1) = packets(&router, "eth0")?;
    detail(&format!(
        "the router's link to the director meanwhile: {} packets in, {} out (requests and replies)",
        rx1 - rx0,
        tx1 - tx0
    ));
    step("lvsadm -Ln --stats");
    listing(&ipvs, true)?;
    drop(servers);
    Ok(TwoHopFindings { answers })
}

/// The per-server split of `counts` in the order rs14, rs15, rs16 (for the tests).
pub fn split3(counts: &Counts) -> Vec<usize> {
    split(counts, &NAMES)
}
