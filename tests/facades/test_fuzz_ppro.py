"""Fuzzing an integration written against PPRO's facade: ``apfsm.facades.PproAdapter``
plays PPRO's ``/v1/payment-charges`` over the ``IntegrationMachine``'s simulator, the
machine plays Amazon Pay (buyers paying with cards that authorize at once or later,
declines, time), and an invariant ties the shop's books to Amazon's truth.

The planted bug is the one PPRO's facade invites (docs/facades.md): a shop that voids an
order whose authorization is still pending (``AUTHORIZATION_ASYNC``), does not check the
answer, and books the order canceled — while Amazon goes on to authorize it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule, run_state_machine_as_test

from apfsm.facades import PPRO_PAYMENT_CHARGE, FacadeError, PproAdapter, illegal_moves
from apfsm.testing import IntegrationMachine

MAX_ORDERS = 3


class PproShop:
    """A small shop written against PPRO: checkout, shipping (capture), cancellation."""

    def __init__(self, ppro: PproAdapter) -> None:
        self.ppro = ppro
        #: order (= PPRO charge id) → "awaiting" | "open" | "cancel_pending" | "canceled"
        #: | "shipped" | "failed"
        self.orders: dict[str, str] = {}

    def place_order(self, cents: int) -> str:
        charge = self.ppro.create_payment_charge(
            {
                "paymentMethod": "AMAZON_PAY",
                "amount": {"value": cents, "currency": "USD"},
                "consumer": {"country": "US"},
                "authenticationSettings": [
                    {"type": "REDIRECT", "settings": {"returnUrl": "https://shop.example/r"}}
                ],
            }
        )
        self.orders[charge["id"]] = "awaiting"
        return str(charge["id"])

    def returned(self, order: str) -> None:
        if self.orders.get(order) == "awaiting":
            self.ppro.consumer_returned(order)
            self.orders[order] = "open"

    def status(self, order: str) -> str:
        return str(self.ppro.get_payment_charge(order)["status"])

    def ship(self, order: str) -> bool:
        if self.status(order) == "CAPTURE_PENDING":
            self.ppro.capture(order)
        if self.status(order) == "CAPTURED":
            self.orders[order] = "shipped"
            return True
        return False

    def cancel(self, order: str) -> None:
        status = self.status(order)
        if status in ("AUTHENTICATION_PENDING", "DISCARDED", "FAILED", "VOIDED"):
            self.orders[order] = "canceled"
        elif status == "CAPTURE_PENDING":
            self.ppro.void(order)
            self.orders[order] = "canceled"
        elif status == "AUTHORIZATION_ASYNC":
            # PPRO has no void from here: wait for the outcome, then void (sync).
            self.orders[order] = "cancel_pending"

    def sync(self) -> None:
        for order, booked in list(self.orders.items()):
            if booked == "cancel_pending" and self.status(order) != "AUTHORIZATION_ASYNC":
                self.cancel(order)


class BuggyPproShop(PproShop):
    def cancel(self, order: str) -> None:
        if self.status(order) in ("CAPTURE_PENDING", "AUTHORIZATION_ASYNC"):
            with contextlib.suppress(FacadeError):
                self.ppro.void(order)  # the bug: a refused void is booked as done
            self.orders[order] = "canceled"
        else:
            super().cancel(order)


class PproShopMachine(IntegrationMachine):
    shop_class: type[PproShop] = PproShop

    def __init__(self) -> None:
        super().__init__()
        self.ppro = PproAdapter(self.sim, self.sim.now, pending_authorizations=True)
        self.shop = self.shop_class(self.ppro)
        self.shop.place_order(2500)

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        for order in self.shop.orders:
            if self.ppro.amazon_ids(order)[0] == checkout_session_id:
                self.shop.returned(order)

    def _orders(self, *booked: str) -> list[str]:
        return [o for o, b in self.shop.orders.items() if b in booked]

    @precondition(lambda self: len(self.shop.orders) < MAX_ORDERS)
    @rule(cents=st.integers(100, 50_000))
    def another_order(self, cents: int) -> None:
        self.shop.place_order(cents)

    @precondition(lambda self: bool(self._orders("open")))
    @rule(pick=st.integers(0, 7))
    def ship(self, pick: int) -> None:
        orders = self._orders("open")
        self.shop.ship(orders[pick % len(orders)])

    @precondition(lambda self: bool(self._orders("awaiting", "open")))
    @rule(pick=st.integers(0, 7))
    def customer_cancels(self, pick: int) -> None:
        orders = self._orders("awaiting", "open")
        self.shop.cancel(orders[pick % len(orders)])

    @rule()
    def sync(self) -> None:
        self.shop.sync()

    @invariant()
    def canceled_orders_hold_no_money(self) -> None:
        """An order booked canceled has no live authorization or capture at Amazon."""
        for order in self._orders("canceled"):
            charge_id = self.ppro.amazon_ids(order)[1]
            if charge_id is None:
                continue
            charge: dict[str, Any] = self.amazon_json(charge_id)
            state = charge["statusDetails"]["state"]
            assert state in ("Canceled", "Declined"), (
                f"{order} is canceled but its charge is {state}"
            )


SETTINGS = settings(
    max_examples=150,
    stateful_step_count=20,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)


def test_the_correct_shop_passes() -> None:
    run_state_machine_as_test(PproShopMachine, settings=SETTINGS)


def test_the_planted_bug_is_found() -> None:
    class Buggy(PproShopMachine):
        shop_class = BuggyPproShop

    with pytest.raises(
        AssertionError, match=r"is canceled but its charge is (AuthorizationInitiated|Authorized)"
    ):
        run_state_machine_as_test(Buggy, settings=SETTINGS)


def test_fuzzing_meets_the_move_check_mapping_reports() -> None:
    # The dynamic side of check_mapping: watching every charge's statuses, the fuzzer
    # finds Amazon canceling a pending authorization, which PPRO's published lifecycle
    # has no step for (AUTHORIZATION_ASYNC → VOIDED).
    class Watching(PproShopMachine):
        @invariant()
        def statuses_follow_the_facade(self) -> None:
            for order in self.shop.orders:
                self.ppro.get_payment_charge(order)
                moves = illegal_moves(PPRO_PAYMENT_CHARGE, self.ppro.history(order))
                assert not moves, f"{order}: {moves}"

    with pytest.raises(AssertionError, match=r"\('AUTHORIZATION_ASYNC', 'VOIDED'\)"):
        run_state_machine_as_test(Watching, settings=SETTINGS)


def test_illegal_moves() -> None:
    assert () == illegal_moves(PPRO_PAYMENT_CHARGE, ("AUTHENTICATION_PENDING", "CAPTURED"))
    assert (("CAPTURED", "CAPTURE_PENDING"),) == illegal_moves(
        PPRO_PAYMENT_CHARGE, ("CAPTURE_PENDING", "CAPTURED", "CAPTURE_PENDING")
    )


def test_the_adapter_shows_amazon_through_the_facade() -> None:
    from datetime import UTC, datetime, timedelta

    from apfsm import ManualClock, Simulator

    sim = Simulator(ManualClock(datetime(2026, 1, 31, 9, tzinfo=UTC)))
    ppro = PproAdapter(sim, sim.now)
    shop = PproShop(ppro)
    order = shop.place_order(2500)
    assert "AUTHENTICATION_PENDING" == shop.status(order)
    sim.buyer_approve(ppro.amazon_ids(order)[0])
    shop.returned(order)
    assert shop.ship(order)
    assert ("AUTHENTICATION_PENDING", "CAPTURE_PENDING", "CAPTURED") == ppro.history(order)
    assert "REFUND_FUNDS_WAITING" == ppro.refund(order, 500, reference="r1")["status"]
    # PPRO discards after its 1 h authentication timeout; Amazon's session is still Open.
    late = shop.place_order(2500)
    sim.advance(timedelta(hours=1))
    assert "DISCARDED" == shop.status(late)
    assert "Open" == sim.get_checkout_session(ppro.amazon_ids(late)[0])["statusDetails"]["state"]
    with pytest.raises(FacadeError, match="AMOUNT_NOT_SUPPORTED"):
        shop.place_order(49)  # below PPRO's 0.50 USD
    with pytest.raises(FacadeError, match="STATUS_NOT_ALLOWED"):
        ppro.capture(late)
