"""Running the app: a TLS certificate, a listening socket, a background thread for tests
(``running``), the foreground server of ``apfsm serve`` (``serve``)."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from apfsm._clock import ManualClock, format_timestamp, require_aware
from apfsm._sim import Simulator

from ._app import _require_extra, create_app
from ._routes import _CONTROL, _OPENAPI_PATH
from ._wire import MAX_CALL_LOG, MAX_IDEMPOTENCY_KEYS

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
    seed: int | str | None = None,
    start: datetime | None = None,
    access_log: bool = True,
    out: TextIO | None = None,
    max_call_log: int | None = MAX_CALL_LOG,
    max_idempotency_keys: int | None = MAX_IDEMPOTENCY_KEYS,
) -> None:
    """Run the server until interrupted (``apfsm serve``).

    Prints where it listens (the real port when ``port`` is 0) and how it is set up, then
    serves with uvicorn. Ctrl-C or SIGTERM shuts it down gracefully (which checkpoints
    ``state``; a ``kill -9`` loses nothing acknowledged either).

    Args:
        host: the address to listen on.
        port: the port (0: a free one).
        tls: serve HTTPS with a self-signed certificate generated at start (its path is
            printed: trust it, or tell your client to skip verification).
        public_key: a PEM file: verify request signatures with it.
        notify_url: deliver IPN notifications there.
        state: a durable state file (SQLite), resumed at start when it exists.
        seed: make the ids from it (the same seed, the same ids; random by default).
        start: the simulated clock's first instant (aware; default: now, to the second);
            only for a new state (a state file resumes its own clock).
        access_log: a line per request on stdout (uvicorn's access log).
        out: where the start-up lines go (stdout by default).
        max_call_log: keep about the newest this many call-log records (None: all).
        max_idempotency_keys: keep the newest this many idempotency keys (None: all).

    Raises:
        ImportError: the ``server`` extra is not installed.
        ValueError, OSError: as ``create_app``; or the address cannot be listened on.
    """
    _require_extra()
    import uvicorn

    out = sys.stdout if out is None else out
    simulator = None
    if start is not None:
        if state is not None and Path(state).exists():
            raise ValueError(
                f"--start applies to a new state; {state} exists and resumes its own clock"
            )
        simulator = Simulator(ManualClock(require_aware(start, "start")), seed=seed)
    app = create_app(
        simulator,
        public_key=public_key,
        notify_url=notify_url,
        state=state,
        seed=seed,
        max_call_log=max_call_log,
        max_idempotency_keys=max_idempotency_keys,
    )
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
            f"ids: seed {sim.seed}" + (" (random: pass --seed to repeat)" if seed is None else ""),
        ]
        if notify_url:
            lines.append(f"IPN notifications: POSTed to {notify_url}")
        if not _loopback(host):
            lines.append(
                f"WARNING: listening on {host}, beyond this machine: the control API "
                f"({_CONTROL}/...: reset, snapshots, the clock) answers anyone who can reach it"
            )
        if state is not None:
            lines.append(
                f"state: {state} ({app.state.state_note}; {len(sim)} objects; every change "
                "committed before it is answered)"
            )
        out.write("\n".join(lines) + "\n")
        out.flush()
        config = uvicorn.Config(app, log_level="info", access_log=access_log, **ssl)
        uvicorn.Server(config).run(sockets=[sock])


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: only "localhost" is known to stay local
        return False
