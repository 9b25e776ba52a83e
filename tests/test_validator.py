"""apfsm.check and apfsm.check_transition: scenarios from SPEC.md, boundaries, misuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import apfsm
from apfsm import ApiError, Limits, Outcome, add_months, check, check_transition, format_timestamp

from .payloads import (
    CHARGE_ID,
    CP_ID,
    T0,
    charge,
    charge_permission,
    checkout_session,
    money,
    refund,
)

S = timedelta(seconds=1)
DAY = timedelta(days=1)
CAPTURE = {"captureAmount": money("100.00")}


def code_or_state(outcome: Outcome) -> str | None:
    return outcome.next_state if outcome.ok else outcome.reason_code


# ---------------------------------------------------------------------------------------
# The issue's own example
# ---------------------------------------------------------------------------------------


def test_issue_example_capture_after_30_days_and_after_7_days() -> None:
    target = charge("Authorized", authorized=T0)
    late = check("capture_charge", target, body=CAPTURE, at=T0 + timedelta(days=30))
    assert not late.ok
    assert "InvalidChargeStatus" == late.reason_code
    assert 422 == late.http_status
    assert late.error == ApiError.from_code("InvalidChargeStatus", late.message)
    assert "Canceled" in str(late.error)
    assert "ExpiredUnused" in str(late.error)
    slow = check("capture_charge", target, body=CAPTURE, at=T0 + timedelta(days=7) + S)
    assert slow.ok
    assert "CaptureInitiated" == slow.next_state
    assert None is slow.error


# ---------------------------------------------------------------------------------------
# Misuse is a clear ValueError/TypeError, never a KeyError
# ---------------------------------------------------------------------------------------


def test_unknown_operation() -> None:
    with pytest.raises(ValueError, match=r"unknown operation 'capture'.*capture_charge"):
        check("capture", charge(), at=T0)


def test_naive_or_missing_at() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check("get_charge", charge(), at=datetime(2026, 1, 1))
    with pytest.raises(TypeError, match="datetime"):
        check("get_charge", charge(), at="20260101T000000Z")  # type: ignore[arg-type]


def test_limits_must_be_limits() -> None:
    with pytest.raises(TypeError, match=r"apfsm\.Limits"):
        check("get_charge", charge(), at=T0, limits={"authorization_ttl": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "match"),
    [
        ([], "must be a JSON object"),
        ("{}", "must be a JSON object"),
        ({}, "no statusDetails"),
        ({"statusDetails": None}, "no statusDetails"),
        ({"statusDetails": {}}, "statusDetails.state"),
        ({"statusDetails": {"state": 3}}, "statusDetails.state"),
        ({"statusDetails": {"state": "Pending"}}, "'Pending' is not a Charge state"),
        ({"statusDetails": {"state": "Deleted"}}, "not a Charge state"),
        ({"statusDetails": {"state": "Authorized"}}, "lacks creationTimestamp"),
        ({**charge(), "expirationTimestamp": "soon"}, "expirationTimestamp.*not a timestamp"),
        ({**charge(), "expirationTimestamp": "2026-01-01T00:00:00"}, "no UTC offset"),
        ({**charge(), "chargeAmount": "100.00"}, "chargeAmount"),
    ],
)
def test_malformed_payloads_are_value_errors(target: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        check("capture_charge", target, body=CAPTURE, at=T0 + DAY)


def test_unknown_state_for_a_checkout_session_names_the_states() -> None:
    with pytest.raises(ValueError, match="states are Open, Completed, Canceled"):
        check("get_checkout_session", {"statusDetails": {"state": "Expired"}}, at=T0)


def test_create_checkout_session_takes_no_target() -> None:
    with pytest.raises(ValueError, match="pass target=None"):
        check("create_checkout_session", checkout_session(), at=T0)


def test_a_body_naming_another_object_than_the_target_is_a_value_error() -> None:
    body = {"chargeId": "S01-0000000-0000000-C0000000", "refundAmount": money("1.00")}
    with pytest.raises(ValueError, match="not the target's chargeId"):
        check("create_refund", charge("Captured"), body=body, at=T0)


def test_unknown_reason_codes_are_tolerated() -> None:
    target = charge("Captured", reason="SomethingAmazonAddedLater")
    assert "Captured" == check("get_charge", target, at=T0).next_state
    cs = checkout_session("Canceled", reason="NewReason")
    outcome = check("complete_checkout_session", cs, body={"chargeAmount": money("100.00")}, at=T0)
    assert "InvalidCheckoutSessionStatus" == outcome.reason_code


def test_mappings_other_than_dict_are_accepted_as_bodies() -> None:
    from types import MappingProxyType

    outcome = check("capture_charge", charge(), body=MappingProxyType(CAPTURE), at=T0 + DAY)
    assert "Captured" == outcome.next_state


def test_non_object_bodies_get_invalid_request_format() -> None:
    outcome = check("capture_charge", charge(), body=["x"], at=T0)  # type: ignore[arg-type]
    assert ("InvalidRequestFormat", 400) == (outcome.reason_code, outcome.http_status)


# ---------------------------------------------------------------------------------------
# Outcome
# ---------------------------------------------------------------------------------------


def test_outcome_api() -> None:
    refused = check("capture_charge", charge("Captured"), at=T0)
    assert {
        "ok": False,
        "next_state": None,
        "http_status": 422,
        "error": {
            "reasonCode": "InvalidChargeStatus",
            "message": "cannot capture a Charge in state Captured",
        },
    } == refused.to_json()
    assert refused.error is not refused.error  # fresh each time: safe to raise
    assert refused.error == refused.error
    with pytest.raises(ApiError, match="422 InvalidChargeStatus"):
        refused.raise_for_error()
    assert "<Outcome refused 422 InvalidChargeStatus: " in repr(refused)
    accepted = check("get_charge", charge("Captured"), at=T0)
    accepted.raise_for_error()
    assert "<Outcome ok 200 → Captured>" == repr(accepted)
    assert {
        "ok": True,
        "next_state": "Captured",
        "http_status": 200,
        "error": None,
    } == accepted.to_json()


# ---------------------------------------------------------------------------------------
# Checkout Session (SPEC §3)
# ---------------------------------------------------------------------------------------

COMPLETE = {"chargeAmount": money("100.00")}


def test_create_checkout_session() -> None:
    body = {"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://a/r"}, "storeId": "s"}
    outcome = check("create_checkout_session", None, body=body, at=T0)
    assert ("Open", 201) == (outcome.next_state, outcome.http_status)
    assert (("CheckoutSession", "Open"),) == outcome.created
    bad = check("create_checkout_session", None, body={"storeId": "s"}, at=T0)
    assert "MissingParameterValue" == bad.reason_code
    assert "Open" == check("create_checkout_session", None, at=T0).next_state


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=24) - S, "Open"),
        (timedelta(hours=24), "Canceled"),
        (timedelta(hours=24) + S, "Canceled"),
    ],
)
def test_session_expires_after_24_hours(delta: timedelta, expected: str) -> None:
    for expiration in (True, None):  # from the payload's field, or derived from creation
        target = checkout_session(expiration=expiration)
        assert expected == check("get_checkout_session", target, at=T0 + delta).next_state


def test_session_expiry_boundary_decision_is_configurable() -> None:
    strict = Limits(ttl_passed_at_deadline=False)
    target = checkout_session(expiration=None)
    at = T0 + timedelta(hours=24)
    assert "Open" == check("get_checkout_session", target, at=at, limits=strict).next_state
    assert "Canceled" == check("get_checkout_session", target, at=at + S, limits=strict).next_state


def test_payload_expiration_wins_over_the_derived_deadline() -> None:
    target = checkout_session(expiration=T0 + timedelta(hours=1))
    assert (
        "Canceled" == check("get_checkout_session", target, at=T0 + timedelta(hours=1)).next_state
    )
    later = checkout_session(expiration=T0 + timedelta(hours=30))
    assert "Open" == check("get_checkout_session", later, at=T0 + timedelta(hours=25)).next_state


def test_expired_session_refuses_completion_with_invalid_status() -> None:
    outcome = check("complete_checkout_session", checkout_session(), body=COMPLETE, at=T0 + DAY)
    assert ("InvalidCheckoutSessionStatus", 422) == (outcome.reason_code, outcome.http_status)
    assert "Expired" in (outcome.message or "")


@pytest.mark.parametrize(
    "operation", ["get_checkout_session", "update_checkout_session", "complete_checkout_session"]
)
@pytest.mark.parametrize("state", ["Open", "Completed", "Canceled"])
def test_sessions_are_deleted_after_30_days(operation: str, state: str) -> None:
    target = checkout_session(state, reason="BuyerCanceled" if state == "Canceled" else None)
    body = COMPLETE if operation == "complete_checkout_session" else {}
    before = check(operation, target, body=body, at=T0 + timedelta(days=30) - S)
    assert "ResourceNotFound" != before.reason_code
    for delta in (timedelta(days=30), timedelta(days=30) + S, timedelta(days=400)):
        gone = check(operation, target, body=body, at=T0 + delta)
        assert ("ResourceNotFound", 404) == (gone.reason_code, gone.http_status)


def test_body_validation_comes_before_existence() -> None:
    outcome = check(
        "complete_checkout_session", checkout_session(), body={}, at=T0 + timedelta(days=31)
    )
    assert "MissingParameterValue" == outcome.reason_code


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("BuyerCanceled", "CheckoutSessionCanceled"),
        ("Declined", "CheckoutSessionCanceled"),
        ("AmazonCanceled", "CheckoutSessionCanceled"),
        ("Expired", "InvalidCheckoutSessionStatus"),
    ],
)
def test_completing_a_canceled_session(reason: str, expected: str) -> None:
    target = checkout_session("Canceled", reason=reason)
    outcome = check("complete_checkout_session", target, body=COMPLETE, at=T0 + S)
    assert (expected, 422) == (outcome.reason_code, outcome.http_status)


def test_completing_a_completed_session() -> None:
    outcome = check(
        "complete_checkout_session", checkout_session("Completed"), body=COMPLETE, at=T0 + S
    )
    assert "InvalidCheckoutSessionStatus" == outcome.reason_code


def test_completion_order_constraints_then_currency_then_amount() -> None:
    pending = checkout_session(constraints=("BuyerNotAssociated", "ChargeAmountNotSet"))
    eur = {"chargeAmount": money("5.00", "EUR")}
    outcome = check("complete_checkout_session", pending, body=eur, at=T0 + S)
    assert "InvalidCheckoutSessionStatus" == outcome.reason_code
    assert "BuyerNotAssociated, ChargeAmountNotSet" in (outcome.message or "")
    ready = checkout_session()
    outcome = check("complete_checkout_session", ready, body=eur, at=T0 + S)
    assert ("CurrencyMismatch", 400) == (outcome.reason_code, outcome.http_status)
    outcome = check(
        "complete_checkout_session", ready, body={"chargeAmount": money("99.99")}, at=T0 + S
    )
    assert ("AmountMismatch", 409) == (outcome.reason_code, outcome.http_status)
    same = check(
        "complete_checkout_session", ready, body={"chargeAmount": money("100.0")}, at=T0 + S
    )
    assert same.ok


COMPLETION_TOTAL_SOURCE = (
    "https://developer.amazon.com/docs/amazon-pay-paymentmethodonfile-apb/"
    "verify-and-complete-checkout.html ('You must also specify totalOrderAmount if one was "
    "provided for the Checkout Session object'); SPEC §11. The codes are apfsm's Decision "
    "(docs/checkout-session.md): absent MissingParameterValue, different AmountMismatch."
)


def _with_total(amount: str, currency: str = "USD", **kwargs: Any) -> dict[str, Any]:
    session = checkout_session(**kwargs)
    session["paymentDetails"]["totalOrderAmount"] = money(amount, currency)
    return session


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (None, "MissingParameterValue"),
        (money("250.00"), "Completed"),
        (money("250.0"), "Completed"),  # the same amount, written differently
        (money("249.99"), "AmountMismatch"),
        (money("250.01"), "AmountMismatch"),
        (money("250.00", "EUR"), "AmountMismatch"),
    ],
)
def test_completion_must_repeat_the_sessions_total_order_amount(
    total: dict[str, str] | None, expected: str
) -> None:
    # Source: COMPLETION_TOTAL_SOURCE.
    body: dict[str, Any] = {"chargeAmount": money("100.00")}
    if total is not None:
        body["totalOrderAmount"] = total
    outcome = check("complete_checkout_session", _with_total("250.00"), body=body, at=T0 + S)
    assert expected == code_or_state(outcome)
    status = {"MissingParameterValue": 400, "AmountMismatch": 409, "Completed": 200}[expected]
    assert status == outcome.http_status


def test_completion_total_checks_come_after_the_charge_amount_checks() -> None:
    session = _with_total("250.00")
    body = {"chargeAmount": money("99.00")}  # a wrong chargeAmount, and no totalOrderAmount
    outcome = check("complete_checkout_session", session, body=body, at=T0 + S)
    assert "AmountMismatch" == outcome.reason_code
    assert "chargeAmount" in (outcome.message or "")
    # Without a session total, a body total is accepted as it is (it sets the limit).
    body = {"chargeAmount": money("100.00"), "totalOrderAmount": money("300.00")}
    assert check("complete_checkout_session", checkout_session(), body=body, at=T0 + S).ok


@pytest.mark.parametrize(
    ("intent", "amount", "currency", "expected"),
    [
        ("Authorize", "149999.99", "USD", "Completed"),
        ("Authorize", "150000.00", "USD", "Completed"),
        ("Authorize", "150000.01", "USD", "InvalidParameterValue"),
        ("AuthorizeWithCapture", "150000.01", "EUR", "InvalidParameterValue"),
        ("AuthorizeWithCapture", "10000000", "JPY", "Completed"),
        ("AuthorizeWithCapture", "10000001", "JPY", "InvalidParameterValue"),
        ("Confirm", "150000.01", "USD", "Completed"),  # no charge is created
    ],
)
def test_per_charge_maximum_applies_to_the_charge_a_completion_creates(
    intent: str, amount: str, currency: str, expected: str
) -> None:
    # SPEC §11 (rev 2): "The per-charge maximum (§5) applies to the charge a completion
    # creates."
    price = money(amount, currency)
    session = checkout_session(payment_intent=intent, charge_amount=price)
    outcome = check("complete_checkout_session", session, body={"chargeAmount": price}, at=T0 + S)
    assert expected == code_or_state(outcome)


@pytest.mark.parametrize(
    ("intent", "pending", "status", "created"),
    [
        ("Confirm", False, 200, (("ChargePermission", "Chargeable"),)),
        ("Authorize", False, 200, (("ChargePermission", "Chargeable"), ("Charge", "Authorized"))),
        (
            "Authorize",
            True,
            202,
            (("ChargePermission", "Chargeable"), ("Charge", "AuthorizationInitiated")),
        ),
        (
            "AuthorizeWithCapture",
            False,
            200,
            (("ChargePermission", "Chargeable"), ("Charge", "Captured")),
        ),
    ],
)
def test_completion_outcomes_by_payment_intent(
    intent: str,
    pending: bool,
    status: int,
    created: tuple[tuple[str, str], ...],
) -> None:
    target = checkout_session(payment_intent=intent, pending=pending)
    outcome = check("complete_checkout_session", target, body=COMPLETE, at=T0 + S)
    assert ("Completed", status, created) == (
        outcome.next_state,
        outcome.http_status,
        outcome.created,
    )


def test_update_only_while_open() -> None:
    body = {"merchantMetadata": {"merchantReferenceId": "o-1"}}
    assert (
        "Open" == check("update_checkout_session", checkout_session(), body=body, at=T0).next_state
    )
    done = check("update_checkout_session", checkout_session("Completed"), body=body, at=T0)
    assert "InvalidCheckoutSessionStatus" == done.reason_code


def test_update_that_would_combine_pending_with_capture_is_refused() -> None:
    target = checkout_session(payment_intent="Authorize", pending=True)
    body: dict[str, Any] = {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture"}}
    outcome = check("update_checkout_session", target, body=body, at=T0)
    assert "InvalidParameterCombination" == outcome.reason_code
    body = {
        "paymentDetails": {
            "paymentIntent": "AuthorizeWithCapture",
            "canHandlePendingAuthorization": False,
        }
    }
    assert check("update_checkout_session", target, body=body, at=T0).ok


# ---------------------------------------------------------------------------------------
# Charge Permission (SPEC §4)
# ---------------------------------------------------------------------------------------

CHARGE_BODY = {"chargePermissionId": CP_ID, "chargeAmount": money("40.00")}


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=180) - S, "Chargeable"),
        (timedelta(days=180), "Closed"),
        (timedelta(days=180) + S, "Closed"),
    ],
)
def test_one_time_permission_expires_after_180_days(delta: timedelta, expected: str) -> None:
    for expiration in (True, None):
        target = charge_permission(expiration=expiration)
        assert expected == check("get_charge_permission", target, at=T0 + delta).next_state


def test_recurring_permission_expires_after_13_calendar_months() -> None:
    created = datetime(2026, 1, 31, 10, tzinfo=UTC)
    target = charge_permission(permission_type="Recurring", created=created, expiration=None)
    deadline = datetime(2027, 2, 28, 10, tzinfo=UTC)  # SPEC §2's example
    assert "Chargeable" == check("get_charge_permission", target, at=deadline - S).next_state
    assert "Closed" == check("get_charge_permission", target, at=deadline).next_state
    outcome = check("create_charge", target, body={**CHARGE_BODY}, at=deadline + S)
    assert "InvalidChargePermissionStatus" == outcome.reason_code
    assert "(Expired since 20270228T100000Z)" in (outcome.message or "")


def test_payment_method_on_file_expires_like_recurring() -> None:
    target = charge_permission(permission_type="PaymentMethodOnFile", expiration=None)
    deadline = add_months(T0, 13)
    assert "Chargeable" == check("get_charge_permission", target, at=deadline - S).next_state
    assert "Closed" == check("get_charge_permission", target, at=deadline).next_state


@pytest.mark.parametrize(
    ("state", "reasons", "update", "close", "create"),
    [
        ("Chargeable", (), "Chargeable", "Closed", "Authorized"),
        ("NonChargeable", ("PaymentMethodExpired",), "NonChargeable", "Closed", "InvalidChargePermissionStatus"),
        ("Closed", ("MerchantClosed",), "InvalidChargePermissionStatus", "InvalidChargePermissionStatus", "InvalidChargePermissionStatus"),
        ("Closed", ("MerchantCanceled",), "InvalidChargePermissionStatus", "InvalidChargePermissionStatus", "InvalidChargePermissionStatus"),
    ],
)  # fmt: skip
def test_permission_operations_by_state(
    state: str, reasons: tuple[str, ...], update: str, close: str, create: str
) -> None:
    target = charge_permission(state, reasons=reasons)
    at = T0 + DAY
    assert update == code_or_state(check("update_charge_permission", target, body={}, at=at))
    assert close == code_or_state(
        check("close_charge_permission", target, body={"closureReason": "done"}, at=at)
    )
    assert create == code_or_state(check("create_charge", target, body=CHARGE_BODY, at=at))
    assert state == check("get_charge_permission", target, at=at).next_state


@pytest.mark.parametrize(
    ("extra", "expected", "status"),
    [
        ({}, "Authorized", 201),
        ({"captureNow": True}, "Captured", 201),
        ({"canHandlePendingAuthorization": True}, "AuthorizationInitiated", 201),
        ({"captureNow": True, "canHandlePendingAuthorization": True}, "Captured", 201),
        ({"captureNow": True, "softDescriptor": "SHOP"}, "Captured", 201),
    ],
)
def test_create_charge_next_state(extra: dict[str, Any], expected: str, status: int) -> None:
    outcome = check(
        "create_charge", charge_permission(), body={**CHARGE_BODY, **extra}, at=T0 + DAY
    )
    assert (expected, status) == (outcome.next_state, outcome.http_status)
    assert (("Charge", expected),) == outcome.created


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (money("40.00", "EUR"), "CurrencyMismatch"),
        (money("200000.00", "EUR"), "CurrencyMismatch"),  # currency comes before the maximum
        (money("100.01"), "TransactionAmountExceeded"),
        (money("100.00"), "Authorized"),
        (money("150000.01"), "InvalidParameterValue"),  # the per-charge maximum
    ],
)
def test_create_charge_amount_rules(amount: dict[str, str], expected: str) -> None:
    target = charge_permission(limit=money("200000.00"), balance=money("100.00"))
    body = {"chargePermissionId": CP_ID, "chargeAmount": amount}
    assert expected == code_or_state(check("create_charge", target, body=body, at=T0 + DAY))


@pytest.mark.parametrize(
    ("kind", "currency", "below", "at", "above"),
    [
        ("Recurring", "USD", "999.99", "1000.00", "1000.01"),
        ("Recurring", "JPY", "99999", "100000", "100001"),
        ("PaymentMethodOnFile", "USD", "14999.99", "15000.00", "15000.01"),
        ("PaymentMethodOnFile", "EUR", "14999.99", "15000.00", "15000.01"),
        ("PaymentMethodOnFile", "JPY", "1999999", "2000000", "2000001"),
    ],
)
def test_one_charge_above_the_monthly_cap_is_refused_without_history(
    kind: str, currency: str, below: str, at: str, above: str
) -> None:
    # SPEC §5 (Recurring), §11 (PaymentMethodOnFile; Amazon's "Monthly Saved Wallet Charge
    # Limits" page): no payload shows the month's total, but one charge above the cap is
    # over it whatever came before.
    target = charge_permission(permission_type=kind, limit=money("1", currency))
    for amount, expected in ((below, "Authorized"), (at, "Authorized")):
        body = {"chargePermissionId": CP_ID, "chargeAmount": money(amount, currency)}
        assert expected == code_or_state(check("create_charge", target, body=body, at=T0 + DAY))
    body = {"chargePermissionId": CP_ID, "chargeAmount": money(above, currency)}
    outcome = check("create_charge", target, body=body, at=T0 + DAY)
    assert ("PeriodicAmountExceeded", 400) == (outcome.reason_code, outcome.http_status)
    assert "monthly cap" in (outcome.message or "")


def test_recurring_permissions_have_no_balance_rule() -> None:
    target = charge_permission(permission_type="Recurring")
    body = {"chargePermissionId": CP_ID, "chargeAmount": money("999.99")}
    assert "Authorized" == check("create_charge", target, body=body, at=T0 + DAY).next_state


def test_per_charge_maximum_by_currency() -> None:
    target = charge_permission(limit=money("20000000", "JPY"), balance=money("20000000", "JPY"))
    for amount, expected in (("10000000", "Authorized"), ("10000001", "InvalidParameterValue")):
        body = {"chargePermissionId": CP_ID, "chargeAmount": money(amount, "JPY")}
        assert expected == code_or_state(check("create_charge", target, body=body, at=T0 + DAY))


# ---------------------------------------------------------------------------------------
# Charge (SPEC §5)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=7) - S, "Captured"),
        (timedelta(days=7), "Captured"),  # "more than 7 days" is strict
        (timedelta(days=7) + S, "CaptureInitiated"),
        (timedelta(days=30) - S, "CaptureInitiated"),
        (timedelta(days=30), "InvalidChargeStatus"),
        (timedelta(days=30) + S, "InvalidChargeStatus"),
    ],
)
def test_capture_windows(delta: timedelta, expected: str) -> None:
    for expiration in (True, False):
        target = charge(authorized=T0, expiration=expiration)
        assert expected == code_or_state(
            check("capture_charge", target, body=CAPTURE, at=T0 + delta)
        )


def test_async_capture_boundary_decision_is_configurable() -> None:
    limits = Limits(async_capture_at_boundary=True)
    outcome = check(
        "capture_charge", charge(), body=CAPTURE, at=T0 + timedelta(days=7), limits=limits
    )
    assert "CaptureInitiated" == outcome.next_state
    outcome = check(
        "capture_charge", charge(), body=CAPTURE, at=T0 + timedelta(days=7) - S, limits=limits
    )
    assert "Captured" == outcome.next_state


def test_authorization_instant_decision() -> None:
    # SPEC §2: expirationTimestamp − 30 d wins; else lastUpdatedTimestamp while Authorized;
    # else creationTimestamp.
    created = T0
    authorized = T0 + timedelta(days=2)
    with_exp = charge(created=created, authorized=authorized)
    at = authorized + timedelta(days=7)
    assert "Captured" == check("capture_charge", with_exp, body=CAPTURE, at=at).next_state
    no_exp = charge(created=created, authorized=authorized, expiration=False)
    assert "Captured" == check("capture_charge", no_exp, body=CAPTURE, at=at).next_state
    bare = {**no_exp, "statusDetails": {"state": "Authorized"}}
    assert "CaptureInitiated" == check("capture_charge", bare, body=CAPTURE, at=at).next_state


def test_payload_expiration_of_a_charge_wins() -> None:
    target = {**charge(), "expirationTimestamp": format_timestamp(T0 + timedelta(days=2))}
    # The authorization instant is then 28 days before T0: already more than 7 days ago.
    outcome = check("capture_charge", target, body=CAPTURE, at=T0 + DAY)
    assert "CaptureInitiated" == outcome.next_state
    assert (
        "InvalidChargeStatus"
        == check("capture_charge", target, body=CAPTURE, at=T0 + 2 * DAY).reason_code
    )


def test_a_captured_charge_never_expires() -> None:
    target = {**charge("Captured"), "expirationTimestamp": format_timestamp(T0 + DAY)}
    assert "Captured" == check("get_charge", target, at=T0 + timedelta(days=900)).next_state


def test_limits_override_changes_outcomes() -> None:
    target = charge(expiration=False)
    short = Limits(authorization_ttl=timedelta(days=10), async_capture_after=timedelta(days=2))
    at = T0 + timedelta(days=3)
    assert "Captured" == check("capture_charge", target, body=CAPTURE, at=at).next_state
    assert (
        "CaptureInitiated"
        == check("capture_charge", target, body=CAPTURE, at=at, limits=short).next_state
    )
    at = T0 + timedelta(days=10)
    assert (
        "InvalidChargeStatus"
        == check("capture_charge", target, body=CAPTURE, at=at, limits=short).reason_code
    )


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=24) - S, "AuthorizationInitiated"),
        (timedelta(hours=24), "Declined"),
        (timedelta(hours=24) + S, "Declined"),
    ],
)
def test_pending_authorization_times_out_after_24_hours(delta: timedelta, expected: str) -> None:
    target = charge("AuthorizationInitiated", expiration=False)
    assert expected == check("get_charge", target, at=T0 + delta).next_state
    cancel = check("cancel_charge", target, body={}, at=T0 + delta)
    assert (
        "Canceled" if expected == "AuthorizationInitiated" else "InvalidChargeStatus"
    ) == code_or_state(cancel)


@pytest.mark.parametrize(
    ("state", "capture", "cancel", "refund_"),
    [
        ("AuthorizationInitiated", "InvalidChargeStatus", "Canceled", "InvalidChargeStatus"),
        ("Authorized", "Captured", "Canceled", "InvalidChargeStatus"),
        ("CaptureInitiated", "InvalidChargeStatus", "InvalidChargeStatus", "InvalidChargeStatus"),
        ("Captured", "InvalidChargeStatus", "InvalidChargeStatus", "RefundInitiated"),
        ("Canceled", "InvalidChargeStatus", "InvalidChargeStatus", "InvalidChargeStatus"),
        ("Declined", "InvalidChargeStatus", "InvalidChargeStatus", "InvalidChargeStatus"),
    ],
)
def test_charge_operations_by_state(state: str, capture: str, cancel: str, refund_: str) -> None:
    target = charge(state, captured=money("100.00") if state == "Captured" else None)
    at = T0 + timedelta(hours=1)
    assert capture == code_or_state(check("capture_charge", target, body=CAPTURE, at=at))
    assert cancel == code_or_state(check("cancel_charge", target, at=at))
    body = {"chargeId": CHARGE_ID, "refundAmount": money("10.00")}
    assert refund_ == code_or_state(check("create_refund", target, body=body, at=at))
    assert state == check("get_charge", target, at=at).next_state


def test_capture_amount_and_currency_rules_come_after_the_state_rule() -> None:
    over = {"captureAmount": money("100.01")}
    assert (
        "TransactionAmountExceeded"
        == check("capture_charge", charge(), body=over, at=T0 + S).reason_code
    )
    eur = {"captureAmount": money("10.00", "EUR")}
    assert "CurrencyMismatch" == check("capture_charge", charge(), body=eur, at=T0 + S).reason_code
    assert (
        "InvalidChargeStatus"
        == check("capture_charge", charge("Captured"), body=over, at=T0 + S).reason_code
    )
    partial = check("capture_charge", charge(), body={"captureAmount": money("0.01")}, at=T0 + S)
    assert "Captured" == partial.next_state


@pytest.mark.parametrize(
    ("captured", "refunded", "amount", "expected"),
    [
        ("100.00", None, "115.00", "RefundInitiated"),  # 15 % over
        ("100.00", None, "115.01", "TransactionAmountExceeded"),
        ("100.00", "50.00", "65.00", "RefundInitiated"),
        ("100.00", "50.00", "65.01", "TransactionAmountExceeded"),
        ("1000.00", None, "1075.00", "RefundInitiated"),  # capped at 75 USD
        ("1000.00", None, "1075.01", "TransactionAmountExceeded"),
        ("0.33", None, "0.37", "RefundInitiated"),  # 0.0495 rounded down to 0.04
        ("0.33", None, "0.38", "TransactionAmountExceeded"),
    ],
)
def test_refund_cap(captured: str, refunded: str | None, amount: str, expected: str) -> None:
    target = charge(
        "Captured",
        amount=money("1000.00"),
        captured=money(captured),
        refunded=money(refunded) if refunded else None,
    )
    body = {"chargeId": CHARGE_ID, "refundAmount": money(amount)}
    outcome = check("create_refund", target, body=body, at=T0 + DAY)
    assert expected == code_or_state(outcome)
    if outcome.ok:
        assert (201, (("Refund", "RefundInitiated"),)) == (outcome.http_status, outcome.created)


def test_refund_cap_in_yen_and_without_capture_amount() -> None:
    target = charge("Captured", amount=money("100000", "JPY"))  # captureAmount null: chargeAmount
    ok = {"chargeId": CHARGE_ID, "refundAmount": money("108400", "JPY")}
    over = {"chargeId": CHARGE_ID, "refundAmount": money("108401", "JPY")}
    assert check("create_refund", target, body=ok, at=T0).ok
    assert (
        "TransactionAmountExceeded" == check("create_refund", target, body=over, at=T0).reason_code
    )
    usd = {"chargeId": CHARGE_ID, "refundAmount": money("1.00")}
    assert "CurrencyMismatch" == check("create_refund", target, body=usd, at=T0).reason_code


REFUND_MAXIMUM_SOURCE = (
    "https://developer.amazon.com/docs/amazon-pay-paymentmethodonfile-express/manage-refunds.html"
    " (refundAmount: 'Maximum value: 150,000 USD/GBP/EUR and 10,000,000 JPY'); SPEC §11"
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("149999.99", "USD", "RefundInitiated"),
        ("150000.00", "USD", "RefundInitiated"),
        ("150000.01", "USD", "InvalidParameterValue"),
        ("150000.00", "EUR", "RefundInitiated"),
        ("150000.01", "EUR", "InvalidParameterValue"),
        ("150000.01", "GBP", "InvalidParameterValue"),
        ("9999999", "JPY", "RefundInitiated"),
        ("10000000", "JPY", "RefundInitiated"),
        ("10000001", "JPY", "InvalidParameterValue"),
    ],
)
def test_refund_maximum_per_refund(amount: str, currency: str, expected: str) -> None:
    # Source: REFUND_MAXIMUM_SOURCE. The charge is captured at the per-charge maximum, so
    # the 15 % / 75 USD (8,400 JPY) overage would allow the amounts above the maximum.
    captured = "10000000" if currency == "JPY" else "150000.00"
    target = charge(
        "Captured", amount=money(captured, currency), captured=money(captured, currency)
    )
    body = {"chargeId": CHARGE_ID, "refundAmount": money(amount, currency)}
    outcome = check("create_refund", target, body=body, at=T0 + DAY)
    assert expected == code_or_state(outcome)
    if not outcome.ok:
        assert 400 == outcome.http_status
        assert "per-refund maximum" in (outcome.message or "")


def test_refund_maximum_is_a_limits_value() -> None:
    target = charge("Captured", amount=money("1000.00"), captured=money("1000.00"))
    body = {"chargeId": CHARGE_ID, "refundAmount": money("500.01")}
    assert check("create_refund", target, body=body, at=T0 + DAY).ok
    limits = Limits(max_refund_amount={"USD": 500})
    outcome = check("create_refund", target, body=body, at=T0 + DAY, limits=limits)
    assert "InvalidParameterValue" == outcome.reason_code
    # A currency not listed has no maximum.
    target = charge("Captured", amount=money("1000000", "SEK"), captured=money("1000000", "SEK"))
    body = {"chargeId": CHARGE_ID, "refundAmount": money("1000000", "SEK")}
    assert check("create_refund", target, body=body, at=T0 + DAY).ok


def test_refund_has_no_time_limit() -> None:
    target = charge("Captured", captured=money("100.00"))
    body = {"chargeId": CHARGE_ID, "refundAmount": money("10.00")}
    assert check("create_refund", target, body=body, at=T0 + timedelta(days=3000)).ok


@pytest.mark.parametrize("state", ["RefundInitiated", "Refunded", "Declined"])
def test_get_refund(state: str) -> None:
    assert state == check("get_refund", refund(state), at=T0 + timedelta(days=365)).next_state


def test_body_none_skips_body_rules_but_not_state_or_time() -> None:
    assert "Captured" == check("capture_charge", charge(), at=T0 + S).next_state
    assert "Authorized" == check("create_charge", charge_permission(), at=T0 + S).next_state
    assert (
        "Completed" == check("complete_checkout_session", checkout_session(), at=T0 + S).next_state
    )
    assert (
        "InvalidChargeStatus"
        == check("capture_charge", charge(), at=T0 + timedelta(days=31)).reason_code
    )


# ---------------------------------------------------------------------------------------
# Boundaries as properties: L − 1 s, L, L + 1 s for every limit, with any L and any start
# ---------------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
durations = st.timedeltas(min_value=timedelta(seconds=2), max_value=timedelta(days=400)).map(
    lambda d: timedelta(seconds=int(d.total_seconds()))
)
offsets = st.sampled_from([-S, timedelta(0), S])


@given(starts, durations, offsets)
def test_checkout_session_ttl_boundary(t0: datetime, ttl: timedelta, offset: timedelta) -> None:
    limits = Limits(checkout_session_ttl=ttl, checkout_session_retention=ttl + timedelta(days=1))
    target = checkout_session(created=t0, expiration=None)
    state = check("get_checkout_session", target, at=t0 + ttl + offset, limits=limits).next_state
    assert ("Open" if offset < timedelta(0) else "Canceled") == state


@given(starts, durations, offsets)
def test_checkout_session_retention_boundary(
    t0: datetime, keep: timedelta, offset: timedelta
) -> None:
    limits = Limits(checkout_session_retention=keep)
    target = checkout_session("Completed", created=t0)
    outcome = check("get_checkout_session", target, at=t0 + keep + offset, limits=limits)
    assert ("Completed" if offset < timedelta(0) else "ResourceNotFound") == code_or_state(outcome)


@given(starts, durations, offsets)
def test_pending_authorization_boundary(t0: datetime, ttl: timedelta, offset: timedelta) -> None:
    limits = Limits(pending_authorization_ttl=ttl)
    target = charge("AuthorizationInitiated", created=t0, expiration=False)
    state = check("get_charge", target, at=t0 + ttl + offset, limits=limits).next_state
    assert ("AuthorizationInitiated" if offset < timedelta(0) else "Declined") == state


@given(starts, durations, offsets)
def test_authorization_ttl_boundary(t0: datetime, ttl: timedelta, offset: timedelta) -> None:
    limits = Limits(authorization_ttl=ttl, async_capture_after=ttl * 2)
    target = charge(created=t0, expiration=False)
    outcome = check("capture_charge", target, body=CAPTURE, at=t0 + ttl + offset, limits=limits)
    assert ("Captured" if offset < timedelta(0) else "InvalidChargeStatus") == code_or_state(
        outcome
    )


@given(starts, durations, offsets)
def test_async_capture_boundary(t0: datetime, after: timedelta, offset: timedelta) -> None:
    limits = Limits(async_capture_after=after, authorization_ttl=after * 2)
    target = charge(created=t0, expiration=False)
    outcome = check("capture_charge", target, body=CAPTURE, at=t0 + after + offset, limits=limits)
    assert ("CaptureInitiated" if offset > timedelta(0) else "Captured") == outcome.next_state


@given(starts, durations, offsets)
def test_one_time_permission_boundary(t0: datetime, ttl: timedelta, offset: timedelta) -> None:
    limits = Limits(one_time_permission_ttl=ttl)
    target = charge_permission(created=t0, expiration=None)
    state = check("get_charge_permission", target, at=t0 + ttl + offset, limits=limits).next_state
    assert ("Chargeable" if offset < timedelta(0) else "Closed") == state


month_edges = st.builds(
    lambda year, month, last, hour: datetime(year, month, 1, hour, tzinfo=UTC)
    + (add_months(datetime(year, month, 1, tzinfo=UTC), 1) - datetime(year, month, 1, tzinfo=UTC) - DAY if last else timedelta(0)),
    st.integers(min_value=2020, max_value=2032),
    st.integers(min_value=1, max_value=12),
    st.booleans(),
    st.integers(min_value=0, max_value=23),
)  # fmt: skip


@given(st.one_of(month_edges, starts), st.integers(min_value=1, max_value=30), offsets)
def test_recurring_permission_month_boundary(t0: datetime, months: int, offset: timedelta) -> None:
    # Month ends and 29 February included: the day is clamped, the time of day kept.
    limits = Limits(recurring_permission_months=months)
    target = charge_permission(permission_type="Recurring", created=t0, expiration=None)
    deadline = add_months(t0, months)
    state = check("get_charge_permission", target, at=deadline + offset, limits=limits).next_state
    assert ("Chargeable" if offset < timedelta(0) else "Closed") == state


def test_leap_day_permission() -> None:
    t0 = datetime(2028, 2, 29, 12, tzinfo=UTC)
    target = charge_permission(permission_type="Recurring", created=t0, expiration=None)
    limits = Limits(recurring_permission_months=12)
    assert (
        "Chargeable"
        == check(
            "get_charge_permission",
            target,
            at=datetime(2029, 2, 28, 11, 59, 59, tzinfo=UTC),
            limits=limits,
        ).next_state
    )
    assert (
        "Closed"
        == check(
            "get_charge_permission", target, at=datetime(2029, 2, 28, 12, tzinfo=UTC), limits=limits
        ).next_state
    )


# ---------------------------------------------------------------------------------------
# check_transition
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("object_type", "source", "dest", "legal", "direct"),
    [
        ("Charge", "Authorized", "Captured", True, True),
        ("Charge", "Authorized", "CaptureInitiated", True, True),
        ("Charge", "CaptureInitiated", "Captured", True, True),
        ("Charge", "AuthorizationInitiated", "Captured", True, False),  # via Authorized
        ("Charge", "Captured", "Authorized", False, False),
        ("Charge", "Declined", "Captured", False, False),
        ("Charge", "Authorized", "Authorized", True, True),
        ("CheckoutSession", "Open", "Completed", True, True),
        ("CheckoutSession", "Completed", "Open", False, False),
        ("CheckoutSession", "Canceled", "Completed", False, False),
        ("ChargePermission", "NonChargeable", "Chargeable", True, True),
        ("ChargePermission", "Closed", "Chargeable", False, False),
        ("Refund", "RefundInitiated", "Refunded", True, True),
        ("Refund", "Refunded", "Declined", False, False),
    ],
)
def test_check_transition(
    object_type: str, source: str, dest: str, legal: bool, direct: bool
) -> None:
    assert legal == check_transition(object_type, source, dest)
    assert direct == check_transition(object_type, source, dest, direct=True)


def test_check_transition_misuse() -> None:
    with pytest.raises(ValueError, match="unknown object type 'Order'"):
        check_transition("Order", "Open", "Completed")
    with pytest.raises(ValueError, match="'Pending' is not a Charge state"):
        check_transition("Charge", "Pending", "Captured")
    with pytest.raises(ValueError, match="not a CheckoutSession state"):
        check_transition("CheckoutSession", "Open", "Deleted")


def test_public_names_are_reexported() -> None:
    assert apfsm.check is check
    assert apfsm.Outcome is Outcome
