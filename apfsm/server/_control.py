"""The control endpoints under ``/_apfsm``: play the buyer, move the clock, read the
notifications and the call log, reset, save and load snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from apfsm._clock import ManualClock, format_timestamp
from apfsm._errors import ActionRefused, ApiError
from apfsm._sim import Simulator
from apfsm._spec import LIFECYCLES

from ._routes import _CONTROL
from ._state import _State
from ._wire import _error_response, _json_response, _loads

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response as HttpResponse


async def _body_json(request: Request) -> dict[str, Any]:
    """A control request's body as a JSON object (empty body: ``{}``).

    Raises:
        ApiError: ``InvalidRequestFormat``.
    """
    raw = await request.body()
    value = _loads(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ApiError.from_code("InvalidRequestFormat", "the request body must be a JSON object")
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
    if not text.isdigit():
        raise ApiError.from_code(
            "InvalidParameterValue", f"since must be a non-negative integer, got {text!r}"
        )
    return int(text)


#: The states the buyer can act on a Checkout Session in (the sources of its buyer events,
#: SPEC §3: Open).
_BUYER_STATES: Final = frozenset(
    source
    for event in LIFECYCLES["CheckoutSession"].events
    if event.actor == "buyer"
    for source in event.sources
)


#: What refuses a card (missing, not a string, not a sandbox card) rather than the session.
_CARD_CODES: Final = frozenset({"MissingParameterValue", "InvalidParameterValue"})


def _no_session(session_id: str) -> ApiError:
    return ApiError.from_code(
        "ResourceNotFound", f"no CheckoutSession {session_id!r} in this simulator"
    )


def _session_refusal(sim: Simulator, session_id: str) -> ApiError | None:
    """Why the buyer cannot act on ``session_id`` (unknown, or not in a state the buyer
    acts in), or None."""
    if sim.object_type(session_id) != "CheckoutSession":
        return _no_session(session_id)
    current = sim.object_state(session_id)
    if current not in _BUYER_STATES:
        return ApiError.from_code(
            "InvalidCheckoutSessionStatus",
            f"the buyer can only act on an {' or '.join(sorted(_BUYER_STATES))} session; "
            f"{session_id} is {current}",
        )
    return None


def _control_routes(state: _State) -> list[Any]:
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import Route

    Handler = Callable[["Request"], Awaitable[Any]]

    def endpoint(
        handler: Handler, status: int = 200
    ) -> Callable[[Request], Awaitable[HttpResponse]]:
        async def run(request: Request) -> HttpResponse:
            try:
                return _json_response(status, await handler(request))
            except ApiError as err:
                return _error_response(err)
            except ActionRefused as refused:  # a side action the simulator cannot take
                return _error_response(refused.to_api_error())

        return run

    async def approve(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        session_id = _string_field(body, "checkoutSessionId")
        sim = state.simulator
        try:
            return sim.buyer_approve(session_id, card=_string_field(body, "card", "1111"))
        except (ApiError, ActionRefused) as refused:
            if refused.reason_code not in _CARD_CODES:
                raise
            # A bad card is refused before the session is looked at (by the field reader,
            # by the simulator); this endpoint has always named the session's problem first.
            raise _session_refusal(sim, session_id) or refused from None

    async def cancel(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        session_id = _string_field(body, "checkoutSessionId")
        sim = state.simulator
        # buyer_cancel takes any object with a buyer_cancel event, and a Charge has one:
        # this endpoint is the buyer on Amazon's checkout page, so it takes sessions only.
        if sim.object_type(session_id) != "CheckoutSession":
            raise _no_session(session_id)
        return sim.buyer_cancel(session_id)

    async def advance(request: Request) -> dict[str, str]:
        body = await _body_json(request)
        seconds = body.get("seconds")
        if seconds is None:
            raise ApiError.from_code("MissingParameterValue", "seconds is required")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= 10 * 366 * 86400
        ):
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"seconds must be a number from 0 to ten years, got {seconds!r}",
            )
        sim = state.simulator
        if not callable(getattr(sim.clock, "advance", None)):
            raise ApiError.from_code(
                "InvalidRequest", f"the simulator's {type(sim.clock).__name__} cannot be advanced"
            )
        now = await run_in_threadpool(sim.advance, timedelta(seconds=seconds))
        return {"now": format_timestamp(now)}

    async def notifications(request: Request) -> list[dict[str, Any]]:
        since = _since(request)
        return [dict(n) for n in state.simulator.notifications[since:]]

    async def log(request: Request) -> list[dict[str, Any]]:
        since = _since(request)
        records = state.simulator.log
        return await run_in_threadpool(
            lambda: [records[i].to_json() for i in range(since, len(records))]
        )

    async def reset(request: Request) -> dict[str, str]:
        await _body_json(request)
        state.replace(state.fresh())
        return {"now": format_timestamp(state.simulator.now())}

    async def get_snapshot(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(state.simulator.snapshot)

    async def put_snapshot(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        current = state.simulator
        clock = None if isinstance(current.clock, ManualClock) else current.clock

        def restore() -> Simulator:
            try:
                return Simulator.restore(body, clock)
            except (ValueError, TypeError, KeyError) as exc:
                raise ApiError.from_code(
                    "InvalidParameterValue", f"not an apfsm simulator snapshot: {exc!r}"
                ) from None

        state.replace(await run_in_threadpool(restore))
        sim = state.simulator
        return {"now": format_timestamp(sim.now()), "objects": len(sim)}

    c = _CONTROL
    return [
        Route(f"{c}/buyer/approve", endpoint(approve), methods=["POST"]),
        Route(f"{c}/buyer/cancel", endpoint(cancel), methods=["POST"]),
        Route(f"{c}/clock/advance", endpoint(advance), methods=["POST"]),
        Route(f"{c}/notifications", endpoint(notifications), methods=["GET"]),
        Route(f"{c}/log", endpoint(log), methods=["GET"]),
        Route(f"{c}/reset", endpoint(reset), methods=["POST"]),
        Route(f"{c}/snapshot", endpoint(get_snapshot), methods=["GET"]),
        Route(f"{c}/snapshot", endpoint(put_snapshot), methods=["PUT"]),
    ]
