"""The shop of ``shop.py`` with planted bugs, each switched on by name, to show what fuzzing
with ``apfsm.testing.IntegrationMachine`` finds (``tests/test_examples_shop.py``).

Every bug is a mistake real integrations make; none of them shows in a happy-path test:

``capture_expired_authorization``
    Shipping captures the charge saved at checkout without reading it first. After 30
    days the authorization has lapsed (``Canceled``/``ExpiredUnused``, SPEC §5) and Amazon
    refuses the capture — a refusal the shop could have foreseen.
``capture_initiated_is_paid``
    A capture's answer is taken as money in the bank. More than 7 days after authorization
    the answer is ``CaptureInitiated`` (SPEC §5): the goods ship, and when the capture is
    then declined the shop still believes it was paid.
``refund_per_ipn``
    An order canceled during an asynchronous capture is refunded by the IPN handler when it
    reads the charge as ``Captured`` — every time it reads it so, not once when the capture
    lands: a handler that is not idempotent. A duplicated (or late) IPN refunds twice.
``uncapped_returns``
    A return refunds what the customer claims without subtracting earlier refunds, so two
    returns can refund more than was captured. Amazon accepts up to 15 % more (SPEC §6);
    only the shop's own books can tell.
``refund_counted_per_ipn``
    The IPN handler adds a refund to the order's refunded total each time it reads it as
    ``Refunded``: a duplicated IPN counts it twice, and the books no longer match Amazon's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any, Final

from .shop import AmazonPay, Order, OrderStatus, Shop, state_of

__all__ = ["BUGS", "BuggyShop"]

BUGS: Final = frozenset(
    {
        "capture_expired_authorization",
        "capture_initiated_is_paid",
        "refund_per_ipn",
        "uncapped_returns",
        "refund_counted_per_ipn",
    }
)


class BuggyShop(Shop):
    """``Shop`` with the named bugs switched on (see the module docs).

    Args:
        amazon_pay: as for ``Shop``.
        bugs: which bugs to plant (names from ``BUGS``).
        options: ``Shop``'s keyword arguments.

    Raises:
        ValueError: an unknown bug name.
    """

    def __init__(self, amazon_pay: AmazonPay, *, bugs: Collection[str], **options: Any) -> None:
        unknown = set(bugs) - BUGS
        if unknown:
            raise ValueError(f"unknown bugs {sorted(unknown)}; bugs are {sorted(BUGS)}")
        super().__init__(amazon_pay, **options)
        self.bugs = frozenset(bugs)

    def _authorization(self, order: Order) -> str | None:
        if "capture_expired_authorization" in self.bugs:
            # BUG: "authorized" was true at checkout; 30 days later it no longer is.
            return order.charge_id
        return super()._authorization(order)

    def _captured(self, order: Order, charge: Mapping[str, Any]) -> bool:
        if "capture_initiated_is_paid" in self.bugs:
            # BUG: CaptureInitiated is only a promise; it can still end Declined.
            order.captured = order.amount
            order.status = OrderStatus.SHIPPED
            return True
        return super()._captured(order, charge)

    def _apply_charge(self, order: Order, charge: Mapping[str, Any]) -> None:
        canceled = order.status in (OrderStatus.CANCEL_PENDING, OrderStatus.CANCELED)
        if "refund_per_ipn" in self.bugs and canceled and state_of(charge) == "Captured":
            # BUG: reacts to "the charge of a canceled order is captured" each time it reads
            # it, not once when the capture lands: a duplicated or late IPN refunds again.
            order.captured = Decimal(charge["captureAmount"]["amount"])
            number = len(order.refunds) + 1
            self._refund(order, order.captured, key=f"{order.order_id}-cancel-{number}")
            order.status = OrderStatus.CANCELED
            return
        super()._apply_charge(order, charge)

    def accept_return(self, order_id: str, amount: Decimal | None = None) -> bool:
        if "uncapped_returns" not in self.bugs:
            return super().accept_return(order_id, amount)
        order = self.orders[order_id]
        if order.status not in (OrderStatus.SHIPPED, OrderStatus.RETURNED):
            return False
        # BUG: refunds what is claimed, forgetting what earlier returns already refunded.
        amount = order.captured if amount is None else min(amount, order.captured)
        self._refund(order, amount, key=f"{order.order_id}-return-{len(order.refunds) + 1}")
        order.status = OrderStatus.RETURNED
        return True

    def _apply_refund(self, order: Order, refund: Mapping[str, Any]) -> None:
        record = order.refund_for(refund["refundId"])
        if (
            "refund_counted_per_ipn" in self.bugs
            and record is not None
            and record.state == state_of(refund) == "Refunded"
        ):
            # BUG: adds the refund each time it reads it as Refunded; the correct handler
            # (Shop._apply_refund, below) adds it once, when the state changes.
            order.refunded += record.amount
        super()._apply_refund(order, refund)
