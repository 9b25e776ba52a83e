"""The Reports API over HTTP: every one of its eight operations is routed, and garbage on
each endpoint gets one of Amazon's codes — never a 500 — and changes nothing
(docs/reports.md; the operations and their codes are ``REPORT_OPERATIONS``, from Amazon's
reports.html and the Node SDK's client.js)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from apfsm import ERRORS
from apfsm._sim import Simulator
from apfsm._spec import REPORT_OPERATIONS
from apfsm.server import create_app
from tests.simhelpers import make_sim

from .test_server import Api, checkout

AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
WINDOW = {"startTime": "20000101T000000Z", "endTime": "20990101T000000Z"}
# What any call may answer besides its operation's own codes: the body's framing.
FRAMING = {"InvalidRequestFormat"}


def _world() -> tuple[Simulator, Api, dict[str, str]]:
    """A simulator with a completed report (its document), an in-progress one and a
    schedule; the ids by path parameter."""
    sim = make_sim()
    api = Api(TestClient(create_app(sim)))
    checkout(api)
    done = api("POST", "/reports", {"reportType": AUTH, **WINDOW})[1]["reportId"]
    sim.advance(sim.limits.report_processing_time)
    api("POST", "/reports", {"reportType": AUTH, **WINDOW})
    schedule = api("POST", "/report-schedules", {"reportType": AUTH, "scheduleFrequency": "P1D"})
    ids = {
        "reportId": done,
        "reportDocumentId": api("GET", f"/reports/{done}")[1]["reportDocumentId"],
        "reportScheduleId": schedule[1]["reportScheduleId"],
    }
    return sim, api, ids


def _path(template: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        template = template.replace("{" + name + "}", value)
    return template


@pytest.mark.parametrize("name", list(REPORT_OPERATIONS))
def test_every_report_operation_is_routed(name: str) -> None:
    op = REPORT_OPERATIONS[name]
    _, api, ids = _world()
    bodies = {
        "create_report": {"reportType": AUTH, **WINDOW},
        "create_report_schedule": {
            "reportType": "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_REFUND_DATA_",
            "scheduleFrequency": "PT84H",
        },
    }
    status, answer = api(op.method, _path(op.path, ids), bodies.get(name))
    assert op.success_status == status, answer
    expected_keys = {
        "get_reports": {"reports"},
        "get_report": {"reportId", "processingStatus", "reportDocumentId"},
        "create_report": {"reportId"},
        "get_report_document": {"reportDocumentId", "url", "compressionAlgorithm"},
        "get_report_schedules": {"reportSchedules"},
        "get_report_schedule": {"reportScheduleId", "scheduleFrequency"},
        "create_report_schedule": {"reportScheduleId"},
        "cancel_report_schedule": set(),
    }[name]
    assert expected_keys <= set(answer)


def test_the_eight_operations_are_amazons() -> None:
    # reports.html lists these eight calls and no Cancel Report.
    assert {
        ("GET", "/reports"),
        ("GET", "/reports/{reportId}"),
        ("POST", "/reports"),
        ("GET", "/report-documents/{reportDocumentId}"),
        ("GET", "/report-schedules"),
        ("GET", "/report-schedules/{reportScheduleId}"),
        ("POST", "/report-schedules"),
        ("DELETE", "/report-schedules/{reportScheduleId}"),
    } == {(op.method, op.path) for op in REPORT_OPERATIONS.values()}


# -- garbage -------------------------------------------------------------------------------

_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b"{nope",
    b"\xff\xfe",
    b'{"reportType": 5}',
    b'{"reportType": null, "startTime": null}',
    b'{"reportType": "' + AUTH.encode() + b'", "startTime": [], "endTime": {}}',
    b'{"reportType": "' + AUTH.encode() + b'", "startTime": "yesterday", "endTime": "x"}',
    b'{"reportType": "' + AUTH.encode() + b'", "startTime": "99999999T999999Z", "endTime": 1}',
    b'{"reportType": "' + AUTH.encode() + b'", "startTime": "20990101T000000Z", '
    b'"endTime": "20000101T000000Z"}',
    b'{"reportType": "_GET_CSV_CUSTOM_OFFAMAZONPAYMENTS_MULTI_CURRENCY_PAYMENTS_DATA_", '
    b'"scheduleFrequency": "P1D"}',
    b'{"reportType": "' + AUTH.encode() + b'", "scheduleFrequency": "P1M"}',
    b'{"reportType": "' + AUTH.encode() + b'", "scheduleFrequency": 86400}',
    b'{"reportType": "' + AUTH.encode() + b'", "scheduleFrequency": "P1D", '
    b'"nextReportCreationTime": "19991301T000000Z"}',
    b'{"reportType": "' + AUTH.encode() + b'", "scheduleFrequency": "P1D", '
    b'"deleteExistingSchedule": "yes"}',
    b'{"reportType": "' + AUTH.encode() + b'", "scheduleFrequency": "P1D"}',  # one exists
    b'{"surprise": true}',
    b'{"reportType": "' + AUTH.encode() + b'", "reportType": "' + AUTH.encode() + b'"}',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"reportType": "' + AUTH.encode() + b'", "startTime": "' + b"9" * 5000 + b'"}',
]


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


_BAD = "InvalidParameterValue"
# (query, Get Reports' code: None for a 200, the query being harmless)
_QUERIES: list[tuple[str, str | None]] = [
    ("pageSize=0", _BAD),
    ("pageSize=-1", _BAD),
    ("pageSize=101", _BAD),
    ("pageSize=1e3", _BAD),
    ("pageSize=", _BAD),
    ("pageSize=" + "9" * 5000, _BAD),
    ("reportTypes=_NOPE_", _BAD),
    ("reportTypes=,", None),  # nothing listed: no filter (the PHP SDK sends reportTypes=)
    ("processingStatuses=DONE", _BAD),
    ("createdSince=yesterday", _BAD),
    ("createdSince=99999999T999999Z", _BAD),
    ("createdUntil=20230618", _BAD),
    ("nextToken=@@", _BAD),
    ("nextToken=" + _token([1, 2]), _BAD),
    ("nextToken=" + _token({"q": {"pageSize": [1]}, "o": 0}), _BAD),
    ("nextToken=" + _token({"q": {"createdSince": 5}, "o": 0}), _BAD),
    ("nextToken=" + _token({"q": {}, "o": -1}), _BAD),
    ("nextToken=x&pageSize=2", "InvalidParameterCombination"),
    ("%ff=%ff", None),  # an unknown parameter is ignored
]

_IDS = ["nope", "%00", "x" * 5000, "..", "59007019641%2F1", "%F0%9F%92%A5"]


def _state(sim: Simulator) -> Any:
    """The simulator's state, but for the report idempotency keys: a refused request's key
    remembers its refusal (SPEC §7, docs/reports.md); nothing else may change."""
    snapshot = sim.snapshot(log=False)
    reports = snapshot.get("reports")
    if isinstance(reports, dict):
        snapshot["reports"] = {k: v for k, v in reports.items() if k != "keys"}
    return snapshot


def _judge(op_name: str, status: int, answer: dict[str, Any]) -> None:
    op = REPORT_OPERATIONS[op_name]
    assert 400 <= status < 500, (status, answer)
    code = answer["reasonCode"]
    assert code in ERRORS, answer
    assert status == ERRORS[code].http_status, answer
    assert code in {*op.codes, *FRAMING}, (op_name, answer)


@pytest.mark.parametrize("body", _BODIES, ids=range(len(_BODIES)))
@pytest.mark.parametrize("name", ["create_report", "create_report_schedule"])
def test_garbage_bodies_get_amazons_codes_and_change_nothing(name: str, body: bytes) -> None:
    sim, api, _ = _world()
    before = _state(sim)
    status, answer = api("POST", REPORT_OPERATIONS[name].path, raw=body)
    if name == "create_report_schedule" and body.endswith(b'"P1D"}') and b"MULTI" not in body:
        assert "InvalidRequest" == answer["reasonCode"]  # one schedule per type (managing-...)
    _judge(name, status, answer)
    assert before == _state(sim)


@pytest.mark.parametrize(("query", "code"), _QUERIES, ids=range(len(_QUERIES)))
def test_garbage_queries_get_amazons_codes_and_change_nothing(query: str, code: str) -> None:
    sim, api, _ = _world()
    before = _state(sim)
    status, answer = api("GET", f"/reports?{query}")
    if code is None:
        assert 200 == status, answer
    else:
        assert code == answer["reasonCode"]
        _judge("get_reports", status, answer)
    status, answer = api("GET", f"/report-schedules?{query}")
    if status != 200:  # Get Report Schedules reads reportTypes only
        assert query.startswith("reportTypes"), query
        _judge("get_report_schedules", status, answer)
    assert before == _state(sim)


@pytest.mark.parametrize("bad_id", _IDS)
def test_unknown_ids_on_each_item_endpoint_are_resource_not_found(bad_id: str) -> None:
    sim, api, _ = _world()
    before = _state(sim)
    for op in REPORT_OPERATIONS.values():
        if "{" not in op.path:
            continue
        status, answer = api(op.method, op.path.split("{")[0] + bad_id)
        assert status in (404, 405), (op.name, bad_id, answer)
        assert answer["reasonCode"] in ("ResourceNotFound", "RequestNotSupported"), answer
    assert before == _state(sim)


@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        ["reportType", "startTime", "endTime", "scheduleFrequency", "x"]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=8,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    name=st.sampled_from(["create_report", "create_report_schedule"]),
)
def test_fuzzed_bodies_never_500(body: bytes, name: str) -> None:
    sim = make_sim()
    api = Api(TestClient(create_app(sim)))
    status, answer = api("POST", REPORT_OPERATIONS[name].path, raw=body)
    if status >= 400:
        _judge(name, status, answer)
        assert {"reports": []} == api("GET", "/reports")[1]
        assert {"reportSchedules": []} == api("GET", "/report-schedules")[1]
    else:
        assert 201 == status
