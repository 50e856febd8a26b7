//! The generic-netlink controller (`nlctrl`): how a client learns the id the kernel gave the
//! "IPVS" family (`CTRL_CMD_GETFAMILY`, answered by `CTRL_CMD_NEWFAMILY`).
//!
//! The request names the family (`CTRL_ATTR_FAMILY_NAME`); the answer carries its id, version,
//! header size, highest attribute and operations, in the order of the kernel's
//! `ctrl_fill_info`. An unknown family is refused with `ENOENT`.

use super::attr::{AttrWriter, Payload, attrs};
use super::{DecodeError, GenlMessage};

/// `GENL_ID_CTRL`: the controller's fixed netlink message type.
pub const GENL_ID_CTRL: u16 = 0x10;
/// The controller's version (`CTRL_ATTR_VERSION` of nlctrl itself), sent in requests.
pub const VERSION: u8 = 2;

/// `CTRL_CMD_NEWFAMILY`: the answer.
pub const CMD_NEWFAMILY: u8 = 1;
/// `CTRL_CMD_GETFAMILY`: the question.
pub const CMD_GETFAMILY: u8 = 3;

/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (string).
pub const FAMILY_NAME: u16 = 2;
/// `CTRL_ATTR_VERSION` (u32).
pub const FAMILY_VERSION: u16 = 3;
/// `CTRL_ATTR_HDRSIZE` (u32).
pub const HDRSIZE: u16 = 4;
/// `CTRL_ATTR_MAXATTR` (u32).
pub const MAXATTR: u16 = 5;
/// `CTRL_ATTR_OPS` (nest of nests, one per operation, numbered from 1).
pub const OPS: u16 = 6;
/// `CTRL_ATTR_OP_ID` (u32), inside an operation's nest.
pub const OP_ID: u16 = 1;
/// `CTRL_ATTR_OP_FLAGS` (u32), inside an operation's nest.
pub const OP_FLAGS: u16 = 2;

/// `GENL_ADMIN_PERM`: the operation needs CAP_NET_ADMIN.
pub const OP_ADMIN_PERM: u32 = 0x01;
/// `GENL_CMD_CAP_DO`: the operation has a request handler.
pub const OP_CAP_DO: u32 = 0x02;
/// `GENL_CMD_CAP_DUMP`: the operation can dump.
pub const OP_CAP_DUMP: u32 = 0x04;
/// `GENL_CMD_CAP_HASPOL`: the operation validates its attributes with a policy.
pub const OP_CAP_HASPOL: u32 = 0x08;

/// The request for the family called `name`.
///
/// ```
/// use lvs_netlink::wire::ctrl;
///
/// let req = ctrl::get_family("IPVS");
/// assert_eq!((req.cmd, req.version), (ctrl::CMD_GETFAMILY, ctrl::VERSION));
/// assert_eq!(ctrl::requested_name(&req.attrs)?, "IPVS");
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn get_family(name: &str) -> GenlMessage {
    let mut w = AttrWriter::new();
    w.string(FAMILY_NAME, name);
    GenlMessage {
        cmd: CMD_GETFAMILY,
        version: VERSION,
        attrs: w.finish(),
    }
}

/// The family name a `GETFAMILY` request asks for.
pub fn requested_name(attrs_buf: &[u8]) -> Result<String, DecodeError> {
    for a in attrs("CTRL_ATTR", attrs_buf) {
        let a = a?;
        if a.ty == FAMILY_NAME {
            return Payload::new("CTRL_ATTR_FAMILY_NAME", a.payload).string();
        }
    }
    Err(DecodeError::missing("CTRL_ATTR_FAMILY_NAME"))
}

/// A generic-netlink family as the controller describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The netlink message type its requests use.
    pub id: u16,
    /// Its name, e.g. `IPVS`.
    pub name: String,
    /// Its version (1 for IPVS).
    pub version: u32,
    /// The size of its own header after `genlmsghdr` (0 for IPVS).
    pub hdrsize: u32,
    /// Its highest command-level attribute (`IPVS_CMD_ATTR_MAX`, 6).
    pub maxattr: u32,
    /// Its operations: the command and its `OP_*` flags, in the kernel's order.
    pub ops: Vec<(u32, u32)>,
}

/// Writes the attributes of a `NEWFAMILY` answer, in the order of the kernel's
/// `ctrl_fill_info` (nests without `NLA_F_NESTED`, as the kernel writes them).
///
/// ```
/// use lvs_netlink::wire::ctrl;
/// use lvs_netlink::wire::attr::AttrWriter;
///
/// let ipvs = ctrl::Family {
///     id: 0x20,
///     name: "IPVS".into(),
///     version: 1,
///     hdrsize: 0,
///     maxattr: 6,
///     ops: vec![(15, ctrl::OP_ADMIN_PERM | ctrl::OP_CAP_DO)],
/// };
/// let mut w = AttrWriter::new();
/// ctrl::encode_family(&mut w, &ipvs);
/// assert_eq!(ctrl::decode_family_id(&w.finish())?, 0x20);
/// # Ok::<(), lvs_netlink::wire::DecodeError>(())
/// ```
pub fn encode_family(w: &mut AttrWriter, f: &Family) {
    w.string(FAMILY_NAME, &f.name)
        .u16(FAMILY_ID, f.id)
        .u32(FAMILY_VERSION, f.version)
        .u32(HDRSIZE, f.hdrsize)
        .u32(MAXATTR, f.maxattr);
    if !f.ops.is_empty() {
        w.nest_noflag(OPS, |ops| {
            for (i, (cmd, flags)) in (1u16..).zip(&f.ops) {
                ops.nest_noflag(i, |op| {
                    op.u32(OP_ID, *cmd).u32(OP_FLAGS, *flags);
                });
            }
        });
    }
}

/// The family id of a `NEWFAMILY` answer.
pub fn decode_family_id(attrs_buf: &[u8]) -> Result<u16, DecodeError> {
    for a in attrs("CTRL_ATTR", attrs_buf) {
        let a = a?;
        if a.ty == FAMILY_ID {
            return Payload::new("CTRL_ATTR_FAMILY_ID", a.payload).u16();
        }
    }
    Err(DecodeError::missing("CTRL_ATTR_FAMILY_ID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_a_nul_terminated_name() {
        let req = get_family("IPVS");
        assert_eq!(req.attrs, [9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0]);
        assert!(requested_name(&[]).is_err());
    }

    #[test]
    fn a_missing_or_short_id_is_an_error() {
        let mut w = AttrWriter::new();
        w.string(FAMILY_NAME, "IPVS");
        assert_eq!(
            decode_family_id(&w.finish()).unwrap_err().to_string(),
            "CTRL_ATTR_FAMILY_ID: missing"
        );
        let mut w = AttrWriter::new();
        w.u32(FAMILY_ID, 0x20);
        assert!(decode_family_id(&w.finish()).is_err());
    }
}
