//! Errors of the kernel backend.

use crate::wire::DecodeError;
use lvs_core::conn::ConnParseError;
use lvs_core::{InvalidRuleset, Operation, Refusal, ValidationError};
use std::path::PathBuf;
use std::time::Duration;
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
    /// A system call failed (opening, sending on or reading from the netlink socket); the
    /// OS error keeps its errno ([`Error::errno`]). Nothing was sent, or the operation was a read.
    #[error("netlink I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The network namespace could not be opened or joined.
    #[error("cannot open network namespace {}: {source}", path.display())]
    Namespace {
        /// The namespace file (`/run/netns/NAME` for a bare name).
        path: PathBuf,
        /// The OS error, with its errno.
        #[source]
        source: std::io::Error,
    },
    /// The kernel sent no answer within the handle's reply timeout
    /// ([`crate::Ipvs::set_reply_timeout`]). Whether a change was carried out is unknown;
    /// the socket was replaced, so a late answer is never taken for another request's.
    #[error("{op}: no answer from the kernel within {after:?}")]
    Timeout {
        /// What was asked.
        op: Operation,
        /// How long lvs waited for the kernel's next answer.
        after: Duration,
    },
    /// The kernel's answer was lost on the way (the socket's receive buffer overflowed:
    /// ENOBUFS), so whether the operation was carried out is unknown.
    #[error("{op}: the kernel's answer was lost ({source}); whether it was carried out is unknown")]
    Lost {
        /// What was asked.
        op: Operation,
        /// The receive error, with its errno.
        #[source]
        source: std::io::Error,
    },
    /// The kernel acknowledged a read without sending the data it answers with.
    #[error("{op}: the kernel acknowledged the request but sent no reply")]
    MissingReply {
        /// What was asked.
        op: Operation,
    },
    /// `/proc/net/ip_vs_conn` did not follow the kernel's format.
    #[error("cannot read the connection table: {0}")]
    ConnTable(#[from] ConnParseError),
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

    /// The errno this error carries or stands for: the kernel's refusal, the OS error of a
    /// system call, `ETIMEDOUT` for a timeout; `None` for lvs's own errors (invalid input,
    /// decode errors, a missing family).
    ///
    /// ```
    /// use lvs_core::{Operation, Refusal, errno};
    /// use lvs_netlink::Error;
    /// use std::time::Duration;
    ///
    /// let refused = Error::Kernel(Refusal::new(Operation::AddService, errno::EEXIST));
    /// assert_eq!(refused.errno(), Some(errno::EEXIST));
    /// let io = Error::Io(std::io::Error::from_raw_os_error(105)); // ENOBUFS
    /// assert_eq!(io.errno(), Some(105));
    /// let late = Error::Timeout { op: Operation::GetInfo, after: Duration::from_secs(5) };
    /// assert_eq!(late.errno(), Some(110)); // ETIMEDOUT
    /// ```
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel(r) => Some(r.errno),
            Error::Io(e) | Error::Namespace { source: e, .. } | Error::Lost { source: e, .. } => {
                e.raw_os_error()
            }
            Error::Timeout { .. } => Some(libc::ETIMEDOUT),
            _ => None,
        }
    }

    /// Whether the operation may or may not have been carried out: its answer timed out or
    /// was lost. A controller re-reads what it changed before trusting its own model.
    ///
    /// ```
    /// use lvs_core::{Operation, Refusal, errno};
    /// use lvs_netlink::Error;
    /// use std::time::Duration;
    ///
    /// let late = Error::Timeout { op: Operation::AddService, after: Duration::from_secs(5) };
    /// assert!(late.outcome_unknown());
    /// assert!(!Error::Kernel(Refusal::new(Operation::AddService, errno::EEXIST)).outcome_unknown());
    /// ```
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::Lost { .. })
    }
}

impl Error {
    /// A copy of an I/O error for one more command (`std::io::Error` is not `Clone`): the same
    /// errno, or the same kind and message.
    pub(crate) fn copy_io(e: &std::io::Error) -> std::io::Error {
        match e.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(e.kind(), e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_core::errno;

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

    #[test]
    fn io_errors_keep_their_errno() {
        let ns = Error::Namespace {
            path: "/run/netns/blue".into(),
            source: std::io::Error::from_raw_os_error(errno::ENOENT),
        };
        assert_eq!(ns.errno(), Some(errno::ENOENT));
        assert!(
            ns.to_string()
                .starts_with("cannot open network namespace /run/netns/blue: ")
        );
        let lost = Error::Lost {
            op: Operation::AddDestination,
            source: std::io::Error::from_raw_os_error(105),
        };
        assert_eq!(lost.errno(), Some(105));
        assert!(lost.outcome_unknown());
        assert_eq!(
            Error::copy_io(&std::io::Error::from_raw_os_error(105)).raw_os_error(),
            Some(105)
        );
        let timeout = Error::Timeout {
            op: Operation::GetServices,
            after: std::time::Duration::from_millis(1500),
        };
        assert_eq!(
            timeout.to_string(),
            "get services: no answer from the kernel within 1.5s"
        );
        assert_eq!(
            Error::MissingReply {
                op: Operation::GetInfo
            }
            .errno(),
            None
        );
    }
}
