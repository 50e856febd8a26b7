//! [`AsyncIpvs`]'s operations: each is its [`crate::Ipvs`] twin's request, sent through the
//! async link, with the same checks and decoding on either side (`client::common`, `apply`).

use super::AsyncIpvs;
use super::link::Each;
use crate::apply::{self, Waves};
use crate::client::common;
use crate::features::Features;
use crate::wire::GenlMessage;
use crate::wire::request::{self, Request};
use crate::{ApplyOptions, Error, Outcome, Report, Snapshot};
use lvs_core::conn::Connection;
use lvs_core::{
    Command, DaemonRole, Destination, DestinationEntry, Info, Operation, Plan, Ruleset, Service,
    ServiceEntry, ServiceKey, Step, SyncDaemon, Timeouts,
};
use std::net::SocketAddr;

/// Reads.
impl AsyncIpvs {
    /// One request on the handle's link; each data message's payload goes to `each`.
    async fn request(&self, req: &Request, each: &mut Each<'_>) -> Result<(), Error> {
        let timeout = self.reply_timeout();
        self.link.lock().await.request(req, timeout, each).await
    }

    /// The IPVS version and connection table size ([`crate::Ipvs::info`]).
    pub async fn info(&self) -> Result<Info, Error> {
        let mut info = None;
        self.request(&request::get_info(), &mut |payload| {
            info = Some(common::decode_info(payload)?);
            Ok(())
        })
        .await?;
        common::one(info, Operation::GetInfo)
    }

    /// What the running kernel's IPVS supports ([`crate::Ipvs::features`]).
    pub async fn features(&self) -> Result<Features, Error> {
        let info = self.info().await?;
        Ok(self.common.feature_flags(info.version))
    }

    /// Every service with its counters ([`crate::Ipvs::services`]).
    pub async fn services(&self) -> Result<Vec<ServiceEntry>, Error> {
        let mut out = Vec::new();
        let common = &self.common;
        self.request(&request::get_services(), &mut |payload| {
            out.push(common.decode_service(payload)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// One service, or `None` if there is no such service ([`crate::Ipvs::service`]).
    pub async fn service(&self, key: &ServiceKey) -> Result<Option<ServiceEntry>, Error> {
        let mut found = None;
        let common = &self.common;
        let asked = self
            .request(&request::get_service(key), &mut |payload| {
                found = Some(common.decode_service(payload)?);
                Ok(())
            })
            .await;
        common::found_service(asked, found)
    }

    /// One `GET_DEST` dump on the dump link, decoded.
    async fn dump_destinations(&self, key: &ServiceKey) -> Result<Vec<DestinationEntry>, Error> {
        let mut out = Vec::new();
        let timeout = self.reply_timeout();
        let common = &self.common;
        let mut each = |payload: &[u8]| {
            out.push(common.decode_destination(payload, key)?);
            Ok(())
        };
        let mut link = self.dump_link().await?;
        link.request(&request::get_destinations(key), timeout, &mut each)
            .await?;
        Ok(out)
    }

    /// A service's real servers with their counters; a missing service is an error
    /// ([`crate::Ipvs::destinations`]).
    pub async fn destinations(&self, key: &ServiceKey) -> Result<Vec<DestinationEntry>, Error> {
        let dests = self.dump_destinations(key).await?;
        if dests.is_empty() && self.service(key).await?.is_none() {
            return Err(common::no_such_service());
        }
        Ok(dests)
    }

    /// `ipvsadm -L --timeout` ([`crate::Ipvs::timeouts`]).
    pub async fn timeouts(&self) -> Result<Timeouts, Error> {
        let mut timeouts = None;
        self.request(&request::get_timeouts(), &mut |payload| {
            timeouts = Some(common::decode_timeouts(payload)?);
            Ok(())
        })
        .await?;
        common::one(timeouts, Operation::GetTimeouts)
    }

    /// `ipvsadm -L --daemon` ([`crate::Ipvs::daemons`]).
    pub async fn daemons(&self) -> Result<Vec<SyncDaemon>, Error> {
        let mut out = Vec::new();
        self.request(&request::get_daemons(), &mut |payload| {
            out.push(common::decode_daemon(payload)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// The connection table of the handle's namespace ([`crate::Ipvs::connections`]), read on
    /// tokio's blocking pool.
    pub async fn connections(&self) -> Result<Vec<Connection>, Error> {
        let text = self.link.lock().await.read_conn_table().await?;
        Ok(lvs_core::conn::parse(&text)?)
    }

    /// Sends any request and returns the replies' payloads, undecoded
    /// ([`crate::Ipvs::query_raw`]).
    pub async fn query_raw(&self, req: &Request) -> Result<Vec<GenlMessage>, Error> {
        let mut replies = Vec::new();
        self.request(req, &mut |payload| {
            replies.push(GenlMessage::decode(payload)?);
            Ok(())
        })
        .await?;
        Ok(replies)
    }

    /// Reads everything at once ([`crate::Ipvs::snapshot`]): the services, every service's
    /// real servers (one dump each, on the dump socket), the timeouts and the daemons.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let snap = lvs_netlink::AsyncIpvs::new().await?.snapshot().await?;
    /// print!("{}", snap.ruleset.to_rules());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn snapshot(&self) -> Result<Snapshot, Error> {
        let services = self.services().await?;
        let mut dests = Vec::with_capacity(services.len());
        for s in &services {
            dests.push(self.dump_destinations(&s.service.key).await?);
        }
        let timeouts = self.timeouts().await?;
        let daemons = self.daemons().await?;
        Ok(common::assemble_snapshot(
            services, dests, timeouts, daemons,
        ))
    }
}

/// Changes.
impl AsyncIpvs {
    /// `ipvsadm -A` ([`crate::Ipvs::add_service`]).
    pub async fn add_service(&self, service: &Service) -> Result<(), Error> {
        self.execute(&Command::AddService(service.clone())).await
    }

    /// `ipvsadm -E` ([`crate::Ipvs::edit_service`]).
    pub async fn edit_service(&self, service: &Service) -> Result<(), Error> {
        self.execute(&Command::EditService(service.clone())).await
    }

    /// `ipvsadm -D` ([`crate::Ipvs::delete_service`]).
    pub async fn delete_service(&self, key: &ServiceKey) -> Result<(), Error> {
        self.execute(&Command::DeleteService(*key)).await
    }

    /// `ipvsadm -a` ([`crate::Ipvs::add_destination`]).
    pub async fn add_destination(&self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.execute(&Command::AddDestination {
            service: *key,
            destination: *dest,
        })
        .await
    }

    /// `ipvsadm -e` ([`crate::Ipvs::edit_destination`]).
    pub async fn edit_destination(
        &self,
        key: &ServiceKey,
        dest: &Destination,
    ) -> Result<(), Error> {
        self.execute(&Command::EditDestination {
            service: *key,
            destination: *dest,
        })
        .await
    }

    /// `ipvsadm -d` ([`crate::Ipvs::delete_destination`]).
    pub async fn delete_destination(
        &self,
        key: &ServiceKey,
        addr: &SocketAddr,
    ) -> Result<(), Error> {
        self.execute(&Command::DeleteDestination {
            service: *key,
            addr: *addr,
        })
        .await
    }

    /// `ipvsadm -Z`: one service's counters, or every counter ([`crate::Ipvs::zero`]).
    pub async fn zero(&self, key: Option<&ServiceKey>) -> Result<(), Error> {
        self.execute(&Command::Zero(key.copied())).await
    }

    /// `ipvsadm -C` ([`crate::Ipvs::flush`]).
    pub async fn flush(&self) -> Result<(), Error> {
        self.execute(&Command::Flush).await
    }

    /// `ipvsadm --set`; 0 keeps a value ([`crate::Ipvs::set_timeouts`]).
    pub async fn set_timeouts(&self, timeouts: &Timeouts) -> Result<(), Error> {
        self.execute(&Command::SetTimeouts(*timeouts)).await
    }

    /// `ipvsadm --start-daemon` ([`crate::Ipvs::start_daemon`]).
    pub async fn start_daemon(&self, daemon: &SyncDaemon) -> Result<(), Error> {
        self.execute(&Command::StartDaemon(daemon.clone())).await
    }

    /// `ipvsadm --stop-daemon` ([`crate::Ipvs::stop_daemon`]).
    pub async fn stop_daemon(&self, role: DaemonRole) -> Result<(), Error> {
        self.execute(&Command::StopDaemon(role)).await
    }

    /// Carries out one command after the checks of [`crate::Ipvs::execute`]
    /// ([`Error::Invalid`], [`Error::NotSupported`]); on error nothing changed.
    pub async fn execute(&self, command: &Command) -> Result<(), Error> {
        let req = self.common.check(command)?;
        let answer = self.request(&req, &mut |_| Ok(())).await;
        let mut answers = [answer];
        self.confirm_stops(std::slice::from_ref(command), &mut answers)
            .await;
        let [answer] = answers;
        answer
    }

    /// Sends `command` with no checks of lvs's own ([`crate::Ipvs::execute_unchecked`]).
    pub async fn execute_unchecked(&self, command: &Command) -> Result<(), Error> {
        let req = request::command(command).ok_or_else(|| common::unknown_command(command))?;
        self.request(&req, &mut |_| Ok(())).await
    }

    /// Settles unanswered `--stop-daemon`s with one read of the daemons (see
    /// `common::unanswered_stops`).
    async fn confirm_stops(&self, commands: &[Command], answers: &mut [Result<(), Error>]) {
        if !common::unanswered_stops(commands, answers) {
            return;
        }
        if let Ok(running) = self.daemons().await {
            common::settle_stops(commands, answers, &running);
        }
    }

    /// Carries out many commands, pipelined, one result each ([`crate::Ipvs::batch`]): each
    /// is checked, then as many requests as the socket buffers hold go out in one datagram,
    /// and refusals are matched back by sequence number.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{Command, Service, ServiceKey};
    ///
    /// let ipvs = lvs_netlink::AsyncIpvs::new().await?;
    /// let commands: Vec<Command> = (1..=200u8)
    ///     .map(|i| Command::AddService(Service::new(ServiceKey::tcp(([10, 0, 0, i], 80).into()))))
    ///     .collect();
    /// let failed = ipvs.batch(&commands).await.into_iter().filter(Result::is_err).count();
    /// println!("{failed} of {} failed", commands.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn batch(&self, commands: &[Command]) -> Vec<Result<(), Error>> {
        let mut batch = self.common.prepare_batch(commands);
        let timeout = self.reply_timeout();
        self.link
            .lock()
            .await
            .batch(&batch.requests, timeout, &mut batch.results)
            .await;
        let mut results = batch.finish(commands);
        self.confirm_stops(commands, &mut results).await;
        results
    }
}

/// Declarative apply.
impl AsyncIpvs {
    /// The plan that would bring the kernel to `desired`, from one snapshot
    /// ([`crate::Ipvs::plan`]).
    pub async fn plan(&self, desired: &Ruleset, options: &ApplyOptions) -> Result<Plan, Error> {
        desired.validate()?;
        let snapshot = self.snapshot().await?;
        Ok(apply::plan_from(&snapshot, desired, options))
    }

    /// Brings the kernel to `desired` with the fewest changes: the ruleset checked whole,
    /// one snapshot, a plan, the plan in pipelined batches ([`crate::Ipvs::apply`]).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Ruleset;
    /// use lvs_netlink::{ApplyOptions, AsyncIpvs};
    ///
    /// let desired = Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n")?;
    /// let report = AsyncIpvs::new().await?.apply(&desired, &ApplyOptions::default()).await?;
    /// print!("{report}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn apply(&self, desired: &Ruleset, options: &ApplyOptions) -> Result<Report, Error> {
        let plan = self.plan(desired, options).await?;
        if options.dry_run {
            return Ok(apply::dry_run(plan));
        }
        Ok(self.execute_plan(plan).await)
    }

    /// Carries out a plan made earlier, wave by wave ([`crate::Ipvs::execute_plan`]).
    pub async fn execute_plan(&self, plan: Plan) -> Report {
        let outcomes = self.run_steps(&plan.steps).await;
        Report { plan, outcomes }
    }

    async fn run_steps(&self, steps: &[Step]) -> Vec<Outcome> {
        let mut waves = Waves::new(steps);
        while let Some((ready, commands)) = waves.next_wave() {
            let results = self.batch(&commands).await;
            waves.record(&ready, results);
        }
        waves.finish()
    }
}
