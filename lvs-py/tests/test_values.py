"""Pure tests (no kernel): the value classes pickle and copy, and the names of the stubs'
``Literal`` types and of ``lvs.ServiceFlags`` are the ones the compiled module takes and gives."""

import copy
import pickle
import re
from typing import Any, List, Tuple, get_args

import pytest

import lvs

SEED = """\
-A -t 10.0.0.13:80 -s wrr -p 300 -M 255.255.255.0
-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3 -x 100 -y 50
-a -t 10.0.0.13:80 -r 192.168.8.15:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -f 7 -6 -s sh -b sh-fallback,sh-port
-A -u 10.0.0.13:53 -s rr -o
--set 900 120 300
--start-daemon master --mcast-interface eth0 --syncid 3
"""


def values() -> List[Any]:
    """One instance of every value class, with the less common fields set."""
    ruleset = lvs.Ruleset.parse(SEED)
    svc = ruleset.services[0].service
    return [
        svc,
        lvs.Service("2001:db8::1", 5060, "udp", scheduler="sh", sched_flags=["sh-port"],
                    persistence=60, netmask=64, pe="sip"),
        lvs.Service(fwmark=7, family="inet6", scheduler="mh", sched_flags="mh-fallback"),
        # Out of lvs's names: an out-of-tree scheduler, another protocol, an unknown flag bit.
        lvs.Service("10.0.0.1", 0, 47, scheduler="fo2", flags=0x400),  # type: ignore[arg-type]
        ruleset.services[0].destinations[1],
        lvs.Destination("10.0.0.9", 80, forward=7, weight=0),
        ruleset.services[0],
        ruleset,
        lvs.Ruleset(),
        lvs.Command.add_destination(svc, ruleset.services[0].destinations[0]),
        lvs.Command.stop_daemon("backup"),
        lvs.Command.zero(),
        lvs.Stats(conns=1, inpkts=2, outpkts=3, inbytes=2**63, outbytes=5, cps=6, inpps=7,
                  outpps=8, inbps=9, outbps=10),
        lvs.ServiceState(stats=lvs.Stats(conns=4), internal_flags=2),
        lvs.DestinationState(active_conns=1, inactive_conns=2, persistent_conns=3,
                             stats=lvs.Stats(outbytes=9)),
        lvs.ServiceEntry(svc, lvs.ServiceState(stats=lvs.Stats(inbytes=7), internal_flags=2)),
        lvs.DestinationEntry(ruleset.services[0].destinations[1],
                             lvs.DestinationState(active_conns=5, stats=lvs.Stats(conns=6))),
        lvs.VirtualServiceEntry(
            svc, lvs.ServiceState(stats=lvs.Stats(conns=3), internal_flags=2),
            [lvs.DestinationEntry(d, lvs.DestinationState(inactive_conns=n, stats=lvs.Stats(cps=n)))
             for n, d in enumerate(ruleset.services[0].destinations)]),
        lvs.VirtualServiceEntry(lvs.Service(fwmark=7, family="inet6"), lvs.ServiceState()),
        lvs.Timeouts(900, 120, 300),
        lvs.Daemon("backup", "eth1", 9, maxlen=1400, group="239.1.1.1", port=8848, ttl=2),
        lvs.Info(version="1.2.1", conn_table_size=4096),
        lvs.Features.from_dict({
            "ipvs_version": 0x010201, "kernel_release": "6.1.0-28-amd64", "addr_family": True,
            "stats64": True, "tunnel_type": True, "tunnel_flags": False}),
        lvs.Connection.from_dict({
            "protocol": "tcp", "client": "192.0.2.1:40000", "virtual_addr": "10.0.0.13:80",
            "destination": "192.168.8.14:80", "state": "ESTABLISHED", "expires": 899,
            "pe": ["sip", "call-id"]}),
    ]


def ids(v: Any) -> str:
    return type(v).__name__


@pytest.mark.parametrize("value", values(), ids=ids)
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_values_pickle_round_trip(value: Any, protocol: int) -> None:
    back = pickle.loads(pickle.dumps(value, protocol=protocol))
    assert type(back) is type(value)
    assert back == value and hash(back) == hash(value)
    assert repr(back) == repr(value)
    assert back.to_dict() == value.to_dict()


def test_a_pickle_holds_the_dict_form() -> None:
    # The pickle is `Class.from_dict(self.to_dict())`: plain data, no Rust layout, read back
    # by the strict reader.
    d = lvs.Destination("192.168.8.14", 80, forward="masq", weight=3)
    assert d.__reduce__() == (lvs.Destination.from_dict, (d.to_dict(),))
    text = pickle.dumps(d, protocol=0)
    assert b"from_dict" in text and b"masq" in text
    # A pickle edited into a wrong shape is refused as from_dict refuses it.
    bad = text.replace(b"masq", b"nope")
    with pytest.raises(lvs.InvalidArgument):
        pickle.loads(bad)


def test_lossless_through_pickle() -> None:
    ruleset = lvs.Ruleset.parse(SEED)
    back = pickle.loads(pickle.dumps(ruleset))
    assert back.to_rules(lossless=True) == ruleset.to_rules(lossless=True)
    assert str(back) == str(ruleset)
    odd = lvs.Service("10.0.0.1", 0, 47, scheduler="fo2", flags=0x400)  # type: ignore[arg-type]
    back_odd = pickle.loads(pickle.dumps(odd))
    assert (back_odd.scheduler, back_odd.protocol_number, back_odd.flags) == ("fo2", 47, 0x400)


@pytest.mark.parametrize("value", values(), ids=ids)
def test_values_copy_as_themselves(value: Any) -> None:
    # Frozen values: a copy, shallow or deep, is the value itself (as for a tuple of ints).
    assert copy.copy(value) is value
    assert copy.deepcopy(value) is value
    holder = {"v": [value, value]}
    deep = copy.deepcopy(holder)
    assert deep == holder and deep["v"] is not holder["v"] and deep["v"][0] is value


def test_results_that_are_not_values_refuse_pickling() -> None:
    # A Plan is a result to execute or print, not a value to keep: pickle and copy say so.
    # (Its commands pickle.)
    plan = lvs.plan(lvs.Ruleset(), lvs.Ruleset.parse(SEED))
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot pickle 'lvs.Plan' object"):
            attempt(plan)
    commands = pickle.loads(pickle.dumps(plan.commands))
    assert commands == plan.commands


# A name no Literal has (typed Any: the point is what the module says at run time).
NOT_A_NAME: Any = "x"


def expected_names(message: str) -> Tuple[str, ...]:
    """The names of a refusal's `expected a, b or c` (lvs-core's own list)."""
    found = re.search(r"expected ([a-z0-9, -]+?) or ([a-z0-9-]+)(,|$)", message)
    assert found, message
    return (*found.group(1).split(", "), found.group(2))


def refusal(make: Any) -> str:
    with pytest.raises(lvs.InvalidArgument) as e:
        make()
    return str(e.value)


def test_forward_names_round_trip_and_are_all_of_them() -> None:
    names = get_args(lvs.ForwardName)
    assert expected_names(refusal(lambda: lvs.Destination("10.0.0.1", 80, forward=NOT_A_NAME))) == names
    for name in names:
        d = lvs.Destination("10.0.0.1", 80, forward=name)
        assert d.forward == name
        assert lvs.Destination("10.0.0.1", 80, forward=d.forward) == d
        assert pickle.loads(pickle.dumps(d)).forward == name
        # The dict form spells it the same (issue 16: it once said "masquerade", which the
        # constructor then refused).
        spelt = d.to_dict()["forward"]
        assert (next(iter(spelt)) if isinstance(spelt, dict) else spelt) == name
        assert lvs.Destination.from_dict(d.to_dict()).forward == name
    # A method lvs has no name for goes both ways as the kernel's number.
    assert lvs.Destination("10.0.0.1", 80, forward=7).forward == 7


def test_protocol_names_round_trip_and_are_all_of_them() -> None:
    names = get_args(lvs.ProtocolName)
    assert expected_names(refusal(lambda: lvs.Service("10.0.0.1", 80, protocol=NOT_A_NAME))) == names
    for name in names:
        svc = lvs.Service("10.0.0.1", 80, protocol=name)
        assert svc.protocol == name
    # Another IP protocol is given back as its number, which the constructor takes back.
    gre = lvs.Service("10.0.0.1", 0, protocol=47)
    assert gre.protocol == 47 and gre.protocol_number == 47
    assert gre.protocol is not None and lvs.Service("10.0.0.1", 0, protocol=gre.protocol) == gre
    assert lvs.Service(fwmark=1).protocol is None


def test_tunnel_names_round_trip_and_are_all_of_them() -> None:
    kinds = get_args(lvs.TunnelTypeName)
    csums = get_args(lvs.TunnelChecksumName)
    assert expected_names(refusal(
        lambda: lvs.Destination("10.0.0.1", 80, forward="tunnel", tun_type=NOT_A_NAME))) == kinds
    assert expected_names(refusal(
        lambda: lvs.Destination("10.0.0.1", 80, forward="tunnel", tun_csum=NOT_A_NAME))) == csums
    for kind in kinds:
        for csum in csums:
            d = lvs.Destination("10.0.0.1", 80, forward="tunnel", tun_type=kind, tun_csum=csum,
                                tun_port=6080 if kind == "gue" else 0)
            assert (d.tun_type, d.tun_csum) == (kind, csum)


def test_daemon_roles_round_trip_and_are_all_of_them() -> None:
    roles = get_args(lvs.DaemonRole)
    assert expected_names(refusal(lambda: lvs.Daemon(NOT_A_NAME))) == roles
    for role in roles:
        assert lvs.Daemon(role).role == role


def test_scheduler_and_family_names_round_trip() -> None:
    schedulers = get_args(lvs.SchedulerName)
    assert len(set(schedulers)) == 14 and "wlc" in schedulers and "twos" in schedulers
    for name in schedulers:
        svc = lvs.Service("10.0.0.1", 80, scheduler=name)
        assert svc.scheduler == name
        # Each is a name lvs-core knows: a rule file says it back without a complaint.
        assert f"-s {name}" in str(lvs.Ruleset([svc]))
    for family in get_args(lvs.FamilyName):
        assert lvs.Service(fwmark=1, family=family).family == family


def test_sched_flag_names_round_trip() -> None:
    takes = {"sh-fallback": "sh", "sh-port": "sh", "mh-fallback": "mh", "mh-port": "mh",
             "flag-1": "rr", "flag-2": "rr", "flag-3": "rr"}
    assert set(get_args(lvs.SchedFlagName)) == set(takes)
    for name, scheduler in takes.items():
        svc = lvs.Service("10.0.0.1", 80, scheduler=scheduler, sched_flags=name)  # type: ignore[arg-type]
        assert svc.sched_flags == [name]


def test_service_flags_is_an_int_that_names_lvs_core_bits() -> None:
    F = lvs.ServiceFlags
    plain = lvs.Service("10.0.0.1", 53, "udp")
    assert plain.flags == 0 and not plain.flags and type(plain.flags) is F
    ops = plain.replace(ops=True)
    assert ops.flags is F.ONE_PACKET and int(ops.flags) == 4 and isinstance(ops.flags, int)
    # Each member is the bit lvs-core gives that meaning (ops, sh's -b names, flag-3).
    assert lvs.Service("10.0.0.1", 53, "udp", flags=F.ONE_PACKET).ops
    sh = lvs.Service("10.0.0.1", 80, scheduler="sh", flags=F.SCHED_1 | F.SCHED_2 | F.SCHED_3)
    assert sh.sched_flags == ["sh-fallback", "sh-port", "flag-3"]
    assert sh.flags == F.SCHED_1 | F.SCHED_2 | F.SCHED_3 == 0x38
    assert lvs.Service("10.0.0.1", 80, scheduler="sh", sched_flags="sh-port").flags == F.SCHED_2
    # Bits lvs has no name for are kept, and go back into the constructor.
    odd = lvs.Service("10.0.0.1", 53, "udp", ops=True, flags=0x400)
    assert odd.flags == 0x404 and F.ONE_PACKET in odd.flags
    assert lvs.Service("10.0.0.1", 53, "udp", flags=odd.flags) == odd
    assert odd.replace(flags=odd.flags) == odd
