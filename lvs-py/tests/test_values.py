"""Pure tests (no kernel): the value classes pickle and copy."""

import copy
import pickle
from typing import Any, List

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
        lvs.Service("10.0.0.1", 0, 47, scheduler="fo2", flags=0x400),
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
    odd = lvs.Service("10.0.0.1", 0, 47, scheduler="fo2", flags=0x400)
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
