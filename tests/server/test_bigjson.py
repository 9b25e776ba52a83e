"""apfsm.server._bigjson: a snapshot's JSON decoded as ``json.loads`` decodes it (with the
server's number rules and nesting limit), but letting other threads run meanwhile."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apfsm.server._bigjson import _loads_yielding as loads_yielding
from apfsm.server._bigjson import _TooDeep as TooDeep
from apfsm.server._wire import MAX_JSON_DEPTH, _finite_float, _reject_constant

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def reference(raw: bytes) -> Any:
    """What the server decoded a snapshot with before: one ``json.loads`` call."""
    return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)


def outcome(decode: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "value", decode(raw)
    except (ValueError, RecursionError):
        return "refused", None


@given(VALUES, st.sampled_from(["", " ", "\n\t ", "\r\n"]), st.booleans())
def test_decodes_what_json_loads_decodes(value: Any, space: str, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=1 if space else None)
    raw = (space + text.replace("\n", "\n" + space) + space).encode()
    assert reference(raw) == loads_yielding(raw)


@given(VALUES, st.data())
def test_refuses_what_json_loads_refuses(value: Any, data: st.DataObject) -> None:
    """A valid document with one character inserted, deleted or replaced: both decoders
    refuse it, or both answer the same value."""
    text = json.dumps(value)
    at = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    char = data.draw(st.sampled_from([*'{}[]:,"\\ 0-1.eEtfn', "\x00", "é"]))
    mutated = {
        "insert": text[:at] + char + text[at:],
        "delete": text[:at] + text[at + 1 :],
        "replace": text[:at] + char + text[at + 1 :],
    }[kind].encode()
    assert outcome(reference, mutated) == outcome(loads_yielding, mutated)


@pytest.mark.parametrize(
    "raw",
    [b"", b"   ", b"[1,]", b'{"a":1,}', b'{"a" 1}', b'{"a":1 "b":2}', b"[1] x", b"NaN",
     b"[Infinity]", b"[1e999]", b'{"a":[1e400]}', b"\xff", b'\xef\xbb\xbf{"a":1}', b"{1:2}",
     b'["\x01"]', b"[" * 5 + b"]" * 4],
)  # fmt: skip
def test_bad_documents_refused_alike(raw: bytes) -> None:
    assert outcome(reference, raw) == outcome(loads_yielding, raw)


def test_encodings_json_loads_detects() -> None:
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-16"):
        raw = json.dumps({"é": ["ü", 1.5]}, ensure_ascii=False).encode(encoding)
        assert reference(raw) == loads_yielding(raw) == {"é": ["ü", 1.5]}, encoding


def nested(levels: int) -> bytes:
    return b'{"a":' * (levels - 1) + b"[]" + b"}" * (levels - 1)


@pytest.mark.parametrize("walked_or_not", [nested, lambda n: b"[" * n + b"]" * n])
def test_nesting_limit_as_the_api_counts_it(walked_or_not: Any) -> None:
    assert loads_yielding(walked_or_not(MAX_JSON_DEPTH)) is not None
    with pytest.raises(TooDeep):
        loads_yielding(walked_or_not(MAX_JSON_DEPTH + 1))
    with pytest.raises(TooDeep):  # deep inside an element the C decoder decodes whole
        loads_yielding(b'{"objects":[1,' + walked_or_not(MAX_JSON_DEPTH - 1) + b"]}")
    assert loads_yielding(b'{"objects":[1,' + walked_or_not(MAX_JSON_DEPTH - 2) + b"]}")


def test_other_threads_run_during_the_parse() -> None:
    """json.loads holds the GIL for its whole parse (a thread that wants to run waits it
    out: measured 7.4 s at 185 MB); here another thread runs between the elements. With
    json.loads in its place the other thread gets in at most a couple of times."""
    raw = json.dumps({"objects": [{"id": f"S01-{i}", "n": [i, "Open"]} for i in range(200_000)]})
    ran = 0
    parsing = threading.Event()
    finished = threading.Event()

    def other() -> None:
        nonlocal ran
        parsing.wait()
        while not finished.is_set():
            ran += 1
            finished.wait(0.0001)

    thread = threading.Thread(target=other)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        thread.start()
        parsing.set()
        value = loads_yielding(raw.encode())
        during = ran
    finally:
        finished.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert len(value["objects"]) == 200_000
    assert during >= 10, during
