"""Bounded input (issue 16 item 2, part): a request body over ``MAX_BODY_BYTES`` is refused
unread and kept nowhere; JSON nested deeper than ``MAX_JSON_DEPTH`` is refused before it is
parsed — both ``InvalidRequestFormat`` 400, nothing changed (Decisions: Amazon's limits are
not documented; its bodies are a few kilobytes, four levels deep)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm.server import create_app
from apfsm.server._wire import MAX_BODY_BYTES, MAX_JSON_DEPTH, _too_deep
from tests.simhelpers import make_sim

HEADERS = {"content-type": "application/json", "x-amz-pay-idempotency-key": "k-1"}


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    with TestClient(create_app(sim)) as test_client:
        yield test_client


def test_an_oversized_body_is_refused_unread(client: TestClient, sim: Simulator) -> None:
    before = sim.state_fingerprint()
    body = b'{"storeId": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    answer = client.post("/v2/checkoutSessions", content=body, headers=HEADERS)
    assert (400, "InvalidRequestFormat") == (answer.status_code, answer.json()["reasonCode"])
    assert str(MAX_BODY_BYTES) in answer.json()["message"]
    assert before == sim.state_fingerprint()
    assert [] == list(sim.log)  # not even logged


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 600, 50_000])
def test_deep_json_is_refused_before_parsing(
    client: TestClient, sim: Simulator, depth: int
) -> None:
    before = sim.state_fingerprint()
    body = '{"merchantMetadata": ' + "[" * depth + "]" * depth + "}"
    answer = client.post("/v2/checkoutSessions", content=body, headers=HEADERS)
    assert (400, "InvalidRequestFormat") == (answer.status_code, answer.json()["reasonCode"])
    assert before == sim.state_fingerprint()


def test_the_depth_scan_skips_strings_and_allows_the_limit() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert not _too_deep(at_limit)
    assert _too_deep("[" + at_limit + "]")
    assert not _too_deep('{"a": "' + "[" * 500 + '"}')  # brackets inside a string
    assert not _too_deep('{"a": "\\\\", "b": [[]]}')  # an escaped backslash ends fine


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("", False), ("192.0.2.1", False), ("shop.example", False)],
)  # fmt: skip
def test_a_non_loopback_address_is_flagged(host: str, local: bool) -> None:
    # apfsm serve prints a warning for these: its control API has no authentication.
    from apfsm.server._run import _loopback

    assert local == _loopback(host)
