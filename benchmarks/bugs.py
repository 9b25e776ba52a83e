"""Bug-finding power (issue 12): each planted bug of ``apfsm/examples/shop/buggy_shop.py`` hunted
by ``ShopMachine`` (the ``IntegrationMachine`` the guide teaches) and, side by side in the
same run, by a plain Hypothesis ``RuleBasedStateMachine`` over the same shop, written as a
Hypothesis user would (a rule per event, time and IPN delivery as rules, the same
invariants and the same strict simulator — so what differs is the harness, not the
oracle). Per bug and seed: found or not, examples and seconds to the first failure, shrunk
length. The correct shop must never fail.

    python benchmarks/bugs.py --seeds 3 [--bugs name,...] [--budget 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import hypothesis.core
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apfsm import ManualClock
from apfsm._harness import DEFAULT_START
from apfsm.examples.shop.buggy_shop import BUGS, BuggyShop
from apfsm.examples.shop.shop import Shop
from apfsm.examples.shop.test_shop import CARDS, ShopMachine
from apfsm.testing import WatchedSimulator

COUNT: dict[str, Any] = {"examples": 0, "first": None}


def _seen_end() -> None:
    """At a run's end: the first failing run's examples and time."""
    if sys.exc_info()[1] is not None and COUNT["first"] is None:
        COUNT["first"] = (COUNT["examples"], time.perf_counter())


class PlainShopMachine(RuleBasedStateMachine):
    """The plain harness: what a Hypothesis user writes without apfsm's machine."""

    bugs: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        COUNT["examples"] += 1
        self.clock = ManualClock(DEFAULT_START)
        self.inbox: list[dict[str, Any]] = []
        self.sim = WatchedSimulator(self.clock, seed=0, on_notification=self.inbox.append)
        self.shop: Shop = (
            BuggyShop(self.sim, now=self.sim.now, bugs=self.bugs)
            if self.bugs
            else Shop(self.sim, now=self.sim.now)
        )
        self._order(Decimal("25.00"), "1111")

    def _order(self, amount: Decimal, card: str | None) -> None:
        order = self.shop.place_order(amount)
        if card is not None:
            self.sim.buyer_approve(order.checkout_session_id, card=card)
            self.shop.checkout_returned(order.checkout_session_id)

    def _pick(self, pick: int) -> str:
        ids = sorted(self.shop.orders)
        return ids[pick % len(ids)]

    @precondition(lambda self: len(self.shop.orders) < 4)
    @rule(cents=st.integers(100, 50_000), card=st.sampled_from(CARDS))
    def place_order(self, cents: int, card: str | None) -> None:
        self._order(Decimal(cents) / 100, card)

    @rule(pick=st.integers(0, 3))
    def ship(self, pick: int) -> None:
        self.shop.ship(self._pick(pick))

    @rule(pick=st.integers(0, 3))
    def cancel(self, pick: int) -> None:
        self.shop.cancel(self._pick(pick))

    @rule(pick=st.integers(0, 3), share=st.sampled_from(("1", "0.5", "0.2")))
    def customer_returns(self, pick: int, share: str) -> None:
        order = self.shop.orders[self._pick(pick)]
        self.shop.accept_return(
            order.order_id, (order.amount * Decimal(share)).quantize(Decimal("0.01"))
        )

    @rule(seconds=st.integers(1, 40 * 86_400))
    def time_passes(self, seconds: int) -> None:
        self.sim.advance(timedelta(seconds=seconds))

    @precondition(lambda self: bool(self.inbox))
    @rule(duplicate=st.booleans(), newest_first=st.booleans())
    def deliver_ipns(self, duplicate: bool, newest_first: bool) -> None:
        messages, self.inbox[:] = list(self.inbox), []
        for message in reversed(messages) if newest_first else messages:
            for _ in range(2 if duplicate else 1):
                self.shop.handle_ipn(message)

    @rule()
    def reconcile(self) -> None:
        self.shop.reconcile()

    # The same checks as ShopMachine (reading Amazon's truth from the simulator).
    def amazon_json(self, object_id: str) -> dict[str, Any] | None:
        return self.sim.object_json(object_id)

    def amazon_objects(self, object_type: str) -> list[dict[str, Any]]:
        found = (self.sim.object_json(i) for i in self.sim.object_ids(object_type))
        return [body for body in found if body is not None]

    _json = ShopMachine._json
    _charges = ShopMachine._charges
    _refunds = ShopMachine._refunds
    paid_orders_are_captured = ShopMachine.paid_orders_are_captured
    captured_money_is_accounted_for = ShopMachine.captured_money_is_accounted_for
    refunds_are_the_shops_and_within_capture = ShopMachine.refunds_are_the_shops_and_within_capture
    refunded_books_never_run_ahead = ShopMachine.refunded_books_never_run_ahead
    canceled_orders_hold_no_authorization = ShopMachine.canceled_orders_hold_no_authorization

    def teardown(self) -> None:
        _seen_end()


def kit_machine(bug: str | None) -> type[RuleBasedStateMachine]:
    class Kit(ShopMachine):
        def __init__(self) -> None:
            COUNT["examples"] += 1
            super().__init__()

        def teardown(self) -> None:
            _seen_end()
            super().teardown()

        def make_shop(self) -> Shop:
            if bug is None:
                return Shop(self.sim, now=self.sim.now)
            return BuggyShop(self.sim, now=self.sim.now, bugs={bug})

    Kit.trace_dir = "/tmp/apfsm-bug-traces"
    return Kit


def plain_machine(bug: str | None) -> type[RuleBasedStateMachine]:
    class Plain(PlainShopMachine):
        bugs = frozenset({bug}) if bug else frozenset()

    return Plain


def hunt(machine: type[RuleBasedStateMachine], seed: int, budget: float) -> dict[str, Any]:
    """Search up to ``budget`` seconds (in rounds of examples); the first failure's
    examples and seconds, and the shrunk case's length."""
    COUNT["examples"], COUNT["first"] = 0, None
    began = time.perf_counter()
    checks = {i.function.__name__ for i in machine.setup_state().invariants} | {"teardown"}
    round_ = 0
    while time.perf_counter() - began < budget:
        round_ += 1
        setattr(hypothesis.core, "global_force_seed", seed * 1_000 + round_)  # noqa: B010
        try:
            run_state_machine_as_test(machine, settings=SETTINGS)
        except Exception as err:
            lines = "\n".join(getattr(err, "__notes__", ())).splitlines()
            steps = [
                line
                for line in lines
                if line.startswith("state.") and line.split("(")[0][6:] not in checks
            ]
            examples, at = COUNT["first"] or (COUNT["examples"], time.perf_counter())
            return {
                "found": True,
                "examples": examples,
                "seconds": at - began,
                "shrunk": len(steps),
                "error": f"{type(err).__name__}: {str(err).splitlines()[0][:70]}",
            }
        finally:
            setattr(hypothesis.core, "global_force_seed", None)  # noqa: B010
    return {"found": False, "examples": COUNT["examples"], "seconds": budget, "shrunk": None}


SETTINGS = settings(
    max_examples=100,  # a round; rounds go on until the budget is spent
    stateful_step_count=40,
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--bugs", default=",".join(sorted(BUGS)))
    args = parser.parse_args()
    bugs: list[str | None] = [*args.bugs.split(","), None]
    rows = []
    print(
        f"{'bug':32} {'seed':>4} | {'kit: found ex s shrunk':>26} | "
        f"{'plain: found ex s shrunk':>26}"
    )
    for bug in bugs:
        for seed in range(1, args.seeds + 1):
            budget = args.budget if bug else min(args.budget, 20.0)
            kit = hunt(kit_machine(bug), seed, budget)
            plain = hunt(plain_machine(bug), seed, budget)
            rows.append((bug, seed, kit, plain))

            def cell(r: dict[str, Any]) -> str:
                if not r["found"]:
                    return f"{'no':>5} {r['examples']:>6} {r['seconds']:>6.1f} {'-':>6}"
                return f"{'yes':>5} {r['examples']:>6} {r['seconds']:>6.1f} {r['shrunk']:>6}"

            print(
                f"{bug or '(correct shop)':32} {seed:>4} | {cell(kit):>26} | {cell(plain):>26}",
                flush=True,
            )
            for r in (kit, plain):
                if bug is None and r["found"]:
                    print(f"    CORRECT SHOP FAILED: {r['error']}")
    found = [(k, p) for b, _, k, p in rows if b]
    kit_shrunk = [k["shrunk"] for k, _ in found if k["found"]]
    plain_shrunk = [p["shrunk"] for _, p in found if p["found"]]
    both = [(k["seconds"], p["seconds"]) for k, p in found if k["found"] and p["found"]]
    print()
    print(
        f"kit found {sum(k['found'] for k, _ in found)}/{len(found)}, "
        f"plain {sum(p['found'] for _, p in found)}/{len(found)}"
    )
    if kit_shrunk:
        print(f"kit shrunk: median {statistics.median(kit_shrunk)}, max {max(kit_shrunk)}")
    if plain_shrunk:
        print(f"plain shrunk: median {statistics.median(plain_shrunk)}, max {max(plain_shrunk)}")
    if both:
        kit_t = statistics.median(t for t, _ in both)
        plain_t = statistics.median(t for _, t in both)
        print(
            f"time to find (both found, median): kit {kit_t:.2f} s, plain {plain_t:.2f} s, "
            f"ratio plain/kit {plain_t / kit_t:.2f}"
        )


if __name__ == "__main__":
    main()
