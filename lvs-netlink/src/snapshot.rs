//! One read of the whole IPVS table: configuration plus what the kernel reports.

use lvs_core::{
    DestinationEntry, DestinationState, Ruleset, ServiceKey, ServiceState, SyncDaemon, Timeouts,
    VirtualServiceEntry,
};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Everything the kernel holds, read at once by [`crate::Ipvs::snapshot`]. The counters are
/// kept by service and by real server; [`Snapshot::entries`] gives each service with its own
/// and its real servers'.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Read the table once and print each service's connection count, with its real servers'.
/// let snap = lvs_netlink::Ipvs::new()?.snapshot()?;
/// for vs in &snap.ruleset.services {
///     let key = vs.service.key;
///     println!("{key}: {} connections", snap.service_state[&key].stats.conns);
///     for real in &vs.destinations {
///         let state = &snap.destination_state[&(key, real.addr)];
///         let (active, inactive) = (state.active_conns, state.inactive_conns);
///         println!("  -> {}: {active} active, {inactive} inactive", real.addr);
///     }
/// }
/// # Ok(())
/// # }
/// ```
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
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Ruleset;
    ///
    /// // Has someone changed the table since web.rules was applied?
    /// let saved = Ruleset::from_rules(&std::fs::read_to_string("/etc/lvs/web.rules")?)?;
    /// let snap = lvs_netlink::Ipvs::new()?.snapshot()?;
    /// if snap.services() != saved {
    ///     eprintln!("the kernel's table differs from web.rules");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn services(&self) -> Ruleset {
        Ruleset {
            services: self.ruleset.services.clone(),
            timeouts: None,
            daemons: Vec::new(),
        }
    }

    /// The timeouts.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let snap = lvs_netlink::Ipvs::new()?.snapshot()?;
    /// println!("idle TCP connections expire after {} s", snap.timeouts().tcp);
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeouts(&self) -> Timeouts {
        self.ruleset.timeouts.unwrap_or_default()
    }

    /// The running sync daemons.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::DaemonRole;
    ///
    /// let snap = lvs_netlink::Ipvs::new()?.snapshot()?;
    /// let backup = snap.daemons().iter().any(|d| d.role == DaemonRole::Backup);
    /// println!("this director is {}", if backup { "a backup" } else { "not a backup" });
    /// # Ok(())
    /// # }
    /// ```
    pub fn daemons(&self) -> &[SyncDaemon] {
        &self.ruleset.daemons
    }

    /// The number of services and real servers.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let snap = lvs_netlink::Ipvs::new()?.snapshot()?;
    /// println!("{} services and real servers", snap.object_count());
    /// # Ok(())
    /// # }
    /// ```
    pub fn object_count(&self) -> usize {
        self.ruleset.object_count()
    }

    /// Each service with its state and its real servers with theirs, in the kernel's order:
    /// what [`crate::Ipvs::services`] and [`crate::Ipvs::destinations`] give, all from this one
    /// read. A service or real server the kernel reported no state for has zero counters.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::DestinationEntry;
    ///
    /// // Drained real servers (weight 0) that no connection points at any more can go.
    /// for vs in lvs_netlink::Ipvs::new()?.snapshot()?.entries() {
    ///     for DestinationEntry { destination: real, state } in &vs.destinations {
    ///         let conns = state.active_conns + state.inactive_conns + state.persistent_conns;
    ///         if real.weight == 0 && conns == 0 {
    ///             println!("{} of {} can go", real.addr, vs.service.key);
    ///         }
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn entries(&self) -> Vec<VirtualServiceEntry> {
        self.ruleset
            .services
            .iter()
            .map(|vs| {
                let key = vs.service.key;
                let destinations = vs
                    .destinations
                    .iter()
                    .map(|d| DestinationEntry {
                        destination: *d,
                        state: self
                            .destination_state
                            .get(&(key, d.addr))
                            .copied()
                            .unwrap_or_default(),
                    })
                    .collect();
                VirtualServiceEntry {
                    service: vs.service.clone(),
                    state: self.service_state.get(&key).copied().unwrap_or_default(),
                    destinations,
                }
            })
            .collect()
    }
}
