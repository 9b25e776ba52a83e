"""_Durable state for ``apfsm serve --state FILE``: a command journal in SQLite.

Every call that reaches the simulator (API calls, the buyer's actions, clock moves) is
appended to the ``journal`` table — its kind, its arguments, the raw request body and the
simulated instant — and, when it can change state, committed before it is answered
(WAL mode, ``synchronous=FULL``: a ``kill -9``, even a power cut, loses nothing
acknowledged). Reads are journaled too (they are in the call log) but committed with the
next write, so a read never waits on the disk. Every ``checkpoint_every`` commands (at
least as many as there are objects), on reset or snapshot load, and at shutdown, the whole
state is written as a JSON snapshot (``Simulator.snapshot``, zlib-compressed) in the
``checkpoint`` table and the journal before it deleted, in one transaction.

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
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from apfsm._clock import ManualClock, require_aware
from apfsm._errors import ApiError
from apfsm._sim import Simulator
from apfsm._spec import OPERATIONS

from ._wire import _loads

_log = logging.getLogger("apfsm.server")

#: ``PRAGMA application_id`` of an apfsm state file: "apfs" in ASCII.
APPLICATION_ID: Final = 0x61706673
#: ``PRAGMA user_version``: the layout of the tables below.
SCHEMA_VERSION: Final = 1
_SQLITE_HEADER: Final = b"SQLite format 3\x00"

_SCHEMA: Final = """
CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    snapshot BLOB NOT NULL  -- the JSON snapshot, zlib-compressed
);
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

_T = TypeVar("_T")


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
        self._pending: list[tuple[int, str, str, str, bytes | None]] = []
        self._ipn: list[tuple[str, str]] = []  # IPN envelopes queued by the current call
        self._closed = False
        self.checkpoint_every = checkpoint_every
        self.lock = threading.RLock()

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
        this returns when ``write``, else with the next write. A refused command is
        journaled too: a refusal is logged, and some change state (SPEC §8 declines)."""
        with self.lock:
            at = simulator.now().isoformat()
            try:
                return run()
            finally:
                self._seq += 1
                self._pending.append((self._seq, at, kind, json.dumps(args), body))
                if write or self._ipn:
                    self._flush()
                    # At least as many commands as objects between two checkpoints: a
                    # checkpoint costs O(state), so its cost per command stays bounded, and
                    # a restart replays at most about as much as it restores.
                    due = max(self.checkpoint_every, len(simulator))
                    if self._seq - self._checkpoint_seq >= due:
                        self._checkpoint(simulator)

    def _flush(self) -> None:
        if not self._pending and not self._ipn:
            return
        with self._db:  # one transaction, committed (and synced) on leaving
            self._db.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?)", self._pending)
            self._db.executemany("INSERT OR IGNORE INTO ipn VALUES (?, ?)", self._ipn)
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
        """The envelopes whose delivery was not over when the server stopped."""
        with self.lock:
            rows = self._db.execute("SELECT envelope FROM ipn ORDER BY rowid").fetchall()
        return [json.loads(row[0]) for row in rows]

    def _checkpoint(self, simulator: Simulator) -> None:
        snapshot = _packed(simulator)
        self._pending.clear()  # the snapshot holds them (reads included)
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?)", (self._seq, snapshot)
            )
            self._db.execute("DELETE FROM journal WHERE seq <= ?", (self._seq,))
            self._db.executemany("INSERT OR IGNORE INTO ipn VALUES (?, ?)", self._ipn)
        self._ipn.clear()
        self._checkpoint_seq = self._seq

    def checkpoint(self, simulator: Simulator) -> None:
        """Write ``simulator``'s whole state as the checkpoint (reset, snapshot load,
        shutdown): a restart restores it with nothing to replay."""
        with self.lock:
            self._checkpoint(simulator)

    def close(self, simulator: Simulator) -> None:
        """Checkpoint and close (graceful shutdown)."""
        with self.lock:
            self._checkpoint(simulator)
            self._flush()
            self._closed = True
            self._db.close()


def _packed(simulator: Simulator) -> bytes:
    """A checkpoint: the JSON snapshot, compressed (calls repeat their JSON: ~10x)."""
    return zlib.compress(json.dumps(simulator.snapshot(), separators=(",", ":")).encode(), 1)


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


def _fresh_db(path: Path, simulator: Simulator) -> sqlite3.Connection:
    db = _connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    with db:
        db.executescript(_SCHEMA)
    with db:
        db.execute("INSERT INTO checkpoint VALUES (1, 0, ?)", (_packed(simulator),))
    return db


def _replay(simulator: Simulator, kind: str, args: list[Any], body: bytes | None) -> None:
    if kind == "api":
        operation, object_id, key, code = args
        op = OPERATIONS[operation]
        decoded = None if op.is_read or not body or not body.strip() else _loads(body, exact=True)
        simulator.request(operation, object_id, decoded, idempotency_key=key, simulation_code=code)
    elif kind == "approve":
        simulator.buyer_approve(args[0], card=args[1])
    elif kind == "cancel":
        simulator.buyer_cancel(args[0])
    elif kind == "advance":
        simulator.advance(timedelta(seconds=args[0]))
    elif kind == "sign_in":
        simulator.buyer_sign_in(scopes=args[0])
    elif kind == "dispute":
        simulator.file_dispute(args[0], filing_reason=args[1], dispute_type=args[2], amount=args[3])
    elif kind == "event":
        simulator.amazon_event(args[0], args[1], reason=args[2])
    else:
        raise ValueError(f"unknown journal command {kind!r}")


def _resume(path: Path, db: sqlite3.Connection) -> tuple[Simulator, int]:
    """The simulator the file holds: its checkpoint, then its journal replayed."""
    row = db.execute("SELECT seq, snapshot FROM checkpoint WHERE id = 1").fetchone()
    if row is None:
        raise _refuse(path, "has no checkpoint (an interrupted creation?)")
    seq, packed = row
    try:
        simulator = Simulator.restore(json.loads(zlib.decompress(packed)))
    except (ValueError, TypeError, KeyError, zlib.error) as exc:
        raise _refuse(path, f"holds an unreadable checkpoint ({exc})") from None
    clock = simulator.clock
    assert isinstance(clock, ManualClock)
    rows = db.execute(
        "SELECT seq, at, kind, args, body FROM journal WHERE seq > ? ORDER BY seq", (seq,)
    )
    for seq, at, kind, args, body in rows:
        try:
            when = require_aware(datetime.fromisoformat(at))
            if when > clock.now():
                clock.move_to(when)
            _replay(simulator, kind, json.loads(args), body)
        except (ApiError, ValueError, TypeError):
            pass  # refused again, exactly as it was the first time
        except Exception:  # a simulator bug: it failed the first time too
            _log.exception("apfsm: journal command %d failed on replay", seq)
    return simulator, int(seq)


def _open_sqlite(path: Path) -> tuple[Simulator, sqlite3.Connection, int]:
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
    if application_id != APPLICATION_ID or not {"checkpoint", "journal", "ipn"} <= tables:
        db.close()
        raise _refuse(path, "is a SQLite database of another application, not an apfsm state")
    if version > SCHEMA_VERSION:
        db.close()
        raise _refuse(
            path,
            f"was written by a newer apfsm (schema {version}; this apfsm reads up to "
            f"{SCHEMA_VERSION})",
        )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    simulator, seq = _resume(path, db)
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
    temporary.unlink(missing_ok=True)
    _fresh_db(temporary, simulator).close()
    backup = path.with_name(path.name + ".legacy.json")
    os.replace(path, backup)
    os.replace(temporary, path)
    return backup


def _open_state(
    path: Path, new: Callable[[], Simulator], *, checkpoint_every: int = 10_000
) -> tuple[Simulator, _Durable, str]:
    """Open (or create) the state file ``path``: the simulator it holds, its journal, and
    a line saying what was found.

    Args:
        path: the state file: absent or empty (a new one is made with ``new()``), an
            apfsm SQLite state, or a legacy JSON snapshot (migrated in place).
        new: the simulator of a new state file.
        checkpoint_every: commands between two checkpoints (at least the number of
            objects: a checkpoint writes them all).

    Raises:
        _StateFileError: a corrupt file, another application's database, a newer schema,
            or a file that is none of the above (the message names the file).
    """
    note = ""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        head = b""
    if head and head != _SQLITE_HEADER:
        if not head.lstrip().startswith(b"{"):
            raise _refuse(path, "is not an apfsm state file (neither SQLite nor JSON)")
        backup = _migrate(path)
        note = f"migrated from a JSON snapshot (kept as {backup})"
    if not head:
        simulator = new()
        path.unlink(missing_ok=True)
        db = _fresh_db(path, simulator)
        return simulator, _Durable(path, db, 0, checkpoint_every), "new"
    simulator, db, seq = _open_sqlite(path)
    durable = _Durable(path, db, seq, checkpoint_every)
    return simulator, durable, note or f"resumed at journal entry {seq}"
