//! `lvs.Service`: a virtual service (`lvs_core::Service`).

use crate::convert::{self, NameOrNumber, NameOut, Names, NetmaskArg, NetmaskOut};
use crate::errors;
use crate::value::value_methods;
use lvs_core::rules::addr_port;
use lvs_core::rules::shown;
use lvs_core::{
    Family, Netmask, Persistence, Protocol, SchedFlag, Scheduler, Service, ServiceFlags, ServiceKey,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyString, PyType};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

/// A virtual service: what identifies it (protocol, address and port, or a firewall mark) and
/// how it is configured.
#[pyclass(frozen, eq, hash, name = "Service", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyService {
    pub inner: Service,
}

value_methods!(PyService, "service");

fn protocol_arg(p: NameOrNumber) -> PyResult<Protocol> {
    match p {
        NameOrNumber::Number(n) => u16::try_from(n)
            .map(Protocol::from_number)
            .map_err(|_| errors::argument(format!("protocol number {n} is out of range"))),
        NameOrNumber::Name(name) => name
            .parse()
            .map_err(|e| errors::argument(format!("{e}, or a protocol number"))),
    }
}

/// The `protocol` argument: a name or an IP protocol number. Anything else is
/// `lvs.InvalidArgument` saying what is taken (pyo3's own message would name Rust types).
pub struct ProtocolArg(pub NameOrNumber);

impl<'a, 'py> FromPyObject<'a, 'py> for ProtocolArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        const TAKEN: &str = "a name ('tcp', 'udp', 'sctp') or an IP protocol number (0 to 65535)";
        if obj.is_instance_of::<PyString>() {
            return Ok(ProtocolArg(NameOrNumber::Name(obj.extract()?)));
        }
        if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
            return match obj.extract::<u16>() {
                Ok(n) => Ok(ProtocolArg(NameOrNumber::Number(n.into()))),
                Err(_) => {
                    let repr: String = obj.repr()?.extract()?;
                    Err(errors::argument(format!(
                        "protocol number {} is out of range: the protocol is {TAKEN}",
                        shown(&repr)
                    )))
                }
            };
        }
        Err(errors::argument(format!(
            "protocol must be {TAKEN}, not {}",
            obj.get_type().name()?
        )))
    }
}

fn family_arg(f: NameOrNumber) -> PyResult<Family> {
    let found = match &f {
        NameOrNumber::Name(n) => [Family::Inet, Family::Inet6]
            .into_iter()
            .find(|x| x.to_string() == *n),
        NameOrNumber::Number(n) => u16::try_from(*n).ok().and_then(Family::from_af),
    };
    found.ok_or_else(|| {
        errors::argument(format!(
            "unknown family {f:?}: 'inet', 'inet6', socket.AF_INET or socket.AF_INET6"
        ))
    })
}

/// Everything a `Service` is made of, as the constructor takes it.
pub struct ServiceArgs {
    pub address: Option<IpAddr>,
    pub port: u16,
    pub protocol: NameOrNumber,
    pub fwmark: Option<u32>,
    pub family: Option<NameOrNumber>,
    pub scheduler: String,
    pub persistence: Option<u32>,
    pub netmask: Option<NetmaskArg>,
    pub pe: Option<String>,
    pub flags: u32,
    pub ops: bool,
    pub sched_flags: Option<Names>,
}

impl ServiceArgs {
    fn build(self) -> PyResult<Service> {
        let key = match (self.fwmark, self.address) {
            (Some(_), Some(_)) => {
                return Err(errors::argument(
                    "a service has either an address or a fwmark, not both",
                ));
            }
            (Some(mark), None) => {
                let family = match self.family {
                    Some(f) => family_arg(f)?,
                    None => Family::Inet,
                };
                ServiceKey::fwmark(family, mark)
            }
            (None, Some(ip)) => {
                if let Some(f) = self.family {
                    if family_arg(f)? != Family::of(&ip) {
                        return Err(errors::argument(format!(
                            "family does not match the address {ip}"
                        )));
                    }
                }
                ServiceKey::Inet {
                    protocol: protocol_arg(self.protocol)?,
                    addr: SocketAddr::new(ip, self.port),
                }
            }
            (None, None) => {
                return Err(errors::argument("a service needs an address or a fwmark"));
            }
        };
        let scheduler = Scheduler::from(self.scheduler);
        let mut flags = ServiceFlags::from_bits_retain(self.flags);
        if self.ops {
            flags |= ServiceFlags::ONE_PACKET;
        }
        for name in self.sched_flags.map(Names::into_vec).unwrap_or_default() {
            let flag = SchedFlag::from_name(&name)
                .ok_or_else(|| errors::argument(format!("unknown scheduler flag {name:?}")))?;
            if !flag.allowed_with(&scheduler) {
                return Err(errors::argument(format!(
                    "scheduler flag {name:?} does not go with the {scheduler} scheduler"
                )));
            }
            flags |= flag.bits();
        }
        let persistence = match (self.persistence, self.netmask) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(errors::argument("a netmask needs persistence"));
            }
            (Some(timeout), None) => Some(Persistence::new(timeout, key.family())),
            (Some(timeout), Some(mask)) => Some(Persistence {
                timeout,
                netmask: match mask {
                    NetmaskArg::Prefix(p) => Netmask::V6(p),
                    NetmaskArg::Mask(IpAddr::V4(m)) => Netmask::V4(m),
                    NetmaskArg::Mask(IpAddr::V6(m)) => {
                        return Err(errors::argument(format!(
                            "an IPv6 netmask is a prefix length, not {m}"
                        )));
                    }
                },
            }),
        };
        Ok(Service {
            key,
            scheduler,
            flags,
            persistence,
            pe: self.pe,
        })
    }
}

impl PyService {
    /// The constructor's arguments that rebuild this service.
    fn args(&self) -> ServiceArgs {
        let s = &self.inner;
        let (address, port, protocol, fwmark, family) = match s.key {
            ServiceKey::Inet { protocol, addr } => (
                Some(addr.ip()),
                addr.port(),
                NameOrNumber::Number(protocol.number().into()),
                None,
                None,
            ),
            ServiceKey::FwMark { family, mark } => (
                None,
                0,
                NameOrNumber::Name("tcp".into()),
                Some(mark),
                Some(NameOrNumber::Number(family.af().into())),
            ),
        };
        let flags = s.flags.bits();
        ServiceArgs {
            address,
            port,
            protocol,
            fwmark,
            family,
            scheduler: s.scheduler.name().to_owned(),
            persistence: s.persistence.map(|p| p.timeout),
            netmask: s.persistence.map(|p| match p.netmask {
                Netmask::V4(m) => NetmaskArg::Mask(IpAddr::V4(m)),
                Netmask::V6(p) => NetmaskArg::Prefix(p),
            }),
            pe: s.pe.clone(),
            flags,
            ops: false,
            sched_flags: None,
        }
    }

    /// `tcp 10.0.0.13:80`, `fwmark 1`, `fwmark 1 inet6`.
    pub fn key_text(key: &ServiceKey) -> String {
        match key {
            ServiceKey::Inet { protocol, addr } => format!("{protocol} {}", addr_port(addr)),
            ServiceKey::FwMark {
                family: Family::Inet,
                mark,
            } => format!("fwmark {mark}"),
            ServiceKey::FwMark { family, mark } => format!("fwmark {mark} {family}"),
        }
    }
}

/// Extracts a `Service` argument.
pub fn service_arg(obj: &Bound<'_, PyAny>) -> PyResult<Service> {
    Ok(obj.cast::<PyService>()?.get().inner.clone())
}

#[pymethods]
impl PyService {
    #[new]
    #[pyo3(signature = (address=None, port=0, protocol=ProtocolArg(NameOrNumber::Name("tcp".into())), *,
        fwmark=None, family=None, scheduler="wlc".to_owned(), persistence=None, netmask=None,
        pe=None, flags=0, ops=false, sched_flags=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        address: Option<IpAddr>,
        port: u16,
        protocol: ProtocolArg,
        fwmark: Option<u32>,
        family: Option<NameOrNumber>,
        scheduler: String,
        persistence: Option<u32>,
        netmask: Option<NetmaskArg>,
        pe: Option<String>,
        flags: u32,
        ops: bool,
        sched_flags: Option<Names>,
    ) -> PyResult<Self> {
        let inner = ServiceArgs {
            address,
            port,
            protocol: protocol.0,
            fwmark,
            family,
            scheduler,
            persistence,
            netmask,
            pe,
            flags,
            ops,
            sched_flags,
        }
        .build()?;
        Ok(PyService { inner })
    }

    /// A copy with some fields changed (the constructor's keywords).
    #[pyo3(signature = (**changes))]
    fn replace(&self, changes: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<Self> {
        let mut a = self.args();
        if let Some(changes) = changes {
            for (k, v) in changes.iter() {
                let k: String = k.extract()?;
                match k.as_str() {
                    "address" => {
                        a.address = v.extract()?;
                        if a.address.is_some() {
                            a.fwmark = None;
                            a.family = None;
                        }
                    }
                    "port" => a.port = v.extract()?,
                    "protocol" => a.protocol = v.extract::<ProtocolArg>()?.0,
                    "fwmark" => {
                        a.fwmark = v.extract()?;
                        if a.fwmark.is_some() {
                            a.address = None;
                        }
                    }
                    "family" => a.family = v.extract()?,
                    "scheduler" => a.scheduler = v.extract()?,
                    "persistence" => {
                        a.persistence = v.extract()?;
                        if a.persistence.is_none() {
                            a.netmask = None;
                        }
                    }
                    "netmask" => a.netmask = v.extract()?,
                    "pe" => a.pe = v.extract()?,
                    "flags" => a.flags = v.extract()?,
                    "ops" => {
                        let ops: bool = v.extract()?;
                        a.flags = if ops {
                            a.flags | ServiceFlags::ONE_PACKET.bits()
                        } else {
                            a.flags & !ServiceFlags::ONE_PACKET.bits()
                        };
                    }
                    "sched_flags" => {
                        a.flags &= !ServiceFlags::SCHED_ALL.bits();
                        a.sched_flags = v.extract()?;
                    }
                    other => {
                        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                            "replace() got an unexpected keyword argument {other:?}"
                        )));
                    }
                }
            }
        }
        Ok(PyService { inner: a.build()? })
    }

    /// `'tcp'`, `'udp'`, `'sctp'`, or the number of another IP protocol (what the constructor
    /// takes back); `None` for a fwmark service.
    #[getter]
    fn protocol(&self) -> Option<NameOut> {
        match self.inner.key {
            ServiceKey::Inet { protocol, .. } => {
                Some(name_or_number(protocol.name(), protocol.number().into()))
            }
            ServiceKey::FwMark { .. } => None,
        }
    }

    /// The IP protocol number (6 for TCP; the kernel records TCP for fwmark services).
    #[getter]
    fn protocol_number(&self) -> u16 {
        self.inner.key.protocol().number()
    }

    /// The virtual address; `None` for a fwmark service.
    #[getter]
    fn address(&self) -> Option<IpAddr> {
        match self.inner.key {
            ServiceKey::Inet { addr, .. } => Some(addr.ip()),
            ServiceKey::FwMark { .. } => None,
        }
    }

    /// The virtual port (0: every port, or a fwmark service).
    #[getter]
    fn port(&self) -> u16 {
        self.inner.key.port()
    }

    /// The firewall mark of a fwmark service.
    #[getter]
    fn fwmark(&self) -> Option<u32> {
        match self.inner.key {
            ServiceKey::FwMark { mark, .. } => Some(mark),
            ServiceKey::Inet { .. } => None,
        }
    }

    /// `'inet'` or `'inet6'`.
    #[getter]
    fn family(&self) -> String {
        self.inner.key.family().to_string()
    }

    /// The scheduler's name (`'wlc'`, `'rr'`, ...).
    #[getter]
    fn scheduler(&self) -> String {
        self.inner.scheduler.name().to_owned()
    }

    /// The persistence timeout in seconds, or `None`.
    #[getter]
    fn persistence(&self) -> Option<u32> {
        self.inner.persistence.map(|p| p.timeout)
    }

    /// The persistence netmask: an `IPv4Address`, or a prefix length for IPv6; `None` without
    /// persistence.
    #[getter]
    fn netmask(&self) -> Option<NetmaskOut> {
        self.inner.persistence.map(|p| match p.netmask {
            Netmask::V4(m) => NetmaskOut::Mask(m),
            Netmask::V6(p) => NetmaskOut::Prefix(p),
        })
    }

    /// The persistence engine (`'sip'`), or `None`.
    #[getter]
    fn pe(&self) -> Option<String> {
        self.inner.pe.clone()
    }

    /// The configuration flag bits (`IP_VS_SVC_F_*` without PERSISTENT and HASHED), as an
    /// `lvs.ServiceFlags` (an `IntFlag`: an `int` that names its bits).
    #[getter]
    fn flags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        static SERVICE_FLAGS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
        SERVICE_FLAGS
            .import(py, "lvs._types", "ServiceFlags")?
            .call1((self.inner.flags.bits(),))
    }

    /// One-packet scheduling (`-o`).
    #[getter]
    fn ops(&self) -> bool {
        self.inner.flags.contains(ServiceFlags::ONE_PACKET)
    }

    /// The scheduler flags by ipvsadm's names (`('sh-fallback', 'sh-port')`).
    #[getter]
    fn sched_flags(&self) -> Vec<String> {
        let names = self
            .inner
            .flags
            .sched_flag_names_lossless(&self.inner.scheduler);
        names
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Checks the service against ipvsadm's and the kernel's rules; raises `InvalidArgument`.
    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        self.inner.validate().map_err(|e| errors::invalid(py, e))
    }

    pub fn __repr__(&self) -> String {
        let s = &self.inner;
        let mut out = format!(
            "Service({}, scheduler={}",
            Self::key_text(&s.key),
            convert::py_repr(s.scheduler.name())
        );
        if let Some(p) = &s.persistence {
            let _ = write!(out, ", persistence={}", p.timeout);
            match p.netmask {
                Netmask::V4(m) if !p.netmask.is_host() => {
                    let _ = write!(out, ", netmask={}", convert::py_repr(&m.to_string()));
                }
                Netmask::V6(plen) if !p.netmask.is_host() => {
                    let _ = write!(out, ", netmask={plen}");
                }
                _ => {}
            }
        }
        if let Some(pe) = &s.pe {
            let _ = write!(out, ", pe={}", convert::py_repr(pe));
        }
        if s.flags.contains(ServiceFlags::ONE_PACKET) {
            out.push_str(", ops=True");
        }
        let named = self.sched_flags();
        if !named.is_empty() {
            let _ = write!(out, ", sched_flags={}", convert::py_repr(&named.join(",")));
        }
        let other = s.flags.bits() & !(ServiceFlags::ONE_PACKET | ServiceFlags::SCHED_ALL).bits();
        if other != 0 {
            let _ = write!(out, ", flags={:#x}", s.flags.bits());
        }
        out.push(')');
        out
    }
}

/// A name for a kernel value, or the value.
pub fn name_or_number(name: Option<&str>, value: u32) -> NameOut {
    match name {
        Some(n) => NameOut::Name(n.to_owned()),
        None => NameOut::Number(value),
    }
}
