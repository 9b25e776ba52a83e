"""What a fuzzing run did, step by step: ``Executed`` records, and ``RunLog``, which keeps
them for the run's trace."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from apfsm._errors import ApiError
from apfsm._harness import Step, Trace, TraceRecorder
from apfsm._outcome import Outcome
from apfsm._spec import Limits

__all__ = ["Executed", "RunLog"]


@attrs.frozen
class Executed:
    """What one step did (ids are the simulator's, not trace references)."""

    step: Step
    status: int
    error: ApiError | None
    body: dict[str, Any] | None
    created: Mapping[str, str]
    predicted: Outcome | None


class RunLog:
    """A run's steps, kept for its trace. They are converted (ids to references, each
    call's answer as its expectation) only when a trace is written, which is rare: a
    trace is for a failure."""

    def __init__(self, start: datetime, limits: Limits) -> None:
        self.recorder = TraceRecorder(start, limits)
        self._pending: list[Executed | Step] = []

    def add(self, item: Executed | Step) -> None:
        """Keep a step: a call or an action with what it did, or a clock move."""
        self._pending.append(item)

    def trace(self, note: str = "") -> Trace:
        """The steps so far as a trace."""
        for item in self._pending:
            if isinstance(item, Step):
                self.recorder.add(item)
            else:
                self._convert(item)
        self._pending.clear()
        return self.recorder.trace(note=note)

    def _convert(self, executed: Executed) -> None:
        recorder = self.recorder
        step = executed.step
        creates = {t: recorder.adopt(t, i) for t, i in executed.created.items()}
        state = None
        if executed.body is not None:
            details = executed.body.get("statusDetails")
            state = details.get("state") if isinstance(details, dict) else None
        expect = {
            "status": executed.status,
            "error": None if executed.error is None else executed.error.reason_code,
        }
        if state is not None:
            expect["state"] = state
        recorder.add(
            attrs.evolve(
                step,
                object=recorder.ref(step.object),
                body=recorder.symbolic(step.body),
                expect=expect,
                creates=creates,
            )
        )
