//! Addresses and numbers as ipvsadm's C library calls read and write them: `inet_aton`,
//! `inet_ntop`, `strtol`, `atoi`. Rule files depend on their quirks (`10.1` is 10.0.0.1,
//! `010.0.0.1` is 8.0.0.1; `::1.2.3.4` prints dotted), so lvs reads and writes the same.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// glibc's `inet_aton`: one to four parts, each decimal, octal (`0` prefix) or hex (`0x`).
pub(crate) fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    dotted_decimal(s.as_bytes()).or_else(|| aton_parts(s.as_bytes()))
}

/// The usual form, four plain decimal parts (no leading zeros, which would mean octal), in one
/// pass; `None` leaves the text to [`aton_parts`], which reads every form.
fn dotted_decimal(s: &[u8]) -> Option<Ipv4Addr> {
    match dotted_decimal_prefix(s)? {
        (a, end) if end == s.len() => Some(a),
        _ => None,
    }
}

/// [`dotted_decimal`] up to the first ':' or the end, with where it stopped.
#[inline]
fn dotted_decimal_prefix(s: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut i = 0;
    let a = plain_octet(s, &mut i)?;
    let mut octets = [a, 0, 0, 0];
    for octet in &mut octets[1..] {
        if s.get(i) != Some(&b'.') {
            return None;
        }
        i += 1;
        *octet = plain_octet(s, &mut i)?;
    }
    match s.get(i) {
        None | Some(b':') => Some((Ipv4Addr::from(octets), i)),
        Some(_) => None,
    }
}

/// One part of a dotted-decimal address at `s[*i..]`, moving `*i` past it: one to three
/// digits, at most 255, without a leading zero (`0` stands alone). A digit after that is left
/// for the caller to refuse.
#[inline(always)]
fn plain_octet(s: &[u8], i: &mut usize) -> Option<u8> {
    let digit = |i: usize| s.get(i).map(|b| b.wrapping_sub(b'0')).filter(|d| *d <= 9);
    let first = digit(*i)?;
    let mut value = u32::from(first);
    *i += 1;
    if first != 0 {
        for _ in 0..2 {
            let Some(d) = digit(*i) else { break };
            value = value * 10 + u32::from(d);
            *i += 1;
        }
    }
    u8::try_from(value).ok()
}

/// `a.b.c.d` or `a.b.c.d:port` in plain decimal (no leading zeros in the address, one to five
/// port digits, at most 65535), read in one pass: what `ipvsadm -Sn` writes. `None` for any
/// other text, which the general reading of ipvsadm's `parse_service` takes (and which reads
/// these texts the same way: they have fewer than two colons, so they are not IPv6, and the
/// port is what follows the last colon).
#[inline]
pub(crate) fn plain_ipv4_port(s: &[u8]) -> Option<(Ipv4Addr, Option<u16>)> {
    let (addr, end) = dotted_decimal_prefix(s)?;
    let Some(port) = s.get(end + 1..) else {
        return Some((addr, None));
    };
    if port.is_empty() || port.len() > 5 {
        return None;
    }
    let mut value = 0u32;
    for &b in port {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u32::from(digit);
    }
    Some((addr, Some(u16::try_from(value).ok()?)))
}

/// `inet_aton` for every form: one to four parts, the last filling the bytes left.
fn aton_parts(s: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = [0u32; 4];
    let mut count = 0;
    let mut rest = s;
    loop {
        if count == 4 {
            return None;
        }
        let end = rest.iter().position(|b| *b == b'.').unwrap_or(rest.len());
        parts[count] = c_unsigned(&rest[..end])?;
        count += 1;
        if end == rest.len() {
            break;
        }
        rest = &rest[end + 1..];
    }
    let (head, last) = (&parts[..count - 1], parts[count - 1]);
    if head.iter().any(|v| *v > 0xff) {
        return None;
    }
    // The last part fills the bytes the others leave.
    let max_last = u32::MAX >> (8 * head.len());
    if last > max_last {
        return None;
    }
    let mut addr = last;
    for (i, v) in head.iter().enumerate() {
        addr |= v << (24 - 8 * i);
    }
    Some(Ipv4Addr::from(addr))
}

/// One part of an `inet_aton` address: `strtoul` with base 0, digits only, at most 2^32 - 1.
fn c_unsigned(p: &[u8]) -> Option<u32> {
    let (digits, radix) = match p {
        [b'0', b'x' | b'X', hex @ ..] => (hex, 16),
        [b'0', octal @ ..] if !octal.is_empty() => (octal, 8),
        _ => (p, 10),
    };
    if digits.is_empty() {
        // glibc counts the leading 0 of "0x" as a digit: "0x" alone is 0; "" is nothing.
        return (radix == 16).then_some(0);
    }
    let mut value: u32 = 0;
    for &b in digits {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        if u32::from(digit) >= radix {
            return None;
        }
        value = value.checked_mul(radix)?.checked_add(u32::from(digit))?;
    }
    Some(value)
}

/// `inet_pton(AF_INET6, ...)`.
pub(crate) fn inet_pton6(s: &str) -> Option<Ipv6Addr> {
    // Every IPv6 text has two colons or more: this turns IPv4 addresses (with or without a
    // port), the usual case in rule files, away without a full parse.
    s.bytes().filter(|b| *b == b':').nth(1)?;
    s.parse().ok()
}

/// ipvsadm's `string_to_number`: `strtol` base 10 over the whole string, within `min..=max`.
// Inlined into the option loop, where most values are a few digits alone.
#[inline(always)]
pub(crate) fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let n = match s.as_bytes() {
        // The usual value, one to four digits alone, read without strtol's blanks, sign and
        // overflow checks (which change nothing for it).
        digits @ [_, ..] if digits.len() <= 4 && digits.iter().all(u8::is_ascii_digit) => {
            digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
        }
        _ => strtol_whole(s)?,
    };
    (min..=max).contains(&n).then_some(n)
}

/// `strtol(s, &end, 10)` that must consume all of `s` (leading blanks and a sign allowed).
#[inline(never)]
fn strtol_whole(s: &str) -> Option<i64> {
    let (neg, digits) = match trim_c_space(s) {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        all => (false, all),
    };
    if digits.is_empty() {
        return None;
    }
    // Out of range for a long is ERANGE, which ipvsadm refuses.
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

/// `s` without the leading blanks `isspace` skips, as bytes (they are all ASCII).
fn trim_c_space(s: &str) -> &[u8] {
    let bytes = s.as_bytes();
    let blanks = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'))
        .count();
    &bytes[blanks..]
}

/// `atoi`: leading blanks, a sign, then as many digits as there are.
pub(super) fn atoi(s: &str) -> i64 {
    let (neg, rest) = match trim_c_space(s) {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        all => (false, all),
    };
    let mut v: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -v } else { v }
}

/// Appends `n` in decimal, as `printf`'s `%d` and `%u` write it.
pub(crate) fn write_decimal(out: &mut String, n: impl Into<i64>) {
    let n: i64 = n.into();
    if n < 0 {
        out.push('-');
    }
    let mut v = n.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|d| char::from(*d)));
}

/// Appends an IPv4 address in dotted decimal, as `inet_ntop` writes it.
pub(crate) fn write_ipv4(out: &mut String, a: Ipv4Addr) {
    out.reserve(15);
    for (i, octet) in a.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
}

/// `inet_ntop` as glibc writes it. IPv6 differs from Rust's `Display`: glibc prints
/// IPv4-compatible addresses (`::1.2.3.4`) dotted.
pub(crate) fn ntop(ip: &IpAddr) -> String {
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
    fn the_dotted_decimal_shortcut_agrees_with_every_form() {
        let parts = [
            "0",
            "1",
            "7",
            "10",
            "99",
            "100",
            "255",
            "256",
            "999",
            "1000",
            "00",
            "01",
            "08",
            "010",
            "0x",
            "0x1f",
            "0XFF",
            "a",
            "",
            " 1",
            "+1",
            "65535",
            "16777216",
            "4294967295",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut addresses = 0;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Four parts more often than not, so that many draws are plain addresses.
            let count = if x % 2 == 0 {
                4
            } else {
                1 + (x >> 1) as usize % 5
            };
            let text: Vec<&str> = (0..count)
                .map(|i| parts[(x >> (8 + 8 * i)) as usize % parts.len()])
                .collect();
            let text = text.join(".");
            if let Some(fast) = dotted_decimal(text.as_bytes()) {
                assert_eq!(Some(fast), aton_parts(text.as_bytes()), "{text}");
                addresses += 1;
            }
        }
        assert!(
            addresses > 200,
            "only {addresses} draws were plain dotted decimal"
        );
        for (text, plain) in [
            ("0.0.0.0", true),
            ("255.255.255.255", true),
            ("1.2.3.04", false),
        ] {
            assert_eq!(dotted_decimal(text.as_bytes()).is_some(), plain, "{text}");
            assert_eq!(inet_aton(text), aton_parts(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn writers_match_display() {
        for n in [
            0i64,
            1,
            9,
            10,
            99,
            100,
            65535,
            -1,
            i64::from(i32::MIN),
            i64::from(u32::MAX),
        ] {
            let mut out = String::new();
            write_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for a in [
            [0, 0, 0, 0],
            [10, 0, 0, 13],
            [192, 168, 8, 14],
            [255, 255, 255, 255],
            [1, 22, 100, 9],
        ] {
            let a = Ipv4Addr::from(a);
            let mut out = String::new();
            write_ipv4(&mut out, a);
            assert_eq!(out, a.to_string());
        }
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
        // Short digit strings take a shortcut: the same answers as strtol's reading.
        for text in [
            "0", "7", "00", "09", "300", "0300", "9999", "1000", "x1", "1x", " 1", "1 ",
        ] {
            for (min, max) in [(0, 65535), (1, 255), (1, 9999), (10, 300)] {
                let strtol = strtol_whole(text).filter(|n| (min..=max).contains(n));
                assert_eq!(
                    string_to_number(text, min, max),
                    strtol,
                    "{text} {min} {max}"
                );
            }
        }
    }
}
