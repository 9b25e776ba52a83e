"""``apfsm.testing.mock_amazon_pay()`` (issue 13 item 1): unchanged client code talking to
Amazon Pay's hosts is answered by apfsm in process — ``AmazonPayClient`` (``requests``)
and ``httpx`` clients, signatures verified, no socket opened; as a context manager, a
decorator and the pytest fixture ``apfsm_mock``."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from apfsm import Simulator
from apfsm.testing import AmazonPayMock, IntegrationError, WatchedSimulator, mock_amazon_pay
from tests.server.serverhelpers import new_key, price, private_pem, public_pem, session_body
from tests.simhelpers import make_sim, state

SESSIONS = "https://pay-api.amazon.com/v2/checkoutSessions"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def private_key_file(key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "private.pem"
    path.write_bytes(private_pem(key))
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail any attempt to open a connection (the mock must not need one)."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError(f"apfsm test: no network (connect to {address!r})")

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(host)
        raise socket.gaierror(f"apfsm test: no network (resolve {host!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return attempts


def _client(private_key: Path) -> Any:
    from AmazonPay import Client

    # Its own endpoint: https://pay-api.amazon.com, unchanged ("us" is broken in 2.0.1).
    return Client(
        public_key_id="SANDBOX-AEXAMPLEKEY", private_key=str(private_key), region="na", sandbox=True
    )


def test_amazon_pay_client_unchanged_full_order_signed_no_socket(
    key: rsa.RSAPrivateKey, private_key_file: Path, no_network: list[Any]
) -> None:
    with mock_amazon_pay(make_sim(), public_key=public_pem(key).decode()) as amazon:
        client = _client(private_key_file)
        created = client.create_checkout_session(session_body("149.99"))
        assert 201 == created.status_code, created.text
        sid = created.json()["checkoutSessionId"]
        amazon.simulator.buyer_approve(sid)
        done = client.complete_checkout_session(sid, {"chargeAmount": price("149.99")})
        assert (200, "Completed") == (done.status_code, state(done.json()))
        charge_id = done.json()["chargeId"]
        captured = client.capture_charge(charge_id, {"captureAmount": price("149.99")})
        assert (200, "Captured") == (captured.status_code, state(captured.json()))
        refund = client.create_refund({"chargeId": charge_id, "refundAmount": price("9.99")})
        assert (201, "RefundInitiated") == (refund.status_code, state(refund.json()))
        amazon.simulator.advance(amazon.simulator.limits.async_outcome_delay)
        settled = client.get_refund(refund.json()["refundId"])
        assert "Refunded" == state(settled.json())
        again = client.capture_charge(charge_id, {"captureAmount": price("1.00")})
        assert (422, "InvalidChargeStatus") == (again.status_code, again.json()["reasonCode"])
    assert [] == no_network
    assert ["POST", "POST", "POST", "POST", "GET", "POST"] == [e.method for e in amazon.exchanges]
    assert 201 == amazon.exchanges[0].status


def test_a_request_signed_with_another_key_is_refused(
    key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(private_pem(new_key()))
    with mock_amazon_pay(public_key=public_pem(key).decode()) as amazon:
        refused = _client(other).create_checkout_session(session_body("10.00"))
    assert 403 == refused.status_code
    assert "InvalidRequestSignature" == refused.json()["reasonCode"]
    assert [] == amazon.simulator.object_ids()


def test_httpx_sync_and_async_clients(no_network: list[Any]) -> None:
    with mock_amazon_pay(seed=4) as amazon:
        created = httpx.post(
            SESSIONS, json=session_body("5.00"), headers={"x-amz-pay-idempotency-key": "k-1"}
        )
        assert 201 == created.status_code
        sid = created.json()["checkoutSessionId"]

        async def read() -> httpx.Response:
            async with httpx.AsyncClient() as client:
                return await client.get(f"https://pay-api.amazon.eu/live/v2/checkoutSessions/{sid}")

        got = asyncio.run(read())  # from inside a running event loop too
        assert (200, "Open") == (got.status_code, state(got.json()))
    assert [sid] == amazon.simulator.object_ids("CheckoutSession")
    assert [] == no_network


def test_other_hosts_are_not_intercepted(no_network: list[Any]) -> None:
    with mock_amazon_pay():
        with pytest.raises(requests.ConnectionError):
            requests.get("https://example.org/", timeout=1)
        with pytest.raises(httpx.ConnectError):
            httpx.get("https://example.org/", timeout=1)
    assert ["example.org", "example.org"] == no_network  # they went out, as without it


def test_after_the_block_nothing_is_intercepted(no_network: list[Any]) -> None:
    with mock_amazon_pay():
        pass
    with pytest.raises(requests.ConnectionError):
        requests.get(SESSIONS + "/x", timeout=1)


def test_as_a_decorator() -> None:
    mock = mock_amazon_pay(seed=2)

    @mock
    def order() -> int:
        return requests.post(
            SESSIONS, json=session_body("1.00"), headers={"x-amz-pay-idempotency-key": "k"}
        ).status_code

    assert 201 == order()
    assert 1 == len(mock.simulator.object_ids("CheckoutSession"))


def test_the_pytest_fixture(apfsm_mock: AmazonPayMock, apfsm_simulator: Simulator) -> None:
    assert apfsm_mock.simulator is apfsm_simulator
    created = requests.post(
        SESSIONS, json=session_body("2.00"), headers={"x-amz-pay-idempotency-key": "k"}
    )
    assert (201, 1) == (created.status_code, len(apfsm_simulator.object_ids()))


def test_strict_mode_failures_reach_the_callers_line() -> None:
    sim = WatchedSimulator(strict=True)
    with mock_amazon_pay(sim):
        sid = requests.post(
            SESSIONS, json=session_body("3.00"), headers={"x-amz-pay-idempotency-key": "k"}
        ).json()["checkoutSessionId"]
        # Completing before the buyer signed in is a refusal the integration could know.
        with pytest.raises(IntegrationError, match="InvalidCheckoutSessionStatus"):
            requests.post(
                f"{SESSIONS}/{sid}/complete",
                json={"chargeAmount": price("3.00")},
                headers={"x-amz-pay-idempotency-key": "k2"},
            )


def test_misuse_is_reported_clearly() -> None:
    with pytest.raises(TypeError, match=r"apfsm\.Simulator"):
        mock_amazon_pay(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hosts"):
        mock_amazon_pay(hosts=())
    mock = mock_amazon_pay()
    with mock, pytest.raises(RuntimeError, match="already active"), mock:
        pass
    bad = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"
    with pytest.raises(ValueError, match=r"not a PEM public key"), mock_amazon_pay(public_key=bad):
        pass


def test_the_mock_allows_the_servers_clock_skew_by_default() -> None:
    # _intercept keeps its own copy (the server's packages load lazily): the two agree.
    import inspect

    from apfsm.server._signatures import DEFAULT_MAX_CLOCK_SKEW

    default = inspect.signature(mock_amazon_pay).parameters["max_clock_skew"].default
    assert DEFAULT_MAX_CLOCK_SKEW == default
    assert DEFAULT_MAX_CLOCK_SKEW == AmazonPayMock().max_clock_skew
