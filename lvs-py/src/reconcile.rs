//! `lvs.Reconciler`: lvs-netlink's `Reconciler`, which keeps the kernel at a desired ruleset
//! sending only what changed. Every call that talks to the kernel releases the GIL.

use crate::errors;
use crate::ipvs::{open, seconds_arg};
use crate::plan::PyReport;
use crate::ruleset::PyRuleset;
use lvs_netlink::{ApplyOptions, Reconciler};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Mutex;

/// Keeps one network namespace's IPVS table at a desired `Ruleset`: it reads the table once,
/// then each `apply()` plans against what it knows of the kernel and sends only the
/// difference, with no read when nothing else changed the table. An answer that contradicts
/// it (another writer changed a service) makes it read that service again and repair it in
/// the same apply (`Report.drifted`). After `lvs.Timeout`, the next apply reads everything.
#[pyclass(frozen, name = "Reconciler", module = "lvs")]
pub struct PyReconciler {
    inner: Mutex<Reconciler>,
}

impl PyReconciler {
    /// Runs `f` on the reconciler with the GIL released.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Reconciler) -> Result<T, lvs_netlink::Error> + Send,
    ) -> PyResult<T> {
        let result = py.detach(|| {
            let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut r)
        });
        result.map_err(|e| errors::netlink(py, &e))
    }
}

#[pymethods]
impl PyReconciler {
    /// A kernel connection is no value: pickle and `copy` refuse it (`TypeError`).
    fn __reduce__(&self) -> PyResult<()> {
        Err(errors::not_a_value("Reconciler"))
    }

    #[new]
    #[pyo3(signature = (netns=None, *, reply_timeout=None, resync_interval=None))]
    fn new(
        py: Python<'_>,
        netns: Option<PathBuf>,
        reply_timeout: Option<f64>,
        resync_interval: Option<f64>,
    ) -> PyResult<Self> {
        let every = resync_interval.map(seconds_arg).transpose()?;
        let ipvs = open(py, netns, reply_timeout)?;
        let mut reconciler = py
            .detach(move || Reconciler::new(ipvs))
            .map_err(|e| errors::netlink(py, &e))?;
        reconciler.set_resync_interval(every);
        Ok(PyReconciler {
            inner: Mutex::new(reconciler),
        })
    }

    /// Brings the kernel to `ruleset`, sending only what differs from what the reconciler
    /// knows of it (options as `Ipvs.apply`).
    #[pyo3(signature = (ruleset, *, keep_unlisted=false, drain=false, dry_run=false))]
    fn apply(
        &self,
        py: Python<'_>,
        ruleset: &Bound<'_, PyRuleset>,
        keep_unlisted: bool,
        drain: bool,
        dry_run: bool,
    ) -> PyResult<PyReport> {
        // A frozen Ruleset is read in place while the GIL is released: no copy per apply.
        let desired = &ruleset.get().inner;
        let options = ApplyOptions {
            keep_unlisted,
            drain,
            dry_run,
        };
        let report = self.call(py, move |r| r.apply(desired, &options))?;
        Ok(PyReport { inner: report })
    }

    /// Reads the whole table again (after other writers changed it).
    fn resync(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |r| r.resync())
    }

    /// What the reconciler believes the kernel holds, or `None` when it will read the table
    /// at the next apply.
    #[getter]
    fn model(&self) -> Option<PyRuleset> {
        let r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.model().map(|m| PyRuleset { inner: m.clone() })
    }

    /// Seconds after which an apply reads the whole table first (`None`: only when needed).
    #[getter]
    fn resync_interval(&self) -> Option<f64> {
        let r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.resync_interval().map(|d| d.as_secs_f64())
    }

    #[setter]
    fn set_resync_interval(&self, seconds: Option<f64>) -> PyResult<()> {
        let every = seconds.map(seconds_arg).transpose()?;
        let mut r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.set_resync_interval(every);
        Ok(())
    }

    /// How long each kernel exchange may take, in seconds (default 5).
    #[getter]
    fn reply_timeout(&self) -> f64 {
        let r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.ipvs().reply_timeout().as_secs_f64()
    }

    #[setter]
    fn set_reply_timeout(&self, seconds: f64) -> PyResult<()> {
        let timeout = seconds_arg(seconds)?;
        let r = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        r.ipvs().set_reply_timeout(timeout);
        Ok(())
    }
}
