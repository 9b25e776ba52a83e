"""The Reports API's rows of an ``apfsm serve --state`` file (schema 4, issue 16).

``ReportBook.to_json``'s reports, schedules and idempotency keys are a row each in their
own tables, written as they change (``Dirty.reports``, ``checkpoints.report_rows``): a
checkpoint's cost is the reports changed since the last one, not the reports held (schema
3 wrote the whole book into the head's JSON at every checkpoint). The head keeps the
book's small fields (``next``). A restart reads the rows back in the order they were
first written — reports and schedules keep their row when updated (an upsert), a key
stored again after it was forgotten goes last — into the ``reports`` JSON a snapshot
holds (``checkpoints.snapshot_of``), checked as an imported one is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

__all__ = ["REPORT_TABLES", "REPORT_TABLE_NAMES"]

REPORT_TABLES: Final = """
CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS report_schedules (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS report_keys (key TEXT PRIMARY KEY, json TEXT NOT NULL); -- "op key"
"""
REPORT_TABLE_NAMES: Final = ("reports", "report_schedules", "report_keys")

#: How a changed row is written: in place (its rowid, so its place, kept), or — a key,
#: never changed once stored — anew, last.
_WRITE: Final = {
    "reports": ("INSERT INTO reports", " ON CONFLICT(id) DO UPDATE SET json = excluded.json"),
    "report_schedules": (
        "INSERT INTO report_schedules",
        " ON CONFLICT(id) DO UPDATE SET json = excluded.json",
    ),
    "report_keys": ("INSERT OR REPLACE INTO report_keys", ""),
}
_KEY_COLUMN: Final = {"reports": "id", "report_schedules": "id", "report_keys": "key"}

_Many = Callable[..., None]


def _write_report_rows(
    db: sqlite3.Connection,
    rows: Sequence[tuple[str, str, str | None]],
    *,
    full: bool,
    many: _Many,
    delete: Callable[[sqlite3.Connection, str, str, Sequence[object]], None],
) -> None:
    """Write a checkpoint's report rows, (table, id, JSON or None: deleted), in order
    (inside the caller's transaction; ``many`` and ``delete`` are ``_durable``'s batched
    writes); ``full`` drops what the tables held first."""
    for table in REPORT_TABLE_NAMES:
        if full:
            db.execute(f"DELETE FROM {table}")  # a name of the list above
        gone = [row_id for name, row_id, text in rows if name == table and text is None]
        delete(db, table, _KEY_COLUMN[table], gone)
        kept: list[tuple[Any, ...]] = [
            (row_id, text) for name, row_id, text in rows if name == table and text is not None
        ]
        insert, conflict = _WRITE[table]
        many(db, insert, kept, conflict=conflict)


def _read_report_rows(db: sqlite3.Connection) -> Iterator[tuple[str, str, str]]:
    """Every report row of a schema-4 file, (table, id, JSON), each table in the order
    its rows were written."""
    for table in REPORT_TABLE_NAMES:
        column = _KEY_COLUMN[table]
        for row_id, text in db.execute(f"SELECT {column}, json FROM {table} ORDER BY rowid"):
            yield table, row_id, text
