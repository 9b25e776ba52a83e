"""Clocks, timestamps and calendar-month arithmetic (SPEC §1, §2)."""

from __future__ import annotations

import calendar
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apfsm import (
    ManualClock,
    SystemClock,
    add_months,
    format_timestamp,
    month_start,
    parse_timestamp,
)
from apfsm._clock import format_duration, require_aware

T = datetime(2026, 1, 31, 12, 30, 45, tzinfo=UTC)
aware = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.just(UTC),
)


def test_manual_clock_starts_where_told_and_only_moves_forward() -> None:
    clock = ManualClock(T)
    assert T == clock.now()
    assert T + timedelta(days=7) == clock.advance(timedelta(days=7))
    assert T + timedelta(days=7) == clock.now()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(TypeError, match="timedelta"):
        clock.advance(5)  # type: ignore[arg-type]
    assert T + timedelta(days=8) == clock.move_to(T + timedelta(days=8))
    with pytest.raises(ValueError, match="backwards"):
        clock.move_to(T)
    assert "ManualClock(2026-02-08T12:30:45+00:00)" == repr(clock)


def test_naive_datetimes_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="timezone-aware datetime"):
        ManualClock("2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        add_months(datetime(2026, 1, 1), 1)


def test_other_offsets_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    clock = ManualClock(datetime(2026, 1, 1, 13, tzinfo=paris))
    assert datetime(2026, 1, 1, 12, tzinfo=UTC) == clock.now()
    assert UTC == clock.now().tzinfo
    assert UTC == require_aware(datetime(2026, 1, 1, tzinfo=paris)).tzinfo


def test_system_clock_is_aware_utc_and_close_to_now() -> None:
    now = SystemClock().now()
    assert UTC == now.tzinfo
    assert abs(datetime.now(UTC) - now) < timedelta(seconds=5)
    assert "SystemClock()" == repr(SystemClock())


def test_manual_clock_is_thread_safe() -> None:
    clock = ManualClock(T)

    def tick() -> None:
        for _ in range(1000):
            clock.advance(timedelta(seconds=1))

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert T + timedelta(seconds=8000) == clock.now()


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        # SPEC §2's own example: the day is clamped to the month's end.
        (datetime(2026, 1, 31, 12, tzinfo=UTC), 13, datetime(2027, 2, 28, 12, tzinfo=UTC)),
        # Leap years: 29 February exists in 2028 but not 2029.
        (datetime(2027, 1, 29, tzinfo=UTC), 13, datetime(2028, 2, 29, tzinfo=UTC)),
        (
            datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC),
            12,
            datetime(2029, 2, 28, 23, 59, 59, tzinfo=UTC),
        ),
        (datetime(2028, 2, 29, tzinfo=UTC), 13, datetime(2029, 3, 29, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 4, 30, tzinfo=UTC)),
        (datetime(2026, 12, 15, 6, tzinfo=UTC), 1, datetime(2027, 1, 15, 6, tzinfo=UTC)),
        (datetime(2026, 5, 31, tzinfo=UTC), -3, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 8, 31, tzinfo=UTC), 0, datetime(2026, 8, 31, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_month_end(start: datetime, months: int, expected: datetime) -> None:
    assert expected == add_months(start, months)


@given(aware, st.integers(min_value=0, max_value=40))
def test_add_months_properties(start: datetime, months: int) -> None:
    result = add_months(start, months)
    # Same time of day, month index advanced exactly, day clamped to the month's length.
    assert start.timetz() == result.timetz()
    assert (start.year * 12 + start.month + months) == result.year * 12 + result.month
    last_day = calendar.monthrange(result.year, result.month)[1]
    assert min(start.day, last_day) == result.day
    assert result >= start


@given(aware)
def test_month_start_is_the_first_at_midnight(when: datetime) -> None:
    first = month_start(when)
    assert (when.year, when.month, 1, 0, 0, 0, 0) == (
        first.year,
        first.month,
        first.day,
        first.hour,
        first.minute,
        first.second,
        first.microsecond,
    )
    assert first <= when


@given(aware.map(lambda d: d.replace(microsecond=0)))
def test_compact_timestamps_round_trip(when: datetime) -> None:
    text = format_timestamp(when)
    assert 16 == len(text)
    assert when == parse_timestamp(text)


@pytest.mark.parametrize(
    "text",
    [
        "20260101T120000Z",
        "2026-01-01T12:00:00Z",
        "2026-01-01T13:00:00+01:00",
        "2026-01-01T12:00:00.000Z",
    ],
)
def test_parse_accepts_compact_and_extended_forms(text: str) -> None:
    assert datetime(2026, 1, 1, 12, tzinfo=UTC) == parse_timestamp(text)


@pytest.mark.parametrize("text", ["2026-01-01T12:00:00", "yesterday", "", "20261301T000000Z"])
def test_parse_refuses_naive_or_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp(text)


def test_parse_refuses_non_strings() -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parse_timestamp(20260101)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (timedelta(hours=24), "24 h"),
        (timedelta(days=7), "7 d"),
        (timedelta(days=180), "180 d"),
        (timedelta(seconds=30), "30 s"),
        (timedelta(days=7, seconds=1), "7 d 1 s"),
        (timedelta(0), "0 s"),
    ],
)
def test_duration_labels(delta: timedelta, label: str) -> None:
    assert label == format_duration(delta)
