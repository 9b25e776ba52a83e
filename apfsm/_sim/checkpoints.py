"""Incremental checkpoints for ``apfsm serve --state`` (issue 16: no pause that grows
with the state): the store written as parts a database keeps row by row, and only what
changed since the last checkpoint.

A checkpoint is ``Parts``: a small head (the instant, the limits, the merchant, the
seed, the counters), the objects and idempotency keys to write or delete, the queue
entries pushed and popped, the notifications emitted since, and the call log's new
packed chunks (chunks never change once packed: they are written as they are) and its
unpacked tail, and the Reports API's rows changed (reports, schedules, keys:
``report_rows``; the head keeps the book's small fields). What it costs is what changed,
whatever the store holds: ``Store.dirty`` (a ``journal.Dirty``) collects it between two
checkpoints, a change cursor the objects, ``ReportBook`` the report rows.

The same pieces in full make a version-2 snapshot again (``snapshot_of``), so a restart
restores through ``snapshots.load`` and its full check (``snapcheck``): nothing a file
holds is trusted more than an imported snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from apfsm._spec import Limits

from .journal import Dirty
from .log import Slot
from .report_parse import KEYED
from .snapshots import SNAPSHOT_FORMAT, SNAPSHOT_VERSION, _action_json, _key_json, _record_json
from .store import Store

__all__ = ["Parts", "key_row", "parts_of", "report_rows", "resumed", "snapshot_of", "track"]


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@attrs.frozen
class Parts:
    """One checkpoint's rows (module docs): JSON texts, keyed as the database keys them.

    Attributes:
        full: every part is here (a new file, a reset, a snapshot load): the database
            drops what it held first.
        head: the snapshot's small fields, as JSON text.
        objects: (id, creation order, JSON) to write; ``deleted`` the ids to delete.
        queue: (scheduling number, JSON) pushed; ``unqueued`` the numbers popped.
        keys: (row key, JSON) to write; ``forgotten`` the row keys to delete: a key's
            row key is its operation and the key (``key_row``: keys count per operation).
        notifications: (number, JSON) emitted since (numbered from 1, for good: a
            message keeps its number when older ones are dropped);
            ``notifications_first`` the number of the oldest kept (older rows are
            deleted).
        log_first: the number of the oldest log record kept (older chunks are deleted).
        log_chunks: (first record's number, packed chunk) new since; ``log_tail`` the
            newest records packed.
        reports: the Reports API's rows, (table, id, JSON) to write or (table, id,
            None) to delete, in order (``report_rows``).
    """

    full: bool
    head: str
    objects: list[tuple[str, int, str]]
    deleted: list[str]
    queue: list[tuple[int, str]]
    unqueued: list[int]
    keys: list[tuple[str, str]]
    forgotten: list[str]
    notifications: list[tuple[int, str]]
    notifications_first: int
    log_first: int
    log_chunks: list[tuple[int, bytes]]
    log_tail: bytes
    reports: list[tuple[str, str, str | None]] = attrs.field(factory=list)


def track(store: Store) -> Dirty:
    """Start collecting ``store``'s changes (the next ``parts_of`` is then incremental)."""
    if store.dirty is None:
        store.dirty = Dirty(store.journal.watch())
    return store.dirty


def resumed(store: Store) -> None:
    """Start collecting the changes of a store just read back from its checkpoint: its
    log's chunks are written already."""
    dirty = track(store)
    _, chunks, _ = store.log.packed(0)
    dirty.log_after = chunks[-1][0] if chunks else 0
    dirty.notifications = store.notifications_emitted


def key_row(slot: Slot) -> str:
    """The row key of an idempotency key's (operation, key): ``"create_charge k-1"`` (a
    key has no space: ``idempotency.valid_key``)."""
    return f"{slot[0]} {slot[1]}"


def _entry_json(entry: tuple[Any, ...]) -> str:
    due, strict, seq, number, action = entry
    return _text([due.isoformat(), strict, seq, number, _action_json(action)])


def parts_of(store: Store, *, now: datetime, limits: Limits, full: bool = False) -> Parts:
    """What to write for a checkpoint of ``store`` (the caller holds the simulator's lock):
    everything when ``full`` or when nothing was tracked yet, else what changed since the
    last call; then starts afresh."""
    dirty = store.dirty
    full = full or dirty is None
    dirty = track(store)
    book, reports = report_rows(store, full=full)
    head = _text(
        {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "merchantId": store.merchant_id,
            "idSeed": store.seed,
            "now": now.isoformat(),
            "limits": limits.to_json(),
            "counters": dict(store.counters),
            "notificationsDropped": store.notifications_dropped,
            **({} if book is None else {"reports": book}),
        }
    )
    changed: Iterable[str] = dirty.cursor.take()
    if full:
        changed = list(store.objects)
    objects, deleted = [], []
    for object_id in changed:
        record = store.objects.get(object_id)
        if record is None:
            deleted.append(object_id)
        else:
            objects.append((object_id, record.seq, _text(_record_json(record))))
    if full:
        pushed: list[Any] = list(store.queue)
        unqueued: list[int] = []
    else:
        popped = set(dirty.popped)
        pushed = [e for e in dirty.pushed if e[3] not in popped]
        fresh = {e[3] for e in dirty.pushed}
        unqueued = [n for n in dirty.popped if n not in fresh]
    # In the order the keys were taken (the store's, or ``Dirty.keys``'s): the table's
    # rows are read back in insertion order, and a restart's cap forgets the first first.
    slots = list(store.keys) if full else list(dirty.keys)
    keys, forgotten, in_flight = [], [], []
    for slot in slots:
        entry = store.keys.get(slot)
        if entry is None:
            forgotten.append(key_row(slot))
        elif entry.pending:  # a call still in flight: no answer to replay yet, next time
            in_flight.append(slot)
        else:
            keys.append((key_row(slot), _text(_key_json(slot, entry))))
    # Numbered absolutely: those emitted since the last checkpoint and still kept.
    dropped = store.notifications_dropped
    start = dropped if full else max(dirty.notifications, dropped)
    notifications = [
        (n + 1, _text(message))
        for n, message in enumerate(store.notifications[start - dropped :], start=start)
    ]
    log_first, chunks, tail = store.log.packed(0 if full else dirty.log_after)
    parts = Parts(
        full=full,
        head=head,
        objects=objects,
        deleted=deleted,
        queue=[(e[3], _entry_json(e)) for e in pushed],
        unqueued=unqueued,
        keys=keys,
        forgotten=forgotten,
        notifications=notifications,
        notifications_first=dropped + 1,
        log_first=log_first,
        log_chunks=chunks,
        log_tail=tail,
        reports=reports,
    )
    dirty.keys = dict.fromkeys(in_flight)  # first next time: taken before the later ones
    dirty.pushed.clear()
    dirty.popped.clear()
    dirty.notifications = store.notifications_emitted
    if chunks:
        dirty.log_after = chunks[-1][0]
    elif full:
        dirty.log_after = 0
    return parts


def report_rows(
    store: Store, *, full: bool
) -> tuple[dict[str, Any] | None, list[tuple[str, str, str | None]]]:
    """The Reports API's small fields (None: it never held state) and its rows to write
    (``Parts.reports``): every row when ``full``, else those ``Dirty.reports`` names —
    the reports created, finished or deleted, the schedules created, advanced or
    cancelled, the keys stored or forgotten — as they are now; then starts afresh."""
    dirty = track(store)
    row_of = store.reports_row
    if not full and row_of is not None:
        rows = [(t, i, None if (r := row_of(t, i)) is None else _text(r)) for t, i in dirty.reports]
        dirty.reports.clear()
        return row_of("head", ""), rows
    dirty.reports.clear()
    data = store.reports_json()
    if data is None:
        return None, []
    if not full:  # no book holds state: its rows are written already
        return _small(data), []
    book: list[tuple[str, str, str | None]] = [
        ("reports", str(r[0]), _text(r)) for r in data["reports"]
    ]
    book += [("report_schedules", str(s[0]), _text(s)) for s in data["schedules"]]
    for operation, keys in data.get("keys", {}).items():
        book += [("report_keys", f"{operation} {k}", _text(v)) for k, v in keys.items()]
    return _small(data), book


def _small(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in {"reports", "schedules", "keys"}}


def _book(small: Mapping[str, Any], rows: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """``ReportBook.to_json``'s form again from its small fields and rows."""
    book: dict[str, Any] = {**small, "reports": [], "schedules": []}
    keys: dict[str, dict[str, Any]] = {}
    for table, row_id, text in rows:
        if table == "report_keys":
            operation, key = row_id.split(" ", 1)
            keys.setdefault(operation, {})[key] = json.loads(text)
        else:
            book["reports" if table == "reports" else "schedules"].append(json.loads(text))
    if keys:  # every keyed operation, as ``to_json`` (an unknown one is refused by it)
        book["keys"] = {**{name: {} for name in KEYED}, **keys}
    return book


def snapshot_of(
    head: str,
    objects: Iterable[str],
    queue: Iterable[str],
    keys: Iterable[tuple[str, str]],
    notifications: Iterable[str],
    reports: Iterable[tuple[str, str, str]] = (),
) -> Mapping[str, Any]:
    """A snapshot (without its log) from the rows a checkpoint wrote, in order (objects
    by creation, queue entries by scheduling number, keys as taken): of the head's
    version — a version-1 head's keys rows are ``{key: entry}`` (``snapshots.upgrade``
    then needs the file's log). A head whose ``reports`` holds only the book's small
    fields (schema 4) takes its rows from ``reports``, (table, id, JSON) as
    ``report_rows`` gave them.

    Raises:
        ValueError: a row is not JSON (``snapshots.load`` checks the rest).
    """
    snapshot = dict(json.loads(head))
    snapshot["objects"] = [json.loads(text) for text in objects]
    snapshot["queue"] = [json.loads(text) for text in queue]
    if snapshot.get("version") == 1:
        snapshot["idempotency"] = {key: json.loads(text) for key, text in keys}
    else:
        snapshot["idempotency"] = [json.loads(text) for _, text in keys]
    snapshot["notifications"] = [json.loads(text) for text in notifications]
    snapshot["log"] = []
    book = snapshot.get("reports")
    if isinstance(book, dict) and "reports" not in book:
        snapshot["reports"] = _book(book, reports)
    return snapshot
