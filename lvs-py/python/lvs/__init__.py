"""lvs: drive Linux IPVS (the kernel's layer-4 load balancer) from Python.

A thin binding of the lvs Rust crates: the model and ipvsadm rule files of lvs-core, and the
generic-netlink client of lvs-netlink. Addresses are ``ipaddress`` objects (strings are
accepted), ports are ints, schedulers and forwarding methods are ipvsadm's names (``Literal``
types for a type checker: ``lvs.SchedulerName``, ``lvs.ForwardName``, ...). The value classes
are immutable, compare by value, hash, pickle and copy; ``lvs.__version__`` is the crate's.

>>> import lvs
>>> svc = lvs.Service("10.0.0.13", 80, scheduler="rr")
>>> svc
Service(tcp 10.0.0.13:80, scheduler='rr')
>>> with lvs.Ipvs() as ipvs:                      # doctest: +SKIP
...     ipvs.add_service(svc)
...     ipvs.add_destination(svc, lvs.Destination("192.168.8.14", 80, forward="masq"))
"""

from ._errors import (
    DaemonExists,
    DestinationExists,
    InvalidArgument,
    LvsError,
    NetlinkError,
    NoSuchDaemon,
    NoSuchDestination,
    NoSuchService,
    NotAvailable,
    NotFound,
    NotSupported,
    ParseError,
    PermissionDenied,
    SchedulerNotFound,
    ServiceExists,
    Timeout,
)
from ._lvs import (
    Command,
    Connection,
    Daemon,
    Destination,
    DestinationEntry,
    DestinationState,
    Features,
    Info,
    Ipvs,
    Plan,
    Reconciler,
    Report,
    Ruleset,
    Service,
    ServiceEntry,
    ServiceState,
    Snapshot,
    Stats,
    Timeouts,
    VirtualService,
    VirtualServiceEntry,
    parse_rules,
    plan,
)
from ._lvs import __version__ as __version__
from ._types import (
    DaemonRole,
    FamilyName,
    ForwardName,
    ProtocolName,
    SchedFlagName,
    SchedulerName,
    ServiceFlags,
    TunnelChecksumName,
    TunnelTypeName,
)

__all__ = [
    "Command",
    "Connection",
    "Daemon",
    "DaemonExists",
    "DaemonRole",
    "Destination",
    "DestinationEntry",
    "DestinationExists",
    "DestinationState",
    "FamilyName",
    "Features",
    "ForwardName",
    "Info",
    "InvalidArgument",
    "Ipvs",
    "LvsError",
    "NetlinkError",
    "NoSuchDaemon",
    "NoSuchDestination",
    "NoSuchService",
    "NotAvailable",
    "NotFound",
    "NotSupported",
    "ParseError",
    "PermissionDenied",
    "Plan",
    "ProtocolName",
    "Reconciler",
    "Report",
    "Ruleset",
    "SchedFlagName",
    "SchedulerName",
    "SchedulerNotFound",
    "Service",
    "ServiceEntry",
    "ServiceExists",
    "ServiceFlags",
    "ServiceState",
    "Snapshot",
    "Stats",
    "Timeout",
    "Timeouts",
    "TunnelChecksumName",
    "TunnelTypeName",
    "VirtualService",
    "VirtualServiceEntry",
    "parse_rules",
    "plan",
]
