#!/usr/bin/env python3
"""The in-VM driver of `tests/harness.sh bench`: every workload, every implementation, one boot.

Runs as root in a fresh network namespace with `lo` up (the harness starts it that way), with
Debian's python3 (standard library only). Each implementation runs as a child process; its wall
time comes from this process's clock around fork/exec/wait, its user and system CPU time from
os.wait4's rusage (which includes the child's own children: the shell and grep of
ipvsadm-restore). Every creating run (W1) and every table set up for W2 and W3 starts in a new
network namespace, the old table flushed (ipvsadm -C) and left behind (see fresh_namespace),
and every run is checked afterwards: the table (or the output, for reads) must be
what the rules file says, so a broken implementation cannot produce a fast number.

Workloads (N services x 4 real servers, N = 10,000 by default):
  W1  bulk create from one rules file
  W2  full read of every service and real server with their counters
  W3  change 1% of the objects: lvs's apply against ipvsadm-restore (flush + replay), with the
      netlink requests each sent, counted on an nlmon device
  W4  W1 and W2 at several sizes: cost per object

Prints the tables and writes them as Markdown to OUT/results.md (raw numbers: OUT/results.json).
Timings inside the VM are emulated: only ratios within one boot mean anything.
"""

import argparse
import collections
import ctypes
import json
import os
import platform
import random
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../harness"))
import nlmon  # noqa: E402  (the nlmon device, socket and framing, shared with capture-requests.py)

IPVSADM = shutil.which("ipvsadm") or "/usr/sbin/ipvsadm"
IPVSADM_RESTORE = shutil.which("ipvsadm-restore") or "/usr/sbin/ipvsadm-restore"
DESTS = 4
CHILD_TIMEOUT = 3600

# ---------------------------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------------------------


class Failed(Exception):
    pass


class Result:
    def __init__(self, wall, user, sys_, rc, stdout, stderr):
        self.wall, self.user, self.sys, self.rc = wall, user, sys_, rc
        self.stdout, self.stderr = stdout, stderr

    def kv(self):
        """The key=value pairs of the child's first output line."""
        line = self.stdout.split("\n", 1)[0]
        return dict(p.split("=", 1) for p in line.split() if "=" in p)


def run_child(argv, work, stdin_path=None):
    """Runs argv, its output to files on tmpfs; returns a Result with wall, user and sys."""
    out_path, err_path = os.path.join(work, "stdout"), os.path.join(work, "stderr")
    with open(out_path, "wb") as out, open(err_path, "wb") as err, \
            open(stdin_path or os.devnull, "rb") as inp:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=inp, stdout=out, stderr=err, close_fds=True)
        timer = threading.Timer(CHILD_TIMEOUT, p.kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, encoding="utf-8", errors="replace") as f:
        stdout = f.read()
    with open(err_path, encoding="utf-8", errors="replace") as f:
        stderr = f.read()
    return Result(wall, ru.ru_utime, ru.ru_stime, p.returncode, stdout, stderr)


def must(argv, stdin_text=None):
    """Runs an untimed helper command; its stdout, or Failed."""
    p = subprocess.run(argv, input=stdin_text, capture_output=True, text=True)
    if p.returncode != 0:
        raise Failed(f"{' '.join(argv)}: status {p.returncode}: {p.stderr.strip()[:500]}")
    return p.stdout


# ---------------------------------------------------------------------------------------------
# The table, independently of every implementation
# ---------------------------------------------------------------------------------------------


def proc_table():
    """/proc/net/ip_vs as a set: services, and (service, real server, forward, weight)."""
    entries = set()
    service = None
    with open("/proc/net/ip_vs", encoding="ascii") as f:
        lines = f.read().split("\n")[3:]
    for line in lines:
        if not line:
            continue
        if line.startswith("  ->"):
            w = line.split()
            entries.add((service, w[1], w[2], w[3]))
        else:
            service = " ".join(line.split())
            entries.add((service,))
    return frozenset(entries)


def proc_from_rules(text):
    """What /proc/net/ip_vs must hold for a rules file of the benchmark's subset (-A -t VIP -s
    SCHED; -a -t VIP -r RIP -m|-g|-i -w W), in proc_table's form: independent of lvs and ipvsadm."""
    def hexep(ep):
        host, port = ep.rsplit(":", 1)
        return f"{struct.unpack('!I', socket.inet_aton(host))[0]:08X}:{int(port):04X}"
    fwd = {"-m": "Masq", "-g": "Route", "-i": "Tunnel"}
    entries, services = set(), {}
    for line in text.splitlines():
        w = line.split()
        if w[0] == "-A":
            services[w[2]] = f"TCP {hexep(w[2])} {w[w.index('-s') + 1]}"
            entries.add((services[w[2]],))
        else:
            f = next(fwd[x] for x in w if x in fwd)
            entries.add((services[w[2]], hexep(w[4]), f, w[w.index("-w") + 1]))
    return frozenset(entries)


def flush():
    must([IPVSADM, "-C"])
    if proc_table():
        raise Failed("the table is not empty after ipvsadm -C")


CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


def fresh_namespace(nlmon):
    """Moves the driver, and so every child started after, to a new network namespace with
    `lo` up (and nlmon0 when counting), after flushing the old one (untimed).

    Why not just flush: IPVS keeps a deleted real server in its namespace's "dest trash" for
    one to three minutes (IP_VS_DEST_TRASH_PERIOD, 120 s) and every NEW_DEST first looks for
    the same server there, reusing it. In one namespace, a run right after a flush of the same
    rules re-adds the previous run's objects from the trash (measured: 4.0-5.0 s of kernel time
    against 6.8-7.2 s for the same 50,000 objects in a fresh namespace), and how much of the
    trash is left depends on how long the previous row took. A fresh namespace gives every
    creating run the same, truly empty table."""
    flush()
    if LIBC.unshare(CLONE_NEWNET) != 0:
        raise Failed(f"unshare(CLONE_NEWNET): {os.strerror(ctypes.get_errno())}")
    must(["ip", "link", "set", "lo", "up"])
    if nlmon and not nlmon_up():
        raise Failed("nlmon0 could not be set up in the new namespace")
    # The old namespace is torn down in the background (a kernel worker): let it finish.
    time.sleep(2)


class Expected:
    """A rules file, what `ipvsadm -Sn` must print once it is in the kernel, and (after one
    full check) the kernel's /proc/net/ip_vs for it, for cheap checks of later runs."""

    def __init__(self, path, text, services):
        self.path, self.text, self.services = path, text, services
        self.objects = text.count("\n")
        self.proc = None

    def check_table(self):
        """The kernel's table is this file: /proc/net/ip_vs against the file (every run), and
        the first time `ipvsadm -Sn` byte for byte (up to 50,000 objects: it is slow)."""
        if self.proc is None:
            self.proc = proc_from_rules(self.text)
            if self.objects <= 50000:
                save = must([IPVSADM, "-Sn"])
                if save != self.text:
                    raise Failed(f"ipvsadm -Sn differs from {os.path.basename(self.path)} "
                                 f"({save.count(chr(10))} lines instead of {self.objects})")
        if proc_table() != self.proc:
            raise Failed("/proc/net/ip_vs differs from the rules file")


# ---------------------------------------------------------------------------------------------
# Counting netlink requests on an nlmon device
# ---------------------------------------------------------------------------------------------

SOL_PACKET, PACKET_STATISTICS = 263, 6
CHANGE_CMDS = {1, 2, 3, 5, 6, 7, 16, 17}


class NetlinkCounter:
    """Every generic-netlink request (NLM_F_REQUEST, not the family controller) seen on nlmon0
    while running: by IPVS command, and the datagrams that carried them."""

    def __init__(self):
        self.sock = nlmon.open_socket(rcvbuf=256 << 20)
        self.sock.settimeout(0.3)
        self.cmds = collections.Counter()
        self.datagrams = 0
        self.truncated = 0
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.buf = bytearray(16 << 20)
        self.thread.start()

    def _loop(self):
        view = memoryview(self.buf)
        while True:
            try:
                n, addr = self.sock.recvfrom_into(self.buf, 0, socket.MSG_TRUNC)
            except socket.timeout:
                if self.stop:
                    return
                continue
            if not nlmon.is_generic(addr):
                continue
            if n > len(self.buf):
                self.truncated += 1
                n = len(self.buf)
            requests = 0
            for off, _, kind, flags in nlmon.messages(view, n):
                if off + 17 > n:  # no command byte
                    break
                if kind != nlmon.GENL_ID_CTRL and flags & nlmon.NLM_F_REQUEST:
                    self.cmds[self.buf[off + 16]] += 1
                    requests += 1
            if requests:
                self.datagrams += 1

    def finish(self):
        time.sleep(0.5)
        self.stop = True
        self.thread.join()
        _, drops = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        self.sock.close()
        return {
            "requests": sum(self.cmds.values()),
            "changes": sum(v for k, v in self.cmds.items() if k in CHANGE_CMDS),
            "reads": sum(v for k, v in self.cmds.items() if k not in CHANGE_CMDS),
            "datagrams": self.datagrams,
            "by_cmd": {nlmon.IPVS_CMDS.get(k, str(k)): v for k, v in sorted(self.cmds.items())},
            "dropped": drops,
            "truncated": self.truncated,
        }


def nlmon_up():
    try:
        for argv in nlmon.device_commands():
            must(argv)
        return True
    except Failed as e:
        print(f"nlmon unavailable ({e}): netlink requests not counted", flush=True)
        return False


# ---------------------------------------------------------------------------------------------
# Implementations
# ---------------------------------------------------------------------------------------------


class Impl:
    """One implementation of one workload: how to run it on a file, and what its output must
    say. kind: 'lvs' or 'peer'; baseline: the row the ratios are against."""

    def __init__(self, key, name, kind, argv, stdin=False, out=None, baseline=False):
        self.key, self.name, self.kind, self.argv_of = key, name, kind, argv
        self.stdin, self.out, self.baseline = stdin, out, baseline

    def command(self, path):
        return self.argv_of(path), (path if self.stdin else None)


def out_ops(field="ops"):
    def check(r, exp):
        got = r.kv().get(field)
        if got != str(exp.objects):
            raise Failed(f"{field}={got}, expected {exp.objects}")
    return check


def out_objects(r, exp):
    got = r.kv().get("objects")
    if got != str(exp.objects):
        raise Failed(f"objects={got}, expected {exp.objects}")


def out_save(r, exp):
    if r.stdout != exp.text:
        raise Failed(f"output differs from the expected rules ({r.stdout.count(chr(10))} lines "
                     f"instead of {exp.objects})")


def out_any(_r, _exp):
    pass


def implementations(b):
    """Every row, by workload; b holds the paths of the binaries."""
    bench, lvsadm, capi, py = b["bench"], b["lvsadm"], b["capi"], b["python"]
    lvspy, pr2 = b["lvspy"], b["pyroute2"]
    w1 = [
        Impl("ipvsadm-R", "ipvsadm -R < FILE", "peer", lambda f: [IPVSADM, "-R"], stdin=True,
             baseline=True),
        Impl("lvs-batch", "lvs batch (Rust API)", "lvs", lambda f: [bench, "restore", f],
             out=out_ops()),
        Impl("lvs-one", "lvs one by one (Rust API)", "lvs", lambda f: [bench, "one-by-one", f],
             out=out_ops()),
        Impl("lvsadm-R", "lvsadm -R < FILE", "lvs", lambda f: [lvsadm, "-R"], stdin=True),
        Impl("lvsadm-apply", "lvsadm apply FILE", "lvs", lambda f: [lvsadm, "apply", f]),
        Impl("lvspy-batch", "lvs-py batch", "lvs", lambda f: [py, lvspy, "restore", f],
             out=out_ops()),
        Impl("lvspy-one", "lvs-py one by one", "lvs", lambda f: [py, lvspy, "one-by-one", f],
             out=out_ops()),
        Impl("pyroute2", "pyroute2 loop", "peer", lambda f: [py, pr2, "restore", f],
             out=out_ops()),
        Impl("c-batch", "C lvs_restore_file", "lvs", lambda f: [capi, "restore", f]),
        Impl("c-loop", "C libipvs loop", "lvs", lambda f: [capi, "loop", f], out=out_ops()),
    ]
    w2 = [
        Impl("ipvsadm-Sn", "ipvsadm -Sn", "peer", lambda f: [IPVSADM, "-Sn"], out=out_save,
             baseline=True),
        Impl("lvs-snapshot", "lvs snapshot (Rust API)", "lvs", lambda f: [bench, "snapshot"],
             out=out_objects),
        Impl("lvsadm-Sn", "lvsadm -Sn", "lvs", lambda f: [lvsadm, "-Sn"], out=out_save),
        Impl("lvspy-snapshot", "lvs-py snapshot", "lvs", lambda f: [py, lvspy, "snapshot"],
             out=out_objects),
        Impl("pyroute2", "pyroute2 dump", "peer", lambda f: [py, pr2, "dump"], out=out_objects),
        Impl("c-read", "C ipvs_get_services + ipvs_get_dests", "lvs", lambda f: [capi, "read"],
             out=out_objects),
        Impl("c-save", "C lvs_save_text", "lvs", lambda f: [capi, "save"], out=out_save),
    ]
    w3 = [
        Impl("ipvsadm-restore", "ipvsadm-restore < NEW (flush + replay)", "peer",
             lambda f: [IPVSADM_RESTORE], stdin=True, baseline=True),
        Impl("lvsadm-apply", "lvsadm apply NEW", "lvs", lambda f: [lvsadm, "apply", f]),
        Impl("lvs-apply", "lvs apply (Rust API)", "lvs", lambda f: [bench, "apply", f]),
        Impl("lvspy-apply", "lvs-py apply", "lvs", lambda f: [py, lvspy, "apply", f]),
        Impl("c-apply", "C lvs_apply_text", "lvs", lambda f: [capi, "apply", f]),
    ]
    return {"W1": w1, "W2": w2, "W3": w3}


# ---------------------------------------------------------------------------------------------
# Rule files
# ---------------------------------------------------------------------------------------------


def generate(services, vips="spread"):
    """The rules: N services, each with DESTS real servers.

    vips "spread": 10.A.B.C with C (1 to 250) changing fastest. The kernel hashes an IPv4
    service into 256 buckets by the low byte of its address (ip_vs_svc_hashkey: proto, port and
    address XORed, masked to 8 bits), so these fill every bucket alike. "collide": 10.X.Y.1,
    the plan of every run recorded up to adac0a6: all services in one bucket, so that each
    lookup of a service walks all of them (perf in the guest: 74% of a 10,000 x 4 create in
    ip_vs_genl_parse_service)."""
    assert vips == "spread" or services <= 65536  # collide: 10.X.Y.1, X and Y < 256
    lines = []
    for i in range(services):
        if vips == "collide":
            vip = f"10.{i >> 8}.{i & 255}.1:80"
        else:
            vip = f"10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}:80"
        lines.append(f"-A -t {vip} -s rr")
        for d in range(DESTS):
            lines.append(f"-a -t {vip} -r 192.168.{d}.{i % 250 + 1}:8080 -m -w 1")
    return "\n".join(lines) + "\n"


def changed(text, seed=1):
    """1% of the objects changed: weights of 0.8%, 0.1% of the real servers removed, as many
    added. Returns (rules, number of changed objects)."""
    lines = text.rstrip("\n").split("\n")
    rng = random.Random(seed)
    objects = len(lines)
    per_mille = max(1, objects // 1000)
    dest_idx = [i for i, l in enumerate(lines) if l.startswith("-a ")]
    picked = rng.sample(dest_idx, 10 * per_mille)
    reweight, remove = picked[:8 * per_mille], set(picked[8 * per_mille:9 * per_mille])
    for i in reweight:
        lines[i] = re.sub(r"-w \d+$", f"-w {rng.randint(2, 100)}", lines[i])
    services = [l.split()[2] for l in lines if l.startswith("-A ")]
    added = [f"-a -t {s} -r 172.16.{n >> 8}.{n & 255}:8080 -m -w 1"
             for n, s in enumerate(rng.sample(services, per_mille))]
    out = [l for i, l in enumerate(lines) if i not in remove] + added
    return "\n".join(out) + "\n", 10 * per_mille


def canonical(lvsadm, path):
    """What `ipvsadm -Sn` prints after `ipvsadm -R < path` (lvsadm fmt --ipvsadm, offline;
    every check compares against the real ipvsadm's -Sn, so a wrong canonical form fails)."""
    return must([lvsadm, "fmt", "--ipvsadm", path])


# ---------------------------------------------------------------------------------------------
# Running the workloads
# ---------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args, bins, work):
        self.args, self.bins, self.work = args, bins, work
        self.impls = implementations(bins)
        self.samples = collections.defaultdict(list)   # (workload, size, key) -> [Result]
        self.netlink = {}                                # (workload, size, key) -> counts
        self.errors = []
        self.nlmon = False
        self.expected = {}
        self.w3_new = {}

    def log(self, msg):
        print(f"[bench +{time.monotonic() - T0:6.0f}s] {msg}", flush=True)

    def rules(self, services):
        if services not in self.expected:
            raw = os.path.join(self.work, f"gen-{services}.rules")
            with open(raw, "w", encoding="ascii") as f:
                f.write(generate(services, getattr(self.args, "vips", "spread")))
            text = canonical(self.bins["lvsadm"], raw)
            path = os.path.join(self.work, f"rules-{services}.rules")
            with open(path, "w", encoding="ascii") as f:
                f.write(text)
            self.expected[services] = Expected(path, text, services)
        return self.expected[services]

    def revert(self, exp):
        """Untimed: the table back to exp with lvs's apply (after a W3 run, 1% differs)."""
        r = run_child([self.bins["bench"], "apply", exp.path], self.work)
        if r.rc != 0:
            raise Failed(f"reverting to {exp.path}: {r.stderr.strip()[:300]}")
        exp.check_table()

    def load(self, exp):
        """Untimed: a fresh namespace whose table holds exp (lvs batch, then checked)."""
        fresh_namespace(self.nlmon)
        r = run_child([self.bins["bench"], "restore", exp.path], self.work)
        if r.rc != 0:
            raise Failed(f"loading {exp.path}: {r.stderr.strip()[:300]}")
        exp.check_table()

    def measure(self, workload, size, impl, exp, run, count=False):
        """One run of impl: set the table up, run it, check it; returns the Result."""
        target = exp
        if workload == "W1":
            fresh_namespace(self.nlmon)
        elif workload == "W3":
            self.revert(self.expected[size])
            target = self.w3_new[size]
        argv, stdin = impl.command(target.path)
        counter = NetlinkCounter() if count and self.nlmon else None
        r = run_child(argv, self.work, stdin)
        if counter:
            nl = self.netlink[(workload, size, impl.key)] = counter.finish()
            self.log(f"{workload} {size} {impl.name}: netlink {json.dumps(nl)}")
        if r.rc != 0:
            raise Failed(f"exit status {r.rc}: {(r.stderr or r.stdout).strip()[:300]}")
        (impl.out or out_any)(r, target)
        if workload in ("W1", "W3"):
            target.check_table()
        return r

    def workload(self, workload, size, keys, runs, probe=()):
        impls = [i for i in self.impls[workload] if i.key in keys]
        exp = self.rules(size)
        if workload == "W2":
            self.load(exp)
        elif workload == "W3":
            self.w3_setup(size)
            self.load(exp)
        broken = set()
        rounds = ([("probe", 0)] if probe else []) + [("run", n) for n in range(runs)]
        for what, n in rounds:
            for impl in impls:
                if impl.key in broken or (what == "probe" and impl.key not in probe):
                    continue
                try:
                    r = self.measure(workload, size, impl, exp, n, count=(what == "probe"))
                except Failed as e:
                    broken.add(impl.key)
                    self.errors.append(f"{workload} {size} {impl.name}: {e}")
                    self.log(f"FAILED {workload} {size} {impl.name}: {e}")
                    continue
                if what == "run":
                    self.samples[(workload, size, impl.key)].append(r)
                self.log(f"{workload} {size:>6} {what:<5} {impl.name:<40} wall {r.wall:8.2f}s "
                         f"user {r.user:7.2f}s sys {r.sys:7.2f}s  {r.stdout.split(chr(10))[0][:60]}")

    def w3_setup(self, size):
        if size in self.w3_new:
            return
        base = self.rules(size)
        text, changes = changed(base.text)
        raw = os.path.join(self.work, f"changed-{size}.raw")
        with open(raw, "w", encoding="ascii") as f:
            f.write(text)
        canon = canonical(self.bins["lvsadm"], raw)
        path = os.path.join(self.work, f"changed-{size}.rules")
        with open(path, "w", encoding="ascii") as f:
            f.write(canon)
        new = Expected(path, canon, size)
        new.changes = changes
        self.w3_new[size] = new

    def strace_w2(self, size, out_dir):
        """Untimed: `strace -c -f` of the W2 reads; the summaries."""
        strace = shutil.which("strace")
        if not strace:
            return None
        exp = self.rules(size)
        self.load(exp)
        found = {}
        for impl in self.impls["W2"]:
            if impl.key not in ("ipvsadm-Sn", "lvs-snapshot", "lvsadm-Sn", "c-read"):
                continue
            path = os.path.join(out_dir, f"strace-w2-{impl.key}.txt")
            r = run_child([strace, "-c", "-f", "-o", path] + impl.command(exp.path)[0], self.work)
            if r.rc != 0:
                continue
            with open(path, encoding="ascii", errors="replace") as f:
                found[impl.key] = parse_strace(f.read())
        return found


def parse_strace(text):
    calls = {}
    total = 0
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 5 and w[0][0].isdigit() and not line.startswith("-"):
            name = w[-1]
            try:
                n = int(w[3])
            except ValueError:
                continue
            if name == "total":
                total = n
            else:
                calls[name] = n
    return {"total": total, "calls": dict(sorted(calls.items(), key=lambda kv: -kv[1]))}


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Stat:
    def __init__(self, samples):
        self.n = len(samples)
        self.wall = med([s.wall for s in samples])
        # Interference (other work on the host's cores, the guest's background kernel work)
        # only ever adds time, so the fastest run is the other estimate worth showing.
        self.best = min(s.wall for s in samples)
        self.user = med([s.user for s in samples])
        self.sys = med([s.sys for s in samples])
        keys = collections.defaultdict(list)
        for s in samples:
            for k, v in s.kv().items():
                if k.endswith("_ms"):
                    keys[k].append(float(v))
        self.inner = {k: med(v) for k, v in keys.items()}


def fmt_n(n):
    return f"{n:,}"


class Report:
    def __init__(self, bench, cfg, machine):
        self.b, self.cfg, self.machine = bench, cfg, machine
        self.text, self.md = [], []
        self.checks = []

    def stat(self, w, size, key):
        s = self.b.samples.get((w, size, key))
        return Stat(s) if s else None

    def ratio(self, w, size, key, best=False):
        base = next(i for i in self.b.impls[w] if i.baseline)
        a, b = self.stat(w, size, base.key), self.stat(w, size, key)
        if not a or not b or b.wall <= 0:
            return float("nan")
        return a.best / b.best if best else a.wall / b.wall

    def table(self, w, size, title):
        rows = []
        for impl in self.b.impls[w]:
            st = self.stat(w, size, impl.key)
            if not st:
                continue
            nl = self.b.netlink.get((w, size, impl.key))
            if nl:
                if w == "W3":
                    nlt = (f"{fmt_n(nl['changes'])} changes + {fmt_n(nl['reads'])} reads "
                           f"in {fmt_n(nl['datagrams'])} datagrams")
                else:
                    nlt = f"{fmt_n(nl['requests'])} in {fmt_n(nl['datagrams'])} datagrams"
                if nl["dropped"] or nl["truncated"]:
                    nlt += f" (capture lost {nl['dropped']} packets: a lower bound)"
            else:
                nlt = ""
            rows.append([impl.name, f"{st.wall:.2f}", f"{self.ratio(w, size, impl.key):.2f}x",
                         f"{st.best:.2f}", f"{self.ratio(w, size, impl.key, best=True):.2f}x",
                         f"{100 * st.user / st.wall:.0f}%", f"{100 * st.sys / st.wall:.0f}%",
                         str(st.n), nlt])
        head = ["implementation", "median wall (s, emulated)", "vs ipvsadm", "best wall",
                "vs ipvsadm (best)", "user", "sys", "runs", "netlink requests sent"]
        if not any(r[-1] for r in rows):
            head, rows = head[:-1], [r[:-1] for r in rows]
        self.emit_table(title, head, rows)

    def emit_table(self, title, head, rows):
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        self.text.append("")
        self.text.append(title)
        self.text.append("  ".join(h.ljust(wd) for h, wd in zip(head, widths)))
        for r in rows:
            self.text.append("  ".join(str(x).ljust(wd) for x, wd in zip(r, widths)))
        self.md.append("")
        self.md.append(f"**{title}**")
        self.md.append("")
        self.md.append("| " + " | ".join(head) + " |")
        self.md.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|")
        for r in rows:
            self.md.append("| " + " | ".join(str(x) for x in r) + " |")

    def check(self, what, ok, detail):
        self.checks.append((what, ok, detail))

    def targets(self, size, py):
        r = self.ratio
        st = self.stat
        nan = float("nan")

        def ratio_of(w, a, b):
            sa, sb = st(w, size, a), st(w, size, b)
            return sa.wall / sb.wall if sa and sb else nan

        w1 = r("W1", size, "lvs-batch")
        lb = st("W1", size, "lvs-batch")
        user = 100 * lb.user / lb.wall if lb else nan
        self.check("W1: lvs batch >= 5x faster than ipvsadm -R", w1 >= 5, f"{w1:.2f}x")
        self.check("W1: lvs's own user time < 10% of the total", user < 10,
                   f"{user:.1f}% user (lvs batch)")
        w2 = r("W2", size, "lvs-snapshot")
        self.check("W2: lvs snapshot >= 2x faster than ipvsadm -Sn", w2 >= 2, f"{w2:.2f}x")
        w3 = r("W3", size, "lvsadm-apply")
        self.check("W3: lvsadm apply >= 20x faster than ipvsadm-restore", w3 >= 20, f"{w3:.2f}x")
        nl = self.b.netlink.get(("W3", size, "lvsadm-apply"))
        new = self.b.w3_new.get(size)
        if nl and new:
            self.check("W3: lvsadm apply sends only the changed objects",
                       nl["changes"] == new.changes,
                       f"{nl['changes']} change requests for {new.changes} changed objects "
                       f"(plus {nl['reads']} read requests)")
        else:
            self.check("W3: lvsadm apply sends only the changed objects", False,
                       "not counted (no nlmon)")
        for w, a, b in (("W1", "pyroute2", "lvspy-batch"), ("W2", "pyroute2", "lvspy-snapshot")):
            sa, sb = st(w, py, a), st(w, py, b)
            x = sa.wall / sb.wall if sa and sb else nan
            ops = (sa.inner.get("op_ms", nan) / sb.inner.get("op_ms", nan)) if sa and sb else nan
            self.check(f"{w}: lvs-py >= 20x faster than pyroute2 (at {fmt_n(py)} services, "
                       "after the imports)", ops >= 20,
                       f"{ops:.1f}x after the imports; {x:.1f}x whole process")
        for w, c, rust, label in (("W1", "c-batch", "lvs-batch", "lvs_restore_file vs batch"),
                                  ("W1", "c-loop", "lvs-one", "libipvs loop vs one by one"),
                                  ("W2", "c-read", "lvs-snapshot",
                                   "ipvs_get_services/dests vs snapshot")):
            x = ratio_of(w, c, rust)
            self.check(f"{w}: C API within 1.2x of the Rust API ({label})", x <= 1.2,
                       f"C takes {x:.2f}x the Rust time")

    def scaling(self, sizes):
        for w, keys in self.cfg["scale_impls"].items():
            rows_cost, rows_ratio = [], []
            for impl in self.b.impls[w]:
                if impl.key not in keys:
                    continue
                per, ratios = [], []
                for size in sizes:
                    st = self.stat(w, size, impl.key)
                    per.append(st.wall / self.b.expected[size].objects if st else None)
                    ratios.append(self.ratio(w, size, impl.key) if st else None)
                first = next((p for p in per if p), None)
                rows_cost.append([impl.name] + [f"{p / first:.2f}" if p and first else "-"
                                                for p in per])
                rows_ratio.append([impl.name] + [f"{x:.2f}x" if x and x == x else "-"
                                                 for x in ratios])
            head = ["implementation"] + [f"{fmt_n(s)} svc" for s in sizes]
            name = {"W1": "W1 bulk create", "W2": "W2 full read"}[w]
            self.emit_table(f"W4 {name}: wall time per object, relative to the same "
                            f"implementation at {fmt_n(sizes[0])} services (1.00 = flat)",
                            head, rows_cost)
            self.emit_table(f"W4 {name}: speed vs ipvsadm at each size", head, rows_ratio)

    def render(self, strace, size, py, strace_size):
        cfg = self.cfg
        obj = self.b.expected[size].objects
        self.text.append(f"machine: {self.machine}")
        self.md.append(f"Machine: {self.machine}")
        self.table("W1", size, f"W1 bulk create: {fmt_n(size)} services x {DESTS} real servers "
                   f"= {fmt_n(obj)} objects from one rules file (table empty before each run)")
        self.table("W2", size, f"W2 full read of the {fmt_n(obj)} objects with their counters")
        new = self.b.w3_new.get(size)
        if new:
            self.table("W3", size, f"W3 change {fmt_n(new.changes)} of {fmt_n(obj)} objects "
                       f"(1%): {8 * new.changes // 10} weights, {new.changes // 10} real servers "
                       f"removed, {new.changes // 10} added")
        pobj = self.b.expected[py].objects
        self.table("W1", py, f"W1 and lvs-py vs pyroute2 at {fmt_n(py)} services "
                   f"({fmt_n(pobj)} objects)")
        self.table("W2", py, f"W2 and lvs-py vs pyroute2 at {fmt_n(py)} services "
                   f"({fmt_n(pobj)} objects)")
        self.scaling(cfg["scale_sizes"])
        inner = []
        for (w, s, key), samples in sorted(self.b.samples.items()):
            if s != size and s != py:
                continue
            st = Stat(samples)
            if st.inner:
                name = next(i.name for i in self.b.impls[w] if i.key == key)
                parts = ", ".join(f"{k[:-3]} {100 * v / 1000 / st.wall:.0f}%"
                                  for k, v in st.inner.items())
                inner.append(f"{w} {fmt_n(s)} svc, {name}: {parts} of the wall time "
                             "(measured inside the process)")
        if inner:
            self.text.append("")
            self.md.append("")
            for line in inner:
                self.text.append(line)
                self.md.append(f"- {line}")
        if strace:
            self.text.append("")
            self.md.append("")
            title = f"strace -c -f of the W2 reads at {fmt_n(strace_size)} services (untimed runs)"
            self.text.append(title)
            self.md.append(f"**{title}**")
            self.md.append("")
            for key, s in strace.items():
                name = next(i.name for i in self.b.impls["W2"] if i.key == key)
                top = ", ".join(f"{k} {fmt_n(v)}" for k, v in list(s["calls"].items())[:5])
                line = f"{name}: {fmt_n(s['total'])} system calls ({top})"
                self.text.append(line)
                self.md.append(f"- {line}")
        self.targets(size, py)
        self.text.append("")
        self.text.append("targets:")
        self.md.append("")
        self.md.append("**Targets**")
        self.md.append("")
        for what, ok, detail in self.checks:
            mark = "met" if ok else "NOT MET"
            self.text.append(f"  {mark:<8} {what}: {detail}")
            self.md.append(f"- {'met' if ok else '**not met**'}: {what}: {detail}")
        for line in cfg["notes"]:
            self.text.append(line)
            self.md.append("")
            self.md.append(line)
        if self.b.errors:
            self.text.append("")
            self.text.append("FAILED implementations (no numbers for them):")
            self.md.append("")
            self.md.append("**Failed implementations** (no numbers for them):")
            for e in self.b.errors:
                self.text.append(f"  {e}")
                self.md.append(f"- {e}")


# ---------------------------------------------------------------------------------------------


T0 = time.monotonic()


def focus(b, cfg, machine, out, w2, w3, runs=5):
    """A closer look at W2 and W3, whose ratios are the closest to their targets: 5 runs each,
    interleaved, in one boot; results-focus.md and results-focus.json."""
    size = cfg["size"]
    b.log(f"focus: W2 and W3 at {size} services x {DESTS}; {runs} runs")
    b.workload("W2", size, w2, runs)
    b.workload("W3", size, w3, runs)
    flush()
    rep = Report(b, cfg, machine)
    obj = b.expected[size].objects
    rep.md.append(f"Machine: {machine}")
    rep.table("W2", size, f"W2 full read of the {fmt_n(obj)} objects with their counters "
              f"({runs} runs)")
    new = b.w3_new[size]
    rep.table("W3", size, f"W3 change {fmt_n(new.changes)} of {fmt_n(obj)} objects (1%), "
              f"{runs} runs")
    print("\n".join(rep.text), flush=True)
    with open(os.path.join(out, "results-focus.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(rep.md).lstrip("\n") + "\n")
    raw = {"machine": machine,
           "samples": {f"{w} {s} {k}": [{"wall": r.wall, "user": r.user, "sys": r.sys,
                                         "out": r.stdout.split("\n", 1)[0][:200]} for r in v]
                       for (w, s, k), v in b.samples.items()},
           "errors": b.errors}
    with open(os.path.join(out, "results-focus.json"), "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=1)
    return 1 if b.errors else 0


def render_again(path, bins, cfg):
    """The report of an earlier run, from its results.json (the samples, netlink counts and
    strace summaries it recorded), with this version's tables."""
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    cfg.update(raw["config"])
    b = Bench(argparse.Namespace(), bins, tempfile.gettempdir())
    b.errors = raw["errors"]
    for name, runs in raw["samples"].items():
        w, size, key = name.split(" ")
        b.samples[(w, int(size), key)] = [
            Result(r["wall"], r["user"], r["sys"], 0, r["out"] + "\n", "") for r in runs]
    for name, counts in raw["netlink"].items():
        w, size, key = name.split(" ")
        b.netlink[(w, int(size), key)] = counts
    for size in {s for (_, s, _) in b.samples}:
        b.expected[size] = Expected("", "x\n" * size * (DESTS + 1), size)
    changes = raw.get("w3_changes") or {
        str(cfg["size"]): changed(generate(cfg["size"]))[1]}
    for size, n in changes.items():
        new = Expected("", "", int(size))
        new.changes = n
        b.w3_new[int(size)] = new
    rep = Report(b, cfg, raw["machine"])
    strace_size = cfg["scale_sizes"][0]
    rep.render(raw.get("strace"), cfg["size"], cfg["py_size"], strace_size)
    print("\n".join(rep.md).lstrip("\n"))
    return 0


def tmpfs_dir():
    mounts = {}
    with open("/proc/mounts", encoding="ascii") as f:
        for line in f:
            w = line.split()
            mounts[w[1]] = w[2]
    for d in ("/tmp", "/run", "/dev/shm"):
        if mounts.get(d) == "tmpfs":
            return tempfile.mkdtemp(prefix="lvs-bench-", dir=d)
    return tempfile.mkdtemp(prefix="lvs-bench-")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--bin", help="folder with bench, lvsadm, capi_bench")
    ap.add_argument("--python", help="python with pyroute2 and lvs")
    ap.add_argument("--pythonpath", default="", help="PYTHONPATH for the Python benches")
    ap.add_argument("--out", help="folder for results.md and results.json")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each")
    ap.add_argument("--focus", action="store_true",
                    help="only W2 and W3 at 10,000 services, 5 runs each (results-focus.md)")
    ap.add_argument("--vips", choices=("spread", "collide"), default="spread",
                    help="address plan of the services (see generate); 'collide' reproduces "
                         "the runs recorded up to adac0a6")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="no run: print the report of an earlier run's results.json again "
                         "(on any machine; --bin, --python and --out are then ignored)")
    args = ap.parse_args()

    if not args.render and not (args.bin and args.python and args.out):
        ap.error("--bin, --python and --out are needed to run the benchmark")
    here = os.path.dirname(os.path.abspath(__file__))
    bin_dir = args.bin or "."
    bins = {
        "bench": os.path.join(bin_dir, "bench"),
        "lvsadm": os.path.join(bin_dir, "lvsadm"),
        "capi": os.path.join(bin_dir, "capi_bench"),
        "python": args.python or sys.executable,
        "lvspy": os.path.join(here, "lvspy_bench.py"),
        "pyroute2": os.path.join(here, "pyroute2_bench.py"),
    }
    if args.pythonpath:
        os.environ["PYTHONPATH"] = args.pythonpath
    all_w1 = [i.key for i in implementations(bins)["W1"]]
    all_w2 = [i.key for i in implementations(bins)["W2"]]
    # At the largest size only the fast implementations and the ipvsadm baselines run: the
    # one-request-at-a-time Python and Rust loops would take most of an hour under TCG.
    big_w1 = ["lvs-batch"]
    big_w2 = ["lvs-snapshot"]
    main_w3 = ["ipvsadm-restore", "lvsadm-apply", "lvs-apply"]
    main_w1 = [k for k in all_w1 if k not in ("pyroute2", "lvspy-one")]
    main_w2 = [k for k in all_w2 if k != "pyroute2"]
    py_w1 = ["ipvsadm-R", "lvs-batch", "lvspy-batch", "lvspy-one"]
    py_w2 = ["ipvsadm-Sn", "lvs-snapshot", "lvspy-snapshot"]
    if args.quick:
        cfg = {"size": 100, "runs": 1, "scale_sizes": [50, 100, 200], "big_runs": 1,
               "py_size": 20, "py_runs": 1}
    else:
        cfg = {"size": 10000, "runs": 3, "scale_sizes": [1000, 10000, 50000], "big_runs": 1,
               "py_size": 200, "py_runs": 3}
    big = cfg["scale_sizes"][-1]
    cfg["scale_impls"] = {"W1": main_w1, "W2": main_w2}
    names = {i.key: i.name for w in implementations(bins).values() for i in w}
    cfg["notes"] = [
        f"Sizes: W1-W3 at {fmt_n(cfg['size'])} services, {cfg['runs']} runs each. W4 at "
        f"{fmt_n(big)} services runs only {', '.join(names[k] for k in big_w1 + big_w2)}, "
        f"{cfg['big_runs']} time(s) each: ipvsadm -R alone takes a quarter of an hour there "
        "under TCG, so there is no ratio against ipvsadm at that size. W3 runs lvsadm apply and "
        "the Rust API's apply (lvs-py's and the C API's apply are the same code underneath; "
        "tests/bench/run.py has them, not run by default). "
        f"pyroute2 needs about 50 ms of CPU per request under TCG (its asyncio core), so it runs "
        f"only at {fmt_n(cfg['py_size'])} services ({fmt_n(cfg['py_size'] * (DESTS + 1))} "
        f"objects), once, next to lvs-py and ipvsadm at the same size ({cfg['py_runs']} runs). "
        "Importing pyroute2 from the guest's 9p root file system takes seconds (import_ms), an "
        "artefact of the VM, so the lvs-py target compares the time after the imports (op_ms, "
        "measured inside each Python process); the whole-process ratio is given too.",
        "Ratios: ipvsadm's median wall time / this row's (>1: faster than ipvsadm); the best "
        "columns do the same with each row's fastest run (interference only adds time, so the "
        "fastest run is the least disturbed); the targets are judged on the medians. user and sys: "
        "median CPU time of the process (and its children) as a share of its median wall time; "
        "sys includes the kernel's IPVS work done in the system calls. Netlink requests: counted "
        "on an nlmon device in one extra, untimed run (NLM_F_REQUEST generic-netlink messages "
        "other than the family controller's).",
    ]

    if args.render:
        return render_again(args.render, bins, cfg)

    uname = platform.uname()
    ipvsadm_version = must([IPVSADM, "--version"]).strip()
    machine = (f"kernel {uname.release}, {os.cpu_count()} vCPUs under qemu TCG, "
               f"{ipvsadm_version}, Python {platform.python_version()}")
    work = tmpfs_dir()
    print(f"[bench] work folder {work}; {machine}", flush=True)
    os.makedirs(args.out, exist_ok=True)
    b = Bench(args, bins, work)
    b.nlmon = nlmon_up()
    must(["modprobe", "ip_vs_rr"])
    # Warm the guest's page cache (the root file system is 9p): every program once, untimed.
    must([bins["python"], "-c", "import lvs, pyroute2"])
    for prog in ("bench", "lvsadm", "capi"):
        subprocess.run([bins[prog]], capture_output=True)

    size, runs = cfg["size"], cfg["runs"]
    if args.focus:
        return focus(b, cfg, machine, args.out, main_w2, main_w3)
    b.log(f"main size {size} services x {DESTS}; {runs} run(s); scaling {cfg['scale_sizes']}")
    b.workload("W1", size, main_w1, runs)
    b.workload("W2", size, main_w2, runs)
    b.workload("W3", size, main_w3, runs, probe=("ipvsadm-restore", "lvsadm-apply", "lvs-apply"))
    py = cfg["py_size"]
    b.workload("W1", py, py_w1, cfg["py_runs"])
    b.workload("W1", py, ["pyroute2"], 1)
    b.workload("W2", py, py_w2, cfg["py_runs"])
    b.workload("W2", py, ["pyroute2"], 1)
    for s in cfg["scale_sizes"]:
        if s == size:
            continue
        keys1, keys2, n = (big_w1, big_w2, cfg["big_runs"]) if s == big else (main_w1, main_w2, runs)
        b.workload("W1", s, keys1, n)
        b.workload("W2", s, keys2, n)
    strace_size = cfg["scale_sizes"][0]
    strace = b.strace_w2(strace_size, args.out)
    flush()

    rep = Report(b, cfg, machine)
    rep.render(strace, size, cfg["py_size"], strace_size)
    print("\n".join(rep.text), flush=True)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(rep.md).lstrip("\n") + "\n")
    raw = {
        "machine": machine,
        "w3_changes": {str(k): v.changes for k, v in b.w3_new.items()},
        "config": {k: v for k, v in cfg.items() if k != "notes"},
        "samples": {f"{w} {s} {k}": [{"wall": r.wall, "user": r.user, "sys": r.sys,
                                      "out": r.stdout.split("\n", 1)[0][:200]} for r in v]
                    for (w, s, k), v in b.samples.items()},
        "netlink": {f"{w} {s} {k}": v for (w, s, k), v in b.netlink.items()},
        "strace": strace,
        "errors": b.errors,
        "targets": [{"target": w, "met": ok, "value": d} for w, ok, d in rep.checks],
    }
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    print(f"[bench] wrote {args.out}/results.md and results.json "
          f"({time.monotonic() - T0:.0f} s)", flush=True)
    return 1 if b.errors else 0


if __name__ == "__main__":
    sys.exit(main())
