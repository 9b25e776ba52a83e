"""Amazon Pay's older v1 flow — order reference → authorize → capture → close — declared
with the same records as the v2 lifecycles (``apfsm._spec``'s ``Lifecycle``, ``Allow``,
``Refuse``, ``Event``, ``Timer``), and its limits as an ``OrderReferenceLimits`` value.

Payment service providers that still describe this flow ("Accounting as a Service" and
others) offer a 1-step capture (``authorize`` with ``CaptureNow``: the authorization is
closed and its capture created at once) or a 2-step one (``authorize``, later ``capture``).

Sources (Amazon Pay API reference, v1): the order reference, authorization and capture
"states and reason codes" pages, "Mark the order reference as closed" and "Capturing funds
30 days after authorization" (addresses in ``V1_SOURCES``). The error code a refused call
answers is ``CaptureNotRefundable`` for a refund (from the v1 error-codes page); for the
order reference and authorization apfsm uses ``InvalidOrderReferenceStatus`` and
``InvalidAuthorizationStatus``, whose rows the excerpt read did not reach.

apfsm's reading where the pages read are silent (``V1_UNSOURCED``): a Pending
authorization can be closed; a Suspended order reference returns to Open when the buyer
picks another payment method; the Authorization's Closed reasons besides ExpiredUnused
(MaxCapturesProcessed, AmazonClosed, OrderReferenceCanceled, SellerClosed) and the order
reference's Closed reasons MaxAmountCharged and MaxAuthorizationsCaptured are Amazon's
names as apfsm knows them, not read in this research.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Final

import attrs

from apfsm._clock import format_duration
from apfsm._spec import SAME, Allow, Creation, Event, Lifecycle, Refuse, StateDecl, Timer

from ._model import Source

__all__ = [
    "AUTHORIZATION",
    "CAPTURE",
    "ORDER_REFERENCE",
    "REFUND",
    "V1_LIFECYCLES",
    "V1_SOURCES",
    "V1_UNSOURCED",
    "OrderReferenceLimits",
]

V1_SOURCES: Final = (
    Source(
        "https://developer.amazon.com/docs/amazon-pay-api/order-reference-states-and-reason-codes.html",
        "Draft until ConfirmOrderReference; Open: authorizations only here; Suspended on a "
        "payment method problem (capture and refund still possible); Canceled "
        "(SellerCanceled, Stale: not confirmed within 3 hours, AmazonCanceled) only if "
        "nothing was captured; Closed",
    ),
    Source(
        "https://developer.amazon.com/docs/eu/amazon-pay-onetime/mark-order-as-closed.html",
        "Open or Suspended → Closed by CloseOrderReference; open authorizations can still be "
        "captured and refunds made; after 180 days Amazon closes it with reason Expired",
    ),
    Source(
        "https://pay.amazon.com/us/developer/documentation/apireference/201752950",
        "Authorization: Pending (asynchronous only; none with TransactionTimeout 0), Open, "
        "Declined (InvalidPaymentMethod, AmazonRejected: the order reference is closed, "
        "ProcessingFailure, TransactionTimedOut: 24 h default timeout), Closed",
    ),
    Source(
        "https://amazonpaylegacyintegrationguide.s3.amazonaws.com/docs/amazon-pay-onetime/authorization-ttl.html",
        "an authorization not captured within 30 days is Closed by Amazon",
    ),
    Source(
        "https://developer.amazon.com/docs/eu/amazon-pay-api/capture-states-and-reason-codes.html",
        "Capture: Pending, Declined (AmazonRejected, ProcessingFailure), Completed, Closed "
        "(MaxAmountRefunded: 15% or $75 above the capture, MaxRefundsProcessed: 10 refunds, "
        "AmazonClosed); capture within 30 days (2 in the sandbox), recommended within 7",
    ),
    Source(
        "https://developer.amazon.com/docs/eu/amazon-pay-api/refund-states-and-reason-codes.html",
        "Refund: Pending until processed, Declined (AmazonRejected, ProcessingFailure: retry "
        "only while the capture is Completed), Completed (AmazonA-ZRefund: initiated by Amazon)",
    ),
    Source(
        "https://developer.amazon.com/docs/eu/amazon-pay-automatic/request-refund.html",
        "full or partial refunds of a capture; always Pending at first; no time limit for "
        "initiating a refund",
    ),
)


#: What the v1 declarations assume without a source read for it (the docs list it).
V1_UNSOURCED: Final = (
    "close_authorization is allowed on a Pending authorization",
    "a Suspended order reference returns to Open when the buyer picks another payment method",
    "the Authorization's Closed reasons other than ExpiredUnused, and the order reference's "
    "MaxAmountCharged and MaxAuthorizationsCaptured",
    "the error codes InvalidOrderReferenceStatus and InvalidAuthorizationStatus",
)


def _duration(value: timedelta, doc: str) -> timedelta:
    return attrs.field(default=value, metadata={"doc": doc})


@attrs.frozen
class OrderReferenceLimits:
    """Every number of the v1 flow, overridable like ``apfsm.Limits``:
    ``OrderReferenceLimits(authorization_ttl=timedelta(days=2))`` is the sandbox's."""

    order_reference_ttl: timedelta = _duration(
        timedelta(days=180), "an Open order reference is Closed (Expired) after this"
    )
    draft_ttl: timedelta = _duration(
        timedelta(hours=3), "a Draft not confirmed within this is Canceled (Stale)"
    )
    authorization_ttl: timedelta = _duration(
        timedelta(days=30), "an Open authorization is Closed (ExpiredUnused) after this"
    )
    transaction_timeout: timedelta = _duration(
        timedelta(hours=24), "a Pending authorization is Declined (TransactionTimedOut) after"
    )
    capture_recommended_within: timedelta = _duration(
        timedelta(days=7), "Amazon recommends capturing within this of the authorization"
    )
    max_refunds_per_capture: int = attrs.field(default=10)
    refund_overage_rate: Decimal = attrs.field(default=Decimal("0.15"))
    refund_overage_cap_usd: Decimal = attrs.field(default=Decimal("75"))
    #: As ``apfsm.Limits.ttl_passed_at_deadline``: a limit L from t0 has passed at t0 + L.
    ttl_passed_at_deadline: bool = attrs.field(default=True)

    def describe(self, name: str) -> str:
        """A short label for a limit: ``"180 d"``."""
        value = getattr(self, name)
        return format_duration(value) if isinstance(value, timedelta) else str(value)

    def deadline(self, name: str) -> timedelta:
        """The duration a timer's ``deadline`` names (``DEADLINES`` below)."""
        value = getattr(self, DEADLINES[name])
        assert isinstance(value, timedelta)
        return value


#: Each v1 timer's deadline → the ``OrderReferenceLimits`` field holding its duration.
DEADLINES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "draft_expiry": "draft_ttl",
        "order_reference_expiry": "order_reference_ttl",
        "authorization_expiry": "authorization_ttl",
        "transaction_timeout": "transaction_timeout",
    }
)
#: The v1 guards, by name → their label (they choose between an operation's outcomes).
GUARDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "capture_now": "CaptureNow (1-step)",
        "asynchronous": "TransactionTimeout > 0",
        "synchronous": "TransactionTimeout = 0",
        "nothing_captured": "nothing captured yet",
    }
)

_OR_LIVE: Final = ("Open", "Suspended")
_BAD_OR: Final = "InvalidOrderReferenceStatus"
_BAD_AUTH: Final = "InvalidAuthorizationStatus"

ORDER_REFERENCE: Final = Lifecycle(
    object_type="OrderReference",
    notification_type="OrderReferenceNotification",
    description="The buyer's order (v1): confirmed, authorized against, then closed.",
    id_field="AmazonOrderReferenceId",
    ref_prefix="or",
    states=(
        StateDecl("Draft", "created in the widget; details can be set", initial=True),
        StateDecl("Open", "confirmed; authorizations can be requested"),
        StateDecl(
            "Suspended",
            "the payment method has a problem: no new authorization",
            reasons=("InvalidPaymentMethod",),
        ),
        StateDecl(
            "Canceled",
            "canceled before anything was captured",
            reasons=("SellerCanceled", "Stale", "AmazonCanceled"),
            terminal=True,
        ),
        StateDecl(
            "Closed",
            "fulfilled or expired: open authorizations can still be captured, refunds made",
            reasons=(
                "Expired",
                "MaxAmountCharged",
                "MaxAuthorizationsCaptured",
                "AmazonClosed",
                "SellerClosed",
            ),
            terminal=True,
        ),
    ),
    creations=(Creation("create_order_reference", "Draft", actor="buyer"),),
    allows=(
        Allow("get_order_reference_details", ("Draft", *_OR_LIVE, "Canceled", "Closed"), SAME),
        Allow("set_order_reference_details", ("Draft",), SAME),
        Allow("confirm_order_reference", ("Draft",), "Open"),
        Allow("authorize", ("Open",), SAME),
        Allow(
            "cancel_order_reference",
            ("Draft", *_OR_LIVE),
            "Canceled",
            guard="nothing_captured",
            reason="SellerCanceled",
        ),
        Allow("close_order_reference", _OR_LIVE, "Closed", reason="SellerClosed"),
    ),
    refusals=(
        Refuse("set_order_reference_details", (*_OR_LIVE, "Canceled", "Closed"), _BAD_OR),
        Refuse("confirm_order_reference", (*_OR_LIVE, "Canceled", "Closed"), _BAD_OR),
        Refuse("authorize", ("Draft", "Suspended", "Canceled", "Closed"), _BAD_OR),
        Refuse("cancel_order_reference", ("Canceled", "Closed"), _BAD_OR),
        Refuse("close_order_reference", ("Draft", "Canceled", "Closed"), _BAD_OR),
    ),
    events=(
        Event(
            "payment_method_problem",
            ("Open",),
            "Suspended",
            "amazon",
            "Amazon cannot process authorizations with the payment method",
            "InvalidPaymentMethod",
        ),
        Event(
            "buyer_updates_payment",
            ("Suspended",),
            "Open",
            "buyer",
            "the buyer picks another payment method (and the order is confirmed again)",
        ),
        Event("amazon_cancel", ("Draft", *_OR_LIVE), "Canceled", "amazon", "", "AmazonCanceled"),
        Event(
            "authorization_rejected",
            _OR_LIVE,
            "Closed",
            "amazon",
            "an authorization is AmazonRejected: the order reference is closed",
            "AmazonClosed",
        ),
    ),
    timers=(
        Timer("stale", ("Draft",), "Canceled", "draft_expiry", reason="Stale"),
        Timer("expire", _OR_LIVE, "Closed", "order_reference_expiry", reason="Expired"),
    ),
)

_AUTH_DECLINES: Final = (
    "InvalidPaymentMethod",
    "AmazonRejected",
    "ProcessingFailure",
    "TransactionTimedOut",
)
AUTHORIZATION: Final = Lifecycle(
    object_type="Authorization",
    notification_type="AuthorizationNotification",
    description="An authorization on an Open order reference (v1); captured at most once.",
    id_field="AmazonAuthorizationId",
    ref_prefix="au",
    states=(
        StateDecl("Pending", "asynchronous: the outcome comes later", initial=True),
        StateDecl("Open", "authorized; can be captured", initial=True),
        StateDecl("Declined", "declined", reasons=_AUTH_DECLINES, initial=True, terminal=True),
        StateDecl(
            "Closed",
            "captured, expired, closed by the seller or Amazon, or its order canceled",
            reasons=(
                "ExpiredUnused",
                "MaxCapturesProcessed",
                "AmazonClosed",
                "OrderReferenceCanceled",
                "SellerClosed",
            ),
            initial=True,
            terminal=True,
        ),
    ),
    creations=(
        Creation("authorize", "Closed", guard="capture_now"),
        Creation("authorize", "Pending", guard="asynchronous"),
        Creation("authorize", "Open", guard="synchronous"),
        Creation("authorize", "Declined"),
    ),
    allows=(
        Allow("get_authorization_details", ("Pending", "Open", "Declined", "Closed"), SAME),
        Allow("capture", ("Open",), "Closed", reason="MaxCapturesProcessed"),
        Allow("close_authorization", ("Pending", "Open"), "Closed", reason="SellerClosed"),
    ),
    refusals=(
        Refuse("capture", ("Pending", "Declined", "Closed"), _BAD_AUTH),
        Refuse("close_authorization", ("Declined", "Closed"), _BAD_AUTH),
    ),
    events=(
        Event("approved", ("Pending",), "Open", "amazon", "the authorization succeeds"),
        Event(
            "declined",
            ("Pending",),
            "Declined",
            "amazon",
            "the authorization is declined",
            reasons=_AUTH_DECLINES[:3],
        ),
        Event(
            "order_canceled",
            ("Pending", "Open"),
            "Closed",
            "amazon",
            "its order reference is canceled",
            "OrderReferenceCanceled",
        ),
        Event("amazon_close", ("Open",), "Closed", "amazon", "", "AmazonClosed"),
    ),
    timers=(
        Timer(
            "timeout", ("Pending",), "Declined", "transaction_timeout", reason="TransactionTimedOut"
        ),
        Timer("expire", ("Open",), "Closed", "authorization_expiry", reason="ExpiredUnused"),
    ),
)

CAPTURE: Final = Lifecycle(
    object_type="Capture",
    notification_type="CaptureNotification",
    description="A capture of an Open authorization (v1); refunded up to 10 times.",
    id_field="AmazonCaptureId",
    ref_prefix="ca",
    states=(
        StateDecl(
            "Pending", "processed later", reasons=("StopShipmentAtypicalAuth",), initial=True
        ),
        StateDecl(
            "Declined",
            "declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
            initial=True,
            terminal=True,
        ),
        StateDecl(
            "Completed",
            "funds move at the next disbursement; refunds possible",
            reasons=("StopShipmentAtypicalAuth",),
            initial=True,
        ),
        StateDecl(
            "Closed",
            "no more refunds",
            reasons=("MaxAmountRefunded", "MaxRefundsProcessed", "AmazonClosed"),
            terminal=True,
        ),
    ),
    creations=(
        Creation("capture", "Pending", guard="asynchronous"),
        Creation("capture", "Completed", guard="synchronous"),
        # 1-step: Authorize with CaptureNow creates the capture with the authorization.
        Creation("authorize", "Completed", guard="capture_now"),
        Creation("capture", "Declined"),
    ),
    allows=(
        Allow("get_capture_details", ("Pending", "Declined", "Completed", "Closed"), SAME),
        Allow("refund", ("Completed",), SAME),
    ),
    refusals=(Refuse("refund", ("Pending", "Declined", "Closed"), "CaptureNotRefundable"),),
    events=(
        Event("completed", ("Pending",), "Completed", "amazon", "the capture is processed"),
        Event(
            "declined",
            ("Pending",),
            "Declined",
            "amazon",
            "the capture is declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
        ),
        Event(
            "refunds_used_up",
            ("Completed",),
            "Closed",
            "amazon",
            "the tenth refund, or the refund cap (15% or $75 above the capture) reached",
            reasons=("MaxRefundsProcessed", "MaxAmountRefunded"),
        ),
        Event("amazon_close", ("Completed",), "Closed", "amazon", "", "AmazonClosed"),
    ),
)

REFUND: Final = Lifecycle(
    object_type="Refund",
    notification_type="RefundNotification",
    description="A full or partial refund of a Completed capture (v1); no time limit.",
    id_field="AmazonRefundId",
    ref_prefix="rf",
    states=(
        StateDecl("Pending", "always at first: Amazon processes refunds later", initial=True),
        StateDecl(
            "Declined",
            "declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
            terminal=True,
        ),
        StateDecl(
            "Completed",
            "funds go back to the buyer",
            reasons=("AmazonA-ZRefund",),
            terminal=True,
        ),
    ),
    creations=(Creation("refund", "Pending"),),
    allows=(Allow("get_refund_details", ("Pending", "Declined", "Completed"), SAME),),
    refusals=(),
    events=(
        Event("completed", ("Pending",), "Completed", "amazon", "the refund is processed"),
        Event(
            "declined",
            ("Pending",),
            "Declined",
            "amazon",
            "the refund is declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
        ),
    ),
)

#: The v1 lifecycles, in the order a payment meets them.
V1_LIFECYCLES: Final[Mapping[str, Lifecycle]] = MappingProxyType(
    {lc.object_type: lc for lc in (ORDER_REFERENCE, AUTHORIZATION, CAPTURE, REFUND)}
)
