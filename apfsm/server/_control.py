"""The control endpoints under ``/_apfsm``: play the buyer (sign in, approve, cancel) and
Amazon (any declared event), read and move the clock (by a duration, to an instant, to the
next scheduled event), read the notifications and the call log, reset, save and load
snapshots; ``GET /`` and ``GET /_apfsm`` answer an index of the API and these."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from apfsm._clock import ManualClock, format_timestamp, parse_timestamp
from apfsm._errors import ActionRefused, ApiError
from apfsm._sim import Simulator
from apfsm._spec import OPERATIONS

from . import _bigjson
from ._endpoints import (
    _CONTROL_ENDPOINTS,
    NOTIFICATIONS_DROPPED,
    _control_index,
    _ControlEndpoint,
)
from ._state import _State
from ._wire import (
    MAX_BODY_BYTES,
    MAX_SNAPSHOT_BYTES,
    _error_response,
    _json_response,
    _loads,
    _nested_too_deep,
    _not_json,
)

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response as HttpResponse


_log = logging.getLogger("apfsm.server")


async def _body_json(request: Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """A control request's body as a JSON object (empty body: ``{}``), read up to
    ``limit`` bytes (a larger one is refused unread, as on the API), with no field its
    endpoint does not declare (``_endpoints._CONTROL_ENDPOINTS``: a misspelt ``scope`` is
    refused, not ignored).

    Raises:
        ApiError: ``InvalidRequestFormat``, ``UnrecognizedField``.
    """
    raw = await _body_bytes(request, limit)
    value = _loads(raw) if raw.strip() else {}
    return _body_object(request, value)


async def _body_bytes(request: Request, limit: int) -> bytes:
    """A request's body, read up to ``limit`` bytes (a larger one is refused unread).

    Raises:
        ApiError: ``InvalidRequestFormat``.
    """
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError.from_code(
                "InvalidRequestFormat", f"the request body is larger than {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _loads_snapshot(raw: bytes) -> Any:
    """A snapshot body decoded off the event loop, letting other calls run meanwhile
    (``_bigjson``: ``json.loads`` holds the GIL for the whole parse, ~20 s at 500,000
    objects).

    Raises:
        ApiError: ``InvalidRequestFormat``.
    """
    if not raw.strip():
        return {}
    try:
        return _bigjson._loads_yielding(raw)
    except _bigjson._TooDeep:
        raise _nested_too_deep() from None
    except (ValueError, RecursionError) as exc:
        raise _not_json(exc) from None


def _body_object(request: Request, value: Any) -> dict[str, Any]:
    """``value``, a control request's decoded body, checked: a JSON object with no field its
    endpoint does not declare.

    Raises:
        ApiError: ``InvalidRequestFormat``, ``UnrecognizedField``.
    """
    if not isinstance(value, dict):
        raise ApiError.from_code("InvalidRequestFormat", "the request body must be a JSON object")
    declared: _ControlEndpoint | None = request.scope.get("apfsm.control")
    if declared is not None and declared.body is not None:
        unknown = sorted(set(value) - set(declared.body))
        if unknown:
            allowed = ", ".join(declared.body) or "none"
            raise ApiError.from_code(
                "UnrecognizedField",
                f"{declared.label} has no field {unknown[0]!r} (its fields: {allowed})",
            )
    return value


def _string_field(body: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        raise ApiError.from_code("MissingParameterValue", f"{name} is required")
    if not isinstance(value, str):
        raise ApiError.from_code("InvalidParameterValue", f"{name} must be a string")
    return value


def _since(request: Request) -> int:
    text = request.query_params.get("since", "0")
    # ASCII digits only ("²".isdigit() is true, and int() refuses it), and no more than
    # 18 of them (int() refuses 4,300): a larger number is past every record anyway.
    if not (text.isascii() and text.isdigit()):
        raise ApiError.from_code(
            "InvalidParameterValue", f"since must be a non-negative integer, got {text[:40]!r}"
        )
    return int(text) if len(text) <= 18 else 10**18


def _token_fault(state: _State, request: Request) -> ApiError | None:
    """With ``--control-token``, a control request without it (``UnauthorizedAccess`` 401)
    or with another (``InvalidAuthentication`` 403): Amazon's codes for the same two cases
    on its API, in its error body."""
    token = state.control_token
    if token is None:
        return None
    value = request.headers.get("authorization", "").strip()
    if not value:
        return ApiError.from_code(
            "UnauthorizedAccess",
            "the control API needs 'Authorization: Bearer TOKEN' (apfsm serve --control-token)",
        )
    scheme, _, given = value.partition(" ")
    # Compared in constant time: the answer's timing says nothing of the token.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode("latin-1"), token.encode("utf-8")
    ):
        return ApiError.from_code(
            "InvalidAuthentication", "the control token given is not this server's"
        )
    return None


def _control_routes(state: _State) -> list[Any]:
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    Handler = Callable[["Request"], Awaitable[Any]]

    def endpoint(
        methods: Mapping[str, tuple[_ControlEndpoint, Handler]],
    ) -> Callable[[Request], Awaitable[HttpResponse]]:
        """One path's endpoint: each method to its declaration and handler."""

        async def run(request: Request) -> HttpResponse:
            declared, handler = methods[request.method if request.method != "HEAD" else "GET"]
            request.scope["apfsm.control"] = declared
            # The index stays open (it says whether a token is needed); nothing else does.
            fault = None if declared.open else _token_fault(state, request)
            if fault is not None:  # before the body is read: nothing of it is kept
                response = _error_response(fault)
                if fault.http_status == 401:
                    response.headers["www-authenticate"] = 'Bearer realm="apfsm control"'
                return response
            try:
                response = _json_response(200, await handler(request))
                response.headers.update(request.scope.get("apfsm.headers", {}))
                return response
            except ApiError as err:
                return _error_response(err)
            except ActionRefused as refused:  # a side action the simulator cannot take
                return _error_response(refused.to_api_error())
            except Exception:  # a bug: answered in Amazon's shape, the traceback logged
                _log.exception("apfsm: internal error on %s %s", request.method, request.url.path)
                return _error_response(
                    ApiError.from_code("InternalServerError", "apfsm failed on this request")
                )

        return run

    async def approve(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        session_id = _string_field(body, "checkoutSessionId")
        # The simulator names the session's problem first, then the card's (ActionRefused).
        card = body.get("card", "1111")
        return state.run(
            "approve", [session_id, card], lambda sim: sim.buyer_approve(session_id, card=card)
        )

    async def sign_in(request: Request) -> dict[str, str]:
        body = await _body_json(request)
        scopes = body.get("scopes", [])
        # An unknown scope, or scopes that are not a list: ActionRefused (400). Journaled
        # with a state file: a restart must know the token.
        token = state.run("sign_in", [scopes], lambda sim: sim.buyer_sign_in(scopes=scopes))
        return {"buyerToken": token}

    async def dispute(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        charge_id = _string_field(body, "chargeId")
        # Unknown reasons or types, a charge not Captured, too large an amount: the
        # simulator's ActionRefused (docs/dispute.md). Journaled with a state file.
        args = [
            charge_id,
            body.get("filingReason", "ProductNotReceived"),
            body.get("disputeType", "Chargeback"),
            body.get("amount"),
        ]
        return state.run(
            "dispute",
            args,
            lambda sim: sim.file_dispute(
                args[0], filing_reason=args[1], dispute_type=args[2], amount=args[3]
            ),
        )

    async def event(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        object_id = _string_field(body, "objectId")
        name = _string_field(body, "event")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ApiError.from_code("InvalidParameterValue", "reason must be a string")
        return state.run(
            "event",
            [object_id, name, reason],
            lambda sim: sim.amazon_event(object_id, name, reason=reason),
        )

    async def clock(request: Request) -> dict[str, Any]:
        sim = state.simulator
        pending = sim.pending_events(100)  # what is shown: not the whole queue sorted
        return {
            "now": format_timestamp(sim.now()),
            "nextEventAt": format_timestamp(pending[0][0]) if pending else None,
            "pendingEvents": [
                {"at": format_timestamp(at), "objectId": object_id, "what": what}
                for at, object_id, what in pending
            ],
        }

    async def cancel(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        session_id = _string_field(body, "checkoutSessionId")
        return state.run("cancel", [session_id], lambda sim: sim.buyer_cancel(session_id))

    async def advance(request: Request) -> dict[str, str]:
        body = await _body_json(request)
        sim = state.simulator
        seconds = _advance_seconds(body, sim)
        if not 0 <= seconds <= _MAX_ADVANCE_SECONDS:
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"the clock moves forward by at most ten years; this asks {seconds!r} seconds",
            )
        if not callable(getattr(sim.clock, "advance", None)):
            raise ApiError.from_code(
                "InvalidRequest", f"the simulator's {type(sim.clock).__name__} cannot be advanced"
            )
        delta = timedelta(seconds=seconds)
        now = await run_in_threadpool(
            state.run, "advance", [seconds], lambda current: current.advance(delta)
        )
        return {"now": format_timestamp(now)}

    async def notifications(request: Request) -> list[dict[str, Any]]:
        since = _since(request)
        # Numbered for good: ``since`` counts every one ever sent, the dropped included.
        dropped, messages = state.simulator.notifications_since(since)
        request.scope["apfsm.headers"] = {NOTIFICATIONS_DROPPED: str(dropped)}
        return messages

    async def log(request: Request) -> list[dict[str, Any]]:
        since = _since(request)
        records = state.simulator.log
        # One copy read under the log's lock (issue 16: calls run meanwhile).
        return await run_in_threadpool(lambda: [r.to_json() for r in records.since(since)])

    async def reset(request: Request) -> dict[str, str]:
        await _body_json(request)
        # Off the event loop: API calls are answered while the new state file is written.
        await run_in_threadpool(state.replace_and_checkpoint, state.fresh())
        return {"now": format_timestamp(state.simulator.now())}

    async def get_snapshot(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(state.simulator.snapshot)

    async def put_snapshot(request: Request) -> dict[str, Any]:
        raw = await _body_bytes(request, MAX_SNAPSHOT_BYTES)
        body = _body_object(request, await run_in_threadpool(_loads_snapshot, raw))
        # Not the served simulator in a local: this frame outlives the replacement, and
        # what refers to a replaced state keeps it from being freed (``_HeapFreezer``).
        current_clock = state.simulator.clock
        clock = None if isinstance(current_clock, ManualClock) else current_clock

        def restore() -> Simulator:
            try:
                return Simulator.restore(body, clock)
            except (ValueError, TypeError, KeyError) as exc:
                raise ApiError.from_code(
                    "InvalidParameterValue", f"not an apfsm simulator snapshot: {exc}"
                ) from None

        restored = await run_in_threadpool(restore)
        await run_in_threadpool(state.replace_and_checkpoint, restored)
        sim = state.simulator
        return {"now": format_timestamp(sim.now()), "objects": len(sim)}

    async def ipn_faults(request: Request) -> dict[str, Any]:
        notifier = state.notifier
        if notifier is None:
            raise ApiError.from_code(
                "InvalidRequest", "no IPN delivery to disturb: start apfsm serve with --notify-url"
            )
        if request.method == "GET":
            return notifier.pending_faults()
        body = await _body_json(request)
        fault = _string_field(body, "fault")
        if fault not in notifier.faults:
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"fault must be one of {', '.join(sorted(notifier.faults))}, got {fault!r}",
            )
        count, seconds = body.get("count", 1), body.get("seconds", 0)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
            raise ApiError.from_code("InvalidParameterValue", "count must be from 1 to 1000")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= 3600
        ):
            raise ApiError.from_code("InvalidParameterValue", "seconds must be from 0 to 3600")
        if fault == "delay" and not seconds:
            raise ApiError.from_code("MissingParameterValue", "a delay needs seconds")
        return notifier.inject(fault, count, float(seconds))

    async def index(request: Request) -> dict[str, Any]:
        return _index(state.control_token is not None)

    handlers: dict[tuple[str, str], Handler] = {
        ("GET", "/"): index,
        ("GET", "/_apfsm"): index,
        ("GET", "/_apfsm/"): index,
        ("GET", "/_apfsm/clock"): clock,
        ("POST", "/_apfsm/clock/advance"): advance,
        ("POST", "/_apfsm/event"): event,
        ("GET", "/_apfsm/ipn/faults"): ipn_faults,
        ("POST", "/_apfsm/ipn/faults"): ipn_faults,
        ("POST", "/_apfsm/buyer/approve"): approve,
        ("POST", "/_apfsm/buyer/cancel"): cancel,
        ("POST", "/_apfsm/buyer/sign-in"): sign_in,
        ("POST", "/_apfsm/buyer/dispute"): dispute,
        ("GET", "/_apfsm/notifications"): notifications,
        ("GET", "/_apfsm/log"): log,
        ("POST", "/_apfsm/reset"): reset,
        ("GET", "/_apfsm/snapshot"): get_snapshot,
        ("PUT", "/_apfsm/snapshot"): put_snapshot,
    }
    # The routes are the declared endpoints, so the index and the OpenAPI document (both
    # read _CONTROL_ENDPOINTS) name exactly what is served; a handler without a
    # declaration, or a declaration without a handler, fails here, at build time. One route
    # per path, with all its methods, so a 405 there names them all in its Allow header.
    declared = {(e.method, e.path): e for e in _CONTROL_ENDPOINTS}
    assert set(declared) == set(handlers), set(declared) ^ set(handlers)
    paths: dict[str, dict[str, tuple[_ControlEndpoint, Handler]]] = {}
    for (method, path), e in declared.items():
        paths.setdefault(path, {})[method] = (e, handlers[method, path])
    return [
        Route(path, endpoint(methods), methods=list(methods)) for path, methods in paths.items()
    ]


_DURATION_KEYS: Final = ("weeks", "days", "hours", "minutes", "seconds")
_MAX_ADVANCE_SECONDS: Final = 10 * 366 * 86400
_UNIT_SECONDS: Final = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def _advance_seconds(body: Mapping[str, Any], sim: Simulator) -> float:
    """How far ``POST /_apfsm/clock/advance`` moves the clock: a duration (``seconds``,
    ``minutes``, ``hours``, ``days``, ``weeks``, added up), an absolute instant (``to``),
    or to the next scheduled event (``untilNextEvent: true``) — exactly one of the three."""
    given = [k for k in (*_DURATION_KEYS, "to", "untilNextEvent") if k in body]
    # Other fields were refused by _body_json (UnrecognizedField).
    if not given:
        raise ApiError.from_code(
            "MissingParameterValue",
            "give a duration (seconds, minutes, hours, days, weeks), 'to' (an instant) or "
            "'untilNextEvent': true",
        )
    kinds = {"duration" if k in _DURATION_KEYS else k for k in given}
    if len(kinds) > 1:
        raise ApiError.from_code(
            "InvalidParameterCombination",
            "give a duration, 'to' or 'untilNextEvent', not several",
        )
    now = sim.now()
    if "to" in body:
        try:
            target = parse_timestamp(str(body["to"])) if isinstance(body["to"], str) else None
        except ValueError:
            target = None
        if target is None:
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"to must be an instant with a UTC offset, got {body['to']!r}",
            )
        if target < now:
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"to {format_timestamp(target)} is before the clock ({format_timestamp(now)}): "
                "the clock only moves forward",
            )
        return (target - now).total_seconds()
    if "untilNextEvent" in body:
        if body["untilNextEvent"] is not True:
            raise ApiError.from_code("InvalidParameterValue", "untilNextEvent must be true")
        due = sim.next_event_at()
        if due is None:
            raise ApiError.from_code("InvalidRequest", "no event is scheduled")
        return max((due - now).total_seconds(), 0.0)
    total = 0.0
    for key in given:
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ApiError.from_code(
                "InvalidParameterValue", f"{key} must be a number of at least 0, got {value!r}"
            )
        # Multiplied and compared before any float conversion or timedelta(**...): a huge
        # {"weeks": 1e20} or a 400-digit integer is refused, not an OverflowError (a 500).
        seconds = value * _UNIT_SECONDS[key]
        if seconds > _MAX_ADVANCE_SECONDS:
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"the clock moves forward by at most ten years; {key} {str(value)[:40]} is more",
            )
        total += seconds
    return total


def _index(token_needed: bool = False) -> dict[str, Any]:
    """What ``GET /`` and ``GET /_apfsm`` answer: the API and the control endpoints."""
    return {
        "apfsm": "Amazon Pay API v2, simulated",
        "api": {
            "prefixes": ["/v2", "/live/v2", "/sandbox/v2"],
            "operations": {name: f"{op.method} /v2{op.path}" for name, op in OPERATIONS.items()},
            "openapi": "/openapi.json",
        },
        "controlAuth": (
            "every control endpoint but this index needs 'Authorization: Bearer TOKEN' "
            "(apfsm serve --control-token)"
            if token_needed
            else "none: the control endpoints are open (apfsm serve --control-token TOKEN "
            "protects them)"
        ),
        "control": _control_index(),
    }
