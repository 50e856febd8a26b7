//! Command-level values: timeouts (`IPVS_CMD_ATTR_TIMEOUT_*`, in `SET_CONFIG` requests and
//! `GET_CONFIG` replies) and `IPVS_INFO_ATTR_*` (the `GET_INFO` reply).

use super::attr::{AttrWriter, Payload, attrs};
use super::{DecodeError, cmd_attr};
use lvs_core::{Info, Timeouts, Version};

/// `IPVS_INFO_ATTR_VERSION` (u32).
pub const INFO_VERSION: u16 = 1;
/// `IPVS_INFO_ATTR_CONN_TAB_SIZE` (u32).
pub const INFO_CONN_TAB_SIZE: u16 = 2;

/// Writes the timeouts of a `SET_CONFIG` request: all three, as libipvs does (0 keeps the
/// kernel's value).
///
/// ```
/// use lvs_core::Timeouts;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::config;
///
/// // `ipvsadm --set 3600 0 0`: the zeroes are sent too, and keep the kernel's values.
/// let mut w = AttrWriter::new();
/// config::encode_timeouts(&mut w, &Timeouts { tcp: 3600, tcp_fin: 0, udp: 0 });
/// assert_eq!(w.finish().len(), 3 * 8);
/// ```
pub fn encode_timeouts(w: &mut AttrWriter, t: &Timeouts) {
    w.u32(cmd_attr::TIMEOUT_TCP, t.tcp)
        .u32(cmd_attr::TIMEOUT_TCP_FIN, t.tcp_fin)
        .u32(cmd_attr::TIMEOUT_UDP, t.udp);
}

/// Reads a `GET_CONFIG` reply. A value the kernel leaves out (protocol support not built in)
/// reads as 0.
///
/// ```
/// use lvs_core::Timeouts;
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::{cmd_attr, config};
///
/// // A kernel built without UDP support leaves TIMEOUT_UDP out.
/// let mut w = AttrWriter::new();
/// w.u32(cmd_attr::TIMEOUT_TCP, 900).u32(cmd_attr::TIMEOUT_TCP_FIN, 120);
/// let t = config::decode_timeouts(&w.finish())?;
/// assert_eq!(t, Timeouts { tcp: 900, tcp_fin: 120, udp: 0 });
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn decode_timeouts(attrs_buf: &[u8]) -> Result<Timeouts, DecodeError> {
    let mut t = Timeouts::default();
    for a in attrs("IPVS_CMD_ATTR", attrs_buf) {
        let a = a?;
        let slot = match a.ty {
            cmd_attr::TIMEOUT_TCP => &mut t.tcp,
            cmd_attr::TIMEOUT_TCP_FIN => &mut t.tcp_fin,
            cmd_attr::TIMEOUT_UDP => &mut t.udp,
            _ => continue,
        };
        *slot = Payload::new(cmd_attr::name(a.ty), a.payload).u32()?;
    }
    Ok(t)
}

/// Reads a `GET_INFO` reply.
///
/// ```
/// use lvs_netlink::wire::attr::AttrWriter;
/// use lvs_netlink::wire::config;
///
/// let mut w = AttrWriter::new();
/// w.u32(config::INFO_VERSION, 0x01_02_01).u32(config::INFO_CONN_TAB_SIZE, 4096);
/// let info = config::decode_info(&w.finish())?;
/// assert_eq!((info.version.to_string(), info.conn_table_size), ("1.2.1".to_owned(), 4096));
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn decode_info(attrs_buf: &[u8]) -> Result<Info, DecodeError> {
    let (mut version, mut size) = (None, None);
    for a in attrs("IPVS_INFO_ATTR", attrs_buf) {
        let a = a?;
        match a.ty {
            INFO_VERSION => {
                version = Some(Payload::new("IPVS_INFO_ATTR_VERSION", a.payload).u32()?)
            }
            INFO_CONN_TAB_SIZE => {
                size = Some(Payload::new("IPVS_INFO_ATTR_CONN_TAB_SIZE", a.payload).u32()?)
            }
            _ => {}
        }
    }
    Ok(Info {
        version: Version(version.ok_or_else(|| DecodeError::missing("IPVS_INFO_ATTR_VERSION"))?),
        conn_table_size: size
            .ok_or_else(|| DecodeError::missing("IPVS_INFO_ATTR_CONN_TAB_SIZE"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_trip() {
        let t = Timeouts {
            tcp: 1,
            tcp_fin: 2,
            udp: 3,
        };
        let mut w = AttrWriter::new();
        encode_timeouts(&mut w, &t);
        assert_eq!(decode_timeouts(&w.finish()).unwrap(), t);
    }

    #[test]
    fn info_needs_both_values() {
        let mut w = AttrWriter::new();
        w.u32(INFO_VERSION, 0x010201);
        let e = decode_info(&w.finish()).unwrap_err();
        assert_eq!(e.to_string(), "IPVS_INFO_ATTR_CONN_TAB_SIZE: missing");
    }
}
