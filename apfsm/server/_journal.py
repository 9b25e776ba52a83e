"""A ``--state`` file's journal rows read back (``_durable``): each row decoded into the
command it records, or refused as damaged — a row the server cannot have written (its time,
command, arguments or body unreadable; a command or operation apfsm does not know) is never
skipped, as a checkpoint row that cannot be read is not (issue 16)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from apfsm._clock import require_aware
from apfsm._errors import ApiError
from apfsm._sim import Simulator, report_call
from apfsm._spec import OPERATIONS, REPORT_OPERATIONS

from ._wire import _loads

__all__: list[str] = []

#: The arguments each journal command is written with (``_ServerState.run``'s callers):
#: per argument, the JSON types it has, or None where any value was journaled (the
#: simulator refused a wrong one the first time, and refuses it again on replay).
_TEXT: Final = (str,)
_TEXT_OR_NULL: Final = (str, type(None))
_JOURNAL_ARGS: Final[Mapping[str, tuple[tuple[type, ...] | None, ...]]] = {
    "api": (_TEXT, _TEXT_OR_NULL, _TEXT_OR_NULL, _TEXT_OR_NULL),
    "report": (_TEXT, _TEXT_OR_NULL, (dict,), _TEXT_OR_NULL),  # the last: its key
    "approve": (_TEXT, None),
    "cancel": (_TEXT,),
    "advance": ((int, float),),
    "sign_in": (None,),
    "dispute": (_TEXT, None, None, None),
    "event": (_TEXT, _TEXT, _TEXT_OR_NULL),
}


def _body(body: object) -> Any:
    """A journaled request body, decoded as the call decoded it (only JSON is journaled:
    a body that is not was refused before the call ran)."""
    if body is None:
        return None
    if not isinstance(body, bytes):
        raise ValueError(f"its body is a {type(body).__name__}, not bytes")
    if not body.strip():
        return None
    try:
        return _loads(body, exact=True)
    except ApiError as exc:
        raise ValueError(f"its body is not JSON: {exc.message}") from None


def _journal_entry(
    at: object, kind: object, args: object, body: object
) -> tuple[datetime, Callable[[Simulator], object]]:
    """One journal row decoded: when it ran, and the command to run again.

    Raises:
        ValueError: a row the server cannot have written (damaged): its time, command,
            arguments or body unreadable, or a command or operation apfsm does not know.
    """
    if not isinstance(at, str):
        raise ValueError(f"its time is not a timestamp: {at!r}")
    try:
        when = require_aware(datetime.fromisoformat(at))
    except (ValueError, TypeError):
        raise ValueError(f"its time is not a timestamp with a UTC offset: {at!r}") from None
    if not isinstance(kind, str) or kind not in _JOURNAL_ARGS:
        raise ValueError(f"it names an unknown command {kind!r}")
    layout = _JOURNAL_ARGS[kind]
    if not isinstance(args, str):
        raise ValueError(f"its arguments are not JSON text: {args!r}")
    try:
        values = json.loads(args)
    except (ValueError, RecursionError):
        raise ValueError(f"its arguments are not JSON: {args[:80]!r}") from None
    if kind == "report" and isinstance(values, list) and len(values) == 3:
        values.append(None)  # written before the Reports API took idempotency keys
    if not isinstance(values, list) or len(values) != len(layout):
        raise ValueError(f"{kind}'s arguments are not a list of {len(layout)}: {args[:80]!r}")
    for n, (value, kinds) in enumerate(zip(values, layout, strict=True)):
        if kinds is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
            raise ValueError(f"{kind}'s argument {n} is not a {kinds[0].__name__}: {value!r}")
    return when, _command(kind, values, body)


def _command(kind: str, args: list[Any], body: object) -> Callable[[Simulator], object]:
    if kind == "api":
        operation, object_id, key, code = args
        op = OPERATIONS.get(operation)
        if op is None:
            raise ValueError(f"it names an unknown operation {operation!r}")
        decoded = None if op.is_read else _body(body)
        return lambda sim: sim.request(
            operation, object_id, decoded, idempotency_key=key, simulation_code=code
        )
    if kind == "report":  # the Reports API (docs/reports.md)
        name, object_id, query, key = args
        if name not in REPORT_OPERATIONS:
            raise ValueError(f"it names an unknown report operation {name!r}")
        decoded = _body(body)
        return lambda sim: report_call(sim.reports, name, object_id, query, decoded, key)
    if kind == "advance":
        try:
            delta = timedelta(seconds=args[0])
        except (OverflowError, ValueError):
            raise ValueError(f"it advances the clock by {args[0]!r} seconds") from None
        if delta < timedelta(0):
            raise ValueError(f"it moves the clock back by {-args[0]!r} seconds")
        return lambda sim: sim.advance(delta)
    if kind == "approve":
        return lambda sim: sim.buyer_approve(args[0], card=args[1])
    if kind == "cancel":
        return lambda sim: sim.buyer_cancel(args[0])
    if kind == "sign_in":
        return lambda sim: sim.buyer_sign_in(scopes=args[0])
    if kind == "dispute":
        return lambda sim: sim.file_dispute(
            args[0], filing_reason=args[1], dispute_type=args[2], amount=args[3]
        )
    assert kind == "event", kind  # _JOURNAL_ARGS names no other
    return lambda sim: sim.amazon_event(args[0], args[1], reason=args[2])
