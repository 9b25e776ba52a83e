"""Hand-written tests of the stateful reference model, from SPEC.md and the oracle brief."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.reference.ref_amazon_pay import Outcome, RefAmazonPay
from tests.reference.spec_model import DEFAULT_LIMITS, RefLimits
from tests.simhelpers import DISPUTE_EVIDENCE, NODE_UPDATE_DISPUTE

T0 = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def session_body(
    intent: str | None = "Authorize",
    amount: str | None = "100.00",
    kind: str | None = None,
    **details: Any,
) -> dict[str, Any]:
    payment: dict[str, Any] = dict(details)
    if intent is not None:
        payment["paymentIntent"] = intent
    if amount is not None:
        payment["chargeAmount"] = usd(amount)
    body: dict[str, Any] = {
        "webCheckoutDetails": {
            "checkoutReviewReturnUrl": "https://shop.example/review",
            "checkoutResultReturnUrl": "https://shop.example/result",
        },
        "storeId": "store-1",
        "paymentDetails": payment,
    }
    if kind is not None:
        body["chargePermissionType"] = kind
        if kind == "Recurring":
            body["recurringMetadata"] = {"frequency": {"unit": "Month", "value": "1"}}
    return body


def checkout(
    model: RefAmazonPay,
    intent: str = "Authorize",
    amount: str = "100.00",
    card: str = "1111",
    kind: str | None = None,
    simulation_code: str | None = None,
    **details: Any,
) -> Outcome:
    """Create, approve and complete a checkout session."""
    created = model.call(
        "create_checkout_session", None, session_body(intent, amount, kind, **details)
    )
    assert created.ok
    session = created.created["CheckoutSession"]
    model.buyer_approve(session, card)
    body: dict[str, Any] = {"chargeAmount": usd(amount)}
    if details.get("totalOrderAmount") is not None:
        body["totalOrderAmount"] = details["totalOrderAmount"]  # SPEC §11: repeated
    return model.call("complete_checkout_session", session, body, simulation_code=simulation_code)


def state(model: RefAmazonPay, ref: str) -> tuple[str, str | None]:
    view = model.view(ref)
    assert view is not None
    return view["state"], view["reason"]


def test_order_end_to_end() -> None:
    model = RefAmazonPay(T0)
    created = model.call("create_checkout_session", None, session_body())
    assert (True, 201, None) == (created.ok, created.status, created.error_code)
    cs = created.created["CheckoutSession"]
    assert ["BuyerNotAssociated"] == (model.view(cs) or {})["constraints"]
    model.buyer_approve(cs)
    assert [] == (model.view(cs) or {})["constraints"]

    done = model.call("complete_checkout_session", cs, {"chargeAmount": usd("100.00")})
    assert (True, 200) == (done.ok, done.status)
    cp, ch = done.created["ChargePermission"], done.created["Charge"]
    assert ("Completed", None) == state(model, cs)
    assert Decimal("0") == (model.view(cp) or {})["amountBalance"]
    charge = model.view(ch) or {}
    assert ("Authorized", T0 + timedelta(days=30)) == (charge["state"], charge["expiration"])

    assert model.call("capture_charge", ch, {"captureAmount": usd("100.00")}).ok
    assert ("Closed", "AmazonClosed") == state(model, cp)
    assert (model.view(cp) or {})["expiration"] is None

    refund = model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("40.00")})
    assert (True, 201) == (refund.ok, refund.status)
    rf = refund.created["Refund"]
    assert ("RefundInitiated", None) == state(model, rf)
    model.advance(timedelta(seconds=29))
    assert Decimal("0") == (model.view(ch) or {})["refundedAmount"]
    model.advance(SECOND)
    assert ("Refunded", None) == state(model, rf)
    assert Decimal("40.00") == (model.view(ch) or {})["refundedAmount"]
    assert [
        ("CHARGE_PERMISSION", cp),
        ("CHARGE", ch),
        ("CHARGE", ch),
        ("CHARGE_PERMISSION", cp),
        ("REFUND", rf),
        ("REFUND", rf),
    ] == model.notifications()
    assert model.call("get_charge", ch, None).status == 200


def test_constraints_in_order_and_completion_refused() -> None:
    model = RefAmazonPay(T0)
    body = session_body(intent=None, amount=None, kind="Recurring")
    del body["webCheckoutDetails"]["checkoutResultReturnUrl"]
    del body["recurringMetadata"]
    cs = model.call("create_checkout_session", None, body).created["CheckoutSession"]
    assert [
        "CheckoutResultReturnUrlNotSet",
        "PaymentIntentNotSet",
        "BuyerNotAssociated",
        "RecurringFrequencyNotSet",
    ] == (model.view(cs) or {})["constraints"]
    update = {
        "paymentDetails": {"paymentIntent": "Authorize"},
        "webCheckoutDetails": {"checkoutResultReturnUrl": "https://x"},
    }
    assert model.call("update_checkout_session", cs, update).ok
    assert ["ChargeAmountNotSet", "BuyerNotAssociated", "RecurringFrequencyNotSet"] == (
        model.view(cs) or {}
    )["constraints"]
    refused = model.call("complete_checkout_session", cs, {"chargeAmount": usd("1.00")})
    assert ("InvalidCheckoutSessionStatus", 422) == (refused.error_code, refused.status)
    # A null value changes nothing; the merged combination is refused after the state rule.
    assert model.call("update_checkout_session", cs, {"paymentDetails": {"paymentIntent": None}}).ok
    combo = model.call(
        "update_checkout_session",
        cs,
        {
            "paymentDetails": {
                "paymentIntent": "AuthorizeWithCapture",
                "canHandlePendingAuthorization": False,
            }
        },
    )
    assert combo.ok
    combo = model.call(
        "update_checkout_session", cs, {"paymentDetails": {"canHandlePendingAuthorization": True}}
    )
    assert "InvalidParameterCombination" == combo.error_code


def test_completion_currency_and_amount_checks() -> None:
    model = RefAmazonPay(T0)
    cs = model.call("create_checkout_session", None, session_body()).created["CheckoutSession"]
    model.buyer_approve(cs)
    eur = {"chargeAmount": {"amount": "100.00", "currencyCode": "EUR"}}
    assert "CurrencyMismatch" == model.call("complete_checkout_session", cs, eur).error_code
    wrong = model.call("complete_checkout_session", cs, {"chargeAmount": usd("99.99")})
    assert ("AmountMismatch", 409) == (wrong.error_code, wrong.status)
    assert model.call("complete_checkout_session", cs, {"chargeAmount": usd("100.0")}).ok
    again = model.call("complete_checkout_session", cs, {"chargeAmount": usd("100.00")})
    assert "InvalidCheckoutSessionStatus" == again.error_code


def test_completion_repeats_the_total_order_amount() -> None:
    # SPEC §11: a session's totalOrderAmount must be carried by the completion too.
    model = RefAmazonPay(T0)
    body = session_body(totalOrderAmount=usd("250.00"))
    cs = model.call("create_checkout_session", None, body).created["CheckoutSession"]
    model.buyer_approve(cs)
    bare = model.call("complete_checkout_session", cs, {"chargeAmount": usd("100.00")})
    assert ("MissingParameterValue", 400) == (bare.error_code, bare.status)
    other = {"chargeAmount": usd("100.00"), "totalOrderAmount": usd("250.01")}
    assert "AmountMismatch" == model.call("complete_checkout_session", cs, other).error_code
    same = {"chargeAmount": usd("100.00"), "totalOrderAmount": usd("250.0")}
    assert model.call("complete_checkout_session", cs, same).ok


def test_completion_charge_obeys_the_per_charge_maximum() -> None:
    # SPEC §11: the per-charge maximum (§5) applies to the charge a completion creates.
    assert checkout(RefAmazonPay(T0), "AuthorizeWithCapture", "150000.00").ok
    over = checkout(RefAmazonPay(T0), "AuthorizeWithCapture", "150000.01")
    assert ("InvalidParameterValue", 400) == (over.error_code, over.status)
    assert checkout(RefAmazonPay(T0), "Confirm", "150000.01").ok  # no charge


@pytest.mark.parametrize(
    ("amount", "limit"), [("100.00", Decimal("900.00")), ("20.00", Decimal("500.00"))]
)
def test_allow_overcharge_amount_limit(amount: str, limit: Decimal) -> None:
    # SPEC §11: max(900 % of the order amount, 500 USD).
    model = RefAmazonPay(T0)
    cp = checkout(model, "Confirm", amount, allowOvercharge=True).created["ChargePermission"]
    over = model.call(
        "create_charge", None, {"chargePermissionId": cp, "chargeAmount": usd(str(limit + 1))}
    )
    assert "TransactionAmountExceeded" == over.error_code
    exact = {"chargePermissionId": cp, "chargeAmount": usd(str(limit))}
    assert model.call("create_charge", None, exact).ok


def test_one_refund_is_at_most_the_refund_maximum() -> None:
    # SPEC §11: one refund is at most 150,000 USD (the allowance would allow 150,075).
    model = RefAmazonPay(T0)
    ch = checkout(model, intent="AuthorizeWithCapture", amount="150000.00").created["Charge"]
    over = model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("150000.01")})
    assert ("InvalidParameterValue", 400) == (over.error_code, over.status)
    assert model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("150000.00")}).ok


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-SECOND, ("Open", None)),
        (timedelta(0), ("Canceled", "Expired")),
        (SECOND, ("Canceled", "Expired")),
    ],
)
def test_checkout_session_ttl_24h(offset: timedelta, expected: tuple[str, str | None]) -> None:
    model = RefAmazonPay(T0)
    cs = model.call("create_checkout_session", None, session_body()).created["CheckoutSession"]
    model.advance(timedelta(hours=24) + offset)
    assert expected == state(model, cs)


def test_checkout_session_ttl_strict_boundary_flag() -> None:
    model = RefAmazonPay(T0, replace(DEFAULT_LIMITS, ttl_passed_at_deadline=False))
    cs = model.call("create_checkout_session", None, session_body()).created["CheckoutSession"]
    model.advance(timedelta(hours=24))
    assert ("Open", None) == state(model, cs)
    model.advance(SECOND)
    assert ("Canceled", "Expired") == state(model, cs)


@pytest.mark.parametrize(
    ("offset", "found"), [(-SECOND, True), (timedelta(0), False), (SECOND, False)]
)
def test_checkout_session_retention_30d(offset: timedelta, found: bool) -> None:
    model = RefAmazonPay(T0)
    cs = model.call("create_checkout_session", None, session_body()).created["CheckoutSession"]
    model.advance(timedelta(days=30) + offset)
    assert found == (model.view(cs) is not None)
    answer = model.call("get_checkout_session", cs, None)
    assert (200 if found else 404) == answer.status


@pytest.mark.parametrize(
    ("offset", "found"), [(-SECOND, True), (timedelta(0), False), (SECOND, False)]
)
def test_buyer_token_24h(offset: timedelta, found: bool) -> None:
    # Get Buyer (SPEC §11): the token expires after 24 hours (amazonpay-onboarding.com
    # object/buyer); expired or unknown, ResourceNotFound (the project's decision).
    model = RefAmazonPay(T0)
    token = model.buyer_sign_in()
    assert 200 == model.call("get_buyer", token, None).status
    model.advance(timedelta(hours=24) + offset)
    assert (200 if found else 404) == model.call("get_buyer", token, None).status
    assert 404 == model.call("get_buyer", "no-such-token", None).status


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-SECOND, ("Authorized", None)),
        (timedelta(0), ("Canceled", "ExpiredUnused")),
        (SECOND, ("Canceled", "ExpiredUnused")),
    ],
)
def test_authorization_ttl_30d(offset: timedelta, expected: tuple[str, str | None]) -> None:
    model = RefAmazonPay(T0)
    ch = checkout(model).created["Charge"]
    model.advance(timedelta(days=30) + offset)
    assert expected == state(model, ch)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-SECOND, ("AuthorizationInitiated", None)),
        (timedelta(0), ("Declined", "TransactionTimedOut")),
        (SECOND, ("Declined", "TransactionTimedOut")),
    ],
)
def test_pending_authorization_24h(offset: timedelta, expected: tuple[str, str | None]) -> None:
    # An outcome slower than the TTL, so that the 24 h timer decides.
    model = RefAmazonPay(T0, replace(DEFAULT_LIMITS, async_outcome_delay=timedelta(days=2)))
    done = checkout(model, canHandlePendingAuthorization=True)
    assert (True, 202) == (done.ok, done.status)
    ch = done.created["Charge"]
    model.advance(timedelta(hours=24) + offset)
    assert expected == state(model, ch)
    assert (model.view(ch) or {})["expiration"] is None


@pytest.mark.parametrize(
    ("offset", "after_call"),
    [(-SECOND, "Captured"), (timedelta(0), "Captured"), (SECOND, "CaptureInitiated")],
)
def test_async_capture_after_7d(offset: timedelta, after_call: str) -> None:
    model = RefAmazonPay(T0)
    ch = checkout(model).created["Charge"]
    model.advance(timedelta(days=7) + offset)
    assert model.call("capture_charge", ch, {"captureAmount": usd("60.00")}).ok
    assert (after_call, None) == state(model, ch)
    model.advance(timedelta(seconds=30))
    view = model.view(ch) or {}
    assert ("Captured", Decimal("60.00")) == (view["state"], view["captureAmount"])


def test_capture_checks_and_cancel() -> None:
    model = RefAmazonPay(T0)
    ch = checkout(model).created["Charge"]
    eur = {"captureAmount": {"amount": "1.00", "currencyCode": "EUR"}}
    assert "CurrencyMismatch" == model.call("capture_charge", ch, eur).error_code
    too_much = model.call("capture_charge", ch, {"captureAmount": usd("100.01")})
    assert "TransactionAmountExceeded" == too_much.error_code
    assert model.call("cancel_charge", ch, None).ok
    assert ("Canceled", "MerchantCanceled") == state(model, ch)
    assert "InvalidChargeStatus" == model.call("cancel_charge", ch, None).error_code


@pytest.mark.parametrize(
    ("offset", "open_"), [(-SECOND, True), (timedelta(0), False), (SECOND, False)]
)
def test_one_time_permission_180d(offset: timedelta, open_: bool) -> None:
    model = RefAmazonPay(T0)
    cp = checkout(model, intent="Confirm").created["ChargePermission"]
    assert T0 + timedelta(days=180) == (model.view(cp) or {})["expiration"]
    model.advance(timedelta(days=180) + offset)
    assert (("Chargeable", None) if open_ else ("Closed", "Expired")) == state(model, cp)


def test_extended_one_time_permission_13_months() -> None:
    model = RefAmazonPay(T0)
    cp = checkout(model, intent="Confirm", extendExpiration=True).created["ChargePermission"]
    deadline = datetime(2027, 2, 10, 12, 0, 0, tzinfo=UTC)
    assert deadline == (model.view(cp) or {})["expiration"]
    model.move_to(deadline - SECOND)
    assert ("Chargeable", None) == state(model, cp)
    model.move_to(deadline)
    assert ("Closed", "Expired") == state(model, cp)


def test_recurring_permission_restarted_by_successful_charge() -> None:
    model = RefAmazonPay(T0)
    cp = checkout(model, intent="Confirm", kind="Recurring").created["ChargePermission"]
    assert datetime(2027, 2, 10, 12, tzinfo=UTC) == (model.view(cp) or {})["expiration"]
    model.advance(timedelta(days=100))
    body = {
        "chargePermissionId": cp,
        "chargeAmount": usd("10.00"),
        "canHandlePendingAuthorization": True,
    }
    ch = model.call("create_charge", None, body).created["Charge"]
    assert datetime(2027, 2, 10, 12, tzinfo=UTC) == (model.view(cp) or {})["expiration"]
    model.advance(timedelta(seconds=30))  # the pending authorization resolves: restart
    authorized = T0 + timedelta(days=100, seconds=30)
    assert ("Authorized", None) == state(model, ch)
    assert authorized + timedelta(days=30) == (model.view(ch) or {})["expiration"]
    expiration = datetime(2027, 5, 20, 12, 0, 30, tzinfo=UTC)
    assert expiration == (model.view(cp) or {})["expiration"]
    model.move_to(expiration - SECOND)
    assert "Chargeable" == state(model, cp)[0]
    model.move_to(expiration)
    assert ("Closed", "Expired") == state(model, cp)


def test_balance_and_amazon_closed() -> None:
    model = RefAmazonPay(T0)
    done = checkout(model, intent="Confirm", amount="100.00", totalOrderAmount=usd("150.00"))
    cp = done.created["ChargePermission"]
    assert (Decimal("150.00"), Decimal("150.00")) == (
        (model.view(cp) or {})["amountLimit"],
        (model.view(cp) or {})["amountBalance"],
    )
    first = model.call(
        "create_charge", None, {"chargePermissionId": cp, "chargeAmount": usd("100.00")}
    )
    assert (True, 201) == (first.ok, first.status)
    ch1 = first.created["Charge"]
    assert Decimal("50.00") == (model.view(cp) or {})["amountBalance"]
    over = model.call(
        "create_charge", None, {"chargePermissionId": cp, "chargeAmount": usd("50.01")}
    )
    assert ("TransactionAmountExceeded", 400) == (over.error_code, over.status)
    assert model.call("capture_charge", ch1, {"captureAmount": usd("70.00")}).ok  # releases 30
    assert Decimal("80.00") == (model.view(cp) or {})["amountBalance"]
    body = {"chargePermissionId": cp, "chargeAmount": usd("80.00"), "captureNow": True}
    ch2 = model.call("create_charge", None, body).created["Charge"]
    assert ("Closed", "AmazonClosed") == state(model, cp)
    assert Decimal("0") == (model.view(cp) or {})["amountBalance"]
    assert [("CHARGE", ch2), ("CHARGE_PERMISSION", cp)] == model.notifications()[-2:]
    assert (model.view(ch2) or {})["expiration"] is None  # never entered Authorized
    refused = model.call(
        "create_charge", None, {"chargePermissionId": cp, "chargeAmount": usd("1.00")}
    )
    assert "InvalidChargePermissionStatus" == refused.error_code


def test_monthly_cap_across_month_change() -> None:
    model = RefAmazonPay(datetime(2026, 1, 30, 12, tzinfo=UTC))
    cp = checkout(model, intent="Confirm", kind="Recurring").created["ChargePermission"]
    assert (model.view(cp) or {})["amountLimit"] is None

    def charge(amount: str, **extra: Any) -> Outcome:
        return model.call(
            "create_charge", None, {"chargePermissionId": cp, "chargeAmount": usd(amount), **extra}
        )

    first = charge("600.00")
    assert first.ok
    assert "PeriodicAmountExceeded" == charge("400.01").error_code
    canceled = charge("300.00")
    assert model.call("cancel_charge", canceled.created["Charge"], None).ok  # does not count
    assert charge("400.00").ok  # exactly the cap
    assert "PeriodicAmountExceeded" == charge("0.01").error_code
    model.move_to(datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert "PeriodicAmountExceeded" == charge("0.01").error_code
    model.advance(SECOND)  # 1 February 00:00 UTC: a new window
    assert charge("1000.00").ok
    assert "PeriodicAmountExceeded" == charge("0.01").error_code


def test_payment_method_on_file_monthly_cap() -> None:
    # SPEC §11: a Saved Wallet permission is capped at USD 15,000 per calendar month.
    model = RefAmazonPay(datetime(2026, 1, 30, 12, tzinfo=UTC))
    cp = checkout(model, intent="Confirm", kind="PaymentMethodOnFile").created["ChargePermission"]

    def charge(amount: str) -> Outcome:
        body = {"chargePermissionId": cp, "chargeAmount": usd(amount)}
        return model.call("create_charge", None, body)

    assert charge("10000.00").ok
    assert "PeriodicAmountExceeded" == charge("5000.01").error_code
    assert charge("5000.00").ok
    model.move_to(datetime(2026, 2, 1, tzinfo=UTC))
    assert charge("15000.00").ok


def test_charge_count_limit_counts_declined_charges() -> None:
    model = RefAmazonPay(T0, replace(DEFAULT_LIMITS, max_charges=3))
    cp = checkout(
        model, intent="Authorize", amount="10.00", totalOrderAmount=usd("100.00")
    ).created["ChargePermission"]
    body = {"chargePermissionId": cp, "chargeAmount": usd("1.00")}
    declined = model.call("create_charge", None, body, simulation_code="SoftDeclined")
    assert (False, 422, "SoftDeclined") == (declined.ok, declined.status, declined.error_code)
    assert ("Declined", "SoftDeclined") == state(model, declined.created["Charge"])
    assert model.call("create_charge", None, body).ok  # the third charge
    refused = model.call("create_charge", None, body)
    assert ("TransactionCountExceeded", 422, {}) == (
        refused.error_code,
        refused.status,
        refused.created,
    )


def test_refund_count_and_amount_limits() -> None:
    model = RefAmazonPay(T0, replace(DEFAULT_LIMITS, max_refunds_per_charge=3))
    ch = checkout(model, intent="AuthorizeWithCapture", amount="100.00").created["Charge"]
    # Allowance min(15 %, 75) = 15.00: up to 115.00 in refunds not Declined.
    first = model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("100.00")})
    assert first.ok
    over = model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("15.01")})
    assert ("TransactionAmountExceeded", 400) == (over.error_code, over.status)
    declined = model.call(
        "create_refund",
        None,
        {"chargeId": ch, "refundAmount": usd("15.00")},
        simulation_code="AmazonRejected",
    )
    assert declined.ok
    model.advance(timedelta(seconds=30))
    assert ("Declined", "AmazonRejected") == state(model, declined.created["Refund"])
    assert ("Refunded", None) == state(model, first.created["Refund"])
    assert Decimal("100.00") == (model.view(ch) or {})["refundedAmount"]
    assert model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("15.00")}).ok
    fourth = model.call("create_refund", None, {"chargeId": ch, "refundAmount": usd("0.01")})
    assert ("TransactionCountExceeded", 422) == (fourth.error_code, fourth.status)


@pytest.mark.parametrize(
    ("code", "status", "cp_state"),
    [
        ("SoftDeclined", 422, ("Chargeable", None)),
        ("HardDeclined", 422, ("NonChargeable", "PaymentMethodInvalid")),
        ("AmazonRejected", 422, ("Closed", "AmazonCanceled")),
        ("ProcessingFailure", 500, ("Chargeable", None)),
        ("TransactionTimedOut", 422, ("Chargeable", None)),
    ],
)
def test_create_charge_simulation_codes(
    code: str, status: int, cp_state: tuple[str, str | None]
) -> None:
    model = RefAmazonPay(T0)
    cp = checkout(model, intent="Confirm", kind="Recurring").created["ChargePermission"]
    body = {"chargePermissionId": cp, "chargeAmount": usd("5.00")}
    answer = model.call("create_charge", None, body, simulation_code=code)
    assert (False, status, code) == (answer.ok, answer.status, answer.error_code)
    ch = answer.created["Charge"]
    assert ("Declined", code) == state(model, ch)
    assert cp_state == state(model, cp)
    expected = [("CHARGE_PERMISSION", cp), ("CHARGE", ch)]
    if cp_state[0] != "Chargeable":
        expected.append(("CHARGE_PERMISSION", cp))
    assert expected == model.notifications()
    wrong = model.call("create_charge", None, body, simulation_code="CaptureInitiated")
    assert ("InvalidSandboxSimulationSpecified", 400) == (wrong.error_code, wrong.status)


def test_complete_simulation_code_cancels_session() -> None:
    model = RefAmazonPay(T0)
    refused = checkout(model, simulation_code="AmazonCanceled")
    assert ("CheckoutSessionCanceled", 422, {}) == (
        refused.error_code,
        refused.status,
        refused.created,
    )
    assert ("Canceled", "AmazonCanceled") == state(model, "cs1")
    again = model.call("complete_checkout_session", "cs1", {"chargeAmount": usd("100.00")})
    assert "CheckoutSessionCanceled" == again.error_code
    assert [] == model.notifications()


def test_sandbox_cards() -> None:
    model = RefAmazonPay(T0)
    cs = model.call("create_checkout_session", None, session_body()).created["CheckoutSession"]
    model.buyer_approve(cs, "3064")
    assert ("Canceled", "BuyerCanceled") == state(model, cs)

    assert "CheckoutSessionCanceled" == checkout(model, card="3434").error_code
    assert ("Canceled", "Declined") == state(model, "cs2")
    assert "CheckoutSessionCanceled" == checkout(model, card="4354").error_code

    # 3434: Canceled/Declined when the buyer returns, whatever the intent (Amazon's
    # sandbox-simulations page), so even a Confirm completion is refused.
    assert "CheckoutSessionCanceled" == checkout(model, intent="Confirm", card="3434").error_code

    # 4354 pending: AuthorizationInitiated, then Declined/HardDeclined after 30 s; 0701 authorizes.
    bad = checkout(model, card="4354", canHandlePendingAuthorization=True)
    good = checkout(model, card="0701", canHandlePendingAuthorization=True)
    assert (202, 202) == (bad.status, good.status)
    model.advance(timedelta(seconds=30))
    assert ("Declined", "HardDeclined") == state(model, bad.created["Charge"])
    assert ("Authorized", None) == state(model, good.created["Charge"])


@pytest.mark.parametrize("card", ["0701", "4354"])
@pytest.mark.parametrize("intent", ["Confirm", "Authorize", "AuthorizeWithCapture"])
def test_pending_cards_need_a_pending_authorization(card: str, intent: str) -> None:
    # SPEC §7: 0701/4354 need Authorize plus canHandlePendingAuthorization; with anything
    # else using them is an error (Decision: Canceled/Declined, CheckoutSessionCanceled).
    model = RefAmazonPay(T0)
    done = checkout(model, intent=intent, card=card)
    assert ("CheckoutSessionCanceled", 422) == (done.error_code, done.status)
    assert ("Canceled", "Declined") == state(model, "cs1")


@pytest.mark.parametrize("card", ["1111", "0005", "4444", "9424", "0000"])
def test_happy_cards(card: str) -> None:
    assert checkout(RefAmazonPay(T0), intent="AuthorizeWithCapture", card=card).ok


def test_capture_amazon_rejected_closes_permission() -> None:
    model = RefAmazonPay(T0)
    done = checkout(model)
    cp, ch = done.created["ChargePermission"], done.created["Charge"]
    assert model.call(
        "capture_charge", ch, {"captureAmount": usd("10.00")}, simulation_code="AmazonRejected"
    ).ok
    assert ("CaptureInitiated", None) == state(model, ch)
    assert Decimal("90.00") == (model.view(cp) or {})["amountBalance"]
    model.advance(timedelta(seconds=30))
    assert ("Declined", "AmazonRejected") == state(model, ch)
    assert ("Closed", "AmazonCanceled") == state(model, cp)
    assert [("CHARGE", ch), ("CHARGE", ch), ("CHARGE_PERMISSION", cp)] == model.notifications()[-3:]


def test_idempotency_replay_duplicate_and_bad_key() -> None:
    model = RefAmazonPay(T0)
    cp = checkout(model, intent="Confirm").created["ChargePermission"]
    body = {"chargePermissionId": cp, "chargeAmount": usd("10.00")}
    first = model.call("create_charge", None, body, key="k-1")
    notes = model.notifications()
    assert first == model.call("create_charge", None, dict(reversed(body.items())), key="k-1")
    assert notes == model.notifications()
    assert model.view("ch2") is None
    other = model.call("create_charge", None, {**body, "captureNow": True}, key="k-1")
    assert ("DuplicateIdempotencyKey", 400) == (other.error_code, other.status)
    bad = model.call("create_charge", None, body, key="x" * 33)
    assert ("InvalidHeaderValue", 400) == (bad.error_code, bad.status)
    # A refusal is remembered too: the replay is refused even once it would succeed.
    big = {"chargePermissionId": cp, "chargeAmount": usd("95.00")}
    refused = model.call("create_charge", None, big, key="k-2")
    assert "TransactionAmountExceeded" == refused.error_code
    assert model.call("cancel_charge", first.created["Charge"], None).ok
    assert refused == model.call("create_charge", None, big, key="k-2")
    assert model.call("create_charge", None, big, key="k-3").ok


def test_idempotency_keys_count_per_operation() -> None:
    """Amazon's own live-sandbox test, amzn/amazon-pay-api-sdk-nodejs
    tst/webStoreClientTest.js, sends one ``x-amz-pay-idempotency-key`` on
    createCheckoutSession (201), createCharge (201) and captureCharge (200): the same key on
    another operation is a new request; on the same operation it still replays or refuses."""
    model = RefAmazonPay(T0)
    created = model.call(
        "create_checkout_session", None, session_body("Authorize", "100.00", None), key="one"
    )
    assert created.ok
    cp = checkout(model, intent="Confirm").created["ChargePermission"]
    body = {"chargePermissionId": cp, "chargeAmount": usd("10.00")}
    charge = model.call("create_charge", None, body, key="one")
    assert (True, 201) == (charge.ok, charge.status)
    ch = charge.created["Charge"]
    capture = model.call("capture_charge", ch, {"captureAmount": usd("10.00")}, key="one")
    assert (True, 200) == (capture.ok, capture.status)
    assert charge == model.call("create_charge", None, body, key="one")
    other = model.call("create_charge", None, {**body, "chargeAmount": usd("9.00")}, key="one")
    assert ("DuplicateIdempotencyKey", 400) == (other.error_code, other.status)


def test_validation_order() -> None:
    model = RefAmazonPay(T0)
    bad_body: dict[str, Any] = {"chargeAmount": usd("1.00"), "bogus": 1}
    answer = model.call("create_charge", None, bad_body, key="bad key", simulation_code="Nope")
    assert "InvalidHeaderValue" == answer.error_code
    answer = model.call("create_charge", None, bad_body, simulation_code="Nope")
    assert "InvalidSandboxSimulationSpecified" == answer.error_code
    assert "UnrecognizedField" == model.call("create_charge", None, bad_body).error_code
    missing = {"chargePermissionId": "cp9", "chargeAmount": usd("1.00")}
    assert ("ResourceNotFound", 404) == (
        model.call("create_charge", None, missing).error_code,
        model.call("create_charge", None, missing).status,
    )
    assert (
        "MissingParameterValue" == model.call("complete_checkout_session", "cs9", None).error_code
    )
    assert "ResourceNotFound" == model.call("get_charge", "cs1", None).error_code


def test_close_with_cancel_pending_charges() -> None:
    model = RefAmazonPay(T0)
    done = checkout(model, intent="Authorize", amount="10.00", totalOrderAmount=usd("100.00"))
    cp, ch1 = done.created["ChargePermission"], done.created["Charge"]
    body = {
        "chargePermissionId": cp,
        "chargeAmount": usd("10.00"),
        "canHandlePendingAuthorization": True,
    }
    ch2 = model.call("create_charge", None, body).created["Charge"]
    ch3 = model.call("create_charge", None, {**body, "captureNow": True}).created["Charge"]
    before = len(model.notifications())
    assert model.call("close_charge_permission", cp, {"cancelPendingCharges": True}).ok
    assert ("Closed", "MerchantClosed") == state(model, cp)
    assert ("Canceled", "ChargePermissionCanceled") == state(model, ch1)
    assert ("Canceled", "ChargePermissionCanceled") == state(model, ch2)
    assert ("Captured", None) == state(model, ch3)
    assert [("CHARGE_PERMISSION", cp), ("CHARGE", ch1), ("CHARGE", ch2)] == model.notifications()[
        before:
    ]
    model.advance(timedelta(seconds=30))  # the pending outcome is dropped
    assert ("Canceled", "ChargePermissionCanceled") == state(model, ch2)
    assert (
        "InvalidChargePermissionStatus"
        == model.call("close_charge_permission", cp, None).error_code
    )


def test_payment_method_events() -> None:
    model = RefAmazonPay(T0)
    cp = checkout(model, intent="Confirm", kind="Recurring").created["ChargePermission"]
    model.payment_method_problem(cp, "PaymentMethodExpired")
    model.payment_method_problem(cp, "BillingAddressDeleted")
    assert ("NonChargeable", "PaymentMethodExpired") == state(model, cp)
    refused = model.call(
        "create_charge", None, {"chargePermissionId": cp, "chargeAmount": usd("1.00")}
    )
    assert "InvalidChargePermissionStatus" == refused.error_code
    model.payment_method_fixed(cp)
    assert ("Chargeable", None) == state(model, cp)
    model.buyer_close(cp)
    assert ("Closed", "BuyerClosed") == state(model, cp)
    assert [("CHARGE_PERMISSION", cp)] * 5 == model.notifications()
    with pytest.raises(ValueError, match="not in"):
        model.payment_method_fixed(cp)


def test_ordering_of_simultaneous_events_strict_boundary() -> None:
    # Pending authorization TTL equal to the async delay: with a strict boundary the async
    # outcome comes first (Authorized); with the inclusive one the timer scheduled first wins.
    limits = RefLimits(pending_authorization_ttl=timedelta(seconds=30))
    model = RefAmazonPay(T0, limits)
    ch = checkout(model, canHandlePendingAuthorization=True).created["Charge"]
    model.advance(timedelta(seconds=30))
    assert ("Declined", "TransactionTimedOut") == state(model, ch)

    strict = RefAmazonPay(T0, replace(limits, ttl_passed_at_deadline=False))
    ch = checkout(strict, canHandlePendingAuthorization=True).created["Charge"]
    strict.advance(timedelta(seconds=30))
    assert ("Authorized", None) == state(strict, ch)


def _dispute(model: RefAmazonPay) -> str:
    done = checkout(model, intent="AuthorizeWithCapture")
    body = {
        # The Node SDK's tst/webStoreClientTest.js createDisputePayload (in USD here).
        "chargeId": done.created["Charge"],
        "providerMetadata": {"providerDisputeId": "A2CQXQ2TUSYG7J"},
        "disputeAmount": usd("1"),
        "filingReason": "ProductNotReceived",
        "statusDetails": {"state": "ActionRequired"},
    }
    created = model.call("create_dispute", None, body, key=f"dispute-{body['chargeId']}")
    assert (True, 200) == (created.ok, created.status)
    return created.created["Dispute"]


#: The Node SDK test's updateDisputePayload, without its closure timestamp.
NODE_UPDATE = {"statusDetails": NODE_UPDATE_DISPUTE["statusDetails"]}


def test_the_node_sdk_tests_dispute_order() -> None:
    # tst/webStoreClientTest.js: createDispute, getDispute, updateDispute (Resolved),
    # contestDispute, 200 each: the contest reopens the dispute (docs/dispute.md).
    model = RefAmazonPay(T0)
    dp = _dispute(model)
    assert model.call("get_dispute", dp, None).ok
    assert model.call("update_dispute", dp, NODE_UPDATE).ok
    assert ("Resolved", "MerchantAcceptedDispute") == state(model, dp)
    contested = model.call("contest_dispute", dp, DISPUTE_EVIDENCE)
    assert (True, 200) == (contested.ok, contested.status)
    assert ("UnderReview", None) == state(model, dp)
    # Under review: a second contest is refused.
    again = model.call("contest_dispute", dp, DISPUTE_EVIDENCE)
    assert (False, "InvalidDisputeStatus") == (again.ok, again.error_code)
    assert [("CHARGEBACK", dp)] * 3 == [n for n in model.notifications() if n[0] == "CHARGEBACK"]


@pytest.mark.parametrize(
    ("offset", "open_"), [(-SECOND, True), (timedelta(0), False), (SECOND, False)]
)
def test_a_resolved_dispute_is_contested_within_its_window(offset: timedelta, open_: bool) -> None:
    model = RefAmazonPay(T0)
    dp = _dispute(model)
    asked = model.now().replace(microsecond=0)
    model.advance(2 * DAY)
    assert model.call("update_dispute", dp, NODE_UPDATE).ok
    model.move_to(asked + 11 * DAY + offset)
    contested = model.call("contest_dispute", dp, DISPUTE_EVIDENCE)
    if open_:
        assert ("UnderReview", None) == state(model, dp)
    else:
        assert (False, 422, "InvalidDisputeStatus") == (
            contested.ok,
            contested.status,
            contested.error_code,
        )
        assert ("Resolved", "MerchantAcceptedDispute") == state(model, dp)


def test_no_contest_once_the_window_resolved_it_nor_once_closed() -> None:
    model = RefAmazonPay(T0)
    expired, closed = _dispute(model), _dispute(model)
    assert model.call("update_dispute", closed, {"statusDetails": {"state": "Closed"}}).ok
    assert (
        "InvalidDisputeStatus" == model.call("contest_dispute", closed, DISPUTE_EVIDENCE).error_code
    )
    model.advance(11 * DAY)
    assert ("Resolved", "MerchantResponseDeadlineExpired") == state(model, expired)
    assert (
        "InvalidDisputeStatus"
        == model.call("contest_dispute", expired, DISPUTE_EVIDENCE).error_code
    )
