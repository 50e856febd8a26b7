//! Every field round-trips through the kernel: written by lvs and read back by lvs and by
//! `ipvsadm -Sn`; written by `ipvsadm -R` and read by lvs.

mod support;

use lvs_core::ServiceEntry;
use support::*;

/// Every feature ipvsadm 1.31 can set, on IPv4, IPv6, TCP, UDP, SCTP and firewall marks, with
/// every scheduler the Debian kernel has.
pub const EVERYTHING: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 1
-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -g -w 0
-a -t 10.0.0.1:80 -r 192.168.1.3:80 -i -w 5 -x 100 -y 10
-A -u 10.0.0.2:53 -s wrr -o
-a -u 10.0.0.2:53 -r 192.168.1.4:53 -m -w 3
-A --sctp-service 10.0.0.3:5000 -s lc
-a --sctp-service 10.0.0.3:5000 -r 192.168.1.5:5000 -m -w 2
-A -t [2001:db8::1]:443 -s wlc -p 300 -M 64
-a -t [2001:db8::1]:443 -r [2001:db8:1::1]:443 -m -w 1
-a -t [2001:db8::1]:443 -r [2001:db8:1::2]:443 -g -w 65535
-A -f 1 -s sh -b sh-fallback,sh-port
-a -f 1 -r 192.168.1.6:0 -g -w 1
-A -f 2 -6 -s mh -b mh-fallback,mh-port
-a -f 2 -6 -r [2001:db8:1::3]:0 -g -w 1
-A -t 10.0.0.4:0 -s fo -p 60 -M 255.255.255.0
-A -u 10.0.0.5:5060 -s ovf -p 120 --pe sip
-A -t 10.0.0.6:80 -s lblc
-A -t 10.0.0.7:80 -s lblcr -b flag-1,flag-2,flag-3
-A -t 10.0.0.8:80 -s dh
-A -t 10.0.0.9:80 -s sed -p
-A -u 10.0.0.10:80 -s nq -o
-A -t 10.0.0.11:80 -s rr
-a -t 10.0.0.11:80 -r 192.168.2.1:80 -i --tun-type ipip
-a -t 10.0.0.11:80 -r 192.168.2.2:80 -i --tun-type gue --tun-port 6080 --tun-nocsum
-a -t 10.0.0.11:80 -r 192.168.2.3:80 -i --tun-type gue --tun-port 6081 --tun-csum
-a -t 10.0.0.11:80 -r 192.168.2.4:80 -i --tun-type gue --tun-port 6082 --tun-remcsum
-a -t 10.0.0.11:80 -r 192.168.2.5:80 -i --tun-type gre --tun-nocsum
-a -t 10.0.0.11:80 -r 192.168.2.6:80 -i --tun-type gre --tun-csum
-a -t 10.0.0.11:80 -r [2001:db8:2::1]:80 -i -w 4
-A -t [2001:db8::2]:80 -s rr
-a -t [2001:db8::2]:80 -r 192.168.3.1:80 -i --tun-type gue --tun-port 5555 --tun-csum
-A -f 3 -s wlc -p 10 -M 255.255.0.0
-A -f 4 -6 -s rr -p 20 -M 48 -o
-A -u [2001:db8::3]:5060 -s rr -p 30 --pe sip
";

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn written_by_lvs_read_by_lvs_and_ipvsadm() {
    let ipvs = ipvs();
    let want = model(EVERYTHING);
    for c in commands(EVERYTHING) {
        ipvs.execute(&c).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    }
    let got = read_back(&ipvs);
    assert_eq!(got, want, "lvs reads back what it wrote");
    assert_eq!(ipvsadm_save(), expected_save(&want), "ipvsadm -Sn reads it");
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn written_by_ipvsadm_read_by_lvs() {
    let ipvs = ipvs();
    ipvsadm_restore(EVERYTHING);
    let want = model(EVERYTHING);
    assert_eq!(read_back(&ipvs), want);
    // Thresholds, which ipvsadm -S drops, are read too.
    let vs = want
        .service(&lvs_core::ServiceKey::tcp("10.0.0.1:80".parse().unwrap()))
        .expect("service");
    let d = vs
        .destination(&"192.168.1.3:80".parse().unwrap())
        .expect("dest");
    assert_eq!((d.upper_threshold, d.lower_threshold), (100, 10));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn edits_round_trip() {
    let ipvs = ipvs();
    ipvsadm_restore(EVERYTHING);
    let edits = "\
-E -t 10.0.0.1:80 -s wrr -p 100
-e -t 10.0.0.1:80 -r 192.168.1.1:80 -i --tun-type gue --tun-port 7000 -w 9 -x 50 -y 5
-E -f 1 -s sh -b sh-port
-E -u 10.0.0.5:5060 -s rr
-d -t 10.0.0.11:80 -r 192.168.2.2:80
-D -t 10.0.0.6:80
";
    let mut want = model(EVERYTHING);
    for c in commands(edits) {
        want.execute(&c).expect("the model takes the edit");
        ipvs.execute(&c).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    }
    assert_eq!(read_back(&ipvs), want);
    assert_eq!(ipvsadm_save(), expected_save(&want));
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn single_reads_and_hashed_state() {
    let ipvs = ipvs();
    ipvsadm_restore(EVERYTHING);
    let key = lvs_core::ServiceKey::tcp("[2001:db8::1]:443".parse().unwrap());
    let ServiceEntry {
        service: svc,
        state,
    } = ipvs.service(&key).expect("get").expect("present");
    assert_eq!(
        &svc,
        &model(EVERYTHING).service(&key).expect("in model").service
    );
    assert_eq!(state.internal_flags, 2, "HASHED is reported as state");
    assert_eq!(ipvs.destinations(&key).expect("dests").len(), 2);
    let missing = lvs_core::ServiceKey::tcp("10.9.9.9:1".parse().unwrap());
    assert!(ipvs.service(&missing).expect("get").is_none());
    let e = ipvs.destinations(&missing).unwrap_err();
    assert_eq!(
        e.refusal().map(|r| r.kind()),
        Some(lvs_core::RefusalKind::NoSuchService)
    );
    assert_eq!(ipvs.services().expect("services").len(), 18);
    let f = ipvs.features().expect("features");
    assert!(
        f.addr_family && f.stats64 && f.tunnel_type && f.tunnel_flags,
        "{f:?}"
    );
    assert_eq!(f.ipvs_version.to_string(), "1.2.1");
}

/// Runs on the host: the rule text itself is valid for lvs-core.
#[test]
fn the_rules_are_valid() {
    let m = model(EVERYTHING);
    assert_eq!(m.services.len(), 18);
    assert_eq!(m.object_count(), 18 + 17);
}
