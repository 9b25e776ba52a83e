"""Fuzzing ``SdkShop`` — written against ``AmazonPayClient`` — without changing a line of
it: ``mock_amazon_pay()`` answers the client's calls from the machine's simulator, with
signatures verified; the shop's events are rules, Amazon Pay's side (time, buyers, IPNs)
comes from ``IntegrationMachine``; the invariant ties the shop's books to Amazon's.

``tests/fuzz/test_sdk_shop.py`` runs it in the project's suite, and with the planted bug.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from apfsm.testing import IntegrationMachine, mock_amazon_pay

from .shop import SdkShop

__all__ = ["SdkShopMachine"]

# A test key. 1024 bits because AmazonPayClient re-reads (and primality-tests) the key file
# on every request: ~22 ms a call with 2048 bits, ~4 ms with 1024; production keys are 2048.
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)
_KEY_FILE = Path(tempfile.mkdtemp(prefix="apfsm-sdk-shop-")) / "private.pem"
_KEY_FILE.write_bytes(
    _KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
)
PUBLIC_KEY = _KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def production_client() -> Any:
    """How the shop builds its client in production — unchanged under the mock."""
    from AmazonPay import Client  # noqa: PLC0415  (the dev extra; skipped without it)

    return Client(
        public_key_id="SANDBOX-AEXAMPLEKEY", private_key=str(_KEY_FILE), region="na", sandbox=True
    )


class SdkShopMachine(IntegrationMachine):
    bugs: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_amazon_pay(self.sim, public_key=PUBLIC_KEY)
        self.mock.__enter__()
        self.shop = SdkShop(production_client(), bugs=self.bugs)

    def teardown(self) -> None:
        self.mock.__exit__(None, None, None)
        super().teardown()

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        self.shop.checkout_returned(checkout_session_id)

    def on_notification(self, message: dict[str, Any]) -> None:
        self.shop.handle_ipn(message)

    @rule(cents=st.integers(100, 50_000))
    def customer_orders(self, cents: int) -> None:
        if len(self.shop.orders) < 4:
            self.shop.place_order(Decimal(cents) / 100)

    @precondition(lambda self: any(o.status == "authorized" for o in self.shop.orders.values()))
    @rule(pick=st.integers(0, 3))
    def warehouse_ships(self, pick: int) -> None:
        ready = [o for o in self.shop.orders.values() if o.status == "authorized"]
        self.shop.ship(ready[pick % len(ready)].order_id)

    @invariant()
    def paid_orders_are_captured_at_amazon(self) -> None:
        for order in self.shop.orders.values():
            if order.status == "paid":
                assert order.charge_id is not None
                state = self.sim.object_state(order.charge_id)
                assert state == "Captured", f"{order.order_id} is paid but its charge is {state}"


TestSdkShop = SdkShopMachine.TestCase
