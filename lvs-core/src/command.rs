//! Commands: one change to the IPVS table, as one ipvsadm rule line or one kernel request.

use crate::{DaemonRole, Destination, Operation, Service, ServiceKey, SyncDaemon, Timeouts};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// One change to the IPVS table: what one line of an ipvsadm rule file asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
}
