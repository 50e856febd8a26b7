//! Shared helpers for the kernel tests (`mod support;` in each test file).
//!
//! Kernel tests run only inside `tests/harness.sh test` (a VM with IPVS, or natively as root on a
//! host with IPVS), each in its own fresh network namespace, so they may change the IPVS table and
//! create named network namespaces freely. Everything here panics with a clear message on failure.
#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// What a finished command gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

/// Runs `program args...` with optional stdin, waits, and returns status, stdout and stderr.
pub fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} {args:?}: {e}"));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("child stdin is piped");
        pipe.write_all(input)
            .unwrap_or_else(|e| panic!("cannot write stdin of {program} {args:?}: {e}"));
        // dropping `pipe` closes it, so the program sees end of input
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for {program} {args:?}: {e}"));
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Like [`run`], but panics (showing stdout and stderr) unless the command succeeds.
pub fn run_ok(program: &str, args: &[&str]) -> Output {
    let out = run(program, args, None);
    assert!(
        out.success(),
        "{program} {args:?} failed with status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    out
}

/// Runs the real `ipvsadm` (1.31, from apt) in the current network namespace.
pub fn ipvsadm(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run("ipvsadm", args, stdin)
}

/// Runs `ipvsadm args...` and panics unless it succeeds.
pub fn ipvsadm_ok(args: &[&str]) -> Output {
    run_ok("ipvsadm", args)
}

/// The repository root (the root package `lvs` lives there).
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/golden`, where the captured ipvsadm goldens live.
pub fn golden_dir() -> PathBuf {
    repo_dir().join("tests").join("golden")
}

/// Reads a file or panics naming it.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A named network namespace (`ip netns add`), deleted on drop.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// Creates `lvs-<pid>-<role>` and brings its `lo` up.
    pub fn new(role: &str) -> Netns {
        let name = format!("lvs-{}-{role}", std::process::id());
        run_ok("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `program args...` inside this namespace (`ip netns exec`).
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        let mut full = vec!["netns", "exec", self.name.as_str(), program];
        full.extend_from_slice(args);
        run("ip", &full, None)
    }

    /// Like [`Netns::exec`], but panics unless the command succeeds.
    pub fn exec_ok(&self, program: &str, args: &[&str]) -> Output {
        let out = self.exec(program, args);
        assert!(
            out.success(),
            "in netns {}: {program} {args:?} failed with status {}\nstdout:\n{}\nstderr:\n{}",
            self.name,
            out.status,
            out.stdout,
            out.stderr
        );
        out
    }

    /// `ip args...` inside this namespace; panics on failure.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        run_ok("ip", &full)
    }

    /// `ipvsadm args...` inside this namespace (each namespace has its own IPVS table).
    pub fn ipvsadm(&self, args: &[&str]) -> Output {
        self.exec("ipvsadm", args)
    }

    /// `ipvsadm args...` inside this namespace; panics on failure.
    pub fn ipvsadm_ok(&self, args: &[&str]) -> Output {
        self.exec_ok("ipvsadm", args)
    }

    /// Sets a sysctl inside this namespace, e.g. `("net.ipv4.ip_forward", "1")`.
    pub fn sysctl(&self, key: &str, value: &str) {
        self.exec_ok("sysctl", &["-q", "-w", &format!("{key}={value}")]);
    }

    /// Adds an address to an interface and brings it up.
    pub fn addr(&self, dev: &str, cidr: &str) {
        self.ip(&["addr", "add", cidr, "dev", dev]);
        self.ip(&["link", "set", dev, "up"]);
    }

    /// Starts a tiny HTTP server on `addr:port` that answers every GET with `name`.
    /// It is killed when the returned [`HttpServer`] drops.
    pub fn http_server(&self, addr: &str, port: u16, name: &str) -> HttpServer {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name, python(), "-c", NAME_SERVER_PY])
            .args([addr, &port.to_string(), name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the HTTP server {name} in {}: {e}", self.name)
            });
        HttpServer {
            child,
            name: name.to_string(),
        }
    }

    /// One HTTP GET with curl from this namespace, bounded by `--max-time`; `None` on failure.
    /// `local_port` pins the client port, so every request is a distinct new connection.
    pub fn curl(&self, url: &str, local_port: Option<u16>) -> Option<String> {
        let port = local_port.map(|p| p.to_string());
        let mut args = vec!["-sS", "--max-time", "5", url];
        if let Some(p) = port.as_deref() {
            args.extend_from_slice(&["--local-port", p]);
        }
        let out = self.exec("curl", &args);
        out.success().then_some(out.stdout)
    }

    /// Polls `url` with curl until it answers `expected`, for at most `timeout`.
    pub fn wait_for_http(&self, url: &str, expected: &str, timeout: Duration) {
        let start = Instant::now();
        loop {
            let got = self.curl(url, None);
            if got.as_deref() == Some(expected) {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "{url} did not answer {expected:?} from netns {} within {timeout:?} (last: {got:?})",
                self.name
            );
            sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // best effort: the per-test namespace made by the harness goes away anyway
        let _ = run("ip", &["netns", "del", &self.name], None);
    }
}

/// Creates a veth pair with one end `a_dev` in `a` and the other `b_dev` in `b`, both up.
pub fn veth(a: &Netns, a_dev: &str, b: &Netns, b_dev: &str) {
    run_ok(
        "ip",
        &[
            "link", "add", "name", a_dev, "netns", &a.name, "type", "veth", "peer", "name", b_dev,
            "netns", &b.name,
        ],
    );
    a.ip(&["link", "set", a_dev, "up"]);
    b.ip(&["link", "set", b_dev, "up"]);
}

/// A background HTTP server; killed on drop.
#[derive(Debug)]
pub struct HttpServer {
    child: Child,
    pub name: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's python3 when present (works the same inside the VM), else whatever is on PATH.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// argv: ADDR PORT NAME. Answers every GET with NAME (no newline), logs nothing.
const NAME_SERVER_PY: &str = r#"
import http.server, sys
addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(name)
    def log_message(self, *args):
        pass
http.server.HTTPServer((addr, port), H).serve_forever()
"#;

/// Counts how often each answer occurs.
pub fn tally<I: IntoIterator<Item = String>>(answers: I) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for a in answers {
        *counts.entry(a).or_insert(0) += 1;
    }
    counts
}
