"""Time: clocks, timestamps and calendar arithmetic (SPEC §1, §2).

This is the only module that reads the wall clock. Everything else takes ``at``/``now`` or a
clock, so tests control time completely.
"""

from __future__ import annotations

import calendar
import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final, Protocol, runtime_checkable

__all__ = [
    "EARLIEST",
    "LATEST",
    "Clock",
    "ManualClock",
    "SystemClock",
    "add_months",
    "format_duration",
    "format_timestamp",
    "month_start",
    "parse_timestamp",
    "require_aware",
]


#: The instants a state may be at (a snapshot's times, a server's --start): from any of
#: them, adding a time limit (a deadline, a retention) or taking one away stays within
#: Python's dates (years 1 to 9999), so no later call fails with an OverflowError.
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)


def require_aware(value: object, name: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC; refuse anything that is not an aware datetime.

    Raises:
        TypeError: ``value`` is not a ``datetime``.
        ValueError: ``value`` is naive (no ``tzinfo``), which apfsm never reads as local time.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a timezone-aware datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (e.g. datetime(..., tzinfo=datetime.UTC)); "
            f"got the naive datetime {value.isoformat()}"
        )
    return value if value.tzinfo is UTC else value.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> aware UTC datetime``."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to; thread-safe.

    Args:
        start: the initial instant, timezone-aware (converted to UTC).

    Raises:
        TypeError, ValueError: ``start`` is not an aware datetime.
    """

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "ManualClock start")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time.

        Raises:
            TypeError: ``delta`` is not a ``timedelta``.
            ValueError: ``delta`` is negative (time never goes backwards).
        """
        if not isinstance(delta, timedelta):
            raise TypeError(f"advance() takes a timedelta, got {type(delta).__name__}")
        if delta < timedelta(0):
            raise ValueError(f"a clock cannot go backwards (advance by {delta})")
        with self._lock:
            self._now = self._now + delta
            return self._now

    def move_to(self, when: datetime) -> datetime:
        """Jump to the absolute instant ``when`` (not earlier than now) and return it.

        Raises:
            TypeError, ValueError: ``when`` is not an aware datetime, or lies in the past.
        """
        when = require_aware(when, "move_to() instant")
        with self._lock:
            if when < self._now:
                raise ValueError(
                    f"a clock cannot go backwards (now {self._now.isoformat()}, "
                    f"asked for {when.isoformat()})"
                )
            self._now = when
            return when

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"


def add_months(when: datetime, months: int) -> datetime:
    """Calendar-month arithmetic in UTC (SPEC §2).

    The time of day is kept and the day clamped to the target month's end:
    ``2026-01-31 + 13 months == 2027-02-28``; ``2027-02-28 + 12 months == 2028-02-28``.
    """
    when = require_aware(when, "add_months() instant")
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def month_start(when: datetime) -> datetime:
    """00:00 UTC on the 1st of ``when``'s calendar month (the recurring cap window, SPEC §2)."""
    when = require_aware(when, "month_start() instant")
    return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def parse_timestamp(text: str) -> datetime:
    """Parse a payload timestamp into an aware UTC datetime.

    Accepts Amazon's compact form ``20260101T120000Z`` and extended ISO 8601
    (``2026-01-01T12:00:00Z``, ``+02:00`` offsets, fractional seconds). Results are cached:
    payload timestamps repeat.

    Raises:
        ValueError: not a timestamp, or one without a UTC offset.
    """
    if not isinstance(text, str):
        raise ValueError(f"a timestamp must be a string, got {type(text).__name__}")
    return _parse_timestamp(text)


@lru_cache(maxsize=8192)
def _parse_timestamp(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a timestamp (expected e.g. '20260101T120000Z')"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset; Amazon Pay's end in 'Z'")
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def format_timestamp(when: datetime) -> str:
    """Amazon's compact UTC form, to the second: ``20260101T120000Z``."""
    when = require_aware(when, "timestamp")
    return (
        f"{when.year:04d}{when.month:02d}{when.day:02d}T"
        f"{when.hour:02d}{when.minute:02d}{when.second:02d}Z"
    )


def format_duration(delta: timedelta) -> str:
    """A short label for a duration: ``24 h``, ``7 d``, ``30 s``, ``1 d 6 h``."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0 s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}")
    # "24 h" reads better than "1 d" for the SPEC's 24-hour limits.
    if parts == ["1 d"]:
        return "24 h"
    return " ".join(parts)
