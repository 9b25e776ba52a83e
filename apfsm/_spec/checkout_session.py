"""The Checkout Session lifecycle (SPEC §3)."""

from __future__ import annotations

from typing import Final

from .model import DELETED, SAME, Allow, Creation, Event, Lifecycle, Refuse, StateDecl, Timer
from .operations import COMPLETIONS

__all__ = ["CHECKOUT_SESSION"]

_CS_OPEN: Final = ("Open",)
_CS_ALL: Final = ("Open", "Completed", "Canceled")
_CS_CANCELED_BY: Final[dict[str, str]] = {
    # SPEC §3 step 2: canceled by the buyer, a decline or Amazon → CheckoutSessionCanceled;
    # Expired (and reasons apfsm does not know) fall through to step 3.
    "BuyerCanceled": "CheckoutSessionCanceled",
    "Declined": "CheckoutSessionCanceled",
    "AmazonCanceled": "CheckoutSessionCanceled",
}

CHECKOUT_SESSION: Final = Lifecycle(
    object_type="CheckoutSession",
    notification_type=None,
    description="The buyer's checkout on Amazon's page; completing it creates the permission.",
    id_field="checkoutSessionId",
    ref_prefix="cs",
    states=(
        StateDecl("Open", "created; the buyer can still sign in and pay", initial=True),
        StateDecl("Completed", "completed: charge permission (and charge) created", terminal=True),
        StateDecl(
            "Canceled",
            "canceled by the buyer, a decline, Amazon, or expiry",
            reasons=("BuyerCanceled", "Declined", "AmazonCanceled", "Expired"),
            terminal=True,
        ),
        StateDecl(DELETED, "deleted after the retention period", terminal=True, virtual=True),
    ),
    creations=(Creation("create_checkout_session", "Open"),),
    allows=(
        Allow("get_checkout_session", _CS_ALL, SAME),
        Allow("update_checkout_session", _CS_OPEN, SAME),
        *(Allow(name, _CS_OPEN, "Completed") for name in COMPLETIONS),
    ),
    refusals=(
        Refuse(
            "update_checkout_session", ("Completed", "Canceled"), "InvalidCheckoutSessionStatus"
        ),
        *(Refuse(name, ("Completed",), "InvalidCheckoutSessionStatus") for name in COMPLETIONS),
        *(
            Refuse(
                name,
                ("Canceled",),
                "InvalidCheckoutSessionStatus",
                by_reason=_CS_CANCELED_BY,
            )
            for name in COMPLETIONS
        ),
        Refuse("get_checkout_session", (DELETED,), "ResourceNotFound"),
        Refuse("update_checkout_session", (DELETED,), "ResourceNotFound"),
        *(Refuse(name, (DELETED,), "ResourceNotFound") for name in COMPLETIONS),
    ),
    events=(
        Event(
            "buyer_approve",
            _CS_OPEN,
            SAME,
            "buyer",
            "the buyer signs in and picks a payment method (clears BuyerNotAssociated)",
        ),
        Event("buyer_cancel", _CS_OPEN, "Canceled", "buyer", "the buyer cancels", "BuyerCanceled"),
        Event(
            "checkout_declined",
            _CS_OPEN,
            "Canceled",
            "amazon",
            "the payment is declined during checkout",
            "Declined",
        ),
        Event(
            "amazon_cancel",
            _CS_OPEN,
            "Canceled",
            "amazon",
            "Amazon cancels the session",
            "AmazonCanceled",
        ),
    ),
    timers=(
        Timer("expire", _CS_OPEN, "Canceled", "checkout_session_expiry", reason="Expired"),
        Timer("delete", _CS_ALL, DELETED, "checkout_session_retention"),
    ),
)
