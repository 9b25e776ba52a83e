"""The Reports API's part of the OpenAPI document (docs/reports.md), from
``REPORT_OPERATIONS``, ``REPORT_TYPES``, ``SCHEDULE_FREQUENCIES`` and ``PROCESSING_STATUSES``.

The examples are the values of Amazon's reports.html and managing-report-schedules.html
(the ids ``59007019641`` and ``68973459224``) and of the Node SDK's tst/webStoreClientTest.js
(the time range ``20230618T150630Z`` to ``20230911T150350Z``, ``PT84H``).
"""

from __future__ import annotations

import base64
from typing import Any, Final

from apfsm._spec import (
    PROCESSING_STATUSES,
    REPORT,
    REPORT_OPERATIONS,
    REPORT_TYPES,
    SCHEDULE_FREQUENCIES,
    UNSCHEDULABLE_REPORT_TYPES,
    Limits,
    ReportOperation,
)

_REF: Final = "#/components/schemas/"
_AUTH: Final = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"

_REPORT_EXAMPLE: Final = {
    "createdTime": "20230911T150350Z",
    "endTime": "20230911T150350Z",
    "processingEndTime": "20230911T150450Z",
    "processingStartTime": "20230911T150350Z",
    "processingStatus": "COMPLETED",
    "reportDocumentId": "amzn1.tortuga.0.59007019641.1",
    "reportId": "59007019641",
    "reportType": _AUTH,
    "startTime": "20230618T150630Z",
}
_SCHEDULE_EXAMPLE: Final = {
    "nextReportCreationTime": "20230618T150630Z",
    "reportScheduleId": "68973459224",
    "reportType": _AUTH,
    "scheduleFrequency": "PT84H",
}
_CSV_EXAMPLE: Final = "ChargeId,ChargePermissionId,CreationTimestamp,State,Amount,Currency\n"


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": sorted(properties),
        "properties": properties,
        "additionalProperties": False,
    }


#: The strings Create Report Schedule reads as deleteExistingSchedule's boolean.
_BOOLEAN_TEXTS: Final = ["true", "false"]


def _report_schemas(limits: Limits, timestamp: dict[str, Any]) -> dict[str, Any]:
    """The Reports API's schemas, by name; ``timestamp`` is the document's timestamp schema."""
    report_type = {"type": "string", "enum": list(REPORT_TYPES)}
    schedulable = [t for t in REPORT_TYPES if t not in UNSCHEDULABLE_REPORT_TYPES]
    frequency = {"type": "string", "enum": list(SCHEDULE_FREQUENCIES)}
    nullable_timestamp = {"anyOf": [timestamp, {"type": "null"}]}
    report = _object(
        {
            "createdTime": timestamp,
            "endTime": timestamp,
            "processingEndTime": nullable_timestamp,
            "processingStartTime": timestamp,
            "processingStatus": {"type": "string", "enum": list(PROCESSING_STATUSES)},
            "reportDocumentId": {"type": ["string", "null"]},
            "reportId": {"type": "string"},
            "reportType": report_type,
            "startTime": timestamp,
        },
        f"{REPORT.description} It is IN_PROGRESS for {limits.describe('report_processing_time')}"
        " (a Decision), then COMPLETED with a reportDocumentId, or CANCELLED when its time "
        f"range holds no data; it is kept {limits.describe('report_retention')} (reports.html)",
    )
    report["example"] = _REPORT_EXAMPLE
    schedule = _object(
        {
            "nextReportCreationTime": timestamp,
            "reportScheduleId": {"type": "string"},
            "reportType": report_type,
            "scheduleFrequency": frequency,
        },
        "a report schedule: a report of reportType every scheduleFrequency, the next at "
        "nextReportCreationTime (managing-report-schedules.html)",
    )
    schedule["example"] = _SCHEDULE_EXAMPLE
    reports = {
        "type": "object",
        "description": "Get Reports' answer, newest first; nextToken when more match",
        "required": ["reports"],
        "properties": {
            "reports": {"type": "array", "items": {"$ref": f"{_REF}Report"}},
            "nextToken": {"type": "string"},
        },
        "additionalProperties": False,
        "example": {"reports": [_REPORT_EXAMPLE]},
    }
    document = _object(
        {
            "reportDocumentId": {"type": "string"},
            "url": {"type": "string"},
            "compressionAlgorithm": {"type": "string"},
        },
        "where to download a completed report: Amazon's url is a pre-signed S3 URL valid 30 "
        "seconds; apfsm's is a data: URL holding the CSV (a Decision); compressionAlgorithm "
        "is 'at this time always N/A' (reports.html)",
    )
    document["example"] = {
        "reportDocumentId": "amzn1.tortuga.0.59007019641.1",
        "url": "data:text/csv;base64," + base64.b64encode(_CSV_EXAMPLE.encode()).decode(),
        "compressionAlgorithm": "N/A",
    }
    create_report = _object(
        {"reportType": report_type, "startTime": timestamp, "endTime": timestamp},
        "Create Report's body: a report of reportType over startTime..endTime, both included",
    )
    create_report["example"] = {
        "reportType": _AUTH,
        "startTime": "20230618T150630Z",
        "endTime": "20230911T150350Z",
    }
    create_schedule: dict[str, Any] = {
        "type": "object",
        "description": "Create Report Schedule's body: one schedule per report type; "
        "deleteExistingSchedule replaces the existing one (else InvalidRequest); the "
        "multi-currency report cannot be scheduled (manually-requesting-reports.html)",
        "required": ["reportType", "scheduleFrequency"],
        "properties": {
            "reportType": {"type": "string", "enum": schedulable},
            "scheduleFrequency": frequency,
            "nextReportCreationTime": timestamp,
            # The Java SDK's README sends the string "false" (docs/reports.md).
            "deleteExistingSchedule": {
                "anyOf": [{"type": "boolean"}, {"type": "string", "enum": _BOOLEAN_TEXTS}]
            },
        },
        "additionalProperties": False,
        "example": {
            "reportType": _AUTH,
            "scheduleFrequency": "PT84H",
            "nextReportCreationTime": "20230618T150630Z",
            "deleteExistingSchedule": True,
        },
    }
    return {
        "Report": report,
        "Reports": reports,
        "ReportDocument": document,
        "ReportSchedule": schedule,
        "ReportSchedules": {
            "type": "object",
            "description": "Get Report Schedules' answer",
            "required": ["reportSchedules"],
            "properties": {
                "reportSchedules": {"type": "array", "items": {"$ref": f"{_REF}ReportSchedule"}}
            },
            "additionalProperties": False,
            "example": {"reportSchedules": [_SCHEDULE_EXAMPLE]},
        },
        "CreateReportRequest": create_report,
        "CreateReportAnswer": {
            **_object({"reportId": {"type": "string"}}, "Create Report's answer"),
            "example": {"reportId": "59007019641"},
        },
        "CreateReportScheduleRequest": create_schedule,
        "CreateReportScheduleAnswer": {
            **_object({"reportScheduleId": {"type": "string"}}, "Create Report Schedule's answer"),
            "example": {"reportScheduleId": "68973459224"},
        },
        "CancelReportScheduleAnswer": {
            "type": "object",
            "description": "Cancel Report Schedule's answer: an empty object",
            "additionalProperties": False,
            "example": {},
        },
    }


#: The schema each operation answers with, by operation name.
_ANSWERS: Final = {
    "get_reports": "Reports",
    "get_report": "Report",
    "create_report": "CreateReportAnswer",
    "get_report_document": "ReportDocument",
    "get_report_schedules": "ReportSchedules",
    "get_report_schedule": "ReportSchedule",
    "create_report_schedule": "CreateReportScheduleAnswer",
    "cancel_report_schedule": "CancelReportScheduleAnswer",
}

#: Links from a create's answer to the calls on what it made (how schemathesis chains).
_LINKS: Final = {
    "create_report": ("reportId", ("get_report",)),
    "create_report_schedule": (
        "reportScheduleId",
        ("get_report_schedule", "cancel_report_schedule"),
    ),
}


def _query_schemas(timestamp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "reportTypes": {
            "type": "string",
            "description": "a comma-separated list of report types",
            "example": _AUTH,
        },
        "processingStatuses": {
            "type": "string",
            "description": "a comma-separated list of " + ", ".join(PROCESSING_STATUSES),
            "example": "COMPLETED",
        },
        "createdSince": {**timestamp, "description": "default: now minus the retention"},
        "createdUntil": {**timestamp, "description": "default: now"},
        "nextToken": {"type": "string", "description": "a previous answer's; alone"},
        "deleteExistingSchedule": {"type": "boolean"},
    }


def _parameters(
    op: ReportOperation, limits: Limits, timestamp: dict[str, Any]
) -> list[dict[str, Any]]:
    queries = _query_schemas(timestamp)
    out: list[dict[str, Any]] = []
    for name, where, required in op.params:
        if where == "body":
            continue
        if where == "path":
            out.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
            continue
        schema = queries.get(name)
        if name == "pageSize":
            schema = {
                "type": "integer",
                "minimum": 1,
                "maximum": limits.report_page_size_max,
                "default": limits.report_page_size,
            }
        assert schema is not None, name
        out.append({"name": name, "in": "query", "required": required, "schema": schema})
    if op.name == "create_report_schedule":  # a query parameter in managing-report-schedules
        schema = queries["deleteExistingSchedule"]
        out.append({"name": "deleteExistingSchedule", "in": "query", "schema": schema})
    if op.method == "POST":
        # Taken, not needed: the same request again answers the first answer
        # (docs/reports.md, "The idempotency key").
        most = limits.idempotency_key_max_length
        out.append(
            {
                "name": "x-amz-pay-idempotency-key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": f"^(?:[A-Za-z0-9_-]{{1,{most}}})$(?!\n)"},
            }
        )
    return out


def _report_paths(limits: Limits, timestamp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Reports API's paths (under ``/v2``), each operation with its parameters, body,
    answer and the error codes it can give."""
    paths: dict[str, dict[str, Any]] = {}
    error = {"content": {"application/json": {"schema": {"$ref": f"{_REF}Error"}}}}
    for op in REPORT_OPERATIONS.values():
        answer = _ANSWERS[op.name]
        success: dict[str, Any] = {
            "description": "success",
            "content": {"application/json": {"schema": {"$ref": f"{_REF}{answer}"}}},
        }
        if op.name in _LINKS:
            field, targets = _LINKS[op.name]
            success["links"] = {
                "".join(w.capitalize() for w in target.split("_")): {
                    "operationId": target,
                    "parameters": {field: f"$response.body#/{field}"},
                }
                for target in targets
            }
        codes = ", ".join(op.codes)
        document: dict[str, Any] = {
            "operationId": op.name,
            "summary": op.summary,
            "description": f"The Reports API (docs/reports.md); refusals: {codes}.",
            "tags": ["ReportSchedule" if "schedule" in op.name else "Report"],
            "parameters": _parameters(op, limits, timestamp),
            "responses": {
                str(op.success_status): success,
                "4XX": {"description": f"refused: {codes} (SPEC §8)", **error},
            },
        }
        if op.method == "POST":
            body = (
                "CreateReportRequest"
                if op.name == "create_report"
                else ("CreateReportScheduleRequest")
            )
            document["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"{_REF}{body}"}}},
            }
        paths.setdefault(f"/v2{op.path}", {})[op.method.lower()] = document
    return paths
