"""Bad bodies, every operation (issue 11 "Bad input", SPEC §8): each single fault of an
operation's schema (``apfsm._fuzz.single_faults``: not an object, unknown fields, required
fields missing or null, wrong types, too many decimals, exponents, huge values, forbidden
combinations) put into a valid body, sent to the simulator on objects in states that allow
the operation: the fault's code, and nothing changed — no object, no notification, no id
consumed. New endpoints are covered as soon as they are declared."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import apfsm.strategies as aps
from apfsm import OPERATIONS, ApiError, Limits, Simulator
from apfsm._fuzz import single_faults
from tests.simhelpers import checkout, make_sim, price, session_body

LIMITS = Limits()
WITH_BODIES = sorted(name for name, op in OPERATIONS.items() if not op.is_read)


def _world() -> tuple[Simulator, dict[str, str]]:
    """One object of each type, each in a state that allows its operations."""
    sim = make_sim(seed=3)
    open_session = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.buyer_approve(open_session)
    done = checkout(sim, amount="100.00")
    captured = checkout(sim, amount="50.00")
    sim.capture_charge(captured["chargeId"], {"captureAmount": price("50.00")})
    refund = sim.create_refund({"chargeId": captured["chargeId"], "refundAmount": price("1.00")})
    dispute = sim.file_dispute(captured["chargeId"], amount="1.00")
    ids = {
        "CheckoutSession": open_session,
        "ChargePermission": done["chargePermissionId"],
        "Charge": done["chargeId"],
        "Refund": refund["refundId"],
        "Dispute": dispute["disputeId"],
    }
    return sim, ids


def _fill_ids(body: Any, ids: dict[str, str]) -> Any:
    """The drawn body's links pointed at the world's objects (its own are made up)."""
    if isinstance(body, dict):
        if "chargePermissionId" in body:
            body["chargePermissionId"] = ids["ChargePermission"]
        if "chargeId" in body:
            body["chargeId"] = ids["Charge"]
    return body


def test_every_operation_with_a_body_is_covered() -> None:
    assert {"finalize_checkout_session", "update_charge", "create_delivery_tracker"} <= set(
        WITH_BODIES
    )
    assert all(single_faults(name, LIMITS) for name in WITH_BODIES)


@pytest.mark.parametrize("operation", WITH_BODIES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_each_fault_gets_its_code_and_changes_nothing(operation: str, data: st.DataObject) -> None:
    sim, ids = _world()
    op = OPERATIONS[operation]
    target = ids[op.target] if op.has_path_id and op.target is not None else None
    valid = _fill_ids(data.draw(aps.request_bodies(operation)), ids)
    faults = [f for f in single_faults(operation, LIMITS) if f.applies(valid)]
    assert faults
    fault = data.draw(st.sampled_from(faults))
    body, code = fault.apply(valid)
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        sim.request(operation, target, body, idempotency_key=_key(operation, data))
    assert code == refused.value.reason_code, (fault, body)
    assert 400 == refused.value.http_status
    assert before == sim.state_fingerprint(), (fault, body)


def _key(operation: str, data: st.DataObject) -> str | None:
    if not OPERATIONS[operation].requires_idempotency_key:
        return None
    return data.draw(st.sampled_from(["k-1", "key-with-dashes-2"]))
