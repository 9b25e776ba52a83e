"""``report_call``: one Reports API call by its operation's name (``REPORT_OPERATIONS``),
as the server and ``--state``'s replay make it (``ReportBook``, docs/reports.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .reports import ReportBook

__all__ = ["report_call"]


def report_call(
    book: ReportBook,
    name: str,
    object_id: str | None,
    query: Mapping[str, Any] | None,
    body: object,
    idempotency_key: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """One Reports API call by its operation's name (``REPORT_OPERATIONS``), as the server
    and ``--state``'s replay make it: (HTTP status, JSON). ``idempotency_key`` is the
    ``x-amz-pay-idempotency-key`` header, taken by the two creates (module docs). Raises
    ``ApiError``."""
    query = dict(query or {})
    if name == "get_reports":
        return 200, book.get_reports(query)
    if name == "create_report":
        return 201, book.create_report(body, idempotency_key=idempotency_key)
    if name == "get_report_schedules":
        return 200, book.get_report_schedules(query.get("reportTypes"))
    if name == "create_report_schedule":
        flag = query.get("deleteExistingSchedule")
        delete = None if flag is None else str(flag).lower() == "true"
        return 201, book.create_report_schedule(
            body, delete_existing=delete, idempotency_key=idempotency_key
        )
    object_id = object_id or ""
    if name == "get_report":
        return 200, book.get_report(object_id)
    if name == "get_report_document":
        return 200, book.get_report_document(object_id)
    if name == "get_report_schedule":
        return 200, book.get_report_schedule(object_id)
    if name == "cancel_report_schedule":
        return 200, book.cancel_report_schedule(object_id)
    raise ValueError(f"unknown report operation {name!r}")
