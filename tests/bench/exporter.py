#!/usr/bin/env python3
"""The exporter's benchmark (`tests/harness.sh bench --exporter`): one VM boot.

Runs as root in a network namespace with `lo` up, with Debian's python3 (standard library
only), next to tests/bench/run.py whose helpers it uses (fresh namespaces, the rule generator,
the check of the table against /proc/net/ip_vs and ipvsadm -Sn).

At 1,000 and 10,000 services x 4 real servers (the VIPs spread over the kernel's hash), side by
side on the same table:
  lvsadm     `lvsadm exporter`: one netlink snapshot per scrape, every counter and rate of
             every service and real server (lvs::exporter)
  node       Debian's prometheus-node-exporter with only its ipvs collector
             (`--collector.disable-defaults --collector.ipvs`): /proc/net/ip_vs and
             /proc/net/ip_vs_stats per scrape, three gauges per real server
Each scrape is a whole HTTP GET of /metrics from this process (wall time, median of ROUNDS
after one warm-up), with the exporter process's CPU time (utime + stime from /proc/PID/stat)
over the ROUNDS, the size of the answer and its number of samples. Both answers are checked:
as many real servers as the table holds, each with the weight it has.

Writes OUT/results-exporter.md and .json. Timings in the VM are emulated: ratios only.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402  (the benchmark's helpers)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of process pid, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def get(url):
    t = time.monotonic()
    with urllib.request.urlopen(url, timeout=600) as answer:
        body = answer.read()
    return time.monotonic() - t, body.decode()


class Server:
    """An exporter process listening on url; killed by stop()."""

    def __init__(self, name, argv, url=None):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        if url is None:
            # lvsadm exporter says where it listens on its first line.
            line = self.proc.stderr.readline().strip()
            prefix = "lvsadm exporter: serving "
            if not line.startswith(prefix):
                self.stop()
                raise R.Failed(f"{name} did not start: {line!r}")
            url = line[len(prefix):]
        self.url = url
        deadline = time.monotonic() + 120
        while True:
            try:
                get(self.url)
                break
            except OSError as e:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    err = self.proc.stderr.read() if self.proc.poll() is not None else ""
                    self.stop()
                    raise R.Failed(f"{name} does not answer {self.url}: {e} {err[:300]}")
                time.sleep(0.2)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def samples(text, metric):
    return [line for line in text.split("\n") if line.startswith(metric + "{")]


def check(name, text, services):
    """The answer lists every real server of the table once, each with weight 1."""
    metric = {"lvsadm": "ipvs_backend_weight", "node": "node_ipvs_backend_weight"}[name]
    weights = samples(text, metric)
    if len(weights) != services * R.DESTS:
        raise R.Failed(f"{name}: {len(weights)} {metric} samples, not {services * R.DESTS}")
    if any(not line.endswith(" 1") for line in weights):
        raise R.Failed(f"{name}: a weight is not 1")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--bin", required=True, help="folder with bench and lvsadm")
    ap.add_argument("--node-exporter", required=True, help="prometheus-node-exporter binary")
    ap.add_argument("--out", required=True, help="folder for results-exporter.md and .json")
    ap.add_argument("--quick", action="store_true", help="100 services, 3 rounds")
    args = ap.parse_args()

    sizes, rounds = ([100], 3) if args.quick else ([1000, 10000], 21)
    bench, lvsadm = os.path.join(args.bin, "bench"), os.path.join(args.bin, "lvsadm")
    work = R.tmpfs_dir()
    t0 = time.monotonic()
    results, errors = {}, []

    def log(msg):
        print(f"[exporter +{time.monotonic() - t0:.0f}s] {msg}", flush=True)

    for size in sizes:
        path = os.path.join(work, f"table-{size}.rules")
        text = R.generate(size)
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
        exp = R.Expected(path, text, size)
        R.fresh_namespace(False)
        R.must([bench, "restore", path])
        exp.check_table()
        log(f"{size} services x {R.DESTS}: table loaded and checked")
        servers = []
        try:
            servers.append(Server("lvsadm", [lvsadm, "exporter", "--listen", "127.0.0.1:0"]))
            servers.append(Server("node", [
                args.node_exporter, "--web.listen-address=127.0.0.1:9100",
                "--collector.disable-defaults", "--collector.ipvs"],
                "http://127.0.0.1:9100/metrics"))
            for s in servers:
                _, body = get(s.url)  # the warm-up, checked
                check(s.name, body, size)
                walls, cpu0 = [], cpu_seconds(s.proc.pid)
                for _ in range(rounds):
                    wall, body = get(s.url)
                    walls.append(wall)
                cpu = (cpu_seconds(s.proc.pid) - cpu0) / rounds
                row = {
                    "wall_ms": statistics.median(walls) * 1000,
                    "cpu_ms": cpu * 1000,
                    "bytes": len(body),
                    "samples": sum(1 for line in body.split("\n") if line and line[0] != "#"),
                }
                if s.name == "lvsadm":
                    spent = [line for line in body.split("\n")
                             if line.startswith("ipvs_scrape_duration_seconds ")]
                    row["own_ms"] = float(spent[0].split()[1]) * 1000
                results[f"{s.name} {size}"] = row
                log(f"{s.name} at {size}: {row}")
        except (R.Failed, OSError, subprocess.SubprocessError) as e:
            errors.append(f"{size}: {e}")
            log(f"FAILED at {size}: {e}")
        finally:
            for s in servers:
                s.stop()

    lines = [
        "| services x 4 | exporter | scrape (wall, median) | exporter CPU per scrape | answer | samples |",
        "|---|---|---|---|---|---|",
    ]
    for size in sizes:
        for name, label in (("lvsadm", "lvsadm exporter"), ("node", "node_exporter ipvs")):
            r = results.get(f"{name} {size}")
            if r:
                lines.append(f"| {size:,} | {label} | {r['wall_ms']:.0f} ms | {r['cpu_ms']:.0f} ms"
                             f" | {r['bytes'] / 1e6:.2f} MB | {r['samples']:,} |")
        a, b = results.get(f"lvsadm {size}"), results.get(f"node {size}")
        if a and b:
            lines.append(f"| {size:,} | ratio lvsadm / node | {a['wall_ms'] / b['wall_ms']:.2f} | "
                         f"{a['cpu_ms'] / max(b['cpu_ms'], 1e-9):.2f} | | |")
    kernel = platform.release()
    md = [f"# Exporter scrape benchmark (kernel {kernel}, {rounds} rounds)", ""] + lines
    if errors:
        md += ["", "Errors:"] + [f"- {e}" for e in errors]
    report = "\n".join(md) + "\n"
    print(report)
    with open(os.path.join(args.out, "results-exporter.md"), "w", encoding="utf-8") as f:
        f.write(report)
    with open(os.path.join(args.out, "results-exporter.json"), "w", encoding="utf-8") as f:
        json.dump({"kernel": kernel, "rounds": rounds, "results": results, "errors": errors}, f,
                  indent=1)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
