"""Running the app: a TLS certificate, a listening socket, a background thread for tests
(``running``), the foreground server of ``apfsm serve`` (``serve``)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from apfsm._clock import (
    EARLIEST,
    LATEST,
    ManualClock,
    format_duration,
    format_timestamp,
    require_aware,
)
from apfsm._sim import Simulator

from ._app import _require_extra, create_app
from ._routes import _CONTROL, _OPENAPI_PATH
from ._signatures import DEFAULT_MAX_CLOCK_SKEW
from ._wire import MAX_CALL_LOG, MAX_IDEMPOTENCY_KEYS, MAX_NOTIFICATIONS

if TYPE_CHECKING:
    from starlette.applications import Starlette


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
    _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    _write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return cert_path, key_path


def _write_private(path: Path, data: bytes) -> None:
    """Write a new file only its owner can read: created 0600, never readable for a moment
    (``O_EXCL``: a file planted there beforehand is an error, not overwritten)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


@contextlib.contextmanager
def _tls_material(host: str, prefix: str) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate and its key in a private temporary directory (mode 0700,
    files 0600), removed when the block ends — by an error or a signal too."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        directory = Path(name)
        directory.chmod(0o700)  # mkdtemp's mode already; said, not assumed
        yield _self_signed(directory, host)


class _Stopped(BaseException):
    """SIGTERM or SIGINT arrived while ``serve`` was starting or stopping: unwind (so the
    TLS directory is removed), then let the signal act as it would have."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _cleanup_before_signals() -> Iterator[None]:
    """Let SIGTERM and SIGINT unwind ``serve``'s block before they act.

    uvicorn handles both while it serves, shuts down gracefully, then raises the signal
    again with the handler found at its start: by default a SIGTERM would then end the
    process on the spot, before any ``finally`` ran, leaving the TLS key behind. Here the
    handler found is one that unwinds the block first; after it the signal is raised again
    with the handler that was there before, so the exit looks the same to whoever sent it.
    Outside the main thread (no signal handlers there) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def unwind(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signum)

    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.signal(signum, unwind) for signum in signals}
    stopped = None
    try:
        yield
    except _Stopped as caught:
        stopped = caught.signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopped is not None:
        signal.raise_signal(stopped)


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
            cert, key = stack.enter_context(_tls_material(host, "apfsm-"))
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
    public_key_id: str | None = None,
    max_clock_skew: timedelta | None = DEFAULT_MAX_CLOCK_SKEW,
    control_token: str | None = None,
    notify_url: str | None = None,
    state: str | os.PathLike[str] | None = None,
    seed: int | str | None = None,
    start: datetime | None = None,
    access_log: bool = True,
    out: TextIO | None = None,
    max_call_log: int | None = MAX_CALL_LOG,
    max_idempotency_keys: int | None = MAX_IDEMPOTENCY_KEYS,
    max_notifications: int | None = MAX_NOTIFICATIONS,
) -> None:
    """Run the server until interrupted (``apfsm serve``).

    Prints where it listens (the real port when ``port`` is 0) and how it is set up, then
    serves with uvicorn. Ctrl-C or SIGTERM shuts it down gracefully (which checkpoints
    ``state``; a ``kill -9`` loses nothing acknowledged either) and removes the TLS
    material, as does an error at start-up.

    Args:
        host: the address to listen on.
        port: the port (0: a free one).
        tls: serve HTTPS with a self-signed certificate generated at start (its path is
            printed: trust it, or tell your client to skip verification).
        public_key: a PEM file: verify request signatures with it.
        public_key_id: the ``PublicKeyId`` it is registered under (None: any).
        max_clock_skew: how old a signed ``x-amz-pay-date`` may be by the wall clock
            (None: not compared).
        control_token: the token the control endpoints need (None: they are open).
        notify_url: deliver IPN notifications there.
        state: a durable state file (SQLite), resumed at start when it exists.
        seed: make the ids from it (the same seed, the same ids; random by default).
        start: the simulated clock's first instant (aware; default: now, to the second);
            only for a new state (a state file resumes its own clock).
        access_log: a line per request on stdout (uvicorn's access log).
        out: where the start-up lines go (stdout by default).
        max_call_log: keep about the newest this many call-log records (None: all).
        max_idempotency_keys: keep the newest this many idempotency keys (None: all).
        max_notifications: keep the newest this many IPN notifications (None: all).

    Raises:
        ImportError: the ``server`` extra is not installed.
        ValueError, OSError: as ``create_app``; or the address cannot be listened on.
    """
    _require_extra()
    with _cleanup_before_signals():
        _serve(
            host=host,
            port=port,
            tls=tls,
            public_key=public_key,
            public_key_id=public_key_id,
            max_clock_skew=max_clock_skew,
            control_token=control_token,
            notify_url=notify_url,
            state=state,
            seed=seed,
            start=start,
            access_log=access_log,
            out=sys.stdout if out is None else out,
            max_call_log=max_call_log,
            max_idempotency_keys=max_idempotency_keys,
            max_notifications=max_notifications,
        )


def _serve(
    *,
    host: str,
    port: int,
    tls: bool,
    public_key: str | os.PathLike[str] | None,
    public_key_id: str | None,
    max_clock_skew: timedelta | None,
    control_token: str | None,
    notify_url: str | None,
    state: str | os.PathLike[str] | None,
    seed: int | str | None,
    start: datetime | None,
    access_log: bool,
    out: TextIO,
    max_call_log: int | None,
    max_idempotency_keys: int | None,
    max_notifications: int | None,
) -> None:
    import uvicorn

    simulator = None
    if start is not None:
        if state is not None and Path(state).exists():
            raise ValueError(
                f"--start applies to a new state; {state} exists and resumes its own clock"
            )
        start = require_aware(start, "start")
        if not EARLIEST <= start < LATEST:  # else the first deadline overflows (a 500)
            raise ValueError(
                f"--start {start.isoformat()} is not between the years "
                f"{EARLIEST.year} and {LATEST.year - 1}"
            )
        simulator = Simulator(ManualClock(start), seed=seed)
    app = create_app(
        simulator,
        public_key=public_key,
        public_key_id=public_key_id,
        max_clock_skew=max_clock_skew,
        control_token=control_token,
        notify_url=notify_url,
        state=state,
        seed=seed,
        max_call_log=max_call_log,
        max_idempotency_keys=max_idempotency_keys,
        max_notifications=max_notifications,
        gc_freeze=True,  # this process serves only this app (docs/server.md)
    )
    with contextlib.ExitStack() as stack:
        ssl: dict[str, Any] = {}
        lines = []
        if tls:
            cert, key = stack.enter_context(_tls_material(host, "apfsm-tls-"))
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
            f"signatures: {_signature_line(public_key, public_key_id, max_clock_skew)}",
            "control: "
            + (
                "needs Authorization: Bearer <the control token>"
                if control_token
                else "open (no --control-token)"
            ),
            f"ids: seed {sim.seed}" + (" (random: pass --seed to repeat)" if seed is None else ""),
        ]
        if notify_url:
            lines.append(f"IPN notifications: POSTed to {notify_url}")
        warning = _exposure_warning(host, control_token)
        if warning is not None:
            lines.append(warning)
        if state is not None:
            lines.append(
                f"state: {state} ({app.state.state_note}; {len(sim)} objects; every change "
                "committed before it is answered)"
            )
        out.write("\n".join(lines) + "\n")
        out.flush()
        config = uvicorn.Config(app, log_level="info", access_log=access_log, **ssl)
        uvicorn.Server(config).run(sockets=[sock])


def _exposure_warning(host: str, control_token: str | None) -> str | None:
    """The start-up warning for a control API open beyond this machine, or None."""
    if _loopback(host) or control_token:
        return None
    return (
        f"WARNING: listening on {host}, beyond this machine: the control API "
        f"({_CONTROL}/...: reset, snapshots, the clock) answers anyone who can reach "
        "it; --control-token TOKEN (or APFSM_CONTROL_TOKEN) protects it"
    )


def _signature_line(
    public_key: str | os.PathLike[str] | None,
    public_key_id: str | None,
    max_clock_skew: timedelta | None,
) -> str:
    if not public_key:
        return "not checked"
    key_id = f"PublicKeyId {public_key_id}" if public_key_id else "any PublicKeyId"
    if max_clock_skew is None:
        dates = "x-amz-pay-date not compared with the clock"
    else:
        dates = (
            f"x-amz-pay-date at most {format_duration(max_clock_skew)} old by this machine's "
            "clock, never in the future"
        )
    return f"verified with {public_key} ({key_id}; {dates})"


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: only "localhost" is known to stay local
        return False
