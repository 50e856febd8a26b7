//! `lvsadm apply` and `lvsadm diff`: bring the kernel to a desired ruleset with the fewest
//! changes, or show what that would change.
//!
//! ```text
//! lvsadm apply [--keep-unlisted] [--drain] [--dry-run] [--netns NAME] [--format F] FILE|-
//! lvsadm apply --watch [--resync SECS] [--keep-unlisted] [--drain] [--netns NAME] [--format F] FILE
//! lvsadm diff  [--keep-unlisted] [--drain] [--rules] [--netns NAME] [--format F] FILE|-
//! ```
//!
//! FILE is an ipvsadm rule file, or a serialised `Ruleset` in JSON or TOML; `--format
//! rules|json|toml` overrides the guess from the extension or the content ([`detect`]). `diff`
//! exits like `diff(1)`: 0 when nothing would change, 1 when something would, 2 on error.
//! `--watch` keeps the kernel at FILE until SIGTERM (see `watch.rs`). The command line is read
//! by `cli.rs`.

use crate::cli::Format;
use lvs::Ruleset;
use lvs::document::DocumentError;
use lvs::netlink::{ApplyOptions, Ipvs};
use lvs::rules::decode;
use std::process::ExitCode;
use std::time::Duration;

/// What the command line asked for (read by `cli.rs`).
pub struct Request {
    pub options: ApplyOptions,
    pub netns: Option<String>,
    pub format: Option<Format>,
    pub rules_output: bool,
    pub path: String,
    pub watch: bool,
    pub resync: Option<Duration>,
}

/// FILE's format: `format` when given, else from the extension (`.rules`, `.json`, `.toml`),
/// else from the text: a `{` first is JSON; a `[` first or a `key =` line is TOML; anything
/// else is rules. Blank lines and `#` comments before are skipped.
pub fn detect(path: &str, format: Option<Format>, text: &str) -> Format {
    if let Some(f) = format {
        return f;
    }
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("rules") => return Format::Rules,
        Some("json") => return Format::Json,
        Some("toml") => return Format::Toml,
        _ => {}
    }
    let first = text
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let key_len = first
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    if first.starts_with('{') {
        Format::Json
    } else if first.starts_with('[')
        || first.starts_with('"')
        || (key_len > 0 && first[key_len..].trim_start().starts_with('='))
    {
        Format::Toml
    } else {
        Format::Rules
    }
}

/// Reads a ruleset in whichever format the file is in.
pub fn read_desired(path: &str, format: Option<Format>) -> Result<Ruleset, String> {
    let (name, bytes) = crate::fmt::read_bytes(path)?;
    parse(name, path, format, &bytes)
}

/// Reads the bytes of `path` (shown as `name`) as a ruleset in `format`, or in the format
/// [`detect`] finds. The text must be UTF-8 without a byte order mark, as a rule file's:
/// `NAME:LINE:COL: why` otherwise.
pub fn parse(
    name: &str,
    path: &str,
    format: Option<Format>,
    bytes: &[u8],
) -> Result<Ruleset, String> {
    let text = decode(bytes).map_err(|e| format!("{name}:{e}"))?;
    match detect(path, format, text) {
        Format::Rules => Ruleset::from_rules(text).map_err(|e| format!("{name}:{e}")),
        Format::Json => Ruleset::from_json(text).map_err(|e| document_error(name, e)),
        Format::Toml => Ruleset::from_toml(text).map_err(|e| document_error(name, e)),
    }
}

/// `FILE:LINE:COL: message` for a document that is not a ruleset, `FILE: where (object):
/// message` for one that breaks a rule.
fn document_error(path: &str, e: DocumentError) -> String {
    match e.position() {
        Some(_) => format!("{path}:{e}"),
        None => format!("{path}: {e}"),
    }
}

/// The kernel's IPVS, of the network namespace /run/netns/NAME when one is named.
pub fn open(netns: Option<&str>) -> Result<Ipvs, String> {
    let ipvs = match netns {
        Some(name) => Ipvs::in_netns(format!("/run/netns/{name}")),
        None => Ipvs::new(),
    };
    ipvs.map_err(|e| e.to_string())
}

/// Runs `lvsadm apply` (`diff` false) or `lvsadm diff` (`diff` true).
pub fn run(args: Request, diff: bool) -> ExitCode {
    let name = if diff { "diff" } else { "apply" };
    let fail = |msg: String| {
        eprintln!("lvsadm {name}: {msg}");
        ExitCode::from(2)
    };
    let desired = match read_desired(&args.path, args.format) {
        Ok(r) => r,
        Err(msg) => return fail(msg),
    };
    let ipvs = match open(args.netns.as_deref()) {
        Ok(i) => i,
        Err(msg) => return fail(msg),
    };
    if args.watch {
        return crate::watch::run(ipvs, &args.path, args.format, &args.options, args.resync);
    }
    if diff {
        return match ipvs.plan(&desired, &args.options) {
            Err(e) => fail(e.to_string()),
            Ok(plan) if plan.is_empty() => ExitCode::SUCCESS,
            Ok(plan) => {
                print!(
                    "{}",
                    if args.rules_output {
                        plan.to_rules()
                    } else {
                        plan.to_string()
                    }
                );
                ExitCode::from(1)
            }
        };
    }
    match ipvs.apply(&desired, &args.options) {
        Err(e) => fail(e.to_string()),
        Ok(report) if args.options.dry_run => {
            print!("{}", report.plan);
            ExitCode::SUCCESS
        }
        Ok(report) => {
            print!("{report}");
            if report.is_success() {
                ExitCode::SUCCESS
            } else {
                let failed = report.failed().count();
                let skipped = report.not_tried().count();
                eprintln!(
                    "lvsadm apply: {failed} change(s) failed, {skipped} not tried; run it again to converge"
                );
                ExitCode::from(1)
            }
        }
    }
}
