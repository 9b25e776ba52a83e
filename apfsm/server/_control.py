"""The control endpoints under ``/_apfsm``: play the buyer (sign in, approve, cancel), move
the clock, read the notifications and the call log, reset, save and load snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from apfsm._clock import ManualClock, format_timestamp
from apfsm._errors import ActionRefused, ApiError
from apfsm._sim import Simulator

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
        # The simulator names the session's problem first, then the card's (ActionRefused).
        card = body.get("card", "1111")
        return state.run(
            "approve", [session_id, card], lambda sim: sim.buyer_approve(session_id, card=card)
        )

    async def sign_in(request: Request) -> dict[str, str]:
        body = await _body_json(request)
        # An unknown scope, or scopes that are not a list: ActionRefused (400).
        return {"buyerToken": state.simulator.buyer_sign_in(scopes=body.get("scopes", []))}

    async def cancel(request: Request) -> dict[str, Any]:
        body = await _body_json(request)
        session_id = _string_field(body, "checkoutSessionId")
        return state.run("cancel", [session_id], lambda sim: sim.buyer_cancel(session_id))

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
        delta = timedelta(seconds=seconds)
        now = await run_in_threadpool(
            state.run, "advance", [seconds], lambda current: current.advance(delta)
        )
        return {"now": format_timestamp(now)}

    async def notifications(request: Request) -> list[dict[str, Any]]:
        since = _since(request)
        return [dict(n) for n in state.simulator.notifications[since:]]

    async def log(request: Request) -> list[dict[str, Any]]:
        since = _since(request)
        records = state.simulator.log
        # One copy read under the log's lock (issue 16: calls run meanwhile).
        return await run_in_threadpool(lambda: [r.to_json() for r in records.since(since)])

    async def reset(request: Request) -> dict[str, str]:
        await _body_json(request)
        state.replace_and_checkpoint(state.fresh())
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
                    "InvalidParameterValue", f"not an apfsm simulator snapshot: {exc}"
                ) from None

        restored = await run_in_threadpool(restore)
        state.replace_and_checkpoint(restored)
        sim = state.simulator
        return {"now": format_timestamp(sim.now()), "objects": len(sim)}

    c = _CONTROL
    return [
        Route(f"{c}/buyer/approve", endpoint(approve), methods=["POST"]),
        Route(f"{c}/buyer/cancel", endpoint(cancel), methods=["POST"]),
        Route(f"{c}/buyer/sign-in", endpoint(sign_in), methods=["POST"]),
        Route(f"{c}/clock/advance", endpoint(advance), methods=["POST"]),
        Route(f"{c}/notifications", endpoint(notifications), methods=["GET"]),
        Route(f"{c}/log", endpoint(log), methods=["GET"]),
        Route(f"{c}/reset", endpoint(reset), methods=["POST"]),
        Route(f"{c}/snapshot", endpoint(get_snapshot), methods=["GET"]),
        Route(f"{c}/snapshot", endpoint(put_snapshot), methods=["PUT"]),
    ]
