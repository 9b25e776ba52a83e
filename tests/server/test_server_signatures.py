"""What a signature must bind (issue 16 item 4): ``x-amz-pay-date`` neither in the future
nor older than the allowed skew by the wall clock, a known ``PublicKeyId``, and a
``SignedHeaders`` list that covers the date, the host and a sent idempotency key. Each
refusal through the server and through ``mock_amazon_pay()``, and the boundaries on the
verifier with a manual clock.

Amazon's answer to a date in the future is on record: ``InvalidHeaderValue`` 400, "The
value 20220131T094401Z provided for x-amz-pay-date should not be in future"
(amzn/amazon-pay-api-sdk-php issue 19; amzn/amazon-payments-magento-2-plugin issue 1103).
The other codes are apfsm's Decisions (docs/server.md, Signatures).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.testclient import TestClient

from apfsm import ManualClock, Simulator
from apfsm.server import create_app
from apfsm.server._signatures import DEFAULT_MAX_CLOCK_SKEW, _load_public_key, _Verifier
from apfsm.testing import mock_amazon_pay
from tests.server.serverhelpers import new_key, public_pem, session_body, signed_headers, wall_date
from tests.simhelpers import make_sim

KEY_ID = "SANDBOX-AEXAMPLEKEY0000000000"
SESSIONS = "/v2/checkoutSessions"
Send = Callable[[str, str, bytes, Mapping[str, str]], tuple[int, dict[str, Any]]]


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


def _server(sim: Simulator, key: rsa.RSAPrivateKey, **options: Any) -> Iterator[Send]:
    with TestClient(create_app(sim, public_key=public_pem(key), **options)) as client:

        def send(
            method: str, path: str, body: bytes, headers: Mapping[str, str]
        ) -> tuple[int, dict[str, Any]]:
            answer = client.request(method, path, content=body, headers=dict(headers))
            return answer.status_code, answer.json()

        yield send


def _mock(sim: Simulator, key: rsa.RSAPrivateKey, **options: Any) -> Iterator[Send]:
    with mock_amazon_pay(sim, public_key=public_pem(key), **options):

        def send(
            method: str, path: str, body: bytes, headers: Mapping[str, str]
        ) -> tuple[int, dict[str, Any]]:
            answer = requests.request(
                method, f"https://pay-api.amazon.com{path}", data=body, headers=dict(headers)
            )
            return answer.status_code, answer.json()

        yield send


@pytest.fixture(params=["server", "mock"])
def front(request: pytest.FixtureRequest) -> Callable[..., Iterator[Send]]:
    """How a request reaches the verifier: over the app (TestClient) or the mock."""
    return _server if request.param == "server" else _mock


def _body() -> bytes:
    import json

    return json.dumps(session_body()).encode()


def _sign_only(
    key: rsa.RSAPrivateKey,
    method: str,
    path: str,
    body: bytes,
    sent: Mapping[str, str],
    names: list[str],
    key_id: str = KEY_ID,
) -> dict[str, str]:
    """``sent`` with an authorization header that signs only ``names`` (an SDK signs them
    all; this is a hand-made client that leaves some out), written independently of
    apfsm.server."""
    canonical = f"{method}\n{path}\n\n"
    canonical += "".join(f"{name}:{sent.get(name, '')}\n" for name in names)
    canonical += "\n" + ";".join(names) + "\n" + hashlib.sha256(body).hexdigest()
    algorithm = "AMZN-PAY-RSASSA-PSS-V2"
    to_sign = algorithm + "\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = key.sign(
        to_sign.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    return {
        **sent,
        "authorization": f"{algorithm} PublicKeyId={key_id}, SignedHeaders={';'.join(names)}, "
        f"Signature={base64.b64encode(signature).decode()}",
    }


def _create(key: rsa.RSAPrivateKey, *, date: str | None = None, **options: Any) -> dict[str, str]:
    return signed_headers(
        key,
        "POST",
        SESSIONS,
        _body(),
        headers={"x-amz-pay-idempotency-key": "sig-1"},
        date=date,
        key_id=options.get("key_id", KEY_ID),
    )


# -- x-amz-pay-date ------------------------------------------------------------------------


def test_a_date_in_the_future_is_refused_as_amazon_does(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    sim = make_sim()
    date = wall_date(timedelta(minutes=2))
    for send in front(sim, key):
        assert (
            400,
            {
                "reasonCode": "InvalidHeaderValue",
                "message": f"The value {date} provided for x-amz-pay-date should not be in future",
            },
        ) == send("POST", SESSIONS, _body(), _create(key, date=date))
        assert [] == sim.object_ids()  # refused before anything is done
        # The same request signed now is accepted: the key was not used up by the refusal.
        assert 201 == send("POST", SESSIONS, _body(), _create(key))[0]


def test_a_date_older_than_the_skew_is_refused(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    sim = make_sim()
    stale = wall_date(-DEFAULT_MAX_CLOCK_SKEW - timedelta(minutes=1))
    recent = wall_date(-DEFAULT_MAX_CLOCK_SKEW + timedelta(minutes=1))
    for send in front(sim, key):
        status, answer = send("POST", SESSIONS, _body(), _create(key, date=stale))
        assert (400, "InvalidHeaderValue") == (status, answer["reasonCode"])
        assert (
            f"The value {stale} provided for x-amz-pay-date is more than 15 min old"
            in (answer["message"])
        )
        assert [] == sim.object_ids()
        assert 201 == send("POST", SESSIONS, _body(), _create(key, date=recent))[0]


def test_the_skew_is_measured_by_the_wall_clock_not_the_simulated_one(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    # The simulator's clock stands years away from now; signing with the wall clock works,
    # signing with the simulated time does not.
    sim = Simulator(ManualClock(datetime(2031, 1, 1, tzinfo=UTC)))
    for send in front(sim, key):
        simulated = sim.now().strftime("%Y%m%dT%H%M%SZ")
        assert 400 == send("POST", SESSIONS, _body(), _create(key, date=simulated))[0]
        assert 201 == send("POST", SESSIONS, _body(), _create(key))[0]


def test_the_skew_is_configurable_and_can_be_turned_off(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    two_minutes_old = wall_date(timedelta(minutes=-2))
    for send in front(make_sim(), key, max_clock_skew=timedelta(minutes=1)):
        assert 400 == send("POST", SESSIONS, _body(), _create(key, date=two_minutes_old))[0]
    for send in front(make_sim(), key, max_clock_skew=None):
        # A recorded request replayed days later, or one from a clock ahead: both accepted.
        assert 201 == send("POST", SESSIONS, _body(), _create(key, date="20200101T000000Z"))[0]
        ahead = signed_headers(
            key,
            "POST",
            SESSIONS,
            _body(),
            headers={"x-amz-pay-idempotency-key": "sig-ahead"},
            date=wall_date(timedelta(days=1)),
        )
        assert 201 == send("POST", SESSIONS, _body(), ahead)[0]


@pytest.mark.parametrize(
    "date",
    ["2026-03-02 09:00:00", "20261302T090000Z", "20260302T0900Z", "1772442000", "20260302T090000"],
)
def test_a_date_that_is_not_amazons_format_is_invalid_header_value(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey, date: str
) -> None:
    for send in front(make_sim(), key):
        status, answer = send("POST", SESSIONS, _body(), _create(key, date=date))
        assert (400, "InvalidHeaderValue") == (status, answer["reasonCode"])
        assert f"The value {date} provided for x-amz-pay-date is invalid" in answer["message"]


# -- PublicKeyId ---------------------------------------------------------------------------


def test_an_unknown_public_key_id_is_refused(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    sim = make_sim()
    for send in front(sim, key, public_key_id=KEY_ID):
        other = _create(key, key_id="SANDBOX-SOMEONEELSE0000000000")
        assert (
            403,
            {
                "reasonCode": "InvalidRequestSignature",
                "message": "Unable to verify signature: no public key is registered under "
                "PublicKeyId 'SANDBOX-SOMEONEELSE0000000000'",
            },
        ) == send("POST", SESSIONS, _body(), other)
        assert [] == sim.object_ids()
        assert 201 == send("POST", SESSIONS, _body(), _create(key, key_id=KEY_ID))[0]


def test_without_a_registered_id_any_id_but_none_is_accepted(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    for send in front(make_sim(), key):
        assert 201 == send("POST", SESSIONS, _body(), _create(key, key_id="ANY-ID"))[0]
        status, answer = send("POST", SESSIONS, _body(), _create(key, key_id=""))
        assert (403, "InvalidRequestSignature") == (status, answer["reasonCode"])
        assert "names no PublicKeyId" in answer["message"]


# -- SignedHeaders -------------------------------------------------------------------------


def _sent(**extra: str) -> dict[str, str]:
    return {
        "accept": "application/json",
        "content-type": "application/json",
        "x-amz-pay-date": wall_date(),
        "x-amz-pay-host": "pay-api.amazon.com",
        "x-amz-pay-region": "na",
        **extra,
    }


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (
            [],
            "SignedHeaders is empty: it must list x-amz-pay-date, x-amz-pay-host, "
            "x-amz-pay-idempotency-key",
        ),
        (
            ["accept", "content-type", "x-amz-pay-host", "x-amz-pay-idempotency-key"],
            "SignedHeaders must list x-amz-pay-date",
        ),
        (
            ["accept", "x-amz-pay-date", "x-amz-pay-idempotency-key"],
            "SignedHeaders must list x-amz-pay-host",
        ),
        (
            ["accept", "content-type", "x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-region"],
            "SignedHeaders must list x-amz-pay-idempotency-key",
        ),
    ],
    ids=["empty", "no-date", "no-host", "no-idempotency-key"],
)
def test_signed_headers_must_cover_date_host_and_a_sent_idempotency_key(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey, names: list[str], message: str
) -> None:
    sim = make_sim()
    sent = _sent(**{"x-amz-pay-idempotency-key": "sig-2"})
    for send in front(sim, key):
        status, answer = send(
            "POST", SESSIONS, _body(), _sign_only(key, "POST", SESSIONS, _body(), sent, names)
        )
        assert (403, "InvalidRequestSignature") == (status, answer["reasonCode"])
        assert answer["message"].startswith(message)
        assert [] == sim.object_ids()


def test_a_post_without_a_key_needs_none_signed(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    # Complete Checkout Session is sent without an idempotency key by the Node and PHP SDKs:
    # nothing to sign then. (The session is not approved: the signature passed, the state
    # rule answers.)
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    path = f"{SESSIONS}/{sid}/complete"
    body = b'{"chargeAmount": {"amount": "100.00", "currencyCode": "USD"}}'
    names = ["accept", "content-type", "x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-region"]
    for send in front(sim, key):
        status, answer = send(
            "POST", path, body, _sign_only(key, "POST", path, body, _sent(), names)
        )
        assert (422, "InvalidCheckoutSessionStatus") == (status, answer["reasonCode"])


def test_the_sdk_signed_header_lists_are_accepted(key: rsa.RSAPrivateKey) -> None:
    # What the official SDKs sign (Node/PHP/Java on GET; with the key on POST).
    verifier = _Verifier(_load_public_key(public_pem(key)))
    get = ["accept", "content-type", "x-amz-pay-date", "x-amz-pay-host", "x-amz-pay-region"]
    headers = _sign_only(key, "GET", SESSIONS, b"", _sent(), get)
    assert verifier.check("GET", SESSIONS, "", headers, b"") is None


# -- boundaries, on the verifier with a manual clock (L-1 s, L, L+1 s) -----------------------


@pytest.mark.parametrize(
    ("age", "refused"),
    [
        (timedelta(seconds=-1), True),  # one second in the future
        (timedelta(0), False),
        (DEFAULT_MAX_CLOCK_SKEW - timedelta(seconds=1), False),
        (DEFAULT_MAX_CLOCK_SKEW, False),  # exactly the skew: still accepted
        (DEFAULT_MAX_CLOCK_SKEW + timedelta(seconds=1), True),
    ],
)
@pytest.mark.parametrize(
    "form",
    ["%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ"],  # PHP, Java, .NET; Node (toISOString)
)
def test_the_date_boundaries(
    key: rsa.RSAPrivateKey, age: timedelta, refused: bool, form: str
) -> None:
    now = datetime(2026, 3, 2, 9, 0, 0, 500_000, tzinfo=UTC)  # half a second past: ignored
    verifier = _Verifier(_load_public_key(public_pem(key)), clock=ManualClock(now))
    date = (now.replace(microsecond=0) - age).strftime(form)
    headers = signed_headers(key, "GET", SESSIONS, date=date)
    error = verifier.check("GET", SESSIONS, "", headers, b"")
    assert refused == (error is not None)
    if error is not None:
        assert ("InvalidHeaderValue", 400) == (error.reason_code, error.http_status)


def test_bad_verifier_settings_are_refused(key: rsa.RSAPrivateKey) -> None:
    pem = public_pem(key)
    with pytest.raises(ValueError, match="max_clock_skew must be positive"):
        create_app(make_sim(), public_key=pem, max_clock_skew=timedelta(0))
    with pytest.raises(ValueError, match="public_key_id must be a non-empty string"):
        create_app(make_sim(), public_key=pem, public_key_id=" ")


# -- a signature that does not verify ------------------------------------------------------


def test_a_wrong_signature_answers_in_amazons_words(
    front: Callable[..., Iterator[Send]], key: rsa.RSAPrivateKey
) -> None:
    """Amazon's answer as users of its SDKs quote it: "Unable to verify signature, signing
    String [AMZN-PAY-RSASSA-PSS\\n541....] , signature [Rc1E....]"
    (amzn/amazon-pay-api-sdk-dotnet issue #4; amzn/amazon-pay-api-sdk-php issue #45 quotes
    the same opening with AMZN-PAY-RSASSA-PSS-V2): the string Amazon signed (the
    algorithm, a newline, the canonical request's hash) and the signature sent."""
    sim = make_sim()
    names = ["accept", "content-type", "x-amz-pay-date", "x-amz-pay-host"]
    names += ["x-amz-pay-idempotency-key", "x-amz-pay-region"]
    sent = _sent(**{"x-amz-pay-idempotency-key": "wrong-1"})
    for send in front(sim, key):
        other = _sign_only(new_key(), "POST", SESSIONS, _body(), sent, names)
        signature = other["authorization"].rsplit("Signature=", 1)[1]
        # The string to sign, computed here as an SDK does (_sign_only's own recipe).
        canonical = f"POST\n{SESSIONS}\n\n"
        canonical += "".join(f"{name}:{sent.get(name, '')}\n" for name in names)
        canonical += "\n" + ";".join(names) + "\n" + hashlib.sha256(_body()).hexdigest()
        to_sign = "AMZN-PAY-RSASSA-PSS-V2\n" + hashlib.sha256(canonical.encode()).hexdigest()
        assert (
            403,
            {
                "reasonCode": "InvalidRequestSignature",
                "message": f"Unable to verify signature, signing String [{to_sign}] , "
                f"signature [{signature}]",
            },
        ) == send("POST", SESSIONS, _body(), other)
        assert [] == sim.object_ids()
