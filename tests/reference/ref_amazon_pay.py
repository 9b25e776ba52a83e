"""Independent stateful reference model of Amazon Pay, the oracle of the differential test.

Written only from ``/work/shared/SPEC.md`` and the oracle brief (which fixes the project's
decisions where SPEC is silent); it shares no code with ``apfsm``. It reuses from
``spec_model`` (also written from SPEC alone) the body validation, the limits, ``add_months``
and the refund allowance.

The model is deliberately plain: one dataclass per object type, dicts of objects keyed by the
model's own ref ids ("cs1", "cp1", "ch1", "rf1"), and if-statements that follow SPEC's tables.

Time (SPEC §2): the clock only moves through ``advance``/``move_to``. Every deadline is derived
from the objects' current state (timers), and asynchronous outcomes (SPEC §7) are kept in a
list. Whenever the clock moves, or a call / buyer action / observation happens, everything due
is applied one event at a time, in the order (due time, [async outcomes before timers when the
TTL boundary is strict], the object created first, the order in which they were scheduled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from tests.reference.spec_model import (
    DEFAULT_LIMITS,
    RefLimits,
    _validate_body,
    add_months,
    refund_allowance,
)

# --------------------------------------------------------------------------------------------
# Constants from SPEC.
# --------------------------------------------------------------------------------------------

# SPEC §8: HTTP status of every error code this model produces.
ERROR_STATUS: dict[str, int] = {
    "InvalidHeaderValue": 400,
    "InvalidSandboxSimulationSpecified": 400,
    "DuplicateIdempotencyKey": 400,
    "InvalidRequestFormat": 400,
    "UnrecognizedField": 400,
    "MissingParameterValue": 400,
    "InvalidParameterValue": 400,
    "InvalidParameterCombination": 400,
    "CurrencyMismatch": 400,
    "TransactionAmountExceeded": 400,
    "PeriodicAmountExceeded": 400,
    "ResourceNotFound": 404,
    "AmountMismatch": 409,
    "InvalidCheckoutSessionStatus": 422,
    "InvalidChargePermissionStatus": 422,
    "InvalidChargeStatus": 422,
    "InvalidDisputeStatus": 422,  # docs/dispute.md (the project's decision)
    "CheckoutSessionCanceled": 422,
    "TransactionCountExceeded": 422,
    "SoftDeclined": 422,
    "HardDeclined": 422,
    "AmazonRejected": 422,
    "TransactionTimedOut": 422,
    "ProcessingFailure": 500,
}

# SPEC §1: the operations.
GET_OPERATIONS = frozenset(
    {
        "get_checkout_session",
        "get_charge_permission",
        "get_charge",
        "get_refund",
        "get_buyer",
        "get_dispute",
    }
)
POST_OPERATIONS = frozenset(
    {
        "create_checkout_session",
        "complete_checkout_session",
        "finalize_checkout_session",
        "create_charge",
        "capture_charge",
        "create_refund",
        "create_delivery_tracker",
        # Disputes and files (docs/dispute.md)
        "create_dispute",
        "contest_dispute",
        "upload_file",
    }
)
ALL_OPERATIONS = (
    GET_OPERATIONS
    | POST_OPERATIONS
    | {
        "update_checkout_session",
        "update_charge_permission",
        "close_charge_permission",
        "cancel_charge",
        "update_charge",
        "update_dispute",
    }
)

# SPEC §7: simulation codes each operation accepts.
SIMULATION_CODES: dict[str, frozenset[str]] = {
    "complete_checkout_session": frozenset({"BuyerCanceled", "Declined", "AmazonCanceled"}),
    "finalize_checkout_session": frozenset({"BuyerCanceled", "Declined", "AmazonCanceled"}),
    "create_charge": frozenset(
        {
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "ProcessingFailure",
            "TransactionTimedOut",
        }
    ),
    "capture_charge": frozenset({"CaptureInitiated", "AmazonRejected"}),
    "create_refund": frozenset({"AmazonRejected", "ProcessingFailure"}),
}

# SPEC §7: idempotency key, 1 to 32 characters of A-Za-z0-9-_.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")

# SPEC §4: reasons of NonChargeable.
NON_CHARGEABLE_REASONS = frozenset(
    {
        "PaymentMethodInvalid",
        "PaymentMethodDeleted",
        "BillingAddressDeleted",
        "PaymentMethodExpired",
        "PaymentMethodNotAllowed",
        "PaymentMethodNotSet",
        "ChargeInProgress",
        "MFAFailed",
    }
)

# SPEC §4: PaymentMethodOnFile is treated like Recurring (with its own monthly cap, §11).
RECURRING_KINDS = frozenset({"Recurring", "PaymentMethodOnFile"})
AUTHORIZING_INTENTS = frozenset({"Authorize", "AuthorizeWithCapture"})
DECLINING_CARDS = frozenset({"3434", "4354"})  # SPEC §7 sandbox cards
PENDING_CARDS = frozenset({"0701", "4354"})  # SPEC §7: only for pending authorizations

# --------------------------------------------------------------------------------------------
# Results and objects.
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    status: int  # 201 creates, 202 pending completion, 200; or the error's status
    error_code: str | None
    created: dict[str, str] = field(default_factory=dict)  # object type -> ref id


@dataclass
class _Session:  # SPEC §3
    ref: str
    order: int  # global creation order of all objects
    created: datetime
    fields: dict[str, Any]  # the stored request fields (nulls dropped)
    expire_seq: int  # scheduling order of the 24 h timer
    delete_seq: int  # scheduling order of the 30 d retention timer
    state: str = "Open"
    reason: str | None = None
    buyer: bool = False
    card: str = "1111"
    deleted: bool = False


@dataclass
class _Permission:  # SPEC §4
    ref: str
    order: int
    created: datetime
    kind: str  # OneTime | Recurring | PaymentMethodOnFile
    currency: str
    amount_limit: Decimal | None  # one-time only
    extended: bool
    card: str
    timer_seq: int  # scheduling order of the expiry timer (rescheduled on a restart)
    state: str = "Chargeable"
    reasons: list[str] = field(default_factory=list)
    last_success: datetime | None = None  # last time a charge entered Authorized/Captured
    charges: list[str] = field(default_factory=list)  # refs, creation order
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Charge:  # SPEC §5
    ref: str
    order: int
    created: datetime
    permission: str
    amount: Decimal
    currency: str
    state: str
    reason: str | None = None
    capture_amount: Decimal | None = None
    authorized_at: datetime | None = None
    timer_seq: int = 0  # scheduling order of the timer of the current state
    refunds: list[str] = field(default_factory=list)


@dataclass
class _Refund:  # SPEC §6
    ref: str
    order: int
    created: datetime
    charge: str
    amount: Decimal
    currency: str
    state: str = "RefundInitiated"
    reason: str | None = None


@dataclass
class _Dispute:  # docs/dispute.md
    ref: str
    order: int
    created: datetime
    charge: str
    amount: Decimal
    kind: str  # "Chargeback" | "AtoZClaim"
    asked: datetime  # when it last asked for the merchant's response
    timer_seq: int
    state: str = "ActionRequired"
    reason: str | None = "MerchantResponseRequired"


@dataclass
class _Async:
    """An asynchronous outcome (SPEC §7), scheduled by a call."""

    due: datetime
    seq: int
    kind: str  # "authorize" | "capture" | "refund"
    ref: str
    code: str | None  # the simulation code that decides the outcome, if any


@dataclass
class _Event:
    """Something due: a timer derived from state, or an asynchronous outcome."""

    due: datetime
    category: int
    order: int
    seq: int
    kind: str
    ref: str
    scheduled: _Async | None = None

    def key(self) -> tuple[datetime, int, int, int]:
        return (self.due, self.category, self.order, self.seq)


# --------------------------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------------------------


def _price(value: Any) -> tuple[Decimal, str]:
    """A validated price object as (amount, currency)."""
    # SPEC §1 rev 2: a JSON-number amount counts by its text (a float by its repr, the
    # shortest text that reads back the same), never through binary arithmetic.
    amount = value["amount"]
    if isinstance(amount, float):
        amount = repr(amount)
    return Decimal(str(amount)), str(value["currencyCode"])


def _merge(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Merge `given` into a copy of `stored`: nested objects key by key, a null changes nothing."""
    result = dict(stored)
    for key, value in given.items():
        if value is None:
            continue
        old = result.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            result[key] = _merge(old, value)
        elif isinstance(value, dict):
            result[key] = _merge({}, value)
        else:
            result[key] = value
    return result


def _canonical(value: Any) -> Any:
    """A comparable form of a request body (key order ignored, bool and int kept apart)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((repr(k), _canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(_canonical(item) for item in value))
    return (type(value).__name__, repr(value))


def _refuse(code: str, created: dict[str, str] | None = None) -> Outcome:
    return Outcome(
        ok=False, status=ERROR_STATUS[code], error_code=code, created=dict(created or {})
    )


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware (SPEC §1)")
    return when.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# The model.
# --------------------------------------------------------------------------------------------


class RefAmazonPay:
    def __init__(self, start: datetime, limits: RefLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._now = _aware(start)
        self._sessions: dict[str, _Session] = {}
        self._permissions: dict[str, _Permission] = {}
        self._charges: dict[str, _Charge] = {}
        self._refunds: dict[str, _Refund] = {}
        self._disputes: dict[str, _Dispute] = {}
        # SPEC §11 Get Buyer: buyer token ref -> when the buyer signed in.
        self._buyers: dict[str, datetime] = {}
        self._async: list[_Async] = []
        self._notes: list[tuple[str, str]] = []
        # SPEC §7 as Amazon runs it: a key space per operation, (operation, key) -> the
        # first request and its answer (the Node SDK's tst/webStoreClientTest.js sends
        # one key on createCheckoutSession, createCharge, captureCharge, ...).
        self._keys: dict[tuple[str, str], tuple[Any, Outcome]] = {}
        self._counters: dict[str, int] = {"cs": 0, "cp": 0, "ch": 0, "rf": 0, "dp": 0}
        self._order = 0
        self._seq = 0

    # ---------------------------------------------------------------------------- time

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.move_to(self._now + delta)

    def move_to(self, when: datetime) -> None:
        when = _aware(when)
        if when < self._now:
            raise ValueError("time only moves forward")
        self._now = when
        self._apply_due()

    def _stamp(self) -> datetime:
        # Objects' timestamps are whole seconds.
        return self._now.replace(microsecond=0)

    def _passed(self, deadline: datetime) -> bool:
        # SPEC §2 Decision: a TTL has passed at t >= t0 + L (strictly > when the flag is off).
        if self.limits.ttl_passed_at_deadline:
            return self._now >= deadline
        return self._now > deadline

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _next_order(self) -> int:
        self._order += 1
        return self._order

    def _new_ref(self, prefix: str) -> str:
        self._counters[prefix] += 1
        return f"{prefix}{self._counters[prefix]}"

    # ------------------------------------------------------------------ due events (SPEC §2)

    def _permission_expiration(self, cp: _Permission) -> datetime:
        # SPEC §2: recurring 13 months, restarted by each successful charge; one-time 180 d,
        # or 13 months when the session asked for extendExpiration.
        if cp.kind in RECURRING_KINDS:
            start = cp.created
            if cp.last_success is not None and cp.last_success > start:
                start = cp.last_success
            return add_months(start, self.limits.recurring_permission_months)
        if cp.extended:
            return add_months(cp.created, self.limits.extended_permission_months)
        return cp.created + self.limits.one_time_permission_ttl

    def _events(self) -> list[_Event]:
        """Every timer and asynchronous outcome that is due at now()."""
        limits = self.limits
        # Timers come after async outcomes at equal times only when the boundary is strict.
        timer_category = 0 if limits.ttl_passed_at_deadline else 1
        events: list[_Event] = []

        def timer(due: datetime, order: int, seq: int, kind: str, ref: str) -> None:
            if self._passed(due):
                events.append(_Event(due, timer_category, order, seq, kind, ref))

        for cs in self._sessions.values():
            if cs.deleted:
                continue
            if cs.state == "Open":
                timer(
                    cs.created + limits.checkout_session_ttl,
                    cs.order,
                    cs.expire_seq,
                    "session_expire",
                    cs.ref,
                )
            timer(
                cs.created + limits.checkout_session_retention,
                cs.order,
                cs.delete_seq,
                "session_delete",
                cs.ref,
            )
        for cp in self._permissions.values():
            if cp.state != "Closed":
                timer(
                    self._permission_expiration(cp),
                    cp.order,
                    cp.timer_seq,
                    "permission_expire",
                    cp.ref,
                )
        for ch in self._charges.values():
            if ch.state == "Authorized":
                assert ch.authorized_at is not None
                timer(
                    ch.authorized_at + limits.authorization_ttl,
                    ch.order,
                    ch.timer_seq,
                    "charge_expire",
                    ch.ref,
                )
            elif ch.state == "AuthorizationInitiated":
                timer(
                    ch.created + limits.pending_authorization_ttl,
                    ch.order,
                    ch.timer_seq,
                    "charge_timeout",
                    ch.ref,
                )
        for dp in self._disputes.values():
            # No merchant window while the buyer is asked (docs/dispute.md).
            if dp.state == "ActionRequired" and dp.reason != "BuyerAdditionalEvidencesRequired":
                timer(self._dispute_deadline(dp), dp.order, dp.timer_seq, "dispute_expire", dp.ref)
        for item in self._async:
            if item.due <= self._now:
                events.append(
                    _Event(
                        item.due,
                        0,
                        self._object_order(item.ref),
                        item.seq,
                        item.kind,
                        item.ref,
                        item,
                    )
                )
        return events

    def _dispute_deadline(self, dp: _Dispute) -> datetime:
        # The Dispute Window: 11 days for a chargeback, 7 for an A-to-z claim.
        if dp.kind == "AtoZClaim":
            return dp.asked + self.limits.claim_response_window
        return dp.asked + self.limits.chargeback_response_window

    def _object_order(self, ref: str) -> int:
        if ref in self._charges:
            return self._charges[ref].order
        return self._refunds[ref].order

    def _apply_due(self) -> None:
        while True:
            events = self._events()
            if not events:
                return
            first = min(events, key=lambda event: event.key())
            self._fire(first)

    def _fire(self, event: _Event) -> None:
        at = event.due.replace(microsecond=0)
        if event.scheduled is not None:
            self._async.remove(event.scheduled)
        kind = event.kind
        if kind == "session_expire":
            # SPEC §3: 24 h pass → Canceled/Expired (no notification for sessions).
            cs = self._sessions[event.ref]
            cs.state = "Canceled"
            cs.reason = "Expired"
        elif kind == "session_delete":
            # SPEC §2: after retention the session is gone.
            self._sessions[event.ref].deleted = True
        elif kind == "permission_expire":
            self._permission_to(self._permissions[event.ref], "Closed", ["Expired"])
        elif kind == "charge_expire":
            # SPEC §5: 30 days in Authorized → Canceled/ExpiredUnused.
            self._charge_to(self._charges[event.ref], "Canceled", "ExpiredUnused", at)
        elif kind == "charge_timeout":
            # SPEC §2: pending authorization unresolved for 24 h → Declined/TransactionTimedOut.
            self._charge_to(self._charges[event.ref], "Declined", "TransactionTimedOut", at)
        elif kind == "authorize":
            ch = self._charges[event.ref]
            if ch.state != "AuthorizationInitiated":
                return  # dropped: the charge left the pending state meanwhile
            if self._permissions[ch.permission].card == "4354":
                self._charge_to(ch, "Declined", "HardDeclined", at)  # SPEC §7 card 4354
            else:
                self._charge_to(ch, "Authorized", None, at)
        elif kind == "capture":
            ch = self._charges[event.ref]
            if ch.state != "CaptureInitiated":
                return
            if event.scheduled is not None and event.scheduled.code == "AmazonRejected":
                self._charge_to(ch, "Declined", "AmazonRejected", at)
            else:
                self._charge_to(ch, "Captured", None, at)
        elif kind == "refund":
            rf = self._refunds[event.ref]
            if rf.state != "RefundInitiated":
                return
            code = event.scheduled.code if event.scheduled is not None else None
            if code is not None:
                rf.state, rf.reason = "Declined", code
            else:
                rf.state, rf.reason = "Refunded", None
            self._notify("REFUND", rf.ref)
        elif kind == "dispute_expire":
            # Uncontested when the window closes: Resolved, the buyer won.
            dp = self._disputes[event.ref]
            dp.state, dp.reason = "Resolved", "MerchantResponseDeadlineExpired"
            self._notify("CHARGEBACK", dp.ref)
        else:  # pragma: no cover - typo guard
            raise AssertionError(kind)

    def _schedule(self, kind: str, ref: str, at: datetime, code: str | None = None) -> None:
        due = at + self.limits.async_outcome_delay
        self._async.append(_Async(due=due, seq=self._next_seq(), kind=kind, ref=ref, code=code))

    # -------------------------------------------------------------- state changes and effects

    def _notify(self, object_type: str, ref: str) -> None:
        self._notes.append((object_type, ref))

    def _permission_to(self, cp: _Permission, state: str, reasons: list[str]) -> None:
        cp.state = state
        cp.reasons = list(reasons)
        self._notify("CHARGE_PERMISSION", cp.ref)

    def _charge_to(self, ch: _Charge, state: str, reason: str | None, at: datetime) -> None:
        ch.state = state
        ch.reason = reason
        self._notify("CHARGE", ch.ref)
        self._charge_entered(ch, at)

    def _charge_entered(self, ch: _Charge, at: datetime) -> None:
        """Effects of a charge entering its current state (after its own notification)."""
        cp = self._permissions[ch.permission]
        if ch.state == "AuthorizationInitiated":
            ch.timer_seq = self._next_seq()  # the 24 h pending timer
            self._schedule("authorize", ch.ref, at)
        elif ch.state == "Authorized":
            ch.authorized_at = at
            ch.timer_seq = self._next_seq()  # the 30 d authorization timer
            self._restart_permission(cp, at)
        elif ch.state == "Captured":
            self._restart_permission(cp, at)
            self._check_balance_used_up(cp)
        elif ch.state == "Declined":
            self._decline_side_effects(cp, ch.reason)

    def _restart_permission(self, cp: _Permission, at: datetime) -> None:
        # SPEC §2/§5: a successful charge on a recurring CP restarts its 13-month TTL.
        if cp.kind in RECURRING_KINDS:
            cp.last_success = at
            cp.timer_seq = self._next_seq()

    def _check_balance_used_up(self, cp: _Permission) -> None:
        # SPEC §4: when the captured total reaches amountLimit → Closed/AmazonClosed.
        if cp.kind != "OneTime" or cp.state == "Closed" or cp.amount_limit is None:
            return
        captured = Decimal(0)
        for ref in cp.charges:
            ch = self._charges[ref]
            if ch.state == "Captured" and ch.capture_amount is not None:
                captured += ch.capture_amount
        if captured >= cp.amount_limit:
            self._permission_to(cp, "Closed", ["AmazonClosed"])

    def _decline_side_effects(self, cp: _Permission, reason: str | None) -> None:
        # SPEC §5: AmazonRejected closes the CP; HardDeclined makes a recurring CP
        # NonChargeable/PaymentMethodInvalid; the other declines leave it as it was.
        if reason == "AmazonRejected":
            if cp.state != "Closed":
                self._permission_to(cp, "Closed", ["AmazonCanceled"])
        elif reason == "HardDeclined" and cp.kind in RECURRING_KINDS and cp.state == "Chargeable":
            self._permission_to(cp, "NonChargeable", ["PaymentMethodInvalid"])

    def _balance(self, cp: _Permission) -> Decimal | None:
        # SPEC §4: amountLimit − captured − amounts still AuthorizationInitiated, Authorized or
        # CaptureInitiated; never below zero; one-time only.
        if cp.kind != "OneTime" or cp.amount_limit is None:
            return None
        used = Decimal(0)
        for ref in cp.charges:
            ch = self._charges[ref]
            if ch.state == "Captured" and ch.capture_amount is not None:
                used += ch.capture_amount
            elif ch.state in ("AuthorizationInitiated", "Authorized"):
                used += ch.amount
            elif ch.state == "CaptureInitiated":
                used += ch.capture_amount if ch.capture_amount is not None else ch.amount
        balance = cp.amount_limit - used
        if balance < 0:
            return Decimal(0)
        return balance

    def _new_charge(
        self,
        cp: _Permission,
        amount: Decimal,
        currency: str,
        state: str,
        reason: str | None,
        at: datetime,
    ) -> _Charge:
        ch = _Charge(
            ref=self._new_ref("ch"),
            order=self._next_order(),
            created=at,
            permission=cp.ref,
            amount=amount,
            currency=currency,
            state=state,
            reason=reason,
        )
        if state == "Captured":
            ch.capture_amount = amount
        self._charges[ch.ref] = ch
        cp.charges.append(ch.ref)
        self._notify("CHARGE", ch.ref)
        self._charge_entered(ch, at)
        return ch

    # ---------------------------------------------------------------------- lookups

    def _session(self, ref: str | None) -> _Session | None:
        if ref is None:
            return None
        cs = self._sessions.get(ref)
        if cs is None or cs.deleted:
            return None
        return cs

    def _constraints(self, cs: _Session) -> list[str]:
        # SPEC §3: what is still missing while Open, in the brief's order.
        web = cs.fields.get("webCheckoutDetails") or {}
        details = cs.fields.get("paymentDetails") or {}
        recurring = cs.fields.get("recurringMetadata") or {}
        found: list[str] = []
        if not web.get("checkoutResultReturnUrl"):
            found.append("CheckoutResultReturnUrlNotSet")
        intent = details.get("paymentIntent")
        if intent is None:
            found.append("PaymentIntentNotSet")
        if intent in AUTHORIZING_INTENTS and details.get("chargeAmount") is None:
            found.append("ChargeAmountNotSet")
        if not cs.buyer:
            found.append("BuyerNotAssociated")
        # Project decision: an empty frequency object is not set.
        if self._session_kind(cs) == "Recurring" and not recurring.get("frequency"):
            found.append("RecurringFrequencyNotSet")
        return found

    @staticmethod
    def _session_kind(cs: _Session) -> str:
        kind = cs.fields.get("chargePermissionType")
        return "OneTime" if kind is None else str(kind)

    # ---------------------------------------------------------------------- merchant calls

    def call(
        self,
        operation: str,
        ref: str | None,
        body: Any,
        *,
        key: str | None = None,
        simulation_code: str | None = None,
    ) -> Outcome:
        if operation not in ALL_OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        self._apply_due()  # time limits first (SPEC §2)

        if operation not in GET_OPERATIONS and body is None:
            body = {}
        # Only POST operations take idempotency keys (SPEC §7).
        use_key = key if operation in POST_OPERATIONS else None

        # Headers first (SPEC §8 Decision): the key's format, then the simulation code.
        if use_key is not None and (
            not isinstance(use_key, str) or IDEMPOTENCY_KEY.fullmatch(use_key) is None
        ):
            return _refuse("InvalidHeaderValue")  # not remembered
        fingerprint = (operation, ref, _canonical(body), simulation_code)
        if simulation_code is not None and simulation_code not in SIMULATION_CODES.get(
            operation, frozenset()
        ):
            # A code not listed for the operation (SPEC §7). A header fault wins over the key's
            # history; like any refusal it is remembered under a key not used before.
            outcome = _refuse("InvalidSandboxSimulationSpecified")
            if use_key is not None and (operation, use_key) not in self._keys:
                self._keys[operation, use_key] = (fingerprint, outcome)
            return outcome

        if use_key is not None and (operation, use_key) in self._keys:
            first_fingerprint, first_outcome = self._keys[operation, use_key]
            if first_fingerprint == fingerprint:
                # Replay: the first answer again; nothing changes, no notification.
                return replace(first_outcome, created=dict(first_outcome.created))
            return _refuse("DuplicateIdempotencyKey")

        outcome = self._process(operation, ref, body, simulation_code)
        if use_key is not None:
            self._keys[operation, use_key] = (fingerprint, outcome)
        return outcome

    def _process(
        self, operation: str, ref: str | None, body: Any, simulation_code: str | None
    ) -> Outcome:
        if body is not None:
            fault = _validate_body(operation, body, self.limits)
            if fault is not None:
                return _refuse(fault)

        if operation == "create_checkout_session":
            return self._create_checkout_session(body)
        if operation == "get_checkout_session":
            if self._session(ref) is None:
                return _refuse("ResourceNotFound")
            return Outcome(True, 200, None)
        if operation == "update_checkout_session":
            return self._update_checkout_session(ref, body)
        if operation in ("complete_checkout_session", "finalize_checkout_session"):
            # Finalize (Buy Now / mobile) is Complete with the intent in its body.
            return self._complete_checkout_session(ref, body, simulation_code)
        if operation in ("get_charge_permission", "update_charge_permission"):
            cp = self._permissions.get(ref or "")
            if cp is None:
                return _refuse("ResourceNotFound")
            if operation == "update_charge_permission":
                # SPEC §4: Chargeable or NonChargeable only.
                if cp.state not in ("Chargeable", "NonChargeable"):
                    return _refuse("InvalidChargePermissionStatus")
                cp.metadata = _merge(cp.metadata, body)
            return Outcome(True, 200, None)
        if operation == "close_charge_permission":
            return self._close_charge_permission(ref, body)
        if operation == "create_charge":
            return self._create_charge(body, simulation_code)
        if operation == "get_charge":
            if ref is None or ref not in self._charges:
                return _refuse("ResourceNotFound")
            return Outcome(True, 200, None)
        if operation == "capture_charge":
            return self._capture_charge(ref, body, simulation_code)
        if operation == "cancel_charge":
            return self._cancel_charge(ref)
        if operation == "update_charge":
            # Update Charge (Node SDK updateCharge): only a cancellation, as cancel_charge,
            # with the body's reasonCode (ExpiredUnused when absent).
            details = body["statusDetails"]
            return self._cancel_charge(ref, details.get("reasonCode", "ExpiredUnused"))
        if operation == "create_refund":
            return self._create_refund(body, simulation_code)
        if operation == "create_delivery_tracker":
            # Amazon Pay Delivery Tracker: 200 for a permission in any state; nothing changes.
            if body["chargePermissionId"] not in self._permissions:
                return _refuse("ResourceNotFound")
            return Outcome(True, 200, None)
        if operation == "get_buyer":
            # The token reads its buyer for 24 h after sign-in; expired or unknown, it is
            # ResourceNotFound (the project's decision; the boundary as every TTL, SPEC §2).
            signed_in = self._buyers.get(ref or "")
            if signed_in is None or self._passed(signed_in + self.limits.buyer_token_ttl):
                return _refuse("ResourceNotFound")
            return Outcome(True, 200, None)
        if operation in ("create_dispute", "get_dispute", "update_dispute", "contest_dispute"):
            return self._dispute_call(operation, ref, body)
        if operation == "upload_file":
            return Outcome(True, 200, None)  # a File: no object of a lifecycle
        # get_refund
        if ref is None or ref not in self._refunds:
            return _refuse("ResourceNotFound")
        return Outcome(True, 200, None)

    # SPEC §3 ---------------------------------------------------------------------------

    def _create_checkout_session(self, body: dict[str, Any]) -> Outcome:
        cs = _Session(
            ref=self._new_ref("cs"),
            order=self._next_order(),
            created=self._stamp(),
            fields=_merge({}, body),
            expire_seq=self._next_seq(),
            delete_seq=self._next_seq(),
        )
        self._sessions[cs.ref] = cs
        return Outcome(True, 201, None, {"CheckoutSession": cs.ref})

    def _update_checkout_session(self, ref: str | None, body: dict[str, Any]) -> Outcome:
        cs = self._session(ref)
        if cs is None:
            return _refuse("ResourceNotFound")
        if cs.state != "Open":
            return _refuse("InvalidCheckoutSessionStatus")
        merged = _merge(cs.fields, body)
        details = merged.get("paymentDetails") or {}
        if (
            details.get("canHandlePendingAuthorization") is True
            and details.get("paymentIntent") == "AuthorizeWithCapture"
        ):
            return _refuse("InvalidParameterCombination")
        cs.fields = merged
        return Outcome(True, 200, None)

    def _complete_checkout_session(
        self, ref: str | None, body: dict[str, Any], simulation_code: str | None
    ) -> Outcome:
        cs = self._session(ref)
        if cs is None:
            return _refuse("ResourceNotFound")  # step 1
        if cs.state == "Canceled" and cs.reason in ("BuyerCanceled", "Declined", "AmazonCanceled"):
            return _refuse("CheckoutSessionCanceled")  # step 2
        if cs.state != "Open":
            return _refuse("InvalidCheckoutSessionStatus")  # step 3
        if self._constraints(cs):
            return _refuse("InvalidCheckoutSessionStatus")  # step 4
        details = cs.fields.get("paymentDetails") or {}
        amount, currency = _price(body["chargeAmount"])
        if details.get("chargeAmount") is not None:
            session_amount, session_currency = _price(details["chargeAmount"])
            if currency != session_currency:
                return _refuse("CurrencyMismatch")  # step 5
            if amount != session_amount:
                return _refuse("AmountMismatch")  # step 6
        # SPEC §11: the session's totalOrderAmount must be repeated (absent:
        # MissingParameterValue) and equal (else AmountMismatch).
        if details.get("totalOrderAmount") is not None:
            if body.get("totalOrderAmount") is None:
                return _refuse("MissingParameterValue")
            if _price(body["totalOrderAmount"]) != _price(details["totalOrderAmount"]):
                return _refuse("AmountMismatch")
        # SPEC §11: the per-charge maximum (§5) holds for the charge a completion creates
        # (Finalize carries its paymentIntent in the body).
        if (body if "paymentIntent" in body else details).get(
            "paymentIntent"
        ) in AUTHORIZING_INTENTS:
            largest = self.limits.max_charge_amount.get(currency)
            if largest is not None and amount > largest:
                return _refuse("InvalidParameterValue")

        # SPEC §7 simulation: the session is canceled with that reason.
        if simulation_code is not None:
            cs.state, cs.reason = "Canceled", simulation_code
            return _refuse("CheckoutSessionCanceled")

        # Finalize carries paymentIntent (and canHandlePendingAuthorization) in its body.
        chosen = body if "paymentIntent" in body else details
        intent = chosen.get("paymentIntent")
        authorizes = intent in AUTHORIZING_INTENTS
        pending = intent == "Authorize" and chosen.get("canHandlePendingAuthorization") is True
        # SPEC §7 sandbox cards: 3434 declined; 0701 and 4354 need Authorize plus
        # canHandlePendingAuthorization: with anything else (Confirm too) they are an error.
        if (cs.card == "3434" and authorizes) or (cs.card in PENDING_CARDS and not pending):
            cs.state, cs.reason = "Canceled", "Declined"
            return _refuse("CheckoutSessionCanceled")

        # Step 7: Completed, a Charge Permission, and a Charge by paymentIntent.
        at = self._stamp()
        cs.state, cs.reason = "Completed", None
        kind = self._session_kind(cs)
        amount_limit: Decimal | None = None
        if kind == "OneTime":
            if body.get("totalOrderAmount") is not None:
                amount_limit = _price(body["totalOrderAmount"])[0]
            elif details.get("totalOrderAmount") is not None:
                amount_limit = _price(details["totalOrderAmount"])[0]
            else:
                amount_limit = amount
            if details.get("allowOvercharge") is True:
                # SPEC §11: 900 % of the order amount or 500 USD/EUR/GBP (70,000 JPY),
                # whichever is more.
                raised = amount_limit * self.limits.overcharge_rate
                places = self.limits.currency_decimals.get(currency)
                if places is not None:  # rounded down to the minor unit
                    raised = raised.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
                floor = self.limits.overcharge_floor.get(currency)
                amount_limit = max(raised, floor) if floor is not None else raised
        cp = _Permission(
            ref=self._new_ref("cp"),
            order=self._next_order(),
            created=at,
            kind=kind,
            currency=currency,
            amount_limit=amount_limit,
            extended=details.get("extendExpiration") is True,
            card=cs.card,
            timer_seq=self._next_seq(),
        )
        self._permissions[cp.ref] = cp
        self._notify("CHARGE_PERMISSION", cp.ref)
        created = {"ChargePermission": cp.ref}
        status = 200
        if intent == "Authorize":
            if pending:
                ch = self._new_charge(cp, amount, currency, "AuthorizationInitiated", None, at)
                status = 202
            else:
                ch = self._new_charge(cp, amount, currency, "Authorized", None, at)
            created["Charge"] = ch.ref
        elif intent == "AuthorizeWithCapture":
            ch = self._new_charge(cp, amount, currency, "Captured", None, at)
            created["Charge"] = ch.ref
        return Outcome(True, status, None, created)

    # SPEC §4 ---------------------------------------------------------------------------

    def _close_charge_permission(self, ref: str | None, body: dict[str, Any]) -> Outcome:
        cp = self._permissions.get(ref or "")
        if cp is None:
            return _refuse("ResourceNotFound")
        if cp.state not in ("Chargeable", "NonChargeable"):
            return _refuse("InvalidChargePermissionStatus")
        at = self._stamp()
        self._permission_to(cp, "Closed", ["MerchantClosed"])
        if body.get("cancelPendingCharges") is True:
            for charge_ref in cp.charges:
                ch = self._charges[charge_ref]
                if ch.state in ("AuthorizationInitiated", "Authorized"):
                    self._charge_to(ch, "Canceled", "ChargePermissionCanceled", at)
        return Outcome(True, 200, None)

    # SPEC §5 ---------------------------------------------------------------------------

    def _month_total(self, cp: _Permission) -> Decimal:
        """This UTC calendar month's charges on `cp` that are not Canceled or Declined."""
        month_start = datetime(self._now.year, self._now.month, 1, tzinfo=UTC)
        total = Decimal(0)
        for ref in cp.charges:
            ch = self._charges[ref]
            if ch.created < month_start or ch.state in ("Canceled", "Declined"):
                continue
            total += ch.capture_amount if ch.capture_amount is not None else ch.amount
        return total

    def _create_charge(self, body: dict[str, Any], simulation_code: str | None) -> Outcome:
        cp = self._permissions.get(body["chargePermissionId"])
        if cp is None:
            return _refuse("ResourceNotFound")
        if cp.state != "Chargeable":
            return _refuse("InvalidChargePermissionStatus")
        amount, currency = _price(body["chargeAmount"])
        if currency != cp.currency:
            return _refuse("CurrencyMismatch")
        maximum = self.limits.max_charge_amount.get(currency)
        if maximum is not None and amount > maximum:
            return _refuse("InvalidParameterValue")
        if cp.kind == "OneTime":
            if len(cp.charges) >= self.limits.max_charges:
                return _refuse("TransactionCountExceeded")
            balance = self._balance(cp)
            if balance is not None and amount > balance:
                return _refuse("TransactionAmountExceeded")
        else:
            # SPEC §5 (Recurring) and §11 (PaymentMethodOnFile): a cap per calendar month.
            if cp.kind == "Recurring":
                cap = self.limits.recurring_monthly_cap.get(currency)
            else:
                cap = self.limits.payment_method_on_file_monthly_cap.get(currency)
            if cap is not None and self._month_total(cp) + amount > cap:
                return _refuse("PeriodicAmountExceeded")

        at = self._stamp()
        if simulation_code is not None:
            # SPEC §7: created Declined with that reason; the call answers that code.
            ch = self._new_charge(cp, amount, currency, "Declined", simulation_code, at)
            return _refuse(simulation_code, {"Charge": ch.ref})
        if body.get("captureNow") is True:
            state = "Captured"
        elif body.get("canHandlePendingAuthorization") is True:
            state = "AuthorizationInitiated"
        else:
            state = "Authorized"
        if cp.card in DECLINING_CARDS and state in ("Authorized", "Captured"):
            ch = self._new_charge(cp, amount, currency, "Declined", "HardDeclined", at)
            return _refuse("HardDeclined", {"Charge": ch.ref})
        ch = self._new_charge(cp, amount, currency, state, None, at)
        return Outcome(True, 201, None, {"Charge": ch.ref})

    def _capture_charge(
        self, ref: str | None, body: dict[str, Any], simulation_code: str | None
    ) -> Outcome:
        ch = self._charges.get(ref or "")
        if ch is None:
            return _refuse("ResourceNotFound")
        if ch.state != "Authorized":
            return _refuse("InvalidChargeStatus")
        amount, currency = _price(body["captureAmount"])
        if currency != ch.currency:
            return _refuse("CurrencyMismatch")
        if amount > ch.amount:
            return _refuse("TransactionAmountExceeded")
        ch.capture_amount = amount
        at = self._stamp()
        assert ch.authorized_at is not None
        boundary = ch.authorized_at + self.limits.async_capture_after
        if self.limits.async_capture_at_boundary:
            late = self._now >= boundary
        else:
            late = self._now > boundary  # SPEC §2: "more than 7 days"
        if late or simulation_code is not None:
            self._charge_to(ch, "CaptureInitiated", None, at)
            self._schedule("capture", ch.ref, at, simulation_code)
        else:
            self._charge_to(ch, "Captured", None, at)
        return Outcome(True, 200, None)

    def _cancel_charge(self, ref: str | None, reason: str = "MerchantCanceled") -> Outcome:
        ch = self._charges.get(ref or "")
        if ch is None:
            return _refuse("ResourceNotFound")
        if ch.state not in ("AuthorizationInitiated", "Authorized"):
            return _refuse("InvalidChargeStatus")
        self._charge_to(ch, "Canceled", reason, self._stamp())
        return Outcome(True, 200, None)

    # SPEC §6 ---------------------------------------------------------------------------

    def _create_refund(self, body: dict[str, Any], simulation_code: str | None) -> Outcome:
        ch = self._charges.get(body["chargeId"])
        if ch is None:
            return _refuse("ResourceNotFound")
        if ch.state != "Captured":
            return _refuse("InvalidChargeStatus")
        amount, currency = _price(body["refundAmount"])
        if currency != ch.currency:
            return _refuse("CurrencyMismatch")
        largest = self.limits.max_refund_amount.get(currency)
        if largest is not None and amount > largest:
            return _refuse("InvalidParameterValue")  # SPEC §11: one refund's maximum
        if len(ch.refunds) >= self.limits.max_refunds_per_charge:
            return _refuse("TransactionCountExceeded")
        captured = ch.capture_amount if ch.capture_amount is not None else ch.amount
        earlier = Decimal(0)
        for refund_ref in ch.refunds:
            rf = self._refunds[refund_ref]
            if rf.state != "Declined":
                earlier += rf.amount
        allowance = refund_allowance(captured, currency, self.limits)
        if earlier + amount > captured + allowance:
            return _refuse("TransactionAmountExceeded")
        at = self._stamp()
        rf = _Refund(
            ref=self._new_ref("rf"),
            order=self._next_order(),
            created=at,
            charge=ch.ref,
            amount=amount,
            currency=currency,
        )
        self._refunds[rf.ref] = rf
        ch.refunds.append(rf.ref)
        self._notify("REFUND", rf.ref)
        self._schedule("refund", rf.ref, at, simulation_code)
        return Outcome(True, 201, None, {"Refund": rf.ref})

    # ------------------------------------------------------------------ disputes

    def _dispute_call(self, operation: str, ref: str | None, body: Any) -> Outcome:
        if operation == "create_dispute":
            ch = self._charges.get(body["chargeId"])
            if ch is None:
                return _refuse("ResourceNotFound")
            if ch.state != "Captured":
                return _refuse("InvalidChargeStatus")
            amount, currency = _price(body["disputeAmount"])
            if currency != ch.currency:
                return _refuse("CurrencyMismatch")
            captured = ch.capture_amount if ch.capture_amount is not None else ch.amount
            if amount > captured:
                return _refuse("TransactionAmountExceeded")
            at = self._stamp()
            dp = _Dispute(
                ref=self._new_ref("dp"),
                order=self._next_order(),
                created=at,
                charge=ch.ref,
                amount=amount,
                kind=body.get("disputeType") or "Chargeback",
                asked=at,
                timer_seq=self._next_seq(),
            )
            self._disputes[dp.ref] = dp
            self._notify("CHARGEBACK", dp.ref)
            return Outcome(True, 200, None, {"Dispute": dp.ref})
        found = self._disputes.get(ref or "")
        if found is None:
            return _refuse("ResourceNotFound")
        if operation == "get_dispute":
            return Outcome(True, 200, None)
        if operation == "contest_dispute":
            # Under review already, or closed and immutable: refused. A Resolved dispute is
            # reopened within the Dispute Window ("within the specified Dispute Window":
            # the SDKs' contestDispute; the Node SDK's tst/webStoreClientTest.js contests one
            # it has updated to Resolved and expects 200), never after it.
            if found.state in ("UnderReview", "Closed"):
                return _refuse("InvalidDisputeStatus")
            if found.state == "Resolved" and self._passed(self._dispute_deadline(found)):
                return _refuse("InvalidDisputeStatus")
            found.state, found.reason = "UnderReview", None
        else:  # update_dispute: a provider reports the resolution or closure
            # On any dispute but a Closed one: "Closed represents the dispute is closed and
            # immutable" (amzn/amazon-pay-api-sdk-java .../types/DisputeState.java).
            if found.state == "Closed":
                return _refuse("InvalidDisputeStatus")
            details = body["statusDetails"]
            found.state = details["state"]
            found.reason = details.get("reasonCode", "InvestigatorResolved")
        self._notify("CHARGEBACK", found.ref)
        return Outcome(True, 200, None)

    # ------------------------------------------------------------ the buyer's and Amazon's side

    def _open_session(self, session_ref: str) -> _Session:
        self._apply_due()
        cs = self._session(session_ref)
        if cs is None or cs.state != "Open":
            raise ValueError(f"no Open checkout session {session_ref!r}")
        return cs

    def _live_permission(self, permission_ref: str, states: tuple[str, ...]) -> _Permission:
        self._apply_due()
        cp = self._permissions.get(permission_ref)
        if cp is None or cp.state not in states:
            raise ValueError(f"charge permission {permission_ref!r} is not in {states}")
        return cp

    def buyer_approve(self, session_ref: str, card: str = "1111") -> None:
        cs = self._open_session(session_ref)
        cs.buyer = True
        cs.card = card
        if card == "3064":  # SPEC §7: buyer cancels
            cs.state, cs.reason = "Canceled", "BuyerCanceled"
        elif card == "3434":  # Amazon's sandbox page: Canceled/Declined when the buyer returns
            cs.state, cs.reason = "Canceled", "Declined"

    def buyer_sign_in(self) -> str:
        """Amazon Sign-in (SPEC §11): a new buyer token's ref."""
        self._apply_due()
        ref = f"by{len(self._buyers) + 1}"
        self._buyers[ref] = self._stamp()
        return ref

    def buyer_cancel(self, session_ref: str) -> None:
        cs = self._open_session(session_ref)
        cs.state, cs.reason = "Canceled", "BuyerCanceled"

    def buyer_close(self, permission_ref: str) -> None:
        cp = self._live_permission(permission_ref, ("Chargeable", "NonChargeable"))
        self._permission_to(cp, "Closed", ["BuyerClosed"])

    def payment_method_problem(self, permission_ref: str, reason: str) -> None:
        if reason not in NON_CHARGEABLE_REASONS:
            raise ValueError(f"not a NonChargeable reason: {reason!r}")
        cp = self._live_permission(permission_ref, ("Chargeable", "NonChargeable"))
        if cp.state == "Chargeable":
            self._permission_to(cp, "NonChargeable", [reason])
        elif reason not in cp.reasons:
            self._permission_to(cp, "NonChargeable", [*cp.reasons, reason])

    def payment_method_fixed(self, permission_ref: str) -> None:
        cp = self._live_permission(permission_ref, ("NonChargeable",))
        self._permission_to(cp, "Chargeable", [])

    # ---------------------------------------------------------------------- observation

    def view(self, ref: str) -> dict[str, Any] | None:
        self._apply_due()
        if ref in self._sessions:
            cs = self._sessions[ref]
            if cs.deleted:
                return None
            return {
                "type": "CheckoutSession",
                "state": cs.state,
                "reason": cs.reason,
                "constraints": self._constraints(cs) if cs.state == "Open" else [],
            }
        if ref in self._permissions:
            cp = self._permissions[ref]
            return {
                "type": "ChargePermission",
                "state": cp.state,
                "reason": cp.reasons[0] if cp.reasons else None,
                "amountLimit": cp.amount_limit if cp.kind == "OneTime" else None,
                "amountBalance": self._balance(cp),
                "expiration": None if cp.state == "Closed" else self._permission_expiration(cp),
            }
        if ref in self._charges:
            ch = self._charges[ref]
            refunded = Decimal(0)
            for refund_ref in ch.refunds:
                if self._refunds[refund_ref].state == "Refunded":
                    refunded += self._refunds[refund_ref].amount
            expiration = None
            if ch.authorized_at is not None:
                expiration = ch.authorized_at + self.limits.authorization_ttl
            return {
                "type": "Charge",
                "state": ch.state,
                "reason": ch.reason,
                "amount": ch.amount,
                "captureAmount": ch.capture_amount,
                "refundedAmount": refunded,
                "expiration": expiration,
            }
        if ref in self._refunds:
            rf = self._refunds[ref]
            return {"type": "Refund", "state": rf.state, "reason": rf.reason, "amount": rf.amount}
        if ref in self._disputes:
            dp = self._disputes[ref]
            return {
                "type": "Dispute",
                "state": dp.state,
                "reason": dp.reason,
                "amount": dp.amount,
                "deadline": self._dispute_deadline(dp),
            }
        return None

    def notifications(self) -> list[tuple[str, str]]:
        self._apply_due()
        return list(self._notes)


__all__ = ["Outcome", "RefAmazonPay"]
