"""Shared fixtures of lvs-py's pytest suite.

Tests marked ``kernel`` talk to IPVS: ``tests/harness.sh test`` runs each of them in its own
fresh network namespace inside the VM (empty IPVS table, ``lo`` up, a private /run/netns). On
the host, ``-m "not kernel"`` runs the rest. A kernel test never skips: missing IPVS fails it.
"""

import subprocess
from pathlib import Path
from typing import Iterator, List

import pytest

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
