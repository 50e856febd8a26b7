//! `IPVS_STATS_ATTR_*`: the counters nested in every service and destination reply.
//!
//! The kernel sends two nests: `STATS` (every counter a `u32`, truncated from the 64-bit
//! counters, except `INBYTES`/`OUTBYTES`, which are `u64`) and, since Linux 4.1, `STATS64`
//! (every counter a `u64`, with `PAD` attributes for alignment, which are skipped).

use super::DecodeError;
use super::attr::{AttrWriter, Payload, attrs};
use lvs_core::Stats;

/// Connections.
pub const CONNS: u16 = 1;
/// Packets in.
pub const INPKTS: u16 = 2;
/// Packets out.
pub const OUTPKTS: u16 = 3;
/// Bytes in.
pub const INBYTES: u16 = 4;
/// Bytes out.
pub const OUTBYTES: u16 = 5;
/// Connections per second.
pub const CPS: u16 = 6;
/// Packets in per second.
pub const INPPS: u16 = 7;
/// Packets out per second.
pub const OUTPPS: u16 = 8;
/// Bytes in per second.
pub const INBPS: u16 = 9;
/// Bytes out per second.
pub const OUTBPS: u16 = 10;
/// Alignment padding in `STATS64` (skipped).
pub const PAD: u16 = 11;

/// The attribute's UAPI name.
///
/// ```
/// use lvs_netlink::wire::stats;
/// assert_eq!(stats::name(stats::OUTBYTES), "IPVS_STATS_ATTR_OUTBYTES");
/// ```
pub fn name(ty: u16) -> &'static str {
    match ty {
        CONNS => "IPVS_STATS_ATTR_CONNS",
        INPKTS => "IPVS_STATS_ATTR_INPKTS",
        OUTPKTS => "IPVS_STATS_ATTR_OUTPKTS",
        INBYTES => "IPVS_STATS_ATTR_INBYTES",
        OUTBYTES => "IPVS_STATS_ATTR_OUTBYTES",
        CPS => "IPVS_STATS_ATTR_CPS",
        INPPS => "IPVS_STATS_ATTR_INPPS",
        OUTPPS => "IPVS_STATS_ATTR_OUTPPS",
        INBPS => "IPVS_STATS_ATTR_INBPS",
        OUTBPS => "IPVS_STATS_ATTR_OUTBPS",
        PAD => "IPVS_STATS_ATTR_PAD",
        _ => "IPVS_STATS_ATTR_(unknown)",
    }
}

/// Reads a `STATS` or `STATS64` nest. Counters may be 4 or 8 bytes wide (the 32-bit nest
/// mixes both); `PAD` and unknown attributes are skipped.
///
/// ```
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::stats;
///
/// // CPS as u32, the byte counters as u64, as in the kernel's 32-bit nest.
/// let mut w = AttrWriter::new();
/// w.u32(stats::CPS, 25).bytes(stats::INBYTES, &1_000_000u64.to_ne_bytes());
/// let s = stats::decode(&w.finish())?;
/// assert_eq!((s.cps, s.inbytes), (25, 1_000_000));
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn decode(nest: &[u8]) -> Result<Stats, DecodeError> {
    let mut s = Stats::default();
    for a in attrs("IPVS_STATS_ATTR", nest) {
        let a = a?;
        let slot = match a.ty {
            CONNS => &mut s.conns,
            INPKTS => &mut s.inpkts,
            OUTPKTS => &mut s.outpkts,
            INBYTES => &mut s.inbytes,
            OUTBYTES => &mut s.outbytes,
            CPS => &mut s.cps,
            INPPS => &mut s.inpps,
            OUTPPS => &mut s.outpps,
            INBPS => &mut s.inbps,
            OUTBPS => &mut s.outbps,
            _ => continue,
        };
        *slot = Payload::new(name(a.ty), a.payload).counter()?;
    }
    Ok(s)
}

/// Writes `stats` as the kernel writes a `STATS64` nest's counters (without padding), for
/// tests and simulations.
///
/// ```
/// use lvs_core::Stats;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::stats;
///
/// let counters = Stats { conns: 5_000_000_000, inpkts: 7, ..Stats::default() };
/// let mut w = AttrWriter::new();
/// stats::encode64(&mut w, &counters);
/// assert_eq!(stats::decode(&w.finish())?, counters);
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn encode64(w: &mut AttrWriter, stats: &Stats) {
    for (ty, v) in fields(stats) {
        w.bytes(ty, &v.to_ne_bytes());
    }
}

/// Writes `stats` as the kernel writes a 32-bit `STATS` nest (counters truncated to `u32`,
/// bytes as `u64`).
///
/// ```
/// use lvs_core::Stats;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::stats;
///
/// // Old kernels' 32-bit nest: the connection counter wraps, the byte counters do not.
/// let counters = Stats { conns: (1 << 32) + 5, inbytes: 1 << 40, ..Stats::default() };
/// let mut w = AttrWriter::new();
/// stats::encode32(&mut w, &counters);
/// let read = stats::decode(&w.finish())?;
/// assert_eq!((read.conns, read.inbytes), (5, 1 << 40));
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn encode32(w: &mut AttrWriter, stats: &Stats) {
    for (ty, v) in fields(stats) {
        if ty == INBYTES || ty == OUTBYTES {
            w.bytes(ty, &v.to_ne_bytes());
        } else {
            // Truncation is what the kernel does in this nest.
            w.u32(ty, v as u32);
        }
    }
}

fn fields(s: &Stats) -> [(u16, u64); 10] {
    [
        (CONNS, s.conns),
        (INPKTS, s.inpkts),
        (OUTPKTS, s.outpkts),
        (INBYTES, s.inbytes),
        (OUTBYTES, s.outbytes),
        (CPS, s.cps),
        (INPPS, s.inpps),
        (OUTPPS, s.outpps),
        (INBPS, s.inbps),
        (OUTBPS, s.outbps),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stats {
        Stats {
            conns: 1,
            inpkts: 2,
            outpkts: 3,
            inbytes: 1 << 40,
            outbytes: 5,
            cps: 6,
            inpps: 7,
            outpps: 8,
            inbps: 9,
            outbps: 10,
        }
    }

    #[test]
    fn both_nests_round_trip_and_pad_is_skipped() {
        let mut w = AttrWriter::new();
        encode32(&mut w, &sample());
        assert_eq!(decode(&w.finish()).unwrap(), sample());
        let mut w = AttrWriter::new();
        w.bytes(PAD, &[]);
        encode64(&mut w, &sample());
        w.u32(99, 1);
        assert_eq!(decode(&w.finish()).unwrap(), sample());
    }

    #[test]
    fn odd_widths_name_the_counter() {
        let mut w = AttrWriter::new();
        w.bytes(CONNS, &[1, 2]);
        let e = decode(&w.finish()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "IPVS_STATS_ATTR_CONNS: expected 4 or 8 bytes, got 2"
        );
    }
}
