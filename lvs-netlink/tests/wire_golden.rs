//! Golden wire tests on real kernel replies, captured in the harness VM by
//! `examples/capture_goldens.rs` (see tests/golden/README.md for the exact commands). They run
//! on the host: decoding needs no kernel.
//!
//! Both directions: each captured reply decodes to the model of the rules that produced it,
//! and lvs's encoding of that model gives the same attribute bytes as the kernel's reply
//! (configuration attributes only; the kernel adds counters and its HASHED bit).

use lvs_core::{DaemonRole, Family, Ruleset, ServiceKey, Timeouts};
use lvs_netlink::wire::attr::{AttrWriter, attrs};
use lvs_netlink::wire::{
    GenlMessage, cmd, cmd_attr, command_nest, config, daemon, dest, reply, service,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rules `capture_goldens` loads with `ipvsadm -R` (the same file).
const SETUP: &str = include_str!("golden/setup.rules");

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Every capture of `name`, in order.
fn captures(name: &str) -> Vec<GenlMessage> {
    let mut out = Vec::new();
    for i in 0.. {
        let p = dir().join(format!("{name}.{i}.bin"));
        if !p.exists() {
            break;
        }
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.push(GenlMessage::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
    }
    assert!(
        !out.is_empty(),
        "no captures named {name} in {}",
        dir().display()
    );
    out
}

fn setup() -> Ruleset {
    Ruleset::from_rules(SETUP).expect("valid rules")
}

/// The attributes of a nest by type (flag bits dropped), for comparing as sets.
fn by_type(nest: &[u8]) -> BTreeMap<u16, Vec<u8>> {
    attrs("T", nest)
        .map(|a| a.expect("well-formed"))
        .map(|a| (a.ty, a.payload.to_vec()))
        .collect()
}

#[test]
fn service_dump_decodes_to_the_rules() {
    let want = setup();
    let replies = captures("get_service_dump");
    assert_eq!(replies.len(), want.services.len());
    for m in &replies {
        assert_eq!(m.cmd, cmd::NEW_SERVICE);
        let r = service::decode(command_nest(&m.attrs, cmd_attr::SERVICE).expect("nest"))
            .expect("decodes");
        let vs = want.service(&r.service.key).expect("a known service");
        assert_eq!(r.service, vs.service);
        assert_eq!(r.state.internal_flags, 2, "HASHED");
        assert!(r.has_stats64);
    }
}

#[test]
fn service_encoding_matches_the_kernels_bytes() {
    for m in captures("get_service_dump") {
        let nest = command_nest(&m.attrs, cmd_attr::SERVICE).expect("nest");
        let r = service::decode(nest).expect("decodes");
        // The kernel's own bytes up to the counters, with HASHED cleared.
        let mut kernel = AttrWriter::new();
        for a in attrs("T", nest).map(|a| a.expect("well-formed")) {
            match a.ty {
                service::STATS | service::STATS64 => {}
                service::FLAGS => {
                    let mut p = a.payload.to_vec();
                    p[0] &= !2;
                    kernel.bytes(a.ty, &p);
                }
                _ => {
                    kernel.bytes(a.ty, a.payload);
                }
            }
        }
        let mut ours = AttrWriter::new();
        service::encode(&mut ours, &r.service);
        assert_eq!(ours.finish(), kernel.finish(), "{:?}", r.service.key);
    }
}

#[test]
fn single_service_reply() {
    let m = &captures("get_service_one")[0];
    let r =
        service::decode(command_nest(&m.attrs, cmd_attr::SERVICE).expect("nest")).expect("decodes");
    assert_eq!(
        r.service.key,
        ServiceKey::tcp("10.0.0.1:80".parse().unwrap())
    );
    assert_eq!(r.service.scheduler.name(), "rr");
}

#[test]
fn dest_dump_decodes_and_encodes() {
    let want = setup();
    let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
    let vs = want.service(&key).expect("service");
    let replies = captures("get_dest_dump");
    assert_eq!(replies.len(), vs.destinations.len());
    for m in &replies {
        assert_eq!(m.cmd, cmd::NEW_DEST);
        let nest = command_nest(&m.attrs, cmd_attr::DEST).expect("nest");
        let r = dest::decode(nest, Family::Inet).expect("decodes");
        assert_eq!(Some(&r.destination), vs.destination(&r.destination.addr));
        assert!(r.has_addr_family && r.has_stats64 && r.has_tun_type && r.has_tun_flags);
        // Every attribute lvs sends has the kernel's bytes (the order differs: lvs follows
        // libipvs).
        let mut w = AttrWriter::new();
        dest::encode(&mut w, &r.destination);
        let kernel = by_type(nest);
        for (ty, payload) in by_type(&w.finish()) {
            assert_eq!(kernel.get(&ty), Some(&payload), "{}", dest::name(ty));
        }
    }
}

#[test]
fn daemon_dump() {
    let replies = captures("get_daemon_dump");
    assert_eq!(replies.len(), 1);
    let nest = command_nest(&replies[0].attrs, cmd_attr::DAEMON).expect("nest");
    let d = daemon::decode(nest).expect("decodes");
    assert_eq!(
        (d.role, d.interface.as_str(), d.syncid),
        (DaemonRole::Backup, "lo", 5)
    );
    assert_eq!(d.group, Some("224.0.0.81".parse().unwrap()));
    assert_eq!((d.port, d.ttl), (Some(8848), Some(1)));
    let mut w = AttrWriter::new();
    daemon::encode(&mut w, &d);
    let kernel = by_type(nest);
    for (ty, payload) in by_type(&w.finish()) {
        assert_eq!(kernel.get(&ty), Some(&payload), "{}", daemon::name(ty));
    }
}

#[test]
fn info_and_config() {
    let info = config::decode_info(&captures("get_info")[0].attrs).expect("info");
    assert_eq!(info.version.to_string(), "1.2.1");
    assert_eq!(info.conn_table_size, 4096);
    let m = &captures("get_config")[0];
    assert_eq!(m.cmd, cmd::SET_CONFIG);
    let t = config::decode_timeouts(&m.attrs).expect("timeouts");
    assert_eq!(t, Timeouts::KERNEL_DEFAULT);
    let mut w = AttrWriter::new();
    config::encode_timeouts(&mut w, &t);
    assert_eq!(
        w.finish(),
        m.attrs,
        "SET_CONFIG carries GET_CONFIG's attributes"
    );
}

/// Cut or corrupted kernel bytes give errors, never panics.
#[test]
fn truncated_replies_never_panic() {
    for name in ["get_service_dump", "get_dest_dump", "get_daemon_dump"] {
        for m in captures(name) {
            for cut in 0..m.attrs.len() {
                let part = &m.attrs[..cut];
                if let Ok(nest) = command_nest(part, 1)
                    .or_else(|_| command_nest(part, 2))
                    .or_else(|_| command_nest(part, 3))
                {
                    let _ = service::decode(nest);
                    let _ = dest::decode(nest, Family::Inet6);
                    let _ = daemon::decode(nest);
                }
            }
        }
    }
}

/// What the fake kernel answers (`wire::reply`) is the real kernel's bytes: each captured
/// reply, decoded, encodes back to exactly the captured payload.
#[test]
fn replies_are_written_as_the_kernel_writes_them() {
    for m in captures("get_service_dump")
        .into_iter()
        .chain(captures("get_service_one"))
    {
        let r = service::decode(command_nest(&m.attrs, cmd_attr::SERVICE).expect("nest"))
            .expect("decodes");
        assert_eq!(
            reply::service(&r.service, &r.state),
            m,
            "{:?}",
            r.service.key
        );
    }
    for m in captures("get_dest_dump") {
        let nest = command_nest(&m.attrs, cmd_attr::DEST).expect("nest");
        let r = dest::decode(nest, Family::Inet).expect("decodes");
        assert_eq!(
            reply::destination(&r.destination, &r.state),
            m,
            "{}",
            r.destination.addr
        );
    }
    let m = &captures("get_daemon_dump")[0];
    let d =
        daemon::decode(command_nest(&m.attrs, cmd_attr::DAEMON).expect("nest")).expect("daemon");
    assert_eq!(&reply::daemon(&d), m);
    let m = &captures("get_config")[0];
    assert_eq!(
        &reply::timeouts(&config::decode_timeouts(&m.attrs).expect("timeouts")),
        m
    );
    let m = &captures("get_info")[0];
    assert_eq!(
        &reply::info(&config::decode_info(&m.attrs).expect("info")),
        m
    );
}

/// Every captured reply reads back through `request::parse`'s other half: the kernel's answer
/// to `GET_SERVICE` names the same service a request for it would.
#[test]
fn captured_services_parse_as_request_keys() {
    for m in captures("get_service_dump") {
        let nest = command_nest(&m.attrs, cmd_attr::SERVICE).expect("nest");
        let key = service::decode_key(nest).expect("a key");
        assert_eq!(key, service::decode(nest).expect("decodes").service.key);
    }
}
