"""lvs-py's side of the benchmark (tests/harness.sh bench, driven by tests/bench/run.py).

One operation per process, with the binding's own bulk API; prints one line of key=value pairs
and exits non-zero if anything failed.

    lvspy_bench.py restore FILE     lvs.parse_rules(text), then one Ipvs.batch of the commands
    lvspy_bench.py one-by-one FILE  lvs.parse_rules(text), then Ipvs.apply of each command
    lvspy_bench.py snapshot         Ipvs.snapshot(), every service and real server with its counters
    lvspy_bench.py apply FILE       Ipvs.apply(Ruleset.parse(text)): the fewest changes, no flush
    lvspy_bench.py reconcile FROM TO ROUNDS [partial]
                                    a lvs.Reconciler on a kernel holding FROM applies TO, FROM, TO,
                                    ... ROUNDS times; apply_ms: the median apply (as bench.rs's)
"""

import sys
import time

T0 = time.perf_counter()
import lvs  # noqa: E402  (timed: the import is part of what the program pays)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def restore(path: str, one_by_one: bool) -> str:
    commands = lvs.parse_rules(read(path))
    with lvs.Ipvs() as ipvs:
        if one_by_one:
            for command in commands:
                ipvs.execute(command)
            failed = 0
        else:
            errors = [e for e in ipvs.batch(commands) if e is not None]
            if errors:
                raise SystemExit(f"lvspy_bench: {len(errors)} of {len(commands)} failed, first: {errors[0]}")
            failed = len(errors)
    return f"ops={len(commands)} failed={failed}"


def snapshot() -> str:
    with lvs.Ipvs() as ipvs:
        snap = ipvs.snapshot()
    objects = snap.ruleset.object_count()
    service_state = snap.service_state
    destination_state = snap.destination_state
    conns = sum(s.stats.conns for s in service_state.values())
    conns += sum(d.stats.conns for d in destination_state.values())
    return f"objects={objects} stats={len(service_state) + len(destination_state)} conns={conns}"


def apply(path: str) -> str:
    desired = lvs.Ruleset.parse(read(path))
    with lvs.Ipvs() as ipvs:
        report = ipvs.apply(desired)
    if not report.is_success:
        raise SystemExit(f"lvspy_bench: apply failed: {report.failed[:1]}")
    return f"changes={len(report.plan)}"


def reconcile(old: str, new: str, rounds: int, partial: bool) -> str:
    a, b = lvs.Ruleset.parse(read(old)), lvs.Ruleset.parse(read(new))
    if partial:
        # Only the services that differ, as a health checker that changed one would send.
        sa, sb = set(a.services), set(b.services)
        a, b = (lvs.Ruleset([vs for vs in a.services if vs not in sb]),
                lvs.Ruleset([vs for vs in b.services if vs not in sa]))
    t = time.perf_counter()
    reconciler = lvs.Reconciler()
    read_ms = (time.perf_counter() - t) * 1000
    times, changes = [], []
    for i in range(rounds):
        t = time.perf_counter()
        report = reconciler.apply(b if i % 2 == 0 else a, keep_unlisted=partial)
        times.append((time.perf_counter() - t) * 1000)
        if not report.is_success:
            raise SystemExit(f"lvspy_bench: apply {i} failed: {report.failed[:1]}")
        changes.append(len(report.plan))
    first = times[0]
    times.sort()
    return (f"changes={changes[0]} rounds={rounds} partial={str(partial).lower()} "
            f"read_ms={read_ms:.1f} first_ms={first:.3f} apply_ms={times[len(times) // 2]:.3f}")


def main() -> None:
    args = sys.argv[1:]
    import_ms = (time.perf_counter() - T0) * 1000
    t = time.perf_counter()
    if args[:1] == ["restore"] and len(args) == 2:
        line = restore(args[1], False)
    elif args[:1] == ["one-by-one"] and len(args) == 2:
        line = restore(args[1], True)
    elif args == ["snapshot"]:
        line = snapshot()
    elif args[:1] == ["apply"] and len(args) == 2:
        line = apply(args[1])
    elif args[:1] == ["reconcile"] and len(args) in (4, 5) and args[4:] in ([], ["partial"]):
        line = reconcile(args[1], args[2], int(args[3]), args[4:] == ["partial"])
    else:
        raise SystemExit("usage: lvspy_bench.py restore FILE | one-by-one FILE | snapshot "
                         "| apply FILE | reconcile FROM TO ROUNDS [partial]")
    op_ms = (time.perf_counter() - t) * 1000
    print(f"{line} import_ms={import_ms:.1f} op_ms={op_ms:.1f}")


if __name__ == "__main__":
    main()
