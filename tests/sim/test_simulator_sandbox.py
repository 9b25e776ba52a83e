"""Simulator: simulation codes, sandbox cards, declines, idempotency, notifications, the
log, snapshots and threads (SPEC §5, §7)."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest

from apfsm import ApiError, Limits, LogRecord, ManualClock, Simulator
from tests.simhelpers import T0, checkout, make_sim, price, reason, session_body, state


def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()
    return info.value


# ---------------------------------------------------------------------------------------
# Simulation codes and sandbox cards
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["BuyerCanceled", "Declined", "AmazonCanceled"])
def test_completion_simulation_cancels_the_session(code: str) -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.buyer_approve(sid)
    err = refused(
        lambda: sim.complete_checkout_session(
            sid, {"chargeAmount": price("100.00")}, simulation_code=code
        )
    )
    assert ("CheckoutSessionCanceled", 422) == (err.reason_code, err.http_status)
    session = sim.get_checkout_session(sid)
    assert ("Canceled", code) == (state(session), reason(session))
    assert [] == sim.object_ids("ChargePermission")


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ("create_checkout_session", "Declined"),
        ("create_charge", "CaptureInitiated"),
        ("create_charge", "Nonsense"),
        ("capture_charge", "SoftDeclined"),
    ],
)
def test_codes_on_the_wrong_operation_are_refused_and_change_nothing(
    operation: str, code: str
) -> None:
    sim = make_sim()
    done = checkout(sim, "100.00")
    before = {i: sim.object_json(i) for i in sim.object_ids()}
    bodies = {
        "create_checkout_session": (None, session_body()),
        "create_charge": (
            None,
            {"chargePermissionId": done["chargePermissionId"], "chargeAmount": price("1.00")},
        ),
        "capture_charge": (done["chargeId"], {"captureAmount": price("1.00")}),
    }
    object_id, body = bodies[operation]
    err = refused(lambda: sim.request(operation, object_id, body, simulation_code=code))
    assert ("InvalidSandboxSimulationSpecified", 400) == (err.reason_code, err.http_status)
    assert before == {i: sim.object_json(i) for i in sim.object_ids()}


@pytest.mark.parametrize(
    ("code", "status", "permission_after"),
    [
        ("SoftDeclined", 422, ("Chargeable", None)),
        ("HardDeclined", 422, ("NonChargeable", "PaymentMethodInvalid")),
        ("AmazonRejected", 422, ("Closed", "AmazonCanceled")),
        ("ProcessingFailure", 500, ("Chargeable", None)),
        ("TransactionTimedOut", 422, ("Chargeable", None)),
    ],
)
def test_simulated_charge_declines_keep_the_declined_charge(
    code: str, status: int, permission_after: tuple[str, str | None]
) -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    sent = len(sim.notifications)
    err = refused(
        lambda: sim.create_charge(
            {"chargePermissionId": cp_id, "chargeAmount": price("5.00")}, simulation_code=code
        )
    )
    assert (code, status) == (err.reason_code, err.http_status)
    (charge_id,) = sim.object_ids("Charge")
    charge = sim.get_charge(charge_id)
    assert ("Declined", code) == (state(charge), reason(charge))
    assert charge_id == sim.log[-2].object_id  # the refused call names the declined charge
    permission = sim.get_charge_permission(cp_id)
    assert permission_after == (state(permission), reason(permission))
    assert charge_id in [n["ObjectId"] for n in sim.notifications[sent:]]


def test_a_hard_decline_leaves_a_one_time_permission_chargeable() -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm")["chargePermissionId"]
    refused(
        lambda: sim.create_charge(
            {"chargePermissionId": cp_id, "chargeAmount": price("5.00")},
            simulation_code="HardDeclined",
        )
    )
    assert "Chargeable" == state(sim.get_charge_permission(cp_id))


def test_capture_simulations() -> None:
    sim = make_sim()
    charge_id = checkout(sim, kind="Recurring")["chargeId"]
    charge = sim.capture_charge(
        charge_id, {"captureAmount": price("10.00")}, simulation_code="CaptureInitiated"
    )
    assert "CaptureInitiated" == state(charge)
    sim.advance(timedelta(seconds=30))
    assert "Captured" == state(sim.get_charge(charge_id))
    rejected = checkout(sim, kind="Recurring")
    sim.capture_charge(
        rejected["chargeId"], {"captureAmount": price("10.00")}, simulation_code="AmazonRejected"
    )
    sim.advance(timedelta(seconds=30))
    charge = sim.get_charge(rejected["chargeId"])
    assert ("Declined", "AmazonRejected") == (state(charge), reason(charge))
    permission = sim.get_charge_permission(rejected["chargePermissionId"])
    assert ("Closed", "AmazonCanceled") == (state(permission), reason(permission))


def test_sandbox_cards() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    session = sim.buyer_approve(sid, card="3064")
    assert ("Canceled", "BuyerCanceled") == (state(session), reason(session))
    # Amazon, https://developer.amazon.com/docs/amazon-pay-checkout/sandbox-simulations.html:
    # 3434 → "Checkout Session in Canceled state with Declined reason code after the buyer
    # returns to checkoutResultReturnUrl" — before any completion, whatever the intent.
    sid = sim.create_checkout_session(session_body(intent="Confirm"))["checkoutSessionId"]
    session = sim.buyer_approve(sid, card="3434")
    assert ("Canceled", "Declined") == (state(session), reason(session))
    err = refused(lambda: sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")}))
    assert "CheckoutSessionCanceled" == err.reason_code
    assert ("Canceled", "Declined") == (
        state(sim.get_checkout_session(sid)),
        reason(sim.get_checkout_session(sid)),
    )


@pytest.mark.parametrize("card", ["1111", "0005", "4444", "9424", "0000"])
@pytest.mark.parametrize(
    ("intent", "pending", "charge_state"),
    [
        ("Confirm", False, None),
        ("Authorize", False, "Authorized"),
        ("Authorize", True, "AuthorizationInitiated"),
        ("AuthorizeWithCapture", False, "Captured"),
    ],
)
def test_the_five_happy_cards_succeed(
    card: str, intent: str, pending: bool, charge_state: str | None
) -> None:
    # SPEC §7: "ending 1111, 0005, 4444, 9424 and 0000 success (happy case)"; Amazon's
    # sandbox-simulations page (above) lists the same five as the happy case.
    sim = make_sim()
    done = checkout(sim, card=card, intent=intent, pending=pending)
    assert "Completed" == state(done)
    if charge_state is not None:
        assert charge_state == state(sim.get_charge(done["chargeId"]))
        sim.advance(timedelta(seconds=30))
        assert state(sim.get_charge(done["chargeId"])) in ("Authorized", "Captured")
    if charge_state is None:  # a Confirm order: the whole amount is still to charge
        cp_id = done["chargePermissionId"]
        later = sim.create_charge({"chargePermissionId": cp_id, "chargeAmount": price("1.00")})
        assert "Authorized" == state(later)


@pytest.mark.parametrize("card", ["0701", "4354"])
@pytest.mark.parametrize(
    ("intent", "pending"),
    [("Confirm", False), ("Authorize", False), ("AuthorizeWithCapture", False)],
)
def test_pending_cards_without_a_pending_authorization_are_an_error(
    card: str, intent: str, pending: bool
) -> None:
    # Amazon, https://developer.amazon.com/docs/amazon-pay-checkout/sandbox-simulations.html
    # (0701, 4354): "You must set paymentIntent to Authorize, and
    # canHandlePendingAuthorization to true on the Checkout Session or using this payment
    # method will result in an error"; SPEC §7 (rev 2). Amazon names no error, so it is a
    # Decision: the session is canceled (Declined), the call answers CheckoutSessionCanceled.
    sim = make_sim()
    body = session_body(intent=intent, pending=pending)
    sid = sim.create_checkout_session(body)["checkoutSessionId"]
    sim.buyer_approve(sid, card=card)
    err = refused(lambda: sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")}))
    assert ("CheckoutSessionCanceled", 422) == (err.reason_code, err.http_status)
    session = sim.get_checkout_session(sid)
    assert ("Canceled", "Declined") == (state(session), reason(session))
    assert session["chargePermissionId"] is None


@pytest.mark.parametrize(("card", "outcome"), [("0701", "Authorized"), ("4354", "Declined")])
def test_pending_cards_with_a_pending_authorization(card: str, outcome: str) -> None:
    sim = make_sim()
    done = checkout(sim, card=card, intent="Authorize", pending=True)
    assert "AuthorizationInitiated" == state(sim.get_charge(done["chargeId"]))
    sim.advance(timedelta(seconds=30))
    assert outcome == state(sim.get_charge(done["chargeId"]))


def test_later_charges_follow_the_buyers_card() -> None:
    sim = make_sim()
    cp_id = checkout(sim, card="4354", pending=True)["chargePermissionId"]
    sim.advance(timedelta(seconds=30))  # the completion's charge is declined: balance back
    err = refused(
        lambda: sim.create_charge({"chargePermissionId": cp_id, "chargeAmount": price("5.00")})
    )
    assert "HardDeclined" == err.reason_code
    pending = sim.create_charge(
        {
            "chargePermissionId": cp_id,
            "chargeAmount": price("5.00"),
            "canHandlePendingAuthorization": True,
        }
    )
    sim.advance(timedelta(seconds=30))
    assert "Declined" == state(sim.get_charge(pending["chargeId"]))


# ---------------------------------------------------------------------------------------
# Idempotency (SPEC §7)
# ---------------------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_answer() -> None:
    sim = make_sim()
    body = session_body()
    first = sim.request("create_checkout_session", None, body, idempotency_key="order-1")
    sim.advance(timedelta(hours=1))
    again = sim.request(
        "create_checkout_session", None, json.loads(json.dumps(body)), idempotency_key="order-1"
    )
    assert first == again
    assert 1 == len(sim.object_ids())
    assert sim.log[-1].replayed


def test_refusals_are_replayed_too() -> None:
    sim = make_sim()
    done = checkout(sim, "100.00")
    body = {"captureAmount": price("200.00")}
    first = refused(lambda: sim.capture_charge(done["chargeId"], body, idempotency_key="cap-1"))
    second = refused(lambda: sim.capture_charge(done["chargeId"], body, idempotency_key="cap-1"))
    assert first == second
    assert "TransactionAmountExceeded" == second.reason_code


def test_same_key_different_body_is_a_duplicate() -> None:
    sim = make_sim()
    sim.create_checkout_session(session_body("10.00"), idempotency_key="k")
    err = refused(lambda: sim.create_checkout_session(session_body("11.00"), idempotency_key="k"))
    assert ("DuplicateIdempotencyKey", 400) == (err.reason_code, err.http_status)
    assert 1 == len(sim.object_ids())


@pytest.mark.parametrize("key", ["", "x" * 33, "has space", "ünïcode", "a/b"])
def test_malformed_keys_are_invalid_header_values(key: str) -> None:
    sim = make_sim()
    err = refused(lambda: sim.create_checkout_session(session_body(), idempotency_key=key))
    assert ("InvalidHeaderValue", 400) == (err.reason_code, err.http_status)
    assert [] == sim.object_ids()


def test_key_length_comes_from_limits() -> None:
    sim = make_sim(limits=Limits(idempotency_key_max_length=40))
    sim.create_checkout_session(session_body(), idempotency_key="x" * 40)


def test_a_replay_creates_no_notification() -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm")["chargePermissionId"]
    body = {"chargePermissionId": cp_id, "chargeAmount": price("5.00")}
    sim.create_charge(body, idempotency_key="c1")
    count = len(sim.notifications)
    sim.create_charge(body, idempotency_key="c1")
    assert count == len(sim.notifications)
    assert 1 == len(sim.object_ids("Charge"))


class GateClock(ManualClock):
    """A clock that can hold one thread inside the simulator (to open a race window)."""

    def __init__(self) -> None:
        super().__init__(T0)
        self.hold = threading.Event()
        self.entered = threading.Event()
        self.armed = False

    def now(self):  # type: ignore[no-untyped-def]
        if self.armed and threading.current_thread().name == "first":
            self.armed = False
            self.entered.set()
            self.hold.wait(5)
        return super().now()


def test_a_concurrent_duplicate_is_transaction_in_progress() -> None:
    clock = GateClock()
    sim = Simulator(clock)
    results: dict[str, Any] = {}

    def first() -> None:
        results["first"] = sim.create_checkout_session(session_body(), idempotency_key="race")

    thread = threading.Thread(target=first, name="first")
    clock.armed = True
    thread.start()
    assert clock.entered.wait(5)
    # The first request holds the key but has not finished: the duplicate is told so.
    err = refused(lambda: sim.create_checkout_session(session_body(), idempotency_key="race"))
    assert ("TransactionInProgress", 425) == (err.reason_code, err.http_status)
    clock.hold.set()
    thread.join(5)
    assert results["first"] == sim.create_checkout_session(session_body(), idempotency_key="race")
    assert 1 == len(sim.object_ids())


def test_threads_sending_the_same_key_create_one_object() -> None:
    sim = make_sim()
    cp_id = checkout(sim, intent="Confirm", kind="Recurring")["chargePermissionId"]
    body = {"chargePermissionId": cp_id, "chargeAmount": price("5.00")}
    answers: list[str] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(20):
            try:
                charge = sim.create_charge(body, idempotency_key="same")
                outcome = charge["chargeId"]
            except ApiError as err:
                outcome = err.reason_code
            with lock:
                answers.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 == len(sim.object_ids("Charge"))
    assert set(answers) <= {sim.object_ids("Charge")[0], "TransactionInProgress"}


def test_concurrent_calls_on_different_objects_keep_the_ledger() -> None:
    sim = make_sim()
    cp_ids = [checkout(sim, "1000.00", intent="Confirm")["chargePermissionId"] for _ in range(6)]
    errors: list[BaseException] = []

    def work(cp_id: str) -> None:
        try:
            for _ in range(10):
                charge = sim.create_charge(
                    {"chargePermissionId": cp_id, "chargeAmount": price("10.00")}
                )
                sim.capture_charge(charge["chargeId"], {"captureAmount": price("10.00")})
                sim.create_refund({"chargeId": charge["chargeId"], "refundAmount": price("1.00")})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(cp_id,)) for cp_id in cp_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [] == errors
    for cp_id in cp_ids:
        assert {
            "amountLimit": price("1000.00"),
            "amountBalance": price("900.00"),
        } == sim.get_charge_permission(cp_id)["limits"]
    assert 60 == len(sim.object_ids("Charge"))
    assert 60 == len(sim.object_ids("Refund"))


# ---------------------------------------------------------------------------------------
# Notifications and the log
# ---------------------------------------------------------------------------------------


def test_notifications_have_the_ipn_shape_and_name_existing_objects() -> None:
    seen: list[dict[str, Any]] = []
    sim = make_sim(merchant_id="AMERCHANT", on_notification=seen.append)
    done = checkout(sim, intent="AuthorizeWithCapture")
    sim.create_refund({"chargeId": done["chargeId"], "refundAmount": price("5.00")})
    sim.advance(timedelta(seconds=30))
    assert seen == sim.notifications
    kinds = [(n["ObjectType"], n["ObjectId"]) for n in sim.notifications]
    (refund_id,) = sim.object_ids("Refund")
    assert [
        ("CHARGE_PERMISSION", done["chargePermissionId"]),
        ("CHARGE", done["chargeId"]),
        ("CHARGE_PERMISSION", done["chargePermissionId"]),  # closed: amount used up
        ("REFUND", refund_id),
        ("REFUND", refund_id),
    ] == kinds
    for message in sim.notifications:
        assert {
            "MerchantID",
            "ObjectType",
            "ObjectId",
            "ChargePermissionId",
            "NotificationType",
            "NotificationId",
            "NotificationVersion",
        } == set(message)
        assert ("AMERCHANT", "STATE_CHANGE", "V2") == (
            message["MerchantID"],
            message["NotificationType"],
            message["NotificationVersion"],
        )
        assert done["chargePermissionId"] == message["ChargePermissionId"]
        assert sim.object_json(message["ObjectId"]) is not None
    assert len({n["NotificationId"] for n in sim.notifications}) == len(sim.notifications)


def test_callbacks_may_call_the_simulator_again() -> None:
    sim = make_sim()
    states: list[str] = []

    def on_notification(message: dict[str, Any]) -> None:
        # IPNs carry no state: receivers GET the object (SPEC §7).
        if message["ObjectType"] == "CHARGE":
            states.append(state(sim.get_charge(message["ObjectId"])))

    sim.on_notification = on_notification
    charge_id = checkout(sim)["chargeId"]
    sim.advance(timedelta(days=8))
    sim.capture_charge(charge_id, {"captureAmount": price("1.00")})
    sim.advance(timedelta(seconds=30))
    assert ["Authorized", "CaptureInitiated", "Captured"] == states


def test_the_log_records_every_call() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(session_body(), idempotency_key="k1")["checkoutSessionId"]
    sim.buyer_approve(sid)
    with pytest.raises(ApiError):
        sim.complete_checkout_session(sid, {"chargeAmount": price("1.00")})
    kinds = [(r.kind, r.operation, r.status, r.error_code) for r in sim.log]
    assert [
        ("api", "create_checkout_session", 201, None),
        ("buyer", "buyer_approve", 200, None),
        ("api", "complete_checkout_session", 409, "AmountMismatch"),
    ] == kinds
    first = sim.log[0]
    assert (1, T0, sid, "k1") == (first.seq, first.at, first.object_id, first.idempotency_key)
    assert session_body() == first.request
    assert sid == (first.response or {})["checkoutSessionId"]
    assert first == LogRecord.from_json(json.loads(json.dumps(first.to_json())))
    assert "<LogRecord #3 complete_checkout_session" in repr(sim.log[2])


def test_the_log_is_not_changed_by_callers_mutating_answers() -> None:
    sim = make_sim()
    body = session_body()
    answer = sim.create_checkout_session(body)
    body["storeId"] = "changed"
    answer["storeId"] = "changed"
    assert "amzn1.application-oa2-client.test" == sim.log[0].request["storeId"]
    assert "amzn1.application-oa2-client.test" == (sim.log[0].response or {})["storeId"]
    assert (
        "amzn1.application-oa2-client.test"
        == sim.get_checkout_session(answer["checkoutSessionId"])["storeId"]
    )


def test_the_log_keeps_bodies_json_cannot_carry_as_json_text() -> None:
    sim = make_sim()
    # (A Decimal no longer serves: it is a JSON number's exact value, SPEC §1 rev 2, and
    # normalise_body makes it a string or a number before the log sees it.)
    odd = {"chargeAmount": {"amount": T0, "currencyCode": "USD"}}
    with pytest.raises(ApiError):  # not a field of the update: UnrecognizedField
        sim.update_checkout_session("00000000-0000-0000-0000-000000000000", odd)
    record = sim.log[0]
    assert isinstance(record.request_data, str)  # marshal refuses datetime: JSON text
    assert repr(T0) == record.request["chargeAmount"]["amount"]
    plain = sim.log[0].request_json
    assert plain is not None
    assert json.loads(plain) == record.request
    sim.create_checkout_session(session_body())
    assert isinstance(sim.log[1].request_data, bytes)  # plain JSON: a marshal snapshot
    assert json.loads(sim.log[1].request_json or "") == session_body()
    assert sim.log[1] == LogRecord.from_json(json.loads(json.dumps(sim.log[1].to_json())))


# ---------------------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------------------


def test_snapshot_and_restore_continue_exactly() -> None:
    sim = make_sim(limits=Limits(authorization_ttl=timedelta(days=10)))
    done = checkout(sim, "100.00")
    sim.create_checkout_session(session_body(), idempotency_key="again")
    sim.advance(timedelta(days=1))
    snapshot = json.loads(json.dumps(sim.snapshot()))
    assert ("apfsm.simulator", 2) == (snapshot["format"], snapshot["version"])
    assert len(sim.log) == len(snapshot["log"])
    copy = Simulator.restore(snapshot)
    assert sim.now() == copy.now()
    assert sim.limits == copy.limits
    assert sim.log == copy.log
    assert sim.notifications == copy.notifications
    for twin in (sim, copy):
        twin.advance(timedelta(days=9))  # the 10-day authorization TTL, from the snapshot
    assert "Canceled" == state(copy.get_charge(done["chargeId"]))
    assert sim.get_charge(done["chargeId"]) == copy.get_charge(done["chargeId"])
    # Same ids next, same idempotent replays.
    assert checkout(sim) == checkout(copy)
    assert sim.create_checkout_session(
        session_body(), idempotency_key="again"
    ) == copy.create_checkout_session(session_body(), idempotency_key="again")


def test_restore_refuses_what_is_not_a_snapshot() -> None:
    with pytest.raises(ValueError, match="not an apfsm simulator snapshot"):
        Simulator.restore({"format": "other"})
    snapshot = make_sim().snapshot()
    with pytest.raises(ValueError, match="version 99 is not supported"):
        Simulator.restore({**snapshot, "version": 99})
    with pytest.raises(ValueError, match="malformed simulator snapshot"):
        Simulator.restore({**snapshot, "objects": [{"type": "Charge"}]})


def test_restore_with_a_clock() -> None:
    sim = make_sim()
    clock = ManualClock(T0 + timedelta(days=1))
    copy = Simulator.restore(sim.snapshot(), clock)
    assert clock is copy.clock
