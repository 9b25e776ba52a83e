"""The simulator: linked objects, lifecycles, time (SPEC §1–§6)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import apfsm
import apfsm._sim
from apfsm import ApiError, Limits, ManualClock, Simulator
from tests.simhelpers import DAY, T0, S, checkout, make_sim, price, reason, session_body, state


def test_defaults() -> None:
    sim = Simulator()
    assert isinstance(sim.clock, ManualClock)
    assert 0 == sim.now().microsecond
    assert abs(datetime.now(UTC) - sim.now()) < timedelta(seconds=5)
    assert Limits() == sim.limits
    assert [] == sim.notifications
    assert [] == sim.log
    assert "objects, 0 calls, 0 notifications" in repr(sim)


def test_constructor_misuse() -> None:
    with pytest.raises(TypeError, match="now"):
        Simulator(clock=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Limits"):
        Simulator(limits={})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="merchant_id"):
        Simulator(merchant_id="")


def test_a_whole_order_links_objects_with_the_observed_id_shapes() -> None:
    sim = make_sim()
    created = sim.request("create_checkout_session", None, session_body())
    assert 201 == created.status
    sid = created.body["checkoutSessionId"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", sid)
    assert ["BuyerNotAssociated"] == [c["constraintId"] for c in created.body["constraints"]]
    assert None is created.body["webCheckoutDetails"]["amazonPayRedirectUrl"]
    approved = sim.buyer_approve(sid)
    assert [] == approved["constraints"]
    assert sid in approved["webCheckoutDetails"]["amazonPayRedirectUrl"]
    completed = sim.request("complete_checkout_session", sid, {"chargeAmount": price("100.00")})
    assert 200 == completed.status
    assert "Completed" == state(completed.body)
    cp_id, charge_id = completed.body["chargePermissionId"], completed.body["chargeId"]
    assert re.fullmatch(r"S01-\d{7}-\d{7}", cp_id)
    # Amazon's shape: S01-5105180-3221187-C056351 (six digits after C; Create Refund
    # example, developer.amazon.com/docs/amazon-pay-api-v2/refund.html).
    assert re.fullmatch(re.escape(cp_id) + r"-C\d{6}", charge_id)
    permission = sim.get_charge_permission(cp_id)
    assert "Chargeable" == state(permission)
    assert {"amountLimit": price("100.00"), "amountBalance": price("0.00")} == permission["limits"]
    charge = sim.get_charge(charge_id)
    assert ("Authorized", cp_id) == (state(charge), charge["chargePermissionId"])
    assert "20260401T090000Z" == charge["expirationTimestamp"]  # authorization + 30 days
    captured = sim.capture_charge(charge_id, {"captureAmount": price("100.00")})
    assert ("Captured", price("100.00")) == (state(captured), captured["captureAmount"])
    # Captures reaching the one-time limit close the permission (SPEC §4).
    assert ("Closed", "AmazonClosed") == (
        state(sim.get_charge_permission(cp_id)),
        reason(sim.get_charge_permission(cp_id)),
    )
    refund = sim.request(
        "create_refund", None, {"chargeId": charge_id, "refundAmount": price("30.00")}
    )
    assert 201 == refund.status
    refund_id = refund.body["refundId"]
    assert re.fullmatch(re.escape(cp_id) + r"-R\d{6}", refund_id)  # ...-R022311 (Amazon)
    assert "RefundInitiated" == state(sim.get_refund(refund_id))
    sim.advance(timedelta(seconds=30))
    assert "Refunded" == state(sim.get_refund(refund_id))
    assert price("30.00") == sim.get_charge(charge_id)["refundedAmount"]
    assert [sid, cp_id, charge_id, refund_id] == sim.object_ids()
    assert [charge_id] == sim.object_ids("Charge")


@pytest.mark.parametrize(
    ("intent", "pending", "card", "status", "charge_state"),
    [
        ("Confirm", False, "1111", 200, None),
        ("Authorize", False, "1111", 200, "Authorized"),
        ("Authorize", True, "0701", 202, "AuthorizationInitiated"),
        ("AuthorizeWithCapture", False, "1111", 200, "Captured"),
    ],
)
def test_completion_by_payment_intent(
    intent: str, pending: bool, card: str, status: int, charge_state: str | None
) -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body(intent=intent, pending=pending))[
        "checkoutSessionId"
    ]
    sim.buyer_approve(sid, card=card)
    answer = sim.request("complete_checkout_session", sid, {"chargeAmount": price("100.00")})
    assert status == answer.status
    charge_id = answer.body["chargeId"]
    if charge_state is None:
        assert None is charge_id
    else:
        assert charge_state == state(sim.get_charge(charge_id))


def test_constraints_block_completion_until_the_buyer_returns() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body(result_url=False))["checkoutSessionId"]
    with pytest.raises(ApiError) as info:
        sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
    assert ("InvalidCheckoutSessionStatus", 422) == (info.value.reason_code, info.value.http_status)
    assert "CheckoutResultReturnUrlNotSet, BuyerNotAssociated" in info.value.message
    sim.update_checkout_session(
        sid, {"webCheckoutDetails": {"checkoutResultReturnUrl": "https://x/r"}}
    )
    sim.buyer_approve(sid)
    assert "Completed" == state(
        sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
    )


def test_recurring_sessions_need_a_frequency() -> None:
    sim = make_sim()
    body = session_body(kind="Recurring")
    del body["recurringMetadata"]
    session = sim.create_checkout_session(body)
    assert "RecurringFrequencyNotSet" in [c["constraintId"] for c in session["constraints"]]
    sid = session["checkoutSessionId"]
    sim.update_checkout_session(
        sid, {"recurringMetadata": {"frequency": {"unit": "Month", "value": "1"}}}
    )
    sim.buyer_approve(sid)
    completed = sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
    permission = sim.get_charge_permission(completed["chargePermissionId"])
    assert ("Recurring", None) == (permission["chargePermissionType"], permission["limits"])


def test_amount_and_currency_must_match_the_session() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.buyer_approve(sid)
    for body, code in (
        ({"chargeAmount": price("100.00", "EUR")}, "CurrencyMismatch"),
        ({"chargeAmount": price("99.99")}, "AmountMismatch"),
    ):
        with pytest.raises(ApiError) as info:
            sim.complete_checkout_session(sid, body)
        assert code == info.value.reason_code
    assert "Open" == state(sim.get_checkout_session(sid))


@pytest.mark.parametrize(
    ("delta", "expected"), [(DAY - S, "Open"), (DAY, "Canceled"), (DAY + S, "Canceled")]
)
def test_sessions_expire_after_24_hours(delta: timedelta, expected: str) -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.advance(delta)
    session = sim.get_checkout_session(sid)
    assert expected == state(session)
    if expected == "Canceled":
        assert ("Expired", "20260303T090000Z") == (
            reason(session),
            session["statusDetails"]["lastUpdatedTimestamp"],
        )


def test_sessions_are_deleted_after_30_days() -> None:
    sim = make_sim()
    done = checkout(sim)
    sid = done["checkoutSessionId"]
    sim.advance(timedelta(days=30) - S)
    assert "Completed" == state(sim.get_checkout_session(sid))
    sim.advance(S)
    calls: list[Callable[[], object]] = [
        lambda: sim.get_checkout_session(sid),
        lambda: sim.update_checkout_session(sid, {}),
        lambda: sim.complete_checkout_session(sid, {"chargeAmount": price("1.00")}),
    ]
    for call in calls:
        with pytest.raises(ApiError) as info:
            call()
        assert ("ResourceNotFound", 404) == (info.value.reason_code, info.value.http_status)
    # The permission it created lives on.
    assert "Chargeable" == state(sim.get_charge_permission(done["chargePermissionId"]))


def test_moving_a_shared_clock_directly_is_safe() -> None:
    clock = ManualClock(T0)
    sim = Simulator(clock)
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    clock.advance(timedelta(days=2))
    assert "Canceled" == state(sim.get_checkout_session(sid))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=7) - S, "Captured"),
        (timedelta(days=7), "Captured"),
        (timedelta(days=7) + S, "CaptureInitiated"),
    ],
)
def test_captures_more_than_7_days_after_authorization_are_asynchronous(
    delta: timedelta, expected: str
) -> None:
    sim = make_sim()
    charge_id = checkout(sim)["chargeId"]
    sim.advance(delta)
    assert expected == state(sim.capture_charge(charge_id, {"captureAmount": price("50.00")}))
    sim.advance(timedelta(seconds=29))
    assert expected == state(sim.get_charge(charge_id))
    sim.advance(S)
    assert "Captured" == state(sim.get_charge(charge_id))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(days=30) - S, "Authorized"),
        (timedelta(days=30), "Canceled"),
        (timedelta(days=30) + S, "Canceled"),
    ],
)
def test_authorizations_expire_after_30_days(delta: timedelta, expected: str) -> None:
    sim = make_sim()
    charge_id = checkout(sim)["chargeId"]
    sim.advance(delta)
    charge = sim.get_charge(charge_id)
    assert expected == state(charge)
    if expected == "Canceled":
        assert ("ExpiredUnused", "20260401T090000Z") == (
            reason(charge),
            charge["statusDetails"]["lastUpdatedTimestamp"],
        )
        with pytest.raises(ApiError, match="InvalidChargeStatus"):
            sim.capture_charge(charge_id, {"captureAmount": price("1.00")})


def test_pending_authorizations_resolve_after_30_seconds() -> None:
    sim = make_sim()
    ok = checkout(sim, card="0701", pending=True)["chargeId"]
    bad = checkout(sim, card="4354", pending=True)["chargeId"]
    assert ["AuthorizationInitiated"] * 2 == [state(sim.get_charge(i)) for i in (ok, bad)]
    sim.advance(timedelta(seconds=30))
    assert "Authorized" == state(sim.get_charge(ok))
    assert ("Declined", "HardDeclined") == (state(sim.get_charge(bad)), reason(sim.get_charge(bad)))


def test_unresolved_pending_authorizations_time_out_after_24_hours() -> None:
    sim = make_sim(limits=Limits(async_outcome_delay=timedelta(days=2)))
    charge_id = checkout(sim, card="0701", pending=True)["chargeId"]
    sim.advance(DAY - S)
    assert "AuthorizationInitiated" == state(sim.get_charge(charge_id))
    sim.advance(S)
    charge = sim.get_charge(charge_id)
    assert ("Declined", "TransactionTimedOut") == (state(charge), reason(charge))
    sim.advance(timedelta(days=3))  # the late outcome no longer applies
    assert "Declined" == state(sim.get_charge(charge_id))


@pytest.mark.parametrize(
    ("kind", "extend", "deadline"),
    [
        ("OneTime", False, T0 + timedelta(days=180)),
        ("OneTime", True, datetime(2027, 4, 2, 9, tzinfo=UTC)),
        ("Recurring", False, datetime(2027, 4, 2, 9, tzinfo=UTC)),
        ("PaymentMethodOnFile", False, datetime(2027, 4, 2, 9, tzinfo=UTC)),
    ],
)
def test_permissions_expire(kind: str, extend: bool, deadline: datetime) -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm", kind=kind, extend=extend)["chargePermissionId"]
    permission = sim.get_charge_permission(cp_id)
    assert apfsm.format_timestamp(deadline) == permission["expirationTimestamp"]
    sim.clock.move_to(deadline - S)  # type: ignore[attr-defined]
    assert "Chargeable" == state(sim.get_charge_permission(cp_id))
    sim.clock.move_to(deadline)  # type: ignore[attr-defined]
    permission = sim.get_charge_permission(cp_id)
    assert ("Closed", "Expired") == (state(permission), reason(permission))


def test_a_successful_charge_restarts_a_recurring_permission() -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    sim.advance(timedelta(days=300))
    sim.create_charge(
        {"chargePermissionId": cp_id, "chargeAmount": price("10.00"), "captureNow": True}
    )
    restarted = apfsm.add_months(T0 + timedelta(days=300), 13)
    assert (
        apfsm.format_timestamp(restarted) == sim.get_charge_permission(cp_id)["expirationTimestamp"]
    )
    sim.clock.move_to(apfsm.add_months(T0, 13) + S)  # type: ignore[attr-defined]
    assert "Chargeable" == state(sim.get_charge_permission(cp_id))
    sim.clock.move_to(restarted)  # type: ignore[attr-defined]
    assert "Closed" == state(sim.get_charge_permission(cp_id))


def test_restart_decision_is_configurable() -> None:
    sim = make_sim(limits=Limits(recurring_ttl_restarts_on_charge=False))
    cp_id = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    sim.advance(timedelta(days=300))
    sim.create_charge(
        {"chargePermissionId": cp_id, "chargeAmount": price("10.00"), "captureNow": True}
    )
    sim.clock.move_to(apfsm.add_months(T0, 13))  # type: ignore[attr-defined]
    assert "Closed" == state(sim.get_charge_permission(cp_id))


def test_strict_boundary_decision_is_honoured() -> None:
    sim = make_sim(limits=Limits(ttl_passed_at_deadline=False))
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.advance(DAY)
    assert "Open" == state(sim.get_checkout_session(sid))
    sim.advance(S)
    assert "Canceled" == state(sim.get_checkout_session(sid))


def test_close_with_and_without_canceling_pending_charges() -> None:
    sim = make_sim()
    keep = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    charge = sim.create_charge({"chargePermissionId": keep, "chargeAmount": price("10.00")})
    sim.close_charge_permission(keep, {"closureReason": "done"})
    assert ("Closed", "MerchantClosed") == (
        state(sim.get_charge_permission(keep)),
        reason(sim.get_charge_permission(keep)),
    )
    assert "Captured" == state(
        sim.capture_charge(charge["chargeId"], {"captureAmount": price("10.00")})
    )

    cancel = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    authorized = sim.create_charge({"chargePermissionId": cancel, "chargeAmount": price("10.00")})[
        "chargeId"
    ]
    late = sim.create_charge({"chargePermissionId": cancel, "chargeAmount": price("10.00")})[
        "chargeId"
    ]
    sim.advance(timedelta(days=8))
    sim.capture_charge(late, {"captureAmount": price("10.00")})  # CaptureInitiated
    sim.close_charge_permission(cancel, {"cancelPendingCharges": True})
    assert ("Canceled", "ChargePermissionCanceled") == (
        state(sim.get_charge(authorized)),
        reason(sim.get_charge(authorized)),
    )
    sim.advance(timedelta(seconds=30))
    assert "Captured" == state(sim.get_charge(late))  # a CaptureInitiated charge finishes
    with pytest.raises(ApiError, match="InvalidChargePermissionStatus"):
        sim.close_charge_permission(cancel, {})


def test_cancel_charge() -> None:
    sim = make_sim()
    charge_id = checkout(sim)["chargeId"]
    charge = sim.cancel_charge(charge_id, {"cancellationReason": "out of stock"})
    assert ("Canceled", "MerchantCanceled") == (state(charge), reason(charge))
    with pytest.raises(ApiError, match="InvalidChargeStatus"):
        sim.cancel_charge(charge_id)


def test_buyer_and_amazon_side() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    canceled = sim.buyer_cancel(sid)
    assert ("Canceled", "BuyerCanceled") == (state(canceled), reason(canceled))
    cp_id = checkout(sim)["chargePermissionId"]
    problem = sim.payment_method_problem(cp_id, "PaymentMethodExpired")
    assert ("NonChargeable", "PaymentMethodExpired") == (state(problem), reason(problem))
    with pytest.raises(ApiError, match="InvalidChargePermissionStatus"):
        sim.create_charge({"chargePermissionId": cp_id, "chargeAmount": price("1.00")})
    assert "Chargeable" == state(sim.payment_method_fixed(cp_id))
    closed = sim.buyer_close_charge_permission(cp_id)
    assert ("Closed", "BuyerClosed") == (state(closed), reason(closed))


def test_side_actions_refuse_what_cannot_happen() -> None:
    sim = make_sim()
    with pytest.raises(ValueError, match="no CheckoutSession 'nope'"):
        sim.buyer_approve("nope")
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    with pytest.raises(ValueError, match="unknown sandbox card '9999'"):
        sim.buyer_approve(sid, card="9999")
    sim.buyer_cancel(sid)
    with pytest.raises(ValueError, match="cannot happen to a CheckoutSession in state Canceled"):
        sim.buyer_approve(sid)
    cp_id = checkout(sim)["chargePermissionId"]
    with pytest.raises(ValueError, match="reason among"):
        sim.payment_method_problem(cp_id, "Bored")
    with pytest.raises(ValueError, match="has no event 'explode'"):
        sim.amazon_event(cp_id, "explode")


def test_amazon_events_from_the_declarations() -> None:
    sim = make_sim()
    charge_id = checkout(sim)["chargeId"]
    charge = sim.amazon_event(charge_id, "amazon_cancel")
    assert ("Canceled", "AmazonCanceled") == (state(charge), reason(charge))
    assert "amazon" == sim.log[-1].kind


def test_unknown_ids_and_wrong_types_are_resource_not_found() -> None:
    sim = make_sim()
    cp_id = checkout(sim)["chargePermissionId"]
    calls: list[Callable[[], object]] = [
        lambda: sim.get_charge("S01-0000000-0000000-C0000000"),
        lambda: sim.get_charge(cp_id),  # a permission's id is not a charge's
        lambda: sim.create_charge({"chargePermissionId": "nope", "chargeAmount": price("1.00")}),
        lambda: sim.create_refund({"chargeId": "nope", "refundAmount": price("1.00")}),
    ]
    for call in calls:
        with pytest.raises(ApiError) as info:
            call()
        assert "ResourceNotFound" == info.value.reason_code


def test_request_misuse() -> None:
    sim = make_sim()
    with pytest.raises(ValueError, match="unknown operation"):
        sim.request("refund_everything")
    with pytest.raises(ValueError, match="POST operations"):
        sim.request("cancel_charge", "x", {}, idempotency_key="k")


def test_pending_events_and_next_event() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    assert [
        (T0 + DAY, sid, "expire"),
        (T0 + timedelta(days=30), sid, "delete"),
    ] == sim.pending_events()
    assert T0 + DAY == sim.next_event_at()


def test_the_first_pending_events_are_the_sorted_ones() -> None:
    """``pending_events(limit)`` walks the heap in order: the same as sorting it whole,
    stale entries (a cancelled session's expiry) skipped."""
    sim = make_sim()
    for n in range(40):
        sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
        if n % 3 == 0:
            sim.buyer_cancel(sid)
        sim.advance(timedelta(minutes=7 * (n % 5)))
    whole = sim.pending_events()
    assert len(whole) > 20
    assert sorted(due for due, *_ in whole) == [due for due, *_ in whole]
    for limit in (0, 1, 2, 7, 20, len(whole), len(whole) + 5):
        assert whole[:limit] == sim.pending_events(limit)
    assert whole[0][0] == sim.next_event_at()


def test_restarted_deadlines_leave_no_stale_events() -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    for _ in range(3):
        sim.advance(DAY)
        sim.create_charge(
            {"chargePermissionId": cp_id, "chargeAmount": price("1.00"), "captureNow": True}
        )
    expiries = [due for due, object_id, what in sim.pending_events() if object_id == cp_id]
    assert [apfsm.add_months(T0 + 3 * DAY, 13)] == expiries


def test_the_change_marker_moves_with_every_change_and_only_then() -> None:
    sim = make_sim()
    # No cursor needed (the journal counts changes whether or not anyone watches).
    marker = sim.change_marker()
    done = checkout(sim)
    assert marker != (marker := sim.change_marker())
    with pytest.raises(ApiError):
        sim.capture_charge(done["chargeId"], {"captureAmount": price("999.00")})
    assert marker == sim.change_marker()  # refused: nothing changed
    sim.get_charge(done["chargeId"])
    assert marker == sim.change_marker()
    sim.advance(timedelta(days=31))  # the authorization expires
    assert marker != sim.change_marker()


def test_the_change_cursor_names_the_objects_whose_amounts_follow_a_change() -> None:
    sim = make_sim()
    done = checkout(sim)
    charge, permission = done["chargeId"], done["chargePermissionId"]
    sim.capture_charge(charge, {"captureAmount": price("10.00")})
    changes = sim.watch()
    refund = sim.create_refund({"chargeId": charge, "refundAmount": price("4.00")})["refundId"]
    assert {refund, charge, permission} == set(changes.take())
    sim.advance(timedelta(seconds=30))  # the refund completes: the charge's refunded amount
    assert {refund, charge, permission} == set(changes.take())
    sim.get_charge(charge)
    assert [] == changes.take()  # a read changes nothing


def test_updates_are_changes_too() -> None:
    # A cursor's owner re-reads what changed: an update that left the cursor silent would
    # leave it with the JSON from before (IntegrationMachine.amazon_json did).
    sim = make_sim()
    session = sim.create_checkout_session(session_body())["checkoutSessionId"]
    changes = sim.watch()
    sim.update_checkout_session(session, {"merchantMetadata": {"merchantReferenceId": "o-2"}})
    assert [session] == changes.take()
    done = checkout(sim)
    changes.take()
    sim.update_charge_permission(
        done["chargePermissionId"], {"merchantMetadata": {"merchantReferenceId": "o-3"}}
    )
    assert [done["chargePermissionId"]] == changes.take()


def test_change_cursors_are_independent_and_read_only() -> None:
    sim = make_sim()
    first = sim.watch()
    done = checkout(sim)
    second = sim.watch()  # sees only what changes from now on
    sim.cancel_charge(done["chargeId"], {})
    assert [done["chargeId"], done["chargePermissionId"]] == second.take()
    assert done["chargeId"] in first.peek()
    assert first.peek() == first.take()  # peek takes nothing
    assert [] == first.take()
    first.close()
    sim.advance(timedelta(days=200))
    assert [] == first.take()  # closed: no longer watching
    assert second.take()  # the permission expired


def test_the_ledger_shows_what_the_json_does_not() -> None:
    sim = make_sim()
    done = checkout(sim)
    charge = done["chargeId"]
    sim.capture_charge(charge, {"captureAmount": price("10.00")})
    sim.create_refund({"chargeId": charge, "refundAmount": price("4.00")})
    books = sim.ledger(charge)
    assert isinstance(books, apfsm._sim.ChargeLedger)
    assert (Decimal("10.00"), Decimal(0), Decimal("4.00"), 1) == (
        books.captured,
        books.refunded,  # still pending: not in refundedAmount
        books.refunds_committed,
        books.refund_count,
    )
    assert sim.ledger(done["checkoutSessionId"]) is None
    assert sim.ledger("no-such-id") is None


def test_numeric_amounts_from_python_callers_become_strings() -> None:
    # SPEC §1 rev 2: a JSON-number amount is valid; a Python float counts by its repr.

    sim = make_sim()
    body = session_body("50.00", intent="Confirm")
    body["paymentDetails"]["chargeAmount"]["amount"] = 50
    sid = sim.create_checkout_session(body)["checkoutSessionId"]
    sim.buyer_approve(sid)
    done = sim.complete_checkout_session(
        sid, {"chargeAmount": {"amount": 50.0, "currencyCode": "USD"}}
    )
    cp = done["chargePermissionId"]
    charge = sim.create_charge(
        {
            "chargePermissionId": cp,
            "chargeAmount": {"amount": Decimal("12.5"), "currencyCode": "USD"},
        }
    )
    assert {"amount": "12.50", "currencyCode": "USD"} == charge["chargeAmount"]
    assert {"amount": "12.5", "currencyCode": "USD"} == sim.log[-1].request["chargeAmount"]
    with pytest.raises(ApiError) as raised:
        sim.create_charge(
            {"chargePermissionId": cp, "chargeAmount": {"amount": 0.1 + 0.2, "currencyCode": "USD"}}
        )
    assert "InvalidParameterValue" == raised.value.reason_code


@pytest.mark.parametrize("kind", ["OneTime", "Recurring", "PaymentMethodOnFile"])
@pytest.mark.parametrize(
    ("intent", "charge_state"),
    [("Confirm", None), ("Authorize", "Authorized"), ("AuthorizeWithCapture", "Captured")],
)
def test_checkout_runs_a_whole_buyer_checkout(
    kind: str, intent: str, charge_state: str | None
) -> None:
    sim = make_sim()
    done = sim.checkout("20.00", "EUR", intent=intent, kind=kind, card="4444")
    assert "Completed" == state(done)
    permission = sim.get_charge_permission(done["chargePermissionId"])
    assert (kind, "EUR") == (permission["chargePermissionType"], permission["presentmentCurrency"])
    assert "4444" in str(permission["paymentPreferences"])
    if charge_state is None:
        assert done["chargeId"] is None
    else:
        charge = sim.get_charge(done["chargeId"])
        assert (charge_state, "20.00") == (state(charge), charge["chargeAmount"]["amount"])
    kinds = [(r.kind, r.operation) for r in sim.log[:3]]
    assert [
        ("api", "create_checkout_session"),
        ("buyer", "buyer_approve"),
        ("api", "complete_checkout_session"),
    ] == kinds


def test_checkout_refusals_are_the_apis() -> None:
    sim = make_sim()
    with pytest.raises(ApiError) as refused:
        sim.checkout(card="3434")  # declines when the buyer returns (SPEC §7)
    assert "CheckoutSessionCanceled" == refused.value.reason_code
    with pytest.raises(ApiError) as bad:
        sim.checkout("20.001")
    assert "InvalidParameterValue" == bad.value.reason_code
