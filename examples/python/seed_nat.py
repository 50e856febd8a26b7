#!/usr/bin/env python3
"""The LVS tutorial's NAT practice with lvs-py (``pip install ./lvs-py``).

A NAT virtual service on 10.0.0.13:80, three real servers 192.168.8.14-16 reached by
masquerading (``-m``), round robin first, then weighted round robin 3:1:1; then the counters.
The same as::

    ipvsadm -A -t 10.0.0.13:80 -s rr
    ipvsadm -a -t 10.0.0.13:80 -r 192.168.8.14:80 -m     # and .15, .16
    ipvsadm -E -t 10.0.0.13:80 -s wrr
    ipvsadm -e -t 10.0.0.13:80 -r 192.168.8.14:80 -m -w 3
    ipvsadm -L -n --stats

Needs CAP_NET_ADMIN. ``--netns NAME`` works on the namespace /run/netns/NAME instead of this one.
"""

import argparse
import sys

import lvs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netns", help="a network namespace under /run/netns")
    args = parser.parse_args()

    service = lvs.Service("10.0.0.13", 80, scheduler="rr")
    reals = [lvs.Destination(f"192.168.8.{n}", 80, forward="masq") for n in (14, 15, 16)]

    try:
        with lvs.Ipvs(netns=args.netns) as ipvs:
            ipvs.add_service(service)
            for real in reals:
                ipvs.add_destination(service, real)

            # Switch to weighted round robin, 3:1:1.
            ipvs.edit_service(service.replace(scheduler="wrr"))
            for real, weight in zip(reals, (3, 1, 1)):
                ipvs.edit_destination(service, real.replace(weight=weight))

            snap = ipvs.snapshot()
            print(snap.services(), end="")
            for vs in snap.ruleset.services:
                stats = snap.service_state[vs.service].stats
                print(f"{vs.service!r}: {stats.conns} conns, {stats.inpkts} packets in, "
                      f"{stats.outpkts} out")
                for real in vs.destinations:
                    state = snap.destination_state[(vs.service, real)]
                    print(f"  {real!r}: {state.active_conns} active, "
                          f"{state.inactive_conns} inactive, {state.stats.conns} conns")
    except lvs.LvsError as e:
        print(f"seed_nat: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
