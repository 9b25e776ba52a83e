"""The official PHP, Java and .NET SDKs' own Reports API examples, fed through ``apfsm
serve``'s app (docs/reports.md, "What the SDKs send"); the Node SDK's run for real in
``tests/server/test_server_clients.py``.

Every payload, path and query below is copied from an SDK, with the SDK's own values; the
clock is set so that the examples' time ranges hold the checkout the test makes, and the
placeholder ids (``"1234567890"``, ``amzn1.tortuga.0.000000000-...``) are replaced by the
ids apfsm answered. The query strings are built as each SDK builds them:

- PHP: amzn/amazon-pay-api-sdk-php at f78ef40b67061458d8564d3ee3e8dab1b72abca0 (2.7.2):
  ``README.md`` ("Reporting APIs code samples": getReports with reportTypes,
  processingStatuses and pageSize '10'; createReport; createReportSchedule with
  ``'deleteExistingSchedule' => false``; getReportSchedules with two types) and
  ``Amazon/Pay/API/Client.php`` (``apiCall``: the query sorted by name
  (``sortCanonicalArray``) and ``rawurlencode``d, so a comma is ``%2C``;
  ``getReportSchedules($reportTypes = null)`` sends ``reportTypes=`` when given none). Its
  README builds an idempotency key for the two creates but does not pass it, and
  ``ReportingClientInterface.php`` lists only "optional x-amz-pay-authtoken": no key.
- JAVA: amzn/amazon-pay-api-sdk-java at f51835b0d23ea9b40119d737cd2c22c3c0fa0113
  (2.6.7): ``README.md`` ("Reporting APIs code samples") and
  ``src/com/amazon/pay/api/WebstoreClient.java`` (``getReports`` and
  ``getReportSchedules`` call ``<path>/?<query>``, the query joined by
  ``convertQueryParamters`` unencoded; the README's createReport and createReportSchedule
  send ``x-amz-pay-idempotency-key`` ``UUID.randomUUID().toString().replace("-", "")``, and
  its createReportSchedule payload ``put("deleteExistingSchedule", "false")``: org.json
  sends the *string* ``"false"``).
- DOTNET: amzn/amazon-pay-api-sdk-dotnet at 4c6cbc1f2a859b590739e14ce2fdcb2f60d6d446:
  ``README.md`` ("Reporting APIs code samples": GetReports with createdSince now - 10
  days, createdUntil now - 5 days, pageSize 5; CreateReport; CreateReportSchedule P14D),
  ``Amazon.Pay.API.SDK.Tests/WebStore/Reports/ReportAPIsTest.cs`` (the same values),
  ``Amazon.Pay.API.SDK/WebStore/WebStoreClient.cs`` (GetReports' query: ``yyyyMMddTHHmmssZ``
  times and always a pageSize; CancelReportSchedule sends an empty
  ``CancelReportScheduleRequest`` body), ``CanonicalBuilder.cs`` (the query sorted and
  URL-encoded), ``ApiUrlBuilder.cs`` (a trailing slash) and ``Client.cs`` (a POST without
  a key gets ``Guid.NewGuid().ToString().Replace("-", "")``). The README puts
  ``Guid.NewGuid().ToString()`` — 36 characters — in the header: refused, as on every POST
  (idempotency.html: at most 32 characters; ``docs/conformance.md`` ``w-key-uuid``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm.server import create_app
from tests.server.test_server import Api, checkout
from tests.simhelpers import NODE_REPORT_KEYS, NODE_SCHEDULE_KEYS, make_sim

SETTLEMENT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_"
ORDERS = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_ORDER_REFERENCE_DATA_"
AGREEMENTS = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_BILLING_AGREEMENT_DATA_"
AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"

# -- PHP README.md ---------------------------------------------------------------------------
PHP_CREATE_REPORT = {
    "reportType": AUTH,
    "startTime": "20221114T074550Z",
    "endTime": "20221114T074550Z",
}
PHP_CREATE_SCHEDULE = {
    "reportType": ORDERS,
    "scheduleFrequency": "P1D",
    "nextReportCreationTime": "20221114T074550Z",
    "deleteExistingSchedule": False,
}
#: getReports(array('reportTypes' => ORDERS, 'processingStatuses' => 'COMPLETED',
#: 'pageSize' => '10')), sorted by name.
PHP_GET_REPORTS = f"pageSize=10&processingStatuses=COMPLETED&reportTypes={ORDERS}"
#: getReportSchedules("ORDERS,AGREEMENTS"): the comma rawurlencoded.
PHP_GET_SCHEDULES = f"reportTypes={ORDERS}%2C{AGREEMENTS}"

# -- Java README.md --------------------------------------------------------------------------
JAVA_CREATE_REPORT = {
    "reportType": ORDERS,
    "startTime": "20221114T074550Z",
    "endTime": "20221202T150350Z",
}
JAVA_CREATE_SCHEDULE = {
    "reportType": ORDERS,
    "scheduleFrequency": "P14D",
    "nextReportCreationTime": "20221202T150350Z",
    "deleteExistingSchedule": "false",  # put(key, "false"): a JSON string
}
JAVA_KEY = "5f0c2b7e9a1d4c3b8e6f0a2d4c6e8b1f"  # a UUID without its dashes
JAVA_GET_REPORTS = f"reportTypes={SETTLEMENT}&processingStatuses=COMPLETED"
JAVA_GET_SCHEDULES = f"reportTypes={ORDERS},{AGREEMENTS}"

# -- .NET README.md --------------------------------------------------------------------------
DOTNET_CREATE_REPORT = {
    "reportType": ORDERS,
    "startTime": "20221225T150630Z",
    "endTime": "20230223T111530Z",
}
DOTNET_CREATE_SCHEDULE = {
    "reportType": ORDERS,
    "scheduleFrequency": "P14D",
    "nextReportCreationTime": "20221114T074550Z",
    "deleteExistingSchedule": True,
}
DOTNET_README_KEY = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"  # Guid.NewGuid().ToString()
DOTNET_SDK_KEY = "3f2504e04f8941d39a0c0305e82c3301"  # Client.cs: the dashes removed
DOTNET_GET_SCHEDULES = f"reportTypes={ORDERS}%2C{AUTH}"


class Sdk:
    """The calls over HTTP with the path, query and headers an SDK sends."""

    def __init__(self, sim: Simulator, *, slash: bool = False) -> None:
        self.sim = sim
        self.client = TestClient(create_app(sim))
        self.slash = slash  # the .NET SDK's URLs end with one

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: str | None = None,
        key: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"content-type": "application/json"}
        if key is not None:
            headers["x-amz-pay-idempotency-key"] = key
        url = f"/v2{path}" + ("/" if self.slash else "")
        if query is not None:
            url += f"?{query}"
        content = None if body is None else json.dumps(body)
        answer = self.client.request(method, url, content=content, headers=headers)
        return answer.status_code, answer.json()


def _world(start: datetime) -> tuple[Simulator, Sdk]:
    """A simulator at ``start`` with one completed checkout (a one-time charge permission,
    an authorized charge) made then."""
    sim = make_sim(start=start)
    checkout(Api(TestClient(create_app(sim))))
    return sim, Sdk(sim)


def _finish(sim: Simulator) -> None:
    sim.advance(sim.limits.report_processing_time)


def _check_report(report: dict[str, Any], body: dict[str, Any], status: str) -> None:
    assert NODE_REPORT_KEYS == set(report), report
    assert (body["reportType"], body["startTime"], body["endTime"], status) == (
        report["reportType"],
        report["startTime"],
        report["endTime"],
        report["processingStatus"],
    )


def test_the_php_sdks_report_examples() -> None:
    sim, sdk = _world(datetime(2022, 11, 14, 12, 0, tzinfo=UTC))
    # createReport over one instant (startTime = endTime), no key: nothing in it, so it is
    # CANCELLED without a document ("an automatic cancellation if there is no data").
    status, created = sdk("POST", "/reports", PHP_CREATE_REPORT)
    assert 201 == status, created
    _finish(sim)
    status, report = sdk("GET", f"/reports/{created['reportId']}")
    assert 200 == status
    _check_report(report, PHP_CREATE_REPORT, "CANCELLED")
    assert report["reportDocumentId"] is None
    # An ORDERS report over the day of the checkout, found by the README's getReports query.
    day = {"reportType": ORDERS, "startTime": "20221114T000000Z", "endTime": "20221115T000000Z"}
    orders = sdk("POST", "/reports", day)[1]["reportId"]
    _finish(sim)
    status, listed = sdk("GET", "/reports", query=PHP_GET_REPORTS)
    assert 200 == status, listed
    assert [orders] == [r["reportId"] for r in listed["reports"]]
    document_id = listed["reports"][0]["reportDocumentId"]
    status, document = sdk("GET", f"/report-documents/{document_id}")
    assert (200, "N/A") == (status, document["compressionAlgorithm"])
    assert document["url"].startswith("data:text/csv;base64,")
    # createReportSchedule (deleteExistingSchedule false), then the README's
    # getReportSchedules, getReportScheduleById and cancelReportSchedule.
    status, schedule = sdk("POST", "/report-schedules", PHP_CREATE_SCHEDULE)
    assert 201 == status, schedule
    schedule_id = schedule["reportScheduleId"]
    status, schedules = sdk("GET", "/report-schedules", query=PHP_GET_SCHEDULES)
    assert 200 == status, schedules
    assert [schedule_id] == [s["reportScheduleId"] for s in schedules["reportSchedules"]]
    status, one = sdk("GET", f"/report-schedules/{schedule_id}")
    assert (200, NODE_SCHEDULE_KEYS, "P1D") == (status, set(one), one["scheduleFrequency"])
    # getReportSchedules() with no types sends "reportTypes=": every schedule.
    status, every = sdk("GET", "/report-schedules", query="reportTypes=")
    assert (200, [schedule_id]) == (
        status,
        [s["reportScheduleId"] for s in every["reportSchedules"]],
    )
    assert (200, {}) == sdk("DELETE", f"/report-schedules/{schedule_id}")


def test_the_java_sdks_report_examples() -> None:
    sim, sdk = _world(datetime(2022, 11, 20, 12, 0, tzinfo=UTC))
    status, created = sdk("POST", "/reports", JAVA_CREATE_REPORT, key=JAVA_KEY)
    assert 201 == status, created
    report_id = created["reportId"]
    # A retry with the README's key answers the same report (docs/reports.md).
    assert (201, created) == sdk("POST", "/reports", JAVA_CREATE_REPORT, key=JAVA_KEY)
    _finish(sim)
    # getReportById(reportId): the checkout's charge permission, created in the range.
    status, report = sdk("GET", f"/reports/{report_id}")
    assert 200 == status
    _check_report(report, JAVA_CREATE_REPORT, "COMPLETED")
    status, document = sdk("GET", f"/report-documents/{report['reportDocumentId']}")
    assert 200 == status, document
    # getReports(queryParameters): "<path>/?<query>"; SETTLEMENT reports: none here.
    status, listed = sdk("GET", "/reports/", query=JAVA_GET_REPORTS)
    assert (200, []) == (status, listed["reports"])
    # getReports(): "<path>/?" and an empty query: every report.
    status, every = sdk("GET", "/reports/", query="")
    assert (200, [report_id]) == (status, [r["reportId"] for r in every["reports"]])
    # createReportSchedule: deleteExistingSchedule is the string "false".
    key = JAVA_KEY[:-1] + "0"
    status, schedule = sdk("POST", "/report-schedules", JAVA_CREATE_SCHEDULE, key=key)
    assert 201 == status, schedule
    schedule_id = schedule["reportScheduleId"]
    status, one = sdk("GET", f"/report-schedules/{schedule_id}")
    assert 200 == status
    assert (ORDERS, "P14D", "20221202T150350Z") == (
        one["reportType"],
        one["scheduleFrequency"],
        one["nextReportCreationTime"],
    )
    # A second schedule for the type, still "false": refused (one schedule per type).
    status, refused = sdk("POST", "/report-schedules", JAVA_CREATE_SCHEDULE, key=key[:-1] + "1")
    assert (400, "InvalidRequest") == (status, refused["reasonCode"])
    status, schedules = sdk("GET", "/report-schedules/", query=JAVA_GET_SCHEDULES)
    assert (200, [schedule_id]) == (
        status,
        [s["reportScheduleId"] for s in schedules["reportSchedules"]],
    )
    assert (200, {}) == sdk("DELETE", f"/report-schedules/{schedule_id}")
    assert 404 == sdk("GET", f"/report-schedules/{schedule_id}")[0]


def test_the_java_sdks_string_booleans_are_read_as_booleans() -> None:
    sim, sdk = _world(datetime(2022, 11, 20, 12, 0, tzinfo=UTC))
    first = sdk("POST", "/report-schedules", JAVA_CREATE_SCHEDULE)[1]["reportScheduleId"]
    replace = {**JAVA_CREATE_SCHEDULE, "deleteExistingSchedule": "true"}
    status, second = sdk("POST", "/report-schedules", replace)
    assert 201 == status, second
    assert [second["reportScheduleId"]] == list(sim.reports.schedules)
    assert first != second["reportScheduleId"]
    for bad in ("yes", "", "TRUE", 1):
        other = {**JAVA_CREATE_SCHEDULE, "deleteExistingSchedule": bad}
        status, refused = sdk("POST", "/report-schedules", other)
        assert (400, "InvalidParameterValue") == (status, refused["reasonCode"]), bad


def test_the_dotnet_sdks_report_examples() -> None:
    sim, _ = _world(datetime(2023, 1, 10, 9, 0, tzinfo=UTC))
    sdk = Sdk(sim, slash=True)
    # The README's key (a GUID with its dashes, 36 characters) is refused, as on every POST.
    status, refused = sdk("POST", "/reports", DOTNET_CREATE_REPORT, key=DOTNET_README_KEY)
    assert (400, "InvalidHeaderValue") == (status, refused["reasonCode"])
    assert not sim.reports.reports
    # CreateReport(request, headers) without a key: Client.cs adds one without dashes.
    status, created = sdk("POST", "/reports", DOTNET_CREATE_REPORT, key=DOTNET_SDK_KEY)
    assert 201 == status, created
    _finish(sim)
    status, report = sdk("GET", f"/reports/{created['reportId']}")
    assert 200 == status
    _check_report(report, DOTNET_CREATE_REPORT, "COMPLETED")
    # GetReports(new GetReportsRequest(..., createdSince: now - 10 days, createdUntil:
    # now - 5 days, pageSize: 5)), six days on; the README's GUID key on a GET is ignored.
    sim.advance(timedelta(days=6))
    now = sim.now()
    since = (now - timedelta(days=10)).strftime("%Y%m%dT%H%M%SZ")
    until = (now - timedelta(days=5)).strftime("%Y%m%dT%H%M%SZ")
    query = (
        f"createdSince={since}&createdUntil={until}&pageSize=5"
        f"&processingStatuses=COMPLETED&reportTypes={ORDERS}"
    )
    status, listed = sdk("GET", "/reports", query=query, key=DOTNET_README_KEY)
    assert 200 == status, listed
    assert [created["reportId"]] == [r["reportId"] for r in listed["reports"]]
    status, document = sdk("GET", f"/report-documents/{report['reportDocumentId']}")
    assert 200 == status, document
    status, schedule = sdk(
        "POST", "/report-schedules", DOTNET_CREATE_SCHEDULE, key=DOTNET_SDK_KEY[:-1] + "0"
    )
    assert 201 == status, schedule
    schedule_id = schedule["reportScheduleId"]
    status, schedules = sdk("GET", "/report-schedules", query=DOTNET_GET_SCHEDULES)
    assert (200, [schedule_id]) == (
        status,
        [s["reportScheduleId"] for s in schedules["reportSchedules"]],
    )
    assert NODE_SCHEDULE_KEYS == set(sdk("GET", f"/report-schedules/{schedule_id}")[1])
    # CancelReportSchedule sends an empty request body on its DELETE.
    assert (200, {}) == sdk("DELETE", f"/report-schedules/{schedule_id}", {})


@pytest.mark.parametrize(
    "placeholder",
    [
        ("/reports", "1234567890"),  # every SDK's getReportById example
        ("/report-schedules", "1234567890"),  # getReportScheduleById, cancelReportSchedule
        (
            "/report-documents",
            "amzn1.tortuga.0.000000000-0000-0000-0000-000000000000.00000000000000",
        ),
    ],
)
def test_the_readmes_placeholder_ids_are_not_found(placeholder: tuple[str, str]) -> None:
    _, sdk = _world(datetime(2023, 1, 10, 9, 0, tzinfo=UTC))
    root, object_id = placeholder
    status, answer = sdk("GET", f"{root}/{object_id}")
    assert (404, "ResourceNotFound") == (status, answer["reasonCode"])
