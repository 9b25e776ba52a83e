"""Idempotency keys count per operation (a departure from SPEC §7's one key space).

The evidence is Amazon's own live-sandbox test in the Node SDK,
amzn/amazon-pay-api-sdk-nodejs ``tst/webStoreClientTest.js``: it defines ONE ``headers``
object with one ``x-amz-pay-idempotency-key`` and sends it on createCheckoutSession
(expects 201), createCharge (201), captureCharge (200), createDispute, contestDispute,
uploadFile, ... Under one key space per merchant, createCharge after createCheckoutSession
with that key would be ``DuplicateIdempotencyKey``. Within one operation, the same request
replays and a different one is still refused
(developer.amazon.com/docs/amazon-pay-api-v2/idempotency.html).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from apfsm import ApiError, Simulator
from tests.simhelpers import checkout, make_sim, price, session_body

KEY = "one-key-for-every-call"


def _permission(sim: Simulator) -> str:
    return str(checkout(sim, intent="Confirm")["chargePermissionId"])


def test_one_key_on_session_charge_and_capture_makes_each() -> None:
    sim = make_sim(seed=1)
    session = sim.request("create_checkout_session", None, session_body(), idempotency_key=KEY)
    body = {"chargePermissionId": _permission(sim), "chargeAmount": price("10.00")}
    charge = sim.request("create_charge", None, body, idempotency_key=KEY)
    capture_body = {"captureAmount": price("10.00")}
    charge_id = charge.body["chargeId"]
    capture = sim.request("capture_charge", charge_id, capture_body, idempotency_key=KEY)
    assert (201, 201, 200) == (session.status, charge.status, capture.status)
    assert "Captured" == capture.body["statusDetails"]["state"]


def test_within_an_operation_the_key_replays_or_refuses() -> None:
    sim = make_sim(seed=1)
    sim.request("create_checkout_session", None, session_body(), idempotency_key=KEY)
    body = {"chargePermissionId": _permission(sim), "chargeAmount": price("10.00")}
    first = sim.request("create_charge", None, body, idempotency_key=KEY)
    objects = len(sim.snapshot(log=False)["objects"])
    assert first == sim.request("create_charge", None, body, idempotency_key=KEY)
    assert objects == len(sim.snapshot(log=False)["objects"])  # nothing new: a replay
    other = {**body, "chargeAmount": price("9.00")}
    with pytest.raises(ApiError) as caught:
        sim.request("create_charge", None, other, idempotency_key=KEY)
    assert ("DuplicateIdempotencyKey", 400) == (
        caught.value.reason_code,
        caught.value.http_status,
    )


def _keyed(sim: Simulator) -> dict[str, Any]:
    sim.request("create_checkout_session", None, session_body(), idempotency_key=KEY)
    body = {"chargePermissionId": _permission(sim), "chargeAmount": price("10.00")}
    sim.request("create_charge", None, body, idempotency_key=KEY)
    return body


def test_snapshot_round_trip_keeps_each_operations_key() -> None:
    sim = make_sim(seed=1)
    body = _keyed(sim)
    snapshot = json.loads(json.dumps(sim.snapshot()))
    assert [("create_checkout_session", KEY), ("create_charge", KEY)] == [
        (k["operation"], k["key"]) for k in snapshot["idempotency"]
    ]
    restored = Simulator.restore(snapshot)
    assert sim.request("create_charge", None, body, idempotency_key=KEY) == restored.request(
        "create_charge", None, body, idempotency_key=KEY
    )
    assert snapshot["idempotency"] == restored.snapshot()["idempotency"]


def _version_1(snapshot: dict[str, Any], keep: int) -> dict[str, Any]:
    """``snapshot`` as apfsm wrote it before keys counted per operation: one key object
    (the last entry of a key wins, as a dict keyed by key held one)."""
    old = {
        k["key"]: {name: v for name, v in k.items() if name not in {"operation", "key"}}
        for k in snapshot["idempotency"][:keep]
    }
    return {**snapshot, "version": 1, "idempotency": old}


def test_a_version_1_snapshot_loads_its_keys_per_operation() -> None:
    sim = make_sim(seed=1)
    sim.create_checkout_session(session_body(), idempotency_key="session-1")
    with pytest.raises(ApiError):  # a refusal is a key's answer too
        sim.request("create_charge", None, {"chargeAmount": price("1.00")}, idempotency_key="r")
    snapshot = sim.snapshot()
    restored = Simulator.restore(_version_1(snapshot, keep=2))
    assert snapshot["idempotency"] == restored.snapshot()["idempotency"]
    # Without its log a key's operation is not known: the key is forgotten (new again).
    assert [] == Simulator.restore({**_version_1(snapshot, 2), "log": []}).snapshot()["idempotency"]


def test_the_cap_counts_each_operations_key() -> None:
    sim = make_sim(seed=1)
    sim.retain(idempotency_keys=2)
    _keyed(sim)  # two entries under one key (and the checkout's unkeyed calls)
    assert 2 == len(sim.snapshot(log=False)["idempotency"])
    sim.create_checkout_session(session_body(), idempotency_key="later")
    kept = [(k["operation"], k["key"]) for k in sim.snapshot(log=False)["idempotency"]]
    assert [("create_charge", KEY), ("create_checkout_session", "later")] == kept


def test_a_key_restored_without_its_log_is_a_new_key() -> None:
    # A snapshot taken with log=False holds the keys but not the records they answered
    # with, and the restored log numbers its records from 1 again: the key is forgotten
    # (a new key, as one whose answer left a capped log), never answered with an
    # assertion error or with another request's record.
    sim = Simulator()
    first = sim.create_checkout_session(session_body(), idempotency_key="k1")
    restored = Simulator.restore(sim.snapshot(log=False))
    again = restored.create_checkout_session(session_body(), idempotency_key="k1")
    assert again["checkoutSessionId"] != first["checkoutSessionId"]
    # Now the key's answer is in the restored log: the same request is replayed ...
    assert restored.create_checkout_session(session_body(), idempotency_key="k1") == again
    # ... and a later key whose number the new log reuses is not answered with it.
    other = Simulator.restore(sim.snapshot(log=False))
    other.get_checkout_session(first["checkoutSessionId"])  # record 1 of the new log
    fresh = other.create_checkout_session(session_body(), idempotency_key="k1")
    assert fresh["checkoutSessionId"] != first["checkoutSessionId"]
