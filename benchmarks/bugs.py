"""Bug-finding power (issue 12): each planted bug of ``apfsm/examples/shop/buggy_shop.py`` hunted
by ``ShopMachine`` (the ``IntegrationMachine`` the guide teaches) and, side by side in the
same run, by a plain Hypothesis ``RuleBasedStateMachine`` over the same shop, written as a
Hypothesis user would (a rule per event, time and IPN delivery as rules, the same
invariants and the same strict simulator — so what differs is the harness, not the
oracle). Per bug and seed: found or not, examples and seconds to the first failure, shrunk
length. The correct shop must never fail.

    python benchmarks/bugs.py [--seed 1] [--seeds 3] [--bugs name,...] [--budget 60]
                              [--json results.json]

Each harness gets the same budget per bug and seed (60 s of search by default), the
correct shop too. A run the harness discards (a health check, Unsatisfiable, a flaky
failure) is not a finding: it counts as not found. The table goes to stdout, progress to
stderr; ``--json`` writes every row and the targets' verdicts.
"""

from __future__ import annotations

import argparse
import json
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
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apfsm import ManualClock
from apfsm._fuzz.retries import RetryWatch
from apfsm._harness import DEFAULT_START
from apfsm.examples.shop.buggy_shop import BUGS, BuggyShop
from apfsm.examples.shop.shop import Shop
from apfsm.examples.shop.test_shop import CARDS, ShopMachine
from apfsm.testing import WatchedSimulator

COUNT: dict[str, Any] = {"examples": 0, "first": None, "deadline": float("inf")}


class OutOfTime(BaseException):
    """The budget is spent before a failure: raised from a new run's set-up (a
    BaseException, so Hypothesis lets it through rather than taking it for a failure)."""


def _started() -> None:
    """At a run's start: count it, or stop the search once the budget is spent."""
    if COUNT["first"] is None and time.perf_counter() > COUNT["deadline"]:
        raise OutOfTime
    COUNT["examples"] += 1


def _seen_end() -> None:
    """At a run's end: the first failing run's examples and time. Hypothesis's own
    exceptions in flight (a run out of data, a rejected draw) are no failure."""
    error = sys.exc_info()[1]
    failed = isinstance(error, Exception) and not isinstance(error, HypothesisException)
    if failed and COUNT["first"] is None:
        COUNT["first"] = (COUNT["examples"], time.perf_counter())


class PlainShopMachine(RuleBasedStateMachine):
    """The plain harness: what a Hypothesis user writes without apfsm's machine."""

    bugs: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        _started()
        self.clock = ManualClock(DEFAULT_START)
        self.inbox: list[dict[str, Any]] = []
        self.sim = WatchedSimulator(self.clock, seed=0, on_notification=self.inbox.append)
        # The same oracle as ShopMachine.check_retries: no retry Amazon said is hopeless.
        self.sim.retries = RetryWatch(self.sim.object_json, self._charges_of)
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

    def _charges_of(self, permission: str) -> list[str]:
        return [
            i
            for i in self.sim.object_ids("Charge")
            if (self.sim.object_json(i) or {}).get("chargePermissionId") == permission
        ]

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
            _started()
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
    """Search for up to ``budget`` seconds (in rounds of examples, each round its own
    seed); the first failure's examples and seconds, and the shrunk case's length.

    A round Hypothesis discards (a health check, Unsatisfiable, a flaky failure) is no
    finding; the search goes on with the next round.
    """
    began = time.perf_counter()
    COUNT["examples"], COUNT["first"], COUNT["deadline"] = 0, None, began + budget
    checks = {i.function.__name__ for i in machine.setup_state().invariants} | {"teardown"}
    discarded: list[str] = []
    round_ = 0
    try:
        while time.perf_counter() - began < budget:
            round_ += 1
            setattr(hypothesis.core, "global_force_seed", seed * 1_000 + round_)  # noqa: B010
            try:
                run_state_machine_as_test(machine, settings=SETTINGS)
            except OutOfTime:
                break
            except HypothesisException as err:  # discarded, not a finding (FlakyFailure too)
                discarded.append(type(err).__name__)
                COUNT["first"] = None
                continue
            except Exception as err:
                examples, at = COUNT["first"] or (COUNT["examples"], time.perf_counter())
                if at - began > budget:
                    break  # failed, but after the budget: not found within it
                lines = "\n".join(getattr(err, "__notes__", ())).splitlines()
                steps = [
                    line
                    for line in lines
                    if line.startswith("state.") and line.split("(")[0][6:] not in checks
                ]
                return {
                    "found": True,
                    "examples": examples,
                    "seconds": round(at - began, 3),
                    "shrunk": len(steps),
                    "error": f"{type(err).__name__}: {str(err).splitlines()[0][:100]}",
                    "discarded": discarded,
                }
    finally:
        setattr(hypothesis.core, "global_force_seed", None)  # noqa: B010
        COUNT["deadline"] = float("inf")
    return {
        "found": False,
        "examples": COUNT["examples"],
        "seconds": round(time.perf_counter() - began, 3),
        "shrunk": None,
        "error": None,
        "discarded": discarded,
    }


SETTINGS = settings(
    max_examples=100,  # a round; rounds go on until the budget is spent
    stateful_step_count=40,
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)

CORRECT = "(correct shop)"


def _cell(r: dict[str, Any]) -> str:
    shrunk = "-" if r["shrunk"] is None else str(r["shrunk"])
    return f"{'yes' if r['found'] else 'no':>5} {r['examples']:>6} {r['seconds']:>6.1f} {shrunk:>6}"


def targets(rows: list[dict[str, Any]], budget: float) -> dict[str, Any]:
    """The issue's targets, judged on ``rows``."""
    bugs = [r for r in rows if r["bug"] != CORRECT]
    seeds = sorted({r["seed"] for r in rows})
    missed = sorted({r["bug"] for r in bugs if not r["kit"]["found"]})
    kit_shrunk = [r["kit"]["shrunk"] for r in bugs if r["kit"]["found"]]
    plain_shrunk = [r["plain"]["shrunk"] for r in bugs if r["plain"]["found"]]
    both = [r for r in bugs if r["kit"]["found"] and r["plain"]["found"]]
    ratios = [r["plain"]["seconds"] / max(r["kit"]["seconds"], 1e-3) for r in both]
    kit_total = sum(r["kit"]["seconds"] for r in both)
    plain_total = sum(r["plain"]["seconds"] for r in both)
    correct = [r for r in rows if r["bug"] == CORRECT]
    correct_failed = [
        f"{name} seed {r['seed']}: {r[name]['error']}"
        for r in correct
        for name in ("kit", "plain")
        if r[name]["found"]
    ]
    median_ratio = statistics.median(ratios) if ratios else None
    return {
        "seeds": seeds,
        "budget": budget,
        "every_bug_found_on_every_seed": {
            "ok": not missed,
            "kit_found": sum(r["kit"]["found"] for r in bugs),
            "plain_found": sum(r["plain"]["found"] for r in bugs),
            "runs": len(bugs),
            "missed_by_kit": missed,
            "missed_by_plain": sorted({r["bug"] for r in bugs if not r["plain"]["found"]}),
        },
        "shrunk_median_at_most_5_none_over_8": {
            "ok": bool(kit_shrunk) and statistics.median(kit_shrunk) <= 5 and max(kit_shrunk) <= 8,
            "kit_median": statistics.median(kit_shrunk) if kit_shrunk else None,
            "kit_max": max(kit_shrunk) if kit_shrunk else None,
            "kit_over_8": sorted(
                {r["bug"] for r in bugs if r["kit"]["found"] and r["kit"]["shrunk"] > 8}
            ),
            "plain_median": statistics.median(plain_shrunk) if plain_shrunk else None,
            "plain_max": max(plain_shrunk) if plain_shrunk else None,
        },
        "twice_as_fast_where_both_find": {
            "ok": median_ratio is not None and median_ratio >= 2,
            "pairs": len(both),
            "median_ratio_plain_over_kit": median_ratio,
            "kit_seconds_total": round(kit_total, 2),
            "plain_seconds_total": round(plain_total, 2),
            "kit_faster_in": sum(x > 1 for x in ratios),
        },
        "correct_shop_never_fails": {
            "ok": bool(correct) and not correct_failed,
            "runs": len(correct),
            "failures": correct_failed,
        },
    }


def _print_targets(verdict: dict[str, Any]) -> None:
    found = verdict["every_bug_found_on_every_seed"]
    shrunk = verdict["shrunk_median_at_most_5_none_over_8"]
    fast = verdict["twice_as_fast_where_both_find"]
    correct = verdict["correct_shop_never_fails"]

    def mark(ok: bool) -> str:
        return "MET    " if ok else "NOT MET"

    print()
    print(f"targets (seeds {verdict['seeds']}, {verdict['budget']:g} s per harness, bug and seed):")
    print(
        f"  {mark(found['ok'])} every bug found within the budget on every seed: kit "
        f"{found['kit_found']}/{found['runs']}, plain {found['plain_found']}/{found['runs']}"
        + (f"; kit missed {', '.join(found['missed_by_kit'])}" if found["missed_by_kit"] else "")
    )
    print(
        f"  {mark(shrunk['ok'])} shrunk length median <= 5, none over 8: kit median "
        f"{shrunk['kit_median']}, max {shrunk['kit_max']}"
        + (f" (over 8: {', '.join(shrunk['kit_over_8'])})" if shrunk["kit_over_8"] else "")
        + f"; plain median {shrunk['plain_median']}, max {shrunk['plain_max']}"
    )
    ratio = fast["median_ratio_plain_over_kit"]
    print(
        f"  {mark(fast['ok'])} >= 2x faster to find where both find ({fast['pairs']} bug-seed "
        f"pairs): median ratio plain/kit "
        + ("-" if ratio is None else f"{ratio:.2f}")
        + f", total {fast['kit_seconds_total']} s kit vs {fast['plain_seconds_total']} s plain, "
        f"kit faster in {fast['kit_faster_in']}"
    )
    print(
        f"  {mark(correct['ok'])} the correct shop never fails: {correct['runs']} seed(s), "
        f"both harnesses"
        + (f"; FAILED: {'; '.join(correct['failures'])}" if correct["failures"] else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds from --seed")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per harness")
    parser.add_argument("--bugs", default=",".join(sorted(BUGS)), help="name,name,...")
    parser.add_argument("--no-correct", action="store_true", help="skip the correct shop")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args()
    names = [b for b in args.bugs.split(",") if b]
    unknown = sorted(set(names) - BUGS)
    if unknown:
        parser.error(f"unknown bugs {unknown}; bugs are {sorted(BUGS)}")
    bugs: list[str | None] = [*names] + ([] if args.no_correct else [None])
    seeds = list(range(args.seed, args.seed + args.seeds))
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    print(
        f"{'bug':38} {'seed':>4} | {'kit: found ex s shrunk':>26} | "
        f"{'plain: found ex s shrunk':>26}",
        flush=True,
    )
    for bug in bugs:
        for seed in seeds:
            name = bug or CORRECT
            print(
                f"[{time.perf_counter() - began:7.0f} s] {name} seed {seed}: kit",
                file=sys.stderr,
                end="",
                flush=True,
            )
            kit = hunt(kit_machine(bug), seed, args.budget)
            print(
                f" {'found' if kit['found'] else 'not found'}; plain",
                file=sys.stderr,
                end="",
                flush=True,
            )
            plain = hunt(plain_machine(bug), seed, args.budget)
            print(f" {'found' if plain['found'] else 'not found'}", file=sys.stderr, flush=True)
            rows.append({"bug": name, "seed": seed, "kit": kit, "plain": plain})
            print(f"{name:38} {seed:>4} | {_cell(kit):>26} | {_cell(plain):>26}", flush=True)
            for harness, r in (("kit", kit), ("plain", plain)):
                if bug is None and r["found"]:
                    print(f"    CORRECT SHOP FAILED ({harness}): {r['error']}", flush=True)
    verdict = targets(rows, args.budget)
    _print_targets(verdict)
    print(f"\n{time.perf_counter() - began:.0f} s in all")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"rows": rows, "targets": verdict}, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
