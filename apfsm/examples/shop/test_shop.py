"""Fuzzing the shop with ``apfsm.testing.IntegrationMachine``: the shop's business events
as rules, Amazon Pay's side (time, buyers, declines, IPN faults) from the base class, and
invariants tying the shop's books to Amazon's truth.

Run it on its own with ``pytest --pyargs apfsm.examples.shop.test_shop``;
``tests/fuzz/test_examples_shop.py`` runs it in the project's suite, and on ``BuggyShop`` to
show that each planted bug is found.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from apfsm import SANDBOX_CARDS
from apfsm.testing import IntegrationMachine

from .shop import LIVE_AUTHORIZATION, PAID_STATUSES, Order, OrderStatus, Shop, state_of

__all__ = ["ShopMachine", "TestShop"]

S = OrderStatus
#: Orders per run: the bugs live in one order's lifecycle and in how a few interleave.
MAX_ORDERS = 4
#: The card a buyer pays with on Amazon's page right away, or None: still on the page.
CARDS = (None, *sorted(SANDBOX_CARDS))

SHIPPABLE = frozenset({S.AUTHORIZING, S.AUTHORIZED, S.CAPTURE_PENDING, S.PAID})
CANCELABLE = frozenset({S.PENDING_PAYMENT, S.AUTHORIZING, S.AUTHORIZED, S.CAPTURE_PENDING, S.PAID})
RETURNABLE = frozenset({S.SHIPPED, S.RETURNED})
AWAITING_BUYER = frozenset({S.PENDING_PAYMENT})
HOLDING_AUTHORIZATION = frozenset({S.AUTHORIZING, S.AUTHORIZED})
#: Orders whose next step may call an operation that takes a simulation code.
WILL_CALL_AMAZON = AWAITING_BUYER | SHIPPABLE | RETURNABLE | {S.CANCEL_PENDING}
#: The amount of every run's first order.
FIRST_ORDER = Decimal("25.00")
#: The orders each event acts on.
SHOP_ACTS_ON = {
    "ship": SHIPPABLE,
    "customer_cancels": CANCELABLE,
    "customer_returns": RETURNABLE,
}
#: The orders Amazon's side acts on, by the shop's view.
AMAZON_ACTS_ON = {
    "buyer_approves": AWAITING_BUYER,
    "buyer_abandons": AWAITING_BUYER,
    "payment_method_problem": HOLDING_AUTHORIZATION,
    "payment_method_fixed": HOLDING_AUTHORIZATION,
    "buyer_closes_permission": HOLDING_AUTHORIZATION,
    "amazon_cancels_charge": HOLDING_AUTHORIZATION,
    "next_call_is_declined": WILL_CALL_AMAZON,
}
#: Statuses in which an order must not have money captured.
NOT_YET_CAPTURED = frozenset({S.PENDING_PAYMENT, S.AUTHORIZING, S.AUTHORIZED, S.PAYMENT_FAILED})


def _amount(price: dict[str, str] | None) -> Decimal:
    return Decimal(0) if price is None else Decimal(price["amount"])


class ShopMachine(IntegrationMachine):
    """The shop's side of the fuzz test. ``make_shop`` builds the shop under test (the
    tests override it to plant bugs)."""

    #: Where each run writes the simulator's call log (JSON Lines, what ``apfsm check-log``
    #: reads). A failing test's last run is the shrunk case, so the file left is its log.
    log_path: ClassVar[str | None] = None
    #: Fail a retry Amazon said cannot succeed (a charge again after HardDeclined, ...).
    check_retries = True

    def __init__(self) -> None:
        super().__init__()
        self.shop = self.make_shop()
        # Every run starts with a customer who checks out and pays: the runs where
        # Hypothesis's swarm testing switches the shop's rule off still test something.
        # (Here rather than in an @initialize rule, which costs Hypothesis about a tenth
        # of the run's throughput; the drawn orders come from business_event.)
        self.place_order(FIRST_ORDER, "1111")

    def make_shop(self) -> Shop:
        # The shop talks to self.sim, and takes the simulator's clock as its own.
        return Shop(self.sim, now=self.sim.now)

    def teardown(self) -> None:
        if self.log_path is not None:
            self.sim.write_log(self.log_path)
        super().teardown()  # a failing run's trace (apfsm.replay)

    # -- hooks: the buyer back on the result page; IPNs to the shop's endpoint ------------

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        self.shop.checkout_returned(checkout_session_id)

    def on_notification(self, message: dict[str, Any]) -> None:
        self.shop.handle_ipn(message)

    # -- Amazon's side, steered by the shop's view ----------------------------------------
    # Amazon Pay's steps that cannot act (no object in a state they act on) hand over to
    # the next kind anyway; the shop's own view steers them to where they matter.

    def _orders(self, statuses: frozenset[OrderStatus]) -> list[str]:
        return [o.order_id for o in self.shop.orders.values() if o.status in statuses]

    def amazon_may(self, kind: str) -> bool:
        statuses = AMAZON_ACTS_ON.get(kind)
        return statuses is None or bool(self._orders(statuses))

    # -- the shop's business events: ordinary Hypothesis rules ----------------------------
    # Each event is a @rule with its own strategies, guarded by a @precondition: an event
    # that cannot happen now is not drawn. Amazon Pay's side comes from the base class as
    # rules of its own (amazon_*), chosen by Hypothesis alongside these.

    def _shop_can(self, event: str) -> bool:
        statuses = SHOP_ACTS_ON[event]
        return bool(self._orders(statuses))

    @precondition(lambda self: len(self.shop.orders) < MAX_ORDERS)
    @rule(cents=st.integers(100, 50_000), card=st.sampled_from(CARDS))
    def another_order(self, cents: int, card: str | None) -> None:
        self.place_order(Decimal(cents) / 100, card)

    def place_order(self, amount: Decimal, card: str | None) -> None:
        """A customer checks out. With a ``card``, the buyer pays on Amazon's page at once
        (most do) and is back on the result page; without one, Amazon's side decides
        later whether and how they pay."""
        order = self.shop.place_order(amount)
        if card is not None:
            self.sim.buyer_approve(order.checkout_session_id, card=card)
            self.after_buyer_approved(order.checkout_session_id)

    @precondition(lambda self: self._shop_can("ship"))
    @rule(pick=st.integers(0, 15), handling_days=st.sampled_from((0, 2, 10)))
    def ship(self, pick: int, handling_days: int) -> None:
        """The warehouse ships an order after ``handling_days`` (a backordered item takes
        longer: more than 7 days after authorization, the capture is asynchronous)."""
        orders = self._orders(SHIPPABLE)
        if handling_days:
            self.sim.advance(timedelta(days=handling_days))
        self.shop.ship(orders[pick % len(orders)])

    @precondition(lambda self: self._shop_can("customer_cancels"))
    @rule(pick=st.integers(0, 15))
    def customer_cancels(self, pick: int) -> None:
        orders = self._orders(CANCELABLE)
        self.shop.cancel(orders[pick % len(orders)])

    @precondition(lambda self: self._shop_can("customer_returns"))
    @rule(pick=st.integers(0, 15), share=st.sampled_from(("1", "0.5", "0.2")))
    def customer_returns(self, pick: int, share: str) -> None:
        """The customer sends back items worth ``share`` of the order."""
        orders = self._orders(RETURNABLE)
        order = self.shop.orders[orders[pick % len(orders)]]
        worth = (order.amount * Decimal(share)).quantize(Decimal("0.01"), ROUND_DOWN)
        self.shop.accept_return(order.order_id, max(worth, Decimal("0.01")))

    @precondition(lambda self: bool(self.shop.unsettled()))
    @rule()
    def nightly_reconcile(self) -> None:
        self.shop.reconcile()

    # -- Amazon's truth -------------------------------------------------------------------

    def _json(self, object_id: str | None) -> dict[str, Any]:
        # amazon_json reads Amazon's state without an API call: checking the books is not
        # the shop's traffic (and must not use up an injected simulation code). It is
        # refreshed only for objects that changed, so five invariants after every step
        # stay cheap.
        assert object_id, "the order has no such object yet"
        return self.amazon_json(object_id)

    def _charges(self) -> Iterator[tuple[Order, dict[str, Any]]]:
        """Every charge at Amazon, with the order it belongs to."""
        orders = {o.charge_permission_id: o for o in self.shop.orders.values()}
        for charge in self.amazon_objects("Charge"):
            order = orders.get(charge["chargePermissionId"])
            if order is not None:
                yield order, charge

    def _refunds(self) -> dict[str, list[dict[str, Any]]]:
        """Every refund at Amazon, by order id."""
        orders = {o.charge_id: o.order_id for o in self.shop.orders.values()}
        out: dict[str, list[dict[str, Any]]] = {o: [] for o in self.shop.orders}
        for refund in self.amazon_objects("Refund"):
            order_id = orders.get(refund["chargeId"])
            assert order_id is not None, f"{refund['refundId']} is on a charge no order holds"
            out[order_id].append(refund)
        return out

    # -- invariants: true after every step, whatever IPNs are still on their way -----------

    @invariant()
    def paid_orders_are_captured(self) -> None:
        """An order the shop counts as paid has a Captured charge for what it recorded."""
        for order in self.shop.orders.values():
            if order.status in PAID_STATUSES:
                charge = self._json(order.charge_id)
                assert "Captured" == state_of(charge), (
                    f"{order.order_id} is {order.status} but its charge is {state_of(charge)}"
                )
                assert order.captured == _amount(charge["captureAmount"]), order

    @invariant()
    def captured_money_is_accounted_for(self) -> None:
        """Money Amazon captured belongs to an order the shop knows is paid (or canceled,
        with the money refunded), never to one it thinks unpaid."""
        for order, charge in self._charges():
            if state_of(charge) != "Captured":
                continue
            captured = _amount(charge["captureAmount"])
            assert order.status not in NOT_YET_CAPTURED, (
                f"{order.order_id} is {order.status}, but Amazon captured {captured}"
            )
            if order.status == S.CANCELED:
                assert captured == order.refund_committed, (
                    f"{order.order_id} is canceled; captured {captured}, "
                    f"refunding {order.refund_committed}"
                )

    @invariant()
    def refunds_are_the_shops_and_within_capture(self) -> None:
        """Every refund at Amazon is one the shop recorded, once, and together they never
        exceed the capture (Amazon's 15 % allowance is not the shop's to use)."""
        for order_id, refunds in self._refunds().items():
            order = self.shop.orders[order_id]
            amazon = sorted(r["refundId"] for r in refunds)
            assert sorted(r.refund_id for r in order.refunds) == amazon, (
                f"{order_id}: the shop recorded {len(order.refunds)} refund(s), "
                f"Amazon has {len(amazon)}"
            )
            if refunds:
                live = sum(
                    (_amount(r["refundAmount"]) for r in refunds if state_of(r) != "Declined"),
                    Decimal(0),
                )
                captured = _amount(self._json(order.charge_id)["captureAmount"])
                assert live <= captured, f"{order_id}: refunds of {live} on a capture of {captured}"

    @invariant()
    def refunded_books_never_run_ahead(self) -> None:
        """The shop's refunded total is the sum of the refunds it saw complete, and never
        more than Amazon refunded."""
        for order in self.shop.orders.values():
            seen = sum((r.amount for r in order.refunds if r.state == "Refunded"), Decimal(0))
            assert seen == order.refunded, (
                f"{order.order_id}: the books say {order.refunded} refunded, "
                f"its completed refunds total {seen}"
            )
            if order.charge_id is not None:
                amazon = _amount(self._json(order.charge_id)["refundedAmount"])
                assert order.refunded <= amazon, (
                    f"{order.order_id}: the books say {order.refunded} refunded, Amazon {amazon}"
                )

    @invariant()
    def canceled_orders_hold_no_authorization(self) -> None:
        """A canceled or failed order leaves none of the buyer's money reserved."""
        for order, charge in self._charges():
            if order.status in (S.CANCELED, S.PAYMENT_FAILED):
                assert state_of(charge) not in LIVE_AUTHORIZATION, (
                    f"{order.order_id} is {order.status}, {charge['chargeId']} is "
                    f"{state_of(charge)}"
                )

    # -- once every IPN has arrived, the books match Amazon exactly -----------------------

    @rule()
    def shop_catches_up(self) -> None:
        """Deliver every waiting IPN (no faults), then compare the books with Amazon.

        A step, not an invariant: delivering after every step would leave nothing for the
        duplicated, delayed and reordered deliveries of ``deliver_ipns`` to work on.
        """
        self.deliver_notifications()
        expected = {
            S.AUTHORIZING: {"AuthorizationInitiated"},
            S.AUTHORIZED: {"Authorized", "Canceled"},  # Canceled: lapsed, renewed when shipped
            S.CAPTURE_PENDING: {"CaptureInitiated"},
            S.CANCEL_PENDING: {"CaptureInitiated"},
        }
        refunds = self._refunds()
        for name, order in self.shop.orders.items():
            if order.status in expected:
                state = state_of(self._json(order.charge_id))
                assert state in expected[order.status], (
                    f"{name} is still {order.status}, its charge is {state}"
                )
            amazon = {r["refundId"]: state_of(r) for r in refunds[name]}
            books = {r.refund_id: r.state for r in order.refunds}
            assert amazon == books, f"{name}: refunds {books} in the books, {amazon} at Amazon"
            if order.charge_id is not None:
                refunded = _amount(self._json(order.charge_id)["refundedAmount"])
                assert refunded == order.refunded, (
                    f"{name}: the books say {order.refunded} refunded, Amazon {refunded}"
                )
            if order.status == S.RETURNED:
                assert "RefundInitiated" in amazon.values(), f"{name} returned, no refund open"
            if order.status == S.REFUNDED:
                assert order.captured == order.refunded, f"{name} refunded only in part"


TestShop = ShopMachine.TestCase
TestShop.settings = settings(
    stateful_step_count=40,
    deadline=None,
    # Rules with preconditions that are all false for a moment make Hypothesis retry, and
    # now and then give up on, a draw: harmless, not a sign of a bad strategy.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
