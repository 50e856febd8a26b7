//! Commands: one change to the IPVS table, as one ipvsadm rule line or one kernel request.

use crate::{DaemonRole, Destination, Operation, Service, ServiceKey, SyncDaemon, Timeouts};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// One change to the IPVS table: what one line of an ipvsadm rule file asks for.
///
/// ```
/// use lvs_core::{Command, Destination, Forward, Ruleset, Service, ServiceKey};
///
/// // `-A -t 10.0.0.13:80 -s rr` and `-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m`, checked offline.
/// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
/// let commands = [
///     Command::AddService(Service::new(key).with_scheduler("rr")),
///     Command::AddDestination {
///         service: key,
///         destination: Destination::new("192.168.8.14:80".parse()?)
///             .with_forward(Forward::Masquerade),
///     },
/// ];
/// let mut table = Ruleset::new();
/// for c in &commands {
///     table.execute(c)?;
/// }
/// assert_eq!(table.object_count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Command {
    /// `-A`: add a service.
    AddService(Service),
    /// `-E`: replace a service's configuration (its real servers stay).
    EditService(Service),
    /// `-D`: delete a service and its real servers.
    DeleteService(ServiceKey),
    /// `-C`: delete every service.
    Flush,
    /// `-a`: add a real server to a service.
    AddDestination {
        /// The service.
        service: ServiceKey,
        /// The real server.
        destination: Destination,
    },
    /// `-e`: replace a real server's configuration.
    EditDestination {
        /// The service.
        service: ServiceKey,
        /// The real server.
        destination: Destination,
    },
    /// `-d`: remove a real server.
    DeleteDestination {
        /// The service.
        service: ServiceKey,
        /// The real server's address.
        addr: SocketAddr,
    },
    /// `-Z`: zero the counters of one service, or of everything.
    Zero(Option<ServiceKey>),
    /// `--set`: set the connection timeouts (0 keeps a value).
    SetTimeouts(Timeouts),
    /// `--start-daemon`: start a sync daemon.
    StartDaemon(SyncDaemon),
    /// `--stop-daemon`: stop a sync daemon.
    StopDaemon(DaemonRole),
}

impl Command {
    /// The kernel operation this command is.
    ///
    /// ```
    /// use lvs_core::{Command, Operation};
    /// assert_eq!(Command::Flush.operation(), Operation::Flush);
    /// assert_eq!(Command::Flush.operation().to_string(), "flush");
    /// ```
    pub fn operation(&self) -> Operation {
        match self {
            Command::AddService(_) => Operation::AddService,
            Command::EditService(_) => Operation::EditService,
            Command::DeleteService(_) => Operation::DeleteService,
            Command::Flush => Operation::Flush,
            Command::AddDestination { .. } => Operation::AddDestination,
            Command::EditDestination { .. } => Operation::EditDestination,
            Command::DeleteDestination { .. } => Operation::DeleteDestination,
            Command::Zero(_) => Operation::Zero,
            Command::SetTimeouts(_) => Operation::SetTimeouts,
            Command::StartDaemon(_) => Operation::StartDaemon,
            Command::StopDaemon(_) => Operation::StopDaemon,
        }
    }

    /// The service the command is about, if it is about one.
    ///
    /// ```
    /// use lvs_core::{Command, ServiceKey};
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// assert_eq!(Command::DeleteService(key).service(), Some(&key));
    /// assert_eq!(Command::Flush.service(), None);
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn service(&self) -> Option<&ServiceKey> {
        match self {
            Command::AddService(s) | Command::EditService(s) => Some(&s.key),
            Command::DeleteService(key) | Command::Zero(Some(key)) => Some(key),
            Command::AddDestination { service, .. }
            | Command::EditDestination { service, .. }
            | Command::DeleteDestination { service, .. } => Some(service),
            Command::Flush
            | Command::Zero(None)
            | Command::SetTimeouts(_)
            | Command::StartDaemon(_)
            | Command::StopDaemon(_) => None,
        }
    }
}
