"""The Charge lifecycle (SPEC §5)."""

from __future__ import annotations

from typing import Final

from .model import SAME, Allow, Creation, Event, Lifecycle, Refuse, StateDecl, Timer
from .operations import COMPLETIONS

__all__ = ["CHARGE"]

_DECLINE_REASONS: Final = (
    "SoftDeclined",
    "HardDeclined",
    "AmazonRejected",
    "ProcessingFailure",
    "TransactionTimedOut",
)
_CH_ALL: Final = (
    "AuthorizationInitiated",
    "Authorized",
    "CaptureInitiated",
    "Captured",
    "Canceled",
    "Declined",
)
_CH_CANCELABLE: Final = ("AuthorizationInitiated", "Authorized")

CHARGE: Final = Lifecycle(
    object_type="Charge",
    notification_type="CHARGE",
    description="One authorization on a permission, captured at most once.",
    id_field="chargeId",
    ref_prefix="ch",
    states=(
        StateDecl(
            "AuthorizationInitiated",
            "authorization pending; resolves asynchronously",
            initial=True,
        ),
        StateDecl(
            "Authorized",
            "authorized; can be captured or canceled",
            reasons=("StopShipmentAtypicalAuth",),
            initial=True,
        ),
        StateDecl(
            "CaptureInitiated",
            "capture pending; resolves asynchronously",
            reasons=("StopShipmentAtypicalAuth",),
        ),
        StateDecl(
            "Captured",
            "captured; can be refunded",
            reasons=("StopShipmentAtypicalAuth",),
            initial=True,
            terminal=True,
        ),
        StateDecl(
            "Canceled",
            "canceled by the merchant, the permission, Amazon, the buyer, or expiry",
            reasons=(
                "ExpiredUnused",
                "MerchantCanceled",
                "ChargePermissionCanceled",
                "AmazonCanceled",
                "BuyerCanceled",
            ),
            terminal=True,
        ),
        StateDecl(
            "Declined",
            "declined",
            reasons=_DECLINE_REASONS,
            initial=True,
            terminal=True,
        ),
    ),
    creations=(
        Creation("create_charge", "Declined", guard="simulated_decline"),
        Creation("create_charge", "Captured", guard="capture_now"),
        Creation("create_charge", "AuthorizationInitiated", guard="pending_authorization"),
        Creation("create_charge", "Authorized"),
        *(
            creation
            for name in COMPLETIONS
            for creation in (
                Creation(
                    name,
                    "AuthorizationInitiated",
                    guard="intent_authorize_pending",
                    http_status=202,
                ),
                Creation(name, "Authorized", guard="intent_authorize"),
                Creation(name, "Captured", guard="intent_capture"),
            )
        ),
    ),
    allows=(
        Allow("get_charge", _CH_ALL, SAME),
        # Update Charge (docs/charge.md, Decision): a provider reports a cancellation; the
        # reason is the body's reasonCode (ExpiredUnused when absent).
        Allow("update_charge", _CH_CANCELABLE, "Canceled", guard="requested_canceled"),
        Allow("capture_charge", ("Authorized",), "Captured", guard="sync_capture"),
        Allow("capture_charge", ("Authorized",), "CaptureInitiated", guard="async_capture"),
        Allow("cancel_charge", _CH_CANCELABLE, "Canceled", reason="MerchantCanceled"),
        Allow("create_refund", ("Captured",), SAME),
        # A dispute is on a captured charge (docs/dispute.md).
        Allow("create_dispute", ("Captured",), SAME),
    ),
    refusals=(
        Refuse(
            "update_charge",
            ("CaptureInitiated", "Captured", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
        Refuse(
            "capture_charge",
            ("AuthorizationInitiated", "CaptureInitiated", "Captured", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
        Refuse(
            "cancel_charge",
            ("CaptureInitiated", "Captured", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
        Refuse(
            "create_refund",
            ("AuthorizationInitiated", "Authorized", "CaptureInitiated", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
        Refuse(
            "create_dispute",
            ("AuthorizationInitiated", "Authorized", "CaptureInitiated", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
    ),
    events=(
        Event(
            "authorization_approved",
            ("AuthorizationInitiated",),
            "Authorized",
            "amazon",
            "the pending authorization succeeds",
            delay="async_outcome_delay",
        ),
        Event(
            "authorization_declined",
            ("AuthorizationInitiated",),
            "Declined",
            "amazon",
            "the pending authorization is declined",
            reasons=_DECLINE_REASONS,
            delay="async_outcome_delay",
        ),
        Event(
            "capture_completed",
            ("CaptureInitiated",),
            "Captured",
            "amazon",
            "the asynchronous capture succeeds",
            delay="async_outcome_delay",
        ),
        Event(
            "capture_declined",
            ("CaptureInitiated",),
            "Declined",
            "amazon",
            "the asynchronous capture is declined",
            reasons=_DECLINE_REASONS,
            delay="async_outcome_delay",
        ),
        Event(
            "permission_canceled",
            _CH_CANCELABLE,
            "Canceled",
            "amazon",
            "the permission is closed with cancelPendingCharges: true",
            "ChargePermissionCanceled",
        ),
        Event(
            "amazon_cancel",
            _CH_CANCELABLE,
            "Canceled",
            "amazon",
            "Amazon cancels the charge",
            "AmazonCanceled",
        ),
        Event(
            "buyer_cancel",
            _CH_CANCELABLE,
            "Canceled",
            "buyer",
            "the buyer cancels the charge",
            "BuyerCanceled",
        ),
    ),
    timers=(
        Timer(
            "pending_timeout",
            ("AuthorizationInitiated",),
            "Declined",
            "pending_authorization_expiry",
            reason="TransactionTimedOut",
        ),
        Timer(
            "expire", ("Authorized",), "Canceled", "authorization_expiry", reason="ExpiredUnused"
        ),
    ),
)
