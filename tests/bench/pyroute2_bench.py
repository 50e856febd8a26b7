"""pyroute2's side of the benchmark (tests/harness.sh bench, driven by tests/bench/run.py).

pyroute2's IPVS API (``from pyroute2 import IPVS, IPVSService, IPVSDest``) has no bulk call, so
the natural program is a loop: one request per service and per real server. One operation per
process; prints one line of key=value pairs and exits non-zero if anything failed.

    pyroute2_bench.py restore FILE  read the rule file (the benchmark's subset: -A/-a with -t, -s,
                                    -r, -m/-g/-i, -w) and add each service and real server
    pyroute2_bench.py dump          every service, then every service's real servers, with counters
"""

import socket
import sys
import time

T0 = time.perf_counter()
from pyroute2 import IPVS, IPVSDest, IPVSService  # noqa: E402  (timed: part of the program's cost)

FORWARD = {"-m": 0, "-i": 2, "-g": 3}  # IP_VS_CONN_F_MASQ, _TUNNEL, _DROUTE


def endpoint(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


def restore(path: str) -> str:
    services: dict[str, IPVSService] = {}
    ops = 0
    with open(path, encoding="utf-8") as f, IPVS() as ipvs:
        for lineno, line in enumerate(f, 1):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            opts = {"-s": "wlc", "-w": "1", "fwd": "-g"}
            i = 1
            while i < len(words):
                w = words[i]
                if w in ("-t", "-s", "-r", "-w"):
                    opts[w] = words[i + 1]
                    i += 2
                elif w in FORWARD:
                    opts["fwd"] = w
                    i += 1
                else:
                    raise SystemExit(f"pyroute2_bench: {path}:{lineno}: not in the benchmark's subset")
            if words[0] == "-A":
                addr, port = endpoint(opts["-t"])
                svc = IPVSService(addr=addr, port=port, protocol=socket.IPPROTO_TCP, sched_name=opts["-s"])
                ipvs.service("add", service=svc)
                services[opts["-t"]] = svc
            elif words[0] == "-a":
                addr, port = endpoint(opts["-r"])
                dest = IPVSDest(addr=addr, port=port, fwd_method=FORWARD[opts["fwd"]], weight=int(opts["-w"]))
                ipvs.dest("add", service=services[opts["-t"]], dest=dest)
            else:
                raise SystemExit(f"pyroute2_bench: {path}:{lineno}: not in the benchmark's subset")
            ops += 1
    return f"ops={ops}"


def conns(msg, attr: str, prefix: str) -> int:
    stats = msg.get_attr(attr).get_attr(prefix + "STATS64")
    return stats.get_attr("IPVS_STATS_ATTR_CONNS") if stats is not None else 0


def dump() -> str:
    objects = total = 0
    with IPVS() as ipvs:
        for s in ipvs.service("dump"):
            service = IPVSService.from_message(s)
            objects += 1
            total += conns(s, "IPVS_CMD_ATTR_SERVICE", "IPVS_SVC_ATTR_")
            for d in ipvs.dest("dump", service=service):
                objects += 1
                total += conns(d, "IPVS_CMD_ATTR_DEST", "IPVS_DEST_ATTR_")
    return f"objects={objects} conns={total}"


def main() -> None:
    args = sys.argv[1:]
    import_ms = (time.perf_counter() - T0) * 1000
    t = time.perf_counter()
    if args[:1] == ["restore"] and len(args) == 2:
        line = restore(args[1])
    elif args == ["dump"]:
        line = dump()
    else:
        raise SystemExit("usage: pyroute2_bench.py restore FILE | dump")
    op_ms = (time.perf_counter() - t) * 1000
    print(f"{line} import_ms={import_ms:.1f} op_ms={op_ms:.1f}")


if __name__ == "__main__":
    main()
