//! Reading ipvsadm command lines and rule files the way ipvsadm 1.31 does
//! (`parse_options` and `process_options` in ipvsadm.c).

use super::addr::{atoi, inet_aton, inet_pton6, plain_ipv4_port, string_to_number};
use super::options::{Cmd, Found, Opt, Optc, ScanError, Scanner, Token, generic_opt_check};
use crate::shown::shown;
use crate::validate;
use crate::{
    Command, DaemonRole, Destination, Family, Forward, Netmask, Persistence, Protocol, SchedFlag,
    Scheduler, Service, ServiceFlags, ServiceKey, SyncDaemon, Timeouts, Tunnel, TunnelChecksum,
    TunnelType, daemon::DEFAULT_MCAST_INTERFACE, service::DEFAULT_PERSISTENCE_TIMEOUT,
    timeouts::TIMEOUT_MAX,
};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use thiserror::Error;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;
const FWD_TUNNEL: u32 = 2;
const FWD_DROUTE: u32 = 3;
const FWD_MASQ: u32 = 0;

/// Looks up names where ipvsadm would call the resolver: host names (`gethostbyname`, IPv4
/// only) and service names (`getservbyname`). lvs-core does no I/O, so its default,
/// [`NumericOnly`], knows no names; a program can pass one that does.
pub trait Resolver {
    /// The IPv4 address of a host name.
    fn host(&self, name: &str) -> Option<Ipv4Addr>;
    /// The port of a service name for a protocol.
    fn service(&self, name: &str, protocol: Protocol) -> Option<u16>;
}

/// A [`Resolver`] that knows no names: rules must use numeric addresses and ports.
#[derive(Debug, Clone, Copy, Default)]
pub struct NumericOnly;

impl Resolver for NumericOnly {
    fn host(&self, _: &str) -> Option<Ipv4Addr> {
        None
    }
    fn service(&self, _: &str, _: Protocol) -> Option<u16> {
        None
    }
}

/// Why a line was refused before anything reached the kernel, in ipvsadm's words where it has
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ArgErrorKind {
    /// popt found an option it does not know.
    #[error("{0}: unknown option")]
    UnknownOption(String),
    /// An option's value is missing.
    #[error("{0}: missing argument")]
    MissingValue(String),
    /// A switch was given a value.
    #[error("{0}: option does not take an argument")]
    UnwantedValue(String),
    /// The first option is not a command.
    #[error(
        "a rule must start with a command (-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon), not `{0}'"
    )]
    NoCommand(String),
    /// The line lists, saves or restores instead of changing anything.
    #[error(
        "`{0}' is not a rule: rule files change the table (-A -E -D -C -a -e -d -Z --set --start-daemon --stop-daemon)"
    )]
    NotARule(String),
    /// ipvsadm's own message (`fail(2, ...)`).
    #[error("{0}")]
    Ipvsadm(String),
}

/// A refused command line: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{column}: {kind}")]
pub struct ArgError {
    /// The 1-based column of the token at fault.
    pub column: usize,
    /// What is wrong.
    pub kind: ArgErrorKind,
}

fn fail<T>(column: usize, msg: impl Into<String>) -> Result<T, ArgError> {
    Err(ArgError {
        column,
        kind: ArgErrorKind::Ipvsadm(msg.into()),
    })
}

/// The list formats and switches of an `ipvsadm -L`/`-S` command line (`FMT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format {
    /// `-n`.
    pub numeric: bool,
    /// `--stats`.
    pub stats: bool,
    /// `--rate`.
    pub rate: bool,
    /// `--thresholds`.
    pub thresholds: bool,
    /// `--persistent-conn`.
    pub persistent_conn: bool,
    /// `--nosort`.
    pub nosort: bool,
    /// `--exact`.
    pub exact: bool,
    /// `--tun-info`.
    pub tun_info: bool,
}

/// What a listing command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListWhat {
    /// Every service.
    All,
    /// One service.
    Service(ServiceKey),
    /// The connection table (`-c`).
    Connections,
    /// The timeouts (`--timeout`).
    Timeouts,
    /// The sync daemons (`--daemon`).
    Daemons,
}

/// A whole ipvsadm command line, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// A change to the table.
    Change(Command),
    /// `-L`: a listing.
    List {
        /// What to list.
        what: ListWhat,
        /// How.
        format: Format,
    },
    /// `-S`: the rules of the whole table.
    Save {
        /// How (only `-n` is allowed).
        format: Format,
    },
    /// `-R`: read rules from standard input.
    Restore,
    /// `-h`.
    Help,
    /// `-v`.
    Version,
}

/// ipvsadm's `struct ipvs_command_entry` while options are read.
#[derive(Default)]
pub(crate) struct Entry<'a> {
    cmd: Option<Cmd>,
    options: u64,
    format: Format,
    svc_af: u16,
    protocol: u16,
    svc_addr: Option<IpAddr>,
    svc_port: u16,
    fwmark: u32,
    sched_name: &'a str,
    flags: u32,
    timeout: u32,
    netmask: u32,
    pe_name: &'a str,
    dest_af: u16,
    dest_addr: Option<IpAddr>,
    dest_port: u16,
    conn_flags: u32,
    weight: i32,
    u_threshold: u32,
    l_threshold: u32,
    tun_type: u8,
    tun_port: u16,
    tun_flags: u16,
    daemon_role: Option<DaemonRole>,
    mcast_ifn: &'a str,
    syncid: u8,
    sync_maxlen: u16,
    mcast_group: Option<IpAddr>,
    mcast_port: u16,
    mcast_ttl: u8,
    timeouts: Timeouts,
    /// Column of the service option, for messages about the service.
    svc_col: usize,
    /// Column of the command.
    cmd_col: usize,
    /// The `-b` value and its column, read once the scheduler is known.
    sched_flags_arg: Option<(&'a str, usize)>,
    /// The last service address read in the plain form, kept from line to line by the
    /// plain reader (see [`PlainAddr`]).
    pub(crate) last_service: PlainAddr<'a>,
}

/// A service address as written and as [`plain_ipv4_port`] reads it. A rule file names each
/// service on several lines in a row (`-A`, then its `-a` lines), so the reader of a file keeps
/// the last one and reads a repeated address only once; the reading is a function of the text
/// alone, so the result is the same.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlainAddr<'a> {
    text: &'a str,
    read: Option<(Ipv4Addr, Option<u16>)>,
}

impl<'a> PlainAddr<'a> {
    /// `text`, read.
    #[inline(always)]
    fn new(text: &'a str) -> Self {
        PlainAddr {
            text,
            read: plain_ipv4_port(text.as_bytes()),
        }
    }

    /// `text`, read again only when it is not the last one.
    #[inline(always)]
    fn read(&mut self, text: &'a str) -> Self {
        if !same_text(self.text.as_bytes(), text.as_bytes()) {
            *self = PlainAddr::new(text);
        }
        *self
    }
}

/// `a == b`, without a call to `memcmp` for texts of 8 to 16 bytes (most addresses).
#[inline(always)]
fn same_text(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if (8..=16).contains(&a.len()) {
        // The first eight bytes and the last eight cover the whole text.
        return a.first_chunk::<8>() == b.first_chunk::<8>()
            && a.last_chunk::<8>() == b.last_chunk::<8>();
    }
    a == b
}

impl Entry<'_> {
    /// ipvsadm's defaults before any option is read.
    pub(crate) fn new() -> Self {
        Entry {
            weight: 1,
            conn_flags: FWD_DROUTE,
            netmask: 0xffff_ffff,
            ..Entry::default()
        }
    }
}

const SERVICE_ADDR: u8 = 1;
const SERVICE_PORT: u8 = 2;

/// ipvsadm's `parse_service`: `addr[:port]`, `[v6]:port`, or a bare IPv6 address.
/// Returns the parts found, or 0 when the text is not an address. `buf` comes with its plain
/// reading, which the caller may have at hand.
// Inlined into the option loop, where the plain form is read without a call.
#[inline(always)]
fn parse_service(
    buf: PlainAddr<'_>,
    protocol: u16,
    resolver: &dyn Resolver,
    af: &mut u16,
    addr: &mut Option<IpAddr>,
    port: &mut u16,
    netmask: &mut u32,
) -> u8 {
    // The form rule files hold, in one pass; the rest as ipvsadm reads it.
    if let Some((a, p)) = buf.read {
        *addr = Some(IpAddr::V4(a));
        *af = AF_INET;
        return match p {
            Some(p) => {
                *port = p;
                SERVICE_ADDR | SERVICE_PORT
            }
            None => SERVICE_ADDR,
        };
    }
    parse_service_in_full(buf.text, protocol, resolver, af, addr, port, netmask)
}

/// [`parse_service`] for every form, as ipvsadm reads it.
#[inline(never)]
fn parse_service_in_full(
    buf: &str,
    protocol: u16,
    resolver: &dyn Resolver,
    af: &mut u16,
    addr: &mut Option<IpAddr>,
    port: &mut u16,
    netmask: &mut u32,
) -> u8 {
    if buf.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut host = buf;
    let mut portp: Option<&str> = None;
    if let Some(rest) = buf.strip_prefix('[') {
        let Some((inside, after)) = rest.split_once(']') else {
            return 0;
        };
        let Some(p) = after.strip_prefix(':') else {
            return 0;
        };
        host = inside;
        portp = Some(p);
    }
    if let Some(a6) = inet_pton6(host) {
        *addr = Some(IpAddr::V6(a6));
        *af = AF_INET6;
        *netmask = 128;
    } else {
        // ipvsadm looks for the port again in what is left: `[1.2.3.4]:80` loses its port.
        portp = None;
        if let Some(colon) = host.bytes().rposition(|b| b == b':') {
            portp = Some(&host[colon + 1..]);
            host = &host[..colon];
        }
        let a4 = inet_aton(host).or_else(|| resolver.host(host));
        match a4 {
            Some(a) => {
                *addr = Some(IpAddr::V4(a));
                *af = AF_INET;
            }
            None => return 0,
        }
    }
    let mut result = SERVICE_ADDR;
    if let Some(p) = portp {
        result |= SERVICE_PORT;
        let n = string_to_number(p, 0, 65535)
            .map(|n| n as u16)
            .or_else(|| resolver.service(p, Protocol::from_number(protocol)));
        match n {
            Some(n) => *port = n,
            None => return 0,
        }
    }
    result
}

// Inlined into the option loop: called once per option, on the path of every rule.
#[inline(always)]
fn set_option(e: &mut Entry<'_>, optc: Optc, column: usize) -> Result<(), ArgError> {
    let bit = 1u64 << optc as u64;
    if e.options & bit != 0 {
        return fail(
            column,
            format!(
                "multiple '{}' options specified",
                super::options::OPT_NAMES[optc as usize]
            ),
        );
    }
    e.options |= bit;
    Ok(())
}

#[inline]
fn set_command(e: &mut Entry<'_>, cmd: Cmd, column: usize) -> Result<(), ArgError> {
    if e.cmd.is_some() {
        return fail(column, "multiple commands specified");
    }
    e.cmd = Some(cmd);
    e.cmd_col = column;
    Ok(())
}

fn scan_error(err: ScanError) -> ArgError {
    match err {
        ScanError::Unknown { text, column } => ArgError {
            column,
            kind: ArgErrorKind::UnknownOption(text),
        },
        ScanError::MissingValue { text, column } => ArgError {
            column,
            kind: ArgErrorKind::MissingValue(text),
        },
        ScanError::UnwantedValue { text, column } => ArgError {
            column,
            kind: ArgErrorKind::UnwantedValue(text),
        },
    }
}

/// Reads one ipvsadm command line (the arguments after the program name), with ipvsadm's
/// checks in ipvsadm's order, so the first error is the one ipvsadm reports. The tokens are
/// taken one at a time (see [`crate::ipvsadm::tokens`]): reading stops at the first error, and
/// the tokens after it are never looked at.
pub fn parse_args_from<'a>(
    tokens: impl IntoIterator<Item = Token<'a>>,
    resolver: &dyn Resolver,
) -> Result<Invocation, ArgError> {
    let mut e = Entry::new();
    let mut scanner = Scanner::new(tokens);

    // The first option must be the command.
    let first = match scanner.next_opt() {
        None => {
            let first = scanner.first_token();
            return Err(ArgError {
                column: first.map_or(1, |t| t.column),
                kind: ArgErrorKind::NoCommand(
                    first.map_or(String::new(), |t| shown(t.text).to_string()),
                ),
            });
        }
        Some(r) => r.map_err(scan_error)?,
    };
    if let Some(done) = take_command(&mut e, first, scanner.option_token())? {
        return Ok(done);
    }
    while let Some(found) = scanner.next_opt() {
        let found = found.map_err(scan_error)?;
        take_option(&mut e, found, scanner.option_token(), resolver)?;
    }
    conclude(&mut e, scanner.positional())
}

/// The first option of a line, which must be a command; `Some` for the commands that end the
/// reading there (`-h`, `-v`). `token` is the token the option is in, for messages.
#[inline]
pub(crate) fn take_command<'a>(
    e: &mut Entry<'a>,
    found: Found<'a>,
    token: &str,
) -> Result<Option<Invocation>, ArgError> {
    let Found {
        opt,
        column: col,
        value,
    } = found;
    match opt {
        Opt::AddService => set_command(e, Cmd::Add, col)?,
        Opt::EditService => set_command(e, Cmd::Edit, col)?,
        Opt::DeleteService => set_command(e, Cmd::Del, col)?,
        Opt::AddServer => set_command(e, Cmd::AddDest, col)?,
        Opt::EditServer => set_command(e, Cmd::EditDest, col)?,
        Opt::DeleteServer => set_command(e, Cmd::DelDest, col)?,
        Opt::Clear => set_command(e, Cmd::Flush, col)?,
        Opt::List => set_command(e, Cmd::List, col)?,
        Opt::Zero => set_command(e, Cmd::Zero, col)?,
        Opt::Set => set_command(e, Cmd::Timeout, col)?,
        Opt::Restore => set_command(e, Cmd::Restore, col)?,
        Opt::Save => set_command(e, Cmd::Save, col)?,
        Opt::StartDaemon | Opt::StopDaemon => {
            let start = opt == Opt::StartDaemon;
            set_command(
                e,
                if start {
                    Cmd::StartDaemon
                } else {
                    Cmd::StopDaemon
                },
                col,
            )?;
            let (v, vcol) = value.unwrap_or(("", col));
            e.daemon_role = DaemonRole::from_name(v);
            if e.daemon_role.is_none() {
                let msg = if start {
                    "illegal start-daemon parameter specified"
                } else {
                    "illegal start_daemon specified"
                };
                return fail(vcol, msg);
            }
        }
        Opt::Help => return Ok(Some(Invocation::Help)),
        Opt::Version => return Ok(Some(Invocation::Version)),
        _ => {
            return Err(ArgError {
                column: col,
                kind: ArgErrorKind::NoCommand(shown(token).to_string()),
            });
        }
    }
    Ok(None)
}

/// One option after the command, read into `e` as `process_options` does. `token` (the token
/// the option is in) serves only to quote it in a message.
#[inline]
pub(crate) fn take_option<'a>(
    e: &mut Entry<'a>,
    found: Found<'a>,
    token: &str,
    resolver: &dyn Resolver,
) -> Result<(), ArgError> {
    let Found { opt, column, value } = found;
    if opt.is_command() {
        return fail(column, format!("invalid option `{}'", shown(token)));
    }
    // ipvsadm's `set_option` comes first for every option it counts.
    if let Some(class) = opt.class() {
        set_option(e, class, column)?;
    }
    let (v, vcol) = value.unwrap_or(("", column));
    match opt {
        Opt::TcpService | Opt::UdpService | Opt::SctpService => {
            take_inet_service(e, opt, column, v, vcol, resolver)?;
        }
        Opt::FwmarkService => take_fwmark(e, column, v, vcol)?,
        Opt::Scheduler => e.sched_name = truncate(v, crate::scheduler::SCHEDULER_NAME_MAX),
        Opt::Persistent => {
            e.flags |= ServiceFlags::KERNEL_PERSISTENT;
            e.timeout = match value {
                None => DEFAULT_PERSISTENCE_TIMEOUT,
                Some((t, tcol)) => parse_timeout(t, tcol, 1)?,
            };
        }
        Opt::Netmask => take_netmask(e, v, vcol, resolver)?,
        Opt::RealServer => take_real_server(e, v, vcol, resolver)?,
        Opt::Weight => e.weight = weight(v, vcol)?,
        Opt::UThreshold => e.u_threshold = number(v, vcol, U_THRESHOLD)? as u32,
        Opt::LThreshold => e.l_threshold = number(v, vcol, L_THRESHOLD)? as u32,
        Opt::SyncId => e.syncid = number(v, vcol, SYNCID)? as u8,
        Opt::McastPort => e.mcast_port = number(v, vcol, MCAST_PORT)? as u16,
        Opt::McastTtl => e.mcast_ttl = number(v, vcol, MCAST_TTL)? as u8,
        Opt::SyncMaxlen => e.sync_maxlen = number(v, vcol, SYNC_MAXLEN)? as u16,
        Opt::TunPort => e.tun_port = number(v, vcol, TUN_PORT)? as u16,
        Opt::Ipip => e.conn_flags = FWD_TUNNEL,
        Opt::Gatewaying => e.conn_flags = FWD_DROUTE,
        Opt::Masquerading => e.conn_flags = FWD_MASQ,
        Opt::McastInterface => e.mcast_ifn = truncate(v, crate::daemon::IFNAME_MAX),
        Opt::Numeric => e.format.numeric = true,
        Opt::Stats => e.format.stats = true,
        Opt::Rate => e.format.rate = true,
        Opt::Thresholds => e.format.thresholds = true,
        Opt::PersistentConn => e.format.persistent_conn = true,
        Opt::NoSort => e.format.nosort = true,
        Opt::Exact => e.format.exact = true,
        Opt::TunInfo => e.format.tun_info = true,
        Opt::Ipv6 if e.fwmark != 0 => {
            e.svc_af = AF_INET6;
            e.netmask = 128;
        }
        Opt::Ipv6 => return fail(column, "-6 used before -f"),
        Opt::Ops => e.flags |= ServiceFlags::ONE_PACKET.bits(),
        Opt::Pe => e.pe_name = truncate(v, crate::service::PE_NAME_MAX),
        Opt::SchedFlags => e.sched_flags_arg = Some((v, vcol)),
        Opt::McastGroup => e.mcast_group = Some(mcast_group(v, vcol)?),
        Opt::TunType => {
            e.tun_type = match TunnelType::from_name(v) {
                Some(t) => t.kernel_value(),
                None => return fail(vcol, "illegal tunnel type specified"),
            };
        }
        Opt::TunCsum => e.tun_flags |= 1,
        Opt::TunRemcsum => e.tun_flags |= 2,
        // Counted only (--sort not even that), or commands, refused above.
        _ => {}
    }
    Ok(())
}

/// A number option's range, and ipvsadm's message for any other value.
type Range = (i64, i64, &'static str);

const INT_MAX: i64 = i32::MAX as i64;
const U_THRESHOLD: Range = (0, INT_MAX, "illegal u_threshold specified");
const L_THRESHOLD: Range = (0, INT_MAX, "illegal l_threshold specified");
const SYNCID: Range = (0, 255, "illegal syncid specified");
const MCAST_PORT: Range = (1, 65535, "illegal mcast-port specified");
const MCAST_TTL: Range = (1, 255, "illegal mcast-ttl specified");
const SYNC_MAXLEN: Range = (1, 65535 - 20 - 8, "illegal sync-maxlen specified");
const TUN_PORT: Range = (1, 65535, "illegal tunnel port specified");

/// A number option's value, in its range.
#[inline(always)]
fn number(v: &str, vcol: usize, (min, max, message): Range) -> Result<i64, ArgError> {
    match string_to_number(v, min, max) {
        Some(n) => Ok(n),
        None => fail(vcol, message),
    }
}

/// `-w`: Debian's ipvsadm 1.31 takes weights up to INT_MAX (upstream's limit is 65535); a
/// weight below 0 breaks a rule of IPVS.
#[inline(always)]
fn weight(v: &str, vcol: usize) -> Result<i32, ArgError> {
    let weight = number(
        v,
        vcol,
        (i64::from(i32::MIN), INT_MAX, "illegal weight specified"),
    )?;
    match validate::weight(weight as i32) {
        Ok(()) => Ok(weight as i32),
        Err(_) => fail(vcol, "illegal weight specified"),
    }
}

/// `-t`, `-u`, `--sctp-service`: the protocol and the address.
#[inline(always)]
fn take_inet_service<'a>(
    e: &mut Entry<'a>,
    opt: Opt,
    column: usize,
    v: &'a str,
    vcol: usize,
    resolver: &dyn Resolver,
) -> Result<(), ArgError> {
    e.svc_col = column;
    e.protocol = match opt {
        Opt::TcpService => 6,
        Opt::UdpService => 17,
        _ => 132,
    };
    let parsed = parse_service(
        e.last_service.read(v),
        e.protocol,
        resolver,
        &mut e.svc_af,
        &mut e.svc_addr,
        &mut e.svc_port,
        &mut e.netmask,
    );
    if parsed & SERVICE_ADDR == 0 {
        return fail(vcol, "illegal virtual server address[:port] specified");
    }
    Ok(())
}

/// `-f`: a firewall-mark service (IPv4 and TCP until `-6` says otherwise).
fn take_fwmark(e: &mut Entry<'_>, column: usize, v: &str, vcol: usize) -> Result<(), ArgError> {
    e.svc_col = column;
    e.svc_af = AF_INET;
    e.protocol = 6;
    e.fwmark = match string_to_number(v, 1, i64::from(u32::MAX)) {
        Some(n) => n as u32,
        None => {
            return fail(
                vcol,
                format!("invalid fwmark value `{}' specified", shown(v)),
            );
        }
    };
    Ok(())
}

/// `-M`: a dotted mask for an IPv4 service (or none yet), a prefix length for IPv6.
fn take_netmask(
    e: &mut Entry<'_>,
    v: &str,
    vcol: usize,
    resolver: &dyn Resolver,
) -> Result<(), ArgError> {
    if e.svc_af != AF_INET6 {
        match inet_aton(v).or_else(|| resolver.host(v)) {
            Some(m) => e.netmask = u32::from_ne_bytes(m.octets()),
            None => {
                return fail(vcol, "illegal virtual server persistent mask specified");
            }
        }
    } else {
        let prefix = u8::try_from(atoi(v))
            .ok()
            .filter(|p| validate::netmask(Netmask::V6(*p), Family::Inet6).is_ok());
        match prefix {
            Some(p) => e.netmask = u32::from(p),
            None => return fail(vcol, "illegal ipv6 netmask specified"),
        }
    }
    Ok(())
}

/// `-r`: the real server, with the service's port when it names none.
#[inline(always)]
fn take_real_server(
    e: &mut Entry<'_>,
    v: &str,
    vcol: usize,
    resolver: &dyn Resolver,
) -> Result<(), ArgError> {
    let (mut af, mut addr, mut port, mut mask) = (e.svc_af, e.svc_addr, e.svc_port, e.netmask);
    let parsed = parse_service(
        PlainAddr::new(v),
        e.protocol,
        resolver,
        &mut af,
        &mut addr,
        &mut port,
        &mut mask,
    );
    e.dest_af = af;
    e.dest_addr = addr;
    e.dest_port = port;
    if parsed & SERVICE_ADDR == 0 {
        return fail(vcol, "illegal real server address[:port] specified");
    }
    if parsed == SERVICE_ADDR {
        e.dest_port = e.svc_port;
    }
    Ok(())
}

/// `--mcast-group`: a multicast address of either family.
fn mcast_group(v: &str, vcol: usize) -> Result<IpAddr, ArgError> {
    if v.contains(':') {
        match v.parse::<std::net::Ipv6Addr>() {
            Ok(a) if a.is_multicast() => Ok(IpAddr::V6(a)),
            _ => fail(vcol, format!("invalid IPv6 mcast-group `{}'", shown(v))),
        }
    } else {
        match v.parse::<Ipv4Addr>() {
            Ok(a) if a.is_multicast() => Ok(IpAddr::V4(a)),
            _ => fail(vcol, format!("invalid IPv4 mcast-group `{}'", shown(v))),
        }
    }
}

/// What `process_options` checks once every option is read, then the command.
pub(crate) fn conclude(
    e: &mut Entry<'_>,
    positional: &[Token<'_>],
) -> Result<Invocation, ArgError> {
    let cmd = e.cmd.unwrap_or(Cmd::List);
    let mut positional = positional.iter();
    if cmd == Cmd::Timeout {
        let (a, b, c) = (positional.next(), positional.next(), positional.next());
        let (Some(a), Some(b), Some(c)) = (a, b, c) else {
            return fail(e.cmd_col, "--set option requires 3 timeout values");
        };
        e.timeouts = Timeouts {
            tcp: parse_timeout(a.text, a.column, 0)?,
            tcp_fin: parse_timeout(b.text, b.column, 0)?,
            udp: parse_timeout(c.text, c.column, 0)?,
        };
    }
    if let Some(extra) = positional.next() {
        return fail(
            extra.column,
            format!("unexpected argument {}", shown(extra.text)),
        );
    }
    check_command(e, cmd)?;
    Ok(match change(e, cmd) {
        Some(command) => Invocation::Change(command),
        None => match cmd {
            Cmd::List => list(e)?,
            Cmd::Save => Invocation::Save { format: e.format },
            _ => Invocation::Restore,
        },
    })
}

/// [`conclude`] for a line without positional arguments whose command changes the table (the
/// plain lines of [`crate::rules`]): the command, built where it is returned; `None` where
/// [`conclude`] gives anything else (its error, or an invocation that is not a change).
#[inline(always)]
pub(crate) fn conclude_change(e: &mut Entry<'_>) -> Option<Command> {
    let cmd = e.cmd?;
    // `--set` needs its three values.
    if cmd == Cmd::Timeout {
        return None;
    }
    check_command(e, cmd).ok()?;
    change(e, cmd)
}

/// What `process_options` checks once the options and the positional arguments are read:
/// the scheduler flags, which options go with the command, the service, the real server.
#[inline(always)]
fn check_command(e: &mut Entry<'_>, cmd: Cmd) -> Result<(), ArgError> {
    if let Some((arg, col)) = e.sched_flags_arg {
        let sched = if e.sched_name.is_empty() {
            "wlc"
        } else {
            e.sched_name
        };
        e.flags &= !ServiceFlags::SCHED_ALL.bits();
        e.flags |= parse_sched_flags(sched, arg, col)?.bits();
    }
    generic_opt_check(cmd, e.options).or_else(|msg| fail(e.cmd_col, msg))?;
    if matches!(cmd, Cmd::Add | Cmd::Edit) {
        check_service(e)?;
    }
    if cmd == Cmd::StartDaemon && e.mcast_ifn.is_empty() {
        e.mcast_ifn = DEFAULT_MCAST_INTERFACE;
    }
    if matches!(cmd, Cmd::AddDest | Cmd::EditDest) {
        check_destination(e)?;
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn parse_timeout(v: &str, column: usize, min: i64) -> Result<u32, ArgError> {
    match string_to_number(v, min, i64::from(TIMEOUT_MAX)) {
        Some(n) => Ok(n as u32),
        None => fail(
            column,
            format!("invalid timeout value `{}' specified", shown(v)),
        ),
    }
}

/// ipvsadm's `parse_sched_flags`: comma-separated names, each checked against the scheduler.
fn parse_sched_flags(sched: &str, arg: &str, column: usize) -> Result<ServiceFlags, ArgError> {
    let scheduler = Scheduler::from(sched);
    let mut flags = ServiceFlags::empty();
    let names: Vec<&str> = arg.split(',').filter(|s| !s.is_empty()).collect();
    if names.is_empty() {
        return fail(column, format!("invalid scheduler flag `{}'", shown(arg)));
    }
    for name in names {
        match SchedFlag::from_name(name) {
            None => return fail(column, format!("invalid scheduler flag `{}'", shown(name))),
            Some(f) if !f.allowed_with(&scheduler) => {
                return fail(
                    column,
                    format!("incompatible scheduler flag `{}'", shown(name)),
                );
            }
            Some(f) => flags |= f.bits(),
        }
    }
    Ok(flags)
}

/// The change `cmd` asks for, once [`check_command`] has passed; `None` for the commands that
/// change nothing (`-L`, `-S`, `-R`).
#[inline(always)]
fn change(e: &Entry<'_>, cmd: Cmd) -> Option<Command> {
    let has = |o: Optc| e.options & (1 << o as u64) != 0;
    Some(match cmd {
        Cmd::List | Cmd::Save | Cmd::Restore => return None,
        Cmd::Flush => Command::Flush,
        Cmd::Add => Command::AddService(service(e)),
        Cmd::Edit => Command::EditService(service(e)),
        Cmd::Del => Command::DeleteService(service_key(e)),
        Cmd::Zero => Command::Zero(has(Optc::Service).then(|| service_key(e))),
        Cmd::AddDest => Command::AddDestination {
            service: service_key(e),
            destination: destination(e),
        },
        Cmd::EditDest => Command::EditDestination {
            service: service_key(e),
            destination: destination(e),
        },
        Cmd::DelDest => Command::DeleteDestination {
            service: service_key(e),
            addr: dest_addr(e),
        },
        Cmd::Timeout => Command::SetTimeouts(e.timeouts),
        Cmd::StartDaemon | Cmd::StopDaemon => daemon_command(e, cmd),
    })
}

/// `process_options`'s checks of a service for `-A` and `-E`, and the default scheduler.
#[inline]
fn check_service(e: &mut Entry<'_>) -> Result<(), ArgError> {
    let key = service_key(e);
    let persistent = e.flags & ServiceFlags::KERNEL_PERSISTENT != 0;
    if validate::zero_port(&key, persistent).is_err() {
        return fail(e.svc_col, "Zero port specified for non-persistent service");
    }
    if validate::one_packet(&key, ServiceFlags::from_bits_retain(e.flags)).is_err() {
        return fail(
            e.svc_col,
            "One-Packet Scheduling is only for UDP virtual services",
        );
    }
    if e.sched_name.is_empty() {
        e.sched_name = "wlc";
    }
    Ok(())
}

/// `process_options`'s checks of a real server for `-a` and `-e`; `-g` and `-i` take the
/// service's port.
#[inline(always)]
fn check_destination(e: &mut Entry<'_>) -> Result<(), ArgError> {
    let fwd = e.conn_flags & 0x7;
    if e.fwmark == 0 && (fwd == FWD_TUNNEL || fwd == FWD_DROUTE) {
        e.dest_port = e.svc_port;
    }
    let forward = Forward::from_kernel(e.conn_flags, Tunnel::default());
    if validate::mixed_family(&forward, family(e.dest_af), family(e.svc_af)).is_err() {
        return fail(
            e.cmd_col,
            "Different address family is allowed only for tunneling servers",
        );
    }
    let tun_opts = [
        Optc::TunType,
        Optc::TunPort,
        Optc::TunNocsum,
        Optc::TunCsum,
        Optc::TunRemcsum,
    ];
    let tun_bits = tun_opts.iter().fold(0u64, |bits, o| bits | 1 << *o as u64);
    if e.options & tun_bits == 0 {
        // No tunnel option: an IPIP tunnel with none, which `tunnel_opt_check` passes.
        return Ok(());
    }
    if fwd != FWD_TUNNEL {
        return fail(e.cmd_col, "Tunnel options conflict with forward method");
    }
    tunnel_opt_check(e)
}

/// `-L`: what to list, once the options are known not to conflict.
fn list(e: &Entry<'_>) -> Result<Invocation, ArgError> {
    let has = |o: Optc| e.options & (1 << o as u64) != 0;
    let listing = [Optc::Connection, Optc::Timeout, Optc::Daemon];
    let formats = [Optc::Stats, Optc::Rate, Optc::Thresholds];
    if (listing.iter().any(|o| has(*o)) && formats.iter().any(|o| has(*o)))
        || ((has(Optc::Timeout) || has(Optc::Daemon)) && has(Optc::PersistentConn))
    {
        return fail(e.cmd_col, "options conflicts in the list command");
    }
    let what = if has(Optc::Connection) {
        ListWhat::Connections
    } else if has(Optc::Service) {
        ListWhat::Service(service_key(e))
    } else if has(Optc::Timeout) {
        ListWhat::Timeouts
    } else if has(Optc::Daemon) {
        ListWhat::Daemons
    } else {
        ListWhat::All
    };
    Ok(Invocation::List {
        what,
        format: e.format,
    })
}

/// `--start-daemon` and `--stop-daemon`.
fn daemon_command(e: &Entry<'_>, cmd: Cmd) -> Command {
    let role = e.daemon_role.unwrap_or(DaemonRole::Master);
    if cmd == Cmd::StopDaemon {
        Command::StopDaemon(role)
    } else {
        Command::StartDaemon(SyncDaemon {
            role,
            interface: e.mcast_ifn.to_owned(),
            syncid: e.syncid,
            maxlen: (e.sync_maxlen != 0).then_some(e.sync_maxlen),
            group: e.mcast_group,
            port: (e.mcast_port != 0).then_some(e.mcast_port),
            ttl: (e.mcast_ttl != 0).then_some(e.mcast_ttl),
        })
    }
}

/// ipvsadm's `tunnel_opt_check`: which tunnel options each tunnel type takes.
fn tunnel_opt_check(e: &Entry<'_>) -> Result<(), ArgError> {
    // Columns: tun-port, tun-nocsum, tun-csum, tun-remcsum.
    let opts = [
        Optc::TunPort,
        Optc::TunNocsum,
        Optc::TunCsum,
        Optc::TunRemcsum,
    ];
    let (name, rules): (&str, &[u8; 4]) = match e.tun_type {
        0 => ("ipip", b"xxxx"),
        // `+`: needed (gue's port, a rule of IPVS, checked below by validate).
        1 => ("gue", b"+111"),
        _ => ("gre", b"x11x"),
    };
    let tunnel = Tunnel {
        kind: TunnelType::from_kernel(e.tun_type),
        port: e.tun_port,
        checksum: TunnelChecksum::from_kernel(e.tun_flags),
    };
    if validate::gue_port(&tunnel).is_err() {
        return fail(
            e.cmd_col,
            "You need to supply the 'tun-port' option for the 'gue' tunnel type",
        );
    }
    let opt_name = |o: Optc| super::options::OPT_NAMES[o as usize];
    let mut last: Option<Optc> = None;
    for (o, rule) in opts.iter().zip(rules) {
        let set = e.options & (1 << *o as u64) != 0;
        match (set, rule) {
            (true, b'x') => {
                return fail(
                    e.cmd_col,
                    format!(
                        "Illegal '{}' option with the '{name}' tunnel type",
                        opt_name(*o)
                    ),
                );
            }
            (true, b'1') => match last {
                None => last = Some(*o),
                Some(l) => {
                    return fail(
                        e.cmd_col,
                        format!(
                            "The option '{}' conflicts with the '{}' option in the '{name}' tunnel type",
                            opt_name(*o),
                            opt_name(l)
                        ),
                    );
                }
            },
            _ => {}
        }
    }
    Ok(())
}

fn family(af: u16) -> Family {
    if af == AF_INET6 {
        Family::Inet6
    } else {
        Family::Inet
    }
}

#[inline]
fn service_key(e: &Entry<'_>) -> ServiceKey {
    if e.fwmark != 0 {
        ServiceKey::FwMark {
            family: family(e.svc_af),
            mark: e.fwmark,
        }
    } else {
        let ip = e.svc_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        ServiceKey::Inet {
            protocol: Protocol::from_number(e.protocol),
            addr: SocketAddr::new(ip, e.svc_port),
        }
    }
}

#[inline]
fn service(e: &Entry<'_>) -> Service {
    let key = service_key(e);
    let persistence = (e.flags & ServiceFlags::KERNEL_PERSISTENT != 0).then(|| Persistence {
        timeout: e.timeout,
        netmask: match key.family() {
            Family::Inet => Netmask::V4(Ipv4Addr::from(e.netmask.to_ne_bytes())),
            Family::Inet6 => Netmask::V6(e.netmask.min(128) as u8),
        },
    });
    Service {
        key,
        scheduler: Scheduler::from(e.sched_name),
        flags: ServiceFlags::from_bits_retain(e.flags & !ServiceFlags::KERNEL_PERSISTENT),
        persistence,
        pe: (!e.pe_name.is_empty()).then(|| e.pe_name.to_owned()),
    }
}

fn dest_addr(e: &Entry<'_>) -> SocketAddr {
    SocketAddr::new(
        e.dest_addr.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        e.dest_port,
    )
}

#[inline]
fn destination(e: &Entry<'_>) -> Destination {
    let tunnel = Tunnel {
        kind: TunnelType::from_kernel(e.tun_type),
        port: e.tun_port,
        checksum: TunnelChecksum::from_kernel(e.tun_flags),
    };
    Destination {
        addr: dest_addr(e),
        forward: Forward::from_kernel(e.conn_flags, tunnel),
        weight: e.weight,
        upper_threshold: e.u_threshold,
        lower_threshold: e.l_threshold,
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.numeric, "-n"),
            (self.stats, "--stats"),
            (self.rate, "--rate"),
            (self.thresholds, "--thresholds"),
            (self.persistent_conn, "--persistent-conn"),
            (self.nosort, "--nosort"),
            (self.exact, "--exact"),
            (self.tun_info, "--tun-info"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&set.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_address_shortcut_agrees_with_parse_service_in_full() {
        let pieces = [
            "0", "1", "9", "10", "13", "99", "100", "255", "256", "999", "1000", "00", "01", "080",
            "65535", "65536", "99999", "123456", ".", ".", ".", ":", ":", "[", "]", "::", "a", "x",
            "0x1f", "+", "-", " ", "é",
        ];
        let mut x: u64 = 0x1319_8a2e_0370_7344;
        let mut plain = 0;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Seven parts (a.b.c.d:p) half of the time, so that many draws are plain.
            let text: String = if x % 2 == 0 {
                let n = |i: u32| pieces[(x >> (4 + 5 * i)) as usize % 12];
                let port = pieces[(x >> 40) as usize % 17];
                match (x >> 60) % 3 {
                    0 => format!("{}.{}.{}.{}", n(0), n(1), n(2), n(3)),
                    1 => format!("{}.{}.{}.{}:{port}", n(0), n(1), n(2), n(3)),
                    _ => format!("{}.{}.{}.{}{port}", n(0), n(1), n(2), n(3)),
                }
            } else {
                let count = 1 + (x >> 1) as usize % 9;
                (0..count)
                    .map(|i| pieces[(x >> (5 + 6 * i)) as usize % pieces.len()])
                    .collect()
            };
            for protocol in [6, 17] {
                let start = (
                    AF_INET6,
                    Some(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)),
                    7,
                    9,
                );
                let (mut af, mut addr, mut port, mut mask) = start;
                let fast = parse_service(
                    PlainAddr::new(&text),
                    protocol,
                    &NumericOnly,
                    &mut af,
                    &mut addr,
                    &mut port,
                    &mut mask,
                );
                let (mut af2, mut addr2, mut port2, mut mask2) = start;
                let full = parse_service_in_full(
                    &text,
                    protocol,
                    &NumericOnly,
                    &mut af2,
                    &mut addr2,
                    &mut port2,
                    &mut mask2,
                );
                assert_eq!(
                    (fast, af, addr, port, mask),
                    (full, af2, addr2, port2, mask2),
                    "{text:?}"
                );
            }
            if plain_ipv4_port(text.as_bytes()).is_some() {
                plain += 1;
            }
        }
        assert!(plain > 10_000, "only {plain} plain addresses drawn");
    }
}
