"""Decoding a large JSON body — a snapshot, up to ``MAX_SNAPSHOT_BYTES`` — without holding
the interpreter's lock for the whole parse.

``json.loads`` is one call into the C decoder, which never lets go of the GIL: measured
(2026-12-07, a quiet machine), a 185 MB document took 8.0 s to parse and a thread that
wanted to run every millisecond waited 7.4 s, in a worker thread as on the event loop — so
``PUT /_apfsm/snapshot`` of a 500,000-object state (1.35 GB, ~20 s to parse) would stop
every other call for as long. Here the outer ``WALKED`` levels (the snapshot object and its
lists: objects, keys, the call log, ...) are walked in Python and each of their elements
is decoded by the C decoder on its own (``JSONDecoder.raw_decode``), so between two
elements the interpreter may switch threads; the bytes are decoded to text in chunks for
the same reason. The result is ``json.loads``'s (same values, last duplicate key wins, the
same errors as ``ValueError``), with ``_wire``'s rules for numbers and constants and its
nesting limit."""

from __future__ import annotations

import codecs
import json
import re
from json.decoder import JSONDecodeError
from typing import Any, Final

from ._wire import MAX_JSON_DEPTH, _finite_float, _reject_constant, _too_deep

#: Container levels walked in Python; deeper values are decoded whole by the C decoder.
WALKED: Final = 2
#: Bytes decoded to text at a time.
_CHUNK: Final = 8 * 1024 * 1024
_SPACE: Final = re.compile(r"[ \t\n\r]*")
_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


class _TooDeep(ValueError):
    """The document nests objects and arrays deeper than ``MAX_JSON_DEPTH``."""


def _loads_yielding(raw: bytes) -> Any:
    """``json.loads(raw)`` with ``_wire``'s number rules, letting other threads run
    between the elements of its outer levels (module docs).

    Raises:
        _TooDeep: nesting deeper than ``MAX_JSON_DEPTH``.
        ValueError: not JSON (``JSONDecodeError``, ``UnicodeDecodeError``, a NaN or an
            out-of-range number), as ``json.loads`` would.
        RecursionError: as ``json.loads`` would.
    """
    text = _text(raw)
    if text.startswith("\ufeff"):
        raise JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    value, end = _value(text, _skip(text, 0), 0)
    end = _skip(text, end)
    if end != len(text):
        raise JSONDecodeError("Extra data", text, end)
    return value


def _text(raw: bytes) -> str:
    decoder = codecs.getincrementaldecoder(json.detect_encoding(raw))("strict")
    view = memoryview(raw)
    parts = [decoder.decode(view[i : i + _CHUNK]) for i in range(0, len(raw), _CHUNK)]
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _value(text: str, at: int, depth: int) -> tuple[Any, int]:
    """The value at ``at`` (no space before it) under ``depth`` containers, and where it
    ends."""
    head = text[at : at + 1]
    if depth < WALKED and head in ("{", "["):
        if depth + 1 > MAX_JSON_DEPTH:
            raise _TooDeep()
        return _object(text, at, depth + 1) if head == "{" else _array(text, at, depth + 1)
    try:
        value, end = _DECODER.raw_decode(text, at)
    except StopIteration as exc:  # pragma: no cover - raw_decode raises JSONDecodeError
        raise JSONDecodeError("Expecting value", text, at) from exc
    if head in ("{", "[") and _too_deep(text[at:end], MAX_JSON_DEPTH - depth):
        raise _TooDeep()
    return value, end


def _object(text: str, at: int, depth: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    at = _skip(text, at + 1)
    if text[at : at + 1] == "}":
        return out, at + 1
    while True:
        if text[at : at + 1] != '"':
            raise JSONDecodeError("Expecting property name enclosed in double quotes", text, at)
        key, at = _DECODER.raw_decode(text, at)  # a string: it starts with a quote
        at = _skip(text, at)
        if text[at : at + 1] != ":":
            raise JSONDecodeError("Expecting ':' delimiter", text, at)
        out[key], at = _value(text, _skip(text, at + 1), depth)
        closed, at = _after_item(text, at, "}")
        if closed:
            return out, at


def _array(text: str, at: int, depth: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    at = _skip(text, at + 1)
    if text[at : at + 1] == "]":
        return out, at + 1
    while True:
        value, at = _value(text, at, depth)
        out.append(value)
        closed, at = _after_item(text, at, "]")
        if closed:
            return out, at


def _after_item(text: str, at: int, close: str) -> tuple[bool, int]:
    """After a container's item: (True, past ``close``) or (False, at the next item)."""
    at = _skip(text, at)
    following = text[at : at + 1]
    if following == close:
        return True, at + 1
    if following != ",":
        raise JSONDecodeError("Expecting ',' delimiter", text, at)
    return False, _skip(text, at + 1)
