"""A small shop as a team writes it against Amazon Pay's Python client (``AmazonPayClient``
on PyPI: ``from AmazonPay import Client``) — no adapter, no dependency injection of a fake:
it builds its own client from a key file, calls Amazon Pay's real hosts, reads HTTP status
codes and JSON. Under ``apfsm.testing.mock_amazon_pay()`` those calls are answered by apfsm.

Orders: ``pending`` (checkout started) → ``authorized`` → ``paid`` (captured) or
``capture_pending`` (a capture more than 7 days after authorizing is asynchronous: the shop
waits for the charge to be ``Captured``, from an IPN or its nightly check); ``canceled``
(checkout canceled or declined); ``needs_attention`` (the authorization lapsed).

``BUGS`` names the planted mistakes a variant can switch on (``SdkShop(bugs={...})``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any, Final

import attrs

__all__ = ["BUGS", "Order", "SdkShop"]

#: Planted bugs: ``capture_initiated_is_paid`` counts a CaptureInitiated capture as money.
BUGS: Final = frozenset({"capture_initiated_is_paid"})


@attrs.define
class Order:
    order_id: str
    amount: Decimal
    status: str = "pending"
    checkout_session_id: str | None = None
    charge_id: str | None = None


def _price(amount: Decimal) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currencyCode": "USD"}


def _state(body: Mapping[str, Any]) -> str:
    return str(body["statusDetails"]["state"])


class SdkShop:
    """The shop. ``client`` is an ``AmazonPay.Client`` (its production configuration)."""

    def __init__(self, client: Any, *, bugs: Collection[str] = ()) -> None:
        unknown = set(bugs) - BUGS
        if unknown:
            raise ValueError(f"unknown bugs {sorted(unknown)}; bugs are {sorted(BUGS)}")
        self.client = client
        self.bugs = frozenset(bugs)
        self.orders: dict[str, Order] = {}

    def place_order(self, amount: Decimal) -> Order:
        """The customer clicks the Amazon Pay button: a checkout session for the order."""
        order = Order(f"order-{len(self.orders) + 1}", amount)
        response = self.client.create_checkout_session(
            {
                "webCheckoutDetails": {
                    "checkoutReviewReturnUrl": "https://shop.example/review",
                    "checkoutResultReturnUrl": "https://shop.example/result",
                },
                "storeId": "amzn1.application-oa2-client.shop",
                "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": _price(amount)},
                "merchantMetadata": {"merchantReferenceId": order.order_id},
            }
        )
        response.raise_for_status()
        order.checkout_session_id = response.json()["checkoutSessionId"]
        self.orders[order.order_id] = order
        return order

    def checkout_returned(self, checkout_session_id: str) -> None:
        """The buyer is back on the result page: complete the checkout."""
        order = next(
            (o for o in self.orders.values() if o.checkout_session_id == checkout_session_id),
            None,
        )
        if order is None or order.status != "pending":
            return
        response = self.client.complete_checkout_session(
            checkout_session_id, {"chargeAmount": _price(order.amount)}
        )
        if response.status_code in (200, 202):
            order.charge_id = response.json()["chargeId"]
            order.status = "authorized"
        elif response.json().get("reasonCode") == "CheckoutSessionCanceled":
            order.status = "canceled"
        else:
            response.raise_for_status()

    def ship(self, order_id: str) -> None:
        """The warehouse ships: capture the authorized amount (read the charge first: an
        authorization lapses after 30 days)."""
        order = self.orders[order_id]
        if order.status != "authorized" or order.charge_id is None:
            return
        charge = self.client.get_charge(order.charge_id).json()
        if _state(charge) != "Authorized":
            order.status = "needs_attention"
            return
        response = self.client.capture_charge(
            order.charge_id, {"captureAmount": _price(order.amount)}
        )
        response.raise_for_status()
        captured = _state(response.json())
        if captured == "Captured" or (
            captured == "CaptureInitiated" and "capture_initiated_is_paid" in self.bugs
        ):
            order.status = "paid"
        else:
            order.status = "capture_pending"

    def handle_ipn(self, message: Mapping[str, Any]) -> None:
        """An IPN: it says only what changed; read the charge and apply its state."""
        if message.get("ObjectType") != "CHARGE":
            return
        for order in self.orders.values():
            if order.charge_id == message.get("ObjectId") and order.status == "capture_pending":
                charge = self.client.get_charge(order.charge_id).json()
                if _state(charge) == "Captured":
                    order.status = "paid"
