"""Get Buyer, ``GET /v2/buyers/{buyerToken}``, and the buyer's Amazon Sign-in.

Sources: https://developer.amazon.com/docs/amazon-pay-api-v2/buyer.html (the Buyer object;
"Get Buyer will only return buyerId by default"), https://developer.amazon.com/docs/
amazon-pay-checkout/amazon-sign-in.html (``signInScopes``; the buyer returns to
``signInReturnUrl?buyerToken=...``), https://amazonpay-onboarding.com/en/specification/
object/buyer (the token expires after 24 hours), amzn/amazon-pay-api-sdk-nodejs
``tst/webStoreClientTest.js`` ``validateGetBuyerResponse`` (200, ``buyerId`` starting
``amzn1.account.``). Decisions (docs/buyer.md): unshared keys are null; an expired token
is ResourceNotFound, as an unknown one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import apfsm
from apfsm import ApiError, Limits, Simulator, check
from apfsm._errors import ActionRefused
from tests.simhelpers import T0, make_sim

KEYS = [
    "buyerId",
    "name",
    "email",
    "postalCode",
    "countryCode",
    "shippingAddress",
    "billingAddress",
    "phoneNumber",
    "primeMembershipTypes",
]
ALL_SCOPES = [
    "name",
    "email",
    "postalCode",
    "shippingAddress",
    "billingAddress",
    "phoneNumber",
    "primeStatus",
]
S = timedelta(seconds=1)
DAY = timedelta(hours=24)


def not_found(sim: Simulator, token: object) -> ApiError:
    with pytest.raises(ApiError) as caught:
        sim.get_buyer(token)  # type: ignore[arg-type]
    assert ("ResourceNotFound", 404) == (caught.value.reason_code, caught.value.http_status)
    return caught.value


def test_no_scope_shows_the_buyer_id_only_and_every_key() -> None:
    sim = make_sim()
    buyer = sim.get_buyer(sim.buyer_sign_in())
    assert KEYS == list(buyer)  # every key Amazon returns, in the Buyer page's order
    assert buyer["buyerId"].startswith("amzn1.account.")  # Node SDK validateGetBuyerResponse
    assert dict.fromkeys(KEYS[1:]) == {k: buyer[k] for k in KEYS[1:]}


@pytest.mark.parametrize(
    ("scope", "shared"),
    [
        ("name", {"name"}),
        ("email", {"email"}),
        # The default shipping address's postal and country code (buyer.html).
        ("postalCode", {"postalCode", "countryCode"}),
        ("shippingAddress", {"shippingAddress"}),
        ("billingAddress", {"billingAddress"}),
        ("phoneNumber", {"phoneNumber"}),
        ("primeStatus", {"primeMembershipTypes"}),
    ],
)
def test_each_scope_shares_its_keys_and_no_other(scope: str, shared: set[str]) -> None:
    sim = make_sim()
    buyer = sim.get_buyer(sim.buyer_sign_in(scopes=[scope]))
    assert shared | {"buyerId"} == {k for k, v in buyer.items() if v is not None}


def test_every_scope_shares_the_sandbox_buyer() -> None:
    sim = make_sim()
    buyer = sim.get_buyer(sim.buyer_sign_in(scopes=ALL_SCOPES))
    assert ("Sandbox Buyer", "buyer@example.com") == (buyer["name"], buyer["email"])
    assert ("98109", "US") == (buyer["postalCode"], buyer["countryCode"])
    assert buyer["shippingAddress"]["postalCode"] == buyer["postalCode"]
    assert "US" == buyer["billingAddress"]["countryCode"]
    assert [] == buyer["primeMembershipTypes"]  # "not available for general use"
    assert "800-000-0000" == buyer["phoneNumber"]


@pytest.mark.parametrize(
    ("after", "found"),
    [(DAY - S, True), (DAY, False), (DAY + S, False)],
)
def test_the_token_lasts_24_hours(after: timedelta, found: bool) -> None:
    # SPEC §2's boundary: a time-to-live L has passed at t0 + L.
    sim = make_sim()
    token = sim.buyer_sign_in(scopes=["name"])
    sim.advance(after)
    if found:
        assert "Sandbox Buyer" == sim.get_buyer(token)["name"]
    else:
        error = not_found(sim, token)
        assert "Buyer" in str(error)
        assert token not in sim.object_ids("Buyer")  # the expired token is dropped


def test_the_ttl_is_a_limit_and_follows_the_boundary_flag() -> None:
    short = make_sim(limits=Limits(buyer_token_ttl=timedelta(hours=1)))
    token = short.buyer_sign_in()
    short.advance(timedelta(hours=1))
    not_found(short, token)
    strict = make_sim(limits=Limits(ttl_passed_at_deadline=False))
    token = strict.buyer_sign_in()
    strict.advance(DAY)
    assert strict.get_buyer(token)["buyerId"]
    strict.advance(S)
    not_found(strict, token)


@pytest.mark.parametrize(
    "token",
    ["unknown-token", "", "a/b", "%2F..", "✓", "S01-0000000-0000000", " "],
)
def test_unknown_and_odd_tokens_are_resource_not_found(token: str) -> None:
    sim = make_sim()
    sim.buyer_sign_in()
    before = sim.state_fingerprint()
    not_found(sim, token)
    assert before == sim.state_fingerprint()


def test_another_objects_id_is_not_a_buyer_token() -> None:
    sim = make_sim()
    session = sim.create_checkout_session(
        {"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://a.example/r"}, "storeId": "s"}
    )
    not_found(sim, session["checkoutSessionId"])


@pytest.mark.parametrize(
    "scopes",
    ["name", ["nickname"], [1], None, {"name": True}, ["name", None]],
)
def test_bad_scopes_are_refused_and_change_nothing(scopes: object) -> None:
    sim = make_sim()
    before = sim.state_fingerprint()
    with pytest.raises(ActionRefused) as caught:
        sim.buyer_sign_in(scopes=scopes)  # type: ignore[arg-type]
    assert "InvalidParameterValue" == caught.value.reason_code
    assert before == sim.state_fingerprint()
    assert [] == sim.object_ids("Buyer")


def test_ids_are_seeded_and_distinct() -> None:
    def tokens(seed: object) -> list[tuple[str, str]]:
        sim = Simulator(seed=seed)  # type: ignore[arg-type]
        made = [sim.buyer_sign_in() for _ in range(3)]
        return [(t, sim.get_buyer(t)["buyerId"]) for t in made]

    first = tokens(7)
    assert first == tokens(7)  # the same seed, the same tokens and buyerIds
    assert first != tokens(8)
    assert 3 == len({t for t, _ in first}) == len({b for _, b in first})
    for token, buyer_id in first:
        assert 43 == len(token)
        assert token.replace("-", "").replace("_", "").isalnum()  # safe in a path
        assert buyer_id.removeprefix("amzn1.account.").isalnum()


def test_snapshot_round_trip_keeps_tokens_and_their_expiry() -> None:
    sim = make_sim()
    token = sim.buyer_sign_in(scopes=["email"])
    sim.advance(timedelta(hours=23))
    restored = Simulator.restore(sim.snapshot())
    assert sim.get_buyer(token) == restored.get_buyer(token)
    assert sim.pending_events() == restored.pending_events()
    restored.advance(timedelta(hours=1))
    not_found(restored, token)


def test_sign_in_is_logged_as_a_buyer_action_and_read_as_a_call() -> None:
    sim = make_sim()
    token = sim.buyer_sign_in(scopes=["name"])
    sim.get_buyer(token)
    sign_in, read = list(sim.log)
    assert ("buyer", "buyer_sign_in", {"scopes": ["name"]}) == (
        sign_in.kind,
        sign_in.operation,
        sign_in.request,
    )
    assert ("get_buyer", token, 200) == (read.operation, read.object_id, read.status)
    assert {"buyerToken": token} == sign_in.response
    assert apfsm.check_log(sim.log).ok
    assert [] == sim.notifications  # a Buyer sends no IPN


def test_check_takes_a_buyer_payload_as_live() -> None:
    # A Buyer's JSON shows no sign-in time (buyer.html): check() cannot see the 24 h.
    sim = make_sim()
    buyer = sim.get_buyer(sim.buyer_sign_in())
    assert check("get_buyer", buyer, at=T0 + timedelta(days=400)).ok
    assert "ResourceNotFound" == check("get_buyer", None, at=T0).reason_code
    with pytest.raises(ValueError, match="buyerId"):
        check("get_buyer", {"name": "x"}, at=T0)
