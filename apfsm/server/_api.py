"""The Amazon Pay API as a raw ASGI endpoint: headers → ``Simulator.request`` → bytes
(moto's ``responses.py``). Every rule lives in the simulator; this only translates."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from apfsm._errors import ApiError
from apfsm._sim import report_call
from apfsm._spec import REPORT_OPERATIONS, Operation

from ._routes import _ROUTES, _UNSIMULATED_METHODS, _report_route, _resolve
from ._state import _State
from ._wire import MAX_BODY_BYTES, _api_headers, _dumps, _loads

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

_log = logging.getLogger("apfsm.server")


class _Api:
    """The Amazon Pay API as a raw ASGI endpoint: the hot path, kept lean.

    Simulator calls run on the event loop itself: the simulator is in memory and never
    waits on I/O, so a call takes tens of microseconds — less than a hop to a thread pool
    and back — and calls on one loop are serialized, which the simulator's locks allow.
    """

    def __init__(self, state: _State) -> None:
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a websocket: nothing here speaks it
            await send({"type": "websocket.close"})
            return
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:  # refused unread: nothing of it is kept or logged
                error = ApiError.from_code(
                    "InvalidRequestFormat",
                    f"the request body is larger than {MAX_BODY_BYTES} bytes",
                )
                payload = _dumps(error.to_json())
                start = {"type": "http.response.start", "status": error.http_status}
                await send({**start, "headers": _api_headers(payload, [])})
                await send({"type": "http.response.body", "body": payload})
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            status, payload, extra = self._handle(scope, body)
        except Exception:  # a simulator bug: answer in Amazon's shape, keep the traceback
            _log.exception("apfsm: internal error on %s %s", scope["method"], scope["path"])
            error = ApiError.from_code("InternalServerError", "apfsm failed on this request")
            status, payload, extra = 500, _dumps(error.to_json()), []
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": _api_headers(payload, extra),
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def _handle(self, scope: Scope, body: bytes) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        method: str = scope["method"]
        path: str = scope["path"]
        report = _report_route(method, path)
        if report is not None:
            return self._report(report, scope, body)
        resolved = _resolve(path)
        if isinstance(resolved, ApiError):
            # A 405 names the methods the path takes (RFC 9110 §15.5.6): for an Amazon API
            # apfsm does not simulate, none — an empty Allow.
            allow_none = [(b"allow", b"")] if resolved.http_status == 405 else []
            return resolved.http_status, _dumps(resolved.to_json()), allow_none
        template, object_id = resolved
        methods = _ROUTES[template]
        op = methods.get(method)
        if op is None and (method, template) in _UNSIMULATED_METHODS:
            error = ApiError.from_code(
                "UnsupportedOperation", f"apfsm does not simulate {method} {path}"
            )
            served = ", ".join(sorted(methods)).encode()
            return error.http_status, _dumps(error.to_json()), [(b"allow", served)]
        if op is None:
            allow = ", ".join(sorted(methods))
            error = ApiError.from_code(
                "RequestNotSupported", f"{method} is not supported on {path}; use {allow}"
            )
            return error.http_status, _dumps(error.to_json()), [(b"allow", allow.encode())]
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in reversed(scope["headers"])  # the first of repeated headers wins
        }
        try:
            response = self._call(op, object_id, scope, headers, body)
        except ApiError as err:
            return err.http_status, _dumps(err.to_json()), []
        return response.status, _dumps(response.body), []

    def _report(
        self, route: tuple[str | None, str | None, str], scope: Scope, body: bytes
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """A Reports API call (docs/reports.md): signed like the others, journaled."""
        name, object_id, allow = route
        if name is None:
            refused = ApiError.from_code(
                "RequestNotSupported",
                f"{scope['method']} is not supported on {scope['path']}; use {allow}",
            )
            return refused.http_status, _dumps(refused.to_json()), [(b"allow", allow.encode())]
        op = REPORT_OPERATIONS[name]
        headers = {n.decode("latin-1"): v.decode("latin-1") for n, v in reversed(scope["headers"])}
        query_string = scope.get("query_string", b"").decode("latin-1")
        state = self._state
        try:
            if state.verifier is not None:
                raw_path = scope.get("raw_path") or scope["path"].encode()
                error = state.verifier.check(
                    op.method, raw_path.decode("latin-1"), query_string, headers, body
                )
                if error is not None:
                    raise error
            # Headers before the body (SPEC §8): the two creates take an idempotency key
            # but need none (docs/reports.md); GET and DELETE ignore one (idempotency.html).
            key = headers.get("x-amz-pay-idempotency-key") if op.method == "POST" else None
            if key is not None and not key.strip():
                raise ApiError.from_code(
                    "MissingHeaderValue", "the x-amz-pay-idempotency-key header has no value"
                )
            query = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
            decoded = _loads(body, exact=True) if op.method == "POST" and body.strip() else None
            status, answer = state.run(
                "report",
                [name, object_id, query, key],
                lambda sim: report_call(sim.reports, name, object_id, query, decoded, key),
                body=body if op.method == "POST" else None,
                write=op.method != "GET",
            )
        except ApiError as err:
            return err.http_status, _dumps(err.to_json()), []
        return status, _dumps(answer), []

    def _call(
        self,
        op: Operation,
        object_id: str | None,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
    ) -> Any:
        state = self._state
        # Headers before the body (SPEC §8): signature, then the idempotency key (SPEC §7).
        if state.verifier is not None:
            raw_path = scope.get("raw_path") or scope["path"].encode()
            error = state.verifier.check(
                op.method,
                raw_path.decode("latin-1"),
                scope.get("query_string", b"").decode("latin-1"),
                headers,
                body,
            )
            if error is not None:
                raise error
        key = None
        if op.method == "POST":
            # SPEC §7: the creates and capture need a key (the official SDKs send one);
            # complete takes one if sent (the Node and PHP SDKs send none).
            key = headers.get("x-amz-pay-idempotency-key")
            if key is None and op.requires_idempotency_key:
                raise ApiError.from_code(
                    "MissingHeader",
                    f"the x-amz-pay-idempotency-key header is required on {op.name}",
                )
            if key is not None and not key.strip():
                # Present but empty (Amazon's MissingHeaderValue, error-handling page).
                raise ApiError.from_code(
                    "MissingHeaderValue", "the x-amz-pay-idempotency-key header has no value"
                )
        decoded = None if op.is_read or not body.strip() else _loads(body, exact=True)
        code = headers.get("x-amz-pay-simulation-code")
        return state.run(
            "api",
            [op.name, object_id, key, code],
            lambda sim: sim.request(
                op.name, object_id, decoded, idempotency_key=key, simulation_code=code
            ),
            body=None if op.is_read else body,
            write=not op.is_read,
        )
