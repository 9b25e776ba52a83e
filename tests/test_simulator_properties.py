"""Property tests of the simulator over random histories.

A Hypothesis state machine drives random operations, buyer and Amazon events, simulation
codes, idempotent replays, bad inputs and deadline-aware time jumps. After every step:

* the validator, given the target's current JSON, predicted exactly what the simulator did,
  for every rule decidable from that JSON (one source of truth, SPEC §2–§8); rules that
  need history the JSON lacks (refund and charge counts, the month's total, pending
  refunds, simulation codes, sandbox cards) may only make the simulator stricter;
* a refusal changed nothing (no object, no notification, no id consumed);
* the ledger invariants hold: captured ≤ charge amount, refunds within the cap, balances
  never negative, every notification names an existing object, every observed state change
  is legal.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

import apfsm
from apfsm import ApiError, Limits
from apfsm._money import refund_allowance

from .simhelpers import T0, make_sim, price, session_body

LIMITS = Limits()
# Codes the simulator may answer where the JSON alone looks fine: the rule needs history a
# payload does not show (SPEC §5, §6).
HISTORY_CODES = {
    "create_charge": {"TransactionCountExceeded", "PeriodicAmountExceeded"},
    "create_refund": {"TransactionCountExceeded", "TransactionAmountExceeded"},  # pending refunds
}
DECLINE_CODES = {"HardDeclined", "CheckoutSessionCanceled"}
# Deadline-aware jumps: every limit at L − 1 s, L and L + 1 s, and the 30 s processing time.
JUMPS = sorted(
    {
        timedelta(seconds=1),
        timedelta(seconds=29),
        timedelta(seconds=31),
        *(
            d + off
            for d in LIMITS.durations().values()
            for off in (-timedelta(seconds=1), timedelta(0), timedelta(seconds=1))
        ),
    }
)
AMOUNTS = st.sampled_from(
    ["0.01", "1.00", "10.00", "49.99", "50.00", "100.00", "114.99", "115.00", "999.99"]
)


def snapshot_without_log(sim: apfsm.Simulator) -> dict[str, Any]:
    """The state a refusal must not change (the log and stored idempotent answers aside)."""
    snap = sim.snapshot()
    for key in ("log", "now", "idempotency"):
        snap.pop(key)
    return snap


class SimulatorMachine(RuleBasedStateMachine):
    sessions = Bundle("sessions")
    permissions = Bundle("permissions")
    charges = Bundle("charges")
    refunds = Bundle("refunds")

    def __init__(self) -> None:
        super().__init__()
        self.sim = make_sim(start=T0)
        self.seen_states: dict[str, tuple[str, str]] = {}  # id -> (type, last state)
        self.extra_charges: list[str] = []  # charges created by completions
        self.keys: dict[str, tuple[str, str | None, Any, str | None, Any]] = {}

    # -- the oracle --------------------------------------------------------------------

    def target_json(
        self, operation: str, object_id: str | None, body: Any
    ) -> dict[str, Any] | None:
        if operation == "create_charge":
            object_id = body.get("chargePermissionId") if isinstance(body, dict) else None
        elif operation == "create_refund":
            object_id = body.get("chargeId") if isinstance(body, dict) else None
        if not isinstance(object_id, str):
            return None
        wanted = apfsm.OPERATIONS[operation].target
        if wanted is None or object_id not in self.sim.object_ids(wanted):
            return None  # no such object of that type: the simulator says ResourceNotFound
        return self.sim.object_json(object_id)

    def card_of(self, target: dict[str, Any] | None) -> str:
        if target is None:
            return "1111"
        prefs = target.get("paymentPreferences") or []
        return prefs[0]["paymentDescriptor"][-4:] if prefs else "1111"

    def call(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        *,
        key: str | None = None,
        code: str | None = None,
    ) -> dict[str, Any] | None:
        sim = self.sim
        if key is not None and key in self.keys:
            return self.reuse_key(operation, object_id, body, key, code)
        target = self.target_json(operation, object_id, body)
        op = apfsm.OPERATIONS[operation]
        if op.target is not None and target is None:
            predicted = apfsm.check(operation, None, body=body, at=sim.now())
        else:
            predicted = apfsm.check(operation, target, body=body, at=sim.now())
        before = snapshot_without_log(sim)
        try:
            answer = sim.request(
                operation, object_id, body, idempotency_key=key, simulation_code=code
            )
        except ApiError as err:
            self.check_refusal(
                operation, object_id, body, key, code, err, predicted, target, before
            )
            return None
        event(f"{operation}: ok")
        note(f"{operation} → {answer.status}; predicted {predicted!r}")
        assert predicted.ok, (operation, predicted)
        if code is None:
            new_state = answer.body["statusDetails"]["state"]
            if op.creates is None:
                expected_state = predicted.next_state
                if operation == "complete_checkout_session":
                    assert "Completed" == new_state
                elif op.is_read:
                    assert expected_state == new_state
                else:
                    assert expected_state == new_state, (operation, predicted, new_state)
            else:
                assert predicted.next_state == new_state
            assert predicted.http_status == answer.status
        if key is not None:
            self.remember(operation, object_id, body, key, code, answer)
        return answer.body

    def check_refusal(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        key: str | None,
        code: str | None,
        err: ApiError,
        predicted: apfsm.Outcome,
        target: dict[str, Any] | None,
        before: dict[str, Any],
    ) -> None:
        event(f"{operation}: {err.reason_code}")
        note(f"{operation} refused: {err}; predicted {predicted!r}")
        if predicted.ok:
            allowed = set(HISTORY_CODES.get(operation, ()))
            if code is not None:
                allowed |= {code, "CheckoutSessionCanceled"}
            if self.card_of(target) in ("3434", "4354"):
                allowed |= DECLINE_CODES
            assert err.reason_code in allowed, (operation, err, predicted)
        else:
            assert (predicted.reason_code, predicted.http_status) == (
                err.reason_code,
                err.http_status,
            )
        effects = code is not None or err.reason_code in DECLINE_CODES
        if not effects:
            assert before == snapshot_without_log(self.sim), "a refusal changed the state"
        if key is not None:
            self.remember(operation, object_id, body, key, code, err)

    def remember(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        key: str,
        code: str | None,
        first: Any,
    ) -> None:
        self.keys[key] = (operation, object_id, body, code, first)

    def reuse_key(
        self, operation: str, object_id: str | None, body: Any, key: str, code: str | None
    ) -> dict[str, Any] | None:
        """SPEC §7: the same request again is the first answer again; another request with
        the same key is DuplicateIdempotencyKey; neither changes anything."""
        before = snapshot_without_log(self.sim)
        try:
            answer: Any = self.sim.request(
                operation, object_id, body, idempotency_key=key, simulation_code=code
            )
        except ApiError as err:
            answer = err
        first = self.keys[key]
        if (operation, object_id, body, code) == first[:4]:
            event("idempotent replay")
            assert first[4] == answer
        else:
            event("duplicate idempotency key")
            assert isinstance(answer, ApiError)
            assert ("DuplicateIdempotencyKey", 400) == (answer.reason_code, answer.http_status)
        assert before == snapshot_without_log(self.sim)
        return answer.body if isinstance(answer, apfsm.Response) else None

    # -- rules -------------------------------------------------------------------------

    @rule(
        target=sessions,
        amount=AMOUNTS,
        currency=st.sampled_from(["USD", "USD", "EUR", "JPY"]),
        intent=st.sampled_from(["Confirm", "Authorize", "Authorize", "AuthorizeWithCapture"]),
        pending=st.booleans(),
        kind=st.sampled_from(["OneTime", "OneTime", "Recurring", "PaymentMethodOnFile"]),
        key=st.sampled_from([None, None, "cs-1", "cs-2"]),
    )
    def create_session(
        self, amount: str, currency: str, intent: str, pending: bool, kind: str, key: str | None
    ) -> str:
        if currency == "JPY":
            amount = str(int(Decimal(amount) * 100))
        body = session_body(
            amount,
            currency=currency,
            intent=intent,
            pending=pending and intent == "Authorize",
            kind=kind,
        )
        answer = self.call("create_checkout_session", None, body, key=key)
        return answer["checkoutSessionId"] if answer else "unknown-session"

    @rule(
        session=sessions,
        card=st.sampled_from(["1111", "1111", "1111", "3064", "3434", "0701", "4354"]),
    )
    def approve(self, session: str, card: str) -> None:
        current = self.sim.object_json(session)
        if current is None or current["statusDetails"]["state"] != "Open":
            return
        self.sim.buyer_approve(session, card=card)

    @rule(session=sessions, body=st.sampled_from([
        {"merchantMetadata": {"merchantReferenceId": "o-1"}},
        {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture"}},
        {"paymentDetails": {"chargeAmount": {"amount": "20.00", "currencyCode": "USD"}}},
        {"webCheckoutDetails": {"checkoutResultReturnUrl": "https://x/r"}},
        {"paymentDetails": {"canHandlePendingAuthorization": True}},
    ]))  # fmt: skip
    def update_session(self, session: str, body: dict[str, Any]) -> None:
        self.call("update_checkout_session", session, body)

    @rule(
        target=permissions,
        session=sessions,
        mismatch=st.sampled_from([None, None, None, "amount", "currency"]),
        code=st.sampled_from([None, None, None, None, "BuyerCanceled", "Declined"]),
        key=st.sampled_from([None, "complete-1"]),
    )
    def complete(
        self, session: str, mismatch: str | None, code: str | None, key: str | None
    ) -> str:
        current = self.sim.object_json(session)
        amount = (current or {}).get("paymentDetails", {}).get("chargeAmount") or price("10.00")
        if mismatch == "amount":
            amount = {**amount, "amount": "1"}
        elif mismatch == "currency":
            amount = {**amount, "currencyCode": "GBP"}
        answer = self.call(
            "complete_checkout_session", session, {"chargeAmount": amount}, key=key, code=code
        )
        if answer is None or answer["chargePermissionId"] is None:
            return "unknown-permission"
        if answer["chargeId"]:
            self.extra_charges.append(answer["chargeId"])
        return str(answer["chargePermissionId"])

    @rule(
        target=charges,
        permission=permissions,
        amount=AMOUNTS,
        flags=st.sampled_from(
            [
                {},
                {},
                {"captureNow": True},
                {"canHandlePendingAuthorization": True},
                {"softDescriptor": "X"},
            ]
        ),
        code=st.sampled_from(
            [None, None, None, None, "SoftDeclined", "HardDeclined", "AmazonRejected"]
        ),
        key=st.sampled_from([None, "charge-1", "charge-2"]),
    )
    def create_charge(
        self, permission: str, amount: str, flags: dict[str, Any], code: str | None, key: str | None
    ) -> str:
        current = self.sim.object_json(permission)
        currency = (current or {}).get("presentmentCurrency") or "USD"
        if currency == "JPY":
            amount = str(int(Decimal(amount) * 100))
        body = {"chargePermissionId": permission, "chargeAmount": price(amount, currency), **flags}
        answer = self.call("create_charge", None, body, key=key, code=code)
        return answer["chargeId"] if answer else "unknown-charge"

    @rule(
        charge=charges,
        fraction=st.sampled_from(["1", "1", "0.5", "1.01"]),
        code=st.sampled_from([None, None, None, "CaptureInitiated", "AmazonRejected"]),
    )
    def capture(self, charge: str, fraction: str, code: str | None) -> None:
        current = self.sim.object_json(charge)
        amount = price("10.00") if current is None else current["chargeAmount"]
        value = Decimal(amount["amount"]) * Decimal(fraction)
        quantum = Decimal(1) if amount["currencyCode"] == "JPY" else Decimal("0.01")
        self.call(
            "capture_charge",
            charge,
            {"captureAmount": {**amount, "amount": str(value.quantize(quantum))}},
            code=code,
        )

    @initialize(
        target=permissions,
        intent=st.sampled_from(["Confirm", "Authorize", "AuthorizeWithCapture"]),
        kind=st.sampled_from(["OneTime", "Recurring"]),
    )
    def first_order(self, intent: str, kind: str) -> str:
        return self.place_order(intent, kind, "100.00", "1111")

    @rule(
        target=permissions,
        intent=st.sampled_from(["Confirm", "Authorize", "AuthorizeWithCapture"]),
        kind=st.sampled_from(["OneTime", "OneTime", "Recurring", "PaymentMethodOnFile"]),
        amount=AMOUNTS,
        card=st.sampled_from(["1111", "1111", "0701", "4354"]),
    )
    def order(self, intent: str, kind: str, amount: str, card: str) -> str:
        return self.place_order(intent, kind, amount, card)

    def place_order(self, intent: str, kind: str, amount: str, card: str) -> str:
        """A whole checkout (each step checked against the validator)."""
        pending = card in ("0701", "4354") and intent == "Authorize"
        body = session_body(amount, intent=intent, pending=pending, kind=kind)
        created = self.call("create_checkout_session", None, body)
        assert created is not None
        session = created["checkoutSessionId"]
        self.sim.buyer_approve(session, card=card)
        done = self.call("complete_checkout_session", session, {"chargeAmount": price(amount)})
        if done is None or done["chargePermissionId"] is None:
            return "unknown-permission"
        if done["chargeId"]:
            self.extra_charges.append(done["chargeId"])
        return str(done["chargePermissionId"])

    @rule(target=charges)
    def adopt_completion_charges(self) -> Any:
        """Charges created by completions join the charges bundle."""
        adopted, self.extra_charges = self.extra_charges, []
        return multiple(*adopted)

    @rule(charge=charges)
    def cancel(self, charge: str) -> None:
        self.call("cancel_charge", charge, {"cancellationReason": "changed my mind"})

    @rule(
        target=refunds,
        charge=charges,
        share=st.sampled_from(["0.1", "0.5", "1", "1.15", "1.2"]),
        code=st.sampled_from([None, None, None, "AmazonRejected"]),
    )
    def refund(self, charge: str, share: str, code: str | None) -> str:
        current = self.sim.object_json(charge)
        amount = (
            price("10.00")
            if current is None
            else (current["captureAmount"] or current["chargeAmount"])
        )
        quantum = Decimal(1) if amount["currencyCode"] == "JPY" else Decimal("0.01")
        value = max((Decimal(amount["amount"]) * Decimal(share)).quantize(quantum), quantum)
        body = {"chargeId": charge, "refundAmount": {**amount, "amount": str(value)}}
        answer = self.call("create_refund", None, body, code=code)
        return answer["refundId"] if answer else "unknown-refund"

    @rule(permission=permissions, cancel_pending=st.booleans())
    def close(self, permission: str, cancel_pending: bool) -> None:
        self.call(
            "close_charge_permission",
            permission,
            {"closureReason": "done", "cancelPendingCharges": cancel_pending},
        )

    @rule(permission=permissions, what=st.sampled_from(["problem", "fixed", "buyer_close"]))
    def permission_event(self, permission: str, what: str) -> None:
        current = self.sim.object_json(permission)
        if current is None:
            return
        state = current["statusDetails"]["state"]
        if what == "problem" and state in ("Chargeable", "NonChargeable"):
            self.sim.payment_method_problem(permission, "PaymentMethodExpired")
        elif what == "fixed" and state == "NonChargeable":
            self.sim.payment_method_fixed(permission)
        elif what == "buyer_close" and state != "Closed":
            self.sim.buyer_close_charge_permission(permission)

    @rule(obj=st.one_of(sessions, permissions, charges, refunds))
    def read(self, obj: str) -> None:
        operation = {
            "CheckoutSession": "get_checkout_session",
            "ChargePermission": "get_charge_permission",
            "Charge": "get_charge",
            "Refund": "get_refund",
        }
        kind = self.seen_states.get(obj, (None,))[0]
        if kind is not None:
            self.call(operation[kind], obj, None)

    @rule(
        operation=st.sampled_from(["capture_charge", "create_charge", "create_refund", "complete_checkout_session", "close_charge_permission"]),
        body=st.sampled_from([[], {"bogus": 1}, {"captureAmount": {"amount": 5, "currencyCode": "USD"}}, {"chargeAmount": price("1.001")}, {}]),
        obj=st.one_of(sessions, permissions, charges),
    )  # fmt: skip
    def bad_input(self, operation: str, body: Any, obj: str) -> None:
        object_id = None if operation.startswith("create_") else obj
        self.call(operation, object_id, body)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        if not self.keys:
            return
        key = data.draw(st.sampled_from(sorted(self.keys)))
        operation, object_id, body, code, _ = self.keys[key]
        self.reuse_key(operation, object_id, body, key, code)

    @rule(jump=st.sampled_from(JUMPS))
    def wait(self, jump: timedelta) -> None:
        self.sim.advance(jump)

    @rule(offset=st.sampled_from([-1, 0, 1]))
    def wait_for_next_event(self, offset: int) -> None:
        due = self.sim.next_event_at()
        if due is None:
            return
        instant = due + timedelta(seconds=offset)
        if instant > self.sim.now():
            self.sim.clock.move_to(instant)  # type: ignore[attr-defined]
            self.sim.settle()

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def ledger(self) -> None:
        sim = self.sim
        for charge_id in sim.object_ids("Charge"):
            charge = sim.object_json(charge_id)
            assert charge is not None
            amount = Decimal(charge["chargeAmount"]["amount"])
            captured = charge["captureAmount"]
            if captured is not None:
                assert Decimal(captured["amount"]) <= amount
            refunded = Decimal(charge["refundedAmount"]["amount"])
            base = Decimal(captured["amount"]) if captured else amount
            currency = charge["chargeAmount"]["currencyCode"]
            assert refunded <= base + refund_allowance(base, currency, sim.limits)
        for cp_id in sim.object_ids("ChargePermission"):
            permission = sim.object_json(cp_id)
            assert permission is not None
            if permission["limits"] is not None:
                assert Decimal(permission["limits"]["amountBalance"]["amount"]) >= 0
        live = set(sim.object_ids())
        for message in sim.notifications:
            assert message["ObjectId"] in live

    @invariant()
    def legal_state_changes(self) -> None:
        for object_type in apfsm.OBJECT_TYPES:
            for object_id in self.sim.object_ids(object_type):
                body = self.sim.object_json(object_id)
                assert body is not None
                now = body["statusDetails"]["state"]
                before = self.seen_states.get(object_id)
                if before is not None:
                    assert apfsm.check_transition(object_type, before[1], now), (
                        object_type,
                        before,
                        now,
                    )
                self.seen_states[object_id] = (object_type, now)


SimulatorMachine.TestCase.settings = settings(
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSimulatorMachine = SimulatorMachine.TestCase
