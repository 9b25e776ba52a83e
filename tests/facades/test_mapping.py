"""check_mapping: PPRO's facades against Amazon's declared lifecycles.

Facts about PPRO are from its developer hub (apfsm/facades/_ppro.py cites each page):
https://developerhub.ppro.com/global-api/docs/api-object-payment-charge (the lifecycle),
https://developerhub.ppro.com/global-api/docs/amazon-pay (limits),
https://developerhub.ppro.com/global-api/docs/api-object-payment-agreement.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from apfsm import LIFECYCLES, Limits
from apfsm._spec import CODE_ADVICE, STATE_ADVICE
from apfsm.facades import (
    ACTIONS,
    FACADES,
    PPRO_PAYMENT_AGREEMENT,
    PPRO_PAYMENT_CHARGE,
    PPRO_REFUND,
    Facade,
    FacadeStep,
    Maps,
    Situation,
    action_for,
    amazon_graph,
    check_mapping,
)

CHARGE = PPRO_PAYMENT_CHARGE
AGREEMENT = PPRO_PAYMENT_AGREEMENT


def _with_mappings(facade: Facade, *changed: Maps) -> Facade:
    """``facade`` with ``changed`` taking precedence over its own mappings."""
    return attrs.evolve(facade, mappings=(*changed, *facade.mappings))


# ---------------------------------------------------------------------------------------
# Amazon's side is derived from the declarations
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("facade", FACADES.values(), ids=list(FACADES))
def test_every_covered_state_is_a_situation(facade: Facade) -> None:
    graph = amazon_graph(facade.amazon, facade.entries)
    for object_type in facade.amazon:
        lifecycle = LIFECYCLES[object_type]
        expected = set(lifecycle.state_names())
        if object_type == "CheckoutSession":
            # Completing the session continues into the object it creates.
            expected.discard("Completed")
        assert expected == {s.state for s in graph.situations if s.object_type == object_type}
        for state in lifecycle.states:
            found = {s.reason for s in graph.situations if s.state == state.name}
            if state.name in expected:
                assert set(state.reasons) <= found, state.name


def test_charge_paths_follow_the_payment_from_checkout_into_the_charge() -> None:
    graph = amazon_graph(CHARGE.amazon, CHARGE.entries)
    paths = list(graph.paths())
    assert 79 == len(paths) == check_mapping(CHARGE).paths
    captured = (
        Situation("CheckoutSession", "Open"),
        Situation("Charge", "Authorized"),
        Situation("Charge", "Captured"),
    )
    assert captured in paths  # complete_checkout_session, then capture_charge
    terminal = {s.name for lc in LIFECYCLES.values() for s in lc.states if s.terminal}
    for path in paths:
        assert path[-1].state in terminal, path


def test_every_situation_has_a_merchant_action() -> None:
    for facade in FACADES.values():
        for situation in amazon_graph(facade.amazon, facade.entries).situations:
            action = action_for(situation)
            key = (situation.object_type, situation.state, situation.reason or "")
            if key in STATE_ADVICE:  # the decline guidance's, written once in _spec
                assert STATE_ADVICE[key].action == action.what
            elif situation.state == "Declined":
                assert situation.reason is not None
                assert CODE_ADVICE[situation.reason].resolution == action.resolution
            else:
                assert ACTIONS[(situation.object_type, situation.state)] == action
    with pytest.raises(KeyError, match=r"Refund\.Pending"):
        action_for(Situation("Refund", "Pending"))


# ---------------------------------------------------------------------------------------
# What the shipped PPRO declarations show
# ---------------------------------------------------------------------------------------


def test_ppro_refund_is_legal_keeps_pending_apart_and_merges_the_two_declines() -> None:
    report = check_mapping(PPRO_REFUND)
    assert report.legal, report
    assert report.paths == 3
    shown = {
        (s.state, s.reason): PPRO_REFUND.maps(s.object_type, s.state, s.reason)
        for s in amazon_graph(PPRO_REFUND.amazon, PPRO_REFUND.entries).situations
    }
    assert {k: m.facade_state for k, m in shown.items() if m} == {
        ("RefundInitiated", None): "REFUND_FUNDS_WAITING",
        ("Refunded", None): "REFUND_FUNDS_SENT",
        ("Declined", "AmazonRejected"): "REFUND_FUNDS_REJECTED",
        ("Declined", "ProcessingFailure"): "REFUND_FUNDS_REJECTED",
    }
    # A declined refund never looks like one still pending, nor like a sent one ...
    assert not PPRO_REFUND.state("REFUND_FUNDS_WAITING").terminal
    # ... but Amazon's "refund another way" and "request it again" are one answer.
    (collapse,) = report.collapses
    assert collapse.facade_state == "REFUND_FUNDS_REJECTED"
    assert collapse.detail is None
    assert {s.reason for s, _ in collapse.merged} == {"AmazonRejected", "ProcessingFailure"}


def test_a_declined_refund_shown_as_waiting_is_illegal_and_a_collapse() -> None:
    # A planted mistake: Amazon's decline shown as still waiting for the funds.
    wrong = _with_mappings(
        PPRO_REFUND, Maps("Refund", "Declined", "REFUND_FUNDS_WAITING", ("AmazonRejected",))
    )
    report = check_mapping(wrong)
    assert any(c.facade_state == "REFUND_FUNDS_WAITING" for c in report.collapses)
    # Shown as sent, a declined refund would hide the refund the merchant still owes.
    sent = _with_mappings(PPRO_REFUND, Maps("Refund", "Declined", "REFUND_FUNDS_SENT"))
    assert any(c.facade_state == "REFUND_FUNDS_SENT" for c in check_mapping(sent).collapses)


def test_ppro_charge_cannot_show_a_pending_authorization_being_canceled() -> None:
    # PPRO: "AUTHORIZATION_ASYNC ... can move to CAPTURE_PENDING, CAPTURE_PROCESSING or
    # FAILED" — no VOIDED; Amazon cancels a pending charge (cancel_charge, Amazon, the
    # buyer, the permission closing; docs/charge.md).
    report = check_mapping(CHARGE)
    assert () == report.unmapped
    assert not report.legal
    steps = {(s.via, s.facade_tail, s.facade_head) for s in report.illegal}
    assert {
        ("cancel_charge", "AUTHORIZATION_ASYNC", "VOIDED"),
        ("update_charge", "AUTHORIZATION_ASYNC", "VOIDED"),
        ("amazon_cancel", "AUTHORIZATION_ASYNC", "VOIDED"),
        ("buyer_cancel", "AUTHORIZATION_ASYNC", "VOIDED"),
        ("permission_canceled", "AUTHORIZATION_ASYNC", "VOIDED"),
    } == steps
    for step in report.illegal:
        assert Situation("Charge", "AuthorizationInitiated") == step.tail
        # The report names a whole Amazon path taking the step, from its start.
        assert step.tail in step.path
        assert step.head == step.path[step.path.index(step.tail) + 1]


def test_ppro_charge_collapses() -> None:
    report = check_mapping(CHARGE)
    by_state = {c.facade_state: c for c in report.collapses}
    assert {"FAILED", "CAPTURE_PENDING", "CAPTURE_PROCESSING", "CAPTURED", "VOIDED"} == set(
        by_state
    )
    failed = by_state["FAILED"]
    # A soft decline (retry), a hard one (the buyer must choose another method), a pending
    # authorization that timed out (the merchant authorizes again): one FAILED.
    assert {"retry", "buyer", "merchant"} == {a.resolution for a in failed.actions}
    merged = {str(s) for s, _ in failed.merged}
    assert {"Charge.Declined/SoftDeclined", "Charge.Declined/HardDeclined"} <= merged
    assert "CheckoutSession.Canceled/Declined" in merged
    # Amazon's StopShipmentAtypicalAuth ("do not ship") has no PPRO counterpart found.
    captured = {str(s) for s, _ in by_state["CAPTURED"].merged}
    assert {"Charge.Captured", "Charge.Captured/StopShipmentAtypicalAuth"} == captured
    assert ["proceed", "merchant"] == [a.resolution for a in by_state["CAPTURED"].actions]


def test_ppro_discards_after_one_hour_amazon_keeps_the_session_open_a_day() -> None:
    (early,) = check_mapping(CHARGE).early_timeouts
    assert ("authentication_timeout", timedelta(hours=1)) == (early.step, early.facade_after)
    assert ("checkout_session_ttl", timedelta(hours=24)) == (
        early.amazon_limit,
        early.amazon_after,
    )
    # Against an Amazon that gave up first, nothing is early.
    assert (
        ()
        == check_mapping(
            CHARGE, limits=Limits(checkout_session_ttl=timedelta(minutes=59))
        ).early_timeouts
    )


def test_ppro_agreement_is_legal_but_hides_a_non_chargeable_permission() -> None:
    report = check_mapping(AGREEMENT)
    assert report.legal
    assert not report.ok
    assert 49 == report.paths
    by_state = {c.facade_state: c for c in report.collapses}
    assert {"ACTIVE", "REVOKED", "FAILED"} == set(by_state)
    active = {str(s) for s, _ in by_state["ACTIVE"].merged}
    assert {"ChargePermission.Chargeable", "ChargePermission.NonChargeable/MFAFailed"} <= active


def test_limits_are_ppros_published_ones() -> None:
    limits = CHARGE.limits
    assert ("USD", Decimal("0.50"), Decimal("20000.00")) == (
        limits.currency,
        limits.min_amount,
        limits.max_amount,
    )
    assert not limits.amount_allowed(Decimal("0.49"))
    assert limits.amount_allowed(Decimal("0.50"))
    assert limits.amount_allowed(Decimal("20000.00"))
    assert not limits.amount_allowed(Decimal("20000.01"))
    with pytest.raises(TypeError, match="Decimal"):
        limits.amount_allowed(0.5)  # type: ignore[arg-type]
    assert ("full", "partial", "multiple") == limits.refunds
    # The two versions of PPRO's page disagree on separate captures: declared as unknown.
    assert limits.separate_captures is None
    assert any("separate captures" in note for note in limits.notes)
    assert timedelta(hours=1) == limits.authentication_timeout


# ---------------------------------------------------------------------------------------
# Planted breakages: the check must catch each
# ---------------------------------------------------------------------------------------


def test_a_mapping_onto_an_earlier_state_is_illegal() -> None:
    broken = _with_mappings(CHARGE, Maps("Charge", "Captured", "AUTHENTICATION_PENDING"))
    report = check_mapping(broken)
    illegal = {(s.via, s.facade_tail, s.facade_head) for s in report.illegal}
    assert ("capture_charge", "CAPTURE_PENDING", "AUTHENTICATION_PENDING") in illegal
    assert ("capture_completed", "CAPTURE_PROCESSING", "AUTHENTICATION_PENDING") in illegal


def test_a_start_the_facade_cannot_start_in_is_illegal() -> None:
    broken = _with_mappings(CHARGE, Maps("CheckoutSession", "Open", "CAPTURED"))
    starts = [s for s in check_mapping(broken).illegal if s.facade_tail is None]
    assert [] == starts  # CAPTURED is reachable from AUTHORIZATION_PROCESSING (transient)
    no_start = attrs.evolve(
        broken, steps=tuple(s for s in CHARGE.steps if s.name not in ("auto_capture",))
    )
    starts = [s for s in check_mapping(no_start).illegal if s.facade_tail is None]
    # Neither a checkout shown as CAPTURED nor a charge created captured (create_charge
    # with captureNow) can start without a step from AUTHORIZATION_PROCESSING to CAPTURED.
    assert [Situation("CheckoutSession", "Open"), Situation("Charge", "Captured")] == [
        s.head for s in starts
    ]


def test_a_missing_mapping_is_reported() -> None:
    broken = attrs.evolve(
        CHARGE, mappings=tuple(m for m in CHARGE.mappings if m.state != "CaptureInitiated")
    )
    report = check_mapping(broken)
    assert not report.legal
    assert {
        Situation("Charge", "CaptureInitiated"),
        Situation("Charge", "CaptureInitiated", "StopShipmentAtypicalAuth"),
    } == {u.situation for u in report.unmapped}


def test_a_decline_and_a_timeout_both_discarded_is_a_collapse() -> None:
    # The example: a checkout declined and one that timed out both DISCARDED
    # with the same discard type.
    merged = _with_mappings(
        CHARGE,
        Maps(
            "CheckoutSession",
            "Canceled",
            "DISCARDED",
            ("Declined",),
            detail="type AUTHENTICATION_TIMEOUT",
        ),
    )
    assert "DISCARDED" not in {c.facade_state for c in check_mapping(CHARGE).collapses}
    (collapse,) = [c for c in check_mapping(merged).collapses if c.facade_state == "DISCARDED"]
    assert "type AUTHENTICATION_TIMEOUT" == collapse.detail
    merged_situations = [s for s, _ in collapse.merged]
    assert [
        Situation("CheckoutSession", "Canceled", "Declined"),
        Situation("CheckoutSession", "Canceled", "Expired"),
    ] == merged_situations
    # Both are the buyer's to resolve; only after a decline is the buyer told to choose
    # another payment method.
    assert [None, None] != [a.tell_buyer for a in collapse.actions]


def test_a_facade_that_tells_everything_apart_is_ok() -> None:
    # Every situation told apart by its reason, a void from AUTHORIZATION_ASYNC, no early
    # timeout: nothing left to report — the check can pass.
    graph = amazon_graph(CHARGE.amazon, CHARGE.entries)
    exact = []
    for s in graph.situations:
        shown = CHARGE.maps(s.object_type, s.state, s.reason)
        assert shown is not None
        reasons = (s.reason,) if s.reason else ()
        exact.append(Maps(s.object_type, s.state, shown.facade_state, reasons, f"{s}"))
    void = FacadeStep("void", ("AUTHORIZATION_ASYNC",), "VOID_PROCESSING", "merchant", "")
    ideal = attrs.evolve(CHARGE, mappings=tuple(exact), steps=(*CHARGE.steps, void), timeouts=())
    report = check_mapping(ideal)
    assert report.ok, report


@pytest.mark.parametrize("facade", FACADES.values(), ids=list(FACADES))
def test_a_facade_names_only_its_own_states(facade: Facade) -> None:
    names = {s.name for s in facade.states}
    for step in facade.steps:
        assert {*step.sources, step.dest} <= names, step.name
    assert {m.facade_state for m in facade.mappings} <= names
    assert {t.step for t in facade.timeouts} <= {s.name for s in facade.steps}
    assert any(s.initial for s in facade.states)
    assert all(source.url.startswith("https://developerhub.ppro.com/") for source in facade.sources)
    with pytest.raises(ValueError, match="is not a state of"):
        facade.state("PAID")
