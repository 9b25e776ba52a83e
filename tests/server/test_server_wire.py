"""Wire details of the API over HTTP: JSON-number amounts read exactly (SPEC §1 rev 2),
which POSTs need an idempotency key (SPEC §7) and MissingHeader vs MissingHeaderValue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from apfsm import ERRORS, Simulator
from apfsm.server import create_app
from tests.simhelpers import make_sim, session_body


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    with TestClient(create_app(sim)) as test_client:
        yield test_client


def post(
    client: TestClient, path: str, raw: bytes, key: str | None = "k"
) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-amz-pay-idempotency-key"] = key
    answer = client.post(f"/v2{path}", content=raw, headers=headers)
    return answer.status_code, answer.json()


def code(answer: tuple[int, dict[str, Any]]) -> str:
    status, body = answer
    assert {"reasonCode", "message"} == set(body), body
    assert ERRORS[body["reasonCode"]].http_status == status
    return str(body["reasonCode"])


def _charge_permission(client: TestClient, amount: str = "100.00") -> str:
    status, session = post(
        client, "/checkoutSessions", json.dumps(session_body(amount, intent="Confirm")).encode()
    )
    assert 201 == status, session
    sid = session["checkoutSessionId"]
    assert 200 == client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid}).status_code
    raw = b'{"chargeAmount":{"amount":' + amount.encode() + b',"currencyCode":"USD"}}'
    status, done = post(client, f"/checkoutSessions/{sid}/complete", raw, key="c1")
    assert 200 == status, done
    return str(done["chargePermissionId"])


# ---------------------------------------------------------------------------------------
# SPEC §1 rev 2: amounts as JSON numbers, read from their text (no binary float)
# ---------------------------------------------------------------------------------------


def test_a_json_number_amount_is_read_exactly(client: TestClient, sim: Simulator) -> None:
    cp = _charge_permission(client)
    raw = b'{"chargePermissionId":"' + cp.encode() + b'","chargeAmount":{"amount":12.99,'
    raw += b'"currencyCode":"USD"}}'
    status, charge = post(client, "/charges", raw, key="n1")
    assert 201 == status, charge
    # Answers carry amounts as strings (SPEC §1); the log and snapshots too.
    assert {"amount": "12.99", "currencyCode": "USD"} == charge["chargeAmount"]
    logged = sim.log[-1].request
    assert {"amount": "12.99", "currencyCode": "USD"} == logged["chargeAmount"]
    assert '"12.99"' in json.dumps(sim.snapshot())


@pytest.mark.parametrize(
    "amount",
    [
        b"12.990000000000000001",  # a float would read 12.99: proof no float is involved
        b"0.30000000000000004",
        b"1e2",
        b"1E+2",
        b"-1",
        b"0",
        b"true",
        b"null",
        b'"12.999"',
    ],
)
def test_a_wrong_json_number_amount_is_invalid_parameter_value(
    client: TestClient, sim: Simulator, amount: bytes
) -> None:
    cp = _charge_permission(client)
    before = sim.state_fingerprint()
    raw = b'{"chargePermissionId":"' + cp.encode() + b'","chargeAmount":{"amount":'
    raw += amount + b',"currencyCode":"USD"}}'
    assert "InvalidParameterValue" == code(post(client, "/charges", raw, key="w1"))
    assert before == sim.state_fingerprint()


def test_integer_amounts_and_frequency_values(client: TestClient) -> None:
    body = session_body("100.00", kind="Recurring")
    body["recurringMetadata"]["frequency"]["value"] = 1
    body["paymentDetails"]["chargeAmount"]["amount"] = 100
    status, session = post(client, "/checkoutSessions", json.dumps(body).encode())
    assert 201 == status, session
    # Echoed as a string, as the same amount sent as "100" would be.
    assert {"amount": "100", "currencyCode": "USD"} == session["paymentDetails"]["chargeAmount"]
    assert {"unit": "Month", "value": "1"} == session["recurringMetadata"]["frequency"]


def test_idempotent_replay_sees_a_number_and_its_string_as_one_request(
    client: TestClient, sim: Simulator
) -> None:
    cp = _charge_permission(client)
    head = b'{"chargePermissionId":"' + cp.encode() + b'","chargeAmount":{"amount":'
    first = post(client, "/charges", head + b'10.5,"currencyCode":"USD"}}', key="r1")
    again = post(client, "/charges", head + b'"10.5","currencyCode":"USD"}}', key="r1")
    assert 201 == first[0]
    assert first == again
    assert 1 == len(sim.object_ids("Charge"))
