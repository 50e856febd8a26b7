"""lvs: drive Linux IPVS (the kernel's layer-4 load balancer) from Python.

A thin binding of the lvs Rust crates: the model and ipvsadm rule files of lvs-core, and the
generic-netlink client of lvs-netlink. Addresses are ``ipaddress`` objects (strings are
accepted), ports are ints, schedulers and forwarding methods are ipvsadm's names.
``lvs.__version__`` is the crate's.

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
    DestinationState,
    Features,
    Info,
    Ipvs,
    Plan,
    Reconciler,
    Report,
    Ruleset,
    Service,
    ServiceState,
    Snapshot,
    Stats,
    Timeouts,
    VirtualService,
    parse_rules,
    plan,
)
from ._lvs import __version__ as __version__

__all__ = [
    "Command",
    "Connection",
    "Daemon",
    "DaemonExists",
    "Destination",
    "DestinationExists",
    "DestinationState",
    "Features",
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
    "Reconciler",
    "Report",
    "Ruleset",
    "SchedulerNotFound",
    "Service",
    "ServiceExists",
    "ServiceState",
    "Snapshot",
    "Stats",
    "Timeout",
    "Timeouts",
    "VirtualService",
    "parse_rules",
    "plan",
]
