"""The shop example (apfsm/examples/shop): the correct shop passes its ``IntegrationMachine``; each
bug planted in ``BuggyShop`` is found and shrunk to a short sequence of steps."""

from __future__ import annotations

import re
import statistics
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    run_state_machine_as_test,
)

import apfsm
from apfsm import Simulator
from apfsm.examples.shop import test_shop
from apfsm.examples.shop.buggy_shop import BUGS, BuggyShop
from apfsm.examples.shop.shop import OrderStatus, Shop
from apfsm.examples.shop.test_shop import ShopMachine
from apfsm.testing import IntegrationError

# The correct shop under the active Hypothesis profile (ci: 150 derandomized examples).
TestCorrectShop = test_shop.TestShop

# -- the planted bugs ---------------------------------------------------------------------

BUG_SETTINGS = settings(
    max_examples=2_000,  # a ceiling: the search stops at the first failure
    stateful_step_count=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),  # the explain phase is slow and adds nothing here
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)

#: bug -> (what reports it, a pattern of its message, the most steps the shrunk case may
#: have). The shrinker reaches 1 to 6 steps when this file runs alone (with one rule per
#: kind of step; the one-integer encoding reached 2 to 8); the exact case also depends on
#: the modules the session has loaded (Hypothesis draws constants from their source): the
#: bounds leave room for that, and still fail on a search that no longer shrinks.
FINDINGS: dict[str, tuple[type[AssertionError], str, int]] = {
    # Strict mode: the capture Amazon refuses because the authorization is gone.
    "capture_expired_authorization": (
        IntegrationError,
        r"called capture_charge on a Charge in state Canceled",
        4,
    ),
    # The invariant: an order the shop counts as paid has a Captured charge.
    "capture_initiated_is_paid": (AssertionError, r"is shipped but its charge is Capture", 3),
    # Strict mode: the second refund of the whole capture exceeds what may be refunded.
    "refund_per_ipn": (IntegrationError, r"create_refund .*TransactionAmountExceeded", 7),
    # Strict mode, or the invariant on refunds within the capture (within Amazon's 15 %).
    "uncapped_returns": (
        AssertionError,
        r"TransactionAmountExceeded|refunds of .* on a capture",
        5,
    ),
    # The invariant: the books count only refunds that completed, once.
    "refund_counted_per_ipn": (AssertionError, r"the books say .* refunded", 8),
    # Strict mode: the capture the skipped read would have foreseen (lapsed at 30 days, or
    # canceled by Amazon meanwhile).
    "authorization_alive_through_day_30": (
        IntegrationError,
        r"called capture_charge on a Charge in state Canceled",
        4,
    ),
    # The invariant: a capture taken as done while it is CaptureInitiated.
    "capture_sync_through_day_7": (AssertionError, r"is shipped but its charge is Capture", 4),
    "pending_authorization_is_authorized": (
        AssertionError,
        r"is still authorized, its charge is AuthorizationInitiated",
        4,
    ),
    "refund_before_capture_lands": (
        IntegrationError,
        r"create_refund on a Charge in state CaptureInitiated",
        4,
    ),
    "capture_counted_per_ipn": (AssertionError, r"order-\d", 6),
    "ipn_means_captured": (AssertionError, r"is paid but its charge is CaptureInitiated", 5),
    "refund_ipn_means_refunded": (AssertionError, r"in the books, .* at Amazon|the books say", 6),
    "return_key_reused": (IntegrationError, r"create_refund .*DuplicateIdempotencyKey", 5),
    "capture_key_per_attempt": (IntegrationError, r"capture_charge .*DuplicateIdempotencyKey", 6),
    "reauthorize_without_reading_permission": (
        IntegrationError,
        r"create_charge on a ChargePermission in state (Closed|NonChargeable)",
        5,
    ),
    # Found at once; under these derandomized settings the shrinker stops in a local
    # minimum, a run of shop_catches_up steps before the two that matter (18 steps when this
    # file ran alone): the bound is loose here, and the test below holds the shrink on
    # random seeds, where it reaches the two steps.
    "close_closed_permission": (
        IntegrationError,
        r"close_charge_permission on a ChargePermission in state Closed",
        40,
    ),
    # The invariant: a paid order has a Captured charge, not a Declined one.
    "capture_declined_ships": (AssertionError, r"is paid but its charge is Declined", 8),
    # check_retries: a charge again on a permission whose last charge was HardDeclined.
    "hard_decline_retried": (
        AssertionError,
        r"create_charge .*HardDeclined|is still authorized, its charge is Declined",
        8,
    ),
    # The invariant: a canceled order leaves no authorization open.
    "cancel_keeps_authorization": (AssertionError, r"is canceled, \S+ is Authorized", 8),
    "cancel_paid_without_refund": (AssertionError, r"is canceled; captured .* refunding 0", 6),
    "float_money": (AssertionError, r"order-\d", 4),
    "capture_adds_shipping_fee": (
        IntegrationError,
        r"capture_charge .*TransactionAmountExceeded",
        3,
    ),
}

STEP = re.compile(r"^state\.(\w+)\(")


def shrunk_steps(error: BaseException, machine: type[RuleBasedStateMachine]) -> list[str]:
    """The steps of the failing case as Hypothesis printed it (the exception's notes),
    without the invariant checks and the teardown it prints after them."""
    checks = {i.function.__name__ for i in machine.setup_state().invariants} | {"teardown"}
    lines = "\n".join(getattr(error, "__notes__", ())).splitlines()
    return [line for line in lines if (m := STEP.match(line)) and m[1] not in checks]


def machine_with(bug: str) -> type[ShopMachine]:
    class BuggyShopMachine(ShopMachine):
        def make_shop(self) -> Shop:
            return BuggyShop(self.sim, now=self.sim.now, bugs={bug})

    BuggyShopMachine.__name__ = f"ShopMachine_{bug}"
    return BuggyShopMachine


def test_every_bug_has_a_finding() -> None:
    assert sorted(BUGS) == sorted(FINDINGS)


@pytest.mark.parametrize("bug", sorted(FINDINGS))
def test_the_kit_finds_and_shrinks_each_planted_bug(bug: str, tmp_path: Path) -> None:
    kind, message, most_steps = FINDINGS[bug]
    machine = machine_with(bug)
    machine.trace_dir = str(tmp_path)
    with pytest.raises(kind, match=message) as failure:
        run_state_machine_as_test(machine, settings=BUG_SETTINGS)
    # The shrunk run's trace: Amazon Pay's side of it replays exactly on a fresh simulator.
    trace_file = tmp_path / f"{machine.__name__}.json"
    notes = "\n".join(failure.value.__notes__)
    assert f"apfsm trace of this run: {trace_file}" in notes
    # The trace says plainly what it replays; the story lists every call, its time and
    # Amazon Pay's answer, ending at the refused or checked call.
    assert "replays Amazon Pay's side only (your calls as recorded, not your code)" in notes
    assert "apfsm story of this run" in notes
    assert re.search(r"\+0:00:00 · you · create_checkout_session \S+ → 201 Open", notes)
    trace = apfsm.Trace.load(trace_file)
    assert trace.note.startswith(kind.__name__) or trace.note.startswith("IntegrationError")
    assert apfsm.replay(trace).ok
    assert any(step.kind == "call" for step in trace.steps)
    steps = shrunk_steps(failure.value, machine)
    assert steps, "no steps printed for the failing case"
    # Each step prints as the rule it ran, its arguments by name: Amazon's side as the
    # base class's amazon_* rules, the shop's as its own.
    assert all("plan=" not in step for step in steps), steps
    assert len(steps) <= most_steps, "\n".join(steps)


def test_close_closed_permission_shrinks_to_its_two_steps_on_most_seeds() -> None:
    """Two steps are this bug's whole case (the buyer closes the permission, the customer
    cancels); the derandomized search above shrinks to 18 — Hypothesis's shrinker does not
    delete the 16 ``shop_catches_up`` before them — but over random seeds it reaches the two
    on most (measured, seeds 0–9 run alone: 2, 2, 8, 2, 2, 2, 2, 2, 2, 2)."""
    machine = machine_with("close_closed_permission")
    two = machine()
    two.amazon_buyer_closes_permission(pick=0)
    with pytest.raises(IntegrationError, match="close_charge_permission on a ChargePermission"):
        two.customer_cancels(pick=0)
    lengths = []
    for each in range(5):
        test = get_state_machine_test(machine, settings=settings(BUG_SETTINGS, derandomize=False))
        with pytest.raises(IntegrationError) as failure:
            seed(each)(test)()
        lengths.append(len(shrunk_steps(failure.value, machine)))
    assert statistics.median(lengths) <= 3, lengths


def test_buggy_shop_refuses_unknown_bugs() -> None:
    with pytest.raises(ValueError, match="unknown bugs \\['typo'\\]"):
        BuggyShop(Simulator(), bugs={"typo"})


# -- the correct shop, step by step (the pytest plugin's fixtures) ------------------------


def paid_order(sim: Simulator, amount: str = "25.00") -> tuple[Shop, str]:
    shop = Shop(sim, now=sim.now)
    sim.on_notification = shop.handle_ipn
    order = shop.place_order(Decimal(amount))
    sim.buyer_approve(order.checkout_session_id)
    shop.checkout_returned(order.checkout_session_id)
    assert OrderStatus.AUTHORIZED == order.status
    return shop, order.order_id


def test_shipping_renews_a_lapsed_authorization(apfsm_simulator: Simulator) -> None:
    shop, order_id = paid_order(apfsm_simulator)
    first_charge = shop.orders[order_id].charge_id
    apfsm_simulator.advance(timedelta(days=30))  # the authorization expires (SPEC §5)
    assert shop.ship(order_id)
    order = shop.orders[order_id]
    assert (OrderStatus.SHIPPED, Decimal("25.00"), 2) == (
        order.status,
        order.captured,
        order.charge_attempts,
    )
    assert first_charge != order.charge_id


def test_an_asynchronous_capture_ships_only_once_captured(apfsm_simulator: Simulator) -> None:
    shop, order_id = paid_order(apfsm_simulator)
    apfsm_simulator.advance(timedelta(days=8))  # more than 7 days: asynchronous (SPEC §5)
    assert not shop.ship(order_id)
    assert OrderStatus.CAPTURE_PENDING == shop.orders[order_id].status
    apfsm_simulator.advance(timedelta(seconds=30))  # Captured; the IPN moves it to paid
    assert OrderStatus.PAID == shop.orders[order_id].status
    assert shop.ship(order_id)
    assert OrderStatus.SHIPPED == shop.orders[order_id].status


def test_duplicated_ipns_refund_a_canceled_capture_once(apfsm_simulator: Simulator) -> None:
    shop, order_id = paid_order(apfsm_simulator)
    apfsm_simulator.advance(timedelta(days=8))
    shop.ship(order_id)
    assert shop.cancel(order_id)
    assert OrderStatus.CANCEL_PENDING == shop.orders[order_id].status
    apfsm_simulator.advance(timedelta(seconds=30))  # captured: the handler refunds
    for message in list(apfsm_simulator.notifications) * 2:  # every IPN again, twice
        shop.handle_ipn(message)
    order = shop.orders[order_id]
    assert OrderStatus.CANCELED == order.status
    assert 1 == len(apfsm_simulator.object_ids("Refund")) == len(order.refunds)


def test_apfsm_frames_are_hidden_from_pytest_tracebacks() -> None:
    """pytest's traceback of a failing run ends at the user's line: the frames apfsm puts
    between a rule and the simulator are marked ``__tracebackhide__``."""
    from apfsm._fuzz import AMAZON_RULES
    from apfsm.testing import IntegrationMachine, WatchedSimulator

    hidden = [WatchedSimulator.request, IntegrationMachine._amazon_step]
    # The functions the rules wrap (Hypothesis's @rule returns a proxy of its own).
    hidden += [
        getattr(IntegrationMachine, name).hypothesis_stateful_rule.function for name in AMAZON_RULES
    ]
    for function in hidden:
        assert "__tracebackhide__" in function.__code__.co_varnames, function.__name__
    # The marker goes after a docstring: before it, the docstring is a bare string and the
    # method loses its __doc__ (amazon_pay and deliver_notifications once did).
    for owner in (IntegrationMachine, WatchedSimulator):
        for name, member in vars(owner).items():
            code = getattr(member, "__code__", None)
            if code is not None and "__tracebackhide__" in code.co_varnames:
                assert name.startswith("_") or member.__doc__, f"{owner.__name__}.{name}"
