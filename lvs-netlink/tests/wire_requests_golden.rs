//! Golden tests on the requests the real `ipvsadm` 1.31 sends, captured on an `nlmon` device in
//! the harness VM by `tests/golden/capture-requests.py` (see tests/golden/README.md for the
//! command). They run on the host.
//!
//! For every command line of `tests/golden/requests/index.tsv`, lvs-core reads the line into a
//! [`Command`], lvs's wire layer encodes it ([`request::command`]), and the result is compared
//! with ipvsadm's request: the generic-netlink header and the command-level attributes exactly,
//! each nest either byte for byte or, where libipvs sends more than the kernel reads or in
//! another order, attribute by attribute under one of the rules of [`rule_for`]. Every such
//! rule is written out there with its reason; anything else that differs fails.

use lvs_core::Command;
use lvs_core::rules::{NumericOnly, parse_line};
use lvs_netlink::wire::attr::NLA_F_NESTED;
use lvs_netlink::wire::{cmd, cmd_attr, daemon, dest, request, service};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/requests")
}

/// One captured request: a row of `index.tsv` and its file's bytes.
struct Captured {
    file: String,
    /// `nlmsg_flags` of the request.
    flags: u16,
    /// ipvsadm's exit status.
    status: i32,
    /// The command line, starting with `ipvsadm`.
    line: String,
    payload: Vec<u8>,
}

fn index() -> Vec<Captured> {
    let text = std::fs::read_to_string(dir().join("index.tsv")).expect("index.tsv");
    let mut out = Vec::new();
    for row in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = row.split('\t').collect();
        assert_eq!(f.len(), 5, "index.tsv row {row:?}");
        let flags = u16::from_str_radix(f[2].trim_start_matches("0x"), 16).expect("flags");
        let payload = std::fs::read(dir().join(f[0])).unwrap_or_else(|e| panic!("{}: {e}", f[0]));
        assert!(payload.len() >= 4, "{}: shorter than a genlmsghdr", f[0]);
        out.push(Captured {
            file: f[0].to_owned(),
            flags,
            status: f[3].parse().expect("status"),
            line: f[4].to_owned(),
            payload,
        });
    }
    out
}

/// The captures grouped by command line, in capture order (a line may occur twice, as `-C`
/// does: grouped by the command's number, the `NNN` of `NNN.K.bin`).
fn commands() -> Vec<(String, Vec<Captured>)> {
    let mut out: Vec<(String, String, Vec<Captured>)> = Vec::new();
    for c in index() {
        let number = c.file.split('.').next().expect("NNN").to_owned();
        match out.last_mut() {
            Some((n, _, v)) if *n == number => v.push(c),
            _ => out.push((number, c.line.clone(), vec![c])),
        }
    }
    out.into_iter().map(|(_, l, v)| (l, v)).collect()
}

/// An attribute as written: its type with the flag bits, and its payload. Parsed here rather
/// than with lvs's reader, so that the test does not rely on the code it checks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attr {
    ty: u16,
    payload: Vec<u8>,
}

fn parse_attrs(what: &str, mut buf: &[u8]) -> Vec<Attr> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        assert!(buf.len() >= 4, "{what}: {} stray bytes", buf.len());
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
        let ty = u16::from_ne_bytes([buf[2], buf[3]]);
        assert!(
            len >= 4 && len <= buf.len(),
            "{what}: bad attribute length {len}"
        );
        let padded = (len + 3) & !3;
        // libnl and lvs both pad with zero bytes; the last attribute may end unpadded.
        let pad = &buf[len..padded.min(buf.len())];
        assert!(pad.iter().all(|&b| b == 0), "{what}: non-zero padding");
        out.push(Attr {
            ty,
            payload: buf[4..len].to_vec(),
        });
        buf = &buf[padded.min(buf.len())..];
    }
    out
}

/// How lvs's nest must relate to ipvsadm's.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Byte for byte.
    Exact,
    /// The same attributes with the same payloads, in any order (the kernel reads a nest with
    /// `nla_parse_nested`, which indexes attributes by type: order never matters to it).
    AnyOrder,
    /// The kernel reads only `reads` from this nest for this command: lvs must send exactly
    /// ipvsadm's attributes of those types (any order), and what ipvsadm sends beyond them
    /// must be among `unread`.
    KernelReads {
        reads: &'static [u16],
        unread: &'static [u16],
    },
}

/// What identifies a service: `ip_vs_genl_parse_service` reads only these unless the command
/// needs a full entry (only `NEW_SERVICE` and `SET_SERVICE` do, `need_full_svc` in
/// `ip_vs_genl_set_cmd`).
const SVC_KEY: &[u16] = &[
    service::AF,
    service::PROTOCOL,
    service::ADDR,
    service::PORT,
    service::FWMARK,
];
/// What libipvs adds to every service nest: it always fills the whole `ipvs_service_t` (for
/// `-d`, `-D`, `-a`, `-e`, `-Z` the scheduler name is empty, the flags `{0, ~0}`, the timeout
/// 0 and the netmask the host mask), and PE_NAME when one was given.
const SVC_REST: &[u16] = &[
    service::SCHED_NAME,
    service::PE_NAME,
    service::FLAGS,
    service::TIMEOUT,
    service::NETMASK,
];
/// What identifies a real server: `ip_vs_genl_parse_dest` reads only these unless the command
/// needs a full entry (`NEW_DEST`, `SET_DEST`).
const DEST_KEY: &[u16] = &[dest::ADDR, dest::PORT, dest::ADDR_FAMILY];
/// What libipvs adds to the `DEL_DEST` nest: it sends the whole `ipvs_dest_t`, with ipvsadm's
/// defaults for what `-d` does not set (forwarding `-g`, weight 1, thresholds 0, tunnel
/// attributes 0).
const DEST_REST: &[u16] = &[
    dest::FWD_METHOD,
    dest::WEIGHT,
    dest::U_THRESH,
    dest::L_THRESH,
    dest::TUN_TYPE,
    dest::TUN_PORT,
    dest::TUN_FLAGS,
];

/// The rule for the nest `nest` (an `IPVS_CMD_ATTR_*` type) of command `command`, with the
/// reason for each difference accepted.
fn rule_for(command: u8, nest: u16) -> Rule {
    match (command, nest) {
        // A service to add or replace: lvs writes libipvs's attributes in libipvs's order.
        (cmd::NEW_SERVICE | cmd::SET_SERVICE, cmd_attr::SERVICE) => Rule::Exact,
        // DEL_SERVICE, ZERO, and the service of NEW_DEST/SET_DEST/DEL_DEST: the kernel looks
        // the service up by its key and reads nothing else (full_entry = false); lvs sends
        // the key only.
        (_, cmd_attr::SERVICE) => Rule::KernelReads {
            reads: SVC_KEY,
            unread: SVC_REST,
        },
        // A real server to add or replace: the same attributes and bytes, but libipvs writes
        // ADDR_FAMILY first and the three TUN_* before U_THRESH/L_THRESH, while lvs writes
        // ADDR, PORT, FWD_METHOD, WEIGHT, the thresholds, then ADDR_FAMILY and TUN_*. Order
        // does not matter to nla_parse_nested.
        (cmd::NEW_DEST | cmd::SET_DEST, cmd_attr::DEST) => Rule::AnyOrder,
        // DEL_DEST: the kernel reads the address, port and family only.
        (cmd::DEL_DEST, cmd_attr::DEST) => Rule::KernelReads {
            reads: DEST_KEY,
            unread: DEST_REST,
        },
        // NEW_DAEMON: the same attributes; libipvs writes MCAST_GROUP or MCAST_GROUP6 after
        // MCAST_PORT and MCAST_TTL, lvs before them (UAPI order).
        (cmd::NEW_DAEMON, cmd_attr::DAEMON) => Rule::AnyOrder,
        // DEL_DAEMON: ip_vs_genl_del_daemon reads only STATE; libipvs also sends an empty
        // MCAST_IFN and SYNC_ID 0 (its whole ipvs_daemon_t), lvs sends STATE only.
        (cmd::DEL_DAEMON, cmd_attr::DAEMON) => Rule::KernelReads {
            reads: &[daemon::STATE],
            unread: &[daemon::MCAST_IFN, daemon::SYNC_ID],
        },
        _ => Rule::Exact,
    }
}

fn by_type(what: &str, attrs: &[Attr]) -> BTreeMap<u16, Vec<u8>> {
    let mut m = BTreeMap::new();
    for a in attrs {
        assert!(
            m.insert(a.ty, a.payload.clone()).is_none(),
            "{what}: attribute {} twice",
            a.ty
        );
    }
    m
}

/// Compares one nest under `rule`; `Err` says what differs.
fn compare_nest(rule: Rule, what: &str, ours: &[u8], theirs: &[u8]) -> Result<(), String> {
    match rule {
        Rule::Exact => (ours == theirs)
            .then_some(())
            .ok_or_else(|| format!("{what}: lvs {ours:02x?}\n ipvsadm {theirs:02x?}")),
        Rule::AnyOrder => {
            let (o, t) = (
                by_type(what, &parse_attrs(what, ours)),
                by_type(what, &parse_attrs(what, theirs)),
            );
            (o == t)
                .then_some(())
                .ok_or_else(|| format!("{what}: lvs {o:02x?}\n ipvsadm {t:02x?}"))
        }
        Rule::KernelReads { reads, unread } => {
            let o = by_type(what, &parse_attrs(what, ours));
            let mut t = by_type(what, &parse_attrs(what, theirs));
            let extra: BTreeSet<u16> = t.keys().copied().filter(|ty| !reads.contains(ty)).collect();
            if let Some(ty) = extra.iter().find(|ty| !unread.contains(ty)) {
                return Err(format!(
                    "{what}: ipvsadm sends attribute {ty}, not accepted"
                ));
            }
            t.retain(|ty, _| reads.contains(ty));
            (o == t).then_some(()).ok_or_else(|| {
                format!("{what}: lvs {o:02x?}\n ipvsadm (what the kernel reads) {t:02x?}")
            })
        }
    }
}

/// Compares lvs's request payload with ipvsadm's: the genlmsghdr and the command-level
/// attribute types (flags included) and order exactly, then each attribute under its rule.
/// `Ok(true)` when byte-identical.
fn compare(ours: &[u8], theirs: &[u8]) -> Result<bool, String> {
    if ours == theirs {
        return Ok(true);
    }
    if ours[..4] != theirs[..4] {
        return Err(format!(
            "genlmsghdr: lvs {:02x?}, ipvsadm {:02x?}",
            &ours[..4],
            &theirs[..4]
        ));
    }
    let command = theirs[0];
    let (o, t) = (
        parse_attrs("IPVS_CMD_ATTR", &ours[4..]),
        parse_attrs("IPVS_CMD_ATTR", &theirs[4..]),
    );
    let types = |v: &[Attr]| v.iter().map(|a| a.ty).collect::<Vec<_>>();
    if types(&o) != types(&t) {
        return Err(format!(
            "command attributes: lvs {:?}, ipvsadm {:?}",
            types(&o),
            types(&t)
        ));
    }
    for (a, b) in o.iter().zip(&t) {
        let ty = a.ty & !NLA_F_NESTED;
        let rule = if a.ty & NLA_F_NESTED != 0 {
            rule_for(command, ty)
        } else {
            Rule::Exact
        };
        compare_nest(rule, cmd_attr::name(ty), &a.payload, &b.payload)?;
    }
    Ok(false)
}

fn parse(line: &str) -> Command {
    parse_line(1, line, &NumericOnly)
        .unwrap_or_else(|e| panic!("{line}: {e}"))
        .unwrap_or_else(|| panic!("{line}: not a rule"))
        .command
}

/// REQUEST | ACK: ipvsadm asks for an ack on every request, none is a dump.
const REQUEST_ACK: u16 = 0x1 | 0x4;

#[test]
fn every_change_request_matches_ipvsadm() {
    let mut identical = Vec::new();
    let mut failures = Vec::new();
    let mut kinds = BTreeSet::new();
    for (line, caps) in commands() {
        // Every ipvsadm run starts with libipvs's GET_INFO (ipvs_init); the request after it
        // is the command's own.
        let (own, queries) = caps.split_last().expect("a request");
        assert!(!queries.is_empty(), "{line}: no GET_INFO first");
        for q in queries {
            assert_eq!(
                q.payload,
                request::get_info().msg.encode(),
                "{}: {line}",
                q.file
            );
        }
        for c in &caps {
            assert_eq!(c.status, 0, "{}: {line} failed when captured", c.file);
            assert_eq!(c.flags, REQUEST_ACK, "{}: {line}", c.file);
        }
        let command = parse(&line);
        let req = request::command(&command).unwrap_or_else(|| panic!("{line}: not sendable"));
        assert!(!req.dump, "{line}");
        kinds.insert(own.payload[0]);
        match compare(&req.msg.encode(), &own.payload) {
            Ok(true) => identical.push(own.file.clone()),
            Ok(false) => {}
            Err(e) => failures.push(format!("{} ({line}): {e}", own.file)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every change request kind is covered.
    let all = [
        cmd::NEW_SERVICE,
        cmd::SET_SERVICE,
        cmd::DEL_SERVICE,
        cmd::NEW_DEST,
        cmd::SET_DEST,
        cmd::DEL_DEST,
        cmd::NEW_DAEMON,
        cmd::DEL_DAEMON,
        cmd::SET_CONFIG,
        cmd::ZERO,
        cmd::FLUSH,
    ];
    assert_eq!(kinds, BTreeSet::from(all));
    // Those whose requests are byte-identical, to notice a rule that has become too lax.
    let expected_identical = [
        "001.2.bin",
        "002.1.bin",
        "003.1.bin",
        "004.1.bin",
        "008.1.bin",
        "010.1.bin",
        "011.1.bin",
        "012.1.bin",
        "013.1.bin",
        "014.1.bin",
        "015.1.bin",
        "016.1.bin",
        "017.1.bin",
        "018.1.bin",
        "019.1.bin",
        "036.1.bin",
        "043.1.bin",
    ];
    assert_eq!(identical, expected_identical);
}

/// The other direction, what the fake kernel relies on: each of ipvsadm's captured requests,
/// read with `request::parse` as the kernel reads it, is the command lvs-core reads from the
/// command line (and libipvs's `GET_INFO` before it is `GET_INFO`).
#[test]
fn every_captured_request_parses_back_to_its_command() {
    let mut failures = Vec::new();
    for (line, caps) in commands() {
        let (own, queries) = caps.split_last().expect("a request");
        for q in queries {
            let call = request::parse(q.payload[0], &q.payload[4..], false);
            assert_eq!(call, Ok(Some(request::Call::GetInfo)), "{}: {line}", q.file);
        }
        let want = request::Call::Command(parse(&line));
        match request::parse(own.payload[0], &own.payload[4..], false) {
            Ok(Some(call)) if call == want => {}
            other => failures.push(format!("{} ({line}): {other:?}", own.file)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_capture_is_indexed() {
    let indexed: BTreeSet<String> = index().into_iter().map(|c| c.file).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir())
        .expect("requests/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    assert_eq!(indexed, on_disk);
}

/// The comparison can fail: a changed weight, a missing key attribute, an extra attribute
/// the kernel would read, and a changed header are all caught.
#[test]
fn the_comparison_catches_real_differences() {
    let caps = index();
    let find = |name: &str| {
        caps.iter()
            .find(|c| c.file == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    // 020: -a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10
    let add = find("020.1.bin");
    let ours = request::command(&parse(&add.line))
        .expect("sendable")
        .msg
        .encode();
    assert_eq!(compare(&ours, &add.payload), Ok(false));
    let reweighted = parse(&add.line.replace("-w 3", "-w 4"));
    let ours = request::command(&reweighted)
        .expect("sendable")
        .msg
        .encode();
    assert!(compare(&ours, &add.payload).is_err());
    // 037: -d -t 10.0.0.1:80 -r 192.168.1.3:80; another port is caught in the dest key.
    let del = find("037.1.bin");
    let other = parse(&del.line.replace("192.168.1.3:80", "192.168.1.3:81"));
    let ours = request::command(&other).expect("sendable").msg.encode();
    assert!(compare(&ours, &del.payload).is_err());
    // A service key nest without its port fails; one with an extra FLAGS fails too (lvs
    // must not send what the kernel would read differently).
    assert!(
        compare_nest(
            rule_for(cmd::DEL_DEST, cmd_attr::SERVICE),
            "t",
            &[6, 0, 1, 0, 2, 0, 0, 0],
            &[6, 0, 1, 0, 2, 0, 0, 0, 6, 0, 4, 0, 0, 80, 0, 0]
        )
        .is_err()
    );
    // The header: another command number.
    let mut wrong = ours.clone();
    wrong[0] = cmd::NEW_DEST;
    assert!(compare(&wrong, &del.payload).is_err());
    // 023: -a ... -r 192.168.1.4:80 -i --tun-type gue --tun-port 6080 --tun-csum. The capture
    // with TUN_PORT in host order instead (what a byte-order bug would send) no longer
    // matches lvs's request, nor one whose service nest names port 81.
    let gue = find("023.1.bin");
    let ours = request::command(&parse(&gue.line))
        .expect("sendable")
        .msg
        .encode();
    assert_eq!(compare(&ours, &gue.payload), Ok(false));
    let patched = |from: &[u8], to: &[u8]| {
        let at = gue
            .payload
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern in the capture");
        let mut p = gue.payload.clone();
        p[at..at + to.len()].copy_from_slice(to);
        p
    };
    let host_order = patched(&[6, 0, 14, 0, 0x17, 0xc0], &[6, 0, 14, 0, 0xc0, 0x17]);
    assert!(compare(&ours, &host_order).is_err());
    let port_81 = patched(&[6, 0, 4, 0, 0, 80], &[6, 0, 4, 0, 0, 81]);
    assert!(compare(&ours, &port_81).is_err());
}
