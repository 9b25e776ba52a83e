"""Simulator snapshots: the whole state as versioned JSON, and back (issue: restart
without losing anything — same ids, same deadlines, same pending events)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from apfsm._clock import Clock, ManualClock, require_aware
from apfsm._spec import Limits

from .log import CallLog, Idempotent, LogRecord
from .records import RECORD_TYPES

if TYPE_CHECKING:
    from .simulator import Simulator

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "dump", "load"]

SNAPSHOT_FORMAT: Final = "apfsm.simulator"
SNAPSHOT_VERSION: Final = 1

_LINKS = {"charges", "refunds"}  # lists of child records, stored as ids


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _record_json(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": record.object_type}
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        if field.name in _LINKS:
            out[field.name] = [child.id for child in value]
        else:
            out[field.name] = _encode(value)
    return out


def _record_from_json(data: Mapping[str, Any]) -> Any:
    cls = RECORD_TYPES[data["type"]]
    kwargs: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name in _LINKS or field.name not in data:
            continue
        value = data[field.name]
        if field.name in {"created_at", "updated_at", "authorized_at", "last_charge_at"}:
            value = None if value is None else require_aware(datetime.fromisoformat(value))
        elif field.name in {"amount", "capture_amount", "amount_limit"}:
            value = None if value is None else Decimal(value)
        elif field.name == "reasons":
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def _error(value: list[Any]) -> tuple[str, int, str]:
    code, status, message = value
    return str(code), int(status), str(message)


def dump(sim: Simulator, *, log: bool = True) -> dict[str, Any]:
    return {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "merchantId": sim.merchant_id,
        "now": sim.now().isoformat(),
        "limits": sim.limits.to_json(),
        "counters": dict(sim._counters),
        "objects": [_record_json(r) for r in sorted(sim._objects.values(), key=lambda r: r.seq)],
        "queue": [
            [due.isoformat(), strict, seq, number, list(action)]
            for due, strict, seq, number, action in sorted(sim._queue)
        ],
        "idempotency": {
            key: {
                "fingerprint": entry.fingerprint,
                "status": entry.status,
                "logSeq": entry.log_seq,
                "error": None if entry.error is None else list(entry.error),
            }
            for key, entry in sim._idempotency.items()
            if not entry.pending  # a call still in flight has no answer to replay yet
        },
        "notifications": [dict(n) for n in sim.notifications],
        "log": [record.to_json() for record in sim.log] if log else [],
    }


def check_envelope(data: Any, fmt: str, version: int, noun: str) -> None:
    """Check a versioned apfsm file's ``format`` and ``version`` (snapshots, traces).

    Raises:
        ValueError: not that format, or a version this apfsm does not read.
    """
    if not isinstance(data, Mapping) or data.get("format") != fmt:
        raise ValueError(f"not an apfsm {noun} (no format {fmt!r})")
    if data.get("version") != version:
        raise ValueError(
            f"{noun} version {data.get('version')!r} is not supported "
            f"(this apfsm reads version {version})"
        )


def load(
    cls: type[Simulator],
    snapshot: Mapping[str, Any],
    clock: Clock | None,
    on_notification: Callable[[dict[str, Any]], object] | None,
) -> Simulator:
    check_envelope(snapshot, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, "simulator snapshot")
    try:
        if clock is None:
            clock = ManualClock(require_aware(datetime.fromisoformat(snapshot["now"])))
        sim = cls(
            clock,
            Limits.from_json(snapshot["limits"]),
            snapshot["merchantId"],
            on_notification=on_notification,
        )
        records = [_record_from_json(item) for item in snapshot["objects"]]
        by_id = {r.id: r for r in records}
        for item, record in zip(snapshot["objects"], records, strict=True):
            for link in _LINKS & set(item):
                getattr(record, link).extend(by_id[child] for child in item[link])
        sim._objects = by_id
        sim._counters = {k: int(v) for k, v in snapshot["counters"].items()}
        sim._queue = [
            (require_aware(datetime.fromisoformat(due)), strict, seq, number, tuple(action))
            for due, strict, seq, number, action in snapshot["queue"]
        ]
        heapq.heapify(sim._queue)
        sim._idempotency = {
            key: Idempotent(
                entry["fingerprint"],
                pending=False,
                status=entry["status"],
                log_seq=entry["logSeq"],
                error=None if entry["error"] is None else _error(entry["error"]),
            )
            for key, entry in snapshot["idempotency"].items()
        }
        sim.notifications = [dict(n) for n in snapshot["notifications"]]
        sim.log = CallLog(LogRecord.from_json(item) for item in snapshot["log"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed simulator snapshot: {exc!r}") from None
    return sim
