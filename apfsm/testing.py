"""Fuzzing your integration: ``IntegrationMachine``, a Hypothesis state machine that plays
Amazon Pay's side while your rules play your shop's.

Subclass it, point your integration at ``self.sim`` (an ``apfsm.Simulator``: the same
thirteen API methods, taking and returning the API's JSON), add ``@rule`` methods for your
business events (place an order, ship, accept a return, cancel) and ``@invariant`` methods
for what must always hold, and implement ``on_notification`` to hand IPN messages to your
handler. The base class brings the rest:

* deadline-aware time steps (exactly L − 1 s, L and L + 1 s of every limit, and jumps to the
  next scheduled event);
* the buyer approving (with any sandbox card) or abandoning the checkout sessions your
  integration created, and cancelling them; payment-method problems and fixes; the buyer
  closing a permission; Amazon canceling charges;
* declines via simulation codes, injected into your integration's next call;
* IPN delivery with the faults real delivery has — duplicated, delayed, reordered.

**Strict mode** (``strict = True``, the default) fails the run — with the shrunk sequence
— when your integration makes a call Amazon Pay refuses for a reason it could have known:
a wrong state, a passed deadline, an amount over a limit, a malformed body. Declines and
other outcomes a correct integration must handle (``SoftDeclined``, ``HardDeclined``,
``ProcessingFailure``, ``CheckoutSessionCanceled``...) are not failures: your code gets the
``ApiError`` and must cope.

Example::

    from hypothesis.stateful import invariant, rule
    from apfsm.testing import IntegrationMachine

    class ShopMachine(IntegrationMachine):
        def __init__(self):
            super().__init__()
            self.shop = Shop(amazon_pay=self.sim)

        def on_notification(self, message):
            self.shop.handle_ipn(message)

        @rule()
        def place_order(self):
            self.shop.place_order(amount="25.00")

    TestShop = ShopMachine.TestCase
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs
from hypothesis import event, note
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from . import strategies as aps
from ._catalog import SIMULATION_CODES
from ._clock import ManualClock
from ._errors import ApiError
from ._lifecycles import NON_CHARGEABLE_REASONS, OPERATIONS
from ._limits import Limits
from ._simulator import Response, Simulator
from ._validator import check

__all__ = [
    "KNOWABLE_CODES",
    "IntegrationError",
    "IntegrationMachine",
    "WatchedSimulator",
]

# Rule arguments are far cheaper for Hypothesis than draws inside a rule: a choice among
# objects known only when the rule runs takes an index ``pick`` modulo their number.
_PICK = st.integers(0, 1023)
_INJECTIONS = st.sampled_from(
    sorted((operation, code) for operation, codes in SIMULATION_CODES.items() for code in codes)
)

# The Amazon-side rules act on objects in these states; a precondition skips a rule while
# there are none, so no step is spent doing nothing.
_OPEN = ("Open",)
_USABLE = ("Chargeable", "NonChargeable")
_NON_CHARGEABLE = ("NonChargeable",)
_CANCELABLE_CHARGES = ("AuthorizationInitiated", "Authorized")

#: Refusals a correct integration never provokes: it could have known from what it was
#: told (the objects' states and deadlines, the amounts, the API's rules).
KNOWABLE_CODES: frozenset[str] = frozenset(
    {
        "InvalidRequestFormat",
        "UnrecognizedField",
        "MissingParameterValue",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidHeaderValue",
        "DuplicateIdempotencyKey",
        "ResourceNotFound",
        "InvalidCheckoutSessionStatus",
        "InvalidChargePermissionStatus",
        "InvalidChargeStatus",
        "CurrencyMismatch",
        "AmountMismatch",
        "TransactionAmountExceeded",
        "TransactionCountExceeded",
        "PeriodicAmountExceeded",
    }
)


class IntegrationError(AssertionError):
    """The integration made a call Amazon Pay refuses for a reason it could have known."""


@attrs.define
class _Pending:
    message: dict[str, Any]
    held: int = 0  # deliveries this message still sits out (a delayed message)


def _note(text: str) -> None:
    # The simulator also serves outside Hypothesis (plain tests, the REPL).
    if currently_in_test_context():
        note(text)


def _event(text: str) -> None:
    if currently_in_test_context():
        event(text)


class WatchedSimulator(Simulator):
    """The simulator your integration talks to inside an ``IntegrationMachine``.

    Behaves exactly like ``Simulator``; in addition it remembers every call's answer, can
    inject a simulation code into the integration's next matching call, and (in strict
    mode) raises ``IntegrationError`` for refusals the integration could have known.
    """

    def __init__(self, *args: Any, strict: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strict = strict
        #: Error codes the integration is allowed to provoke even in strict mode.
        self.tolerated: set[str] = set()
        self.injected: dict[str, str] = {}  # operation -> simulation code for its next call
        self.calls: list[tuple[str, str | None, str]] = []  # (operation, object id, outcome)

    def request(
        self,
        operation: str,
        object_id: str | None = None,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Response:
        if simulation_code is None and operation in self.injected:
            simulation_code = self.injected.pop(operation)
            _note(f"apfsm: simulation code {simulation_code} injected into {operation}")
        target_id = object_id
        if operation == "create_charge" and isinstance(body, dict):
            target_id = body.get("chargePermissionId")
        elif operation == "create_refund" and isinstance(body, dict):
            target_id = body.get("chargeId")
        before = self.object_json(target_id) if isinstance(target_id, str) else None
        try:
            answer = super().request(
                operation,
                object_id,
                body,
                idempotency_key=idempotency_key,
                simulation_code=simulation_code,
            )
        except ApiError as err:
            self.calls.append((operation, object_id, err.reason_code))
            _event(f"integration: {operation} → {err.reason_code}")
            if self.strict and err.reason_code in KNOWABLE_CODES - self.tolerated:
                state = (before or {}).get("statusDetails", {}).get("state")
                where = f" on a {OPERATIONS[operation].target} in state {state}" if state else ""
                raise IntegrationError(
                    f"the integration called {operation}{where} and Amazon Pay refused it: "
                    f"{err} — a refusal it could have avoided (strict mode; tolerate a code "
                    f"with `self.sim.tolerated.add(code)` if it is intended)"
                ) from err
            raise
        self.calls.append((operation, object_id, f"→ {answer.status}"))
        _event(f"integration: {operation} → ok")
        return answer


class IntegrationMachine(RuleBasedStateMachine):
    """Amazon Pay's side of a fuzz test; subclass it with your shop's side (module docs).

    Attributes:
        sim: the ``WatchedSimulator`` your integration must use.
        clock: its ``ManualClock``.

    Class attributes to override: ``strict`` (default True), ``limits``, ``start`` (the
    clock's start), ``ipn_faults`` (duplicate, delay and reorder IPNs; default True).
    """

    strict: ClassVar[bool] = True
    limits: ClassVar[Limits] = Limits()
    start: ClassVar[datetime] = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    ipn_faults: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(self.start)
        self.sim = WatchedSimulator(
            self.clock, self.limits, strict=self.strict, on_notification=self._queue_notification
        )
        self._inbox: list[_Pending] = []
        # Which objects are in which state, rebuilt only when the simulator journals a
        # change: the Amazon-side rules' preconditions read it on every step.
        self.sim.journal = []
        self._index_version = -1
        self._index: dict[str, list[tuple[str, str]]] = {}

    # -- hooks -------------------------------------------------------------------------

    def on_notification(self, message: dict[str, Any]) -> None:
        """Hand one IPN message to your integration (override). Messages may come twice,
        late, or out of order — as real IPN delivery does (SPEC §7)."""

    # -- IPN delivery ------------------------------------------------------------------

    def _queue_notification(self, message: dict[str, Any]) -> None:
        self._inbox.append(_Pending(message))

    @property
    def pending_notifications(self) -> list[dict[str, Any]]:
        """The IPN messages sent but not yet delivered to your integration, oldest first
        (copies)."""
        return [dict(pending.message) for pending in self._inbox]

    def deliver_notifications(self, *, all_pending: bool = True) -> None:
        """Deliver what is waiting — delayed messages too — in order, without faults.

        Call it from a rule of yours (a "catch-up" step after which your integration must
        agree with Amazon Pay exactly), not from an invariant: invariants run after every
        step, so the inbox would always be empty and the delivery faults would never
        happen.
        """
        while self._inbox:
            pending = self._inbox.pop(0)
            self.on_notification(dict(pending.message))
            if not all_pending:
                return

    @precondition(lambda self: bool(self._inbox))
    @rule(
        fault=st.sampled_from(["none", "none", "duplicate", "delay", "reorder"]),
        count=st.integers(min_value=1, max_value=3),
    )
    def deliver_ipns(self, fault: str, count: int) -> None:
        """Deliver up to ``count`` waiting IPNs with a delivery fault (when ``ipn_faults``):
        each delivered twice (duplicate), the oldest held back for the next one to three
        deliveries while later ones arrive (delay), or newest first (reorder)."""
        if not self.ipn_faults:
            fault = "none"
        if fault == "reorder" and len(self._inbox) > 1:
            self._inbox.reverse()
        elif fault == "delay":
            self._inbox[0].held = count
        _event(f"ipn delivery: {fault}")
        due = [pending for pending in self._inbox if pending.held == 0][:count]
        for pending in self._inbox:
            if pending.held and pending not in due:
                pending.held -= 1
        for pending in due:
            self._inbox.remove(pending)
            self.on_notification(dict(pending.message))
            if fault == "duplicate":
                self.on_notification(dict(pending.message))

    # -- time --------------------------------------------------------------------------

    @rule(step=aps.time_steps(max_value=timedelta(days=60)))
    def time_passes(self, step: timedelta) -> None:
        """Time passes: uniform jumps and exactly L − 1 s, L, L + 1 s of every limit."""
        self.sim.advance(step)

    @precondition(lambda self: self.sim.next_event_at() is not None)
    @rule(offset=st.sampled_from([-1, 0, 1]))
    def until_next_deadline(self, offset: int) -> None:
        """To 1 s before, at, or 1 s after the next scheduled event."""
        due = self.sim.next_event_at()
        if due is not None and due + timedelta(seconds=offset) > self.sim.now():
            self.clock.move_to(due + timedelta(seconds=offset))
            self.sim.settle()

    # -- the buyer's and Amazon's side -------------------------------------------------

    def _any(self, object_type: str, states: tuple[str, ...]) -> bool:
        return bool(self._objects_in(object_type, states))

    def _objects_in(self, object_type: str, states: tuple[str, ...]) -> list[str]:
        """The objects of a type in any of ``states``, oldest first."""
        sim = self.sim
        sim.settle()
        journal = sim.journal if sim.journal is not None else []
        if len(journal) != self._index_version:
            index: dict[str, list[tuple[str, str]]] = {}
            for object_id in sim.object_ids():
                kind = sim.object_type(object_id)
                state = sim.object_state(object_id)
                if kind is not None and state is not None:
                    index.setdefault(kind, []).append((object_id, state))
            self._index = index
            self._index_version = len(journal)
        return [i for i, state in self._index.get(object_type, ()) if state in states]

    @precondition(lambda self: self._any("CheckoutSession", _OPEN))
    @rule(
        pick=_PICK,
        card=st.sampled_from(["1111", "1111", "1111", "1111", "0701", "3064", "3434", "4354"]),
    )
    def buyer_approves(self, pick: int, card: str) -> None:
        """The buyer signs in on Amazon's page for a session your integration created and
        picks a sandbox card (SPEC §7)."""
        open_sessions = [
            s for s in self._objects_in("CheckoutSession", _OPEN) if self._awaits_buyer(s)
        ]
        if open_sessions:
            session = open_sessions[pick % len(open_sessions)]
            self.sim.buyer_approve(session, card=card)
            self.after_buyer_approved(session)

    def _awaits_buyer(self, checkout_session_id: str) -> bool:
        body = self.sim.object_json(checkout_session_id) or {}
        return "BuyerNotAssociated" in {c["constraintId"] for c in body.get("constraints", ())}

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        """Called after the buyer approved a session: the buyer is back on your result
        page (override to complete the checkout, as your shop does)."""

    @precondition(lambda self: self._any("CheckoutSession", _OPEN))
    @rule(pick=_PICK)
    def buyer_abandons(self, pick: int) -> None:
        sessions = self._objects_in("CheckoutSession", _OPEN)
        if sessions:
            self.sim.buyer_cancel(sessions[pick % len(sessions)])

    @precondition(lambda self: self._any("ChargePermission", _USABLE))
    @rule(pick=_PICK, reason=st.sampled_from(NON_CHARGEABLE_REASONS[:6]))
    def payment_method_problem(self, pick: int, reason: str) -> None:
        permissions = self._objects_in("ChargePermission", _USABLE)
        if permissions:
            self.sim.payment_method_problem(permissions[pick % len(permissions)], reason)

    @precondition(lambda self: self._any("ChargePermission", _NON_CHARGEABLE))
    @rule(pick=_PICK)
    def payment_method_fixed(self, pick: int) -> None:
        permissions = self._objects_in("ChargePermission", _NON_CHARGEABLE)
        if permissions:
            self.sim.payment_method_fixed(permissions[pick % len(permissions)])

    @precondition(lambda self: self._any("ChargePermission", _USABLE))
    @rule(pick=_PICK)
    def buyer_closes_permission(self, pick: int) -> None:
        permissions = self._objects_in("ChargePermission", _USABLE)
        if permissions:
            self.sim.buyer_close_charge_permission(permissions[pick % len(permissions)])

    @precondition(lambda self: self._any("Charge", _CANCELABLE_CHARGES))
    @rule(pick=_PICK)
    def amazon_cancels_charge(self, pick: int) -> None:
        charges = self._objects_in("Charge", _CANCELABLE_CHARGES)
        if charges:
            self.sim.amazon_event(charges[pick % len(charges)], "amazon_cancel")

    @rule(injection=_INJECTIONS)
    def next_call_is_declined(self, injection: tuple[str, str]) -> None:
        """Inject a simulation code into the integration's next call of an operation that
        takes one (SPEC §7): declines, rejected captures, failed refunds, canceled
        checkouts."""
        operation, code = injection
        self.sim.injected[operation] = code

    # -- helpers for your rules ----------------------------------------------------------

    def predict(self, operation: str, object_id: str | None, body: Any = None) -> Any:
        """What Amazon Pay would answer now (``apfsm.check`` on the object's JSON)."""
        target = self.sim.object_json(object_id) if object_id else None
        return check(operation, target, body=body, at=self.sim.now(), limits=self.limits)
