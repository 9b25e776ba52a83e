"""Coverage: what a fuzzing campaign exercised — (object type, state, operation, time
bucket, outcome) counts and the states objects were seen in — and the time buckets."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from apfsm._clock import format_duration, parse_timestamp
from apfsm._spec import LIFECYCLES, OBJECT_TYPES, Limits, Operation

from .run import Executed

__all__ = ["AgeBuckets", "Coverage", "count_call"]


class Coverage:
    """Counts of exercised (object type, state, operation, time bucket, outcome), and the
    states objects were seen in."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str, str]] = Counter()
        #: (object type, state) of every object after every step, called upon or not (a
        #: refund completes with time; no call needs to follow).
        self.observed: set[tuple[str, str]] = set()

    def add(self, object_type: str, state: str, operation: str, bucket: str, outcome: str) -> None:
        self.counts[object_type, state, operation, bucket, outcome] += 1

    def states(self) -> set[tuple[str, str]]:
        """The states objects were in: called upon, or seen after a step."""
        return {(t, s) for t, s, *_ in self.counts if s != "-"} | self.observed

    def transitions(self) -> set[tuple[str, str, str]]:
        return {(t, s, op) for t, s, op, *_ in self.counts}

    def codes(self) -> set[str]:
        return {outcome for *_, outcome in self.counts if not outcome.startswith("→")}

    def report(self) -> str:
        """A matrix per object type: state × operation → count, and the codes seen."""
        lines = []
        for object_type in OBJECT_TYPES:
            rows = {(s, op): 0 for (t, s, op, _, _) in self.counts if t == object_type}
            for (t, s, op, _, _), n in self.counts.items():
                if t == object_type:
                    rows[s, op] += n
            if not rows:
                continue
            ops = [o for o in LIFECYCLES[object_type].operations if any(k[1] == o for k in rows)]
            # "-": calls on an object that does not exist (ResourceNotFound)
            states = [
                s
                for s in (*LIFECYCLES[object_type].state_names(), "-")
                if any(k[0] == s for k in rows)
            ]
            width = max(len(s) for s in states) + 2
            lines.append(f"{object_type}")
            lines.append(" " * width + "  ".join(f"{o:>{len(o)}}" for o in ops))
            for s in states:
                cells = "  ".join(f"{rows.get((s, o), 0):>{len(o)}}" for o in ops)
                lines.append(f"{s:<{width}}{cells}")
            lines.append("")
        codes = sorted(self.codes())
        lines.append(f"error codes reached ({len(codes)}): {', '.join(codes)}")
        return "\n".join(lines)


class AgeBuckets:
    """The coverage matrix's time bucket of an object's age: which duration limit of
    ``limits`` it is below (``"<30 s"``, ``"<7 d"``...), or ``"≥"`` the longest."""

    def __init__(self, limits: Limits) -> None:
        ordered = sorted(set(limits.durations().values()))
        self._buckets = [(limit, f"<{format_duration(limit)}") for limit in ordered]
        self._last = f"≥{format_duration(ordered[-1])}"

    def __call__(self, age: timedelta) -> str:
        for limit, label in self._buckets:
            if age < limit:
                return label
        return self._last


def count_call(
    coverage: Coverage,
    bucket: Callable[[timedelta], str],
    op: Operation,
    target: Mapping[str, Any] | None,
    executed: Executed,
    at: datetime,
) -> str:
    """Count a call in ``coverage``: its target's type and state (``-``: none, the call is
    answered ``ResourceNotFound``), the target's age bucket at ``at``, and the outcome
    (the error code, or ``→`` the state answered). Returns the cell as a
    ``hypothesis.event`` label."""
    state = "-" if target is None else str(target["statusDetails"]["state"])
    object_type = op.target or "CheckoutSession"
    created = target.get("creationTimestamp") if target is not None else None
    age = bucket(at - parse_timestamp(created)) if isinstance(created, str) else "-"
    if executed.error is not None:
        outcome = executed.error.reason_code
    else:
        details = (executed.body or {}).get("statusDetails") or {}
        outcome = f"→ {details.get('state', '?')}"
    coverage.add(object_type, state, op.name, age, outcome)
    return f"{object_type} {state} {op.name} {outcome}"
