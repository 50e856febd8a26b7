//! A whole IPVS configuration: services with their real servers, timeouts and sync daemons;
//! and the kernel's rules for changing it, so that rule files can be checked with no kernel.

use crate::{
    Command, DaemonRole, Destination, Family, Forward, Netmask, Operation, Refusal, Scheduler,
    Service, ServiceKey, SyncDaemon, Timeouts, ValidationError, errno, validate,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// A service with its real servers.
///
/// Equality compares the real servers as a multiset: two virtual services are equal when
/// they have the same service and the same real servers, each as many times, in any order.
///
/// ```
/// use lvs_core::{Destination, Service, ServiceKey, VirtualService};
/// let mut a = VirtualService::new(Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?)));
/// a.destinations.push(Destination::new("192.168.8.14:80".parse()?));
/// a.destinations.push(Destination::new("192.168.8.15:80".parse()?));
/// let mut b = a.clone();
/// b.destinations.reverse();
/// assert_eq!(a, b);
/// b.destinations[0].weight = 2;
/// assert_ne!(a, b);
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualService {
    /// The service.
    pub service: Service,
    /// Its real servers. Order carries no meaning for equality; commands applied through
    /// [`Ruleset::execute`] put new servers first, as the kernel lists them.
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
}

impl PartialEq for VirtualService {
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service && same_items(&self.destinations, &other.destinations)
    }
}

/// Whether `a` and `b` hold the same items, each as many times, in any order.
fn same_items<T: Eq + Hash>(a: &[T], b: &[T]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // In the same order (a table compared with what was read back from it): no counting.
    if a == b {
        return true;
    }
    if a.len() < LARGE {
        let count = |list: &[T], x: &T| list.iter().filter(|y| *y == x).count();
        return a.iter().all(|x| count(a, x) == count(b, x));
    }
    // A search per item would cost the square of their number.
    let mut counts: HashMap<&T, usize> = HashMap::with_capacity(a.len());
    for x in a {
        *counts.entry(x).or_default() += 1;
    }
    b.iter().all(|x| match counts.get_mut(x) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    })
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
                    .is_some_and(|i| *vs == other.services[i])
            })
            && self.timeouts == other.timeouts
            && self.daemons.len() == other.daemons.len()
            && self.daemons.iter().all(|d| other.daemons.contains(d))
    }
}

/// Which schedulers and persistence engines the simulated kernel has, for
/// [`Ruleset::execute_with`].
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
    /// model.execute_all(&[Command::AddService(custom)], &KernelProfile::ANY).map_err(|(_, r)| r)?;
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

    /// Carries out `command` as the kernel would, or says why the kernel would refuse it (and
    /// changes nothing). The kernel is Debian's ([`KernelProfile::default`]) in a fresh
    /// network namespace. One command searches the vectors as they are (its cost grows with
    /// the service's real servers); many go through [`Ruleset::execute_all`], whose cost per
    /// command stays flat.
    pub fn execute(&mut self, command: &Command) -> Result<(), Refusal> {
        self.execute_with(command, &KernelProfile::default())
    }

    /// [`Ruleset::execute`] for a kernel with other modules.
    pub fn execute_with(
        &mut self,
        command: &Command,
        kernel: &KernelProfile,
    ) -> Result<(), Refusal> {
        self.execute_indexed(command, kernel, &mut Index::linear())
    }

    /// Carries out many commands in order, as [`Ruleset::execute`] would one by one, stopping at
    /// the first refusal (with its position in `commands`); the ones before it stay executed. Finds
    /// services, and the real servers of large services, through hash indexes, so the cost
    /// stays flat per command however large the ruleset or one service; the vectors end in
    /// the order [`Ruleset::execute`] gives.
    pub fn execute_all<'c>(
        &mut self,
        commands: impl IntoIterator<Item = &'c Command>,
        kernel: &KernelProfile,
    ) -> Result<(), (usize, Refusal)> {
        let mut batch = Batch::new(self, kernel);
        for (i, command) in commands.into_iter().enumerate() {
            batch.execute(command).map_err(|r| (i, r))?;
        }
        Ok(())
    }

    /// Carries out each command in order, as [`Ruleset::execute_with`] would one by one, going
    /// on after a refusal, as the kernel does with pipelined requests: one result per command.
    /// Finds services through hash indexes, as [`Ruleset::execute_all`] does, so the cost
    /// stays flat per command however large the ruleset (what lvs-netlink's fake kernel
    /// does with each datagram of requests).
    ///
    /// ```
    /// use lvs_core::{Command, KernelProfile, Ruleset, Service, ServiceKey};
    ///
    /// let svc = Service::new(ServiceKey::tcp("10.0.0.13:80".parse()?));
    /// let commands = [
    ///     Command::AddService(svc.clone()),
    ///     Command::AddService(svc.clone()), // refused: it exists
    ///     Command::DeleteService(svc.key),
    /// ];
    /// let mut r = Ruleset::new();
    /// let results = r.execute_each(&commands, &KernelProfile::default());
    /// assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
    /// assert!(r.services.is_empty());
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    pub fn execute_each<'c>(
        &mut self,
        commands: impl IntoIterator<Item = &'c Command>,
        kernel: &KernelProfile,
    ) -> Vec<Result<(), Refusal>> {
        let mut batch = Batch::new(self, kernel);
        commands.into_iter().map(|c| batch.execute(c)).collect()
    }

    /// [`Ruleset::execute_with`] finding services through `index`: a linear search for one
    /// command, hash maps for a batch. Each command with more than a line to it has a method of
    /// its own below.
    fn execute_indexed(
        &mut self,
        command: &Command,
        kernel: &KernelProfile,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        let op = command.operation();
        match command {
            Command::AddService(svc) => self.add_service(op, svc, kernel, index),
            Command::EditService(svc) => self.edit_service(op, svc, kernel, index),
            Command::DeleteService(key) => self.delete_service(op, key, index),
            Command::Flush => {
                index.clear(&mut self.services);
                Ok(())
            }
            Command::AddDestination {
                service,
                destination,
            }
            | Command::EditDestination {
                service,
                destination,
            } => self.put_destination(op, service, destination, index),
            Command::DeleteDestination { service, addr } => {
                self.delete_destination(op, service, addr, index)
            }
            Command::Zero(Some(key)) => index.existing(&self.services, key, op).map(|_| ()),
            Command::Zero(None) => Ok(()),
            Command::SetTimeouts(t) => {
                let current = self.timeouts.unwrap_or(Timeouts::KERNEL_DEFAULT);
                self.timeouts = Some(t.over(current));
                Ok(())
            }
            Command::StartDaemon(d) => self.start_daemon(op, d, index),
            Command::StopDaemon(role) => self.stop_daemon(op, *role),
        }
    }

    fn add_service(
        &mut self,
        op: Operation,
        svc: &Service,
        kernel: &KernelProfile,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        if index.find(&self.services, &svc.key).is_some() {
            return Err(Refusal::new(op, errno::EEXIST));
        }
        check_service(op, svc, kernel)?;
        self.services.push(VirtualService::new(svc.clone()));
        index.pushed(svc.key, self.services.len() - 1);
        Ok(())
    }

    fn edit_service(
        &mut self,
        op: Operation,
        svc: &Service,
        kernel: &KernelProfile,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        let i = index.existing(&self.services, &svc.key, op)?;
        check_service(op, svc, kernel)?;
        self.services[i].service = svc.clone();
        Ok(())
    }

    fn delete_service(
        &mut self,
        op: Operation,
        key: &ServiceKey,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        let i = index.existing(&self.services, key, op)?;
        index.remove_service(&mut self.services, i);
        Ok(())
    }

    /// Adds (`op` is [`Operation::AddDestination`]) or edits a real server.
    fn put_destination(
        &mut self,
        op: Operation,
        service: &ServiceKey,
        d: &Destination,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        let refuse = |errno: i32| Refusal::new(op, errno);
        let daemons_run = !self.daemons.is_empty();
        let i = index.existing(&self.services, service, op)?;
        check_destination(op, &self.services[i].service.key, d, daemons_run)?;
        let mut dests = index.destinations(&mut self.services, i);
        match (op, dests.find(&d.addr)) {
            (Operation::AddDestination, Some(_)) => return Err(refuse(errno::EEXIST)),
            (Operation::AddDestination, None) => {
                if !validate::unicast(&d.addr.ip()) {
                    return Err(refuse(errno::EINVAL)
                        .because(format!("{} is not a unicast address", d.addr.ip())));
                }
                dests.add(*d);
            }
            (_, Some(at)) => dests.set(at, *d),
            (_, None) => return Err(refuse(errno::ENOENT)),
        }
        Ok(())
    }

    fn delete_destination(
        &mut self,
        op: Operation,
        service: &ServiceKey,
        addr: &SocketAddr,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        let i = index.existing(&self.services, service, op)?;
        let mut dests = index.destinations(&mut self.services, i);
        let at = dests
            .find(addr)
            .ok_or_else(|| Refusal::new(op, errno::ENOENT))?;
        dests.remove(at);
        Ok(())
    }

    fn start_daemon(
        &mut self,
        op: Operation,
        d: &SyncDaemon,
        index: &mut Index,
    ) -> Result<(), Refusal> {
        if self.daemons.iter().any(|x| x.role == d.role) {
            return Err(Refusal::new(op, errno::EEXIST));
        }
        if index.has_mixed_family(&self.services) {
            return Err(Refusal::new(op, errno::EINVAL)
                .because("sync daemons cannot run beside mixed-family real servers"));
        }
        self.daemons.push(d.clone());
        Ok(())
    }

    fn stop_daemon(&mut self, op: Operation, role: DaemonRole) -> Result<(), Refusal> {
        let before = self.daemons.len();
        self.daemons.retain(|x| x.role != role);
        if self.daemons.len() == before {
            return Err(Refusal::new(op, errno::ESRCH));
        }
        Ok(())
    }

    /// The running daemon of `role`.
    pub fn daemon(&self, role: DaemonRole) -> Option<&SyncDaemon> {
        self.daemons.iter().find(|d| d.role == role)
    }
}

/// How many real servers a service has before a batch indexes them by address (see
/// [`Dests`]), and before equality compares them through a hash map: below it, searching
/// the vector costs less than hashing.
const LARGE: usize = 32;

/// Commands applied one after another to one ruleset, as [`Ruleset::execute_all`] applies them,
/// for callers that have them one at a time (a rule file read as it is parsed). Each command
/// costs the same however many services and real servers the ruleset holds: the ruleset's
/// vectors are brought back to [`Ruleset::execute`]'s order when the batch is dropped.
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

    /// [`Ruleset::execute`], with the batch's kernel.
    pub(crate) fn execute(&mut self, command: &Command) -> Result<(), Refusal> {
        self.ruleset
            .execute_indexed(command, self.kernel, &mut self.index)
    }
}

impl Drop for Batch<'_, '_> {
    fn drop(&mut self) {
        self.index.settle(&mut self.ruleset.services);
    }
}

/// Where each service is in a ruleset's `services`, for bulk work; `None` searches linearly
/// and changes the vectors in place (for a single command, building the index would cost more
/// than the search).
struct Index(Option<Hashed>);

/// The hash index, and what a batch keeps aside until it ends.
struct Hashed {
    map: HashMap<Key, usize>,
    /// The service found last: rule files name one service on many lines in a row (`-A`,
    /// then its `-a` lines), and comparing a key costs less than hashing it.
    last: Option<(ServiceKey, usize)>,
    /// Services deleted during the batch, which stay in the vector (out of `map`) until
    /// [`Index::settle`]: removing each at once would shift every service after it and
    /// renumber the map.
    removed: Vec<usize>,
    /// The real servers of large services (by position in the vector), kept aside while
    /// the batch runs.
    large: HashMap<usize, Large>,
    /// How many real servers are of another family than their service, once counted (for
    /// `--start-daemon`, which the kernel refuses beside any).
    mixed: Option<usize>,
}

/// A large service's real servers during a batch.
enum Large {
    /// Indexed by address.
    Indexed(Dests),
    /// Left in the vector: the same address is there twice (a ruleset built by hand), which
    /// the index could not tell apart.
    Repeated,
}

/// A service's real servers, oldest first so that a new one is pushed at the end (the
/// kernel lists the newest first: the vector is rebuilt reversed at the end), with the slot
/// of each address. A deleted server leaves an empty slot, so that the others keep theirs.
struct Dests {
    slots: Vec<Option<Destination>>,
    at: HashMap<SocketAddr, usize>,
}

impl Dests {
    /// Takes the real servers out of `list` (newest first), or leaves them when an address
    /// is there twice.
    fn take(list: &mut Vec<Destination>) -> Option<Dests> {
        let mut at = HashMap::with_capacity(list.len());
        for (slot, d) in list.iter().rev().enumerate() {
            if at.insert(d.addr, slot).is_some() {
                return None;
            }
        }
        let slots = std::mem::take(list).into_iter().rev().map(Some).collect();
        Some(Dests { slots, at })
    }

    fn remove(&mut self, slot: usize) {
        if let Some(d) = self.slots.get_mut(slot).and_then(Option::take) {
            self.at.remove(&d.addr);
        }
        // Empty slots never outnumber the servers for long.
        if self.slots.len() > 2 * self.at.len() + LARGE {
            self.slots.retain(Option::is_some);
            self.at.clear();
            for (slot, d) in self.slots.iter().enumerate() {
                if let Some(d) = d {
                    self.at.insert(d.addr, slot);
                }
            }
        }
    }

    /// The real servers newest first, as [`Ruleset::execute`] orders them.
    fn into_vec(self) -> Vec<Destination> {
        self.slots.into_iter().rev().flatten().collect()
    }

    fn iter(&self) -> impl Iterator<Item = &Destination> {
        self.slots.iter().flatten()
    }
}

/// One service's real servers as a command changes them, wherever they are kept.
struct DestList<'a> {
    place: Place<'a>,
    /// The batch's count of mixed-family real servers, when it keeps one, and the service's
    /// family.
    mixed: Option<(&'a mut usize, Family)>,
}

enum Place<'a> {
    /// The vector itself, newest first.
    Vec(&'a mut Vec<Destination>),
    /// A batch's index.
    Indexed(&'a mut Dests),
}

impl DestList<'_> {
    /// Where the real server at `addr` is.
    #[inline(always)]
    fn find(&self, addr: &SocketAddr) -> Option<usize> {
        match &self.place {
            Place::Vec(v) => v.iter().position(|x| x.addr == *addr),
            Place::Indexed(d) => d.at.get(addr).copied(),
        }
    }

    /// Adds a real server, as the newest.
    #[inline(always)]
    fn add(&mut self, d: Destination) {
        match &mut self.place {
            // The kernel lists the newest real server first.
            Place::Vec(v) => v.insert(0, d),
            Place::Indexed(x) => {
                x.at.insert(d.addr, x.slots.len());
                x.slots.push(Some(d));
            }
        }
        if let Some((m, family)) = &mut self.mixed {
            if d.family() != *family {
                **m += 1;
            }
        }
    }

    /// Replaces the real server at `at` (found by [`DestList::find`]).
    fn set(&mut self, at: usize, d: Destination) {
        match &mut self.place {
            Place::Vec(v) => v[at] = d,
            Place::Indexed(x) => x.slots[at] = Some(d),
        }
    }

    /// Removes the real server at `at` (found by [`DestList::find`]).
    fn remove(&mut self, at: usize) {
        let gone = match &mut self.place {
            Place::Vec(v) => v.remove(at),
            Place::Indexed(x) => match x.slots.get(at).copied().flatten() {
                Some(d) => {
                    x.remove(at);
                    d
                }
                None => return,
            },
        };
        if let Some((m, family)) = &mut self.mixed {
            if gone.family() != *family {
                **m -= 1;
            }
        }
    }
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

/// Counts the real servers of another family than their service.
fn count_mixed<'d>(family: Family, dests: impl Iterator<Item = &'d Destination>) -> usize {
    dests.filter(|d| d.family() != family).count()
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
        Index(Some(Hashed {
            map,
            last: None,
            removed: Vec::new(),
            large: HashMap::new(),
            mixed: None,
        }))
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

    /// Where the service with `key` is, or the kernel's refusal of `op` on a service that does
    /// not exist (ESRCH: "No such service").
    fn existing(
        &mut self,
        services: &[VirtualService],
        key: &ServiceKey,
        op: Operation,
    ) -> Result<usize, Refusal> {
        self.find(services, key)
            .ok_or_else(|| Refusal::new(op, errno::ESRCH))
    }

    fn pushed(&mut self, key: ServiceKey, at: usize) {
        if let Some(hashed) = &mut self.0 {
            hashed.map.insert(Key(key), at);
            hashed.last = Some((key, at));
        }
    }

    /// Deletes the service at `at` (found by [`Index::find`]).
    fn remove_service(&mut self, services: &mut Vec<VirtualService>, at: usize) {
        let Some(h) = &mut self.0 else {
            services.remove(at);
            return;
        };
        let Some(vs) = services.get(at) else { return };
        let family = vs.service.key.family();
        h.map.remove(&Key(vs.service.key));
        if h.last.is_some_and(|(_, i)| i == at) {
            h.last = None;
        }
        let large = h.large.remove(&at);
        if let Some(m) = &mut h.mixed {
            *m -= match &large {
                Some(Large::Indexed(d)) => count_mixed(family, d.iter()),
                _ => count_mixed(family, vs.destinations.iter()),
            };
        }
        h.removed.push(at);
    }

    /// Deletes every service.
    fn clear(&mut self, services: &mut Vec<VirtualService>) {
        services.clear();
        if let Some(h) = &mut self.0 {
            h.map.clear();
            h.last = None;
            h.removed.clear();
            h.large.clear();
            h.mixed = Some(0);
        }
    }

    /// The real servers of the service at `i`, indexed by address once there are many.
    // Always inlined (as are `find` and `add`): on the common path (a small service) it
    // comes down to two tests, and a call cost more than the work.
    #[inline(always)]
    fn destinations<'a>(
        &'a mut self,
        services: &'a mut [VirtualService],
        i: usize,
    ) -> DestList<'a> {
        let vs = &mut services[i];
        let Some(Hashed { large, mixed, .. }) = &mut self.0 else {
            return DestList {
                place: Place::Vec(&mut vs.destinations),
                mixed: None,
            };
        };
        let mixed = mixed.as_mut().map(|m| (m, vs.service.key.family()));
        // Small services (nearly all) never touch the map.
        if large.is_empty() && vs.destinations.len() < LARGE {
            return DestList {
                place: Place::Vec(&mut vs.destinations),
                mixed,
            };
        }
        let place = match large.entry(i) {
            Entry::Occupied(e) => match e.into_mut() {
                Large::Indexed(d) => Place::Indexed(d),
                Large::Repeated => Place::Vec(&mut vs.destinations),
            },
            Entry::Vacant(e) if vs.destinations.len() >= LARGE => {
                match Dests::take(&mut vs.destinations) {
                    Some(d) => match e.insert(Large::Indexed(d)) {
                        Large::Indexed(d) => Place::Indexed(d),
                        Large::Repeated => Place::Vec(&mut vs.destinations),
                    },
                    None => {
                        e.insert(Large::Repeated);
                        Place::Vec(&mut vs.destinations)
                    }
                }
            }
            Entry::Vacant(_) => Place::Vec(&mut vs.destinations),
        };
        DestList { place, mixed }
    }

    /// Whether any real server is of another family than its service.
    fn has_mixed_family(&mut self, services: &[VirtualService]) -> bool {
        let Some(h) = &mut self.0 else {
            return services.iter().any(|vs| {
                let family = vs.service.key.family();
                vs.destinations.iter().any(|d| d.family() != family)
            });
        };
        let count = *h.mixed.get_or_insert_with(|| {
            let mut gone = vec![false; services.len()];
            for &i in &h.removed {
                gone[i] = true;
            }
            services
                .iter()
                .enumerate()
                .filter(|(i, _)| !gone[*i])
                .map(|(i, vs)| {
                    let family = vs.service.key.family();
                    match h.large.get(&i) {
                        Some(Large::Indexed(d)) => count_mixed(family, d.iter()),
                        _ => count_mixed(family, vs.destinations.iter()),
                    }
                })
                .sum()
        });
        count > 0
    }

    /// Puts back what the batch kept aside: the large services' real servers, newest first,
    /// and the deleted services out of the vector.
    fn settle(&mut self, services: &mut Vec<VirtualService>) {
        let Some(h) = &mut self.0 else { return };
        for (i, large) in h.large.drain() {
            if let (Large::Indexed(d), Some(vs)) = (large, services.get_mut(i)) {
                vs.destinations = d.into_vec();
            }
        }
        if !h.removed.is_empty() {
            let mut gone = vec![false; services.len()];
            for &i in &h.removed {
                gone[i] = true;
            }
            let mut i = 0;
            services.retain(|_| {
                i += 1;
                !gone[i - 1]
            });
            *self = Index::of(services);
        }
    }
}

/// The checks of the kernel's `ip_vs_add_service`/`ip_vs_edit_service`.
fn check_service(op: Operation, svc: &Service, kernel: &KernelProfile) -> Result<(), Refusal> {
    if !kernel.has_scheduler(&svc.scheduler) {
        return Err(Refusal::new(op, errno::ENOENT).because(format!(
            "no scheduler module ip_vs_{}",
            crate::shown::shown(svc.scheduler.name())
        )));
    }
    if let Some(pe) = &svc.pe {
        if !kernel.has_engine(pe) {
            return Err(Refusal::new(op, errno::ENOENT).because(format!(
                "no persistence engine module ip_vs_pe_{}",
                crate::shown::shown(pe)
            )));
        }
    }
    if let Some(p) = &svc.persistence {
        validate::netmask(p.netmask, svc.key.family()).map_err(|e| refused(op, e))?;
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
    if d.family() != service.family() && daemons_run {
        return refuse(
            errno::EINVAL,
            "mixed-family real servers while a sync daemon runs".into(),
        );
    }
    validate::mixed_family(&d.forward, d.family(), service.family())
        .and_then(|()| validate::weight(d.weight))
        .and_then(|()| validate::thresholds(d.lower_threshold, d.upper_threshold))
        .and_then(|()| match &d.forward {
            Forward::Tunnel(t) => validate::gue_port(t),
            _ => Ok(()),
        })
        .map_err(|e| refused(op, e))
}

/// The kernel's refusal of a real server or service that breaks one of [`validate`]'s rules:
/// its errno, and why.
fn refused(op: Operation, e: ValidationError) -> Refusal {
    let (errno, why) = match e {
        ValidationError::NetmaskFamily { mask, .. } => (errno::EINVAL, mask_misfit(mask)),
        ValidationError::Ipv6Prefix(plen) => (errno::EINVAL, mask_misfit(Netmask::V6(plen))),
        ValidationError::MixedFamily => (
            errno::EINVAL,
            "a real server of another family than its service needs tunnelling (-i)".into(),
        ),
        ValidationError::NegativeWeight(w) => (errno::ERANGE, format!("weight {w} is negative")),
        ValidationError::ThresholdOrder { lower, upper } => (
            errno::ERANGE,
            format!("lower threshold {lower} is above upper threshold {upper}"),
        ),
        ValidationError::GueNeedsPort => (errno::EINVAL, "a gue tunnel needs a port".into()),
        other => (errno::EINVAL, other.to_string()),
    };
    Refusal::new(op, errno).because(why)
}

fn mask_misfit(mask: Netmask) -> String {
    format!("persistence netmask {mask} does not fit the service")
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
            r.execute(&add_dest("192.168.8.14:80")).unwrap_err().kind(),
            RefusalKind::NoSuchService
        );
        r.execute(&Command::AddService(Service::new(key())))
            .unwrap();
        let again = r
            .execute(&Command::AddService(Service::new(key())))
            .unwrap_err();
        assert_eq!(again.kind(), RefusalKind::ServiceExists);
        r.execute(&add_dest("192.168.8.14:80")).unwrap();
        assert_eq!(
            r.execute(&add_dest("192.168.8.14:80")).unwrap_err().kind(),
            RefusalKind::DestinationExists
        );
        assert_eq!(
            r.execute(&add_dest("224.0.0.1:80")).unwrap_err().kind(),
            RefusalKind::InvalidArgument
        );
        let mut bad = Destination::new("192.168.8.15:80".parse().unwrap());
        bad.lower_threshold = 3;
        let e = r
            .execute(&Command::AddDestination {
                service: key(),
                destination: bad,
            })
            .unwrap_err();
        assert_eq!(e.kind(), RefusalKind::OutOfRange);
        let unknown = Service::new(key()).with_scheduler("nosuch");
        let e = r.execute(&Command::EditService(unknown)).unwrap_err();
        assert_eq!(e.kind(), RefusalKind::SchedulerNotFound);
        assert_eq!(r.service(&key()).unwrap().destinations.len(), 1);
    }

    #[test]
    fn new_destinations_come_first_and_equality_ignores_order() {
        let mut a = Ruleset::new();
        a.execute(&Command::AddService(Service::new(key())))
            .unwrap();
        a.execute(&add_dest("192.168.8.14:80")).unwrap();
        a.execute(&add_dest("192.168.8.15:80")).unwrap();
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

    #[test]
    fn virtual_services_compare_real_servers_as_a_multiset() {
        let dest = |i: u32, weight: i32| Destination {
            weight,
            ..Destination::new(std::net::SocketAddr::from((
                std::net::Ipv4Addr::from(0xc0a8_0800 + i),
                80,
            )))
        };
        let vs = |dests: Vec<Destination>| VirtualService {
            destinations: dests,
            ..VirtualService::new(Service::new(key()))
        };
        // Below and above the size where counting goes through a hash map.
        for n in [3, LARGE as u32 + 5] {
            let forward: Vec<_> = (0..n).map(|i| dest(i, 1)).collect();
            let mut rotated = forward.clone();
            rotated.rotate_left(1);
            assert_eq!(vs(forward.clone()), vs(rotated.clone()), "n={n}");
            // The same addresses with one weight changed, or one server left out.
            rotated[0].weight = 2;
            assert_ne!(vs(forward.clone()), vs(rotated), "n={n}");
            assert_ne!(vs(forward[1..].to_vec()), vs(forward.clone()), "n={n}");
            // A repeated server counts as many times as it is there (a ruleset built by
            // hand): [a, a, b] and [a, b, b] differ, both ways.
            let mut twice_first = forward.clone();
            twice_first[1] = forward[0];
            let mut twice_last = forward.clone();
            twice_last[0] = forward[1];
            assert_ne!(vs(twice_first.clone()), vs(twice_last.clone()), "n={n}");
            assert_ne!(vs(twice_last), vs(twice_first.clone()), "n={n}");
            // One address at two weights is still equal to itself, reversed or not.
            let mut clash = forward.clone();
            clash[1] = dest(0, 7);
            assert_eq!(vs(clash.clone()), vs(clash.clone()), "n={n}");
            let mut reversed = clash.clone();
            reversed.reverse();
            assert_eq!(vs(clash), vs(reversed), "n={n}");
        }
        let mut other = vs(vec![dest(1, 1)]);
        other.service.scheduler = Scheduler::from("wrr");
        assert_ne!(vs(vec![dest(1, 1)]), other);
    }

    /// Random commands over a few services and many real servers (v4 and v6, so that some
    /// are mixed-family), with deletes, re-adds, edits, service deletes, flushes and daemons.
    fn random_commands(seed: u64, count: usize) -> Vec<Command> {
        let keys = [
            ServiceKey::tcp("10.0.0.1:80".parse().unwrap()),
            ServiceKey::tcp("[2001:db8::1]:80".parse().unwrap()),
            ServiceKey::fwmark(crate::Family::Inet, 7),
        ];
        let mut x = seed | 1;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        (0..count)
            .map(|_| {
                let key = keys[next(3) as usize];
                let n = next(250);
                let addr: SocketAddr = if n % 9 == 0 {
                    format!("[2001:db8::{n:x}]:8080").parse().unwrap()
                } else {
                    format!("192.168.{}.{}:8080", n % 3, n / 3).parse().unwrap()
                };
                // Tunnelled, so that a server of the other family is taken.
                let d = Destination::new(addr)
                    .with_forward(Forward::Tunnel(crate::Tunnel::IPIP))
                    .with_weight(next(5) as i32);
                match next(100) {
                    0..=49 => Command::AddDestination {
                        service: key,
                        destination: d,
                    },
                    50..=59 => Command::DeleteDestination { service: key, addr },
                    60..=69 => Command::EditDestination {
                        service: key,
                        destination: d,
                    },
                    70..=79 => Command::AddService(Service::new(key)),
                    80..=82 => Command::DeleteService(key),
                    83 if next(4) == 0 => Command::Flush,
                    83 | 84 => Command::Zero(Some(key)),
                    85..=89 => Command::StartDaemon(SyncDaemon::new(DaemonRole::Master, "eth0", 1)),
                    90..=94 => Command::StopDaemon(DaemonRole::Master),
                    _ => Command::EditService(Service::new(key).with_scheduler("rr")),
                }
            })
            .collect()
    }

    /// Each service with its real servers in their order (`VirtualService`'s equality
    /// ignores the order, which these tests check).
    fn in_order(r: &Ruleset) -> Vec<(&Service, &[Destination])> {
        r.services
            .iter()
            .map(|vs| (&vs.service, vs.destinations.as_slice()))
            .collect()
    }

    /// The batch (indexed real servers, deleted services kept aside) and `execute_each` give
    /// what commands applied one at a time give, refusals and the order of every vector
    /// included.
    #[test]
    fn a_batch_is_execute_one_by_one() {
        let kernel = KernelProfile::default();
        let mut large = 0;
        for seed in 0..200u64 {
            let commands = random_commands(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 1500);
            let mut start = Ruleset::new();
            if seed % 3 == 0 {
                // A ruleset that already holds services and real servers.
                for c in &commands[..150] {
                    let _ = start.execute(c);
                }
            }
            let mut one = start.clone();
            let mut all = start.clone();
            let mut batch = Batch::new(&mut all, &kernel);
            let mut most = None;
            let mut results = Vec::with_capacity(commands.len());
            for (i, c) in commands.iter().enumerate() {
                let (a, b) = (one.execute(c), batch.execute(c));
                assert_eq!(a, b, "seed {seed}, command {i}: {c:?}");
                results.push(a);
                most = most.max(one.services.iter().map(|vs| vs.destinations.len()).max());
            }
            drop(batch);
            assert_eq!(in_order(&one), in_order(&all), "seed {seed}");
            assert_eq!(one.daemons, all.daemons, "seed {seed}");
            let mut each = start.clone();
            assert_eq!(
                each.execute_each(&commands, &kernel),
                results,
                "seed {seed}"
            );
            assert_eq!(in_order(&one), in_order(&each), "seed {seed}");
            large += usize::from(most >= Some(LARGE + 16));
        }
        assert!(large > 50, "only {large} runs reached a large service");
    }

    /// Many deletes in a large service (the batch compacts its empty slots), then re-adds.
    #[test]
    fn a_batch_deletes_and_re_adds_in_order() {
        let addr = |i: u32| format!("192.168.{}.{}:80", i / 200, i % 200);
        let mut commands = vec![Command::AddService(Service::new(key()))];
        commands.extend((0..300).map(|i| add_dest(&addr(i))));
        commands.extend((0..280).map(|i| Command::DeleteDestination {
            service: key(),
            addr: addr((i * 7) % 300).parse().unwrap(),
        }));
        commands.extend((0..150).map(|i| add_dest(&addr(i * 2))));
        commands.push(Command::DeleteService(key()));
        commands.push(Command::AddService(Service::new(key())));
        commands.extend((0..100).map(|i| add_dest(&addr(i))));
        let kernel = KernelProfile::default();
        let mut one = Ruleset::new();
        let mut all = Ruleset::new();
        let mut batch = Batch::new(&mut all, &kernel);
        for c in &commands {
            assert_eq!(one.execute(c), batch.execute(c), "{c:?}");
        }
        drop(batch);
        assert_eq!(in_order(&one), in_order(&all));
        assert_eq!(all.services[0].destinations.len(), 100);
    }

    /// A hand-built ruleset may hold one address twice: the batch leaves such a service's
    /// vector as it is, and finds what a single command finds.
    #[test]
    fn a_batch_keeps_repeated_addresses_as_execute_does() {
        let mut start = Ruleset::new();
        start
            .execute(&Command::AddService(Service::new(key())))
            .unwrap();
        for i in 0..LARGE as u8 {
            start
                .execute(&add_dest(&format!("192.168.1.{i}:80")))
                .unwrap();
        }
        let twice = Destination::new("192.168.1.3:80".parse().unwrap()).with_weight(9);
        start.services[0].destinations.push(twice);
        let commands = [
            Command::DeleteDestination {
                service: key(),
                addr: twice.addr,
            },
            Command::EditDestination {
                service: key(),
                destination: twice.with_weight(4),
            },
            add_dest("192.168.2.1:80"),
        ];
        let mut one = start.clone();
        for c in &commands {
            one.execute(c).unwrap();
        }
        let mut all = start;
        all.execute_all(&commands, &KernelProfile::default())
            .unwrap();
        assert_eq!(in_order(&one), in_order(&all));
        assert_eq!(
            all.services[0].destination(&twice.addr),
            Some(&twice.with_weight(4))
        );
    }

    /// 200,000 real servers on one service: read in one batch, listed newest first. (How
    /// long it takes is measured by `cargo bench -p lvs-core --bench rules`.)
    #[test]
    fn many_real_servers_on_one_service() {
        let mut text = String::from("-A -t 10.0.0.1:80 -s rr\n");
        for i in 0..200_000u32 {
            let [_, a, b, c] = i.to_be_bytes();
            text.push_str(&format!("-a -t 10.0.0.1:80 -r 10.{a}.{b}.{c}:80 -m\n"));
        }
        let r = Ruleset::from_rules(&text).unwrap();
        let dests = &r.services[0].destinations;
        assert_eq!(dests.len(), 200_000);
        assert_eq!(dests[0].addr, "10.3.13.63:80".parse().unwrap());
        assert_eq!(dests[199_999].addr, "10.0.0.0:80".parse().unwrap());
        assert_eq!(r, r.clone());
    }
}
