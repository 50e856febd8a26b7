//! lvs-py: the Python binding of lvs (`import lvs`), built by maturin as `lvs._lvs`.
//!
//! An adapter only, in the manner of tokenizers' Python layer: each class wraps one lvs-core or
//! lvs-netlink type (`PyService { inner: Service }`) and converts arguments and results; every
//! IPVS rule, check and format lives in lvs-core or lvs-netlink.
//!
//! - [`service`], [`destination`]: `Service`, `Destination`.
//! - [`ruleset`]: `VirtualService`, `Ruleset` (rule files, JSON), `Command`, `parse_rules`.
//! - [`state`]: `Stats`, `ServiceState`, `DestinationState`, `ServiceEntry`, `DestinationEntry`,
//!   `VirtualServiceEntry`.
//! - [`config`]: `Timeouts`, `Daemon`, `Info`, `Features`, `Connection`.
//! - [`ipvs`]: `Ipvs` (kernel I/O with the GIL released) and `Snapshot`.
//! - [`plan`]: `plan()`, `Plan`, `Report` (declarative apply).
//! - [`reconcile`]: `Reconciler` (apply at the cost of the change).
//! - [`errors`]: lvs errors as the exceptions of `lvs._errors`, rooted in `lvs.LvsError`.
//! - [`convert`]: hashing, serde to and from Python data, argument shapes.
//! - [`value`]: what every value class shares (`to_dict`, `from_dict`, pickling, copying),
//!   written once.

pub mod config;
pub mod convert;
pub mod destination;
pub mod errors;
pub mod ipvs;
pub mod plan;
pub mod reconcile;
pub mod ruleset;
pub mod service;
pub mod state;
pub mod value;

use pyo3::prelude::*;

/// The compiled half of the `lvs` package.
#[pymodule]
fn _lvs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The crate's version, which maturin also gives the wheel (`version` is dynamic).
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<service::PyService>()?;
    m.add_class::<destination::PyDestination>()?;
    m.add_class::<ruleset::PyVirtualService>()?;
    m.add_class::<ruleset::PyRuleset>()?;
    m.add_class::<ruleset::PyCommand>()?;
    m.add_class::<state::PyStats>()?;
    m.add_class::<state::PyServiceState>()?;
    m.add_class::<state::PyDestinationState>()?;
    m.add_class::<state::PyServiceEntry>()?;
    m.add_class::<state::PyDestinationEntry>()?;
    m.add_class::<state::PyVirtualServiceEntry>()?;
    m.add_class::<config::PyTimeouts>()?;
    m.add_class::<config::PyDaemon>()?;
    m.add_class::<config::PyInfo>()?;
    m.add_class::<config::PyFeatures>()?;
    m.add_class::<config::PyConnection>()?;
    m.add_class::<ipvs::PyIpvs>()?;
    m.add_class::<ipvs::PySnapshot>()?;
    m.add_class::<plan::PyPlan>()?;
    m.add_class::<plan::PyReport>()?;
    m.add_class::<reconcile::PyReconciler>()?;
    m.add_function(wrap_pyfunction!(ruleset::parse_rules, m)?)?;
    m.add_function(wrap_pyfunction!(plan::plan, m)?)?;
    Ok(())
}
