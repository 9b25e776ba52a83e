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
from hypothesis.database import ExampleDatabase
from hypothesis.internal.reflection import function_digest
from hypothesis.stateful import get_state_machine_test

from apfsm._harness import trace_directory
from apfsm._spec import ERRORS, LIFECYCLES

from .coverage import Coverage
from .run import Executed

__all__ = ["CampaignStopped", "FuzzReport", "run_campaign"]


class CampaignStopped(BaseException):
    """Raised between histories when the campaign's ``stop()`` says so. A
    ``BaseException``, as ``KeyboardInterrupt``: Hypothesis lets it through, unshrunk."""


@attrs.frozen
class FuzzReport:
    """What a fuzzing campaign did."""

    examples: int
    steps: int
    coverage: Coverage
    failure: str | None
    trace: Path | None
    seconds: float
    #: The shrunk failing history as Hypothesis tells it (its steps, each call's answer,
    #: the trace's path), None when the campaign passed.
    story: str | None = None
    #: Failures saved in the example database for this machine before the campaign began:
    #: they were replayed first.
    replayed: int = 0
    #: The campaign was stopped early (``stop()``), between two histories.
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.failure is None

    def unreached(self) -> dict[str, list[str]]:
        """What the campaign never reached, named: ``states`` (``"Charge.Declined"``),
        ``pairs`` (``"Charge.Captured × cancel_charge"``: a state and an operation tried
        on it) and ``codes`` (error codes never answered), each in declaration order."""
        seen_states = self.coverage.states()
        seen_pairs = self.coverage.transitions()
        seen_codes = self.coverage.codes()
        states, pairs = [], []
        for object_type, lifecycle in LIFECYCLES.items():
            for state in lifecycle.state_names():
                if (object_type, state) not in seen_states:
                    states.append(f"{object_type}.{state}")
                for op in lifecycle.operations:
                    if (object_type, state, op) not in seen_pairs:
                        pairs.append(f"{object_type}.{state} × {op}")
        codes = [code for code in ERRORS if code not in seen_codes]
        return {"states": states, "pairs": pairs, "codes": codes}

    def summary(self, *, listed: int = 12) -> str:
        """The campaign in a few lines: its size, what it reached, what it did not (the
        first ``listed`` of each kind named), and the failure with its trace."""
        states = sum(len(lc.state_names()) for lc in LIFECYCLES.values())
        pairs = sum(len(lc.state_names()) * len(lc.operations) for lc in LIFECYCLES.values())
        missed = self.unreached()
        lines = [
            f"{self.examples} examples, {self.steps} steps in {self.seconds:.1f} s",
            f"states reached: {states - len(missed['states'])}/{states}; (state, operation) "
            f"pairs: {pairs - len(missed['pairs'])}/{pairs}; error codes: "
            f"{len(ERRORS) - len(missed['codes'])}/{len(ERRORS)}",
        ]
        if self.replayed:
            lines.append(f"replayed first: {self.replayed} saved example(s) from the database")
        if self.stopped:
            lines.append("stopped early")
        for kind, label in (("states", "states"), ("pairs", "pairs"), ("codes", "codes")):
            names = missed[kind]
            if names:
                more = f" (+{len(names) - listed} more)" if len(names) > listed else ""
                lines.append(f"unreached {label}: {', '.join(names[:listed])}{more}")
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
    database: ExampleDatabase | None = None,
    trace_dir: str | Path | None = None,
    stop: Callable[[], bool] | None = None,
) -> FuzzReport:
    """Run ``machine`` (an ``AmazonPayMachine``: ``coverage``, ``trace_dir``,
    ``after_step``) for ``examples`` histories of up to ``steps`` steps; its coverage
    joins ``machine.coverage``. See ``apfsm.stateful.fuzz``.

    With a ``database``, the failures saved there for ``machine`` are replayed first and a
    new (shrunk) failure is saved; the key is ``machine``'s own (its source), so every
    process running the same machine shares it. ``trace_dir`` overrides the machine's;
    ``stop()``, asked before each history, ends the campaign early when true."""
    counter = {"examples": 0, "steps": 0}

    class Campaign(machine):  # type: ignore[misc]
        coverage = Coverage()

        def __init__(self) -> None:
            # Asked as a history begins, never as one ends: a failing history is never cut.
            if stop is not None and stop():
                raise CampaignStopped
            super().__init__()

        def after_step(self, executed: Executed) -> None:
            counter["steps"] += 1
            super().after_step(executed)

        def teardown(self) -> None:
            counter["examples"] += 1
            if progress is not None:
                progress(min(counter["examples"], examples), examples)
            super().teardown()

    Campaign.__name__ = machine.__name__
    if trace_dir is not None:
        Campaign.trace_dir = str(trace_dir)
    # Hypothesis keys a state machine by its source: Campaign's is the same for every
    # machine, so the key is made the user's machine's.
    Campaign._hypothesis_internal_add_digest = function_digest(machine)
    phases: tuple[Phase, ...] = (Phase.generate, Phase.shrink)
    # A derandomized profile (CI's) implies no database: a campaign on one is random.
    randomness: dict[str, Any] = {}
    if database is not None:
        phases = (Phase.explicit, Phase.reuse, *phases)
        randomness["derandomize"] = False
    test = get_state_machine_test(
        Campaign,
        settings=hypothesis_settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=database,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            **randomness,
        ),
    )
    if seed is not None and database is None:
        test = use_seed(seed)(test)
    elif seed is not None:
        # hypothesis.seed also turns the database off: a campaign on a database keeps it,
        # seeded the way @seed seeds (the attribute @seed sets, without its settings).
        test._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    replayed = 0
    if database is not None:
        key = function_digest(test.hypothesis.inner_test)  # type: ignore[attr-defined]
        replayed = sum(1 for _ in database.fetch(key))
    started = time.perf_counter()
    failure = story = None
    trace = None
    stopped = False
    try:
        test()
    except CampaignStopped:
        stopped = True
    except Exception as exc:
        if _stopped(exc):
            # A history stopped before its first draw where earlier ones drew: Hypothesis's
            # data tree raises FlakyStrategyDefinition as CampaignStopped passes through.
            # That is the stop, not a failure.
            stopped = True
        else:  # the shrunk failure: report it, with its trace
            failure = f"{type(exc).__name__}: {exc}".splitlines()[0]
            story = "\n".join([f"{type(exc).__name__}: {exc}", *getattr(exc, "__notes__", ())])
            candidate = trace_directory(Campaign.trace_dir) / f"{machine.__name__}.json"
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
        story=story,
        replayed=replayed,
        stopped=stopped,
    )


def _stopped(exc: BaseException | None) -> bool:
    """Whether ``exc`` was raised while a ``CampaignStopped`` was passing through."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, CampaignStopped):
            return True
        seen.add(id(exc))
        exc = exc.__context__ or exc.__cause__
    return False
