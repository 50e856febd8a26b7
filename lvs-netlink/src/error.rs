//! Errors of the kernel backend.

use crate::wire::DecodeError;
use lvs_core::{InvalidRuleset, Refusal, ValidationError};
use thiserror::Error;

/// What can go wrong talking to the kernel's IPVS.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lvs_core::RefusalKind;
/// use lvs_netlink::{Error, Ipvs};
///
/// match Ipvs::new().and_then(|ipvs| ipvs.services()) {
///     Ok(services) => println!("{} services", services.len()),
///     Err(Error::NotAvailable { reason }) => eprintln!("no IPVS here: {reason}"),
///     Err(Error::Kernel(r)) if r.kind() == RefusalKind::PermissionDenied => {
///         eprintln!("{r}: run as root or grant CAP_NET_ADMIN")
///     }
///     Err(e) => return Err(e.into()),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the operation. The refusal keeps the operation and the errno and
    /// reads like ipvsadm ("Service already exists"); EPERM says how to get CAP_NET_ADMIN.
    #[error("{op}: {0}", op = .0.op)]
    Kernel(Refusal),
    /// The kernel has no IPVS (no "IPVS" generic-netlink family, even after `modprobe ip_vs`).
    #[error("IPVS is not available: {reason}")]
    NotAvailable {
        /// Why, and how to fix it.
        reason: String,
    },
    /// The running kernel cannot do what was asked (it would silently drop the setting).
    #[error("not supported by this kernel: {what}")]
    NotSupported {
        /// What is missing, and since which Linux version it exists.
        what: String,
    },
    /// The input breaks one of ipvsadm's or the kernel's rules; nothing was sent.
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationError),
    /// A desired ruleset breaks one of ipvsadm's or the kernel's rules (the object and where
    /// it is); nothing was read or sent.
    #[error("invalid ruleset: {0}")]
    InvalidRuleset(#[from] InvalidRuleset),
    /// A kernel reply did not follow the format.
    #[error("cannot decode the kernel's reply: {attribute}: {problem}")]
    Decode {
        /// The attribute (or structure) at fault, e.g. `IPVS_SVC_ATTR_FLAGS`.
        attribute: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The netlink socket failed.
    #[error("netlink I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The netlink conversation went wrong (an unexpected or missing reply).
    #[error("netlink: {0}")]
    Protocol(String),
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode {
            attribute: e.attribute,
            problem: e.problem,
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Kernel(r)
    }
}

impl Error {
    /// The kernel's refusal, if this is one.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lvs_core::{RefusalKind, ServiceKey};
    ///
    /// // Deleting a service that is already gone is fine here.
    /// let ipvs = lvs_netlink::Ipvs::new()?;
    /// match ipvs.delete_service(&ServiceKey::tcp("10.0.0.13:80".parse()?)) {
    ///     Err(e) if e.refusal().is_some_and(|r| r.kind() == RefusalKind::NoSuchService) => {}
    ///     other => other?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Kernel(r) => Some(r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_core::{Operation, errno};

    #[test]
    fn kernel_errors_read_like_ipvsadm() {
        let e = Error::Kernel(Refusal::new(Operation::AddService, errno::EEXIST));
        assert_eq!(e.to_string(), "add service: Service already exists");
        let e = Error::Kernel(Refusal::new(Operation::GetServices, errno::EPERM));
        assert!(e.to_string().contains("CAP_NET_ADMIN"));
        let e = Error::from(DecodeError::new(
            "IPVS_SVC_ATTR_FLAGS",
            "expected 8 bytes, got 4",
        ));
        assert_eq!(
            e.to_string(),
            "cannot decode the kernel's reply: IPVS_SVC_ATTR_FLAGS: expected 8 bytes, got 4"
        );
    }
}
