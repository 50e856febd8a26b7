//! `lvsadm apply --watch FILE` as a small controller, in the real kernel: it applies FILE at
//! start, follows edits of the file (written in place and renamed over it), leaves the table as
//! it was when the file breaks a rule, repairs what another writer changed at each
//! `--resync`, and ends with status 0 on SIGTERM.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{built_lvsadm, ipvsadm_ok};

const A: &str = "-A -t 10.0.0.13:80 -s rr
-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 1
";
const B: &str = "-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15:80 -m -w 1
-A -u 10.0.0.13:53 -s rr
";

/// Waits (bounded) until `ipvsadm -Sn` prints `want`.
fn wait_for_table(want: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = ipvsadm_ok(&["-Sn"]).stdout;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the table is still\n{now}\nnot\n{want}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes `text` to a new file beside `path` and renames it over `path`, as editors do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

/// The lines lvsadm prints, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for a line containing `text`; returns it.
fn wait_for_line(lines: &mpsc::Receiver<String>, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(text) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line with {text:?}: {e}"),
        }
    }
}

#[test]
#[ignore = "kernel: needs IPVS; run by tests/harness.sh test"]
fn watch_follows_the_file_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("lvsadm-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let file = dir.join("lvs.rules");
    std::fs::write(&file, A).expect("write");
    let mut child = Command::new(built_lvsadm())
        .args(["apply", "--watch", "--resync", "2"])
        .arg(&file)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start lvsadm apply --watch");
    let lines = lines_of(&mut child);
    wait_for_line(&lines, "watching");
    wait_for_table(A, "at start");
    let added = wait_for_line(&lines, "+ -A -t 10.0.0.13:80 -s rr");
    // RFC 3339 time first.
    assert!(
        added.starts_with("20") && added.as_bytes()[10] == b'T',
        "{added}"
    );

    replace(&file, B);
    wait_for_table(B, "after the file was replaced");
    wait_for_line(&lines, "~ -E -t 10.0.0.13:80 -s wrr");

    // A file that breaks a rule is not applied.
    std::fs::write(&file, B.replace("-w 3", "-w -3")).expect("write in place");
    wait_for_line(&lines, "not applied");
    assert_eq!(ipvsadm_ok(&["-Sn"]).stdout, B);

    // Someone deletes a service: the next resync (every 2 s) puts it back.
    std::fs::write(&file, B).expect("write in place");
    ipvsadm_ok(&["-D", "-u", "10.0.0.13:53"]);
    wait_for_line(&lines, "+ -A -u 10.0.0.13:53 -s rr");
    wait_for_table(B, "after the resync");

    // SIGTERM ends it with status 0.
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    wait_for_line(&lines, "SIGTERM: stopping");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "lvsadm did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    assert_eq!(ipvsadm_ok(&["-Sn"]).stdout, B, "stopping changes nothing");
    let _ = std::fs::remove_dir_all(&dir);
}
