//! The fake kernel's state and how it answers a datagram of requests, as the kernel's
//! `netlink_rcv_skb`, `genl_rcv_msg` and the IPVS handlers do.

use super::fault::{self, Armed, Fault};
use crate::wire::netlink::{self, Message, flags};
use crate::wire::request::{self, Call};
use crate::wire::{GenlMessage, attrs_of, ctrl, reply};
use lvs_core::{
    Command, DestinationState, Info, KernelProfile, Operation, Ruleset, ServiceKey, ServiceState,
    SyncDaemon, Timeouts, Version, VirtualService, errno,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The most a dump datagram carries: `NLMSG_GOODSIZE` with 4 KiB pages, what the kernel
/// uses for a socket that has not read into a larger buffer yet.
const DUMP_DATAGRAM: usize = 3776;
/// The kernel's `IP_VS_SVC_F_HASHED`, set on every service in the table.
const HASHED: u32 = 0x2;
/// `IPVS_CMD_ATTR_MAX`.
const MAX_CMD_ATTR: u32 = 6;

/// What the receiving side of a connection gets.
#[derive(Debug)]
pub(super) enum Delivery {
    Datagram(Vec<u8>),
    /// A receive error (`ENOBUFS` after an overrun).
    Error(i32),
}

/// The answers to one datagram: those that arrive now and those that come late.
#[derive(Debug, Default)]
pub(super) struct Answers {
    pub(super) now: Vec<Delivery>,
    pub(super) late: Vec<Delivery>,
}

/// One request, read.
enum Taken {
    /// A change to the table (with the fault that hits it), carried out with the changes
    /// around it.
    Change(Command, Option<Fault>),
    /// Any other request (`None`: the family lookup, or a request a fault refuses).
    Other(Option<Call>, Option<Fault>),
    /// Refused before any handler, with this answer.
    Answered(Vec<u8>),
}

/// The kernel behind every connection of a [`super::FakeKernel`].
#[derive(Debug)]
pub(super) struct Kernel {
    pub(super) table: Ruleset,
    pub(super) profile: KernelProfile,
    pub(super) info: Info,
    pub(super) family_id: u16,
    pub(super) ipvs: bool,
    pub(super) service_state: HashMap<ServiceKey, ServiceState>,
    /// The state of each service's real servers, by service: a deleted service's go with it.
    pub(super) dest_state: HashMap<ServiceKey, HashMap<SocketAddr, DestinationState>>,
    pub(super) conn_table: String,
    pub(super) faults: Vec<Armed>,
    pub(super) requests: Vec<Operation>,
    next_port: u32,
    /// Where each service is in `table.services`, built when first needed after a change of
    /// which services there are: a dump of every service's real servers stays linear.
    index: RefCell<Option<HashMap<ServiceKey, usize>>>,
}

impl Kernel {
    pub(super) fn new(profile: KernelProfile) -> Kernel {
        Kernel {
            table: Ruleset::new(),
            profile,
            info: Info {
                version: Version::new(1, 2, 1),
                conn_table_size: 4096,
            },
            // What the kernel of the captured goldens assigned.
            family_id: 32,
            ipvs: true,
            service_state: HashMap::new(),
            dest_state: HashMap::new(),
            conn_table: String::from(
                "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
            ),
            faults: Vec::new(),
            requests: Vec::new(),
            next_port: 4000,
            index: RefCell::new(None),
        }
    }

    /// A port id for a new connection, as the kernel's autobind gives.
    pub(super) fn port(&mut self) -> u32 {
        self.next_port = self.next_port.wrapping_add(1);
        self.next_port
    }

    /// Handles each request of `datagram` in order, as sent by the connection `port`. The
    /// changes that follow each other run as one batch ([`Ruleset::execute_each`]), so that a
    /// datagram of pipelined changes costs its own length, not a search of the table for each.
    pub(super) fn receive(&mut self, datagram: &[u8], port: u32) -> Answers {
        let mut answers = Answers::default();
        let mut changes = Vec::new();
        // The kernel stops at a message whose length is wrong, silently.
        for m in netlink::messages(datagram).map_while(Result::ok) {
            if m.flags & flags::REQUEST == 0 {
                continue;
            }
            match self.take(&m, port) {
                Taken::Change(command, fault) => changes.push((m, command, fault)),
                Taken::Answered(out) => {
                    self.run(&mut changes, port, &mut answers);
                    answers.now.push(Delivery::Datagram(out));
                }
                Taken::Other(call, fault) => {
                    self.run(&mut changes, port, &mut answers);
                    let out = match (&fault, &call) {
                        (Some(Fault::Refuse(errno)), _) => vec![ack(port, &m, *errno)],
                        (_, None) => self.family(port, &m),
                        (_, Some(call)) => self.call(call, port, &m),
                    };
                    self.deliver(&m, port, fault, out, &mut answers);
                }
            }
        }
        self.run(&mut changes, port, &mut answers);
        answers
    }

    /// What one request is, with the fault that hits it (taken now, in the order of the
    /// requests); a request the kernel refuses before any handler is answered at once.
    fn take(&mut self, m: &Message<'_>, port: u32) -> Taken {
        let dump = m.flags & flags::DUMP == flags::DUMP;
        let (op, call) = match self.read(m, dump) {
            Ok(read) => read,
            Err(errno) => {
                let mut out = Vec::new();
                netlink::append_ack(&mut out, port, m, errno);
                return Taken::Answered(out);
            }
        };
        self.requests.push(op);
        let fault = fault::take(&mut self.faults, op, call.as_ref());
        match (call, fault) {
            (_, fault @ Some(Fault::Refuse(_))) => Taken::Other(None, fault),
            (Some(Call::Command(command)), fault) => Taken::Change(command, fault),
            (call, fault) => Taken::Other(call, fault),
        }
    }

    /// Carries out the changes gathered so far as one batch, and answers each.
    fn run(
        &mut self,
        changes: &mut Vec<(Message<'_>, Command, Option<Fault>)>,
        port: u32,
        answers: &mut Answers,
    ) {
        if changes.is_empty() {
            return;
        }
        let results = self.execute_each(changes.iter().map(|(_, c, _)| c));
        for ((m, _, fault), result) in changes.drain(..).zip(results) {
            let errno = result.err().unwrap_or(0);
            let out = if errno != 0 || m.flags & flags::ACK != 0 {
                vec![ack(port, &m, errno)]
            } else {
                Vec::new()
            };
            self.deliver(&m, port, fault, out, answers);
        }
    }

    /// Hands the answers `out` to request `m` over, as `fault` lets them through.
    fn deliver(
        &self,
        m: &Message<'_>,
        port: u32,
        fault: Option<Fault>,
        mut out: Vec<Vec<u8>>,
        answers: &mut Answers,
    ) {
        let dump = m.flags & flags::DUMP == flags::DUMP;
        match fault {
            Some(Fault::Drop) => {}
            Some(Fault::Delay) => answers.late.extend(out.into_iter().map(Delivery::Datagram)),
            Some(Fault::Overrun) => answers.now.push(Delivery::Error(libc::ENOBUFS)),
            Some(Fault::Truncate { after, errno }) if dump => {
                let data: Vec<u8> = out.drain(..out.len().saturating_sub(1)).flatten().collect();
                let kept: Vec<Message<'_>> = netlink::messages(&data)
                    .map_while(Result::ok)
                    .take(after)
                    .collect();
                let mut cut = pack(port, m.seq, self.family_id, kept.iter().map(|k| k.payload));
                cut.push(done(port, m.seq, errno));
                answers.now.extend(cut.into_iter().map(Delivery::Datagram));
            }
            _ => answers.now.extend(out.into_iter().map(Delivery::Datagram)),
        }
    }

    /// What a request asks: its operation, and the IPVS call (`None` for the family lookup).
    /// `Err` is the errno the kernel refuses it with before any handler runs.
    fn read(&self, m: &Message<'_>, dump: bool) -> Result<(Operation, Option<Call>), i32> {
        let payload = attrs_of(m.payload).map_err(|_| errno::EINVAL)?;
        let cmd = m.payload[0];
        if m.ty == ctrl::GENL_ID_CTRL {
            return match cmd {
                ctrl::CMD_GETFAMILY if !dump => Ok((Operation::GetFamily, None)),
                _ => Err(errno::EOPNOTSUPP),
            };
        }
        if m.ty != self.family_id || !self.ipvs {
            return Err(errno::ENOENT);
        }
        match request::parse(cmd, payload, dump) {
            Ok(Some(call)) => Ok((call.operation(), Some(call))),
            Ok(None) => Err(errno::EOPNOTSUPP),
            Err(_) => Err(errno::EINVAL),
        }
    }

    /// The answer to `GETFAMILY`.
    fn family(&self, port: u32, m: &Message<'_>) -> Vec<Vec<u8>> {
        let name = attrs_of(m.payload).and_then(ctrl::requested_name);
        if !matches!(name.as_deref(), Ok(crate::wire::FAMILY_NAME)) || !self.ipvs {
            return vec![ack(port, m, errno::ENOENT)];
        }
        let mut w = crate::wire::attr::AttrWriter::new();
        ctrl::encode_family(&mut w, &self.describe());
        let msg = GenlMessage {
            cmd: ctrl::CMD_NEWFAMILY,
            version: ctrl::VERSION,
            attrs: w.finish(),
        };
        let mut out = vec![unicast(port, m.seq, ctrl::GENL_ID_CTRL, &msg)];
        if m.flags & flags::ACK != 0 {
            out.push(ack(port, m, 0));
        }
        out
    }

    /// The IPVS family as nlctrl describes it: its 16 operations, each needing
    /// CAP_NET_ADMIN, with a policy; `GET_SERVICE` both answers and dumps, `GET_DEST` and
    /// `GET_DAEMON` only dump.
    fn describe(&self) -> ctrl::Family {
        use crate::wire::cmd;
        let ops = (cmd::NEW_SERVICE..=cmd::FLUSH)
            .filter(|c| *c != cmd::SET_INFO)
            .map(|c| {
                let caps = match c {
                    cmd::GET_SERVICE => ctrl::OP_CAP_DO | ctrl::OP_CAP_DUMP,
                    cmd::GET_DEST | cmd::GET_DAEMON => ctrl::OP_CAP_DUMP,
                    _ => ctrl::OP_CAP_DO,
                };
                (
                    u32::from(c),
                    ctrl::OP_ADMIN_PERM | ctrl::OP_CAP_HASPOL | caps,
                )
            })
            .collect();
        ctrl::Family {
            id: self.family_id,
            name: crate::wire::FAMILY_NAME.to_owned(),
            version: u32::from(crate::wire::FAMILY_VERSION),
            hdrsize: 0,
            maxattr: MAX_CMD_ATTR,
            ops,
        }
    }

    /// The answers to an IPVS request.
    fn call(&self, call: &Call, port: u32, m: &Message<'_>) -> Vec<Vec<u8>> {
        let family = self.family_id;
        let one = |msg: GenlMessage| {
            let mut out = vec![unicast(port, m.seq, family, &msg)];
            if m.flags & flags::ACK != 0 {
                out.push(ack(port, m, 0));
            }
            out
        };
        match call {
            // Changes run in batches (`run`); `take` never gives one here.
            Call::Command(_) => Vec::new(),
            Call::GetInfo => one(reply::info(&self.info)),
            Call::GetTimeouts => one(reply::timeouts(&self.timeouts())),
            Call::GetService(key) => match self.service(key).map(|vs| self.service_reply(vs)) {
                Some(msg) => one(msg),
                None => vec![ack(port, m, errno::ESRCH)],
            },
            Call::GetServices | Call::GetDestinations(_) | Call::GetDaemons => {
                let msgs = self.dump(call);
                let mut out = pack(port, m.seq, family, msgs.iter().map(|g| g.encode()));
                out.push(done(port, m.seq, 0));
                out
            }
        }
    }

    /// The messages of a dump.
    fn dump(&self, call: &Call) -> Vec<GenlMessage> {
        match call {
            // The kernel walks its table of address services, then that of firewall marks.
            Call::GetServices => {
                let (marks, inet): (Vec<_>, Vec<_>) = self
                    .table
                    .services
                    .iter()
                    .partition(|vs| matches!(vs.service.key, ServiceKey::FwMark { .. }));
                inet.iter()
                    .chain(&marks)
                    .map(|vs| self.service_reply(vs))
                    .collect()
            }
            // A missing service gives an empty dump, not an error.
            Call::GetDestinations(key) => self
                .service(key)
                .map(|vs| {
                    vs.destinations
                        .iter()
                        .map(|d| {
                            let state = self.dest_state.get(key).and_then(|s| s.get(&d.addr));
                            reply::destination(d, &state.copied().unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Call::GetDaemons => self
                .table
                .daemons
                .iter()
                .map(|d| reply::daemon(&with_kernel_defaults(d)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn service_reply(&self, vs: &VirtualService) -> GenlMessage {
        let key = &vs.service.key;
        let mut state = self.service_state.get(key).copied().unwrap_or_default();
        state.internal_flags |= HASHED;
        reply::service(&vs.service, &state)
    }

    /// The service `key` with its real servers.
    pub(super) fn service(&self, key: &ServiceKey) -> Option<&VirtualService> {
        let mut index = self.index.borrow_mut();
        let index = index.get_or_insert_with(|| {
            let services = self.table.services.iter().enumerate();
            services.map(|(i, vs)| (vs.service.key, i)).collect()
        });
        index.get(key).map(|&i| &self.table.services[i])
    }

    pub(super) fn timeouts(&self) -> Timeouts {
        self.table.timeouts.unwrap_or(Timeouts::KERNEL_DEFAULT)
    }

    /// Carries `command` out on the table as the kernel would, keeping the state of what it
    /// adds and removes; `Err` is the errno of a refusal.
    pub(super) fn execute(&mut self, command: &Command) -> Result<(), i32> {
        self.forget_index(command);
        self.table
            .execute_with(command, &self.profile)
            .map_err(|r| r.errno)?;
        self.keep_state(command);
        Ok(())
    }

    /// [`Kernel::execute`] for many changes in a row, as one batch: one result each.
    fn execute_each<'c>(
        &mut self,
        commands: impl Iterator<Item = &'c Command> + Clone,
    ) -> Vec<Result<(), i32>> {
        for command in commands.clone() {
            self.forget_index(command);
        }
        let results = self.table.execute_each(commands.clone(), &self.profile);
        for (command, result) in commands.zip(&results) {
            if result.is_ok() {
                self.keep_state(command);
            }
        }
        results
            .into_iter()
            .map(|r| r.map_err(|r| r.errno))
            .collect()
    }

    /// Drops the index of services when `command` may change which services there are.
    fn forget_index(&mut self, command: &Command) {
        if matches!(
            command,
            Command::AddService(_) | Command::DeleteService(_) | Command::Flush
        ) {
            *self.index.get_mut() = None;
        }
    }

    /// The state of what `command`, carried out, added or removed.
    fn keep_state(&mut self, command: &Command) {
        match command {
            Command::AddService(s) => {
                self.service_state.insert(s.key, ServiceState::default());
            }
            Command::DeleteService(key) => {
                self.service_state.remove(key);
                self.dest_state.remove(key);
            }
            Command::Flush => {
                self.service_state.clear();
                self.dest_state.clear();
            }
            Command::AddDestination {
                service,
                destination,
            } => {
                let fresh = DestinationState::default();
                let dests = self.dest_state.entry(*service).or_default();
                dests.insert(destination.addr, fresh);
            }
            Command::DeleteDestination { service, addr } => {
                if let Some(dests) = self.dest_state.get_mut(service) {
                    dests.remove(addr);
                }
            }
            Command::Zero(key) => self.zero(key.as_ref()),
            _ => {}
        }
    }

    /// `ipvsadm -Z`: the counters of one service and its real servers, or of everything.
    fn zero(&mut self, key: Option<&ServiceKey>) {
        let hit = |k: &ServiceKey| key.is_none_or(|key| key == k);
        for (k, s) in &mut self.service_state {
            if hit(k) {
                s.stats = Default::default();
            }
        }
        for (k, dests) in &mut self.dest_state {
            if hit(k) {
                for d in dests.values_mut() {
                    d.stats = Default::default();
                }
            }
        }
    }
}

/// A daemon as the kernel reports it: group 224.0.0.81, port 8848 and ttl 1 unless set, and
/// the largest payload its interface's MTU allows (65535 at most, less the IP and UDP
/// headers). The fake has no devices: `lo` has an MTU of 65536, every other interface 1500.
fn with_kernel_defaults(d: &SyncDaemon) -> SyncDaemon {
    let group = d.group.unwrap_or(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81)));
    let headers = if group.is_ipv4() { 20 + 8 } else { 40 + 8 };
    let mtu: u32 = if d.interface == "lo" { 65536 } else { 1500 };
    let maxlen = u16::try_from(mtu.min(65535) - headers).unwrap_or(u16::MAX);
    SyncDaemon {
        maxlen: Some(d.maxlen.unwrap_or(maxlen)),
        group: Some(group),
        port: Some(d.port.unwrap_or(8848)),
        ttl: Some(d.ttl.unwrap_or(1)),
        ..d.clone()
    }
}

/// One reply message, on its own datagram.
fn unicast(port: u32, seq: u32, ty: u16, msg: &GenlMessage) -> Vec<u8> {
    let mut out = Vec::new();
    let header = [msg.cmd, msg.version, 0, 0];
    netlink::append_to(&mut out, ty, 0, seq, port, &[&header, &msg.attrs]);
    out
}

/// An ack (errno 0) or error for request `m`, on its own datagram.
fn ack(port: u32, m: &Message<'_>, errno: i32) -> Vec<u8> {
    let mut out = Vec::new();
    netlink::append_ack(&mut out, port, m, errno);
    out
}

/// The end of a dump, on its own datagram (IPVS's dump handlers finish only on a call that
/// adds nothing, so the kernel never puts the end beside data).
fn done(port: u32, seq: u32, errno: i32) -> Vec<u8> {
    let mut out = Vec::new();
    netlink::append_done(&mut out, seq, port, errno);
    out
}

/// Dump messages (generic-netlink payloads) packed into datagrams of at most
/// [`DUMP_DATAGRAM`] bytes, each message whole, as the kernel's dump does.
fn pack<P: AsRef<[u8]>>(
    port: u32,
    seq: u32,
    ty: u16,
    payloads: impl Iterator<Item = P>,
) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut current = Vec::new();
    for p in payloads {
        let mut msg = Vec::new();
        netlink::append_to(&mut msg, ty, flags::MULTI, seq, port, &[p.as_ref()]);
        if !current.is_empty() && current.len() + msg.len() > DUMP_DATAGRAM {
            out.push(std::mem::take(&mut current));
        }
        current.extend_from_slice(&msg);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
