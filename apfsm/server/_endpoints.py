"""The control endpoints under ``/_apfsm`` as data (issue 13): method, path, what they do,
their body's fields and their answer, as JSON Schema.

One table, three readers: ``_control.py`` builds its routes from it and refuses a body
field it does not declare (``UnrecognizedField``, as SPEC §10 does for the API); the index
``GET /`` / ``GET /_apfsm`` lists it; ``openapi()`` publishes it beside the API. A test
checks that every route the application serves under ``/_apfsm`` is in the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from apfsm._spec import LIFECYCLES

from ._routes import _CONTROL

_REF: Final = "#/components/schemas/"
# The API's timestamp schema (``_openapi._TIMESTAMP``, which imports this module): the
# whole string, also in Python's re, where $ matches before a final newline.
_TIMESTAMP: Final = {"type": "string", "pattern": "^(?:[0-9]{8}T[0-9]{6}Z)$(?!\n)"}
_NOW: Final = {"type": "object", "required": ["now"], "properties": {"now": _TIMESTAMP}}
_NUMBER: Final = {"type": "number", "minimum": 0}
_SESSION: Final = {"$ref": f"{_REF}CheckoutSession"}


@attrs.frozen
class _ControlEndpoint:
    """One control endpoint: ``method`` on ``path`` (under ``/_apfsm``, or ``/``)."""

    method: str
    path: str
    #: What it does (the index line, the OpenAPI summary).
    summary: str
    #: The JSON object's fields it reads (JSON Schema per field); ``None``: no body read
    #: (a GET), ``{}``: an empty object (or no body) only.
    body: Mapping[str, Any] | None = None
    #: Fields that must be there.
    required: tuple[str, ...] = ()
    #: Its answer's JSON Schema (200).
    answer: Mapping[str, Any] = attrs.field(factory=lambda: {"type": "object"})
    #: Query parameters it reads (non-negative integers).
    query: tuple[str, ...] = ()
    #: A free-form body (a snapshot): read and checked by the endpoint itself.
    free_body: bool = False
    #: Open even with ``--control-token`` (the index, which says whether one is needed).
    open: bool = False
    #: Headers its answer carries (name: what it says; non-negative integers).
    headers: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


_INDEX_ANSWER: Final = {
    "type": "object",
    "required": ["apfsm", "api", "controlAuth", "control"],
    "properties": {
        "apfsm": {"type": "string"},
        "api": {"type": "object"},
        "controlAuth": {"type": "string"},
        "control": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_INDEX: Final = "an index: the API's operations and paths, and the control endpoints"

_c = _CONTROL
#: The header of ``GET /_apfsm/notifications``: how many notifications the cap dropped.
NOTIFICATIONS_DROPPED: Final = "x-apfsm-notifications-dropped"

_CONTROL_ENDPOINTS: Final[tuple[_ControlEndpoint, ...]] = (
    _ControlEndpoint("GET", "/", _INDEX, answer=_INDEX_ANSWER, open=True),
    _ControlEndpoint("GET", _c, _INDEX, answer=_INDEX_ANSWER, open=True),
    _ControlEndpoint("GET", f"{_c}/", _INDEX, answer=_INDEX_ANSWER, open=True),
    _ControlEndpoint(
        "GET",
        f"{_c}/clock",
        "the clock and the scheduled events (expiries, asynchronous outcomes)",
        answer={
            "type": "object",
            "required": ["now", "nextEventAt", "pendingEvents"],
            "properties": {
                "now": _TIMESTAMP,
                "nextEventAt": {"oneOf": [_TIMESTAMP, {"type": "null"}]},
                "pendingEvents": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["at", "objectId", "what"],
                        "properties": {
                            "at": _TIMESTAMP,
                            "objectId": {"type": "string"},
                            "what": {"type": "string"},
                        },
                    },
                },
            },
        },
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/clock/advance",
        "move the clock forward (at most ten years) and settle what falls due: a duration "
        "{seconds|minutes|hours|days|weeks} (added up), {to: INSTANT} or "
        "{untilNextEvent: true} — one of the three",
        body={
            **dict.fromkeys(("seconds", "minutes", "hours", "days", "weeks"), _NUMBER),
            "to": {"type": "string", "description": "an ISO 8601 instant with a UTC offset"},
            "untilNextEvent": {"const": True},
        },
        answer=_NOW,
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/buyer/approve",
        "{checkoutSessionId, card}: the buyer signs in and picks a sandbox card "
        "(default 1111); answers the session",
        body={"checkoutSessionId": {"type": "string"}, "card": {"type": "string"}},
        required=("checkoutSessionId",),
        answer=_SESSION,
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/buyer/cancel",
        "{checkoutSessionId}: the buyer abandons the checkout; answers the session",
        body={"checkoutSessionId": {"type": "string"}},
        required=("checkoutSessionId",),
        answer=_SESSION,
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/buyer/sign-in",
        "{scopes}: the buyer signs in with Amazon Sign-in; answers a buyer token for Get Buyer",
        body={"scopes": {"type": "array", "items": {"type": "string"}}},
        answer={
            "type": "object",
            "required": ["buyerToken"],
            "properties": {"buyerToken": {"type": "string"}},
        },
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/buyer/dispute",
        "{chargeId, filingReason, disputeType, amount}: the buyer files a chargeback or "
        "A-to-z claim on a Captured charge; answers the Dispute",
        body={
            "chargeId": {"type": "string"},
            "filingReason": {"type": "string"},
            "disputeType": {"type": "string"},
            "amount": {},
        },
        required=("chargeId",),
        answer={"$ref": f"{_REF}Dispute"},
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/event",
        "{objectId, event, reason}: any buyer or Amazon event the lifecycles declare "
        "(amazon_cancel, payment_method_problem, ...); answers the object",
        body={
            "objectId": {"type": "string"},
            "event": {"type": "string"},
            "reason": {"type": "string"},
        },
        required=("objectId", "event"),
        answer={"oneOf": [{"$ref": f"{_REF}{name}"} for name in LIFECYCLES if name != "Buyer"]},
    ),
    _ControlEndpoint(
        "GET",
        f"{_c}/ipn/faults",
        "the IPN faults still to apply (needs --notify-url)",
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/ipn/faults",
        "{fault: duplicate|delay|reorder, count, seconds}: disturb the next IPN deliveries "
        "(needs --notify-url); answers what is still to apply",
        body={
            "fault": {"type": "string", "enum": ["delay", "duplicate", "reorder"]},
            "count": {"type": "integer", "minimum": 1, "maximum": 1000},
            "seconds": {"type": "number", "minimum": 0, "maximum": 3600},
        },
        required=("fault",),
    ),
    _ControlEndpoint(
        "GET",
        f"{_c}/notifications",
        "the IPN messages sent so far, in order (?since=N skips the first N ever sent; "
        "the oldest beyond --max-notifications are dropped, counted in "
        f"{NOTIFICATIONS_DROPPED})",
        answer={"type": "array", "items": {"type": "object"}},
        query=("since",),
        headers={
            NOTIFICATIONS_DROPPED: "how many of the oldest notifications were dropped "
            "(apfsm serve --max-notifications); the first one answered to ?since=N is "
            "number max(N, dropped) + 1"
        },
    ),
    _ControlEndpoint(
        "GET",
        f"{_c}/log",
        "the call log (?since=N skips the first N records)",
        answer={"type": "array", "items": {"type": "object"}},
        query=("since",),
    ),
    _ControlEndpoint(
        "POST",
        f"{_c}/reset",
        "start again, empty, the clock back at the server's start",
        body={},
        answer=_NOW,
    ),
    _ControlEndpoint("GET", f"{_c}/snapshot", "the whole state as versioned JSON"),
    _ControlEndpoint(
        "PUT",
        f"{_c}/snapshot",
        "continue from a snapshot (checked in full first); answers the clock and the count "
        "of objects",
        free_body=True,
        answer={
            "type": "object",
            "required": ["now", "objects"],
            "properties": {"now": _TIMESTAMP, "objects": {"type": "integer", "minimum": 0}},
        },
    ),
)

del _c


def _control_index() -> dict[str, str]:
    """``{"METHOD /path": summary}`` of every control endpoint but the index itself (the
    index's part: what ``--control-token`` guards)."""
    return {e.label: e.summary for e in _CONTROL_ENDPOINTS if not e.open}


def _control_paths() -> dict[str, dict[str, Any]]:
    """The control endpoints as OpenAPI path items (``openapi()`` adds them)."""
    error = {"content": {"application/json": {"schema": {"$ref": f"{_REF}Error"}}}}
    paths: dict[str, dict[str, Any]] = {}
    for e in _CONTROL_ENDPOINTS:
        # Unique per path and method (OpenAPI): control_clock_advance_post, control_get,
        # control_slash_get (GET /_apfsm/), root_get (GET /).
        name = {"/": "root", _CONTROL: "control", f"{_CONTROL}/": "control_slash"}.get(
            e.path, e.path.strip("/").replace("_apfsm", "control").replace("/", "_")
        )
        document: dict[str, Any] = {
            "operationId": f"{name.replace('-', '_')}_{e.method.lower()}",
            "summary": e.summary,
            "tags": ["Control"],
            "parameters": [
                {
                    "name": q,
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0},
                }
                for q in e.query
            ],
            "responses": {
                "200": {
                    "description": "success",
                    "content": {"application/json": {"schema": dict(e.answer)}},
                    **(
                        {
                            "headers": {
                                name: {
                                    "description": text,
                                    "schema": {"type": "integer", "minimum": 0},
                                }
                                for name, text in e.headers.items()
                            }
                        }
                        if e.headers
                        else {}
                    ),
                },
                "4XX": {"description": "refused, in Amazon's error shape", **error},
            },
        }
        if not e.open:
            # Only when the server has --control-token (UnauthorizedAccess 401 without it,
            # InvalidAuthentication 403 with another): none, or the bearer token.
            document["security"] = [{}, {"controlToken": []}]
        if e.body is not None or e.free_body:
            schema: dict[str, Any] = {"type": "object"}
            if e.body is not None:
                schema["properties"] = {k: dict(v) for k, v in e.body.items()}
                schema["additionalProperties"] = False
            if e.required:
                schema["required"] = list(e.required)
            document["requestBody"] = {
                "required": e.free_body or bool(e.required),
                "content": {"application/json": {"schema": schema}},
            }
        paths.setdefault(e.path, {})[e.method.lower()] = document
    return paths
