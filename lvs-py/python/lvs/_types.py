"""The names lvs takes and gives, as ``Literal`` types, and the service flag bits as an IntFlag.

Each alias lists exactly the names the compiled module accepts and returns (the tests check
every one round-trips), so that a type checker catches ``forward="masquerade"`` before the
kernel does.
"""

import enum
from typing import Literal

__all__ = [
    "SchedulerName",
    "ForwardName",
    "ProtocolName",
    "FamilyName",
    "SchedFlagName",
    "TunnelTypeName",
    "TunnelChecksumName",
    "DaemonRole",
    "ServiceFlags",
]

#: Every scheduler of mainline Linux, by ipvsadm's name. A scheduler from an out-of-tree module
#: (or ``"none"``, which the kernel reports for a service without one) keeps its name at run
#: time; type it with ``typing.cast(lvs.SchedulerName, name)``.
SchedulerName = Literal[
    "rr", "wrr", "lc", "wlc", "fo", "ovf", "lblc", "lblcr", "dh", "sh", "mh", "sed", "nq", "twos"
]

#: Forwarding methods: ``-m``, ``-g``, ``-i``, and the kernel's two others. A method lvs has no
#: name for is given (and taken) as the kernel's number.
ForwardName = Literal["masq", "route", "tunnel", "local", "bypass"]

#: Service protocols by name; any other IP protocol is given (and taken) as its number.
ProtocolName = Literal["tcp", "udp", "sctp"]

#: Address families (``socket.AF_INET`` and ``socket.AF_INET6`` are taken too).
FamilyName = Literal["inet", "inet6"]

#: Scheduler flags by ipvsadm's names (``-b``): ``sh-*`` for sh, ``mh-*`` for mh, ``flag-N``
#: for the others.
SchedFlagName = Literal[
    "sh-fallback", "sh-port", "mh-fallback", "mh-port", "flag-1", "flag-2", "flag-3"
]

#: Tunnel types of ``forward="tunnel"`` (``--tun-type``).
TunnelTypeName = Literal["ipip", "gue", "gre"]

#: Tunnel checksum modes (``--tun-nocsum``, ``--tun-csum``, ``--tun-remcsum``).
TunnelChecksumName = Literal["nocsum", "csum", "remcsum"]

#: A sync daemon's role.
DaemonRole = Literal["master", "backup"]


class ServiceFlags(enum.IntFlag):
    """A service's configuration flag bits (``IP_VS_SVC_F_*``), as ``Service.flags`` gives them.

    An ``int`` (``svc.flags & 4``, ``Service(..., flags=4)`` keep working) that names its bits.
    Persistence is not a flag here (``Service.persistence``), and the kernel's ``HASHED`` bit is
    state, not configuration. Bits lvs has no name for (from a newer kernel) are kept (IntFlag
    keeps unknown bits).
    """

    #: One-packet scheduling (``-o``).
    ONE_PACKET = 0x0004
    #: Scheduler flag 1: ``sh-fallback`` for sh, ``mh-fallback`` for mh, ``flag-1`` otherwise.
    SCHED_1 = 0x0008
    #: Scheduler flag 2: ``sh-port`` for sh, ``mh-port`` for mh, ``flag-2`` otherwise.
    SCHED_2 = 0x0010
    #: Scheduler flag 3: ``flag-3``.
    SCHED_3 = 0x0020
