"""The Reports API over HTTP (docs/reports.md): /v2/reports, /v2/report-schedules and
/v2/report-documents/{id} (paths from Amazon's reports.html and the Node SDK's client.js),
signed like the other routes and journaled with ``--state``."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

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
    # A clean shutdown checkpoints (the journal is cleared): the reports are in their rows.
    with TestClient(create_app(state=path)) as client:
        # A new key: key-1 again would be the first request again, answered, not made.
        Api(client)("POST", "/reports", {"reportType": AUTH, **WINDOW}, key="after-restart")
    again = Api(TestClient(create_app(state=path)))
    assert 2 == len(again("GET", "/reports")[1]["reports"])


# -- The idempotency key (docs/reports.md, "The idempotency key") ----------------------------
#
# "Amazon Pay enforces idempotency for POST requests ... Amazon Pay saves the response to the
# first request made with an idempotency key. Subsequent requests using the same key will
# return the saved result. If you change any values in the subsequent request ... the
# response will be a DuplicateIdempotencyKey error" (https://developer.amazon.com/docs/
# amazon-pay-api-v2/idempotency.html). The Reports API's creates take one:
# https://developer.amazon.com/docs/amazon-pay-reports/manually-requesting-reports.html sends
# -H "x-amz-pay-idempotency-key:AVLo5tI10BHgEk2jEXAMPLEKEY" on Create Report, and
# amzn/amazon-pay-api-sdk-java README.md ("CreateReport API", "CreateReportSchedule API")
# puts one in the header map. Until this test, apfsm took the key and ignored it: a retry
# made a second report.


def _post(client: TestClient, path: str, body: Any, key: str | None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-amz-pay-idempotency-key"] = key
    answer = client.post(f"/v2{path}", content=json.dumps(body), headers=headers)
    return answer.status_code, answer.json()


def test_a_create_report_retried_with_its_key_answers_the_first_report() -> None:
    sim = make_sim()
    client = TestClient(create_app(sim))
    body = {"reportType": AUTH, **WINDOW}
    first = _post(client, "/reports", body, "AVLo5tI10BHgEk2jEXAMPLEKEY")
    assert 201 == first[0]
    assert first == _post(client, "/reports", body, "AVLo5tI10BHgEk2jEXAMPLEKEY")
    assert 1 == len(sim.reports.reports)  # the retry created nothing
    other = {"reportType": AUTH, "startTime": WINDOW["startTime"], "endTime": "20980101T000000Z"}
    status, refused = _post(client, "/reports", other, "AVLo5tI10BHgEk2jEXAMPLEKEY")
    assert (400, "DuplicateIdempotencyKey") == (status, refused["reasonCode"])
    # A new key, or none (the PHP SDK's ReportingClientInterface.php: headers "optional
    # x-amz-pay-authtoken"; the Node SDK's README createReport sends none): a new report.
    assert 201 == _post(client, "/reports", body, "another-key")[0]
    assert 201 == _post(client, "/reports", body, None)[0]
    assert 3 == len(sim.reports.reports)


def test_a_create_report_schedule_key_replays_its_answer_even_a_refusal() -> None:
    sim = make_sim()
    client = TestClient(create_app(sim))
    daily = {"reportType": AUTH, "scheduleFrequency": "P1D"}
    first = _post(client, "/report-schedules", daily, "k1")
    assert 201 == first[0]
    assert first == _post(client, "/report-schedules", daily, "k1")
    assert 1 == len(sim.reports.schedules)
    refused = _post(client, "/report-schedules", daily, "k2")  # one schedule per type
    assert (400, "InvalidRequest") == (refused[0], refused[1]["reasonCode"])
    sim.reports.cancel_report_schedule(first[1]["reportScheduleId"])
    assert refused == _post(client, "/report-schedules", daily, "k2")  # the same answer
    assert not sim.reports.schedules


def test_one_key_on_two_report_operations_is_two_requests() -> None:
    # amzn/amazon-pay-api-sdk-nodejs tst/webStoreClientTest.js ("CV2 Reporting APIs") sends
    # one module-wide key to createReportSchedule, then createReport, then the same
    # createReportSchedule again, and expects 201 from each: apfsm keeps keys per operation.
    sim = make_sim()
    client = TestClient(create_app(sim))
    schedule = {
        "reportType": AUTH,
        "scheduleFrequency": "PT84H",
        "nextReportCreationTime": "20230618T150630Z",
        "deleteExistingSchedule": True,
    }
    report = {"reportType": AUTH, "startTime": "20230618T150630Z", "endTime": "20230911T150350Z"}
    key = "0123456789abcdef0123456789abcdef"
    first = _post(client, "/report-schedules", schedule, key)
    assert 201 == first[0]
    assert 201 == _post(client, "/reports", report, key)[0]
    assert first == _post(client, "/report-schedules", schedule, key)


def test_a_bad_or_empty_report_key_is_refused_before_the_body() -> None:
    client = TestClient(create_app(make_sim()))
    body = {"reportType": AUTH, **WINDOW}
    too_long = "x" * 33  # idempotency.html: "a maximum of 32 characters"
    assert (400, "InvalidHeaderValue") == _code(_post(client, "/reports", body, too_long))
    assert (400, "InvalidHeaderValue") == _code(_post(client, "/reports", body, "a.b"))
    assert (400, "MissingHeaderValue") == _code(_post(client, "/report-schedules", body, " "))
    # GET and DELETE ignore a key (idempotency.html: "we do NOT recommend setting the
    # x-amz-pay-idempotency-key header for GET, PATCH and DELETE requests").
    answer = client.get("/v2/reports", headers={"x-amz-pay-idempotency-key": "x" * 40})
    assert 200 == answer.status_code


def test_report_keys_survive_a_restart_with_state(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    client = TestClient(create_app(make_sim(), state=path))  # never shut down: a crash
    body = {"reportType": AUTH, **WINDOW}
    first = _post(client, "/reports", body, "kept")
    restarted = TestClient(create_app(state=path))  # the journal replays the key
    assert first == _post(restarted, "/reports", body, "kept")
    with TestClient(create_app(state=path)) as clean:  # a checkpoint holds it too
        assert first == _post(clean, "/reports", body, "kept")
    again = TestClient(create_app(state=path))
    assert first == _post(again, "/reports", body, "kept")
    assert 1 == len(Api(again)("GET", "/reports")[1]["reports"])
