//! `lvsadm apply` and `lvsadm diff`: bring the kernel to a desired ruleset with the fewest
//! changes, or show what that would change.
//!
//! ```text
//! lvsadm apply [--keep-unlisted] [--drain] [--dry-run] [--netns NAME] [--format F] FILE|-
//! lvsadm apply --watch [--resync SECS] [--keep-unlisted] [--drain] [--netns NAME] [--format F] FILE
//! lvsadm diff  [--keep-unlisted] [--drain] [--rules] [--netns NAME] [--format F] FILE|-
//! ```
//!
//! FILE is an ipvsadm rule file, or a serialised `Ruleset` in JSON (`.json`) or TOML (`.toml`);
//! `--format rules|json|toml` overrides the guess from the extension. `diff` exits like
//! `diff(1)`: 0 when nothing would change, 1 when something would, 2 on error. `--watch` keeps
//! the kernel at FILE until SIGTERM (see `watch.rs`).

use lvs::Ruleset;
use lvs::document::DocumentError;
use lvs::netlink::{ApplyOptions, Ipvs};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: lvsadm apply [--keep-unlisted] [--drain] [--dry-run] [--netns NAME] [--format rules|json|toml] FILE|-
       lvsadm apply --watch [--resync SECS] [--keep-unlisted] [--drain] [--netns NAME] [--format F] FILE
       lvsadm diff  [--keep-unlisted] [--drain] [--rules] [--netns NAME] [--format rules|json|toml] FILE|-";

/// What the command line asked for.
struct Args {
    options: ApplyOptions,
    netns: Option<String>,
    format: Option<String>,
    rules_output: bool,
    path: String,
    watch: bool,
    resync: Option<Duration>,
}

fn parse_args(args: &[String], diff: bool) -> Result<Args, String> {
    let mut options = ApplyOptions::default();
    let (mut netns, mut format, mut rules_output, mut path) = (None, None, false, None);
    let (mut watch, mut resync) = (false, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--keep-unlisted" => options.keep_unlisted = true,
            "--drain" => options.drain = true,
            "--dry-run" if !diff => options.dry_run = true,
            "--rules" if diff => rules_output = true,
            "--watch" if !diff => watch = true,
            "--resync" if !diff => {
                let secs = it.next().ok_or("--resync needs a number of seconds")?;
                match secs.parse::<u64>() {
                    Ok(n) if n > 0 => resync = Some(Duration::from_secs(n)),
                    _ => return Err(format!("--resync needs a number of seconds, not `{secs}'")),
                }
            }
            "--netns" => netns = Some(it.next().ok_or("--netns needs a name")?.clone()),
            "--format" => {
                format = Some(
                    it.next()
                        .ok_or("--format needs rules, json or toml")?
                        .clone(),
                )
            }
            p if path.is_none() && (p == "-" || !p.starts_with('-')) => path = Some(p.to_owned()),
            other => return Err(format!("unexpected argument `{other}'")),
        }
    }
    let path = path.ok_or("a FILE (or - for standard input) is needed")?;
    if resync.is_some() && !watch {
        return Err("--resync goes with --watch".into());
    }
    if watch && (path == "-" || options.dry_run) {
        return Err("--watch needs a FILE, and does not go with --dry-run".into());
    }
    Ok(Args {
        options,
        netns,
        format,
        rules_output,
        path,
        watch,
        resync,
    })
}

/// Reads the desired ruleset in whichever format the file is in.
pub fn read_desired(path: &str, format: Option<&str>) -> Result<Ruleset, String> {
    let text = crate::fmt::read_text(path)?;
    let format = format.unwrap_or(match path.rsplit_once('.') {
        Some((_, "json")) => "json",
        Some((_, "toml")) => "toml",
        _ => "rules",
    });
    match format {
        "rules" => Ruleset::from_rules(&text).map_err(|e| format!("{path}:{e}")),
        "json" => Ruleset::from_json(&text).map_err(|e| document_error(path, e)),
        "toml" => Ruleset::from_toml(&text).map_err(|e| document_error(path, e)),
        other => Err(format!("unknown format `{other}': rules, json or toml")),
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

fn open(netns: Option<&str>) -> Result<Ipvs, String> {
    let ipvs = match netns {
        Some(name) => Ipvs::in_netns(format!("/run/netns/{name}")),
        None => Ipvs::new(),
    };
    ipvs.map_err(|e| e.to_string())
}

/// Runs `lvsadm apply ARGS` (`diff` false) or `lvsadm diff ARGS` (`diff` true).
pub fn run(args: &[String], diff: bool) -> ExitCode {
    let name = if diff { "diff" } else { "apply" };
    let fail = |msg: String| {
        eprintln!("lvsadm {name}: {msg}");
        ExitCode::from(2)
    };
    let args = match parse_args(args, diff) {
        Ok(a) => a,
        Err(msg) => return fail(format!("{msg}\n{USAGE}")),
    };
    let desired = match read_desired(&args.path, args.format.as_deref()) {
        Ok(r) => r,
        Err(msg) => return fail(msg),
    };
    let ipvs = match open(args.netns.as_deref()) {
        Ok(i) => i,
        Err(msg) => return fail(msg),
    };
    if args.watch {
        let format = args.format.as_deref();
        return crate::watch::run(ipvs, &args.path, format, &args.options, args.resync);
    }
    if diff {
        return match ipvs.plan_ruleset(&desired, &args.options) {
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
    match ipvs.apply_ruleset(&desired, &args.options) {
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
