//! One read of the whole IPVS table: configuration plus what the kernel reports.

use lvs_core::rules::list::{ListedDestination, ListedService, Table};
use lvs_core::{DestinationState, Info, Ruleset, ServiceKey, ServiceState, SyncDaemon, Timeouts};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Everything the kernel holds, read at once by [`crate::Ipvs::snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The configuration: services with their real servers, the timeouts (always `Some`) and
    /// the running sync daemons (as the kernel reports them, its defaults filled in).
    pub ruleset: Ruleset,
    /// Counters and internal flags of each service.
    pub service_state: HashMap<ServiceKey, ServiceState>,
    /// Connection counters and statistics of each real server, by service and address.
    pub destination_state: HashMap<(ServiceKey, SocketAddr), DestinationState>,
}

impl Snapshot {
    /// Only the services and real servers, with no timeouts or daemons: what
    /// `Ruleset::from_rules` of an `ipvsadm -S` file gives, for comparing against one.
    pub fn services(&self) -> Ruleset {
        Ruleset {
            services: self.ruleset.services.clone(),
            timeouts: None,
            daemons: Vec::new(),
        }
    }

    /// The timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.ruleset.timeouts.unwrap_or_default()
    }

    /// The running sync daemons.
    pub fn daemons(&self) -> &[SyncDaemon] {
        &self.ruleset.daemons
    }

    /// The number of services and real servers.
    pub fn object_count(&self) -> usize {
        self.ruleset.object_count()
    }

    /// The services with their state, as `ipvsadm -L` lists them (with the version line from
    /// `info`).
    pub fn table(&self, info: Info) -> Table {
        let services = self
            .ruleset
            .services
            .iter()
            .map(|vs| {
                let key = vs.service.key;
                let destinations = vs
                    .destinations
                    .iter()
                    .map(|d| ListedDestination {
                        destination: *d,
                        state: self
                            .destination_state
                            .get(&(key, d.addr))
                            .copied()
                            .unwrap_or_default(),
                    })
                    .collect();
                ListedService {
                    service: vs.service.clone(),
                    state: self.service_state.get(&key).copied().unwrap_or_default(),
                    destinations,
                }
            })
            .collect();
        Table { info, services }
    }
}
