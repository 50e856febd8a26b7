//! Kernel replies are untrusted bytes: lvs-netlink's decoders must never panic on them, and
//! whatever a decoder accepts must encode and decode back to the same value.
//!
//! Each input is tried three ways: as one generic-netlink payload (`genlmsghdr` and
//! attributes, as `lvs-netlink/tests/golden/*.bin` hold them) through every reply decoder;
//! as a received datagram of netlink messages (acks, errors, dump ends, data), each data
//! message's payload decoded the same way; and as a bare attribute nest of each kind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvs_core::Family;
use lvs_netlink::wire::attr::AttrWriter;
use lvs_netlink::wire::netlink::{self, Reply};
use lvs_netlink::wire::{
    GenlMessage, cmd_attr, command_nest, config, daemon, dest, service, stats,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = GenlMessage::decode(data) {
        payload(&msg);
    }
    for m in netlink::messages(data) {
        let Ok(m) = m else { continue };
        if let Ok(Reply::Data(p)) = m.reply()
            && let Ok(msg) = GenlMessage::decode(p)
        {
            payload(&msg);
        }
    }
    nests(data);
});

/// Every reply decoder on one generic-netlink payload.
fn payload(msg: &GenlMessage) {
    if let Ok(nest) = command_nest(&msg.attrs, cmd_attr::SERVICE) {
        nests(nest);
    }
    if let Ok(nest) = command_nest(&msg.attrs, cmd_attr::DEST) {
        nests(nest);
    }
    if let Ok(nest) = command_nest(&msg.attrs, cmd_attr::DAEMON) {
        nests(nest);
    }
    if let Ok(t) = config::decode_timeouts(&msg.attrs) {
        let mut w = AttrWriter::new();
        config::encode_timeouts(&mut w, &t);
        assert_eq!(config::decode_timeouts(&w.finish()), Ok(t));
    }
    // GET_INFO replies have no encoder in lvs: decoding without a panic is the property.
    let _ = config::decode_info(&msg.attrs);
}

/// Every nest decoder on the same bytes, each accepted value encoded and decoded back.
fn nests(nest: &[u8]) {
    if let Ok(r) = service::decode(nest) {
        let mut w = AttrWriter::new();
        service::encode(&mut w, &r.service);
        let back = service::decode(&w.finish()).map(|b| b.service);
        assert_eq!(back, Ok(r.service));
    }
    for family in [Family::Inet, Family::Inet6] {
        if let Ok(r) = dest::decode(nest, family) {
            let mut w = AttrWriter::new();
            dest::encode(&mut w, &r.destination);
            let back = dest::decode(&w.finish(), family).map(|b| b.destination);
            assert_eq!(back, Ok(r.destination));
        }
    }
    if let Ok(d) = daemon::decode(nest) {
        let mut w = AttrWriter::new();
        daemon::encode(&mut w, &d);
        assert_eq!(daemon::decode(&w.finish()), Ok(d));
    }
    if let Ok(s) = stats::decode(nest) {
        let mut w = AttrWriter::new();
        stats::encode64(&mut w, &s);
        assert_eq!(stats::decode(&w.finish()), Ok(s));
    }
}
