//! ipvsadm 1.31's command-line grammar: its option table, the popt scanning it relies on, and
//! the table of which options each command takes.

use crate::shown::shown;

/// An ipvsadm command or option, as its option table names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    /// `-A`, `--add-service`.
    AddService,
    /// `-E`, `--edit-service`.
    EditService,
    /// `-D`, `--delete-service`.
    DeleteService,
    /// `-C`, `--clear`.
    Clear,
    /// `-L`, `-l`, `--list`.
    List,
    /// `-Z`, `--zero`.
    Zero,
    /// `-a`, `--add-server`.
    AddServer,
    /// `-e`, `--edit-server`.
    EditServer,
    /// `-d`, `--delete-server`.
    DeleteServer,
    /// `--set`.
    Set,
    /// `-h`, `--help`.
    Help,
    /// `-v`, `--version`.
    Version,
    /// `-R`, `--restore`.
    Restore,
    /// `-S`, `--save`.
    Save,
    /// `--start-daemon`.
    StartDaemon,
    /// `--stop-daemon`.
    StopDaemon,
    /// `-t`, `--tcp-service`.
    TcpService,
    /// `-u`, `--udp-service`.
    UdpService,
    /// `--sctp-service`.
    SctpService,
    /// `-f`, `--fwmark-service`.
    FwmarkService,
    /// `-s`, `--scheduler`.
    Scheduler,
    /// `-p`, `--persistent`.
    Persistent,
    /// `-M`, `--netmask`.
    Netmask,
    /// `-r`, `--real-server`.
    RealServer,
    /// `-m`, `--masquerading`.
    Masquerading,
    /// `-i`, `--ipip`.
    Ipip,
    /// `-g`, `--gatewaying`.
    Gatewaying,
    /// `-w`, `--weight`.
    Weight,
    /// `-x`, `--u-threshold`.
    UThreshold,
    /// `-y`, `--l-threshold`.
    LThreshold,
    /// `-n`, `--numeric`.
    Numeric,
    /// `-c`, `--connection`.
    Connection,
    /// `--mcast-interface`.
    McastInterface,
    /// `--syncid`.
    SyncId,
    /// `--timeout`.
    Timeout,
    /// `--daemon`.
    Daemon,
    /// `--stats`.
    Stats,
    /// `--rate`.
    Rate,
    /// `--thresholds`.
    Thresholds,
    /// `--persistent-conn`.
    PersistentConn,
    /// `--nosort`.
    NoSort,
    /// `--sort`.
    Sort,
    /// `-X`, `--exact`.
    Exact,
    /// `-6`, `--ipv6`.
    Ipv6,
    /// `-o`, `--ops`.
    Ops,
    /// `--pe`.
    Pe,
    /// `-b`, `--sched-flags`.
    SchedFlags,
    /// `--mcast-group`.
    McastGroup,
    /// `--mcast-port`.
    McastPort,
    /// `--mcast-ttl`.
    McastTtl,
    /// `--sync-maxlen`.
    SyncMaxlen,
    /// `--tun-info`.
    TunInfo,
    /// `--tun-type`.
    TunType,
    /// `--tun-port`.
    TunPort,
    /// `--tun-nocsum`.
    TunNocsum,
    /// `--tun-csum`.
    TunCsum,
    /// `--tun-remcsum`.
    TunRemcsum,
}

impl Opt {
    /// Whether the option is one of ipvsadm's commands (`-A`, `-L`, `--start-daemon`, ...).
    #[inline]
    pub(crate) const fn is_command(self) -> bool {
        matches!(
            self,
            Opt::AddService
                | Opt::EditService
                | Opt::DeleteService
                | Opt::Clear
                | Opt::List
                | Opt::Zero
                | Opt::AddServer
                | Opt::EditServer
                | Opt::DeleteServer
                | Opt::Set
                | Opt::Help
                | Opt::Version
                | Opt::Restore
                | Opt::Save
                | Opt::StartDaemon
                | Opt::StopDaemon
        )
    }

    /// What ipvsadm's `set_option` counts the option as, for "multiple ... options
    /// specified"; `None` for `-6`, `--sort` and the commands, which it does not count.
    #[inline]
    pub(crate) const fn class(self) -> Option<Optc> {
        Some(match self {
            Opt::TcpService | Opt::UdpService | Opt::SctpService | Opt::FwmarkService => {
                Optc::Service
            }
            Opt::Scheduler => Optc::Scheduler,
            Opt::Persistent => Optc::Persistent,
            Opt::Netmask => Optc::Netmask,
            Opt::RealServer => Optc::Server,
            Opt::Ipip | Opt::Gatewaying | Opt::Masquerading => Optc::Forward,
            Opt::Weight => Optc::Weight,
            Opt::UThreshold => Optc::UThreshold,
            Opt::LThreshold => Optc::LThreshold,
            Opt::Connection => Optc::Connection,
            Opt::Numeric => Optc::Numeric,
            Opt::McastInterface => Optc::Mcast,
            Opt::SyncId => Optc::SyncId,
            Opt::Timeout => Optc::Timeout,
            Opt::Daemon => Optc::Daemon,
            Opt::Stats => Optc::Stats,
            Opt::Rate => Optc::Rate,
            Opt::Thresholds => Optc::Thresholds,
            Opt::PersistentConn => Optc::PersistentConn,
            Opt::NoSort => Optc::NoSort,
            Opt::Exact => Optc::Exact,
            Opt::Ops => Optc::OnePacket,
            Opt::Pe => Optc::PersistenceEngine,
            Opt::SchedFlags => Optc::SchedFlags,
            Opt::McastGroup => Optc::McastGroup,
            Opt::McastPort => Optc::McastPort,
            Opt::McastTtl => Optc::McastTtl,
            Opt::SyncMaxlen => Optc::SyncMaxlen,
            Opt::TunInfo => Optc::TunInfo,
            Opt::TunType => Optc::TunType,
            Opt::TunPort => Optc::TunPort,
            Opt::TunNocsum => Optc::TunNocsum,
            Opt::TunCsum => Optc::TunCsum,
            Opt::TunRemcsum => Optc::TunRemcsum,
            _ => return None,
        })
    }
}

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    /// A switch.
    None,
    /// A value, from the rest of the token or the next token.
    Required,
    /// A value only when the next token does not start with `-` (`-p [timeout]`).
    Optional,
}

/// One row of ipvsadm's option table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptDef {
    /// The long name, without `--`.
    pub(crate) long: &'static str,
    /// The short letter, if any.
    pub(crate) short: Option<char>,
    /// Whether it takes a value.
    pub(crate) arg: ArgKind,
    /// Which option.
    pub(crate) opt: Opt,
}

const fn def(long: &'static str, short: Option<char>, arg: ArgKind, opt: Opt) -> OptDef {
    OptDef {
        long,
        short,
        arg,
        opt,
    }
}

use ArgKind::{None as N, Optional as O, Required as R};

/// ipvsadm 1.31's option table (`options_table` in `parse_options`), in its order.
pub(crate) const OPTIONS: &[OptDef] = &[
    def("add-service", Some('A'), N, Opt::AddService),
    def("edit-service", Some('E'), N, Opt::EditService),
    def("delete-service", Some('D'), N, Opt::DeleteService),
    def("clear", Some('C'), N, Opt::Clear),
    def("list", Some('L'), N, Opt::List),
    def("list", Some('l'), N, Opt::List),
    def("zero", Some('Z'), N, Opt::Zero),
    def("add-server", Some('a'), N, Opt::AddServer),
    def("edit-server", Some('e'), N, Opt::EditServer),
    def("delete-server", Some('d'), N, Opt::DeleteServer),
    def("set", None, N, Opt::Set),
    def("help", Some('h'), N, Opt::Help),
    def("version", Some('v'), N, Opt::Version),
    def("restore", Some('R'), N, Opt::Restore),
    def("save", Some('S'), N, Opt::Save),
    def("start-daemon", None, R, Opt::StartDaemon),
    def("stop-daemon", None, R, Opt::StopDaemon),
    def("tcp-service", Some('t'), R, Opt::TcpService),
    def("udp-service", Some('u'), R, Opt::UdpService),
    def("sctp-service", None, R, Opt::SctpService),
    def("fwmark-service", Some('f'), R, Opt::FwmarkService),
    def("scheduler", Some('s'), R, Opt::Scheduler),
    def("persistent", Some('p'), O, Opt::Persistent),
    def("netmask", Some('M'), R, Opt::Netmask),
    def("real-server", Some('r'), R, Opt::RealServer),
    def("masquerading", Some('m'), N, Opt::Masquerading),
    def("ipip", Some('i'), N, Opt::Ipip),
    def("gatewaying", Some('g'), N, Opt::Gatewaying),
    def("weight", Some('w'), R, Opt::Weight),
    def("u-threshold", Some('x'), R, Opt::UThreshold),
    def("l-threshold", Some('y'), R, Opt::LThreshold),
    def("numeric", Some('n'), N, Opt::Numeric),
    def("connection", Some('c'), N, Opt::Connection),
    def("mcast-interface", None, R, Opt::McastInterface),
    def("syncid", None, R, Opt::SyncId),
    def("timeout", None, N, Opt::Timeout),
    def("daemon", None, N, Opt::Daemon),
    def("stats", None, N, Opt::Stats),
    def("rate", None, N, Opt::Rate),
    def("thresholds", None, N, Opt::Thresholds),
    def("persistent-conn", None, N, Opt::PersistentConn),
    def("nosort", None, N, Opt::NoSort),
    def("sort", None, N, Opt::Sort),
    def("exact", Some('X'), N, Opt::Exact),
    def("ipv6", Some('6'), N, Opt::Ipv6),
    def("ops", Some('o'), N, Opt::Ops),
    def("pe", None, R, Opt::Pe),
    def("sched-flags", Some('b'), R, Opt::SchedFlags),
    def("mcast-group", None, R, Opt::McastGroup),
    def("mcast-port", None, R, Opt::McastPort),
    def("mcast-ttl", None, R, Opt::McastTtl),
    def("sync-maxlen", None, R, Opt::SyncMaxlen),
    def("tun-info", None, N, Opt::TunInfo),
    def("tun-type", None, R, Opt::TunType),
    def("tun-port", None, R, Opt::TunPort),
    def("tun-nocsum", None, N, Opt::TunNocsum),
    def("tun-csum", None, N, Opt::TunCsum),
    def("tun-remcsum", None, N, Opt::TunRemcsum),
];

/// Where each ASCII letter's short option is in [`OPTIONS`] (the first row that has it, as popt
/// searches), or `u8::MAX`: one load per option instead of a search of the table.
const SHORT_INDEX: [u8; 128] = {
    let mut index = [u8::MAX; 128];
    // Backwards, so that the first row with a letter is the one left standing.
    let mut row = OPTIONS.len();
    while row > 0 {
        row -= 1;
        if let Some(c) = OPTIONS[row].short {
            index[c as usize] = row as u8;
        }
    }
    index
};

/// The row of [`OPTIONS`] for a short option letter.
pub(crate) fn short_def(c: char) -> Option<&'static OptDef> {
    let row = *SHORT_INDEX.get(c as usize)?;
    OPTIONS.get(usize::from(row))
}

/// A token of a command line, with its 1-based column in its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The text.
    pub text: &'a str,
    /// The 1-based column where it starts.
    pub column: usize,
}

/// One option found by [`Scanner`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found<'a> {
    /// Which option.
    pub(crate) opt: Opt,
    /// Its column.
    pub(crate) column: usize,
    /// Its value and the value's column.
    pub(crate) value: Option<(&'a str, usize)>,
}

/// Why popt stopped. The option's text is as [`crate::rules::shown`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// `POPT_ERROR_BADOPT`.
    Unknown {
        /// The option as written.
        text: String,
        /// Its column.
        column: usize,
    },
    /// `POPT_ERROR_NOARG`.
    MissingValue {
        /// The option as written.
        text: String,
        /// Its column.
        column: usize,
    },
    /// `POPT_ERROR_UNWANTEDARG`.
    UnwantedValue {
        /// The option as written.
        text: String,
        /// Its column.
        column: usize,
    },
}

/// How many positional arguments a [`Scanner`] keeps: the three that ipvsadm's grammar reads
/// (`--set`'s timeouts) and the next one, which it reports as unexpected.
pub(crate) const POSITIONAL_KEPT: usize = 4;

/// Walks tokens the way popt's `poptGetNextOpt` does: long options with `=` or a separate
/// value, clusters of short options whose last may take the rest of the token as its value,
/// `--` ending the options, and every other token left over as a positional argument.
///
/// Tokens are taken one at a time (a slice's `iter().copied()`, or
/// [`crate::ipvsadm::tokens`] of a line), and only the first [`POSITIONAL_KEPT`] positional
/// arguments are kept: a line of millions of tokens costs no memory.
pub(crate) struct Scanner<'a, I: Iterator<Item = Token<'a>>> {
    tokens: std::iter::Peekable<I>,
    /// The rest of a cluster of short options: (text, column of its first char).
    cluster: Option<(&'a str, usize)>,
    only_positional: bool,
    /// The first token, whatever it is.
    first: Option<Token<'a>>,
    /// The token of the option found last.
    option_token: &'a str,
    /// The first positional arguments, in order.
    positional: Vec<Token<'a>>,
}

impl<'a, I: Iterator<Item = Token<'a>>> Scanner<'a, I> {
    /// A scanner over the tokens of one command line (without the program name).
    pub(crate) fn new(tokens: impl IntoIterator<IntoIter = I>) -> Self {
        Scanner {
            tokens: tokens.into_iter().peekable(),
            cluster: None,
            only_positional: false,
            first: None,
            option_token: "",
            positional: Vec::new(),
        }
    }

    /// The first [`POSITIONAL_KEPT`] positional arguments seen so far, in order.
    pub(crate) fn positional(&self) -> &[Token<'a>] {
        &self.positional
    }

    /// The whole token the option found last was written in (`-At` for the `t` of `-At`),
    /// for messages.
    pub(crate) fn option_token(&self) -> &'a str {
        self.option_token
    }

    /// The first token of the line, once the scanner has taken it.
    pub(crate) fn first_token(&self) -> Option<Token<'a>> {
        self.first
    }

    /// The next token, noting the first.
    #[inline]
    fn take(&mut self) -> Option<Token<'a>> {
        let t = self.tokens.next()?;
        if self.first.is_none() {
            self.first = Some(t);
        }
        Some(t)
    }

    /// The value of an option that takes one, from the token after it.
    fn value_from_next(&mut self, def: &OptDef) -> Option<Option<(&'a str, usize)>> {
        match self.tokens.peek() {
            None => (def.arg == ArgKind::Optional).then_some(None),
            Some(t) if def.arg == ArgKind::Optional && t.text.starts_with('-') => Some(None),
            Some(_) => self.take().map(|t| Some((t.text, t.column))),
        }
    }

    /// The next option, `None` at the end, or popt's error.
    // Inlined into the option loop of `parse_args_from`, where the result is taken apart at once.
    #[inline]
    pub(crate) fn next_opt(&mut self) -> Option<Result<Found<'a>, ScanError>> {
        if let Some((rest, col)) = self.cluster.take() {
            return Some(self.short(rest, col));
        }
        loop {
            let tok = self.take()?;
            let text = tok.text;
            if self.only_positional || text == "-" || !text.starts_with('-') {
                if self.positional.len() < POSITIONAL_KEPT {
                    self.positional.push(tok);
                }
                continue;
            }
            if text == "--" {
                self.only_positional = true;
                continue;
            }
            self.option_token = text;
            if let Some(long) = text.strip_prefix("--") {
                return Some(self.long(long, tok.column, text));
            }
            return Some(self.short(&text[1..], tok.column + 1));
        }
    }

    fn long(
        &mut self,
        long: &'a str,
        column: usize,
        text: &'a str,
    ) -> Result<Found<'a>, ScanError> {
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (long, None),
        };
        let Some(def) = OPTIONS.iter().find(|d| d.long == name) else {
            return Err(ScanError::Unknown {
                text: shown(text).to_string(),
                column,
            });
        };
        let value = match (def.arg, inline) {
            (ArgKind::None, Some(_)) => {
                return Err(ScanError::UnwantedValue {
                    text: shown(text).to_string(),
                    column,
                });
            }
            (ArgKind::None, None) => None,
            (_, Some(v)) => Some((v, column + 2 + name.chars().count() + 1)),
            (_, None) => self
                .value_from_next(def)
                .ok_or_else(|| ScanError::MissingValue {
                    text: shown(text).to_string(),
                    column,
                })?,
        };
        Ok(Found {
            opt: def.opt,
            column,
            value,
        })
    }

    #[inline]
    fn short(&mut self, cluster: &'a str, column: usize) -> Result<Found<'a>, ScanError> {
        let mut chars = cluster.chars();
        let Some(c) = chars.next() else {
            return Err(ScanError::Unknown {
                text: "-".into(),
                column,
            });
        };
        let rest = chars.as_str();
        let rest_col = column + 1;
        let Some(def) = short_def(c) else {
            return Err(ScanError::Unknown {
                text: format!("-{}", shown(c.encode_utf8(&mut [0; 4]))),
                column: column - 1,
            });
        };
        let value = if def.arg == ArgKind::None {
            if !rest.is_empty() {
                self.cluster = Some((rest, rest_col));
            }
            None
        } else if !rest.is_empty() {
            Some((rest, rest_col))
        } else {
            self.value_from_next(def)
                .ok_or_else(|| ScanError::MissingValue {
                    text: format!("-{c}"),
                    column: column - 1,
                })?
        };
        Ok(Found {
            opt: def.opt,
            column: column - 1,
            value,
        })
    }
}

/// ipvsadm's commands, in the order of its tables (`CMD_*` - 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    /// `-A`.
    Add = 0,
    /// `-E`.
    Edit,
    /// `-D`.
    Del,
    /// `-C`.
    Flush,
    /// `-L`.
    List,
    /// `-a`.
    AddDest,
    /// `-d`.
    DelDest,
    /// `-e`.
    EditDest,
    /// `--set`.
    Timeout,
    /// `--start-daemon`.
    StartDaemon,
    /// `--stop-daemon`.
    StopDaemon,
    /// `-R`.
    Restore,
    /// `-S`.
    Save,
    /// `-Z`.
    Zero,
}

impl Cmd {
    /// The name ipvsadm's messages use (`cmdnames`).
    pub(crate) const fn name(self) -> &'static str {
        CMD_NAMES[self as usize]
    }
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

/// The option bits of ipvsadm (`OPTC_*`), the columns of its legality table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Optc {
    Numeric = 0,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    OnePacket,
    PersistenceEngine,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

/// ipvsadm's option names (`optnames`), by [`Optc`].
pub(super) const OPT_NAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

/// ipvsadm's `commands_v_options`, one row per [`Cmd`], one column per [`Optc`]:
/// `+` required, `x` illegal, `1` at most one of these, `.` optional.
pub(crate) const COMMANDS_V_OPTIONS: [&str; 14] = [
    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
    "xx+...xxxxxxxxxxxxxxx...xxxxxxxxxx",
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ".11xxxxxxxxx11.......xxxxxxx.xxxxx",
    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xx+xxx+....xxxxxxxxxxxxxxxxxx.....",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xxxxxxxxxxx.xxxxxxx.xxxx....xxxxxx",
    "xxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxx",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ".xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// A row of [`COMMANDS_V_OPTIONS`] as option bits.
struct RowBits {
    /// `+`.
    required: u64,
    /// `x`.
    illegal: u64,
    /// `1`.
    exclusive: u64,
}

const ROW_BITS: [RowBits; 14] = {
    const EMPTY: RowBits = RowBits {
        required: 0,
        illegal: 0,
        exclusive: 0,
    };
    let mut rows = [EMPTY; 14];
    let mut cmd = 0;
    while cmd < rows.len() {
        let row = COMMANDS_V_OPTIONS[cmd].as_bytes();
        let mut j = 0;
        while j < row.len() {
            match row[j] {
                b'+' => rows[cmd].required |= 1 << j,
                b'x' => rows[cmd].illegal |= 1 << j,
                b'1' => rows[cmd].exclusive |= 1 << j,
                _ => {}
            }
            j += 1;
        }
        cmd += 1;
    }
    rows
};

/// ipvsadm's `generic_opt_check`: the first broken rule of `cmd`'s row, in column order.
#[inline]
pub(super) fn generic_opt_check(cmd: Cmd, options: u64) -> Result<(), String> {
    // Almost every line breaks no rule: say so from the bits, and walk the row only to find
    // which rule is broken first.
    let bits = &ROW_BITS[cmd as usize];
    if options & bits.required == bits.required
        && options & bits.illegal == 0
        && (options & bits.exclusive).count_ones() <= 1
    {
        return Ok(());
    }
    first_broken_rule(cmd, options)
}

/// The walk along `cmd`'s row that [`generic_opt_check`] makes, in column order.
fn first_broken_rule(cmd: Cmd, options: u64) -> Result<(), String> {
    let row = COMMANDS_V_OPTIONS[cmd as usize].as_bytes();
    let mut exclusive: Option<usize> = None;
    for (j, rule) in row.iter().enumerate() {
        let set = options & (1u64 << j) != 0;
        match (set, rule) {
            (false, b'+') => {
                return Err(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j],
                    cmd.name()
                ));
            }
            (true, b'x') => {
                return Err(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPT_NAMES[j],
                    cmd.name()
                ));
            }
            (true, b'1') => match exclusive {
                None => exclusive = Some(j),
                Some(last) => {
                    return Err(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPT_NAMES[j],
                        OPT_NAMES[last],
                        cmd.name()
                    ));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &str) -> Vec<Token<'_>> {
        crate::ipvsadm::split::tokenize(line)
    }

    #[test]
    fn table_rows_are_complete() {
        for row in COMMANDS_V_OPTIONS {
            assert_eq!(row.len(), OPT_NAMES.len());
        }
    }

    #[test]
    fn scans_like_popt() {
        let t = toks("-At 10.0.0.1:80 -p -s rr --weight=3 x -p600");
        let mut s = Scanner::new(t.iter().copied());
        let mut got = Vec::new();
        while let Some(r) = s.next_opt() {
            let f = r.unwrap();
            got.push((f.opt, f.value.map(|v| v.0)));
        }
        assert_eq!(
            got,
            [
                (Opt::AddService, None),
                (Opt::TcpService, Some("10.0.0.1:80")),
                (Opt::Persistent, None),
                (Opt::Scheduler, Some("rr")),
                (Opt::Weight, Some("3")),
                (Opt::Persistent, Some("600")),
            ]
        );
        assert_eq!(s.positional().len(), 1);
        assert_eq!(s.positional()[0].text, "x");
    }

    #[test]
    fn popt_errors() {
        let t = toks("-A --bogus");
        let mut s = Scanner::new(t.iter().copied());
        assert!(s.next_opt().unwrap().is_ok());
        assert!(matches!(
            s.next_opt(),
            Some(Err(ScanError::Unknown { column: 4, .. }))
        ));
        let t = toks("-A -t");
        let mut s = Scanner::new(t.iter().copied());
        s.next_opt();
        assert!(matches!(
            s.next_opt(),
            Some(Err(ScanError::MissingValue { column: 4, .. }))
        ));
    }

    #[test]
    fn short_index_finds_the_first_row() {
        for c in (0..=0x200u32).filter_map(char::from_u32) {
            let searched = OPTIONS.iter().find(|d| d.short == Some(c));
            assert_eq!(
                short_def(c).map(|d| d.opt),
                searched.map(|d| d.opt),
                "{c:?}"
            );
        }
    }

    #[test]
    fn row_bits_agree_with_the_walk() {
        let cmds = [
            Cmd::Add,
            Cmd::Edit,
            Cmd::Del,
            Cmd::Flush,
            Cmd::List,
            Cmd::AddDest,
            Cmd::DelDest,
            Cmd::EditDest,
            Cmd::Timeout,
            Cmd::StartDaemon,
            Cmd::StopDaemon,
            Cmd::Restore,
            Cmd::Save,
            Cmd::Zero,
        ];
        // Every set of one or two options, and a spread of larger ones.
        let mut sets = vec![0u64];
        for i in 0..OPT_NAMES.len() {
            for j in i..OPT_NAMES.len() {
                sets.push((1 << i) | (1 << j));
            }
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sets.push(x & ((1 << OPT_NAMES.len()) - 1));
        }
        for (i, cmd) in cmds.into_iter().enumerate() {
            assert_eq!(cmd as usize, i);
            let bits = &ROW_BITS[i];
            for &set in &sets {
                // As drawn, without the illegal options, and with the required ones too.
                let legal = set & !bits.illegal;
                for options in [set, legal, legal | bits.required] {
                    assert_eq!(
                        generic_opt_check(cmd, options),
                        first_broken_rule(cmd, options),
                        "{cmd:?} {options:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn legality() {
        assert!(generic_opt_check(Cmd::Add, 1 << Optc::Service as u64).is_ok());
        assert_eq!(
            generic_opt_check(Cmd::Add, 0).unwrap_err(),
            "You need to supply the 'service-address' option for the 'add-service' command"
        );
        assert_eq!(
            generic_opt_check(
                Cmd::Add,
                (1 << Optc::Service as u64) | (1 << Optc::Weight as u64)
            )
            .unwrap_err(),
            "Illegal 'weight' option with the 'add-service' command"
        );
    }
}
