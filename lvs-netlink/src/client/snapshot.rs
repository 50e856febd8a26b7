//! Everything at once: [`Ipvs::snapshot`].

use super::Ipvs;
use crate::{Error, Snapshot};
use lvs_core::{Ruleset, VirtualService};
use std::collections::HashMap;

impl Ipvs {
    /// Reads everything at once: the services (one dump), every service's real servers (one
    /// `GET_DEST` dump per service, on a second socket kept for dumps), the timeouts and
    /// the daemons.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let snap = ipvs.snapshot()?;
    /// print!("{}", snap.ruleset.to_rules());
    /// for ((service, addr), state) in &snap.destination_state {
    ///     println!("{service} -> {addr}: {} active", state.active_conns);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn snapshot(&self) -> Result<Snapshot, Error> {
        let services = self.services()?;
        // One dump per service, one after the other: the kernel produces a dump inside the
        // send and receive calls that ask for it, under its own lock, so dumps on parallel
        // sockets would not overlap anyway.
        let mut dests = self
            .with_dump_link(|link| {
                services
                    .iter()
                    .map(|(s, _)| self.dump_destinations(link, &s.key))
                    .collect::<Result<Vec<_>, Error>>()
            })?
            .into_iter();
        let mut snap = Snapshot {
            ruleset: Ruleset::new(),
            service_state: HashMap::with_capacity(services.len()),
            destination_state: HashMap::new(),
        };
        for (svc, state) in services {
            let key = svc.key;
            let mut vs = VirtualService::new(svc);
            for (d, dstate) in dests.next().unwrap_or_default() {
                snap.destination_state.insert((key, d.addr), dstate);
                vs.destinations.push(d);
            }
            snap.service_state.insert(key, state);
            snap.ruleset.services.push(vs);
        }
        snap.ruleset.timeouts = Some(self.timeouts()?);
        snap.ruleset.daemons = self.daemons()?;
        Ok(snap)
    }
}
