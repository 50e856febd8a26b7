//! What the kernel reports beyond configuration: `Stats`, `ServiceState`, `DestinationState`;
//! and what a read gives, configuration and state together: `ServiceEntry`,
//! `DestinationEntry`, `VirtualServiceEntry`.

use crate::destination::PyDestination;
use crate::service::PyService;
use crate::value::value_methods;
use lvs_core::{
    DestinationEntry, DestinationState, ServiceEntry, ServiceState, Stats, VirtualServiceEntry,
};
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyTuple};

/// The ten IPVS counters: totals since creation or the last zero, and estimated rates.
#[pyclass(frozen, eq, hash, name = "Stats", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyStats {
    pub inner: Stats,
}

value_methods!(PyStats, "stats");

#[pymethods]
impl PyStats {
    #[new]
    #[pyo3(signature = (*, conns=0, inpkts=0, outpkts=0, inbytes=0, outbytes=0, cps=0,
        inpps=0, outpps=0, inbps=0, outbps=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        conns: u64,
        inpkts: u64,
        outpkts: u64,
        inbytes: u64,
        outbytes: u64,
        cps: u64,
        inpps: u64,
        outpps: u64,
        inbps: u64,
        outbps: u64,
    ) -> Self {
        PyStats {
            inner: Stats {
                conns,
                inpkts,
                outpkts,
                inbytes,
                outbytes,
                cps,
                inpps,
                outpps,
                inbps,
                outbps,
            },
        }
    }

    /// Connections scheduled.
    #[getter]
    fn conns(&self) -> u64 {
        self.inner.conns
    }
    /// Packets in (client to server).
    #[getter]
    fn inpkts(&self) -> u64 {
        self.inner.inpkts
    }
    /// Packets out (server to client).
    #[getter]
    fn outpkts(&self) -> u64 {
        self.inner.outpkts
    }
    /// Bytes in.
    #[getter]
    fn inbytes(&self) -> u64 {
        self.inner.inbytes
    }
    /// Bytes out.
    #[getter]
    fn outbytes(&self) -> u64 {
        self.inner.outbytes
    }
    /// Connections per second.
    #[getter]
    fn cps(&self) -> u64 {
        self.inner.cps
    }
    /// Packets in per second.
    #[getter]
    fn inpps(&self) -> u64 {
        self.inner.inpps
    }
    /// Packets out per second.
    #[getter]
    fn outpps(&self) -> u64 {
        self.inner.outpps
    }
    /// Bytes in per second.
    #[getter]
    fn inbps(&self) -> u64 {
        self.inner.inbps
    }
    /// Bytes out per second.
    #[getter]
    fn outbps(&self) -> u64 {
        self.inner.outbps
    }

    pub fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Stats(conns={}, inpkts={}, outpkts={}, inbytes={}, outbytes={}, cps={}, inpps={}, \
             outpps={}, inbps={}, outbps={})",
            s.conns,
            s.inpkts,
            s.outpkts,
            s.inbytes,
            s.outbytes,
            s.cps,
            s.inpps,
            s.outpps,
            s.inbps,
            s.outbps
        )
    }
}

/// What the kernel reports about a service: its counters and internal flag bits.
#[pyclass(frozen, eq, hash, name = "ServiceState", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyServiceState {
    pub inner: ServiceState,
}

value_methods!(PyServiceState, "service state");

#[pymethods]
impl PyServiceState {
    #[new]
    #[pyo3(signature = (*, stats=None, internal_flags=0))]
    fn new(stats: Option<PyRef<'_, PyStats>>, internal_flags: u32) -> Self {
        PyServiceState {
            inner: ServiceState {
                stats: stats.map(|s| s.inner).unwrap_or_default(),
                internal_flags,
            },
        }
    }

    /// The service's counters.
    #[getter]
    fn stats(&self) -> PyStats {
        PyStats {
            inner: self.inner.stats,
        }
    }

    /// Flag bits the kernel keeps for itself (`IP_VS_SVC_F_HASHED`).
    #[getter]
    fn internal_flags(&self) -> u32 {
        self.inner.internal_flags
    }

    pub fn __repr__(&self) -> String {
        format!(
            "ServiceState(stats={}, internal_flags={:#x})",
            self.stats().__repr__(),
            self.inner.internal_flags
        )
    }
}

/// What the kernel reports about a real server: connection counts and counters.
#[pyclass(frozen, eq, hash, name = "DestinationState", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyDestinationState {
    pub inner: DestinationState,
}

value_methods!(PyDestinationState, "destination state");

#[pymethods]
impl PyDestinationState {
    #[new]
    #[pyo3(signature = (*, active_conns=0, inactive_conns=0, persistent_conns=0, stats=None))]
    fn new(
        active_conns: u32,
        inactive_conns: u32,
        persistent_conns: u32,
        stats: Option<PyRef<'_, PyStats>>,
    ) -> Self {
        PyDestinationState {
            inner: DestinationState {
                active_conns,
                inactive_conns,
                persistent_conns,
                stats: stats.map(|s| s.inner).unwrap_or_default(),
            },
        }
    }

    /// Established connections (`ActiveConn`).
    #[getter]
    fn active_conns(&self) -> u32 {
        self.inner.active_conns
    }

    /// Other connections (`InActConn`).
    #[getter]
    fn inactive_conns(&self) -> u32 {
        self.inner.inactive_conns
    }

    /// Persistence templates pointing at this server (`PersistConn`).
    #[getter]
    fn persistent_conns(&self) -> u32 {
        self.inner.persistent_conns
    }

    /// The server's counters.
    #[getter]
    fn stats(&self) -> PyStats {
        PyStats {
            inner: self.inner.stats,
        }
    }

    pub fn __repr__(&self) -> String {
        format!(
            "DestinationState(active_conns={}, inactive_conns={}, persistent_conns={}, stats={})",
            self.inner.active_conns,
            self.inner.inactive_conns,
            self.inner.persistent_conns,
            self.stats().__repr__()
        )
    }
}

/// A service as `Ipvs.services()` and `Ipvs.service()` read it: `.service`, its configuration,
/// and `.state`, what the kernel reports about it. It unpacks as that pair too:
/// `for service, state in ipvs.services()`.
#[pyclass(frozen, eq, hash, name = "ServiceEntry", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyServiceEntry {
    pub inner: ServiceEntry,
}

value_methods!(PyServiceEntry, "service entry");

#[pymethods]
impl PyServiceEntry {
    #[new]
    fn new(service: PyRef<'_, PyService>, state: PyRef<'_, PyServiceState>) -> Self {
        PyServiceEntry {
            inner: ServiceEntry {
                service: service.inner.clone(),
                state: state.inner,
            },
        }
    }

    /// The configuration: what identifies the service and how it schedules.
    #[getter]
    fn service(&self) -> PyService {
        PyService {
            inner: self.inner.service.clone(),
        }
    }

    /// Its counters and the kernel's own flags.
    #[getter]
    fn state(&self) -> PyServiceState {
        PyServiceState {
            inner: self.inner.state,
        }
    }

    /// `service, state = entry`.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyTuple::new(
            py,
            [
                Bound::new(py, self.service())?.into_any(),
                Bound::new(py, self.state())?.into_any(),
            ],
        )?
        .try_iter()
    }

    fn __repr__(&self) -> String {
        format!(
            "ServiceEntry(service={}, state={})",
            self.service().__repr__(),
            self.state().__repr__()
        )
    }
}

/// A real server as `Ipvs.destinations()` reads it: `.destination`, its configuration, and
/// `.state`, what the kernel reports about it. It unpacks as that pair too:
/// `for destination, state in ipvs.destinations(service)`.
#[pyclass(frozen, eq, hash, name = "DestinationEntry", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyDestinationEntry {
    pub inner: DestinationEntry,
}

value_methods!(PyDestinationEntry, "destination entry");

#[pymethods]
impl PyDestinationEntry {
    #[new]
    fn new(destination: PyRef<'_, PyDestination>, state: PyRef<'_, PyDestinationState>) -> Self {
        PyDestinationEntry {
            inner: DestinationEntry {
                destination: destination.inner,
                state: state.inner,
            },
        }
    }

    /// The configuration: address, forwarding method, weight, thresholds.
    #[getter]
    fn destination(&self) -> PyDestination {
        PyDestination {
            inner: self.inner.destination,
        }
    }

    /// Its connection counts and counters.
    #[getter]
    fn state(&self) -> PyDestinationState {
        PyDestinationState {
            inner: self.inner.state,
        }
    }

    /// `destination, state = entry`.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyTuple::new(
            py,
            [
                Bound::new(py, self.destination())?.into_any(),
                Bound::new(py, self.state())?.into_any(),
            ],
        )?
        .try_iter()
    }

    fn __repr__(&self) -> String {
        format!(
            "DestinationEntry(destination={}, state={})",
            self.destination().__repr__(),
            self.state().__repr__()
        )
    }
}

/// A service with its real servers as `Snapshot.entries()` reads them: `.service` and
/// `.state`, as a `ServiceEntry` has them, and `.destinations`, its real servers'
/// `DestinationEntry`s in the kernel's order. It unpacks as that triple too:
/// `for service, state, destinations in snapshot.entries()`. Equality compares the real
/// servers in that order (two reads of an unchanged table give the same order). The
/// configuration alone is a `VirtualService`, whose equality ignores order.
#[pyclass(frozen, eq, hash, name = "VirtualServiceEntry", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyVirtualServiceEntry {
    pub inner: VirtualServiceEntry,
}

value_methods!(PyVirtualServiceEntry, "virtual service entry");

#[pymethods]
impl PyVirtualServiceEntry {
    #[new]
    #[pyo3(signature = (service, state, destinations=None))]
    fn new(
        service: PyRef<'_, PyService>,
        state: PyRef<'_, PyServiceState>,
        destinations: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut entries = Vec::new();
        if let Some(items) = destinations {
            for item in items.try_iter()? {
                entries.push(item?.extract::<PyRef<'_, PyDestinationEntry>>()?.inner);
            }
        }
        Ok(PyVirtualServiceEntry {
            inner: VirtualServiceEntry {
                service: service.inner.clone(),
                state: state.inner,
                destinations: entries,
            },
        })
    }

    /// The configuration: what identifies the service and how it schedules.
    #[getter]
    fn service(&self) -> PyService {
        PyService {
            inner: self.inner.service.clone(),
        }
    }

    /// Its counters and the kernel's own flags.
    #[getter]
    fn state(&self) -> PyServiceState {
        PyServiceState {
            inner: self.inner.state,
        }
    }

    /// Its real servers, each with its state, in the kernel's order.
    #[getter]
    fn destinations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            self.inner
                .destinations
                .iter()
                .map(|d| PyDestinationEntry { inner: *d }),
        )
    }

    /// `service, state, destinations = entry`.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyTuple::new(
            py,
            [
                Bound::new(py, self.service())?.into_any(),
                Bound::new(py, self.state())?.into_any(),
                self.destinations(py)?.into_any(),
            ],
        )?
        .try_iter()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "VirtualServiceEntry(service={}, state={}, destinations={})",
            self.service().__repr__(),
            self.state().__repr__(),
            self.destinations(py)?.repr()?
        ))
    }
}
