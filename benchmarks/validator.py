"""Benchmark: ``apfsm.check`` against ``transitions``' ``may_capture()`` and a dict lookup.

Run: ``.venv/bin/python benchmarks/validator.py``. Prints the median time per call of each
contender, measured side by side in this one run, and the ratios the issue's targets are
stated in:

* (a) a refusal decided by state alone — target ≤ 1 µs;
* (b) ``capture_charge`` on a full Charge JSON with timestamps — target ≥ 2× faster than
  ``may_capture()`` on an equivalent ``transitions`` machine.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from transitions import Machine

import apfsm

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AT = T0 + timedelta(days=8)  # more than 7 days after authorization: asynchronous capture

FULL_CHARGE: dict[str, Any] = {
    "chargeId": "S01-1234567-1234567-C1234567",
    "chargePermissionId": "S01-1234567-1234567",
    "chargeAmount": {"amount": "120.00", "currencyCode": "USD"},
    "captureAmount": None,
    "refundedAmount": {"amount": "0.00", "currencyCode": "USD"},
    "softDescriptor": "AMZ*SHOP",
    "providerMetadata": {"providerReferenceId": None},
    "convertedAmount": None,
    "conversionRate": None,
    "channel": None,
    "chargeInitiator": None,
    "statusDetails": {
        "state": "Authorized",
        "reasonCode": None,
        "reasonDescription": None,
        "lastUpdatedTimestamp": "20260301T120000Z",
    },
    "creationTimestamp": "20260301T120000Z",
    "expirationTimestamp": "20260331T120000Z",
    "releaseEnvironment": "Sandbox",
}
CAPTURED_CHARGE = {
    **FULL_CHARGE,
    "captureAmount": {"amount": "120.00", "currencyCode": "USD"},
    "statusDetails": {**FULL_CHARGE["statusDetails"], "state": "Captured"},
}
CAPTURE_BODY = {"captureAmount": {"amount": "100.00", "currencyCode": "USD"}}


class ChargeModel:
    """The baseline: a Charge as a ``transitions`` model with the same time guards."""

    def __init__(self) -> None:
        self.authorized_at = T0
        self.expires_at = T0 + timedelta(days=30)
        self.now = AT

    def not_expired(self) -> bool:
        return self.now < self.expires_at

    def within_sync_window(self) -> bool:
        return self.now <= self.authorized_at + timedelta(days=7)


def baseline_model() -> Any:
    model = ChargeModel()
    Machine(
        model=model,
        states=[
            "AuthorizationInitiated",
            "Authorized",
            "CaptureInitiated",
            "Captured",
            "Canceled",
            "Declined",
        ],
        transitions=[
            {
                "trigger": "capture",
                "source": "Authorized",
                "dest": "Captured",
                "conditions": ["not_expired", "within_sync_window"],
            },
            {
                "trigger": "capture",
                "source": "Authorized",
                "dest": "CaptureInitiated",
                "conditions": ["not_expired"],
                "unless": ["within_sync_window"],
            },
            {
                "trigger": "cancel",
                "source": ["AuthorizationInitiated", "Authorized"],
                "dest": "Canceled",
            },
        ],
        initial="Authorized",
        auto_transitions=False,
    )
    return model


def median_seconds(fn: Callable[[], object], number: int, repeat: int) -> float:
    timer = timeit.Timer(fn)
    return statistics.median(t / number for t in timer.repeat(repeat=repeat, number=number))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per sample")
    parser.add_argument("--repeat", type=int, default=15, help="samples per contender")
    args = parser.parse_args()

    check = apfsm.check
    model = baseline_model()
    table = {("capture_charge", "Captured"): "InvalidChargeStatus"}
    captured_state = CAPTURED_CHARGE["statusDetails"]["state"]

    # Sanity: the contenders answer what the benchmark claims they answer.
    assert check("capture_charge", CAPTURED_CHARGE, at=AT).reason_code == "InvalidChargeStatus"
    outcome = check("capture_charge", FULL_CHARGE, body=CAPTURE_BODY, at=AT)
    assert outcome.next_state == "CaptureInitiated", outcome
    assert model.may_capture() is True

    contenders: list[tuple[str, Callable[[], object]]] = [
        ("dict lookup (capture, Captured)", lambda: table[("capture_charge", captured_state)]),
        (
            "(a) apfsm.check refusal by state, no body",
            lambda: check("capture_charge", CAPTURED_CHARGE, at=AT),
        ),
        (
            "(a') apfsm.check refusal by state, with body",
            lambda: check("capture_charge", CAPTURED_CHARGE, body=CAPTURE_BODY, at=AT),
        ),
        ("transitions may_capture()", model.may_capture),
        (
            "(b) apfsm.check capture on full Charge JSON",
            lambda: check("capture_charge", FULL_CHARGE, body=CAPTURE_BODY, at=AT),
        ),
        (
            "(b') apfsm.check capture, no body",
            lambda: check("capture_charge", FULL_CHARGE, at=AT),
        ),
    ]
    results: dict[str, float] = {}
    print(f"median of {args.repeat} samples × {args.number} calls each\n")
    for name, fn in contenders:
        results[name] = median_seconds(fn, args.number, args.repeat)
        print(f"  {name:<46} {results[name] * 1e6:8.3f} µs")

    may = results["transitions may_capture()"]
    full = results["(b) apfsm.check capture on full Charge JSON"]
    refusal = results["(a) apfsm.check refusal by state, no body"]
    lookup = results["dict lookup (capture, Captured)"]
    print()
    print(
        f"(a) refusal by state:  {refusal * 1e6:.3f} µs (target ≤ 1 µs) "
        f"{'MET' if refusal <= 1e-6 else 'MISSED'}; {refusal / lookup:.1f}× a bare dict lookup"
    )
    print(
        f"(b) full capture check: {may / full:.2f}× faster than may_capture() "
        f"(target ≥ 2×) {'MET' if may / full >= 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
