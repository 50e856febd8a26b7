#!/usr/bin/env python3
"""The Reconciler's benchmark (`tests/harness.sh bench --reconcile`): one VM boot.

Runs as root in a network namespace with `lo` up, with Debian's python3 (standard library
only), next to tests/bench/run.py whose helpers it uses (fresh namespaces, the independent
check of the table against /proc/net/ip_vs, the nlmon request counter, the rule generator).

A Reconciler is long-lived: it reads the table once when it starts and then keeps its model
from its own acknowledged writes. What a controller pays per sync is one `apply`, so its rows
are timed inside the process (`apply_ms`: the median of ROUNDS applies, `first_ms` for a
single one), next to the whole-process wall time of the tools that are one-shot
(ipvsadm-restore, `ipvsadm -e`, `lvsadm apply`).

  W3  1% of 10,000 services x 4 changed (400 weights, 50 real servers removed, 50 added):
      ipvsadm-restore (flush + replay), Ipvs::apply (bench apply), lvsadm apply, the
      Reconciler (Rust, lvs-py): time, and netlink requests during the Reconciler's apply
  W6  one weight changed on 1,000, 10,000 and 50,000 services x 4: the Reconciler given the
      whole desired table, and given only the changed service (keep_unlisted), in Rust and
      lvs-py; `ipvsadm -e` of the same change; `lvsadm apply` (which reads the whole table);
      requests during the Reconciler's applies
  /proc  the time to read /proc/net/ip_vs whole, against one service dump and the full
      snapshot, at each W6 size: does one file read tell what changed faster than the dumps?
  watch  `lvsadm apply --watch FILE` at 10,000 services: from the rename of a new FILE (one
      weight changed) to the change printed as applied

Writes OUT/results-reconcile.md and .json. Timings in the VM are emulated: ratios only.
"""

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402  (the benchmark's helpers)


def median(values):
    return statistics.median(values) if values else float("nan")


def one_weight(text):
    """The rules with one real server's weight changed (in the middle of the file), and the
    ipvsadm arguments of that change and of its undoing."""
    lines = text.rstrip("\n").split("\n")
    i = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith("-a "))
    w = lines[i].split()
    vip, rip = w[2], w[4]
    lines[i] = lines[i].replace(" -w 1", " -w 7")
    there = ["-e", "-t", vip, "-r", rip, "-m", "-w", "7"]
    back = ["-e", "-t", vip, "-r", rip, "-m", "-w", "1"]
    return "\n".join(lines) + "\n", there, back, vip


class Driver:
    def __init__(self, args, bins, work, quick, only=None):
        """only: the keys of the rows to run (tests/bench/kernels.py); None runs them all."""
        self.bins, self.work = bins, work
        self.only = only
        self.nlmon = False
        self.rounds = 5 if quick else 21
        self.runs = 1 if quick else 3
        self.results = {}
        self.errors = []
        self.t0 = time.monotonic()

    def log(self, msg):
        print(f"[reconcile +{time.monotonic() - self.t0:.0f}s] {msg}", flush=True)

    def file(self, name, text, services):
        path = os.path.join(self.work, name)
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
        return R.Expected(path, text, services)

    def load(self, exp):
        """A fresh namespace holding exp's table (untimed), checked."""
        R.fresh_namespace(self.nlmon)
        R.must([self.bins["bench"], "restore", exp.path])
        exp.check_table()

    def timed(self, key, argv, stdin=None):
        r = R.run_child(argv, self.work, stdin)
        if r.rc != 0:
            raise R.Failed(f"{key}: status {r.rc}: {r.stderr.strip()[:300]}")
        self.results.setdefault(key, []).append({"wall": r.wall, "user": r.user,
                                                 "sys": r.sys, **r.kv()})
        return r

    def counted(self, key, argv):
        """argv (a reconcile with LVS_BENCH_PAUSE) with the netlink requests counted from its
        first read's end to its exit."""
        if not self.nlmon:
            return
        env = dict(os.environ, LVS_BENCH_PAUSE="1")
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
        line = p.stderr.readline()
        if line.strip() != "read":
            p.kill()
            raise R.Failed(f"{key}: no pause: {line.strip()} {p.stderr.read()[:300]}")
        counter = R.NetlinkCounter()
        time.sleep(0.3)
        p.stdin.write("\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=R.CHILD_TIMEOUT)
        counts = counter.finish()
        if p.returncode != 0:
            raise R.Failed(f"{key}: status {p.returncode}: {err.strip()[:300]}")
        counts["out"] = out.strip()
        self.results[f"{key} requests"] = counts

    def wanted(self, key):
        return self.only is None or key in self.only

    def row(self, key, fn):
        try:
            fn()
        except (R.Failed, subprocess.SubprocessError, OSError) as e:
            self.errors.append(f"{key}: {e}")
            self.log(f"FAILED {key}: {e}")

    # -----------------------------------------------------------------------------------------

    def w3(self, size):
        b = self.bins
        old_text = R.generate(size)
        raw_text, changes = R.changed(old_text)
        old = self.file("w3-old.rules", old_text, size)
        raw = self.file("w3-new.raw", raw_text, size)
        # In ipvsadm -Sn's order, as the first check of the table compares it byte for byte.
        new = self.file("w3-new.rules", R.canonical(b["lvsadm"], raw.path), size)
        self.results["W3 changes"] = changes
        rows = [
            ("ipvsadm-restore", [R.IPVSADM_RESTORE], new.path),
            ("lvs-apply", [b["bench"], "apply", new.path], None),
            ("lvsadm-apply", [b["lvsadm"], "apply", new.path], None),
            ("reconciler", [b["bench"], "reconcile", old.path, new.path, "1"], None),
            ("lvspy-reconciler", [b["python"], b["lvspy"], "reconcile", old.path, new.path,
                                  "1"], None),
        ]
        rows = [r for r in rows if self.wanted(r[0])]
        for run in range(self.runs):
            for key, argv, stdin in rows:
                self.log(f"W3 {size} run {run + 1}: {key}")

                def one(key=key, argv=argv, stdin=stdin):
                    self.load(old)
                    self.timed(f"W3 {size} {key}", argv, stdin)
                    new.check_table()
                self.row(key, one)
        self.log(f"W3 {size}: requests during the Reconciler's apply")

        def count():
            self.load(old)
            self.counted(f"W3 {size} reconciler",
                         [b["bench"], "reconcile", old.path, new.path, "1"])
            new.check_table()
        self.row("W3 count", count)

    def w6(self, size, watch):
        b = self.bins
        a_text = R.generate(size)
        b_text, there, back, vip = one_weight(a_text)
        a = self.file(f"w6-{size}-a.rules", a_text, size)
        bb = self.file(f"w6-{size}-b.rules", b_text, size)
        self.log(f"W6 {size}: load")
        self.row(f"W6 {size} load", lambda: self.load(a))
        at = {"now": a, "other": bb}

        def flip():
            at["now"], at["other"] = at["other"], at["now"]

        def reconcile(key, argv_of, partial):
            def one():
                extra = [str(self.rounds)] + (["partial"] if partial else [])
                self.timed(f"W6 {size} {key}", argv_of(at["now"].path, at["other"].path) + extra)
                flip()  # an odd number of rounds ends at the other table
                at["now"].check_table()
            return one

        def ipvsadm_e():
            for _ in range(5):
                args = there if at["now"] is a else back
                self.timed(f"W6 {size} ipvsadm-e", [R.IPVSADM] + args)
                flip()
            at["now"].check_table()

        def lvsadm_apply():
            self.timed(f"W6 {size} lvsadm-apply", [b["lvsadm"], "apply", at["other"].path])
            flip()
            at["now"].check_table()

        rust = lambda f, t: [b["bench"], "reconcile", f, t]  # noqa: E731
        py = lambda f, t: [b["python"], b["lvspy"], "reconcile", f, t]  # noqa: E731
        rows = [("reconciler", reconcile("reconciler", rust, False)),
                ("reconciler-partial", reconcile("reconciler-partial", rust, True)),
                ("lvspy-reconciler", reconcile("lvspy-reconciler", py, False)),
                ("lvspy-reconciler-partial", reconcile("lvspy-reconciler-partial", py, True)),
                ("ipvsadm-e", ipvsadm_e),
                ("lvsadm-apply", lvsadm_apply)]
        reads = [("proc", [b["bench"], "proc"]), ("services", [b["bench"], "services"]),
                 ("snapshot", [b["bench"], "snapshot"])]
        rows = [r for r in rows if self.wanted(r[0])]
        reads = [r for r in reads if self.only is None]
        # At the largest size each process's first read takes most of a minute under TCG; the
        # in-process medians are over ROUNDS applies already.
        for run in range(self.runs if size < 50000 else 1):
            for key, fn in rows:
                self.log(f"W6 {size} run {run + 1}: {key}")
                self.row(f"W6 {size} {key}", fn)
            for key, argv in reads:
                self.log(f"/proc {size} run {run + 1}: {key}")
                self.row(f"read {size} {key}", lambda key=key, argv=argv:
                         self.timed(f"read {size} {key}", argv))
        for key, partial in (("reconciler", False), ("reconciler-partial", True)):
            self.log(f"W6 {size}: requests during the Reconciler's applies ({key})")

            def count(key=key, partial=partial):
                extra = [str(self.rounds)] + (["partial"] if partial else [])
                self.counted(f"W6 {size} {key}",
                             rust(at["now"].path, at["other"].path) + extra)
                flip()
                at["now"].check_table()
            self.row(f"W6 {size} count {key}", count)
        if watch:
            self.row(f"watch {size}", lambda: self.watch(size, at, vip))

    def watch(self, size, at, vip):
        """lvsadm apply --watch: rename a new file over the watched one, wait for the change
        to be printed (it is printed once the kernel acknowledged it)."""
        watched = os.path.join(self.work, "watched.rules")
        with open(at["now"].path, encoding="ascii") as f:
            text_now = f.read()
        with open(at["other"].path, encoding="ascii") as f:
            text_other = f.read()
        with open(watched, "w", encoding="ascii") as f:
            f.write(text_now)
        p = subprocess.Popen([self.bins["lvsadm"], "apply", "--watch", watched],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = p.stdout.readline()
            if "watching" not in first:
                raise R.Failed(f"watch: {first.strip()} {p.stderr.read()[:300]}")
            time.sleep(1)
            texts = [text_other, text_now]
            for i in range(5 if self.runs > 1 else 2):
                tmp = watched + ".new"
                with open(tmp, "w", encoding="ascii") as f:
                    f.write(texts[i % 2])
                t0 = time.perf_counter()
                os.replace(tmp, watched)
                while True:
                    line = p.stdout.readline()
                    if not line:
                        raise R.Failed(f"watch ended: {p.stderr.read()[:300]}")
                    if f"-e -t {vip}" in line:
                        break
                latency = time.perf_counter() - t0
                self.results.setdefault(f"watch {size}", []).append({"wall": latency})
                at["now"], at["other"] = at["other"], at["now"]
                at["now"].check_table()
                time.sleep(0.5)
        finally:
            p.send_signal(signal.SIGTERM)
            rc = p.wait(timeout=60)
        if rc != 0:
            raise R.Failed(f"watch: status {rc} after SIGTERM")


# ---------------------------------------------------------------------------------------------


def med(results, key, field="wall"):
    return median([float(r[field]) for r in results.get(key, []) if field in r])


def render(d, machine, w3_size, w6_sizes):
    res = d.results
    md = [f"Machine: {machine}. Rounds per in-process median: {d.rounds}; runs: {d.runs}.", ""]
    s = w3_size
    md += [f"### W3: {res.get('W3 changes', '?')} changes on {R.fmt_n(s)} services x {R.DESTS}",
           "", "| row | process wall (s) | apply inside the process (ms) | restore / this apply |",
           "|---|---:|---:|---:|"]
    restore = med(res, f"W3 {s} ipvsadm-restore")
    inside = {"lvs-apply": "apply_ms", "reconciler": "first_ms", "lvspy-reconciler": "first_ms"}
    for key in ("ipvsadm-restore", "lvsadm-apply", "lvs-apply", "reconciler",
                "lvspy-reconciler"):
        wall = med(res, f"W3 {s} {key}")
        ms = med(res, f"W3 {s} {key}", inside[key]) if key in inside else float("nan")
        basis = ms / 1000 if key in inside else wall
        md.append(f"| {key} | {wall:.2f} | {ms:.1f} | {restore / basis:.1f}x |")
    c = res.get(f"W3 {s} reconciler requests")
    if c:
        md += ["", f"Requests during the Reconciler's apply (nlmon): {c['requests']} "
                   f"({c['changes']} changes, {c['reads']} reads) {c['by_cmd']}, "
                   f"dropped {c['dropped']}."]
    md += ["", "### W6: one weight changed", "",
           "| services x 4 | Reconciler, whole table (ms) | Reconciler, the changed service "
           "(ms) | lvs-py whole (ms) | lvs-py changed service (ms) | `ipvsadm -e` process (ms) "
           "| `lvsadm apply` process (s) | requests per apply (whole / changed service) |",
           "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in w6_sizes:
        cells = [med(res, f"W6 {s} {k}", "apply_ms") for k in
                 ("reconciler", "reconciler-partial", "lvspy-reconciler",
                  "lvspy-reconciler-partial")]
        e = med(res, f"W6 {s} ipvsadm-e") * 1000
        ap = med(res, f"W6 {s} lvsadm-apply")
        counts = []
        for k in ("reconciler", "reconciler-partial"):
            c = res.get(f"W6 {s} {k} requests")
            counts.append(f"{c['changes']} changes, {c['reads']} reads" if c else "-")
        md.append(f"| {R.fmt_n(s)} | " + " | ".join(f"{x:.2f}" for x in cells)
                  + f" | {e:.1f} | {ap:.1f} | {' / '.join(counts)} |")
    lo, hi = w6_sizes[0], w6_sizes[-1]
    md.append("")
    for k in ("reconciler", "reconciler-partial", "lvspy-reconciler",
              "lvspy-reconciler-partial"):
        ratio = med(res, f"W6 {hi} {k}", "apply_ms") / med(res, f"W6 {lo} {k}", "apply_ms")
        md.append(f"- {k}: {R.fmt_n(hi)} / {R.fmt_n(lo)} = {ratio:.2f}x")
    for k in ("reconciler", "reconciler-partial"):
        for s in w6_sizes:
            r = med(res, f"W6 {s} lvspy-{k}", "apply_ms") / med(res, f"W6 {s} {k}", "apply_ms")
            md.append(f"- lvs-py / Rust, {k}, {R.fmt_n(s)}: {r:.2f}x")
    md += ["", "### Reading the table: /proc/net/ip_vs against the dumps (in-process ms)", "",
           "| services x 4 | /proc/net/ip_vs read | services dump | full snapshot (every dump, "
           "counters) |", "|---:|---:|---:|---:|"]
    for s in w6_sizes:
        cells = [med(res, f"read {s} {k}", "read_ms") for k in ("proc", "services", "snapshot")]
        md.append(f"| {R.fmt_n(s)} | " + " | ".join(f"{x:.1f}" for x in cells) + " |")
    for key in [k for k in res if k.startswith("watch ")]:
        lat = [r["wall"] * 1000 for r in res[key]]
        md += ["", f"`lvsadm apply --watch` at {key.split()[1]} services: file renamed to change "
                   f"printed (applied): median {median(lat):.0f} ms over {len(lat)} changes "
                   f"(min {min(lat):.0f}, max {max(lat):.0f}; includes the 200 ms settle)."]
    if d.errors:
        md += ["", "**Failed** (no numbers for them):"] + [f"- {e}" for e in d.errors]
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--bin", required=True, help="folder with bench and lvsadm")
    ap.add_argument("--python", required=True, help="python with lvs")
    ap.add_argument("--pythonpath", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="small sizes, one run")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    bins = {"bench": os.path.join(args.bin, "bench"), "lvsadm": os.path.join(args.bin, "lvsadm"),
            "python": args.python, "lvspy": os.path.join(here, "lvspy_bench.py")}
    if args.pythonpath:
        os.environ["PYTHONPATH"] = args.pythonpath
    w3_size, w6_sizes = (200, [50, 100, 200]) if args.quick else (10000, [1000, 10000, 50000])
    work = R.tmpfs_dir()
    d = Driver(args, bins, work, args.quick)
    d.nlmon = R.nlmon_up()
    R.must(["modprobe", "ip_vs_rr"])
    R.must([bins["python"], "-c", "import lvs"])
    for prog in ("bench", "lvsadm"):
        subprocess.run([bins[prog]], capture_output=True)
    uname = platform.uname()
    machine = (f"kernel {uname.release}, {os.cpu_count()} vCPUs under qemu TCG, "
               f"{R.must([R.IPVSADM, '--version']).strip()}, Python {platform.python_version()}")
    d.log(machine)
    d.w3(w3_size)
    for s in w6_sizes:
        d.w6(s, watch=s == w3_size or (args.quick and s == w6_sizes[-1]))
    R.flush()
    md = render(d, machine, w3_size, w6_sizes)
    print("\n".join(md), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results-reconcile.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(args.out, "results-reconcile.json"), "w", encoding="utf-8") as f:
        json.dump({"machine": machine, "results": d.results, "errors": d.errors}, f, indent=1)
    d.log(f"wrote {args.out}/results-reconcile.md")
    return 1 if d.errors else 0


if __name__ == "__main__":
    sys.exit(main())
