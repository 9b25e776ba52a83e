"""Simulator snapshots: a ``Store`` as versioned JSON, and back — a restart loses nothing:
same ids, same deadlines, same pending events, same idempotency answers.

Version 2 keeps the idempotency keys per operation (``idempotency``: a list of
``{operation, key, fingerprint, status, logSeq, error}`` in the order they were taken).
Version 1 kept one key space (``{key: entry}``); a version-1 snapshot still loads
(``upgrade``): each key goes to the operation of its first request, found in the call log.
A key whose first request is no longer in the log is forgotten, as a key whose answer has
left a capped log always was — a forgotten key is a new key again.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from apfsm._clock import require_aware
from apfsm._decide import DEADLINE_FUNCTIONS
from apfsm._spec import Limits

from .log import CallLog, Idempotent, LogRecord, Slot, StoredError
from .records import RECORD_TYPES
from .scheduled import Action, Outcome, Timer
from .scheduler import TIMERS_FROM
from .snapcheck import SnapshotError, check_snapshot
from .store import Store

__all__ = [
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_VERSION",
    "check_envelope",
    "dump",
    "load",
    "upgrade",
]

SNAPSHOT_FORMAT: Final = "apfsm.simulator"
SNAPSHOT_VERSION: Final = 2

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
        if field.name in {
            "created_at",
            "updated_at",
            "authorized_at",
            "last_charge_at",
            "closed_at",
            "action_required_at",
        }:
            value = None if value is None else require_aware(datetime.fromisoformat(value))
        elif field.name in {"amount", "capture_amount", "amount_limit"}:
            value = None if value is None else Decimal(value)
        elif field.name in {"reasons", "scopes"}:
            value = tuple(value)
        kwargs[field.name] = value
    return cls(**kwargs)


def _error(value: list[Any]) -> StoredError:
    code, status, message = value
    return StoredError(str(code), int(status), str(message))


def _key_json(slot: Slot, entry: Idempotent) -> dict[str, Any]:
    """One idempotency key of a version-2 snapshot (answered: not pending)."""
    operation, key = slot
    return {
        "operation": operation,
        "key": key,
        "fingerprint": entry.fingerprint,
        "status": entry.status,
        "logSeq": entry.log_seq,
        "error": None
        if entry.error is None
        else [entry.error.code, entry.error.status, entry.error.message],
    }


def _action_json(action: Action) -> list[str]:
    # The version-1 layout: ["timer", id, name] or ["outcome", id, event, reason or ""].
    if isinstance(action, Timer):
        return ["timer", action.object_id, action.name]
    return ["outcome", action.object_id, action.event, action.reason or ""]


def _action(value: list[Any]) -> Action:
    kind, object_id, name, *rest = value
    if kind == "timer" and not rest:
        return Timer(str(object_id), str(name))
    if kind == "outcome" and len(rest) == 1:
        return Outcome(str(object_id), str(name), str(rest[0]) or None)
    raise ValueError(f"unknown scheduled action {value!r}")


def dump(store: Store, *, now: datetime, limits: Limits, log: bool = True) -> dict[str, Any]:
    """The store as a version-2 snapshot (``Simulator.snapshot``)."""
    return {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "merchantId": store.merchant_id,
        "idSeed": store.seed,
        "now": now.isoformat(),
        "limits": limits.to_json(),
        "counters": dict(store.counters),
        **({} if (reports := store.reports_json()) is None else {"reports": reports}),
        "objects": [_record_json(r) for r in store.ordered()],
        "queue": [
            [due.isoformat(), strict, seq, number, _action_json(action)]
            for due, strict, seq, number, action in sorted(store.queue)
        ],
        "idempotency": [
            _key_json(slot, entry)
            for slot, entry in store.keys.items()
            if not entry.pending  # a call still in flight has no answer to replay yet
        ],
        "notifications": [dict(n) for n in store.notifications],
        "notificationsDropped": store.notifications_dropped,
        "log": [record.to_json() for record in store.log] if log else [],
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


def _deadlines(records: list[Any], limits: Limits) -> None:
    """Each record's deadlines in its state computed once: a record whose timer could not
    be scheduled (a timestamp it needs missing, one out of range) is refused at load, not
    by the call that settles it later (a 500). ``check_snapshot`` names the known fields;
    this is the net under it."""
    for n, record in enumerate(records):
        for timer in TIMERS_FROM.get((record.object_type, record.state), ()):
            try:
                DEADLINE_FUNCTIONS[timer.deadline](record, limits)
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise SnapshotError(
                    f"objects[{n}]",
                    f"the {timer.name} deadline of a {record.object_type} {record.state} "
                    f"cannot be computed ({exc})",
                ) from None


def _log_records(snapshot: Mapping[str, Any]) -> list[LogRecord]:
    items = snapshot.get("log", [])
    if not isinstance(items, list):
        raise SnapshotError("log", "must be a list")
    records = []
    for n, item in enumerate(items):
        try:
            records.append(LogRecord.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"log[{n}]", f"not a call log record ({exc!r})") from None
    return records


def upgrade(snapshot: Mapping[str, Any], log: CallLog) -> Mapping[str, Any]:
    """A version-1 snapshot as version 2 (module docs), its keys' operations found in
    ``log`` (the snapshot's own, or a state file's); any other snapshot as it is.

    A key's first request is the record its answer is (``logSeq``), or for a refusal the
    first record, not a replay, of that key with the same refusal.

    Raises:
        SnapshotError: ``idempotency`` is not a version-1 key object.
    """
    if not isinstance(snapshot, Mapping) or snapshot.get("version") != 1:
        return snapshot
    old = snapshot.get("idempotency")
    if not isinstance(old, Mapping):
        raise SnapshotError("idempotency", "must be a JSON object (version 1)")
    refused: dict[tuple[str, str, str], str] = {}
    for item in log:
        key = item.idempotency_key
        if key is not None and key in old and item.error_code and not item.replayed:
            refused.setdefault((key, item.error_code, item.error_message or ""), item.operation)
    keys = []
    for key, entry in old.items():
        if not isinstance(entry, Mapping):
            raise SnapshotError(f"idempotency[{key!r}]", "must be a JSON object")
        error, seq = entry.get("error"), entry.get("logSeq")
        operation = None
        if isinstance(error, list) and len(error) == 3:
            operation = refused.get((key, str(error[0]), str(error[2])))
        elif isinstance(seq, int) and not isinstance(seq, bool):
            record = log.by_seq(seq)
            if record is not None and record.idempotency_key == key:
                operation = record.operation
        if operation is not None:  # else forgotten (module docs)
            keys.append({"operation": operation, "key": key, **entry})
    return {**snapshot, "version": SNAPSHOT_VERSION, "idempotency": keys}


def load(snapshot: Mapping[str, Any]) -> tuple[Store, datetime, Limits]:
    """A store read back from a snapshot, with the snapshot's instant and limits.

    Raises:
        ValueError: not a simulator snapshot, or of an unknown version;
            ``SnapshotError`` (a ``ValueError``) naming the faulty field's path
            (``objects[3].amount``) for anything malformed.
    """
    if isinstance(snapshot, Mapping) and snapshot.get("version") == 1:
        check_envelope(snapshot, SNAPSHOT_FORMAT, 1, "simulator snapshot")
        snapshot = upgrade(snapshot, CallLog(_log_records(snapshot)))
    check_envelope(snapshot, SNAPSHOT_FORMAT, SNAPSHOT_VERSION, "simulator snapshot")
    check_snapshot(snapshot)  # every field, with its path: nothing bad gets in
    try:
        limits = Limits.from_json(snapshot["limits"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise SnapshotError("limits", f"not apfsm Limits ({exc!r})") from None
    records_log = _log_records(snapshot)
    try:
        now = require_aware(datetime.fromisoformat(snapshot["now"]))
        store = Store(snapshot["merchantId"], str(snapshot.get("idSeed", "")))
        records = [_record_from_json(item) for item in snapshot["objects"]]
        by_id = {r.id: r for r in records}
        for item, record in zip(snapshot["objects"], records, strict=True):
            for link in _LINKS & set(item):
                getattr(record, link).extend(by_id[child] for child in item[link])
        _deadlines(records, limits)
        store.objects = by_id
        store.counters = {k: int(v) for k, v in snapshot["counters"].items()}
        store.queue = [
            (require_aware(datetime.fromisoformat(due)), strict, seq, number, _action(action))
            for due, strict, seq, number, action in snapshot["queue"]
        ]
        heapq.heapify(store.queue)
        store.keys = {
            (entry["operation"], entry["key"]): Idempotent(
                entry["fingerprint"],
                pending=False,
                status=entry["status"],
                log_seq=entry["logSeq"],
                error=None if entry["error"] is None else _error(entry["error"]),
            )
            for entry in snapshot["idempotency"]
        }
        store.notifications = [dict(n) for n in snapshot["notifications"]]
        store.notifications_dropped = snapshot.get("notificationsDropped", 0)
        store.log = CallLog(records_log)
        reports = snapshot.get("reports")
        if reports is not None and not isinstance(reports, dict):
            raise TypeError("reports must be a JSON object")
        store.reports = reports
    except SnapshotError:
        raise  # a fault with its path (a deadline that cannot be computed)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed simulator snapshot: {exc!r}") from None
    return store, now, limits
