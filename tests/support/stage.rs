//! What every scene (`scenes.rs`) builds on: narration in the demo's style, checked commands
//! that return `Err` instead of panicking, labs of network namespaces wired with few processes
//! ([`Wiring`]), real servers in them, requests sent in batches and counted by who answered, and
//! IPVS configured through lvs only.
//!
//! Included next to `support` (`mod support; #[path = ".../stage.rs"] mod stage;`) by the demo
//! and by `tests/kernel_scenes.rs`. Every wait here is bounded.
#![allow(dead_code)] // the demo and the kernel tests use different parts

use crate::support::{HttpServer, NAME_SERVER_PY, Netns};
use lvs::Ruleset;
use lvs::Stats;
use lvs::ipvsadm::Format;
use lvs::ipvsadm::list::{NoNames, Table};
use lvs::netlink::{ApplyOptions, Ipvs};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::thread::sleep;
use std::time::Duration;

/// How many requests each answer got (the answer is the real server's name, e.g. `rs14`).
pub type Counts = BTreeMap<String, usize>;

/// How long a server (or a module, or a tool) gets to come up before the scene gives up.
pub const UP_TIMEOUT: Duration = Duration::from_secs(60);

/// A "\n== text" heading.
pub fn step(text: &str) {
    println!("\n== {text}");
}

/// An indented detail line.
pub fn detail(text: &str) {
    println!("   {text}");
}

/// `text`, every line indented as a detail.
pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}

/// Runs `program args...` in `ns`; its stdout, or an error naming the command and its stderr.
pub fn exec(ns: &Netns, program: &str, args: &[&str]) -> Result<String, String> {
    let out = ns.exec(program, args);
    if out.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "in {}: {program} {} failed (status {}): {}",
            ns.name,
            args.join(" "),
            out.status,
            out.stderr.trim()
        ))
    }
}

/// Fails with a clear message unless `program` can be run here.
pub fn require(program: &str, why: &str) -> Result<(), String> {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if found {
        Ok(())
    } else {
        Err(format!("`{program}` is not installed: {why}"))
    }
}

/// Loads a kernel module (bounded), or says why the scene needs it.
pub fn modprobe(module: &str, why: &str) -> Result<(), String> {
    let out = crate::support::run("timeout", &["20", "modprobe", module], None);
    if out.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot load the kernel module {module} ({}): {why}",
            out.stderr.trim()
        ))
    }
}

/// A namespace's handle, named as [`Netns::new`] names it, that [`Wiring::build`] creates
/// (deleted on drop like any [`Netns`], made or not).
pub fn netns(role: &str) -> Netns {
    Netns {
        name: format!("lvs-{}-{role}", std::process::id()),
    }
}

/// A lab's wiring, collected first and then made by [`Wiring::build`] with few processes (each
/// costs about a second under emulation): one `ip -batch` for the namespaces and the cables
/// between them, one `ip -n NS -batch` per namespace, one `sysctl` per namespace that needs it.
/// Commands run in the order given.
#[derive(Default)]
pub struct Wiring {
    root: Vec<String>,
    cables: Vec<String>,
    inside: Vec<(String, Vec<String>)>,
    sysctls: Vec<(String, Vec<String>)>,
}

impl Wiring {
    /// `ns`'s own commands, registering it (created, `lo` up) on first use.
    fn inside(&mut self, ns: &Netns) -> &mut Vec<String> {
        let at = match self.inside.iter().position(|(n, _)| *n == ns.name) {
            Some(at) => at,
            None => {
                self.root.push(format!("netns add {}", ns.name));
                self.inside
                    .push((ns.name.clone(), vec!["link set lo up".to_owned()]));
                self.inside.len() - 1
            }
        };
        &mut self.inside[at].1
    }

    /// `ip CMD` in `ns` (e.g. `route add default via 192.168.8.13`).
    pub fn ip(&mut self, ns: &Netns, cmd: &str) {
        self.inside(ns).push(cmd.to_owned());
    }

    /// An address on `dev` in `ns`, and `dev` up.
    pub fn addr(&mut self, ns: &Netns, dev: &str, cidr: &str) {
        self.ip(ns, &format!("addr add {cidr} dev {dev}"));
        self.ip(ns, &format!("link set {dev} up"));
    }

    /// An empty bridge `name` in `ns` (up once it gets an address or `link set ... up`).
    pub fn bridge(&mut self, ns: &Netns, name: &str) {
        self.ip(ns, &format!("link add {name} type bridge"));
    }

    /// A cable: a veth pair, `a_dev` in `a` and `b_dev` in `b`, both up.
    pub fn veth(&mut self, a: &Netns, a_dev: &str, b: &Netns, b_dev: &str) {
        self.inside(a);
        self.inside(b);
        self.cables.push(format!(
            "link add name {a_dev} netns {} type veth peer name {b_dev} netns {}",
            a.name, b.name
        ));
        self.ip(a, &format!("link set {a_dev} up"));
        self.ip(b, &format!("link set {b_dev} up"));
    }

    /// A cable from `host`'s `dev` to the port `port` of the bridge `br` in `switch`.
    pub fn plug(&mut self, host: &Netns, dev: &str, switch: &Netns, port: &str, br: &str) {
        self.veth(host, dev, switch, port);
        self.ip(switch, &format!("link set {port} master {br}"));
    }

    /// `sysctl -w key=value` in `ns`, after its `ip` commands.
    pub fn sysctl(&mut self, ns: &Netns, key: &str, value: &str) {
        self.inside(ns);
        let setting = format!("{key}={value}");
        match self.sysctls.iter_mut().find(|(n, _)| *n == ns.name) {
            Some((_, list)) => list.push(setting),
            None => self.sysctls.push((ns.name.clone(), vec![setting])),
        }
    }

    /// Makes it all: namespaces and cables, then each namespace's commands, then its sysctls.
    pub fn build(self) -> Result<(), String> {
        let mut root = self.root;
        root.extend(self.cables);
        ip_batch(None, &root)?;
        for (ns, commands) in &self.inside {
            ip_batch(Some(ns), commands)?;
        }
        for (ns, settings) in &self.sysctls {
            let mut args = vec!["netns", "exec", ns.as_str(), "sysctl", "-q", "-w"];
            args.extend(settings.iter().map(String::as_str));
            let out = crate::support::run("ip", &args, None);
            if !out.success() {
                return Err(format!(
                    "in {ns}: sysctl -w {} failed: {}",
                    settings.join(" "),
                    out.stderr.trim()
                ));
            }
        }
        Ok(())
    }
}

/// `ip -batch -` (in the namespace `ns` with `-n`, else where the scene runs): `commands`, one
/// process, stopping at the first that fails.
fn ip_batch(ns: Option<&str>, commands: &[String]) -> Result<(), String> {
    let mut args = Vec::new();
    if let Some(ns) = ns {
        args.extend_from_slice(&["-n", ns]);
    }
    args.extend_from_slice(&["-batch", "-"]);
    let input = commands.join("\n") + "\n";
    let out = crate::support::run("ip", &args, Some(input.as_bytes()));
    if out.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {} (commands: {})",
            args.join(" "),
            out.stderr.trim(),
            commands.join("; ")
        ))
    }
}

/// A self-signed certificate made by openssl at run time, in a folder removed on drop.
pub struct Cert {
    pub dir: PathBuf,
    pub cert: String,
    pub key: String,
}

impl Cert {
    /// `openssl req -x509` for `cn` (an EC key: fast even under emulation), bounded.
    pub fn new(cn: &str) -> Result<Cert, String> {
        require("openssl", "the TLS servers need a certificate")?;
        let dir = std::env::temp_dir().join(format!("lvs-scene-cert-{}-{cn}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cert = dir.join("server.crt").display().to_string();
        let key = dir.join("server.key").display().to_string();
        let subject = format!("/CN={cn}");
        let out = crate::support::run(
            "timeout",
            &[
                "60",
                "openssl",
                "req",
                "-x509",
                "-nodes",
                "-days",
                "1",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-subj",
                &subject,
                "-keyout",
                &key,
                "-out",
                &cert,
            ],
            None,
        );
        let made = Cert { dir, cert, key };
        if out.success() {
            Ok(made)
        } else {
            Err(format!("openssl req -x509 failed: {}", out.stderr.trim()))
        }
    }
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a real server's web server in `ns`: HTTP on port 80 answering `name`, and with `tls`
/// HTTPS on port 443 answering the same. Killed when the result drops.
pub fn serve(ns: &Netns, name: &str, tls: Option<&Cert>) -> HttpServer {
    let mut args = vec!["0.0.0.0", "80", name];
    if let Some(c) = tls {
        args.extend_from_slice(&["443", &c.cert, &c.key]);
    }
    let mut server = ns.python(NAME_SERVER_PY, &args, Stdio::null());
    server.name = name.to_owned();
    server
}

/// argv: `ask URL SOURCE FIRST_PORT N` or `wait SECONDS URL EXPECTED [URL EXPECTED]...`. One process
/// under emulation instead of a curl per request. `ask`: N GETs one after the other, request i
/// from local port FIRST_PORT+i (SOURCE binds the address when not empty), each a new
/// connection bounded by 5 s; prints `OK BODY` per answer and stops at the first `ERR WHY`.
/// `wait`: polls every URL until it answers EXPECTED, for at most SECONDS in all. HTTPS is not
/// verified (the certificates are self-signed); `ssl` is imported only for an https URL.
const CLIENT_PY: &str = r#"
import socket, sys, time
def get(url, source="", port=0):
    scheme, rest = url.split("://", 1)
    hostport, _, path = rest.partition("/")
    host, _, p = hostport.partition(":")
    p = int(p) if p else (443 if scheme == "https" else 80)
    s = socket.create_connection((host, p), timeout=5, source_address=(source, port))
    try:
        if scheme == "https":
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname=host)
        s.sendall(("GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path, hostport)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise OSError("no HTTP answer: %r" % data[:80])
    return body.decode(errors="replace").replace("\n", "\\n")
if sys.argv[1] == "ask":
    url, source, first, n = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    for i in range(n):
        try:
            print("OK " + get(url, source, first + i), flush=True)
        except Exception as e:
            print("ERR %s" % (e or type(e).__name__), flush=True)
            break
else:
    limit = float(sys.argv[2])
    pending = dict(zip(sys.argv[3::2], sys.argv[4::2]))
    last = {}
    deadline = time.monotonic() + limit
    while pending:
        for url, expected in list(pending.items()):
            try:
                last[url] = get(url)
            except Exception as e:
                last[url] = "error: %s" % e
            if last[url] == expected:
                del pending[url]
        if pending and time.monotonic() > deadline:
            sys.exit("; ".join("%s did not answer %r within %g s (last: %s)" % (u, x, limit, last[u])
                               for u, x in pending.items()))
        if pending:
            time.sleep(0.3)
"#;

/// Runs [`CLIENT_PY`] in `ns` (bounded by `timeout` as well): its stdout, or why not.
fn client_py(ns: &Netns, args: &[&str]) -> Result<String, String> {
    let mut full = vec!["120", crate::support::python(), "-c", CLIENT_PY];
    full.extend_from_slice(args);
    exec(ns, "timeout", &full)
}

/// Polls every `(url, expected answer)` from `ns`, in one process, until each answers as
/// expected, for at most [`UP_TIMEOUT`] in all.
pub fn wait_http(ns: &Netns, urls: &[(String, String)]) -> Result<(), String> {
    let limit = UP_TIMEOUT.as_secs().to_string();
    let mut args = vec!["wait", limit.as_str()];
    for (url, expected) in urls {
        args.extend_from_slice(&[url.as_str(), expected.as_str()]);
    }
    client_py(ns, &args).map(drop)
}

/// The client side of a scene: request ports handed out once each, so that every request is a
/// new connection that the scheduler places (never a reused IPVS connection entry).
pub struct Client<'a> {
    pub ns: &'a Netns,
    pub next_port: u16,
}

impl Client<'_> {
    /// `n` requests to `url` from `source` (the namespace's first address when `None`), one
    /// after the other from one process, each from its own local port; who answered how often.
    pub fn ask(&mut self, url: &str, source: Option<&str>, n: usize) -> Result<Counts, String> {
        let first = self.next_port;
        self.next_port += u16::try_from(n).map_err(|_| format!("{n} requests are too many"))?;
        let (first, count) = (first.to_string(), n.to_string());
        let out = client_py(self.ns, &["ask", url, source.unwrap_or(""), &first, &count])
            .map_err(|e| format!("requests to {url}: {e}"))?;
        let mut counts = Counts::new();
        for (i, line) in out.lines().enumerate() {
            match line.split_once(' ') {
                Some(("OK", answer)) => *counts.entry(answer.to_owned()).or_insert(0) += 1,
                _ => {
                    return Err(format!(
                        "request {} of {n} to {url}: {}",
                        i + 1,
                        line.strip_prefix("ERR ").unwrap_or(line)
                    ));
                }
            }
        }
        let got: usize = counts.values().sum();
        if got == n {
            Ok(counts)
        } else {
            Err(format!("{n} requests to {url}: only {got} answered"))
        }
    }
}

/// Prints one bar line per real server (`(name, address)`), in the order given.
pub fn show(counts: &Counts, servers: &[(&str, &str)]) {
    for (name, addr) in servers {
        let got = counts.get(*name).copied().unwrap_or(0);
        let label = format!("{name} ({addr})");
        detail(&format!("{label:<22} {:<12} {got}", "#".repeat(got * 2)));
    }
    let unknown: Vec<_> = counts
        .keys()
        .filter(|k| !servers.iter().any(|(n, _)| n == k))
        .collect();
    if !unknown.is_empty() {
        detail(&format!("other answers: {unknown:?}"));
    }
}

/// `counts` as the list of requests per server, in the order given (0 for one that never answered).
pub fn split(counts: &Counts, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| counts.get(*n).copied().unwrap_or(0))
        .collect()
}

/// The IPVS of a namespace, through lvs.
pub fn ipvs_in(ns: &Netns) -> Result<Ipvs, String> {
    Ipvs::in_netns(format!("/run/netns/{}", ns.name)).map_err(|e| format!("{}: {e}", ns.name))
}

/// Applies `rules` (ipvsadm rule lines) through lvs, printing what changed.
pub fn apply(ipvs: &Ipvs, rules: &str) -> Result<(), String> {
    let desired = Ruleset::from_rules(rules).map_err(|e| e.to_string())?;
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .map_err(|e| e.to_string())?;
    print!("{}", indent(&report.to_string()));
    if report.is_success() {
        Ok(())
    } else {
        Err("the apply failed".into())
    }
}

/// Prints the `-Ln` listing (with `stats`, `-Ln --stats`, after the kernel's two-second fold of
/// its per-CPU counters) and returns the totals of all services.
pub fn listing(ipvs: &Ipvs, stats: bool) -> Result<Stats, String> {
    if stats {
        sleep(Duration::from_millis(2500));
    }
    let info = ipvs.info().map_err(|e| e.to_string())?;
    let snapshot = ipvs.snapshot().map_err(|e| e.to_string())?;
    let format = Format {
        stats,
        numeric: true,
        ..Format::default()
    };
    print!(
        "{}",
        indent(&Table::new(info, snapshot.entries()).list(&format, &NoNames))
    );
    let mut total = Stats::default();
    for state in snapshot.service_state.values() {
        total.conns += state.stats.conns;
        total.inpkts += state.stats.inpkts;
        total.outpkts += state.stats.outpkts;
        total.inbytes += state.stats.inbytes;
        total.outbytes += state.stats.outbytes;
    }
    Ok(total)
}

/// A network device's packet counters (`rx`, `tx`) in `ns`, from sysfs as `ip -s link` shows them.
pub fn packets(ns: &Netns, dev: &str) -> Result<(u64, u64), String> {
    let read = |what: &str| -> Result<u64, String> {
        let path = format!("/sys/class/net/{dev}/statistics/{what}_packets");
        exec(ns, "cat", &[&path])?
            .trim()
            .parse()
            .map_err(|e| format!("{path} in {}: {e}", ns.name))
    };
    Ok((read("rx")?, read("tx")?))
}
