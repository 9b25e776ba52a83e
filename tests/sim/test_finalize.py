"""Finalize Checkout Session, ``POST /v2/checkoutSessions/{checkoutSessionId}/finalize``.

Amazon Pay's Buy Now and mobile checkouts finalize the session instead of completing it
(https://developer.amazon.com/docs/amazon-pay-checkout/verify-and-complete-checkout.html,
Buy Now; the mobile guide's ``docs/mobile-app/finalize-checkout-session.html``). The Node SDK
(amzn/amazon-pay-api-sdk-nodejs ``src/client.js`` ``finalizeCheckoutSession``) posts to
that path; its ``tst/webStoreClientTest.js`` sends ``finalizeCheckoutSessionPayload``
(``chargeAmount``, ``paymentIntent``, ``canHandlePendingAuthorization``,
``totalOrderAmount``, ``shippingAddress``, ``billingAddress``, ``supplementaryData``) and
expects 200 with a Checkout Session. apfsm: the same rules and outcome as Complete (an Open
session whose constraints are met, ``chargeAmount`` equal to the session's), with the
intent taken from the body; the addresses are accepted, not compared (not modelled).
"""

from __future__ import annotations

from typing import Any

import pytest

from apfsm import ApiError, Simulator, check

USD = {"amount": "10", "currencyCode": "USD"}
ADDRESS = {"name": "Susie Smith", "addressLine1": "10 Ditka Ave", "countryCode": "US"}


def _session(sim: Simulator, intent: str = "Confirm", *, approve: bool = True) -> str:
    """An Open Buy Now session whose own intent is ``intent``."""
    session = sim.create_checkout_session(
        {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://a.example/r",
                "checkoutResultReturnUrl": "https://a.example/x",
            },
            "storeId": "s",
            "paymentDetails": {"paymentIntent": intent, "chargeAmount": USD},
        }
    )
    sid = str(session["checkoutSessionId"])
    if approve:
        sim.buyer_approve(sid)
    return sid


def _finalize(sim: Simulator, sid: str, body: Any) -> Any:
    return sim.request("finalize_checkout_session", sid, body)


@pytest.mark.parametrize(
    ("intent", "pending", "status", "charge_state"),
    [
        ("Confirm", False, 200, None),
        ("Authorize", False, 200, "Authorized"),
        ("AuthorizeWithCapture", False, 200, "Captured"),
        ("Authorize", True, 202, "AuthorizationInitiated"),
    ],
)
def test_finalize_completes_and_charges_per_the_intent_it_carries(
    intent: str, pending: bool, status: int, charge_state: str | None
) -> None:
    sim = Simulator()
    sid = _session(sim)  # the session says Confirm: the body's intent wins
    body: dict[str, Any] = {
        "chargeAmount": USD,
        "paymentIntent": intent,
        "canHandlePendingAuthorization": pending,
        "totalOrderAmount": {"amount": "12", "currencyCode": "USD"},
        "supplementaryData": '{"orderId": "o-1"}',
        "shippingAddress": ADDRESS,
        "billingAddress": ADDRESS,
    }
    # The validator predicts the answer from the session's JSON, as the simulator gives it.
    predicted = check(
        "finalize_checkout_session", sim.get_checkout_session(sid), body=body, at=sim.now()
    )
    answer = _finalize(sim, sid, body)
    expected_created = (("ChargePermission", "Chargeable"),) + (
        (("Charge", charge_state),) if charge_state else ()
    )
    assert (True, "Completed", status, expected_created) == (
        predicted.ok,
        predicted.next_state,
        predicted.http_status,
        predicted.created,
    )
    assert (status, "Completed") == (answer.status, answer.body["statusDetails"]["state"])
    assert intent == answer.body["paymentDetails"]["paymentIntent"]
    permission = sim.get_charge_permission(answer.body["chargePermissionId"])
    assert "Chargeable" == permission["statusDetails"]["state"]
    if charge_state is None:
        assert answer.body["chargeId"] is None
    else:
        charge = sim.get_charge(answer.body["chargeId"])
        assert (charge_state, USD["amount"]) == (
            charge["statusDetails"]["state"],
            str(charge["chargeAmount"]["amount"]).rstrip("0").rstrip("."),
        )
    # Finalized is Completed: a second finalize is refused, by the validator too.
    again = check("finalize_checkout_session", answer.body, body=body, at=sim.now())
    assert "InvalidCheckoutSessionStatus" == again.reason_code


def test_finalize_with_the_sessions_own_intent_matches_complete() -> None:
    finalized, completed = Simulator(), Simulator()
    a, b = _session(finalized, "Authorize"), _session(completed, "Authorize")
    one = _finalize(finalized, a, {"chargeAmount": USD, "paymentIntent": "Authorize"})
    two = completed.request("complete_checkout_session", b, {"chargeAmount": USD})
    assert (two.status, two.body["statusDetails"]) == (one.status, one.body["statusDetails"])
    charges = [
        [sim.object_state(charge) for charge in sim.object_ids("Charge")]
        for sim in (finalized, completed)
    ]
    assert [["Authorized"], ["Authorized"]] == charges


@pytest.mark.parametrize(
    ("price", "code"),
    [
        ({"amount": "9.99", "currencyCode": "USD"}, "AmountMismatch"),
        ({"amount": "10", "currencyCode": "EUR"}, "CurrencyMismatch"),
    ],
)
def test_a_charge_amount_unlike_the_sessions_is_refused(price: Any, code: str) -> None:
    sim = Simulator()
    sid = _session(sim)
    body = {"chargeAmount": price, "paymentIntent": "Authorize"}
    predicted = check(
        "finalize_checkout_session", sim.get_checkout_session(sid), body=body, at=sim.now()
    )
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        _finalize(sim, sid, body)
    assert (code, code) == (refused.value.reason_code, predicted.reason_code)
    assert before == sim.state_fingerprint()


def test_finalize_is_refused_where_complete_is() -> None:
    sim = Simulator()
    unapproved = _session(sim, approve=False)  # BuyerNotAssociated: constraints not met
    done = _session(sim)
    _finalize(sim, done, {"chargeAmount": USD, "paymentIntent": "Confirm"})
    canceled = _session(sim)
    sim.buyer_cancel(canceled)
    body = {"chargeAmount": USD, "paymentIntent": "Confirm"}
    for sid, code in (
        (unapproved, "InvalidCheckoutSessionStatus"),
        (done, "InvalidCheckoutSessionStatus"),
        (canceled, "CheckoutSessionCanceled"),
        ("S01-0000000-0000000-0000000", "ResourceNotFound"),
    ):
        before = sim.state_fingerprint()
        with pytest.raises(ApiError) as refused:
            _finalize(sim, sid, body)
        assert code == refused.value.reason_code, sid
        assert before == sim.state_fingerprint()


def test_a_sandbox_simulation_code_cancels_as_on_complete() -> None:
    sim = Simulator()
    sid = _session(sim)
    with pytest.raises(ApiError) as refused:
        sim.request(
            "finalize_checkout_session",
            sid,
            {"chargeAmount": USD, "paymentIntent": "Authorize"},
            simulation_code="BuyerCanceled",
        )
    assert "CheckoutSessionCanceled" == refused.value.reason_code
    assert "Canceled" == sim.object_state(sid)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"paymentIntent": "Authorize"}, "MissingParameterValue"),
        ({"chargeAmount": USD}, "MissingParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": None}, "MissingParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": "Capture"}, "InvalidParameterValue"),
        # Amounts may be JSON numbers (SPEC §11), but not with more decimals than the currency.
        ({"chargeAmount": {"amount": "10.001", "currencyCode": "USD"}, "paymentIntent": "Confirm"},
         "InvalidParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": "Confirm", "shippingAddress": "x"},
         "InvalidParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": "Confirm", "billingAddress": [1]},
         "InvalidParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": "Confirm", "supplementaryData": 5},
         "InvalidParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": "Confirm", "canHandlePendingAuthorization": "y"},
         "InvalidParameterValue"),
        ({"chargeAmount": USD, "paymentIntent": "Confirm", "paymentDetails": {}},
         "UnrecognizedField"),
        (
            {
                "chargeAmount": USD,
                "paymentIntent": "AuthorizeWithCapture",
                "canHandlePendingAuthorization": True,
            },
            "InvalidParameterCombination",
        ),
        ([], "InvalidRequestFormat"),
    ],
)  # fmt: skip
def test_bad_bodies_get_their_code_and_change_nothing(body: Any, code: str) -> None:
    sim = Simulator()
    sid = _session(sim)
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        _finalize(sim, sid, body)
    assert code == refused.value.reason_code
    assert before == sim.state_fingerprint()
    assert "Open" == sim.object_state(sid)


def _priced_session(sim: Simulator, details: dict[str, Any]) -> str:
    session = sim.create_checkout_session(
        {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://a.example/r",
                "checkoutResultReturnUrl": "https://a.example/x",
            },
            "storeId": "s",
            "paymentDetails": {"paymentIntent": "Confirm", **details},
        }
    )
    sid = str(session["checkoutSessionId"])
    sim.buyer_approve(sid)
    return sid


def test_finalize_repeats_the_sessions_total_order_amount_like_complete() -> None:
    # SPEC §11 (Amazon's Complete Checkout Session: "You must also specify totalOrderAmount
    # if one was provided for the Checkout Session object"); Finalize has the same field.
    total = {"amount": "25", "currencyCode": "USD"}
    sim = Simulator()
    sid = _priced_session(sim, {"chargeAmount": USD, "totalOrderAmount": total})
    for body, code in (
        ({"chargeAmount": USD, "paymentIntent": "Authorize"}, "MissingParameterValue"),
        (
            {
                "chargeAmount": USD,
                "paymentIntent": "Authorize",
                "totalOrderAmount": {"amount": "26", "currencyCode": "USD"},
            },
            "AmountMismatch",
        ),
    ):
        before = sim.state_fingerprint()
        with pytest.raises(ApiError) as refused:
            _finalize(sim, sid, body)
        assert code == refused.value.reason_code
        assert before == sim.state_fingerprint()
    done = _finalize(
        sim, sid, {"chargeAmount": USD, "paymentIntent": "Authorize", "totalOrderAmount": total}
    )
    assert "Completed" == done.body["statusDetails"]["state"]
    permission = sim.get_charge_permission(str(done.body["chargePermissionId"]))
    assert "25.00" == permission["limits"]["amountLimit"]["amount"]


def test_per_charge_maximum_follows_the_intent_finalize_carries() -> None:
    # A Confirm session over the per-charge maximum: finalizing it with Confirm creates no
    # charge (accepted); with AuthorizeWithCapture the charge it would create is refused.
    sim = Simulator()
    largest = sim.limits.max_charge_amount["USD"]
    over = {"amount": str(largest + 1), "currencyCode": "USD"}
    refused_sid = _priced_session(sim, {"chargeAmount": over})
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        _finalize(sim, refused_sid, {"chargeAmount": over, "paymentIntent": "AuthorizeWithCapture"})
    assert "InvalidParameterValue" == refused.value.reason_code
    assert before == sim.state_fingerprint()
    accepted = _finalize(sim, refused_sid, {"chargeAmount": over, "paymentIntent": "Confirm"})
    assert (None, "Completed") == (
        accepted.body["chargeId"],
        accepted.body["statusDetails"]["state"],
    )


def test_every_operation_has_its_typed_method_and_finalize_is_one() -> None:
    # The façade's typed methods (apfsm/_sim/api.py) cover every declared operation, each
    # named after it; the typed Finalize answers what request() answers.
    from apfsm._spec import OPERATIONS

    assert [] == [name for name in OPERATIONS if not callable(getattr(Simulator, name, None))]
    sim = Simulator(seed=1)
    sid = _session(sim)
    body = sim.finalize_checkout_session(sid, {"chargeAmount": USD, "paymentIntent": "Authorize"})
    assert ("Completed", sid) == (body["statusDetails"]["state"], body["checkoutSessionId"])
    assert "Authorized" == sim.object_state(str(body["chargeId"]))
