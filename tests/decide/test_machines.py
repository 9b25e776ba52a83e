"""The transitions machines: built once per object type, and the decision tables read off
them agree with what ``transitions`` itself does with the same declarations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import transitions

import apfsm
from apfsm import LIFECYCLES, Limits
from apfsm._decide.machines import COMPILED, probe_model
from apfsm._decide.payloads import read_payload
from apfsm._decide.rules import DEADLINE_FUNCTIONS, Context
from apfsm._spec import DELETED, SAME
from tests.payloads import (
    T0,
    buyer,
    charge,
    charge_permission,
    checkout_session,
    dispute,
    money,
    refund,
)

LIMITS = Limits()
S = timedelta(seconds=1)

BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "CheckoutSession": checkout_session,
    "ChargePermission": charge_permission,
    "Charge": charge,
    "Refund": refund,
    "Buyer": buyer,
    "Dispute": dispute,
}


@pytest.fixture
def probe() -> Iterator[Callable[[str, str], Any]]:
    made: list[tuple[str, Any]] = []

    def make(object_type: str, state: str) -> Any:
        model = probe_model(object_type, state)
        made.append((object_type, model))
        return model

    yield make
    for object_type, model in made:
        COMPILED[object_type].machine.remove_model(model)


def test_one_machine_per_object_type_with_the_declared_triggers() -> None:
    for object_type, lifecycle in LIFECYCLES.items():
        machine = COMPILED[object_type].machine
        assert isinstance(machine, transitions.Machine)
        assert set(lifecycle.state_names(virtual=True)) == set(machine.states)
        triggers = (
            {a.operation for a in lifecycle.allows}
            | {e.name for e in lifecycle.events}
            | {t.name for t in lifecycle.timers}
        )
        assert triggers == set(machine.events)
        assert [] == machine.models  # no model lives on the shared machines


def test_checking_never_builds_a_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a transitions.Machine was built on the hot path")

    monkeypatch.setattr(transitions.Machine, "__init__", refuse)
    body = {"captureAmount": money("10.00")}
    for delta in (timedelta(hours=1), timedelta(days=8), timedelta(days=31)):
        apfsm.check("capture_charge", charge(), body=body, at=T0 + delta)
        apfsm.check("get_checkout_session", checkout_session(), at=T0 + delta)
        apfsm.check("create_charge", charge_permission(), at=T0 + delta)
    apfsm.check_transition("Charge", "Authorized", "Captured")


def _payload(object_type: str, state: str) -> dict[str, Any]:
    return BUILDERS[object_type](state)


def _deadlines(object_type: str, state: str, facts: Any) -> dict[str, datetime]:
    return {
        t.name: DEADLINE_FUNCTIONS[t.deadline](facts, LIMITS)
        for t in LIFECYCLES[object_type].timers
        if state in t.sources
    }


@pytest.mark.parametrize("object_type", list(LIFECYCLES))
def test_operation_tables_agree_with_transitions(
    object_type: str, probe: Callable[[str, str], Any]
) -> None:
    lifecycle = LIFECYCLES[object_type]
    instants = [T0 + timedelta(hours=1), T0 + timedelta(days=7), T0 + timedelta(days=7) + S]
    for state in lifecycle.state_names():
        payload = _payload(object_type, state)
        facts = read_payload(object_type, payload, LIMITS)
        # Only instants before the state's deadlines: past them the state is another one.
        first_deadline = min(_deadlines(object_type, state, facts).values(), default=None)
        for at in instants:
            if first_deadline is not None and at >= first_deadline:
                continue
            for op in lifecycle.operations:
                outcome = apfsm.check(op, payload, at=at)  # no body: the state rule decides
                model = probe(object_type, state)
                ctx = Context(facts, None, at, LIMITS)
                assert outcome.ok == model.may_trigger(op, ctx), (op, state, at)
                if outcome.ok:
                    assert model.trigger(op, ctx)
                    if apfsm.OPERATIONS[op].creates is None and op != "complete_checkout_session":
                        assert model.state == outcome.next_state, (op, state, at)


@pytest.mark.parametrize("object_type", list(LIFECYCLES))
def test_timers_agree_with_transitions(object_type: str, probe: Callable[[str, str], Any]) -> None:
    lifecycle = LIFECYCLES[object_type]
    get = next(op for op in lifecycle.operations if op.startswith("get_"))
    for timer in lifecycle.timers:
        for state in timer.sources:
            payload = _payload(object_type, state)
            facts = read_payload(object_type, payload, LIMITS)
            deadlines = _deadlines(object_type, state, facts)
            deadline = deadlines[timer.name]
            first = deadline == min(deadlines.values())
            for at, passed in ((deadline - S, False), (deadline, True)):
                model = probe(object_type, state)
                ctx = Context(facts, None, at, LIMITS)
                assert passed == model.may_trigger(timer.name, ctx), (timer, state, at)
                if passed:
                    assert model.trigger(timer.name, ctx)
                    assert timer.dest == model.state
                if not first:
                    continue  # an earlier timer of this state decides what check() sees
                outcome = apfsm.check(get, payload, at=at)
                if model.state == DELETED:
                    assert "ResourceNotFound" == outcome.reason_code
                else:
                    assert model.state == outcome.next_state, (timer, state, at)


def test_capture_guards_pick_the_same_branch_as_transitions(
    probe: Callable[[str, str], Any],
) -> None:
    payload = charge("Authorized")
    facts = read_payload("Charge", payload, LIMITS)
    for delta, expected in (
        (timedelta(days=7), "Captured"),
        (timedelta(days=7) + S, "CaptureInitiated"),
    ):
        model = probe("Charge", "Authorized")
        assert model.capture_charge(Context(facts, None, T0 + delta, LIMITS))
        assert expected == model.state
        assert expected == apfsm.check("capture_charge", payload, at=T0 + delta).next_state


def test_events_are_triggers_with_declared_destinations(probe: Callable[[str, str], Any]) -> None:
    for object_type, lifecycle in LIFECYCLES.items():
        for event in lifecycle.events:
            for state in event.sources:
                model = probe(object_type, state)
                assert model.trigger(event.name, None)
                assert (state if event.dest == SAME else event.dest) == model.state
