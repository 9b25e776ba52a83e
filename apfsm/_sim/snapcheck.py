"""A snapshot checked in full before it is loaded (issue 16): every field's type, states,
reasons, object types, amounts, timestamps, links and scheduled actions — so a bad one is
refused with the path of its first fault (``objects[3].amount``), never loaded to fail a
later call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs

from apfsm._clock import EARLIEST, LATEST
from apfsm._spec import (
    DISPUTE_RESOLUTIONS,
    DISPUTE_TYPES,
    ERRORS,
    FILING_REASONS,
    LIFECYCLES,
    OPERATIONS,
    PROCESSING_STATUSES,
    REPORT_TYPES,
    SCHEDULE_FREQUENCIES,
)

from .records import RECORD_TYPES
from .report_parse import KEYED
from .scheduler import EVENTS, TIMERS
from .shapes import SIGN_IN_SCOPES
from .store import COUNTERS

__all__ = ["SnapshotError", "check_snapshot"]

#: Largest amount a snapshot may hold: more digits than any Amazon Pay amount allows
#: (SPEC §1: amounts are at most 12 digits and 2 decimals), few enough to stay exact.
_AMOUNT: Final = re.compile(r"\d{1,15}(\.\d{1,6})?")
_DATES: Final = frozenset(
    {
        "created_at",
        "updated_at",
        "authorized_at",
        "last_charge_at",
        "closed_at",
        "action_required_at",
    }
)
_AMOUNTS: Final = frozenset({"amount", "capture_amount", "amount_limit"})
#: The operations that take idempotency keys (SPEC §7: the POSTs).
_KEYED_OPERATIONS: Final = tuple(name for name, op in OPERATIONS.items() if op.method == "POST")
#: Fields whose value is one of a closed set (null allowed where the field's type is
#: optional); a list field's every item. What the record's JSON and the rules read.
_CHOICES: Final[Mapping[tuple[str, str], tuple[str, ...]]] = {
    ("Dispute", "dispute_type"): DISPUTE_TYPES,
    ("Dispute", "filing_reason"): FILING_REASONS,
    ("Dispute", "resolution"): DISPUTE_RESOLUTIONS,
    ("Buyer", "scopes"): tuple(SIGN_IN_SCOPES),
}
#: Fields typed optional that a stored record always has: a dispute is opened
#: ActionRequired (``disputes.open_dispute``), and its response window counts from then.
_SET: Final = frozenset({("Dispute", "action_required_at")})
#: Fields typed optional that a record in these states always has: an Authorized charge's
#: authorization expires 30 days after ``authorized_at`` (SPEC §2; ``Effects.enter``).
_SET_IN: Final[Mapping[tuple[str, str], tuple[str, ...]]] = {
    ("Charge", "authorized_at"): ("Authorized",),
}
#: Parent links a record's JSON is computed through (they must name a stored object).
_PARENTS: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "Charge": (("charge_permission_id", "ChargePermission"),),
    "Refund": (("charge_id", "Charge"),),
    # The IPN of a dispute names its charge permission (``DisputeRecord``).
    "Dispute": (("charge_id", "Charge"), ("charge_permission_id", "ChargePermission")),
}
_CHILDREN: Final = {"charges": "Charge", "refunds": "Refund"}
_TIMER_NAMES: Final = frozenset(name for _, name in TIMERS)
_EVENT_NAMES: Final = frozenset(name for _, name in EVENTS)


class SnapshotError(ValueError):
    """A snapshot refused on load; ``path`` names the faulty field (``objects[3].amount``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"malformed simulator snapshot: {path}: {problem}")
        self.path = path
        self.problem = problem


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _need(value: Any, kinds: type | tuple[type, ...], path: str, what: str) -> None:
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise SnapshotError(path, f"must be {what}, got a boolean")
    if not isinstance(value, kinds):
        raise SnapshotError(path, f"must be {what}, got {_kind(value)}")


def timestamp(value: Any, path: str) -> datetime:
    """An aware ISO timestamp, or a ``SnapshotError``."""
    _need(value, str, path, "an ISO timestamp")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise SnapshotError(path, f"is not an ISO timestamp: {value!r}") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise SnapshotError(path, f"is a naive timestamp (no UTC offset): {value!r}")
    # Any later (or earlier), a deadline or retention added to it leaves Python's dates,
    # and every later call would fail (an OverflowError, a 500) instead of the load.
    try:
        inside = EARLIEST <= when < LATEST
    except OverflowError:  # 0001-01-01T00:00+01:00: before any UTC instant
        inside = False
    if not inside:
        raise SnapshotError(path, f"is not between the years 1900 and 8999: {value!r}")
    return when


def _amount(value: Any, path: str) -> None:
    _need(value, str, path, "an amount as a string")
    if not _AMOUNT.fullmatch(value):
        raise SnapshotError(path, f"is not a non-negative amount of at most 15 digits: {value!r}")
    try:
        Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise SnapshotError(path, f"is not an amount: {value!r}") from None


def _field(kind: str, name: str, annotation: str, value: Any, path: str) -> None:
    optional = annotation.endswith("| None") and (kind, name) not in _SET
    if value is None:
        if not optional:
            raise SnapshotError(path, "must not be null")
        return
    base = annotation.removesuffix(" | None")
    if name in _DATES:
        timestamp(value, path)
    elif name in _AMOUNTS:
        _amount(value, path)
    elif base == "str":
        _need(value, str, path, "a string")
    elif base == "int":
        _need(value, int, path, "an integer")
    elif base == "bool":
        _need(value, bool, path, "a boolean")
    elif base.startswith("dict"):
        _need(value, dict, path, "a JSON object")
    elif base.startswith(("tuple", "list")):
        _need(value, list, path, "a list")
        for i, item in enumerate(value):
            _need(item, str, f"{path}[{i}]", "a string")
    else:  # pragma: no cover - a record field of a new type needs a rule here
        raise AssertionError(f"no snapshot rule for {name}: {annotation}")
    choices = _CHOICES.get((kind, name))
    if choices is not None:
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            _one_of(item, choices, f"{path}[{i}]" if isinstance(value, list) else path)


def _dispute_extra(extra: Mapping[str, Any] | None, path: str) -> None:
    """What a dispute's JSON and Contest Dispute read from ``extra`` (``DisputeRecord``):
    the merchant's evidences are a list; a provider's reported status names the state and
    reason it describes."""
    if extra is None:
        return
    evidences = extra.get("merchantEvidences", [])
    _need(evidences, list, f"{path}.merchantEvidences", "a list")
    reported = extra.get("reportedStatus")
    if reported is None:
        return
    where = f"{path}.reportedStatus"
    _need(reported, dict, where, "a JSON object or null")
    for key in ("state", "reasonCode", "reasonDescription"):
        if key not in reported:
            raise SnapshotError(f"{where}.{key}", "is missing")
    _need(reported["state"], str, f"{where}.state", "a string")
    if reported["reasonCode"] is not None:
        _need(reported["reasonCode"], str, f"{where}.reasonCode", "a string or null")


def _record(item: Any, path: str) -> tuple[str, str]:
    _need(item, dict, path, "a JSON object")
    kind = item.get("type")
    cls = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise SnapshotError(f"{path}.type", f"unknown object type {kind!r}")
    fields = {f.name: f for f in attrs.fields(cls)}
    for name in item:
        if name != "type" and name not in fields:
            raise SnapshotError(f"{path}.{name}", f"is not a field of a {kind} record")
    for name, field in fields.items():
        if name not in item:
            if field.default is attrs.NOTHING or (kind, name) in _SET:
                raise SnapshotError(f"{path}.{name}", "is missing")
            continue
        _field(kind, name, str(field.type), item[name], f"{path}.{name}")
    if kind == "Dispute":
        _dispute_extra(item.get("extra"), f"{path}.extra")
    for (needer, name), states in _SET_IN.items():
        if kind == needer and item["state"] in states and item.get(name) is None:
            raise SnapshotError(f"{path}.{name}", f"must be set on a {kind} {item['state']}")
    lifecycle = LIFECYCLES[kind]
    state = item["state"]
    names = [s.name for s in lifecycle.states if not s.virtual]
    if state not in names:
        raise SnapshotError(
            f"{path}.state", f"{state!r} is not a {kind} state ({', '.join(names)})"
        )
    allowed = lifecycle.state(state).reasons
    reasons = item.get("reasons") if "reasons" in fields else [item.get("reason")]
    for i, reason in enumerate(reasons or ()):
        if reason is not None and reason not in allowed:
            where = f"{path}.reasons[{i}]" if "reasons" in fields else f"{path}.reason"
            raise SnapshotError(where, f"{reason!r} is not a reason of {kind} {state}")
    return item["id"], kind


def _links(objects: list[dict[str, Any]], types: dict[str, str]) -> None:
    for n, item in enumerate(objects):
        for field, kind in _PARENTS.get(item["type"], ()):
            if types.get(item.get(field, "")) != kind:
                raise SnapshotError(
                    f"objects[{n}].{field}", f"names no stored {kind}: {item.get(field)!r}"
                )
        for field, kind in _CHILDREN.items():
            for i, child in enumerate(item.get(field, ())):
                if types.get(child) != kind:
                    raise SnapshotError(
                        f"objects[{n}].{field}[{i}]", f"names no stored {kind}: {child!r}"
                    )


def _queue(queue: Any, types: dict[str, str]) -> None:
    _need(queue, list, "queue", "a list")
    for n, entry in enumerate(queue):
        path = f"queue[{n}]"
        if not isinstance(entry, list) or len(entry) != 5:
            raise SnapshotError(path, "must be [due, strict, seq, number, action]")
        due, strict, seq, number, action = entry
        timestamp(due, f"{path}[0]")
        for i, value in ((1, strict), (2, seq), (3, number)):
            _need(value, int, f"{path}[{i}]", "an integer")
        if not isinstance(action, list) or not action or action[0] not in ("timer", "outcome"):
            raise SnapshotError(f"{path}[4]", f"unknown scheduled action {action!r}")
        size = 3 if action[0] == "timer" else 4
        if len(action) != size or not all(isinstance(a, str) for a in action):
            raise SnapshotError(f"{path}[4]", f"unknown scheduled action {action!r}")
        object_id, name = action[1], action[2]
        kind = types.get(object_id)
        table, names = (TIMERS, _TIMER_NAMES) if action[0] == "timer" else (EVENTS, _EVENT_NAMES)
        # An entry of a deleted object is harmless (it no longer applies); a name is not.
        if (kind is not None and (kind, name) not in table) or (kind is None and name not in names):
            raise SnapshotError(f"{path}[4]", f"unknown scheduled {action[0]} {name!r}")


def _idempotency(keys: Any) -> None:
    """The keys (version 2): per operation, each (operation, key) once, in the order taken."""
    _need(keys, list, "idempotency", "a list")
    taken: set[tuple[str, str]] = set()
    for n, entry in enumerate(keys):
        path = f"idempotency[{n}]"
        _need(entry, dict, path, "a JSON object")
        _one_of(entry.get("operation"), _KEYED_OPERATIONS, f"{path}.operation")
        _need(entry.get("key"), str, f"{path}.key", "a string")
        slot = (entry["operation"], entry["key"])
        if slot in taken:
            raise SnapshotError(f"{path}.key", f"{slot[1]!r} is stored twice for {slot[0]}")
        taken.add(slot)
        for name, kinds, what in (
            ("fingerprint", str, "a string"),
            ("status", int, "an integer"),
            ("logSeq", int, "an integer"),
        ):
            if name not in entry:
                raise SnapshotError(f"{path}.{name}", "is missing")
            _need(entry[name], kinds, f"{path}.{name}", what)
        error = entry.get("error")
        if error is not None and not (
            isinstance(error, list)
            and len(error) == 3
            and isinstance(error[0], str)
            and isinstance(error[1], int)
            and not isinstance(error[1], bool)
            and isinstance(error[2], str)
        ):
            raise SnapshotError(f"{path}.error", "must be null or [code, status, message]")


def _one_of(value: Any, choices: Iterable[str], path: str) -> None:
    if not isinstance(value, str) or value not in choices:
        raise SnapshotError(path, f"{value!r} is not one of {', '.join(choices)}")


def _reports(book: Any) -> None:
    """The Reports API's state (``ReportBook.to_json``): reports as [id, type, start, end,
    created, status, ended, document id], schedules as [id, type, frequency, next]."""
    if book is None:
        return
    _need(book, dict, "reports", "a JSON object")
    for name in ("next", "reports", "schedules"):
        if name not in book:
            raise SnapshotError(f"reports.{name}", "is missing")
    _need(book["next"], int, "reports.next", "an integer")
    if book["next"] < 0:
        raise SnapshotError("reports.next", "must not be negative")
    for key, size, layout in (
        ("reports", 8, "[id, type, start, end, created, status, ended, documentId]"),
        ("schedules", 4, "[id, type, frequency, next]"),
    ):
        _need(book[key], list, f"reports.{key}", "a list")
        for n, entry in enumerate(book[key]):
            path = f"reports.{key}[{n}]"
            if not isinstance(entry, list) or len(entry) != size:
                raise SnapshotError(path, f"must be {layout}")
            _need(entry[0], str, f"{path}[0]", "a string")
            _one_of(entry[1], REPORT_TYPES, f"{path}[1]")
            if key == "schedules":
                _one_of(entry[2], SCHEDULE_FREQUENCIES, f"{path}[2]")
                timestamp(entry[3], f"{path}[3]")
                continue
            for i in (2, 3, 4):
                timestamp(entry[i], f"{path}[{i}]")
            status, ended, document = entry[5], entry[6], entry[7]
            _one_of(status, PROCESSING_STATUSES, f"{path}[5]")
            if ended is not None:
                timestamp(ended, f"{path}[6]")
            if document is not None:
                _need(document, str, f"{path}[7]", "a string or null")
                if status != "COMPLETED":  # only a completed report has a document
                    raise SnapshotError(f"{path}[7]", f"a {status} report has no document")
    _report_keys(book.get("keys", {}))


def _report_keys(keys: Any) -> None:
    """The Reports API's idempotency keys (``ReportBook._keyed``): per keyed operation,
    each key's [fingerprint, answer, error] — the answer a JSON object replayed as it is, or
    the refusal [reasonCode, message] raised again; one of the two."""
    _need(keys, dict, "reports.keys", "a JSON object")
    for name, entries in keys.items():
        _one_of(name, KEYED, f"reports.keys.{name}")
        _need(entries, dict, f"reports.keys.{name}", "a JSON object")
        for key, entry in entries.items():
            path = f"reports.keys.{name}[{key!r}]"
            if not isinstance(entry, list) or len(entry) != 3:
                raise SnapshotError(path, "must be [fingerprint, answer, error]")
            fingerprint, answer, error = entry
            _need(fingerprint, str, f"{path}[0]", "a string")
            if (answer is None) == (error is None):
                raise SnapshotError(path, "must hold an answer or an error, not both or none")
            if answer is not None:
                _need(answer, dict, f"{path}[1]", "a JSON object")
            elif not (
                isinstance(error, list)
                and len(error) == 2
                and isinstance(error[0], str)
                and error[0] in ERRORS
                and isinstance(error[1], str)
            ):
                raise SnapshotError(f"{path}[2]", "must be [reasonCode, message] (a known code)")


def check_snapshot(snapshot: Mapping[str, Any]) -> None:
    """Check every part of a version-2 snapshot (its envelope already checked).

    Raises:
        SnapshotError: the first fault, with its path.
    """
    for name in ("now", "limits", "merchantId", "counters", "objects", "queue", "idempotency"):
        if name not in snapshot:
            raise SnapshotError(name, "is missing")
    timestamp(snapshot["now"], "now")
    _need(snapshot["merchantId"], str, "merchantId", "a string")
    if not snapshot["merchantId"]:
        raise SnapshotError("merchantId", "must not be empty")
    _need(snapshot.get("idSeed", ""), str, "idSeed", "a string")
    _need(snapshot["limits"], dict, "limits", "a JSON object")
    counters = snapshot["counters"]
    _need(counters, dict, "counters", "a JSON object")
    for name, value in counters.items():
        if name not in COUNTERS:
            raise SnapshotError(f"counters.{name}", f"is not a counter ({', '.join(COUNTERS)})")
        _need(value, int, f"counters.{name}", "an integer")
        if value < 0:
            raise SnapshotError(f"counters.{name}", "must not be negative")
    for name in COUNTERS:  # one missing would fail the next call that counts (an id, an IPN)
        if name not in counters:
            raise SnapshotError(f"counters.{name}", "is missing")
    objects = snapshot["objects"]
    _need(objects, list, "objects", "a list")
    types: dict[str, str] = {}
    for n, item in enumerate(objects):
        object_id, kind = _record(item, f"objects[{n}]")
        if object_id in types:
            raise SnapshotError(f"objects[{n}].id", f"{object_id!r} is stored twice")
        types[object_id] = kind
    _links(objects, types)
    _queue(snapshot["queue"], types)
    _idempotency(snapshot["idempotency"])
    _reports(snapshot.get("reports"))
    dropped = snapshot.get("notificationsDropped", 0)
    _need(dropped, int, "notificationsDropped", "an integer")
    if dropped < 0:
        raise SnapshotError("notificationsDropped", "must not be negative")
    for key in ("notifications", "log"):
        value = snapshot.get(key, [])
        _need(value, list, key, "a list")
        for n, item in enumerate(value):
            _need(item, dict, f"{key}[{n}]", "a JSON object")
            if key == "log":
                _log_record(item, f"log[{n}]")


_LOG_KINDS: Final = ("api", "buyer", "amazon")


def _log_record(item: Mapping[str, Any], path: str) -> None:
    """A call log record's fields: what reading it back (``GET /_apfsm/log``, a replayed
    idempotent answer) relies on."""
    for name, kinds, what in (("seq", int, "an integer"), ("status", int, "an integer")):
        if name not in item:
            raise SnapshotError(f"{path}.{name}", "is missing")
        _need(item[name], kinds, f"{path}.{name}", what)
    timestamp(item.get("at"), f"{path}.at")
    if item.get("kind") not in _LOG_KINDS:
        raise SnapshotError(f"{path}.kind", f"must be one of {', '.join(_LOG_KINDS)}")
    _need(item.get("operation"), str, f"{path}.operation", "a string")
    for name in ("objectId", "idempotencyKey", "simulationCode"):
        if item.get(name) is not None:
            _need(item[name], str, f"{path}.{name}", "a string or null")
    if item.get("response") is not None:
        _need(item["response"], dict, f"{path}.response", "a JSON object or null")
    error = item.get("error")
    if error is not None:
        _need(error, dict, f"{path}.error", "a JSON object or null")
        for name in ("reasonCode", "message"):
            _need(error.get(name), str, f"{path}.error.{name}", "a string")
    if not isinstance(item.get("replayed", False), bool):
        raise SnapshotError(f"{path}.replayed", "must be a boolean")
