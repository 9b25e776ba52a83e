"""Helpers for server tests: an independent request signer, an IPN receiver, bodies."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.simhelpers import price, session_body

__all__ = [
    "Receiver",
    "new_key",
    "price",
    "private_pem",
    "public_pem",
    "receiver",
    "session_body",
    "signed_headers",
    "until",
    "wall_date",
]

SALT = {"AMZN-PAY-RSASSA-PSS": 20, "AMZN-PAY-RSASSA-PSS-V2": 32}


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def wall_date(offset: timedelta = timedelta(0)) -> str:
    """An ``x-amz-pay-date`` for now by the wall clock, plus ``offset``."""
    return (datetime.now(UTC) + offset).strftime("%Y%m%dT%H%M%SZ")


def signed_headers(
    key: rsa.RSAPrivateKey,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    algorithm: str = "AMZN-PAY-RSASSA-PSS-V2",
    salt: int | None = None,
    date: str | None = None,
    key_id: str = "SANDBOX-TEST",
) -> dict[str, str]:
    """Sign a request as the official Node SDK does (written from its source, independently
    of apfsm.server): every header it sends, lower-cased and sorted, is signed.

    ``date`` is the ``x-amz-pay-date`` sent: now by the wall clock (as the SDKs sign) unless
    given."""
    if date is None:
        date = wall_date()
    sent = {
        "accept": "application/json",
        "content-type": "application/json",
        "x-amz-pay-date": date,
        "x-amz-pay-host": "pay-api.amazon.com",
        "x-amz-pay-region": "na",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    names = sorted(sent)
    canonical = f"{method}\n{path}\n{query}\n"
    canonical += "".join(f"{name}:{sent[name]}\n" for name in names)
    canonical += "\n" + ";".join(names) + "\n" + hashlib.sha256(body).hexdigest()
    to_sign = algorithm + "\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = key.sign(
        to_sign.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt or SALT[algorithm]),
        hashes.SHA256(),
    )
    sent["authorization"] = (
        f"{algorithm} PublicKeyId={key_id}, SignedHeaders={';'.join(names)}, "
        f"Signature={base64.b64encode(signature).decode()}"
    )
    return sent


class Receiver:
    """What an IPN endpoint received: (headers, body text) per POST, in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []
        self.attempts = 0
        self.cond = threading.Condition()
        #: Answer 500 to this many POSTs first (to exercise retries).
        self.fail_first = 0
        #: When set, each POST waits for it before answering.
        self.gate: threading.Event | None = None
        self.url = ""

    def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[dict[str, str], str]]:
        """Block until ``count`` envelopes arrived (the bound only guards against a hang)."""
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.received) >= count, timeout), (
                f"{len(self.received)} of {count} notifications arrived"
            )
            return list(self.received)

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(json.loads(body)["Message"]) for _, body in self.received]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """An HTTP endpoint on a free loopback port that records IPN POSTs."""
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            if state.gate is not None:
                state.gate.wait(30)
            with state.cond:
                state.attempts += 1
                failing = state.attempts <= state.fail_first
                if not failing:
                    state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                state.cond.notify_all()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/ipn"
    try:
        yield state
    finally:
        if state.gate is not None:
            state.gate.set()
        server.shutdown()
        server.server_close()


def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for ``predicate`` (a background thread's work); the bound only guards a hang."""
    event = threading.Event()
    for _ in range(int(timeout * 100)):
        if predicate():
            return
        event.wait(0.01)
    raise AssertionError("condition not reached")
