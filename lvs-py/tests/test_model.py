"""Pure tests (no kernel): value objects, rule files, JSON, exceptions."""

import ipaddress
import json
import pickle
from typing import Any, Dict, List

import pytest

import lvs

SEED = """\
-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15:80 -m -w 1
-a -t 10.0.0.13:80 -r 192.168.8.16:80 -m -w 1
"""


def test_service_accepts_strings_and_ipaddress_and_returns_ipaddress() -> None:
    a = lvs.Service("10.0.0.13", 80, scheduler="rr")
    b = lvs.Service(ipaddress.ip_address("10.0.0.13"), 80, "tcp", scheduler="rr")
    c = lvs.Service(address="10.0.0.13", port=80, protocol=6, scheduler="rr")
    assert a == b == c
    assert hash(a) == hash(b) == hash(c)
    assert a.address == ipaddress.IPv4Address("10.0.0.13")
    assert isinstance(a.address, ipaddress.IPv4Address)
    assert (a.protocol, a.port, a.fwmark, a.family, a.scheduler) == ("tcp", 80, None, "inet", "rr")
    assert a.protocol_number == 6
    assert repr(a) == "Service(tcp 10.0.0.13:80, scheduler='rr')"
    v6 = lvs.Service("2001:db8::1", 53, "udp")
    assert isinstance(v6.address, ipaddress.IPv6Address)
    assert v6.family == "inet6"
    assert repr(v6) == "Service(udp [2001:db8::1]:53, scheduler='wlc')"


def test_service_defaults_and_options() -> None:
    s = lvs.Service("10.0.0.13", 0, persistence=360, netmask="255.255.255.0", pe="sip")
    assert s.scheduler == "wlc"
    assert s.persistence == 360
    assert s.netmask == ipaddress.IPv4Address("255.255.255.0")
    assert s.pe == "sip"
    assert repr(s) == (
        "Service(tcp 10.0.0.13:0, scheduler='wlc', persistence=360, "
        "netmask='255.255.255.0', pe='sip')"
    )
    host = lvs.Service("10.0.0.13", 80, persistence=10)
    assert host.netmask == ipaddress.IPv4Address("255.255.255.255")
    assert lvs.Service("10.0.0.13", 80).persistence is None
    assert lvs.Service("10.0.0.13", 80).netmask is None
    fw = lvs.Service(fwmark=7, family="inet6", scheduler="sh", sched_flags=["sh-fallback", "sh-port"],
                     persistence=30, netmask=64)
    assert (fw.fwmark, fw.address, fw.protocol, fw.family, fw.netmask) == (7, None, None, "inet6", 64)
    assert fw.sched_flags == ["sh-fallback", "sh-port"]
    assert repr(fw) == (
        "Service(fwmark 7 inet6, scheduler='sh', persistence=30, netmask=64, "
        "sched_flags='sh-fallback,sh-port')"
    )
    udp = lvs.Service("10.0.0.1", 53, "udp", ops=True)
    assert udp.ops and udp.flags == 0x4
    assert "ops=True" in repr(udp)


def test_service_replace_keeps_the_rest() -> None:
    s = lvs.Service("10.0.0.13", 80, scheduler="rr", persistence=60)
    t = s.replace(scheduler="wrr")
    assert t.scheduler == "wrr" and t.persistence == 60 and t.address == s.address
    assert s.scheduler == "rr"
    assert s.replace(persistence=None).netmask is None
    assert s.replace(fwmark=3).address is None
    with pytest.raises(TypeError):
        s.replace(colour="red")


def test_service_is_frozen_and_hashable() -> None:
    s = lvs.Service("10.0.0.13", 80)
    with pytest.raises(AttributeError):
        s.port = 81  # type: ignore[misc]
    assert {s: 1}[lvs.Service("10.0.0.13", 80)] == 1
    assert s != lvs.Service("10.0.0.13", 81)
    assert s != "tcp 10.0.0.13:80"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"address": "10.0.0.1", "fwmark": 1},
        {"address": "not an address"},
        {"address": "10.0.0.1", "protocol": "icmp"},
        {"address": "10.0.0.1", "netmask": "255.0.0.0"},
        {"address": "10.0.0.1", "persistence": 5, "netmask": "ffff::"},
        {"address": "10.0.0.1", "sched_flags": "nonsense"},
        {"address": "10.0.0.1", "scheduler": "rr", "sched_flags": "sh-port"},
        {"fwmark": 1, "family": "ipx"},
    ],
)
def test_service_bad_arguments_raise_value_errors(kwargs: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        lvs.Service(**kwargs)


def test_service_validate_follows_lvs_core() -> None:
    lvs.Service("10.0.0.13", 80).validate()
    with pytest.raises(lvs.InvalidArgument, match="Zero port"):
        lvs.Service("10.0.0.13", 0).validate()
    with pytest.raises(lvs.InvalidArgument, match="fwmark"):
        lvs.Service(fwmark=0).validate()


def test_destination() -> None:
    d = lvs.Destination("192.168.8.14", 80, forward="masq", weight=3)
    assert (d.address, d.port, d.forward, d.weight) == (
        ipaddress.IPv4Address("192.168.8.14"), 80, "masq", 3)
    assert (d.upper_threshold, d.lower_threshold, d.tun_type, d.tun_port, d.tun_csum) == (
        0, 0, None, 0, None)
    assert repr(d) == "Destination(192.168.8.14:80, forward='masq', weight=3)"
    assert lvs.Destination("192.168.8.14", 80).forward == "route"
    t = lvs.Destination("2001:db8::2", 80, forward="tunnel", tun_type="gue", tun_port=6080,
                        tun_csum="remcsum", upper_threshold=10, lower_threshold=5)
    assert (t.tun_type, t.tun_port, t.tun_csum) == ("gue", 6080, "remcsum")
    assert repr(t) == (
        "Destination([2001:db8::2]:80, forward='tunnel', weight=1, tun_type='gue', "
        "tun_port=6080, tun_csum='remcsum', upper_threshold=10, lower_threshold=5)"
    )
    assert lvs.Destination("10.0.0.2", 80, forward="tunnel").tun_type == "ipip"
    assert d.replace(weight=0).weight == 0 and d.weight == 3
    assert d == lvs.Destination(ipaddress.ip_address("192.168.8.14"), 80, forward="masq", weight=3)
    assert len({d, d.replace(weight=3), d.replace(weight=1)}) == 2
    refused: List[Dict[str, Any]] = [
        {"forward": "teleport"}, {"tun_type": "gue"}, {"forward": "tunnel", "tun_csum": "x"}]
    for bad in refused:
        with pytest.raises(lvs.InvalidArgument):
            lvs.Destination("10.0.0.2", 80, **bad)


def test_ruleset_parse_print_round_trip() -> None:
    r = lvs.Ruleset.parse(SEED)
    assert str(r) == SEED
    assert len(r) == 1 and r.object_count() == 4
    vs = r.services[0]
    assert vs.service == lvs.Service("10.0.0.13", 80, scheduler="wrr")
    assert sorted(d.weight for d in vs.destinations) == [1, 1, 3]
    assert repr(r) == "Ruleset(1 services, 3 destinations)"
    # Equality ignores order; hashing agrees.
    reordered = lvs.Ruleset([lvs.VirtualService(vs.service, reversed(vs.destinations))])
    assert reordered == r and hash(reordered) == hash(r)
    assert r.service(lvs.Service("10.0.0.13", 80)) == vs
    assert r.service(lvs.Service("10.0.0.14", 80)) is None
    assert lvs.Ruleset.parse(str(r)) == r


def test_virtual_service_equality_ignores_order_not_count() -> None:
    service = lvs.Service("10.0.0.1", 80)
    a, b = lvs.Destination("10.0.0.2", 80), lvs.Destination("10.0.0.3", 80)
    vs = lvs.VirtualService(service, [a, b])
    assert vs == lvs.VirtualService(service, [b, a])
    assert hash(vs) == hash(lvs.VirtualService(service, [b, a]))
    assert vs != lvs.VirtualService(service, [a, lvs.Destination("10.0.0.3", 80, weight=2)])
    assert lvs.VirtualService(service, [a, a, b]) != lvs.VirtualService(service, [a, b, b])
    assert lvs.VirtualService(service, [a, b, b]) != lvs.VirtualService(service, [a, a, b])


def test_ruleset_lossless_keeps_thresholds() -> None:
    r = lvs.Ruleset([lvs.VirtualService(
        lvs.Service("10.0.0.1", 80),
        [lvs.Destination("10.0.0.2", 80, upper_threshold=10, lower_threshold=2)],
    )])
    assert "-x 10 -y 2" in r.to_rules(lossless=True)
    assert "-x" not in lvs.Ruleset.parse(r.to_rules(lossless=False)).to_rules(lossless=True)


def test_ruleset_timeouts_and_daemons() -> None:
    r = lvs.Ruleset([lvs.Service("10.0.0.1", 80)], timeouts=lvs.Timeouts(900, 120, 300),
                    daemons=[lvs.Daemon("master", "eth0", 3)])
    assert r.timeouts == lvs.Timeouts(tcp=900, tcp_fin=120, udp=300)
    assert r.daemons == (lvs.Daemon("master", "eth0", 3),)
    assert r.services[0].destinations == ()
    assert lvs.Ruleset.from_dict(r.to_dict()) == r


def test_parse_error_has_line_and_column() -> None:
    with pytest.raises(lvs.ParseError) as e:
        lvs.Ruleset.parse("-A -t 10.0.0.13:80 -s rr\n\n-a -t 10.0.0.13:80 -r 1.2.3.4 --bogus\n")
    assert (e.value.line, e.value.column) == (3, 31)
    assert "unknown option" in str(e.value)
    assert isinstance(e.value, lvs.LvsError) and isinstance(e.value, ValueError)
    assert e.value.errno is None
    with pytest.raises(lvs.ParseError) as refused:
        lvs.Ruleset.parse("-a -t 10.0.0.13:80 -r 192.168.8.14\n")
    assert (refused.value.line, refused.value.column) == (1, 1)
    assert refused.value.errno == 3 and refused.value.operation == "add destination"
    with pytest.raises(lvs.ParseError):
        lvs.Ruleset.parse("-L -n\n")


def test_applied_simulates_the_kernel() -> None:
    svc = lvs.Service("10.0.0.13", 80)
    r = lvs.Ruleset().executed(lvs.Command.add_service(svc))
    assert r.service(svc) is not None
    with pytest.raises(lvs.ServiceExists):
        r.executed(lvs.Command.add_service(svc))
    with pytest.raises(lvs.NoSuchService):
        lvs.Ruleset().executed(lvs.Command.delete_service(svc))
    with pytest.raises(lvs.NoSuchDestination):
        r.executed(lvs.Command.delete_destination(svc, ("10.0.0.2", 80)))


def test_commands() -> None:
    svc = lvs.Service("10.0.0.13", 80, scheduler="rr")
    d = lvs.Destination("192.168.8.14", 80, forward="masq")
    cases = [
        (lvs.Command.add_service(svc), "-A -t 10.0.0.13:80 -s rr", "add service"),
        (lvs.Command.edit_service(svc), "-E -t 10.0.0.13:80 -s rr", "edit service"),
        (lvs.Command.delete_service(svc), "-D -t 10.0.0.13:80", "delete service"),
        (lvs.Command.flush(), "-C", "flush"),
        (lvs.Command.add_destination(svc, d), "-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 1",
         "add destination"),
        (lvs.Command.edit_destination(svc, d), "-e -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 1",
         "edit destination"),
        (lvs.Command.delete_destination(svc, d), "-d -t 10.0.0.13:80 -r 192.168.8.14:80",
         "delete destination"),
        (lvs.Command.zero(), "-Z", "zero"),
        (lvs.Command.zero(svc), "-Z -t 10.0.0.13:80", "zero"),
        (lvs.Command.set_timeouts(lvs.Timeouts(1, 2, 3)), "--set 1 2 3", "set timeouts"),
        (lvs.Command.start_daemon(lvs.Daemon("backup", "lo", 9)),
         "--start-daemon backup --mcast-interface lo --syncid 9", "start daemon"),
        (lvs.Command.stop_daemon("backup"), "--stop-daemon backup", "stop daemon"),
    ]
    for command, line, operation in cases:
        assert str(command) == line
        assert command.operation == operation
        assert repr(command) == f"Command({line!r})"
        assert lvs.Command.parse(line) == command
        assert hash(lvs.Command.parse(line)) == hash(command)
        assert lvs.Command.from_dict(command.to_dict()) == command
    assert lvs.parse_rules(SEED)[0] == lvs.Command.add_service(svc.replace(scheduler="wrr"))
    assert len(lvs.parse_rules(SEED)) == 4
    with pytest.raises(lvs.ParseError):
        lvs.Command.parse("-A -t 10.0.0.13:80 -s")
    with pytest.raises(lvs.InvalidArgument):
        lvs.Command.stop_daemon("primary")  # type: ignore[arg-type]


def test_to_dict_from_dict_round_trips_through_json() -> None:
    values: List[Any] = [
        lvs.Service("10.0.0.13", 80, scheduler="rr", persistence=5),
        lvs.Service(fwmark=3, family="inet6"),
        lvs.Destination("2001:db8::2", 80, forward="tunnel", tun_type="gre", tun_csum="csum"),
        lvs.Ruleset.parse(SEED),
        lvs.Timeouts(900, 120, 300),
        lvs.Daemon("master", "eth0", 1, maxlen=1400, group="239.1.1.1", port=8848, ttl=2),
        lvs.Stats(conns=1, inbytes=2, outbps=3),
        lvs.Info(version="1.2.1", conn_table_size=4096),
    ]
    for v in values:
        data = json.loads(json.dumps(v.to_dict()))
        assert type(v).from_dict(data) == v, v
    assert lvs.Service("10.0.0.13", 80).to_dict() == {
        "key": {"inet": {"protocol": "tcp", "addr": "10.0.0.13:80"}},
        "scheduler": "wlc",
    }
    with pytest.raises(lvs.InvalidArgument):
        lvs.Service.from_dict({"key": "nonsense"})


def test_state_and_info_values() -> None:
    s = lvs.Stats(conns=5, inpkts=10)
    assert (s.conns, s.inpkts, s.outpkts) == (5, 10, 0)
    assert s == lvs.Stats(inpkts=10, conns=5) and hash(s) == hash(lvs.Stats(conns=5, inpkts=10))
    assert repr(s).startswith("Stats(conns=5, inpkts=10, outpkts=0")
    st = lvs.ServiceState(stats=s, internal_flags=2)
    assert st.stats == s and st.internal_flags == 2
    ds = lvs.DestinationState(active_conns=1, inactive_conns=2, persistent_conns=3)
    assert (ds.active_conns, ds.inactive_conns, ds.persistent_conns, ds.stats) == (1, 2, 3, lvs.Stats())
    # What Ipvs.services()/service()/destinations() return: named fields, and still the pair
    # when unpacked.
    svc = lvs.Service("10.0.0.13", 80)
    entry = lvs.ServiceEntry(svc, st)
    assert (entry.service, entry.state) == (svc, st)
    service, state = entry
    assert (service, state) == (svc, st)
    assert entry == lvs.ServiceEntry(svc, st) != lvs.ServiceEntry(svc, lvs.ServiceState())
    assert repr(entry) == f"ServiceEntry(service={svc!r}, state={st!r})"
    real = lvs.Destination("192.168.8.14", 80, forward="masq")
    dentry = lvs.DestinationEntry(real, ds)
    assert (dentry.destination, dentry.state) == (real, ds) and list(dentry) == [real, ds]
    assert repr(dentry) == f"DestinationEntry(destination={real!r}, state={ds!r})"
    assert lvs.DestinationEntry.from_dict(dentry.to_dict()) == dentry
    # What Snapshot.entries() returns: a service with its state and its real servers' entries.
    other = lvs.DestinationEntry(lvs.Destination("192.168.8.15", 80, forward="masq"), ds)
    vse = lvs.VirtualServiceEntry(svc, st, [dentry, other])
    assert (vse.service, vse.state, vse.destinations) == (svc, st, (dentry, other))
    v_service, v_state, v_destinations = vse
    assert (v_service, v_state, v_destinations) == (svc, st, (dentry, other))
    assert repr(vse) == (f"VirtualServiceEntry(service={svc!r}, state={st!r}, "
                         f"destinations=({dentry!r}, {other!r}))")
    assert lvs.VirtualServiceEntry(svc, st).destinations == ()
    # The kernel's order is part of the value (a VirtualService compares its real servers as a
    # set: it is configuration; an entry is what one read gave, in its order).
    assert vse == lvs.VirtualServiceEntry(svc, st, (d for d in [dentry, other]))
    assert hash(vse) == hash(lvs.VirtualServiceEntry(svc, st, [dentry, other]))
    assert vse != lvs.VirtualServiceEntry(svc, st, [other, dentry])
    assert vse != lvs.VirtualServiceEntry(svc, lvs.ServiceState(), [dentry, other])
    assert lvs.VirtualServiceEntry.from_dict(vse.to_dict()) == vse
    assert vse.to_dict()["destinations"] == [dentry.to_dict(), other.to_dict()]
    with pytest.raises(TypeError):
        lvs.VirtualServiceEntry(svc, st, [real])  # type: ignore[list-item]
    i = lvs.Info(version="1.2.1", conn_table_size=4096)
    assert (i.version, i.version_info, i.conn_table_size) == ("1.2.1", (1, 2, 1), 4096)
    with pytest.raises(lvs.InvalidArgument):
        lvs.Info(version="one", conn_table_size=1)
    t = lvs.Timeouts(tcp=900)
    assert (t.tcp, t.tcp_fin, t.udp) == (900, 0, 0)
    d = lvs.Daemon("backup", group="ff02::1")
    assert (d.role, d.interface, d.syncid, d.group) == ("backup", "eth0", 0, ipaddress.IPv6Address("ff02::1"))
    assert repr(d) == "Daemon('backup', interface='eth0', syncid=0, group='ff02::1')"
    with pytest.raises(lvs.InvalidArgument):
        lvs.Daemon("primary")  # type: ignore[arg-type]
    with pytest.raises(lvs.InvalidArgument):
        lvs.Daemon("master", group="10.0.0.1").validate()


def test_exception_hierarchy() -> None:
    for name in ["ServiceExists", "DestinationExists", "DaemonExists", "NoSuchService",
                 "NoSuchDestination", "NoSuchDaemon", "SchedulerNotFound", "PermissionDenied",
                 "NotSupported", "NotAvailable", "InvalidArgument", "ParseError", "NetlinkError"]:
        assert issubclass(getattr(lvs, name), lvs.LvsError), name
    assert issubclass(lvs.NoSuchService, LookupError)
    assert issubclass(lvs.ParseError, ValueError)
    e = lvs.ParseError("x", 1, 2)
    assert pickle.loads(pickle.dumps(lvs.LvsError("boom", 17, "add service"))).args == ("boom",)
    assert (e.line, e.column) == (1, 2)


def test_plan_between_rulesets() -> None:
    current = lvs.Ruleset.parse(SEED)
    desired = lvs.Ruleset.parse(SEED.replace("-s wrr", "-s rr").replace("192.168.8.16:80 -m -w 1",
                                                                        "192.168.8.17:80 -m -w 1"))
    p = lvs.plan(current, desired)
    # Additions and edits first, removals once what replaces them is in place.
    assert [str(c) for c in p.commands] == [
        "-E -t 10.0.0.13:80 -s rr",
        "-a -t 10.0.0.13:80 -r 192.168.8.17:80 -m -w 1",
        "-d -t 10.0.0.13:80 -r 192.168.8.16:80",
    ]
    assert [stage for stage, _ in p.steps] == ["services", "destinations", "remove"]
    assert len(p) == 3 and p.to_rules().count("\n") == 3
    assert str(p).startswith("~ -E -t 10.0.0.13:80")
    assert str(p).endswith("- -d -t 10.0.0.13:80 -r 192.168.8.16:80\n")
    assert len(lvs.plan(desired, desired)) == 0
    svc = lvs.Service("10.0.0.13", 80, scheduler="wrr")
    drained = lvs.plan(current, lvs.Ruleset(), drain=True)
    assert all(str(c).startswith("-e") and str(c).endswith("-w 0") for c in drained.commands)
    # Once drained (weight 0) and idle, a later plan deletes them, and the service with them.
    zeroed = lvs.Ruleset([lvs.VirtualService(svc, [d.replace(weight=0)
                                                   for d in current.services[0].destinations])])
    gone = lvs.plan(zeroed, lvs.Ruleset(), drain=True,
                    idle=[(svc, d) for d in zeroed.services[0].destinations])
    assert [str(c) for c in gone.commands] == ["-D -t 10.0.0.13:80"]
    assert len(lvs.plan(current, lvs.Ruleset(), keep_unlisted=True)) == 0


def test_names_are_lvs_core_spellings() -> None:
    # The stubs' Literal types list the canonical spellings; the other cases and the wrong
    # names below are what a caller without a type checker might pass.
    d = lvs.Destination("10.0.0.1", 80, forward="Masq", tun_type=None)  # type: ignore[arg-type]
    assert d.forward == "masq"
    t = lvs.Destination("10.0.0.1", 80, forward="tunnel", tun_type="gue", tun_port=6080, tun_csum="remcsum")
    assert (t.forward, t.tun_type, t.tun_csum) == ("tunnel", "gue", "remcsum")
    assert lvs.Service("10.0.0.1", 80, protocol="UDP").protocol == "udp"  # type: ignore[arg-type]
    with pytest.raises(lvs.InvalidArgument, match='unknown forwarding method "nat": expected masq, route'):
        lvs.Destination("10.0.0.1", 80, forward="nat")  # type: ignore[arg-type]
    # lvs-core's names are read in any case.
    u = lvs.Destination("10.0.0.1", 80, forward="TUNNEL", tun_type="GUE", tun_csum="CSUM")  # type: ignore[arg-type]
    assert (u.forward, u.tun_type, u.tun_csum) == ("tunnel", "gue", "csum")
    with pytest.raises(lvs.InvalidArgument, match="unknown tunnel checksum"):
        lvs.Destination("10.0.0.1", 80, forward="tunnel", tun_csum="crc")  # type: ignore[arg-type]
    with pytest.raises(lvs.InvalidArgument, match="unknown protocol"):
        lvs.Service("10.0.0.1", 80, protocol="icmp")  # type: ignore[arg-type]


def test_protocol_numbers_out_of_range_are_lvs_errors() -> None:
    taken = "a name ('tcp', 'udp', 'sctp') or an IP protocol number (0 to 65535)"
    svc = lvs.Service("10.0.0.1", 80)
    for bad in (-1, 65536, 10**40):
        want = f"protocol number {bad} is out of range: the protocol is {taken}"
        with pytest.raises(lvs.InvalidArgument) as e:
            lvs.Service("10.0.0.1", 80, protocol=bad)
        assert str(e.value) == want
        with pytest.raises(lvs.InvalidArgument) as e:
            svc.replace(protocol=bad)
        assert str(e.value) == want
    wrong: Any
    for wrong, kind in ((1.5, "float"), (True, "bool"), (None, "NoneType"), (b"tcp", "bytes")):
        with pytest.raises(lvs.InvalidArgument) as e:
            lvs.Service("10.0.0.1", 80, protocol=wrong)
        assert str(e.value) == f"protocol must be {taken}, not {kind}"
    assert lvs.Service("10.0.0.1", 80, protocol=132).protocol == "sctp"
    assert lvs.Service("10.0.0.1", 80, protocol=0).protocol_number == 0
    with pytest.raises(lvs.InvalidArgument, match="unknown version"):
        lvs.Info(version="1.2", conn_table_size=4096)


def test_rule_text_messages_name_a_bom_and_cap_long_tokens() -> None:
    with pytest.raises(lvs.ParseError) as e:
        lvs.Ruleset.parse("\ufeff-A -t 10.0.0.1:80 -s rr\n")
    assert (e.value.line, e.value.column) == (1, 1)
    assert str(e.value) == (
        "1:1: the text starts with a UTF-8 byte order mark (EF BB BF), which ipvsadm reads"
        " as part of the first word: save the file without it"
    )
    with pytest.raises(lvs.ParseError) as e:
        lvs.parse_rules("-A -t 10.0.0.1:80\n-A -f " + "9" * 10_000_000 + "\x1b\n")
    assert (e.value.line, e.value.column) == (2, 7)
    assert str(e.value) == "2:7: invalid fwmark value `" + "9" * 40 + "...[10000001 bytes]' specified"
