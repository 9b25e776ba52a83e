"""``apfsm.server``: the simulator behind the real Amazon Pay API v2 over HTTP.

Integrations written in any language point their Amazon Pay client at this server instead
of the sandbox and change nothing but the endpoint. ``create_app`` builds the ASGI
application (Starlette), ``running`` serves it from a background thread (pytest fixtures),
``serve`` is ``apfsm serve``, and ``openapi`` is the OpenAPI 3 document of the served API.

- **API** (SPEC §1): every operation of ``apfsm.OPERATIONS`` under ``/v2``, ``/live/v2`` and
  ``/sandbox/v2``, with Amazon's JSON, statuses and error body ``{"reasonCode", "message"}``
  (SPEC §8). Headers: ``x-amz-pay-idempotency-key`` (required on POST, SPEC §7),
  ``x-amz-pay-simulation-code``, and for signatures ``authorization``, ``x-amz-pay-date``,
  ``x-amz-pay-host``, ``x-amz-pay-region``.
- **Signatures**: with a public key, ``AMZN-PAY-RSASSA-PSS`` (salt 20) and
  ``AMZN-PAY-RSASSA-PSS-V2`` (salt 32) are verified the way the official SDKs sign.
- **Control** endpoints under ``/_apfsm`` play the buyer, move the clock, read the
  notifications and the call log, reset, and save or load snapshots.
- **IPN**: with a notify URL, each notification is POSTed as the SNS envelope Amazon Pay
  sends, from a background thread, with retries.

Starlette, uvicorn and cryptography come with the ``server`` extra
(``pip install "apfsm[server]"``) and are imported only when a server is built, so
``import apfsm.server`` and ``openapi()`` work without them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import heapq
import itertools
import json
import logging
import math
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO

from apfsm._clock import ManualClock, format_timestamp
from apfsm._errors import ApiError
from apfsm._sim import Simulator
from apfsm._spec import (
    BODIES,
    ERRORS,
    LIFECYCLES,
    OPERATIONS,
    SANDBOX_CARDS,
    SIMULATION_CODES,
    BodyField,
    Limits,
    Operation,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response as HttpResponse
    from starlette.types import Receive, Scope, Send

__all__ = [
    "ALGORITHMS",
    "canonical_request",
    "create_app",
    "openapi",
    "running",
    "serve",
    "sns_envelope",
    "string_to_sign",
]

_log = logging.getLogger("apfsm.server")

_INSTALL_HINT: Final = 'the apfsm server needs its extra dependencies: pip install "apfsm[server]"'

# Prefixes the API is also served under (SPEC §1: keys whose id starts LIVE/SANDBOX call
# /v2/..., other keys /live/v2/... or /sandbox/v2/...).
_PREFIXES: Final = frozenset({"live", "sandbox"})

#: Signature algorithms and their RSASSA-PSS salt lengths, as the official SDKs sign.
ALGORITHMS: Final[Mapping[str, int]] = MappingProxyType(
    {"AMZN-PAY-RSASSA-PSS": 20, "AMZN-PAY-RSASSA-PSS-V2": 32}
)

# Amazon Pay v2 APIs apfsm does not simulate: answered UnsupportedOperation 405 (SPEC §8),
# so a client learns the call exists but is out of scope, rather than ResourceNotFound.
_UNSIMULATED_ROOTS: Final = frozenset(
    {
        "buyers",
        "deliveryTrackers",
        "authorizationTokens",
        "reports",
        "reportSchedules",
        "reportDocuments",
        "merchantAccounts",
        "disputes",
        "files",
    }
)
_UNSIMULATED_ACTIONS: Final = frozenset({("checkoutSessions", "finalize")})
_UNSIMULATED_METHODS: Final = frozenset({("PATCH", ("charges", None))})  # Update Charge

_CONTROL: Final = "/_apfsm"
_OPENAPI_PATH: Final = "/openapi.json"


def _require_extra() -> None:
    """Import the ``server`` extra's packages, or say how to install them.

    Raises:
        ImportError: starlette, uvicorn or cryptography is missing; the message names
            ``pip install "apfsm[server]"``.
    """
    missing = []
    for module in ("starlette", "uvicorn", "cryptography"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ImportError(f"{_INSTALL_HINT} (missing: {', '.join(missing)})")


# ---------------------------------------------------------------------------------------
# Routes (SPEC §1), derived from the operation declarations
# ---------------------------------------------------------------------------------------


def _segments(path: str) -> tuple[str | None, ...]:
    """A path template's segments, ``None`` for a ``{parameter}``."""
    return tuple(
        None if part.startswith("{") else part for part in path.strip("/").split("/") if part
    )


# template segments -> {method: operation}
_ROUTES: Final[dict[tuple[str | None, ...], dict[str, Operation]]] = {}
for _op in OPERATIONS.values():
    _ROUTES.setdefault(_segments(_op.path), {})[_op.method] = _op
del _op


def _resolve(path: str) -> tuple[tuple[str | None, ...], str | None] | ApiError:
    """The route template ``path`` matches (a key of ``_ROUTES``) and the id in it, or the
    error for a path that is not an operation (SPEC §1, §8)."""
    parts = path.strip("/").split("/")  # a trailing slash is fine: the .NET SDK sends one
    if parts and parts[0] in _PREFIXES:
        parts = parts[1:]
    if len(parts) < 2 or parts[0] != "v2" or "" in parts:
        return ApiError.from_code("ResourceNotFound", f"no Amazon Pay API v2 resource at {path}")
    parts = parts[1:]
    for template in _ROUTES:
        if len(template) != len(parts):
            continue
        object_id = None
        for want, got in zip(template, parts, strict=True):
            if want is None:
                object_id = got
            elif want != got:
                break
        else:
            return template, object_id
    if parts[0] in _UNSIMULATED_ROOTS or (parts[0], parts[-1]) in _UNSIMULATED_ACTIONS:
        return ApiError.from_code(
            "UnsupportedOperation", f"apfsm does not simulate {'/'.join(['', 'v2', *parts])}"
        )
    return ApiError.from_code("ResourceNotFound", f"no Amazon Pay API v2 resource at {path}")


# ---------------------------------------------------------------------------------------
# Request signatures (the official SDKs' canonical request)
# ---------------------------------------------------------------------------------------


def _canonical_query(raw: str) -> str:
    # The SDKs sign "name=value" pairs, encoded as they send them, sorted by name, joined by
    # "&"; the query string on the wire is that same text, so its pairs are sorted as sent.
    pairs = [pair for pair in raw.split("&") if pair]
    return "&".join(sorted(pairs, key=lambda pair: pair.partition("=")[0]))


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload: bytes,
) -> str:
    """The canonical request the Amazon Pay SDKs sign (Node, PHP, Java, .NET alike).

    Lines: the method; the path as sent; the query (pairs sorted by name); one
    ``name:value`` line per signed header, in the order of the signed-header list (the SDKs
    sort it, lower-cased); an empty line; the signed-header list joined by ``;``; the
    hex SHA-256 of the payload.

    Args:
        method: the HTTP method, upper case.
        path: the request path exactly as sent (not re-encoded).
        query: the raw query string, without ``?``.
        headers: the request headers by lower-case name; a signed header that is absent
            counts as empty.
        signed_headers: the lower-case names listed in ``SignedHeaders=``.
        payload: the raw request body.

    Returns:
        The canonical request text.
    """
    lines = [method, path, _canonical_query(query)]
    lines.extend(f"{name}:{headers.get(name, '')}" for name in signed_headers)
    digest = hashlib.sha256(payload).hexdigest()
    return "\n".join(lines) + "\n\n" + ";".join(signed_headers) + "\n" + digest


def string_to_sign(algorithm: str, canonical: str) -> str:
    """The string the SDKs sign: the algorithm name, a newline, the hex SHA-256 of
    ``canonical``."""
    return f"{algorithm}\n{hashlib.sha256(canonical.encode()).hexdigest()}"


def _parse_authorization(value: str) -> tuple[str, dict[str, str]] | None:
    """``ALGORITHM PublicKeyId=..., SignedHeaders=a;b, Signature=...`` as its parts."""
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, field = item.strip().partition("=")
        if not sep:
            return None
        fields[name] = field  # the base64 signature keeps its "=" padding
    if not {"SignedHeaders", "Signature"} <= fields.keys():
        return None
    return algorithm, fields


class _Verifier:
    """Checks ``authorization`` headers against one RSA public key (issue 6, item 5)."""

    def __init__(self, key: RSAPublicKey) -> None:
        self._key = key

    def check(
        self, method: str, path: str, query: str, headers: Mapping[str, str], payload: bytes
    ) -> ApiError | None:
        """None when the request is signed by the key's private half, else the error."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        authorization = headers.get("authorization")
        if not authorization:
            return ApiError.from_code("MissingHeader", "the authorization header is required")
        if not headers.get("x-amz-pay-date"):
            return ApiError.from_code("MissingHeader", "the x-amz-pay-date header is required")
        parsed = _parse_authorization(authorization)
        if parsed is None:
            return ApiError.from_code(
                "InvalidRequestSignature",
                "the authorization header must read 'ALGORITHM PublicKeyId=..., "
                "SignedHeaders=..., Signature=...'",
            )
        algorithm, fields = parsed
        salt = ALGORITHMS.get(algorithm)
        if salt is None:
            return ApiError.from_code(
                "InvalidRequestSignature",
                f"unsupported signature algorithm {algorithm!r}; use {' or '.join(ALGORITHMS)}",
            )
        signed = [name.lower() for name in fields["SignedHeaders"].split(";") if name]
        text = string_to_sign(
            algorithm, canonical_request(method, path, query, headers, signed, payload)
        )
        try:
            signature = base64.b64decode(fields["Signature"], validate=True)
            self._key.verify(
                signature,
                text.encode(),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt),
                hashes.SHA256(),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return ApiError.from_code(
                "InvalidRequestSignature",
                "the request signature does not match the canonical request signed with "
                f"{algorithm}",
            )
        return None


def _load_public_key(source: str | bytes | os.PathLike[str]) -> RSAPublicKey:
    """An RSA public key from PEM text or a PEM file.

    Raises:
        ValueError: not an RSA public key in PEM.
        OSError: the file cannot be read.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and "-----BEGIN" in source:
        data = source.encode()
    else:
        data = Path(source).read_bytes()
    try:
        key = load_pem_public_key(data)
    except ValueError as exc:
        raise ValueError(f"public_key is not a PEM public key: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"public_key must be an RSA key, got {type(key).__name__}")
    return key


# ---------------------------------------------------------------------------------------
# IPN delivery (SPEC §7): SNS envelopes, a background worker, retries
# ---------------------------------------------------------------------------------------


def sns_envelope(message: Mapping[str, Any], at: datetime, topic: str) -> dict[str, str]:
    """The SNS notification Amazon Pay wraps each IPN message in (SPEC §7).

    apfsm does not sign it: ``Signature``, ``SigningCertURL`` and ``UnsubscribeURL`` are
    empty.

    Args:
        message: the IPN message (``Simulator.notifications`` holds them).
        at: when it is sent (aware); becomes ``Timestamp``.
        topic: the SNS topic ARN.

    Returns:
        The envelope; ``Message`` is ``message`` as JSON text.
    """
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": json.dumps(dict(message), separators=(",", ":")),
        "Timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{at.microsecond // 1000:03d}Z",
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": "",
        "UnsubscribeURL": "",
    }


class _Notifier:
    """Delivers envelopes to ``url`` from one background thread: in order, each retried with
    exponential back-off while later ones go on (real delivery can reorder too, SPEC §7)."""

    def __init__(self, url: str, attempts: int, backoff: float, timeout: float = 5.0) -> None:
        self.url = url
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        #: Envelopes given up on after every attempt failed (for inspection).
        self.failed: list[dict[str, str]] = []
        self._queue: list[tuple[float, int, int, dict[str, str]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, envelope: dict[str, str]) -> None:
        """Queue one envelope (never blocks on the network)."""
        with self._cond:
            heapq.heappush(self._queue, (time.monotonic(), next(self._seq), 1, envelope))
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="apfsm-ipn", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker; what is still queued is dropped (and logged)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        if self._queue:
            _log.warning("apfsm: %d IPN notifications not delivered at shutdown", len(self._queue))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopping:
                    return
                _, _, attempt, envelope = heapq.heappop(self._queue)
            if self._post(envelope):
                continue
            if attempt >= self.attempts:
                _log.warning(
                    "apfsm: IPN %s not delivered to %s after %d attempts",
                    envelope["MessageId"],
                    self.url,
                    attempt,
                )
                self.failed.append(envelope)
                continue
            due = time.monotonic() + self.backoff * 2 ** (attempt - 1)
            with self._cond:
                heapq.heappush(self._queue, (due, next(self._seq), attempt + 1, envelope))

    def _post(self, envelope: dict[str, str]) -> bool:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(envelope, indent=2).encode(),
            method="POST",
            headers={
                # As Amazon Pay (through SNS) sends it: the JSON envelope as text/plain.
                "Content-Type": "text/plain; charset=UTF-8",
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": envelope["MessageId"],
                "x-amz-sns-topic-arn": envelope["TopicArn"],
                "User-Agent": "Amazon Simple Notification Service Agent",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return 200 <= int(answer.status) < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            _log.info("apfsm: IPN delivery to %s failed: %s", self.url, exc)
            return False


# ---------------------------------------------------------------------------------------
# JSON in and out
# ---------------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _loads(raw: bytes) -> Any:
    """Decode a request body; malformed JSON is ``InvalidRequestFormat`` (SPEC §8).

    Raises:
        ApiError: ``InvalidRequestFormat``.
    """
    try:
        # NaN, Infinity and numbers too large for a float are not JSON: refuse them here
        # rather than store a value no JSON answer could carry.
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise ApiError.from_code(
            "InvalidRequestFormat", f"the request body is not valid JSON: {exc}"
        ) from None


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


# ---------------------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------------------


class _State:
    """What the app's endpoints share: the current simulator and the server's options."""

    def __init__(
        self,
        simulator: Simulator,
        verifier: _Verifier | None,
        notifier: _Notifier | None,
        state_file: Path | None,
    ) -> None:
        self.simulator = simulator
        self.verifier = verifier
        self.notifier = notifier
        self.state_file = state_file
        #: The app's ``state``, whose ``simulator`` attribute follows ``replace``.
        self.app_state: Any = None
        self.started_at = simulator.now()
        self.topic = f"arn:aws:sns:us-east-1:000000000000:apfsm-{simulator.merchant_id}"
        self._user_callback = simulator.on_notification
        if notifier is not None:
            simulator.on_notification = self.on_notification

    def on_notification(self, message: dict[str, Any]) -> None:
        """The simulator's ``on_notification``: queue the SNS envelope for delivery."""
        if self._user_callback is not None:
            self._user_callback(message)
        if self.notifier is not None:
            self.notifier.submit(sns_envelope(message, self.simulator.now(), self.topic))

    def replace(self, simulator: Simulator) -> None:
        """Serve ``simulator`` from now on (reset, restore), keeping the IPN callback."""
        simulator.on_notification = self.simulator.on_notification
        self.simulator = simulator
        if self.app_state is not None:
            self.app_state.simulator = simulator

    def fresh(self) -> Simulator:
        """An empty simulator like the current one, its clock back at the server's start."""
        current = self.simulator
        clock = current.clock
        if isinstance(clock, ManualClock):
            clock = ManualClock(self.started_at)
        return Simulator(clock, current.limits, current.merchant_id)

    def save(self) -> None:
        """Write the snapshot to the state file (atomically: a crash never leaves half)."""
        if self.state_file is None:
            return
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(json.dumps(self.simulator.snapshot()), encoding="utf-8")
        os.replace(temporary, self.state_file)


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
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
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
        resolved = _resolve(path)
        if isinstance(resolved, ApiError):
            return resolved.http_status, _dumps(resolved.to_json()), []
        template, object_id = resolved
        methods = _ROUTES[template]
        op = methods.get(method)
        if op is None and (method, template) in _UNSIMULATED_METHODS:
            error = ApiError.from_code(
                "UnsupportedOperation", f"apfsm does not simulate {method} {path}"
            )
            return error.http_status, _dumps(error.to_json()), []
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
            key = headers.get("x-amz-pay-idempotency-key")
            if key is None:
                raise ApiError.from_code(
                    "MissingHeader", "the x-amz-pay-idempotency-key header is required on POST"
                )
        decoded = None if op.is_read or not body.strip() else _loads(body)
        return state.simulator.request(
            op.name,
            object_id,
            decoded,
            idempotency_key=key,
            simulation_code=headers.get("x-amz-pay-simulation-code"),
        )


def _json_response(status: int, value: Any) -> HttpResponse:
    from starlette.responses import Response as HttpResponse

    return HttpResponse(_dumps(value), status_code=status, media_type="application/json")


def _error_response(err: ApiError) -> HttpResponse:
    return _json_response(err.http_status, err.to_json())


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

        return run

    def session_action(
        action: Callable[[Simulator, str, dict[str, Any]], dict[str, Any]],
    ) -> Handler:
        async def handle(request: Request) -> dict[str, Any]:
            body = await _body_json(request)
            session_id = _string_field(body, "checkoutSessionId")
            sim = state.simulator
            found = sim.object_json(session_id)
            if found is None or "checkoutSessionId" not in found:
                raise ApiError.from_code(
                    "ResourceNotFound", f"CheckoutSession {session_id!r} does not exist"
                )
            if found["statusDetails"]["state"] != "Open":
                raise ApiError.from_code(
                    "InvalidCheckoutSessionStatus",
                    f"the buyer can only act on an Open session; {session_id} is "
                    f"{found['statusDetails']['state']}",
                )
            try:
                return action(sim, session_id, body)
            except ValueError as exc:
                raise ApiError.from_code("InvalidRequest", str(exc)) from None

        return handle

    def approve(sim: Simulator, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        card = _string_field(body, "card", "1111")
        if card not in SANDBOX_CARDS:
            raise ApiError.from_code(
                "InvalidParameterValue",
                f"unknown sandbox card {card!r}; cards are {', '.join(SANDBOX_CARDS)}",
            )
        return sim.buyer_approve(session_id, card=card)

    def cancel(sim: Simulator, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
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
        Route(f"{c}/buyer/approve", endpoint(session_action(approve)), methods=["POST"]),
        Route(f"{c}/buyer/cancel", endpoint(session_action(cancel)), methods=["POST"]),
        Route(f"{c}/clock/advance", endpoint(advance), methods=["POST"]),
        Route(f"{c}/notifications", endpoint(notifications), methods=["GET"]),
        Route(f"{c}/log", endpoint(log), methods=["GET"]),
        Route(f"{c}/reset", endpoint(reset), methods=["POST"]),
        Route(f"{c}/snapshot", endpoint(get_snapshot), methods=["GET"]),
        Route(f"{c}/snapshot", endpoint(put_snapshot), methods=["PUT"]),
    ]


def create_app(
    simulator: Simulator | None = None,
    *,
    public_key: str | bytes | os.PathLike[str] | None = None,
    notify_url: str | None = None,
    notify_attempts: int = 5,
    notify_backoff: float = 1.0,
    state: str | os.PathLike[str] | None = None,
) -> Starlette:
    """The simulator behind the Amazon Pay API v2, as an ASGI application (Starlette).

    ``app.state.simulator`` is the simulator serving calls (``POST /_apfsm/reset`` and
    ``PUT /_apfsm/snapshot`` replace it).

    Args:
        simulator: the simulator to serve; a new ``Simulator()`` (its clock a
            ``ManualClock`` at the current time) by default.
        public_key: verify request signatures with this RSA public key: PEM text (str or
            bytes) or the path of a PEM file. Without it, requests are accepted unsigned.
        notify_url: POST every IPN notification there, as Amazon Pay does (an SNS envelope,
            ``text/plain``), from a background thread.
        notify_attempts: how many times one notification is tried before it is given up.
        notify_backoff: seconds before the first retry; each further retry waits twice as
            long.
        state: a snapshot file: restored at start when it exists, written at shutdown
            (when the server runs the ASGI lifespan, as uvicorn does).

    Returns:
        The Starlette application.

    Raises:
        ImportError: the ``server`` extra is not installed (the message says how to).
        ValueError: a public key that is not an RSA PEM key, a notify URL that is not
            http(s), bad retry settings, a state file that is not a snapshot, or both a
            simulator and an existing state file.
        OSError: the public key or state file cannot be read.
    """
    _require_extra()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    state_file = None if state is None else Path(state)
    if state_file is not None and not state_file.parent.is_dir():
        raise ValueError(f"the state file's directory {str(state_file.parent)!r} does not exist")
    if state_file is not None and state_file.exists():
        if simulator is not None:
            raise ValueError(
                f"state file {str(state_file)!r} exists: it is restored, so pass no simulator"
            )
        try:
            simulator = Simulator.restore(json.loads(state_file.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{state_file} is not an apfsm simulator snapshot: {exc}") from None
    if simulator is None:
        simulator = Simulator()
    if not isinstance(simulator, Simulator):
        raise TypeError(f"simulator must be an apfsm.Simulator, got {type(simulator).__name__}")
    notifier = None
    if notify_url is not None:
        if urllib.parse.urlsplit(notify_url).scheme not in ("http", "https"):
            raise ValueError(f"notify_url must be an http:// or https:// URL, got {notify_url!r}")
        if notify_attempts < 1:
            raise ValueError(f"notify_attempts must be at least 1, got {notify_attempts}")
        if notify_backoff < 0:
            raise ValueError(f"notify_backoff must not be negative, got {notify_backoff}")
        notifier = _Notifier(notify_url, notify_attempts, notify_backoff)
    verifier = None if public_key is None else _Verifier(_load_public_key(public_key))
    shared = _State(simulator, verifier, notifier, state_file)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if shared.notifier is not None:
            shared.notifier.stop()
        shared.save()

    async def document(request: Request) -> HttpResponse:
        return _json_response(200, openapi(shared.simulator.limits))

    async def http_error(request: Request, exc: Exception) -> HttpResponse:
        # A control path or the document with a method it does not take: answered like
        # the API would (SPEC §8), not with Starlette's plain text.
        assert isinstance(exc, HTTPException)
        code = "RequestNotSupported" if exc.status_code == 405 else "ResourceNotFound"
        response = _error_response(
            ApiError.from_code(code, f"{request.method} is not supported on {request.url.path}")
        )
        response.headers.update(exc.headers or {})
        return response

    app = Starlette(
        routes=[Route(_OPENAPI_PATH, document, methods=["GET"]), *_control_routes(shared)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    # Every other request is the API (or an error in its shape): a raw ASGI endpoint that
    # takes any path and method, so even a wrong one is answered as Amazon Pay would.
    app.router.default = _Api(shared)
    app.router.redirect_slashes = False
    app.state.simulator = simulator
    shared.app_state = app.state
    return app


# ---------------------------------------------------------------------------------------
# OpenAPI 3 (from the declarations)
# ---------------------------------------------------------------------------------------

_REF: Final = "#/components/schemas/"
_TIMESTAMP: Final = {"type": "string", "pattern": "^[0-9]{8}T[0-9]{6}Z$"}
_NULLABLE_STRING: Final = {"type": ["string", "null"]}


def _field_schema(field: BodyField, limits: Limits) -> dict[str, Any]:
    if field.kind == "price":
        return {"$ref": f"{_REF}Price"}
    if field.kind == "bool":
        return {"type": "boolean"}
    if field.kind == "str":
        schema: dict[str, Any] = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = getattr(limits, field.max_length)
        return schema
    if field.kind == "enum":
        return {"type": "string", "enum": list(field.choices)}
    if field.kind == "object":
        return _fields_schema(field.fields, limits)
    if field.kind == "opaque":
        return {"type": "object", "description": "stored and echoed back as it is"}
    if field.kind == "str_list":
        return {"type": "array", "items": {"type": "string"}}
    if field.kind == "currency":
        return {"type": "string", "enum": sorted(limits.currency_decimals)}
    raise AssertionError(f"unknown body field kind {field.kind!r}")  # pragma: no cover


def _fields_schema(fields: Sequence[BodyField], limits: Limits) -> dict[str, Any]:
    # SPEC §10: any other field is UnrecognizedField, at every depth of a declared object.
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: _field_schema(f, limits) for f in fields},
        "additionalProperties": False,
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def _status_schema(object_type: str) -> dict[str, Any]:
    lifecycle = LIFECYCLES[object_type]
    states = [s for s in lifecycle.states if not s.virtual]
    reasons = sorted({r for s in states for r in s.reasons})
    properties: dict[str, Any] = {
        "state": {"type": "string", "enum": [s.name for s in states]},
        "lastUpdatedTimestamp": _TIMESTAMP,
    }
    if object_type == "ChargePermission":
        # SPEC §1: a Charge Permission can hold several reasons at once.
        properties["reasons"] = {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "required": ["reasonCode"],
                "properties": {
                    "reasonCode": {"type": "string", "enum": reasons},
                    "reasonDescription": _NULLABLE_STRING,
                },
            },
        }
    else:
        properties["reasonCode"] = {"enum": [*reasons, None]}  # null outside reasoned states
        properties["reasonDescription"] = _NULLABLE_STRING
    return {"type": "object", "required": sorted(properties), "properties": properties}


def _object_schema(object_type: str) -> dict[str, Any]:
    id_field = LIFECYCLES[object_type].id_field
    return {
        "type": "object",
        "description": LIFECYCLES[object_type].description,
        "required": [id_field, "statusDetails", "creationTimestamp"],
        "properties": {
            id_field: {"type": "string"},
            "statusDetails": _status_schema(object_type),
            "creationTimestamp": _TIMESTAMP,
            "releaseEnvironment": {"type": "string", "enum": ["Sandbox", "Live"]},
        },
    }


def _title(name: str) -> str:
    return " ".join(word.capitalize() for word in name.split("_"))


def _operation_document(op: Operation, limits: Limits) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in op.path.split("/")
        if part.startswith("{")
    ]
    if op.method == "POST":
        # SPEC §7: required over HTTP; 1 to 32 characters of A-Za-z0-9-_.
        parameters.append(
            {
                "name": "x-amz-pay-idempotency-key",
                "in": "header",
                "required": True,
                "schema": {
                    "type": "string",
                    "pattern": f"^[A-Za-z0-9_-]{{1,{limits.idempotency_key_max_length}}}$",
                },
            }
        )
    codes = SIMULATION_CODES.get(op.name)
    if codes:
        parameters.append(
            {
                "name": "x-amz-pay-simulation-code",
                "in": "header",
                "required": False,
                "description": "sandbox simulation (SPEC §7)",
                "schema": {"type": "string", "enum": list(codes)},
            }
        )
    returns = op.creates or op.target
    assert returns is not None
    content = {"application/json": {"schema": {"$ref": f"{_REF}{returns}"}}}
    statuses = {op.success_status} | {
        c.http_status
        for lc in LIFECYCLES.values()
        for c in lc.creations
        if c.operation == op.name and c.http_status is not None
    }
    responses: dict[str, Any] = {
        str(status): {"description": "accepted" if status == 202 else "success", "content": content}
        for status in sorted(statuses)
    }
    error = {"content": {"application/json": {"schema": {"$ref": f"{_REF}Error"}}}}
    responses["4XX"] = {"description": "refused (SPEC §8)", **error}
    responses["5XX"] = {"description": "Amazon-side failure (SPEC §8)", **error}
    document: dict[str, Any] = {
        "operationId": op.name,
        "summary": _title(op.name),
        "tags": [returns],
        "parameters": parameters,
        "responses": responses,
    }
    if not op.is_read:
        document["requestBody"] = {
            "required": op.method in ("POST", "PATCH"),
            "content": {
                "application/json": {
                    "schema": {"$ref": f"{_REF}{_title(op.name).replace(' ', '')}Request"}
                }
            },
        }
    return document


def openapi(limits: Limits | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the served API, derived from the declarations.

    Paths and methods come from ``apfsm.OPERATIONS`` (under ``/v2``; also served under
    ``/live/v2`` and ``/sandbox/v2``), request bodies from ``apfsm.BODIES``, states and
    reason codes of the response objects from ``apfsm.LIFECYCLES``, error codes from
    ``apfsm.ERRORS``. The control endpoints (``/_apfsm``) are not part of it.

    Args:
        limits: lengths, currencies and key sizes come from here (SPEC's by default).

    Returns:
        The document as a JSON-serialisable dict (deterministic: ``docs/openapi.json``).
    """
    limits = Limits() if limits is None else limits
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "description": "Amazon Pay's error body (SPEC §1, §8)",
            "required": ["reasonCode", "message"],
            "properties": {
                "reasonCode": {"type": "string", "enum": sorted(ERRORS)},
                "message": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "Price": {
            "type": "object",
            "description": "an amount as a decimal string in major units, with at most the "
            "currency's decimals and above zero (SPEC §1)",
            "required": ["amount", "currencyCode"],
            "properties": {
                "amount": {"type": "string", "pattern": "^(0|[1-9][0-9]*)(\\.[0-9]+)?$"},
                "currencyCode": {"type": "string", "enum": sorted(limits.currency_decimals)},
            },
            "additionalProperties": False,
        },
    }
    for object_type in LIFECYCLES:
        schemas[object_type] = _object_schema(object_type)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS.values():
        if not op.is_read:
            schemas[f"{_title(op.name).replace(' ', '')}Request"] = _fields_schema(
                BODIES[op.name], limits
            )
        paths.setdefault(f"/v2{op.path}", {})[op.method.lower()] = _operation_document(op, limits)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Amazon Pay API v2 (apfsm simulator)",
            "version": "v2",
            "description": "The Amazon Pay API v2 as apfsm serves it (`apfsm serve`). Every "
            "path is also served under /live and /sandbox. POST requests need an "
            "x-amz-pay-idempotency-key header; with a public key configured, requests must "
            "be signed (AMZN-PAY-RSASSA-PSS or AMZN-PAY-RSASSA-PSS-V2).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


# ---------------------------------------------------------------------------------------
# Running it: TLS, a background thread, the command
# ---------------------------------------------------------------------------------------


def _self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """Write a self-signed certificate and its key for ``host`` (and the loopback names and
    Amazon Pay's API hosts, for clients that cannot change the endpoint); returns their
    paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName(name)
        for name in ("localhost", "pay-api.amazon.com", "pay-api.amazon.eu", "pay-api.amazon.jp")
    ]
    addresses = {"127.0.0.1", "::1"}
    try:
        addresses.add(str(ipaddress.ip_address(host)))
    except ValueError:
        if host and host != "localhost":
            names.append(x509.DNSName(host))
    names.extend(x509.IPAddress(ipaddress.ip_address(a)) for a in sorted(addresses))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apfsm local Amazon Pay")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "apfsm-cert.pem"
    key_path = directory / "apfsm-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    return sock


def _url(sock: socket.socket, tls: bool) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


@contextlib.contextmanager
def running(
    app: Starlette | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
) -> Iterator[str]:
    """Serve ``app`` with uvicorn from a background thread for the ``with`` block.

    For tests of integrations that talk HTTP: the server listens before the block starts
    and has shut down (lifespan included) when it ends.

    Args:
        app: what to serve; ``create_app()`` by default.
        host: the address to listen on.
        port: the port; 0 picks a free one.
        tls: serve HTTPS with a self-signed certificate generated for the block.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321``.

    Raises:
        ImportError: the ``server`` extra is not installed.
        OSError: the address cannot be listened on.
        RuntimeError: the server did not start.
    """
    _require_extra()
    import uvicorn

    app = create_app() if app is None else app
    with contextlib.ExitStack() as stack:
        ssl: dict[str, Any] = {}
        if tls:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apfsm-")))
            cert, key = _self_signed(directory, host)
            ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        sock = stack.enter_context(_listen(host, port))
        config = uvicorn.Config(app, log_level="warning", access_log=False, **ssl)
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="apfsm-server", daemon=True
        )
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the apfsm server did not start (see the log above)")
            time.sleep(0.01)
        try:
            yield _url(sock, tls)
        finally:
            server.should_exit = True
            thread.join()


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    tls: bool = False,
    public_key: str | os.PathLike[str] | None = None,
    notify_url: str | None = None,
    state: str | os.PathLike[str] | None = None,
    out: TextIO | None = None,
) -> None:
    """Run the server until interrupted (``apfsm serve``).

    Prints where it listens (the real port when ``port`` is 0) and how it is set up, then
    serves with uvicorn. Ctrl-C or SIGTERM shuts it down gracefully, which writes ``state``.

    Args:
        host: the address to listen on.
        port: the port (0: a free one).
        tls: serve HTTPS with a self-signed certificate generated at start (its path is
            printed: trust it, or tell your client to skip verification).
        public_key: a PEM file: verify request signatures with it.
        notify_url: deliver IPN notifications there.
        state: a snapshot file, restored at start when it exists and written at shutdown.
        out: where the start-up lines go (stdout by default).

    Raises:
        ImportError: the ``server`` extra is not installed.
        ValueError, OSError: as ``create_app``; or the address cannot be listened on.
    """
    _require_extra()
    import uvicorn

    out = sys.stdout if out is None else out
    app = create_app(public_key=public_key, notify_url=notify_url, state=state)
    with contextlib.ExitStack() as stack:
        ssl: dict[str, Any] = {}
        lines = []
        if tls:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apfsm-tls-")))
            cert, key = _self_signed(directory, host)
            ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
            lines.append(f"TLS certificate (self-signed): {cert}")
        sock = stack.enter_context(_listen(host, port))
        url = _url(sock, tls)
        sim: Simulator = app.state.simulator
        lines[:0] = [
            f"apfsm: Amazon Pay API v2 simulator on {url}",
            f"API: {url}/v2/... (also /live/v2, /sandbox/v2); control: {url}{_CONTROL}/...; "
            f"OpenAPI: {url}{_OPENAPI_PATH}",
            f"simulated time: {format_timestamp(sim.now())} (moves only with "
            f"POST {_CONTROL}/clock/advance)",
            f"signatures: {'verified with ' + str(public_key) if public_key else 'not checked'}",
        ]
        if notify_url:
            lines.append(f"IPN notifications: POSTed to {notify_url}")
        if state is not None:
            lines.append(f"state: {state} ({len(sim)} objects; saved at shutdown)")
        out.write("\n".join(lines) + "\n")
        out.flush()
        config = uvicorn.Config(app, log_level="info", access_log=False, **ssl)
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":  # pragma: no cover - python -m apfsm.server > docs/openapi.json
    sys.stdout.write(json.dumps(openapi(), indent=2) + "\n")
