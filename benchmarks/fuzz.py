"""Benchmark: stateful steps per second, against Hypothesis's own ceiling; and explore().

Run: ``.venv/bin/python benchmarks/fuzz.py``. In this one run, side by side:

* the ceiling: a trivial ``RuleBasedStateMachine`` (one counter, two rules), i.e. what
  Hypothesis's stateful engine itself costs per step;
* ``apfsm.stateful.AmazonPayMachine``: every step a call on the simulator checked against
  the validator, refusal and ledger invariants;
* the shop example's ``ShopMachine`` (apfsm/examples/shop), when present;
* for the analysis, a floor: Hypothesis alone running ``AmazonPayMachine``'s rules with
  their argument strategies, the rule bodies doing nothing. The gap between the ceiling
  and the floor is what drawing a plan costs Hypothesis before any simulator work (rule
  selection with swarm-testing flags, one integer per step);
* the time of a full ``apfsm.explore()``.

Steps are counted by an invariant (Hypothesis checks invariants after every step), so
every contender is measured the same way. Contenders take turns in each round, and the
verdict uses each round's ratio to that round's ceiling (this machine's timings drift by
±10 % over a minute). Target: ≥ 40 % of the ceiling.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

import apfsm
from apfsm.stateful import AmazonPayMachine

ROOT = Path(__file__).resolve().parent.parent


FLOOR = "floor: AmazonPayMachine's rules, empty bodies"


class Counter:
    steps = 0


class Trivial(RuleBasedStateMachine):
    """Hypothesis's ceiling: as little work per step as a state machine can do."""

    def __init__(self) -> None:
        super().__init__()
        self.value = 0

    @rule()
    def increment(self) -> None:
        self.value += 1

    @rule()
    def decrement(self) -> None:
        self.value -= 1

    @invariant()
    def count(self) -> None:
        Counter.steps += 1


class CountedAmazonPay(AmazonPayMachine):
    @invariant()
    def count(self) -> None:
        Counter.steps += 1


def floor_machine() -> type[RuleBasedStateMachine]:
    """AmazonPayMachine's rules with their argument strategies, bodies doing nothing."""
    state = AmazonPayMachine.setup_state()
    assert not state.initializers, "the floor copies rules only"
    namespace: dict[str, Any] = {}
    for original in state.rules:
        assert not original.targets, "the floor copies rules without target bundles"

        def body(self: RuleBasedStateMachine, **arguments: Any) -> None:
            return None

        body.__name__ = original.function.__name__
        decorate: Any = rule(**original.arguments)
        namespace[body.__name__] = decorate(body)

    def count(self: RuleBasedStateMachine) -> None:
        Counter.steps += 1

    namespace["count"] = invariant()(count)
    return type("Floor", (RuleBasedStateMachine,), namespace)


def shop_machine() -> type[RuleBasedStateMachine] | None:
    """The shop example's machine, counted; None when the example is absent."""
    sys.path.insert(0, str(ROOT))
    try:
        from apfsm.examples.shop.test_shop import ShopMachine
    except ImportError:
        return None

    class CountedShop(ShopMachine):
        @invariant()
        def count(self) -> None:
            Counter.steps += 1

    return CountedShop


def steps_per_second(machine: type[RuleBasedStateMachine], examples: int, steps: int) -> float:
    Counter.steps = 0
    started = time.perf_counter()
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            derandomize=True,
            phases=(Phase.generate,),
            suppress_health_check=list(HealthCheck),
        ),
    )
    return Counter.steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="histories per run")
    parser.add_argument("--steps", type=int, default=40, help="steps per history")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (runs per contender)")
    args = parser.parse_args()

    contenders: list[tuple[str, Any]] = [
        ("ceiling: trivial RuleBasedStateMachine", Trivial),
        ("apfsm.stateful.AmazonPayMachine", CountedAmazonPay),
    ]
    shop = shop_machine()
    if shop is not None:
        contenders.append(("examples/shop ShopMachine", shop))
    contenders.append((FLOOR, floor_machine()))
    print(
        f"{args.examples} histories × up to {args.steps} steps; contenders take turns, "
        f"{args.repeat} rounds, median per contender (this machine's timings drift by "
        "±10 % between runs, so they are measured interleaved)\n"
    )
    samples: dict[str, list[float]] = {name: [] for name, _ in contenders}
    for _ in range(args.repeat):
        for name, machine in contenders:
            samples[name].append(steps_per_second(machine, args.examples, args.steps))
    rates: dict[str, float] = {}
    for name, _ in contenders:
        rates[name] = statistics.median(samples[name])
        spread = f"{min(samples[name]):,.0f}–{max(samples[name]):,.0f}"
        print(f"  {name:<48} {rates[name]:8,.0f} steps/s  ({spread})")
    ceiling_name = "ceiling: trivial RuleBasedStateMachine"
    ceiling = rates[ceiling_name]
    print()
    for name, _ in contenders:
        if name in (ceiling_name, FLOOR):
            continue
        ratios = [r / c for r, c in zip(samples[name], samples[ceiling_name], strict=True)]
        share = statistics.median(ratios)
        verdict = "MET" if share >= 0.4 else "MISSED"
        print(
            f"{name}: {share:.0%} of the ceiling, median of the rounds' ratios "
            f"({min(ratios):.0%}–{max(ratios):.0%}; target ≥ 40 %) {verdict}"
        )
    floor = rates[FLOOR]
    print(
        f"\nfloor (Hypothesis alone, AmazonPayMachine's rules with empty bodies): "
        f"{floor / ceiling:.0%} of the ceiling; AmazonPayMachine runs at "
        f"{rates['apfsm.stateful.AmazonPayMachine'] / floor:.0%} of that floor"
    )

    timings = []
    for _ in range(args.repeat):
        result = apfsm.explore()
        assert result.ok, result.summary()
        timings.append(result.seconds)
    print(
        f"\napfsm.explore(): {statistics.median(timings):.2f} s for all four objects "
        f"({result.probes} probes; target ≤ 5 s)"
    )


if __name__ == "__main__":
    main()
