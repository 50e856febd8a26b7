"""Kernel tests: every operation of lvs.Ipvs and every error, against the real IPVS.

Each test runs in its own fresh network namespace (tests/harness.sh test), so the table starts
empty.
"""

import ipaddress
import pickle
import subprocess
import sys
import threading
import time
from typing import List, cast

import pytest

import lvs

from conftest import ipvsadm, run

pytestmark = pytest.mark.kernel

SVC = lvs.Service("10.0.0.13", 80, scheduler="rr")
REALS = [lvs.Destination(f"192.168.8.{i}", 80, forward="masq") for i in (14, 15, 16)]


def test_info_features_and_context_manager() -> None:
    with lvs.Ipvs() as ipvs:
        info = ipvs.info()
        assert info.version == "1.2.1" and info.version_info == (1, 2, 1)
        # 6.x: a fixed connection table (4096 buckets in Debian's kernels); 7.x: one per
        # namespace, resizable, reported as 0 until the first service exists.
        ipvs.add_service(SVC)
        sized = ipvs.info().conn_table_size
        assert sized > 0 and info.conn_table_size in (0, sized)
        f = ipvs.features()
        assert f.ipvs_version == "1.2.1" and f.stats64 and f.addr_family
        assert f.kernel_release
        assert not ipvs.closed
    assert ipvs.closed
    with pytest.raises(lvs.LvsError, match="closed"):
        ipvs.info()
    assert "closed" in repr(ipvs)


def test_services_add_get_edit_delete(ipvs: lvs.Ipvs) -> None:
    assert ipvs.services() == []
    ipvs.add_service(SVC)
    [entry] = ipvs.services()
    svc, state = entry.service, entry.state
    assert svc == SVC and isinstance(svc.address, ipaddress.IPv4Address)
    assert state.stats == lvs.Stats()
    # An entry still unpacks as the (service, state) pair the reads used to return.
    assert list(entry) == [svc, state]
    got = ipvs.service(lvs.Service("10.0.0.13", 80))
    assert got == entry and got is not None and got.service == SVC
    assert ipvs.service(lvs.Service("10.0.0.13", 81)) is None
    changed = SVC.replace(scheduler="wrr", persistence=300, netmask="255.255.255.0")
    ipvs.edit_service(changed)
    assert [e.service for e in ipvs.services()] == [changed]
    ipvs.delete_service(SVC)
    assert ipvs.services() == []


def test_service_kinds_round_trip(ipvs: lvs.Ipvs) -> None:
    services = [
        lvs.Service("10.0.0.1", 53, "udp", scheduler="sh", sched_flags="sh-fallback,sh-port", ops=True),
        lvs.Service("10.0.0.1", 5060, "sctp", scheduler="lc"),
        lvs.Service("2001:db8::1", 443, scheduler="mh", sched_flags=["mh-port"]),
        lvs.Service(fwmark=1, scheduler="wlc", persistence=60, netmask="255.255.0.0"),
        lvs.Service(fwmark=2, family="inet6", persistence=30, netmask=64),
        lvs.Service("10.0.0.2", 0, persistence=360),
        lvs.Service("10.0.0.3", 5060, "udp", persistence=60, pe="sip"),
    ]
    for s in services:
        ipvs.add_service(s)
    assert {e.service for e in ipvs.services()} == set(services)


def test_destinations_add_get_edit_delete(ipvs: lvs.Ipvs) -> None:
    ipvs.add_service(SVC)
    for d in REALS:
        ipvs.add_destination(SVC, d)
    got = ipvs.destinations(SVC)
    assert {e.destination for e in got} == set(REALS)
    assert all(e.state.active_conns == 0 and e.state.stats == lvs.Stats() for e in got)
    assert [list(e) for e in got] == [[e.destination, e.state] for e in got]
    heavier = REALS[0].replace(weight=3, upper_threshold=100, lower_threshold=50)
    ipvs.edit_destination(SVC, heavier)
    assert heavier in {e.destination for e in ipvs.destinations(SVC)}
    ipvs.delete_destination(SVC, REALS[1])
    ipvs.delete_destination(SVC, ("192.168.8.16", 80))
    assert [e.destination for e in ipvs.destinations(SVC)] == [heavier]


def test_tunnel_and_mixed_family_destinations(ipvs: lvs.Ipvs) -> None:
    ipvs.add_service(SVC)
    tunnels = [
        lvs.Destination("192.168.8.20", 80, forward="tunnel"),
        lvs.Destination("192.168.8.21", 80, forward="tunnel", tun_type="gue", tun_port=6080,
                        tun_csum="remcsum"),
        lvs.Destination("192.168.8.22", 80, forward="tunnel", tun_type="gre", tun_csum="csum"),
        lvs.Destination("2001:db8::22", 80, forward="tunnel"),
        lvs.Destination("192.168.8.23", 80, forward="route", weight=0),
    ]
    for d in tunnels:
        ipvs.add_destination(SVC, d)
    assert {e.destination for e in ipvs.destinations(SVC)} == set(tunnels)


def test_zero_and_flush(ipvs: lvs.Ipvs) -> None:
    ipvs.add_service(SVC)
    ipvs.add_service(SVC.replace(port=81))
    ipvs.zero(SVC)
    ipvs.zero()
    with pytest.raises(lvs.NoSuchService):
        ipvs.zero(SVC.replace(port=82))
    ipvs.flush()
    assert ipvs.services() == []


def test_timeouts(ipvs: lvs.Ipvs) -> None:
    assert ipvs.timeouts() == lvs.Timeouts(900, 120, 300)
    ipvs.set_timeouts(lvs.Timeouts(tcp=1000, udp=50))
    assert ipvs.timeouts() == lvs.Timeouts(1000, 120, 50)
    assert "1000 120 50" in ipvsadm("-L", "--timeout")


def test_daemons(ipvs: lvs.Ipvs) -> None:
    assert ipvs.daemons() == []
    ipvs.start_daemon(lvs.Daemon("master", "lo", 7))
    [d] = ipvs.daemons()
    assert (d.role, d.interface, d.syncid) == ("master", "lo", 7)
    with pytest.raises(lvs.DaemonExists):
        ipvs.start_daemon(lvs.Daemon("master", "lo", 8))
    ipvs.stop_daemon("master")
    assert ipvs.daemons() == []
    with pytest.raises(lvs.NoSuchDaemon):
        ipvs.stop_daemon("master")


def test_execute_and_execute_unchecked(ipvs: lvs.Ipvs) -> None:
    ipvs.execute(lvs.Command.add_service(SVC))
    ipvs.execute(lvs.Command.add_destination(SVC, REALS[0]))
    assert ipvs.snapshot().services() == lvs.Ruleset([lvs.VirtualService(SVC, [REALS[0]])])
    # lvs's own check refuses a negative weight before sending; unchecked, the kernel refuses
    # it itself (ERANGE).
    negative = lvs.Command.add_destination(SVC, REALS[1].replace(weight=-1))
    with pytest.raises(lvs.InvalidArgument) as checked:
        ipvs.execute(negative)
    assert checked.value.errno is None and "weight" in str(checked.value)
    with pytest.raises(lvs.InvalidArgument) as raw:
        ipvs.execute_unchecked(negative)
    assert raw.value.errno == 34 and raw.value.operation == "add destination"
    ipvs.execute(lvs.Command.flush())
    assert ipvs.services() == []


def test_batch_reports_each_result(ipvs: lvs.Ipvs) -> None:
    commands = [lvs.Command.add_service(SVC)]
    commands += [lvs.Command.add_destination(SVC, d) for d in REALS]
    commands += [lvs.Command.add_service(SVC), lvs.Command.delete_service(SVC.replace(port=9))]
    results = ipvs.batch(commands)
    assert results[:4] == [None, None, None, None]
    assert isinstance(results[4], lvs.ServiceExists)
    assert isinstance(results[5], lvs.NoSuchService)
    many = [lvs.Command.add_service(lvs.Service(f"10.1.{i // 250}.{i % 250 + 1}", 80))
            for i in range(1000)]
    assert ipvs.batch(many) == [None] * 1000
    assert len(ipvs.services()) == 1001
    assert ipvs.batch([]) == []


def test_snapshot(ipvs: lvs.Ipvs) -> None:
    ipvs.add_service(SVC)
    for d in REALS:
        ipvs.add_destination(SVC, d)
    ipvs.add_service(lvs.Service(fwmark=5))
    snap = ipvs.snapshot()
    assert snap.ruleset.timeouts == lvs.Timeouts(900, 120, 300)
    assert snap.ruleset.daemons == ()
    assert snap.services() == lvs.Ruleset([lvs.VirtualService(SVC, REALS),
                                          lvs.VirtualService(lvs.Service(fwmark=5))])
    assert snap.service_state[SVC].stats.conns == 0
    assert set(snap.destination_state) == {(SVC, d) for d in REALS}
    assert "2 services" in repr(snap)
    # entries(): the same services as ruleset, in its order, each with the same states.
    entries = snap.entries()
    assert [e.service for e in entries] == [vs.service for vs in snap.ruleset.services]
    assert len(entries) == 2
    for entry, vs in zip(entries, snap.ruleset.services):
        assert entry.state == snap.service_state[vs.service]
        assert [d.destination for d in entry.destinations] == list(vs.destinations)
        for de in entry.destinations:
            assert de.state == snap.destination_state[(vs.service, de.destination)]
    by_service = {e.service: e for e in entries}
    assert {d.destination for d in by_service[SVC].destinations} == set(REALS)
    assert by_service[lvs.Service(fwmark=5)].destinations == ()
    # Unpacked as the triple, and a value: it pickles.
    service, state, destinations = by_service[SVC]
    assert (service, state) == (SVC, snap.service_state[SVC])
    assert destinations == by_service[SVC].destinations
    assert pickle.loads(pickle.dumps(entries)) == entries


def test_errors_are_typed(ipvs: lvs.Ipvs) -> None:
    with pytest.raises(lvs.NoSuchService) as e:
        ipvs.edit_service(SVC)
    assert e.value.errno == 3 and e.value.operation == "edit service"
    assert "No such service" in str(e.value)
    with pytest.raises(lvs.NoSuchService):
        ipvs.delete_service(SVC)
    with pytest.raises(lvs.NoSuchService):
        ipvs.destinations(SVC)
    with pytest.raises(lvs.NoSuchService):
        ipvs.add_destination(SVC, REALS[0])
    ipvs.add_service(SVC)
    with pytest.raises(lvs.ServiceExists):
        ipvs.add_service(SVC)
    with pytest.raises(lvs.SchedulerNotFound):
        # A name outside mainline Linux's schedulers is typed with a cast (the stubs' Literal).
        ipvs.add_service(lvs.Service("10.0.0.14", 80, scheduler=cast(lvs.SchedulerName, "nosuch")))
    with pytest.raises(lvs.NoSuchDestination):
        ipvs.edit_destination(SVC, REALS[0])
    with pytest.raises(lvs.NoSuchDestination):
        ipvs.delete_destination(SVC, REALS[0])
    ipvs.add_destination(SVC, REALS[0])
    with pytest.raises(lvs.DestinationExists):
        ipvs.add_destination(SVC, REALS[0])
    with pytest.raises(lvs.InvalidArgument):
        ipvs.add_destination(SVC, REALS[1].replace(weight=-1))
    with pytest.raises(lvs.InvalidArgument):
        ipvs.add_destination(SVC, lvs.Destination("2001:db8::9", 80, forward="masq"))
    with pytest.raises(lvs.InvalidArgument):
        ipvs.add_destination(SVC, lvs.Destination("224.0.0.1", 80))
    with pytest.raises(TypeError):
        ipvs.add_service("tcp 10.0.0.13:80")  # type: ignore[arg-type]


def test_permission_denied_without_cap_net_admin() -> None:
    # setpriv drops every capability, as an unprivileged user would have none.
    code = "import lvs\ntry:\n lvs.Ipvs().services()\nexcept lvs.PermissionDenied as e:\n print('denied', e.errno)\n"
    done = subprocess.run(
        ["setpriv", "--inh-caps=-all", "--bounding-set=-all", sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60,
    )
    assert done.stdout.strip() == "denied 1", done.stdout + done.stderr


def test_netns_handle_sees_only_its_namespace(netns: List[str]) -> None:
    run("ip", "netns", "add", "lvs-py-a")
    netns.append("lvs-py-a")
    run("ip", "-n", "lvs-py-a", "link", "set", "lo", "up")
    with lvs.Ipvs(netns="lvs-py-a") as inside, lvs.Ipvs() as here:
        inside.add_service(SVC)
        assert [s for s, _ in inside.services()] == [SVC]
        assert here.services() == []
        assert "lvs-py-a" in repr(inside)
    out = subprocess.run(["ip", "netns", "exec", "lvs-py-a", "ipvsadm", "-Sn"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert out == "-A -t 10.0.0.13:80 -s rr\n"
    with lvs.Ipvs(netns="/run/netns/lvs-py-a") as by_path:
        assert len(by_path.services()) == 1
    with pytest.raises(lvs.LvsError, match="lvs-py-nosuch"):
        lvs.Ipvs(netns="lvs-py-nosuch")


SERVER_PY = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80))
s.listen()
c, _ = s.accept()
c.sendall(b"hi")
c.close()
"""

CLIENT_PY = """
import socket, time
deadline = time.monotonic() + 30
while True:
    try:
        c = socket.create_connection(("10.0.0.13", 80), timeout=5)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.5)
print(c.recv(10).decode())
c.close()
"""


def test_connections_through_a_nat_service(netns: List[str]) -> None:
    """client 10.0.0.12 -- 10.0.0.13 director (this namespace) 192.168.8.1 -- 192.168.8.14 real:
    a real connection through a NAT service shows in connections() and in the counters."""
    for name in ("lvs-py-client", "lvs-py-real"):
        run("ip", "netns", "add", name)
        netns.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")
    for dev, peer, ns, here, there in (
        ("lvs-c0", "eth0", "lvs-py-client", "10.0.0.13/24", "10.0.0.12/24"),
        ("lvs-r0", "eth0", "lvs-py-real", "192.168.8.1/24", "192.168.8.14/24"),
    ):
        run("ip", "link", "add", dev, "type", "veth", "peer", "name", peer, "netns", ns)
        run("ip", "addr", "add", here, "dev", dev)
        run("ip", "link", "set", dev, "up")
        run("ip", "-n", ns, "addr", "add", there, "dev", peer)
        run("ip", "-n", ns, "link", "set", peer, "up")
    run("ip", "-n", "lvs-py-real", "route", "add", "default", "via", "192.168.8.1")
    run("sysctl", "-qw", "net.ipv4.ip_forward=1")
    server = subprocess.Popen(["ip", "netns", "exec", "lvs-py-real", "python3", "-c", SERVER_PY])
    try:
        with lvs.Ipvs() as ipvs:
            ipvs.add_service(SVC)
            ipvs.add_destination(SVC, REALS[0])
            client = subprocess.run(
                ["ip", "netns", "exec", "lvs-py-client", "python3", "-c", CLIENT_PY],
                capture_output=True, text=True, timeout=60,
            )
            assert client.stdout.strip() == "hi", client.stderr
            conns = ipvs.connections()
            assert any(c.client_address == ipaddress.ip_address("10.0.0.12")
                       and c.virtual_address == ipaddress.ip_address("10.0.0.13")
                       and c.virtual_port == 80
                       and c.destination_address == ipaddress.ip_address("192.168.8.14")
                       and c.destination_port == 80
                       and c.protocol == "tcp" for c in conns), conns
            # The kernel folds its per-CPU counters into the totals every two seconds.
            deadline = time.monotonic() + 10
            [entry] = ipvs.services()
            while entry.state.stats.conns < 1 and time.monotonic() < deadline:
                time.sleep(0.5)
                [entry] = ipvs.services()
            assert entry.state.stats.conns == 1 and entry.state.stats.inpkts > 0
            [real] = ipvs.destinations(SVC)
            assert real.state.stats.conns == 1
    finally:
        server.kill()
        server.wait(timeout=30)


def test_gil_is_released_during_kernel_io(ipvs: lvs.Ipvs) -> None:
    """A Python thread keeps running while another waits in a long batch."""
    commands = [lvs.Command.add_service(lvs.Service(f"10.2.{i // 250}.{i % 250 + 1}", 80))
                for i in range(3000)]
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks
        results = ipvs.batch(commands)
        during = ticks - before
    finally:
        done.set()
        t.join()
    assert results == [None] * 3000
    assert during > 5, f"the other thread ran {during} times during the batch"


def test_declarative_apply_plan_and_execute_plan(ipvs: lvs.Ipvs) -> None:
    desired = lvs.Ruleset([lvs.VirtualService(SVC, REALS)])
    assert [str(c) for c in ipvs.plan(desired).commands][:1] == ["-A -t 10.0.0.13:80 -s rr"]
    dry = ipvs.apply(desired, dry_run=True)
    assert len(dry.not_tried) == 4 and ipvs.services() == []
    report = ipvs.apply(desired)
    assert report and report.is_success and len(report.applied) == 4 and report.failed == []
    assert ipvs.snapshot().services() == desired
    assert len(ipvs.plan(desired)) == 0
    again = ipvs.apply(desired)
    assert again.is_success and len(again.plan) == 0
    # Someone deletes the service behind the plan's back: the step fails, with the exception.
    plan = ipvs.plan(lvs.Ruleset([lvs.VirtualService(SVC.replace(scheduler="wlc"), REALS)]))
    ipvs.delete_service(SVC)
    stale = ipvs.execute_plan(plan)
    assert not stale and len(stale.failed) == 1
    command, error = stale.failed[0]
    assert str(command) == "-E -t 10.0.0.13:80 -s wlc" and isinstance(error, lvs.NoSuchService)
    assert "FAILED" in str(stale)
    # Other services are deleted unless keep_unlisted.
    ipvs.add_service(lvs.Service(fwmark=4))
    assert ipvs.apply(desired, keep_unlisted=True).is_success
    assert len(ipvs.services()) == 2
    assert ipvs.apply(desired).is_success
    assert [e.service for e in ipvs.services()] == [SVC]
    # apply() is for the desired state only: one Command is refused, naming execute().
    with pytest.raises(TypeError, match=r"execute\(\)"):
        ipvs.apply(lvs.Command.flush())  # type: ignore[arg-type]
    assert len(ipvs.services()) == 1


def test_seed_nat_example() -> None:
    """examples/python/seed_nat.py does the tutorial's practice and prints what ipvsadm would."""
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "python" / "seed_nat.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "-A -t 10.0.0.13:80 -s wrr\n"
        "-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3\n"
        "-a -t 10.0.0.13:80 -r 192.168.8.15:80 -m -w 1\n"
        "-a -t 10.0.0.13:80 -r 192.168.8.16:80 -m -w 1\n"
    ), done.stdout
    assert "Service(tcp 10.0.0.13:80, scheduler='wrr'): 0 conns" in done.stdout
    assert ipvsadm("-Sn") == done.stdout.split("Service(")[0]


def test_reconciler_sends_the_change_and_repairs_drift() -> None:
    reconciler = lvs.Reconciler(reply_timeout=3.0, resync_interval=600)
    assert reconciler.reply_timeout == 3.0 and reconciler.resync_interval == 600.0
    desired = lvs.Ruleset([lvs.VirtualService(SVC, REALS)])
    report = reconciler.apply(desired)
    assert report.is_success and len(report.applied) == 4 and report.drifted == []
    assert reconciler.model is not None
    assert lvs.Ruleset(list(reconciler.model.services)) == desired
    # Behind its back: the real server it is about to edit goes. The edit is answered "no
    # such destination", the service read again, the real server added back as desired.
    ipvsadm("-d", "-t", "10.0.0.13:80", "-r", "192.168.8.14:80")
    heavier = lvs.Ruleset(
        [lvs.VirtualService(SVC, [REALS[0].replace(weight=7), *REALS[1:]])]
    )
    repaired = reconciler.apply(heavier)
    assert repaired.is_success, str(repaired)
    [(command, error)] = repaired.drifted
    assert str(command) == "-e -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 7"
    assert isinstance(error, lvs.NoSuchDestination)
    assert "-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 7" in str(repaired)
    with lvs.Ipvs() as ipvs:
        assert ipvs.snapshot().services() == heavier
    # A dict with a misspelt key is refused before anything reaches the kernel.
    with pytest.raises(lvs.InvalidArgument) as bad:
        lvs.Ruleset.from_dict({"servces": []})
    assert bad.value.path == "servces"
    reconciler.resync()
    assert len(reconciler.apply(heavier).plan) == 0
    with pytest.raises(lvs.InvalidArgument):
        reconciler.reply_timeout = 0


def test_kernel_handles_refuse_pickle_and_copy_and_what_they_read_pickles() -> None:
    import copy
    import pickle

    reconciler = lvs.Reconciler()
    with lvs.Ipvs() as ipvs:
        ipvs.add_service(SVC)
        ipvs.add_destination(SVC, REALS[0])
        for handle, name in ((ipvs, "Ipvs"), (reconciler, "Reconciler")):
            for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
                with pytest.raises(TypeError, match=f"cannot pickle or copy lvs.{name}: it holds a netlink socket"):
                    attempt(handle)
        # What the kernel gave back is values: they pickle, equal to the originals.
        features = ipvs.features()
        [entry] = ipvs.services()
        [real] = ipvs.destinations(entry.service)
        svc, dest = entry.service, real.destination
        snap = ipvs.snapshot()
        read = [ipvs.info(), features, entry, entry.state, real, real.state, snap.ruleset,
                snap.service_state]
        assert pickle.loads(pickle.dumps(read)) == read
        assert (svc, dest) == (SVC, REALS[0])
        # The handle still works after the refusals.
        assert ipvs.service(SVC) is not None
