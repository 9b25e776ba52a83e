"""``Simulator``: an in-process Amazon Pay (SPEC §1–§8).

Linked objects, a controllable clock, idempotency keys, sandbox simulation codes and test
cards, asynchronous outcomes and IPN notifications — synchronous and deterministic. Every
decision goes through the engine the validator uses (``_engine.decide``) with the
simulator's records as facts, so the two cannot disagree on a rule a payload shows.

Time never moves by itself: expiries and asynchronous outcomes are scheduled events that
``advance`` — and every call, first of all — settles in time order. No threads, no timers.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Literal

import attrs

from apfsm._clock import Clock, ManualClock, SystemClock, format_timestamp, require_aware
from apfsm._decide import DEADLINE_FUNCTIONS, Money, body_fault, decide, parse_money
from apfsm._errors import ActionRefused, ApiError
from apfsm._spec import (
    DELETED,
    ERRORS,
    LIFECYCLES,
    OPERATIONS,
    SAME,
    SANDBOX_CARDS,
    SIMULATION_CODES,
    Event,
    Limits,
)

from .journal import ChangeCursor, Journal
from .ledger import ChargeLedger, PermissionLedger, ledger_of
from .log import CallLog, Idempotent, LogRecord, digest, dumps, snapshot
from .records import (
    ChargePermissionRecord,
    ChargeRecord,
    CheckoutSessionRecord,
    RefundRecord,
    copy_json,
    merge,
)
from .snapshots import dump, load

__all__ = ["LogRecord", "Response", "Simulator"]

Record = CheckoutSessionRecord | ChargePermissionRecord | ChargeRecord | RefundRecord

_KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+\Z")
_TYPES: Final[dict[type[Any], str]] = {
    CheckoutSessionRecord: "CheckoutSession",
    ChargePermissionRecord: "ChargePermission",
    ChargeRecord: "Charge",
    RefundRecord: "Refund",
}
_NOTIFICATION_TYPES: Final = {
    name: lc.notification_type for name, lc in LIFECYCLES.items() if lc.notification_type
}
#: The code a refusal by state answers, per object type (the codes its refusals use; a
#: Refund is refused by nothing, so an impossible event on it is an invalid request).
_STATE_ERRORS: Final = {
    lc.object_type: next(
        (r.code for r in lc.refusals if r.code != "ResourceNotFound"), "InvalidRequest"
    )
    for lc in LIFECYCLES.values()
}
_EVENTS: Final[dict[tuple[str, str], Event]] = {
    (lc.object_type, e.name): e for lc in LIFECYCLES.values() for e in lc.events
}
_TIMERS: Final = {(lc.object_type, t.name): t for lc in LIFECYCLES.values() for t in lc.timers}
_TIMERS_FROM: Final = {
    (lc.object_type, state): tuple(t for t in lc.timers if state in t.sources)
    for lc in LIFECYCLES.values()
    for state in lc.state_names()
}


@attrs.frozen
class Response:
    """A successful answer: the HTTP status and the JSON body."""

    status: int
    body: dict[str, Any]


def _digits(seed: str, count: int) -> str:
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    return f"{number % 10**count:0{count}d}"


class Simulator:
    """An in-process Amazon Pay for tests: the API's operations, the buyer's and Amazon's
    side, and a clock you control.

    Args:
        clock: where time comes from; a ``ManualClock`` at the current time (to the second)
            by default. Moving the clock directly is safe: every call first settles what is
            due.
        limits: the limits to apply (SPEC's by default).
        merchant_id: the merchant id in notifications.
        on_notification: called with each IPN message (SPEC §7), after the call that caused
            it has completed, in emission order.

    Every API method takes and returns the API's JSON (dicts); a refused call raises
    ``apfsm.ApiError`` and changes nothing — except where SPEC gives a refusal effects
    (simulated declines keep the Declined charge; a sandbox cancellation cancels the
    session).
    """

    def __init__(
        self,
        clock: Clock | None = None,
        limits: Limits | None = None,
        merchant_id: str = "A1SANDBOXMERCHANT",
        *,
        on_notification: Callable[[dict[str, Any]], object] | None = None,
    ) -> None:
        if clock is None:
            clock = ManualClock(SystemClock().now().replace(microsecond=0))
        if not callable(getattr(clock, "now", None)):
            raise TypeError(f"clock must have a now() method, got {type(clock).__name__}")
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be an apfsm.Limits, got {type(limits).__name__}")
        if not isinstance(merchant_id, str) or not merchant_id:
            raise ValueError("merchant_id must be a non-empty string")
        self._clock = clock
        self._limits = limits if limits is not None else Limits()
        self.merchant_id = merchant_id
        self.on_notification = on_notification
        #: Every IPN message emitted, in emission order.
        self.notifications: list[dict[str, Any]] = []
        #: One record per call, in call order (older records are kept compressed).
        self.log: CallLog = CallLog()
        self._objects: dict[str, Record] = {}
        self._queue: list[tuple[datetime, int, int, int, tuple[str, ...]]] = []
        self._idempotency: dict[str, Idempotent] = {}
        self._counters: dict[str, int] = {"object": 0, "event": 0, "notification": 0, "id": 0}
        # Lock order: _lock (state) may take _log_lock; _keys_lock is never held with either.
        self._lock = threading.RLock()
        self._keys_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._outbox: list[dict[str, Any]] = []
        self._changes = Journal()
        self._delivering = threading.local()

    # ---------------------------------------------------------------------------------
    # Time
    # ---------------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def limits(self) -> Limits:
        return self._limits

    def now(self) -> datetime:
        """The clock's time (aware UTC)."""
        return require_aware(self._clock.now(), "the clock's time")

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and settle every event now due, in time
        order (expiries, asynchronous outcomes). Needs a clock with ``advance``."""
        advance = getattr(self._clock, "advance", None)
        if advance is None:
            raise TypeError(f"{type(self._clock).__name__} cannot be advanced; use ManualClock")
        with self._lock:
            advance(delta)
            self._settle(self.now())
        self._deliver()
        return self.now()

    def settle(self) -> None:
        """Apply every event due at the clock's current time (each call does this too)."""
        with self._lock:
            self._settle(self.now())
        self._deliver()

    def pending_events(self) -> list[tuple[datetime, str, str]]:
        """Scheduled events that will still apply: (due time, object id, timer or event
        name), earliest first."""
        with self._lock:
            out = []
            for due, *_, action in sorted(self._queue):
                record = self._objects.get(action[1])
                if record is None:
                    continue
                object_type = _TYPES[type(record)]
                if action[0] == "timer":
                    timer = _TIMERS[(object_type, action[2])]
                    live = record.state in timer.sources and due == DEADLINE_FUNCTIONS[
                        timer.deadline
                    ](record, self._limits)
                else:
                    live = record.state in _EVENTS[(object_type, action[2])].sources
                if live:
                    out.append((due, action[1], action[2]))
            return out

    def next_event_at(self) -> datetime | None:
        """When the next scheduled event that will still apply is due (None when none)."""
        pending = self.pending_events()
        return pending[0][0] if pending else None

    # ---------------------------------------------------------------------------------
    # The API (SPEC §1)
    # ---------------------------------------------------------------------------------

    def create_checkout_session(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        return self.request(
            "create_checkout_session",
            None,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def get_checkout_session(self, checkout_session_id: str) -> dict[str, Any]:
        return self.request("get_checkout_session", checkout_session_id).body

    def update_checkout_session(
        self, checkout_session_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.request("update_checkout_session", checkout_session_id, body).body

    def complete_checkout_session(
        self,
        checkout_session_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        return self.request(
            "complete_checkout_session",
            checkout_session_id,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def get_charge_permission(self, charge_permission_id: str) -> dict[str, Any]:
        return self.request("get_charge_permission", charge_permission_id).body

    def update_charge_permission(
        self, charge_permission_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.request("update_charge_permission", charge_permission_id, body).body

    def close_charge_permission(
        self, charge_permission_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self.request("close_charge_permission", charge_permission_id, body).body

    def create_charge(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        return self.request(
            "create_charge",
            None,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def get_charge(self, charge_id: str) -> dict[str, Any]:
        return self.request("get_charge", charge_id).body

    def capture_charge(
        self,
        charge_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        return self.request(
            "capture_charge",
            charge_id,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def cancel_charge(
        self, charge_id: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.request("cancel_charge", charge_id, body).body

    def create_refund(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        return self.request(
            "create_refund",
            None,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        return self.request("get_refund", refund_id).body

    def request(
        self,
        operation: str,
        object_id: str | None = None,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Response:
        """Make one API call by name; the typed methods above all come here.

        Args:
            operation: an operation name (SPEC §1).
            object_id: the id in the path (None for ``create_*``).
            body: the decoded JSON body (None for none).
            idempotency_key: the ``x-amz-pay-idempotency-key`` header (POST only).
            simulation_code: the ``x-amz-pay-simulation-code`` header.

        Returns:
            The HTTP status (201 creates, 202 a pending completion, 200) and JSON body.

        Raises:
            ApiError: the call is refused (SPEC §8 code and status).
            ValueError: ``operation`` is unknown, or an idempotency key is given for an
                operation that is not a POST.
        """
        op = OPERATIONS.get(operation)
        if op is None:
            raise ValueError(
                f"unknown operation {operation!r}; operations are {', '.join(OPERATIONS)}"
            )
        if idempotency_key is not None and op.method != "POST":
            raise ValueError(f"idempotency keys apply to POST operations, not {operation}")
        if body is None and not op.is_read:
            body = {}
        if idempotency_key is None or not self._key_is_valid(idempotency_key):
            try:
                with self._lock:
                    return self._call(operation, object_id, body, idempotency_key, simulation_code)[
                        0
                    ]
            finally:
                self._deliver()
        return self._idempotent_call(operation, object_id, body, idempotency_key, simulation_code)

    def _key_is_valid(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and 1 <= len(key) <= self._limits.idempotency_key_max_length
            and _KEY_PATTERN.match(key) is not None
        )

    def _idempotent_call(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        key: str,
        simulation_code: str | None,
    ) -> Response:
        fingerprint = digest(dumps([operation, object_id, body, simulation_code]))
        try:
            # SPEC §7: the key is taken before processing, under a lock of its own, so a
            # duplicate arriving while the first request is processed is told so at once
            # (TransactionInProgress) instead of waiting behind it.
            with self._keys_lock:
                entry = self._idempotency.get(key)
                if entry is None:
                    entry = self._idempotency[key] = Idempotent(fingerprint)
                    seen = None
                else:
                    seen = attrs.evolve(entry)
            if seen is not None:
                return self._replay(
                    seen, fingerprint, operation, object_id, body, key, simulation_code
                )
            try:
                with self._lock:
                    response, seq = self._call(operation, object_id, body, key, simulation_code)
            except ApiError as err:
                with self._keys_lock:
                    entry.pending = False
                    entry.status = err.http_status
                    entry.error = (err.reason_code, err.http_status, err.message)
                raise
            except BaseException:
                with self._keys_lock:
                    del self._idempotency[key]
                raise
            with self._keys_lock:
                entry.pending = False
                entry.status = response.status
                entry.log_seq = seq
            return response
        finally:
            self._deliver()

    def _replay(
        self,
        entry: Idempotent,
        fingerprint: str,
        operation: str,
        object_id: str | None,
        body: Any,
        key: str,
        simulation_code: str | None,
    ) -> Response:
        now = self.now()
        request_data = snapshot(body)
        if entry.pending:
            error = ApiError.from_code(
                "TransactionInProgress",
                f"a request with idempotency key {key!r} is still being processed",
            )
        elif entry.fingerprint != fingerprint:
            error = ApiError.from_code(
                "DuplicateIdempotencyKey",
                f"idempotency key {key!r} was used with a different request",
            )
        else:
            # SPEC §7: the first answer again, success or refusal; nothing new happens.
            response_data = self.log[entry.log_seq - 1].response_data if entry.log_seq else None
            self._log_call(
                now, operation, object_id, request_data, entry.status, response_data,
                None if entry.error is None else entry.error[0],
                None if entry.error is None else entry.error[2],
                key, simulation_code, replayed=True,
            )  # fmt: skip
            if entry.error is not None:
                raise ApiError(entry.error[0], entry.error[1], entry.error[2])
            response = self.log[entry.log_seq - 1].response
            assert response is not None
            return Response(entry.status, response)
        self._log_call(
            now, operation, object_id, request_data, error.http_status, None,
            error.reason_code, error.message, key, simulation_code,
        )  # fmt: skip
        raise error

    def _call(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        key: str | None,
        simulation_code: str | None,
    ) -> tuple[Response, int]:
        now = self.now()
        self._settle(now)
        request_data = snapshot(body)
        try:
            response, logged_id = self._process(
                operation, object_id, body, key, simulation_code, now
            )
        except _Refused as refused:
            err = refused.error
            self._log_call(
                now, operation, refused.object_id or object_id, request_data, err.http_status,
                None, err.reason_code, err.message, key, simulation_code,
            )  # fmt: skip
            raise err from None
        seq = self._log_call(
            now, operation, logged_id, request_data, response.status, snapshot(response.body),
            None, None, key, simulation_code,
        )  # fmt: skip
        return response, seq

    def _log_call(
        self,
        now: datetime,
        operation: str,
        object_id: str | None,
        request_data: bytes | str | None,
        status: int,
        response_data: bytes | str | None,
        error_code: str | None,
        error_message: str | None,
        key: str | None,
        simulation_code: str | None,
        *,
        kind: Literal["api", "buyer", "amazon"] = "api",
        replayed: bool = False,
    ) -> int:
        """Append one record to the log; returns its number."""
        with self._log_lock:
            seq = len(self.log) + 1
            self.log.append(
                LogRecord(
                    seq=seq,
                    at=now,
                    kind=kind,
                    operation=operation,
                    object_id=object_id,
                    request_data=request_data,
                    status=status,
                    response_data=response_data,
                    error_code=error_code,
                    error_message=error_message,
                    idempotency_key=key,
                    simulation_code=simulation_code,
                    replayed=replayed,
                )
            )
            return seq

    # ---------------------------------------------------------------------------------
    # Processing one call
    # ---------------------------------------------------------------------------------

    def _process(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        key: str | None,
        simulation_code: str | None,
        now: datetime,
    ) -> tuple[Response, str | None]:
        limits = self._limits
        # Headers before the body (SPEC §8).
        if key is not None and not self._key_is_valid(key):
            raise _Refused(
                "InvalidHeaderValue",
                f"x-amz-pay-idempotency-key must be 1 to {limits.idempotency_key_max_length} "
                "characters of A-Za-z0-9-_",
            )
        if simulation_code is not None and simulation_code not in SIMULATION_CODES.get(
            operation, ()
        ):
            raise _Refused(
                "InvalidSandboxSimulationSpecified",
                f"simulation code {simulation_code!r} is not supported on {operation}",
            )
        money: dict[str, Money | None] | None = None
        if body is not None:
            money = {}
            fault = body_fault(operation, body, limits, money)
            if fault is not None:
                raise _Refused(*fault)
        op = OPERATIONS[operation]
        target = self._target(operation, object_id, body)
        outcome = decide(op, target, body, now, limits, simulation_code, money)
        if not outcome.ok:
            assert outcome.reason_code is not None
            raise _Refused(outcome.reason_code, outcome.message or "")
        handler = getattr(self, f"_do_{operation}")
        response: Response = handler(target, body, outcome, now, simulation_code)
        created = response.body.get(_ID_FIELDS.get(operation, ""), None)
        return response, created if op.creates else object_id

    def _target(self, operation: str, object_id: str | None, body: Any) -> Any:
        op = OPERATIONS[operation]
        if op.target is None:
            return None
        if operation == "create_charge":
            object_id = body["chargePermissionId"]
        elif operation == "create_refund":
            object_id = body["chargeId"]
        record = self._objects.get(object_id) if isinstance(object_id, str) else None
        if record is None or _TYPES[type(record)] != op.target:
            raise _Refused("ResourceNotFound", f"{op.target} {object_id!r} does not exist")
        return record

    def _render(self, record: Record, status: int = 200) -> Response:
        return Response(status, record.to_json(self._limits))

    # -- Checkout Session ---------------------------------------------------------------

    def _do_create_checkout_session(
        self, _: None, body: dict[str, Any], outcome: Any, now: datetime, code: str | None
    ) -> Response:
        details = copy_json(body.get("paymentDetails") or {})
        amount = details.get("chargeAmount")
        if amount is not None and not details.get("presentmentCurrency"):
            details["presentmentCurrency"] = amount["currencyCode"]
        extra = {
            k: copy_json(body[k])
            for k in (
                "platformId",
                "providerMetadata",
                "addressDetails",
                "deliverySpecifications",
                "scopes",
            )
            if body.get(k) is not None
        }
        stamp = _stamp(now)
        record = CheckoutSessionRecord(
            id=self._new_session_id(),
            seq=self._next("object"),
            created_at=stamp,
            updated_at=stamp,
            state="Open",
            store_id=body["storeId"],
            web=copy_json(body["webCheckoutDetails"]),
            payment_details=details,
            permission_type=body.get("chargePermissionType") or "OneTime",
            recurring=copy_json(body.get("recurringMetadata")),
            merchant=copy_json(body.get("merchantMetadata")),
            extra=extra or None,
        )
        self._store(record)
        return self._render(record, outcome.http_status)

    def _do_get_checkout_session(
        self, record: CheckoutSessionRecord, body: Any, outcome: Any, now: datetime, code: Any
    ) -> Response:
        return self._render(record)

    def _do_update_checkout_session(
        self,
        record: CheckoutSessionRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: Any,
    ) -> Response:
        if body.get("webCheckoutDetails") is not None:
            record.web = merge(record.web, body["webCheckoutDetails"])
        if body.get("paymentDetails") is not None:
            record.payment_details = merge(record.payment_details, body["paymentDetails"])
            amount = record.payment_details.get("chargeAmount")
            if amount is not None and "presentmentCurrency" not in body["paymentDetails"]:
                record.payment_details["presentmentCurrency"] = amount["currencyCode"]
        if body.get("recurringMetadata") is not None:
            record.recurring = merge(record.recurring, body["recurringMetadata"])
        if body.get("merchantMetadata") is not None:
            record.merchant = merge(record.merchant, body["merchantMetadata"])
        for key in ("platformId", "providerMetadata"):
            if body.get(key) is not None:
                record.extra = {**(record.extra or {}), key: copy_json(body[key])}
        record.updated_at = _stamp(now)
        return self._render(record)

    def _do_complete_checkout_session(
        self,
        session: CheckoutSessionRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: str | None,
    ) -> Response:
        # Sandbox cancellations (SPEC §7): the session is canceled and the call answers
        # CheckoutSessionCanceled — a refusal with effects.
        card = session.card or "1111"
        created = dict(outcome.created)
        # The buyer's card declines when the completion authorizes (SPEC §7): 3434 always,
        # 4354 unless the authorization may stay pending (then it declines 30 s later).
        authorizing = created.get("Charge")
        declined_card = authorizing is not None and (
            card == "3434" or (card == "4354" and authorizing != "AuthorizationInitiated")
        )
        if code is not None or declined_card:
            reason = code or "Declined"
            self._enter(session, "Canceled", reason, _stamp(now))
            raise _Refused(
                "CheckoutSessionCanceled",
                f"the checkout session was canceled ({reason})",
                object_id=session.id,
            )
        stamp = _stamp(now)
        amount, currency = _money(body["chargeAmount"])
        total = body.get("totalOrderAmount") or session.payment_details.get("totalOrderAmount")
        limit = _money(total)[0] if total is not None else amount
        permission = ChargePermissionRecord(
            id=self._new_permission_id(),
            seq=self._next("object"),
            created_at=stamp,
            updated_at=stamp,
            state="Chargeable",
            permission_type=session.permission_type,
            currency=currency,
            amount_limit=limit if session.permission_type == "OneTime" else None,
            extended=session.payment_details.get("extendExpiration") is True,
            card=card,
            checkout_session_id=session.id,
            merchant=copy_json(session.merchant),
            recurring=copy_json(session.recurring),
            platform_id=(session.extra or {}).get("platformId"),
        )
        self._store(permission)
        self._notify(permission)
        session.charge_permission_id = permission.id
        charge_state = created.get("Charge")
        if charge_state is not None:
            charge = self._new_charge(
                permission, amount, stamp, charge_state,
                soft_descriptor=session.payment_details.get("softDescriptor"),
                merchant=session.merchant,
            )  # fmt: skip
            session.charge_id = charge.id
        self._enter(session, "Completed", None, stamp)
        return self._render(session, outcome.http_status)

    # -- Charge Permission ----------------------------------------------------------------

    def _do_get_charge_permission(
        self, record: ChargePermissionRecord, body: Any, outcome: Any, now: datetime, code: Any
    ) -> Response:
        return self._render(record)

    def _do_update_charge_permission(
        self,
        record: ChargePermissionRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: Any,
    ) -> Response:
        if body.get("merchantMetadata") is not None:
            record.merchant = merge(record.merchant, body["merchantMetadata"])
        if body.get("recurringMetadata") is not None:
            record.recurring = merge(record.recurring, body["recurringMetadata"])
        record.updated_at = _stamp(now)
        return self._render(record)

    def _do_close_charge_permission(
        self,
        record: ChargePermissionRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: Any,
    ) -> Response:
        stamp = _stamp(now)
        self._enter(record, "Closed", "MerchantClosed", stamp)
        if body.get("cancelPendingCharges") is True:
            # SPEC §4: pending charges are canceled; one CaptureInitiated finishes normally.
            for charge in record.charges:
                if charge.state in ("AuthorizationInitiated", "Authorized"):
                    self._event(charge, "permission_canceled", None, stamp)
        return self._render(record)

    # -- Charge -------------------------------------------------------------------------

    def _do_create_charge(
        self,
        permission: ChargePermissionRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: str | None,
    ) -> Response:
        stamp = _stamp(now)
        amount, _ = _money(body["chargeAmount"])
        state = dict(outcome.created)["Charge"]
        card_declines = permission.card in ("3434", "4354")
        if state in ("Authorized", "Captured") and card_declines:
            state, code = "Declined", "HardDeclined"  # the buyer's sandbox card declines
        charge = self._new_charge(
            permission, amount, stamp, state,
            reason=code if state == "Declined" else None,
            soft_descriptor=body.get("softDescriptor"),
            merchant=body.get("merchantMetadata"),
            provider=body.get("providerMetadata"),
            channel=body.get("channel"),
            initiator=body.get("chargeInitiator"),
        )  # fmt: skip
        if state == "Declined":
            assert code is not None
            # SPEC §7: the call answers the decline; the Declined charge stays.
            raise _Refused(code, f"the charge was declined ({code})", object_id=charge.id)
        return self._render(charge, outcome.http_status)

    def _do_get_charge(
        self, record: ChargeRecord, body: Any, outcome: Any, now: datetime, code: Any
    ) -> Response:
        return self._render(record)

    def _do_capture_charge(
        self,
        charge: ChargeRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: str | None,
    ) -> Response:
        stamp = _stamp(now)
        charge.capture_amount = _money(body["captureAmount"])[0]
        charge.soft_descriptor = body.get("softDescriptor") or charge.soft_descriptor
        state = outcome.next_state
        if code is not None:
            state = "CaptureInitiated"  # both capture simulation codes go asynchronous
        if state == "CaptureInitiated":
            self._enter(charge, "CaptureInitiated", None, stamp)
            event, reason = (
                ("capture_declined", "AmazonRejected")
                if code == "AmazonRejected"
                else ("capture_completed", None)
            )
            self._schedule_outcome(charge, stamp, event, reason)
        else:
            self._enter(charge, "Captured", None, stamp)
        return self._render(charge)

    def _do_cancel_charge(
        self, charge: ChargeRecord, body: dict[str, Any], outcome: Any, now: datetime, code: Any
    ) -> Response:
        self._enter(charge, "Canceled", "MerchantCanceled", _stamp(now))
        return self._render(charge)

    # -- Refund -------------------------------------------------------------------------

    def _do_create_refund(
        self,
        charge: ChargeRecord,
        body: dict[str, Any],
        outcome: Any,
        now: datetime,
        code: str | None,
    ) -> Response:
        stamp = _stamp(now)
        amount, currency = _money(body["refundAmount"])
        refund = RefundRecord(
            id=self._new_child_id(charge.charge_permission_id, "R"),
            seq=self._next("object"),
            created_at=stamp,
            updated_at=stamp,
            state="RefundInitiated",
            charge_id=charge.id,
            amount=amount,
            currency=currency,
            soft_descriptor=body.get("softDescriptor"),
            outcome=code,
        )
        self._store(refund)
        charge.refunds.append(refund)
        self._notify(refund)
        # Refunds are always asynchronous (SPEC §6); simulation codes decline them (§7).
        if code is None:
            self._schedule_outcome(refund, stamp, "refund_completed", None)
        else:
            self._schedule_outcome(refund, stamp, "refund_declined", code)
        return self._render(refund, outcome.http_status)

    def _do_get_refund(
        self, record: RefundRecord, body: Any, outcome: Any, now: datetime, code: Any
    ) -> Response:
        return self._render(record)

    # ---------------------------------------------------------------------------------
    # The buyer's and Amazon's side
    # ---------------------------------------------------------------------------------

    def buyer_approve(self, checkout_session_id: str, *, card: str = "1111") -> dict[str, Any]:
        """The buyer signs in on Amazon's page and picks a sandbox test card (SPEC §7).

        Clears ``BuyerNotAssociated``. Card ``3064`` means the buyer then cancels; ``3434``
        and ``4354`` decline at completion (``4354`` after a pending authorization when
        the session can handle one); ``0701`` authorizes after a pending period.

        Raises:
            ValueError: unknown session, a session not Open, or an unknown card.
        """
        if card not in SANDBOX_CARDS:
            raise ActionRefused(
                "InvalidParameterValue",
                f"unknown sandbox card {card!r}; cards are {', '.join(SANDBOX_CARDS)}",
            )

        def act(record: Record, stamp: datetime) -> None:
            assert isinstance(record, CheckoutSessionRecord)
            self._event(record, "buyer_approve", None, stamp)
            record.card = card
            if card == "3064":
                self._event(record, "buyer_cancel", None, stamp)

        return self._side_action(
            "buyer", "buyer_approve", checkout_session_id, "CheckoutSession", {"card": card}, act
        )

    def buyer_cancel(self, checkout_session_id: str) -> dict[str, Any]:
        """The buyer cancels on Amazon's page: the session becomes Canceled/BuyerCanceled."""
        return self.amazon_event(checkout_session_id, "buyer_cancel")

    def buyer_close_charge_permission(self, charge_permission_id: str) -> dict[str, Any]:
        """The buyer closes the permission in their Amazon account (Closed/BuyerClosed)."""
        return self.amazon_event(charge_permission_id, "buyer_close")

    def payment_method_problem(self, charge_permission_id: str, reason: str) -> dict[str, Any]:
        """The buyer's payment instrument becomes unusable: NonChargeable with ``reason``
        (one of SPEC §4's NonChargeable reasons)."""
        return self.amazon_event(charge_permission_id, "payment_method_problem", reason=reason)

    def payment_method_fixed(self, charge_permission_id: str) -> dict[str, Any]:
        """The buyer fixes the instrument: the permission is Chargeable again."""
        return self.amazon_event(charge_permission_id, "payment_method_fixed")

    def amazon_event(
        self, object_id: str, event: str, *, reason: str | None = None
    ) -> dict[str, Any]:
        """Apply any event the declarations give the buyer or Amazon (``apfsm.LIFECYCLES``
        ``[type].events``), e.g. ``amazon_event(charge_id, "amazon_cancel")``.

        Returns the object's JSON afterwards.

        Raises:
            ValueError: unknown object or event, an event not possible in the object's
                state, or a reason the event does not allow.
        """
        with self._lock:
            record = self._objects.get(object_id)
        if record is None:
            raise ActionRefused("ResourceNotFound", f"no object {object_id!r} in this simulator")
        object_type = _TYPES[type(record)]
        decl = _EVENTS.get((object_type, event))
        if decl is None:
            names = sorted(name for (t, name) in _EVENTS if t == object_type)
            raise ActionRefused(
                "InvalidParameterValue",
                f"{object_type} has no event {event!r}; events are {', '.join(names)}",
            )

        def act(target: Record, stamp: datetime) -> None:
            self._event(target, event, reason, stamp)

        request = {"event": event} if reason is None else {"event": event, "reason": reason}
        return self._side_action(decl.actor, event, object_id, object_type, request, act)

    def _side_action(
        self,
        kind: Literal["buyer", "amazon"],
        name: str,
        object_id: str,
        object_type: str,
        request: dict[str, Any],
        act: Callable[[Record, datetime], None],
    ) -> dict[str, Any]:
        try:
            with self._lock:
                now = self.now()
                self._settle(now)
                record = self._objects.get(object_id)
                if record is None or _TYPES[type(record)] != object_type:
                    raise ActionRefused(
                        "ResourceNotFound", f"no {object_type} {object_id!r} in this simulator"
                    )
                act(record, _stamp(now))
                body = record.to_json(self._limits)
                self._log_call(
                    now, name, object_id, snapshot(request), 200, snapshot(body), None, None, None,
                    None, kind=kind,
                )  # fmt: skip
                return body
        finally:
            self._deliver()

    # ---------------------------------------------------------------------------------
    # State changes, side effects and notifications
    # ---------------------------------------------------------------------------------

    def _event(self, record: Record, name: str, reason: str | None, stamp: datetime) -> None:
        object_type = _TYPES[type(record)]
        decl = _EVENTS[(object_type, name)]
        if record.state not in decl.sources:
            raise ActionRefused(
                _STATE_ERRORS[object_type],
                f"{name} cannot happen to a {object_type} in state {record.state} "
                f"(only in {', '.join(decl.sources)})",
            )
        if decl.reason is not None:
            if reason is not None and reason != decl.reason:
                raise ActionRefused(
                    "InvalidParameterValue", f"{name} always has reason {decl.reason}"
                )
            reason = decl.reason
        elif decl.reasons:
            if reason is None:
                reason = decl.reasons[0]
            elif reason not in decl.reasons:
                raise ActionRefused(
                    "InvalidParameterValue",
                    f"{name} takes a reason among {', '.join(decl.reasons)}; got {reason!r}",
                )
        elif reason is not None:
            raise ActionRefused("InvalidParameterValue", f"{name} takes no reason")
        if decl.dest == SAME:
            if isinstance(record, ChargePermissionRecord) and reason is not None:
                self._add_reason(record, reason, stamp)
            return
        if (
            isinstance(record, ChargePermissionRecord)
            and decl.dest == "NonChargeable"
            and record.state == "NonChargeable"
        ):
            assert reason is not None
            self._add_reason(record, reason, stamp)
            return
        self._enter(record, decl.dest, reason, stamp)

    def _journal(self, object_id: str) -> None:
        """Journal a change to ``object_id``, and to the objects whose JSON follows it: a
        refund's charge (its refunded amount), a charge's permission (its balance)."""
        ids = [object_id]
        record = self._objects.get(object_id)
        while isinstance(record, RefundRecord | ChargeRecord):
            parent = (
                record.charge_id
                if isinstance(record, RefundRecord)
                else record.charge_permission_id
            )
            ids.append(parent)
            record = self._objects.get(parent)
        self._changes.record(*ids)

    def _add_reason(self, record: ChargePermissionRecord, reason: str, stamp: datetime) -> None:
        self._journal(record.id)
        if reason not in record.reasons:
            record.reasons = (*record.reasons, reason)
            record.updated_at = stamp
            self._notify(record)

    def _enter(self, record: Record, state: str, reason: str | None, stamp: datetime) -> None:
        """Move ``record`` to ``state``: schedule its timers, apply SPEC's side effects,
        and notify (SPEC §4–§7)."""
        previous = record.state
        self._journal(record.id)
        record.state = state
        record.updated_at = stamp
        if isinstance(record, ChargePermissionRecord):
            record.reasons = () if reason is None else (reason,)
        else:
            record.reason = reason
        if isinstance(record, ChargeRecord) and state == "Authorized":
            record.authorized_at = stamp  # the 30-day timer counts from here (SPEC §2)
        object_type = _TYPES[type(record)]
        for timer in _TIMERS_FROM.get((object_type, state), ()):
            if previous not in timer.sources or previous == state:
                self._schedule_timer(record, timer.name)  # else it is scheduled already
        self._notify(record)
        if isinstance(record, ChargeRecord):
            # Consequences on the permission follow the charge's own change.
            self._charge_entered(record, state, reason, stamp)

    def _charge_entered(
        self, charge: ChargeRecord, state: str, reason: str | None, stamp: datetime
    ) -> None:
        permission = self._objects.get(charge.charge_permission_id)
        assert isinstance(permission, ChargePermissionRecord)
        if state in ("Authorized", "Captured"):
            if state == "Captured" and charge.capture_amount is None:
                charge.capture_amount = charge.amount
            if (
                permission.permission_type != "OneTime"
                and self._limits.recurring_ttl_restarts_on_charge
            ):
                # [S] A successful charge restarts a recurring permission's 13 months.
                permission.last_charge_at = stamp
                self._schedule_timer(permission, "expire")
        if (
            state == "Captured"
            and permission.amount_limit is not None
            and permission.state != "Closed"
            and permission.captured_total >= permission.amount_limit
        ):
            self._event(permission, "balance_used_up", None, stamp)
        if state == "Declined" and permission.state != "Closed":
            # SPEC §5: decline side effects on the permission.
            if reason == "AmazonRejected":
                self._event(permission, "amazon_cancel", None, stamp)
            elif (
                reason == "HardDeclined"
                and permission.permission_type != "OneTime"
                and permission.state == "Chargeable"
            ):
                self._event(permission, "hard_decline", None, stamp)

    def _notify(self, record: Record) -> None:
        object_type = _TYPES[type(record)]
        notification_type = _NOTIFICATION_TYPES.get(object_type)
        if notification_type is None:
            return
        if isinstance(record, ChargePermissionRecord):
            permission_id = record.id
        elif isinstance(record, ChargeRecord):
            permission_id = record.charge_permission_id
        else:
            assert isinstance(record, RefundRecord)
            charge = self._objects[record.charge_id]
            assert isinstance(charge, ChargeRecord)
            permission_id = charge.charge_permission_id
        number = self._next("notification")
        message = {
            "MerchantID": self.merchant_id,
            "ObjectType": notification_type,
            "ObjectId": record.id,
            "ChargePermissionId": permission_id,
            "NotificationType": "STATE_CHANGE",
            "NotificationId": str(
                uuid.UUID(
                    hashlib.sha256(f"{self.merchant_id}/n/{number}".encode()).hexdigest()[:32]
                )
            ),
            "NotificationVersion": "V2",
        }
        self.notifications.append(message)
        if self.on_notification is not None:
            self._outbox.append(message)

    def _deliver(self) -> None:
        # Callbacks run after the call that caused them, outside the lock, in order; a
        # callback that calls the simulator again delivers its own messages when done.
        if self.on_notification is None or getattr(self._delivering, "active", False):
            return
        self._delivering.active = True
        try:
            while True:
                with self._lock:
                    if not self._outbox:
                        return
                    message = self._outbox.pop(0)
                callback = self.on_notification
                if callback is not None:
                    callback(dict(message))
        finally:
            self._delivering.active = False

    # ---------------------------------------------------------------------------------
    # Scheduled events
    # ---------------------------------------------------------------------------------

    def _push(self, due: datetime, strict: int, record: Record, action: tuple[str, ...]) -> None:
        heapq.heappush(self._queue, (due, strict, record.seq, self._next("event"), action))

    def _schedule_timer(self, record: Record, name: str) -> None:
        timer = _TIMERS[(_TYPES[type(record)], name)]
        deadline = DEADLINE_FUNCTIONS[timer.deadline](record, self._limits)
        # A strict boundary (t > deadline) sorts a timer after what else is due then.
        strict = 0 if self._limits.ttl_passed_at_deadline else 1
        self._push(deadline, strict, record, ("timer", record.id, name))

    def _schedule_outcome(
        self, record: Record, stamp: datetime, event: str, reason: str | None
    ) -> None:
        due = stamp + self._limits.async_outcome_delay
        self._push(due, 0, record, ("outcome", record.id, event, reason or ""))

    def _settle(self, now: datetime) -> None:
        queue = self._queue
        while queue:
            due, strict, _, _, action = queue[0]
            if (now <= due) if strict else (now < due):
                return
            heapq.heappop(queue)
            record = self._objects.get(action[1])
            if record is None:
                continue
            if action[0] == "timer":
                self._fire_timer(record, action[2], due, strict)
            else:
                decl = _EVENTS[(_TYPES[type(record)], action[2])]
                if record.state in decl.sources:  # else overtaken (e.g. canceled meanwhile)
                    self._event(record, action[2], action[3] or None, due)

    def _fire_timer(self, record: Record, name: str, due: datetime, strict: int) -> None:
        object_type = _TYPES[type(record)]
        timer = _TIMERS[(object_type, name)]
        if record.state not in timer.sources:
            return  # the object left the state the timer governs
        deadline = DEADLINE_FUNCTIONS[timer.deadline](record, self._limits)
        if deadline > due:
            # Restarted meanwhile (a recurring permission's charge): the restart scheduled
            # the new deadline already; this entry is stale.
            return
        if timer.dest == DELETED:
            del self._objects[record.id]
            self._journal(record.id)
            return
        self._enter(record, timer.dest, timer.reason, deadline)

    # ---------------------------------------------------------------------------------
    # Objects and ids
    # ---------------------------------------------------------------------------------

    def _next(self, counter: str) -> int:
        self._counters[counter] += 1
        return self._counters[counter]

    def _store(self, record: Record) -> None:
        self._objects[record.id] = record
        self._journal(record.id)
        object_type = _TYPES[type(record)]
        for timer in _TIMERS_FROM.get((object_type, record.state), ()):
            self._schedule_timer(record, timer.name)

    def _new_charge(
        self,
        permission: ChargePermissionRecord,
        amount: Decimal,
        stamp: datetime,
        state: str,
        *,
        reason: str | None = None,
        soft_descriptor: str | None = None,
        merchant: Any = None,
        provider: Any = None,
        channel: str | None = None,
        initiator: str | None = None,
    ) -> ChargeRecord:
        charge = ChargeRecord(
            id=self._new_child_id(permission.id, "C"),
            seq=self._next("object"),
            created_at=stamp,
            updated_at=stamp,
            state="AuthorizationInitiated",
            charge_permission_id=permission.id,
            amount=amount,
            currency=permission.currency,
            soft_descriptor=soft_descriptor,
            merchant=copy_json(merchant),
            provider=copy_json(provider),
            channel=channel,
            initiator=initiator,
        )
        self._objects[charge.id] = charge
        self._journal(charge.id)
        permission.charges.append(charge)
        if state == "AuthorizationInitiated":
            self._enter(charge, state, None, stamp)
            declined = permission.card == "4354"
            event = "authorization_declined" if declined else "authorization_approved"
            self._schedule_outcome(charge, stamp, event, "HardDeclined" if declined else None)
        else:
            self._enter(charge, state, reason, stamp)
        return charge

    def _new_session_id(self) -> str:
        number = self._next("id")
        digest = hashlib.sha256(f"{self.merchant_id}/cs/{number}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _new_permission_id(self) -> str:
        while True:
            number = self._next("id")
            digits = _digits(f"{self.merchant_id}/cp/{number}", 14)
            candidate = f"S01-{digits[:7]}-{digits[7:]}"
            if candidate not in self._objects:
                return candidate

    def _new_child_id(self, permission_id: str, letter: str) -> str:
        while True:
            number = self._next("id")
            candidate = f"{permission_id}-{letter}{_digits(f'{permission_id}/{number}', 7)}"
            if candidate not in self._objects:
                return candidate

    # ---------------------------------------------------------------------------------
    # Inspection
    # ---------------------------------------------------------------------------------

    def object_json(self, object_id: str) -> dict[str, Any] | None:
        """The current JSON of any stored object, without making (or logging) a call; None
        when there is no such object. Does not settle."""
        with self._lock:
            record = self._objects.get(object_id)
            return None if record is None else record.to_json(self._limits)

    def object_ids(self, object_type: str | None = None) -> list[str]:
        """Ids of the stored objects (of one type), in creation order."""
        if object_type is not None and object_type not in LIFECYCLES:
            raise ValueError(
                f"unknown object type {object_type!r}; types are {', '.join(LIFECYCLES)}"
            )
        with self._lock:
            records = sorted(self._objects.values(), key=lambda r: r.seq)
            return [r.id for r in records if object_type is None or _TYPES[type(r)] == object_type]

    def write_log(self, path: str | os.PathLike[str]) -> int:
        """Write the call log as JSON Lines (``LogRecord.to_json()``, one per line): the
        format ``apfsm check-log`` reads. Returns the number of lines."""
        with open(path, "w", encoding="utf-8") as out:
            count = 0
            for record in list(self.log):
                out.write(json.dumps(record.to_json(), separators=(",", ":")) + "\n")
                count += 1
        return count

    def object_type(self, object_id: str) -> str | None:
        """The type of a stored object (``"Charge"``...), or None when there is none."""
        record = self._objects.get(object_id)
        return None if record is None else _TYPES[type(record)]

    def ledger(self, object_id: str) -> ChargeLedger | PermissionLedger | None:
        """The books of a Charge or Charge Permission — its amounts, refunds still pending
        included — read-only; None for other objects and unknown ids. Does not settle."""
        with self._lock:
            return ledger_of(self._objects.get(object_id))

    def object_state(self, object_id: str) -> str | None:
        """The current state of a stored object (``"Authorized"``...), or None when there
        is none: cheaper than ``object_json`` when the state is all you need."""
        record = self._objects.get(object_id)
        return None if record is None else record.state

    def state_fingerprint(self) -> tuple[Any, ...]:
        """A cheap, comparable picture of everything a call can change (the objects,
        scheduled events, counters and notifications; not the log or idempotency keys):
        tests compare it before and after a refused call."""
        with self._lock:
            records = tuple(
                (
                    record.id,
                    tuple(
                        tuple(c.id for c in value) if isinstance(value, list) else _frozen(value)
                        for value in (getattr(record, f.name) for f in attrs.fields(type(record)))
                    ),
                )
                for record in self._objects.values()
            )
            return (
                records,
                tuple(self._queue),
                tuple(self._counters.items()),
                len(self.notifications),
            )

    def watch(self) -> ChangeCursor:
        """A read-only cursor over what changes from now on: ``cursor.take()`` gives the ids
        of the objects created, changed or deleted since it last did — with the charge and
        permission above a changed refund or charge, whose JSON follows it. For harnesses
        that check only what changed."""
        with self._lock:
            return self._changes.watch()

    def change_marker(self) -> tuple[int, ...]:
        """A cheaper stand-in for ``state_fingerprint``: it differs after any change a call
        can make (every object created, changed or deleted is counted, and so are ids
        handed out, scheduled events and notifications)."""
        with self._lock:
            return (
                self._changes.count,
                *self._counters.values(),
                len(self._queue),
                len(self.notifications),
            )

    def __len__(self) -> int:
        return len(self._objects)

    def __repr__(self) -> str:
        return (
            f"<Simulator {self.merchant_id} at {format_timestamp(self.now())}: "
            f"{len(self._objects)} objects, {len(self.log)} calls, "
            f"{len(self.notifications)} notifications>"
        )

    # ---------------------------------------------------------------------------------
    # Snapshots
    # ---------------------------------------------------------------------------------

    def snapshot(self, *, log: bool = True) -> dict[str, Any]:
        """The whole state as a JSON-serialisable, versioned dict (the call log under
        ``"log"``); ``Simulator.restore`` continues exactly where it left off.

        Args:
            log: include the call log (``log=False`` leaves ``"log"`` empty: cheaper,
                for comparing states).
        """
        with self._lock:
            return dump(self, log=log)

    @classmethod
    def restore(
        cls,
        snapshot: Mapping[str, Any],
        clock: Clock | None = None,
        *,
        on_notification: Callable[[dict[str, Any]], object] | None = None,
    ) -> Simulator:
        """A simulator in the state ``snapshot`` describes.

        Args:
            snapshot: what ``snapshot()`` returned (possibly through JSON).
            clock: the clock to continue with; a ``ManualClock`` at the snapshot's time by
                default.

        Raises:
            ValueError: not a simulator snapshot, or one of an unknown version.
        """
        return load(cls, snapshot, clock, on_notification)


_ID_FIELDS: Final = {
    "create_checkout_session": "checkoutSessionId",
    "create_charge": "chargeId",
    "create_refund": "refundId",
}


class _Refused(Exception):
    """A refusal on its way out of ``_process`` (becomes the ``ApiError`` raised)."""

    def __init__(self, code: str, message: str, *, object_id: str | None = None) -> None:
        super().__init__(code, message)
        self.error = ApiError(code, ERRORS[code].http_status, message)
        self.object_id = object_id


def _frozen(value: Any) -> Any:
    """An immutable, comparable copy of decoded JSON."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _stamp(now: datetime) -> datetime:
    """Timestamps on objects are whole seconds, as payloads print them (SPEC §1)."""
    return now.replace(microsecond=0)


def _money(price: Mapping[str, Any]) -> Money:
    # Validated already; parse_money shares equal amounts' Decimal objects (memory).
    return parse_money(price)
