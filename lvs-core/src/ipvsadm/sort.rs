//! The order ipvsadm lists services and real servers in: libipvs's `ipvs_cmp_services` and
//! `ipvs_cmp_dests` under glibc's `qsort`.
//!
//! The comparisons subtract unsigned 32-bit values and read the difference as a signed int,
//! so addresses more than 2^31 apart compare "backwards" (10.0.0.1 sorts after 200.0.0.1).
//! Byte-identical output needs the same arithmetic and the same sort algorithm: glibc 2.36's
//! `qsort` is a top-down merge sort (`msort_with_tmp`), which this module reproduces.

use crate::{Destination, Family, ServiceKey};
use std::net::IpAddr;

/// The 32-bit words of an address as libipvs compares them (host order; IPv4 in word 0).
fn words(ip: &IpAddr) -> [u32; 4] {
    match ip {
        IpAddr::V4(a) => [u32::from(*a), 0, 0, 0],
        IpAddr::V6(a) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
    }
}

fn wrapping_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn addr_diff(af_v6: bool, a: &[u32; 4], b: &[u32; 4]) -> i32 {
    if af_v6 {
        let mut r = 0;
        for i in 0..4 {
            r = wrapping_diff(a[i], b[i]);
            if r != 0 {
                break;
            }
        }
        r
    } else {
        wrapping_diff(a[0], b[0])
    }
}

/// libipvs's `ipvs_cmp_services`: the first nonzero difference of firewall mark, family,
/// protocol, address words and port, read as a signed int, as C's `qsort` takes it. The value,
/// not only its sign, is what libipvs returns (the C API's `ipvs_cmp_services` passes it on);
/// for an order, compare the result with 0.
pub fn cmp_services(a: &ServiceKey, b: &ServiceKey) -> i32 {
    SortKey::of(a).compare(&SortKey::of(b))
}

/// The fields of a service that `ipvs_cmp_services` compares, taken out once so that a sort
/// does not take them out again at each comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortKey {
    fwmark: u32,
    af: u16,
    protocol: u16,
    words: [u32; 4],
    port: u16,
}

impl SortKey {
    /// The key of a service.
    pub(crate) fn of(key: &ServiceKey) -> SortKey {
        match key {
            ServiceKey::Inet { protocol, addr } => SortKey {
                fwmark: 0,
                af: key.family().af(),
                protocol: protocol.number(),
                words: words(&addr.ip()),
                port: addr.port(),
            },
            ServiceKey::FwMark { family, mark } => SortKey {
                fwmark: *mark,
                af: family.af(),
                protocol: 6,
                words: [0; 4],
                port: 0,
            },
        }
    }

    /// `ipvs_cmp_services` on two keys.
    pub(crate) fn compare(&self, other: &SortKey) -> i32 {
        let mut r = wrapping_diff(self.fwmark, other.fwmark);
        if r != 0 {
            return r;
        }
        r = i32::from(self.af) - i32::from(other.af);
        if r != 0 {
            return r;
        }
        r = i32::from(self.protocol) - i32::from(other.protocol);
        if r != 0 {
            return r;
        }
        r = addr_diff(self.af == Family::Inet6.af(), &self.words, &other.words);
        if r != 0 {
            return r;
        }
        i32::from(self.port) - i32::from(other.port)
    }
}

/// libipvs's `ipvs_cmp_dests`: the first nonzero difference of address words and port, read
/// as a signed int (the C API's `ipvs_cmp_dests` passes it on); see [`cmp_services`].
pub fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let r = addr_diff(
        a.family() == Family::Inet6,
        &words(&a.addr.ip()),
        &words(&b.addr.ip()),
    );
    if r != 0 {
        return r;
    }
    i32::from(a.addr.port()) - i32::from(b.addr.port())
}

/// glibc's merge sort (`msort_with_tmp`): split at n/2, sort both halves, merge taking from
/// the left while `cmp(left, right) <= 0`. Sorts references or other small copies, with one
/// scratch buffer.
pub(crate) fn glibc_msort<T: Copy>(items: &mut [T], cmp: &impl Fn(&T, &T) -> i32) {
    msort_with(items, &mut Vec::new(), cmp);
}

/// [`glibc_msort`] with a scratch buffer the caller keeps, for many small sorts in a row.
pub(crate) fn msort_with<T: Copy>(
    items: &mut [T],
    scratch: &mut Vec<T>,
    cmp: &impl Fn(&T, &T) -> i32,
) {
    if items.len() > 1 {
        scratch.clear();
        scratch.reserve(items.len());
        msort_with_tmp(items, scratch, cmp);
    }
}

fn msort_with_tmp<T: Copy>(b: &mut [T], tmp: &mut Vec<T>, cmp: &impl Fn(&T, &T) -> i32) {
    let n = b.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort_with_tmp(&mut b[..n1], tmp, cmp);
    msort_with_tmp(&mut b[n1..], tmp, cmp);
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&b[i], &b[j]) <= 0 {
            tmp.push(b[i]);
            i += 1;
        } else {
            tmp.push(b[j]);
            j += 1;
        }
    }
    // What is left of the left run follows; what is left of the right run is in place already.
    tmp.extend_from_slice(&b[i..n1]);
    b[..tmp.len()].copy_from_slice(tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ServiceKey {
        ServiceKey::tcp(s.parse().unwrap())
    }

    #[test]
    fn addresses_far_apart_compare_backwards_like_libipvs() {
        assert!(cmp_services(&key("10.0.0.1:80"), &key("100.0.0.1:80")) < 0);
        assert!(cmp_services(&key("100.0.0.1:80"), &key("200.0.0.1:80")) < 0);
        // 0x0a000001 - 0xc8000001 wraps to a positive int.
        assert!(cmp_services(&key("10.0.0.1:80"), &key("200.0.0.1:80")) > 0);
    }

    #[test]
    fn inet_services_sort_before_marks_and_by_family_then_protocol() {
        let mark = ServiceKey::fwmark(Family::Inet, 1);
        assert!(cmp_services(&key("10.0.0.1:80"), &mark) < 0);
        let udp = ServiceKey::udp("10.0.0.1:80".parse().unwrap());
        assert!(cmp_services(&key("10.0.0.1:80"), &udp) < 0);
        let v6 = ServiceKey::tcp("[::1]:80".parse().unwrap());
        assert!(cmp_services(&key("10.0.0.1:80"), &v6) < 0);
    }

    #[test]
    fn msort_is_stable_merge() {
        let mut v = vec![5, 3, 9, 1, 3, 7];
        glibc_msort(&mut v, &|a: &i32, b: &i32| a - b);
        assert_eq!(v, [1, 3, 3, 5, 7, 9]);
    }
}
