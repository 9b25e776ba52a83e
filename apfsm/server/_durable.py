"""_Durable state for ``apfsm serve --state FILE``: a command journal in SQLite.

Every call that reaches the simulator (API calls, the buyer's actions, clock moves) is
appended to the ``journal`` table — its kind, its arguments, the raw request body and
the simulated instant — and, when it can change state, committed before it is answered
(WAL mode, ``synchronous=FULL``: a ``kill -9``, even a power cut, loses nothing
acknowledged). Reads are journaled too (they are in the call log, which a restart
replays them into) but committed with the next write, or once ``MAX_UNCOMMITTED_READS``
(256) wait, so a read seldom waits on the disk and memory stays bounded under reads
alone (issue 16: 3,000 GETs kept 3,000 entries until a write). Every
``checkpoint_every`` commands (1,000 by default) and at shutdown, a checkpoint writes
what changed since the last one — the objects changed, the idempotency keys answered,
the queue entries pushed and popped, the notifications and packed call-log chunks added,
the reports, report schedules and report keys changed (``Simulator.checkpoint_parts``;
``_durable_reports``) — a row each in its table, and deletes the journal before it, in
one transaction. Its cost is what changed, not what is held (issue 16: a whole-state
checkpoint paused calls ~90 µs per object, 9–14 s at 100,000). A new file, a reset and a
snapshot load write everything.

IPN envelopes for ``--notify-url`` are kept in the ``ipn`` table with the call that
emitted them, until their delivery is over; a restart queues the rest again.

A restart restores the last checkpoint and replays the journal after it, each command at
its recorded instant on a ``ManualClock``: the simulator is deterministic given its seed
and its clock, so the replayed state is the state that was acknowledged — objects, ids,
scheduled events, idempotency keys and their answers, notifications, the call log.

Why a journal rather than row writes of the changed objects: a call changes more than
objects (the id counters, the event queue, the keys' stored answers, the call log,
notifications), and a journal records all of it in one small append whose cost does not
depend on how much state there is; replay reuses the simulator's own code, so nothing can
be persisted differently from how it is held.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

from apfsm._clock import ManualClock
from apfsm._errors import ActionRefused, ApiError
from apfsm._sim import CallLog, Parts, Simulator, snapshot_of, upgrade

from ._durable_reports import (
    REPORT_TABLE_NAMES,
    REPORT_TABLES,
    _read_report_rows,
    _write_report_rows,
)
from ._journal import _journal_entry

_log = logging.getLogger("apfsm.server")

#: ``PRAGMA application_id`` of an apfsm state file: "apfs" in ASCII.
APPLICATION_ID: Final = 0x61706673
#: ``PRAGMA user_version``: the layout of the tables below (1: one whole-state checkpoint
#: blob; 2: the same tables, one idempotency key space, a row a key — both read and
#: migrated in place). 3: a ``keys`` row per (operation, key), keyed ``"operation key"``.
#: 4: the Reports API's reports, schedules and keys a row each, not in the head's JSON.
SCHEMA_VERSION: Final = 4
_SQLITE_HEADER: Final = b"SQLite format 3\x00"
#: Journal entries of reads kept in memory, uncommitted, before they are committed
#: without waiting for a write (Decision, issue 16: bounded memory under reads alone; a
#: commit, one ``fsync``, every 256 reads at most; a crash loses at most this many reads'
#: call-log records, never a change).
MAX_UNCOMMITTED_READS: Final = 256

_CHECKPOINT_TABLES: Final = """
CREATE TABLE head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,       -- the last journal entry the checkpoint holds
    snapshot TEXT NOT NULL,     -- the snapshot's small fields (JSON)
    log_first INTEGER NOT NULL, -- the number of the oldest call-log record kept
    log_tail BLOB NOT NULL      -- the newest call-log records, packed
);
CREATE TABLE objects (id TEXT PRIMARY KEY, ord INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX objects_ord ON objects (ord);
CREATE TABLE queue (number INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE keys (key TEXT PRIMARY KEY, json TEXT NOT NULL); -- key: "operation key"
CREATE TABLE notifications (n INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE log (first INTEGER PRIMARY KEY, chunk BLOB NOT NULL);
"""
_TABLES: Final = frozenset(
    {"head", "objects", "queue", "keys", "notifications", "log", "journal", "ipn"}
)  # and ``REPORT_TABLE_NAMES`` from schema 4

_SCHEMA: Final = (
    _CHECKPOINT_TABLES
    + """
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    args TEXT NOT NULL,
    body BLOB
);
CREATE TABLE ipn (
    message_id TEXT PRIMARY KEY,
    envelope TEXT NOT NULL
);
"""
)

_T = TypeVar("_T")
_Row = tuple[Any, ...]


class _StateFileError(ValueError):
    """A ``--state`` file apfsm will not use (corrupt, foreign, newer): never reset."""


class _Durable:
    """The journal of one state file (module docs); thread-safe.

    ``record`` runs one command under the journal's lock and journals it, so the journal's
    order is the order the simulator ran the commands in.
    """

    def __init__(self, path: Path, db: sqlite3.Connection, seq: int, checkpoint_every: int):
        self.path = path
        self._db = db
        self._seq = seq
        self._checkpoint_seq = seq
        #: Journal entries not committed yet: reads only (a write commits them all), fewer
        #: than ``MAX_UNCOMMITTED_READS``.
        self._pending: list[tuple[int, str, str, str, bytes | None]] = []
        self._ipn: list[tuple[str, str]] = []  # IPN envelopes queued by the current call
        self._closed = False
        self.checkpoint_every = checkpoint_every
        self.lock = threading.RLock()
        #: Held by a whole-state replacement (``replace_file``) from start to end: two
        #: never write the same new file at once. Calls never take it.
        self._replacing = threading.Lock()

    def record(
        self,
        simulator: Simulator,
        kind: str,
        args: list[Any],
        run: Callable[[], _T],
        *,
        body: bytes | None = None,
        write: bool = True,
    ) -> _T:
        """Run ``run`` (one command on ``simulator``) and journal it — committed before
        this returns when ``write``, else with the next write or once
        ``MAX_UNCOMMITTED_READS`` reads wait. A refused command is journaled too: a
        refusal is logged, and some change state (SPEC §8 declines)."""
        with self.lock:
            at = simulator.now().isoformat()
            try:
                return run()
            finally:
                self._seq += 1
                self._pending.append((self._seq, at, kind, json.dumps(args), body))
                if write or self._ipn or len(self._pending) >= MAX_UNCOMMITTED_READS:
                    self._flush()
                    # A checkpoint writes what changed since the last one: its pause is
                    # bounded by ``checkpoint_every``, whatever the state holds, and a
                    # restart replays at most that many commands.
                    if self._seq - self._checkpoint_seq >= self.checkpoint_every:
                        self._checkpoint(simulator)

    def _flush(self) -> None:
        if not self._pending and not self._ipn:
            return
        with self._db:  # one transaction, committed (and synced) on leaving
            _many(self._db, "INSERT INTO journal", self._pending)
            _many(self._db, "INSERT OR IGNORE INTO ipn", self._ipn)
        self._pending.clear()
        self._ipn.clear()

    # -- the IPN queue: envelopes to deliver, kept until their delivery is over -----------

    def ipn_queued(self, envelope: dict[str, str]) -> None:
        """Keep ``envelope`` with the call that emitted it (same transaction)."""
        with self.lock:
            self._ipn.append((envelope["MessageId"], json.dumps(envelope)))

    def ipn_finished(self, envelope: dict[str, str]) -> None:
        """Forget ``envelope``: delivered, or given up (the notifier's thread)."""
        with self.lock:
            if self._closed:
                return
            self._flush()  # its insert first, if a call is still being journaled
            with self._db:
                self._db.execute("DELETE FROM ipn WHERE message_id = ?", (envelope["MessageId"],))

    def ipn_pending(self) -> list[dict[str, str]]:
        """The envelopes whose delivery was not over when the server stopped.

        Raises:
            _StateFileError: a row that is not an SNS envelope (damaged: the delivery
                thread would fail on it, unseen).
        """
        with self.lock:
            rows = self._db.execute("SELECT envelope FROM ipn ORDER BY rowid").fetchall()
            try:
                return [_envelope(self.path, row[0]) for row in rows]
            except _StateFileError:
                self._closed = True  # read at start: the server does not start on it
                self._db.close()
                raise

    def _checkpoint(self, simulator: Simulator, *, full: bool = False) -> None:
        parts = simulator.checkpoint_parts(full=full)
        self._pending.clear()  # the checkpoint holds them (reads included)
        with self._db:
            _write(self._db, self._seq, parts)
            self._db.execute("DELETE FROM journal WHERE seq <= ?", (self._seq,))
            _many(self._db, "INSERT OR IGNORE INTO ipn", self._ipn)
        self._ipn.clear()
        self._checkpoint_seq = self._seq
        if parts.full:
            _fold_wal(self._db)

    def checkpoint(self, simulator: Simulator, *, full: bool = False) -> None:
        """Checkpoint now: what changed since the last one (everything with ``full``, or
        for a simulator not checkpointed before: reset, snapshot load); a restart then
        has nothing to replay."""
        with self.lock:
            self._checkpoint(simulator, full=full)

    def replace_file(self, simulator: Simulator, switch: Callable[[], None]) -> bool:
        """Make ``simulator`` (not served yet) the whole state: written into a new file
        beside this one without the lock — calls go on being answered and journaled
        meanwhile — then, under the lock, renamed over it atomically, and ``switch()``
        called (it serves ``simulator``). A crash before the rename leaves the old state
        whole, one after it the new one. The IPN envelopes still to deliver go along.

        Returns:
            False when the journal was closed meanwhile (shutdown): nothing switched.
        """
        with self._replacing:
            return self._replace_file(simulator, switch)

    def _replace_file(self, simulator: Simulator, switch: Callable[[], None]) -> bool:
        temporary = self.path.with_name(self.path.name + ".replacing")
        _write_new(temporary, simulator)  # the long part: every object, off the lock
        with self.lock:
            if self._closed:
                temporary.unlink(missing_ok=True)
                return False
            self._flush()  # the calls answered meanwhile: their IPN envelopes included
            undelivered = self._db.execute("SELECT message_id, envelope FROM ipn").fetchall()
            self._db.close()  # its last connection: the WAL is copied in and deleted
            _rename(temporary, self.path)
            self._db = _reopen(self.path)
            with self._db:
                _many(self._db, "INSERT OR IGNORE INTO ipn", undelivered)
            self._seq = self._checkpoint_seq = 0  # the new file's checkpoint holds entry 0
            switch()
        return True

    def close(self, simulator: Simulator) -> None:
        """Checkpoint and close (graceful shutdown)."""
        with self.lock:
            self._checkpoint(simulator)
            self._flush()
            self._closed = True
            self._db.close()


def _envelope(path: Path, text: object) -> dict[str, str]:
    """An IPN row read back: an SNS envelope (``_ipn``: string fields, its MessageId and
    TopicArn among them), or the file is refused."""
    try:
        envelope = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        envelope = None
    if (
        not isinstance(envelope, dict)
        or not all(isinstance(v, str) for v in envelope.values())
        or not {"MessageId", "TopicArn"} <= set(envelope)
    ):
        shown = text[:80] if isinstance(text, str) else text
        raise _refuse(path, f"holds a damaged IPN row (not an SNS envelope: {shown!r})")
    return envelope


def _rename(source: Path, target: Path) -> None:
    """Rename the complete state file ``source`` over ``target`` atomically, and sync the
    directory: once a replacement is answered, a power cut does not bring the old file
    back (a ``kill -9`` could not anyway: the rename is done)."""
    os.replace(source, target)
    try:
        directory = os.open(target.parent, os.O_RDONLY)
    except OSError:  # a platform whose directories cannot be opened (Windows)
        return
    try:
        os.fsync(directory)
    except OSError:
        pass
    finally:
        os.close(directory)


def _fold_wal(db: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database now, after a whole-state write: else
    SQLite's automatic checkpoint would copy those hundreds of megabytes at the next
    commit — inside the next call (a 5 s stall at 500,000 objects)."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _write(db: sqlite3.Connection, seq: int, parts: Parts) -> None:
    """Write one checkpoint's rows (inside the caller's transaction), many rows a
    statement (``_many``)."""
    if parts.full:
        for table in ("objects", "queue", "keys", "notifications", "log"):
            db.execute(f"DELETE FROM {table}")  # a name of the list above
    _many(db, "INSERT OR REPLACE INTO objects", parts.objects)
    _delete(db, "objects", "id", parts.deleted)
    _many(db, "INSERT OR REPLACE INTO queue", parts.queue)
    _delete(db, "queue", "number", parts.unqueued)
    _many(db, "INSERT OR REPLACE INTO keys", parts.keys)
    _delete(db, "keys", "key", parts.forgotten)
    db.execute("DELETE FROM notifications WHERE n < ?", (parts.notifications_first,))
    _many(db, "INSERT OR REPLACE INTO notifications", parts.notifications)
    db.execute("DELETE FROM log WHERE first < ?", (parts.log_first,))
    _many(db, "INSERT OR REPLACE INTO log", parts.log_chunks)
    _write_report_rows(db, parts.reports, full=parts.full, many=_many, delete=_delete)
    db.execute(
        "INSERT OR REPLACE INTO head VALUES (1, ?, ?, ?, ?)",
        (seq, parts.head, parts.log_first, parts.log_tail),
    )


#: Rows one statement of ``_many`` writes at most (fewer when SQLite allows fewer
#: parameters a statement: 999 before SQLite 3.32).
_BATCH_ROWS: Final = 2_000


def _batches(db: sqlite3.Connection, rows: Sequence[_Row], width: int) -> Iterator[Sequence[_Row]]:
    per = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    per = max(1, min(_BATCH_ROWS, per))
    for start in range(0, len(rows), per):
        yield rows[start : start + per]


def _many(db: sqlite3.Connection, insert: str, rows: Sequence[_Row], conflict: str = "") -> None:
    """``insert`` (``INSERT ... INTO table``) of every row of ``rows``, a multi-row
    ``VALUES`` of up to ``_BATCH_ROWS`` rows a statement (then ``conflict``, an upsert).

    Not ``executemany``: the sqlite3 module lets go of the GIL around each step, a row
    each, and when another thread is busy (the event loop, a call), taking it back waits
    up to the interpreter's switch interval (5 ms) — a whole-state write of 500,000
    objects beside the file, off the lock, took 804 s while calls were answered, and
    0.5 s at 20,000 objects alone against 39 s beside one busy thread (issue 16). A
    batch of rows is one step: the wait is paid a batch, not a row.
    """
    if not rows:
        return
    width = len(rows[0])
    group = "(" + ", ".join("?" * width) + ")"
    for batch in _batches(db, rows, width):
        values = ", ".join([group] * len(batch))
        db.execute(f"{insert} VALUES {values}{conflict}", [value for row in batch for value in row])


def _delete(db: sqlite3.Connection, table: str, column: str, keys: Sequence[object]) -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``keys``, a batch of
    keys a statement (``_many``'s reason)."""
    for batch in _batches(db, [(key,) for key in keys], 1):
        marks = ", ".join("?" * len(batch))
        db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", [k for (k,) in batch])


# -- opening a state file ---------------------------------------------------------------


def _refuse(path: Path, why: str) -> _StateFileError:
    return _StateFileError(
        f"state file {str(path)!r} {why}; apfsm does not reset it: move it away or pass "
        "another --state file"
    )


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.isolation_level = "DEFERRED"  # ``with db`` opens and commits transactions
    return db


def _reopen(path: Path) -> sqlite3.Connection:
    """A connection to a state file known good (just written), set up as ``_fresh_db``."""
    db = _connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def _write_new(path: Path, simulator: Simulator) -> None:
    """Write ``simulator`` as a complete state file at ``path`` (replacing any there) and
    close it: no write-ahead log is left beside it, so it can be renamed."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    _fresh_db(path, simulator).close()


def _fresh_db(path: Path, simulator: Simulator) -> sqlite3.Connection:
    db = _reopen(path)
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    with db:
        db.executescript(_SCHEMA + REPORT_TABLES)
    with db:
        _write(db, 0, simulator.checkpoint_parts(full=True))
    _fold_wal(db)
    return db


def _restored(path: Path, db: sqlite3.Connection, version: int) -> tuple[Simulator, int]:
    """The simulator a version-2 to -4 file's checkpoint holds, and its journal entry
    (a version-2 file's one key space is read per operation: ``snapshots.upgrade``)."""
    row = db.execute("SELECT seq, snapshot, log_first, log_tail FROM head WHERE id = 1").fetchone()
    if row is None:
        raise _refuse(path, "has no checkpoint (an interrupted creation?)")
    seq, head, log_first, log_tail = row
    try:
        snapshot = snapshot_of(
            head,
            (r[0] for r in db.execute("SELECT json FROM objects ORDER BY ord")),
            (r[0] for r in db.execute("SELECT json FROM queue ORDER BY number")),
            db.execute("SELECT key, json FROM keys ORDER BY rowid"),
            (r[0] for r in db.execute("SELECT json FROM notifications ORDER BY n")),
            _read_report_rows(db) if version >= 4 else (),
        )
        chunks = [r[0] for r in db.execute("SELECT chunk FROM log ORDER BY first")]
        log = CallLog.from_packed(log_first, chunks, log_tail)
        simulator = Simulator.restore(upgrade(snapshot, log))
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise _refuse(path, f"holds an unreadable checkpoint ({exc})") from None
    simulator.resume_checkpoint(log)
    return simulator, int(seq)


def _restored_v1(path: Path, db: sqlite3.Connection) -> tuple[Simulator, int]:
    """The simulator a version-1 file's checkpoint (one compressed snapshot) holds."""
    row = db.execute("SELECT seq, snapshot FROM checkpoint WHERE id = 1").fetchone()
    if row is None:
        raise _refuse(path, "has no checkpoint (an interrupted creation?)")
    seq, packed = row
    try:
        simulator = Simulator.restore(json.loads(zlib.decompress(packed)))
    except (ValueError, TypeError, KeyError, RecursionError, zlib.error) as exc:
        raise _refuse(path, f"holds an unreadable checkpoint ({exc})") from None
    return simulator, int(seq)


def _resume(
    path: Path, db: sqlite3.Connection, version: int, retain: Callable[[Simulator], None]
) -> tuple[Simulator, int]:
    """The simulator the file holds: its checkpoint, then its journal replayed (with the
    server's retention caps, as the commands first ran)."""
    simulator, seq = _restored(path, db, version) if version >= 2 else _restored_v1(path, db)
    retain(simulator)
    clock = simulator.clock
    assert isinstance(clock, ManualClock)
    rows = db.execute(
        "SELECT seq, at, kind, args, body FROM journal WHERE seq > ? ORDER BY seq", (seq,)
    )
    for seq, at, kind, args, body in rows:
        try:
            when, command = _journal_entry(at, kind, args, body)
        except ValueError as exc:
            # Damaged (a row the server never writes): skipping it would silently lose
            # the command and what followed from it; refused as a damaged checkpoint is.
            raise _refuse(path, f"holds a damaged journal entry {seq} ({exc})") from None
        if when > clock.now():
            clock.move_to(when)
        try:
            command(simulator)
        except (ApiError, ActionRefused):
            pass  # refused again, exactly as it was the first time
        except Exception:  # a simulator bug: it failed the first time too
            _log.exception("apfsm: journal command %d failed on replay", seq)
    if version < SCHEMA_VERSION:  # migrate in place: the checkpoint as rows, in one transaction
        with db:
            db.executescript((_CHECKPOINT_TABLES if version < 2 else "") + REPORT_TABLES)
        with db:
            _write(db, seq, simulator.checkpoint_parts(full=True))
            db.execute("DELETE FROM journal WHERE seq <= ?", (seq,))
            db.execute("DROP TABLE IF EXISTS checkpoint")
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        _fold_wal(db)
    return simulator, int(seq)


def _open_sqlite(
    path: Path, retain: Callable[[Simulator], None]
) -> tuple[Simulator, sqlite3.Connection, int]:
    try:
        db = _connect(path)
        check = db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            db.close()
            raise _refuse(path, f"is a corrupt SQLite database ({check and check[0]})")
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"is not a readable SQLite database ({exc})") from None
    if application_id == APPLICATION_ID and version > SCHEMA_VERSION:
        db.close()
        raise _refuse(
            path,
            f"was written by a newer apfsm (schema {version}; this apfsm reads up to "
            f"{SCHEMA_VERSION})",
        )
    needed = _TABLES if version >= 2 else {"checkpoint", "journal", "ipn"}
    needed = needed | set(REPORT_TABLE_NAMES) if version >= 4 else needed
    if application_id != APPLICATION_ID or not needed <= tables:
        db.close()
        raise _refuse(path, "is a SQLite database of another application, not an apfsm state")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    try:
        simulator, seq = _resume(path, db, version, retain)
    except _StateFileError:
        db.close()
        raise
    return simulator, db, seq


def _migrate(path: Path) -> Path:
    """Turn a legacy JSON snapshot into a state file in place; the JSON is kept beside it
    (``FILE.legacy.json``). Returns the backup's path."""
    try:
        snapshot = json.loads(path.read_bytes())
        simulator = Simulator.restore(snapshot)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise _refuse(
            path, f"is neither an apfsm SQLite state nor a simulator snapshot ({exc})"
        ) from None
    temporary = path.with_name(path.name + ".migrating")
    _write_new(temporary, simulator)
    backup = path.with_name(path.name + ".legacy.json")
    os.replace(path, backup)
    _rename(temporary, path)
    return backup


def _open_state(
    path: Path,
    new: Callable[[], Simulator],
    *,
    checkpoint_every: int = 1_000,
    retain: Callable[[Simulator], None] = lambda simulator: None,
) -> tuple[Simulator, _Durable, str]:
    """Open (or create) the state file ``path``: the simulator it holds, its journal, and
    a line saying what was found.

    Args:
        path: the state file: absent or empty (0 bytes, ``touch FILE``: it holds nothing
            to lose; a new one is made with ``new()``), an apfsm SQLite state, or a
            legacy JSON snapshot (migrated in place).
        new: the simulator of a new state file.
        checkpoint_every: commands between two checkpoints (each writes what changed
            since the last: its pause grows with this, not with the state).
        retain: applies the server's retention caps to a simulator, before its journal
            is replayed (the commands ran with them).

    Raises:
        _StateFileError: a corrupt file, another application's database, a newer schema,
            a damaged journal entry (unreadable, or an unknown command), a directory, or
            a file that is none of the above (the message names the file).
    """
    note = ""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        head = b""
    except IsADirectoryError:
        raise _refuse(path, "is a directory, not a file") from None
    if head and head != _SQLITE_HEADER:
        if not head.lstrip().startswith(b"{"):
            raise _refuse(path, "is not an apfsm state file (neither SQLite nor JSON)")
        backup = _migrate(path)
        note = f"migrated from a JSON snapshot (kept as {backup})"
    if not head:
        simulator = new()
        retain(simulator)
        # Written beside, then renamed: an interrupted creation leaves no half file.
        temporary = path.with_name(path.name + ".creating")
        _write_new(temporary, simulator)
        _rename(temporary, path)
        return simulator, _Durable(path, _reopen(path), 0, checkpoint_every), "new"
    simulator, db, seq = _open_sqlite(path, retain)
    durable = _Durable(path, db, seq, checkpoint_every)
    return simulator, durable, note or f"resumed at journal entry {seq}"
