"""Cross-checks against the real tools: what lvs writes, ipvsadm and pyroute2 read the same;
what ipvsadm writes, lvs reads the same."""

import ipaddress
import socket
from typing import Any, Dict, List

import pytest

import lvs

from conftest import ipvsadm

pytestmark = pytest.mark.kernel

RULES = """\
-A -t 10.0.0.13:80 -s wrr
-a -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3
-a -t 10.0.0.13:80 -r 192.168.8.15:80 -m -w 1
-a -t 10.0.0.13:80 -r 192.168.8.16:80 -m -w 1
-A -u 10.0.0.13:53 -s sh -b sh-fallback,sh-port -o
-a -u 10.0.0.13:53 -r 192.168.8.17:5353 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-A -f 7 -s rr -p 120 -M 255.255.255.0
-a -f 7 -r 192.168.8.18:0 -g -w 0
-A -t [2001:db8::1]:443 -s mh -b mh-port
-a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m -w 2
-A -f 9 -6 -s wlc -p 60 -M 64
-A -u 10.0.0.14:5060 -s rr -p 60 --pe sip
"""


def test_lvs_writes_ipvsadm_reads(ipvs: lvs.Ipvs) -> None:
    wanted = lvs.Ruleset.parse(RULES)
    results = ipvs.batch(
        [lvs.Command.add_service(vs.service) for vs in wanted.services]
        + [lvs.Command.add_destination(vs.service, d)
           for vs in wanted.services for d in vs.destinations]
    )
    assert results == [None] * len(results)
    saved = ipvsadm("-Sn")
    assert lvs.Ruleset.parse(saved) == wanted
    assert saved == str(wanted)


def test_ipvsadm_writes_lvs_reads(ipvs: lvs.Ipvs) -> None:
    ipvsadm("-R", stdin=RULES)
    snap = ipvs.snapshot()
    assert snap.services() == lvs.Ruleset.parse(RULES)
    assert str(snap.services()) == ipvsadm("-Sn")


def _attrs(nla: Any) -> Dict[str, Any]:
    """A pyroute2 nested attribute as {name: value}."""
    return {name: value for name, value in nla["attrs"]}


def test_pyroute2_reads_what_lvs_writes(ipvs: lvs.Ipvs) -> None:
    from pyroute2 import IPVS  # type: ignore[import-untyped]

    svc = lvs.Service("10.0.0.13", 80, scheduler="wrr", persistence=300, netmask="255.255.255.0")
    reals = [
        lvs.Destination("192.168.8.14", 8080, forward="masq", weight=3, upper_threshold=100,
                        lower_threshold=10),
        lvs.Destination("192.168.8.15", 8080, forward="tunnel", weight=1),
        lvs.Destination("192.168.8.16", 8080, forward="route", weight=0),
    ]
    fw6 = lvs.Service(fwmark=5, family="inet6", scheduler="sh", sched_flags="sh-port")
    ipvs.add_service(svc)
    ipvs.add_service(fw6)
    for d in reals:
        ipvs.add_destination(svc, d)
    ipvs.set_timeouts(lvs.Timeouts(tcp=1000))

    seen: Dict[Any, Dict[str, Any]] = {}
    pr = IPVS()
    try:
        for msg in pr.service("dump"):
            a = _attrs(msg.get_attr("IPVS_CMD_ATTR_SERVICE"))
            key = a.get("IPVS_SVC_ATTR_FWMARK") or (a["IPVS_SVC_ATTR_ADDR"], a["IPVS_SVC_ATTR_PORT"])
            seen[key] = a
        assert set(seen) == {5, ("10.0.0.13", 80)}
        s = seen[("10.0.0.13", 80)]
        assert s["IPVS_SVC_ATTR_AF"] == socket.AF_INET
        assert s["IPVS_SVC_ATTR_PROTOCOL"] == socket.IPPROTO_TCP
        assert s["IPVS_SVC_ATTR_SCHED_NAME"] == "wrr"
        assert s["IPVS_SVC_ATTR_TIMEOUT"] == 300
        assert s["IPVS_SVC_ATTR_NETMASK"] == "255.255.255.0"
        f = seen[5]
        assert f["IPVS_SVC_ATTR_AF"] == socket.AF_INET6
        assert f["IPVS_SVC_ATTR_SCHED_NAME"] == "sh"
        assert f["IPVS_SVC_ATTR_FLAGS"]["flags"] & 0x10  # sh-port (IP_VS_SVC_F_SCHED2)

        from pyroute2 import IPVSService

        key = IPVSService(af=socket.AF_INET, protocol=socket.IPPROTO_TCP, addr="10.0.0.13", port=80)
        dests: List[Dict[str, Any]] = [
            _attrs(m.get_attr("IPVS_CMD_ATTR_DEST")) for m in pr.dest("dump", service=key)
        ]
    finally:
        pr.close()
    by_addr = {ipaddress.ip_address(d["IPVS_DEST_ATTR_ADDR"]): d for d in dests}
    assert set(by_addr) == {d.address for d in reals}
    fwd = {"masq": 0, "tunnel": 2, "route": 3}
    for d in reals:
        got = by_addr[d.address]
        assert got["IPVS_DEST_ATTR_PORT"] == d.port
        assert got["IPVS_DEST_ATTR_WEIGHT"] == d.weight
        assert got["IPVS_DEST_ATTR_FWD_METHOD"] & 0x7 == fwd[str(d.forward)]
        assert got["IPVS_DEST_ATTR_U_THRESH"] == d.upper_threshold
        assert got["IPVS_DEST_ATTR_L_THRESH"] == d.lower_threshold


def test_lvs_reads_what_pyroute2_writes(ipvs: lvs.Ipvs) -> None:
    from pyroute2 import IPVS, IPVSDest, IPVSService

    pr = IPVS()
    try:
        service = IPVSService(addr="10.0.0.13", port=80, protocol=socket.IPPROTO_TCP,
                              sched_name="rr")
        pr.service("add", service=service)
        pr.dest("add", service=service,
                dest=IPVSDest(addr="192.168.8.14", port=80, fwd_method=0, weight=5))
    finally:
        pr.close()
    svc = lvs.Service("10.0.0.13", 80, scheduler="rr")
    assert [e.service for e in ipvs.services()] == [svc]
    assert [e.destination for e in ipvs.destinations(svc)] == [
        lvs.Destination("192.168.8.14", 80, forward="masq", weight=5)
    ]
