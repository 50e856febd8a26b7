//! Faults the fake kernel can inject, and which requests they hit.

use crate::wire::request::Call;
use lvs_core::{Command, Operation};

/// What goes wrong with a request the fake kernel receives (see [`super::FakeKernel::inject`]).
///
/// ```
/// use lvs_core::{Operation, errno};
/// use lvs_netlink::fake::{Fault, FakeKernel};
///
/// let kernel = FakeKernel::new();
/// // Every service addition is refused as if the scheduler module were missing.
/// kernel.inject(Operation::AddService, Fault::Refuse(errno::ENOENT));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Refuse the request with this errno; the table is unchanged.
    Refuse(i32),
    /// Carry the request out but never answer it: its answer is lost, and a client waiting
    /// for it times out.
    Drop,
    /// Carry the request out but answer late: the answer misses its own exchange and arrives
    /// ahead of the answers to the next datagram sent on the same connection, as an answer
    /// that comes after the client gave up would. A connection reset discards it.
    Delay,
    /// Answer only the first `after` messages of a dump, then end it with `NLMSG_DONE`
    /// carrying `errno`: 0 for a dump that looks complete but is short (as one racing with
    /// changes can be: the kernel resumes a dump by position), or an error such as `EINTR`.
    /// No effect on a request that is not a dump.
    Truncate {
        /// Data messages sent before the end.
        after: usize,
        /// The errno the end carries (0: none).
        errno: i32,
    },
    /// Carry the request out and lose its answers with an overflowing receive buffer: the
    /// client's next receive fails with `ENOBUFS`.
    Overrun,
}

/// Which requests a fault hits.
///
/// ```
/// use lvs_core::{Command, Operation};
/// use lvs_netlink::fake::Target;
///
/// let every_flush: Target = Operation::Flush.into();
/// let this_flush: Target = Command::Flush.into();
/// assert_ne!(every_flush, Target::Any);
/// # let _ = this_flush;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// Every request, the family lookup included.
    Any,
    /// Every request of this operation ([`Operation::GetFamily`] for the family lookup).
    Operation(Operation),
    /// The request that carries exactly this command (and no other: another real server,
    /// another weight).
    Command(Command),
}

impl From<Operation> for Target {
    fn from(op: Operation) -> Target {
        Target::Operation(op)
    }
}

impl From<Command> for Target {
    fn from(c: Command) -> Target {
        Target::Command(c)
    }
}

impl Target {
    /// Whether a request of `op`, carrying `call` when it is an IPVS request, is hit.
    fn hits(&self, op: Operation, call: Option<&Call>) -> bool {
        match self {
            Target::Any => true,
            Target::Operation(o) => *o == op,
            Target::Command(c) => matches!(call, Some(Call::Command(x)) if x == c),
        }
    }
}

/// An injected fault and how many more requests it hits (`None`: all).
#[derive(Debug, Clone)]
pub(super) struct Armed {
    pub(super) target: Target,
    pub(super) fault: Fault,
    pub(super) remaining: Option<usize>,
}

/// The fault that hits a request of `op` (carrying `call`), if any; uses one of its hits.
pub(super) fn take(armed: &mut Vec<Armed>, op: Operation, call: Option<&Call>) -> Option<Fault> {
    let i = armed.iter().position(|a| a.target.hits(op, call))?;
    let fault = armed[i].fault.clone();
    match &mut armed[i].remaining {
        Some(1) => {
            armed.remove(i);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    Some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvs_core::ServiceKey;

    #[test]
    fn faults_hit_their_target_the_given_number_of_times() {
        let key = ServiceKey::fwmark(lvs_core::Family::Inet, 1);
        let mut armed = vec![
            Armed {
                target: Command::DeleteService(key).into(),
                fault: Fault::Drop,
                remaining: Some(1),
            },
            Armed {
                target: Operation::DeleteService.into(),
                fault: Fault::Refuse(3),
                remaining: None,
            },
        ];
        let other = Call::Command(Command::DeleteService(ServiceKey::fwmark(
            lvs_core::Family::Inet,
            2,
        )));
        let this = Call::Command(Command::DeleteService(key));
        let del = Operation::DeleteService;
        assert_eq!(take(&mut armed, del, Some(&other)), Some(Fault::Refuse(3)));
        assert_eq!(take(&mut armed, del, Some(&this)), Some(Fault::Drop));
        assert_eq!(take(&mut armed, del, Some(&this)), Some(Fault::Refuse(3)));
        assert_eq!(take(&mut armed, Operation::Flush, Some(&this)), None);
        assert_eq!(armed.len(), 1);
    }
}
