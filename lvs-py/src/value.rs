//! What every value class shares: the dict form, pickling and copying, written once.
//!
//! A value class (`Service`, `Ruleset`, `Stats`, ...) is frozen. `value_methods!` gives it
//! `to_dict`, the `from_dict` classmethod, `__reduce__`, `__copy__` and `__deepcopy__` in a
//! `#[pymethods]` block of their own, beside the class's own block (pyo3's `multiple-pymethods`
//! feature: a `#[pymethods]` block does not expand macros inside it).

use pyo3::prelude::*;

/// How a value class becomes plain Python data and is read back from it: what its `to_dict`
/// and `from_dict` do.
///
/// `value_methods!(Class, "what")` implements it for a class that wraps one lvs value with a
/// serde form in `inner`; a class with another form (`Features`, whose lvs-netlink type has no
/// serde form; `Ruleset`, checked whole as it is read) implements it itself and is given as
/// `value_methods!(Class, "what", DictForm)`.
pub trait DictForm: Sized {
    /// The value as plain Python data (dicts, lists, strings, numbers), through its serde form.
    fn write_dict(&self, py: Python<'_>) -> PyResult<Py<PyAny>>;

    /// The value from plain Python data in `write_dict`'s shape, read strictly (see
    /// [`convert::from_dict`](crate::convert::from_dict)); `what` names the value in errors
    /// (`not a valid service: ...`).
    fn read_dict(data: &Bound<'_, PyAny>, what: &str) -> PyResult<Self>;
}

/// `to_dict`, `from_dict`, `__reduce__`, `__copy__` and `__deepcopy__` for a value class, in a
/// `#[pymethods]` block of its own.
///
/// `value_methods!(PyService, "service")` also implements [`DictForm`] through the serde form
/// of `PyService::inner`; `value_methods!(PyRuleset, "ruleset", DictForm)` leaves that to the
/// class. `"service"` names the value in the methods' docstrings and in `from_dict`'s errors.
///
/// pickle and `copy` rebuild a value as `(Class.from_dict, (self.to_dict(),))`: through the same
/// strict reader as `from_dict`, so a pickle holds only plain data (no Rust layout) and reads
/// back in any later version that reads the dict. The value is immutable, so a copy, shallow or
/// deep, is the value itself.
macro_rules! value_methods {
    ($class:ident, $what:literal) => {
        impl $crate::value::DictForm for $class {
            fn write_dict(
                &self,
                py: ::pyo3::Python<'_>,
            ) -> ::pyo3::PyResult<::pyo3::Py<::pyo3::PyAny>> {
                $crate::convert::to_dict(py, &self.inner)
            }

            fn read_dict(
                data: &::pyo3::Bound<'_, ::pyo3::PyAny>,
                what: &str,
            ) -> ::pyo3::PyResult<Self> {
                Ok($class {
                    inner: $crate::convert::from_dict(data, what)?,
                })
            }
        }

        $crate::value::value_methods!($class, $what, DictForm);
    };
    ($class:ident, $what:literal, DictForm) => {
        #[::pyo3::pymethods]
        impl $class {
            #[doc = concat!(
                "The ", $what, " as plain data (JSON-ready dicts, lists, strings and numbers), ",
                "as `from_dict` reads it."
            )]
            fn to_dict(
                &self,
                py: ::pyo3::Python<'_>,
            ) -> ::pyo3::PyResult<::pyo3::Py<::pyo3::PyAny>> {
                $crate::value::DictForm::write_dict(self, py)
            }

            #[doc = concat!(
                "The ", $what, " from `to_dict`'s shape, read strictly: an unknown key, a missing ",
                "one or a value of the wrong type raises `InvalidArgument` with `.path`."
            )]
            #[classmethod]
            fn from_dict(
                _cls: &::pyo3::Bound<'_, ::pyo3::types::PyType>,
                data: &::pyo3::Bound<'_, ::pyo3::PyAny>,
            ) -> ::pyo3::PyResult<Self> {
                <Self as $crate::value::DictForm>::read_dict(data, $what)
            }

            /// pickle: `(Class.from_dict, (self.to_dict(),))`.
            fn __reduce__<'py>(
                slf: &::pyo3::Bound<'py, Self>,
            ) -> ::pyo3::PyResult<(
                ::pyo3::Bound<'py, ::pyo3::PyAny>,
                (::pyo3::Bound<'py, ::pyo3::PyAny>,),
            )> {
                use ::pyo3::types::PyAnyMethods;
                Ok((
                    slf.get_type().getattr("from_dict")?,
                    (slf.call_method0("to_dict")?,),
                ))
            }

            /// The value is immutable: its copy is itself.
            fn __copy__(slf: ::pyo3::Bound<'_, Self>) -> ::pyo3::Bound<'_, Self> {
                slf
            }

            /// The value is immutable: its deep copy is itself.
            fn __deepcopy__<'py>(
                slf: ::pyo3::Bound<'py, Self>,
                memo: &::pyo3::Bound<'py, ::pyo3::PyAny>,
            ) -> ::pyo3::Bound<'py, Self> {
                let _ = memo;
                slf
            }
        }
    };
}

pub(crate) use value_methods;
