"""``ReportBook.settle`` (docs/reports.md: a report finishes ``report_processing_time``
after its creation and is deleted ``report_retention`` after it) finds the reports to
finish and to delete by their creation instant, not by walking every report on every
call (issue 16: every report call settles first)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NoReturn

from tests.simhelpers import T0, make_sim

AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
ORDERS = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_ORDER_REFERENCE_DATA_"
WINDOW = {"reportType": AUTH, "startTime": "20000101T000000Z", "endTime": "20990101T000000Z"}


class _NoWalk(dict[str, Any]):
    """The book's reports, refusing to be walked: a lookup or a delete is all settle may do."""

    def _walked(self, *args: object) -> NoReturn:
        raise AssertionError("settle walked every report")

    items = values = keys = __iter__ = _walked


def test_a_call_does_not_walk_the_reports() -> None:
    sim = make_sim()
    made = [sim.reports.create_report(WINDOW)["reportId"] for _ in range(1_000)]
    sim.advance(sim.limits.report_processing_time)
    assert "CANCELLED" == sim.reports.get_report(made[0])["processingStatus"]
    sim.reports.reports = _NoWalk(sim.reports.reports)
    sim.advance(timedelta(hours=1))
    for report_id in made[:50]:  # a call settles first: nothing left to do
        sim.reports.get_report(report_id)
    late = sim.reports.create_report(WINDOW)["reportId"]
    sim.advance(sim.limits.report_processing_time)
    assert "CANCELLED" == sim.reports.get_report(late)["processingStatus"]
    sim.advance(sim.limits.report_retention - timedelta(hours=1))
    sim.reports.get_report_schedules()  # settles: the 1,000 are deleted, not the last
    assert [late] == list(dict.keys(sim.reports.reports))


def test_reports_made_out_of_time_order_finish_and_go_by_their_creation() -> None:
    """Two schedules owing reports at one call: the first's reports are made (and held)
    before the second's earlier ones."""
    sim = make_sim()
    for kind, days in ((AUTH, 2), (ORDERS, 1)):
        body = {"reportType": kind, "scheduleFrequency": "P1D"}
        body["nextReportCreationTime"] = (T0 + timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ")
        sim.reports.create_report_schedule(body)
    sim.advance(timedelta(days=3, minutes=1))
    fail = sim.reports.create_report(WINDOW)["reportId"]
    sim.reports.fail_report(fail)
    held = sim.reports.get_reports({"pageSize": 100})["reports"]
    created = sorted(r["createdTime"] for r in held)
    assert created != [r["createdTime"] for r in reversed(held)]  # held out of order
    assert {"CANCELLED", "FAILED"} == {r["processingStatus"] for r in held}
    created_at = {r["reportId"]: sim.reports.reports[r["reportId"]].created for r in held}
    sim.advance(sim.limits.report_retention - timedelta(days=1, minutes=30))
    sim.reports.get_report_schedules()  # settles
    since = sim.now() - sim.limits.report_retention
    gone = {i for i in created_at if i not in sim.reports.reports}
    assert gone == {i for i, at in created_at.items() if at <= since}
    assert set() < gone < set(created_at)  # the earliest, made last, gone: not the others
    assert all(r.created > since for r in sim.reports.reports.values())
    processing = sim.limits.report_processing_time
    pending = [r for r in sim.reports.reports.values() if r.status == "IN_PROGRESS"]
    assert all(r.created + processing > sim.now() for r in pending)
