//! `Timeouts`, `Daemon`, `Info`, `Features` and `Connection`.

use crate::convert::{self, NameOut};
use crate::errors;
use crate::service::name_or_number;
use crate::value::{DictForm, value_methods};
use lvs_core::daemon::DEFAULT_MCAST_INTERFACE;
use lvs_core::rules::addr_port;
use lvs_core::{DaemonRole, Info, SyncDaemon, Timeouts, Version};
use lvs_netlink::{Connection, Features};
use pyo3::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::net::IpAddr;

/// Idle timeouts in seconds (`ipvsadm --set tcp tcpfin udp`); in a change, 0 keeps a value.
#[pyclass(frozen, eq, hash, name = "Timeouts", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyTimeouts {
    pub inner: Timeouts,
}

value_methods!(PyTimeouts, "timeouts");

#[pymethods]
impl PyTimeouts {
    #[new]
    #[pyo3(signature = (tcp=0, tcp_fin=0, udp=0))]
    fn new(tcp: u32, tcp_fin: u32, udp: u32) -> Self {
        PyTimeouts {
            inner: Timeouts { tcp, tcp_fin, udp },
        }
    }

    /// Established TCP connections.
    #[getter]
    fn tcp(&self) -> u32 {
        self.inner.tcp
    }

    /// TCP connections after a FIN.
    #[getter]
    fn tcp_fin(&self) -> u32 {
        self.inner.tcp_fin
    }

    /// UDP.
    #[getter]
    fn udp(&self) -> u32 {
        self.inner.udp
    }

    pub fn __repr__(&self) -> String {
        let t = &self.inner;
        format!(
            "Timeouts(tcp={}, tcp_fin={}, udp={})",
            t.tcp, t.tcp_fin, t.udp
        )
    }
}

/// `'master'` or `'backup'` as a role.
pub fn role_arg(role: &str) -> PyResult<DaemonRole> {
    role.parse().map_err(errors::unknown_name)
}

/// A connection-synchronisation daemon (`ipvsadm --start-daemon`); values left `None` take
/// the kernel's defaults.
#[pyclass(frozen, eq, hash, name = "Daemon", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyDaemon {
    pub inner: SyncDaemon,
}

value_methods!(PyDaemon, "daemon");

#[pymethods]
impl PyDaemon {
    #[new]
    #[pyo3(signature = (role, interface=DEFAULT_MCAST_INTERFACE.to_owned(), syncid=0, *,
        maxlen=None, group=None, port=None, ttl=None))]
    fn new(
        role: &str,
        interface: String,
        syncid: u8,
        maxlen: Option<u16>,
        group: Option<IpAddr>,
        port: Option<u16>,
        ttl: Option<u8>,
    ) -> PyResult<Self> {
        Ok(PyDaemon {
            inner: SyncDaemon {
                role: role_arg(role)?,
                interface,
                syncid,
                maxlen,
                group,
                port,
                ttl,
            },
        })
    }

    /// `'master'` or `'backup'`.
    #[getter]
    fn role(&self) -> String {
        self.inner.role.to_string()
    }
    /// The multicast interface.
    #[getter]
    fn interface(&self) -> String {
        self.inner.interface.clone()
    }
    /// The sync id.
    #[getter]
    fn syncid(&self) -> u8 {
        self.inner.syncid
    }
    /// Largest sync message payload.
    #[getter]
    fn maxlen(&self) -> Option<u16> {
        self.inner.maxlen
    }
    /// Multicast group.
    #[getter]
    fn group(&self) -> Option<IpAddr> {
        self.inner.group
    }
    /// UDP port.
    #[getter]
    fn port(&self) -> Option<u16> {
        self.inner.port
    }
    /// Multicast TTL.
    #[getter]
    fn ttl(&self) -> Option<u8> {
        self.inner.ttl
    }

    /// Checks the daemon against ipvsadm's rules; raises `InvalidArgument`.
    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.validate().map_err(|e| errors::invalid(py, e))
    }

    pub fn __repr__(&self) -> String {
        let d = &self.inner;
        let mut out = format!(
            "Daemon({}, interface={}, syncid={}",
            convert::py_repr(&d.role.to_string()),
            convert::py_repr(&d.interface),
            d.syncid
        );
        if let Some(v) = d.maxlen {
            let _ = write!(out, ", maxlen={v}");
        }
        if let Some(v) = d.group {
            let _ = write!(out, ", group={}", convert::py_repr(&v.to_string()));
        }
        if let Some(v) = d.port {
            let _ = write!(out, ", port={v}");
        }
        if let Some(v) = d.ttl {
            let _ = write!(out, ", ttl={v}");
        }
        out.push(')');
        out
    }
}

/// The IPVS version and connection table size (the first line of `ipvsadm -L`).
#[pyclass(frozen, eq, hash, name = "Info", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyInfo {
    pub inner: Info,
}

value_methods!(PyInfo, "info");

/// `"1.2.1"` as a version.
fn version_arg(text: &str) -> PyResult<Version> {
    text.parse().map_err(errors::unknown_name)
}

#[pymethods]
impl PyInfo {
    #[new]
    #[pyo3(signature = (*, version, conn_table_size))]
    fn new(version: &str, conn_table_size: u32) -> PyResult<Self> {
        Ok(PyInfo {
            inner: Info {
                version: version_arg(version)?,
                conn_table_size,
            },
        })
    }

    /// The IPVS version, `'1.2.1'`.
    #[getter]
    fn version(&self) -> String {
        self.inner.version.to_string()
    }

    /// The version as `(major, minor, patch)`.
    #[getter]
    fn version_info(&self) -> (u32, u32, u32) {
        let v = self.inner.version;
        (v.major(), v.minor(), v.patch())
    }

    /// Buckets in the connection table.
    #[getter]
    fn conn_table_size(&self) -> u32 {
        self.inner.conn_table_size
    }

    pub fn __repr__(&self) -> String {
        format!(
            "Info(version={}, conn_table_size={})",
            convert::py_repr(&self.inner.version.to_string()),
            self.inner.conn_table_size
        )
    }
}

/// What the running kernel's IPVS supports.
#[pyclass(frozen, eq, name = "Features", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyFeatures {
    pub inner: Features,
}

value_methods!(PyFeatures, "features", DictForm);

/// `Features` as plain data (lvs-netlink's type has no serde form: the binding's own).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeaturesData {
    ipvs_version: Version,
    kernel_release: String,
    addr_family: bool,
    stats64: bool,
    tunnel_type: bool,
    tunnel_flags: bool,
}

impl From<FeaturesData> for Features {
    fn from(d: FeaturesData) -> Self {
        Features {
            ipvs_version: d.ipvs_version,
            kernel_release: d.kernel_release,
            addr_family: d.addr_family,
            stats64: d.stats64,
            tunnel_type: d.tunnel_type,
            tunnel_flags: d.tunnel_flags,
        }
    }
}

impl From<&Features> for FeaturesData {
    fn from(f: &Features) -> Self {
        FeaturesData {
            ipvs_version: f.ipvs_version,
            kernel_release: f.kernel_release.clone(),
            addr_family: f.addr_family,
            stats64: f.stats64,
            tunnel_type: f.tunnel_type,
            tunnel_flags: f.tunnel_flags,
        }
    }
}

/// Through `FeaturesData`, the serde form of the binding's own.
impl DictForm for PyFeatures {
    fn write_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        convert::to_dict(py, &FeaturesData::from(&self.inner))
    }

    fn read_dict(data: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        Ok(PyFeatures {
            inner: convert::from_dict::<FeaturesData>(data, what)?.into(),
        })
    }
}

#[pymethods]
impl PyFeatures {
    /// The IPVS version, `'1.2.1'`.
    #[getter]
    fn ipvs_version(&self) -> String {
        self.inner.ipvs_version.to_string()
    }
    /// The kernel release (`uname -r`).
    #[getter]
    fn kernel_release(&self) -> String {
        self.inner.kernel_release.clone()
    }
    /// Real servers of another family than their service (Linux 3.18).
    #[getter]
    fn addr_family(&self) -> bool {
        self.inner.addr_family
    }
    /// 64-bit counters (Linux 4.1).
    #[getter]
    fn stats64(&self) -> bool {
        self.inner.stats64
    }
    /// gue tunnels (Linux 5.2).
    #[getter]
    fn tunnel_type(&self) -> bool {
        self.inner.tunnel_type
    }
    /// Tunnel checksums and gre (Linux 5.3).
    #[getter]
    fn tunnel_flags(&self) -> bool {
        self.inner.tunnel_flags
    }

    fn __hash__(&self) -> u64 {
        let f = &self.inner;
        convert::hash_of(&(
            f.ipvs_version,
            &f.kernel_release,
            f.addr_family,
            f.stats64,
            f.tunnel_type,
            f.tunnel_flags,
        ))
    }

    pub fn __repr__(&self) -> String {
        let f = &self.inner;
        format!(
            "Features(ipvs_version={}, kernel_release={}, addr_family={}, stats64={}, \
             tunnel_type={}, tunnel_flags={})",
            convert::py_repr(&f.ipvs_version.to_string()),
            convert::py_repr(&f.kernel_release),
            py_bool(f.addr_family),
            py_bool(f.stats64),
            py_bool(f.tunnel_type),
            py_bool(f.tunnel_flags)
        )
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// One entry of the connection table (`/proc/net/ip_vs_conn`).
#[pyclass(frozen, eq, name = "Connection", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyConnection {
    pub inner: Connection,
}

value_methods!(PyConnection, "connection");

#[pymethods]
impl PyConnection {
    /// `'tcp'`, `'udp'`, `'sctp'`, or the protocol number.
    #[getter]
    fn protocol(&self) -> NameOut {
        let p = self.inner.protocol;
        name_or_number(p.name(), p.number().into())
    }
    /// The client's address.
    #[getter]
    fn client_address(&self) -> IpAddr {
        self.inner.client.ip()
    }
    /// The client's port.
    #[getter]
    fn client_port(&self) -> u16 {
        self.inner.client.port()
    }
    /// The virtual address the client used.
    #[getter]
    fn virtual_address(&self) -> IpAddr {
        self.inner.virtual_addr.ip()
    }
    /// The virtual port.
    #[getter]
    fn virtual_port(&self) -> u16 {
        self.inner.virtual_addr.port()
    }
    /// The real server's address.
    #[getter]
    fn destination_address(&self) -> IpAddr {
        self.inner.destination.ip()
    }
    /// The real server's port.
    #[getter]
    fn destination_port(&self) -> u16 {
        self.inner.destination.port()
    }
    /// The protocol state (`'ESTABLISHED'`, `'SYN_RECV'`, `'NONE'` for templates, ...).
    #[getter]
    fn state(&self) -> String {
        self.inner.state.clone()
    }
    /// Seconds until the entry expires.
    #[getter]
    fn expires(&self) -> u64 {
        self.inner.expires
    }
    /// The persistence engine's name, if any.
    #[getter]
    fn pe_name(&self) -> Option<String> {
        self.inner.pe.as_ref().map(|(n, _)| n.clone())
    }
    /// The persistence engine's data, if any.
    #[getter]
    fn pe_data(&self) -> Option<String> {
        self.inner.pe.as_ref().map(|(_, d)| d.clone())
    }

    fn __hash__(&self) -> u64 {
        let c = &self.inner;
        convert::hash_of(&(
            c.protocol,
            c.client,
            c.virtual_addr,
            c.destination,
            &c.state,
            c.expires,
            &c.pe,
        ))
    }

    pub fn __repr__(&self) -> String {
        let c = &self.inner;
        format!(
            "Connection({} {} -> {} -> {}, state={}, expires={})",
            c.protocol,
            addr_port(&c.client),
            addr_port(&c.virtual_addr),
            addr_port(&c.destination),
            convert::py_repr(&c.state),
            c.expires
        )
    }
}
