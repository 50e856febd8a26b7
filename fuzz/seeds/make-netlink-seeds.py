#!/usr/bin/env python3
"""Writes fuzz/seeds/netlink_reply/*.bin: whole received datagrams (netlink messages, as
lvs-netlink reads them off the socket) framed around the kernel's captured reply payloads in
lvs-netlink/tests/golden. The payloads are the kernel's; only the nlmsghdr framing, the acks,
the dump ends and one error are added here.  Run from the repository root."""
import struct
from pathlib import Path

GOLDEN = Path("lvs-netlink/tests/golden")
OUT = Path("fuzz/seeds/netlink_reply")
FAMILY = 0x22  # any generic-netlink family id; the kernel picks it at boot
NLMSG_ERROR, NLMSG_DONE = 2, 3
MULTI = 0x2


def message(ty, flags, seq, payload):
    length = 16 + len(payload)
    pad = (4 - length % 4) % 4
    return struct.pack("=IHHII", length, ty, flags, seq, 0) + payload + b"\0" * pad


def captures(name):
    return sorted(GOLDEN.glob(f"{name}.*.bin"))


def dump(name, seq):
    out = b"".join(message(FAMILY, MULTI, seq, p.read_bytes()) for p in captures(name))
    return out + message(NLMSG_DONE, MULTI, seq, struct.pack("=i", 0))


def doit(name, seq):
    request = struct.pack("=IHHII", 20, FAMILY, 0x5, seq, 0)
    ack = message(NLMSG_ERROR, 0, seq, struct.pack("=i", 0) + request)
    return message(FAMILY, 0, seq, captures(name)[0].read_bytes()) + ack


OUT.mkdir(parents=True, exist_ok=True)
seeds = {
    "service_dump": dump("get_service_dump", 1),
    "dest_dump": dump("get_dest_dump", 2),
    "daemon_dump": dump("get_daemon_dump", 3),
    "service_one": doit("get_service_one", 4),
    "info": doit("get_info", 5),
    "config": doit("get_config", 6),
    "error_esrch": message(NLMSG_ERROR, 0, 7,
                           struct.pack("=i", -3) + struct.pack("=IHHII", 20, FAMILY, 0x5, 7, 0)),
}
for name, data in seeds.items():
    (OUT / f"{name}.bin").write_bytes(data)
