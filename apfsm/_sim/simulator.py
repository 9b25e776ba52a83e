"""``Simulator``: an in-process Amazon Pay (SPEC §1–§8) — the façade.

Linked objects, a controllable clock, idempotency keys, sandbox simulation codes and test
cards, asynchronous outcomes and IPN notifications — synchronous and deterministic. This
class is the typed face; the work is done by its collaborators, each one file:

* ``store.Store`` — everything held (objects, ids, scheduled events, keys, log);
* ``calls.Calls`` — one call: headers, body, target, the engine's decision, the handler;
* ``handlers.HANDLERS`` — what each accepted operation does;
* ``effects.Effects`` — states entered, timers, linked objects, notifications;
* ``scheduler.Scheduler`` — timers and asynchronous outcomes in time order;
* ``idempotency.IdempotencyKeys`` — taking, replaying and refusing keys;
* ``notifications.Outbox`` — IPN messages and their delivery.

Time never moves by itself: expiries and asynchronous outcomes are scheduled events that
``advance`` — and every call, first of all — settles in time order. No threads, no timers.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from apfsm._clock import Clock, ManualClock, SystemClock, format_timestamp, require_aware
from apfsm._decide import normalise_body
from apfsm._spec import OPERATIONS, Limits, object_type_named

from .actions import Actions
from .api import AmazonPayApi
from .calls import Calls
from .checkpoints import Parts, parts_of, resumed
from .effects import Effects
from .handlers import Response
from .idempotency import IdempotencyKeys
from .journal import ChangeCursor
from .ledger import ChargeLedger, PermissionLedger, ledger_of
from .log import CallLog, LogRecord
from .notifications import Notifier, Outbox
from .reports import ReportBook
from .scheduler import Scheduler
from .snapshots import dump, load
from .store import Store

__all__ = ["LogRecord", "Response", "Simulator"]


class Simulator(AmazonPayApi):
    """An in-process Amazon Pay for tests: the API's operations, the buyer's and Amazon's
    side, and a clock you control.

    Args:
        clock: where time comes from; a ``ManualClock`` at the current time (to the second)
            by default. Moving the clock directly is safe: every call first settles what is
            due.
        limits: the limits to apply (SPEC's by default).
        merchant_id: the merchant id in notifications.
        seed: what the ids are made from. Without one each simulator takes a random seed,
            so two fresh simulators never hand out the same ids (SPEC §1: like Amazon's,
            ids differ from run to run — test databases do not collide); the same seed
            gives the same ids, call after call (``seed`` tells a random one, to repeat a
            run). A snapshot keeps it: a restored simulator continues the same sequence.
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
        seed: int | str | None = None,
        on_notification: Notifier | None = None,
    ) -> None:
        if seed is None:
            seed = secrets.token_hex(8)
        elif isinstance(seed, bool) or not isinstance(seed, int | str) or seed == "":
            raise TypeError(f"seed must be an int or a non-empty str, got {seed!r}")
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
        # Lock order: this lock (state) may take the log's; the keys' lock is never held
        # with either.
        self._lock = threading.RLock()
        self._use(Store(merchant_id, str(seed)), on_notification)

    def _use(self, store: Store, on_notification: Notifier | None) -> None:
        """Work on ``store`` (a new one, or one read from a snapshot)."""
        self._store = store
        self._outbox = Outbox(store, self._lock)
        self._outbox.callback = on_notification
        self._scheduler = Scheduler(store, self._limits)
        self._effects = Effects(store, self._scheduler, self._outbox, self._limits)
        self._keys = IdempotencyKeys(store, self._limits)
        self._calls = Calls(self._effects, self._keys, self.now)
        self._actions = Actions(self._effects, self.now)
        #: The Reports API (docs/reports.md): reports, schedules and documents.
        self.reports = ReportBook(store, self.now, self._lock, self._limits)

    # -- what it is -------------------------------------------------------------------

    @property
    def seed(self) -> str:
        """What the ids are made from (the ``seed`` given, as text, or the random one)."""
        return self._store.seed

    @property
    def clock(self) -> Clock:
        """Where time comes from."""
        return self._clock

    @property
    def limits(self) -> Limits:
        """The limits in force."""
        return self._limits

    @property
    def merchant_id(self) -> str:
        """The merchant the objects belong to (in ids and notifications)."""
        return self._store.merchant_id

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """Every IPN message emitted, in emission order (with a cap, ``retain``: the
        newest; ``notifications_dropped`` counts the others)."""
        return self._store.notifications

    @property
    def notifications_dropped(self) -> int:
        """How many of the oldest IPN messages the cap dropped (``retain``): the message
        at ``notifications[i]`` is the ``notifications_dropped + i``-th emitted."""
        return self._store.notifications_dropped

    def notifications_since(self, start: int) -> tuple[int, list[dict[str, Any]]]:
        """``(notifications_dropped, copies of the messages after the first start)``, read
        at one instant: ``start`` counts every message ever emitted, the dropped ones
        included (``GET /_apfsm/notifications?since=N``)."""
        with self._lock:
            store = self._store
            dropped = store.notifications_dropped
            return dropped, [dict(n) for n in store.notifications[max(start - dropped, 0) :]]

    @property
    def log(self) -> CallLog:
        """One record per call, in call order (older records are kept compressed); safe
        to read while calls run (``log.since(n)`` copies a tail at one instant)."""
        return self._store.log

    @property
    def on_notification(self) -> Notifier | None:
        """Called with each IPN message after the call that caused it (settable)."""
        return self._outbox.callback

    @on_notification.setter
    def on_notification(self, callback: Notifier | None) -> None:
        self._outbox.callback = callback

    # -- time -------------------------------------------------------------------------

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
            self._effects.settle(self.now())
            self.reports.settle()
        self._outbox.deliver()
        return self.now()

    def settle(self) -> None:
        """Apply every event due at the clock's current time (each call does this too)."""
        with self._lock:
            self._effects.settle(self.now())
            self.reports.settle()
        self._outbox.deliver()

    def pending_events(self, limit: int | None = None) -> list[tuple[datetime, str, str]]:
        """Scheduled events that will still apply: (due time, object id, timer or event
        name), earliest first — the first ``limit`` only, when given (then the cost is
        what is read, not what is queued)."""
        with self._lock:
            return self._scheduler.pending(limit)

    def next_event_at(self) -> datetime | None:
        """When the next scheduled event that will still apply is due (None when none)."""
        pending = self.pending_events(1)
        return pending[0][0] if pending else None

    def request(
        self,
        operation: str,
        object_id: str | None = None,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Response:
        """Make one API call by name; the typed methods (``AmazonPayApi``) all come here.

        Args:
            operation: an operation name (SPEC §1).
            object_id: the id in the path (None for ``create_*``).
            body: the decoded JSON body (None for none).
            idempotency_key: the ``x-amz-pay-idempotency-key`` header (POST; per operation).
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
        # No body is {}; JSON-number amounts become strings (SPEC §1 rev 2).
        body = normalise_body(operation, {} if body is None and not op.is_read else body)
        key, code = idempotency_key, simulation_code
        calls = self._calls

        def call() -> tuple[Response, int]:
            with self._lock:
                return calls.run(op, object_id, body, key, code)

        try:
            if key is None or not self._keys.valid(key):
                return call()[0]  # an invalid key is refused as a header (SPEC §8)
            fingerprint = self._keys.fingerprint(operation, object_id, body, code)
            return self._keys.run(
                operation,
                key,
                fingerprint,
                call,
                lambda seen: calls.repeat(seen, fingerprint, op, object_id, body, key, code),
            )
        finally:
            self._outbox.deliver()

    # -- the buyer's and Amazon's side ------------------------------------------------

    def buyer_approve(self, checkout_session_id: str, *, card: str = "1111") -> dict[str, Any]:
        """The buyer signs in on Amazon's page and picks a sandbox test card (SPEC §7).

        Clears ``BuyerNotAssociated``. Cards: ``apfsm.SANDBOX_CARDS``; ``0701`` and ``4354``
        need ``Authorize`` + ``canHandlePendingAuthorization``, else completion cancels the
        session (``CheckoutSessionCanceled``).

        Raises:
            ActionRefused: (a ``ValueError``) unknown session, a session not Open, or an
                unknown card — in that order.
        """
        try:
            with self._lock:
                return self._actions.approve(checkout_session_id, card)
        finally:
            self._outbox.deliver()

    def buyer_sign_in(self, *, scopes: Sequence[str] = ()) -> str:
        """The buyer signs in with Amazon Sign-in and is sent back to
        ``signInReturnUrl?buyerToken=...`` (SPEC §11): returns that buyer token, for
        ``get_buyer``.

        The buyer is the sandbox buyer; Get Buyer shows ``buyerId``
        (``amzn1.account.``..., made from ``seed`` like every id) and what ``scopes``
        (``signInScopes``: ``name``, ``email``, ``postalCode``, ``shippingAddress``,
        ``billingAddress``, ``phoneNumber``, ``primeStatus``) share — the other keys null.
        The token expires ``limits.buyer_token_ttl`` (24 h) after sign-in: Get Buyer then
        answers ``ResourceNotFound``, as for an unknown token.

        Raises:
            ActionRefused: (a ``ValueError``) ``scopes`` not a list, or an unknown scope.
        """
        with self._lock:
            return self._actions.sign_in(scopes)

    def file_dispute(
        self,
        charge_id: str,
        *,
        filing_reason: str = "ProductNotReceived",
        dispute_type: str = "Chargeback",
        amount: str | None = None,
    ) -> dict[str, Any]:
        """The buyer files a chargeback with the bank (``dispute_type="Chargeback"``) or an
        A-to-z Guarantee claim (``"AtoZClaim"``) on a Captured charge (docs/dispute.md).

        The Dispute is ``ActionRequired`` / ``MerchantResponseRequired`` until its
        ``merchantResponseDeadline`` (``limits.chargeback_response_window``, 11 days, or
        ``claim_response_window``, 7 days): then, uncontested, ``Resolved`` /
        ``MerchantResponseDeadlineExpired`` (``BuyerWon``). A ``CHARGEBACK`` IPN goes out.
        Outcomes are Amazon's events: ``amazon_event(dispute_id, "merchant_won")``,
        ``"buyer_won"``, ``"evidence_requested"``... (``LIFECYCLES["Dispute"].events``).

        Args:
            amount: the disputed amount, in the charge's currency as API amounts are
                written ("12.50": no exponent); the captured amount when None.

        Returns:
            The new Dispute's JSON.

        Raises:
            ActionRefused: (a ``ValueError``) unknown charge, a charge not Captured, an
                unknown filing reason or dispute type, a bad amount or one above the captured.
        """
        try:
            with self._lock:
                return self._actions.file_dispute(charge_id, filing_reason, dispute_type, amount)
        finally:
            self._outbox.deliver()

    def buyer_cancel(self, checkout_session_id: str) -> dict[str, Any]:
        """The buyer cancels on Amazon's page: the session becomes Canceled/BuyerCanceled.

        Raises:
            ActionRefused: (a ``ValueError``) unknown session, or a session not Open.
        """
        try:
            with self._lock:
                return self._actions.cancel(checkout_session_id)
        finally:
            self._outbox.deliver()

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
            ActionRefused: (a ``ValueError``) unknown object or event, an event not possible
                in the object's state, or a reason the event does not allow.
        """
        try:
            with self._lock:
                return self._actions.event(object_id, event, reason)
        finally:
            self._outbox.deliver()

    # -- inspection -------------------------------------------------------------------

    def object_json(self, object_id: str) -> dict[str, Any] | None:
        """The current JSON of any stored object, without making (or logging) a call; None
        when there is no such object. Does not settle."""
        with self._lock:
            record = self._store.get(object_id)
            return None if record is None else record.to_json(self._limits, self.now())

    def object_ids(self, object_type: str | None = None) -> list[str]:
        """Ids of the stored objects (of one type, any spelling), in creation order."""
        if object_type is not None:
            object_type = object_type_named(object_type)
        with self._lock:
            return [r.id for r in self._store.ordered(object_type)]

    def object_type(self, object_id: str) -> str | None:
        """The type of a stored object (``"Charge"``...), or None when there is none."""
        record = self._store.get(object_id)
        return None if record is None else record.object_type

    def object_state(self, object_id: str) -> str | None:
        """The current state of a stored object (``"Authorized"``...), or None when there
        is none: cheaper than ``object_json`` when the state is all you need."""
        record = self._store.get(object_id)
        return None if record is None else record.state

    def ledger(self, object_id: str) -> ChargeLedger | PermissionLedger | None:
        """The books of a Charge or Charge Permission — its amounts, refunds still pending
        included — read-only; None for other objects and unknown ids. Does not settle."""
        with self._lock:
            return ledger_of(self._store.get(object_id))

    def watch(self) -> ChangeCursor:
        """A read-only cursor over what changes from now on: ``cursor.take()`` gives the ids
        of the objects created, changed or deleted since it last did — with the charge and
        permission above a changed refund or charge, whose JSON follows it. For harnesses
        that check only what changed."""
        with self._lock:
            return self._store.journal.watch()

    def write_log(self, path: str | os.PathLike[str]) -> int:
        """Write the call log as JSON Lines (``LogRecord.to_json()``, one per line): the
        format ``apfsm check-log`` reads. Returns the number of lines."""
        with open(path, "w", encoding="utf-8") as out:
            count = 0
            for record in list(self.log):
                out.write(json.dumps(record.to_json(), separators=(",", ":")) + "\n")
                count += 1
        return count

    def state_fingerprint(self) -> tuple[Any, ...]:
        """A cheap, comparable picture of everything a call can change (the objects,
        scheduled events, counters and notifications; not the log or idempotency keys):
        tests compare it before and after a refused call."""
        with self._lock:
            return self._store.fingerprint()

    def change_marker(self) -> tuple[int, ...]:
        """A cheaper stand-in for ``state_fingerprint``: it differs after any change a call
        can make (every object created, changed or deleted is counted, and so are ids
        handed out, scheduled events and notifications)."""
        with self._lock:
            return self._store.marker()

    def __len__(self) -> int:
        return len(self._store.objects)

    def __repr__(self) -> str:
        return (
            f"<Simulator {self.merchant_id} at {format_timestamp(self.now())}: "
            f"{len(self)} objects, {len(self.log)} calls, "
            f"{len(self.notifications)} notifications>"
        )

    # -- retention ----------------------------------------------------------------------

    def retain(
        self,
        *,
        call_log: int | None = None,
        idempotency_keys: int | None = None,
        notifications: int | None = None,
    ) -> None:
        """Bound what a long-running simulator keeps (``apfsm serve --max-call-log``,
        ``--max-idempotency-keys``, ``--max-notifications``); None keeps everything (the
        default, and Amazon's rule for keys: stored indefinitely).

        Args:
            call_log: keep about the newest ``call_log`` log records (up to 512 more:
                the oldest are dropped a packed chunk of 256 at a time).
            idempotency_keys: keep the newest ``idempotency_keys`` keys; a key whose
                answer left the call log is forgotten too (a forgotten key is new again).
                The Reports API's keyed calls (Create Report, Create Report Schedule)
                keep up to as many each.
            notifications: keep at most the newest ``notifications`` IPN messages (the
                oldest are dropped up to 1,024 at a time; ``notifications_dropped``
                counts them).

        Raises:
            ValueError: a cap below 1.
        """
        if notifications is not None and (
            isinstance(notifications, bool)
            or not isinstance(notifications, int)
            or notifications < 1
        ):
            raise ValueError(f"notifications must be at least 1, got {notifications!r}")
        with self._lock:
            self._store.log.retain(call_log)
            self._keys.retain(idempotency_keys)
            self.reports.max_keys = idempotency_keys
            self.reports.trim_keys()
            self._store.max_notifications = notifications
            self._store.trim_notifications()

    # -- snapshots --------------------------------------------------------------------

    def checkpoint_parts(self, *, full: bool = False) -> Parts:
        """What an incremental ``--state`` checkpoint writes: what changed since the
        last call (everything the first time, or with ``full``)."""
        with self._lock:
            return parts_of(self._store, now=self.now(), limits=self._limits, full=full)

    def resume_checkpoint(self, log: CallLog) -> None:
        """A restart from a state file: hold ``log`` (read back from it) as the call log,
        and collect changes from here on, for the next incremental checkpoint."""
        with self._lock:
            log.retain(self._store.log.max_records)
            self._store.log = log
            resumed(self._store)

    def snapshot(self, *, log: bool = True) -> dict[str, Any]:
        """The whole state as a JSON-serialisable, versioned dict (the call log under
        ``"log"``); ``Simulator.restore`` continues exactly where it left off.

        Args:
            log: include the call log (``log=False`` leaves ``"log"`` empty: cheaper,
                for comparing states).
        """
        with self._lock:
            return dump(self._store, now=self.now(), limits=self._limits, log=log)

    @classmethod
    def restore(
        cls,
        snapshot: Mapping[str, Any],
        clock: Clock | None = None,
        *,
        on_notification: Notifier | None = None,
    ) -> Simulator:
        """A simulator in the state ``snapshot`` describes.

        Args:
            snapshot: what ``snapshot()`` returned (possibly through JSON).
            clock: the clock to continue with; a ``ManualClock`` at the snapshot's time by
                default.

        Raises:
            ValueError: not a simulator snapshot, or one of an unknown version; a
                malformed one (checked in full: types, states, reasons, amounts,
                timestamps, links, scheduled actions) names the faulty field's path,
                e.g. ``objects[3].amount``.
        """
        store, now, limits = load(snapshot)
        sim = cls(clock or ManualClock(now), limits, store.merchant_id)
        sim._use(store, on_notification)
        return sim
