"""Run the corpus's wire cases through the HTTP server (one in-process app per kind, reset
between cases): headers, idempotency, signatures, paths, status codes, JSON types."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm.server import create_app
from tests.server.serverhelpers import new_key, public_pem, signed_headers
from tests.simhelpers import make_sim

from .cases import Case
from .test_corpus import _body, _params, check_answer, check_notifications, check_then, setup

KEY = "x-amz-pay-idempotency-key"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def plain() -> Iterator[TestClient]:
    with TestClient(create_app(make_sim())) as client:
        yield client


@pytest.fixture(scope="module")
def signed(key: rsa.RSAPrivateKey) -> Iterator[TestClient]:
    with TestClient(create_app(make_sim(), public_key=public_pem(key))) as client:
        yield client


def _fresh(client: TestClient) -> Simulator:
    assert 200 == client.post("/_apfsm/reset").status_code
    sim = client.app.state.simulator  # type: ignore[attr-defined]
    assert isinstance(sim, Simulator)
    return sim


def _content(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def _sign(
    key: rsa.RSAPrivateKey, how: str, method: str, url: str, content: bytes, extra: dict[str, str]
) -> dict[str, str]:
    """Headers for one of the signing variants the cases name."""
    path, _, query = url.partition("?")
    canonical_query = "&".join(sorted(query.split("&"))) if query else ""
    if how in ("v2", "query", "tamper-body", "no-authorization"):
        headers = signed_headers(key, method, path, content, query=canonical_query, headers=extra)
    elif how == "v1":
        headers = signed_headers(
            key, method, path, content, headers=extra, algorithm="AMZN-PAY-RSASSA-PSS"
        )
    elif how == "v2-salt-20":
        headers = signed_headers(key, method, path, content, headers=extra, salt=20)
    elif how == "other-key":
        headers = signed_headers(new_key(), method, path, content, headers=extra)
    else:
        raise AssertionError(how)
    if how == "no-authorization":
        del headers["authorization"]
    return headers


@pytest.mark.parametrize("case", _params(wire=True))
def test_wire(case: Case, plain: TestClient, signed: TestClient, key: rsa.RSAPrivateKey) -> None:
    assert case.wire is not None
    client = signed if case.signed else plain
    sim = _fresh(client)
    ids = setup(sim, case.setup)
    seen = len(sim.notifications)
    if case.after:
        sim.advance(case.after)
    method, template = case.wire
    url = template.format(**ids)
    content = _content(_body(case.body, ids))
    extra: dict[str, str] = {}
    if method in ("POST", "PATCH", "DELETE"):
        extra[KEY] = f"corpus-{case.id}"[:32].replace("-", "")
    if case.simulation_code is not None:
        extra["x-amz-pay-simulation-code"] = case.simulation_code
    for name, value in case.headers:
        if value is None:
            extra.pop(name, None)
        else:
            extra[name] = value

    def send(body: bytes) -> tuple[int, Any]:
        if case.signed is None:
            headers = {"content-type": "application/json", **extra}
        elif case.signed == "tamper-then-good":
            headers = signed_headers(key, method, url, body, headers=extra)
        else:
            headers = _sign(key, case.signed, method, url, body, extra)
        if case.signed == "tamper-body":
            body = body.replace(b"100.00", b"100.01")
        if case.signed == "tamper-then-good":
            bad = client.request(method, url, content=body + b" ", headers=headers)
            assert 403 == bad.status_code, bad.text
        answer = client.request(method, url, content=body, headers=headers)
        assert "application/json" == answer.headers["content-type"]
        return answer.status_code, answer.json()

    status, got = send(content)
    if case.repeat is not None:
        first = (status, got)
        objects = len(sim)
        status, got = send(_content(_body(case.repeat, ids)))
        if case.expect.get("replay"):
            assert first == (status, got)
            assert objects == len(sim)
    check_answer(case.expect, status, got, ids)
    sim.settle()
    check_notifications(case.expect, sim.notifications[seen:], ids)
    check_then(case.expect, sim, ids)
