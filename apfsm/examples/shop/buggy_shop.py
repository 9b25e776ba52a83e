"""The shop of ``shop.py`` with planted bugs, each switched on by name, to show what fuzzing
with ``apfsm.testing.IntegrationMachine`` finds (``tests/test_examples_shop.py``).

Every bug is a mistake real integrations make; none of them shows in a happy-path test:

``capture_expired_authorization``
    Shipping captures the charge saved at checkout without reading it first. After 30
    days the authorization has lapsed (``Canceled``/``ExpiredUnused``, SPEC §5) and Amazon
    refuses the capture — a refusal the shop could have foreseen.
``capture_declined_ships``
    An asynchronous capture that is no longer ``CaptureInitiated`` is taken as captured:
    when it ends ``Declined`` (SPEC §5) the goods ship unpaid, and the books count money
    Amazon never took.
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

Deadlines, exactly at the limit L or a second past it:

``authorization_alive_through_day_30``
    Shipping skips reading the charge while the authorization is "at most 30 days old"
    (``<=``): at exactly 30 days it has lapsed (SPEC §5), and the capture is refused.
``capture_sync_through_day_7``
    A capture within "7 days" (counted in whole days: ``.days <= 7``) is taken as captured
    at once; 7 days and 1 s after authorization it is asynchronous (``CaptureInitiated``).

Asynchronous outcomes taken as final:

``pending_authorization_is_authorized``
    A pending authorization (``AuthorizationInitiated``, large orders) is booked as
    authorized at checkout; Amazon may still decline it within 24 h.
``refund_before_capture_lands``
    An order canceled during an asynchronous capture is refunded at once, on a charge that
    is still ``CaptureInitiated``: Amazon refuses the refund.

IPNs (duplicated, late, reordered):

``capture_counted_per_ipn``
    The IPN handler adds the captured amount each time it reads the charge as
    ``Captured``: a duplicated IPN doubles the order's captured total.
``ipn_means_captured``
    A charge IPN during an asynchronous capture is taken to mean "captured" without
    reading the charge: the IPN of the capture's start (``CaptureInitiated``) books the
    money early.
``refund_ipn_means_refunded``
    A refund IPN is taken to mean "refunded" without reading the refund: the IPN of its
    start (``RefundInitiated``) books the money as returned.

Idempotency keys:

``return_key_reused``
    Every return's refund carries the key ``{order}-return``: the second return (another
    amount) reuses the first one's key.
``capture_key_per_attempt``
    The capture's key names the attempt but not the order (``capture-{attempt}``): the
    next order's capture reuses an earlier order's key on another charge. (A key shared by
    Create Charge and Capture Charge is no bug: Amazon counts keys per operation — its Node
    SDK's live test, ``tst/webStoreClientTest.js``, sends one key on both.)

Permissions and charges:

``reauthorize_without_reading_permission``
    A lapsed authorization is renewed without reading the permission first: on a
    permission the buyer closed (or one with a payment-method problem) Amazon refuses it.
``hard_decline_retried``
    ``HardDeclined`` is treated like ``SoftDeclined``: an order whose (pending or renewed)
    authorization was hard-declined stays authorized, and the next shipment asks again on
    the same permission, though Amazon says retrying will not help (SPEC §8); found with
    ``IntegrationMachine.check_retries``.
``cancel_keeps_authorization``
    A cancellation closes the permission without ``cancelPendingCharges`` (false by
    default, SPEC §4) and takes that to release the money: the authorization stays open,
    and the buyer's money reserved until it lapses.
``close_closed_permission``
    A cancellation closes the permission without reading it: the buyer may have closed it
    already.
``cancel_paid_without_refund``
    An order canceled after its (asynchronous) capture landed is marked canceled, and the
    money is never refunded.

Amounts:

``float_money``
    The captured amount is read through ``float`` (``Decimal(float(...))``): 19.99 becomes
    19.989999999999998436805981327779591083526611328125, and the books no longer match.
``capture_adds_shipping_fee``
    Shipping captures the order's amount plus a 5.00 shipping fee the buyer never
    authorized: over the 15 % Amazon allows on small orders.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from .shop import (
    LIVE_AUTHORIZATION,
    RETRYABLE_DECLINES,
    AmazonPay,
    Order,
    OrderStatus,
    Shop,
    _price,
    reason_of,
    state_of,
)

__all__ = ["BUGS", "BuggyShop"]

BUGS: Final = frozenset(
    {
        "capture_expired_authorization",
        "capture_initiated_is_paid",
        "refund_per_ipn",
        "uncapped_returns",
        "refund_counted_per_ipn",
        "authorization_alive_through_day_30",
        "capture_sync_through_day_7",
        "pending_authorization_is_authorized",
        "refund_before_capture_lands",
        "capture_counted_per_ipn",
        "ipn_means_captured",
        "refund_ipn_means_refunded",
        "return_key_reused",
        "capture_key_per_attempt",
        "reauthorize_without_reading_permission",
        "close_closed_permission",
        "cancel_paid_without_refund",
        "float_money",
        "capture_adds_shipping_fee",
        "capture_declined_ships",
        "hard_decline_retried",
        "cancel_keeps_authorization",
    }
)
#: A shipping fee some shops add at dispatch (``capture_adds_shipping_fee``).
SHIPPING_FEE: Final = Decimal("5.00")


class _BuggyClient:
    """The shop's Amazon Pay client, with the bugs that live in how requests are made."""

    def __init__(self, client: AmazonPay, bugs: frozenset[str]) -> None:
        self._client = client
        self._bugs = bugs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def capture_charge(
        self, charge_id: str, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        if "capture_adds_shipping_fee" in self._bugs:
            # BUG: the fee was never part of what the buyer authorized.
            price = body["captureAmount"]
            amount = Decimal(price["amount"]) + SHIPPING_FEE
            body = {**body, "captureAmount": _price(amount, price["currencyCode"])}
        if "capture_key_per_attempt" in self._bugs and idempotency_key is not None:
            # BUG: one capture key per attempt number, whatever the order.
            idempotency_key = "capture-" + idempotency_key.rsplit("-", 1)[-1]
        return self._client.capture_charge(charge_id, body, idempotency_key=idempotency_key)

    def create_refund(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        if "return_key_reused" in self._bugs and idempotency_key and "-return-" in idempotency_key:
            # BUG: the key names the order's return, not this refund.
            idempotency_key = idempotency_key.rsplit("-", 1)[0]
        return self._client.create_refund(body, idempotency_key=idempotency_key)


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
        self.bugs = frozenset(bugs)
        super().__init__(_BuggyClient(amazon_pay, self.bugs), **options)
        if "hard_decline_retried" in self.bugs:
            # BUG: HardDeclined listed among the declines worth another try: the next
            # ship asks again, on a payment method Amazon said will not pass.
            self.retryable_declines = RETRYABLE_DECLINES | {"HardDeclined"}
        #: When each order's current authorization was granted, as the shop remembers it.
        self.authorized_at: dict[str, datetime] = {}

    def checkout_returned(self, checkout_session_id: str) -> Order | None:
        order = super().checkout_returned(checkout_session_id)
        if order is not None and order.order_id not in self.authorized_at and order.charge_id:
            self.authorized_at[order.order_id] = self.now()
        return order

    def _apply_charge(self, order: Order, charge: Mapping[str, Any]) -> None:
        state = state_of(charge)
        canceled = order.status in (OrderStatus.CANCEL_PENDING, OrderStatus.CANCELED)
        if "refund_per_ipn" in self.bugs and canceled and state == "Captured":
            # BUG: reacts to "the charge of a canceled order is captured" each time it reads
            # it, not once when the capture lands: a duplicated or late IPN refunds again.
            order.captured = Decimal(charge["captureAmount"]["amount"])
            number = len(order.refunds) + 1
            self._refund(order, order.captured, key=f"{order.order_id}-cancel-{number}")
            order.status = OrderStatus.CANCELED
            return
        if (
            "pending_authorization_is_authorized" in self.bugs
            and order.status == OrderStatus.AUTHORIZING
            and state == "AuthorizationInitiated"
        ):
            # BUG: a pending authorization is only a promise; it may still be declined.
            order.status = OrderStatus.AUTHORIZED
            return
        if (
            "hard_decline_retried" in self.bugs
            and order.status in (OrderStatus.AUTHORIZING, OrderStatus.AUTHORIZED)
            and state == "Declined"
            and reason_of(charge) == "HardDeclined"
        ):
            # BUG: the same mistake at checkout: a declined (pending) authorization kept
            # as approved, for shipping to authorize again.
            order.status = OrderStatus.AUTHORIZED
            return
        if (
            "capture_declined_ships" in self.bugs
            and order.status == OrderStatus.CAPTURE_PENDING
            and state == "Declined"
        ):
            # BUG: "no longer CaptureInitiated" read as "captured": a declined capture
            # ships the goods, and the books count money Amazon never took.
            order.captured = order.amount
            order.status = OrderStatus.PAID
            return
        if (
            "capture_counted_per_ipn" in self.bugs
            and state == "Captured"
            and order.status in (OrderStatus.CAPTURE_PENDING, OrderStatus.PAID)
        ):
            # BUG: adds the capture each time it reads it, not once when it lands.
            order.captured += Decimal(charge["captureAmount"]["amount"])
            order.status = OrderStatus.PAID
            return
        super()._apply_charge(order, charge)

    def handle_ipn(self, message: Mapping[str, Any]) -> None:
        order = self._by_permission.get(str(message.get("ChargePermissionId")))
        object_id = str(message.get("ObjectId"))
        if (
            "ipn_means_captured" in self.bugs
            and order is not None
            and object_id == order.charge_id
            and order.status == OrderStatus.CAPTURE_PENDING
        ):
            # BUG: "an IPN came, so the capture is done" — without reading the charge.
            order.captured = order.amount
            order.status = OrderStatus.PAID
            return
        record = None if order is None else order.refund_for(object_id)
        if "refund_ipn_means_refunded" in self.bugs and order is not None and record is not None:
            # BUG: "an IPN came, so the refund is done" — without reading the refund.
            if record.state != "Refunded":
                order.refunded += record.amount
                record.state = "Refunded"
            return
        super().handle_ipn(message)

    # -- shipping ------------------------------------------------------------------------

    def _age(self, order: Order) -> timedelta | None:
        granted = self.authorized_at.get(order.order_id)
        return None if granted is None else self.now() - granted

    def _authorization(self, order: Order) -> str | None:
        if "capture_expired_authorization" in self.bugs:
            # BUG: "authorized" was true at checkout; 30 days later it no longer is.
            return order.charge_id
        age = self._age(order)
        if (
            "authorization_alive_through_day_30" in self.bugs
            and age is not None
            and age <= timedelta(days=30)
        ):
            # BUG: the authorization lapses AT 30 days, not after them.
            return order.charge_id
        return super()._authorization(order)

    def _reauthorize(self, order: Order) -> str | None:
        if "reauthorize_without_reading_permission" in self.bugs:
            # BUG: no look at the permission (Closed? NonChargeable?) before charging it.
            charge_id = self._charge(order)
        else:
            charge_id = super()._reauthorize(order)
        if charge_id is not None:
            self.authorized_at[order.order_id] = self.now()
        return charge_id

    def _captured(self, order: Order, charge: Mapping[str, Any]) -> bool:
        if "capture_initiated_is_paid" in self.bugs:
            # BUG: CaptureInitiated is only a promise; it can still end Declined.
            order.captured = order.amount
            order.status = OrderStatus.SHIPPED
            return True
        age = self._age(order)
        if "capture_sync_through_day_7" in self.bugs and age is not None and age.days <= 7:
            # BUG: "within 7 days" in whole days: 7 days and 1 s is still day 7.
            order.captured = order.amount
            order.status = OrderStatus.SHIPPED
            return True
        if "float_money" in self.bugs and state_of(charge) == "Captured":
            # BUG: the amount goes through a float on its way to the books.
            order.captured = Decimal(float(charge["captureAmount"]["amount"]))
            order.status = OrderStatus.SHIPPED
            return True
        return super()._captured(order, charge)

    # -- cancellation --------------------------------------------------------------------

    def cancel(self, order_id: str) -> bool:
        order = self.orders[order_id]
        if (
            "refund_before_capture_lands" in self.bugs
            and order.status == OrderStatus.CAPTURE_PENDING
        ):
            # BUG: the capture was asked for, so the money is taken to be there.
            self._refund(order, order.amount, key=f"{order.order_id}-cancel")
            order.status = OrderStatus.CANCELED
            return True
        if "cancel_paid_without_refund" in self.bugs and order.status == OrderStatus.PAID:
            # BUG: nothing shipped, so nothing to give back — but the money was captured.
            order.status = OrderStatus.CANCELED
            return True
        return super().cancel(order_id)

    def _release(self, order: Order) -> None:
        if "cancel_keeps_authorization" in self.bugs:
            assert order.charge_permission_id is not None
            permission = self.amazon_pay.get_charge_permission(order.charge_permission_id)
            if state_of(permission) != "Closed":
                # BUG: closing the permission is taken to release the money; without
                # cancelPendingCharges (false by default, SPEC §4) the authorization stays
                # open, and the buyer's money stays reserved.
                self.amazon_pay.close_charge_permission(
                    order.charge_permission_id, {"closureReason": "order canceled"}
                )
            return
        if "close_closed_permission" not in self.bugs:
            super()._release(order)
            return
        assert order.charge_permission_id is not None
        assert order.charge_id is not None
        # BUG: closes the permission without reading it: the buyer may have closed it.
        self.amazon_pay.close_charge_permission(
            order.charge_permission_id,
            {"closureReason": "order canceled", "cancelPendingCharges": True},
        )
        if state_of(self.amazon_pay.get_charge(order.charge_id)) in LIVE_AUTHORIZATION:
            self.amazon_pay.cancel_charge(order.charge_id, {"cancellationReason": "canceled"})

    # -- returns -------------------------------------------------------------------------

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
