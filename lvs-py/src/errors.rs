//! lvs errors as the Python exceptions of `lvs._errors` (plain Python classes, so that they can
//! also be `LookupError`s or `ValueError`s).

use lvs_core::document::DocumentError;
use lvs_core::rules::RulesError;
use lvs_core::{InvalidRuleset, Refusal, RefusalKind, ValidationError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The exception class `lvs.<name>`.
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    let module = ERRORS.get_or_try_init(py, || py.import("lvs._errors").map(|m| m.unbind()))?;
    Ok(module.bind(py).getattr(name)?.cast_into::<PyType>()?)
}

/// An instance of `lvs.<name>(message, errno, operation)`, as a `PyErr`.
fn raise(py: Python<'_>, name: &str, message: String, refusal: Option<&Refusal>) -> PyErr {
    let made = class(py, name).and_then(|cls| match refusal {
        Some(r) => cls.call1((message, r.errno, r.op.to_string())),
        None => cls.call1((message,)),
    });
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// The class for a kernel refusal.
fn refusal_class(r: &Refusal) -> &'static str {
    match r.kind() {
        RefusalKind::ServiceExists => "ServiceExists",
        RefusalKind::NoSuchService => "NoSuchService",
        RefusalKind::DestinationExists => "DestinationExists",
        RefusalKind::NoSuchDestination => "NoSuchDestination",
        RefusalKind::SchedulerNotFound => "SchedulerNotFound",
        RefusalKind::DaemonExists => "DaemonExists",
        RefusalKind::NoSuchDaemon => "NoSuchDaemon",
        RefusalKind::PermissionDenied => "PermissionDenied",
        RefusalKind::OutOfRange | RefusalKind::InvalidArgument => "InvalidArgument",
        RefusalKind::NotSupported => "NotSupported",
        _ => "LvsError",
    }
}

/// A kernel-backend error as the matching `lvs` exception.
pub fn netlink(py: Python<'_>, e: &lvs_netlink::Error) -> PyErr {
    use lvs_netlink::Error as E;
    let message = e.to_string();
    match e {
        E::Kernel(r) => raise(py, refusal_class(r), message, Some(r)),
        E::NotAvailable { .. } => raise(py, "NotAvailable", message, None),
        E::NotSupported { .. } => raise(py, "NotSupported", message, None),
        E::Invalid(_) => raise(py, "InvalidArgument", message, None),
        E::Timeout { .. } => raise(py, "Timeout", message, None),
        E::InvalidRuleset(invalid) => with_path(
            py,
            raise(py, "InvalidArgument", message, None),
            &invalid.at.to_string(),
        ),
        _ => raise(py, "NetlinkError", message, None),
    }
}

/// A validation error as `lvs.InvalidArgument`.
pub fn invalid(py: Python<'_>, e: ValidationError) -> PyErr {
    raise(py, "InvalidArgument", e.to_string(), None)
}

/// A ruleset that breaks a rule as `lvs.InvalidArgument`, with `.path` saying where
/// (`services[2].destinations[0]`).
pub fn invalid_ruleset(py: Python<'_>, e: &InvalidRuleset) -> PyErr {
    let exc = raise(py, "InvalidArgument", e.to_string(), None);
    with_path(py, exc, &e.at.to_string())
}

/// A refused dict (`from_dict`) as `lvs.InvalidArgument`, with `.path` (empty for the whole
/// value).
pub fn document(py: Python<'_>, what: &str, e: &DocumentError) -> PyErr {
    let (message, path) = match e {
        DocumentError::Syntax { path, message, .. } if path.is_empty() => {
            (format!("not a valid {what}: {message}"), String::new())
        }
        DocumentError::Syntax { path, message, .. } => (
            format!("not a valid {what}: {path}: {message}"),
            path.clone(),
        ),
        DocumentError::Invalid(invalid) => return invalid_ruleset(py, invalid),
        other => (format!("not a valid {what}: {other}"), String::new()),
    };
    with_path(py, raise(py, "InvalidArgument", message, None), &path)
}

fn with_path(py: Python<'_>, exc: PyErr, path: &str) -> PyErr {
    match exc.value(py).setattr("path", path) {
        Ok(()) => exc,
        Err(e) => e,
    }
}

/// A bad argument of the binding itself as `lvs.InvalidArgument`.
pub fn argument(message: impl Into<String>) -> PyErr {
    Python::attach(|py| raise(py, "InvalidArgument", message.into(), None))
}

/// A name none of a value's spellings (`forward='nat'`) as `lvs.InvalidArgument`.
pub fn unknown_name(e: lvs_core::UnknownName) -> PyErr {
    argument(e.to_string())
}

/// A rule-file error as `lvs.ParseError` with its line and column.
pub fn rules(py: Python<'_>, e: RulesError) -> PyErr {
    let made = class(py, "ParseError").and_then(|cls| {
        let exc = cls.call1((e.to_string(), e.line(), e.column()))?;
        if let RulesError::Refused { refusal, .. } = &e {
            exc.setattr("errno", refusal.errno)?;
            exc.setattr("operation", refusal.op.to_string())?;
        }
        Ok(exc)
    });
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// The exception (not raised) for one result of a batch.
pub fn netlink_value(py: Python<'_>, e: &lvs_netlink::Error) -> Py<PyAny> {
    netlink(py, e).into_value(py).into_any()
}

/// The `TypeError` of pickling or copying a class that holds a kernel connection.
pub fn not_a_value(class: &str) -> PyErr {
    pyo3::exceptions::PyTypeError::new_err(format!(
        "cannot pickle or copy lvs.{class}: it holds a netlink socket to the kernel; \
         open another lvs.{class}() where one is needed (its values, such as a Ruleset, pickle)"
    ))
}
