//! `lvsadm apply --watch FILE`: keep the kernel at FILE. Applies it at start, again whenever
//! the file changes (inotify, through `notify`), reads the whole table again every
//! `--resync SECS` (through a [`Reconciler`], each apply sends only what changed), prints each
//! change with a timestamp, and ends with status 0 on SIGTERM or SIGINT.
//!
//! A file that cannot be read or breaks a rule is reported and not applied: the kernel keeps
//! the last state applied.

use crate::apply::read_desired;
use lvs::netlink::{ApplyOptions, Ipvs, Reconciler};
use notify::{RecursiveMode, Watcher};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

/// How long to let a burst of file events settle (an editor's write, rename and chmod)
/// before reading the file.
const SETTLE: Duration = Duration::from_millis(200);

enum Event {
    /// The watched file (or its folder's entry for it) changed.
    Changed,
    /// SIGTERM or SIGINT.
    Stop(i32),
}

/// A line on standard output with the time in front.
fn say(line: &str) {
    println!(
        "{} {line}",
        humantime::format_rfc3339_seconds(SystemTime::now())
    );
}

/// Runs the watch until a signal; `resync` reads the whole table again that often.
pub fn run(
    ipvs: Ipvs,
    path: &str,
    format: Option<crate::cli::Format>,
    options: &ApplyOptions,
    resync: Option<Duration>,
) -> ExitCode {
    let fail = |msg: String| {
        eprintln!("lvsadm apply: {msg}");
        ExitCode::from(2)
    };
    let file = PathBuf::from(path);
    let (Some(name), Some(folder)) = (file.file_name(), parent(&file)) else {
        return fail(format!("--watch needs a file, not `{path}'"));
    };
    let (tx, rx) = mpsc::channel();
    let mut signals = match Signals::new([SIGTERM, SIGINT]) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot catch SIGTERM: {e}")),
    };
    let stop_tx = tx.clone();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if stop_tx.send(Event::Stop(signal)).is_err() {
                break;
            }
        }
    });
    // The folder, not the file: editors replace a file by renaming a new one over it.
    let name = name.to_owned();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading the file (lvsadm's own reads among them) is no change.
        let ours = event.is_ok_and(|e| {
            !e.kind.is_access() && e.paths.iter().any(|p| p.file_name() == Some(&name))
        });
        if ours {
            let _ = tx.send(Event::Changed);
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => return fail(format!("cannot watch {path}: {e}")),
    };
    if let Err(e) = watcher.watch(&folder, RecursiveMode::NonRecursive) {
        return fail(format!("cannot watch {}: {e}", folder.display()));
    }
    let mut reconciler = match Reconciler::new(ipvs) {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    say(&format!("watching {path}"));
    apply(&mut reconciler, path, format, options);
    // With no resync interval, wait for events only. The next resync is due at a fixed time,
    // however many file events come meanwhile.
    let every = resync.unwrap_or(Duration::from_secs(86400 * 365));
    let mut next_resync = Instant::now() + every;
    loop {
        match rx.recv_timeout(next_resync.saturating_duration_since(Instant::now())) {
            Ok(Event::Stop(signal)) => return stopped(signal),
            Ok(Event::Changed) => {
                // Let the burst settle; a signal meanwhile still ends the watch.
                while let Ok(event) = rx.recv_timeout(SETTLE) {
                    if let Event::Stop(signal) = event {
                        return stopped(signal);
                    }
                }
                apply(&mut reconciler, path, format, options);
            }
            Err(RecvTimeoutError::Timeout) => {
                next_resync = Instant::now() + every;
                if let Err(e) = reconciler.resync() {
                    say(&format!("resync failed: {e}"));
                    continue;
                }
                apply(&mut reconciler, path, format, options);
            }
            Err(RecvTimeoutError::Disconnected) => return fail("the file watcher stopped".into()),
        }
    }
}

fn parent(file: &Path) -> Option<PathBuf> {
    match file.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(PathBuf::from(".")),
        other => other.map(Path::to_path_buf),
    }
}

fn stopped(signal: i32) -> ExitCode {
    let name = if signal == SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    say(&format!("{name}: stopping"));
    ExitCode::SUCCESS
}

/// Reads the file and applies it, printing each change (or why nothing was applied).
fn apply(
    reconciler: &mut Reconciler,
    path: &str,
    format: Option<crate::cli::Format>,
    options: &ApplyOptions,
) {
    let desired = match read_desired(path, format) {
        Ok(d) => d,
        Err(msg) => {
            say(&format!(
                "not applied: {msg}; the kernel keeps the last state applied"
            ));
            return;
        }
    };
    match reconciler.apply(&desired, options) {
        Ok(report) => {
            for line in report.to_string().lines() {
                say(line);
            }
            if !report.is_success() {
                let failed = report.failed().count();
                say(&format!(
                    "{failed} change(s) failed; retried at the next change or resync"
                ));
            }
        }
        Err(e) => say(&format!("not applied: {e}")),
    }
}
