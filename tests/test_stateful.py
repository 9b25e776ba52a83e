"""The stateful machine: random histories on the simulator, every step checked."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apfsm import Limits
from apfsm._catalog import SIMULATION_CODES
from apfsm._lifecycles import OPERATIONS
from apfsm.stateful import _SMART_OPTIONS, AmazonPayMachine, _call_plan, _Product

AmazonPayMachine.TestCase.settings = settings(
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestAmazonPay = AmazonPayMachine.TestCase


# ---------------------------------------------------------------------------------------
# How a step's choices are drawn
# ---------------------------------------------------------------------------------------


def test_product_decodes_every_combination_once_first_option_at_zero() -> None:
    options = (("a", "b"), (1, 2, 3), (True, False))
    product = _Product(options)
    assert 12 == product.size
    decoded = [product(n) for n in range(product.size)]
    assert list(itertools.product(*options)) == decoded  # mixed radix, first most significant
    assert ("a", 1, True) == product(0)  # where shrinking goes


@given(st.data())
def test_call_plans_are_well_formed(data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(sorted(OPERATIONS)))
    kind, drawn, code, key = data.draw(_call_plan(operation, Limits()))
    assert kind in ("smart", "schema", "fault")
    if kind == "fault":
        _, expected = drawn
        assert expected.startswith(("Invalid", "Missing", "Unrecognized"))
    if kind == "smart":
        assert len(_SMART_OPTIONS.get(operation, ())) == len(drawn)
    if code is not None:
        assert code in SIMULATION_CODES[operation]
    if key is not None:
        assert OPERATIONS[operation].method == "POST"
        assert key in (f"{operation}-1", f"{operation}-2")


def test_a_subclass_with_other_limits_draws_bodies_under_them() -> None:
    class Strict(AmazonPayMachine):
        limits = Limits(soft_descriptor_max_length=40)

    class Same(AmazonPayMachine):
        pass

    base = AmazonPayMachine.call_create_charge  # type: ignore[attr-defined]
    assert Same.call_create_charge is base  # type: ignore[attr-defined]
    assert Strict.call_create_charge is not base  # type: ignore[attr-defined]
    plan = Strict.call_create_charge.hypothesis_stateful_rule.arguments["plan"]  # type: ignore[attr-defined]
    assert plan is _call_plan("create_charge", Strict.limits)
    assert plan is not _call_plan("create_charge", Limits())
