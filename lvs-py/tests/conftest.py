"""Shared fixtures of lvs-py's pytest suite.

Tests marked ``kernel`` talk to IPVS: ``tests/harness.sh test`` runs each of them in its own
fresh network namespace inside the VM (empty IPVS table, ``lo`` up, a private /run/netns). On
the host, ``-m "not kernel"`` runs the rest. A kernel test never skips: missing IPVS fails it.
"""

import ctypes
import marshal
import os
import select
import signal
import subprocess
import time
import traceback
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
from _pytest.reports import TestReport
from _pytest.runner import runtestprotocol

import lvs

# The tests are of the installed wheel (tests/harness.sh builds it with maturin and installs it
# into its venv, on the host and in the VM alike), never of the source tree's half-package.
SOURCE = Path(__file__).resolve().parents[1] / "python"
if Path(lvs.__file__).resolve().is_relative_to(SOURCE):
    raise ImportError(f"lvs was imported from the source tree ({lvs.__file__}), not a wheel")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kernel: needs IPVS; run in a fresh namespace by tests/harness.sh test"
    )
    if os.environ.get(FORK_VARIABLE):
        # Imported once here rather than in every forked test (20 s each under the VM's
        # emulation); only the kernel tests need it, so only the VM has it.
        import pyroute2  # type: ignore[import-untyped]  # noqa: F401


# In the VM, tests/harness/run-kernel-tests.sh starts pytest once for all the kernel tests and
# sets LVS_PYTEST_FORK to the seconds each test may take. Each kernel test then runs in a child
# forked from this process, in new network and mount namespaces (an empty IPVS table, `lo` up, a
# private /run/netns): the isolation of one process per test, for one interpreter and pytest
# start (about 20 s each under the VM's emulation). The child sends its reports back through a
# pipe, with marshal (which keeps the tuples pytest's reports hold); a child that dies or
# overruns its time is reported as a failure. pytest-forked would do this, but neither its 1.6.0
# nor its 1.7.5 runs a test under pytest 9.2.
FORK_VARIABLE = "LVS_PYTEST_FORK"
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000


def pytest_runtest_protocol(item: pytest.Item, nextitem: Optional[pytest.Item]) -> Optional[bool]:
    seconds = os.environ.get(FORK_VARIABLE)
    if not seconds or item.get_closest_marker("kernel") is None:
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in _run_forked(item, float(seconds)):
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _fresh_namespaces() -> None:
    """Moves this (single-threaded, just forked) process into new network and mount namespaces."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET | CLONE_NEWNS) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare: {os.strerror(errno)}")
    # The runner's namespace made every mount private; this copy of them is private too.
    run("mount", "-t", "tmpfs", "-o", "mode=0755", "lvs-netns", "/run/netns")
    run("ip", "link", "set", "lo", "up")


def _run_forked(item: pytest.Item, seconds: float) -> List[TestReport]:
    config = item.config
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            _fresh_namespaces()
            reports = runtestprotocol(item, nextitem=None, log=False)
            data = [config.hook.pytest_report_to_serializable(config=config, report=r) for r in reports]
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(marshal.dumps(data))
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    os.close(write_end)
    chunks: List[bytes] = []
    deadline = time.monotonic() + seconds
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            os.kill(pid, signal.SIGKILL)
            timed_out = True
            break
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not timed_out and status == 0 and chunks:
        data = marshal.loads(b"".join(chunks))
        return [config.hook.pytest_report_from_serializable(config=config, data=d) for d in data]
    why = (
        f"the forked test ran over its {seconds:.0f} s and was killed"
        if timed_out
        else f"the forked test died (wait status {status}) before it reported"
    )
    failed = TestReport(
        nodeid=item.nodeid,
        location=item.location,
        keywords={k: 1 for k in item.keywords},
        outcome="failed",
        longrepr=why,
        when="call",
    )
    return [failed]


@pytest.fixture
def ipvs() -> Iterator[lvs.Ipvs]:
    """A handle on this (fresh) namespace's IPVS table."""
    with lvs.Ipvs() as handle:
        yield handle


def ipvsadm(*args: str, stdin: str = "") -> str:
    """Runs ipvsadm and returns its standard output; a failure fails the test."""
    done = subprocess.run(
        ["ipvsadm", *args], input=stdin, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"ipvsadm {' '.join(args)}: {done.stderr}"
    return done.stdout


def run(*argv: str) -> None:
    subprocess.run(list(argv), check=True, timeout=60)


@pytest.fixture
def netns() -> Iterator[List[str]]:
    """Creates named network namespaces on demand (`netns.append(name)` after `ip netns add`)
    and deletes them afterwards."""
    names: List[str] = []
    yield names
    for name in names:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=60)
