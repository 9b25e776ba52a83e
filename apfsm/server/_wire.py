"""JSON in and out, and the headers of an API answer: what the API endpoint and the control
endpoints share on the wire."""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, NoReturn

from apfsm._errors import ApiError

if TYPE_CHECKING:
    from starlette.responses import Response as HttpResponse


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _exact_number(text: str) -> Decimal:
    # A JSON number with a fraction or exponent, read exactly from its text (SPEC §1 rev 2:
    # `"amount":12.99` is the amount 12.99, never the binary float nearest to it).
    if not math.isfinite(float(text)):
        raise ValueError(f"{text} is out of range")
    return Decimal(text)


def _loads(raw: bytes, *, exact: bool = False) -> Any:
    """Decode a request body; malformed JSON is ``InvalidRequestFormat`` (SPEC §8).

    With ``exact`` (API bodies), a number with a fraction or exponent is a ``Decimal``
    read from its text; else (control bodies: seconds to advance) a float.

    Raises:
        ApiError: ``InvalidRequestFormat``.
    """
    if _too_deep(raw):
        raise _nested_too_deep()
    try:
        # NaN, Infinity and numbers too large for a float are not JSON: refuse them here
        # rather than store a value no JSON answer could carry. Other numbers stay exact
        # (Decimal); ``normalise_body`` makes amounts strings and the rest int/float.
        return json.loads(
            raw,
            parse_constant=_reject_constant,
            parse_float=_exact_number if exact else _finite_float,
        )
    except (ValueError, RecursionError) as exc:
        raise _not_json(exc) from None


def _nested_too_deep() -> ApiError:
    """A body nesting deeper than ``MAX_JSON_DEPTH`` (``_loads``, snapshots)."""
    return ApiError.from_code(
        "InvalidRequestFormat",
        f"the request body nests objects and arrays deeper than {MAX_JSON_DEPTH} levels",
    )


def _not_json(exc: Exception) -> ApiError:
    """A body JSON cannot decode (``_loads``, snapshots): why, in the message."""
    return ApiError.from_code("InvalidRequestFormat", f"the request body is not valid JSON: {exc}")


#: Deepest nesting of objects and arrays a request body may have (Decision: Amazon's bodies
#: nest four levels; a deeper one is refused before it is parsed or walked).
MAX_JSON_DEPTH: Final = 64
#: Largest request body read (Decision: Amazon's largest bodies are a few kilobytes).
MAX_BODY_BYTES: Final = 1_000_000
#: Largest snapshot ``PUT /_apfsm/snapshot`` reads (Decision: a snapshot holds the whole
#: state and its call log: about 2.5 kB a call).
MAX_SNAPSHOT_BYTES: Final = 1_000_000_000
#: Call-log records a server keeps by default (Decision, issue 16: bounded memory under
#: load; about 15 MB of packed records). ``apfsm serve --max-call-log``.
MAX_CALL_LOG: Final = 100_000
#: Idempotency keys a server keeps by default (Decision, issue 16: Amazon stores them
#: indefinitely, a long-running simulator cannot). ``apfsm serve --max-idempotency-keys``.
MAX_IDEMPOTENCY_KEYS: Final = 100_000
#: IPN notifications a server keeps for ``GET /_apfsm/notifications`` by default
#: (Decision, issue 16: Amazon keeps none for you to read back; bounded memory under
#: load). ``apfsm serve --max-notifications``.
MAX_NOTIFICATIONS: Final = 100_000
#: IPN envelopes whose delivery was given up that the notifier keeps for inspection.
MAX_FAILED_DELIVERIES: Final = 1_000


def _too_deep(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``raw`` nests objects/arrays deeper than ``limit`` (strings skipped)."""
    data = raw.encode() if isinstance(raw, str) else raw
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # cannot be deeper: the usual body costs two counts
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


_REQUEST_IDS: Final = itertools.count(1)
_RUN_ID: Final = uuid.uuid4().hex[:16]


def _api_headers(
    body: bytes, extra: Sequence[tuple[bytes, bytes]] = ()
) -> list[tuple[bytes, bytes]]:
    request_id = f"{_RUN_ID}{next(_REQUEST_IDS):016x}".encode()
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-amz-pay-request-id", request_id),
        *extra,
    ]


def _json_response(status: int, value: Any) -> HttpResponse:
    from starlette.responses import Response as HttpResponse

    return HttpResponse(_dumps(value), status_code=status, media_type="application/json")


def _error_response(err: ApiError) -> HttpResponse:
    return _json_response(err.http_status, err.to_json())
