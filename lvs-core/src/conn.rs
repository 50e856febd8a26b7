//! The connection table, as the kernel writes it in `/proc/net/ip_vs_conn` (netlink has no
//! command for it). Reading the file is the caller's business (`lvs_netlink::Ipvs::connections`
//! reads it inside the right network namespace); turning its text into [`Connection`]s is pure
//! and lives here; the ipvsadm emulation (`ipvsadm::list::connections`) prints them as
//! `ipvsadm -Lc` does.
//!
//! The kernel names protocols with `ip_vs_proto_name`: `TCP`, `UDP`, `SCTP`, `IP` (0), `ICMP`
//! (1), `ICMPv6` (58), and `IP_<number>` for any other (AH and ESP connections show as `IP_51`
//! and `IP_50`). Every one of them is kept, as [`Protocol::Other`] where the model has no name;
//! [`protocol_name`] gives the kernel's name back, which is what `ipvsadm -Lc` prints.
//!
//! ```
//! use lvs_core::Protocol;
//! use lvs_core::conn;
//!
//! let text = "\
//! Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//! TCP 0A00000C D431 0A00000D 0050 C0A8080E 0050 ESTABLISHED     897
//! IP_50 0A00000C 0000 0A00000D 0000 C0A8080F 0000 NONE            299
//! ";
//! let conns = conn::parse(text)?;
//! assert_eq!(conns[0].client, "10.0.0.12:54321".parse()?);
//! assert_eq!(conns[0].destination, "192.168.8.14:80".parse()?);
//! assert_eq!(conns[1].protocol, Protocol::Other(50));
//! assert_eq!(conn::protocol_name(conns[1].protocol), "IP_50");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Protocol;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use thiserror::Error;

/// One entry of the connection table (`/proc/net/ip_vs_conn`, which netlink does not expose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The protocol.
    pub protocol: Protocol,
    /// The client's address and port.
    pub client: SocketAddr,
    /// The virtual address and port the client used.
    pub virtual_addr: SocketAddr,
    /// The real server's address and port.
    pub destination: SocketAddr,
    /// The protocol state (`ESTABLISHED`, `NONE` for persistence templates, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u64,
    /// The persistence engine's name and data (`sip` and a Call-ID), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe: Option<(String, String)>,
}

/// A line of `/proc/net/ip_vs_conn` that does not follow the kernel's format.
///
/// ```
/// let e = lvs_core::conn::parse("TCP 0A00000C D431\n").unwrap_err();
/// assert_eq!(e.line, 1);
/// assert_eq!(e.to_string(), "ip_vs_conn line 1: expected at least 9 fields, got 3");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("ip_vs_conn line {line}: {problem}")]
pub struct ConnParseError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// The protocol for a name the kernel writes in the first column (`TCP`, `IP_50`, ...), or
/// `None` for a name no kernel writes.
///
/// ```
/// use lvs_core::Protocol;
/// use lvs_core::conn::protocol;
///
/// assert_eq!(protocol("SCTP"), Some(Protocol::Sctp));
/// assert_eq!(protocol("ICMPv6"), Some(Protocol::Other(58)));
/// assert_eq!(protocol("IP_47"), Some(Protocol::Other(47)));
/// assert_eq!(protocol("GRE"), None);
/// ```
pub fn protocol(name: &str) -> Option<Protocol> {
    Some(match name {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        "IP" => Protocol::Other(0),
        "ICMP" => Protocol::Other(1),
        "ICMPv6" => Protocol::Other(58),
        _ => {
            let digits = name.strip_prefix("IP_")?;
            // `%u` never writes a sign or leading zeros.
            if digits.starts_with(['+', '0']) && digits != "0" {
                return None;
            }
            Protocol::from_number(digits.parse().ok()?)
        }
    })
}

/// The name the kernel writes for a protocol (`ip_vs_proto_name`), which `ipvsadm -Lc` prints
/// as it reads it: the inverse of [`protocol()`].
///
/// ```
/// use lvs_core::Protocol;
/// use lvs_core::conn::protocol_name;
///
/// assert_eq!(protocol_name(Protocol::Udp), "UDP");
/// assert_eq!(protocol_name(Protocol::Other(51)), "IP_51");
/// ```
pub fn protocol_name(protocol: Protocol) -> Cow<'static, str> {
    match protocol {
        Protocol::Tcp => "TCP".into(),
        Protocol::Udp => "UDP".into(),
        Protocol::Sctp => "SCTP".into(),
        Protocol::Other(0) => "IP".into(),
        Protocol::Other(1) => "ICMP".into(),
        Protocol::Other(58) => "ICMPv6".into(),
        Protocol::Other(n) => format!("IP_{n}").into(),
    }
}

/// An address as the kernel prints it: `%08X` of the host-order IPv4 address, or `%pI6`
/// (eight groups of four hex digits).
fn addr(token: &str) -> Option<IpAddr> {
    if token.len() == 8 && !token.contains(':') {
        return u32::from_str_radix(token, 16)
            .ok()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v)));
    }
    token.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

fn port(token: &str) -> Option<u16> {
    u16::from_str_radix(token, 16).ok()
}

/// Reads the text of `/proc/net/ip_vs_conn`: one [`Connection`] per line, in the kernel's
/// order (the header line and blank lines are skipped).
///
/// ```
/// let text = "\
/// Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
/// UDP 0A00000C 13C4 0A00000D 13C4 C0A8080E 13C4 UDP             180 sip a84b4c76e66710
/// ";
/// let conns = lvs_core::conn::parse(text)?;
/// let (engine, call_id) = conns[0].pe.as_ref().expect("a SIP persistence entry");
/// assert_eq!((engine.as_str(), call_id.as_str()), ("sip", "a84b4c76e66710"));
/// assert_eq!(conns[0].expires, 180);
/// # Ok::<(), lvs_core::conn::ConnParseError>(())
/// ```
pub fn parse(text: &str) -> Result<Vec<Connection>, ConnParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |problem: String| ConnParseError {
            line: i + 1,
            problem,
        };
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.is_empty() || t[0] == "Pro" {
            continue;
        }
        if t.len() < 9 {
            return Err(bad(format!("expected at least 9 fields, got {}", t.len())));
        }
        let sock = |a: &str, p: &str, what: &str| -> Result<SocketAddr, ConnParseError> {
            let ip = addr(a).ok_or_else(|| bad(format!("bad {what} address `{a}'")))?;
            let port = port(p).ok_or_else(|| bad(format!("bad {what} port `{p}'")))?;
            Ok(SocketAddr::new(ip, port))
        };
        out.push(Connection {
            protocol: protocol(t[0]).ok_or_else(|| {
                bad(format!(
                    "unknown protocol `{}' (the kernel writes TCP, UDP, SCTP, IP, ICMP, ICMPv6 \
                     or IP_<number>)",
                    t[0]
                ))
            })?,
            client: sock(t[1], t[2], "client")?,
            virtual_addr: sock(t[3], t[4], "virtual")?,
            destination: sock(t[5], t[6], "destination")?,
            state: t[7].to_owned(),
            expires: t[8]
                .parse()
                .map_err(|_| bad(format!("bad expiry `{}'", t[8])))?,
            pe: t
                .get(9)
                .map(|name| ((*name).to_owned(), t.get(10).unwrap_or(&"").to_string())),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A004FB6 0045 0A004FB6 1F90 0A004FB7 1F91 SYN_RECV         57
UDP 2001:0db8:0000:0000:0000:0000:0000:0001 0035 2001:0db8:0000:0000:0000:0000:0000:0002 0035 2001:0db8:0000:0000:0000:0000:0000:0003 0035 UDP             299
TCP 0A000001 C350 0A00000A 13C4 2001:0db8:0000:0000:0000:0000:0000:0009 13C4 ESTABLISHED     899
UDP 0A000001 13C4 0A00000A 13C4 0A000002 13C4 UDP             180 sip a84b4c76e66710
";

    #[test]
    fn reads_every_kind_of_line() {
        let c = parse(SAMPLE).unwrap();
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].protocol, Protocol::Tcp);
        assert_eq!(c[0].client, "10.0.79.182:69".parse().unwrap());
        assert_eq!(c[0].virtual_addr, "10.0.79.182:8080".parse().unwrap());
        assert_eq!(c[0].destination, "10.0.79.183:8081".parse().unwrap());
        assert_eq!(c[0].state, "SYN_RECV");
        assert_eq!(c[0].expires, 57);
        assert_eq!(c[0].pe, None);
        assert_eq!(c[1].client, "[2001:db8::1]:53".parse().unwrap());
        assert_eq!(c[2].destination, "[2001:db8::9]:5060".parse().unwrap());
        assert_eq!(
            c[3].pe,
            Some(("sip".to_owned(), "a84b4c76e66710".to_owned()))
        );
    }

    #[test]
    fn bad_lines_say_where() {
        let e = parse("Pro x\nTCP 0A004FB6 0045\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("XYZ 0A004FB6 0045 0A004FB6 1F90 0A004FB7 1F91 S 5\n").unwrap_err();
        assert!(e.problem.contains("unknown protocol `XYZ'"), "{e}");
        let e = parse("TCP 0A004FB6 0045 0A004FB6 1F90 0A004FB7 1F91 S soon\n").unwrap_err();
        assert!(e.problem.contains("expiry"), "{e}");
        let e = parse("TCP 0A004FB6 0045 10.0.0.1 1F90 0A004FB7 1F91 S 5\n").unwrap_err();
        assert!(e.problem.contains("virtual address"), "{e}");
        assert_eq!(parse("").unwrap(), vec![]);
    }

    /// Lines with the protocols lvs has no name for, as the kernel writes them (`%-3s` of
    /// `ip_vs_proto_name`): IPsec connections, a template with protocol 0, ICMP.
    const OTHER_PROTOCOLS: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
IP_50 0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE            299
IP_51 0A00000C 0000 0A00000D 0000 C0A8080F 0000 NONE             59
IP  0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE            359
ICMP 0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE              1
ICMPv6 2001:0db8:0000:0000:0000:0000:0000:0001 0000 2001:0db8:0000:0000:0000:0000:0000:0002 0000 2001:0db8:0000:0000:0000:0000:0000:0003 0000 NONE              1
IP_47 0A00000C 0000 0A00000D 0000 C0A8080E 0000 NONE            120
";

    #[test]
    fn keeps_protocols_without_a_name() {
        let c = parse(OTHER_PROTOCOLS).unwrap();
        let protocols: Vec<Protocol> = c.iter().map(|c| c.protocol).collect();
        assert_eq!(
            protocols,
            [50, 51, 0, 1, 58, 47].map(Protocol::Other).to_vec()
        );
        assert_eq!(c[0].client, "10.0.0.12:0".parse().unwrap());
        assert_eq!(c[0].destination, "192.168.8.14:0".parse().unwrap());
        assert_eq!(c[0].state, "NONE");
        assert_eq!(c[1].expires, 59);
        assert_eq!(c[4].virtual_addr, "[2001:db8::2]:0".parse().unwrap());
        // Each name comes back as the kernel wrote it.
        for (conn, line) in c.iter().zip(OTHER_PROTOCOLS.lines().skip(1)) {
            let name = line.split_whitespace().next().unwrap();
            assert_eq!(protocol_name(conn.protocol), name);
        }
    }

    #[test]
    fn protocol_names_round_trip() {
        for n in 0..=u16::from(u8::MAX) {
            let p = Protocol::from_number(n);
            assert_eq!(protocol(&protocol_name(p)), Some(p), "{n}");
        }
        for name in [
            "", "IP_", "IP_x", "IP_-1", "IP_+6", "IP_050", "IP_65536", "ip_50", "AH",
        ] {
            assert_eq!(protocol(name), None, "{name}");
        }
        assert_eq!(protocol("IP_6"), Some(Protocol::Tcp));
    }
}
