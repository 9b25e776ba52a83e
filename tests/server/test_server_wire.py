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


# ---------------------------------------------------------------------------------------
# SPEC §7 vs the SDKs: which POSTs need an idempotency key
# ---------------------------------------------------------------------------------------


def test_the_creates_and_capture_need_an_idempotency_key() -> None:
    # amzn/amazon-pay-api-sdk-nodejs README: the key is required on createCheckoutSession,
    # createCharge, captureCharge and createRefund.
    from apfsm import OPERATIONS

    needing = {name for name, op in OPERATIONS.items() if op.requires_idempotency_key}
    assert {
        "create_checkout_session",
        "create_charge",
        "capture_charge",
        "create_refund",
    } <= needing
    assert "complete_checkout_session" not in needing
    assert all(OPERATIONS[name].method == "POST" for name in needing)


@pytest.mark.parametrize(
    "path", ["/checkoutSessions", "/charges", "/charges/x/capture", "/refunds"]
)
def test_a_keyless_create_or_capture_is_missing_header(client: TestClient, path: str) -> None:
    assert "MissingHeader" == code(post(client, path, b"{not json", key=None))


def test_complete_without_a_key_is_processed(client: TestClient, sim: Simulator) -> None:
    # The official SDKs send no key on completeCheckoutSession: amzn/amazon-pay-api-sdk-nodejs
    # src/client.js completeCheckoutSession, amzn/amazon-pay-api-sdk-php
    # Amazon/Pay/API/Client.php completeCheckoutSession.
    status, session = post(client, "/checkoutSessions", json.dumps(session_body()).encode())
    sid = session["checkoutSessionId"]
    client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
    raw = json.dumps({"chargeAmount": {"amount": "100.00", "currencyCode": "USD"}}).encode()
    status, done = post(client, f"/checkoutSessions/{sid}/complete", raw, key=None)
    assert (200, "Completed") == (status, done["statusDetails"]["state"])
    assert sim.log[-1].idempotency_key is None
    # No replay protection without a key: a second completion is judged afresh (the
    # session is Completed now), not answered with the first answer again.
    again = post(client, f"/checkoutSessions/{sid}/complete", raw, key=None)
    assert again != (status, done)
    assert not sim.log[-1].replayed


def test_complete_with_a_key_replays(client: TestClient, sim: Simulator) -> None:
    _, session = post(client, "/checkoutSessions", json.dumps(session_body()).encode())
    sid = session["checkoutSessionId"]
    client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
    raw = json.dumps({"chargeAmount": {"amount": "100.00", "currencyCode": "USD"}}).encode()
    first = post(client, f"/checkoutSessions/{sid}/complete", raw, key="done-1")
    again = post(client, f"/checkoutSessions/{sid}/complete", raw, key="done-1")
    assert first == again
    assert sim.log[-1].replayed


# ---------------------------------------------------------------------------------------
# MissingHeader vs MissingHeaderValue
# (https://developer.amazon.com/docs/amazon-pay-api-v2/error-handling.html lists both)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_idempotency_key_is_missing_header_value(
    client: TestClient, sim: Simulator, value: str
) -> None:
    body = json.dumps(session_body()).encode()
    assert "MissingHeaderValue" == code(post(client, "/checkoutSessions", body, key=value))
    assert 0 == len(sim.object_ids("CheckoutSession"))
    # An empty key is refused on complete too: a key that is there must have a value.
    assert "MissingHeaderValue" == code(
        post(client, "/checkoutSessions/x/complete", b"{}", key=value)
    )


@pytest.mark.parametrize("name", ["authorization", "x-amz-pay-date"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "MissingHeader"), ("", "MissingHeaderValue"), (" ", "MissingHeaderValue")],
)
def test_signature_headers_absent_or_empty(
    sim: Simulator, name: str, value: str | None, expected: str
) -> None:
    from tests.server.serverhelpers import new_key, public_pem, signed_headers

    key = new_key()
    with TestClient(create_app(sim, public_key=public_pem(key))) as signed:
        headers = signed_headers(key, "GET", "/v2/charges/abc")
        if value is None:
            del headers[name]
        else:
            headers[name] = value
        answer = signed.get("/v2/charges/abc", headers=headers)
        assert expected == code((answer.status_code, answer.json()))
        assert name in answer.json()["message"]
