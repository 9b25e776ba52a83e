"""The Refund lifecycle (SPEC §6)."""

from __future__ import annotations

from typing import Final

from .model import SAME, Allow, Creation, Event, Lifecycle, StateDecl

__all__ = ["REFUND"]

REFUND: Final = Lifecycle(
    object_type="Refund",
    notification_type="REFUND",
    description="Money back on a captured charge; always asynchronous.",
    id_field="refundId",
    ref_prefix="rf",
    states=(
        StateDecl("RefundInitiated", "refund requested; resolves asynchronously", initial=True),
        StateDecl("Refunded", "the money went back to the buyer", terminal=True),
        StateDecl(
            "Declined",
            "the refund was declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
            terminal=True,
        ),
    ),
    creations=(Creation("create_refund", "RefundInitiated"),),
    allows=(Allow("get_refund", ("RefundInitiated", "Refunded", "Declined"), SAME),),
    refusals=(),
    events=(
        Event(
            "refund_completed",
            ("RefundInitiated",),
            "Refunded",
            "amazon",
            "the refund succeeds",
            delay="async_outcome_delay",
        ),
        Event(
            "refund_declined",
            ("RefundInitiated",),
            "Declined",
            "amazon",
            "the refund is declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
            delay="async_outcome_delay",
        ),
    ),
)

#: The four lifecycles by object type, in the order the API links them.
