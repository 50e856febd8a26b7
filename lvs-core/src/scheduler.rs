//! Schedulers: what `-s` names, and how the kernel module is called (`ip_vs_<name>`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest scheduler name the kernel takes (`IP_VS_SCHEDNAME_MAXLEN` - 1).
pub const SCHEDULER_NAME_MAX: usize = 15;

/// A scheduling algorithm, by the name the kernel and ipvsadm use.
///
/// Every scheduler of mainline Linux has a variant; any other name (a scheduler from an
/// out-of-tree module, or `none`, which the kernel reports for a service without one) is kept
/// as [`Scheduler::Other`] so that it survives a read-modify-write.
///
/// ```
/// use lvs_core::Scheduler;
/// assert_eq!(Scheduler::from("mh"), Scheduler::MaglevHash);
/// // An out-of-tree scheduler keeps its name.
/// let custom = Scheduler::from("fo2");
/// assert_eq!((custom.name(), custom.is_known()), ("fo2", false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
#[non_exhaustive]
pub enum Scheduler {
    /// `rr`: round robin.
    RoundRobin,
    /// `wrr`: weighted round robin.
    WeightedRoundRobin,
    /// `lc`: least connection.
    LeastConnection,
    /// `wlc`: weighted least connection, ipvsadm's default.
    #[default]
    WeightedLeastConnection,
    /// `fo`: weighted failover.
    Failover,
    /// `ovf`: weighted overflow.
    Overflow,
    /// `lblc`: locality-based least connection.
    LocalityLeastConnection,
    /// `lblcr`: locality-based least connection with replication.
    LocalityLeastConnectionReplication,
    /// `dh`: destination hashing.
    DestinationHash,
    /// `sh`: source hashing (flags `sh-fallback`, `sh-port`).
    SourceHash,
    /// `mh`: Maglev hashing (flags `mh-fallback`, `mh-port`).
    MaglevHash,
    /// `sed`: shortest expected delay.
    ShortestExpectedDelay,
    /// `nq`: never queue.
    NeverQueue,
    /// `twos`: weighted random twos choice (Linux 6.x; not built in every distribution kernel).
    TwoChoice,
    /// Any other name, kept as given.
    Other(String),
}

const NAMES: [(&str, Scheduler); 14] = [
    ("rr", Scheduler::RoundRobin),
    ("wrr", Scheduler::WeightedRoundRobin),
    ("lc", Scheduler::LeastConnection),
    ("wlc", Scheduler::WeightedLeastConnection),
    ("fo", Scheduler::Failover),
    ("ovf", Scheduler::Overflow),
    ("lblc", Scheduler::LocalityLeastConnection),
    ("lblcr", Scheduler::LocalityLeastConnectionReplication),
    ("dh", Scheduler::DestinationHash),
    ("sh", Scheduler::SourceHash),
    ("mh", Scheduler::MaglevHash),
    ("sed", Scheduler::ShortestExpectedDelay),
    ("nq", Scheduler::NeverQueue),
    ("twos", Scheduler::TwoChoice),
];

impl Scheduler {
    /// The name as ipvsadm and the kernel spell it (`rr`, `wlc`, ...).
    ///
    /// ```
    /// assert_eq!(lvs_core::Scheduler::ShortestExpectedDelay.name(), "sed");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Other(name) => name,
            known => NAMES
                .iter()
                .find(|(_, s)| s == known)
                .map(|(n, _)| *n)
                .unwrap_or(""),
        }
    }

    /// Every scheduler mainline Linux ships, in ipvsadm's man-page order.
    ///
    /// ```
    /// let names: Vec<String> = lvs_core::Scheduler::all_known().map(|s| s.to_string()).collect();
    /// assert!(names.starts_with(&["rr".to_owned(), "wrr".to_owned()]));
    /// assert!(names.contains(&"twos".to_owned()));
    /// ```
    pub fn all_known() -> impl Iterator<Item = Scheduler> {
        NAMES.iter().map(|(_, s)| s.clone())
    }

    /// Whether this is a scheduler of mainline Linux (not [`Scheduler::Other`]).
    ///
    /// ```
    /// assert!(lvs_core::Scheduler::from("lblcr").is_known());
    /// ```
    pub fn is_known(&self) -> bool {
        !matches!(self, Scheduler::Other(_))
    }
}

impl From<&str> for Scheduler {
    fn from(name: &str) -> Self {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| Scheduler::Other(name.to_owned()))
    }
}

impl From<String> for Scheduler {
    fn from(name: String) -> Self {
        Scheduler::from(name.as_str())
    }
}

impl From<Scheduler> for String {
    fn from(s: Scheduler) -> String {
        s.name().to_owned()
    }
}

impl FromStr for Scheduler {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Scheduler::from(s))
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scheduler::all_known() {
            assert_eq!(Scheduler::from(s.name()), s);
        }
        assert_eq!(Scheduler::from("none"), Scheduler::Other("none".into()));
        assert_eq!(Scheduler::from("none").to_string(), "none");
        assert_eq!(Scheduler::default().name(), "wlc");
    }
}
