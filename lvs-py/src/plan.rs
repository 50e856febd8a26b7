//! `lvs.plan()`, `Plan` and `Report`: the declarative side (`lvs_core::plan`,
//! `lvs_netlink::Ipvs::apply`).

use crate::errors;
use crate::ruleset::{PyCommand, PyRuleset};
use lvs_core::{Plan, PlanOptions, ServiceKey, Stage};
use lvs_netlink::{Outcome, Report};
use pyo3::prelude::*;
use std::collections::HashSet;
use std::net::SocketAddr;

/// The ordered changes that turn one ruleset into another, never a flush. `str(plan)` reads as
/// a change list (`+` adds, `~` edits, `-` deletes, `=` drains); `plan.to_rules()` as the
/// ipvsadm rule lines that would carry it out.
#[pyclass(frozen, eq, name = "Plan", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyPlan {
    pub inner: Plan,
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::StopDaemons => "stop-daemons",
        Stage::Remove => "remove",
        Stage::Services => "services",
        Stage::Destinations => "destinations",
        Stage::Daemons => "daemons",
    }
}

#[pymethods]
impl PyPlan {
    /// The commands, in an order where each is valid after the ones before.
    #[getter]
    fn commands(&self) -> Vec<PyCommand> {
        self.inner
            .commands()
            .cloned()
            .map(PyCommand::from)
            .collect()
    }

    /// `(stage, command)` per step; the stages are `'remove'`, `'services'`, `'destinations'`,
    /// `'daemons'`, in that order.
    #[getter]
    fn steps(&self) -> Vec<(&'static str, PyCommand)> {
        self.inner
            .steps
            .iter()
            .map(|s| (stage_name(s.stage), PyCommand::from(s.command.clone())))
            .collect()
    }

    /// The plan as ipvsadm rule lines (what `ipvsadm -R` would run).
    fn to_rules(&self) -> String {
        self.inner.to_rules()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!("<lvs.Plan: {} steps>", self.inner.len())
    }
}

/// The idle real servers a draining plan may delete: `(Service, Destination)` pairs.
fn idle_arg(idle: Option<&Bound<'_, PyAny>>) -> PyResult<HashSet<(ServiceKey, SocketAddr)>> {
    let mut out = HashSet::new();
    if let Some(idle) = idle {
        for pair in idle.try_iter()? {
            let pair = pair?;
            let (s, d): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract()?;
            out.insert((
                crate::service::service_arg(&s)?.key,
                crate::ruleset::dest_addr(&d)?,
            ));
        }
    }
    Ok(out)
}

/// The fewest changes, in a valid order, that turn `current` into `desired`
/// (`lvs_core::plan`). `keep_unlisted` leaves services `desired` does not name alone; `drain`
/// sets real servers that go to weight 0 instead of deleting them, and deletes those listed in
/// `idle` (`(Service, Destination)` pairs with no connections left).
#[pyfunction]
#[pyo3(signature = (current, desired, *, keep_unlisted=false, drain=false, idle=None))]
pub fn plan(
    current: PyRef<'_, PyRuleset>,
    desired: PyRef<'_, PyRuleset>,
    keep_unlisted: bool,
    drain: bool,
    idle: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPlan> {
    let options = PlanOptions {
        keep_unlisted,
        drain,
        idle: idle_arg(idle)?,
    };
    Ok(PyPlan {
        inner: lvs_core::plan(&current.inner, &desired.inner, &options),
    })
}

/// What `Ipvs.apply(ruleset)` did: the plan and each step's outcome. True when every step was
/// applied; `str(report)` is the plan with `# FAILED: why` and `# not tried` marks.
#[pyclass(frozen, name = "Report", module = "lvs")]
pub struct PyReport {
    pub inner: Report,
}

impl PyReport {
    fn commands_where(&self, f: impl Fn(&Outcome) -> bool) -> Vec<PyCommand> {
        self.inner
            .plan
            .commands()
            .zip(&self.inner.outcomes)
            .filter(|(_, o)| f(o))
            .map(|(c, _)| PyCommand::from(c.clone()))
            .collect()
    }
}

#[pymethods]
impl PyReport {
    /// The plan, computed from one snapshot of the kernel.
    #[getter]
    fn plan(&self) -> PyPlan {
        PyPlan {
            inner: self.inner.plan.clone(),
        }
    }

    /// Whether every step was applied, or repaired after a drift (true for an empty plan).
    #[getter]
    fn is_success(&self) -> bool {
        self.inner.is_success()
    }

    /// The commands the kernel carried out.
    #[getter]
    fn applied(&self) -> Vec<PyCommand> {
        self.commands_where(|o| matches!(o, Outcome::Applied))
    }

    /// The commands that were not sent (a stage before failed, or a dry run).
    #[getter]
    fn not_tried(&self) -> Vec<PyCommand> {
        self.commands_where(|o| matches!(o, Outcome::NotTried))
    }

    /// `(command, exception)` for each step a `Reconciler` found contradicted by the kernel
    /// (another writer had changed that service); the steps that repaired it follow in the
    /// plan.
    #[getter]
    fn drifted(&self, py: Python<'_>) -> Vec<(PyCommand, Py<PyAny>)> {
        self.inner
            .plan
            .commands()
            .zip(&self.inner.outcomes)
            .filter_map(|(c, o)| match o {
                Outcome::Drifted(e) => {
                    Some((PyCommand::from(c.clone()), errors::netlink_value(py, e)))
                }
                _ => None,
            })
            .collect()
    }

    /// `(command, exception)` for each step that failed.
    #[getter]
    fn failed(&self, py: Python<'_>) -> Vec<(PyCommand, Py<PyAny>)> {
        self.inner
            .failed()
            .map(|(c, e)| (PyCommand::from(c.clone()), errors::netlink_value(py, e)))
            .collect()
    }

    fn __bool__(&self) -> bool {
        self.inner.is_success()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        let failed = self.inner.failed().count();
        format!(
            "<lvs.Report: {} steps, {} failed>",
            self.inner.plan.len(),
            failed
        )
    }
}
