//! Captures real kernel replies for the golden wire tests (`tests/wire_golden.rs`).
//!
//! Run once, as root, in an empty network namespace of a kernel with IPVS:
//!
//! ```text
//! cargo build -p lvs-netlink --example capture_goldens
//! tests/harness.sh exec -- unshare -n target/debug/examples/capture_goldens lvs-netlink/tests/golden
//! ```
//!
//! It starts a backup sync daemon on `lo` and captures `GET_DAEMON`, stops it (the kernel
//! refuses daemons beside mixed-family real servers), loads `tests/golden/setup.rules` with
//! `ipvsadm -R`, sets the timeouts, then writes the generic-netlink payload (genlmsghdr +
//! attributes) of every reply to `DIR/<name>.<n>.bin`, and the kernel release to `DIR/KERNEL`.

use lvs_core::ServiceKey;
use lvs_netlink::Ipvs;
use lvs_netlink::wire::request;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What the table holds when the replies are captured: one file, which the golden tests
/// (`tests/wire_golden.rs`, `tests/fake_client.rs`) load too.
const SETUP: &str = include_str!("../tests/golden/setup.rules");

fn sh(program: &str, args: &[&str], stdin: Option<&str>) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(s) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(s.as_bytes())
            .expect("write");
    }
    assert!(child.wait().expect("wait").success(), "{program} {args:?}");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: capture_goldens DIR")?,
    );
    std::fs::create_dir_all(&dir)?;
    sh("ip", &["link", "set", "lo", "up"], None);
    sh("ipvsadm", &["-C"], None);
    let ipvs = Ipvs::new()?;
    // The kernel refuses sync daemons beside mixed-family real servers: capture the daemon
    // first, on its own.
    sh(
        "ipvsadm",
        &[
            "--start-daemon",
            "backup",
            "--mcast-interface",
            "lo",
            "--syncid",
            "5",
        ],
        None,
    );
    save(&dir, "get_daemon_dump", &ipvs, &request::get_daemons())?;
    sh("ipvsadm", &["--stop-daemon", "backup"], None);
    sh("ipvsadm", &["-R"], Some(SETUP));
    sh("ipvsadm", &["--set", "900", "120", "300"], None);
    let svc = ServiceKey::tcp("10.0.0.1:80".parse()?);
    let captures = [
        ("get_service_dump", request::get_services()),
        ("get_service_one", request::get_service(&svc)),
        ("get_dest_dump", request::get_destinations(&svc)),
        ("get_info", request::get_info()),
        ("get_config", request::get_timeouts()),
    ];
    for (name, req) in captures {
        save(&dir, name, &ipvs, &req)?;
    }
    std::fs::write(dir.join("KERNEL"), ipvs.features()?.kernel_release + "\n")?;
    Ok(())
}

fn save(
    dir: &std::path::Path,
    name: &str,
    ipvs: &Ipvs,
    req: &request::Request,
) -> Result<(), Box<dyn std::error::Error>> {
    for (i, msg) in ipvs.query_raw(req)?.iter().enumerate() {
        std::fs::write(dir.join(format!("{name}.{i}.bin")), msg.encode())?;
    }
    Ok(())
}
