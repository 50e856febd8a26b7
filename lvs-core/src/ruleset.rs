//! A whole IPVS configuration: services with their real servers, timeouts and sync daemons;
//! and the kernel's rules for changing it, so that rule files can be checked with no kernel.

use crate::{
    Command, DaemonRole, Destination, Forward, Netmask, Operation, Refusal, Scheduler, Service,
    ServiceKey, SyncDaemon, Timeouts, errno,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// A service with its real servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualService {
    /// The service.
    pub service: Service,
    /// Its real servers. Order carries no meaning for equality; commands applied through
    /// [`Ruleset::apply`] put new servers first, as the kernel lists them.
    #[serde(default)]
    pub destinations: Vec<Destination>,
}

impl VirtualService {
    /// A service with no real servers yet.
    pub fn new(service: Service) -> Self {
        VirtualService {
            service,
            destinations: Vec::new(),
        }
    }

    /// The real server at `addr`.
    pub fn destination(&self, addr: &SocketAddr) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.addr == *addr)
    }

    fn same_config(&self, other: &VirtualService) -> bool {
        self.service == other.service
            && self.destinations.len() == other.destinations.len()
            && self
                .destinations
                .iter()
                .all(|d| other.destination(&d.addr) == Some(d))
    }
}

/// A whole IPVS configuration.
///
/// Equality compares configuration as sets: the order of services and real servers does not
/// matter. Statistics are never part of a ruleset.
#[derive(Debug, Clone, Default, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ruleset {
    /// The virtual services. JSON and TOML documents must name this field, even when empty
    /// (`{"services": []}`, `services = []`): a document without it is refused rather than
    /// read as "no services", which an apply would turn into deleting every service.
    pub services: Vec<VirtualService>,
    /// Connection timeouts, when the ruleset sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    /// Sync daemons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub daemons: Vec<SyncDaemon>,
}

impl PartialEq for Ruleset {
    fn eq(&self, other: &Self) -> bool {
        let mut theirs = Index::of(&other.services);
        self.services.len() == other.services.len()
            && self.services.iter().all(|vs| {
                theirs
                    .find(&other.services, &vs.service.key)
                    .is_some_and(|i| vs.same_config(&other.services[i]))
            })
            && self.timeouts == other.timeouts
            && self.daemons.len() == other.daemons.len()
            && self.daemons.iter().all(|d| other.daemons.contains(d))
    }
}

/// Which schedulers and persistence engines the simulated kernel has, for
/// [`Ruleset::apply_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelProfile {
    /// Scheduler modules that load.
    pub schedulers: Vec<Scheduler>,
    /// Persistence engine modules that load.
    pub engines: Vec<String>,
    /// Whether every scheduler and engine module loads, whatever its name (as when recording
    /// what a real kernel already accepted); `schedulers` and `engines` are then not looked at.
    pub any_module: bool,
}

impl Default for KernelProfile {
    /// Debian's kernel: every mainline scheduler but `twos`, and the `sip` engine.
    fn default() -> Self {
        KernelProfile {
            schedulers: Scheduler::all_known()
                .filter(|s| *s != Scheduler::TwoChoice)
                .collect(),
            engines: vec!["sip".to_owned()],
            any_module: false,
        }
    }
}

impl KernelProfile {
    /// A kernel where every scheduler and persistence-engine module loads: for replaying
    /// commands a real kernel has acknowledged.
    ///
    /// ```
    /// use lvs_core::{Command, KernelProfile, Ruleset, Service, ServiceKey};
    /// let custom = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)).with_scheduler("mine");
    /// let mut model = Ruleset::new();
    /// model.apply_all(&[Command::AddService(custom)], &KernelProfile::ANY).map_err(|(_, r)| r)?;
    /// assert_eq!(model.services.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const ANY: KernelProfile = KernelProfile {
        schedulers: Vec::new(),
        engines: Vec::new(),
        any_module: true,
    };

    fn has_scheduler(&self, s: &Scheduler) -> bool {
        // The kernel takes "none" for a service without a scheduler.
        self.any_module || s.name() == "none" || self.schedulers.contains(s)
    }

    fn has_engine(&self, pe: &str) -> bool {
        self.any_module || self.engines.iter().any(|e| e == pe)
    }
}

impl Ruleset {
    /// An empty ruleset, as a fresh kernel has.
    pub fn new() -> Self {
        Ruleset::default()
    }

    /// The service with this key.
    pub fn service(&self, key: &ServiceKey) -> Option<&VirtualService> {
        self.services.iter().find(|vs| vs.service.key == *key)
    }

    /// The number of services and real servers.
    pub fn object_count(&self) -> usize {
        self.services
            .iter()
            .map(|vs| 1 + vs.destinations.len())
            .sum()
    }

    /// Applies `command` as the kernel would, or says why the kernel would refuse it (and
    /// changes nothing). The kernel is Debian's ([`KernelProfile::default`]) in a fresh
    /// network namespace.
    pub fn apply(&mut self, command: &Command) -> Result<(), Refusal> {
        self.apply_with(command, &KernelProfile::default())
    }

    /// [`Ruleset::apply`] for a kernel with other modules.
    pub fn apply_with(&mut self, command: &Command, kernel: &KernelProfile) -> Result<(), Refusal> {
        self.apply_indexed(command, kernel, &mut Index::linear())
    }

    /// Applies many commands in order, as [`Ruleset::apply`] would one by one, stopping at the
    /// first refusal (with its position in `commands`); the ones before it stay applied. Finds
    /// services through a hash index, so the cost stays flat per command however large the
    /// ruleset.
    pub fn apply_all<'c>(
        &mut self,
        commands: impl IntoIterator<Item = &'c Command>,
        kernel: &KernelProfile,
    ) -> Result<(), (usize, Refusal)> {
        let mut batch = Batch::new(self, kernel);
        for (i, command) in commands.into_iter().enumerate() {
            batch.apply(command).map_err(|r| (i, r))?;
        }
        Ok(())
    }

    fn apply_indexed(
        &mut self,
        command: &Command,
        kernel: &KernelProfile,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        let op = command.operation();
        let refuse = |errno: i32| Refusal::new(op, errno);
        match command {
            Command::AddService(svc) => {
                if index.find(&self.services, &svc.key).is_some() {
                    return Err(refuse(errno::EEXIST));
                }
                check_service(op, svc, kernel)?;
                self.services.push(VirtualService::new(svc.clone()));
                index.pushed(svc.key, self.services.len() - 1);
            }
            Command::EditService(svc) => {
                let i = index
                    .find(&self.services, &svc.key)
                    .ok_or_else(|| refuse(errno::ESRCH))?;
                check_service(op, svc, kernel)?;
                self.services[i].service = svc.clone();
            }
            Command::DeleteService(key) => {
                let i = index
                    .find(&self.services, key)
                    .ok_or_else(|| refuse(errno::ESRCH))?;
                self.services.remove(i);
                index.rebuild(&self.services);
            }
            Command::Flush => {
                self.services.clear();
                index.rebuild(&self.services);
            }
            Command::AddDestination {
                service,
                destination: d,
            }
            | Command::EditDestination {
                service,
                destination: d,
            } => {
                let daemons_run = !self.daemons.is_empty();
                let i = index
                    .find(&self.services, service)
                    .ok_or_else(|| refuse(errno::ESRCH))?;
                let vs = &mut self.services[i];
                check_destination(op, &vs.service.key, d, daemons_run)?;
                let existing = vs.destinations.iter().position(|x| x.addr == d.addr);
                match (op, existing) {
                    (Operation::AddDestination, Some(_)) => return Err(refuse(errno::EEXIST)),
                    (Operation::AddDestination, None) => {
                        if !unicast(&d.addr.ip()) {
                            return Err(refuse(errno::EINVAL)
                                .because(format!("{} is not a unicast address", d.addr.ip())));
                        }
                        // The kernel lists the newest real server first.
                        vs.destinations.insert(0, *d);
                    }
                    (_, Some(i)) => vs.destinations[i] = *d,
                    (_, None) => return Err(refuse(errno::ENOENT)),
                }
            }
            Command::DeleteDestination { service, addr } => {
                let i = index
                    .find(&self.services, service)
                    .ok_or_else(|| refuse(errno::ESRCH))?;
                let vs = &mut self.services[i];
                let i = vs
                    .destinations
                    .iter()
                    .position(|x| x.addr == *addr)
                    .ok_or_else(|| refuse(errno::ENOENT))?;
                vs.destinations.remove(i);
            }
            Command::Zero(Some(key)) if index.find(&self.services, key).is_none() => {
                return Err(refuse(errno::ESRCH));
            }
            Command::Zero(_) => {}
            Command::SetTimeouts(t) => {
                let current = self.timeouts.unwrap_or(Timeouts::KERNEL_DEFAULT);
                self.timeouts = Some(t.over(current));
            }
            Command::StartDaemon(d) => {
                if self.daemons.iter().any(|x| x.role == d.role) {
                    return Err(refuse(errno::EEXIST));
                }
                if self.has_mixed_family() {
                    return Err(refuse(errno::EINVAL)
                        .because("sync daemons cannot run beside mixed-family real servers"));
                }
                self.daemons.push(d.clone());
            }
            Command::StopDaemon(role) => {
                let before = self.daemons.len();
                self.daemons.retain(|x| x.role != *role);
                if self.daemons.len() == before {
                    return Err(refuse(errno::ESRCH));
                }
            }
        }
        Ok(())
    }

    fn has_mixed_family(&self) -> bool {
        self.services.iter().any(|vs| {
            let family = vs.service.key.family();
            vs.destinations.iter().any(|d| d.family() != family)
        })
    }

    /// The running daemon of `role`.
    pub fn daemon(&self, role: DaemonRole) -> Option<&SyncDaemon> {
        self.daemons.iter().find(|d| d.role == role)
    }
}

/// Commands applied one after another to one ruleset, as [`Ruleset::apply_all`] applies them,
/// for callers that have them one at a time (a rule file read as it is parsed).
pub(crate) struct Batch<'r, 'k> {
    ruleset: &'r mut Ruleset,
    kernel: &'k KernelProfile,
    index: Index,
}

impl<'r, 'k> Batch<'r, 'k> {
    pub(crate) fn new(ruleset: &'r mut Ruleset, kernel: &'k KernelProfile) -> Self {
        let index = Index::of(&ruleset.services);
        Batch {
            ruleset,
            kernel,
            index,
        }
    }

    /// [`Ruleset::apply`], with the batch's kernel.
    pub(crate) fn apply(&mut self, command: &Command) -> Result<(), Refusal> {
        self.ruleset
            .apply_indexed(command, self.kernel, &mut self.index)
    }
}

/// Where each service is in a ruleset's `services`, for bulk work; `None` searches linearly
/// (for a single command, building the index would cost more than the search).
struct Index(Option<Hashed>);

/// The hash index, and the service found last: rule files name one service on many lines in
/// a row (`-A`, then its `-a` lines), and comparing a key costs less than hashing it.
struct Hashed {
    map: HashMap<Key, usize>,
    last: Option<(ServiceKey, usize)>,
}

/// A service key hashed in one or two words: the derived `Hash` feeds the hasher field by
/// field, which costs more than the rest of the lookup. Keys that differ may share a hash;
/// equality still tells them apart.
#[derive(PartialEq, Eq)]
struct Key(ServiceKey);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            ServiceKey::Inet { protocol, addr } => {
                let rest = (u64::from(addr.port()) << 16) | u64::from(protocol.number());
                match addr.ip() {
                    IpAddr::V4(ip) => state.write_u64((u64::from(u32::from(ip)) << 32) | rest),
                    IpAddr::V6(ip) => {
                        state.write_u128(u128::from(ip));
                        state.write_u64(rest);
                    }
                }
            }
            ServiceKey::FwMark { family, mark } => {
                state.write_u64((u64::from(*mark) << 32) | u64::from(family.af()));
            }
        }
    }
}

impl Index {
    fn linear() -> Index {
        Index(None)
    }

    fn of(services: &[VirtualService]) -> Index {
        let map = services
            .iter()
            .enumerate()
            .map(|(i, vs)| (Key(vs.service.key), i))
            .collect();
        Index(Some(Hashed { map, last: None }))
    }

    fn find(&mut self, services: &[VirtualService], key: &ServiceKey) -> Option<usize> {
        match &mut self.0 {
            Some(hashed) => {
                if let Some((last, at)) = &hashed.last {
                    if last == key {
                        return Some(*at);
                    }
                }
                let at = hashed.map.get(&Key(*key)).copied()?;
                hashed.last = Some((*key, at));
                Some(at)
            }
            None => services.iter().position(|vs| vs.service.key == *key),
        }
    }

    fn pushed(&mut self, key: ServiceKey, at: usize) {
        if let Some(hashed) = &mut self.0 {
            hashed.map.insert(Key(key), at);
            hashed.last = Some((key, at));
        }
    }

    fn rebuild(&mut self, services: &[VirtualService]) {
        if self.0.is_some() {
            *self = Index::of(services);
        }
    }
}

/// The checks of the kernel's `ip_vs_add_service`/`ip_vs_edit_service`.
fn check_service(op: Operation, svc: &Service, kernel: &KernelProfile) -> Result<(), Refusal> {
    if !kernel.has_scheduler(&svc.scheduler) {
        return Err(Refusal::new(op, errno::ENOENT)
            .because(format!("no scheduler module ip_vs_{}", svc.scheduler)));
    }
    if let Some(pe) = &svc.pe {
        if !kernel.has_engine(pe) {
            return Err(Refusal::new(op, errno::ENOENT)
                .because(format!("no persistence engine module ip_vs_pe_{pe}")));
        }
    }
    if let Some(p) = &svc.persistence {
        let fits = match (p.netmask, svc.key.family()) {
            (Netmask::V4(_), crate::Family::Inet) => true,
            (Netmask::V6(plen), crate::Family::Inet6) => (1..=128).contains(&plen),
            _ => false,
        };
        if !fits {
            return Err(Refusal::new(op, errno::EINVAL).because(format!(
                "persistence netmask {} does not fit the service",
                p.netmask
            )));
        }
    }
    Ok(())
}

/// The checks of the kernel's `ip_vs_genl_set_cmd` and `ip_vs_add_dest`/`ip_vs_edit_dest`,
/// in the kernel's order.
fn check_destination(
    op: Operation,
    service: &ServiceKey,
    d: &Destination,
    daemons_run: bool,
) -> Result<(), Refusal> {
    let refuse = |errno: i32, why: String| Err(Refusal::new(op, errno).because(why));
    if d.family() != service.family() {
        if daemons_run {
            return refuse(
                errno::EINVAL,
                "mixed-family real servers while a sync daemon runs".into(),
            );
        }
        if !matches!(d.forward, Forward::Tunnel(_)) {
            return refuse(
                errno::EINVAL,
                "a real server of another family than its service needs tunnelling (-i)".into(),
            );
        }
    }
    if d.weight < 0 {
        return refuse(errno::ERANGE, format!("weight {} is negative", d.weight));
    }
    if d.lower_threshold > d.upper_threshold {
        return refuse(
            errno::ERANGE,
            format!(
                "lower threshold {} is above upper threshold {}",
                d.lower_threshold, d.upper_threshold
            ),
        );
    }
    if let Forward::Tunnel(t) = &d.forward {
        if t.kind == crate::TunnelType::Gue && t.port == 0 {
            return refuse(errno::EINVAL, "a gue tunnel needs a port".into());
        }
    }
    Ok(())
}

/// Whether the kernel takes `ip` as a real server in a fresh namespace (`inet_addr_type` is
/// unicast, or `ipv6_addr_type` is unicast and not link-local).
pub(crate) fn unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(o[0] == 0 || a.is_broadcast() || a.is_multicast())
        }
        IpAddr::V6(a) => {
            let seg = a.segments();
            !(a.is_unspecified()
                || a.is_multicast()
                || (seg[0] & 0xffc0) == 0xfe80
                || a.to_ipv4_mapped().is_some())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RefusalKind;

    fn key() -> ServiceKey {
        ServiceKey::tcp("10.0.0.13:80".parse().unwrap())
    }

    fn add_dest(addr: &str) -> Command {
        Command::AddDestination {
            service: key(),
            destination: Destination::new(addr.parse().unwrap()),
        }
    }

    #[test]
    fn kernel_refusals() {
        let mut r = Ruleset::new();
        assert_eq!(
            r.apply(&add_dest("192.168.8.14:80")).unwrap_err().kind(),
            RefusalKind::NoSuchService
        );
        r.apply(&Command::AddService(Service::new(key()))).unwrap();
        let again = r
            .apply(&Command::AddService(Service::new(key())))
            .unwrap_err();
        assert_eq!(again.kind(), RefusalKind::ServiceExists);
        r.apply(&add_dest("192.168.8.14:80")).unwrap();
        assert_eq!(
            r.apply(&add_dest("192.168.8.14:80")).unwrap_err().kind(),
            RefusalKind::DestinationExists
        );
        assert_eq!(
            r.apply(&add_dest("224.0.0.1:80")).unwrap_err().kind(),
            RefusalKind::InvalidArgument
        );
        let mut bad = Destination::new("192.168.8.15:80".parse().unwrap());
        bad.lower_threshold = 3;
        let e = r
            .apply(&Command::AddDestination {
                service: key(),
                destination: bad,
            })
            .unwrap_err();
        assert_eq!(e.kind(), RefusalKind::OutOfRange);
        let unknown = Service::new(key()).with_scheduler("nosuch");
        let e = r.apply(&Command::EditService(unknown)).unwrap_err();
        assert_eq!(e.kind(), RefusalKind::SchedulerNotFound);
        assert_eq!(r.service(&key()).unwrap().destinations.len(), 1);
    }

    #[test]
    fn new_destinations_come_first_and_equality_ignores_order() {
        let mut a = Ruleset::new();
        a.apply(&Command::AddService(Service::new(key()))).unwrap();
        a.apply(&add_dest("192.168.8.14:80")).unwrap();
        a.apply(&add_dest("192.168.8.15:80")).unwrap();
        let addrs: Vec<_> = a.services[0]
            .destinations
            .iter()
            .map(|d| d.addr.to_string())
            .collect();
        assert_eq!(addrs, ["192.168.8.15:80", "192.168.8.14:80"]);
        let mut b = a.clone();
        b.services[0].destinations.reverse();
        assert_eq!(a, b);
        b.services[0].destinations[0].weight = 2;
        assert_ne!(a, b);
    }
}
