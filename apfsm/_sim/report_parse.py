"""Reading the Reports API's requests (apfsm/_sim/reports.py): timestamps, bodies, report
types, listed filters, idempotency-key fingerprints and the page tokens of Get Reports."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from apfsm._clock import parse_timestamp, require_aware
from apfsm._errors import ApiError
from apfsm._spec import REPORT_TYPES


def aware(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"{text!r} is not a timestamp")
    return require_aware(datetime.fromisoformat(text))


#: The POST operations that take an idempotency key.
KEYED: Final = ("create_report", "create_report_schedule")


def fingerprint(request: object) -> str:
    """What makes two requests "the same request" for a key."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def bad(field: str, why: str) -> ApiError:
    return ApiError.from_code("InvalidParameterValue", f"the value of {field} is invalid: {why}")


def time(body: Mapping[str, Any], field: str, *, required: bool = True) -> datetime | None:
    value = body.get(field)
    if value is None:
        if required:
            raise ApiError.from_code("MissingParameterValue", f"{field} is required")
        return None
    if not isinstance(value, str):
        raise bad(field, "a timestamp such as 20230618T150630Z")
    try:
        return parse_timestamp(value)
    except (ValueError, OverflowError):
        raise bad(field, "a timestamp such as 20230618T150630Z") from None


def body(body: object, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise ApiError.from_code("InvalidRequestFormat", "the request body must be a JSON object")
    for key in body:
        if key not in allowed:
            raise ApiError.from_code("UnrecognizedField", f"{key} is not a recognized field")
    return body


def report_type(value: object, field: str = "reportType") -> str:
    if value is None:
        raise ApiError.from_code("MissingParameterValue", f"{field} is required")
    if not isinstance(value, str) or value not in REPORT_TYPES:
        raise bad(field, f"one of {', '.join(REPORT_TYPES)}")
    return value


def listed(value: object, field: str, known: Any) -> set[str] | None:
    if value is None:
        return None
    parts = value if isinstance(value, list) else str(value).split(",")
    names = {str(part).strip() for part in parts if str(part).strip()}
    for name in names:
        if name not in known:
            raise bad(field, f"{name!r} is unknown")
    # Nothing listed filters nothing: the PHP SDK's getReportSchedules() sends
    # "reportTypes=" (Amazon/Pay/API/Client.php, $reportTypes = null).
    return names or None


def token(query: Mapping[str, Any], offset: int) -> str:
    text = json.dumps({"q": dict(query), "o": offset}, sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode()


def untoken(token: str) -> tuple[dict[str, Any], int]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        query, offset = value["q"], value["o"]
    except Exception as exc:  # any garbage: not a token of ours
        raise ValueError(token) from exc
    if not isinstance(query, dict) or not isinstance(offset, int) or offset < 0:
        raise ValueError(token)
    return query, offset
