"""The v1 order-reference flow: declarations, limits at their boundaries, check_v1.

Amazon Pay API reference (v1): order reference, authorization and capture "states and
reason codes" pages; "Mark the order reference as closed" (180 days → Closed/Expired);
"Capturing funds 30 days after authorization"; Stale: not confirmed within 3 hours;
TransactionTimedOut: the 24 h default timeout (addresses in apfsm.facades.V1_SOURCES).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apfsm.facades import (
    AUTHORIZATION,
    CAPTURE,
    ORDER_REFERENCE,
    REFUND,
    V1_LIFECYCLES,
    V1_SOURCES,
    OrderReferenceLimits,
    check_v1,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_the_declared_states_are_amazons() -> None:
    assert ("Draft", "Open", "Suspended", "Canceled", "Closed") == ORDER_REFERENCE.state_names()
    assert ("Pending", "Open", "Declined", "Closed") == AUTHORIZATION.state_names()
    assert ("Pending", "Declined", "Completed", "Closed") == CAPTURE.state_names()
    assert "Stale" in ORDER_REFERENCE.state("Canceled").reasons
    assert ("Pending", "Declined", "Completed") == REFUND.state_names()
    assert ["OrderReference", "Authorization", "Capture", "Refund"] == list(V1_LIFECYCLES)
    assert all(source.url.startswith("https://") for source in V1_SOURCES)


def test_the_two_step_flow() -> None:
    assert "Open" == check_v1("OrderReference", "Draft", "confirm_order_reference").next_state
    authorize = check_v1("OrderReference", "Open", "authorize")
    assert authorize.allowed
    assert "Open" == authorize.next_state
    assert ("synchronous", "Authorization.Open") in authorize.outcomes
    capture = check_v1("Authorization", "Open", "capture")
    assert ("Closed", "MaxCapturesProcessed") == (capture.next_state, capture.next_reason)
    assert ("synchronous", "Capture.Completed") in capture.outcomes
    refund = check_v1("Capture", "Completed", "refund")
    assert refund.allowed
    assert (("otherwise", "Refund.Pending"),) == refund.outcomes  # always Pending at first
    close = check_v1("OrderReference", "Open", "close_order_reference")
    assert ("Closed", "SellerClosed") == (close.next_state, close.next_reason)


def test_the_one_step_capture() -> None:
    # Authorize with CaptureNow: the authorization is closed, its capture made with it.
    outcomes = check_v1("OrderReference", "Open", "authorize").outcomes
    assert ("capture_now", "Authorization.Closed") in outcomes
    assert ("capture_now", "Capture.Completed") in outcomes


@pytest.mark.parametrize(
    ("object_type", "state", "operation", "code"),
    [
        ("OrderReference", "Draft", "authorize", "InvalidOrderReferenceStatus"),
        ("OrderReference", "Suspended", "authorize", "InvalidOrderReferenceStatus"),
        ("OrderReference", "Closed", "authorize", "InvalidOrderReferenceStatus"),
        ("OrderReference", "Open", "confirm_order_reference", "InvalidOrderReferenceStatus"),
        ("OrderReference", "Canceled", "close_order_reference", "InvalidOrderReferenceStatus"),
        ("Authorization", "Pending", "capture", "InvalidAuthorizationStatus"),
        ("Authorization", "Declined", "capture", "InvalidAuthorizationStatus"),
        ("Capture", "Pending", "refund", "CaptureNotRefundable"),
        ("Capture", "Closed", "refund", "CaptureNotRefundable"),
    ],
)
def test_refusals(object_type: str, state: str, operation: str, code: str) -> None:
    answer = check_v1(object_type, state, operation)
    assert (False, code, None) == (answer.allowed, answer.refusal, answer.next_state)


def test_a_suspended_or_closed_order_still_captures_and_refunds() -> None:
    # The order reference's state does not refuse a capture of an Open authorization.
    assert check_v1("OrderReference", "Suspended", "close_order_reference").allowed
    assert check_v1("Authorization", "Open", "capture").allowed


def test_cancel_only_before_anything_was_captured() -> None:
    assert check_v1("OrderReference", "Open", "cancel_order_reference").allowed
    refused = check_v1("OrderReference", "Open", "cancel_order_reference", captured=True)
    assert "InvalidOrderReferenceStatus" == refused.refusal


@pytest.mark.parametrize(
    ("object_type", "state", "operation", "limit", "expired", "reason"),
    [
        ("OrderReference", "Draft", "confirm_order_reference", "draft_ttl", "Canceled", "Stale"),
        ("OrderReference", "Open", "authorize", "order_reference_ttl", "Closed", "Expired"),
        ("Authorization", "Open", "capture", "authorization_ttl", "Closed", "ExpiredUnused"),
        (
            "Authorization",
            "Pending",
            "close_authorization",
            "transaction_timeout",
            "Declined",
            "TransactionTimedOut",
        ),
    ],
)
def test_limits_at_their_boundary(
    object_type: str, state: str, operation: str, limit: str, expired: str, reason: str
) -> None:
    after = getattr(OrderReferenceLimits(), limit)
    before = check_v1(object_type, state, operation, since=T0, at=T0 + after - SECOND)
    assert (True, state) == (before.allowed, before.state)
    for at in (T0 + after, T0 + after + SECOND):  # passed at the deadline (as SPEC §2)
        answer = check_v1(object_type, state, operation, since=T0, at=at)
        assert (False, expired, reason) == (answer.allowed, answer.state, answer.reason)
    strict = OrderReferenceLimits(ttl_passed_at_deadline=False)
    assert check_v1(object_type, state, operation, since=T0, at=T0 + after, limits=strict).allowed


def test_the_sandbox_authorization_lasts_two_days() -> None:
    sandbox = OrderReferenceLimits(authorization_ttl=timedelta(days=2))
    answer = check_v1(
        "Authorization", "Open", "capture", since=T0, at=T0 + timedelta(days=2), limits=sandbox
    )
    assert "ExpiredUnused" == answer.reason


def test_a_capture_after_seven_days_is_allowed_with_a_warning() -> None:
    week = timedelta(days=7)
    on_time = check_v1("Authorization", "Open", "capture", since=T0, at=T0 + week)
    assert (True, ()) == (on_time.allowed, on_time.warnings)
    late = check_v1("Authorization", "Open", "capture", since=T0, at=T0 + week + SECOND)
    assert late.allowed
    assert ("Amazon recommends capturing within 7 d of the authorization",) == late.warnings


def test_misuse_names_the_bad_value() -> None:
    with pytest.raises(
        ValueError, match=r"'Dispute'.*OrderReference, Authorization, Capture, Refund"
    ):
        check_v1("Dispute", "Open", "refund")
    with pytest.raises(ValueError, match="'Paid' is not a OrderReference state"):
        check_v1("OrderReference", "Paid", "authorize")
    with pytest.raises(ValueError, match="'capture' is not a v1 OrderReference operation"):
        check_v1("OrderReference", "Open", "capture")
    with pytest.raises(ValueError, match="timezone-aware"):
        check_v1("OrderReference", "Open", "authorize", since=datetime(2026, 1, 1), at=T0)


# -- amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "object_type", "state", "total", "amount", "already", "allowed"),
    [
        # A capture may not exceed its authorization: at it, one cent over.
        ("capture", "Authorization", "Open", "100.00", "100.00", "0", True),
        ("capture", "Authorization", "Open", "100.00", "100.01", "0", False),
        ("capture", "Authorization", "Open", "100.00", "40.00", "60.00", True),
        ("capture", "Authorization", "Open", "100.00", "40.01", "60.00", False),
        # 15% above a 100.00 total (less than $75): 115.00 allowed, 115.01 not.
        ("refund", "Capture", "Completed", "100.00", "115.00", "0", True),
        ("refund", "Capture", "Completed", "100.00", "115.01", "0", False),
        ("refund", "Capture", "Completed", "100.00", "15.00", "100.00", True),
        ("refund", "Capture", "Completed", "100.00", "15.01", "100.00", False),
        # $75 above a 1,000.00 total (less than 15%): 1,075.00 allowed, 1,075.01 not.
        ("authorize", "OrderReference", "Open", "1000.00", "1075.00", "0", True),
        ("authorize", "OrderReference", "Open", "1000.00", "1075.01", "0", False),
        ("authorize", "OrderReference", "Open", "1000.00", "0.00", "0", False),
    ],
)
def test_amounts_at_their_boundaries(
    operation: str,
    object_type: str,
    state: str,
    total: str,
    amount: str,
    already: str,
    allowed: bool,
) -> None:
    answer = check_v1(
        object_type,
        state,
        operation,
        amount=Decimal(amount),
        total=Decimal(total),
        already=Decimal(already),
    )
    assert allowed == answer.allowed
    assert (None if allowed else "TransactionAmountExceeded") == answer.refusal


def test_amount_misuse_is_named() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        check_v1("Authorization", "Open", "capture", amount=10.0, total=Decimal(10))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total"):
        check_v1("Authorization", "Open", "capture", amount=Decimal(10))
