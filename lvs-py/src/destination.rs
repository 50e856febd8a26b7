//! `lvs.Destination`: a real server (`lvs_core::Destination`).

use crate::convert::{self, NameOrNumber, NameOut};
use crate::errors;
use crate::service::name_or_number;
use crate::value::value_methods;
use lvs_core::rules::addr_port;
use lvs_core::{Destination, Forward, Tunnel, TunnelChecksum, TunnelType};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

/// A real server of a virtual service: its address and port, how packets reach it, its weight
/// and connection thresholds.
#[pyclass(frozen, eq, hash, name = "Destination", module = "lvs")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PyDestination {
    pub inner: Destination,
}

value_methods!(PyDestination, "destination");

fn forward_name(f: &Forward) -> NameOut {
    name_or_number(f.name(), f.kernel_value())
}

/// Everything a `Destination` is made of, as the constructor takes it.
struct DestinationArgs {
    address: IpAddr,
    port: u16,
    forward: NameOrNumber,
    weight: i32,
    upper_threshold: u32,
    lower_threshold: u32,
    tun_type: Option<NameOrNumber>,
    tun_port: u16,
    tun_csum: Option<NameOrNumber>,
}

impl DestinationArgs {
    fn build(self) -> PyResult<Destination> {
        let kind = match self.tun_type {
            None => TunnelType::default(),
            Some(NameOrNumber::Name(n)) => n.parse().map_err(errors::unknown_name)?,
            Some(NameOrNumber::Number(n)) => TunnelType::from_kernel(
                u8::try_from(n).map_err(|_| errors::argument("tunnel type out of range"))?,
            ),
        };
        let checksum = match self.tun_csum {
            None => TunnelChecksum::default(),
            Some(NameOrNumber::Name(n)) => n.parse().map_err(errors::unknown_name)?,
            Some(NameOrNumber::Number(n)) => TunnelChecksum::from_kernel(
                u16::try_from(n).map_err(|_| errors::argument("tunnel flags out of range"))?,
            ),
        };
        let tunnel = Tunnel {
            kind,
            port: self.tun_port,
            checksum,
        };
        let forward = match self.forward {
            NameOrNumber::Name(n) => {
                let named: Forward = n.parse().map_err(errors::unknown_name)?;
                Forward::from_kernel(named.kernel_value(), tunnel)
            }
            NameOrNumber::Number(v) => Forward::from_kernel(v, tunnel),
        };
        if forward.tunnel().is_none() && tunnel != Tunnel::default() {
            return Err(errors::argument(
                "tun_type, tun_port and tun_csum are for forward='tunnel'",
            ));
        }
        Ok(Destination {
            addr: SocketAddr::new(self.address, self.port),
            forward,
            weight: self.weight,
            upper_threshold: self.upper_threshold,
            lower_threshold: self.lower_threshold,
        })
    }
}

impl PyDestination {
    fn args(&self) -> DestinationArgs {
        let d = &self.inner;
        let t = d.forward.tunnel().copied();
        DestinationArgs {
            address: d.addr.ip(),
            port: d.addr.port(),
            forward: NameOrNumber::Number(d.forward.kernel_value()),
            weight: d.weight,
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
            tun_type: t.map(|t| NameOrNumber::Number(t.kind.kernel_value().into())),
            tun_port: t.map_or(0, |t| t.port),
            tun_csum: t.map(|t| NameOrNumber::Number(t.checksum.kernel_value().into())),
        }
    }
}

#[pymethods]
impl PyDestination {
    #[new]
    #[pyo3(signature = (address, port, *, forward=NameOrNumber::Name("route".into()), weight=1,
        upper_threshold=0, lower_threshold=0, tun_type=None, tun_port=0, tun_csum=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        address: IpAddr,
        port: u16,
        forward: NameOrNumber,
        weight: i32,
        upper_threshold: u32,
        lower_threshold: u32,
        tun_type: Option<NameOrNumber>,
        tun_port: u16,
        tun_csum: Option<NameOrNumber>,
    ) -> PyResult<Self> {
        let inner = DestinationArgs {
            address,
            port,
            forward,
            weight,
            upper_threshold,
            lower_threshold,
            tun_type,
            tun_port,
            tun_csum,
        }
        .build()?;
        Ok(PyDestination { inner })
    }

    /// A copy with some fields changed (the constructor's keywords).
    #[pyo3(signature = (**changes))]
    fn replace(&self, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut a = self.args();
        if let Some(changes) = changes {
            for (k, v) in changes.iter() {
                let k: String = k.extract()?;
                match k.as_str() {
                    "address" => a.address = v.extract()?,
                    "port" => a.port = v.extract()?,
                    "forward" => a.forward = v.extract()?,
                    "weight" => a.weight = v.extract()?,
                    "upper_threshold" => a.upper_threshold = v.extract()?,
                    "lower_threshold" => a.lower_threshold = v.extract()?,
                    "tun_type" => a.tun_type = v.extract()?,
                    "tun_port" => a.tun_port = v.extract()?,
                    "tun_csum" => a.tun_csum = v.extract()?,
                    other => {
                        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                            "replace() got an unexpected keyword argument {other:?}"
                        )));
                    }
                }
            }
        }
        Ok(PyDestination { inner: a.build()? })
    }

    /// The real server's address.
    #[getter]
    fn address(&self) -> IpAddr {
        self.inner.addr.ip()
    }

    /// The real server's port.
    #[getter]
    fn port(&self) -> u16 {
        self.inner.addr.port()
    }

    /// `'masq'` (`-m`), `'route'` (`-g`), `'tunnel'` (`-i`), `'local'`, `'bypass'`, or the
    /// kernel's number for a method lvs has no name for.
    #[getter]
    fn forward(&self) -> NameOut {
        forward_name(&self.inner.forward)
    }

    /// The weight (0 drains the server).
    #[getter]
    fn weight(&self) -> i32 {
        self.inner.weight
    }

    /// `-x`: no new connections above this many (0: no limit).
    #[getter]
    fn upper_threshold(&self) -> u32 {
        self.inner.upper_threshold
    }

    /// `-y`: new connections again below this many.
    #[getter]
    fn lower_threshold(&self) -> u32 {
        self.inner.lower_threshold
    }

    /// `'ipip'`, `'gue'` or `'gre'` for a tunnel; `None` otherwise.
    #[getter]
    fn tun_type(&self) -> Option<NameOut> {
        self.inner
            .forward
            .tunnel()
            .map(|t| name_or_number(t.kind.name(), t.kind.kernel_value().into()))
    }

    /// The gue port of a tunnel (0 otherwise).
    #[getter]
    fn tun_port(&self) -> u16 {
        self.inner.forward.tunnel().map_or(0, |t| t.port)
    }

    /// `'nocsum'`, `'csum'` or `'remcsum'` for a tunnel; `None` otherwise.
    #[getter]
    fn tun_csum(&self) -> Option<NameOut> {
        self.inner
            .forward
            .tunnel()
            .map(|t| name_or_number(t.checksum.name(), t.checksum.kernel_value().into()))
    }

    pub fn __repr__(&self) -> String {
        let d = &self.inner;
        let forward = match forward_name(&d.forward) {
            NameOut::Name(n) => convert::py_repr(&n),
            NameOut::Number(v) => v.to_string(),
        };
        let mut out = format!(
            "Destination({}, forward={forward}, weight={}",
            addr_port(&d.addr),
            d.weight
        );
        if let Some(t) = d.forward.tunnel() {
            let _ = write!(out, ", tun_type={}", convert::py_repr(&t.kind.to_string()));
            if t.port != 0 {
                let _ = write!(out, ", tun_port={}", t.port);
            }
            if t.checksum != TunnelChecksum::None {
                let csum = t
                    .checksum
                    .name()
                    .map(convert::py_repr)
                    .unwrap_or_else(|| t.checksum.kernel_value().to_string());
                let _ = write!(out, ", tun_csum={csum}");
            }
        }
        if d.upper_threshold != 0 {
            let _ = write!(out, ", upper_threshold={}", d.upper_threshold);
        }
        if d.lower_threshold != 0 {
            let _ = write!(out, ", lower_threshold={}", d.lower_threshold);
        }
        out.push(')');
        out
    }
}

/// Extracts a `Destination` argument.
pub fn destination_arg(obj: &Bound<'_, PyAny>) -> PyResult<Destination> {
    Ok(obj.cast::<PyDestination>()?.get().inner)
}
