//! Small conversions shared by the classes: hashing, JSON through serde, and the argument
//! shapes Python callers pass (a name or a number, an address or a prefix).

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};

/// A stable hash of a value (SipHash with fixed keys).
pub fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// The value as plain Python data (dicts, lists, strings, numbers), through its serde form.
pub fn to_dict<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| errors::argument(format!("cannot serialise: {e}")))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// A value from plain Python data (the shape `to_dict` gives). Address objects are taken as
/// their strings.
/// Unknown keys, missing keys and values of the wrong type are refused with the path of the
/// value at fault (`lvs.InvalidArgument`, with `.path`).
pub fn from_dict<T: DeserializeOwned>(data: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let text = dict_json(data)?;
    lvs_core::document::from_json(&text).map_err(|e| errors::document(data.py(), what, &e))
}

/// The JSON text of plain Python data; address objects are taken as their strings.
pub fn dict_json(data: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = data.py();
    let kwargs = PyDict::new(py);
    kwargs.set_item("default", py.get_type::<pyo3::types::PyString>())?;
    py.import("json")?
        .call_method("dumps", (data,), Some(&kwargs))?
        .extract()
}

/// A name or a kernel number (`"tcp"` or `6`, `"masq"` or `0`).
#[derive(Debug, Clone, FromPyObject)]
pub enum NameOrNumber {
    /// A name.
    Name(String),
    /// A number.
    Number(u32),
}

/// A name or a kernel number, going back to Python.
#[derive(Debug, Clone, IntoPyObject)]
pub enum NameOut {
    /// A known value, by name.
    Name(String),
    /// A value lvs has no name for.
    Number(u32),
}

/// A persistence netmask: an IPv4 mask or an IPv6 prefix length.
#[derive(Debug, Clone, FromPyObject)]
pub enum NetmaskArg {
    /// An IPv6 prefix length.
    Prefix(u8),
    /// An IPv4 mask, as an `IPv4Address` or a string.
    Mask(IpAddr),
}

/// A persistence netmask going back to Python.
#[derive(Debug, Clone, IntoPyObject)]
pub enum NetmaskOut {
    /// An IPv4 mask.
    Mask(Ipv4Addr),
    /// An IPv6 prefix length.
    Prefix(u8),
}

/// One string or several (`"sh-fallback,sh-port"` or `["sh-fallback", "sh-port"]`).
#[derive(Debug, Clone, FromPyObject)]
pub enum Names {
    /// Comma-separated names.
    One(String),
    /// A sequence of names.
    Many(Vec<String>),
}

impl Names {
    /// The names, split on commas.
    pub fn into_vec(self) -> Vec<String> {
        let all = match self {
            Names::One(s) => vec![s],
            Names::Many(v) => v,
        };
        all.iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Python's `repr` of a string (`'rr'`).
pub fn py_repr(s: &str) -> String {
    Python::attach(|py| {
        pyo3::types::PyString::new(py, s)
            .repr()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| format!("'{s}'"))
    })
}
