"""The exceptions of lvs, rooted in :class:`LvsError`.

They are plain Python classes (so that they can also derive from ``LookupError`` or
``ValueError``); the compiled module raises them with the kernel's errno and the operation set.
"""

from typing import Optional


class LvsError(Exception):
    """Anything lvs refuses or the kernel refuses.

    ``errno`` is the kernel's errno when the kernel refused, ``operation`` what was tried
    (``"add service"``); both are ``None`` when nothing reached the kernel.
    """

    errno: Optional[int]
    operation: Optional[str]

    def __init__(
        self, message: str, errno: Optional[int] = None, operation: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.errno = errno
        self.operation = operation


class ServiceExists(LvsError):
    """The service exists already (``ipvsadm -A`` of a service that is there)."""


class DestinationExists(LvsError):
    """The real server exists already."""


class DaemonExists(LvsError):
    """A sync daemon of that role runs already."""


class NotFound(LvsError, LookupError):
    """Something named does not exist."""


class NoSuchService(NotFound):
    """No such service."""


class NoSuchDestination(NotFound):
    """No such real server."""


class NoSuchDaemon(NotFound):
    """No sync daemon of that role runs."""


class SchedulerNotFound(NotFound):
    """The scheduler or persistence engine module is not in the kernel."""


class PermissionDenied(LvsError):
    """CAP_NET_ADMIN is missing (IPVS needs it for reads too)."""


class NotSupported(LvsError):
    """The running kernel cannot do what was asked."""


class NotAvailable(LvsError):
    """The kernel has no IPVS (``modprobe ip_vs``)."""


class InvalidArgument(LvsError, ValueError):
    """A value that lvs or the kernel refuses (validation errors, EINVAL, ERANGE).

    ``path`` says where in a ruleset or a dict the value at fault is
    (``"services[2].destinations[0]"``; ``""`` for the whole value), when lvs knows.
    """

    path: Optional[str] = None


class ParseError(InvalidArgument):
    """A rule file that ipvsadm would refuse; ``line`` and ``column`` are 1-based."""

    line: int
    column: int

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class NetlinkError(LvsError):
    """The netlink conversation failed (I/O, an undecodable or missing reply)."""


class Timeout(NetlinkError, TimeoutError):
    """The kernel did not answer within the handle's ``reply_timeout``. Whether a change was
    carried out is unknown; the socket was replaced (a late answer is never taken for another
    request's), and a :class:`Reconciler` reads the whole table at its next apply."""


__all__ = [
    "LvsError",
    "ServiceExists",
    "DestinationExists",
    "DaemonExists",
    "NotFound",
    "NoSuchService",
    "NoSuchDestination",
    "NoSuchDaemon",
    "SchedulerNotFound",
    "PermissionDenied",
    "NotSupported",
    "NotAvailable",
    "InvalidArgument",
    "ParseError",
    "NetlinkError",
    "Timeout",
]
