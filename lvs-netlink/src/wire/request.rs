//! Requests: one [`Command`] or one query as a generic-netlink message.

use super::attr::AttrWriter;
use super::{GenlMessage, cmd, cmd_attr, config, daemon, dest, service};
use lvs_core::{Command, Operation, ServiceKey};

/// A request: the message, whether it is a dump, and the operation it performs (for error
/// messages).
///
/// ```
/// use lvs_core::Operation;
/// use lvs_netlink::wire::{cmd, request};
///
/// let req = request::get_services();
/// assert_eq!((req.msg.cmd, req.dump, req.op), (cmd::GET_SERVICE, true, Operation::GetServices));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The generic-netlink message.
    pub msg: GenlMessage,
    /// Sent with `NLM_F_DUMP` (answered with many messages and `NLMSG_DONE`).
    pub dump: bool,
    /// What it does.
    pub op: Operation,
}

impl Request {
    fn new(op: Operation, cmd: u8, dump: bool, fill: impl FnOnce(&mut AttrWriter)) -> Self {
        let mut w = AttrWriter::new();
        fill(&mut w);
        Request {
            msg: GenlMessage::new(cmd, w.finish()),
            dump,
            op,
        }
    }
}

fn key_nest(w: &mut AttrWriter, key: &ServiceKey) {
    w.nest(cmd_attr::SERVICE, |n| service::encode_key(n, key));
}

/// The request that carries out `command`, or `None` for a command this version of lvs
/// does not know how to send. Nothing is validated here: see [`crate::Ipvs::apply`] for the
/// checks made before sending.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Command, Destination, Forward, ServiceKey};
/// use lvs_netlink::wire::netlink::{self, flags};
/// use lvs_netlink::wire::{cmd, request};
///
/// // `ipvsadm -a -t 10.0.0.13:80 -r 192.168.8.14:80 -m` as a netlink datagram.
/// let add = Command::AddDestination {
///     service: ServiceKey::tcp("10.0.0.13:80".parse()?),
///     destination: Destination::new("192.168.8.14:80".parse()?).with_forward(Forward::Masquerade),
/// };
/// let req = request::command(&add).ok_or("this lvs cannot send it")?;
/// assert_eq!(req.msg.cmd, cmd::NEW_DEST);
/// let mut datagram = Vec::new();
/// netlink::append(&mut datagram, 0x22, flags::REQUEST | flags::ACK, 1, &req.msg.encode());
/// # Ok(())
/// # }
/// ```
pub fn command(command: &Command) -> Option<Request> {
    let op = command.operation();
    Some(match command {
        Command::AddService(s) => Request::new(op, cmd::NEW_SERVICE, false, |w| {
            w.nest(cmd_attr::SERVICE, |n| service::encode(n, s));
        }),
        Command::EditService(s) => Request::new(op, cmd::SET_SERVICE, false, |w| {
            w.nest(cmd_attr::SERVICE, |n| service::encode(n, s));
        }),
        Command::DeleteService(k) => Request::new(op, cmd::DEL_SERVICE, false, |w| key_nest(w, k)),
        Command::Flush => Request::new(op, cmd::FLUSH, false, |_| {}),
        Command::AddDestination {
            service,
            destination,
        } => Request::new(op, cmd::NEW_DEST, false, |w| {
            key_nest(w, service);
            w.nest(cmd_attr::DEST, |n| dest::encode(n, destination));
        }),
        Command::EditDestination {
            service,
            destination,
        } => Request::new(op, cmd::SET_DEST, false, |w| {
            key_nest(w, service);
            w.nest(cmd_attr::DEST, |n| dest::encode(n, destination));
        }),
        Command::DeleteDestination { service, addr } => {
            Request::new(op, cmd::DEL_DEST, false, |w| {
                key_nest(w, service);
                w.nest(cmd_attr::DEST, |n| dest::encode_key(n, addr));
            })
        }
        Command::Zero(key) => Request::new(op, cmd::ZERO, false, |w| {
            if let Some(k) = key {
                key_nest(w, k);
            }
        }),
        Command::SetTimeouts(t) => Request::new(op, cmd::SET_CONFIG, false, |w| {
            config::encode_timeouts(w, t)
        }),
        Command::StartDaemon(d) => Request::new(op, cmd::NEW_DAEMON, false, |w| {
            w.nest(cmd_attr::DAEMON, |n| daemon::encode(n, d));
        }),
        Command::StopDaemon(role) => Request::new(op, cmd::DEL_DAEMON, false, |w| {
            w.nest(cmd_attr::DAEMON, |n| daemon::encode_stop(n, *role));
        }),
        _ => return None,
    })
}

/// Dump every service.
///
/// ```
/// assert!(lvs_netlink::wire::request::get_services().msg.attrs.is_empty());
/// ```
pub fn get_services() -> Request {
    Request::new(Operation::GetServices, cmd::GET_SERVICE, true, |_| {})
}

/// Get one service.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::ServiceKey;
/// use lvs_netlink::wire::request;
///
/// let req = request::get_service(&ServiceKey::tcp("10.0.0.13:80".parse()?));
/// assert!(!req.dump, "one service: a plain request, not a dump");
/// # Ok(())
/// # }
/// ```
pub fn get_service(key: &ServiceKey) -> Request {
    Request::new(Operation::GetService, cmd::GET_SERVICE, false, |w| {
        key_nest(w, key)
    })
}

/// Dump a service's real servers.
///
/// ```
/// use lvs_core::{Family, ServiceKey};
/// use lvs_netlink::wire::{cmd, request};
///
/// let req = request::get_destinations(&ServiceKey::fwmark(Family::Inet, 10));
/// assert_eq!((req.msg.cmd, req.dump), (cmd::GET_DEST, true));
/// ```
pub fn get_destinations(key: &ServiceKey) -> Request {
    Request::new(Operation::GetDestinations, cmd::GET_DEST, true, |w| {
        key_nest(w, key)
    })
}

/// Dump the sync daemons.
///
/// ```
/// use lvs_netlink::wire::{cmd, request};
/// assert_eq!(request::get_daemons().msg.cmd, cmd::GET_DAEMON);
/// ```
pub fn get_daemons() -> Request {
    Request::new(Operation::GetDaemons, cmd::GET_DAEMON, true, |_| {})
}

/// Get the timeouts.
///
/// ```
/// use lvs_netlink::wire::{cmd, request};
/// assert_eq!(request::get_timeouts().msg.cmd, cmd::GET_CONFIG);
/// ```
pub fn get_timeouts() -> Request {
    Request::new(Operation::GetTimeouts, cmd::GET_CONFIG, false, |_| {})
}

/// Get the version and connection table size.
///
/// ```
/// use lvs_netlink::wire::request;
/// assert_eq!(request::get_info().msg.encode(), [15, 1, 0, 0]);
/// ```
pub fn get_info() -> Request {
    Request::new(Operation::GetInfo, cmd::GET_INFO, false, |_| {})
}
