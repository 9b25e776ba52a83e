"""Hand-written sanity checks of the reference model, from SPEC.md's examples and boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.reference.spec_model import (
    Prediction,
    RefLimits,
    add_months,
    predict,
    refund_allowance,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
T0_TEXT = "20260101T120000Z"
SECOND = timedelta(seconds=1)


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def jpy(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "JPY"}


def session(state: str = "Open", reason: str | None = None, **extra: Any) -> dict[str, Any]:
    cs: dict[str, Any] = {
        "checkoutSessionId": "cs-1",
        "statusDetails": {"state": state, "reasonCode": reason},
        "creationTimestamp": T0_TEXT,
        "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": usd("10.00")},
        "constraints": [],
    }
    cs.update(extra)
    return cs


def charge(state: str = "Authorized", **extra: Any) -> dict[str, Any]:
    ch: dict[str, Any] = {
        "chargeId": "S01-1234567-1234567-C1234567",
        "statusDetails": {"state": state, "lastUpdatedTimestamp": T0_TEXT},
        "creationTimestamp": T0_TEXT,
        "chargeAmount": usd("100.00"),
        "captureAmount": None,
        "refundedAmount": usd("0.00"),
    }
    ch.update(extra)
    return ch


def permission(kind: str = "OneTime", state: str = "Chargeable", **extra: Any) -> dict[str, Any]:
    cp: dict[str, Any] = {
        "chargePermissionId": "S01-1234567-1234567",
        "chargePermissionType": kind,
        "statusDetails": {"state": state, "reasons": None},
        "creationTimestamp": T0_TEXT,
        "presentmentCurrency": "USD",
        "limits": {"amountLimit": usd("100.00"), "amountBalance": usd("60.00")},
    }
    cp.update(extra)
    return cp


def refused(code: str, status: int) -> Prediction:
    return Prediction(ok=False, next_state=None, error_code=code, http_status=status)


CREATE_CS_BODY: dict[str, Any] = {
    "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
    "storeId": "amzn1.application-oa2-client.x",
}


def test_create_checkout_session_minimal_and_empty_body() -> None:
    assert predict("create_checkout_session", None, CREATE_CS_BODY, T0) == Prediction(
        True, "Open", None, 201
    )
    assert predict("create_checkout_session", None, {}, T0) == refused("MissingParameterValue", 400)
    assert predict("create_checkout_session", None, [], T0) == refused("InvalidRequestFormat", 400)


def test_body_fault_priority() -> None:
    # Unrecognized field (nested) beats a wrong type and a missing field.
    body: dict[str, Any] = {
        "webCheckoutDetails": {"checkoutReviewReturnUrl": 5},
        "paymentDetails": {"foo": 1},
    }
    assert predict("create_checkout_session", None, body, T0).error_code == "UnrecognizedField"
    # Missing beats wrong type.
    body = {"webCheckoutDetails": {"checkoutReviewReturnUrl": 5}}
    assert predict("create_checkout_session", None, body, T0).error_code == (
        "MissingParameterValue"
    )
    # Wrong type beats a bad combination.
    body = {"chargePermissionId": "x", "chargeAmount": usd("1.00"), "softDescriptor": 7}
    assert predict("create_charge", permission(), body, T0).error_code == "InvalidParameterValue"
    # Opaque objects are not inspected, but must be objects.
    body = {**CREATE_CS_BODY, "providerMetadata": {"anything": [1, 2]}}
    assert predict("create_checkout_session", None, body, T0).ok
    body = {**CREATE_CS_BODY, "addressDetails": "street"}
    assert predict("create_checkout_session", None, body, T0).error_code == (
        "InvalidParameterValue"
    )


def test_get_accepts_no_fields() -> None:
    assert predict("get_charge", charge(), {}, T0).ok
    assert predict("get_charge", charge(), {"x": 1}, T0) == refused("UnrecognizedField", 400)


@pytest.mark.parametrize(
    ("amount", "code", "ok"),
    [
        ("100", "JPY", True),
        ("100.0", "JPY", False),
        ("0", "JPY", False),
        ("10.5", "USD", True),
        ("10.50", "USD", True),
        ("10.501", "USD", False),
        ("0.00", "USD", False),
        ("010", "USD", False),
        ("+1", "USD", False),
        ("1e2", "USD", False),
        ("1.00", "XYZ", False),
    ],
)
def test_amount_format(amount: str, code: str, ok: bool) -> None:
    body = {"captureAmount": {"amount": amount, "currencyCode": code}}
    target = charge(chargeAmount={"amount": "10000", "currencyCode": code})
    answer = predict("capture_charge", target, body, T0)
    if ok:
        assert answer.ok
    else:
        assert answer.error_code == "InvalidParameterValue"


def test_amount_number_is_judged_by_its_text() -> None:
    # SPEC §1 rev 2: a JSON-number amount is valid (the .NET SDK sends "amount":12.99,
    # amzn/amazon-pay-api-sdk-dotnet CaptureChargeRequestTests.CanConvertToJsonMinimal);
    # its text must still match the amount pattern.
    body = {"captureAmount": {"amount": 10, "currencyCode": "USD"}}
    assert predict("capture_charge", charge(), body, T0).ok
    for wrong in (True, 0.30000000000000004, -1, 0):
        body = {"captureAmount": {"amount": wrong, "currencyCode": "USD"}}
        assert predict("capture_charge", charge(), body, T0).error_code == "InvalidParameterValue"


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-SECOND, "Open"), (timedelta(0), "Canceled"), (SECOND, "Canceled")],
)
def test_checkout_session_ttl_24h(offset: timedelta, state: str) -> None:
    at = T0 + timedelta(hours=24) + offset
    assert predict("get_checkout_session", session(), None, at) == Prediction(
        True, state, None, 200
    )


def test_checkout_session_ttl_exclusive_boundary_flag() -> None:
    limits = RefLimits(ttl_passed_at_deadline=False)
    at = T0 + timedelta(hours=24)
    assert predict("get_checkout_session", session(), None, at, limits).next_state == "Open"


def test_checkout_session_printed_expiration_wins() -> None:
    cs = session(expirationTimestamp="20260101T130000Z")
    assert predict("get_checkout_session", cs, None, T0 + timedelta(hours=1)).next_state == (
        "Canceled"
    )


@pytest.mark.parametrize(
    ("offset", "found"), [(-SECOND, True), (timedelta(0), False), (SECOND, False)]
)
def test_checkout_session_retention_30d(offset: timedelta, found: bool) -> None:
    at = T0 + timedelta(days=30) + offset
    answer = predict("get_checkout_session", session("Completed"), None, at)
    if found:
        assert answer == Prediction(True, "Completed", None, 200)
    else:
        assert answer == refused("ResourceNotFound", 404)


def test_complete_order_of_checks() -> None:
    body = {"chargeAmount": usd("10.0")}
    assert predict("complete_checkout_session", session(), body, T0) == Prediction(
        True, "Completed", None, 200
    )
    # Body fault comes before the 404 of a deleted session (step 0 before step 1).
    late = T0 + timedelta(days=31)
    assert predict("complete_checkout_session", session(), {}, late).error_code == (
        "MissingParameterValue"
    )
    assert predict("complete_checkout_session", session(), body, late).http_status == 404
    assert predict(
        "complete_checkout_session", session("Canceled", "BuyerCanceled"), body, T0
    ) == refused("CheckoutSessionCanceled", 422)
    assert predict(
        "complete_checkout_session", session("Canceled", "Expired"), body, T0
    ) == refused("InvalidCheckoutSessionStatus", 422)
    blocked = session(constraints=[{"constraintId": "BuyerNotAssociated"}])
    assert predict("complete_checkout_session", blocked, body, T0).error_code == (
        "InvalidCheckoutSessionStatus"
    )
    assert predict(
        "complete_checkout_session", session(), {"chargeAmount": jpy("10")}, T0
    ) == refused("CurrencyMismatch", 400)
    assert predict(
        "complete_checkout_session", session(), {"chargeAmount": usd("10.01")}, T0
    ) == refused("AmountMismatch", 409)


def test_complete_pending_authorization_is_202() -> None:
    cs = session(
        paymentDetails={
            "paymentIntent": "Authorize",
            "canHandlePendingAuthorization": True,
            "chargeAmount": usd("10.00"),
        }
    )
    answer = predict("complete_checkout_session", cs, {"chargeAmount": usd("10.00")}, T0)
    assert answer == Prediction(True, "Completed", None, 202)


def test_update_checkout_session_combination() -> None:
    bad = {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture"}}
    cs = session(paymentDetails={"canHandlePendingAuthorization": True})
    assert predict("update_checkout_session", cs, bad, T0) == refused(
        "InvalidParameterCombination", 400
    )
    both = {
        "paymentDetails": {
            "paymentIntent": "AuthorizeWithCapture",
            "canHandlePendingAuthorization": True,
        }
    }
    assert predict("update_checkout_session", session("Completed"), both, T0).error_code == (
        "InvalidParameterCombination"
    )
    assert predict("update_checkout_session", session(), {}, T0).next_state == "Open"
    assert predict("update_checkout_session", session("Completed"), {}, T0).error_code == (
        "InvalidCheckoutSessionStatus"
    )


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-SECOND, "Authorized"), (timedelta(0), "Canceled"), (SECOND, "Canceled")],
)
def test_authorization_ttl_30d(offset: timedelta, state: str) -> None:
    at = T0 + timedelta(days=30) + offset
    assert predict("get_charge", charge(), None, at).next_state == state


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-SECOND, "AuthorizationInitiated"), (timedelta(0), "Declined"), (SECOND, "Declined")],
)
def test_pending_authorization_24h(offset: timedelta, state: str) -> None:
    at = T0 + timedelta(hours=24) + offset
    assert predict("get_charge", charge("AuthorizationInitiated"), None, at).next_state == state


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-SECOND, "Captured"), (timedelta(0), "Captured"), (SECOND, "CaptureInitiated")],
)
def test_async_capture_after_7d(offset: timedelta, state: str) -> None:
    at = T0 + timedelta(days=7) + offset
    answer = predict("capture_charge", charge(), {"captureAmount": usd("50.00")}, at)
    assert answer == Prediction(True, state, None, 200)


def test_async_capture_boundary_flag_and_printed_expiration() -> None:
    at = T0 + timedelta(days=7)
    limits = RefLimits(async_capture_at_boundary=True)
    assert predict("capture_charge", charge(), None, at, limits).next_state == "CaptureInitiated"
    # expirationTimestamp - 30 d is the authorization instant (here: T0 + 1 d).
    ch = charge(expirationTimestamp="20260201T120000Z")
    assert predict("capture_charge", ch, None, at).next_state == "Captured"
    assert predict("capture_charge", ch, None, at + timedelta(days=1, seconds=1)).next_state == (
        "CaptureInitiated"
    )


def test_capture_checks() -> None:
    assert predict("capture_charge", charge(), {"captureAmount": usd("100.01")}, T0) == refused(
        "TransactionAmountExceeded", 400
    )
    assert predict("capture_charge", charge(), {"captureAmount": jpy("1")}, T0) == refused(
        "CurrencyMismatch", 400
    )
    assert predict("capture_charge", charge("Captured"), None, T0) == refused(
        "InvalidChargeStatus", 422
    )


def test_refund_allowance_rounds_down() -> None:
    assert refund_allowance(Decimal("33.33"), "USD", RefLimits()) == Decimal("4.99")
    assert refund_allowance(Decimal("1001"), "JPY", RefLimits()) == Decimal("150")
    assert refund_allowance(Decimal("1000.00"), "USD", RefLimits()) == Decimal("75")
    assert refund_allowance(Decimal("100000"), "JPY", RefLimits()) == Decimal("8400")
    assert refund_allowance(Decimal("1000.00"), "CHF", RefLimits()) == Decimal("150.00")


@pytest.mark.parametrize(
    ("captured", "refunded", "refund", "ok"),
    [
        (usd("33.33"), usd("0.00"), usd("38.32"), True),
        (usd("33.33"), usd("0.00"), usd("38.33"), False),
        (usd("1000.00"), usd("1000.00"), usd("75.00"), True),
        (usd("1000.00"), usd("1000.00"), usd("75.01"), False),
        (jpy("1001"), jpy("0"), jpy("1151"), True),
        (jpy("1001"), jpy("0"), jpy("1152"), False),
    ],
)
def test_refund_cap(
    captured: dict[str, str], refunded: dict[str, str], refund: dict[str, str], ok: bool
) -> None:
    ch = charge("Captured", chargeAmount=captured, captureAmount=captured, refundedAmount=refunded)
    answer = predict("create_refund", ch, {"chargeId": "c", "refundAmount": refund}, T0)
    if ok:
        assert answer == Prediction(True, "RefundInitiated", None, 201)
    else:
        assert answer == refused("TransactionAmountExceeded", 400)


def test_create_charge_outcomes_and_checks() -> None:
    cp = permission()
    base = {"chargePermissionId": "S01-1234567-1234567", "chargeAmount": usd("50.00")}
    assert predict("create_charge", cp, base, T0) == Prediction(True, "Authorized", None, 201)
    assert predict("create_charge", cp, None, T0).next_state == "Authorized"
    captured = {**base, "captureNow": True, "softDescriptor": "SHOP"}
    assert predict("create_charge", cp, captured, T0).next_state == "Captured"
    pending = {**base, "canHandlePendingAuthorization": True}
    assert predict("create_charge", cp, pending, T0).next_state == "AuthorizationInitiated"
    assert predict("create_charge", cp, {**base, "softDescriptor": "SHOP"}, T0) == refused(
        "InvalidParameterCombination", 400
    )
    over = {**base, "chargeAmount": usd("60.01")}
    assert predict("create_charge", cp, over, T0) == refused("TransactionAmountExceeded", 400)
    other = {**base, "chargeAmount": jpy("50")}
    assert predict("create_charge", cp, other, T0) == refused("CurrencyMismatch", 400)
    closed = permission(state="NonChargeable")
    assert predict("create_charge", closed, base, T0) == refused(
        "InvalidChargePermissionStatus", 422
    )


def test_create_charge_per_charge_maximum_jpy() -> None:
    cp = permission("Recurring", presentmentCurrency="JPY", limits=None)
    uncapped = RefLimits(recurring_monthly_cap={})  # the monthly cap would come first
    ok_body = {"chargePermissionId": "p", "chargeAmount": jpy("10000000")}
    assert predict("create_charge", cp, ok_body, T0, uncapped).ok
    big = {"chargePermissionId": "p", "chargeAmount": jpy("10000001")}
    assert predict("create_charge", cp, big, T0, uncapped) == refused("InvalidParameterValue", 400)
    # SPEC §5: with the default cap (100,000 JPY a month) one such charge is over it.
    assert predict("create_charge", cp, ok_body, T0) == refused("PeriodicAmountExceeded", 400)


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-SECOND, "Chargeable"), (timedelta(0), "Closed"), (SECOND, "Closed")],
)
def test_one_time_permission_180d(offset: timedelta, state: str) -> None:
    at = T0 + timedelta(days=180) + offset
    assert predict("get_charge_permission", permission(), None, at).next_state == state


def test_recurring_permission_13_months_clamped() -> None:
    start = datetime(2026, 1, 31, 8, 30, tzinfo=UTC)
    assert add_months(start, 13) == datetime(2027, 2, 28, 8, 30, tzinfo=UTC)
    cp = permission("Recurring", creationTimestamp="20260131T083000Z")
    deadline = datetime(2027, 2, 28, 8, 30, tzinfo=UTC)
    assert predict("get_charge_permission", cp, None, deadline - SECOND).next_state == (
        "Chargeable"
    )
    assert predict("get_charge_permission", cp, None, deadline).next_state == "Closed"
    assert predict("close_charge_permission", cp, None, deadline) == refused(
        "InvalidChargePermissionStatus", 422
    )
    assert predict("close_charge_permission", cp, {"closureReason": "done"}, T0).next_state == (
        "Closed"
    )


def test_refund_get_and_naive_datetime() -> None:
    refund = {"refundId": "r", "statusDetails": {"state": "Refunded"}, "creationTimestamp": T0_TEXT}
    assert predict("get_refund", refund, None, T0 + timedelta(days=400)) == Prediction(
        True, "Refunded", None, 200
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        predict("get_refund", refund, None, datetime(2026, 1, 1))


def test_get_buyer_takes_the_token_as_live_and_a_missing_buyer_as_not_found() -> None:
    # SPEC §11 Get Buyer: the JSON shows no sign-in time (the project's decision).
    buyer = {"buyerId": "amzn1.account.X", "name": None}
    assert predict("get_buyer", buyer, None, T0 + timedelta(days=400)) == Prediction(
        True, "Active", None, 200
    )
    assert predict("get_buyer", None, None, T0) == Prediction(False, None, "ResourceNotFound", 404)
