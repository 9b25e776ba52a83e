"""Benchmark: the simulator against a baseline that keeps one ``transitions`` model per object.

Run: ``.venv/bin/python benchmarks/simulator.py``. Both contenders run the same order mix
in this one run — create a checkout session, the buyer approves, complete it (Authorize),
read the charge, capture it, refund part of it, read the refund, then 31 s pass so the
refund settles — and the script prints:

* operations per second (the seven calls of an order; time moves are not counted);
* memory per stored object (``tracemalloc``: four objects an order), for the simulator
  both with everything it keeps (call log, notifications, idempotency answers, scheduled
  events) and for the objects alone.

Targets: ≥ 20,000 operations/s and ≤ 2 KiB per stored object.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from transitions import Machine

import apfsm

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPS_PER_ORDER = 7
OBJECTS_PER_ORDER = 4
USD = {"amount": "100.00", "currencyCode": "USD"}
SESSION = {
    "webCheckoutDetails": {
        "checkoutReviewReturnUrl": "https://shop.example/review",
        "checkoutResultReturnUrl": "https://shop.example/result",
    },
    "storeId": "amzn1.application-oa2-client.benchmark",
    "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": USD},
    "merchantMetadata": {"merchantReferenceId": "order-1", "merchantStoreName": "Bench"},
}


def apfsm_orders(sim: apfsm.Simulator, count: int, *, keys: bool = True) -> None:
    for n in range(count):

        def key(step: str, n: int = n) -> str | None:
            return f"o{n}-{step}" if keys else None

        session = sim.create_checkout_session(SESSION, idempotency_key=key("cs"))
        sid = session["checkoutSessionId"]
        sim.buyer_approve(sid)
        done = sim.complete_checkout_session(
            sid, {"chargeAmount": USD}, idempotency_key=key("done")
        )
        charge_id = done["chargeId"]
        sim.get_charge(charge_id)
        sim.capture_charge(charge_id, {"captureAmount": USD}, idempotency_key=key("cap"))
        refund = sim.create_refund(
            {"chargeId": charge_id, "refundAmount": {"amount": "25.00", "currencyCode": "USD"}},
            idempotency_key=key("ref"),
        )
        sim.get_refund(refund["refundId"])
        sim.advance(timedelta(seconds=31))


class Baseline:
    """A naive simulator: every object is a dict driven by its own ``transitions`` model."""

    STATES: ClassVar[dict[str, list[str]]] = {
        "CheckoutSession": ["Open", "Completed", "Canceled"],
        "ChargePermission": ["Chargeable", "NonChargeable", "Closed"],
        "Charge": [
            "AuthorizationInitiated",
            "Authorized",
            "CaptureInitiated",
            "Captured",
            "Canceled",
            "Declined",
        ],
        "Refund": ["RefundInitiated", "Refunded", "Declined"],
    }
    TRANSITIONS: ClassVar[dict[str, list[dict[str, Any]]]] = {
        "CheckoutSession": [
            {"trigger": "complete", "source": "Open", "dest": "Completed", "conditions": "ready"},
            {"trigger": "expire", "source": "Open", "dest": "Canceled"},
        ],
        "ChargePermission": [
            {"trigger": "close", "source": ["Chargeable", "NonChargeable"], "dest": "Closed"}
        ],
        "Charge": [
            {
                "trigger": "capture",
                "source": "Authorized",
                "dest": "Captured",
                "conditions": "in_window",
            },
            {"trigger": "capture", "source": "Authorized", "dest": "CaptureInitiated"},
            {
                "trigger": "cancel",
                "source": ["AuthorizationInitiated", "Authorized"],
                "dest": "Canceled",
            },
        ],
        "Refund": [{"trigger": "settle", "source": "RefundInitiated", "dest": "Refunded"}],
    }

    class Model:
        def __init__(self, kind: str, data: dict[str, Any], now: datetime) -> None:
            self.kind = kind
            self.data = data
            self.created = now
            self.now = now
            self.approved = False

        def ready(self) -> bool:
            return self.approved

        def in_window(self) -> bool:
            return self.now <= self.created + timedelta(days=7)

    def __init__(self) -> None:
        self.now = T0
        self.objects: dict[str, Baseline.Model] = {}
        self.counter = 0
        self.pending: list[tuple[datetime, str]] = []

    def _new(self, kind: str, data: dict[str, Any]) -> Baseline.Model:
        self.counter += 1
        model = Baseline.Model(kind, data, self.now)
        Machine(
            model=model,
            states=self.STATES[kind],
            transitions=self.TRANSITIONS[kind],
            initial=self.STATES[kind][0],
            auto_transitions=False,
        )
        object_id = f"{kind}-{self.counter}"
        model.data["id"] = object_id
        self.objects[object_id] = model
        return model

    def _json(self, model: Any) -> dict[str, Any]:
        return {
            **model.data,
            "statusDetails": {"state": model.state},
            "creationTimestamp": model.created.isoformat(),
        }

    def create_checkout_session(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json(self._new("CheckoutSession", {"body": dict(body)}))

    def buyer_approve(self, object_id: str) -> None:
        self.objects[object_id].approved = True

    def complete(self, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
        session = self.objects[object_id]
        session.now = self.now
        session.complete()  # type: ignore[attr-defined]
        permission = self._new(
            "ChargePermission", {"limit": Decimal(body["chargeAmount"]["amount"])}
        )
        charge = self._new(
            "Charge",
            {"amount": Decimal(body["chargeAmount"]["amount"]), "cp": permission.data["id"]},
        )
        charge.state = "Authorized"  # type: ignore[attr-defined]
        return {
            **self._json(session),
            "chargePermissionId": permission.data["id"],
            "chargeId": charge.data["id"],
        }

    def get(self, object_id: str) -> dict[str, Any]:
        return self._json(self.objects[object_id])

    def capture(self, object_id: str, body: dict[str, Any]) -> dict[str, Any]:
        charge = self.objects[object_id]
        charge.now = self.now
        if Decimal(body["captureAmount"]["amount"]) > charge.data["amount"]:
            raise ValueError("TransactionAmountExceeded")
        charge.capture()  # type: ignore[attr-defined]
        return self._json(charge)

    def refund(self, body: dict[str, Any]) -> dict[str, Any]:
        refund = self._new(
            "Refund",
            {"charge": body["chargeId"], "amount": Decimal(body["refundAmount"]["amount"])},
        )
        self.pending.append((self.now + timedelta(seconds=30), refund.data["id"]))
        return self._json(refund)

    def advance(self, delta: timedelta) -> None:
        self.now += delta
        due = [p for p in self.pending if p[0] <= self.now]
        self.pending = [p for p in self.pending if p[0] > self.now]
        for _, object_id in due:
            self.objects[object_id].settle()  # type: ignore[attr-defined]


def baseline_orders(sim: Baseline, count: int) -> None:
    for _ in range(count):
        sid = sim.create_checkout_session(SESSION)["id"]
        sim.buyer_approve(sid)
        done = sim.complete(sid, {"chargeAmount": USD})
        charge_id = done["chargeId"]
        sim.get(charge_id)
        sim.capture(charge_id, {"captureAmount": USD})
        refund = sim.refund(
            {"chargeId": charge_id, "refundAmount": {"amount": "25.00", "currencyCode": "USD"}}
        )
        sim.get(refund["id"])
        sim.advance(timedelta(seconds=31))


def ops_per_second(run: Callable[[int], None], orders: int, repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run(orders)
        rates.append(orders * OPS_PER_ORDER / (time.perf_counter() - start))
    return statistics.median(rates)


def bytes_per_object(build: Callable[[], object], orders: int) -> tuple[float, object]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = build()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return grown / (orders * OBJECTS_PER_ORDER), kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000, help="orders per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per contender")
    parser.add_argument(
        "--memory-orders", type=int, default=2_000, help="orders for the memory count"
    )
    args = parser.parse_args()

    # Sanity: both contenders really run the order mix.
    check = apfsm.Simulator(apfsm.ManualClock(T0))
    apfsm_orders(check, 2)
    (refund_id,) = check.object_ids("Refund")[-1:]
    assert "Refunded" == check.get_refund(refund_id)["statusDetails"]["state"]
    base = Baseline()
    baseline_orders(base, 2)
    assert "Refunded" == base.objects[f"Refund-{base.counter}"].state  # type: ignore[attr-defined]

    print(
        f"order mix: {OPS_PER_ORDER} calls an order; {args.orders} orders a run, "
        f"median of {args.repeat}\n"
    )
    rate_keys = ops_per_second(
        lambda n: apfsm_orders(apfsm.Simulator(apfsm.ManualClock(T0)), n), args.orders, args.repeat
    )
    rate_plain = ops_per_second(
        lambda n: apfsm_orders(apfsm.Simulator(apfsm.ManualClock(T0)), n, keys=False),
        args.orders,
        args.repeat,
    )
    rate_base = ops_per_second(lambda n: baseline_orders(Baseline(), n), args.orders, args.repeat)
    print(f"  apfsm.Simulator, idempotency keys on POSTs  {rate_keys:10,.0f} ops/s")
    print(f"  apfsm.Simulator, no idempotency keys        {rate_plain:10,.0f} ops/s")
    print(f"  baseline: a transitions model per object    {rate_base:10,.0f} ops/s")

    orders = args.memory_orders

    def build_sim() -> object:
        sim = apfsm.Simulator(apfsm.ManualClock(T0))
        apfsm_orders(sim, orders)
        return sim

    def build_base() -> object:
        base = Baseline()
        baseline_orders(base, orders)
        return base

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    sim = build_sim()
    assert isinstance(sim, apfsm.Simulator)
    gc.collect()
    full = tracemalloc.take_snapshot()
    # What the objects alone keep: drop the call log, IPN list and idempotency answers.
    sim.log.clear()
    sim.notifications.clear()
    # A benchmark may look inside: it measures the internals (and runs against older
    # commits too, by benchmarks/versus.py, where the keys lived elsewhere).
    store = getattr(sim, "_store", None)
    keys: Any = getattr(store, "keys", None)
    if not isinstance(keys, dict):
        keys = getattr(sim, "_idempotency")  # noqa: B009
    keys.clear()
    gc.collect()
    trimmed = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stored = orders * OBJECTS_PER_ORDER
    everything = sum(stat.size_diff for stat in full.compare_to(before, "filename")) / stored
    objects_only = sum(stat.size_diff for stat in trimmed.compare_to(before, "filename")) / stored
    baseline_bytes, _ = bytes_per_object(build_base, orders)
    print(f"\nmemory per stored object ({orders * OBJECTS_PER_ORDER:,} objects):")
    print(f"  apfsm.Simulator, with log, IPNs, idempotency {everything:9,.0f} B")
    print(f"  apfsm.Simulator, the objects alone           {objects_only:9,.0f} B")
    print(f"  baseline: a transitions model per object     {baseline_bytes:9,.0f} B")

    print()
    print(
        f"throughput: {rate_keys:,.0f} ops/s with keys (target ≥ 20,000) "
        f"{'MET' if rate_keys >= 20_000 else 'MISSED'}; {rate_keys / rate_base:.2f}× the baseline"
    )
    print(
        f"memory: {everything / 1024:.2f} KiB per object with everything kept (target ≤ 2 KiB) "
        f"{'MET' if everything <= 2048 else 'MISSED'}; {objects_only / 1024:.2f} KiB for the "
        f"objects alone; baseline {baseline_bytes / 1024:.2f} KiB"
    )


if __name__ == "__main__":
    main()
