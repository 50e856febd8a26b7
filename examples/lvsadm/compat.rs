//! An ipvsadm command line, read and carried out as ipvsadm 1.31's `main` and
//! `process_options` do, with the same messages and exit statuses:
//!
//! - no command (or popt failing on the first option): "Try `PROG -h' ..." and exit 255;
//! - popt failing later (`-A --bogus`): "OPTION: unknown option", status 255 (and `-R` goes
//!   on with the next line);
//! - any other refusal of the command line: ipvsadm's message and exit 2 at once (inside `-R`
//!   too, leaving the lines before applied);
//! - a kernel refusal of a change: `ipvs_strerror`'s message, status 255 (`-R` goes on);
//! - a failed listing: the message and exit 1.

use crate::names::LibcNames;
use crate::{change, list, restore, usage};
use lvs::ipvsadm::{Format, Invocation, ListWhat, Token, parse_args_from, sends_to_help};
use lvs::rules::ArgErrorKind;
use lvs::{Info, Ipvs};
use std::io::Write;
use std::process::ExitCode;

/// Ends the whole program with this status (ipvsadm's `exit()`), even in the middle of `-R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub i32);

/// What one command line gives back when it does not end the program: ipvsadm's
/// `process_options` result (0, or -1 after a kernel or popt error).
pub type Status = Result<i32, Exit>;

/// The program's state across the lines of a `-R`.
pub struct Session {
    /// argv\[0\], for the help texts.
    pub program: String,
    /// `--netns NAME`.
    pub netns: Option<String>,
    /// `--json`.
    pub json: bool,
    /// The resolver, for arguments and listings.
    pub names: LibcNames,
    handle: Option<(Ipvs, Info)>,
}

impl Session {
    /// The kernel handle and its version, opened on first use as ipvsadm's `ipvs_init` (which
    /// also reads the version) does.
    pub fn ipvs(&mut self) -> Result<&(Ipvs, Info), Exit> {
        if self.handle.is_none() {
            let opened = match &self.netns {
                Some(name) => open_netns(name)?,
                None => Ipvs::new(),
            };
            let opened = opened.and_then(|ipvs| ipvs.info().map(|info| (ipvs, info)));
            match opened {
                Ok(h) => self.handle = Some(h),
                Err(e) => {
                    eprintln!(
                        "Can't initialize ipvs: {}\n\
                         Are you sure that IP Virtual Server is built in the kernel or as module?",
                        message(&e)
                    );
                    return Err(Exit(2));
                }
            }
        }
        self.handle.as_ref().ok_or(Exit(2))
    }
}

/// Opens `--netns NAME`. A namespace that cannot be opened or joined is said to be the
/// problem (exit 2), not IPVS; what the kernel says once inside goes back to the caller.
fn open_netns(name: &str) -> Result<Result<Ipvs, lvs::netlink::Error>, Exit> {
    let path = format!("/run/netns/{name}");
    let fail = |why: String| {
        eprintln!("--netns {name}: cannot use the network namespace {path}: {why}");
        Err(Exit(2))
    };
    // Opened here first so that the usual failures read plainly; `in_netns` opens it again.
    if let Err(e) = std::fs::File::open(&path) {
        return fail(io_message(&e));
    }
    match Ipvs::in_netns(&path) {
        // Joining the namespace (setns) failed.
        Err(lvs::netlink::Error::Io(e)) => fail(io_message(&e)),
        other => Ok(other),
    }
}

/// An I/O error as the C library words it ("No such file or directory").
fn io_message(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), lvs::errno::strerror)
}

/// ipvsadm's words for an error (`ipvs_strerror`); errors ipvsadm cannot meet say what they
/// are.
pub fn message(e: &lvs::netlink::Error) -> String {
    match e {
        lvs::netlink::Error::Kernel(r) => r.ipvsadm_message(),
        lvs::netlink::Error::NotAvailable { .. } => {
            lvs::ipvsadm_message(lvs::Operation::GetInfo, old_interface_errno())
        }
        other => other.to_string(),
    }
}

/// What libipvs meets when the kernel has no IPVS netlink family: it falls back to the old
/// socket-option interface, whose raw socket needs privilege (EPERM: "Permission denied (you
/// must be root)"), and which then answers ENOPROTOOPT ("Protocol not available").
fn old_interface_errno() -> i32 {
    // SAFETY: socket() takes no pointers; the descriptor is closed at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
    if fd < 0 {
        return std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(lvs::errno::EPERM);
    }
    // SAFETY: fd was just opened and is not used again.
    unsafe { libc::close(fd) };
    lvs::errno::ENOPROTOOPT
}

/// Writes to standard output; a closed pipe is not an error worth reporting.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Takes lvsadm's own options (`--netns NAME`, `--netns=NAME`, `--json`) out of the arguments.
fn take_own_options(args: Vec<String>) -> Result<(Vec<String>, Option<String>, bool), String> {
    let mut rest = Vec::with_capacity(args.len());
    let (mut netns, mut json) = (None, false);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "--json" {
            json = true;
        } else if a == "--netns" {
            netns = Some(it.next().ok_or("--netns: missing argument")?);
        } else if let Some(name) = a.strip_prefix("--netns=") {
            netns = Some(name.to_owned());
        } else {
            rest.push(a);
        }
    }
    if netns
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.contains('/'))
    {
        return Err("--netns takes a name from /run/netns".to_owned());
    }
    Ok((rest, netns, json))
}

/// Runs an ipvsadm command line (without the program name).
pub fn main(program: &str, args: Vec<String>) -> ExitCode {
    let (args, netns, json) = match take_own_options(args) {
        Ok(parts) => parts,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let mut session = Session {
        program: program.to_owned(),
        netns,
        json,
        names: LibcNames,
        handle: None,
    };
    let status = if args.is_empty() {
        // No arguments: list the table, with names, like `-L`.
        run(
            &mut session,
            Invocation::List {
                what: ListWhat::All,
                format: Format::default(),
            },
            false,
        )
    } else {
        // Columns as if the arguments were one line joined by blanks: the grammar finds the
        // option a message names by its column.
        let mut column = 1;
        let tokens: Vec<Token<'_>> = args
            .iter()
            .map(|a| {
                let t = Token { text: a, column };
                column += a.len() + 1;
                t
            })
            .collect();
        process(&mut session, tokens.iter().copied(), false)
    };
    let code = match status {
        Ok(code) | Err(Exit(code)) => code,
    };
    // exit(-1) is 255, as the C library truncates the status.
    ExitCode::from(code as u8)
}

/// ipvsadm's `process_options` for one command line (`reading_stdin` inside `-R`), its tokens
/// taken one at a time.
pub fn process<'a>(
    session: &mut Session,
    tokens: impl Iterator<Item = Token<'a>> + Clone,
    reading_stdin: bool,
) -> Status {
    // popt failing on the first option, or finding none, sends the user to -h.
    if sends_to_help(tokens.clone()) {
        return tryhelp(session);
    }
    match parse_args_from(tokens, &session.names) {
        Ok(invocation) => run(session, invocation, reading_stdin),
        Err(e) => match e.kind {
            ArgErrorKind::NoCommand(_) => tryhelp(session),
            kind @ (ArgErrorKind::UnknownOption(_)
            | ArgErrorKind::MissingValue(_)
            | ArgErrorKind::UnwantedValue(_)) => {
                eprintln!("{kind}");
                Ok(-1)
            }
            kind => {
                let msg = kind.to_string();
                // ipvsadm writes this one message with a newline of its own before fail()'s.
                let extra = if msg == "-6 used before -f" { "\n" } else { "" };
                eprintln!("{msg}{extra}");
                Err(Exit(2))
            }
        },
    }
}

fn tryhelp(session: &Session) -> Status {
    eprint!("{}", usage::tryhelp(&session.program));
    Err(Exit(255))
}

fn run(session: &mut Session, invocation: Invocation, reading_stdin: bool) -> Status {
    if session.json && !matches!(invocation, Invocation::List { .. }) {
        eprintln!("--json is only for the listing commands (-L)");
        return Err(Exit(2));
    }
    match invocation {
        Invocation::Help => {
            out(&usage::usage(&session.program));
            Err(Exit(0))
        }
        Invocation::Version => {
            out(&usage::version());
            Err(Exit(0))
        }
        Invocation::Restore if reading_stdin => tryhelp(session),
        Invocation::Restore => restore::run(session),
        Invocation::List { what, format } => list::list(session, &what, &format),
        Invocation::Save { format } => list::save(session, &format),
        Invocation::Change(command) => change::run(session, &command),
    }
}
