//! `lvs.Ipvs`: a handle on one network namespace's IPVS table (`lvs_netlink::Ipvs`), and
//! `lvs.Snapshot`. Every call that talks to the kernel releases the GIL.

use crate::config::{PyConnection, PyDaemon, PyFeatures, PyInfo, PyTimeouts, role_arg};
use crate::destination::{PyDestination, destination_arg};
use crate::errors;
use crate::plan::{PyPlan, PyReport};
use crate::ruleset::{PyCommand, PyRuleset, dest_addr};
use crate::service::{PyService, service_arg};
use crate::state::{
    PyDestinationEntry, PyDestinationState, PyServiceEntry, PyServiceState, PyVirtualServiceEntry,
};
use lvs_core::Command;
use lvs_netlink::{ApplyOptions, Error, Ipvs};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A handle on the IPVS table of one network namespace: the caller's (`Ipvs()`), or another
/// one (`Ipvs(netns="name")`: a name under /run/netns or a path such as /proc/PID/ns/net).
/// Every operation needs CAP_NET_ADMIN. Usable as a context manager, which closes it.
#[pyclass(frozen, name = "Ipvs", module = "lvs")]
pub struct PyIpvs {
    inner: RwLock<Option<Arc<Ipvs>>>,
    netns: Option<PathBuf>,
}

impl PyIpvs {
    fn handle(&self) -> PyResult<Arc<Ipvs>> {
        let guard = self
            .inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard
            .clone()
            .ok_or_else(|| errors::argument("this Ipvs handle is closed"))
    }

    /// Runs `f` on the handle with the GIL released.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Ipvs) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        let ipvs = self.handle()?;
        py.detach(move || f(&ipvs))
            .map_err(|e| errors::netlink(py, &e))
    }
}

/// A handle on `netns` (the caller's namespace for `None`), opened with the GIL released.
pub fn open(py: Python<'_>, netns: Option<PathBuf>, reply_timeout: Option<f64>) -> PyResult<Ipvs> {
    let timeout = reply_timeout.map(seconds_arg).transpose()?;
    let ipvs = py
        .detach(move || match netns {
            Some(p) => Ipvs::in_netns(p),
            None => Ipvs::new(),
        })
        .map_err(|e| errors::netlink(py, &e))?;
    if let Some(t) = timeout {
        ipvs.set_reply_timeout(t);
    }
    Ok(ipvs)
}

/// A positive number of seconds.
pub fn seconds_arg(seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| errors::argument(format!("{seconds} is not a positive number of seconds")))
}

#[pymethods]
impl PyIpvs {
    #[new]
    #[pyo3(signature = (netns=None, *, reply_timeout=None))]
    fn new(py: Python<'_>, netns: Option<PathBuf>, reply_timeout: Option<f64>) -> PyResult<Self> {
        let ipvs = open(py, netns.clone(), reply_timeout)?;
        Ok(PyIpvs {
            inner: RwLock::new(Some(Arc::new(ipvs))),
            netns,
        })
    }

    /// How long each kernel exchange may take, in seconds (default 5); a late answer raises
    /// `lvs.Timeout`.
    #[getter]
    fn reply_timeout(&self) -> PyResult<f64> {
        Ok(self.handle()?.reply_timeout().as_secs_f64())
    }

    #[setter]
    fn set_reply_timeout(&self, seconds: f64) -> PyResult<()> {
        self.handle()?.set_reply_timeout(seconds_arg(seconds)?);
        Ok(())
    }

    /// Closes the netlink socket; later calls raise `InvalidArgument`.
    fn close(&self) {
        let mut guard = self
            .inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = None;
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// A kernel connection is no value: pickle and `copy` refuse it (`TypeError`).
    fn __reduce__(&self) -> PyResult<()> {
        Err(errors::not_a_value("Ipvs"))
    }

    fn __exit__(
        &self,
        exc_type: &Bound<'_, PyAny>,
        exc: &Bound<'_, PyAny>,
        tb: &Bound<'_, PyAny>,
    ) -> bool {
        let _ = (exc_type, exc, tb);
        self.close();
        false
    }

    /// The IPVS version and connection table size.
    fn info(&self, py: Python<'_>) -> PyResult<PyInfo> {
        self.call(py, |i| i.info()).map(|inner| PyInfo { inner })
    }

    /// What the running kernel's IPVS supports.
    fn features(&self, py: Python<'_>) -> PyResult<PyFeatures> {
        self.call(py, |i| i.features())
            .map(|inner| PyFeatures { inner })
    }

    /// Every service with its state (`ipvsadm -L` without the real servers), as
    /// `ServiceEntry`s (`.service`, `.state`; they unpack as that pair).
    fn services(&self, py: Python<'_>) -> PyResult<Vec<PyServiceEntry>> {
        let list = self.call(py, |i| i.services())?;
        Ok(list
            .into_iter()
            .map(|inner| PyServiceEntry { inner })
            .collect())
    }

    /// The `ServiceEntry` of the service with the identity of `service`, or `None`.
    fn service(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyAny>,
    ) -> PyResult<Option<PyServiceEntry>> {
        let key = service_arg(service)?.key;
        let found = self.call(py, move |i| i.service(&key))?;
        Ok(found.map(|inner| PyServiceEntry { inner }))
    }

    /// A service's real servers with their state, as `DestinationEntry`s (`.destination`,
    /// `.state`; they unpack as that pair); raises `NoSuchService`.
    fn destinations(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<PyDestinationEntry>> {
        let key = service_arg(service)?.key;
        let list = self.call(py, move |i| i.destinations(&key))?;
        Ok(list
            .into_iter()
            .map(|inner| PyDestinationEntry { inner })
            .collect())
    }

    /// `ipvsadm -A`.
    fn add_service(&self, py: Python<'_>, service: &Bound<'_, PyAny>) -> PyResult<()> {
        let s = service_arg(service)?;
        self.call(py, move |i| i.add_service(&s))
    }

    /// `ipvsadm -E`: replaces the configuration of the service with the same identity.
    fn edit_service(&self, py: Python<'_>, service: &Bound<'_, PyAny>) -> PyResult<()> {
        let s = service_arg(service)?;
        self.call(py, move |i| i.edit_service(&s))
    }

    /// `ipvsadm -D`.
    fn delete_service(&self, py: Python<'_>, service: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = service_arg(service)?.key;
        self.call(py, move |i| i.delete_service(&key))
    }

    /// `ipvsadm -a`.
    fn add_destination(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let key = service_arg(service)?.key;
        let d = destination_arg(destination)?;
        self.call(py, move |i| i.add_destination(&key, &d))
    }

    /// `ipvsadm -e`.
    fn edit_destination(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let key = service_arg(service)?.key;
        let d = destination_arg(destination)?;
        self.call(py, move |i| i.edit_destination(&key, &d))
    }

    /// `ipvsadm -d`: `destination` is a `Destination` or `(address, port)`.
    fn delete_destination(
        &self,
        py: Python<'_>,
        service: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let key = service_arg(service)?.key;
        let addr = dest_addr(destination)?;
        self.call(py, move |i| i.delete_destination(&key, &addr))
    }

    /// `ipvsadm -Z`: zeroes one service's counters, or all.
    #[pyo3(signature = (service=None))]
    fn zero(&self, py: Python<'_>, service: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let key = service.map(service_arg).transpose()?.map(|s| s.key);
        self.call(py, move |i| i.zero(key.as_ref()))
    }

    /// `ipvsadm -C`: deletes every service.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |i| i.flush())
    }

    /// `ipvsadm -L --timeout`.
    fn timeouts(&self, py: Python<'_>) -> PyResult<PyTimeouts> {
        self.call(py, |i| i.timeouts())
            .map(|inner| PyTimeouts { inner })
    }

    /// `ipvsadm --set` (0 keeps a value).
    fn set_timeouts(&self, py: Python<'_>, timeouts: PyRef<'_, PyTimeouts>) -> PyResult<()> {
        let t = timeouts.inner;
        self.call(py, move |i| i.set_timeouts(&t))
    }

    /// `ipvsadm -L --daemon`.
    fn daemons(&self, py: Python<'_>) -> PyResult<Vec<PyDaemon>> {
        let list = self.call(py, |i| i.daemons())?;
        Ok(list.into_iter().map(|inner| PyDaemon { inner }).collect())
    }

    /// `ipvsadm --start-daemon`.
    fn start_daemon(&self, py: Python<'_>, daemon: PyRef<'_, PyDaemon>) -> PyResult<()> {
        let d = daemon.inner.clone();
        self.call(py, move |i| i.start_daemon(&d))
    }

    /// `ipvsadm --stop-daemon`: `'master'` or `'backup'`.
    fn stop_daemon(&self, py: Python<'_>, role: &str) -> PyResult<()> {
        let role = role_arg(role)?;
        self.call(py, move |i| i.stop_daemon(role))
    }

    /// Carries out one `Command` after lvs's checks (nothing changed on error).
    fn execute(&self, py: Python<'_>, command: PyRef<'_, PyCommand>) -> PyResult<()> {
        let c = command.inner.clone();
        self.call(py, move |i| i.execute(&c))
    }

    /// Brings the kernel to the desired `ruleset` with the fewest changes, never a flush (one
    /// snapshot, a plan, three pipelined batches) and returns the `Report`; `keep_unlisted`
    /// leaves other services alone, `drain` sets real servers that go to weight 0 (deleted by
    /// a later apply once idle), `dry_run` sends nothing. One `Command` goes to `execute()`.
    #[pyo3(signature = (ruleset, *, keep_unlisted=false, drain=false, dry_run=false))]
    fn apply(
        &self,
        py: Python<'_>,
        ruleset: &Bound<'_, PyAny>,
        keep_unlisted: bool,
        drain: bool,
        dry_run: bool,
    ) -> PyResult<PyReport> {
        if ruleset.cast::<PyCommand>().is_ok() {
            return Err(PyTypeError::new_err(
                "apply() takes a Ruleset (the desired state); one Command goes to execute()",
            ));
        }
        let desired = ruleset
            .cast::<PyRuleset>()
            .map_err(|_| PyTypeError::new_err("apply() takes a Ruleset"))?
            .get()
            .inner
            .clone();
        let options = ApplyOptions {
            keep_unlisted,
            drain,
            dry_run,
        };
        let report = self.call(py, move |i| i.apply(&desired, &options))?;
        Ok(PyReport { inner: report })
    }

    /// The plan that `apply(ruleset)` would carry out now, from one snapshot; sends nothing.
    #[pyo3(signature = (ruleset, *, keep_unlisted=false, drain=false))]
    fn plan(
        &self,
        py: Python<'_>,
        ruleset: PyRef<'_, PyRuleset>,
        keep_unlisted: bool,
        drain: bool,
    ) -> PyResult<PyPlan> {
        let desired = ruleset.inner.clone();
        let options = ApplyOptions {
            keep_unlisted,
            drain,
            dry_run: true,
        };
        let plan = self.call(py, move |i| i.plan(&desired, &options))?;
        Ok(PyPlan { inner: plan })
    }

    /// Carries out a plan made earlier (`lvs.plan()` or `Ipvs.plan()`), stage by stage, stopping
    /// after the first stage with a failure.
    fn execute_plan(&self, py: Python<'_>, plan: PyRef<'_, PyPlan>) -> PyResult<PyReport> {
        let p = plan.inner.clone();
        let ipvs = self.handle()?;
        let report = py.detach(move || ipvs.execute_plan(p));
        Ok(PyReport { inner: report })
    }

    /// Sends one command with no checks of lvs's own, so the kernel's own answer comes back.
    fn execute_unchecked(&self, py: Python<'_>, command: PyRef<'_, PyCommand>) -> PyResult<()> {
        let c = command.inner.clone();
        self.call(py, move |i| i.execute_unchecked(&c))
    }

    /// Carries out many commands, pipelined, in order; the kernel goes on after a failure.
    /// Returns one entry per command: `None`, or the `LvsError` it raised.
    fn batch(&self, py: Python<'_>, commands: &Bound<'_, PyAny>) -> PyResult<Vec<Py<PyAny>>> {
        let mut list: Vec<Command> = Vec::new();
        for c in commands.try_iter()? {
            list.push(c?.cast::<PyCommand>()?.get().inner.clone());
        }
        let ipvs = self.handle()?;
        let results = py.detach(move || ipvs.batch(&list));
        Ok(results
            .into_iter()
            .map(|r| match r {
                Ok(()) => py.None(),
                Err(e) => errors::netlink_value(py, &e),
            })
            .collect())
    }

    /// Reads everything at once: services, real servers, their state, timeouts, daemons.
    fn snapshot(&self, py: Python<'_>) -> PyResult<PySnapshot> {
        let snap = self.call(py, |i| i.snapshot())?;
        PySnapshot::from_rust(py, snap)
    }

    /// The connection table (`/proc/net/ip_vs_conn` of the handle's namespace).
    fn connections(&self, py: Python<'_>) -> PyResult<Vec<PyConnection>> {
        let list = self.call(py, |i| i.connections())?;
        Ok(list
            .into_iter()
            .map(|inner| PyConnection { inner })
            .collect())
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { " closed" } else { "" };
        match &self.netns {
            Some(p) => format!("<lvs.Ipvs netns={:?}{state}>", p.display().to_string()),
            None => format!("<lvs.Ipvs{state}>"),
        }
    }
}

/// Everything the kernel holds, read at once by `Ipvs.snapshot()`: the configuration
/// (`ruleset`, with timeouts and daemons) and the state of each service and real server, keyed
/// by the `Service` and `(Service, Destination)` objects of `ruleset`.
#[pyclass(frozen, name = "Snapshot", module = "lvs")]
pub struct PySnapshot {
    inner: lvs_netlink::Snapshot,
    ruleset: Py<PyRuleset>,
    service_state: Py<PyDict>,
    destination_state: Py<PyDict>,
}

impl PySnapshot {
    fn from_rust(py: Python<'_>, snap: lvs_netlink::Snapshot) -> PyResult<Self> {
        let service_state = PyDict::new(py);
        let destination_state = PyDict::new(py);
        for vs in &snap.ruleset.services {
            let key = vs.service.key;
            let svc = Py::new(
                py,
                PyService {
                    inner: vs.service.clone(),
                },
            )?;
            if let Some(st) = snap.service_state.get(&key) {
                service_state.set_item(svc.clone_ref(py), PyServiceState { inner: *st })?;
            }
            for d in &vs.destinations {
                if let Some(st) = snap.destination_state.get(&(key, d.addr)) {
                    let k = (svc.clone_ref(py), PyDestination { inner: *d });
                    destination_state.set_item(k, PyDestinationState { inner: *st })?;
                }
            }
        }
        Ok(PySnapshot {
            ruleset: Py::new(
                py,
                PyRuleset {
                    inner: snap.ruleset.clone(),
                },
            )?,
            inner: snap,
            service_state: service_state.unbind(),
            destination_state: destination_state.unbind(),
        })
    }
}

#[pymethods]
impl PySnapshot {
    /// The configuration: services with real servers, timeouts and daemons.
    #[getter]
    fn ruleset(&self, py: Python<'_>) -> Py<PyRuleset> {
        self.ruleset.clone_ref(py)
    }

    /// `{Service: ServiceState}`.
    #[getter]
    fn service_state(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        Ok(self.service_state.bind(py).copy()?.unbind())
    }

    /// `{(Service, Destination): DestinationState}`.
    #[getter]
    fn destination_state(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        Ok(self.destination_state.bind(py).copy()?.unbind())
    }

    /// Only the services and real servers (no timeouts, no daemons): what `Ruleset.parse` of
    /// an `ipvsadm -S` file gives, for comparing against one.
    fn services(&self) -> PyRuleset {
        PyRuleset {
            inner: self.inner.services(),
        }
    }

    /// Each service with its state and its real servers with theirs, in the kernel's order: what
    /// `Ipvs.services()` and `Ipvs.destinations()` give, all from this one read. A service or
    /// real server the kernel reported no state for has zero counters.
    fn entries(&self) -> Vec<PyVirtualServiceEntry> {
        self.inner
            .entries()
            .into_iter()
            .map(|inner| PyVirtualServiceEntry { inner })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "<lvs.Snapshot: {} services, {} objects>",
            self.inner.ruleset.services.len(),
            self.inner.object_count()
        )
    }
}
