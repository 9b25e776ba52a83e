"""Portable traces: record, save, load, replay — and a shrunk failure exported as one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import apfsm
from apfsm import ApiError, Limits, ManualClock, Simulator, Step, Trace, replay
from apfsm.stateful import AmazonPayMachine, Executed
from tests.simhelpers import T0, price, session_body


def sample_trace() -> Trace:
    return Trace(
        start=T0,
        limits=Limits(),
        steps=(
            Step("call", "create_checkout_session", None, session_body(), expect={"status": 201, "error": None, "state": "Open"}, creates={"CheckoutSession": "cs1"}),
            Step("buyer", "buyer_approve", "cs1", {"card": "1111"}),
            Step(
                "call",
                "complete_checkout_session",
                "cs1",
                {"chargeAmount": price("100.00")},
                idempotency_key="done-1",
                expect={"status": 200, "error": None, "state": "Completed"},
                creates={"ChargePermission": "cp1", "Charge": "ch1"},
            ),
            Step("time", "advance", None, {"seconds": 8 * 86400}),
            Step("call", "capture_charge", "ch1", {"captureAmount": price("60.00")}, expect={"status": 200, "error": None, "state": "CaptureInitiated"}),
            Step("time", "move_to", None, {"to": (T0 + timedelta(days=8, seconds=30)).isoformat()}),
            Step("call", "get_charge", "ch1", expect={"status": 200, "error": None, "state": "Captured"}),
            Step("call", "create_refund", None, {"chargeId": "@ch1", "refundAmount": price("500.00")}, expect={"status": 400, "error": "TransactionAmountExceeded"}),
            Step("amazon", "amazon_event", "cp1", {"event": "buyer_close"}),
            Step("call", "create_charge", None, {"chargePermissionId": "@cp1", "chargeAmount": price("1.00")}, expect={"status": 422, "error": "InvalidChargePermissionStatus"}),
        ),
    )  # fmt: skip


def test_a_trace_replays_on_a_fresh_simulator() -> None:
    outcome = replay(sample_trace())
    assert [] == [str(m) for m in outcome.mismatches]
    assert outcome.ok
    assert 10 == outcome.steps
    assert {"cs1", "cp1", "ch1"} == set(outcome.ids)
    outcome.raise_for_mismatches()


def test_traces_round_trip_through_json_and_files(tmp_path: Path) -> None:
    trace = sample_trace()
    assert trace == Trace.from_json(json.loads(json.dumps(trace.to_json())))
    path = trace.save(tmp_path / "nested" / "order.json")
    assert trace == Trace.load(path)
    assert replay(path).ok
    assert replay(trace.to_json()).ok


def test_mismatches_are_reported() -> None:
    trace = sample_trace()
    steps = list(trace.steps)
    steps[4] = Step(
        "call",
        "capture_charge",
        "ch1",
        {"captureAmount": price("60.00")},
        expect={"status": 200, "error": None, "state": "Captured"},
    )
    outcome = replay(Trace(start=trace.start, steps=tuple(steps)))
    assert not outcome.ok
    (mismatch,) = outcome.mismatches
    assert 4 == mismatch.index
    assert "CaptureInitiated" == mismatch.actual["state"]
    with pytest.raises(AssertionError, match=r"1 step\(s\) differ"):
        outcome.raise_for_mismatches()


def test_replay_against_an_adapter() -> None:
    class Adapter:
        """A user's client wrapped for replay (here, around a simulator)."""

        def __init__(self) -> None:
            self.sim = Simulator(ManualClock(T0))
            self.calls: list[str] = []
            self.clock = self.sim.clock

        def request(
            self,
            operation: str,
            object_id: str | None = None,
            body: Any = None,
            *,
            idempotency_key: str | None = None,
            simulation_code: str | None = None,
        ) -> Any:
            self.calls.append(operation)
            return self.sim.request(
                operation,
                object_id,
                body,
                idempotency_key=idempotency_key,
                simulation_code=simulation_code,
            ).body

        def advance(self, delta: timedelta) -> None:
            self.sim.advance(delta)

        def settle(self) -> None:
            self.sim.settle()

        def buyer_approve(self, object_id: str, **args: Any) -> dict[str, Any]:
            return self.sim.buyer_approve(object_id, **args)

        def amazon_event(self, object_id: str, **args: Any) -> dict[str, Any]:
            return self.sim.amazon_event(object_id, **args)

    adapter = Adapter()
    assert isinstance(adapter, apfsm.ReplayTarget)
    assert replay(sample_trace(), adapter).ok
    assert "capture_charge" in adapter.calls


def test_malformed_traces() -> None:
    with pytest.raises(ValueError, match="not an apfsm trace"):
        Trace.from_json({"format": "x"})
    good = sample_trace().to_json()
    with pytest.raises(ValueError, match="version 2 is not supported"):
        Trace.from_json({**good, "version": 2})
    with pytest.raises(ValueError, match="unknown trace step kind"):
        Trace.from_json({**good, "steps": [{"kind": "teleport", "name": "x"}]})
    with pytest.raises(ValueError, match="malformed trace"):
        Trace.from_json({**good, "start": None})


def test_replay_needs_the_methods_its_steps_use() -> None:
    class Minimal:
        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise ApiError.from_code("ResourceNotFound")

        def advance(self, delta: timedelta) -> None:
            return None

    with pytest.raises(TypeError, match="buyer_approve"):
        replay(sample_trace(), Minimal())


class CaptureIsForbidden(AmazonPayMachine):
    """A planted failure: any successful capture fails the run."""

    def after_step(self, executed: Executed) -> None:
        if executed.step.name == "capture_charge" and executed.error is None:
            raise AssertionError("a capture succeeded")


def _run_planted_failure(tmp_path: Path, phases: tuple[Phase, ...]) -> Trace:
    CaptureIsForbidden.trace_dir = str(tmp_path)
    with pytest.raises(AssertionError, match="a capture succeeded"):
        run_state_machine_as_test(
            CaptureIsForbidden,
            settings=settings(
                max_examples=100,
                stateful_step_count=10,
                deadline=None,
                database=None,
                derandomize=True,
                phases=phases,
                suppress_health_check=list(HealthCheck),
            ),
        )
    trace = Trace.load(tmp_path / "CaptureIsForbidden.json")
    assert "failure" in trace.note
    assert "capture_charge" == trace.steps[-1].name
    assert datetime(2026, 1, 31, 9, tzinfo=UTC) == trace.start
    outcome = replay(trace)
    assert outcome.ok, outcome.mismatches
    return trace


def test_a_shrunk_failure_is_exported_as_a_short_replayable_trace(tmp_path: Path) -> None:
    # Hypothesis's explain phase re-runs the failure many times to annotate it: not needed
    # here, and slow.
    trace = _run_planted_failure(tmp_path, (Phase.generate, Phase.shrink))
    assert len(trace.steps) <= 12  # shrunk: an order and a capture, give or take


def test_a_simulator_log_becomes_a_trace_that_replays() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    sim = Simulator(clock)
    session = sim.create_checkout_session(
        {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://a.example/r",
                "checkoutResultReturnUrl": "https://a.example/done",
            },
            "storeId": "s",
            "paymentDetails": {
                "paymentIntent": "Authorize",
                "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
            },
        },
        idempotency_key="k1",
    )["checkoutSessionId"]
    sim.buyer_approve(session, card="1111")
    done = sim.complete_checkout_session(
        session, {"chargeAmount": {"amount": "10.00", "currencyCode": "USD"}}
    )
    sim.advance(timedelta(days=8))
    sim.payment_method_problem(done["chargePermissionId"], "PaymentMethodInvalid")
    with pytest.raises(ApiError):
        sim.capture_charge(
            done["chargeId"], {"captureAmount": {"amount": "11.00", "currencyCode": "USD"}}
        )
    sim.capture_charge(
        done["chargeId"], {"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}
    )
    trace = Trace.from_log(sim.log, start=datetime(2026, 3, 2, 9, tzinfo=UTC), note="by hand")
    kinds = [(step.kind, step.name) for step in trace.steps]
    assert [
        ("call", "create_checkout_session"),
        ("buyer", "buyer_approve"),
        ("call", "complete_checkout_session"),
        ("time", "move_to"),
        ("amazon", "amazon_event"),
        ("call", "capture_charge"),
        ("call", "capture_charge"),
    ] == kinds
    complete = trace.steps[2]
    assert "cs1" == complete.object
    assert {"ChargePermission": "cp1", "Charge": "ch1"} == dict(complete.creates)
    refused = trace.steps[5]
    assert ("ch1", 400) == (refused.object, (refused.expect or {})["status"])
    assert "k1" == trace.steps[0].idempotency_key
    # A trace maps references to ids, so it replays on any seed; on the same seed the
    # replay makes the very same ids.
    assert replay(Trace.from_json(json.loads(json.dumps(trace.to_json())))).ok
    same_seed = Simulator(ManualClock(trace.start), trace.limits, seed=sim.seed)
    outcome = replay(Trace.from_json(json.loads(json.dumps(trace.to_json()))), same_seed)
    assert outcome.ok, outcome.mismatches
    assert outcome.ids["ch1"] == done["chargeId"]  # the same seed: the same ids
