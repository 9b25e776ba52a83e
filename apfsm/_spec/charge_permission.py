"""The Charge Permission lifecycle (SPEC §4)."""

from __future__ import annotations

from typing import Final

from .model import SAME, Allow, Creation, Event, Lifecycle, Refuse, StateDecl, Timer
from .operations import COMPLETIONS

__all__ = ["CHARGE_PERMISSION", "NON_CHARGEABLE_REASONS"]

_CP_ACTIVE: Final = ("Chargeable", "NonChargeable")
NON_CHARGEABLE_REASONS: Final = (
    "PaymentMethodInvalid",
    "PaymentMethodDeleted",
    "BillingAddressDeleted",
    "PaymentMethodExpired",
    "PaymentMethodNotAllowed",
    "PaymentMethodNotSet",
    "ChargeInProgress",
    "MFAFailed",
)

CHARGE_PERMISSION: Final = Lifecycle(
    object_type="ChargePermission",
    notification_type="CHARGE_PERMISSION",
    description="The buyer's consent to be charged; one-time or recurring.",
    id_field="chargePermissionId",
    ref_prefix="cp",
    states=(
        StateDecl("Chargeable", "charges can be created on it", initial=True),
        StateDecl(
            "NonChargeable",
            "the payment instrument has a problem",
            reasons=NON_CHARGEABLE_REASONS,
        ),
        StateDecl(
            "Closed",
            "closed by the merchant, buyer or Amazon, used up, or expired",
            reasons=("MerchantClosed", "BuyerClosed", "AmazonClosed", "AmazonCanceled", "Expired"),
            terminal=True,
        ),
    ),
    creations=tuple(Creation(name, "Chargeable") for name in COMPLETIONS),
    allows=(
        Allow("get_charge_permission", ("Chargeable", "NonChargeable", "Closed"), SAME),
        Allow("update_charge_permission", _CP_ACTIVE, SAME),
        Allow("close_charge_permission", _CP_ACTIVE, "Closed", reason="MerchantClosed"),
        Allow("create_charge", ("Chargeable",), SAME),
        # Delivery Tracker: tracking is reported after shipping, whatever the state.
        Allow("create_delivery_tracker", ("Chargeable", "NonChargeable", "Closed"), SAME),
    ),
    refusals=(
        Refuse("update_charge_permission", ("Closed",), "InvalidChargePermissionStatus"),
        Refuse("close_charge_permission", ("Closed",), "InvalidChargePermissionStatus"),
        Refuse("create_charge", ("NonChargeable", "Closed"), "InvalidChargePermissionStatus"),
    ),
    events=(
        Event(
            "payment_method_problem",
            _CP_ACTIVE,
            "NonChargeable",
            "amazon",
            "the payment instrument becomes unusable",
            reasons=NON_CHARGEABLE_REASONS,
        ),
        Event(
            "payment_method_fixed",
            ("NonChargeable",),
            "Chargeable",
            "buyer",
            "the buyer fixes the payment instrument",
        ),
        Event(
            "hard_decline",
            ("Chargeable",),
            "NonChargeable",
            "amazon",
            "a charge on a recurring permission is hard-declined",
            "PaymentMethodInvalid",
        ),
        Event(
            "buyer_close",
            _CP_ACTIVE,
            "Closed",
            "buyer",
            "the buyer closes the permission",
            "BuyerClosed",
        ),
        Event(
            "balance_used_up",
            _CP_ACTIVE,
            "Closed",
            "amazon",
            "captures reach the one-time permission's amountLimit",
            "AmazonClosed",
        ),
        Event(
            "amazon_cancel",
            _CP_ACTIVE,
            "Closed",
            "amazon",
            "a charge is AmazonRejected; Amazon closes the permission",
            "AmazonCanceled",
        ),
    ),
    timers=(Timer("expire", _CP_ACTIVE, "Closed", "permission_expiry", reason="Expired"),),
)
