//! Netlink attributes (TLVs): a writer that builds them and a reader that walks them.
//!
//! Every attribute is `u16 len | u16 type | payload`, padded to 4 bytes. The top two bits of
//! the type are flags (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`); readers ignore them, because the
//! kernel's IPVS code and older userspace (libnl before 3.4) do not set them on nests.

use super::DecodeError;

/// `NLA_F_NESTED`: set on the nests lvs writes.
pub const NLA_F_NESTED: u16 = 0x8000;
/// `NLA_F_NET_BYTEORDER`.
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
/// The attribute type without its flag bits.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
const HEADER: usize = 4;

/// Rounds up to the 4-byte netlink alignment.
///
/// ```
/// use lvs_netlink::wire::attr::align;
///
/// // A 3-byte scheduler name ("rr\0") behind a 4-byte header takes 8 bytes.
/// assert_eq!(align(4 + 3), 8);
/// assert_eq!(align(8), 8);
/// ```
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Attributes up to this size (header included: an IPv6 address's is 20 bytes) are
/// assembled on the stack.
const SMALL: usize = 24;

/// Builds a sequence of attributes.
///
/// ```
/// use lvs_netlink::wire::attr::{AttrWriter, attrs};
/// use lvs_netlink::wire::{cmd_attr, service};
///
/// // The service nest of `ipvsadm -D -f 10`: the family and the mark.
/// let mut w = AttrWriter::new();
/// w.nest(cmd_attr::SERVICE, |n| {
///     n.u16(service::AF, 2).u32(service::FWMARK, 10);
/// });
/// let bytes = w.finish();
/// assert_eq!(bytes.len(), 4 + 8 + 8);
/// let nest = attrs("IPVS_CMD_ATTR", &bytes).next().ok_or("empty")??;
/// assert_eq!(nest.ty, cmd_attr::SERVICE);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct AttrWriter {
    buf: Vec<u8>,
}

impl AttrWriter {
    /// An empty sequence.
    ///
    /// ```
    /// let w = lvs_netlink::wire::attr::AttrWriter::new();
    /// assert!(w.finish().is_empty());
    /// ```
    pub fn new() -> Self {
        // Enough for any one IPVS request (a real server with every attribute is about 150
        // bytes), so encoding one allocates once.
        AttrWriter {
            buf: Vec::with_capacity(192),
        }
    }

    /// The bytes written so far.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::AttrWriter;
    /// use lvs_netlink::wire::{GenlMessage, cmd, cmd_attr};
    ///
    /// let mut w = AttrWriter::new();
    /// w.u32(cmd_attr::TIMEOUT_UDP, 60);
    /// let msg = GenlMessage::new(cmd::SET_CONFIG, w.finish());
    /// assert_eq!(msg.attrs.len(), 8);
    /// ```
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// One attribute with a raw payload.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::AttrWriter;
    /// use lvs_netlink::wire::service;
    ///
    /// // struct ip_vs_flags: the flags, then the mask of flags to change.
    /// let mut flags = [0u8; 8];
    /// flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    /// let mut w = AttrWriter::new();
    /// w.bytes(service::FLAGS, &flags);
    /// assert_eq!(w.finish().len(), 12);
    /// ```
    pub fn bytes(&mut self, ty: u16, payload: &[u8]) -> &mut Self {
        if payload.len() <= SMALL - HEADER {
            // Most attributes (numbers, addresses): header, payload and padding assembled on
            // the stack and appended with one copy.
            let len = HEADER + payload.len();
            let mut attr = [0u8; SMALL];
            attr[..2].copy_from_slice(&(len as u16).to_ne_bytes());
            attr[2..4].copy_from_slice(&ty.to_ne_bytes());
            attr[HEADER..len].copy_from_slice(payload);
            self.buf.extend_from_slice(&attr[..align(len)]);
            return self;
        }
        self.pieces(ty, &[payload])
    }

    /// One attribute whose payload is the concatenation of `pieces`.
    fn pieces(&mut self, ty: u16, pieces: &[&[u8]]) -> &mut Self {
        let len = HEADER + pieces.iter().map(|p| p.len()).sum::<usize>();
        self.buf.reserve(align(len));
        // Payloads here are at most a few hundred bytes; a u16 length is never exceeded.
        self.buf
            .extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        for p in pieces {
            self.buf.extend_from_slice(p);
        }
        self.pad();
        self
    }

    fn pad(&mut self) {
        const ZEROS: [u8; 3] = [0; 3];
        let n = align(self.buf.len()) - self.buf.len();
        self.buf.extend_from_slice(&ZEROS[..n]);
    }

    /// A `u8` attribute.
    ///
    /// ```
    /// use lvs_netlink::wire::{attr::AttrWriter, dest};
    ///
    /// let mut w = AttrWriter::new();
    /// w.u8(dest::TUN_TYPE, 1); // gue
    /// assert_eq!(w.finish().len(), 8, "one byte, padded to four");
    /// ```
    pub fn u8(&mut self, ty: u16, v: u8) -> &mut Self {
        self.bytes(ty, &[v])
    }

    /// A `u16` attribute in host order.
    ///
    /// ```
    /// use lvs_core::Family;
    /// use lvs_netlink::wire::{attr::AttrWriter, service};
    ///
    /// let mut w = AttrWriter::new();
    /// w.u16(service::AF, Family::Inet6.af());
    /// assert_eq!(&w.finish()[4..6], &10u16.to_ne_bytes());
    /// ```
    pub fn u16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.bytes(ty, &v.to_ne_bytes())
    }

    /// A `__be16` attribute (ports).
    ///
    /// ```
    /// use lvs_netlink::wire::{attr::AttrWriter, service};
    ///
    /// let mut w = AttrWriter::new();
    /// w.be16(service::PORT, 80);
    /// assert_eq!(&w.finish()[4..6], &[0, 80]);
    /// ```
    pub fn be16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.bytes(ty, &v.to_be_bytes())
    }

    /// A `u32` attribute in host order.
    ///
    /// ```
    /// use lvs_netlink::wire::{attr::AttrWriter, service};
    ///
    /// let mut w = AttrWriter::new();
    /// w.u32(service::TIMEOUT, 300); // -p 300
    /// assert_eq!(&w.finish()[4..], &300u32.to_ne_bytes());
    /// ```
    pub fn u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.bytes(ty, &v.to_ne_bytes())
    }

    /// A NUL-terminated string.
    ///
    /// ```
    /// use lvs_netlink::wire::{attr::AttrWriter, service};
    ///
    /// let mut w = AttrWriter::new();
    /// w.string(service::SCHED_NAME, "wrr");
    /// assert_eq!(&w.finish()[4..], b"wrr\0");
    /// ```
    pub fn string(&mut self, ty: u16, s: &str) -> &mut Self {
        self.pieces(ty, &[s.as_bytes(), &[0]])
    }

    /// A nest (with `NLA_F_NESTED`) holding what `fill` writes.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::{AttrWriter, NLA_F_NESTED};
    /// use lvs_netlink::wire::{cmd_attr, dest};
    ///
    /// // The real-server nest of `ipvsadm -d ... -r 192.168.8.14:80`.
    /// let mut w = AttrWriter::new();
    /// w.nest(cmd_attr::DEST, |n| dest::encode_key(n, &"192.168.8.14:80".parse().unwrap()));
    /// let bytes = w.finish();
    /// assert_eq!(u16::from_ne_bytes([bytes[2], bytes[3]]), cmd_attr::DEST | NLA_F_NESTED);
    /// ```
    pub fn nest(&mut self, ty: u16, fill: impl FnOnce(&mut AttrWriter)) -> &mut Self {
        self.nest_typed(ty | NLA_F_NESTED, fill)
    }

    /// A nest without `NLA_F_NESTED`, as the kernel's IPVS and nlctrl code write theirs
    /// (`nla_nest_start_noflag`): what the fake kernel answers with.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::AttrWriter;
    /// use lvs_netlink::wire::{cmd_attr, service};
    ///
    /// let mut w = AttrWriter::new();
    /// w.nest_noflag(cmd_attr::SERVICE, |n| {
    ///     n.u16(service::AF, 2);
    /// });
    /// assert_eq!(w.finish()[..4], [12, 0, 1, 0], "length 12, type 1, no flag bits");
    /// ```
    pub fn nest_noflag(&mut self, ty: u16, fill: impl FnOnce(&mut AttrWriter)) -> &mut Self {
        self.nest_typed(ty, fill)
    }

    fn nest_typed(&mut self, ty: u16, fill: impl FnOnce(&mut AttrWriter)) -> &mut Self {
        // Written in place: a header whose length is filled in once the nest is complete.
        let start = self.buf.len();
        self.pieces(ty, &[]);
        fill(self);
        let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }
}

/// One attribute read from a buffer.
///
/// ```
/// use lvs_netlink::wire::attr::{AttrWriter, Payload, attrs};
/// use lvs_netlink::wire::config;
///
/// let mut w = AttrWriter::new();
/// w.u32(config::INFO_VERSION, 0x01_02_01).u32(config::INFO_CONN_TAB_SIZE, 4096);
/// let bytes = w.finish();
/// for a in attrs("IPVS_INFO_ATTR", &bytes) {
///     let a = a?;
///     if a.ty == config::INFO_CONN_TAB_SIZE {
///         assert_eq!(Payload::new("IPVS_INFO_ATTR_CONN_TAB_SIZE", a.payload).u32()?, 4096);
///     }
/// }
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The type without flag bits.
    pub ty: u16,
    /// The payload, without padding.
    pub payload: &'a [u8],
}

/// Walks the attributes of `buf`; a truncated attribute ends the walk with an error that names
/// `space` (the attribute space, e.g. `IPVS_SVC_ATTR`).
///
/// ```
/// use lvs_netlink::wire::attr::{AttrWriter, attrs};
/// use lvs_netlink::wire::service;
///
/// let mut w = AttrWriter::new();
/// w.u16(service::AF, 2).string(service::SCHED_NAME, "rr");
/// let bytes = w.finish();
/// let types: Vec<u16> =
///     attrs("IPVS_SVC_ATTR", &bytes).map(|a| a.map(|a| a.ty)).collect::<Result<_, _>>()?;
/// assert_eq!(types, [service::AF, service::SCHED_NAME]);
/// // A reply cut short ends the walk with an error naming the attribute space.
/// let cut = attrs("IPVS_SVC_ATTR", &bytes[..10]).find_map(Result::err);
/// assert_eq!(cut.map(|e| e.attribute), Some("IPVS_SVC_ATTR"));
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn attrs<'a>(
    space: &'static str,
    buf: &'a [u8],
) -> impl Iterator<Item = Result<Attr<'a>, DecodeError>> + 'a {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() < HEADER {
            let problem = format!("{} trailing bytes, too short for an attribute", rest.len());
            rest = &[];
            return Some(Err(DecodeError::new(space, problem)));
        }
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
        if len < HEADER || len > rest.len() {
            let problem = format!(
                "attribute type {ty} claims {len} bytes, {} are left",
                rest.len()
            );
            rest = &[];
            return Some(Err(DecodeError::new(space, problem)));
        }
        let attr = Attr {
            ty,
            payload: &rest[HEADER..len],
        };
        rest = rest.get(align(len)..).unwrap_or(&[]);
        Some(Ok(attr))
    })
}

/// Reads payloads of known sizes, naming the attribute when the size is wrong.
///
/// ```
/// use lvs_netlink::wire::attr::Payload;
/// use lvs_netlink::wire::dest;
///
/// let weight = Payload::new(dest::name(dest::WEIGHT), &3u32.to_ne_bytes()).u32()?;
/// assert_eq!(weight, 3);
/// let short = Payload::new(dest::name(dest::WEIGHT), &[3, 0]).u32().unwrap_err();
/// assert_eq!(short.to_string(), "IPVS_DEST_ATTR_WEIGHT: expected 4 bytes, got 2");
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub struct Payload<'a> {
    /// The attribute's name, e.g. `IPVS_SVC_ATTR_FLAGS`.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: &'a [u8],
}

impl<'a> Payload<'a> {
    /// Names `bytes` as attribute `name`.
    ///
    /// ```
    /// let p = lvs_netlink::wire::attr::Payload::new("IPVS_SVC_ATTR_PROTOCOL", &[6, 0]);
    /// assert_eq!(p.name, "IPVS_SVC_ATTR_PROTOCOL");
    /// ```
    pub fn new(name: &'static str, bytes: &'a [u8]) -> Self {
        Payload { name, bytes }
    }

    fn exact<const N: usize>(&self) -> Result<[u8; N], DecodeError> {
        <[u8; N]>::try_from(self.bytes).map_err(|_| {
            DecodeError::new(
                self.name,
                format!("expected {N} bytes, got {}", self.bytes.len()),
            )
        })
    }

    /// A `u8`.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// assert_eq!(Payload::new("IPVS_DAEMON_ATTR_MCAST_TTL", &[1]).u8()?, 1);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn u8(&self) -> Result<u8, DecodeError> {
        Ok(self.exact::<1>()?[0])
    }

    /// A host-order `u16`.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// assert_eq!(Payload::new("IPVS_SVC_ATTR_PROTOCOL", &17u16.to_ne_bytes()).u16()?, 17);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn u16(&self) -> Result<u16, DecodeError> {
        Ok(u16::from_ne_bytes(self.exact()?))
    }

    /// A `__be16`.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// assert_eq!(Payload::new("IPVS_SVC_ATTR_PORT", &[0x1f, 0x90]).be16()?, 8080);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn be16(&self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.exact()?))
    }

    /// A host-order `u32`.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// let active = Payload::new("IPVS_DEST_ATTR_ACTIVE_CONNS", &12u32.to_ne_bytes()).u32()?;
    /// assert_eq!(active, 12);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn u32(&self) -> Result<u32, DecodeError> {
        Ok(u32::from_ne_bytes(self.exact()?))
    }

    /// Four raw bytes (IPv4 addresses and masks, in network order).
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// use std::net::Ipv4Addr;
    /// let group = Payload::new("IPVS_DAEMON_ATTR_MCAST_GROUP", &[224, 0, 0, 81]).raw4()?;
    /// assert_eq!(Ipv4Addr::from(group), Ipv4Addr::new(224, 0, 0, 81));
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn raw4(&self) -> Result<[u8; 4], DecodeError> {
        self.exact()
    }

    /// Sixteen raw bytes (`union nf_inet_addr`).
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// use std::net::Ipv6Addr;
    /// let ip: Ipv6Addr = "2001:db8::1".parse().unwrap();
    /// assert_eq!(Payload::new("IPVS_SVC_ATTR_ADDR", &ip.octets()).raw16()?, ip.octets());
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn raw16(&self) -> Result<[u8; 16], DecodeError> {
        self.exact()
    }

    /// A host-order `u64`.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// let bytes = 5_000_000_000u64.to_ne_bytes();
    /// assert_eq!(Payload::new("IPVS_STATS_ATTR_INBYTES", &bytes).u64()?, 5_000_000_000);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn u64(&self) -> Result<u64, DecodeError> {
        Ok(u64::from_ne_bytes(self.exact()?))
    }

    /// A counter the kernel sends as `u32` or `u64`, depending on the attribute space.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// // The 32-bit STATS nest sends CONNS as u32, STATS64 as u64: both read as u64.
    /// assert_eq!(Payload::new("IPVS_STATS_ATTR_CONNS", &7u32.to_ne_bytes()).counter()?, 7);
    /// assert_eq!(Payload::new("IPVS_STATS_ATTR_CONNS", &7u64.to_ne_bytes()).counter()?, 7);
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn counter(&self) -> Result<u64, DecodeError> {
        match self.bytes.len() {
            4 => self.u32().map(u64::from),
            8 => self.u64(),
            n => Err(DecodeError::new(
                self.name,
                format!("expected 4 or 8 bytes, got {n}"),
            )),
        }
    }

    /// A string, NUL-terminated or not; bytes after the first NUL are ignored.
    ///
    /// ```
    /// use lvs_netlink::wire::attr::Payload;
    /// assert_eq!(Payload::new("IPVS_SVC_ATTR_PE_NAME", b"sip\0").string()?, "sip");
    /// # Ok::<(), lvs_netlink::wire::DecodeError>(())
    /// ```
    pub fn string(&self) -> Result<String, DecodeError> {
        let end = self
            .bytes
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.bytes.len());
        std::str::from_utf8(&self.bytes[..end])
            .map(str::to_owned)
            .map_err(|e| DecodeError::new(self.name, format!("not UTF-8: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let mut w = AttrWriter::new();
        w.u16(1, 2).string(6, "rr").nest(10, |n| {
            n.u32(1, 7);
        });
        let buf = w.finish();
        let read: Vec<_> = attrs("T", &buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(
            read[0],
            Attr {
                ty: 1,
                payload: &[2, 0]
            }
        );
        assert_eq!(read[1].payload, b"rr\0");
        assert_eq!(read[2].ty, 10, "the nested flag is masked off");
        let inner: Vec<_> = attrs("T", read[2].payload)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(Payload::new("X", inner[0].payload).u32().unwrap(), 7);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let buf = [8u8, 0, 1, 0, 1, 2];
        let r: Result<Vec<_>, _> = attrs("IPVS_SVC_ATTR", &buf).collect();
        let e = r.unwrap_err();
        assert_eq!(e.attribute, "IPVS_SVC_ATTR");
        let r: Result<Vec<_>, _> = attrs("S", &[1u8, 0]).collect();
        assert!(r.is_err());
        let r: Result<Vec<_>, _> = attrs("S", &[2u8, 0, 1, 0]).collect();
        assert!(r.is_err(), "a length below the header size");
    }

    #[test]
    fn size_errors_name_the_attribute() {
        let e = Payload::new("IPVS_SVC_ATTR_FLAGS", &[0; 4])
            .raw16()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "IPVS_SVC_ATTR_FLAGS: expected 16 bytes, got 4"
        );
        assert_eq!(Payload::new("S", b"sip\0junk").string().unwrap(), "sip");
        assert_eq!(Payload::new("S", b"sip").string().unwrap(), "sip");
    }
}
