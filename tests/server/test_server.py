"""The HTTP server (issue 6): routes, wire rules, signatures, control endpoints, IPN
delivery, state files and the OpenAPI document — in process, through Starlette's TestClient."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

import apfsm
from apfsm import ERRORS, OPERATIONS, Limits, Simulator
from apfsm._spec import REPORT_OPERATIONS
from apfsm.server import canonical_request, create_app, openapi, string_to_sign
from tests.simhelpers import T0, make_sim, session_body, state

from .serverhelpers import new_key, price, public_pem, receiver, signed_headers, until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    with TestClient(create_app(sim)) as test_client:
        yield test_client


class Api:
    """Calls through the TestClient, returning (status, JSON body)."""

    def __init__(self, client: TestClient, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.keys = 0

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        code: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        headers = {"content-type": "application/json"}
        if method == "POST":
            self.keys += 1
            headers["x-amz-pay-idempotency-key"] = key or f"key-{self.keys}"
        if code is not None:
            headers["x-amz-pay-simulation-code"] = code
        content = raw if raw is not None else (None if body is None else json.dumps(body))
        answer = self.client.request(
            method, f"{self.prefix}/v2{path}", content=content, headers=headers
        )
        assert "application/json" == answer.headers["content-type"]
        assert answer.headers["x-amz-pay-request-id"]
        return answer.status_code, answer.json()

    def control(self, path: str, body: Any = None, method: str = "POST") -> tuple[int, Any]:
        answer = self.client.request(method, f"/_apfsm{path}", json=body)
        return answer.status_code, answer.json()


def error(status: int, body: Any) -> tuple[int, str]:
    """An error answer as (status, code), checking Amazon's shape and the catalog status."""
    assert {"reasonCode", "message"} == set(body), body
    assert ERRORS[body["reasonCode"]].http_status == status
    return status, body["reasonCode"]


def checkout(api: Api, amount: str = "100.00", **kwargs: Any) -> dict[str, Any]:
    status, session = api("POST", "/checkoutSessions", session_body(amount, **kwargs))
    assert 201 == status
    sid = session["checkoutSessionId"]
    assert 200 == api.control("/buyer/approve", {"checkoutSessionId": sid})[0]
    status, done = api("POST", f"/checkoutSessions/{sid}/complete", {"chargeAmount": price(amount)})
    assert status in (200, 202)
    return dict(done)


# ---------------------------------------------------------------------------------------
# The API over HTTP (SPEC §1)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/live", "/sandbox"])
def test_every_operation_over_http_under_each_prefix(client: TestClient, prefix: str) -> None:
    api = Api(client, prefix)
    seen = set()

    def call(operation: str, path: str, body: Any = None) -> tuple[int, Any]:
        seen.add(operation)
        method = OPERATIONS[operation].method
        return api(method, path, body)

    status, session = call("create_checkout_session", "/checkoutSessions", session_body(None))
    assert (201, "Open") == (status, state(session))
    sid = session["checkoutSessionId"]
    body: dict[str, Any] = {
        "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": price("80.00")}
    }
    assert 200 == call("update_checkout_session", f"/checkoutSessions/{sid}", body)[0]
    assert 200 == api.control("/buyer/approve", {"checkoutSessionId": sid, "card": "1111"})[0]
    status, got = call("get_checkout_session", f"/checkoutSessions/{sid}")
    assert (200, []) == (status, got["constraints"])
    done = call(
        "complete_checkout_session",
        f"/checkoutSessions/{sid}/complete",
        {"chargeAmount": price("80.00")},
    )
    assert (200, "Completed") == (done[0], state(done[1]))
    cp, charge_id = done[1]["chargePermissionId"], done[1]["chargeId"]
    assert "Authorized" == state(call("get_charge", f"/charges/{charge_id}")[1])
    status, captured = call(
        "capture_charge", f"/charges/{charge_id}/capture", {"captureAmount": price("30.00")}
    )
    assert (200, "Captured") == (status, state(captured))
    status, refund = call(
        "create_refund", "/refunds", {"chargeId": charge_id, "refundAmount": price("5.00")}
    )
    assert (201, "RefundInitiated") == (status, state(refund))
    assert 200 == call("get_refund", f"/refunds/{refund['refundId']}")[0]
    status, charge = call(
        "create_charge", "/charges", {"chargePermissionId": cp, "chargeAmount": price("20.00")}
    )
    assert (201, "Authorized") == (status, state(charge))
    status, canceled = call(
        "cancel_charge", f"/charges/{charge['chargeId']}/cancel", {"cancellationReason": "no stock"}
    )
    assert (200, "Canceled") == (status, state(canceled))
    # Update Charge (Node SDK tst/webStoreClientTest.js updateChargePayload): 200, the Charge.
    status, charge = call(
        "create_charge", "/charges", {"chargePermissionId": cp, "chargeAmount": price("5.00")}
    )
    update = {"statusDetails": {"state": "Canceled", "reasonCode": "ExpiredUnused"}}
    status, updated = call("update_charge", f"/charges/{charge['chargeId']}", update)
    assert (200, "Canceled", "ExpiredUnused") == (
        status,
        state(updated),
        updated["statusDetails"]["reasonCode"],
    )
    # https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html: 200,
    # the permission id and the delivery details as sent.
    details = [{"trackingNumber": "1Z999AA10123456784", "carrierCode": "UPS"}]
    tracker = {"chargePermissionId": cp, "deliveryDetails": details}
    assert (200, tracker) == call("create_delivery_tracker", "/deliveryTrackers", tracker)
    # Finalize (Buy Now / mobile; amazon-pay-api-sdk-nodejs finalizeCheckoutSession): 200
    # and the Completed session, its charge per the intent in the body.
    status, other = call("create_checkout_session", "/checkoutSessions", session_body(None))
    other_id = other["checkoutSessionId"]
    body = {"paymentDetails": {"paymentIntent": "Confirm", "chargeAmount": price("15.00")}}
    assert 200 == call("update_checkout_session", f"/checkoutSessions/{other_id}", body)[0]
    assert 200 == api.control("/buyer/approve", {"checkoutSessionId": other_id})[0]
    finalize = {
        "chargeAmount": price("15.00"),
        "paymentIntent": "AuthorizeWithCapture",
        "shippingAddress": {"name": "Susie Smith", "countryCode": "US"},
    }
    status, finalized = call(
        "finalize_checkout_session", f"/checkoutSessions/{other_id}/finalize", finalize
    )
    assert (200, "Completed") == (status, state(finalized))
    assert "Captured" == state(call("get_charge", f"/charges/{finalized['chargeId']}")[1])
    metadata = {"merchantMetadata": {"merchantReferenceId": "order-9"}}
    assert 200 == call("update_charge_permission", f"/chargePermissions/{cp}", metadata)[0]
    assert "Chargeable" == state(call("get_charge_permission", f"/chargePermissions/{cp}")[1])
    status, closed = call(
        "close_charge_permission", f"/chargePermissions/{cp}/close", {"closureReason": "done"}
    )
    assert (200, "Closed") == (status, state(closed))
    # Get Buyer (buyer.html; Node SDK validateGetBuyerResponse: 200, buyerId starting
    # amzn1.account.) with a token from the control API's sign-in.
    status, signed = api.control("/buyer/sign-in", {"scopes": ["email"]})
    assert 200 == status
    status, got = call("get_buyer", f"/buyers/{signed['buyerToken']}")
    assert 200 == status
    assert got["buyerId"].startswith("amzn1.account.")
    assert ("buyer@example.com", None) == (got["email"], got["name"])
    # Disputes (docs/dispute.md; Node SDK createDispute ... uploadFile): 200 each.
    body = {
        "chargeId": charge_id,
        "disputeAmount": price("30.00"),
        "filingReason": "Other",
    }
    status, dispute = call("create_dispute", "/disputes", body)
    assert (200, "ActionRequired") == (status, state(dispute))
    dispute_path = f"/disputes/{dispute['disputeId']}"
    assert "ActionRequired" == state(call("get_dispute", dispute_path)[1])
    status, file = call("upload_file", "/files", {"type": "png", "purpose": "disputeEvidence"})
    evidence = {"merchantEvidences": [{"evidenceType": "Receipt", "fileId": file["id"]}]}
    assert "UnderReview" == state(call("contest_dispute", f"{dispute_path}/contest", evidence)[1])
    update = {"statusDetails": {"state": "Resolved", "resolution": "MerchantWon"}}
    assert "Resolved" == state(call("update_dispute", dispute_path, update)[1])
    assert set(OPERATIONS) == seen


def test_pending_completion_answers_202(client: TestClient) -> None:
    api = Api(client)
    status, session = api("POST", "/checkoutSessions", session_body("10.00", pending=True))
    sid = session["checkoutSessionId"]
    api.control("/buyer/approve", {"checkoutSessionId": sid, "card": "0701"})
    status, done = api(
        "POST", f"/checkoutSessions/{sid}/complete", {"chargeAmount": price("10.00")}
    )
    assert 202 == status
    assert "AuthorizationInitiated" == state(api("GET", f"/charges/{done['chargeId']}")[1])


def test_a_trailing_slash_is_the_same_path(client: TestClient) -> None:
    # The official .NET SDK ends its URLs with "/".
    api = Api(client)
    status, session = api("POST", "/checkoutSessions/", session_body())
    assert 201 == status
    assert 200 == api("GET", f"/checkoutSessions/{session['checkoutSessionId']}/")[0]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v2/checkoutSessions", "POST"),
        ("GET", "/v2/checkoutSessions", "POST"),
        ("DELETE", "/live/v2/checkoutSessions/abc", "GET, PATCH"),
        ("POST", "/v2/charges/abc/cancel", "DELETE"),
        ("GET", "/sandbox/v2/charges/abc/capture", "POST"),
        ("HEAD", "/v2/refunds", "POST"),
    ],
)
def test_wrong_method_on_a_known_path_is_405(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    answer = client.request(method, path, headers={"x-amz-pay-idempotency-key": "k"})
    assert 405 == answer.status_code
    assert allow == answer.headers["allow"]
    if method != "HEAD":
        assert (405, "RequestNotSupported") == error(405, answer.json())


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/v2/nothing", "ResourceNotFound"),
        ("GET", "/v2/charges/a/b/c", "ResourceNotFound"),
        ("GET", "/v3/charges/abc", "ResourceNotFound"),
        ("GET", "/v2", "ResourceNotFound"),
        ("GET", "/v2//charges", "ResourceNotFound"),
        ("POST", "/_apfsm/nothing", "ResourceNotFound"),
        # Get Buyer is served: an unknown token is ResourceNotFound (docs/buyer.md); other
        # buyer paths are out of scope.
        ("GET", "/v2/buyers/token", "ResourceNotFound"),
        ("GET", "/sandbox/v2/buyers/%E2%9C%93", "ResourceNotFound"),
        ("GET", "/v2/buyers/token/more", "UnsupportedOperation"),
        ("PATCH", "/v2/buyers/token", "RequestNotSupported"),
        ("POST", "/live/v2/deliveryTrackers/abc", "ResourceNotFound"),
        ("PATCH", "/v2/charges/abc", "MissingParameterValue"),  # Update Charge: served
        ("GET", "/_apfsm/reset", "RequestNotSupported"),
        ("POST", "/openapi.json", "RequestNotSupported"),
    ],
)
def test_unknown_paths_and_unsimulated_operations(
    client: TestClient, method: str, path: str, code: str
) -> None:
    answer = client.request(method, path, headers={"x-amz-pay-idempotency-key": "k"})
    assert code == error(answer.status_code, answer.json())[1]


def test_a_post_without_idempotency_key_is_missing_header_before_the_body(
    client: TestClient,
) -> None:
    # SPEC §7: checked before the body, so even a malformed body gets MissingHeader.
    for content in (b"{not json", json.dumps(session_body()).encode()):
        answer = client.post("/v2/checkoutSessions", content=content)
        assert (400, "MissingHeader") == error(answer.status_code, answer.json())
    # Reads and other methods need no key; a key on them is ignored.
    answer = client.get("/v2/charges/none", headers={"x-amz-pay-idempotency-key": "k"})
    assert (404, "ResourceNotFound") == error(answer.status_code, answer.json())


@pytest.mark.parametrize(
    "raw",
    [
        b"{bad",
        b'{"storeId": NaN}',
        b'{"storeId": 1e999}',
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_malformed_json_is_invalid_request_format(client: TestClient, raw: bytes) -> None:
    status, body = Api(client)("POST", "/checkoutSessions", raw=raw)
    assert (400, "InvalidRequestFormat") == error(status, body)


def test_body_faults_and_empty_bodies_take_the_simulators_codes(client: TestClient) -> None:
    api = Api(client)
    assert "MissingParameterValue" == error(*api("POST", "/checkoutSessions", raw=b""))[1]
    assert "UnrecognizedField" == error(*api("POST", "/checkoutSessions", {"nope": 1}))[1]
    status, body = api("POST", "/checkoutSessions", session_body(), key="not a valid key!")
    assert (400, "InvalidHeaderValue") == error(status, body)


def test_idempotency_keys_over_http(client: TestClient, sim: Simulator) -> None:
    api = Api(client)
    first = api("POST", "/checkoutSessions", session_body("10.00"), key="order-1")
    again = api("POST", "/checkoutSessions", session_body("10.00"), key="order-1")
    assert first == again
    assert 1 == len(sim.object_ids("CheckoutSession"))
    other = api("POST", "/checkoutSessions", session_body("11.00"), key="order-1")
    assert (400, "DuplicateIdempotencyKey") == error(*other)


def test_simulation_codes_travel_in_their_header(client: TestClient) -> None:
    api = Api(client)
    cp = checkout(api, kind="Recurring")["chargePermissionId"]
    body = {"chargePermissionId": cp, "chargeAmount": price("5.00")}
    assert (422, "SoftDeclined") == error(*api("POST", "/charges", body, code="SoftDeclined"))
    # SPEC §7: ProcessingFailure is a 500, still in Amazon's error shape.
    assert (500, "ProcessingFailure") == error(
        *api("POST", "/charges", body, code="ProcessingFailure")
    )
    status, answer = api("POST", "/charges", body, code="Nope")
    assert (400, "InvalidSandboxSimulationSpecified") == error(status, answer)


def test_an_internal_failure_is_answered_in_amazons_shape(
    client: TestClient,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(sim, "request", broken)
    status, body = Api(client)("GET", "/charges/abc")
    assert (500, "InternalServerError") == error(status, body)
    assert "boom" in caplog.text


# ---------------------------------------------------------------------------------------
# Signatures
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def signed(sim: Simulator, key: rsa.RSAPrivateKey) -> Iterator[TestClient]:
    with TestClient(create_app(sim, public_key=public_pem(key))) as test_client:
        yield test_client


def test_canonical_request_is_the_sdks() -> None:
    canonical = canonical_request(
        "POST",
        "/sandbox/v2/charges",
        "b=2&a=1",
        {"x-amz-pay-date": "20260302T090000Z", "x-amz-pay-host": "pay-api.amazon.com"},
        ["x-amz-pay-date", "x-amz-pay-host"],
        b"{}",
    )
    assert (
        "POST\n/sandbox/v2/charges\na=1&b=2\n"
        "x-amz-pay-date:20260302T090000Z\nx-amz-pay-host:pay-api.amazon.com\n\n"
        "x-amz-pay-date;x-amz-pay-host\n"
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    ) == canonical
    assert string_to_sign("AMZN-PAY-RSASSA-PSS", canonical).startswith("AMZN-PAY-RSASSA-PSS\n")


@pytest.mark.parametrize("algorithm", ["AMZN-PAY-RSASSA-PSS", "AMZN-PAY-RSASSA-PSS-V2"])
@pytest.mark.parametrize("prefix", ["", "/sandbox"])
def test_signed_requests_are_accepted(
    signed: TestClient, key: rsa.RSAPrivateKey, algorithm: str, prefix: str
) -> None:
    body = json.dumps(session_body()).encode()
    path = f"{prefix}/v2/checkoutSessions"
    headers = signed_headers(
        key, "POST", path, body, algorithm=algorithm, headers={"x-amz-pay-idempotency-key": "s1"}
    )
    answer = signed.post(path, content=body, headers=headers)
    assert 201 == answer.status_code, answer.text
    sid = answer.json()["checkoutSessionId"]
    path = f"{prefix}/v2/checkoutSessions/{sid}"
    answer = signed.get(
        f"{path}?z=1&a=b",
        headers=signed_headers(key, "GET", path, query="a=b&z=1", algorithm=algorithm),
    )
    assert 200 == answer.status_code, answer.text


def _tampered(key: rsa.RSAPrivateKey, change: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(session_body()).encode()
    path = "/v2/checkoutSessions"
    extra = {"x-amz-pay-idempotency-key": "t1"}
    headers = signed_headers(key, "POST", path, body, headers=extra)
    if change == "body":
        body = body.replace(b"100.00", b"100.01")
    elif change == "header":
        headers["x-amz-pay-region"] = "eu"
    elif change == "other key":
        headers = signed_headers(new_key(), "POST", path, body, headers=extra)
    elif change == "salt":  # V2 must use salt 32 (the official SDKs' constants)
        headers = signed_headers(key, "POST", path, body, headers=extra, salt=20)
    elif change == "algorithm":
        headers["authorization"] = headers["authorization"].replace("-V2 ", "-V9 ")
    elif change == "format":
        headers["authorization"] = "AMZN-PAY-RSASSA-PSS-V2 garbage"
    elif change == "base64":
        headers["authorization"] = headers["authorization"].split("Signature=")[0] + "Signature=%%%"
    return body, headers


@pytest.mark.parametrize(
    "change", ["body", "header", "other key", "salt", "algorithm", "format", "base64"]
)
def test_a_bad_signature_is_invalid_request_signature(
    signed: TestClient, sim: Simulator, key: rsa.RSAPrivateKey, change: str
) -> None:
    body, headers = _tampered(key, change)
    answer = signed.post("/v2/checkoutSessions", content=body, headers=headers)
    assert (403, "InvalidRequestSignature") == error(answer.status_code, answer.json())
    assert 0 == len(sim)


@pytest.mark.parametrize("missing", ["authorization", "x-amz-pay-date"])
def test_missing_signature_headers_are_missing_header(
    signed: TestClient, key: rsa.RSAPrivateKey, missing: str
) -> None:
    headers = signed_headers(key, "GET", "/v2/charges/abc")
    del headers[missing]
    answer = signed.get("/v2/charges/abc", headers=headers)
    assert (400, "MissingHeader") == error(answer.status_code, answer.json())
    assert missing in answer.json()["message"]


def test_control_endpoints_and_the_document_need_no_signature(signed: TestClient) -> None:
    assert 200 == signed.get("/openapi.json").status_code
    assert 200 == signed.get("/_apfsm/notifications").status_code
    assert 200 == signed.post("/_apfsm/clock/advance", json={"seconds": 1}).status_code
    # ... while every API path does, whatever the prefix.
    for path in ("/v2/charges/x", "/live/v2/charges/x", "/sandbox/v2/charges/x"):
        assert "MissingHeader" == signed.get(path).json()["reasonCode"]


def test_public_keys_load_from_pem_text_bytes_or_file(
    tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    pem = public_pem(key)
    path = tmp_path / "public.pem"
    path.write_bytes(pem)
    for source in (pem, pem.decode(), str(path), path):
        create_app(make_sim(), public_key=source)
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="must be an RSA key"):
        create_app(make_sim(), public_key=ec_pem)
    with pytest.raises(ValueError, match="not a PEM public key"):
        create_app(make_sim(), public_key=b"-----BEGIN PUBLIC KEY-----\nnope\n")
    with pytest.raises(OSError, match="No such file"):
        create_app(make_sim(), public_key=tmp_path / "missing.pem")


# ---------------------------------------------------------------------------------------
# Control endpoints
# ---------------------------------------------------------------------------------------


def test_buyer_endpoints(client: TestClient) -> None:
    api = Api(client)
    sid = api("POST", "/checkoutSessions", session_body())[1]["checkoutSessionId"]
    assert (404, "ResourceNotFound") == error(
        *api.control("/buyer/approve", {"checkoutSessionId": "nope"})
    )
    assert (400, "MissingParameterValue") == error(*api.control("/buyer/approve", {}))
    assert (400, "InvalidParameterValue") == error(
        *api.control("/buyer/approve", {"checkoutSessionId": 7})
    )
    bad_card = {"checkoutSessionId": sid, "card": "9999"}
    assert (400, "InvalidParameterValue") == error(*api.control("/buyer/approve", bad_card))
    status, approved = api.control("/buyer/approve", {"checkoutSessionId": sid, "card": "0701"})
    assert (200, []) == (status, approved["constraints"])
    status, canceled = api.control("/buyer/cancel", {"checkoutSessionId": sid})
    assert (200, "Canceled", "BuyerCanceled") == (
        status,
        state(canceled),
        canceled["statusDetails"]["reasonCode"],
    )
    again = api.control("/buyer/cancel", {"checkoutSessionId": sid})
    assert (422, "InvalidCheckoutSessionStatus") == error(*again)
    answer = client.post("/_apfsm/buyer/cancel", content=b"{bad")
    assert (400, "InvalidRequestFormat") == error(answer.status_code, answer.json())


def test_buyer_endpoints_name_the_session_before_the_card(client: TestClient) -> None:
    # The simulator refuses a bad card before it looks at the session; the control API
    # answers the session's problem first, as it always has.
    api = Api(client)
    charge = checkout(api)
    for card in ("9999", 7, None):
        answer = api.control("/buyer/approve", {"checkoutSessionId": "nope", "card": card})
        assert (404, "ResourceNotFound") == error(*answer), card
        done = {"checkoutSessionId": charge["checkoutSessionId"], "card": card}
        assert (422, "InvalidCheckoutSessionStatus") == error(
            *api.control("/buyer/approve", done)
        ), card


def test_buyer_cancel_takes_sessions_only(client: TestClient) -> None:
    # Simulator.buyer_cancel would cancel an Authorized charge (a Charge has a buyer_cancel
    # event); the buyer on the checkout page addresses sessions only.
    api = Api(client)
    charge_id = checkout(api)["chargeId"]
    assert "Authorized" == state(api("GET", f"/charges/{charge_id}")[1])
    answer = api.control("/buyer/cancel", {"checkoutSessionId": charge_id})
    assert (404, "ResourceNotFound") == error(*answer)
    assert "Authorized" == state(api("GET", f"/charges/{charge_id}")[1])


def test_clock_advance_settles_what_is_due(client: TestClient) -> None:
    api = Api(client)
    charge_id = checkout(api)["chargeId"]
    api("POST", f"/charges/{charge_id}/capture", {"captureAmount": price("100.00")})
    refund_id = api("POST", "/refunds", {"chargeId": charge_id, "refundAmount": price("1.00")})[1][
        "refundId"
    ]
    assert (200, {"now": "20260302T090029Z"}) == api.control("/clock/advance", {"seconds": 29})
    assert "RefundInitiated" == state(api("GET", f"/refunds/{refund_id}")[1])
    assert (200, {"now": "20260302T090030Z"}) == api.control("/clock/advance", {"seconds": 1.0})
    assert "Refunded" == state(api("GET", f"/refunds/{refund_id}")[1])
    for bad in ({}, {"seconds": -1}, {"seconds": "30"}, {"seconds": True}, {"seconds": 1e12}):
        assert 400 == api.control("/clock/advance", bad)[0], bad


def test_clock_advance_needs_an_advanceable_clock() -> None:
    with TestClient(create_app(Simulator(apfsm.SystemClock()))) as client:
        answer = client.post("/_apfsm/clock/advance", json={"seconds": 1})
        assert (400, "InvalidRequest") == error(answer.status_code, answer.json())


def test_notifications_and_log(client: TestClient, sim: Simulator) -> None:
    api = Api(client)
    checkout(api)
    status, notes = api.control("/notifications", method="GET")
    assert (200, sim.notifications) == (status, notes)
    assert ["CHARGE_PERMISSION", "CHARGE"] == [n["ObjectType"] for n in notes]
    assert notes[1:] == api.control("/notifications?since=1", method="GET")[1]
    status, log = api.control("/log", method="GET")
    assert (200, [r.to_json() for r in sim.log]) == (status, log)
    assert ["create_checkout_session", "buyer_approve", "complete_checkout_session"] == [
        r["operation"] for r in log
    ]
    assert log[2:] == api.control("/log?since=2", method="GET")[1]
    assert (400, "InvalidParameterValue") == error(*api.control("/log?since=-1", method="GET"))


def test_reset_empties_the_simulator_and_rewinds_its_clock(client: TestClient) -> None:
    api = Api(client)
    checkout(api)
    api.control("/clock/advance", {"seconds": 3600})
    first = client.app.state.simulator  # type: ignore[attr-defined]
    assert (200, {"now": "20260302T090000Z"}) == api.control("/reset")
    fresh = client.app.state.simulator  # type: ignore[attr-defined]
    assert fresh is not first
    assert (0, [], 0) == (len(fresh), fresh.notifications, len(fresh.log))
    assert (fresh.limits, fresh.merchant_id) == (first.limits, first.merchant_id)
    assert 201 == api("POST", "/checkoutSessions", session_body())[0]
    assert 1 == len(fresh)


def test_snapshots_round_trip(client: TestClient, sim: Simulator) -> None:
    api = Api(client)
    charge_id = checkout(api)["chargeId"]
    status, saved = api.control("/snapshot", method="GET")
    assert (200, json.loads(json.dumps(sim.snapshot()))) == (status, saved)
    api.control("/reset")
    assert (404, "ResourceNotFound") == error(*api("GET", f"/charges/{charge_id}"))
    assert (200, {"now": "20260302T090000Z", "objects": 3}) == api.control(
        "/snapshot", saved, method="PUT"
    )
    assert "Authorized" == state(api("GET", f"/charges/{charge_id}")[1])
    assert 3 == len(client.app.state.simulator)  # type: ignore[attr-defined]
    bad = api.control("/snapshot", {"format": "nope"}, method="PUT")
    assert (400, "InvalidParameterValue") == error(*bad)


# ---------------------------------------------------------------------------------------
# IPN delivery (SPEC §7)
# ---------------------------------------------------------------------------------------


def test_notifications_are_posted_as_sns_envelopes() -> None:
    with receiver() as ipn:
        sim = make_sim()
        with TestClient(create_app(sim, notify_url=ipn.url)) as client:
            checkout(Api(client))
            received = ipn.wait_for(2)
        assert sim.notifications == ipn.messages()
        headers, body = received[0]
        assert "text/plain; charset=UTF-8" == headers["content-type"]
        assert "Notification" == headers["x-amz-sns-message-type"]
        envelope = json.loads(body)
        assert headers["x-amz-sns-message-id"] == envelope["MessageId"]
        assert headers["x-amz-sns-topic-arn"] == envelope["TopicArn"]
        assert {
            "Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
            "Signature", "SigningCertURL", "UnsubscribeURL",
        } == set(envelope)  # fmt: skip
        assert ("Notification", "2026-03-02T09:00:00.000Z") == (
            envelope["Type"],
            envelope["Timestamp"],
        )


def test_failed_deliveries_are_retried() -> None:
    with receiver() as ipn:
        ipn.fail_first = 3
        with TestClient(create_app(make_sim(), notify_url=ipn.url, notify_backoff=0.01)) as client:
            checkout(Api(client))
            ipn.wait_for(2)
        assert 5 == ipn.attempts
        assert ["CHARGE", "CHARGE_PERMISSION"] == sorted(m["ObjectType"] for m in ipn.messages())


def test_delivery_gives_up_after_its_attempts() -> None:
    with receiver() as ipn:
        ipn.fail_first = 100
        app = create_app(make_sim(), notify_url=ipn.url, notify_attempts=2, notify_backoff=0)
        with TestClient(app) as client:
            checkout(Api(client))
            notifier = app.state.simulator.on_notification.__self__.notifier
            until(lambda: len(notifier.failed) == 2)
        assert 4 == ipn.attempts
        assert [] == ipn.received


def test_a_slow_receiver_does_not_block_api_calls() -> None:
    with receiver() as ipn:
        ipn.gate = gate = threading.Event()
        with TestClient(create_app(make_sim(), notify_url=ipn.url)) as client:
            api = Api(client)
            # The receiver holds the first delivery; calls still complete meanwhile.
            done = [checkout(api) for _ in range(3)]
            assert 3 == len({d["chargeId"] for d in done})
            assert [] == ipn.received
            gate.set()
            ipn.wait_for(6)


def test_notification_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        create_app(make_sim(), notify_url="ftp://example/ipn")
    with pytest.raises(ValueError, match="at least 1"):
        create_app(make_sim(), notify_url="http://127.0.0.1/ipn", notify_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        create_app(make_sim(), notify_url="http://127.0.0.1/ipn", notify_backoff=-1)
    with pytest.raises(TypeError, match=r"an apfsm\.Simulator"):
        create_app("sim")  # type: ignore[arg-type]


def test_a_users_own_callback_still_runs_with_delivery() -> None:
    seen: list[dict[str, Any]] = []
    sim = make_sim(on_notification=seen.append)
    with receiver() as ipn, TestClient(create_app(sim, notify_url=ipn.url)) as client:
        checkout(Api(client))
        ipn.wait_for(2)
    assert sim.notifications == seen


# ---------------------------------------------------------------------------------------
# State files
# ---------------------------------------------------------------------------------------


def test_a_state_file_is_saved_at_shutdown_and_restored_at_start(tmp_path: Path) -> None:
    path = tmp_path / "state.db"  # durable: tests/server/test_server_state.py
    with TestClient(create_app(make_sim(), state=path)) as client:
        charge_id = checkout(Api(client))["chargeId"]
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    with TestClient(create_app(state=path)) as client:
        assert "Authorized" == state(Api(client)("GET", f"/charges/{charge_id}")[1])
        assert T0 == client.app.state.simulator.now()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="pass no simulator"):
        create_app(make_sim(), state=path)
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="neither an apfsm SQLite state nor a simulator snapshot"):
        create_app(state=path)


# ---------------------------------------------------------------------------------------
# The OpenAPI document
# ---------------------------------------------------------------------------------------


def test_openapi_is_served_and_published_in_docs(client: TestClient) -> None:
    served = client.get("/openapi.json").json()
    assert openapi() == served
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert openapi() == committed, (
        "docs/openapi.json is out of date; run: .venv/bin/python -m apfsm.server > docs/openapi.json"
    )


def test_openapi_is_derived_from_the_declarations() -> None:
    document = openapi()
    assert document["openapi"].startswith("3.")
    operations = {
        (method.upper(), path): doc
        for path, item in document["paths"].items()
        for method, doc in item.items()
        if path.startswith("/v2/")  # the others are the control endpoints (Control)
    }
    reports = {(op.method, f"/v2{op.path}") for op in REPORT_OPERATIONS.values()}
    assert 8 == len(reports)  # the Reports API (docs/reports.md)
    assert {(op.method, f"/v2{op.path}") for op in OPERATIONS.values()} | reports == set(operations)
    schemas = document["components"]["schemas"]
    for op in OPERATIONS.values():
        doc = operations[(op.method, f"/v2{op.path}")]
        assert op.name == doc["operationId"]
        assert str(op.success_status) in doc["responses"]
        headers = {p["name"] for p in doc["parameters"] if p["in"] == "header"}
        assert ("x-amz-pay-idempotency-key" in headers) == (op.method == "POST")
        if not op.is_read:
            ref = doc["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = schemas[ref.rsplit("/", 1)[1]]
            assert [f.name for f in apfsm.BODIES[op.name]] == list(schema["properties"])
            assert [f.name for f in apfsm.BODIES[op.name] if f.required] == schema.get(
                "required", []
            )
    assert (
        "202"
        in operations[("POST", "/v2/checkoutSessions/{checkoutSessionId}/complete")]["responses"]
    )
    assert sorted(ERRORS) == schemas["Error"]["properties"]["reasonCode"]["enum"]
    charge_states = schemas["Charge"]["properties"]["statusDetails"]["properties"]["state"]["enum"]
    assert list(apfsm.LIFECYCLES["Charge"].state_names()) == charge_states

    def descriptor(document: dict[str, Any]) -> Any:
        request = document["components"]["schemas"]["CaptureChargeRequest"]
        return request["properties"]["softDescriptor"]["maxLength"]

    assert 16 == descriptor(document)
    assert 20 == descriptor(openapi(Limits(soft_descriptor_max_length=20)))


# ---------------------------------------------------------------------------------------
# Without the server extra
# ---------------------------------------------------------------------------------------


def test_apfsm_imports_without_the_server_packages() -> None:
    code = (
        "import sys\n"
        "for name in ('starlette', 'uvicorn', 'cryptography'): sys.modules[name] = None\n"
        "import apfsm, apfsm.server, apfsm._cli\n"
        "assert apfsm.server.openapi()['paths']\n"
        "try:\n"
        "    apfsm.server.create_app()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "sys.exit(apfsm._cli.main(['serve', '--port', '0']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert 2 == result.returncode, result.stderr
    hint = 'pip install "apfsm[server]"'
    assert hint in result.stdout
    assert (
        f"apfsm serve: error: the apfsm server needs its extra dependencies: {hint}"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_serve_command_is_registered_with_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from apfsm._cli import main

    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert 0 == info.value.code
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--tls", "--public-key", "--notify-url", "--state"):
        assert option in text
    with pytest.raises(SystemExit) as info:
        main(["serve", "--port", "http"])
    assert 2 == info.value.code
    assert "not a port number: 'http'" in capsys.readouterr().err


# -- Get Buyer and the buyer's sign-in (docs/buyer.md) --------------------------------------


def test_get_buyer_over_http_with_a_token_from_the_control_api(client: TestClient) -> None:
    # buyer.html: GET /v2/buyers/{buyerToken}, under every prefix; amazon-sign-in.html:
    # the scopes share the details; amazonpay-onboarding object/buyer: 24 hours.
    api = Api(client)
    status, signed = api.control("/buyer/sign-in", {"scopes": ["name", "postalCode"]})
    assert 200 == status
    token = signed["buyerToken"]
    for prefix in ("", "/live", "/sandbox"):
        status, buyer = Api(client, prefix)("GET", f"/buyers/{token}")
        assert 200 == status
        assert ("Sandbox Buyer", "98109", "US", None) == (
            buyer["name"],
            buyer["postalCode"],
            buyer["countryCode"],
            buyer["email"],
        )
    assert (200, {"buyerToken"}) == (
        api.control("/buyer/sign-in")[0],
        set(api.control("/buyer/sign-in", {})[1]),
    )  # no body, or no scopes: buyerId only
    assert (404, "ResourceNotFound") == error(*api("GET", "/buyers/not-a-token"))
    assert 200 == api.control("/clock/advance", {"seconds": 86400 - 1})[0]
    assert 200 == api("GET", f"/buyers/{token}")[0]
    assert 200 == api.control("/clock/advance", {"seconds": 1})[0]
    assert (404, "ResourceNotFound") == error(*api("GET", f"/buyers/{token}"))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"scopes": "name"}, "InvalidParameterValue"),
        ({"scopes": ["nickname"]}, "InvalidParameterValue"),
        ({"scopes": [None]}, "InvalidParameterValue"),
        ({"scopes": {"name": 1}}, "InvalidParameterValue"),
        ([], "InvalidRequestFormat"),
        ("name", "InvalidRequestFormat"),
    ],
)
def test_bad_sign_in_input_is_a_clear_400(client: TestClient, body: Any, code: str) -> None:
    api = Api(client)
    status, answer = api.control("/buyer/sign-in", body)
    assert (400, code) == error(status, answer)
    assert [] == [
        r for r in api.control("/log", method="GET")[1] if r["operation"] == "buyer_sign_in"
    ]
