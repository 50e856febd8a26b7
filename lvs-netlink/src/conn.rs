//! The connection table (`/proc/net/ip_vs_conn`), which netlink does not expose.
//!
//! [`parse`] is pure; [`crate::Ipvs::connections`] reads the file of the handle's network
//! namespace.

use lvs_core::Protocol;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use thiserror::Error;

/// One entry of the connection table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The protocol (`TCP`, `UDP`, `SCTP`, ...).
    pub protocol: Protocol,
    /// The client's address and port.
    pub client: SocketAddr,
    /// The virtual address and port the client used.
    pub virtual_addr: SocketAddr,
    /// The real server's address and port (its family may differ for tunnels).
    pub destination: SocketAddr,
    /// The protocol state (`ESTABLISHED`, `SYN_RECV`, `NONE` for templates, ...).
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u64,
    /// The persistence engine's name and data (`sip` and a Call-ID), if any.
    pub pe: Option<(String, String)>,
}

/// A line of `/proc/net/ip_vs_conn` that does not follow the kernel's format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("ip_vs_conn line {line}: {problem}")]
pub struct ConnParseError {
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

fn protocol(name: &str) -> Option<Protocol> {
    Some(match name {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        "AH" => Protocol::Other(51),
        "ESP" => Protocol::Other(50),
        _ => return None,
    })
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

/// Reads the text of `/proc/net/ip_vs_conn` (the header line is skipped).
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
            protocol: protocol(t[0]).ok_or_else(|| bad(format!("unknown protocol `{}'", t[0])))?,
            client: sock(t[1], t[2], "client")?,
            virtual_addr: sock(t[3], t[4], "virtual")?,
            destination: sock(t[5], t[6], "destination")?,
            state: t[7].to_owned(),
            expires: t[8]
                .parse()
                .map_err(|_| bad(format!("bad expiry `{}'", t[8])))?,
            pe: match (t.get(9), t.get(10)) {
                (Some(name), data) => Some(((*name).to_owned(), data.unwrap_or(&"").to_string())),
                (None, _) => None,
            },
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
        assert!(e.problem.contains("protocol"));
        assert_eq!(parse("").unwrap(), vec![]);
    }
}
