#!/usr/bin/env python3
"""Captures the generic-netlink requests the real ipvsadm sends, for tests/wire_requests_golden.rs.

Run as root in a fresh network namespace of a kernel with IPVS (from the repository root):

    tests/harness.sh exec -- unshare -n python3 lvs-netlink/tests/golden/capture-requests.py

It brings `lo` up, creates an nlmon device (`nlmon0`) in the namespace and reads it with an
AF_PACKET socket, then runs each ipvsadm command of COMMANDS in turn. After each command exits
(nlmon hands every netlink message to the socket synchronously, so they are all queued by then)
it drains the socket and keeps every generic-netlink message with NLM_F_REQUEST whose type is
the IPVS family: the controller's CTRL_CMD_GETFAMILY and every reply are left out. Each kept
request is written as requests/NNN.K.bin (the generic-netlink payload after the nlmsghdr:
genlmsghdr + attributes; NNN numbers the command, K the request within it), and
requests/index.tsv maps each command line to its files.
"""

import os
import socket
import struct
import subprocess
import sys

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tests/harness")
sys.path.insert(0, HARNESS)
import nlmon  # noqa: E402  (the nlmon device, socket and framing, shared with tests/bench/run.py)
from nlmon import GENL_ID_CTRL, IPVS_CMDS, NETLINK_GENERIC, NLM_F_REQUEST  # noqa: E402

# The commands, in order; each must leave the table in a state the next one can use (a failing
# command would still be captured, but its exit status is recorded and the test requires 0).
# Sync daemons come first: the kernel refuses to start one beside mixed-family real servers.
COMMANDS = [
    "-C",
    "--set 900 120 300",
    "--set 0 0 60",
    "--start-daemon master --mcast-interface lo --syncid 5",
    "--stop-daemon master",
    "--start-daemon backup --mcast-interface lo --syncid 7 --sync-maxlen 1400"
    " --mcast-group 224.0.0.100 --mcast-port 8850 --mcast-ttl 2",
    "--stop-daemon backup",
    "--start-daemon backup --mcast-interface lo --mcast-group ff02::100",
    "--stop-daemon backup",
    "-A -t 10.0.0.1:80 -s rr",
    "-E -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0",
    "-A -u 10.0.0.1:53 -s sh -b sh-fallback,sh-port",
    "-A -u 10.0.0.1:5060 -s rr -p 60 --pe sip",
    "-A --sctp-service 10.0.0.1:3868 -s lc",
    "-A -t [2001:db8::1]:443 -s mh -b mh-fallback,mh-port -p 600 -M 64",
    "-A -u [2001:db8::1]:53 -s wrr -o",
    "-A -f 7 -s wlc -p 60 -M 255.255.0.0",
    "-A -f 8 -6 -s dh",
    "-E -f 8 -6 -s sed -p",
    "-a -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 3 -x 100 -y 10",
    "-a -t 10.0.0.1:80 -r 192.168.1.2 -g -w 0",
    "-a -t 10.0.0.1:80 -r 192.168.1.3:80 -i",
    "-a -t 10.0.0.1:80 -r 192.168.1.4:80 -i --tun-type gue --tun-port 6080 --tun-csum",
    "-a -t 10.0.0.1:80 -r 192.168.1.5:80 -i --tun-type gue --tun-port 6081 --tun-remcsum",
    "-a -t 10.0.0.1:80 -r 192.168.1.6:80 -i --tun-type gre --tun-csum",
    "-a -t 10.0.0.1:80 -r 192.168.1.7:80 -i --tun-type gre --tun-nocsum -w 65535",
    "-a -t 10.0.0.1:80 -r [2001:db8::7]:80 -i --tun-type ipip",
    "-a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 5",
    "-a -f 7 -r 192.168.1.1 -g",
    "-a --sctp-service 10.0.0.1:3868 -r 192.168.1.9:3868 -m",
    "-e -t 10.0.0.1:80 -r 192.168.1.1:8080 -m -w 7 -x 50 -y 5",
    "-e -t 10.0.0.1:80 -r 192.168.1.2 -g",
    "-e -t 10.0.0.1:80 -r 192.168.1.4:80 -i --tun-type gue --tun-port 7000 --tun-nocsum",
    "-Z -t 10.0.0.1:80",
    "-Z -f 7",
    "-Z",
    "-d -t 10.0.0.1:80 -r 192.168.1.3:80",
    "-d -f 7 -r 192.168.1.1",
    "-d -t [2001:db8::1]:443 -r [2001:db8::10]:443",
    "-D -u 10.0.0.1:53",
    "-D -f 8 -6",
    "-D -t [2001:db8::1]:443",
    "-C",
]

CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 3, 1, 2


def must(args):
    subprocess.run(args, check=True)


def ipvs_family_id():
    """Asks the generic-netlink controller for the IPVS family's id."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    name = b"IPVS\0"
    attr = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
    attr += b"\0" * (-len(attr) % 4)
    body = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + attr
    s.send(struct.pack("=IHHII", 16 + len(body), GENL_ID_CTRL, NLM_F_REQUEST, 1, 0) + body)
    reply = s.recv(65536)
    s.close()
    length, kind = struct.unpack_from("=IH", reply, 0)
    if kind != GENL_ID_CTRL:
        sys.exit(f"no IPVS generic-netlink family (reply type {kind}): is ip_vs loaded?")
    off = 20
    while off + 4 <= length:
        alen, atype = struct.unpack_from("=HH", reply, off)
        if alen < 4:
            break
        if atype & 0x3FFF == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("=H", reply, off + 4)[0]
        off += (alen + 3) & ~3
    sys.exit("the controller's reply has no CTRL_ATTR_FAMILY_ID")


def drain(sock, family):
    """Every IPVS request (nlmsg flags, generic-netlink payload) queued on the nlmon socket."""
    out = []
    while True:
        try:
            data, addr = sock.recvfrom(1 << 20)
        except BlockingIOError:
            return out
        if not nlmon.is_generic(addr):
            continue
        for off, length, kind, flags in nlmon.messages(data, len(data)):
            if off + length > len(data):
                break
            if kind == family and flags & NLM_F_REQUEST:
                out.append((flags, data[off + 16:off + length]))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "requests")
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".bin") or f == "index.tsv":
            os.remove(os.path.join(out_dir, f))
    # lo up: without a local routing table the kernel refuses every real server.
    must(["ip", "link", "set", "lo", "up"])
    modprobe, *device = nlmon.device_commands()
    # The module may be built in: only adding the device must succeed.
    subprocess.run(modprobe, check=False)
    for argv in device:
        must(argv)
    family = ipvs_family_id()
    sock = nlmon.open_socket()
    sock.setblocking(False)
    drain(sock, family)
    version = subprocess.run(["ipvsadm", "-v"], capture_output=True, text=True).stdout.strip()
    rows = []
    failed = 0
    for n, line in enumerate(COMMANDS, 1):
        r = subprocess.run(["ipvsadm"] + line.split(), capture_output=True, text=True)
        requests = drain(sock, family)
        if r.returncode != 0:
            failed += 1
            print(f"[capture] ipvsadm {line}: exit {r.returncode}: {r.stderr.strip()}", flush=True)
        if not requests:
            sys.exit(f"ipvsadm {line}: no IPVS request seen on {nlmon.DEVICE}")
        for k, (flags, payload) in enumerate(requests):
            name = f"{n:03}.{k}.bin"
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(payload)
            cmd = IPVS_CMDS.get(payload[0], str(payload[0]))
            rows.append(f"{name}\t{cmd}\t0x{flags:04x}\t{r.returncode}\tipvsadm {line}")
        print(f"[capture] ipvsadm {line}: {len(requests)} request(s), exit {r.returncode}",
              flush=True)
    with open(os.path.join(out_dir, "index.tsv"), "w") as f:
        f.write(f"# {version}; kernel {os.uname().release}; IPVS family id {family}\n")
        f.write("# file\tIPVS_CMD_\tnlmsg_flags\tipvsadm exit status\tcommand line\n")
        f.write("\n".join(rows) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
