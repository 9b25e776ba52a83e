"""Snapshots validated in full on load (issue 16): a valid snapshot with one field mutated
at random either loads into a simulator that works (every object answers a GET, the clock
moves, it snapshots again), or is refused with a ``ValueError`` naming the field — never a
later crash; over HTTP, ``PUT /_apfsm/snapshot`` answers 200 or a 400 in Amazon's shape."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apfsm import ApiError, Simulator
from apfsm._sim.snapcheck import SnapshotError
from tests.simhelpers import checkout, make_sim, price

GETS = {
    "CheckoutSession": "get_checkout_session",
    "ChargePermission": "get_charge_permission",
    "Charge": "get_charge",
    "Refund": "get_refund",
}


@functools.cache
def valid() -> str:
    """A snapshot with every object type, pending events, keys, notifications, a log."""
    sim = make_sim(seed="fuzz")
    first = checkout(sim)["chargeId"]
    sim.capture_charge(
        first, {"captureAmount": price("100.00")}, idempotency_key="cap", simulation_code=None
    )
    sim.create_refund({"chargeId": first, "refundAmount": price("5.00")}, idempotency_key="r")
    second = checkout(sim, "20.00")["chargeId"]
    sim.capture_charge(
        second, {"captureAmount": price("20.00")}, simulation_code="CaptureInitiated"
    )
    sim.advance(timedelta(hours=1))
    return json.dumps(sim.snapshot())


WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(
        [
            "",
            "x",
            "NaN",
            "-1.00",
            "1e999",
            "12345678901234567890.00",
            "2026-03-02T09:00:00",
            "2026-13-45T09:00:00+00:00",
            "Open",
            "Closed",
            "Charge",
            "Nope",
            "timer",
            "expire",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["a", "type", "id"]), st.integers(), max_size=2),
    st.floats(allow_nan=False),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(paths(item, (*prefix, index)))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    snapshot = json.loads(valid())
    # Skip the log and notifications' insides mostly: they are copied, not interpreted.
    candidates = [p for p in paths(snapshot) if p and p[0] not in ("log", "notifications")]
    candidates += [("log",), ("notifications",), ("log", 0), ("log", 0, "seq")]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(candidates))
        parent: Any = snapshot
        try:
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(last, None)
            elif action == "add" and isinstance(parent, dict):
                parent["unexpected"] = draw(WEIRD)
            elif action == "add" and isinstance(parent, list):
                parent.append(copy.deepcopy(draw(WEIRD)))
            else:
                parent[last] = draw(WEIRD)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return dict(snapshot)


def exercise(sim: Simulator) -> None:
    for object_id in sim.object_ids():
        kind = sim.object_type(object_id)
        assert kind is not None
        assert sim.object_json(object_id) is not None
        assert 200 == sim.request(GETS[kind], object_id).status
    sim.advance(timedelta(days=400))  # every pending event falls due
    for object_id in sim.object_ids():
        kind = sim.object_type(object_id)
        assert kind is not None
        with contextlib.suppress(ApiError):  # retention may have deleted it meanwhile
            sim.request(GETS[kind], object_id)
    json.dumps(sim.snapshot())


def test_the_valid_snapshot_loads_and_works() -> None:
    exercise(Simulator.restore(json.loads(valid())))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_snapshot_loads_and_works_or_is_refused_with_its_path(
    snapshot: dict[str, Any],
) -> None:
    refused: ValueError | None = None
    try:
        sim = Simulator.restore(snapshot)
    except ValueError as exc:
        refused = exc
    if refused is None:
        exercise(sim)
    elif isinstance(refused, SnapshotError):
        top = refused.path.split("[")[0].split(".")[0]
        names = ("now", "limits", "merchantId", "idSeed", "counters", "objects", "queue")
        assert top in (*snapshot, *names, "idempotency", "notifications", "log")
        assert refused.path in str(refused)
    else:  # the envelope: format or version
        assert "snapshot" in str(refused)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: s["objects"][2].__setitem__("amount", "ten"), "objects[2].amount"),
        (lambda s: s["objects"][0].__setitem__("state", "Nope"), "objects[0].state"),
        (lambda s: s["objects"][0].__setitem__("type", "Coupon"), "objects[0].type"),
        (lambda s: s["objects"][0].__setitem__("reason", "Whatever"), "objects[0].reason"),
        (
            lambda s: s["objects"][0].__setitem__("created_at", "2026-03-02T09:00:00"),
            "objects[0].created_at",
        ),
        (
            lambda s: s["objects"][2].__setitem__("charge_permission_id", "S01-1"),
            "objects[2].charge_permission_id",
        ),
        (lambda s: s["queue"][0][4].__setitem__(2, "explode"), "queue[0][4]"),
        (lambda s: s["counters"].__setitem__("id", "7"), "counters.id"),
        # tests/test_no_500.py found this one: loaded, the next IPN failed with a 500.
        (lambda s: s["counters"].pop("notification"), "counters.notification"),
        (lambda s: s.__setitem__("now", "yesterday"), "now"),
    ],
)
def test_each_kind_of_fault_is_named_by_its_path(change: Any, path: str) -> None:
    snapshot = json.loads(valid())
    change(snapshot)
    with pytest.raises(SnapshotError) as refused:
        Simulator.restore(snapshot)
    assert path == refused.value.path
    assert path in str(refused.value)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_control_api_answers_a_mutated_snapshot_with_200_or_a_400(
    snapshot: dict[str, Any],
) -> None:
    from starlette.testclient import TestClient

    from apfsm.server import create_app

    with TestClient(create_app(make_sim())) as client:
        # Sent as Python's json writes it: an infinite float becomes the token Infinity,
        # which is not JSON (InvalidRequestFormat); everything else is read and checked.
        text = json.dumps(snapshot)
        answer = client.put(
            "/_apfsm/snapshot", content=text, headers={"content-type": "application/json"}
        )
        assert answer.status_code in (200, 400), answer.text
        if answer.status_code == 400:
            assert {"reasonCode", "message"} == set(answer.json())
            expected = "InvalidRequestFormat" if "Infinity" in text else "InvalidParameterValue"
            assert expected == answer.json()["reasonCode"]
        else:
            exercise(client.app.state.simulator)  # type: ignore[attr-defined]
