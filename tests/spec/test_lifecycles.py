"""Definition checks on the declarations: reachability, terminal states, expiry edges,
totality, and that every name the declarations use exists where it must."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

import pytest

from apfsm import (
    CHECKS,
    DEADLINES,
    ERRORS,
    GUARDS,
    LIFECYCLES,
    OBJECT_TYPES,
    OPERATIONS,
    Allow,
    Creation,
    Event,
    Limits,
    Timer,
)
from apfsm._decide.machines import COMPILED, Allowed, Refusal
from apfsm._decide.rules import CHECK_FUNCTIONS, DEADLINE_FUNCTIONS, GUARD_FUNCTIONS
from apfsm._spec import DELETED, REPORT, SAME, Lifecycle, render_label

LIFECYCLE_LIST = [LIFECYCLES[t] for t in OBJECT_TYPES]
ids = [lc.object_type for lc in LIFECYCLE_LIST]


def successors(lifecycle: Lifecycle) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {s.name: set() for s in lifecycle.states}
    decls: tuple[Allow | Event | Timer, ...] = (
        *lifecycle.allows,
        *lifecycle.events,
        *lifecycle.timers,
    )
    for decl in decls:
        for source in decl.sources:
            out[source].add(source if decl.dest == SAME else decl.dest)
    return out


def test_object_types_and_operations_follow_spec_section_1() -> None:
    # The Buyer (Get Buyer, SPEC §11: developer.amazon.com/docs/amazon-pay-api-v2/buyer.html)
    # The Dispute (SPEC §11, dispute.html; docs/dispute.md)
    assert (
        "CheckoutSession",
        "ChargePermission",
        "Charge",
        "Refund",
        "Buyer",
        "Dispute",
    ) == OBJECT_TYPES
    routes = {name: (op.method, op.path) for name, op in OPERATIONS.items()}
    assert {
        "create_checkout_session": ("POST", "/checkoutSessions"),
        "get_checkout_session": ("GET", "/checkoutSessions/{checkoutSessionId}"),
        "update_checkout_session": ("PATCH", "/checkoutSessions/{checkoutSessionId}"),
        "complete_checkout_session": ("POST", "/checkoutSessions/{checkoutSessionId}/complete"),
        # Buy Now / mobile: verify-and-complete-checkout.html; Node SDK finalizeCheckoutSession
        "finalize_checkout_session": ("POST", "/checkoutSessions/{checkoutSessionId}/finalize"),
        "get_charge_permission": ("GET", "/chargePermissions/{chargePermissionId}"),
        "update_charge_permission": ("PATCH", "/chargePermissions/{chargePermissionId}"),
        "close_charge_permission": ("DELETE", "/chargePermissions/{chargePermissionId}/close"),
        "create_charge": ("POST", "/charges"),
        # Amazon Pay API v2 "Delivery Tracker" (answers 200, not 201):
        # https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html
        "create_delivery_tracker": ("POST", "/deliveryTrackers"),
        "get_charge": ("GET", "/charges/{chargeId}"),
        # Update Charge: Node SDK amzn/amazon-pay-api-sdk-nodejs src/client.js updateCharge
        "update_charge": ("PATCH", "/charges/{chargeId}"),
        "capture_charge": ("POST", "/charges/{chargeId}/capture"),
        "cancel_charge": ("DELETE", "/charges/{chargeId}/cancel"),
        "create_refund": ("POST", "/refunds"),
        "get_refund": ("GET", "/refunds/{refundId}"),
        # Get Buyer: Node SDK src/client.js getBuyer, GET buyers/${buyerToken}
        "get_buyer": ("GET", "/buyers/{buyerToken}"),
        # Disputes and files: Node SDK src/client.js createDispute, getDispute,
        # updateDispute, contestDispute (constants.js DISPUTES 'disputes', CONTEXT
        # 'contest'), uploadFile (FILES 'files'); PHP SDK README the same routes.
        "create_dispute": ("POST", "/disputes"),
        "get_dispute": ("GET", "/disputes/{disputeId}"),
        "update_dispute": ("PATCH", "/disputes/{disputeId}"),
        "contest_dispute": ("POST", "/disputes/{disputeId}/contest"),
        "upload_file": ("POST", "/files"),
    } == routes
    # Creates answer 201, the rest 200 (SPEC §1).
    assert {n for n, op in OPERATIONS.items() if op.success_status == 201} == {
        "create_checkout_session",
        "create_charge",
        "create_refund",
    }


def test_states_and_reasons_follow_spec_sections_3_to_6() -> None:
    states = {
        lc.object_type: {s.name: set(s.reasons) for s in lc.states if not s.virtual}
        for lc in LIFECYCLE_LIST
    }
    assert {
        "Open": set(),
        "Completed": set(),
        "Canceled": {"BuyerCanceled", "Declined", "AmazonCanceled", "Expired"},
    } == states["CheckoutSession"]
    assert {"Chargeable", "NonChargeable", "Closed"} == set(states["ChargePermission"])
    assert {"MerchantClosed", "BuyerClosed", "AmazonClosed", "AmazonCanceled", "Expired"} == states[
        "ChargePermission"
    ]["Closed"]
    assert 8 == len(states["ChargePermission"]["NonChargeable"])
    assert {
        "AuthorizationInitiated",
        "Authorized",
        "CaptureInitiated",
        "Captured",
        "Canceled",
        "Declined",
    } == set(states["Charge"])
    assert {
        "ExpiredUnused",
        "MerchantCanceled",
        "ChargePermissionCanceled",
        "AmazonCanceled",
        "BuyerCanceled",
    } == states["Charge"]["Canceled"]
    assert {
        "SoftDeclined",
        "HardDeclined",
        "AmazonRejected",
        "ProcessingFailure",
        "TransactionTimedOut",
    } == states["Charge"]["Declined"]
    assert {
        "RefundInitiated": set(),
        "Refunded": set(),
        "Declined": {"AmazonRejected", "ProcessingFailure"},
    } == states["Refund"]
    terminal = {
        lc.object_type: {s.name for s in lc.states if s.terminal and not s.virtual}
        for lc in LIFECYCLE_LIST
    }
    assert {
        "CheckoutSession": {"Completed", "Canceled"},
        "ChargePermission": {"Closed"},
        "Charge": {"Captured", "Canceled", "Declined"},
        "Refund": {"Refunded", "Declined"},
        "Buyer": {"Active"},  # nothing but its token's expiry (deletion) leads out
        # Only Closed: "Closed represents the dispute is closed and immutable", Resolved
        # only "reached a logical resolution" (amzn/amazon-pay-api-sdk-java
        # src/com/amazon/pay/api/types/DisputeState.java).
        "Dispute": {"Closed"},
    } == terminal  # fmt: skip
    assert {"Active": set()} == states["Buyer"]
    # The PHP SDK's Constants/DisputeState.php and DisputeReasonCode.php, every reason placed
    # (docs/dispute.md). BuyerAdditionalEvidencesRequired is ActionRequired's: "ActionRequired
    # represents pending merchant or buyer action" (amzn/amazon-pay-api-sdk-java
    # src/com/amazon/pay/api/types/DisputeState.java), "BUYER_ADDITIONAL_EVIDENCES_REQUIRED
    # represents the buyer needs to provide additional evidence" (DisputeReasonCode.java).
    assert {
        "ActionRequired": {
            "MerchantResponseRequired",
            "MerchantAdditionalEvidencesRequired",
            "BuyerAdditionalEvidencesRequired",
        },
        "UnderReview": set(),
        "Resolved": {
            "MerchantAcceptedDispute",
            "MerchantResponseDeadlineExpired",
            "BuyerCancelled",
            "InvestigatorResolved",
            "AutoResolved",
        },
        "Closed": {"ChargebackFiled"},
    } == states["Dispute"]


@pytest.mark.parametrize("lifecycle", LIFECYCLE_LIST, ids=ids)
def test_every_state_is_reachable_from_an_initial_state(lifecycle: Lifecycle) -> None:
    graph = successors(lifecycle)
    seen = {s.name for s in lifecycle.states if s.initial}
    queue = deque(seen)
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert {s.name for s in lifecycle.states} == seen


@pytest.mark.parametrize("lifecycle", LIFECYCLE_LIST, ids=ids)
def test_terminal_states_have_no_exits_and_others_have_some(lifecycle: Lifecycle) -> None:
    graph = successors(lifecycle)
    for state in lifecycle.states:
        exits = {s for s in graph[state.name] if s not in (state.name, DELETED)}
        if state.terminal:
            assert set() == exits, state.name
        else:
            assert exits, f"{state.name} is not terminal but nothing leads out of it"


def test_every_time_limit_has_its_edge() -> None:
    limits = Limits()
    ttl_fields = set(limits.durations()) | set(limits.month_limits())
    by_timers = {
        name
        for lc in LIFECYCLE_LIST
        for timer in lc.timers
        for name in DEADLINES[timer.deadline].limits
    }
    by_guards = {
        name
        for lc in LIFECYCLE_LIST
        for a in lc.allows
        if a.guard
        for name in GUARDS[a.guard].limits
    }
    by_events = {e.delay for lc in LIFECYCLE_LIST for e in lc.events if e.delay}
    # Time-to-live limits expire something (a timer); the 7-day rule picks a branch (a
    # guard); the simulated processing delay resolves asynchronous events.
    assert {
        "checkout_session_ttl",
        "checkout_session_retention",
        "pending_authorization_ttl",
        "authorization_ttl",
        "one_time_permission_ttl",
        "extended_permission_months",
        "recurring_permission_months",
        "buyer_token_ttl",  # the buyer token's 24 h (amazonpay-onboarding.com object/buyer)
        # The Dispute Window (the SDKs' contestDispute: 11 days Chargeback, 7 days A-Z)
        "chargeback_response_window",
        "claim_response_window",
    } == by_timers
    assert {"async_capture_after"} == by_guards
    assert {"async_outcome_delay"} == by_events
    # buyer_details_retention changes no state: it shapes the permission's JSON (SPEC §11,
    # _sim/records.py; tests/sim/test_response_shapes.py probes it at L - 1 s, L, L + 1 s).
    # file_upload_url_ttl only prints Upload File's urlExpirationTimestamp
    # (tests/sim/test_disputes.py).
    by_shapes = {"buyer_details_retention", "file_upload_url_ttl"}
    # The Reports API's (docs/reports.md): the report's processing delay finishes it (an
    # event of REPORT, which is not one of LIFECYCLES); its retention deletes it
    # (tests/sim/test_reports.py probes both at L - 1 s and L).
    by_reports = {e.delay for e in REPORT.events if e.delay} | {"report_retention"}
    assert {"report_processing_time", "report_retention"} == by_reports
    assert ttl_fields == by_timers | by_guards | by_events | by_shapes | by_reports


@pytest.mark.parametrize("lifecycle", LIFECYCLE_LIST, ids=ids)
def test_totality_every_state_and_operation_has_one_defined_outcome(lifecycle: Lifecycle) -> None:
    compiled = COMPILED[lifecycle.object_type]
    for state in lifecycle.state_names(virtual=True):
        for op in lifecycle.operations:
            allowed = [a for a in lifecycle.allows if a.operation == op and state in a.sources]
            refused = [r for r in lifecycle.refusals if r.operation == op and state in r.sources]
            assert bool(allowed) != bool(refused), (op, state, allowed, refused)
            assert len(refused) <= 1
            rule = compiled.rules[op, state]
            assert isinstance(rule, Allowed if allowed else Refusal)


def test_every_operation_acts_on_a_declared_object_type() -> None:
    covered = {op for lc in LIFECYCLE_LIST for op in lc.operations}
    # Upload File acts on no object: it answers a File, which has no lifecycle.
    assert set(OPERATIONS) - {"create_checkout_session", "upload_file"} == covered
    assert OPERATIONS["create_checkout_session"].target is None
    assert OPERATIONS["upload_file"].target is None


def test_names_resolve_to_implementations_and_nothing_is_unused() -> None:
    assert set(GUARDS) == set(GUARD_FUNCTIONS)
    assert set(DEADLINES) == set(DEADLINE_FUNCTIONS)
    assert set(CHECKS) == set(CHECK_FUNCTIONS)
    guarded: list[Allow | Creation] = []
    for lc in LIFECYCLE_LIST:
        guarded += [*lc.allows, *lc.creations]
    used_guards = {d.guard for d in guarded if d.guard}
    assert set(GUARDS) == used_guards
    assert set(DEADLINES) == {t.deadline for lc in LIFECYCLE_LIST for t in lc.timers}
    assert set(CHECKS) == {c for op in OPERATIONS.values() for c in op.checks}
    for guard in GUARDS.values():
        if guard.complement is not None:
            assert guard.complement in GUARDS


def test_codes_and_reasons_are_consistent() -> None:
    for lc in LIFECYCLE_LIST:
        reasons = {s.name: set(s.reasons) for s in lc.states}
        for refusal in lc.refusals:
            assert refusal.code in ERRORS
            assert set(refusal.by_reason.values()) <= set(ERRORS)
            for source in refusal.sources:
                assert set(refusal.by_reason) <= reasons[source]
        entered: tuple[Allow | Timer, ...] = (*lc.allows, *lc.timers)
        for decl in entered:
            if decl.reason is not None:
                assert decl.reason in reasons[decl.dest], decl
        for event in lc.events:
            dest = event.dest
            for reason in (event.reason, *event.reasons):
                if reason is not None and dest != SAME:
                    assert reason in reasons[dest], event
    for check in CHECKS.values():
        assert check.code in ERRORS


def test_labels_render_with_limits() -> None:
    assert "≤ 7 d after authorization" == render_label(GUARDS["sync_capture"].label, Limits())
    shorter = Limits(async_capture_after=timedelta(days=3))
    assert "> 3 d after authorization" == render_label(GUARDS["async_capture"].label, shorter)


def test_only_the_create_operations_have_no_id_in_their_path() -> None:
    without = {name for name, op in OPERATIONS.items() if not op.has_path_id}
    assert {
        "create_checkout_session",
        "create_charge",
        "create_delivery_tracker",
        "create_refund",
        "create_dispute",
        "upload_file",
    } == without
