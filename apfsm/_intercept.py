"""Amazon Pay in process, under unchanged client code: ``mock_amazon_pay()``.

moto's users write ``@mock_aws`` and their boto3 code runs unchanged; this is that for
Amazon Pay. Inside ``mock_amazon_pay()`` every request to Amazon Pay's API hosts made
with ``requests`` (the ``AmazonPayClient`` package, and any client built on it) or with
``httpx`` is answered by apfsm's server application — signature checks, wire format,
routes, the simulator — called in process: no socket is opened, nothing listens. Requests
to any other host go out as usual.

``requests`` is intercepted with the ``responses`` library and ``httpx`` with ``respx``
(each only when installed); the server application runs on an event loop in a thread of
its own, so code already inside an event loop can use it too.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import attrs

from apfsm._errors import ApiError
from apfsm._extras import missing_extra
from apfsm._sim import Simulator

__all__ = ["AMAZON_PAY_HOSTS", "AmazonPayMock", "Exchange", "mock_amazon_pay"]

# apfsm.server's DEFAULT_MAX_CLOCK_SKEW (not imported: the server's packages load lazily);
# tests/test_intercept.py checks the two agree.
_MAX_CLOCK_SKEW = timedelta(minutes=15)

#: The API hosts of Amazon Pay's three regions (North America, Europe, Japan).
AMAZON_PAY_HOSTS: tuple[str, ...] = ("pay-api.amazon.com", "pay-api.amazon.eu", "pay-api.amazon.jp")


@attrs.frozen
class Exchange:
    """One intercepted request and apfsm's answer."""

    method: str
    url: str
    status: int


class AmazonPayMock(contextlib.ContextDecorator):
    """What ``mock_amazon_pay()`` returns: a context manager (and decorator) that serves
    Amazon Pay's hosts from ``simulator`` while it is active.

    Attributes:
        simulator: the simulator answering the calls: move its clock, act as the buyer or
            Amazon (``advance``, ``buyer_approve``, ``amazon_event``...), read its state.
        exchanges: every intercepted request, in order, with the status answered.
    """

    def __init__(
        self,
        simulator: Simulator | None = None,
        *,
        public_key: str | bytes | os.PathLike[str] | None = None,
        public_key_id: str | None = None,
        max_clock_skew: timedelta | None = _MAX_CLOCK_SKEW,
        hosts: Sequence[str] = AMAZON_PAY_HOSTS,
        seed: int | str | None = None,
    ) -> None:
        if simulator is not None and not isinstance(simulator, Simulator):
            raise TypeError(f"simulator must be an apfsm.Simulator, not {type(simulator)!r}")
        if not hosts or not all(isinstance(h, str) and h for h in hosts):
            raise ValueError("hosts must name at least one host")
        self.simulator = simulator if simulator is not None else Simulator(seed=seed)
        self.public_key = public_key
        self.public_key_id = public_key_id
        self.max_clock_skew = max_clock_skew
        self.hosts = tuple(hosts)
        self.exchanges: list[Exchange] = []
        self._stack: contextlib.ExitStack | None = None

    # -- the context manager -------------------------------------------------------------

    def __enter__(self) -> AmazonPayMock:
        if self._stack is not None:
            raise RuntimeError("this mock_amazon_pay() is already active")
        try:
            from anyio.from_thread import start_blocking_portal  # noqa: PLC0415

            from apfsm.server import create_app  # noqa: PLC0415
        except ImportError as missing:
            raise missing_extra("mock", "apfsm.testing.mock_amazon_pay", missing) from None
        app = create_app(
            self.simulator,
            public_key=self.public_key,
            public_key_id=self.public_key_id,
            max_clock_skew=self.max_clock_skew,
        )
        stack = contextlib.ExitStack()
        self._raised: BaseException | None = None
        self._watch_failures(stack)
        try:
            portal = stack.enter_context(start_blocking_portal())
            self._app, self._portal = app, portal
            patched = [self._patch_requests(stack), self._patch_httpx(stack)]
            if not any(patched):
                raise missing_extra(
                    "mock",
                    "apfsm.testing.mock_amazon_pay",
                    ImportError("neither responses nor respx is installed", name="responses"),
                )
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    # -- answering -------------------------------------------------------------------------

    def answer(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request as Amazon Pay (apfsm's server application, in process)."""
        parts = urlsplit(url)
        host = parts.netloc
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if not any(k == b"host" for k, _ in raw_headers):
            raw_headers.append((b"host", host.encode("latin-1")))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": parts.scheme or "https",
            "path": parts.path or "/",
            "raw_path": (parts.path or "/").encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 0),
            "server": (parts.hostname or host, parts.port or 443),
        }
        status, out_headers, content = self._portal.call(_call_asgi, self._app, scope, body)
        self.exchanges.append(Exchange(method.upper(), url, status))
        raised, self._raised = self._raised, None
        if raised is not None:
            # Not an API answer: a failure the simulator raised (strict mode's
            # IntegrationError, say) reaches the caller's line, not a 500 in its place.
            raise raised
        return status, out_headers, content

    def _watch_failures(self, stack: contextlib.ExitStack) -> None:
        simulator = self.simulator
        request = simulator.request

        def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                return request(*args, **kwargs)
            except ApiError:
                raise
            except Exception as failure:
                self._raised = failure
                raise

        simulator.request = watched  # type: ignore[method-assign]
        stack.callback(lambda: vars(simulator).pop("request", None))

    def _matches(self, url: str) -> bool:
        return urlsplit(url).hostname in self.hosts

    def _patch_requests(self, stack: contextlib.ExitStack) -> bool:
        try:
            import responses  # noqa: PLC0415
        except ImportError:
            return False
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        pattern = re.compile(
            r"^https?://(?:" + "|".join(re.escape(h) for h in self.hosts) + r")(?::\d+)?(?:/|$)"
        )

        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode("utf-8")
            status, headers, content = self.answer(
                request.method, request.url, list(request.headers.items()), bytes(body)
            )
            return status, dict(headers), content

        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            mock.add_callback(method, pattern, callback=callback, content_type=None)
        mock.add_passthru(re.compile(r"^(?!" + pattern.pattern[1:] + r")"))
        stack.enter_context(mock)
        return True

    def _patch_httpx(self, stack: contextlib.ExitStack) -> bool:
        try:
            import httpx  # noqa: PLC0415
            import respx  # noqa: PLC0415
        except ImportError:
            return False
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=False)

        def side_effect(request: Any) -> Any:
            status, headers, content = self.answer(
                request.method,
                str(request.url),
                list(request.headers.multi_items()),
                request.read(),
            )
            return httpx.Response(status, headers=headers, content=content)

        router.route(host__in=tuple(self.hosts)).mock(side_effect=side_effect)
        router.route().pass_through()
        stack.enter_context(router)
        return True


async def _call_asgi(
    app: Any, scope: dict[str, Any], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    sent = False
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return int(start.get("status", 500)), headers, b"".join(chunks)


def mock_amazon_pay(
    simulator: Simulator | None = None,
    *,
    public_key: str | bytes | os.PathLike[str] | None = None,
    public_key_id: str | None = None,
    max_clock_skew: timedelta | None = _MAX_CLOCK_SKEW,
    hosts: Sequence[str] = AMAZON_PAY_HOSTS,
    seed: int | str | None = None,
) -> AmazonPayMock:
    """Serve Amazon Pay's API hosts from an in-process simulator, under unchanged code.

    Use it as a context manager (``with mock_amazon_pay() as amazon:``), as a decorator
    (``@mock_amazon_pay()``), or through the pytest fixture ``apfsm_mock``. Inside, calls
    that ``requests`` (``AmazonPayClient``) or ``httpx`` make to ``hosts`` are answered by
    apfsm, with Amazon's status codes and JSON; ``amazon.simulator`` is the simulator.

    Args:
        simulator: the simulator to serve (a new one by default).
        public_key: verify every request's signature with this RSA public key (PEM text,
            bytes or a PEM file's path), as Amazon does with the key you registered;
            without it, unsigned requests are accepted too.
        public_key_id: the ``PublicKeyId`` that key is registered under: a request naming
            another is refused (``InvalidRequestSignature``); None: any.
        max_clock_skew: how old a signed request's ``x-amz-pay-date`` may be by the wall
            clock — what the SDKs sign with, not the simulator's clock — before it is
            refused (``InvalidHeaderValue``, as is a date in the future); None: not checked.
        hosts: the hosts to intercept (Amazon Pay's three regions by default).
        seed: the ids' seed of the default simulator.

    Raises:
        ImportError: neither ``responses`` nor ``respx`` is installed, or the server
            extra is missing (``pip install "apfsm[mock]"``) — when the mock is entered.
        ValueError: a public key that is not an RSA PEM key (when entered), empty hosts.
    """
    return AmazonPayMock(
        simulator,
        public_key=public_key,
        public_key_id=public_key_id,
        max_clock_skew=max_clock_skew,
        hosts=hosts,
        seed=seed,
    )
