"""Pure tests (no kernel): lvs is the installed abi3 wheel of distribution ``lvs-py``, and its
version is the crate's."""

import importlib.metadata
import json
import re
import sysconfig
from pathlib import Path

import lvs

REPO = Path(__file__).resolve().parents[2]
DIST = "lvs-py"


def workspace_version() -> str:
    text = (REPO / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    found = re.search(r'^version = "([^"]+)"', section, re.M)
    assert found, section
    return found.group(1)


def test_version_is_the_crate_version_and_the_wheel_version() -> None:
    assert lvs.__version__ == workspace_version()
    assert lvs.__version__ == importlib.metadata.version(DIST)


def test_lvs_is_the_installed_abi3_wheel_not_the_source_tree() -> None:
    dist = importlib.metadata.distribution(DIST)
    installed = Path(lvs.__file__).resolve()
    assert installed.is_relative_to(Path(sysconfig.get_paths()["purelib"]).resolve())
    assert not installed.is_relative_to(REPO / "lvs-py")
    # From a wheel file, not an editable (`pip install -e`) or source-tree install.
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    assert direct.get("url", "").endswith(".whl"), direct
    assert not direct.get("dir_info", {}).get("editable", False)
    wheel = dist.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag: (.+)$", wheel, re.M)
    assert tags and all(t.startswith("cp39-abi3-") for t in tags), wheel
    assert Path(lvs._lvs.__file__).name == "_lvs.abi3.so"
    files = {str(f) for f in dist.files or []}
    assert {"lvs/_lvs.pyi", "lvs/py.typed"} <= files
