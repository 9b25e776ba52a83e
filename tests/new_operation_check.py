"""Run by tests/test_adding_an_operation.py in a copy of apfsm with an operation added.

Checks that the new operation works everywhere from its declaration, its lifecycle rules
and its handler alone — the validator, the simulator, the server and its OpenAPI document,
explore(), the strategies and the fuzzer — and prints one line per tool.

Usage: python tests/new_operation_check.py OPERATION (an operation on a Charge, taking a
body, allowed on an Authorized charge and refused on a Canceled one).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from hypothesis import given, settings
from starlette.testclient import TestClient

import apfsm
import apfsm.server
import apfsm.strategies as aps
from apfsm import ManualClock, Simulator, explore
from apfsm._harness import realistic_body
from apfsm.stateful import fuzz

USD = {"amount": "10.00", "currencyCode": "USD"}


def main(op: str) -> None:
    declared = apfsm.OPERATIONS[op]
    sim = Simulator(ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    session = sim.create_checkout_session(
        realistic_body("create_checkout_session")
        | {"paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": USD}}
    )["checkoutSessionId"]
    sim.buyer_approve(session)
    charge = sim.complete_checkout_session(session, {"chargeAmount": USD})["chargeId"]

    body = realistic_body(op, sim.get_charge(charge))
    answer = sim.request(op, charge, body)
    assert 200 == answer.status, answer
    assert apfsm.check(op, sim.get_charge(charge), body=body, at=sim.now()).ok
    print(f"simulator and validator: {op} on an Authorized charge → {answer.status}")

    sim.cancel_charge(charge)
    refused = apfsm.check(op, sim.get_charge(charge), body=body, at=sim.now())
    assert "InvalidChargeStatus" == refused.reason_code, refused
    print(f"validator: on a Canceled charge → {refused.reason_code}")

    path = f"/v2{declared.path}"
    assert declared.method.lower() in apfsm.server.openapi()["paths"][path]
    with TestClient(apfsm.server.create_app(sim)) as client:
        wire = client.request(declared.method, path.replace("{chargeId}", charge), json=body)
    assert (422, "InvalidChargeStatus") == (wire.status_code, wire.json()["reasonCode"])
    print(f"server: {declared.method} {path} → {wire.status_code}; OpenAPI lists it")

    result = explore(object_types=["Charge"])
    probes = sum(1 for key in result.matrix if key[2] == op)
    assert result.ok, result.summary()
    assert probes > 0, result.summary()
    print(f"explore: {probes} probes of {op}, all as declared")

    @settings(max_examples=30, database=None, deadline=None)
    @given(aps.request_bodies(op, valid=False))
    def faults_get_their_codes(pair: tuple[object, str]) -> None:
        faulty, code = pair
        target = sim.get_charge(charge)
        assert code == apfsm.check(op, target, body=faulty, at=sim.now()).reason_code  # type: ignore[arg-type]

    faults_get_their_codes()
    print("strategies: single-fault bodies get their codes")

    report = fuzz(examples=40, steps=30, seed=1)
    called = op in {transition[2] for transition in report.coverage.transitions()}
    assert report.ok, report.summary()
    assert called, report.summary()
    print(f"fuzz: {report.examples} histories called {op}, every step as predicted")


if __name__ == "__main__":
    main(sys.argv[1])
