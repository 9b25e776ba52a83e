"""Unbiased choices (issue 12): over a few hundred histories of the example shop's machine
— the correct shop — every declared event, the shop's and Amazon Pay's, and every value of
every option is drawn at least a stated share of the time, whatever the order the events
are declared in. The one-integer encoding this replaced drew one currency in 98 % of
orders and starved events declared after often-impossible ones (under 0.5 % of steps).

The floors (docs/fuzzing-your-integration.md says them too):

* every rule is taken in at least ``EVENT_FLOOR`` of the steps in which it could act (its
  preconditions held) — with 17 rules a fair share is about 6 %, and Hypothesis's swarm
  testing switches a rule off in some histories: a rarely possible one (the buyer
  abandoning, possible in under 200 steps of 10 000) came out at 1.1 % under the whole
  suite, where Hypothesis draws constants from every loaded module;
* every value of an option is drawn in at least ``VALUE_FLOOR`` times its fair share
  (1 / the number of values) of that rule's runs. Hypothesis's own ``sampled_from``
  favours the first values (where it shrinks): the last of eight cards comes at about a
  quarter of its fair share, hence 0.2, not more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis.stateful import Rule, precondition, rule, run_state_machine_as_test

from apfsm._fuzz import AMAZON_RULES
from apfsm.examples.shop.test_shop import CARDS, ShopMachine
from tests.fuzz import BALANCE_HISTORIES, BALANCE_SETTINGS

EVENT_FLOOR = 0.01
VALUE_FLOOR = 0.2

#: rule -> option -> every value it may take (the finite ones).
OPTIONS: dict[str, dict[str, tuple[Any, ...]]] = {
    "another_order": {"card": CARDS},
    "ship": {"handling_days": (0, 2, 10)},
    "customer_returns": {"share": ("1", "0.5", "0.2")},
    "amazon_delivers_ipns": {"fault": ("none", "duplicate", "delay", "reorder")},
    "amazon_next_deadline": {"offset": (-1, 0, 1)},
    "amazon_deadline_passes": {"offset": (-1, 0, 1)},
}


def counting_machine(
    order: Callable[[list[Rule]], list[Rule]],
) -> tuple[type[ShopMachine], Counter[str], Counter[str], Counter[tuple[str, str, Any]]]:
    """``ShopMachine`` with every rule re-declared, in ``order``, to count what it draws
    and, before each step, which rules could act."""
    rules: Counter[str] = Counter()
    possible: Counter[str] = Counter()
    every = list(ShopMachine.setup_state().rules)
    values: Counter[tuple[str, str, Any]] = Counter()

    class Counting(ShopMachine):
        pass

    for original in order(list(ShopMachine.setup_state().rules)):
        name = original.function.__name__

        def counted(self: Any, _f: Any = original.function, _n: str = name, **kw: Any) -> None:
            rules[_n] += 1
            for other in every:
                if all(guard(self) for guard in other.preconditions):
                    possible[other.function.__name__] += 1
            for option, value in kw.items():
                values[(_n, option, value)] += 1
            _f(self, **kw)

        counted.__name__ = name
        declared: Any = rule(**original.arguments)(counted)  # type: ignore[no-untyped-call]
        for guard in original.preconditions:
            declared = precondition(guard)(declared)
        setattr(Counting, name, declared)
    return Counting, rules, possible, values


@pytest.mark.parametrize("order", [list, lambda rules: rules[::-1]], ids=["forward", "reversed"])
def test_every_event_and_option_value_is_drawn_above_its_floor(
    order: Callable[[list[Rule]], list[Rule]],
) -> None:
    machine, rules, possible, values = counting_machine(order)
    run_state_machine_as_test(machine, settings=BALANCE_SETTINGS)
    steps = sum(rules.values())
    declared = {r.function.__name__ for r in ShopMachine.setup_state().rules}
    assert set(AMAZON_RULES) <= declared
    assert all(possible[name] for name in declared), possible
    low = {
        name: f"{rules[name]} of {possible[name]}"
        for name in declared
        if rules[name] / possible[name] < EVENT_FLOOR
    }
    assert not low, f"events taken in under {EVENT_FLOOR:.0%} of the steps they could: {low}"
    assert steps >= BALANCE_HISTORIES * 10
    for name, options in OPTIONS.items():
        for option, choices in options.items():
            fair = rules[name] / len(choices)
            for value in choices:
                share = values[(name, option, value)] / fair
                assert share >= VALUE_FLOOR, (
                    f"{name}({option}={value!r}): {values[(name, option, value)]} of "
                    f"{rules[name]} runs, {share:.2f} of its fair share"
                )
