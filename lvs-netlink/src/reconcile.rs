//! The Reconciler: keep the kernel at a desired ruleset at the cost of the change, not of the
//! table.
//!
//! [`Ipvs::apply`] reads the whole table on every call (one dump of the services and
//! one of each service's real servers). A [`Reconciler`] reads it once, then keeps its model
//! of the kernel from its own acknowledged writes: each [`Reconciler::apply`] plans against
//! the model and sends only the difference, with no read. When the kernel contradicts the
//! model (another writer added, edited or deleted something: an add answered "exists", an
//! edit or delete answered "no such"), it reads just that service again and re-plans it in the
//! same apply. When the outcome of a request is unknown (a lost reply, an I/O error), it
//! forgets the model and reads everything on the next apply.
//!
//! Nothing is ever deleted on the strength of a failed read: a read that fails fails the apply
//! before anything is sent.

use crate::apply::is_idle;
use crate::{ApplyOptions, Error, Ipvs, Outcome, Report};
use lvs_core::{
    Command, KernelProfile, Plan, RefusalKind, Ruleset, ServiceKey, Step, VirtualService, plan,
};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Keeps one network namespace's IPVS table at a desired ruleset, sending only what changed.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::Ruleset;
/// use lvs_netlink::{ApplyOptions, Ipvs, Reconciler};
/// use std::time::Duration;
///
/// let mut reconciler = Reconciler::new(Ipvs::new()?)?; // reads the table once
/// reconciler.set_resync_interval(Some(Duration::from_secs(300)));
/// loop {
///     let desired = Ruleset::from_rules(&std::fs::read_to_string("/etc/lvs/web.rules")?)?;
///     let report = reconciler.apply(&desired, &ApplyOptions::default())?; // no read
///     print!("{report}");
///     std::thread::sleep(Duration::from_secs(5));
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Reconciler {
    ipvs: Ipvs,
    /// What the kernel holds, as far as this reconciler knows; `None` until the next read.
    model: Option<Ruleset>,
    /// Where each of the model's services is in `model.services`.
    index: HashMap<ServiceKey, usize>,
    read_at: Option<Instant>,
    resync_every: Option<Duration>,
}

/// How one step's refusal bears on the model.
enum Answer {
    /// The kernel did it.
    Done,
    /// The kernel refused it for a reason of its own (a missing module): nothing changed.
    Refused,
    /// The kernel contradicted the model about this service (or the daemons, for `None`).
    Drift(Option<ServiceKey>),
    /// Nobody knows whether it happened.
    Unknown,
}

impl Reconciler {
    /// A reconciler on `ipvs`'s table, which it reads once now.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let reconciler = lvs_netlink::Reconciler::new(lvs_netlink::Ipvs::new()?)?;
    /// println!("{} services", reconciler.model().map_or(0, |m| m.services.len()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(ipvs: Ipvs) -> Result<Reconciler, Error> {
        let mut reconciler = Reconciler {
            ipvs,
            model: None,
            index: HashMap::new(),
            read_at: None,
            resync_every: None,
        };
        reconciler.resync()?;
        Ok(reconciler)
    }

    /// The handle the reconciler sends through (for reads of its own, such as counters).
    pub fn ipvs(&self) -> &Ipvs {
        &self.ipvs
    }

    /// The handle back.
    pub fn into_inner(self) -> Ipvs {
        self.ipvs
    }

    /// What the reconciler believes the kernel holds (services, real servers, timeouts,
    /// daemons; the services in no particular order), or `None` when it must read the table
    /// again before the next apply.
    pub fn model(&self) -> Option<&Ruleset> {
        self.model.as_ref()
    }

    /// Reads the whole table again (as [`Reconciler::new`] did), replacing the model. A
    /// daemon that suspects other writers calls this now and then, or sets
    /// [`Reconciler::set_resync_interval`]. On failure the model is unknown until a read
    /// succeeds.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mut reconciler = lvs_netlink::Reconciler::new(lvs_netlink::Ipvs::new()?)?;
    /// // Someone ran ipvsadm by hand: read the table before the next apply.
    /// reconciler.resync()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resync(&mut self) -> Result<(), Error> {
        self.model = None;
        let model = self.read()?;
        self.set_model(model);
        Ok(())
    }

    /// Replaces the model (and its index) with `model`.
    fn set_model(&mut self, model: Ruleset) {
        self.index = index(&model);
        self.model = Some(model);
    }

    /// Reads the whole table again in the first apply after `every` has passed since the last
    /// read (`None`, the default: only when the kernel contradicts the model or a reply was
    /// lost).
    pub fn set_resync_interval(&mut self, every: Option<Duration>) {
        self.resync_every = every;
    }

    /// The interval [`Reconciler::set_resync_interval`] set.
    pub fn resync_interval(&self) -> Option<Duration> {
        self.resync_every
    }

    /// Brings the kernel to `desired`, sending only what differs from the model: the same
    /// plan, options and [`Report`] as [`Ipvs::apply`], without its read. `desired`
    /// is checked whole first; nothing is sent if it breaks a rule. A step the kernel
    /// answers with a contradiction (another writer changed that service) is reported as
    /// [`Outcome::Drifted`]; the service is read again, re-planned and repaired in the same
    /// apply, the repairing steps appended to the report's plan.
    ///
    /// With `drain`, the real servers at weight 0 that are to go are read (only those
    /// services) to learn whether they still have connections.
    ///
    /// The cost: `desired` is checked and each of its services compared with the model's
    /// (a hash lookup and an equality); only the services that differ are planned, and the
    /// model is updated in place. A controller that knows what it changed (a health checker
    /// that moved one weight) can pass just those services with
    /// [`ApplyOptions::keep_unlisted`]: the apply then costs the size of the change alone
    /// (BENCHMARKS.md, W6).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Ruleset;
    /// use lvs_netlink::{ApplyOptions, Ipvs, Reconciler};
    ///
    /// let mut reconciler = Reconciler::new(Ipvs::new()?)?;
    /// let mut desired = Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.14 -m\n")?;
    /// reconciler.apply(&desired, &ApplyOptions::default())?;
    /// // A health checker takes the real server out: one request, no read.
    /// desired.services[0].destinations[0].weight = 0;
    /// let report = reconciler.apply(&desired, &ApplyOptions::default())?;
    /// assert_eq!(report.plan.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn apply(&mut self, desired: &Ruleset, options: &ApplyOptions) -> Result<Report, Error> {
        desired.validate()?;
        let due = match (self.read_at, self.resync_every) {
            (Some(at), Some(every)) => at.elapsed() >= every,
            _ => false,
        };
        // The model is taken out while the apply runs: should anything below return early,
        // it stays unknown and the next apply reads the table.
        let mut model = match self.model.take() {
            Some(model) if !due => model,
            _ => {
                let model = self.read()?;
                self.index = index(&model);
                model
            }
        };
        // Only the services that differ from the model are planned: the cost follows the
        // change, apart from one comparison per service of `desired`.
        let (touched, mut current, wanted) =
            differing(&model, &self.index, desired, options.keep_unlisted);
        let idle = if options.drain {
            self.idle_draining(&current, &wanted, options)?
        } else {
            HashSet::new()
        };
        let plan = plan(&current, &wanted, &options.plan_options(idle));
        if options.dry_run {
            let outcomes = plan.steps.iter().map(|_| Outcome::NotTried).collect();
            self.model = Some(model);
            return Ok(Report { plan, outcomes });
        }
        let outcomes = self.ipvs.run_steps(&plan.steps);
        let mut report = Report { plan, outcomes };
        let recorded = record(&mut current, &mut report, 0);
        if matches!(recorded, Recorded::Unknown) {
            return Ok(report);
        }
        splice(&mut model, &mut self.index, &touched, current);
        let known = match recorded {
            Recorded::Drift(drift) => {
                let known = self.repair(&mut model, &mut report, desired, options, &drift);
                self.index = index(&model);
                known
            }
            _ => true,
        };
        if known {
            self.model = Some(model);
        }
        Ok(report)
    }

    /// The whole table, read now.
    fn read(&mut self) -> Result<Ruleset, Error> {
        let snapshot = self.ipvs.snapshot()?;
        self.read_at = Some(Instant::now());
        Ok(snapshot.ruleset)
    }

    /// The real servers at weight 0 that `desired` lets go and that have no connections left,
    /// read from the kernel (one real-server dump per service concerned).
    fn idle_draining(
        &self,
        model: &Ruleset,
        desired: &Ruleset,
        options: &ApplyOptions,
    ) -> Result<HashSet<(ServiceKey, SocketAddr)>, Error> {
        let wanted: HashMap<ServiceKey, &VirtualService> = desired
            .services
            .iter()
            .map(|vs| (vs.service.key, vs))
            .collect();
        let mut idle = HashSet::new();
        for vs in &model.services {
            let key = vs.service.key;
            let want = wanted.get(&key);
            if want.is_none() && options.keep_unlisted {
                continue;
            }
            let draining = vs
                .destinations
                .iter()
                .any(|d| d.weight == 0 && want.is_none_or(|w| w.destination(&d.addr).is_none()));
            if !draining {
                continue;
            }
            for d in self.ipvs.destinations(&key)? {
                if is_idle(&d.state) {
                    idle.insert((key, d.destination.addr));
                }
            }
        }
        Ok(idle)
    }

    /// Reads the drifted services (and daemons) again into `model`, re-plans them against
    /// `desired` and sends the repair, appending its steps and outcomes to `report`. Whether
    /// the model is still known: a failed read, a lost reply or a second contradiction
    /// leaves it unknown.
    fn repair(
        &mut self,
        model: &mut Ruleset,
        report: &mut Report,
        desired: &Ruleset,
        options: &ApplyOptions,
        drift: &[Option<ServiceKey>],
    ) -> bool {
        let Ok(current) = self.reread(model, drift) else {
            return false;
        };
        let wanted = subset(desired, drift);
        // A real server drained in a repaired service is deleted by a later apply.
        let repair_options = ApplyOptions {
            keep_unlisted: false,
            ..*options
        };
        let Plan { steps } = plan(
            &current,
            &wanted,
            &repair_options.plan_options(HashSet::new()),
        );
        let from = report.plan.steps.len();
        let outcomes = self.ipvs.run_steps(&steps);
        report.plan.steps.extend(steps);
        report.outcomes.extend(outcomes);
        matches!(record(model, report, from), Recorded::Known)
    }

    /// Reads the drifted services and daemons from the kernel into `model`, and returns them
    /// as a ruleset of their own.
    fn reread(&self, model: &mut Ruleset, drift: &[Option<ServiceKey>]) -> Result<Ruleset, Error> {
        let mut current = Ruleset::new();
        for key in drift {
            let Some(key) = key else {
                current.daemons = self.ipvs.daemons()?;
                model.daemons = current.daemons.clone();
                continue;
            };
            let read = match self.ipvs.service(key)? {
                None => None,
                Some(entry) => {
                    let dests = self.ipvs.destinations(key)?;
                    let mut vs = VirtualService::new(entry.service);
                    vs.destinations = dests.into_iter().map(|d| d.destination).collect();
                    Some(vs)
                }
            };
            model.services.retain(|vs| vs.service.key != *key);
            if let Some(vs) = read {
                model.services.push(vs.clone());
                current.services.push(vs);
            }
        }
        Ok(current)
    }
}

/// Where each service of `model` is.
fn index(model: &Ruleset) -> HashMap<ServiceKey, usize> {
    model
        .services
        .iter()
        .enumerate()
        .map(|(i, vs)| (vs.service.key, i))
        .collect()
}

/// The services a plan from `model` to `desired` concerns, and the two sides of it: the keys
/// of the services that differ (in `desired` and not the same in `model`, or in `model` only
/// unless `keep_unlisted`), `model`'s part and `desired`'s part, each with its own timeouts
/// and daemons. The services of each part keep their order, so the plan of the parts is the
/// plan of the whole.
fn differing(
    model: &Ruleset,
    index: &HashMap<ServiceKey, usize>,
    desired: &Ruleset,
    keep_unlisted: bool,
) -> (Vec<ServiceKey>, Ruleset, Ruleset) {
    let mut at = Vec::new();
    let mut wanted = Vec::new();
    let mut listed = 0;
    for vs in &desired.services {
        let found = index.get(&vs.service.key).copied();
        listed += usize::from(found.is_some());
        match found {
            Some(i) if model.services[i] == *vs => {}
            Some(i) => {
                at.push(i);
                wanted.push(vs.clone());
            }
            None => wanted.push(vs.clone()),
        }
    }
    if !keep_unlisted && listed < model.services.len() {
        let names: HashSet<&ServiceKey> =
            desired.services.iter().map(|vs| &vs.service.key).collect();
        at.extend(
            (0..model.services.len()).filter(|&i| !names.contains(&model.services[i].service.key)),
        );
    }
    at.sort_unstable();
    let mut touched: Vec<ServiceKey> = at.iter().map(|&i| model.services[i].service.key).collect();
    touched.extend(wanted.iter().map(|vs| vs.service.key));
    let current = Ruleset {
        services: at.iter().map(|&i| model.services[i].clone()).collect(),
        timeouts: model.timeouts,
        daemons: model.daemons.clone(),
    };
    let wanted = Ruleset {
        services: wanted,
        timeouts: desired.timeouts,
        daemons: desired.daemons.clone(),
    };
    (touched, current, wanted)
}

/// Puts `part` (the `touched` services after the apply, with the timeouts and daemons) back
/// into `model`, keeping `index` right.
fn splice(
    model: &mut Ruleset,
    index: &mut HashMap<ServiceKey, usize>,
    touched: &[ServiceKey],
    part: Ruleset,
) {
    for key in touched {
        let Some(i) = index.remove(key) else { continue };
        model.services.swap_remove(i);
        if let Some(moved) = model.services.get(i) {
            index.insert(moved.service.key, i);
        }
    }
    for vs in part.services {
        index.insert(vs.service.key, model.services.len());
        model.services.push(vs);
    }
    model.timeouts = part.timeouts;
    model.daemons = part.daemons;
}

/// What the outcomes of a plan's steps did to the model.
enum Recorded {
    /// The model follows the kernel.
    Known,
    /// The kernel contradicted the model about these services (`None`: the daemons).
    Drift(Vec<Option<ServiceKey>>),
    /// A reply was lost or the model disagreed with an acknowledgement: only a fresh read can
    /// be trusted.
    Unknown,
}

/// Brings `model` up to date with the outcomes of `report`'s steps from `from` on, and marks
/// the contradictions as [`Outcome::Drifted`].
fn record(model: &mut Ruleset, report: &mut Report, from: usize) -> Recorded {
    let mut drift = Vec::new();
    let mut acknowledged = Vec::new();
    let mut unknown = false;
    // Services whose addition the kernel refused: their real servers' "no such service"
    // follows from it and is no contradiction.
    let mut refused: HashSet<ServiceKey> = HashSet::new();
    for (step, outcome) in report.plan.steps[from..]
        .iter()
        .zip(&mut report.outcomes[from..])
    {
        let answer = match (answer(step, outcome), &step.command) {
            (Answer::Refused, Command::AddService(s)) if matches!(outcome, Outcome::Failed(_)) => {
                refused.insert(s.key);
                Answer::Refused
            }
            (Answer::Drift(Some(key)), _) if refused.contains(&key) => Answer::Refused,
            (answer, _) => answer,
        };
        match answer {
            Answer::Done => acknowledged.push(&step.command),
            Answer::Refused => {}
            Answer::Drift(key) => {
                if let Outcome::Failed(e) = std::mem::replace(outcome, Outcome::NotTried) {
                    *outcome = Outcome::Drifted(e);
                }
                if !drift.contains(&key) {
                    drift.push(key);
                }
            }
            Answer::Unknown => unknown = true,
        }
    }
    if unknown
        || model
            .execute_all(acknowledged, &KernelProfile::ANY)
            .is_err()
    {
        Recorded::Unknown
    } else if drift.is_empty() {
        Recorded::Known
    } else {
        Recorded::Drift(drift)
    }
}

/// How the outcome of `step` bears on the model.
fn answer(step: &Step, outcome: &Outcome) -> Answer {
    let error = match outcome {
        Outcome::Applied => return Answer::Done,
        Outcome::NotTried | Outcome::Drifted(_) => return Answer::Refused,
        Outcome::Failed(e) => e,
    };
    let Some(refusal) = error.refusal() else {
        return match error {
            // Checked before sending: nothing went out.
            Error::Invalid(_) | Error::NotSupported { .. } => Answer::Refused,
            _ => Answer::Unknown,
        };
    };
    let contradiction = matches!(
        refusal.kind(),
        RefusalKind::ServiceExists
            | RefusalKind::NoSuchService
            | RefusalKind::DestinationExists
            | RefusalKind::NoSuchDestination
            | RefusalKind::DaemonExists
            | RefusalKind::NoSuchDaemon
    );
    match (&step.command, contradiction) {
        (_, false) => Answer::Refused,
        (Command::StartDaemon(_) | Command::StopDaemon(_), true) => Answer::Drift(None),
        (command, true) => match command.service() {
            Some(key) => Answer::Drift(Some(*key)),
            None => Answer::Unknown,
        },
    }
}

/// The part of `desired` that the drifted services and daemons make up.
fn subset(desired: &Ruleset, drift: &[Option<ServiceKey>]) -> Ruleset {
    let keys: HashSet<&ServiceKey> = drift.iter().flatten().collect();
    Ruleset {
        services: desired
            .services
            .iter()
            .filter(|vs| keys.contains(&vs.service.key))
            .cloned()
            .collect(),
        timeouts: None,
        daemons: if drift.contains(&None) {
            desired.daemons.clone()
        } else {
            Vec::new()
        },
    }
}
