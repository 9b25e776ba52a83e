"""A fuzzing campaign: a machine run for many histories, its coverage and its (shrunk)
failure reported (``apfsm.stateful.fuzz``, ``apfsm fuzz``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase
from hypothesis import seed as use_seed
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import get_state_machine_test

from apfsm._harness import trace_directory
from apfsm._spec import ERRORS, LIFECYCLES

from .coverage import Coverage
from .run import Executed

__all__ = ["FuzzReport", "run_campaign"]


@attrs.frozen
class FuzzReport:
    """What a fuzzing campaign did."""

    examples: int
    steps: int
    coverage: Coverage
    failure: str | None
    trace: Path | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        states = {(t, s) for t, lc in LIFECYCLES.items() for s in lc.state_names()}
        transitions = {
            (t, s, op)
            for t, lc in LIFECYCLES.items()
            for s in lc.state_names()
            for op in lc.operations
        }
        seen_states = self.coverage.states() & states
        seen_transitions = self.coverage.transitions() & transitions
        codes = self.coverage.codes() & set(ERRORS)
        lines = [
            f"{self.examples} examples, {self.steps} steps in {self.seconds:.1f} s",
            f"states reached: {len(seen_states)}/{len(states)}; (state, operation) pairs: "
            f"{len(seen_transitions)}/{len(transitions)}; error codes: {len(codes)}/{len(ERRORS)}",
        ]
        if self.failure is not None:
            lines.append(f"FAILED: {self.failure}")
            if self.trace is not None:
                lines.append(f"trace: {self.trace} (replay with apfsm.replay)")
        return "\n".join(lines)


def run_campaign(
    machine: type[Any],
    *,
    examples: int,
    steps: int,
    seed: int | None,
    progress: Callable[[int, int], object] | None,
) -> FuzzReport:
    """Run ``machine`` (an ``AmazonPayMachine``: ``coverage``, ``trace_dir``,
    ``after_step``) for ``examples`` histories of up to ``steps`` steps; its coverage
    joins ``machine.coverage``. See ``apfsm.stateful.fuzz``."""
    counter = {"examples": 0, "steps": 0}

    class Campaign(machine):  # type: ignore[misc]
        coverage = Coverage()

        def after_step(self, executed: Executed) -> None:
            counter["steps"] += 1
            super().after_step(executed)

        def teardown(self) -> None:
            counter["examples"] += 1
            if progress is not None:
                progress(min(counter["examples"], examples), examples)
            super().teardown()

    Campaign.__name__ = machine.__name__
    test = get_state_machine_test(
        Campaign,
        settings=hypothesis_settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        ),
    )
    if seed is not None:
        test = use_seed(seed)(test)
    started = time.perf_counter()
    failure = None
    trace = None
    try:
        test()
    except Exception as exc:  # the shrunk failure: report it, with its trace
        failure = f"{type(exc).__name__}: {exc}".splitlines()[0]
        candidate = trace_directory(machine.trace_dir) / f"{machine.__name__}.json"
        trace = candidate if candidate.exists() else None
    machine.coverage.counts.update(Campaign.coverage.counts)
    machine.coverage.observed |= Campaign.coverage.observed
    return FuzzReport(
        examples=counter["examples"],
        steps=counter["steps"],
        coverage=Campaign.coverage,
        failure=failure,
        trace=trace,
        seconds=time.perf_counter() - started,
    )
