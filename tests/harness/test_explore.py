"""apfsm.explore: every reachable state × operation × time bucket checked against the
declarations."""

from __future__ import annotations

from datetime import timedelta

import pytest

import apfsm
from apfsm import LIFECYCLES, Limits, explore
from apfsm._harness.exploration import _GUARD_ANCHORS, CREATORS, _declared_transitions
from apfsm._spec import GUARDS
from tests.simhelpers import forgetful_cancel


@pytest.fixture(scope="module")
def result() -> apfsm.ExploreResult:
    return explore()


def test_everything_conforms(result: apfsm.ExploreResult) -> None:
    assert [] == [str(f) for f in result.failures]
    assert result.ok
    assert result.probes > 150


def test_every_state_and_reason_is_reached(result: apfsm.ExploreResult) -> None:
    reached = {(t, where.split("/")[0]) for t, where, *_ in result.matrix}
    expected = {(t, s) for t, lc in LIFECYCLES.items() for s in lc.state_names()}
    assert expected == reached
    reasons = {where for t, where, *_ in result.matrix if t == "CheckoutSession"}
    assert {
        "Open",
        "Completed",
        "Canceled/BuyerCanceled",
        "Canceled/Declined",
        "Canceled/AmazonCanceled",
        "Canceled/Expired",
    } == reasons


def test_every_operation_is_probed_in_every_state(result: apfsm.ExploreResult) -> None:
    for object_type, lifecycle in LIFECYCLES.items():
        for state in lifecycle.state_names():
            probed = {
                op
                for t, where, op, _ in result.matrix
                if t == object_type and where.split("/")[0] == state
            }
            assert set(lifecycle.operations) == probed, (object_type, state)


def test_time_buckets_straddle_every_deadline(result: apfsm.ExploreResult) -> None:
    buckets = {
        b
        for t, where, op, b in result.matrix
        if (t, where, op) == ("Charge", "Authorized", "capture_charge")
    }
    assert {"now", "expire−1 s", "expire", "expire+1 s"} <= buckets
    assert {
        "async_capture_after 7 d−1 s",
        "async_capture_after 7 d",
        "async_capture_after 7 d+1 s",
    } <= buckets
    capture = {
        b: v
        for (t, w, op, b), v in result.matrix.items()
        if (t, w, op) == ("Charge", "Authorized", "capture_charge")
    }
    assert "→ Captured" == capture["async_capture_after 7 d"]
    assert "→ CaptureInitiated" == capture["async_capture_after 7 d+1 s"]
    assert "InvalidChargeStatus" == capture["expire"]


def test_a_shortest_path_per_declared_transition(result: apfsm.ExploreResult) -> None:
    declared = {
        (lc.object_type, source, trigger, dest)
        for lc in LIFECYCLES.values()
        for trigger, sources, dest in _declared_transitions(lc)
        for source in sources
    }
    assert declared == set(result.paths) | set(result.unreached)
    # With SPEC's limits a pending authorization resolves after 30 s, long before its
    # 24-hour timeout; explore's Update Dispute body reports Resolved (the first of
    # DISPUTE_UPDATE_STATES), so its Closed branch is left to tests/sim/test_disputes.py.
    assert (
        ("Charge", "AuthorizationInitiated", "pending_timeout", "Declined"),
        ("Dispute", "ActionRequired", "update_dispute", "Closed"),
        ("Dispute", "Resolved", "update_dispute", "Closed"),
        ("Dispute", "UnderReview", "update_dispute", "Closed"),
    ) == result.unreached
    assert ("create_charge", "capture_charge [sync_capture]") == result.paths[
        "Charge", "Authorized", "capture_charge", "Captured"
    ]


def test_other_limits_reach_the_rest() -> None:
    slow = explore(Limits(async_outcome_delay=timedelta(days=2)), object_types=["Charge"])
    assert slow.ok, slow.summary()
    assert ("Charge", "AuthorizationInitiated", "pending_timeout", "Declined") in slow.paths


def test_explore_finds_a_simulator_that_breaks_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    forgetful_cancel(monkeypatch)  # answers, but the charge stays Authorized
    broken = explore(object_types=["Charge"])
    assert not broken.ok
    assert any(
        f.operation == "cancel_charge" and f.expected == "→ Canceled" for f in broken.failures
    )
    assert "cancel_charge" in broken.summary()


def test_progress_and_misuse() -> None:
    calls: list[tuple[int, int, str]] = []
    explore(
        object_types=["Refund"],
        progress=lambda done, total, label: calls.append((done, total, label)),
    )
    assert [(1, 1, "Refund")] == calls
    with pytest.raises(ValueError, match="unknown object type 'Order'"):
        explore(object_types=["Order"])


def test_every_creation_and_guard_has_a_driver() -> None:
    for lifecycle in LIFECYCLES.values():
        for creation in lifecycle.creations:
            assert (creation.operation, creation.guard) in CREATORS
    for guard in GUARDS.values():
        for limit in guard.limits:
            assert limit in _GUARD_ANCHORS
