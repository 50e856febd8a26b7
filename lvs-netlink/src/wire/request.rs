//! Requests: one [`Command`] or one query as a generic-netlink message.

use super::attr::AttrWriter;
use super::{DecodeError, GenlMessage, cmd, cmd_attr, command_nest, config, daemon, dest, service};
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
/// does not know how to send. Nothing is validated here: see [`crate::Ipvs::execute`] for the
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

/// What a request asks the kernel to do, read back from its bytes the way the kernel reads
/// them: the other side of [`command`] and the queries, for the fake kernel and for tools
/// that decode captures.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::{Command, Destination, ServiceKey};
/// use lvs_netlink::wire::request::{self, Call};
///
/// let add = Command::AddDestination {
///     service: ServiceKey::tcp("10.0.0.13:80".parse()?),
///     destination: Destination::new("192.168.8.14:80".parse()?),
/// };
/// let req = request::command(&add).ok_or("not sendable")?;
/// let call = request::parse(req.msg.cmd, &req.msg.attrs, req.dump)?;
/// assert_eq!(call, Some(Call::Command(add)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// A change.
    Command(Command),
    /// `GET_INFO`.
    GetInfo,
    /// `GET_SERVICE` as a dump.
    GetServices,
    /// `GET_SERVICE` for one service.
    GetService(ServiceKey),
    /// `GET_DEST` (a dump) for one service.
    GetDestinations(ServiceKey),
    /// `GET_CONFIG`.
    GetTimeouts,
    /// `GET_DAEMON` (a dump).
    GetDaemons,
}

impl Call {
    /// The operation, for error messages and fault injection.
    ///
    /// ```
    /// use lvs_core::Operation;
    /// use lvs_netlink::wire::request::Call;
    /// assert_eq!(Call::GetDaemons.operation(), Operation::GetDaemons);
    /// ```
    pub fn operation(&self) -> Operation {
        match self {
            Call::Command(c) => c.operation(),
            Call::GetInfo => Operation::GetInfo,
            Call::GetServices => Operation::GetServices,
            Call::GetService(_) => Operation::GetService,
            Call::GetDestinations(_) => Operation::GetDestinations,
            Call::GetTimeouts => Operation::GetTimeouts,
            Call::GetDaemons => Operation::GetDaemons,
        }
    }
}

/// Reads a request of command `cmd` with the command-level attributes `attrs`, sent as a
/// dump (`NLM_F_DUMP`) or not.
///
/// `Ok(None)` when the kernel has no handler for the command sent that way (it answers
/// `EOPNOTSUPP`): an unknown command, a dump of a command that only answers requests, or a
/// plain request of one that only dumps (`GET_DEST`, `GET_DAEMON`). A malformed request, one
/// without an attribute the kernel needs, is a [`DecodeError`] (the kernel answers `EINVAL`).
///
/// ```
/// use lvs_netlink::wire::{cmd, request};
///
/// assert_eq!(request::parse(cmd::GET_DEST, &[], false), Ok(None), "GET_DEST only dumps");
/// assert!(request::parse(cmd::DEL_SERVICE, &[], false).is_err(), "no service named");
/// ```
pub fn parse(cmd_: u8, attrs: &[u8], dump: bool) -> Result<Option<Call>, DecodeError> {
    let key = || service::decode_key(command_nest(attrs, cmd_attr::SERVICE)?);
    if dump {
        return Ok(match cmd_ {
            cmd::GET_SERVICE => Some(Call::GetServices),
            cmd::GET_DEST => Some(Call::GetDestinations(key()?)),
            cmd::GET_DAEMON => Some(Call::GetDaemons),
            _ => None,
        });
    }
    Ok(Some(match cmd_ {
        cmd::GET_INFO => Call::GetInfo,
        cmd::GET_CONFIG => Call::GetTimeouts,
        cmd::GET_SERVICE => Call::GetService(key()?),
        _ => match parse_command(cmd_, attrs)? {
            Some(c) => Call::Command(c),
            None => return Ok(None),
        },
    }))
}

/// The change a plain (not dump) request of command `cmd_` asks for.
fn parse_command(cmd_: u8, attrs: &[u8]) -> Result<Option<Command>, DecodeError> {
    let nest = |ty| command_nest(attrs, ty);
    let key = || service::decode_key(nest(cmd_attr::SERVICE)?);
    let full_service = || Ok::<_, DecodeError>(service::decode(nest(cmd_attr::SERVICE)?)?.service);
    let dest_of = |key: &ServiceKey| {
        Ok::<_, DecodeError>(dest::decode(nest(cmd_attr::DEST)?, key.family())?.destination)
    };
    Ok(Some(match cmd_ {
        cmd::NEW_SERVICE => Command::AddService(full_service()?),
        cmd::SET_SERVICE => Command::EditService(full_service()?),
        cmd::DEL_SERVICE => Command::DeleteService(key()?),
        cmd::FLUSH => Command::Flush,
        cmd::NEW_DEST => {
            let service = key()?;
            let destination = dest_of(&service)?;
            Command::AddDestination {
                service,
                destination,
            }
        }
        cmd::SET_DEST => {
            let service = key()?;
            let destination = dest_of(&service)?;
            Command::EditDestination {
                service,
                destination,
            }
        }
        cmd::DEL_DEST => {
            let service = key()?;
            let addr = dest::decode_key(nest(cmd_attr::DEST)?, service.family())?;
            Command::DeleteDestination { service, addr }
        }
        // ZERO without a service zeroes everything.
        cmd::ZERO if nest(cmd_attr::SERVICE).is_err() => Command::Zero(None),
        cmd::ZERO => Command::Zero(Some(key()?)),
        cmd::SET_CONFIG => Command::SetTimeouts(config::decode_timeouts(attrs)?),
        cmd::NEW_DAEMON => Command::StartDaemon(daemon::decode(nest(cmd_attr::DAEMON)?)?),
        cmd::DEL_DAEMON => Command::StopDaemon(daemon::decode_role(nest(cmd_attr::DAEMON)?)?),
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_core::{DaemonRole, Destination, Service, SyncDaemon, Timeouts};

    #[test]
    fn every_command_reads_back() {
        let key = ServiceKey::tcp("10.0.0.13:80".parse().unwrap());
        let real = Destination::new("192.168.8.14:80".parse().unwrap());
        let commands = [
            Command::AddService(Service::new(key).with_persistence(300)),
            Command::EditService(Service::new(key).with_scheduler("wrr")),
            Command::DeleteService(key),
            Command::Flush,
            Command::AddDestination {
                service: key,
                destination: real,
            },
            Command::EditDestination {
                service: key,
                destination: real.with_weight(0),
            },
            Command::DeleteDestination {
                service: key,
                addr: real.addr,
            },
            Command::Zero(None),
            Command::Zero(Some(key)),
            Command::SetTimeouts(Timeouts {
                tcp: 1,
                tcp_fin: 0,
                udp: 3,
            }),
            Command::StartDaemon(SyncDaemon::new(DaemonRole::Master, "eth0", 9)),
            Command::StopDaemon(DaemonRole::Master),
        ];
        for c in commands {
            let req = command(&c).unwrap();
            assert_eq!(
                parse(req.msg.cmd, &req.msg.attrs, req.dump),
                Ok(Some(Call::Command(c)))
            );
        }
        for (req, call) in [
            (get_info(), Call::GetInfo),
            (get_services(), Call::GetServices),
            (get_service(&key), Call::GetService(key)),
            (get_destinations(&key), Call::GetDestinations(key)),
            (get_timeouts(), Call::GetTimeouts),
            (get_daemons(), Call::GetDaemons),
        ] {
            assert_eq!(parse(req.msg.cmd, &req.msg.attrs, req.dump), Ok(Some(call)));
        }
    }

    #[test]
    fn unknown_or_misdirected_commands_have_no_handler() {
        assert_eq!(parse(99, &[], false), Ok(None));
        assert_eq!(parse(cmd::FLUSH, &[], true), Ok(None));
        assert_eq!(parse(cmd::GET_DAEMON, &[], false), Ok(None));
        assert_eq!(parse(cmd::SET_INFO, &[], false), Ok(None));
    }
}
