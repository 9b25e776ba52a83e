"""A small shop's Amazon Pay integration: orders, checkout, shipping, returns, cancellation
and an IPN handler — written the way a team would write it against an Amazon Pay client.

The shop is given any object with the Amazon Pay API's methods (``AmazonPay`` below): in
production a thin adapter over the official client that returns the decoded JSON and raises
``apfsm.ApiError`` for error answers; in tests, ``IntegrationMachine.sim``. Everything it
knows about a payment it learned from an API answer or an IPN.

An order's statuses (``OrderStatus``)::

    pending_payment → authorizing → authorized     checkout (authorizing: Amazon deciding)
    authorized → shipped                           ship: the capture succeeds at once
    authorized → capture_pending → paid → shipped  ship more than 7 days after authorizing
    shipped → returned → refunded | shipped        a return, refunded in full or in part
    capture_pending → cancel_pending → canceled    canceled during a capture: refunded after
    unpaid → canceled | payment_failed             cancellation, abandoned checkouts, declines
    any → needs_attention                          what a person must decide (Order.note)

What it does about Amazon Pay's rules (docs/specification.md, its sections cited):

* money is ``Decimal`` throughout; amounts go on the wire as strings (§1);
* every POST carries an idempotency key derived from the order, so a retried request never
  charges or refunds twice (§7);
* an authorization lapses after 30 days (§2, §5): shipping reads the charge first and asks
  for a new authorization on the permission when the old one expired;
* captures more than 7 days after authorization, pending authorizations and all refunds are
  asynchronous (§5, §6): ``CaptureInitiated`` is not money, the order waits for the charge
  to reach ``Captured``;
* IPNs carry no state (§7): the handler GETs the object and applies what it reads, so a
  message that comes twice, late or out of order changes nothing the second time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Protocol

import attrs

from apfsm import ApiError, parse_timestamp

__all__ = ["AmazonPay", "Order", "OrderStatus", "RefundRecord", "Shop", "reason_of", "state_of"]

#: Amazon Pay counts every charge created on a one-time permission, whatever became of it,
#: and refuses the 26th (SPEC §5): past this the shop stops re-authorizing.
MAX_CHARGES_PER_PERMISSION: Final = 25
#: At most 10 refunds per charge (SPEC §6).
MAX_REFUNDS_PER_CHARGE: Final = 10
#: Declines worth another try later (SPEC §8: retryable); the others are final.
RETRYABLE_DECLINES: Final = frozenset({"SoftDeclined", "ProcessingFailure", "TransactionTimedOut"})
#: Charge states that still hold the buyer's money reserved.
LIVE_AUTHORIZATION: Final = ("AuthorizationInitiated", "Authorized")


#: A request body, and an answer's decoded JSON.
Body = Mapping[str, Any]
Json = dict[str, Any]


class AmazonPay(Protocol):
    """The Amazon Pay API methods the shop uses (``apfsm.Simulator`` has them all)."""

    def create_checkout_session(
        self, body: Body, *, idempotency_key: str | None = None
    ) -> Json: ...

    def get_checkout_session(self, checkout_session_id: str) -> Json: ...

    def complete_checkout_session(
        self, checkout_session_id: str, body: Body, *, idempotency_key: str | None = None
    ) -> Json: ...

    def get_charge_permission(self, charge_permission_id: str) -> Json: ...

    def close_charge_permission(self, charge_permission_id: str, body: Body) -> Json: ...

    def create_charge(self, body: Body, *, idempotency_key: str | None = None) -> Json: ...

    def get_charge(self, charge_id: str) -> Json: ...

    def capture_charge(
        self, charge_id: str, body: Body, *, idempotency_key: str | None = None
    ) -> Json: ...

    def cancel_charge(self, charge_id: str, body: Body | None = None) -> Json: ...

    def create_refund(self, body: Body, *, idempotency_key: str | None = None) -> Json: ...

    def get_refund(self, refund_id: str) -> Json: ...


class OrderStatus(enum.StrEnum):
    """Where an order stands, from the shop's point of view."""

    PENDING_PAYMENT = "pending_payment"  # checkout session created; the buyer is on Amazon
    AUTHORIZING = "authorizing"  # Amazon is still deciding on the authorization
    AUTHORIZED = "authorized"  # the buyer's payment is approved; captured when we ship
    CAPTURE_PENDING = "capture_pending"  # capture requested, Amazon processing it: goods held
    PAID = "paid"  # captured, waiting for dispatch
    SHIPPED = "shipped"  # captured and dispatched
    RETURNED = "returned"  # goods came back; a refund is on its way
    REFUNDED = "refunded"  # every captured cent went back
    CANCEL_PENDING = "cancel_pending"  # canceled during a capture: refund once it lands
    CANCELED = "canceled"
    PAYMENT_FAILED = "payment_failed"
    NEEDS_ATTENTION = "needs_attention"  # a human must look (see Order.note)


#: Statuses of an order whose payment the shop captured.
PAID_STATUSES: Final = frozenset(
    {OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.RETURNED, OrderStatus.REFUNDED}
)


@attrs.define
class RefundRecord:
    """One refund the shop asked for."""

    key: str  # the idempotency key it was created with
    amount: Decimal
    refund_id: str
    state: str  # Amazon's state as last read


@attrs.define
class Order:
    """An order and what the shop knows about its payment."""

    order_id: str
    amount: Decimal
    currency: str
    status: OrderStatus
    checkout_session_id: str
    checkout_expires_at: datetime
    charge_permission_id: str | None = None
    charge_id: str | None = None  # the authorization the order will be captured on
    charge_attempts: int = 0  # charges created on the permission, declined ones included
    captured: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)  # refunds that reached Refunded
    refunds: list[RefundRecord] = attrs.Factory(list)
    note: str = ""  # why the order needs attention

    @property
    def refund_committed(self) -> Decimal:
        """Money promised back: every refund not declined (the limit Amazon counts, §6)."""
        return sum((r.amount for r in self.refunds if r.state != "Declined"), Decimal(0))

    def refund_for(self, refund_id: str) -> RefundRecord | None:
        return next((r for r in self.refunds if r.refund_id == refund_id), None)


def _price(amount: Decimal, currency: str) -> dict[str, str]:
    # JPY has no minor unit; the shop sells in two-decimal currencies only (SPEC §1).
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}


def state_of(body: Mapping[str, Any]) -> str:
    """An object's state, from its JSON."""
    return str(body["statusDetails"]["state"])


def reason_of(body: Mapping[str, Any]) -> str | None:
    """An object's reason code (None when it has none), from its JSON."""
    reason = body["statusDetails"].get("reasonCode")
    return None if reason is None else str(reason)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Shop:
    """The shop's payment side.

    Args:
        amazon_pay: the Amazon Pay client (see ``AmazonPay``).
        now: the shop's clock (the wall clock by default; tests pass the simulator's).
        store_id: the Amazon Pay store id.
        currency: the currency the shop sells in (one with two decimals).
        async_authorization_from: orders of this amount or more accept a pending
            (asynchronous) authorization.
    """

    def __init__(
        self,
        amazon_pay: AmazonPay,
        *,
        now: Callable[[], datetime] = _utcnow,
        store_id: str = "amzn1.application-oa2-client.shop",
        currency: str = "USD",
        async_authorization_from: Decimal = Decimal(100),
    ) -> None:
        self.amazon_pay = amazon_pay
        self.async_authorization_from = async_authorization_from
        self.now = now
        self.store_id = store_id
        self.currency = currency
        self.orders: dict[str, Order] = {}
        #: The re-authorization declines the next ``ship`` tries again.
        self.retryable_declines: frozenset[str] = RETRYABLE_DECLINES
        self._by_session: dict[str, Order] = {}
        self._by_permission: dict[str, Order] = {}

    # -- checkout ------------------------------------------------------------------------

    def place_order(self, amount: Decimal) -> Order:
        """The buyer clicks "Pay with Amazon": create the checkout session.

        Returns:
            The new order, ``pending_payment``; the buyer goes to Amazon's page for
            ``order.checkout_session_id``.
        """
        order_id = f"order-{len(self.orders) + 1}"
        session = self.amazon_pay.create_checkout_session(
            {
                "webCheckoutDetails": {
                    "checkoutReviewReturnUrl": "https://shop.example/review",
                    "checkoutResultReturnUrl": f"https://shop.example/result/{order_id}",
                },
                "storeId": self.store_id,
                "paymentDetails": {
                    "paymentIntent": "Authorize",
                    # Large orders accept a pending authorization (AuthorizationInitiated,
                    # decided within 24 h): fewer declines, at the price of waiting for an
                    # IPN before shipping. Small ones want an answer on the spot.
                    "canHandlePendingAuthorization": amount >= self.async_authorization_from,
                    "chargeAmount": _price(amount, self.currency),
                },
                "merchantMetadata": {"merchantReferenceId": order_id},
            },
            idempotency_key=f"{order_id}-checkout",
        )
        order = Order(
            order_id=order_id,
            amount=amount,
            currency=self.currency,
            status=OrderStatus.PENDING_PAYMENT,
            checkout_session_id=session["checkoutSessionId"],
            checkout_expires_at=parse_timestamp(session["expirationTimestamp"]),
        )
        self.orders[order_id] = order
        self._by_session[order.checkout_session_id] = order
        return order

    def checkout_returned(self, checkout_session_id: str) -> Order | None:
        """The buyer is back on the result page: complete the checkout.

        Safe to call again (a reload): only a ``pending_payment`` order is completed.

        Returns:
            The order, or None for a session the shop does not know.

        Raises:
            ApiError: an answer the shop has no plan for (an outage); the page shows an error
                and the buyer can retry.
        """
        order = self._by_session.get(checkout_session_id)
        if order is None or order.status != OrderStatus.PENDING_PAYMENT:
            return order
        session = self._live_checkout(order)
        if session is None or state_of(session) != "Open" or session.get("constraints"):
            return order  # gone, or the buyer has not finished on Amazon's page
        try:
            completed = self.amazon_pay.complete_checkout_session(
                checkout_session_id,
                {"chargeAmount": _price(order.amount, order.currency)},
                idempotency_key=f"{order.order_id}-complete",
            )
        except ApiError as err:
            if err.reason_code != "CheckoutSessionCanceled":
                raise
            # Declined at completion, or the buyer canceled on Amazon's page.
            self._checkout_canceled(
                order, reason_of(self.amazon_pay.get_checkout_session(checkout_session_id))
            )
            return order
        permission_id = completed["chargePermissionId"]
        order.charge_permission_id = permission_id
        order.charge_id = completed["chargeId"]
        order.charge_attempts = 1
        self._by_permission[permission_id] = order
        order.status = OrderStatus.AUTHORIZING
        # The completion may answer 202 with a pending authorization: read the charge.
        self._apply_charge(order, self.amazon_pay.get_charge(completed["chargeId"]))
        return order

    def _checkout_canceled(self, order: Order, reason: str | None) -> None:
        if reason == "BuyerCanceled":
            order.status = OrderStatus.CANCELED
            order.note = "the buyer canceled on Amazon's page"
        else:
            order.status = OrderStatus.PAYMENT_FAILED
            order.note = f"checkout canceled: {reason}"

    def unsettled(self) -> list[Order]:
        """The orders waiting on Amazon: a buyer still on Amazon's page, an authorization,
        capture or refund still being processed."""
        waiting = {
            OrderStatus.PENDING_PAYMENT,
            OrderStatus.AUTHORIZING,
            OrderStatus.CAPTURE_PENDING,
            OrderStatus.CANCEL_PENDING,
        }
        return [
            order
            for order in self.orders.values()
            if order.status in waiting or any(r.state == "RefundInitiated" for r in order.refunds)
        ]

    def reconcile(self) -> None:
        """The nightly job: catch up with Amazon on every unsettled order, in case an IPN
        was lost (IPN delivery is not guaranteed), and cancel abandoned checkouts."""
        for order in self.unsettled():
            if order.status == OrderStatus.PENDING_PAYMENT:
                self._live_checkout(order)
            elif order.status != OrderStatus.CANCELED and order.charge_id is not None:
                self._apply_charge(order, self.amazon_pay.get_charge(order.charge_id))
            for record in list(order.refunds):
                if record.state == "RefundInitiated":
                    self._apply_refund(order, self.amazon_pay.get_refund(record.refund_id))

    def _live_checkout(self, order: Order) -> dict[str, Any] | None:
        """The order's checkout session while it is Open; else cancel the order.

        Returns:
            The session, or None when the order was canceled (expired or canceled session).
        """
        if self.now() >= order.checkout_expires_at:
            # An expired session is refused, and deleted after 30 days (SPEC §3): no call.
            order.status = OrderStatus.CANCELED
            order.note = "the checkout session expired"
            return None
        session = self.amazon_pay.get_checkout_session(order.checkout_session_id)
        if state_of(session) == "Canceled":
            self._checkout_canceled(order, reason_of(session))
            return None
        return session

    # -- shipping ------------------------------------------------------------------------

    def ship(self, order_id: str) -> bool:
        """The warehouse wants to ship: capture the payment, then dispatch.

        A capture more than 7 days after authorization is asynchronous: the order waits in
        ``capture_pending`` and ships when the money is in (call ``ship`` again, or the IPN
        moves it to ``paid``).

        Returns:
            True when the order is (now) shipped.
        """
        order = self.orders[order_id]
        if order.status in (OrderStatus.AUTHORIZING, OrderStatus.CAPTURE_PENDING):
            assert order.charge_id is not None
            self._apply_charge(order, self.amazon_pay.get_charge(order.charge_id))
        if order.status == OrderStatus.PAID:
            order.status = OrderStatus.SHIPPED
        if order.status != OrderStatus.AUTHORIZED:
            return order.status == OrderStatus.SHIPPED
        charge_id = self._authorization(order)
        if charge_id is None:
            return False
        try:
            charge = self.amazon_pay.capture_charge(
                charge_id,
                {"captureAmount": _price(order.amount, order.currency)},
                idempotency_key=f"{order.order_id}-capture-{order.charge_attempts}",
            )
        except ApiError as err:
            # Not a decline code capture has (SPEC §7): an outage. Retrying is safe (same
            # idempotency key), but a person should look first.
            self._attention(order, f"capture failed: {err.reason_code}")
            return False
        return self._captured(order, charge)

    def _captured(self, order: Order, charge: Mapping[str, Any]) -> bool:
        """Apply a capture's answer: True when the money is in and the order shipped."""
        if state_of(charge) == "Captured":
            order.captured = Decimal(charge["captureAmount"]["amount"])
            order.status = OrderStatus.SHIPPED
            return True
        # CaptureInitiated is a promise, not money (SPEC §5): hold the goods until the
        # charge is Captured; it may still end Declined.
        order.status = OrderStatus.CAPTURE_PENDING
        return False

    def _authorization(self, order: Order) -> str | None:
        """A charge id that can be captured now, re-authorizing when the old one lapsed;
        or None (the order's status then says why)."""
        assert order.charge_id is not None
        charge = self.amazon_pay.get_charge(order.charge_id)
        if state_of(charge) == "Authorized":
            return order.charge_id
        self._apply_charge(order, charge)
        if order.status != OrderStatus.AUTHORIZED:
            return None
        # The authorization expired (30 days, SPEC §5): ask for a new one on the permission.
        return self._reauthorize(order)

    def _reauthorize(self, order: Order) -> str | None:
        assert order.charge_permission_id is not None
        permission = self.amazon_pay.get_charge_permission(order.charge_permission_id)
        balance = Decimal(permission["limits"]["amountBalance"]["amount"])
        if state_of(permission) != "Chargeable":
            why = "; ".join(r["reasonCode"] for r in permission["statusDetails"]["reasons"] or ())
            self._attention(order, f"authorization lapsed; permission {why}")
            return None
        if balance < order.amount:
            self._attention(order, "authorization lapsed; the permission's balance is too low")
            return None
        return self._charge(order)

    def _charge(self, order: Order) -> str | None:
        """A new authorization on the (Chargeable) permission: its id when Authorized, else
        None (the order's status says why)."""
        assert order.charge_permission_id is not None
        if order.charge_attempts >= MAX_CHARGES_PER_PERMISSION:
            self._attention(order, "authorization lapsed; no charges left on the permission")
            return None
        order.charge_attempts += 1
        try:
            charge = self.amazon_pay.create_charge(
                {
                    "chargePermissionId": order.charge_permission_id,
                    "chargeAmount": _price(order.amount, order.currency),
                },
                idempotency_key=f"{order.order_id}-auth-{order.charge_attempts}",
            )
        except ApiError as err:
            if err.reason_code in self.retryable_declines:
                return None  # still authorized-in-principle: the next ship() tries again
            if err.reason_code in ("HardDeclined", "AmazonRejected"):
                order.status = OrderStatus.PAYMENT_FAILED
                order.note = f"re-authorization {err.reason_code}"
                return None
            raise
        order.charge_id = charge["chargeId"]
        return order.charge_id if state_of(charge) == "Authorized" else None

    def _attention(self, order: Order, note: str) -> None:
        order.status = OrderStatus.NEEDS_ATTENTION
        order.note = note

    # -- cancellation --------------------------------------------------------------------

    def cancel(self, order_id: str) -> bool:
        """The customer cancels before shipping.

        Before capture, the authorization is released (the permission is closed with its
        pending charges); after capture, the money is refunded; during an asynchronous
        capture, the refund waits for the capture to land.

        Returns:
            True when the order is (or will be, once the capture lands) canceled.
        """
        order = self.orders[order_id]
        if order.status == OrderStatus.PENDING_PAYMENT:
            # Nothing to release: an abandoned session expires on its own (SPEC §3).
            order.status = OrderStatus.CANCELED
            return True
        if order.status in (OrderStatus.AUTHORIZING, OrderStatus.AUTHORIZED):
            self._release(order)
            order.status = OrderStatus.CANCELED
            return True
        if order.status == OrderStatus.CAPTURE_PENDING:
            # A capture in flight cannot be canceled (SPEC §5): the refund goes out once
            # it lands, from the IPN handler (or the reconcile job).
            order.status = OrderStatus.CANCEL_PENDING
            return True
        if order.status == OrderStatus.PAID:
            self._refund(order, order.captured, key=f"{order.order_id}-cancel")
            order.status = OrderStatus.CANCELED
            return True
        return order.status in (OrderStatus.CANCELED, OrderStatus.CANCEL_PENDING)

    def _release(self, order: Order) -> None:
        """Give the buyer's reserved money back: close the permission with its charges."""
        assert order.charge_permission_id is not None
        assert order.charge_id is not None
        permission = self.amazon_pay.get_charge_permission(order.charge_permission_id)
        if state_of(permission) != "Closed":
            self.amazon_pay.close_charge_permission(
                order.charge_permission_id,
                {"closureReason": "order canceled", "cancelPendingCharges": True},
            )
        # A permission the buyer (or Amazon) already closed leaves its charges alone (§4).
        if state_of(self.amazon_pay.get_charge(order.charge_id)) in LIVE_AUTHORIZATION:
            self.amazon_pay.cancel_charge(order.charge_id, {"cancellationReason": "canceled"})

    # -- returns -------------------------------------------------------------------------

    def accept_return(self, order_id: str, amount: Decimal | None = None) -> bool:
        """Goods came back: refund ``amount`` (what is left to refund by default).

        Never refunds more than was captured, though Amazon would accept up to 15 % more
        (SPEC §6): that allowance is for the buyer's shipping costs, not for shop errors.

        Returns:
            True when a refund was started.
        """
        order = self.orders[order_id]
        if order.status not in (OrderStatus.SHIPPED, OrderStatus.RETURNED):
            return False
        left = order.captured - order.refund_committed
        amount = left if amount is None else min(amount, left)
        if amount <= 0 or len(order.refunds) >= MAX_REFUNDS_PER_CHARGE:
            return False
        self._refund(order, amount, key=f"{order.order_id}-return-{len(order.refunds) + 1}")
        order.status = OrderStatus.RETURNED
        return True

    def _refund(self, order: Order, amount: Decimal, *, key: str) -> RefundRecord:
        assert order.charge_id is not None
        refund = self.amazon_pay.create_refund(
            {"chargeId": order.charge_id, "refundAmount": _price(amount, order.currency)},
            idempotency_key=key,
        )
        record = order.refund_for(refund["refundId"])
        if record is None:  # not a replay of a refund already recorded
            record = RefundRecord(key, amount, refund["refundId"], state_of(refund))
            order.refunds.append(record)
        return record

    # -- IPN -----------------------------------------------------------------------------

    def handle_ipn(self, message: Mapping[str, Any]) -> None:
        """Handle one IPN message (the body Amazon POSTs to the shop's IPN endpoint).

        IPNs carry no state (SPEC §7): the handler GETs the object and applies what it
        reads. Every application is idempotent, so duplicated, delayed and reordered
        messages are harmless.
        """
        order = self._by_permission.get(str(message.get("ChargePermissionId")))
        if order is None:
            return  # not ours, or it raced ahead of the completion answer, which covers it
        object_id = str(message.get("ObjectId"))
        object_type = message.get("ObjectType")
        if object_type == "CHARGE" and object_id == order.charge_id:
            # Other charges on the permission are lapsed or declined attempts: nothing to do.
            self._apply_charge(order, self.amazon_pay.get_charge(object_id))
        elif object_type == "REFUND" and order.refund_for(object_id) is not None:
            self._apply_refund(order, self.amazon_pay.get_refund(object_id))
        # CHARGE_PERMISSION: nothing depends on it until a re-authorization, which reads it.

    def _apply_charge(self, order: Order, charge: Mapping[str, Any]) -> None:
        """Bring the order in line with its charge (read just now)."""
        state, reason = state_of(charge), reason_of(charge)
        if order.status in (OrderStatus.AUTHORIZING, OrderStatus.AUTHORIZED):
            if state == "Authorized":
                order.status = OrderStatus.AUTHORIZED
            elif state == "Declined":
                order.status = OrderStatus.PAYMENT_FAILED
                order.note = f"authorization declined: {reason}"
            elif state == "Canceled" and reason == "BuyerCanceled":
                order.status = OrderStatus.CANCELED
                order.note = "the buyer canceled the payment"
            elif state == "Canceled" and reason == "AmazonCanceled":
                self._attention(order, "Amazon canceled the authorization")
            elif state == "Canceled":
                # Expired unused (or a pending one Amazon dropped): the buyer's approval
                # stands; ship() asks for a new authorization.
                order.status = OrderStatus.AUTHORIZED
        elif order.status == OrderStatus.CAPTURE_PENDING:
            if state == "Captured":
                order.captured = Decimal(charge["captureAmount"]["amount"])
                order.status = OrderStatus.PAID
            elif state == "Declined":
                order.status = OrderStatus.PAYMENT_FAILED
                order.note = f"capture declined: {reason}"
        elif order.status == OrderStatus.CANCEL_PENDING:
            self._captured_after_cancel(order, charge)

    def _captured_after_cancel(self, order: Order, charge: Mapping[str, Any]) -> None:
        """The capture of a canceled order landed: give the money back, once."""
        state = state_of(charge)
        if state == "Captured":
            order.captured = Decimal(charge["captureAmount"]["amount"])
            self._refund(order, order.captured, key=f"{order.order_id}-cancel")
            order.status = OrderStatus.CANCELED
        elif state == "Declined":
            order.status = OrderStatus.CANCELED

    def _apply_refund(self, order: Order, refund: Mapping[str, Any]) -> None:
        """Bring a refund record in line with Amazon's refund (read just now)."""
        record = order.refund_for(refund["refundId"])
        assert record is not None
        state = state_of(refund)
        if state == "Refunded" and record.state != "Refunded":
            order.refunded += record.amount
        record.state = state
        if state == "Declined":
            self._attention(order, f"refund {record.key} declined: {reason_of(refund)}")
        elif order.status == OrderStatus.RETURNED and all(
            r.state != "RefundInitiated" for r in order.refunds
        ):
            done = order.refunded >= order.captured
            order.status = OrderStatus.REFUNDED if done else OrderStatus.SHIPPED
