//! Addresses and numbers as ipvsadm's C library calls read and write them: `inet_aton`,
//! `inet_ntop`, `strtol`, `atoi`. Rule files depend on their quirks (`10.1` is 10.0.0.1,
//! `010.0.0.1` is 8.0.0.1; `::1.2.3.4` prints dotted), so lvs reads and writes the same.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// glibc's `inet_aton`: one to four parts, each decimal, octal (`0` prefix) or hex (`0x`).
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let mut parts = [0u64; 4];
    let mut count = 0;
    for p in s.split('.') {
        if count == 4 {
            return None;
        }
        parts[count] = c_unsigned(p)?;
        count += 1;
    }
    let (head, last) = (&parts[..count - 1], parts[count - 1]);
    if head.iter().any(|v| *v > 0xff) {
        return None;
    }
    let max_last: u64 = 0xffff_ffff >> (8 * head.len());
    if last > max_last {
        return None;
    }
    let mut addr: u64 = last;
    for (i, v) in head.iter().enumerate() {
        addr |= v << (24 - 8 * i);
    }
    Some(Ipv4Addr::from(addr as u32))
}

/// One part of an `inet_aton` address: `strtoul` with base 0, digits only.
fn c_unsigned(p: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        (hex, 16)
    } else if p.len() > 1 && p.starts_with('0') {
        (&p[1..], 8)
    } else {
        (p, 10)
    };
    if digits.is_empty() {
        // glibc counts the leading 0 of "0x" as a digit: "0x" alone is 0; "" is nothing.
        return (radix == 16).then_some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix)
        .ok()
        .filter(|v| *v <= 0xffff_ffff)
}

/// `inet_pton(AF_INET6, ...)`.
pub fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    s.parse().ok()
}

/// ipvsadm's `string_to_number`: `strtol` base 10 over the whole string, within `min..=max`.
pub fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    strtol_whole(s).filter(|n| (min..=max).contains(n))
}

/// `strtol(s, &end, 10)` that must consume all of `s` (leading blanks and a sign allowed).
pub fn strtol_whole(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Out of range for a long is ERANGE, which ipvsadm refuses.
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// `atoi`: leading blanks, a sign, then as many digits as there are.
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in rest.bytes().take_while(u8::is_ascii_digit) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -v } else { v }
}

/// `inet_ntop` as glibc writes it. IPv6 differs from Rust's `Display`: glibc prints
/// IPv4-compatible addresses (`::1.2.3.4`) dotted.
pub fn ntop(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => ntop6(a),
    }
}

fn ntop6(a: &Ipv6Addr) -> String {
    let w = a.segments();
    // The longest run of two or more zero words; the first one on a tie.
    // Runs as (first word, length).
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, word) in w.iter().enumerate() {
        if *word == 0 {
            cur = Some(match cur {
                Some((base, len)) => (base, len + 1),
                None => (i, 1),
            });
        } else {
            cur = None;
        }
        if let Some((base, len)) = cur {
            if best.is_none_or(|(_, blen)| len > blen) {
                best = Some((base, len));
            }
        }
    }
    let best = best.filter(|(_, len)| *len >= 2);
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i == base {
                if i == 0 {
                    out.push(':');
                }
                out.push(':');
                i += len;
                continue;
            }
        }
        if i != 0 && !out.ends_with("::") {
            out.push(':');
        }
        let dotted = i == 6
            && best
                .is_some_and(|(base, len)| base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)));
        if dotted {
            let o = a.octets();
            let _ = write!(out, "{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
            break;
        }
        let _ = write!(out, "{:x}", w[i]);
        i += 1;
    }
    // A run of zeros at the end still needs its closing colon.
    if best.is_some_and(|(base, len)| base + len == 8 && base != 0) {
        out.push(':');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aton_quirks() {
        assert_eq!(inet_aton("10.0.0.13"), Some(Ipv4Addr::new(10, 0, 0, 13)));
        assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("010.0.0.1"), Some(Ipv4Addr::new(8, 0, 0, 1)));
        assert_eq!(inet_aton("0x0a.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton("a.b.c.d"), None);
        assert_eq!(inet_aton("1..2"), None);
        assert_eq!(inet_aton(""), None);
        assert_eq!(inet_aton("08"), None);
        assert_eq!(inet_aton("0x"), Some(Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn ntop_matches_glibc() {
        let cases = [
            ("::", "::"),
            ("::1", "::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("fe80::", "fe80::"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("1:0:0:2:3:0:0:4", "1::2:3:0:0:4"),
        ];
        for (input, want) in cases {
            let ip: IpAddr = input.parse().unwrap();
            assert_eq!(ntop(&ip), want, "{input}");
        }
    }

    #[test]
    fn numbers_like_strtol() {
        assert_eq!(string_to_number("80", 0, 65535), Some(80));
        assert_eq!(string_to_number("+80", 0, 65535), Some(80));
        assert_eq!(string_to_number("-0", 0, 65535), Some(0));
        assert_eq!(string_to_number("65536", 0, 65535), None);
        assert_eq!(string_to_number("8o", 0, 65535), None);
        assert_eq!(string_to_number("", 0, 65535), None);
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi("x"), 0);
    }
}
