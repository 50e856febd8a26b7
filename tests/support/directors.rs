//! The tutorial's high-availability section made real: scenes with more than one director.
//!
//! - [`active_backup`]: two directors on one LAN, the kernel's connection-sync daemon (master on
//!   the active director, backup on the other) started through lvs, the VIP moved by VRRP from
//!   Debian's keepalived (VRRP only: lvs does IPVS). A client's long-lived TCP connection opened
//!   through the master keeps working after the master's keepalived stops, because the backup
//!   already holds the connection.
//! - [`scale_out`]: three directors behind an ECMP route in the client's namespace (L4 multipath
//!   hashing), the same `mh` DR ruleset applied to each by lvs. The director carrying a download
//!   is taken away mid-transfer; another director takes the flow (`sloppy_tcp`), picks the same
//!   real server, and the download completes intact.
//!
//! Each scene builds its own namespaces (torn down on drop), configures IPVS only through lvs,
//! prints what a learner should see (`== step` headings, indented details) and returns its
//! findings for the kernel tests (tests/kernel_directors.rs) to assert on. Every wait is bounded.

use super::{HttpServer, Netns};
use lvs::conn::Connection;
use lvs::ipvsadm::Format;
use lvs::ipvsadm::list::{self, NoNames, Table};
use lvs::netlink::{ApplyOptions, Ipvs};
use lvs::{DaemonRole, Ruleset, SyncDaemon};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::sleep;
use std::time::{Duration, Instant};

thread_local! {
    /// When the running scene started, for the step timings.
    static SCENE_START: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Starts a scene's clock: with `LVS_SCENE_TIMES` set in the environment, each step heading
/// ends with the seconds since.
fn scene_start() {
    SCENE_START.with(|s| s.set(Some(Instant::now())));
}

fn step(text: &str) {
    let time = match SCENE_START.with(|s| s.get()) {
        Some(start) if std::env::var_os("LVS_SCENE_TIMES").is_some() => {
            format!("  [+{:.1} s]", start.elapsed().as_secs_f64())
        }
        _ => String::new(),
    };
    println!("\n== {text}{time}");
}

fn detail(text: &str) {
    for line in text.lines() {
        println!("   {line}");
    }
}

/// Polls `check` every 200 ms until it gives a value, for at most `timeout`; `what` names the
/// awaited event in the error.
fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let start = Instant::now();
    loop {
        if let Some(v) = check()? {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        sleep(Duration::from_millis(200));
    }
}

/// Waits (at most 60 s) until a TCP connection from `from` to `addr:port` succeeds; `what`
/// names the server in the error.
fn wait_listening(from: &Netns, what: &str, addr: &str, port: u16) -> Result<(), String> {
    let probe = format!("exec 3<>/dev/tcp/{addr}/{port}");
    wait_for(what, Duration::from_secs(60), || {
        Ok(in_ns(from, "bash", &["-c", &probe]).success().then_some(()))
    })
}

/// An lvs handle on a namespace's IPVS.
fn ipvs_of(ns: &Netns) -> Result<Ipvs, String> {
    Ipvs::in_netns(format!("/run/netns/{}", ns.name))
        .map_err(|e| format!("IPVS in netns {}: {e}", ns.name))
}

/// Applies `rules` (ipvsadm rule-file syntax) to a director through lvs, printing the report.
fn apply(who: &str, ipvs: &Ipvs, rules: &str) -> Result<(), String> {
    let desired = Ruleset::from_rules(rules).map_err(|e| e.to_string())?;
    let report = ipvs
        .apply(&desired, &ApplyOptions::default())
        .map_err(|e| format!("{who}: {e}"))?;
    println!("   {who}:");
    for line in report.to_string().lines() {
        println!("     {line}");
    }
    if report.is_success() {
        Ok(())
    } else {
        Err(format!("{who}: the apply failed"))
    }
}

/// The connection entries (`ipvsadm -Lnc`) of one client port.
fn entries_of(ipvs: &Ipvs, client_port: u16) -> Result<Vec<Connection>, String> {
    let conns = ipvs.connections().map_err(|e| e.to_string())?;
    Ok(conns
        .into_iter()
        .filter(|c| c.client.port() == client_port)
        .collect())
}

fn print_entries(who: &str, conns: &[Connection]) {
    let numeric = Format {
        numeric: true,
        ..Format::default()
    };
    println!("   {who} (lvs read of its connection table, as ipvsadm -Lnc):");
    for line in list::connections(conns, &numeric, &NoNames).lines() {
        println!("     {line}");
    }
}

/// The counters of the one service on a director (after the kernel folds its per-CPU counters,
/// which it does every two seconds).
fn service_inpkts(ipvs: &Ipvs) -> Result<u64, String> {
    let services = ipvs.services().map_err(|e| e.to_string())?;
    Ok(services.iter().map(|s| s.state.stats.inpkts).sum())
}

fn print_stats(who: &str, ipvs: &Ipvs) -> Result<(), String> {
    let info = ipvs.info().map_err(|e| e.to_string())?;
    let snapshot = ipvs.snapshot().map_err(|e| e.to_string())?;
    let format = Format {
        stats: true,
        numeric: true,
        ..Format::default()
    };
    println!("   {who} (lvs -Ln --stats):");
    for line in Table::new(info, snapshot.entries())
        .list(&format, &NoNames)
        .lines()
    {
        println!("     {line}");
    }
    Ok(())
}

/// Whether `ns` holds `addr` (an IPv4 address) on any interface.
fn holds(ns: &Netns, addr: &str) -> bool {
    let out = super::run("ip", &["-n", &ns.name, "-4", "-o", "addr", "show"], None);
    out.stdout
        .split_whitespace()
        .any(|w| w.split('/').next() == Some(addr))
}

/// Runs a shell script (`sh -e`) inside `ns`'s network namespace. nsenter rather than `ip netns
/// exec`, which also makes a mount namespace and remounts /sys: one cheap process for a whole
/// namespace's set-up counts under the VM's emulated CPU.
fn shell(ns: &Netns, script: &str) -> Result<(), String> {
    let net = format!("--net=/run/netns/{}", ns.name);
    let out = super::run("nsenter", &[&net, "sh", "-ec", script], None);
    if out.success() {
        Ok(())
    } else {
        Err(format!(
            "in netns {}: the set-up script failed (status {}): {}{}\nscript:\n{script}",
            ns.name, out.status, out.stdout, out.stderr
        ))
    }
}

/// One namespace on a [`Lan`]: its role (the namespace is `lvs-<pid>-<role>`), its address on
/// `eth0`, and more set-up: `ip` batch lines and shell lines.
struct Host {
    role: String,
    cidr: String,
    ip: String,
    sh: String,
}

impl Host {
    fn new(role: &str, cidr: &str) -> Host {
        Host {
            role: role.into(),
            cidr: cidr.into(),
            ip: String::new(),
            sh: String::new(),
        }
    }

    /// Sets a sysctl of the namespace (`net.ipv4.vs.sloppy_tcp`), written by the shell itself.
    fn sysctl(mut self, key: &str, value: &str) -> Host {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.sh += &format!("echo '{value}' > {path}\n");
        self
    }

    /// Makes the namespace a DR real server: the VIP on `lo` as /32 so it accepts packets sent
    /// to the VIP, and the tutorial's ARP settings (arp_ignore=1, arp_announce=2) so it never
    /// answers or announces the VIP on the LAN.
    fn dr(mut self, vip: &str) -> Host {
        self.ip += &format!("addr add {vip}/32 dev lo\n");
        self.sysctl("net.ipv4.conf.all.arp_ignore", "1")
            .sysctl("net.ipv4.conf.all.arp_announce", "2")
            .sysctl("net.ipv4.conf.eth0.arp_ignore", "1")
            .sysctl("net.ipv4.conf.eth0.arp_announce", "2")
    }
}

/// One LAN: a bridge in a namespace of its own (multicast snooping off, so the sync daemon's
/// and VRRP's multicast reach every port), and the hosts plugged into it as `eth0`.
///
/// Built with few processes (one `ip -batch` for every namespace and veth pair, one script per
/// namespace): under the VM's emulated CPU each process start costs about a second.
struct Lan {
    ns: Netns,
    /// The hosts' namespaces, in the order they were given.
    hosts: Vec<Netns>,
}

impl Lan {
    /// Builds the LAN (`lvs-<pid>-<role>`) and its hosts; the hosts' namespaces in their order.
    fn build(role: &str, hosts: &[Host]) -> Result<Lan, String> {
        let name = |role: &str| format!("lvs-{}-{role}", std::process::id());
        // Owned before they exist, so whatever was made is deleted on an error.
        let lan = Lan {
            ns: Netns { name: name(role) },
            hosts: hosts
                .iter()
                .map(|h| Netns {
                    name: name(&h.role),
                })
                .collect(),
        };
        let nss = &lan.hosts;
        let mut batch = format!("netns add {}\n", lan.ns.name);
        let mut bridge =
            String::from("link set lo up\nlink add br0 type bridge mcast_snooping 0\n");
        for (i, ns) in nss.iter().enumerate() {
            batch += &format!(
                "netns add {n}\nlink add eth0 netns {n} type veth peer name p{i} netns {l}\n",
                n = ns.name,
                l = lan.ns.name
            );
            bridge += &format!("link set p{i} master br0 up\n");
        }
        bridge += "link set br0 up\n";
        let out = super::run("ip", &["-batch", "-"], Some(batch.as_bytes()));
        if !out.success() {
            return Err(format!("ip -batch failed: {}\n{batch}", out.stderr));
        }
        shell(&lan.ns, &format!("ip -batch - <<EOF\n{bridge}EOF\n"))?;
        for (h, ns) in hosts.iter().zip(nss) {
            let script = format!(
                "ip -batch - <<EOF\nlink set lo up\naddr add {} dev eth0\nlink set eth0 up\n{}EOF\n{}",
                h.cidr, h.ip, h.sh
            );
            shell(ns, &script)?;
        }
        Ok(lan)
    }
}

impl Drop for Lan {
    /// Deletes every namespace with one `ip -batch` (one process instead of one each).
    fn drop(&mut self) {
        let mut batch = String::new();
        for ns in self.hosts.iter().chain([&self.ns]) {
            batch += &format!("netns del {}\n", ns.name);
        }
        // -force: go on past a namespace that was never made
        let _ = super::run("ip", &["-force", "-batch", "-"], Some(batch.as_bytes()));
        for ns in self.hosts.drain(..) {
            std::mem::forget(ns); // deleted above: no `ip netns del` each
        }
        let name = std::mem::take(&mut self.ns.name);
        std::mem::forget(std::mem::replace(&mut self.ns, Netns { name }));
    }
}

/// Runs `program args...` inside `ns` through nsenter (lighter than `ip netns exec`).
fn in_ns(ns: &Netns, program: &str, args: &[&str]) -> super::Output {
    let net = format!("--net=/run/netns/{}", ns.name);
    let mut full = vec![net.as_str(), program];
    full.extend_from_slice(args);
    super::run("nsenter", &full, None)
}

/// A scratch folder under the temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch, String> {
        let dir = std::env::temp_dir().join(format!("lvs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Sends SIGTERM to a child and waits up to `grace` for it to end; SIGKILL after that.
fn terminate(child: &mut Child, grace: Duration) -> Option<i32> {
    if let Ok(Some(status)) = child.try_wait() {
        return status.code();
    }
    let pid = child.id().to_string();
    let _ = Command::new("kill")
        .args(["-TERM", &pid])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let start = Instant::now();
    while start.elapsed() < grace {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

// ---------------------------------------------------------------------------------------------
// active-backup
// ---------------------------------------------------------------------------------------------

const AB_VIP: &str = "10.7.0.100";
const AB_RULES: &str = "-A -t 10.7.0.100:7 -s rr
-a -t 10.7.0.100:7 -r 10.7.0.21:7 -g
-a -t 10.7.0.100:7 -r 10.7.0.22:7 -g
";
/// The sync id both daemons use (`--syncid`).
const AB_SYNCID: u8 = 7;

/// What the active-backup scene saw.
#[derive(Debug, Clone)]
pub struct ActiveBackup {
    /// The client's end of the long-lived connection.
    pub client_port: u16,
    /// Every answer the client got, in order (`rs21 line 0`, ...).
    pub answers: Vec<String>,
    /// Lines that got no answer (a timeout or a broken connection), with the reason.
    pub failures: Vec<String>,
    /// How many answers came after the VIP had moved to the backup.
    pub answers_after_failover: usize,
    /// The slowest answer, seconds (a line sent while the VIP moved waits for TCP's retransmit).
    pub slowest_answer: f64,
    /// The master's entry for the connection, read through lvs before the failover.
    pub master_entry: Connection,
    /// The backup's entry for the same connection, read before the failover (the sync daemon's
    /// work).
    pub backup_entry: Connection,
    /// Whether the master held the VIP before, and the backup after the failover.
    pub vip_on_master_before: bool,
    pub vip_on_backup_before: bool,
    pub vip_on_master_after: bool,
    pub vip_on_backup_after: bool,
    /// Seconds from stopping the master's keepalived until the VIP was on the backup.
    pub failover_secs: f64,
    /// Packets in of the backup's service before and after the failover.
    pub backup_inpkts_before: u64,
    pub backup_inpkts_after: u64,
    /// The sync daemons lvs read back from each director.
    pub master_daemons: Vec<SyncDaemon>,
    pub backup_daemons: Vec<SyncDaemon>,
}

/// Where Debian's keepalived lives; `None` when it is not installed.
fn keepalived_path() -> Option<PathBuf> {
    ["/usr/sbin/keepalived", "/sbin/keepalived"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// One keepalived in one namespace, VRRP only, in the foreground, with its own configuration,
/// pid files and log under a scratch folder (nothing under /run). Stopped (SIGTERM, which makes
/// it send a priority-0 advert and drop the VIP) on drop.
struct Keepalived {
    child: Child,
    log: PathBuf,
}

impl Keepalived {
    fn start(
        bin: &Path,
        ns: &Netns,
        dir: &Path,
        name: &str,
        state: &str,
        priority: u8,
    ) -> Result<Keepalived, String> {
        let conf = dir.join(format!("{name}.conf"));
        let text = format!(
            "global_defs {{
    router_id {name}
}}
vrrp_instance VI_LVS {{
    state {state}
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {AB_VIP}/32 dev eth0
    }}
}}
"
        );
        std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
        let log = dir.join(format!("{name}.log"));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
        let file = |suffix: &str| dir.join(format!("{name}.{suffix}")).display().to_string();
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .arg(bin)
            .args([
                "--dont-fork",
                "--vrrp",
                "--log-console",
                "--log-detail",
                "--no-syslog",
                "--use-file",
            ])
            .arg(&conf)
            .args(["--pid", &file("pid"), "--vrrp_pid", &file("vrrp.pid")])
            .args(["--checkers_pid", &file("checkers.pid")])
            .args(["--bfd_pid", &file("bfd.pid")])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("cannot start keepalived in {}: {e}", ns.name))?;
        Ok(Keepalived { child, log })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until its log says it entered `state` (`MASTER`, `BACKUP`).
    fn wait_state(&mut self, who: &str, state: &str, timeout: Duration) -> Result<(), String> {
        let needle = format!("Entering {state} STATE");
        wait_for(
            &format!("{who}'s keepalived to enter {state}"),
            timeout,
            || {
                if let Ok(Some(status)) = self.child.try_wait() {
                    return Err(format!(
                        "{who}'s keepalived exited ({status}); its log:\n{}",
                        self.log()
                    ));
                }
                Ok(self.log().contains(&needle).then_some(()))
            },
        )
        .map_err(|e| format!("{e}\n{who}'s keepalived log:\n{}", self.log()))
    }

    fn stop(&mut self) -> Option<i32> {
        terminate(&mut self.child, Duration::from_secs(10))
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        self.stop();
    }
}

/// argv: ADDR PORT. Connects once, then sends `line N` every second until its stdin closes (or
/// 120 lines), printing `connected PORT`, then `ok N SECONDS ANSWER` or `fail N REASON` a line.
const ECHO_CLIENT_PY: &str = r#"
import socket, sys, threading, time
addr, port = sys.argv[1], int(sys.argv[2])
stop = threading.Event()
def watch():
    sys.stdin.read()
    stop.set()
threading.Thread(target=watch, daemon=True).start()
try:
    s = socket.create_connection((addr, port), timeout=5)
except OSError as e:
    print(f"fail connect {e}", flush=True)
    sys.exit(1)
print(f"connected {s.getsockname()[1]}", flush=True)
s.settimeout(20)
f = s.makefile("rb")
i = 0
while not stop.is_set() and i < 120:
    t = time.monotonic()
    try:
        s.sendall(f"line {i}\n".encode())
        answer = f.readline().decode().strip()
        if not answer:
            raise OSError("connection closed")
        print(f"ok {i} {time.monotonic() - t:.2f} {answer}", flush=True)
    except OSError as e:
        print(f"fail {i} {e!r}", flush=True)
        break
    i += 1
    time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
"#;

/// The client's long-lived connection: the script above, its output read line by line.
struct EchoSession {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    answers: Vec<(String, f64)>,
    failures: Vec<String>,
    /// The client's output has ended (it exited).
    ended: bool,
}

impl EchoSession {
    fn start(client: &Netns, addr: &str, port: u16) -> Result<EchoSession, String> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &client.name, "/usr/bin/python3", "-c"])
            .args([ECHO_CLIENT_PY, addr, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the client: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("the client's stdout")?;
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(EchoSession {
            child,
            stdin,
            lines,
            answers: Vec::new(),
            failures: Vec::new(),
            ended: false,
        })
    }

    /// Takes one line of the client's output (waiting at most `timeout`), prints and records
    /// it; `None` when nothing came or the client has ended (then `ended` is set).
    fn next(&mut self, timeout: Duration) -> Option<String> {
        let line = match self.lines.recv_timeout(timeout) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => return None,
            Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                return None;
            }
        };
        let mut words = line.splitn(4, ' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("ok"), Some(_), Some(secs), Some(answer)) => {
                let secs: f64 = secs.parse().unwrap_or(f64::NAN);
                println!("   client <- {answer:<12} ({secs:.2} s)");
                self.answers.push((answer.to_owned(), secs));
            }
            (Some("fail"), ..) => {
                println!("   client: {line}");
                self.failures.push(line.clone());
            }
            (Some("connected"), ..) => {} // the scene says where from
            _ => println!("   client: {line}"),
        }
        Some(line)
    }

    /// Reads the client's output for `period` (sleeps out the rest if the client has ended).
    fn pump(&mut self, period: Duration) {
        let end = Instant::now() + period;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.ended {
                sleep(left);
            } else {
                self.next(left);
            }
        }
    }

    /// Closes the client's stdin (it stops after the line in flight) and reads the rest.
    fn finish(&mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let Some(left) = end.checked_duration_since(Instant::now()) else {
                return Err("the client did not stop within 30 s".into());
            };
            self.next(left);
            if self.ended {
                return Ok(());
            }
        }
    }
}

impl Drop for EchoSession {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The active/backup scene (see the module documentation).
///
/// ```text
///   client 10.7.0.10 ---+                       (LAN 10.7.0.0/24, a bridge)
///   d1 10.7.0.2  -------+  keepalived MASTER (priority 150), sync daemon master
///   d2 10.7.0.3  -------+  keepalived BACKUP (priority 100), sync daemon backup
///   rs21 10.7.0.21 -----+  VIP on lo, echo server on port 7
///   rs22 10.7.0.22 -----+  VIP on lo, echo server on port 7
///   VIP 10.7.0.100 (moved by VRRP); IPVS DR service 10.7.0.100:7 on both directors
/// ```
pub fn active_backup() -> Result<ActiveBackup, String> {
    scene_start();
    let keepalived = keepalived_path().ok_or(
        "keepalived is not installed (/usr/sbin/keepalived): `tests/harness.sh setup` installs \
         Debian's keepalived package, which moves the VIP by VRRP in this scene",
    )?;

    step(
        "building the LAN 10.7.0.0/24: client .10, directors d1 .2 and d2 .3, DR real servers \
         rs21 .21 and rs22 .22 (VIP 10.7.0.100 on lo, arp_ignore=1, arp_announce=2)",
    );
    let scratch = Scratch::new("active-backup")?;
    let lan = Lan::build(
        "ab-lan",
        &[
            Host::new("ab-client", "10.7.0.10/24"),
            Host::new("ab-d1", "10.7.0.2/24"),
            Host::new("ab-d2", "10.7.0.3/24"),
            Host::new("ab-rs21", "10.7.0.21/24").dr(AB_VIP),
            Host::new("ab-rs22", "10.7.0.22/24").dr(AB_VIP),
        ],
    )?;
    let (client, d1, d2, rs) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2], &lan.hosts[3..]);
    let mut servers: Vec<HttpServer> = Vec::new();
    for (s, ns) in ["21", "22"].iter().zip(rs) {
        servers.push(ns.echo_server("0.0.0.0", 7, &format!("rs{s}")));
    }
    for s in ["21", "22"] {
        wait_listening(
            d1,
            &format!("rs{s}'s echo server"),
            &format!("10.7.0.{s}"),
            7,
        )?;
    }

    step(
        "lvs applies the same DR ruleset to both directors (ipvsadm -A -t 10.7.0.100:7 -s rr; -a ... -g)",
    );
    let ipvs1 = ipvs_of(d1)?;
    let ipvs2 = ipvs_of(d2)?;
    apply("d1", &ipvs1, AB_RULES)?;
    apply("d2", &ipvs2, AB_RULES)?;

    step(&format!(
        "lvs starts the connection-sync daemons: master on d1, backup on d2 (eth0, syncid {AB_SYNCID})"
    ));
    ipvs1
        .start_daemon(&SyncDaemon::new(DaemonRole::Master, "eth0", AB_SYNCID))
        .map_err(|e| format!("d1: start the master sync daemon: {e}"))?;
    ipvs2
        .start_daemon(&SyncDaemon::new(DaemonRole::Backup, "eth0", AB_SYNCID))
        .map_err(|e| format!("d2: start the backup sync daemon: {e}"))?;
    let master_daemons = ipvs1.daemons().map_err(|e| e.to_string())?;
    let backup_daemons = ipvs2.daemons().map_err(|e| e.to_string())?;
    println!("   d1 (lvs -L --daemon):");
    detail(&indent2(&list::daemons(&master_daemons)));
    println!("   d2 (lvs -L --daemon):");
    detail(&indent2(&list::daemons(&backup_daemons)));

    step(
        "keepalived (VRRP only, --vrrp) in each director: d1 MASTER priority 150, d2 BACKUP priority 100, advert_int 1",
    );
    let mut ka1 = Keepalived::start(&keepalived, d1, &scratch.0, "d1", "MASTER", 150)?;
    ka1.wait_state("d1", "MASTER", Duration::from_secs(30))?;
    wait_for("the VIP on d1", Duration::from_secs(10), || {
        Ok(holds(d1, AB_VIP).then_some(()))
    })?;
    let mut ka2 = Keepalived::start(&keepalived, d2, &scratch.0, "d2", "BACKUP", 100)?;
    ka2.wait_state("d2", "BACKUP", Duration::from_secs(30))?;
    // Two adverts from the master, so d2 stays a backup with a reason.
    sleep(Duration::from_secs(2));
    let vip_on_master_before = holds(d1, AB_VIP);
    let vip_on_backup_before = holds(d2, AB_VIP);
    println!(
        "   VIP 10.7.0.100: on d1 {}, on d2 {}",
        yes(vip_on_master_before),
        yes(vip_on_backup_before)
    );
    let backup_inpkts_before = service_inpkts(&ipvs2)?;

    step("the client opens one TCP connection to 10.7.0.100:7 and sends a line every second");
    let mut session = EchoSession::start(client, AB_VIP, 7)?;
    let client_port = loop {
        match session.next(Duration::from_secs(40)) {
            Some(line) if line.starts_with("connected ") => {
                break line["connected ".len()..]
                    .parse::<u16>()
                    .map_err(|e| format!("{line}: {e}"))?;
            }
            Some(line) if line.starts_with("fail") => return Err(format!("the client: {line}")),
            Some(_) => {}
            None if session.ended => return Err("the client ended before connecting".into()),
            None => return Err("the client did not connect within 40 s".into()),
        }
    };
    println!("   connected from 10.7.0.10:{client_port}");

    step("the backup's connection table holds the connection before anything fails");
    let start = Instant::now();
    let backup_entry = loop {
        session.pump(Duration::from_millis(500));
        if session.ended {
            return Err(format!(
                "the client's connection ended before the failover: {:?}",
                session.failures
            ));
        }
        if let Some(c) = entries_of(&ipvs2, client_port)?.into_iter().next() {
            break c;
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err("the backup did not receive the connection within 30 s".into());
        }
    };
    let master_entries = entries_of(&ipvs1, client_port)?;
    let master_entry = master_entries
        .first()
        .cloned()
        .ok_or("the master has no entry for the client's connection")?;
    print_entries("d1, the master", &master_entries);
    print_entries("d2, the backup", std::slice::from_ref(&backup_entry));
    session.pump(Duration::from_secs(2));
    let answers_before = session.answers.len();

    step("the master's keepalived stops (SIGTERM): VRRP moves the VIP to d2");
    let stopped = Instant::now();
    let status = ka1.stop();
    println!("   d1's keepalived exited with status {status:?}");
    loop {
        session.pump(Duration::from_millis(200));
        if holds(d2, AB_VIP) {
            break;
        }
        if stopped.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "the VIP did not reach d2 within 20 s\nd2's keepalived log:\n{}",
                ka2.log()
            ));
        }
    }
    let failover_secs = stopped.elapsed().as_secs_f64();
    let vip_on_master_after = holds(d1, AB_VIP);
    let vip_on_backup_after = holds(d2, AB_VIP);
    println!(
        "   after {failover_secs:.1} s: VIP on d1 {}, on d2 {}",
        yes(vip_on_master_after),
        yes(vip_on_backup_after)
    );

    step("the same connection carries on through d2");
    let after_failover = session.answers.len();
    let start = Instant::now();
    while session.answers.len() < after_failover + 5 && !session.ended {
        if start.elapsed() > Duration::from_secs(40) {
            break;
        }
        session.next(Duration::from_secs(1));
    }
    session.finish()?;
    let answers_after_failover = session.answers.len() - after_failover;
    println!(
        "   {} answers: {answers_before} before the master stopped, {} while the VIP moved, \
         {answers_after_failover} after; {} failed",
        session.answers.len(),
        after_failover - answers_before,
        session.failures.len()
    );

    step("d2 carried the traffic: its statistics");
    sleep(Duration::from_millis(2500));
    let backup_inpkts_after = service_inpkts(&ipvs2)?;
    print_stats("d2", &ipvs2)?;
    print_entries("d2", &entries_of(&ipvs2, client_port)?);

    drop(ka2);
    drop(servers);
    let slowest_answer = session.answers.iter().map(|a| a.1).fold(0.0, f64::max);
    Ok(ActiveBackup {
        client_port,
        answers: session.answers.iter().map(|a| a.0.clone()).collect(),
        failures: session.failures.clone(),
        answers_after_failover,
        slowest_answer,
        master_entry,
        backup_entry,
        vip_on_master_before,
        vip_on_backup_before,
        vip_on_master_after,
        vip_on_backup_after,
        failover_secs,
        backup_inpkts_before,
        backup_inpkts_after,
        master_daemons,
        backup_daemons,
    })
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn indent2(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// The real server a connection entry names, as `rs21` from `10.7.0.21:7`.
pub fn server_name(dest: &SocketAddr) -> String {
    match dest {
        SocketAddr::V4(a) => format!("rs{}", a.ip().octets()[3]),
        SocketAddr::V6(a) => a.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// scale-out
// ---------------------------------------------------------------------------------------------

const SO_VIP: &str = "10.8.0.100";
const SO_RULES: &str = "-A -t 10.8.0.100:80 -s mh -b mh-port
-a -t 10.8.0.100:80 -r 10.8.0.21:80 -g
-a -t 10.8.0.100:80 -r 10.8.0.22:80 -g
";
/// The directors' last octets (10.8.0.2-4).
const SO_DIRECTORS: [&str; 3] = ["2", "3", "4"];
/// The download: this many pseudo-random bytes, read at `SO_RATE` so it lasts about 8 s.
const SO_BLOB_BYTES: usize = 2 * 1024 * 1024;
const SO_RATE: &str = "256K";
/// The client port of the download, so its entries can be found in every director's table.
const SO_CLIENT_PORT: u16 = 45000;

/// What the scale-out scene saw.
#[derive(Debug, Clone)]
pub struct ScaleOut {
    /// The director the client's ECMP route first sent the download through (`d2`, `d3`, `d4`,
    /// named by the last octet of its address) and its connection entry.
    pub first_director: String,
    pub first_entry: Connection,
    /// Bytes the client had when that director was taken away.
    pub bytes_at_takeaway: u64,
    /// The director that took the flow over and its entry (made mid-stream: `sloppy_tcp`).
    pub second_director: String,
    pub second_entry: Connection,
    /// Packets in of the second director's service after the transfer.
    pub second_inpkts: u64,
    /// curl's exit status (0: the download completed).
    pub curl_status: i32,
    /// The bytes received, and whether they equal the file the real servers serve.
    pub received: u64,
    pub expected: u64,
    pub intact: bool,
    /// Seconds the download took.
    pub download_secs: f64,
}

/// argv: ADDR PORT FILE. Answers every HTTP request with FILE (HTTP/1.0, then closes). Only the
/// socket module: `http.server`'s imports take many seconds under the VM's emulated CPU.
const FILE_SERVER_PY: &str = r#"
import socket, sys, threading
addr, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
head = (f"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
def serve(conn):
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(4096)
            if not chunk:
                return
            request += chunk
        conn.sendall(head + data)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((addr, port))
server.listen(16)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"#;

/// `n` pseudo-random bytes (xorshift), the same on every run.
fn blob(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The client's route to the VIP over the given directors (one nexthop each).
fn ecmp_route(client: &Netns, directors: &[&str]) {
    let mut args = vec!["route", "replace", "10.8.0.100/32"];
    let hops: Vec<String> = directors.iter().map(|d| format!("10.8.0.{d}")).collect();
    for hop in &hops {
        args.extend_from_slice(&["nexthop", "via", hop.as_str()]);
    }
    client.ip(&args);
}

fn show_route(client: &Netns) {
    let out = client.ip(&["route", "show", "10.8.0.100"]);
    println!("   client# ip route show 10.8.0.100");
    for line in out.stdout.lines() {
        println!("     {line}");
    }
}

/// The scale-out scene (see the module documentation).
///
/// ```text
///   client 10.8.0.10 --+   route 10.8.0.100/32 nexthop via .2 nexthop via .3 nexthop via .4
///   d2 10.8.0.2 -------+   VIP on lo, mh (mh-port) DR, sloppy_tcp=1  (same ruleset on each,
///   d3 10.8.0.3 -------+   VIP on lo, mh (mh-port) DR, sloppy_tcp=1   applied by lvs)
///   d4 10.8.0.4 -------+   VIP on lo, mh (mh-port) DR, sloppy_tcp=1
///   rs21 10.8.0.21 ----+   VIP on lo, HTTP file server
///   rs22 10.8.0.22 ----+   VIP on lo, HTTP file server        (LAN 10.8.0.0/24, a bridge)
/// ```
pub fn scale_out() -> Result<ScaleOut, String> {
    scene_start();
    step(
        "building the LAN 10.8.0.0/24: client .10, directors d2 .2, d3 .3, d4 .4, DR real \
         servers rs21 .21 and rs22 .22 (VIP 10.8.0.100 on lo, arp_ignore=1, arp_announce=2)",
    );
    let scratch = Scratch::new("scale-out")?;
    let www = scratch.0.join("www");
    std::fs::create_dir_all(&www).map_err(|e| format!("{}: {e}", www.display()))?;
    let content = blob(SO_BLOB_BYTES);
    std::fs::write(www.join("blob"), &content).map_err(|e| e.to_string())?;
    // The directors hold the VIP (so IPVS sees the packets) but never announce it: the client
    // reaches it through its route, not by ARP. sloppy_tcp: a director that meets a flow
    // mid-stream (no SYN) schedules it instead of passing it to its own TCP stack (which would
    // reset it).
    let director = |d: &str| {
        Host::new(&format!("so-d{d}"), &format!("10.8.0.{d}/24"))
            .dr(SO_VIP)
            .sysctl("net.ipv4.vs.sloppy_tcp", "1")
    };
    let lan = Lan::build(
        "so-lan",
        &[
            Host::new("so-client", "10.8.0.10/24"),
            director(SO_DIRECTORS[0]),
            director(SO_DIRECTORS[1]),
            director(SO_DIRECTORS[2]),
            Host::new("so-rs21", "10.8.0.21/24").dr(SO_VIP),
            Host::new("so-rs22", "10.8.0.22/24").dr(SO_VIP),
        ],
    )?;
    let (client, directors, rs) = (&lan.hosts[0], &lan.hosts[1..4], &lan.hosts[4..]);
    let blob_path = www.join("blob").display().to_string();
    let mut servers = Vec::new();
    for ns in rs {
        servers.push(ns.python(
            FILE_SERVER_PY,
            &["0.0.0.0", "80", &blob_path],
            Stdio::null(),
        ));
    }
    for s in ["21", "22"] {
        wait_listening(
            client,
            &format!("rs{s}'s file server"),
            &format!("10.8.0.{s}"),
            80,
        )?;
    }

    step("the client's ECMP route to the VIP, hashed on L4 (fib_multipath_hash_policy=1)");
    // A small receive buffer keeps the real server at most 64 KiB ahead of curl's reading, so
    // the transfer needs the client's ACKs to get through until its last byte.
    shell(
        client,
        "echo 1 > /proc/sys/net/ipv4/fib_multipath_hash_policy\n\
         echo '4096 32768 65536' > /proc/sys/net/ipv4/tcp_rmem",
    )?;
    ecmp_route(client, &SO_DIRECTORS);
    show_route(client);

    step("lvs applies the same ruleset to every director: mh with mh-port, DR (-g), sloppy_tcp=1");
    let ipvs: Vec<Ipvs> = directors.iter().map(ipvs_of).collect::<Result<_, _>>()?;
    for (d, handle) in SO_DIRECTORS.iter().zip(&ipvs) {
        apply(&format!("d{d}"), handle, SO_RULES)?;
    }

    step(&format!(
        "the client downloads a {} MiB file from http://10.8.0.100/blob at {SO_RATE}B/s (curl --limit-rate), from port {SO_CLIENT_PORT}",
        SO_BLOB_BYTES / (1024 * 1024)
    ));
    let out_path = scratch.0.join("downloaded");
    let started = Instant::now();
    let mut curl = Command::new("ip")
        .args([
            "netns",
            "exec",
            &client.name,
            "curl",
            "-sS",
            "--max-time",
            "90",
        ])
        .args([
            "--limit-rate",
            SO_RATE,
            "--local-port",
            &SO_CLIENT_PORT.to_string(),
        ])
        .arg("-o")
        .arg(&out_path)
        .arg(format!("http://{SO_VIP}/blob"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start curl: {e}"))?;
    let curl_guard = KillOnDrop(&mut curl);

    let (first, first_entry) = wait_for(
        "a director's entry for the download",
        Duration::from_secs(60),
        || {
            if let Some(ended) = ended(curl_guard.0) {
                return Err(format!(
                    "the download ended before any director saw it: {ended}"
                ));
            }
            for (i, handle) in ipvs.iter().enumerate() {
                if let Some(c) = entries_of(handle, SO_CLIENT_PORT)?.into_iter().next() {
                    return Ok(Some((i, c)));
                }
            }
            Ok(None)
        },
    )?;
    let first_director = format!("d{}", SO_DIRECTORS[first]);
    println!(
        "   the ECMP hash chose {first_director}; it sends the flow to {}",
        server_name(&first_entry.destination)
    );
    print_entries(&first_director, std::slice::from_ref(&first_entry));
    let bytes_at_takeaway = wait_for("a quarter of the download", Duration::from_secs(30), || {
        let n = file_size(&out_path);
        Ok((n >= (SO_BLOB_BYTES / 4) as u64).then_some(n))
    })?;

    step(&format!(
        "{first_director} is taken away mid-transfer ({bytes_at_takeaway} bytes in): its nexthop \
         withdrawn from the client's route, its link down"
    ));
    let rest: Vec<&str> = SO_DIRECTORS
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != first)
        .map(|(_, d)| *d)
        .collect();
    ecmp_route(client, &rest);
    directors[first].ip(&["link", "set", "eth0", "down"]);
    show_route(client);

    step("another director takes the flow mid-stream and picks the same real server");
    let (second, second_entry) = wait_for(
        "another director's entry for the download",
        Duration::from_secs(40),
        || {
            for (i, handle) in ipvs.iter().enumerate() {
                if i == first {
                    continue;
                }
                if let Some(c) = entries_of(handle, SO_CLIENT_PORT)?.into_iter().next() {
                    return Ok(Some((i, c)));
                }
            }
            Ok(None)
        },
    )
    .map_err(|e| format!("{e}\n{}", so_diagnosis(client, &ipvs, &out_path)))?;
    let second_director = format!("d{}", SO_DIRECTORS[second]);
    print_entries(&second_director, std::slice::from_ref(&second_entry));
    println!(
        "   {first_director} sent the flow to {}, {second_director} sends it to {}",
        server_name(&first_entry.destination),
        server_name(&second_entry.destination)
    );

    step("the download completes");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Ok(Some(status)) = curl_guard.0.try_wait() {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            return Err("the download did not finish within 90 s".into());
        }
        sleep(Duration::from_millis(200));
    };
    let download_secs = started.elapsed().as_secs_f64();
    let mut curl_err = String::new();
    if let Some(mut pipe) = curl_guard.0.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut curl_err);
    }
    drop(curl_guard);
    let got = std::fs::read(&out_path).unwrap_or_default();
    let intact = got == content;
    println!(
        "   curl exit status {status}{}, {} of {} bytes in {download_secs:.1} s, {}",
        if curl_err.trim().is_empty() {
            String::new()
        } else {
            format!(" ({})", curl_err.trim())
        },
        got.len(),
        content.len(),
        if intact {
            "identical to the served file"
        } else {
            "NOT the served file"
        }
    );

    step(&format!(
        "{second_director} carried the rest: its statistics"
    ));
    sleep(Duration::from_millis(2500));
    let second_inpkts = service_inpkts(&ipvs[second])?;
    print_stats(&second_director, &ipvs[second])?;
    drop(servers);
    Ok(ScaleOut {
        first_director,
        first_entry,
        bytes_at_takeaway,
        second_director,
        second_entry,
        second_inpkts,
        curl_status: status,
        received: got.len() as u64,
        expected: content.len() as u64,
        intact,
        download_secs,
    })
}

/// `Some(how)` once `child` has exited: its status and standard error.
fn ended(child: &mut Child) -> Option<String> {
    let status = child.try_wait().ok()??;
    let mut err = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut err);
    }
    Some(format!("{status}: {}", err.trim()))
}

/// Kills a child process when dropped (a scene that fails midway leaves nothing running).
struct KillOnDrop<'a>(&'a mut Child);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What to look at when the flow did not move: the download's state, every director's
/// connection table, the client's socket and neighbours.
fn so_diagnosis(client: &Netns, ipvs: &[Ipvs], out_path: &Path) -> String {
    let mut text = format!("downloaded so far: {} bytes\n", file_size(out_path));
    for (d, handle) in SO_DIRECTORS.iter().zip(ipvs) {
        let conns = handle.connections().map_err(|e| e.to_string());
        text += &format!("d{d}'s connections: {conns:?}\n");
    }
    for cmd in [&["ss", "-tnio"][..], &["ip", "neigh"], &["ip", "route"]] {
        let out = client.exec(cmd[0], &cmd[1..]);
        text += &format!("client# {}\n{}{}", cmd.join(" "), out.stdout, out.stderr);
    }
    text
}
