"""Reading generic-netlink requests off an nlmon device (standard library only).

An nlmon device hands every netlink message sent in its network namespace to the AF_PACKET
sockets bound to it, synchronously. Two scripts read it:
lvs-netlink/tests/golden/capture-requests.py (the golden requests of the real ipvsadm) and
tests/bench/run.py (counting the requests each implementation sends). Each keeps its own error
policy; what they share (the device, the socket, the framing of a datagram) is here. Import it
with this folder on sys.path.
"""

import socket
import struct

DEVICE = "nlmon0"
NETLINK_GENERIC, GENL_ID_CTRL, NLM_F_REQUEST = 16, 16, 1
IPVS_CMDS = {1: "NEW_SERVICE", 2: "SET_SERVICE", 3: "DEL_SERVICE", 4: "GET_SERVICE",
             5: "NEW_DEST", 6: "SET_DEST", 7: "DEL_DEST", 8: "GET_DEST", 9: "NEW_DAEMON",
             10: "DEL_DAEMON", 11: "GET_DAEMON", 12: "SET_CONFIG", 13: "GET_CONFIG",
             14: "SET_INFO", 15: "GET_INFO", 16: "ZERO", 17: "FLUSH"}
SO_RCVBUFFORCE = 33


def device_commands():
    """The commands that make DEVICE in the current namespace, in order: load the module, add
    the device, bring it up. The caller runs them (and decides what a failure means)."""
    return [
        ["modprobe", "nlmon"],
        ["ip", "link", "add", DEVICE, "type", "nlmon"],
        ["ip", "link", "set", DEVICE, "up"],
    ]


def open_socket(rcvbuf=None):
    """An AF_PACKET socket bound to DEVICE (ETH_P_ALL); with `rcvbuf`, its receive buffer forced
    to that many bytes first (SO_RCVBUFFORCE, root only)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    sock.bind((DEVICE, 0))
    return sock


def is_generic(addr):
    """Whether a datagram received from the socket (its address `addr`) carries generic
    netlink: nlmon gives the netlink protocol as the packet's protocol number."""
    return addr[1] == NETLINK_GENERIC


def messages(data, end):
    """The netlink messages in data[:end], as (offset, length, nlmsg_type, nlmsg_flags), up to
    the first header whose length is less than a header's. A message may run past `end` (a
    truncated datagram): callers that need the whole message check offset + length."""
    off = 0
    while off + 16 <= end:
        length, kind, flags = struct.unpack_from("=IHH", data, off)
        if length < 16:
            return
        yield off, length, kind, flags
        off += (length + 3) & ~3
