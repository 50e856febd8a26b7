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
        self.python(
            NAME_SERVER_PY,
            &[addr, &port.to_string(), name],
            Stdio::null(),
        )
    }

    /// Starts a TCP server on `addr:port` that answers each line with `NAME LINE`, keeping
    /// connections open. It is killed when the returned [`HttpServer`] drops.
    pub fn echo_server(&self, addr: &str, port: u16, name: &str) -> HttpServer {
        self.python(
            ECHO_SERVER_PY,
            &[addr, &port.to_string(), name],
            Stdio::null(),
        )
    }

    /// Runs a Python script in this namespace in the background, killed on drop; `stdout` says
    /// where its output goes.
    pub fn python(&self, script: &str, args: &[&str], stdout: Stdio) -> HttpServer {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name, python(), "-c", script])
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python in {}: {e}", self.name));
        HttpServer {
            child,
            name: args.last().map_or(String::new(), |s| s.to_string()),
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
    pub child: Child,
    pub name: String,
}

impl HttpServer {
    /// Waits for the process to end by itself and returns its standard output.
    pub fn output(self) -> String {
        let mut me = std::mem::ManuallyDrop::new(self);
        let mut out = String::new();
        if let Some(mut pipe) = me.child.stdout.take() {
            use std::io::Read;
            let _ = pipe.read_to_string(&mut out);
        }
        let _ = me.child.wait();
        out
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's python3 when present (works the same inside the VM), else whatever is on PATH.
pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// argv: ADDR PORT NAME [TLS_PORT CERT KEY]. Answers every GET on ADDR:PORT (and, with TLS, on
/// ADDR:TLS_PORT) with NAME, no newline, logging nothing. [`Netns::http_server`] and the scenes'
/// real servers (`stage::serve`) both run it.
pub const NAME_SERVER_PY: &str = r#"
import http.server, sys, threading
addr, name = sys.argv[1], sys.argv[3].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(name)
    def log_message(self, *args):
        pass
def serve(port, cert=None, key=None):
    srv = http.server.HTTPServer((addr, port), H)
    if cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
if len(sys.argv) > 4:
    threading.Thread(target=serve, args=(int(sys.argv[4]), sys.argv[5], sys.argv[6]), daemon=True).start()
serve(int(sys.argv[2]))
"#;

/// argv: ADDR PORT NAME. Answers each line of each connection with "NAME LINE".
const ECHO_SERVER_PY: &str = r#"
import socketserver, sys
addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(f"{name} {line.decode().strip()}\n".encode())
            self.wfile.flush()
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer((addr, port), H).serve_forever()
"#;

/// The seed tutorial's NAT practice as namespaces: a client, a director doing NAT and three
/// real servers answering HTTP on port 80 with their names (`rs14`, `rs15`, `rs16`).
///
/// ```text
///  client 10.0.0.12 --veth-- 10.0.0.13 director (ip_forward=1) br0 192.168.8.13
///                                                   |-- veth -- rs14 192.168.8.14 (gw .13)
///                                                   |-- veth -- rs15 192.168.8.15 (gw .13)
///                                                   `-- veth -- rs16 192.168.8.16 (gw .13)
/// ```
pub struct NatLab {
    // Field order matters on drop: servers die first, then the namespaces are deleted.
    pub servers: Vec<HttpServer>,
    pub client: Netns,
    pub director: Netns,
    pub real: Vec<Netns>,
}

/// The last octets of the lab's real servers.
pub const LAB_SERVERS: [&str; 3] = ["14", "15", "16"];

impl NatLab {
    /// Builds the namespaces and waits until every real server answers the director.
    pub fn new() -> NatLab {
        let client = Netns::new("client");
        let director = Netns::new("director");
        let real: Vec<Netns> = LAB_SERVERS
            .iter()
            .map(|s| Netns::new(&format!("rs{s}")))
            .collect();
        veth(&client, "eth0", &director, "eth0");
        client.addr("eth0", "10.0.0.12/24");
        director.addr("eth0", "10.0.0.13/24");
        director.ip(&["link", "add", "br0", "type", "bridge"]);
        director.addr("br0", "192.168.8.13/24");
        director.sysctl("net.ipv4.ip_forward", "1");
        let mut servers = Vec::new();
        for (s, ns) in LAB_SERVERS.iter().zip(&real) {
            let port_dev = format!("rs{s}");
            veth(ns, "eth0", &director, &port_dev);
            director.ip(&["link", "set", &port_dev, "master", "br0"]);
            ns.addr("eth0", &format!("192.168.8.{s}/24"));
            ns.ip(&["route", "add", "default", "via", "192.168.8.13"]);
            servers.push(ns.http_server("0.0.0.0", 80, &format!("rs{s}")));
        }
        for s in LAB_SERVERS {
            director.wait_for_http(
                &format!("http://192.168.8.{s}/"),
                &format!("rs{s}"),
                Duration::from_secs(60),
            );
        }
        NatLab {
            servers,
            client,
            director,
            real,
        }
    }

    /// The director's namespace as a path, for `Ipvs::in_netns`.
    pub fn director_path(&self) -> PathBuf {
        PathBuf::from(format!("/run/netns/{}", self.director.name))
    }
}

/// Counts how often each answer occurs.
pub fn tally<I: IntoIterator<Item = String>>(answers: I) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for a in answers {
        *counts.entry(a).or_insert(0) += 1;
    }
    counts
}

/// Every input of the hostile-input matrix (`tests/hostile/`: JSON and TOML documents and rule
/// files, each one fault away from a valid ruleset) with the message lvs refuses it with (its
/// `.error` file).
pub fn hostile_cases() -> Vec<(PathBuf, String)> {
    let dir = repo_dir().join("tests/hostile");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("tests/hostile") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "error") {
            continue;
        }
        let expected = std::fs::read_to_string(path.with_extension("error"))
            .unwrap_or_else(|e| panic!("{}: no .error beside it: {e}", path.display()));
        cases.push((path, expected.trim_end_matches('\n').to_owned()));
    }
    cases.sort();
    assert!(cases.len() >= 20, "the matrix lost cases: {}", cases.len());
    cases
}

/// lvsadm's stderr for a refused file: `lvsadm CMD: FILE:LINE:COL: ...` when the message has a
/// position, `lvsadm CMD: FILE: ...` when it names a place in the ruleset.
pub fn lvsadm_message(cmd: &str, file: &str, error: &str) -> String {
    let positioned = error
        .split(':')
        .take(2)
        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let sep = if positioned { ":" } else { ": " };
    format!("lvsadm {cmd}: {file}{sep}{error}\n")
}

/// The lvsadm binary, which cargo builds for the tests (the `cli` feature is on for them).
/// Outside a test (the demo includes this module) it is `target/<profile>/lvsadm`, beside the
/// `examples/` folder of the running program, when built (`cargo build --features cli`).
pub fn built_lvsadm() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_lvsadm") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the program knows its own path");
    let path = exe
        .parent()
        .and_then(|dir| dir.parent())
        .expect("programs live in target/<profile>/examples or deps")
        .join("lvsadm");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --features cli --bin lvsadm`",
        path.display()
    );
    path
}
pub mod directors;
