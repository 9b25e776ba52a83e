"""Builders for API payloads (as Amazon Pay returns them), shared by the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apfsm import format_timestamp

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CP_ID = "S01-5105180-3221187"
CHARGE_ID = f"{CP_ID}-C056351"


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


def _details(state: str, reason: str | None, updated: datetime) -> dict[str, Any]:
    return {
        "state": state,
        "reasonCode": reason,
        "reasonDescription": None,
        "lastUpdatedTimestamp": format_timestamp(updated),
    }


def checkout_session(
    state: str = "Open",
    *,
    reason: str | None = None,
    created: datetime = T0,
    constraints: tuple[str, ...] = (),
    payment_intent: str = "Authorize",
    charge_amount: dict[str, str] | None = None,
    pending: bool = False,
    expiration: datetime | bool | None = True,
) -> dict[str, Any]:
    if expiration is True:
        expiration = created + timedelta(hours=24)
    return {
        "checkoutSessionId": "bd504926-f659-4ad7-a1a9-9a747aaf5275",
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "chargePermissionType": "OneTime",
        "paymentDetails": {
            "paymentIntent": payment_intent,
            "canHandlePendingAuthorization": pending,
            "chargeAmount": charge_amount or money("100.00"),
            "presentmentCurrency": (charge_amount or money("100.00"))["currencyCode"],
        },
        "merchantMetadata": None,
        "constraints": [{"constraintId": c, "description": c} for c in constraints],
        "statusDetails": _details(state, reason, created),
        "chargePermissionId": None,
        "chargeId": None,
        "creationTimestamp": format_timestamp(created),
        "expirationTimestamp": None
        if expiration in (None, False)
        else format_timestamp(expiration),  # type: ignore[arg-type]
        "storeId": "amzn1.application-oa2-client.1",
        "releaseEnvironment": "Sandbox",
    }


def charge_permission(
    state: str = "Chargeable",
    *,
    reasons: tuple[str, ...] = (),
    created: datetime = T0,
    permission_type: str = "OneTime",
    limit: dict[str, str] | None = None,
    balance: dict[str, str] | None = None,
    expiration: datetime | bool | None = True,
) -> dict[str, Any]:
    if expiration is True:
        expiration = created + timedelta(days=180) if permission_type == "OneTime" else None
    limit = limit or money("100.00")
    return {
        "chargePermissionId": CP_ID,
        "chargePermissionType": permission_type,
        "limits": None
        if permission_type != "OneTime"
        else {"amountLimit": limit, "amountBalance": balance or limit},
        "presentmentCurrency": limit["currencyCode"],
        "merchantMetadata": None,
        "statusDetails": {
            "state": state,
            "reasons": [{"reasonCode": r, "reasonDescription": None} for r in reasons] or None,
            "lastUpdatedTimestamp": format_timestamp(created),
        },
        "creationTimestamp": format_timestamp(created),
        "expirationTimestamp": None
        if expiration in (None, False)
        else format_timestamp(expiration),  # type: ignore[arg-type]
        "releaseEnvironment": "Sandbox",
    }


def charge(
    state: str = "Authorized",
    *,
    reason: str | None = None,
    created: datetime = T0,
    authorized: datetime | None = None,
    amount: dict[str, str] | None = None,
    captured: dict[str, str] | None = None,
    refunded: dict[str, str] | None = None,
    expiration: bool = True,
) -> dict[str, Any]:
    authorized = authorized or created
    amount = amount or money("100.00")
    return {
        "chargeId": CHARGE_ID,
        "chargePermissionId": CP_ID,
        "chargeAmount": amount,
        "captureAmount": captured,
        "refundedAmount": refunded or money("0.00", amount["currencyCode"]),
        "softDescriptor": None,
        "merchantMetadata": None,
        "statusDetails": _details(state, reason, authorized),
        "creationTimestamp": format_timestamp(created),
        "expirationTimestamp": format_timestamp(authorized + timedelta(days=30))
        if expiration and state == "Authorized"
        else None,
        "releaseEnvironment": "Sandbox",
    }


def refund(state: str = "RefundInitiated", *, reason: str | None = None) -> dict[str, Any]:
    return {
        "refundId": f"{CP_ID}-R012345",
        "chargeId": CHARGE_ID,
        "refundAmount": money("10.00"),
        "statusDetails": _details(state, reason, T0),
        "creationTimestamp": format_timestamp(T0),
        "releaseEnvironment": "Sandbox",
    }


def buyer(state: str = "Active") -> dict[str, Any]:
    """A Get Buyer answer (buyer.html): buyerId only (no sign-in scope); no statusDetails,
    so ``state`` can only be ``Active``."""
    assert "Active" == state
    return {
        "buyerId": "amzn1.account.AEXAMPLEEXAMPLEEXAMPLEEXAMP",
        **dict.fromkeys(
            (
                "name",
                "email",
                "postalCode",
                "countryCode",
                "shippingAddress",
                "billingAddress",
                "phoneNumber",
                "primeMembershipTypes",
            )
        ),
    }


DISPUTE_ID = f"{CP_ID}-B012345"


def dispute(
    state: str = "ActionRequired",
    *,
    reason: str | None = None,
    created: datetime = T0,
    dispute_type: str = "Chargeback",
    deadline: datetime | bool | None = True,
) -> dict[str, Any]:
    """A Get Dispute answer (dispute.html's example, the Node SDK's
    expectedDisputeResponseKeys): ``deadline`` True is 11 days after ``created`` (7 for an
    ``AtoZClaim``), None leaves merchantResponseDeadline null."""
    if deadline is True:
        deadline = created + timedelta(days=7 if dispute_type == "AtoZClaim" else 11)
    details = _details(state, reason, created)
    details["resolution"] = None
    return {
        "disputeId": DISPUTE_ID,
        "chargeId": CHARGE_ID,
        "disputeType": dispute_type,
        "disputeAmount": money("100.00"),
        "filingReason": "ProductNotReceived",
        "statusDetails": details,
        "merchantEvidences": [],
        "merchantResponseDeadline": None
        if deadline in (None, False)
        else format_timestamp(deadline),  # type: ignore[arg-type]
        "resolutionAuthority": "AmazonPay",
        "providerMetadata": None,
        "creationTimestamp": format_timestamp(created),
        "releaseEnvironment": "Sandbox",
    }
