"""The declarations as ``transitions`` machines, and the decision tables compiled from them.

This is the only module that imports ``transitions``. One ``Machine`` is built per object
type when apfsm is imported (never per object): operations, Amazon-side events and timers
are its triggers, guards and deadlines its ``conditions``. The decision tables the validator
and the simulator use on their hot paths are read off those machines' transitions, so the
machines are the compiled form of the declarations and the tables an index over them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from transitions import Machine, Transition

from apfsm._outcome import Outcome
from apfsm._spec import (
    CHECKS,
    GUARDS,
    LIFECYCLES,
    OPERATIONS,
    SAME,
    Allow,
    Event,
    Lifecycle,
    Limits,
    Timer,
)

from .rules import CHECK_FUNCTIONS, DEADLINE_FUNCTIONS, GUARD_FUNCTIONS, Context

__all__ = ["COMPILED", "Compiled", "build_machine", "probe_model"]

Condition = Callable[[Context], bool]


class _DeclaredTransition(Transition):
    """A ``transitions`` transition that remembers the declaration it came from."""

    def __init__(
        self,
        source: str,
        dest: str,
        conditions: Any = None,
        unless: Any = None,
        before: Any = None,
        after: Any = None,
        prepare: Any = None,
        decl: Allow | Event | Timer | None = None,
    ) -> None:
        super().__init__(source, dest, conditions, unless, before, after, prepare)
        self.decl = decl


class _LifecycleMachine(Machine):
    transition_cls = _DeclaredTransition


class DeadlinePassed:
    """A timer's condition: has the named deadline passed at ``ctx.at``? (SPEC §2)"""

    __slots__ = ("deadline", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.deadline: Callable[[Any, Limits], datetime] = DEADLINE_FUNCTIONS[name]

    def __call__(self, ctx: Context) -> bool:
        return ctx.limits.ttl_passed(self.deadline(ctx.obj, ctx.limits), ctx.at)

    def __repr__(self) -> str:
        return f"DeadlinePassed({self.name!r})"


def build_machine(lifecycle: Lifecycle) -> Machine:
    """A ``transitions.Machine`` (without models) for one lifecycle."""
    initial = next(s.name for s in lifecycle.states if s.initial)
    machine = _LifecycleMachine(
        model=[],
        states=list(lifecycle.state_names(virtual=True)),
        initial=initial,
        auto_transitions=False,
        send_event=False,
        name=lifecycle.object_type,
    )

    def add(trigger: str, decl: Allow | Event | Timer, conditions: list[Condition]) -> None:
        dest = machine.wildcard_same if decl.dest == SAME else decl.dest
        machine.add_transition(
            trigger,
            list(decl.sources),
            dest,
            conditions=list[str | Callable[..., bool | None]](conditions) or None,
            decl=decl,
        )

    for allow in lifecycle.allows:
        add(allow.operation, allow, [GUARD_FUNCTIONS[allow.guard]] if allow.guard else [])
    for event in lifecycle.events:
        add(event.name, event, [])
    for timer in lifecycle.timers:
        add(timer.name, timer, [DeadlinePassed(timer.deadline)])
    return machine


class Branch(NamedTuple):
    conditions: tuple[Condition, ...]
    dest: str  # the state after the call (the source state when the object stays)
    reason: str | None
    outcome: Outcome  # the answer when the operation creates nothing


class Allowed(NamedTuple):
    checks: tuple[tuple[Callable[[Context], str | None], str], ...]
    branches: tuple[Branch, ...]


class Refusal(NamedTuple):
    code: str
    by_reason: Mapping[str, str]


class TimerRule(NamedTuple):
    name: str
    deadline: Callable[[Any, Limits], datetime]
    dest: str
    reason: str | None


class CreationRule(NamedTuple):
    conditions: tuple[Condition, ...]
    dest: str
    http_status: int | None


class Compiled:
    """One lifecycle's machine and the decision tables read off it."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self.machine = build_machine(lifecycle)
        self.states: frozenset[str] = frozenset(lifecycle.state_names())
        self.timers: dict[str, tuple[TimerRule, ...]] = {}
        self.rules: dict[tuple[str, str], Allowed | Refusal] = {}
        self.creations: dict[str, tuple[CreationRule, ...]] = {}
        #: (source, dest) -> trigger names, for every state change the machine allows.
        self.edges: dict[tuple[str, str], tuple[str, ...]] = {}
        self._compile()

    def _transitions(self, trigger: str, source: str) -> list[_DeclaredTransition]:
        found = self.machine.get_transitions(trigger=trigger, source=source)
        return [t for t in found if isinstance(t, _DeclaredTransition)]

    def _compile(self) -> None:
        lifecycle = self.lifecycle
        states = lifecycle.state_names(virtual=True)
        refusals = {
            (op, state): Refusal(r.code, r.by_reason)
            for r in lifecycle.refusals
            for op in (r.operation,)
            for state in r.sources
        }
        for op in lifecycle.operations:
            checks = tuple(
                (CHECK_FUNCTIONS[name], CHECKS[name].code) for name in OPERATIONS[op].checks
            )
            for state in states:
                found = self._transitions(op, state)
                if found:
                    if (op, state) in refusals:
                        raise ValueError(f"{op} in {state} is both allowed and refused")
                    self.rules[op, state] = Allowed(checks, self._branches(op, found))
                elif (op, state) in refusals:
                    self.rules[op, state] = refusals[op, state]
        for state in states:
            rules = []
            for timer in lifecycle.timers:
                for t in self._transitions(timer.name, state):
                    (condition,) = (c.func for c in t.conditions)
                    assert isinstance(condition, DeadlinePassed)
                    rules.append(
                        TimerRule(timer.name, condition.deadline, timer.dest, timer.reason)
                    )
            if rules:
                self.timers[state] = tuple(rules)
        for transition in self.machine.get_transitions():
            if isinstance(transition, _DeclaredTransition) and transition.dest is not None:
                decl = transition.decl
                trigger = (
                    decl.operation if isinstance(decl, Allow) else str(getattr(decl, "name", ""))
                )
                key = (transition.source, transition.dest)
                self.edges[key] = (*self.edges.get(key, ()), trigger)
        by_op: dict[str, list[CreationRule]] = {}
        for creation in lifecycle.creations:
            conditions = (GUARD_FUNCTIONS[creation.guard],) if creation.guard else ()
            by_op.setdefault(creation.operation, []).append(
                CreationRule(conditions, creation.dest, creation.http_status)
            )
        self.creations = {op: tuple(rules) for op, rules in by_op.items()}

    def _branches(self, op: str, found: list[_DeclaredTransition]) -> tuple[Branch, ...]:
        branches = [self._branch(op, t) for t in found]
        # A last branch guarded by the complement of the one before is the "otherwise" of
        # that one: it holds whenever it is reached.
        if len(found) >= 2:
            last, before = found[-1].decl, found[-2].decl
            assert isinstance(last, Allow)
            assert isinstance(before, Allow)
            guard = GUARDS[last.guard] if last.guard else None
            if (
                guard is not None
                and guard.complement is not None
                and guard.complement == before.guard
            ):
                branches[-1] = branches[-1]._replace(conditions=())
        return tuple(branches)

    def _branch(self, op: str, transition: _DeclaredTransition) -> Branch:
        decl = transition.decl
        assert isinstance(decl, Allow)
        conditions: list[Condition] = []
        for condition in transition.conditions:
            func = condition.func
            if not condition.target or not callable(func):  # pragma: no cover
                raise ValueError("apfsm declares only positive, callable conditions")
            conditions.append(func)  # type: ignore[arg-type]  # apfsm's own guards
        dest = transition.source if decl.dest == SAME else transition.dest
        assert dest is not None
        outcome = Outcome(dest, OPERATIONS[op].success_status)
        return Branch(tuple(conditions), dest, decl.reason, outcome)


#: The compiled lifecycles by object type, built once at import.
COMPILED: Final[Mapping[str, Compiled]] = MappingProxyType(
    {name: Compiled(lifecycle) for name, lifecycle in LIFECYCLES.items()}
)


class _Probe:
    """A throwaway model for driving a machine directly (tests and the benchmark)."""

    state: str


def probe_model(object_type: str, state: str) -> Any:
    """A fresh model attached to ``object_type``'s machine in ``state``.

    Slow (it adds a model to the machine and removes nothing): for tests that check the
    tables against ``transitions`` itself, never for hot paths. Remove it with
    ``COMPILED[object_type].machine.remove_model(model)``.
    """
    model = _Probe()
    COMPILED[object_type].machine.add_model(model, initial=state)
    return model
