//! Everything at once: [`Ipvs::snapshot`].

use super::{Ipvs, common};
use crate::{Error, Snapshot};

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
        let dests = self.with_dump_link(|link| {
            services
                .iter()
                .map(|s| self.dump_destinations(link, &s.service.key))
                .collect::<Result<Vec<_>, Error>>()
        })?;
        let timeouts = self.timeouts()?;
        let daemons = self.daemons()?;
        Ok(common::assemble_snapshot(
            services, dests, timeouts, daemons,
        ))
    }
}
