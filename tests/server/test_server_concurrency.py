"""Concurrency over HTTP (issue 6, item 8): many clients at once never corrupt the state."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2

from apfsm.server import create_app, running
from tests.simhelpers import make_sim, reason, state

from .serverhelpers import price, session_body

THREADS = 16


def test_one_idempotency_key_from_many_threads_creates_one_object() -> None:
    sim = make_sim()
    barrier = threading.Barrier(THREADS)
    with running(create_app(sim)) as url:

        def send(_: int) -> tuple[int, dict[str, Any]]:
            with httpx2.Client(base_url=url) as client:
                barrier.wait()  # all at once
                answer = client.post(
                    "/v2/checkoutSessions",
                    json=session_body("25.00"),
                    headers={"x-amz-pay-idempotency-key": "one-order"},
                )
                return answer.status_code, answer.json()

        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(send, range(THREADS)))
    # SPEC §7: the first answer replayed, or TransactionInProgress while it is processed.
    assert {status for status, _ in answers} <= {201, 425}
    created = [body for status, body in answers if status == 201]
    assert created
    assert all(body == created[0] for body in created)
    assert [created[0]["checkoutSessionId"]] == sim.object_ids("CheckoutSession")
    assert 1 == sum(1 for record in sim.log if not record.replayed and record.ok)


def test_concurrent_orders_on_different_objects_stay_consistent() -> None:
    sim = make_sim()
    orders = 8
    charges_per_order = 4
    with running(create_app(sim)) as url:
        with httpx2.Client(base_url=url) as setup:
            permissions = []
            for n in range(orders):
                session = setup.post(
                    "/v2/checkoutSessions",
                    json=session_body("100.00", intent="Confirm"),
                    headers={"x-amz-pay-idempotency-key": f"cs-{n}"},
                ).json()
                sid = session["checkoutSessionId"]
                setup.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
                done = setup.post(
                    f"/v2/checkoutSessions/{sid}/complete",
                    json={"chargeAmount": price("100.00")},
                    headers={"x-amz-pay-idempotency-key": f"done-{n}"},
                ).json()
                permissions.append(done["chargePermissionId"])
        barrier = threading.Barrier(orders)

        def order(n: int) -> list[int]:
            """Charge, capture, refund and read, several times, on permission ``n``."""
            statuses = []
            with httpx2.Client(base_url=url) as client:
                barrier.wait()
                for c in range(charges_per_order):
                    key = f"o{n}-c{c}"
                    charge = client.post(
                        "/v2/charges",
                        json={"chargePermissionId": permissions[n], "chargeAmount": price("10.00")},
                        headers={"x-amz-pay-idempotency-key": key},
                    )
                    charge_id = charge.json()["chargeId"]
                    capture = client.post(
                        f"/v2/charges/{charge_id}/capture",
                        json={"captureAmount": price("10.00")},
                        headers={"x-amz-pay-idempotency-key": f"{key}-capture"},
                    )
                    refund = client.post(
                        "/v2/refunds",
                        json={"chargeId": charge_id, "refundAmount": price("1.00")},
                        headers={"x-amz-pay-idempotency-key": f"{key}-refund"},
                    )
                    read = client.get(f"/v2/chargePermissions/{permissions[n]}")
                    statuses += [charge.status_code, capture.status_code]
                    statuses += [refund.status_code, read.status_code]
            return statuses

        with ThreadPoolExecutor(orders) as pool:
            results = list(pool.map(order, range(orders)))
        assert [[201, 200, 201, 200] * charges_per_order] * orders == results
        httpx2.post(f"{url}/_apfsm/clock/advance", json={"seconds": 30})
    # Every call logged once (the buyer's approvals apart) before the reads below add theirs.
    assert orders * (2 + 4 * charges_per_order) == sum(1 for r in sim.log if r.kind == "api")

    for permission_id in permissions:
        permission = sim.get_charge_permission(permission_id)
        assert ("Chargeable", None) == (state(permission), reason(permission))
        assert price("60.00") == permission["limits"]["amountBalance"]
    charges = [sim.get_charge(i) for i in sim.object_ids("Charge")]
    assert orders * charges_per_order == len(charges)
    assert {"Captured"} == {state(c) for c in charges}
    assert [price("1.00")] * len(charges) == [c["refundedAmount"] for c in charges]
    refunds = [sim.get_refund(i) for i in sim.object_ids("Refund")]
    assert {"Refunded"} == {state(r) for r in refunds}
    assert sorted(c["chargeId"] for c in charges) == sorted(r["chargeId"] for r in refunds)
    # Every state change notified once. Per permission: created; per charge Authorized, Captured; per refund initiated, done.
    assert orders * (1 + 4 * charges_per_order) == len(sim.notifications)
    assert len({n["NotificationId"] for n in sim.notifications}) == len(sim.notifications)
