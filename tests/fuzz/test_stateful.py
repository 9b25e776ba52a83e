"""The stateful machine: random histories on the simulator, every step checked."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apfsm import Limits
from apfsm._fuzz.menu import EVENT_PICKS, merchant_entries, step_plan, world_entries
from apfsm._fuzz.plans import Product as _Product
from apfsm._harness import REALISTIC_OPTIONS
from apfsm._spec import SIMULATION_CODES
from apfsm._spec.operations import OPERATIONS
from apfsm.stateful import AmazonPayMachine, Coverage
from apfsm.strategies import deadline_offsets

AmazonPayMachine.TestCase.settings = settings(
    max_examples=500,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestAmazonPay = AmazonPayMachine.TestCase


# ---------------------------------------------------------------------------------------
# How a step's choices are drawn
# ---------------------------------------------------------------------------------------


def test_product_decodes_every_combination_once_first_option_fastest() -> None:
    options = (("a", "b"), (1, 2, 3), (True, False))
    product = _Product(options)
    assert 12 == product.size
    decoded = [product(n) for n in range(product.size)]
    # mixed radix, the first option least significant (it varies in every draw)
    assert [tuple(reversed(t)) for t in itertools.product(*reversed(options))] == decoded
    assert ("a", 1, True) == product(0)  # where shrinking goes


WORLD = {"wait", "event", "next_deadline", "month_start", "month_end", "leap_day"}


@given(st.data())
def test_step_plans_are_well_formed(data: st.DataObject) -> None:
    plan = data.draw(step_plan(Limits()))
    label = plan[0]
    if label in WORLD:
        _, argument = plan
        if label == "wait":
            assert timedelta(0) < argument <= timedelta(days=400)
        elif label == "event":
            assert len(argument) == 3
            assert all(0 <= pick < EVENT_PICKS for pick in argument)
        else:
            assert argument in (-1, 0, 1)
        return
    if label in ("order", "charged_order"):
        options = plan[1]
        assert options[0] in ("USD", "EUR", "JPY")
        return
    operation, kind, drawn, code, key, pick = plan
    assert operation in OPERATIONS
    assert kind in ("smart", "retry", "schema", "fault")
    if kind in ("smart", "retry"):
        assert len(REALISTIC_OPTIONS.get(operation, ())) == len(drawn)
    else:
        choices, variant = drawn
        assert len(REALISTIC_OPTIONS.get(operation, ())) == len(choices)
        assert 0 <= variant
    if code is not None:
        assert code in SIMULATION_CODES[operation]
    if key is not None:
        assert OPERATIONS[operation].method == "POST"
        assert key in (f"{operation}-1", f"{operation}-2")
    assert 0 <= pick < 64


def test_the_step_menu_covers_every_operation_orders_events_and_time() -> None:
    merchant, world = merchant_entries(), world_entries(Limits())
    labels = {label for label, _, _ in merchant + world}
    assert labels == set(OPERATIONS) | {"order", "charged_order"} | {
        "wait",
        "event",
        "deadline",
        "next_deadline",
        "calendar",
    }
    share = sum(w for _, _, w in world) / sum(w for _, _, w in merchant + world)
    assert 0.25 < share < 0.4  # about a third of the steps


def test_the_world_waits_exactly_on_every_limit_and_its_neighbours() -> None:
    (deadline,) = [plans for label, plans, _ in world_entries(Limits()) if label == "deadline"]
    waits: set[timedelta] = set()

    @given(deadline)
    @settings(max_examples=300, database=None, derandomize=True)
    def draw(plan: tuple[str, timedelta]) -> None:
        assert "wait" == plan[0]
        waits.add(plan[1])

    draw()
    assert set(deadline_offsets(Limits())) == waits
    for limit in Limits().durations().values():
        assert {limit - timedelta(seconds=1), limit, limit + timedelta(seconds=1)} <= waits


def test_a_subclass_with_other_limits_waits_on_its_deadlines() -> None:
    class Strict(AmazonPayMachine):
        limits = Limits(authorization_ttl=timedelta(days=7))

    class Same(AmazonPayMachine):
        pass

    base = AmazonPayMachine.step  # type: ignore[attr-defined]
    assert Same.step is base  # type: ignore[attr-defined]
    assert Strict.step is not base  # type: ignore[attr-defined]
    plan = Strict.step.hypothesis_stateful_rule.arguments["plan"]  # type: ignore[attr-defined]
    assert plan is step_plan(Strict.limits)
    assert plan is not step_plan(Limits())


def test_the_coverage_report_lists_calls_on_objects_that_do_not_exist() -> None:
    coverage = Coverage()
    coverage.add("Refund", "-", "get_refund", "-", "ResourceNotFound")
    coverage.add("Charge", "Authorized", "capture_charge", "<30 s", "→ Captured")
    report = coverage.report()
    assert "Refund" in report
    assert "-" in report.splitlines()[report.splitlines().index("Refund") + 2]
    assert "error codes reached (1): ResourceNotFound" in report
