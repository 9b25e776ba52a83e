"""What the scheduler queues: timers and asynchronous outcomes, as typed records."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["Action", "Entry", "Outcome", "Timer"]


@attrs.frozen
class Timer:
    """A declared timer of an object (``Lifecycle.timers``): at its deadline the object
    moves on (SPEC §2)."""

    object_id: str
    name: str


@attrs.frozen
class Outcome:
    """An asynchronous outcome of an object: after ``Limits.async_outcome_delay`` the
    declared event ``event`` happens, with ``reason`` (SPEC §5–§7)."""

    object_id: str
    event: str
    reason: str | None = None


Action = Timer | Outcome
Entry = tuple[datetime, int, int, int, Action]
"""(due, strict, object's creation order, scheduling order, action): heap-ordered.

``strict`` is 1 for a timer whose deadline has passed only after it (``t > deadline``): it
sorts after what else is due at the same instant. Ties go to the object created first
(SPEC §2), then to what was scheduled first; the action itself is never compared."""
