"""Deciding one call from an object's facts: time first, then state, checks and guards.

Shared by the validator (facts read from a payload) and the simulator (facts from its
records), so both answer from the same compiled declarations.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from apfsm._clock import format_timestamp
from apfsm._outcome import Outcome
from apfsm._spec import (
    DEADLINES,
    DELETED,
    LIFECYCLES,
    OPERATIONS,
    Deadline,
    Limits,
    Operation,
    render_label,
)

from .machines import COMPILED, Allowed, Compiled, Refusal
from .money import Money
from .rules import Context

__all__ = [
    "Evolved",
    "constant_outcomes",
    "created_states",
    "decide",
    "evolve",
    "reachable",
    "refusal_message",
]

Evolved = tuple[str, str | None, datetime | None, str | None]
"""(state, reason, since, timer) after applying every limit passed by ``at``; ``since`` and
``timer`` are set when a timer moved the object."""


def evolve(compiled: Compiled, obj: Any, at: datetime, limits: Limits) -> Evolved:
    """The object's state at ``at``: every limit passed at or before ``at`` applied, in
    deadline order (SPEC §2)."""
    state: str = obj.state
    reason: str | None = obj.reason
    since: datetime | None = None
    timer: str | None = None
    timers = compiled.timers
    inclusive = limits.ttl_passed_at_deadline
    while True:
        rules = timers.get(state)
        if rules is None:
            return state, reason, since, timer
        first = None
        first_deadline = None
        for rule in rules:
            deadline = rule.deadline(obj, limits)
            # SPEC §2 Decision: a TTL has passed at t >= t0 + L (configurable).
            if (at >= deadline if inclusive else at > deadline) and (
                first_deadline is None or deadline < first_deadline
            ):
                first, first_deadline = rule, deadline
        if first is None:
            return state, reason, since, timer
        state, reason, since, timer = first.dest, first.reason, first_deadline, first.name


#: Per object type that can be deleted, the deadline that deletes it (SPEC §2 retention; a
#: Buyer's token expiry).
_DELETIONS: Final[Mapping[str, Deadline]] = {
    lc.object_type: DEADLINES[timer.deadline]
    for lc in LIFECYCLES.values()
    for timer in lc.timers
    if timer.dest == DELETED
}


# Accepted outcomes repeat: share them (Outcome is immutable).
_OK: dict[tuple[str | None, int, tuple[tuple[str, str], ...]], Outcome] = {}


def _ok(next_state: str | None, status: int, created: tuple[tuple[str, str], ...]) -> Outcome:
    key = (next_state, status, created)
    outcome = _OK.get(key)
    if outcome is None:
        outcome = _OK[key] = Outcome(next_state, status, created=created)
    return outcome


def refusal_message(
    op: Operation,
    object_type: str,
    state: str,
    reason: str | None,
    since: datetime | None,
    limits: Limits,
) -> str:
    if state == DELETED:
        deadline = _DELETIONS[object_type]
        return (
            f"the {object_type} does not exist: it was deleted "
            f"{render_label(deadline.label, limits)} after {deadline.anchor}"
            + (f", at {format_timestamp(since)}" if since is not None else "")
        )
    text = f"cannot {op.verb} a {object_type} in state {state}"
    if reason is not None:
        text += f" ({reason}"
        text += f" since {format_timestamp(since)})" if since is not None else ")"
    return text


def created_states(op: Operation, ctx: Context) -> tuple[tuple[tuple[str, str], ...], int]:
    """The objects ``op`` creates, as ``(object_type, state)``, and the success status."""
    created: list[tuple[str, str]] = []
    status = op.success_status
    for object_type, compiled in COMPILED.items():
        rules = compiled.creations.get(op.name)
        if rules is None:
            continue
        for rule in rules:
            if all(condition(ctx) for condition in rule.conditions):
                created.append((object_type, rule.dest))
                if rule.http_status is not None:
                    status = rule.http_status
                break
    return tuple(created), status


def decide(
    op: Operation,
    obj: Any,
    body: Mapping[str, Any] | None,
    at: datetime,
    limits: Limits,
    simulation_code: str | None = None,
    money: dict[str, Money | None] | None = None,
) -> Outcome:
    """Decide ``op`` on the target described by ``obj`` (facts), after body validation.

    Order (SPEC §3, §5, §6, §8): the limits passed by ``at``; the state rule (refusal codes,
    including ``ResourceNotFound`` once deleted); the operation's checks in order; the
    guards choosing the next state; the states of the objects it creates.
    """
    ctx = Context(obj, body, at, limits, simulation_code, money)
    compiled, creates = _PLANS[op.name]
    if compiled is None:
        created, status = created_states(op, ctx)
        return _ok(created[0][1] if created else None, status, created)
    if obj.state not in compiled.states:
        raise ValueError(
            f"{obj.state!r} is not a {compiled.lifecycle.object_type} state; states are "
            f"{', '.join(compiled.lifecycle.state_names())}"
        )
    state, reason, since, _ = evolve(compiled, obj, at, limits)
    rule = compiled.rules[op.name, state]
    if type(rule) is Refusal:
        code = rule.by_reason.get(reason, rule.code) if reason is not None else rule.code
        message = refusal_message(op, compiled.lifecycle.object_type, state, reason, since, limits)
        return Outcome.refused(code, message)
    assert type(rule) is Allowed
    for check, code in rule.checks:
        failure = check(ctx)
        if failure is not None:
            return Outcome.refused(code, failure)
    for branch in rule.branches:
        for condition in branch.conditions:
            if not condition(ctx):
                break
        else:
            break
    else:  # pragma: no cover - the definition tests prove guards are exhaustive
        raise AssertionError(f"no guard of {op.name} holds in {state}")
    if not creates:
        return branch.outcome
    dest = branch.dest
    created, status = created_states(op, ctx)
    if op.creates is not None:
        mine = [s for t, s in created if t == op.creates]
        return _ok(mine[0] if mine else None, status, created)
    return _ok(dest, status, created)


#: Operations that create objects (declared ``creates``, or a lifecycle's ``Creation``).
_CREATORS: Final = frozenset(
    c.operation for lc in LIFECYCLES.values() for c in lc.creations
) | frozenset(name for name, op in OPERATIONS.items() if op.creates)
#: Per operation: the target's compiled lifecycle (None for creates without a target) and
#: whether it creates objects.
_PLANS: Final[dict[str, tuple[Compiled | None, bool]]] = {
    name: (COMPILED[op.target] if op.target else None, name in _CREATORS)
    for name, op in OPERATIONS.items()
}


def constant_outcomes(limits: Limits) -> dict[tuple[str, str], Outcome]:
    """Outcomes that depend on nothing but (operation, state): no timer can move the
    state, and the rule is a plain refusal or an unconditional read."""
    table: dict[tuple[str, str], Outcome] = {}
    for object_type, compiled in COMPILED.items():
        for (op_name, state), rule in compiled.rules.items():
            if state in compiled.timers or state not in compiled.states:
                continue
            op = OPERATIONS[op_name]
            if type(rule) is Refusal and not rule.by_reason:
                message = refusal_message(op, object_type, state, None, None, limits)
                table[op_name, state] = Outcome.refused(rule.code, message)
            elif (
                type(rule) is Allowed
                and op.is_read
                and not rule.checks
                and len(rule.branches) == 1
                and not rule.branches[0].conditions
            ):
                table[op_name, state] = Outcome(state, op.success_status)
    return table


def reachable() -> dict[str, dict[str, frozenset[str]]]:
    """Per object type and state: every state reachable from it through operations, events
    and timers (for ``check_transition``)."""
    closure: dict[str, dict[str, frozenset[str]]] = {}
    for object_type, compiled in COMPILED.items():
        successors: dict[str, set[str]] = {}
        for source, dest in compiled.edges:
            if dest in compiled.states:
                successors.setdefault(source, set()).add(dest)
        per_state: dict[str, frozenset[str]] = {}
        for start in compiled.states:
            seen: set[str] = set()
            queue = deque(successors.get(start, ()))
            while queue:
                state = queue.popleft()
                if state not in seen:
                    seen.add(state)
                    queue.extend(successors.get(state, ()))
            per_state[start] = frozenset(seen)
        closure[object_type] = per_state
    return closure
