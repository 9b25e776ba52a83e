"""The Reports API over HTTP (docs/reports.md): /v2/reports, /v2/report-schedules and
/v2/report-documents/{id} (paths from Amazon's reports.html and the Node SDK's client.js),
signed like the other routes and journaled with ``--state``."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

from starlette.testclient import TestClient

from apfsm.server import create_app
from tests.simhelpers import make_sim

from .serverhelpers import new_key, public_pem, signed_headers
from .test_server import Api, checkout

AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
WINDOW = {"startTime": "20000101T000000Z", "endTime": "20990101T000000Z"}


def test_reports_schedules_and_documents_over_http() -> None:
    sim = make_sim()
    api = Api(TestClient(create_app(sim)))
    checkout(api)
    status, created = api("POST", "/reports", {"reportType": AUTH, **WINDOW})
    assert 201 == status
    report_id = created["reportId"]
    assert (200, "IN_PROGRESS") == (
        api("GET", f"/reports/{report_id}")[0],
        api("GET", f"/reports/{report_id}")[1]["processingStatus"],
    )
    sim.advance(timedelta(minutes=1))
    status, report = api("GET", f"/reports/{report_id}")
    assert "COMPLETED" == report["processingStatus"]
    status, document = api("GET", f"/report-documents/{report['reportDocumentId']}")
    assert 200 == status
    text = base64.b64decode(document["url"].split(",", 1)[1]).decode()
    assert text.startswith("ChargeId,")
    assert 2 == len(text.splitlines())
    status, listed = api("GET", f"/reports?reportTypes={AUTH}&pageSize=5")
    assert [report_id] == [r["reportId"] for r in listed["reports"]]
    status, schedule = api(
        "POST", "/report-schedules", {"reportType": AUTH, "scheduleFrequency": "P1D"}
    )
    assert 201 == status
    schedule_id = schedule["reportScheduleId"]
    assert 200 == api("GET", f"/report-schedules/{schedule_id}")[0]
    assert [schedule_id] == [
        s["reportScheduleId"]
        for s in api("GET", f"/report-schedules?reportTypes={AUTH}")[1]["reportSchedules"]
    ]
    assert (200, {}) == api("DELETE", f"/report-schedules/{schedule_id}")
    assert 404 == api("DELETE", f"/report-schedules/{schedule_id}")[0]


def test_bad_report_calls_get_amazons_codes() -> None:
    api = Api(TestClient(create_app(make_sim())))
    assert (400, "InvalidParameterValue") == _code(
        api("POST", "/reports", {"reportType": "_X_", **WINDOW})
    )
    assert (400, "MissingParameterValue") == _code(api("POST", "/reports", WINDOW))
    assert (400, "InvalidRequestFormat") == _code(api("POST", "/reports", raw=b"{nope"))
    assert (404, "ResourceNotFound") == _code(api("GET", "/reports/1"))
    assert (404, "ResourceNotFound") == _code(api("GET", "/report-documents/1"))
    assert (400, "InvalidParameterValue") == _code(api("GET", "/reports?pageSize=1000"))
    answer = api.client.request("PUT", "/v2/reports")
    assert 405 == answer.status_code


def _code(answer: tuple[int, dict[str, str]]) -> tuple[int, str]:
    return answer[0], answer[1]["reasonCode"]


def test_report_calls_are_signed_like_the_others() -> None:
    key = new_key()
    client = TestClient(create_app(make_sim(), public_key=public_pem(key)))
    body = json.dumps({"reportType": AUTH, **WINDOW}).encode()
    unsigned = client.post("/v2/reports", content=body, headers={"x-amz-pay-idempotency-key": "k"})
    assert 400 <= unsigned.status_code < 500
    headers = signed_headers(
        key, "POST", "/v2/reports", body, headers={"x-amz-pay-idempotency-key": "k2"}
    )
    assert 201 == client.post("/v2/reports", content=body, headers=headers).status_code


def test_reports_survive_a_restart_with_state(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    api = Api(TestClient(create_app(make_sim(), state=path)))  # never shut down: a crash
    report_id = api("POST", "/reports", {"reportType": AUTH, **WINDOW})[1]["reportId"]
    schedule_id = api(
        "POST", "/report-schedules", {"reportType": AUTH, "scheduleFrequency": "P1D"}
    )[1]["reportScheduleId"]
    restarted = Api(TestClient(create_app(state=path)))
    assert report_id == restarted("GET", f"/reports/{report_id}")[1]["reportId"]
    assert 200 == restarted("GET", f"/report-schedules/{schedule_id}")[0]
    # A clean shutdown checkpoints (the journal is cleared): the reports are in the head.
    with TestClient(create_app(state=path)) as client:
        Api(client)("POST", "/reports", {"reportType": AUTH, **WINDOW})
    again = Api(TestClient(create_app(state=path)))
    assert 2 == len(again("GET", "/reports")[1]["reports"])
