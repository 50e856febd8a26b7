"""The hostile-input matrix through Python (no kernel): every case of ``tests/hostile`` is
refused by ``Ruleset.from_dict`` (JSON and TOML documents) or ``Ruleset.parse`` (rule files)
with lvs's message, and ``InvalidArgument.path`` says where."""

import json
import pathlib
import re
import tomllib
from typing import Any

import pytest

import lvs

HOSTILE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "hostile"
CASES = sorted(p for p in HOSTILE.iterdir() if p.suffix != ".error")
POSITION = re.compile(r"^\d+:\d+: ")


def strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate key in {keys}")
    return dict(pairs)


def load(path: pathlib.Path) -> Any:
    """The document as Python data, or raise where Python cannot hold it (a key twice,
    trailing text): those faults exist only in text."""
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text, object_pairs_hook=strict_pairs)
    return tomllib.loads(text)


def test_the_matrix_is_there() -> None:
    assert len(CASES) >= 20
    assert {p.suffix for p in CASES} == {".json", ".toml", ".rules"}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_each_case_is_refused_with_its_message(path: pathlib.Path) -> None:
    expected = path.with_suffix(".error").read_text().rstrip("\n")
    if path.suffix == ".rules":
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            # A Python str is always text: bytes that are not UTF-8 never reach lvs.
            assert "invalid UTF-8" in expected, expected
            return
        with pytest.raises(lvs.ParseError) as parse_error:
            lvs.Ruleset.parse(text)
        assert str(parse_error.value) == expected
        return
    try:
        data = load(path)
    except ValueError:
        # Only text can say it: the same fault never reaches from_dict.
        assert POSITION.match(expected), expected
        return
    with pytest.raises(lvs.InvalidArgument) as refused:
        lvs.Ruleset.from_dict(data)
    message = str(refused.value)
    if POSITION.match(expected):
        # A shape error: the path and the message, without the text's position.
        assert message == "not a valid ruleset: " + POSITION.sub("", expected)
        path_shown = POSITION.sub("", expected).split(": ")[0]
        assert refused.value.path in (path_shown, "")
    else:
        assert message == expected
        assert refused.value.path == expected.split(" ")[0]


def test_ruleset_constructor_refuses_duplicates() -> None:
    svc = lvs.Service("10.0.0.13", 80, scheduler="rr")
    with pytest.raises(lvs.InvalidArgument) as twice:
        lvs.Ruleset([svc, svc])
    assert str(twice.value) == (
        "services[1] (-t 10.0.0.13:80): listed twice: the same service as services[0]"
    )
    assert twice.value.path == "services[1]"
    assert lvs.Ruleset([svc]).services[0].service == svc


def test_from_dict_of_parts_refuses_unknown_keys() -> None:
    with pytest.raises(lvs.InvalidArgument) as bad:
        lvs.Destination.from_dict({"addr": "192.168.8.14:80", "wieght": 3})
    assert str(bad.value).startswith("not a valid destination: wieght: unknown field `wieght`")
    assert bad.value.path == "wieght"


def test_from_dict_of_a_virtual_service_entry_is_strict() -> None:
    real = lvs.Destination("192.168.8.14", 80, forward="masq")
    entry = lvs.VirtualServiceEntry(
        lvs.Service("10.0.0.13", 80), lvs.ServiceState(),
        [lvs.DestinationEntry(real, lvs.DestinationState(active_conns=2))])
    data = entry.to_dict()
    assert lvs.VirtualServiceEntry.from_dict(data) == entry
    misspelt = json.loads(json.dumps(data))
    misspelt["destinations"][0]["state"]["activ_conns"] = 2
    with pytest.raises(lvs.InvalidArgument) as bad:
        lvs.VirtualServiceEntry.from_dict(misspelt)
    assert str(bad.value).startswith("not a valid virtual service entry: ")
    assert bad.value.path == "destinations[0].state.activ_conns"
    missing = {k: v for k, v in data.items() if k != "destinations"}
    with pytest.raises(lvs.InvalidArgument, match="missing field `destinations`"):
        lvs.VirtualServiceEntry.from_dict(missing)
    wrong = dict(data, destinations=[real.to_dict()])
    with pytest.raises(lvs.InvalidArgument) as bad:
        lvs.VirtualServiceEntry.from_dict(wrong)
    assert (bad.value.path or "").startswith("destinations[0]")
