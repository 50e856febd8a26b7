//! The `lvs_` extension API: what libipvs lacks, with libipvs's conventions (0/-1 and errno,
//! `malloc`ed results the caller frees, `ipvs_strerror` keyed on the last operation).

use crate::convert;
use crate::ffi::{
    self, Failure, c_rules, c_str, calloc_table, ffi_boundary, malloc_string, pointer, status,
    with_ipvs,
};
use crate::types::*;
use lvs_core::{Command, Operation, Ruleset, rules};
use lvs_netlink::{ApplyOptions, Ipvs, Outcome, Report};
use std::ffi::{c_char, c_int, c_uint};
use std::mem::offset_of;

/// Opens the handle on another network namespace: a name under `/run/netns` (what
/// `ip netns add` creates) or a path such as `/proc/PID/ns/net`. The calling thread stays in
/// its own namespace. Then fills `ipvs_info`, as `ipvs_init` does.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_init_netns(path: *const c_char) -> c_int {
    ffi_boundary! {
        status(Some(Operation::GetInfo), || {
            // SAFETY: the caller's contract.
            let path = unsafe { c_str(path, "path") }?;
            ffi::open(Ipvs::in_netns(path)?);
            crate::api::getinfo()
        })
    }
}

/// The full text of the last error of this thread (with what `ipvs_strerror` cannot say: the
/// line and column of a rule, the reason for EINVAL), `malloc`ed for the caller to free; NULL
/// when nothing failed yet.
#[unsafe(no_mangle)]
pub extern "C" fn lvs_last_error() -> *mut c_char {
    ffi_boundary! {
        match ffi::last_error() {
            Some(text) => malloc_string(&text).unwrap_or(std::ptr::null_mut()),
            None => std::ptr::null_mut(),
        }
    }
}

/// Parses rule lines, refusing the first that ipvsadm would refuse (EINVAL).
fn parse(text: &str) -> ffi::Result<Vec<rules::Rule>> {
    rules::parse(text).map_err(|e| Failure::invalid(e.to_string()))
}

/// The first failure of a batch: its operation (for `ipvs_strerror`) and errno, with the line.
type FirstFailure = Option<(Operation, Failure)>;

/// Sends the commands pipelined; returns each line's errno (0 for success) and the first
/// failure.
fn run(rules: &[rules::Rule]) -> ffi::Result<(Vec<c_int>, FirstFailure)> {
    let commands: Vec<Command> = rules.iter().map(|r| r.command.clone()).collect();
    let results = with_ipvs(|ipvs| Ok(ipvs.batch(&commands)))?;
    let mut first: FirstFailure = None;
    let mut codes = Vec::with_capacity(results.len());
    for (rule, result) in rules.iter().zip(results) {
        match result {
            Ok(()) => codes.push(0),
            Err(e) => {
                let f = Failure::from(e);
                codes.push(f.errno);
                if first.is_none() {
                    let message = format!("line {}: {}", rule.line, f.message);
                    first = Some((rule.command.operation(), Failure::new(f.errno, message)));
                }
            }
        }
    }
    Ok((codes, first))
}

/// [`run`] with `lvs_restore_*`'s convention: the first failure is the call's.
fn restore(text: &str) -> ffi::Result<()> {
    let rules = parse(text)?;
    match run(&rules)?.1 {
        None => Ok(()),
        Some((op, f)) => {
            ffi::set_last_op(op);
            Err(f)
        }
    }
}

/// Applies ipvsadm rules (what `ipvsadm-save -n` writes and `ipvsadm -R` reads), one command a
/// line, pipelined. Every line is parsed first: a line ipvsadm would refuse sends nothing and
/// fails with EINVAL (`lvs_last_error` says which line and why). Then every command is sent,
/// each checked by lvs as `ipvsadm` would; like `ipvsadm -R`, a failing line does not stop the
/// next ones. Returns 0 when every line succeeded, else -1 with errno and `ipvs_strerror` of
/// the first failing line.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_restore_text(text: *const c_char) -> c_int {
    ffi_boundary! {
        status(None, || {
            // SAFETY: the caller's contract.
            restore(unsafe { c_rules(text, "text", 1) }?)
        })
    }
}

/// [`lvs_restore_text`] of a file's contents. A file that cannot be read fails with its
/// errno; one that is not UTF-8 text, or starts with a byte order mark, with EINVAL (sending
/// nothing; `lvs_last_error` gives the line and column).
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_restore_file(path: *const c_char) -> c_int {
    ffi_boundary! {
        status(None, || {
            // SAFETY: the caller's contract.
            let path = unsafe { c_str(path, "path") }?;
            let bytes = std::fs::read(path).map_err(|e| {
                Failure::new(e.raw_os_error().unwrap_or(libc::EIO), format!("{path}: {e}"))
            })?;
            restore(ffi::rules_text(&bytes, 1)?)
        })
    }
}

/// Runs `count` rule lines as one pipelined batch. Returns how many failed (0: all
/// succeeded) and writes each line's errno (0 for success) to `results[i]`, which has `count`
/// slots (it may be NULL). Returns -1 with errno, writing nothing, when an argument is NULL or
/// a line does not parse (EINVAL; nothing is sent), or the kernel cannot be reached.
///
/// # Safety
/// `lines` points to `count` NUL-terminated strings; `results` is NULL or has `count` slots.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_batch(
    lines: *const *const c_char,
    count: usize,
    results: *mut c_int,
) -> c_int {
    ffi_boundary! {
        let mut failed = 0;
        let rc = status(None, || {
            if lines.is_null() && count > 0 {
                return Err(Failure::invalid("lines is NULL"));
            }
            let mut rules = Vec::with_capacity(count);
            for i in 0..count {
                // SAFETY: lines has count entries.
                let line = unsafe { c_rules(*lines.add(i), "line", i + 1) }?;
                let rule = rules::parse_line(i + 1, line, &rules::NumericOnly)
                    .map_err(|e| Failure::invalid(e.to_string()))?
                    .ok_or_else(|| Failure::invalid(format!("line {}: no command", i + 1)))?;
                rules.push(rule);
            }
            let (codes, first) = run(&rules)?;
            if !results.is_null() {
                // SAFETY: results has count slots, and codes has one per line.
                unsafe { std::slice::from_raw_parts_mut(results, count) }.copy_from_slice(&codes);
            }
            failed = codes.iter().filter(|&&c| c != 0).count();
            if let Some((op, f)) = first {
                // errno and ipvs_strerror describe the first failing line, as for a restore.
                ffi::set_last_op(op);
                ffi::fail_with(f.errno, &f.message);
            }
            Ok(())
        });
        if rc == 0 { failed.min(c_int::MAX as usize) as c_int } else { rc }
    }
}

/// The whole table as ipvsadm rules, byte-identical to `ipvsadm -S -n` (plus non-zero
/// thresholds, which ipvsadm drops), `malloc`ed for the caller to free.
#[unsafe(no_mangle)]
pub extern "C" fn lvs_save_text() -> *mut c_char {
    ffi_boundary! {
        pointer(Some(Operation::GetServices), || {
            let snapshot = with_ipvs(Ipvs::snapshot)?;
            let ruleset: Ruleset = snapshot.services();
            malloc_string(&ruleset.to_rules())
        })
    }
}

/// The connection table of the handle's namespace (`/proc/net/ip_vs_conn`), in one
/// `malloc`ed block the caller frees.
#[unsafe(no_mangle)]
pub extern "C" fn lvs_get_connections() -> *mut lvs_connections {
    ffi_boundary! {
        pointer(None, || {
            let conns = with_ipvs(Ipvs::connections)?;
            let head = offset_of!(lvs_connections, entrytable);
            let p = calloc_table::<lvs_connection>(head, conns.len())?.cast::<lvs_connections>();
            // SAFETY: p holds the header and conns.len() zeroed entries.
            unsafe {
                (*p).num_conns = conns.len() as c_uint;
                let table = (&raw mut (*p).entrytable).cast::<lvs_connection>();
                for (i, c) in conns.iter().enumerate() {
                    convert::connection(c, &mut *table.add(i));
                }
            }
            Ok(p)
        })
    }
}

pub(crate) fn apply_options(flags: c_int) -> ffi::Result<ApplyOptions> {
    let known = LVS_APPLY_KEEP_UNLISTED | LVS_APPLY_DRAIN | LVS_APPLY_JSON | LVS_APPLY_TOML;
    if flags & !known != 0
        || flags & (LVS_APPLY_JSON | LVS_APPLY_TOML) == LVS_APPLY_JSON | LVS_APPLY_TOML
    {
        return Err(Failure::invalid(format!("unknown flags {flags:#x}")));
    }
    Ok(ApplyOptions {
        keep_unlisted: flags & LVS_APPLY_KEEP_UNLISTED != 0,
        drain: flags & LVS_APPLY_DRAIN != 0,
        dry_run: false,
    })
}

/// The ruleset the text describes, checked whole, or EINVAL: ipvsadm rules (as
/// `ipvsadm -C; ipvsadm -R` would leave the table), or a JSON or TOML document as `flags` say.
pub(crate) fn desired(text: &str, flags: c_int) -> ffi::Result<Ruleset> {
    let read = if flags & LVS_APPLY_JSON != 0 {
        Ruleset::from_json(text).map_err(|e| e.to_string())
    } else if flags & LVS_APPLY_TOML != 0 {
        Ruleset::from_toml(text).map_err(|e| e.to_string())
    } else {
        Ruleset::from_rules(text).map_err(|e| e.to_string())
    };
    read.map_err(Failure::invalid)
}

/// Brings the kernel to what `rules` (ipvsadm rule text, or a JSON or TOML ruleset with
/// `LVS_APPLY_JSON`/`LVS_APPLY_TOML`) describe with the fewest changes,
/// never a flush: services and real servers that differ are edited in place, missing ones
/// added, others deleted (unless `LVS_APPLY_KEEP_UNLISTED`; drained first with
/// `LVS_APPLY_DRAIN`). Applying the same rules again changes nothing. Returns 0, or -1 with
/// errno and `ipvs_strerror` of the first refused change (EINVAL for text that does not parse
/// or breaks a rule, or an unknown flag; nothing is sent then). A change that depends on a
/// refused one (a removal waiting for its replacement) is not sent.
///
/// # Safety
/// `rules` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_apply_text(rules: *const c_char, flags: c_int) -> c_int {
    ffi_boundary! {
        status(None, || {
            let options = apply_options(flags)?;
            // SAFETY: the caller's contract.
            let desired = desired(unsafe { c_rules(rules, "rules", 1) }?, flags)?;
            first_failure(with_ipvs(|ipvs| ipvs.apply(&desired, &options))?)
        })
    }
}

/// The call's failure for a report: the first refused step's errno and message, with its
/// operation for `ipvs_strerror`.
pub(crate) fn first_failure(report: Report) -> ffi::Result<()> {
    let failed = report
        .plan
        .steps
        .iter()
        .zip(report.outcomes)
        .find_map(|(step, outcome)| match outcome {
            Outcome::Failed(e) => Some((step.command.operation(), e)),
            _ => None,
        });
    match failed {
        None => Ok(()),
        Some((op, e)) => {
            ffi::set_last_op(op);
            Err(Failure::from(e))
        }
    }
}

/// The changes `lvs_apply_text` would make, as ipvsadm rule lines in order (empty when the
/// kernel already matches), `malloc`ed for the caller to free. Sends nothing.
///
/// # Safety
/// `rules` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn lvs_plan_text(rules: *const c_char, flags: c_int) -> *mut c_char {
    ffi_boundary! {
        pointer(None, || {
            let options = apply_options(flags)?;
            // SAFETY: the caller's contract.
            let desired = desired(unsafe { c_rules(rules, "rules", 1) }?, flags)?;
            let plan = with_ipvs(|ipvs| ipvs.plan(&desired, &options))?;
            malloc_string(&plan.to_rules())
        })
    }
}
