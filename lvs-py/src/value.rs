//! What every value class shares: pickling and copying, written once.
//!
//! A value class (`Service`, `Ruleset`, `Stats`, ...) is frozen and has `to_dict` and a
//! `from_dict` classmethod. `value_methods!` gives it `__reduce__`, `__copy__` and
//! `__deepcopy__` in a `#[pymethods]` block of their own, beside the class's own block
//! (pyo3's `multiple-pymethods` feature: a `#[pymethods]` block does not expand macros inside it).

/// `__reduce__`, `__copy__` and `__deepcopy__` for value classes, one `#[pymethods]` block each.
///
/// pickle and `copy` rebuild a value as `(Class.from_dict, (self.to_dict(),))`: through the same
/// strict reader as `from_dict`, so a pickle holds only plain data (no Rust layout) and reads
/// back in any later version that reads the dict. The value is immutable, so a copy, shallow or
/// deep, is the value itself.
macro_rules! value_methods {
    ($($class:ty),+ $(,)?) => {$(
        #[::pyo3::pymethods]
        impl $class {
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
    )+};
}

pub(crate) use value_methods;
