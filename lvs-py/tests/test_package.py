"""Pure tests (no kernel): lvs is the installed abi3 wheel of distribution ``lvs-py``, its
version is the crate's, and its stubs make a type checker refuse what the module refuses."""

import ast
import importlib.metadata
import json
import re
import sysconfig
from pathlib import Path
from typing import List, get_args

import mypy.api

import lvs
import lvs._lvs

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
    assert {"lvs/_lvs.pyi", "lvs/py.typed", "lvs/_types.py"} <= files


def test_metadata() -> None:
    meta = importlib.metadata.metadata(DIST)
    assert meta["Name"] == DIST and meta["Requires-Python"] == ">=3.9"
    classifiers = meta.get_all("Classifier") or []
    for c in ("Typing :: Typed", "Operating System :: POSIX :: Linux",
              "Programming Language :: Python :: 3 :: Only",
              "License :: OSI Approved :: MIT License",
              "License :: OSI Approved :: Apache Software License"):
        assert c in classifiers
    assert "ipvs" in (meta["Keywords"] or "").split(",")
    # No project URL: there is no public repository to point at yet.
    assert not meta.get_all("Project-URL")


TYPED = '''
import lvs
svc = lvs.Service("10.0.0.1", 80, scheduler="rr")
dest = lvs.Destination("10.0.0.2", 80, forward="masq")
reveal_type(svc.scheduler)
reveal_type(svc.flags)
reveal_type(dest.forward)
lvs.Destination("10.0.0.2", 80, forward="masquerade")
lvs.Service("10.0.0.1", 80, scheduler="round-robin")
lvs.Service("10.0.0.1", 80, protocol="icmp")
lvs.Service(fwmark=1, family="ipx")
lvs.Service("10.0.0.1", 80, scheduler="sh", sched_flags=["sh-prot"])
lvs.Destination("10.0.0.2", 80, forward="tunnel", tun_type="vxlan", tun_csum="crc")
'''


def test_stubs_make_mypy_refuse_wrong_names() -> None:
    out, err, status = mypy.api.run(
        ["--strict", "--no-incremental", "--cache-dir=/dev/null", "-c", TYPED])
    assert status == 1, out + err
    revealed = re.findall(r'^<string>:\d+: note: Revealed type is "(.*)"$', out, re.M)
    assert len(revealed) == 3, out
    scheduler, _, forward = (set(re.findall(r"'([a-z-]+)'", r)) for r in revealed)
    assert scheduler == set(get_args(lvs.SchedulerName)) and "str" not in revealed[0]
    assert revealed[1] == "lvs._types.ServiceFlags"
    assert forward == set(get_args(lvs.ForwardName)) and revealed[2].endswith("| int")
    refused = re.findall(r'^<string>:(\d+): error: .*\[(?:arg-type|list-item)\]$', out, re.M)
    lines = TYPED.splitlines()
    assert sorted({int(n) for n in refused}) == [
        n + 1 for n, line in enumerate(lines) if line.startswith("lvs.")], out


def stub_value_classes() -> List[str]:
    """The classes the stubs give the shared ``_Value`` base (``to_dict``, ``from_dict`` and
    the copies, written once)."""
    tree = ast.parse((Path(lvs._lvs.__file__).parent / "_lvs.pyi").read_text())
    return sorted(
        node.name for node in tree.body if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id == "_Value" for b in node.bases))


def test_stub_value_base_is_on_the_value_classes_only() -> None:
    # stubtest checks what a stub class says itself, not what it inherits: a class given the
    # base without the methods at run time would pass it.
    runtime = sorted(
        name for name in lvs._lvs.__all__
        if isinstance(getattr(lvs._lvs, name), type)
        and hasattr(getattr(lvs._lvs, name), "from_dict"))
    assert len(runtime) == 16
    assert stub_value_classes() == runtime
    for name in runtime:
        cls = getattr(lvs._lvs, name)
        assert cls.__bases__ == (object,)
        for method in ("to_dict", "from_dict", "__copy__", "__deepcopy__", "__reduce__"):
            assert method in vars(cls), (name, method)


def test_stubs_type_from_dict_and_copies_as_the_class() -> None:
    names = stub_value_classes()
    lines = ["import copy", "from typing import Any", "import lvs", "def f(d: Any) -> None:"]
    for name in names:
        lines += [f"    reveal_type(lvs.{name}.from_dict(d))",
                  f"    reveal_type(copy.copy(lvs.{name}.from_dict(d)))",
                  f"    reveal_type(lvs.{name}.from_dict(d).__deepcopy__({{}}))"]
    out, err, status = mypy.api.run(
        ["--strict", "--no-incremental", "--cache-dir=/dev/null", "-c", "\n".join(lines)])
    assert status == 0, out + err
    revealed = re.findall(r'^<string>:\d+: note: Revealed type is "(.*)"$', out, re.M)
    assert revealed == [f"lvs._lvs.{name}" for name in names for _ in range(3)], out
