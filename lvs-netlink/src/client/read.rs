//! The queries: what the kernel's IPVS table holds, decoded into lvs-core's model.

use super::{Ipvs, common};
use crate::Error;
use crate::features::Features;
use crate::wire::request;
use lvs_core::conn::Connection;
use lvs_core::{DestinationEntry, Info, Operation, ServiceEntry, ServiceKey, SyncDaemon, Timeouts};

impl Ipvs {
    /// The IPVS version and connection table size (the first line of `ipvsadm -L`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let info = lvs_netlink::Ipvs::new()?.info()?;
    /// // IP Virtual Server version 1.2.1 (size=4096)
    /// println!("IP Virtual Server version {} (size={})", info.version, info.conn_table_size);
    /// # Ok(())
    /// # }
    /// ```
    pub fn info(&self) -> Result<Info, Error> {
        let mut info = None;
        self.request(&request::get_info(), |payload| {
            info = Some(common::decode_info(payload)?);
            Ok(())
        })?;
        common::one(info, Operation::GetInfo)
    }

    /// What the running kernel's IPVS supports.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let features = lvs_netlink::Ipvs::new()?.features()?;
    /// if !features.tunnel_flags {
    ///     eprintln!("kernel {}: no gre tunnels or tunnel checksums", features.kernel_release);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn features(&self) -> Result<Features, Error> {
        let info = self.info()?;
        Ok(self.common.feature_flags(info.version))
    }

    /// Every service with its counters (`ipvsadm -L` without the real servers).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let services = ipvs.services()?;
    /// let total: u64 = services.iter().map(|s| s.state.stats.conns).sum();
    /// println!("{} services, {total} connections scheduled", services.len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn services(&self) -> Result<Vec<ServiceEntry>, Error> {
        let mut out = Vec::new();
        self.request(&request::get_services(), |payload| {
            out.push(self.common.decode_service(payload)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// One service, or `None` if there is no such service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// match ipvs.service(&key)? {
    ///     Some(entry) => println!("{key} is scheduled by {}", entry.service.scheduler),
    ///     None => println!("{key} is not configured"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn service(&self, key: &ServiceKey) -> Result<Option<ServiceEntry>, Error> {
        let mut found = None;
        let asked = self.request(&request::get_service(key), |payload| {
            found = Some(self.common.decode_service(payload)?);
            Ok(())
        });
        common::found_service(asked, found)
    }

    /// One `GET_DEST` dump on the dump link, decoded.
    pub(super) fn dump_destinations(
        &self,
        link: &mut super::Link,
        key: &ServiceKey,
    ) -> Result<Vec<DestinationEntry>, Error> {
        let mut out = Vec::new();
        let timeout = self.reply_timeout();
        link.request(&request::get_destinations(key), timeout, &mut |payload| {
            out.push(self.common.decode_destination(payload, key)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// A service's real servers with their counters. A missing service is an error
    /// ("No such service").
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{DestinationEntry, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// for DestinationEntry { destination: real, state } in ipvs.destinations(&key)? {
    ///     println!(
    ///         "  -> {} {} weight {}: {} active, {} inactive",
    ///         real.addr, real.forward, real.weight, state.active_conns, state.inactive_conns
    ///     );
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn destinations(&self, key: &ServiceKey) -> Result<Vec<DestinationEntry>, Error> {
        let dests = self.with_dump_link(|link| self.dump_destinations(link, key))?;
        // The kernel answers a dump for a missing service with an empty list.
        if dests.is_empty() && self.service(key)?.is_none() {
            return Err(common::no_such_service());
        }
        Ok(dests)
    }

    /// `ipvsadm -L --timeout`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let t = lvs_netlink::Ipvs::new()?.timeouts()?;
    /// // tcp 900 s, tcpfin 120 s, udp 300 s
    /// println!("tcp {} s, tcpfin {} s, udp {} s", t.tcp, t.tcp_fin, t.udp);
    /// # Ok(())
    /// # }
    /// ```
    pub fn timeouts(&self) -> Result<Timeouts, Error> {
        let mut timeouts = None;
        self.request(&request::get_timeouts(), |payload| {
            timeouts = Some(common::decode_timeouts(payload)?);
            Ok(())
        })?;
        common::one(timeouts, Operation::GetTimeouts)
    }

    /// `ipvsadm -L --daemon`: the running sync daemons, with the kernel's defaults filled in.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// for d in lvs_netlink::Ipvs::new()?.daemons()? {
    ///     println!("{} sync daemon on {}, syncid {}", d.role, d.interface, d.syncid);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn daemons(&self) -> Result<Vec<SyncDaemon>, Error> {
        let mut out = Vec::new();
        self.request(&request::get_daemons(), |payload| {
            out.push(common::decode_daemon(payload)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The connection table of the handle's namespace (`/proc/net/ip_vs_conn`, read from
    /// inside that namespace). lvs-core's `ipvsadm::list::connections` prints it as
    /// `ipvsadm -Lc` does.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // Who is talking to 192.168.8.14:80, and in which state.
    /// let real = "192.168.8.14:80".parse()?;
    /// for c in lvs_netlink::Ipvs::new()?.connections()? {
    ///     if c.destination == real {
    ///         println!("{} via {}: {}", c.client, c.virtual_addr, c.state);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn connections(&self) -> Result<Vec<Connection>, Error> {
        let text = self.link().read_conn_table()?;
        Ok(lvs_core::conn::parse(&text)?)
    }
}
