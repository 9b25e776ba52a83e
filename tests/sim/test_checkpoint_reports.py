"""Incremental checkpoints of the Reports API (issue 16, ``checkpoints.report_rows``): a
checkpoint carries the report rows changed since the last one, not the whole book, and
the rows in full give the book's ``to_json`` back (``snapshot_of``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from apfsm import Simulator
from apfsm._sim import Parts, snapshot_of
from tests.simhelpers import make_sim

AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
WINDOW = {"reportType": AUTH, "startTime": "20000101T000000Z", "endTime": "20990101T000000Z"}


def _tables(parts: Parts) -> list[str]:
    return [table for table, _, _ in parts.reports]


def _book(parts: Parts) -> Any:
    return json.loads(parts.head).get("reports")


def test_one_more_report_writes_one_row_not_the_book() -> None:
    sim = make_sim()
    sim.checkpoint_parts(full=True)
    for _ in range(500):
        sim.reports.create_report(WINDOW)
    assert 500 == len(sim.checkpoint_parts().reports)  # the 500 created since
    sim.reports.create_report(WINDOW)
    parts = sim.checkpoint_parts()
    assert ["reports"] == _tables(parts)  # the new report alone
    assert {"next": 501} == _book(parts)  # the head keeps the small fields only
    assert len(parts.head) < 4_000  # the whole book of 501 reports: ~100,000
    assert [] == sim.checkpoint_parts().reports  # nothing changed since


def test_each_change_is_a_row() -> None:
    sim = make_sim()
    sim.reports.create_report(WINDOW, idempotency_key="k-1")
    scheduled = sim.reports.create_report_schedule(
        {"reportType": AUTH, "scheduleFrequency": "P1D"}, idempotency_key="k-1"
    )["reportScheduleId"]
    sim.checkpoint_parts(full=True)
    sim.advance(timedelta(days=1, minutes=1))  # the schedule makes a report, both finish
    sim.reports.get_reports()
    changed = {(t, i): text for t, i, text in sim.checkpoint_parts().reports}
    assert {"reports", "report_schedules"} == {t for t, _ in changed}
    assert 2 == sum(t == "reports" for t, _ in changed)
    assert json.loads(changed["report_schedules", scheduled] or "")[0] == scheduled
    sim.reports.cancel_report_schedule(scheduled)
    assert [("report_schedules", scheduled, None)] == sim.checkpoint_parts().reports
    sim.advance(timedelta(days=sim.limits.report_retention.days + 1))
    sim.reports.get_reports()  # retention deletes both
    gone = sim.checkpoint_parts().reports
    assert 2 == len(gone)
    assert all(t == "reports" and text is None for t, _, text in gone)


def test_a_forgotten_key_is_deleted_and_a_key_stored_again_goes_last() -> None:
    sim = make_sim()
    sim.retain(idempotency_keys=2)
    sim.checkpoint_parts(full=True)
    for key in ("a", "b", "c"):
        sim.reports.create_report(WINDOW, idempotency_key=key)
    keys = [(i, text is None) for t, i, text in sim.checkpoint_parts().reports if t != "reports"]
    # Deletes keep no order; the rows written keep the order the keys were stored in.
    assert [("create_report b", False), ("create_report c", False), ("create_report a", True)] == (
        keys
    )
    sim.reports.create_report(WINDOW, idempotency_key="a")  # new again: b is forgotten
    keys = [(i, text is None) for t, i, text in sim.checkpoint_parts().reports if t != "reports"]
    assert [("create_report a", False), ("create_report b", True)] == keys


def _restored(*checkpoints: Parts) -> Any:
    """The book the rows of ``checkpoints`` leave, applied in turn as a table would."""
    rows: dict[tuple[str, str], str] = {}
    for parts in checkpoints:
        if parts.full:
            rows.clear()
        for table, row_id, text in parts.reports:
            if text is None:
                rows.pop((table, row_id), None)
            elif table == "report_keys":
                rows.pop((table, row_id), None)
                rows[table, row_id] = text
            else:
                rows[table, row_id] = text
    head = checkpoints[-1].head
    snapshot = snapshot_of(head, [], [], [], [], [(t, i, x) for (t, i), x in rows.items()])
    return snapshot["reports"]


def test_the_rows_give_the_book_back() -> None:
    sim = make_sim()
    sim.retain(idempotency_keys=3)
    first = sim.checkpoint_parts(full=True)
    assert "reports" not in json.loads(first.head)  # no book state: none in the head
    for n in range(6):
        sim.reports.create_report(WINDOW, idempotency_key=f"r-{n}")
    sim.reports.create_report_schedule(
        {"reportType": AUTH, "scheduleFrequency": "P1D"}, idempotency_key="s"
    )
    second = sim.checkpoint_parts()
    sim.advance(timedelta(days=2))
    sim.reports.create_report(WINDOW, idempotency_key="r-0")  # forgotten, so new again
    third = sim.checkpoint_parts()
    expected = sim.snapshot()["reports"]
    assert expected == _restored(first, second, third)
    assert expected == _restored(sim.checkpoint_parts(full=True))
    assert expected == Simulator.restore(sim.snapshot()).snapshot()["reports"]
