"""``Scheduler``: timers and asynchronous outcomes, kept in time order (SPEC §2).

Time never moves by itself: what is due waits in the store's queue until a call, ``advance``
or ``settle`` takes it out (``due``) and the effects apply it. The scheduler owns the order
— deadlines first, a strict boundary after what else is due then, ties to the object
created first — and nothing else.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Final

from apfsm._decide import DEADLINE_FUNCTIONS
from apfsm._spec import LIFECYCLES, Event, Limits
from apfsm._spec import Timer as TimerDecl

from .records import Record
from .scheduled import Action, Entry, Outcome, Timer
from .store import Store

__all__ = ["EVENTS", "TIMERS", "TIMERS_FROM", "Scheduler"]

#: The declared events and timers by (object type, name), and the timers of each state.
EVENTS: Final[dict[tuple[str, str], Event]] = {
    (lc.object_type, e.name): e for lc in LIFECYCLES.values() for e in lc.events
}
TIMERS: Final[dict[tuple[str, str], TimerDecl]] = {
    (lc.object_type, t.name): t for lc in LIFECYCLES.values() for t in lc.timers
}
TIMERS_FROM: Final[dict[tuple[str, str], tuple[TimerDecl, ...]]] = {
    (lc.object_type, state): tuple(t for t in lc.timers if state in t.sources)
    for lc in LIFECYCLES.values()
    for state in lc.state_names()
}


class Scheduler:
    """Keeps ``store.queue``: what is scheduled, and when it is due."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits

    def deadline(self, record: Record, timer: str) -> datetime:
        """When ``record``'s declared timer fires (its deadline, SPEC §2)."""
        decl = TIMERS[(record.object_type, timer)]
        return DEADLINE_FUNCTIONS[decl.deadline](record, self._limits)

    def timer(self, record: Record, name: str) -> None:
        """Schedule ``record``'s timer ``name`` at its deadline."""
        # A strict boundary (t > deadline) sorts a timer after what else is due then.
        strict = 0 if self._limits.ttl_passed_at_deadline else 1
        due = self.deadline(record, name)
        if due.replace(tzinfo=None) == datetime.max:
            return  # a deadline that never falls (a dispute waiting on the buyer)
        self._push(due, strict, record, Timer(record.id, name))

    def outcome(self, record: Record, stamp: datetime, event: str, reason: str | None) -> None:
        """Schedule the asynchronous outcome ``event`` of ``record``, after the delay."""
        due = stamp + self._limits.async_outcome_delay
        self._push(due, 0, record, Outcome(record.id, event, reason))

    def _push(self, due: datetime, strict: int, record: Record, action: Action) -> None:
        entry = (due, strict, record.seq, self._store.next("event"), action)
        heapq.heappush(self._store.queue, entry)
        if self._store.dirty is not None:
            self._store.dirty.pushed.append(entry)

    def due(self, now: datetime) -> Iterator[tuple[datetime, Action]]:
        """Take out, earliest first, every entry due at ``now`` (a strict one only once
        ``now`` is past it). Entries scheduled while this runs are seen too."""
        queue = self._store.queue
        while queue:
            due, strict, _, _, action = queue[0]
            if (now <= due) if strict else (now < due):
                return
            entry = heapq.heappop(queue)
            if self._store.dirty is not None:
                self._store.dirty.popped.append(entry[3])
            yield due, action

    def live(self, due: datetime, action: Action) -> bool:
        """Whether a scheduled entry will still apply: its object exists and is still in a
        state it governs (and a timer still falls due then: a recurring permission's
        13 months restart with each charge)."""
        record = self._store.get(action.object_id)
        if record is None:
            return False
        if isinstance(action, Timer):
            decl = TIMERS[(record.object_type, action.name)]
            return record.state in decl.sources and due == self.deadline(record, action.name)
        return record.state in EVENTS[(record.object_type, action.event)].sources

    def pending(self, limit: int | None = None) -> list[tuple[datetime, str, str]]:
        """Scheduled events that will still apply: (due, object id, timer or event name),
        earliest first; the first ``limit`` of them only, when given.

        With a limit its cost is what it reads, not what is queued: the heap is walked in
        time order from its root (``_in_order``), not sorted whole — ``GET /_apfsm/clock``
        shows the first 100, and sorting 500,000 queued deadlines for them took seconds
        a call (issue 16)."""
        out: list[tuple[datetime, str, str]] = []
        if limit is not None and limit <= 0:
            return out
        for due, *_, action in _in_order(self._store.queue):
            if self.live(due, action):
                name = action.name if isinstance(action, Timer) else action.event
                out.append((due, action.object_id, name))
                if limit is not None and len(out) >= limit:
                    break
        return out


def _in_order(heap: list[Entry]) -> Iterator[Entry]:
    """The entries of the heap ``heap`` in sorted order, lazily: a second heap holds the
    frontier (the children of the entries taken), so taking k costs O(k log k)."""
    if not heap:
        return
    frontier = [(heap[0], 0)]
    while frontier:
        entry, index = heapq.heappop(frontier)
        yield entry
        for child in (2 * index + 1, 2 * index + 2):
            if child < len(heap):
                heapq.heappush(frontier, (heap[child], child))
