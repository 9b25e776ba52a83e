"""``create_app``: the API endpoint, the control endpoints and the OpenAPI document as one
Starlette application."""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from apfsm._errors import ApiError
from apfsm._sim import Simulator

from ._api import _Api
from ._control import _control_routes
from ._durable import _open_state
from ._heap import _heap_freezer
from ._ipn import _Notifier
from ._openapi import openapi
from ._routes import _OPENAPI_PATH
from ._signatures import DEFAULT_MAX_CLOCK_SKEW, _load_public_key, _Verifier
from ._state import _State
from ._wire import (
    MAX_CALL_LOG,
    MAX_IDEMPOTENCY_KEYS,
    MAX_NOTIFICATIONS,
    _error_response,
    _json_response,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response as HttpResponse

_INSTALL_HINT: Final = 'the apfsm server needs its extra dependencies: pip install "apfsm[server]"'


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


def create_app(
    simulator: Simulator | None = None,
    *,
    public_key: str | bytes | os.PathLike[str] | None = None,
    public_key_id: str | None = None,
    max_clock_skew: timedelta | None = DEFAULT_MAX_CLOCK_SKEW,
    control_token: str | None = None,
    notify_url: str | None = None,
    notify_attempts: int = 5,
    notify_backoff: float = 1.0,
    state: str | os.PathLike[str] | None = None,
    seed: int | str | None = None,
    checkpoint_every: int = 1_000,
    max_call_log: int | None = MAX_CALL_LOG,
    max_idempotency_keys: int | None = MAX_IDEMPOTENCY_KEYS,
    max_notifications: int | None = MAX_NOTIFICATIONS,
    gc_freeze: bool = False,
) -> Starlette:
    """The simulator behind the Amazon Pay API v2, as an ASGI application (Starlette).

    ``app.state.simulator`` is the simulator serving calls (``POST /_apfsm/reset`` and
    ``PUT /_apfsm/snapshot`` replace it).

    Args:
        simulator: the simulator to serve; a new ``Simulator()`` (its clock a
            ``ManualClock`` at the current time) by default.
        public_key: verify request signatures with this RSA public key: PEM text (str or
            bytes) or the path of a PEM file. Without it, requests are accepted unsigned.
        public_key_id: the ``PublicKeyId`` that key is registered under: a request naming
            another is refused (``InvalidRequestSignature``). None: any non-empty id.
        max_clock_skew: with ``public_key``, how old a request's ``x-amz-pay-date`` may be
            by this machine's wall clock (15 minutes by default); a date in the future is
            refused too (``InvalidHeaderValue``, as Amazon). None: dates are not compared
            with the clock.
        control_token: protect the control endpoints (``/_apfsm/...``): each must carry
            ``Authorization: Bearer TOKEN`` (missing: ``UnauthorizedAccess`` 401; wrong:
            ``InvalidAuthentication`` 403). The index and the API itself stay open.
        notify_url: POST every IPN notification there, as Amazon Pay does (an SNS envelope,
            ``text/plain``), from a background thread.
        notify_attempts: how many times one notification is tried before it is given up.
        notify_backoff: seconds before the first retry; each further retry waits twice as
            long.
        state: a durable state file (SQLite, docs/server.md "What survives a crash"):
            resumed at start when it exists, created when not; every call that can
            change state is committed to it before it is answered. A legacy JSON
            snapshot given here is migrated in place (the JSON kept as
            ``FILE.legacy.json``).
        seed: the ids' seed of the default simulator and of every ``POST /_apfsm/reset``
            (``Simulator(seed=...)``): the same seed, the same ids. Without one, ids
            differ from run to run and from reset to reset.
        checkpoint_every: with ``state``, how many journaled commands between two
            checkpoints; each writes what changed since the last one, so its pause is
            bounded by this, not by the state (a restart replays at most this many).
        max_call_log: keep about the newest this many call-log records (None: all;
            ``Simulator.retain``): the server's memory stays bounded under load.
        max_idempotency_keys: keep the newest this many idempotency keys (None: all,
            as Amazon, which stores them indefinitely); a key whose answer left the call
            log is forgotten too.
        max_notifications: keep the newest this many IPN notifications for
            ``GET /_apfsm/notifications`` (None: all); the oldest are dropped, the
            others keep their numbers (``?since=N`` counts every one ever emitted).
        gc_freeze: keep the served state out of Python's full garbage collections
            (``gc.freeze()`` after a slow one, after a load, and around a replacement:
            docs/server.md "Latency as the state grows"), so that a large state does not
            pause calls for a time that grows with it (0.9 s at 500,000 objects without).
            Process-wide: for a process that serves only this app, as ``apfsm serve``
            does; off by default (a test process's fixtures).

    Returns:
        The Starlette application.

    Raises:
        ImportError: the ``server`` extra is not installed (the message says how to).
        ValueError: a public key that is not an RSA PEM key, a notify URL that is not
            http(s), bad retry settings, a state file apfsm refuses (corrupt, another
            application's, a newer schema: the message names the file), or both
            a simulator and an existing state file.
        OSError: the public key or state file cannot be read.
    """
    _require_extra()
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.routing import Route

    if simulator is not None and not isinstance(simulator, Simulator):
        raise TypeError(f"simulator must be an apfsm.Simulator, got {type(simulator).__name__}")
    for name, cap in (
        ("max_call_log", max_call_log),
        ("max_idempotency_keys", max_idempotency_keys),
        ("max_notifications", max_notifications),
    ):
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {cap!r}")

    def retain(sim: Simulator) -> None:
        sim.retain(
            call_log=max_call_log,
            idempotency_keys=max_idempotency_keys,
            notifications=max_notifications,
        )

    state_file = None if state is None else Path(state)
    durable = None
    state_note = None
    if state_file is not None:
        if not state_file.parent.is_dir():
            raise ValueError(
                f"the state file's directory {str(state_file.parent)!r} does not exist"
            )
        if simulator is not None and state_file.exists() and state_file.stat().st_size:
            raise ValueError(
                f"state file {str(state_file)!r} exists: it is restored, so pass no simulator"
            )
        given = simulator
        simulator, durable, state_note = _open_state(
            state_file,
            lambda: given if given is not None else Simulator(seed=seed),
            checkpoint_every=checkpoint_every,
            retain=retain,
        )
    if simulator is None:
        simulator = Simulator(seed=seed)
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
    if control_token is not None and (not isinstance(control_token, str) or not control_token):
        raise ValueError("control_token must be a non-empty string")
    verifier = None
    if public_key is not None:
        verifier = _Verifier(
            _load_public_key(public_key), key_id=public_key_id, max_skew=max_clock_skew
        )
    retain(simulator)
    heap = None
    if gc_freeze:
        heap = _heap_freezer()
        heap.install()
        heap.loaded()  # the state just loaded (or made): collected, and frozen if large
    shared = _State(
        simulator, verifier, notifier, state_file, seed, durable, retain=retain, heap=heap
    )
    shared.control_token = control_token
    if notifier is not None and durable is not None:
        notifier.finished = durable.ipn_finished
        for envelope in durable.ipn_pending():  # not delivered before the restart
            notifier.submit(envelope)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if shared.notifier is not None:
            shared.notifier.stop()
        shared.close()

    async def document(request: Request) -> HttpResponse:
        return _json_response(200, openapi(shared.simulator.limits))

    async def http_error(request: Request, exc: Exception) -> HttpResponse:
        # A control path or the document with a method it does not take: answered like
        # the API would (SPEC §8), not with Starlette's plain text.
        assert isinstance(exc, HTTPException)
        code = "RequestNotSupported" if exc.status_code == 405 else "ResourceNotFound"
        allow = (exc.headers or {}).get("Allow")
        use = f"; use {allow}" if allow else ""
        response = _error_response(
            ApiError.from_code(
                code, f"{request.method} is not supported on {request.url.path}{use}"
            )
        )
        response.headers.update(exc.headers or {})  # a 405's Allow (RFC 9110 §15.5.6)
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
    app.state.state_note = state_note  # what the state file held (``serve`` prints it)
    shared.app_state = app.state
    return app
