"""Reading API payloads into facts (SPEC §1, §2, §4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from apfsm import Limits
from apfsm._decide.payloads import read_payload
from tests.payloads import T0, charge, charge_permission, checkout_session, money

LIMITS = Limits()


def test_charge_facts() -> None:
    facts = read_payload("Charge", charge(authorized=T0 + timedelta(hours=2)), LIMITS)
    assert "Authorized" == facts.state
    assert T0 == facts.created_at
    assert T0 + timedelta(hours=2) == facts.authorized_at
    assert T0 + timedelta(hours=2, days=30) == facts.payload_deadline
    assert (Decimal("100.00"), "USD") == facts.charge_amount
    assert (
        Decimal("100.00"),
        "USD",
    ) == facts.captured_amount  # not captured yet: the charge amount
    assert Decimal(0) == facts.refund_committed
    assert None is facts.refund_count  # history a payload does not show


def test_authorization_instant_follows_the_configured_ttl() -> None:
    payload = charge(authorized=T0)
    facts = read_payload("Charge", payload, Limits(authorization_ttl=timedelta(days=10)))
    # expirationTimestamp (T0 + 30 d) minus the configured TTL.
    assert T0 + timedelta(days=20) == facts.authorized_at


def test_charge_permission_reasons_and_old_spellings() -> None:
    facts = read_payload(
        "ChargePermission", charge_permission("Closed", reasons=("MerchantCanceled",)), LIMITS
    )
    assert "MerchantClosed" == facts.reason
    assert ("MerchantClosed",) == facts.reasons
    facts = read_payload(
        "ChargePermission",
        charge_permission("Closed", reasons=("BuyerCanceled", "Expired")),
        LIMITS,
    )
    assert ("BuyerClosed", "Expired") == facts.reasons
    no_list = {
        **charge_permission("Closed"),
        "statusDetails": {"state": "Closed", "reasonCode": "BuyerCanceled"},
    }
    assert "BuyerClosed" == read_payload("ChargePermission", no_list, LIMITS).reason


def test_charge_permission_amounts() -> None:
    facts = read_payload(
        "ChargePermission",
        charge_permission(limit=money("80.00", "EUR"), balance=money("30.00", "EUR")),
        LIMITS,
    )
    assert "EUR" == facts.currency
    assert Decimal("30.00") == facts.amount_balance
    recurring = read_payload(
        "ChargePermission", charge_permission(permission_type="Recurring"), LIMITS
    )
    assert "USD" == recurring.currency  # from presentmentCurrency
    assert None is recurring.amount_balance
    assert None is recurring.monthly_total(T0)


def test_checkout_session_facts() -> None:
    facts = read_payload(
        "CheckoutSession", checkout_session(constraints=("BuyerNotAssociated",)), LIMITS
    )
    assert ("BuyerNotAssociated",) == facts.constraints
    assert (Decimal("100.00"), "USD") == facts.charge_amount
    assert "Authorize" == facts.payment_details["paymentIntent"]
    bare = {"statusDetails": {"state": "Open"}, "constraints": ["ChargeAmountNotSet"]}
    facts = read_payload("CheckoutSession", bare, LIMITS)
    assert ("ChargeAmountNotSet",) == facts.constraints
    assert None is facts.charge_amount
    assert {} == dict(facts.payment_details)


@pytest.mark.parametrize(
    ("object_type", "payload", "attribute", "match"),
    [
        (
            "CheckoutSession",
            {"statusDetails": {"state": "Open"}, "constraints": "x"},
            "constraints",
            "must be a list",
        ),
        (
            "CheckoutSession",
            {"statusDetails": {"state": "Open"}, "constraints": [{}]},
            "constraints",
            "no constraintId",
        ),
        (
            "CheckoutSession",
            {"statusDetails": {"state": "Open"}, "paymentDetails": 3},
            "payment_details",
            "must be an object",
        ),
        (
            "ChargePermission",
            {"statusDetails": {"state": "Closed"}},
            "permission_type",
            "chargePermissionType",
        ),
        ("Charge", {"statusDetails": {"state": "Captured"}}, "charge_amount", "lacks chargeAmount"),
        (
            "Charge",
            {
                "statusDetails": {"state": "Captured"},
                "refundedAmount": {"amount": 5, "currencyCode": "USD"},
            },
            "refund_committed",
            "refundedAmount.amount must be a decimal string",
        ),
    ],
)
def test_malformed_fields_name_themselves(
    object_type: str, payload: dict[str, object], attribute: str, match: str
) -> None:
    facts = read_payload(object_type, payload, LIMITS)
    with pytest.raises(ValueError, match=match):
        getattr(facts, attribute)


def test_unknown_reason_codes_are_kept() -> None:
    facts = read_payload("Charge", charge("Captured", reason="BrandNewReason"), LIMITS)
    assert "BrandNewReason" == facts.reason
