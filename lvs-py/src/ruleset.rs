//! `VirtualService`, `Ruleset` (rule files, JSON) and `Command`.

use crate::config::{PyDaemon, PyTimeouts, role_arg};
use crate::convert;
use crate::destination::{PyDestination, destination_arg};
use crate::errors;
use crate::service::{PyService, service_arg};
use crate::value::{DictForm, value_methods};
use lvs_core::rules::{self, SaveOptions, command_rule};
use lvs_core::{Command, Destination, Ruleset, ServiceKey, VirtualService};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use std::net::SocketAddr;

/// An order-independent hash of a service with its real servers (a sum over them), matching
/// `VirtualService`'s equality, which compares real servers as a multiset.
fn vs_hash(vs: &VirtualService) -> u64 {
    vs.destinations
        .iter()
        .map(convert::hash_of)
        .fold(convert::hash_of(&vs.service), u64::wrapping_add)
}

/// A service with its real servers. Equality ignores their order (a real server listed twice
/// counts twice); hashing agrees.
#[pyclass(frozen, name = "VirtualService", module = "lvs")]
#[derive(Debug, Clone)]
pub struct PyVirtualService {
    pub inner: VirtualService,
}

value_methods!(PyVirtualService, "virtual service");

fn destinations_arg(items: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Destination>> {
    let mut out = Vec::new();
    if let Some(items) = items {
        for d in items.try_iter()? {
            out.push(destination_arg(&d?)?);
        }
    }
    Ok(out)
}

#[pymethods]
impl PyVirtualService {
    #[new]
    #[pyo3(signature = (service, destinations=None))]
    fn new(service: &Bound<'_, PyAny>, destinations: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(PyVirtualService {
            inner: VirtualService {
                service: service_arg(service)?,
                destinations: destinations_arg(destinations)?,
            },
        })
    }

    /// The service.
    #[getter]
    fn service(&self) -> PyService {
        PyService {
            inner: self.inner.service.clone(),
        }
    }

    /// Its real servers.
    #[getter]
    fn destinations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .destinations
                .iter()
                .map(|d| PyDestination { inner: *d }),
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyVirtualService>()
            .is_ok_and(|o| self.inner == o.get().inner)
    }

    fn __hash__(&self) -> u64 {
        vs_hash(&self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let dests = self.destinations(py)?.repr()?;
        Ok(format!(
            "VirtualService({}, {})",
            self.service().__repr__(),
            dests
        ))
    }
}

/// A whole IPVS configuration: services with their real servers, and optionally timeouts and
/// sync daemons. Equality ignores order. `Ruleset.parse(text)` reads an ipvsadm rule file and
/// `str(ruleset)` writes one, as `ipvsadm -S -n` does.
#[pyclass(frozen, name = "Ruleset", module = "lvs")]
#[derive(Debug, Clone)]
pub struct PyRuleset {
    pub inner: Ruleset,
}

value_methods!(PyRuleset, "ruleset", DictForm);

/// Read as `Ruleset::from_json` reads a document: checked whole (duplicates, values a rule file
/// cannot carry, every rule of ipvsadm and the kernel), as the `Ruleset` constructor checks it.
impl DictForm for PyRuleset {
    fn write_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_dict(py, &self.inner)
    }

    fn read_dict(data: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        let text = convert::dict_json(data)?;
        Ruleset::from_json(&text)
            .map(|inner| PyRuleset { inner })
            .map_err(|e| errors::document(data.py(), what, &e))
    }
}

#[pymethods]
impl PyRuleset {
    #[new]
    #[pyo3(signature = (services=None, *, timeouts=None, daemons=None))]
    fn new(
        services: Option<&Bound<'_, PyAny>>,
        timeouts: Option<PyRef<'_, PyTimeouts>>,
        daemons: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut inner = Ruleset {
            timeouts: timeouts.map(|t| t.inner),
            ..Ruleset::default()
        };
        if let Some(services) = services {
            for vs in services.try_iter()? {
                let vs = vs?;
                let vs = if let Ok(s) = vs.cast::<PyService>() {
                    VirtualService::new(s.get().inner.clone())
                } else {
                    vs.cast::<PyVirtualService>()?.get().inner.clone()
                };
                inner.services.push(vs);
            }
        }
        if let Some(daemons) = daemons {
            for d in daemons.try_iter()? {
                inner
                    .daemons
                    .push(d?.cast::<PyDaemon>()?.get().inner.clone());
            }
        }
        inner
            .validate()
            .map_err(|e| Python::attach(|py| errors::invalid_ruleset(py, &e)))?;
        Ok(PyRuleset { inner })
    }

    /// Reads an ipvsadm rule file (what `ipvsadm -S -n` writes) and applies it to an empty
    /// table; raises `ParseError` with `.line` and `.column` at the first line that ipvsadm or
    /// the kernel would refuse.
    #[staticmethod]
    fn parse(py: Python<'_>, text: &str) -> PyResult<Self> {
        Ruleset::from_rules(text)
            .map(|inner| PyRuleset { inner })
            .map_err(|e| errors::rules(py, e))
    }

    /// The services with their real servers.
    #[getter]
    fn services<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .services
                .iter()
                .map(|vs| PyVirtualService { inner: vs.clone() }),
        )
    }

    /// The timeouts, when the ruleset sets them.
    #[getter]
    fn timeouts(&self) -> Option<PyTimeouts> {
        self.inner.timeouts.map(|inner| PyTimeouts { inner })
    }

    /// The sync daemons.
    #[getter]
    fn daemons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .daemons
                .iter()
                .map(|d| PyDaemon { inner: d.clone() }),
        )
    }

    /// The service (with its real servers) that has the identity of `service`, or `None`.
    fn service(&self, service: &Bound<'_, PyAny>) -> PyResult<Option<PyVirtualService>> {
        let key = service_arg(service)?.key;
        Ok(self
            .inner
            .service(&key)
            .map(|vs| PyVirtualService { inner: vs.clone() }))
    }

    /// The number of services and real servers.
    fn object_count(&self) -> usize {
        self.inner.object_count()
    }

    /// The ruleset after `command`, carried out as the kernel would (a fresh Debian kernel),
    /// without touching any kernel (`lvs_core::Ruleset::execute`); raises what the kernel would
    /// raise.
    fn executed(&self, py: Python<'_>, command: PyRef<'_, PyCommand>) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        inner
            .execute(&command.inner)
            .map_err(|r| errors::netlink(py, &lvs_netlink::Error::Kernel(r)))?;
        Ok(PyRuleset { inner })
    }

    /// The rules as `ipvsadm -S -n` writes them; `lossless=True` also writes what ipvsadm
    /// drops (thresholds, a third scheduler flag).
    #[pyo3(signature = (*, lossless=false))]
    fn to_rules(&self, lossless: bool) -> String {
        rules::save(&self.inner, SaveOptions { lossless })
    }

    fn __str__(&self) -> String {
        self.inner.to_rules()
    }

    fn __len__(&self) -> usize {
        self.inner.services.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyRuleset>()
            .is_ok_and(|o| self.inner == o.get().inner)
    }

    fn __hash__(&self) -> u64 {
        let r = &self.inner;
        let services = r.services.iter().map(vs_hash).fold(0u64, u64::wrapping_add);
        let daemons = r
            .daemons
            .iter()
            .map(convert::hash_of)
            .fold(0u64, u64::wrapping_add);
        convert::hash_of(&(services, daemons, r.timeouts))
    }

    fn __repr__(&self) -> String {
        let r = &self.inner;
        let dests: usize = r.services.iter().map(|vs| vs.destinations.len()).sum();
        let mut out = format!(
            "Ruleset({} services, {} destinations",
            r.services.len(),
            dests
        );
        if let Some(t) = r.timeouts {
            out.push_str(&format!(", {}", PyTimeouts { inner: t }.__repr__()));
        }
        if !r.daemons.is_empty() {
            out.push_str(&format!(", {} daemons", r.daemons.len()));
        }
        out.push(')');
        out
    }
}

/// One change to the IPVS table: what one ipvsadm rule line asks for. Made by the static
/// methods (`Command.add_service(svc)`, ...) or `Command.parse(line)`; its `str` is the rule
/// line.
#[pyclass(frozen, eq, name = "Command", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyCommand {
    pub inner: Command,
}

value_methods!(PyCommand, "command");

fn key(service: &Bound<'_, PyAny>) -> PyResult<ServiceKey> {
    Ok(service_arg(service)?.key)
}

/// A real server's address: a `Destination`, or `(address, port)`.
pub fn dest_addr(dest: &Bound<'_, PyAny>) -> PyResult<SocketAddr> {
    if let Ok(d) = dest.cast::<PyDestination>() {
        return Ok(d.get().inner.addr);
    }
    let (ip, port): (std::net::IpAddr, u16) = dest.extract().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("expected a Destination or (address, port)")
    })?;
    Ok(SocketAddr::new(ip, port))
}

#[pymethods]
impl PyCommand {
    /// `-A`: add a service.
    #[staticmethod]
    fn add_service(service: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Command::AddService(service_arg(service)?).into())
    }

    /// `-E`: replace a service's configuration.
    #[staticmethod]
    fn edit_service(service: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Command::EditService(service_arg(service)?).into())
    }

    /// `-D`: delete a service and its real servers.
    #[staticmethod]
    fn delete_service(service: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Command::DeleteService(key(service)?).into())
    }

    /// `-C`: delete every service.
    #[staticmethod]
    fn flush() -> Self {
        Command::Flush.into()
    }

    /// `-a`: add a real server to a service.
    #[staticmethod]
    fn add_destination(
        service: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        Ok(Command::AddDestination {
            service: key(service)?,
            destination: destination_arg(destination)?,
        }
        .into())
    }

    /// `-e`: replace a real server's configuration.
    #[staticmethod]
    fn edit_destination(
        service: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        Ok(Command::EditDestination {
            service: key(service)?,
            destination: destination_arg(destination)?,
        }
        .into())
    }

    /// `-d`: remove a real server (a `Destination` or `(address, port)`).
    #[staticmethod]
    fn delete_destination(
        service: &Bound<'_, PyAny>,
        destination: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        Ok(Command::DeleteDestination {
            service: key(service)?,
            addr: dest_addr(destination)?,
        }
        .into())
    }

    /// `-Z`: zero one service's counters, or all.
    #[staticmethod]
    #[pyo3(signature = (service=None))]
    fn zero(service: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(Command::Zero(service.map(key).transpose()?).into())
    }

    /// `--set`: set timeouts (0 keeps a value).
    #[staticmethod]
    fn set_timeouts(timeouts: PyRef<'_, PyTimeouts>) -> Self {
        Command::SetTimeouts(timeouts.inner).into()
    }

    /// `--start-daemon`.
    #[staticmethod]
    fn start_daemon(daemon: PyRef<'_, PyDaemon>) -> Self {
        Command::StartDaemon(daemon.inner.clone()).into()
    }

    /// `--stop-daemon`: `'master'` or `'backup'`.
    #[staticmethod]
    fn stop_daemon(role: &str) -> PyResult<Self> {
        Ok(Command::StopDaemon(role_arg(role)?).into())
    }

    /// One ipvsadm rule line as a command; raises `ParseError`.
    #[staticmethod]
    fn parse(py: Python<'_>, line: &str) -> PyResult<Self> {
        match rules::parse_line(1, line, &rules::NumericOnly) {
            Ok(Some(rule)) => Ok(rule.command.into()),
            Ok(None) => Err(errors::argument("an empty line or a comment is no command")),
            Err(e) => Err(errors::rules(py, e)),
        }
    }

    /// What the command does, as libipvs names it (`'add service'`).
    #[getter]
    fn operation(&self) -> String {
        self.inner.operation().to_string()
    }

    fn __hash__(&self) -> u64 {
        convert::hash_of(&command_rule(&self.inner, SaveOptions { lossless: true }))
    }

    fn __str__(&self) -> String {
        command_rule(&self.inner, SaveOptions::default())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let line = PyString::new(
            py,
            &command_rule(&self.inner, SaveOptions { lossless: true }),
        );
        Ok(format!("Command({})", line.repr()?))
    }
}

impl From<Command> for PyCommand {
    fn from(inner: Command) -> Self {
        PyCommand { inner }
    }
}

/// Reads an ipvsadm rule file into its commands, without applying them; raises `ParseError`.
#[pyfunction]
pub fn parse_rules(py: Python<'_>, text: &str) -> PyResult<Vec<PyCommand>> {
    rules::parse(text)
        .map(|rules| rules.into_iter().map(|r| r.command.into()).collect())
        .map_err(|e| errors::rules(py, e))
}
