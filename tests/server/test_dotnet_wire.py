"""The official .NET SDK's requests, byte for byte, against the server with signatures on.

Source: amzn/amazon-pay-api-sdk-dotnet @4c6cbc1.

* Bodies: ``Amazon.Pay.API.SDK.Tests/WebStore/Charge/CreateChargeRequestTests.cs``
  ``CanConvertToJsonMinimal`` — ``{"chargePermissionId":"S02-7331650-8246451",
  "chargeAmount":{"amount":12.99,"currencyCode":"EUR"}}``; ``CaptureChargeRequestTests``
  ``CanConvertToJsonMinimal`` — ``{"captureAmount":{"amount":12.99,"currencyCode":"EUR"}}``;
  ``WebStore/Refund/CreateRefundRequestTests`` ``CanConvertToJsonMinimal`` —
  ``{"chargeId":"S02-7331650-8246451","refundAmount":{"amount":12.99,"currencyCode":"EUR"}}``.
  Amounts are JSON numbers; a whole amount goes out as an integer (``99``,
  ``Amazon.Pay.API.SDK/Converters/DecimalJsonConverter.cs``). The ids here are real ones
  from a simulator flow.
* Headers: ``SignatureHelper.cs::CreateDefaultHeaders`` (accept, content-type,
  x-amz-pay-region, x-amz-pay-date, x-amz-pay-host) plus the request's own headers (the
  idempotency key), all signed; ``Client.cs::SignRequest`` then adds ``authorization`` and
  ``user-agent`` (``Util.BuildUserAgentHeader``: ``amazon-pay-api-sdk-dotnet/2.7.3.0(<os>)``),
  unsigned. No ``x-amz-pay-sdk-type``. Salt 20 for AMZN-PAY-RSASSA-PSS, 32 for -V2.
* URLs end with a slash (``ApiUrlBuilder.cs``; ``ApiUrlBuilderTests``:
  ``https://pay-api.amazon.eu/v2/authorizationTokens/``), and the path is signed as sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm.server import create_app
from tests.simhelpers import make_sim, price, session_body

from .serverhelpers import new_key, public_pem, signed_headers

USER_AGENT = "amazon-pay-api-sdk-dotnet/2.7.3.0(Unix 6.8.0.0)"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
def signed(sim: Simulator, key: rsa.RSAPrivateKey) -> Iterator[TestClient]:
    with TestClient(create_app(sim, public_key=public_pem(key))) as client:
        yield client


def _permission(sim: Simulator) -> str:
    session = sim.create_checkout_session(session_body("500.00", currency="EUR", intent="Confirm"))
    sid = session["checkoutSessionId"]
    sim.buyer_approve(sid)
    done = sim.complete_checkout_session(sid, {"chargeAmount": price("500.00", "EUR")})
    return str(done["chargePermissionId"])


class DotNet:
    """Sends requests as the .NET SDK does: its exact body bytes and headers."""

    def __init__(self, client: TestClient, key: rsa.RSAPrivateKey, algorithm: str) -> None:
        self.client, self.key, self.algorithm = client, key, algorithm
        self.sent: list[dict[str, str]] = []

    def post(self, path: str, body: bytes, idempotency_key: str) -> tuple[int, Any]:
        headers = signed_headers(
            self.key,
            "POST",
            path,
            body,
            algorithm=self.algorithm,
            headers={
                "x-amz-pay-host": "pay-api.amazon.eu",
                "x-amz-pay-region": "eu",
                "x-amz-pay-idempotency-key": idempotency_key,
            },
        )
        signed_names = headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
        assert signed_names == (
            "accept;content-type;x-amz-pay-date;x-amz-pay-host;"
            "x-amz-pay-idempotency-key;x-amz-pay-region"
        )
        headers["user-agent"] = USER_AGENT  # added after signing: not signed
        assert "x-amz-pay-sdk-type" not in headers
        self.sent.append(headers)
        answer = self.client.post(path, content=body, headers=headers)
        return answer.status_code, answer.json()


@pytest.mark.parametrize("algorithm", ["AMZN-PAY-RSASSA-PSS", "AMZN-PAY-RSASSA-PSS-V2"])
def test_create_capture_refund_as_the_dotnet_sdk_sends_them(
    signed: TestClient, sim: Simulator, key: rsa.RSAPrivateKey, algorithm: str
) -> None:
    dotnet = DotNet(signed, key, algorithm)
    cp = _permission(sim)

    # CreateChargeRequestTests.CanConvertToJsonMinimal
    body = b'{"chargePermissionId":"' + cp.encode() + b'","chargeAmount":{"amount":12.99,'
    body += b'"currencyCode":"EUR"}}'
    status, charge = dotnet.post("/sandbox/v2/charges/", body, "dotnet-charge-1")
    assert 201 == status, charge
    assert {"amount": "12.99", "currencyCode": "EUR"} == charge["chargeAmount"]
    assert "Authorized" == charge["statusDetails"]["state"]
    charge_id = charge["chargeId"]

    # CaptureChargeRequestTests.CanConvertToJsonMinimal
    body = b'{"captureAmount":{"amount":12.99,"currencyCode":"EUR"}}'
    status, captured = dotnet.post(
        f"/sandbox/v2/charges/{charge_id}/capture/", body, "dotnet-cap-1"
    )
    assert 200 == status, captured
    assert {"amount": "12.99", "currencyCode": "EUR"} == captured["captureAmount"]
    assert "Captured" == captured["statusDetails"]["state"]

    # CreateRefundRequestTests.CanConvertToJsonMinimal
    body = b'{"chargeId":"' + charge_id.encode() + b'","refundAmount":{"amount":12.99,'
    body += b'"currencyCode":"EUR"}}'
    status, refund = dotnet.post("/sandbox/v2/refunds/", body, "dotnet-refund-1")
    assert 201 == status, refund
    assert {"amount": "12.99", "currencyCode": "EUR"} == refund["refundAmount"]


def test_a_whole_amount_goes_out_as_an_integer(
    signed: TestClient, sim: Simulator, key: rsa.RSAPrivateKey
) -> None:
    # DecimalJsonConverter.cs writes 99m as 99 (no decimal point).
    dotnet = DotNet(signed, key, "AMZN-PAY-RSASSA-PSS-V2")
    cp = _permission(sim)
    body = b'{"chargePermissionId":"' + cp.encode() + b'","chargeAmount":{"amount":99,'
    body += b'"currencyCode":"EUR"}}'
    status, charge = dotnet.post("/sandbox/v2/charges/", body, "dotnet-charge-99")
    assert 201 == status, charge
    assert {"amount": "99.00", "currencyCode": "EUR"} == charge["chargeAmount"]
    # The same bytes with the same key again: the first answer replayed.
    assert (status, charge) == dotnet.post("/sandbox/v2/charges/", body, "dotnet-charge-99")
    assert 1 == len(sim.object_ids("Charge"))


def test_the_trailing_slash_is_signed_as_sent(
    signed: TestClient, sim: Simulator, key: rsa.RSAPrivateKey
) -> None:
    # A signature over the path without its slash does not verify the path with it.
    cp = _permission(sim)
    body = b'{"chargePermissionId":"' + cp.encode() + b'","chargeAmount":{"amount":1,'
    body += b'"currencyCode":"EUR"}}'
    headers = signed_headers(
        key, "POST", "/sandbox/v2/charges", body, headers={"x-amz-pay-idempotency-key": "s"}
    )
    answer = signed.post("/sandbox/v2/charges/", content=body, headers=headers)
    assert (403, "InvalidRequestSignature") == (answer.status_code, answer.json()["reasonCode"])
