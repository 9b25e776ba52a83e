"""What changed: the journal of object changes and the read-only cursors over it.

Every object created, changed or deleted is journaled, together with the objects whose JSON
follows it (a refund's charge shows its refunded amount, a charge's permission its
balance). Tools that check only what changed — the fuzzers' invariants, the integration
machine's view of Amazon — hold a cursor (``Simulator.watch()``) and take the ids changed
since they last looked. The journal keeps no list of its own: each live cursor buffers the
ids it has not read yet, so a simulator nobody watches pays one integer increment a change.
"""

from __future__ import annotations

import weakref

from .log import Slot

__all__ = ["ChangeCursor", "Journal"]


class ChangeCursor:
    """The ids of the objects created, changed or deleted since this cursor last read them
    (``Simulator.watch()``). Read-only: taking changes does not affect other cursors."""

    __slots__ = ("__weakref__", "_journal", "_pending")

    def __init__(self, journal: Journal) -> None:
        self._journal: Journal | None = journal
        self._pending: list[str] = []

    def take(self) -> list[str]:
        """The ids changed since the last ``take`` (or since ``watch()``), in the order they
        first changed, each once; the cursor then starts afresh."""
        pending, self._pending = self._pending, []
        return list(dict.fromkeys(pending))

    def peek(self) -> list[str]:
        """What ``take`` would return, without taking it."""
        return list(dict.fromkeys(self._pending))

    def close(self) -> None:
        """Stop watching (a cursor that is no longer referenced stops by itself)."""
        if self._journal is not None:
            self._journal.forget(self)
            self._journal = None
        self._pending = []

    def __repr__(self) -> str:
        state = "closed" if self._journal is None else f"{len(self._pending)} pending"
        return f"<ChangeCursor {state}>"


class Journal:
    """Counts changes and hands them to the live cursors."""

    __slots__ = ("count", "cursors")

    def __init__(self) -> None:
        #: How many changes were journaled in all (a cheap "did anything change" mark).
        self.count = 0
        #: The live cursors, as weak references dropped by their own callback: a list is
        #: cheap to test for emptiness on every change — the common case, nobody watching.
        self.cursors: list[weakref.ref[ChangeCursor]] = []

    def record(self, *object_ids: str) -> None:
        """Journal a change to each of ``object_ids``."""
        self.count += len(object_ids)
        for ref in self.cursors:
            cursor = ref()
            if cursor is not None:
                cursor._pending.extend(object_ids)

    def watch(self) -> ChangeCursor:
        """A new cursor, seeing the changes from now on."""
        cursor = ChangeCursor(self)
        self.cursors.append(weakref.ref(cursor, self.cursors.remove))
        return cursor

    def forget(self, cursor: ChangeCursor) -> None:
        for ref in self.cursors:
            if ref() is cursor:
                self.cursors.remove(ref)
                return


class Dirty:
    """What changed since a ``--state`` checkpoint last took it, beyond the objects (a
    cursor sees those): the idempotency keys answered or forgotten, the entries pushed
    on and popped off the event queue, the Reports API's rows changed, and how far the
    append-only parts were written. ``Store.dirty`` holds it while a state file is
    attached (else None: nothing is kept).
    """

    __slots__ = ("cursor", "keys", "log_after", "notifications", "popped", "pushed", "reports")

    def __init__(self, cursor: ChangeCursor) -> None:
        self.cursor = cursor
        #: The idempotency keys answered or forgotten, in the order they were taken (a
        #: dict used as an ordered set): a checkpoint writes them so, and a restart's cap
        #: then forgets the oldest first, as the running server did.
        self.keys: dict[Slot, None] = {}
        self.pushed: list[tuple[object, ...]] = []
        #: The Reports API's rows changed, as (table, id) — ``"reports"`` and
        #: ``"report_schedules"`` by id, ``"report_keys"`` by ``"operation key"`` — in
        #: order (an ordered set; a key stored again goes last): ``checkpoints.report_rows``.
        self.reports: dict[tuple[str, str], None] = {}
        self.popped: list[int] = []
        #: The newest log chunk written (by its first record's number), notifications
        #: written (a count).
        self.log_after = 0
        self.notifications = 0

    def key_taken(self, slot: Slot) -> None:
        """The (operation, key) ``slot`` was taken (new, or again after it was
        forgotten): it goes last."""
        self.keys.pop(slot, None)
        self.keys[slot] = None

    def key_changed(self, slot: Slot) -> None:
        """``slot``'s answer was stored, or the key forgotten: it keeps its place."""
        self.keys.setdefault(slot, None)
