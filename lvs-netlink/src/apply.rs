//! Declarative apply: bring the kernel to a desired ruleset with the fewest changes, never a
//! flush. One snapshot read, one [`lvs_core::plan`], then each stage of the plan as one
//! pipelined batch.

use crate::{Error, Ipvs, Snapshot};
use lvs_core::{Command, Plan, PlanOptions, Ruleset, plan};
use std::collections::HashSet;
use std::fmt;

/// How [`Ipvs::apply_ruleset`] goes about it.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::Ruleset;
/// use lvs_netlink::{ApplyOptions, Ipvs};
///
/// // This file manages one service among others: leave the rest alone, and let real servers
/// // that leave it finish their connections.
/// let options = ApplyOptions { keep_unlisted: true, drain: true, ..ApplyOptions::default() };
/// let desired =
///     Ruleset::from_rules("-A -t 10.0.0.13:80 -s rr\n-a -t 10.0.0.13:80 -r 192.168.8.15 -m\n")?;
/// let report = Ipvs::new()?.apply_ruleset(&desired, &options)?;
/// print!("{report}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Leave services that the desired ruleset does not name alone.
    pub keep_unlisted: bool,
    /// Drain real servers that go (weight 0) and delete them only once they have no
    /// connections left, on a later apply.
    pub drain: bool,
    /// Plan only: send nothing.
    pub dry_run: bool,
}

/// What happened to one step of a plan.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::Ruleset;
/// use lvs_netlink::{ApplyOptions, Ipvs, Outcome};
///
/// let desired = Ruleset::from_rules("-A -u 10.0.0.13:53 -s sh\n")?;
/// let report = Ipvs::new()?.apply_ruleset(&desired, &ApplyOptions::default())?;
/// for (step, outcome) in report.plan.steps.iter().zip(&report.outcomes) {
///     match outcome {
///         Outcome::Applied => {}
///         Outcome::Failed(e) => eprintln!("{:?}: {e}", step.command),
///         Outcome::NotTried => eprintln!("{:?}: not tried", step.stage),
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub enum Outcome {
    /// The kernel carried it out.
    Applied,
    /// The kernel (or validation) refused it.
    Failed(Error),
    /// Not sent: an earlier stage failed, or this was a dry run.
    NotTried,
}

/// What [`Ipvs::apply_ruleset`] did: the plan, and the outcome of each of its steps.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::Ruleset;
/// use lvs_netlink::{ApplyOptions, Ipvs};
///
/// let desired = Ruleset::from_rules(&std::fs::read_to_string("/etc/lvs/web.rules")?)?;
/// let report = Ipvs::new()?.apply_ruleset(&desired, &ApplyOptions::default())?;
/// println!(
///     "{} applied, {} failed, {} not tried",
///     report.applied().count(),
///     report.failed().count(),
///     report.not_tried().count()
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Report {
    /// The plan, computed from one snapshot of the kernel.
    pub plan: Plan,
    /// One outcome per step of the plan, in order.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// Whether every step was applied (true for an empty plan).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (ipvs, desired) = (lvs_netlink::Ipvs::new()?, lvs_core::Ruleset::new());
    /// let report = ipvs.apply_ruleset(&desired, &Default::default())?;
    /// if !report.is_success() {
    ///     eprint!("{report}");
    ///     std::process::exit(1);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_success(&self) -> bool {
        self.outcomes.iter().all(|o| matches!(o, Outcome::Applied))
    }

    /// The commands that were applied.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (ipvs, desired) = (lvs_netlink::Ipvs::new()?, lvs_core::Ruleset::new());
    /// let report = ipvs.apply_ruleset(&desired, &Default::default())?;
    /// for command in report.applied() {
    ///     println!("done: {}", lvs_core::rules::command_rule(command, Default::default()));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn applied(&self) -> impl Iterator<Item = &Command> {
        self.filter(|o| matches!(o, Outcome::Applied))
            .map(|(c, _)| c)
    }

    /// The commands that failed, with why.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (ipvs, desired) = (lvs_netlink::Ipvs::new()?, lvs_core::Ruleset::new());
    /// let report = ipvs.apply_ruleset(&desired, &Default::default())?;
    /// for (command, error) in report.failed() {
    ///     eprintln!("{command:?} refused: {error}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn failed(&self) -> impl Iterator<Item = (&Command, &Error)> {
        self.plan
            .commands()
            .zip(&self.outcomes)
            .filter_map(|(c, o)| match o {
                Outcome::Failed(e) => Some((c, e)),
                _ => None,
            })
    }

    /// The commands that were not sent.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (ipvs, desired) = (lvs_netlink::Ipvs::new()?, lvs_core::Ruleset::new());
    /// let report = ipvs.apply_ruleset(&desired, &Default::default())?;
    /// let skipped = report.not_tried().count();
    /// if skipped > 0 {
    ///     eprintln!("{skipped} changes not sent; fix the failure and apply again");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn not_tried(&self) -> impl Iterator<Item = &Command> {
        self.filter(|o| matches!(o, Outcome::NotTried))
            .map(|(c, _)| c)
    }

    fn filter(&self, f: impl Fn(&Outcome) -> bool) -> impl Iterator<Item = (&Command, &Outcome)> {
        self.plan
            .commands()
            .zip(&self.outcomes)
            .filter(move |(_, o)| f(o))
    }
}

/// The plan with each step's outcome: `ok`, `FAILED: why`, or `not tried`.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.plan.to_string();
        for (line, outcome) in lines.lines().zip(&self.outcomes) {
            match outcome {
                Outcome::Applied => writeln!(f, "{line}")?,
                Outcome::Failed(e) => writeln!(f, "{line}  # FAILED: {e}")?,
                Outcome::NotTried => writeln!(f, "{line}  # not tried")?,
            }
        }
        Ok(())
    }
}

impl Ipvs {
    /// The plan that would bring the kernel to `desired` (what [`Ipvs::apply_ruleset`] would
    /// send), from one snapshot.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Ruleset;
    /// use lvs_netlink::{ApplyOptions, Ipvs};
    ///
    /// // What would applying the file change? (`lvsadm diff`)
    /// let desired = Ruleset::from_rules(&std::fs::read_to_string("/etc/lvs/web.rules")?)?;
    /// let plan = Ipvs::new()?.plan_ruleset(&desired, &ApplyOptions::default())?;
    /// if plan.is_empty() {
    ///     println!("the kernel already matches");
    /// } else {
    ///     print!("{plan}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn plan_ruleset(&self, desired: &Ruleset, options: &ApplyOptions) -> Result<Plan, Error> {
        let snapshot = self.snapshot()?;
        Ok(plan_from(&snapshot, desired, options))
    }

    /// Brings the kernel to `desired` with the fewest changes: one snapshot read, a plan, and
    /// each stage of the plan (removals; services; real servers; daemons) as one pipelined
    /// batch. Applying the same ruleset again sends nothing. If a step fails, the stages after
    /// it are not tried; the report says what was applied, what failed and why, and what was
    /// not tried, and running the apply again converges.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Ruleset;
    /// use lvs_netlink::{ApplyOptions, Ipvs};
    ///
    /// // Apply a rules file (as `ipvsadm-save -n` writes them) and print the report.
    /// let desired = Ruleset::from_rules(&std::fs::read_to_string("/etc/lvs/web.rules")?)?;
    /// let report = Ipvs::new()?.apply_ruleset(&desired, &ApplyOptions::default())?;
    /// print!("{report}");
    /// if !report.is_success() {
    ///     std::process::exit(1);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn apply_ruleset(
        &self,
        desired: &Ruleset,
        options: &ApplyOptions,
    ) -> Result<Report, Error> {
        let snapshot = self.snapshot()?;
        let plan = plan_from(&snapshot, desired, options);
        if options.dry_run {
            let outcomes = plan.steps.iter().map(|_| Outcome::NotTried).collect();
            return Ok(Report { plan, outcomes });
        }
        Ok(self.execute_plan(plan))
    }

    /// Carries out a plan made earlier (by [`Ipvs::plan_ruleset`] or [`lvs_core::plan()`]):
    /// each stage as one pipelined batch, stopping after the first stage with a failure.
    /// Someone else may have changed the table since the plan was made; the report says what
    /// was refused, and [`Ipvs::apply_ruleset`] (which plans afresh) converges.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::Ruleset;
    /// use lvs_netlink::{ApplyOptions, Ipvs};
    ///
    /// // Show the plan, ask, then carry out exactly that plan.
    /// let ipvs = Ipvs::new()?;
    /// let desired = Ruleset::from_rules(&std::fs::read_to_string("/etc/lvs/web.rules")?)?;
    /// let plan = ipvs.plan_ruleset(&desired, &ApplyOptions::default())?;
    /// print!("{plan}apply? [y/N] ");
    /// let mut answer = String::new();
    /// std::io::stdin().read_line(&mut answer)?;
    /// if answer.trim() == "y" {
    ///     print!("{}", ipvs.execute_plan(plan));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn execute_plan(&self, plan: Plan) -> Report {
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(plan.len());
        let mut failed = false;
        for stage in plan.steps.chunk_by(|a, b| a.stage == b.stage) {
            if failed {
                outcomes.extend(stage.iter().map(|_| Outcome::NotTried));
                continue;
            }
            let commands: Vec<Command> = stage.iter().map(|s| s.command.clone()).collect();
            for result in self.batch(&commands) {
                outcomes.push(match result {
                    Ok(()) => Outcome::Applied,
                    Err(e) => {
                        failed = true;
                        Outcome::Failed(e)
                    }
                });
            }
        }
        Report { plan, outcomes }
    }
}

fn plan_from(snapshot: &Snapshot, desired: &Ruleset, options: &ApplyOptions) -> Plan {
    let idle: HashSet<_> = snapshot
        .destination_state
        .iter()
        .filter(|(_, s)| s.active_conns == 0 && s.inactive_conns == 0 && s.persistent_conns == 0)
        .map(|(k, _)| *k)
        .collect();
    let plan_options = PlanOptions {
        keep_unlisted: options.keep_unlisted,
        drain: options.drain,
        idle,
    };
    plan(&snapshot.ruleset, desired, &plan_options)
}
