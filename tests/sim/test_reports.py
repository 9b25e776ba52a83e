"""The Reports API in the simulator (docs/reports.md; apfsm/_spec/report.py cites Amazon's
reports.html and the .NET/Node SDKs for the fields, statuses and frequencies)."""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from typing import Any

import pytest

from apfsm import ApiError, Limits
from apfsm._clock import format_timestamp
from apfsm._sim import Simulator
from apfsm._spec import REPORT, SCHEDULE_FREQUENCIES
from tests.simhelpers import NODE_REPORT_KEYS, NODE_SCHEDULE_KEYS, T0, checkout, make_sim, price

AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
SETTLEMENT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_"
ORDERS = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_ORDER_REFERENCE_DATA_"
PROCESSING = Limits().report_processing_time


def _ts(delta: timedelta = timedelta(0)) -> str:
    return format_timestamp(T0 + delta)


def _charged(sim: Simulator) -> dict[str, Any]:
    """A completed checkout's charge, captured."""
    session = checkout(sim, "25.00")
    charge_id = session["chargeId"]
    return sim.capture_charge(
        charge_id, {"captureAmount": price("25.00")}, idempotency_key=f"cap-{charge_id}"
    )


def _document(sim: Simulator, report_id: str) -> str:
    report = sim.reports.get_report(report_id)
    doc = sim.reports.get_report_document(report["reportDocumentId"])
    assert "N/A" == doc["compressionAlgorithm"]
    head, data = doc["url"].split(",", 1)
    assert "data:text/csv;base64" == head
    return base64.b64decode(data).decode()


def test_the_lifecycle_is_amazons_four_statuses() -> None:
    assert ("IN_PROGRESS", "COMPLETED", "CANCELLED", "FAILED") == REPORT.state_names()
    assert "P1D" in SCHEDULE_FREQUENCIES
    assert timedelta(hours=84) == SCHEDULE_FREQUENCIES["PT84H"]


def test_a_report_is_in_progress_until_the_processing_time_then_completed() -> None:
    sim = make_sim()
    charge = _charged(sim)
    body = {"reportType": AUTH, "startTime": _ts(-timedelta(hours=1)), "endTime": _ts()}
    report_id = sim.reports.create_report(body)["reportId"]
    report = sim.reports.get_report(report_id)
    assert sorted(NODE_REPORT_KEYS) == list(report)  # the Node SDK compares Object.keys in order
    assert "IN_PROGRESS" == report["processingStatus"]
    assert report["reportDocumentId"] is None
    sim.advance(PROCESSING - timedelta(seconds=1))
    assert "IN_PROGRESS" == sim.reports.get_report(report_id)["processingStatus"]
    sim.advance(timedelta(seconds=1))  # at exactly createdTime + the processing time
    report = sim.reports.get_report(report_id)
    assert "COMPLETED" == report["processingStatus"]
    assert _ts(PROCESSING) == report["processingEndTime"]
    text = _document(sim, report_id)
    lines = text.splitlines()
    assert lines[0].startswith("ChargeId,ChargePermissionId")
    assert [charge["chargeId"]] == [line.split(",")[0] for line in lines[1:]]
    assert "Captured,25.00,USD" in lines[1]


def test_no_data_in_the_range_cancels_the_report() -> None:
    sim = make_sim()
    _charged(sim)
    # The charge was made at T0: a range ending one second before holds nothing.
    body = {
        "reportType": AUTH,
        "startTime": _ts(-timedelta(days=1)),
        "endTime": _ts(-timedelta(seconds=1)),
    }
    report_id = sim.reports.create_report(body)["reportId"]
    sim.advance(PROCESSING)
    report = sim.reports.get_report(report_id)
    assert "CANCELLED" == report["processingStatus"]
    assert report["reportDocumentId"] is None


def test_the_range_includes_both_ends() -> None:
    sim = make_sim()
    charge = _charged(sim)  # created at T0
    at_start = sim.reports.create_report({"reportType": AUTH, "startTime": _ts(), "endTime": _ts()})
    after = sim.reports.create_report(
        {"reportType": AUTH, "startTime": _ts(timedelta(seconds=1)), "endTime": _ts()}
        | {"endTime": _ts(timedelta(seconds=1))}
    )
    sim.advance(PROCESSING)
    assert charge["chargeId"] in _document(sim, at_start["reportId"])
    assert "CANCELLED" == sim.reports.get_report(after["reportId"])["processingStatus"]


def test_the_settlement_lists_captures_and_refunds_with_their_signs() -> None:
    sim = make_sim()
    charge = _charged(sim)
    refund = sim.create_refund(
        {"chargeId": charge["chargeId"], "refundAmount": price("5.00")}, idempotency_key="r1"
    )
    sim.advance(timedelta(days=1))  # the refund settles
    report_id = sim.reports.create_report(
        {
            "reportType": SETTLEMENT,
            "startTime": _ts(-timedelta(days=1)),
            "endTime": _ts(timedelta(days=1)),
        }
    )["reportId"]
    sim.advance(PROCESSING)
    text = _document(sim, report_id)
    assert f"Capture,{charge['chargeId']}" in text
    assert "Refunded" == sim.object_state(refund["refundId"])
    assert f"Refund,{refund['refundId']},{_ts()},-5.00,USD" in text


def test_a_fatal_error_fails_a_report_in_progress_only() -> None:
    sim = make_sim()
    report_id = sim.reports.create_report(
        {"reportType": ORDERS, "startTime": _ts(), "endTime": _ts()}
    )["reportId"]
    assert "FAILED" == sim.reports.fail_report(report_id)["processingStatus"]
    with pytest.raises(ValueError, match="in progress"):
        sim.reports.fail_report(report_id)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not an object", "InvalidRequestFormat"),
        ({"startTime": "20260101T000000Z", "endTime": "20260101T000000Z"}, "MissingParameterValue"),
        (
            {
                "reportType": "_NOPE_",
                "startTime": "20260101T000000Z",
                "endTime": "20260101T000000Z",
            },
            "InvalidParameterValue",
        ),
        (
            {"reportType": AUTH, "startTime": "yesterday", "endTime": "20260101T000000Z"},
            "InvalidParameterValue",
        ),
        (
            {"reportType": AUTH, "startTime": "20260102T000000Z", "endTime": "20260101T000000Z"},
            "InvalidParameterValue",
        ),
        ({"reportType": AUTH, "startTime": "20260101T000000Z"}, "MissingParameterValue"),
        (
            {"reportType": AUTH, "startTime": 5, "endTime": "20260101T000000Z"},
            "InvalidParameterValue",
        ),
        (
            {
                "reportType": AUTH,
                "startTime": "20260101T000000Z",
                "endTime": "20260101T000000Z",
                "x": 1,
            },
            "UnrecognizedField",
        ),
    ],
)
def test_bad_create_report_gets_amazons_code_and_changes_nothing(body: Any, code: str) -> None:
    sim = make_sim()
    before = copy.deepcopy(sim.reports.get_reports())
    with pytest.raises(ApiError) as caught:
        sim.reports.create_report(body)
    assert code == caught.value.reason_code
    assert before == sim.reports.get_reports()


def test_unknown_ids_are_resource_not_found() -> None:
    sim = make_sim()
    for call in (
        sim.reports.get_report,
        sim.reports.get_report_document,
        sim.reports.get_report_schedule,
        sim.reports.cancel_report_schedule,
    ):
        with pytest.raises(ApiError) as caught:
            call("12345")
        assert "ResourceNotFound" == caught.value.reason_code


def test_a_schedule_creates_a_report_each_period_as_the_clock_passes() -> None:
    sim = make_sim()
    _charged(sim)
    first = T0 + timedelta(hours=1)
    schedule_id = sim.reports.create_report_schedule(
        {
            "reportType": AUTH,
            "scheduleFrequency": "PT1H",
            "nextReportCreationTime": format_timestamp(first),
        }
    )["reportScheduleId"]
    schedule = sim.reports.get_report_schedule(schedule_id)
    assert sorted(NODE_SCHEDULE_KEYS) == list(schedule)
    sim.advance(timedelta(hours=1) - timedelta(seconds=1))
    assert [] == sim.reports.get_reports()["reports"]
    sim.advance(timedelta(seconds=1))  # at exactly nextReportCreationTime
    (report,) = sim.reports.get_reports()["reports"]
    assert format_timestamp(first) == report["createdTime"]
    assert _ts() == report["startTime"]
    assert (
        format_timestamp(first + timedelta(hours=1))
        == sim.reports.get_report_schedule(schedule_id)["nextReportCreationTime"]
    )
    sim.advance(timedelta(hours=2))  # two more periods pass
    assert 3 == len(sim.reports.get_reports()["reports"])
    assert {} == sim.reports.cancel_report_schedule(schedule_id)
    sim.advance(timedelta(hours=5))
    assert 3 == len(sim.reports.get_reports()["reports"])


def test_one_schedule_per_type_unless_replaced() -> None:
    sim = make_sim()
    body = {"reportType": AUTH, "scheduleFrequency": "P1D"}
    first = sim.reports.create_report_schedule(body)["reportScheduleId"]
    with pytest.raises(ApiError) as caught:
        sim.reports.create_report_schedule(body)
    assert "InvalidRequest" == caught.value.reason_code
    second = sim.reports.create_report_schedule(body | {"deleteExistingSchedule": True})
    (only,) = sim.reports.get_report_schedules(AUTH)["reportSchedules"]
    assert second["reportScheduleId"] == only["reportScheduleId"] != first


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"reportType": AUTH, "scheduleFrequency": "P2W"}, "InvalidParameterValue"),
        ({"reportType": AUTH}, "MissingParameterValue"),
        (
            {
                "reportType": "_GET_CSV_CUSTOM_OFFAMAZONPAYMENTS_MULTI_CURRENCY_PAYMENTS_DATA_",
                "scheduleFrequency": "P1D",
            },
            "InvalidParameterValue",
        ),
        (
            {"reportType": AUTH, "scheduleFrequency": "P1D", "deleteExistingSchedule": "yes"},
            "InvalidParameterValue",
        ),
    ],
)
def test_bad_schedules_get_amazons_code_and_change_nothing(body: Any, code: str) -> None:
    sim = make_sim()
    with pytest.raises(ApiError) as caught:
        sim.reports.create_report_schedule(body)
    assert code == caught.value.reason_code
    assert {"reportSchedules": []} == sim.reports.get_report_schedules()


def test_get_reports_filters_and_pages() -> None:
    sim = make_sim()
    ids = [
        sim.reports.create_report({"reportType": AUTH, "startTime": _ts(), "endTime": _ts()})[
            "reportId"
        ]
        for _ in range(3)
    ]
    sim.reports.create_report({"reportType": ORDERS, "startTime": _ts(), "endTime": _ts()})
    page = sim.reports.get_reports({"reportTypes": AUTH, "pageSize": "2"})
    assert ids[::-1][:2] == [r["reportId"] for r in page["reports"]]
    rest = sim.reports.get_reports({"nextToken": page["nextToken"]})
    assert [ids[0]] == [r["reportId"] for r in rest["reports"]]
    assert "nextToken" not in rest
    with pytest.raises(ApiError) as caught:
        sim.reports.get_reports({"nextToken": page["nextToken"], "pageSize": "2"})
    assert "InvalidParameterCombination" == caught.value.reason_code
    for bad in (
        {"pageSize": "0"},
        {"pageSize": "x"},
        {"reportTypes": "_NOPE_"},
        {"nextToken": "@@"},
    ):
        with pytest.raises(ApiError) as caught:
            sim.reports.get_reports(bad)
        assert "InvalidParameterValue" == caught.value.reason_code
    assert 4 == len(sim.reports.get_reports({"processingStatuses": ["IN_PROGRESS"]})["reports"])


def test_a_snapshot_keeps_reports_and_schedules() -> None:
    sim = make_sim()
    _charged(sim)
    report_id = sim.reports.create_report(
        {"reportType": AUTH, "startTime": _ts(), "endTime": _ts()}
    )["reportId"]
    schedule_id = sim.reports.create_report_schedule(
        {"reportType": ORDERS, "scheduleFrequency": "P1D"}
    )["reportScheduleId"]
    snapshot = sim.snapshot()
    restored = Simulator.restore(snapshot)
    assert sim.reports.get_report(report_id) == restored.reports.get_report(report_id)
    assert sim.reports.get_report_schedule(schedule_id) == restored.reports.get_report_schedule(
        schedule_id
    )
    restored.advance(timedelta(days=1))
    assert 2 == len(restored.reports.get_reports()["reports"])
    bad = copy.deepcopy(snapshot) | {"reports": {"next": 1, "reports": [["x"]], "schedules": []}}
    with pytest.raises(ValueError, match="reports"):
        Simulator.restore(bad)


# -- the Limits (docs/limits.md: report_processing_time, report_retention, page sizes) -----


def _request(sim: Simulator) -> str:
    body = {"reportType": AUTH, "startTime": _ts(), "endTime": _ts()}
    return str(sim.reports.create_report(body)["reportId"])


def test_reports_are_kept_for_the_retention_then_deleted() -> None:
    retention = Limits().report_retention
    assert timedelta(days=90) == retention  # the .NET SDK's GetReportsRequest
    sim = make_sim()
    report_id = _request(sim)
    sim.advance(retention - timedelta(seconds=1))
    assert report_id == sim.reports.get_report(report_id)["reportId"]
    sim.advance(timedelta(seconds=1))  # exactly createdTime + 90 d: gone
    with pytest.raises(ApiError) as caught:
        sim.reports.get_report(report_id)
    assert "ResourceNotFound" == caught.value.reason_code
    assert {"reports": []} == sim.reports.get_reports()


def test_get_reports_pages_by_the_default_page_size() -> None:
    size = Limits().report_page_size
    assert 10 == size  # the .NET SDK's GetReportsRequest
    sim = make_sim()
    for _ in range(size + 1):
        _request(sim)
    page = sim.reports.get_reports()
    assert size == len(page["reports"])
    assert 1 == len(sim.reports.get_reports({"nextToken": page["nextToken"]})["reports"])
    most = str(Limits().report_page_size_max)
    assert size + 1 == len(sim.reports.get_reports({"pageSize": most})["reports"])
    with pytest.raises(ApiError) as caught:
        sim.reports.get_reports({"pageSize": str(int(most) + 1)})
    assert "InvalidParameterValue" == caught.value.reason_code


def test_the_report_limits_can_be_overridden() -> None:
    limits = Limits(
        report_processing_time=timedelta(minutes=5),
        report_retention=timedelta(days=1),
        report_page_size=2,
    )
    sim = make_sim(limits=limits)
    checkout(sim)
    body = {"reportType": AUTH, "startTime": _ts(-timedelta(days=1)), "endTime": _ts()}
    report_id = sim.reports.create_report(body)["reportId"]
    sim.advance(PROCESSING)
    assert "IN_PROGRESS" == sim.reports.get_report(report_id)["processingStatus"]
    sim.advance(timedelta(minutes=4))
    assert "COMPLETED" == sim.reports.get_report(report_id)["processingStatus"]
    for _ in range(3):
        _request(sim)
    assert 2 == len(sim.reports.get_reports()["reports"])
    sim.advance(timedelta(days=1))
    assert {"reports": []} == sim.reports.get_reports()


def test_a_past_next_report_creation_time_is_rolled_forward_by_whole_periods() -> None:
    # The Node SDK's tst/webStoreClientTest.js creates a PT84H schedule at
    # 20230618T150630Z (in the past when it ran) and expects 201: a Decision.
    sim = make_sim()
    period = SCHEDULE_FREQUENCIES["PT84H"]
    for offset, expected in (
        (-timedelta(seconds=1), period - timedelta(seconds=1)),
        (-period, period),  # the first instant after now, not now
        (-period - timedelta(seconds=1), period - timedelta(seconds=1)),
    ):
        body = {
            "reportType": AUTH,
            "scheduleFrequency": "PT84H",
            "nextReportCreationTime": _ts(offset),
            "deleteExistingSchedule": True,
        }
        schedule_id = sim.reports.create_report_schedule(body)["reportScheduleId"]
        schedule = sim.reports.get_report_schedule(schedule_id)
        assert _ts(expected) == schedule["nextReportCreationTime"], offset
    assert {"reports": []} == sim.reports.get_reports({"createdSince": _ts(-period * 2)})


def test_the_creates_replay_on_an_idempotency_key_in_process() -> None:
    # idempotency.html: "Amazon Pay enforces idempotency for POST requests"; the Java SDK's
    # README sends x-amz-pay-idempotency-key on createReport and createReportSchedule
    # (docs/reports.md, "The idempotency key").
    sim = make_sim()
    body = {"reportType": AUTH, "startTime": _ts(), "endTime": _ts(timedelta(days=1))}
    first = sim.reports.create_report(body, idempotency_key="r-1")
    assert first == sim.reports.create_report(copy.deepcopy(body), idempotency_key="r-1")
    assert 1 == len(sim.reports.reports)
    with pytest.raises(ApiError) as caught:
        sim.reports.create_report(
            {**body, "endTime": _ts(timedelta(days=2))}, idempotency_key="r-1"
        )
    assert "DuplicateIdempotencyKey" == caught.value.reason_code
    for bad in ("", "x" * 33, "no spaces"):
        with pytest.raises(ApiError) as caught:
            sim.reports.create_report(body, idempotency_key=bad)
        assert "InvalidHeaderValue" == caught.value.reason_code
    # A refusal is the key's answer too (SPEC §7): the same request again is refused again.
    bad_type = {"reportType": "_NOPE_", "scheduleFrequency": "P1D"}
    for _ in range(2):
        with pytest.raises(ApiError) as caught:
            sim.reports.create_report_schedule(bad_type, idempotency_key="s-1")
        assert "InvalidParameterValue" == caught.value.reason_code
    # The keys are in the snapshot: a restored simulator answers the first answer.
    restored = Simulator.restore(sim.snapshot())
    assert first == restored.reports.create_report(body, idempotency_key="r-1")
    assert 1 == len(restored.reports.reports)


def test_a_snapshot_with_malformed_report_keys_is_refused() -> None:
    sim = make_sim()
    sim.reports.create_report(
        {"reportType": AUTH, "startTime": _ts(), "endTime": _ts()}, idempotency_key="k"
    )
    snapshot = sim.snapshot()
    cases: list[dict[str, Any]] = [
        {"create_refund": {}},
        {"create_report": {"k": [1, {"reportId": "1"}, None]}},
        {"create_report": {"k": ["fp", None, None]}},
        {"create_report": {"k": ["fp", None, ["NoSuchCode", "x"]]}},
    ]
    for keys in cases:
        broken = copy.deepcopy(snapshot)
        broken["reports"]["keys"] = keys
        with pytest.raises(ValueError, match="reports"):
            Simulator.restore(broken)


def test_the_report_keys_are_capped_as_the_api_keys_are() -> None:
    """``retain(idempotency_keys=N)`` (``apfsm serve --max-idempotency-keys``) bounds the
    Reports API's keys too: up to N per keyed operation, the oldest forgotten first (a
    forgotten key is new again); they survive a snapshot in the order they were taken."""
    sim = make_sim()
    body = {"reportType": AUTH, "startTime": _ts(), "endTime": _ts(timedelta(days=1))}
    for n in range(5):
        sim.reports.create_report(body, idempotency_key=f"r-{n}")
    sim.retain(idempotency_keys=3)
    assert 5 == len(sim.reports.reports)
    newest = sim.reports.create_report(body, idempotency_key="r-4")  # kept: replayed
    assert 5 == len(sim.reports.reports)
    sim.reports.create_report(body, idempotency_key="r-0")  # forgotten: a new report
    assert 6 == len(sim.reports.reports)
    copy_ = Simulator.restore(sim.snapshot())
    copy_.retain(idempotency_keys=3)
    assert newest == copy_.reports.create_report(body, idempotency_key="r-4")
    copy_.reports.create_report(body, idempotency_key="r-5")
    copy_.reports.create_report(body, idempotency_key="r-6")  # r-3 and r-4 forgotten
    copy_.reports.create_report(body, idempotency_key="r-4")
    assert 9 == len(copy_.reports.reports)


def test_a_report_call_does_not_copy_the_whole_book(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 16: save() serialised every report on each Create Report (0.25 s a call at
    # 26,000 reports, growing with the state). Counted, not timed: the book's JSON is
    # built when a snapshot (or a --state checkpoint) is taken, not by the calls.
    from apfsm._sim.reports import ReportBook

    sim = make_sim()
    copies: list[ReportBook] = []
    to_json = ReportBook.to_json

    def counted(self: ReportBook) -> dict[str, Any]:
        copies.append(self)
        return to_json(self)

    monkeypatch.setattr(ReportBook, "to_json", counted)
    window = {"startTime": _ts(-timedelta(days=1)), "endTime": _ts()}
    for n in range(50):
        sim.reports.create_report({"reportType": AUTH, **window}, idempotency_key=f"k{n}")
    sim.reports.create_report_schedule({"reportType": AUTH, "scheduleFrequency": "P1D"})
    sim.advance(timedelta(days=2))  # reports finish, the schedule makes two more
    assert 0 == len(copies)
    snapshot = sim.snapshot()
    assert 1 == len(copies)
    # Still exact: a restored simulator's book is the same, and snapshots the same.
    assert 52 == len(snapshot["reports"]["reports"])
    assert snapshot == Simulator.restore(copy.deepcopy(snapshot)).snapshot()
