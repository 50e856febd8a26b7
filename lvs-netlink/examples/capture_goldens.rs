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
//! refuses daemons beside mixed-family real servers), loads `SETUP` with `ipvsadm -R`, sets the
//! timeouts, then writes the generic-netlink payload (genlmsghdr + attributes) of every reply to
//! `DIR/<name>.<n>.bin`, and the kernel release to `DIR/KERNEL`.

use lvs_core::ServiceKey;
use lvs_netlink::Ipvs;
use lvs_netlink::wire::request;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What the table holds when the replies are captured (also in tests/golden/README.md).
const SETUP: &str = "\
-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10
-a -t 10.0.0.1:80 -r 192.168.1.2:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 2
-a -t 10.0.0.1:80 -r [2001:db8::7]:80 -i --tun-type gre --tun-csum -w 1
-A -u [2001:db8::1]:53 -s sh -b sh-fallback -p 300 -M 64 --pe sip
-A -f 7 -s wlc -p 60 -M 255.255.255.0
";

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
