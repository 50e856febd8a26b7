//! Single changes, and the checks made before one is sent.

use super::{Ipvs, common};
use crate::Error;
use crate::wire::request;
use lvs_core::{Command, DaemonRole, Destination, Service, ServiceKey, SyncDaemon, Timeouts};
use std::net::SocketAddr;

impl Ipvs {
    /// `ipvsadm -A`: adds a service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{RefusalKind, Service, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// // Clients stick to their real server for 5 minutes.
    /// let web = Service::new(ServiceKey::tcp("10.0.0.13:443".parse()?))
    ///     .with_scheduler("wlc")
    ///     .with_persistence(300);
    /// match ipvs.add_service(&web) {
    ///     Err(e) if e.refusal().is_some_and(|r| r.kind() == RefusalKind::ServiceExists) => {
    ///         ipvs.edit_service(&web)?
    ///     }
    ///     other => other?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_service(&self, service: &Service) -> Result<(), Error> {
        self.execute(&Command::AddService(service.clone()))
    }

    /// `ipvsadm -E`: replaces a service's configuration.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// let entry = ipvs.service(&key)?.ok_or("no such service")?;
    /// // Switch to weighted round robin; the real servers and their connections stay.
    /// ipvs.edit_service(&entry.service.with_scheduler("wrr"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn edit_service(&self, service: &Service) -> Result<(), Error> {
        self.execute(&Command::EditService(service.clone()))
    }

    /// `ipvsadm -D`: deletes a service and its real servers.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Family, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// // ipvsadm -D -f 10
    /// ipvs.delete_service(&ServiceKey::fwmark(Family::Inet, 10))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_service(&self, key: &ServiceKey) -> Result<(), Error> {
        self.execute(&Command::DeleteService(*key))
    }

    /// `ipvsadm -a`: adds a real server to a service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Destination, Forward, Service, ServiceKey};
    ///
    /// // A NAT service with two real servers, weighted 3:1.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// ipvs.add_service(&Service::new(key).with_scheduler("wrr"))?;
    /// for (addr, weight) in [("192.168.8.14:80", 3), ("192.168.8.15:80", 1)] {
    ///     let real = Destination::new(addr.parse()?)
    ///         .with_forward(Forward::Masquerade)
    ///         .with_weight(weight);
    ///     ipvs.add_destination(&key, &real)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.execute(&Command::AddDestination {
            service: *key,
            destination: *dest,
        })
    }

    /// `ipvsadm -e`: replaces a real server's configuration.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    /// use std::net::SocketAddr;
    ///
    /// // Drain a real server: weight 0 takes no new connections, existing ones finish.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// let addr: SocketAddr = "192.168.8.14:80".parse()?;
    /// let entry = ipvs
    ///     .destinations(&key)?
    ///     .into_iter()
    ///     .find(|e| e.destination.addr == addr)
    ///     .ok_or("not a real server of the service")?;
    /// ipvs.edit_destination(&key, &entry.destination.with_weight(0))?;
    /// println!("draining {addr}: {} active connections left", entry.state.active_conns);
    /// # Ok(())
    /// # }
    /// ```
    pub fn edit_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.execute(&Command::EditDestination {
            service: *key,
            destination: *dest,
        })
    }

    /// `ipvsadm -d`: removes a real server.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let key = ServiceKey::tcp("10.0.0.13:80".parse()?);
    /// ipvs.delete_destination(&key, &"192.168.8.14:80".parse()?)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn delete_destination(&self, key: &ServiceKey, addr: &SocketAddr) -> Result<(), Error> {
        self.execute(&Command::DeleteDestination {
            service: *key,
            addr: *addr,
        })
    }

    /// `ipvsadm -Z`: zeroes one service's counters, or every counter.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::ServiceKey;
    ///
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.zero(Some(&ServiceKey::tcp("10.0.0.13:80".parse()?)))?; // ipvsadm -Z -t 10.0.0.13:80
    /// ipvs.zero(None)?; // ipvsadm -Z
    /// # Ok(())
    /// # }
    /// ```
    pub fn zero(&self, key: Option<&ServiceKey>) -> Result<(), Error> {
        self.execute(&Command::Zero(key.copied()))
    }

    /// `ipvsadm -C`: deletes every service.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.flush()?;
    /// assert!(ipvs.services()?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn flush(&self) -> Result<(), Error> {
        self.execute(&Command::Flush)
    }

    /// `ipvsadm --set`: sets timeouts (0 keeps a value).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Timeouts;
    ///
    /// // ipvsadm --set 3600 0 0: idle TCP connections live an hour; the other two stay.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// ipvs.set_timeouts(&Timeouts { tcp: 3600, tcp_fin: 0, udp: 0 })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_timeouts(&self, timeouts: &Timeouts) -> Result<(), Error> {
        self.execute(&Command::SetTimeouts(*timeouts))
    }

    /// `ipvsadm --start-daemon`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{DaemonRole, SyncDaemon};
    ///
    /// // The active director sends its connections to the backup over eth1.
    /// let mut master = SyncDaemon::new(DaemonRole::Master, "eth1", 7);
    /// master.group = Some("224.0.0.81".parse()?);
    /// lvs_netlink::Ipvs::new()?.start_daemon(&master)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn start_daemon(&self, daemon: &SyncDaemon) -> Result<(), Error> {
        self.execute(&Command::StartDaemon(daemon.clone()))
    }

    /// `ipvsadm --stop-daemon`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::DaemonRole;
    ///
    /// lvs_netlink::Ipvs::new()?.stop_daemon(DaemonRole::Backup)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn stop_daemon(&self, role: DaemonRole) -> Result<(), Error> {
        self.execute(&Command::StopDaemon(role))
    }

    /// Carries out one command, after checking it ([`Error::Invalid`]) and that the kernel
    /// can do it ([`Error::NotSupported`]); on error nothing changed.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // Replay a rule file line by line, as `ipvsadm -R` does, saying which lines failed.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// let text = std::fs::read_to_string("/etc/lvs/web.rules")?;
    /// for rule in lvs_core::rules::parse(&text)? {
    ///     if let Err(e) = ipvs.execute(&rule.command) {
    ///         eprintln!("web.rules:{}: {e}", rule.line);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn execute(&self, command: &Command) -> Result<(), Error> {
        let req = self.common.check(command)?;
        let answer = self.request(&req, |_| Ok(()));
        self.confirm(command, answer)
    }

    /// Sends `command` with no checks of lvs's own, so that the kernel's answer comes back as
    /// it is (for tests and diagnostics).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Command, Destination, ServiceKey};
    ///
    /// // What does the kernel itself say to a negative weight? (`execute` would not send it.)
    /// let command = Command::AddDestination {
    ///     service: ServiceKey::tcp("10.0.0.13:80".parse()?),
    ///     destination: Destination::new("192.168.8.14:80".parse()?).with_weight(-1),
    /// };
    /// if let Err(e) = lvs_netlink::Ipvs::new()?.execute_unchecked(&command) {
    ///     println!("the kernel: {e}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn execute_unchecked(&self, command: &Command) -> Result<(), Error> {
        let req = request::command(command).ok_or_else(|| common::unknown_command(command))?;
        self.request(&req, |_| Ok(()))
    }

    /// The kernel's answer to `command`, or what the table says when the kernel carries a
    /// command out without answering it (see [`Ipvs::confirm_stops`]).
    fn confirm(&self, command: &Command, answer: Result<(), Error>) -> Result<(), Error> {
        let mut answers = [answer];
        self.confirm_stops(std::slice::from_ref(command), &mut answers);
        let [answer] = answers;
        answer
    }

    /// Replaces timeouts of `--stop-daemon` commands by what the running daemons say (see
    /// [`common::unanswered_stops`]).
    pub(super) fn confirm_stops(&self, commands: &[Command], answers: &mut [Result<(), Error>]) {
        if !common::unanswered_stops(commands, answers) {
            return;
        }
        if let Ok(running) = self.daemons() {
            common::settle_stops(commands, answers, &running);
        }
    }
}
