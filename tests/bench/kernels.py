#!/usr/bin/env python3
"""The kernels' benchmark (`tests/harness.sh bench --kernels`): one VM boot per kernel.

What changes for lvs on a kernel whose IPVS tables are per namespace and resizable (7.1 on:
Debian's 7.2) against the fixed table of 256 service buckets of 6.x (6.1, 6.12). In one boot of
one kernel, with spread VIPs (every bucket used alike), each row in a fresh namespace:

  W1/W4  bulk create: `ipvsadm -R` and lvs's batch at 1,000 and 10,000 services x 4, the batch
         alone at 50,000 and 100,000 (ipvsadm takes a quarter of an hour there under TCG)
  W2/W4  full read with counters: `ipvsadm -Sn` and lvs's snapshot, the same sizes
  W3     1% of 10,000 x 4 changed: `Ipvs::apply` (bench apply) and the Reconciler's
         one apply (first_ms), each run from the old table
  W6     one weight changed at 1,000, 10,000 and 50,000 x 4: the Reconciler given the whole
         table and given only the changed service (medians of 21 applies in the process)

Every row records wall, user and sys time; sys is the kernel's work done in the process's
system calls, user is lvs's (or ipvsadm's) own. Per object and relative to the same row at
1,000 services, sys says whether the kernel's cost per object is flat on that kernel.
Every table is checked against /proc/net/ip_vs after the row (tests/bench/run.py's check).

In the VM: writes OUT/kernel-RELEASE.json (and .md). On the host, `--render A.json B.json...`
prints the kernels side by side (what BENCHMARKS.md records). Timings under TCG are emulated:
compare ratios, within one boot or between boots run back to back.
"""

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reconcile as RC  # noqa: E402
import run as R  # noqa: E402

PEERS_UP_TO = 10000  # ipvsadm rows at this size and below


def sizes(quick):
    return ([50, 100, 200, 400], 200, [50, 100, 200]) if quick else \
        ([1000, 10000, 50000, 100000], 10000, [1000, 10000, 50000])


def measure(args):
    here = os.path.dirname(os.path.abspath(__file__))
    bins = {"bench": os.path.join(args.bin, "bench"), "lvsadm": os.path.join(args.bin, "lvsadm"),
            # Only the rows above run: the others' programs are named, never started.
            "capi": "/nonexistent", "python": sys.executable,
            "lvspy": os.path.join(here, "lvspy_bench.py"),
            "pyroute2": os.path.join(here, "pyroute2_bench.py")}
    scale, w3_size, w6_sizes = sizes(args.quick)
    work = R.tmpfs_dir()
    b = R.Bench(argparse.Namespace(vips="spread"), bins, work)
    b.nlmon = R.nlmon_up()
    R.must(["modprobe", "ip_vs_rr"])
    release = platform.uname().release
    machine = (f"kernel {release}, {os.cpu_count()} vCPUs under qemu TCG, "
               f"{R.must([R.IPVSADM, '--version']).strip()}")
    b.log(machine)
    status = {}
    for s in scale:
        runs = 1 if args.quick or s > PEERS_UP_TO else (3 if s < PEERS_UP_TO else 2)
        peers = s <= PEERS_UP_TO
        b.workload("W1", s, ["ipvsadm-R", "lvs-batch"] if peers else ["lvs-batch"], runs)
        b.workload("W2", s, ["ipvsadm-Sn", "lvs-snapshot"] if peers else ["lvs-snapshot"], runs)
        # 7.1 on: the tables' sizes and load (absent on 6.x).
        if os.path.exists("/proc/net/ip_vs_status"):
            with open("/proc/net/ip_vs_status", encoding="ascii") as f:
                status[str(s)] = f.read()
    d = RC.Driver(args, bins, work, args.quick, only={"lvs-apply", "reconciler",
                                                      "reconciler-partial"})
    d.nlmon = b.nlmon
    d.w3(w3_size)
    for s in w6_sizes:
        d.w6(s, watch=False)
    R.flush()
    raw = {"machine": machine, "release": release,
           "samples": {f"{w} {s} {k}": [{"wall": r.wall, "user": r.user, "sys": r.sys}
                                        for r in v] for (w, s, k), v in b.samples.items()},
           "reconcile": d.results, "ip_vs_status": status, "errors": b.errors + d.errors,
           "sizes": {"scale": scale, "w3": w3_size, "w6": w6_sizes}}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"kernel-{release}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=1)
    text = "\n".join(render([raw]))
    print(text, flush=True)
    with open(path[:-5] + ".md", "w", encoding="utf-8") as f:
        f.write(text + "\n")
    b.log(f"wrote {path}")
    return 1 if raw["errors"] else 0


# ---------------------------------------------------------------------------------------------


def med(samples, key, field="wall"):
    return RC.median([float(r[field]) for r in samples.get(key, []) if field in r])


def series(raw):
    """'6.1', '7.2'... from the release."""
    return ".".join(raw["release"].split(".")[:2])


def per_object_table(raws, w, key, name):
    """Per object (µs of wall and of sys) at each size, and sys per object relative to the
    same kernel at the smallest size."""
    scale = raws[0]["sizes"]["scale"]
    head = ["services x 4"] + [f"{series(r)} {c}" for r in raws
                               for c in ("wall µs/obj", "sys µs/obj", "user µs/obj", "sys vs 1st")]
    md = [f"**{w} {name}** (per object; `sys vs 1st`: sys per object / the same at "
          f"{R.fmt_n(scale[0])} services)", "", "| " + " | ".join(head) + " |",
          "|" + "---:|" * len(head)]
    for s in scale:
        cells = [R.fmt_n(s)]
        objects = s * (R.DESTS + 1)
        for r in raws:
            k = f"{w} {s} {key}"
            if k not in r["samples"]:
                cells += ["-"] * 4
                continue
            first = med(r["samples"], f"{w} {scale[0]} {key}", "sys") / (scale[0] * (R.DESTS + 1))
            wall, sys_ = med(r["samples"], k), med(r["samples"], k, "sys")
            user = med(r["samples"], k, "user")
            cells += [f"{wall / objects * 1e6:.1f}", f"{sys_ / objects * 1e6:.1f}",
                      f"{user / objects * 1e6:.1f}", f"{sys_ / objects / first:.2f}"]
        md.append("| " + " | ".join(cells) + " |")
    return md + [""]


def versus_table(raws):
    """ipvsadm's wall time / lvs's, at the sizes both ran."""
    md = ["**lvs against ipvsadm** (ipvsadm's median wall / lvs's; >1: lvs faster)", "",
          "| workload | " + " | ".join(f"{series(r)}, {R.fmt_n(s)}" for r in raws
                                       for s in r["sizes"]["scale"] if s <= PEERS_UP_TO) + " |"]
    md.append("|---|" + "---:|" * (len(md[-1].split("|")) - 3))
    for w, peer, ours in (("W1", "ipvsadm-R", "lvs-batch"), ("W2", "ipvsadm-Sn", "lvs-snapshot")):
        cells = [f"{w} {peer} / {ours}"]
        for r in raws:
            for s in r["sizes"]["scale"]:
                if s <= PEERS_UP_TO:
                    p, o = med(r["samples"], f"{w} {s} {peer}"), med(r["samples"], f"{w} {s} {ours}")
                    cells.append(f"{p / o:.1f}x")
        md.append("| " + " | ".join(cells) + " |")
    return md + [""]


def reconcile_table(raws):
    w3, w6 = raws[0]["sizes"]["w3"], raws[0]["sizes"]["w6"]
    md = [f"**W3 and W6** (in-process ms: W3 is one apply of 1% of {R.fmt_n(w3)} x 4; W6 the "
          "median of the applies of one weight)", "",
          "| row | " + " | ".join(series(r) for r in raws) + " |", "|---|" + "---:|" * len(raws)]
    rows = [(f"W3 {R.fmt_n(w3)}: Ipvs::apply (bench apply)", f"W3 {w3} lvs-apply", "apply_ms"),
            (f"W3 {R.fmt_n(w3)}: Reconciler, one apply", f"W3 {w3} reconciler", "first_ms")]
    for s in w6:
        rows += [(f"W6 {R.fmt_n(s)}: Reconciler, whole table", f"W6 {s} reconciler", "apply_ms"),
                 (f"W6 {R.fmt_n(s)}: Reconciler, changed service", f"W6 {s} reconciler-partial",
                  "apply_ms")]
    for name, key, field in rows:
        md.append(f"| {name} | " + " | ".join(f"{med(r['reconcile'], key, field):.2f}"
                                            for r in raws) + " |")
    return md + [""]


def render(raws):
    md = ["Machines: " + "; ".join(r["machine"] for r in raws) + ".", ""]
    md += per_object_table(raws, "W1", "lvs-batch", "lvs batch (bulk create)")
    md += per_object_table(raws, "W1", "ipvsadm-R", "ipvsadm -R")
    md += per_object_table(raws, "W2", "lvs-snapshot", "lvs snapshot (full read)")
    md += per_object_table(raws, "W2", "ipvsadm-Sn", "ipvsadm -Sn")
    md += versus_table(raws)
    md += reconcile_table(raws)
    for r in raws:
        if r["ip_vs_status"]:
            s = max(r["ip_vs_status"], key=int)
            md += [f"{series(r)}: /proc/net/ip_vs_status with {R.fmt_n(int(s))} services x 4:",
                   "", "```", r["ip_vs_status"][s].rstrip("\n"), "```", ""]
        if r["errors"]:
            md += [f"**{series(r)} failed rows**:"] + [f"- {e}" for e in r["errors"]] + [""]
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--bin", help="folder with bench and lvsadm")
    ap.add_argument("--out", help="folder for kernel-RELEASE.json and .md")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run")
    ap.add_argument("--render", nargs="+", metavar="JSON", help="side by side, on the host")
    args = ap.parse_args()
    if args.render:
        raws = []
        for path in args.render:
            with open(path, encoding="utf-8") as f:
                raws.append(json.load(f))
        raws.sort(key=lambda r: [int(x) for x in series(r).split(".")])
        print("\n".join(render(raws)))
        return 0
    if not (args.bin and args.out):
        ap.error("--bin and --out are needed to run the benchmark")
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
