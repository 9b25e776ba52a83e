"""The Reports API (docs/reports.md): reports, their processing lifecycle, report schedules
and report documents.

Sources (cited again in docs/reports.md and the tests):

- https://developer.amazon.com/docs/amazon-pay-api-v2/reports.html — the operations and
  paths (Get Reports, Get Report By Id, Create Report, Get Report Document, Get Report
  Schedules, Get Report Schedule By Id, Create Report Schedule, Cancel Report Schedule: no
  Cancel Report), the Report object's fields, the Report Document object (``url`` "valid
  for 30 seconds", ``compressionAlgorithm`` "at this time always N/A") and the
  ``ProcessingStatus`` enum ``IN_PROGRESS``, ``COMPLETED``, ``FAILED``, ``CANCELLED`` ("an
  explicit cancellation request before the report starts processing, or an automatic
  cancellation if there is no data to return");
- .../amazon-pay-reports/managing-report-schedules.html and manually-requesting-reports.html
  — one schedule per report type, ``deleteExistingSchedule``, the multi-currency report
  "does not support schedule creation", Create Report answers 201 with ``reportId``;
- the official SDKs: amzn/amazon-pay-api-sdk-dotnet ``WebStore/Types/ReportTypes.cs``,
  ``ProcessingStatus.cs``, ``ScheduleFrequency.cs``, ``Reports/GetReportsRequest.cs``
  (``pageSize`` 10 by default; "reports are retained for a maximum of 90 days"), and
  amzn/amazon-pay-api-sdk-nodejs ``src/client.js`` and ``tst/webStoreClientTest.js`` (the
  keys of a report and a schedule, 201 on both creates, 200 on Cancel Report Schedule).

What Amazon does not say is decided here and listed in docs/reports.md ("Decisions"): the
processing time, the document's columns, which objects a time range holds, the code of a
second schedule for one type.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Final, Literal

import attrs

from .model import SAME, Allow, Creation, Event, Lifecycle, StateDecl

__all__ = [
    "PROCESSING_STATUSES",
    "REPORT",
    "REPORT_OPERATIONS",
    "REPORT_TYPES",
    "SCHEDULE_FREQUENCIES",
    "UNSCHEDULABLE_REPORT_TYPES",
    "ReportOperation",
]

#: ``reportType`` values and what each lists (the .NET SDK's ``ReportTypes`` enum, and the
#: multi-currency report of manually-requesting-reports.html).
REPORT_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_": "settlement: captures and refunds",
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SANDBOX_SETTLEMENT_DATA_": (
            "settlement of sandbox transactions"
        ),
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_ORDER_REFERENCE_DATA_": "every order (charge permission)",
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_BILLING_AGREEMENT_DATA_": (
            "every recurring contract (recurring charge permission)"
        ),
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_": "every authorization (charge)",
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_CAPTURE_DATA_": "every capture (captured charge)",
        "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_REFUND_DATA_": "every refund",
        "_GET_CSV_CUSTOM_OFFAMAZONPAYMENTS_MULTI_CURRENCY_PAYMENTS_DATA_": (
            "charges in each presentment currency"
        ),
    }
)

#: Types Create Report Schedule refuses (manually-requesting-reports.html).
UNSCHEDULABLE_REPORT_TYPES: Final = frozenset(
    {"_GET_CSV_CUSTOM_OFFAMAZONPAYMENTS_MULTI_CURRENCY_PAYMENTS_DATA_"}
)

#: ``scheduleFrequency`` values (ISO 8601 durations; the .NET SDK's ``ScheduleFrequency``).
SCHEDULE_FREQUENCIES: Final[Mapping[str, timedelta]] = MappingProxyType(
    {
        "PT5M": timedelta(minutes=5),
        "PT15M": timedelta(minutes=15),
        "PT30M": timedelta(minutes=30),
        "PT1H": timedelta(hours=1),
        "PT2H": timedelta(hours=2),
        "PT4H": timedelta(hours=4),
        "PT8H": timedelta(hours=8),
        "PT12H": timedelta(hours=12),
        "PT24H": timedelta(hours=24),
        "PT84H": timedelta(hours=84),
        "P1D": timedelta(days=1),
        "P2D": timedelta(days=2),
        "P3D": timedelta(days=3),
        "P7D": timedelta(days=7),
        "P14D": timedelta(days=14),
        "P15D": timedelta(days=15),
        "P18D": timedelta(days=18),
        "P30D": timedelta(days=30),
    }
)

#: The ``processingStatus`` values (reports.html, the .NET SDK's ``ProcessingStatus``).
PROCESSING_STATUSES: Final = ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED")

# The processing time, the retention and Get Reports' page sizes are ``Limits`` fields
# (report_processing_time, report_retention, report_page_size, report_page_size_max).

_DONE: Final = ("COMPLETED", "FAILED", "CANCELLED")

#: The report's processing lifecycle, in the vocabulary of the API objects' (rendered to
#: diagrams/report.*), though a report is not one of ``LIFECYCLES``: it has no
#: ``statusDetails`` and no IPN, and the checkout engine never decides on it.
REPORT: Final = Lifecycle(
    object_type="Report",
    notification_type=None,
    description="A report requested by the merchant or by a schedule.",
    id_field="reportId",
    ref_prefix="rp",
    states=(
        StateDecl("IN_PROGRESS", "the report is being processed", initial=True),
        StateDecl("COMPLETED", "processed: reportDocumentId names the document", terminal=True),
        StateDecl("CANCELLED", "no data in the time range: no document", terminal=True),
        StateDecl("FAILED", "aborted by a fatal error: no document", terminal=True),
    ),
    creations=(
        Creation("create_report", "IN_PROGRESS", http_status=201),
        Creation("schedule_due", "IN_PROGRESS", actor="amazon"),
    ),
    allows=(Allow("get_report", ("IN_PROGRESS", *_DONE), SAME),),
    refusals=(),
    events=(
        Event(
            "processed",
            ("IN_PROGRESS",),
            "COMPLETED",
            "amazon",
            "processing ends with data in the time range",
            delay="report_processing_time",
        ),
        Event(
            "no_data",
            ("IN_PROGRESS",),
            "CANCELLED",
            "amazon",
            "processing ends with nothing in the time range",
            delay="report_processing_time",
        ),
        Event(
            "fatal_error",
            ("IN_PROGRESS",),
            "FAILED",
            "amazon",
            "a fatal error aborts processing (Simulator.fail_report)",
        ),
    ),
)

Location = Literal["query", "body", "path"]


@attrs.frozen
class ReportOperation:
    """One call of the Reports API.

    Attributes:
        name: snake_case, as the simulator's method.
        method, path: the HTTP route under ``/v2``.
        summary: one line for docs and the OpenAPI document.
        success_status: the status of success.
        params: (name, where, required) of each parameter the call takes.
        codes: the error codes it can answer, besides the headers' and signature's.
    """

    name: str
    method: Literal["GET", "POST", "DELETE"]
    path: str
    summary: str
    success_status: int = 200
    params: tuple[tuple[str, Location, bool], ...] = ()
    codes: tuple[str, ...] = ()


_TYPE_CODES: Final = ("InvalidParameterValue", "MissingParameterValue", "UnrecognizedField")

REPORT_OPERATIONS: Final[Mapping[str, ReportOperation]] = MappingProxyType(
    {
        op.name: op
        for op in (
            ReportOperation(
                "get_reports",
                "GET",
                "/reports",
                "Get Reports: the reports matching the filters, newest first",
                params=(
                    ("reportTypes", "query", False),
                    ("processingStatuses", "query", False),
                    ("createdSince", "query", False),
                    ("createdUntil", "query", False),
                    ("pageSize", "query", False),
                    ("nextToken", "query", False),
                ),
                codes=("InvalidParameterValue", "InvalidParameterCombination"),
            ),
            ReportOperation(
                "get_report",
                "GET",
                "/reports/{reportId}",
                "Get Report By Id",
                params=(("reportId", "path", True),),
                codes=("ResourceNotFound",),
            ),
            ReportOperation(
                "create_report",
                "POST",
                "/reports",
                "Create Report: queue a report of a type over a time range",
                success_status=201,
                params=(
                    ("reportType", "body", True),
                    ("startTime", "body", True),
                    ("endTime", "body", True),
                ),
                codes=(*_TYPE_CODES, "InvalidRequestFormat", "DuplicateIdempotencyKey"),
            ),
            ReportOperation(
                "get_report_document",
                "GET",
                "/report-documents/{reportDocumentId}",
                "Get Report Document: where to download a completed report",
                params=(("reportDocumentId", "path", True),),
                codes=("ResourceNotFound",),
            ),
            ReportOperation(
                "get_report_schedules",
                "GET",
                "/report-schedules",
                "Get Report Schedules",
                params=(("reportTypes", "query", False),),
                codes=("InvalidParameterValue",),
            ),
            ReportOperation(
                "get_report_schedule",
                "GET",
                "/report-schedules/{reportScheduleId}",
                "Get Report Schedule By Id",
                params=(("reportScheduleId", "path", True),),
                codes=("ResourceNotFound",),
            ),
            ReportOperation(
                "create_report_schedule",
                "POST",
                "/report-schedules",
                "Create Report Schedule: one schedule per report type",
                success_status=201,
                params=(
                    ("reportType", "body", True),
                    ("scheduleFrequency", "body", True),
                    ("nextReportCreationTime", "body", False),
                    ("deleteExistingSchedule", "body", False),
                ),
                codes=(
                    *_TYPE_CODES,
                    "InvalidRequestFormat",
                    "InvalidRequest",
                    "DuplicateIdempotencyKey",
                ),
            ),
            ReportOperation(
                "cancel_report_schedule",
                "DELETE",
                "/report-schedules/{reportScheduleId}",
                "Cancel Report Schedule",
                params=(("reportScheduleId", "path", True),),
                codes=("ResourceNotFound",),
            ),
        )
    }
)
