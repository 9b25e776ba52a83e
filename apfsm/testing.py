"""Fuzzing your integration: ``IntegrationMachine``, a Hypothesis state machine that plays
Amazon Pay's side while your rules play your shop's.

Subclass it, point your integration at ``self.sim`` (an ``apfsm.Simulator``: the same
API methods, taking and returning the API's JSON), add ``@rule`` methods for your
business events (place an order, ship, accept a return, cancel) and ``@invariant`` methods
for what must always hold, and implement ``on_notification`` to hand IPN messages to your
handler. The base class brings the rest:

* deadline-aware time steps (L − 1 s, L and L + 1 s of every limit; the next event);
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

Amazon Pay's side is the base class's ``amazon_*`` rules, one per kind of step, each with a
precondition. docs/fuzzing-your-integration.md has a whole example.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar, overload

import attrs

from ._extras import missing_extra

try:
    from hypothesis import event, note
    from hypothesis.control import currently_in_test_context, should_note
    from hypothesis.errors import HypothesisException
    from hypothesis.stateful import RuleBasedStateMachine, invariant
except ImportError as _missing:  # the core install has no Hypothesis
    raise missing_extra("testing", "apfsm.testing", _missing) from None

from ._clock import ManualClock
from ._errors import ApiError
from ._fuzz import (
    AMAZON_RULES,
    CURRENT,
    SECOND,
    AmazonRules,
    DisputeRules,
    FacadeMoveError,
    FacadeRules,
    RetryWatch,
    add_step_rule,
    jump_target,
    legacy_amazon_entries,
    legacy_plan,
    step_plans,
    story,
)
from ._harness import DEFAULT_START, KNOWABLE_CODES, Trace, trace_directory
from ._intercept import AmazonPayMock, mock_amazon_pay
from ._outcome import Outcome
from ._sim import Response, Simulator
from ._spec import OPERATIONS, Limits, object_type_named
from ._validator import check

__all__ = [
    "AMAZON_STEPS",
    "KNOWABLE_CODES",
    "AmazonPayMock",
    "DisputeRules",
    "FacadeMachine",
    "FacadeMoveError",
    "FacadeRules",
    "IntegrationError",
    "IntegrationMachine",
    "WatchedSimulator",
    "mock_amazon_pay",
    "step_plans",
]

_T = TypeVar("_T")
_NO_DEFAULT: Any = object()  # amazon_json without a default: a missing object is an error

# The Amazon-side rules act on objects in these states; a precondition skips a rule while
# there are none, so no step is spent doing nothing.
_OPEN = ("Open",)
_USABLE = ("Chargeable", "NonChargeable")
_NON_CHARGEABLE = ("NonChargeable",)
_CANCELABLE_CHARGES = ("AuthorizationInitiated", "Authorized")
_PENDING_REFUNDS = ("RefundInitiated",)

#: What each kind of Amazon-side step acts on: (object type, states).
_ACTS_ON: dict[str, tuple[str, tuple[str, ...]]] = {
    "buyer_approves": ("CheckoutSession", _OPEN),
    "buyer_abandons": ("CheckoutSession", _OPEN),
    "payment_method_problem": ("ChargePermission", _USABLE),
    "payment_method_fixed": ("ChargePermission", _NON_CHARGEABLE),
    "buyer_closes_permission": ("ChargePermission", _USABLE),
    "amazon_cancels_charge": ("Charge", _CANCELABLE_CHARGES),
    "amazon_declines_refund": ("Refund", _PENDING_REFUNDS),
}


#: Amazon Pay's kinds of step in ``IntegrationMachine.amazon_pay``: the legacy encoding's, and
#: ``amazon_declines_refund`` (taken by ``FacadeMachine``'s rule, or a rule of yours).
AMAZON_STEPS: tuple[str, ...] = (
    *dict.fromkeys(name for name, _, _ in legacy_amazon_entries(Limits())),
    "amazon_declines_refund",
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
        #: Judges retries against Amazon's advice (``IntegrationMachine.check_retries``).
        self.retries: RetryWatch | None = None

    def request(
        self,
        operation: str,
        object_id: str | None = None,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Response:
        """``Simulator.request`` with ``injected`` codes, ``check_retries`` and answers kept."""
        __tracebackhide__ = True
        if simulation_code is None and operation in self.injected:
            simulation_code = self.injected.pop(operation)
            _note(f"apfsm: simulation code {simulation_code} injected into {operation}")
        target_id = OPERATIONS[operation].target_id(object_id, body)
        before = self.object_json(target_id) if isinstance(target_id, str) else None
        hopeless = None if self.retries is None else self.retries.before(operation, target_id)
        if hopeless is not None:
            raise IntegrationError(f"{hopeless} (check_retries)")
        try:
            answer = super().request(
                operation,
                object_id,
                body,
                idempotency_key=idempotency_key,
                simulation_code=simulation_code,
            )
        except ApiError as err:
            if self.retries is not None:
                self.retries.answered(operation, target_id, err.reason_code)
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
        if self.retries is not None:
            self.retries.answered(operation, target_id, None)
        self.calls.append((operation, object_id, f"→ {answer.status}"))
        _event(f"integration: {operation} → ok")
        return answer


class IntegrationMachine(AmazonRules, RuleBasedStateMachine):
    """Amazon Pay's side of a fuzz test; subclass it with your shop's side (module docs).

    Attributes:
        sim: the ``WatchedSimulator`` your integration must use.
        clock: its ``ManualClock``.

    Class attributes to override: ``strict`` (default True), ``limits``, ``start`` (the
    clock's start), ``ipn_faults`` (duplicate, delay and reorder IPNs; default True),
    ``check_retries`` and ``retry_within`` (retries judged by ``apfsm.advise``).
    """

    strict: ClassVar[bool] = True
    limits: ClassVar[Limits] = Limits()
    start: ClassVar[datetime] = DEFAULT_START
    ipn_faults: ClassVar[bool] = True
    #: Fail a retry that cannot succeed (a call repeated after HardDeclined,
    #: AmazonRejected, PaymentMethodNotAllowed, MFANotCompleted or CheckoutSessionCanceled
    #: with nothing changed since), and with ``retry_within`` a retryable decline
    #: (SoftDeclined, ProcessingFailure) left unretried that long.
    check_retries: ClassVar[bool] = False
    retry_within: ClassVar[timedelta | None] = None
    #: Where a failing run's trace goes (``APFSM_TRACE_DIR`` or ``.apfsm-traces`` when
    #: None).
    trace_dir: ClassVar[str | None] = None
    #: Deprecated (write ``@rule`` methods): ``{"ship": (weight, values, ...)}`` in the
    #: biased one-integer ``step`` rule, which then plays Amazon's side too; it warns.
    business_events: ClassVar[Mapping[str, tuple[Any, ...]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "business_events" in cls.__dict__ and cls.business_events:
            warnings.warn(
                f"{cls.__name__}.business_events is deprecated: its one-integer encoding "
                "biases options and events; write each business event as a @rule method "
                "with strategy arguments and a @precondition (docs/fuzzing-your-"
                "integration.md)",
                DeprecationWarning,
                stacklevel=2,
            )
        if cls.business_events and ("limits" in cls.__dict__ or "business_events" in cls.__dict__):
            for name in AMAZON_RULES:
                setattr(cls, name, None)  # the one-rule step plays Amazon's side instead
            _add_step_rule(cls)

    def __init__(self) -> None:
        super().__init__()
        CURRENT.set(self)  # the steps drawn next are this machine's
        self.clock = ManualClock(self.start)
        self.sim = WatchedSimulator(
            self.clock,
            self.limits,
            strict=self.strict,
            seed=0,  # the same example, the same ids (shrinking, @reproduce_failure)
            on_notification=self._queue_notification,
        )
        if self.check_retries or self.retry_within is not None:
            self.sim.retries = RetryWatch(self.sim.object_json, self._charges_of, self.retry_within)
        self._inbox: list[_Pending] = []
        # What Amazon holds, kept up to date from the simulator's changes (only what
        # changed is read again): each object's type and state, oldest first (the
        # Amazon-side steps ask for them on every step), and its JSON once read (see
        # amazon_json).
        self._changes = self.sim.watch()
        self._states: dict[str, tuple[str, str]] = {}
        self._view: dict[str, dict[str, Any]] = {}

    def _charges_of(self, permission: str) -> list[str]:
        return [
            i
            for i in self.sim.object_ids("Charge")
            if (self.sim.object_json(i) or {}).get("chargePermissionId") == permission
        ]

    @invariant()
    def retries_are_kept(self) -> None:
        """With ``retry_within``: no retryable decline left unretried that long."""
        __tracebackhide__ = True
        if self.sim.retries is not None and self.retry_within is not None:
            late = self.sim.retries.overdue(self.sim.object_ids("ChargePermission"), self.sim.now())
            if late:
                raise IntegrationError(late[0])

    # -- hooks -------------------------------------------------------------------------

    def teardown(self) -> None:
        """After every run: steps drawn from now on are no longer this machine's. When
        the run failed — the final, shrunk run Hypothesis
        reports — the trace of everything that happened on Amazon Pay's side is written
        (``export_trace``). Call ``super().teardown()`` if you override it."""
        if CURRENT.get() is self:
            CURRENT.set(None)
        failure = sys.exc_info()[1]
        if (
            isinstance(failure, Exception)
            and not isinstance(failure, HypothesisException)
            and currently_in_test_context()
            and should_note()
        ):
            reason = f"{type(failure).__name__}: {failure}".splitlines()[0]
            note(story(self.sim.log, self.start))
            path = self.export_trace(reason)
            note(
                f"apfsm trace of this run: {path} — apfsm.replay({str(path)!r}) replays "
                "Amazon Pay's side only (your calls as recorded, not your code)"
            )

    def export_trace(self, reason: str = "") -> Path:
        """Write every call your integration made, every buyer and Amazon action and the
        clock's moves so far as a trace file (``Trace.from_log``), which
        ``apfsm.replay`` replays against a simulator or your own adapter; returns its
        path."""
        directory = trace_directory(self.trace_dir)
        trace = Trace.from_log(self.sim.log, start=self.start, limits=self.limits, note=reason)
        return trace.save(directory / f"{type(self).__name__}.json")

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
        __tracebackhide__ = True
        while self._inbox:
            pending = self._inbox.pop(0)
            self.on_notification(dict(pending.message))
            if not all_pending:
                return

    def deliver_ipns(self, fault: str = "none", count: int = 1) -> None:
        """Deliver up to ``count`` waiting IPNs with a delivery fault (when ``ipn_faults``):
        each delivered twice (duplicate), the oldest held back for the next one to three
        deliveries while later ones arrive (delay), or newest first (reorder)."""
        __tracebackhide__ = True
        if not self.ipn_faults:
            fault = "none"
        if fault == "reorder" and len(self._inbox) > 1:
            self._inbox.reverse()
        elif fault == "delay" and self._inbox:
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

    # -- Amazon Pay's side: one rule ---------------------------------------------------

    def business_event(self, plan: tuple[str, tuple[Any, ...]]) -> None:
        """One of your ``business_events``: calls ``self.<name>(*arguments)``."""
        name, arguments = plan
        getattr(self, name)(*arguments)

    def can_happen(self, event: str) -> bool:
        """Whether your business event ``event`` can happen now (override: an order to
        ship, say). A step draws only what can happen: an event that cannot gives way to
        one that can, chosen by the same number, and the failing case prints that one."""
        return True

    def can_take(self, kind: str) -> bool:
        """Whether a step of ``kind`` — one of ``AMAZON_STEPS`` or a business event — can
        act now (see ``can_happen`` and ``amazon_may``)."""
        if kind == "wait":
            return True
        if kind in AMAZON_STEPS:
            return self.amazon_may(kind) and self._can(kind)
        return self.can_happen(kind)

    def amazon_may(self, kind: str) -> bool:
        """Whether Amazon Pay's side may take a step of ``kind`` now (override to steer it
        with your integration's view; see ``AMAZON_STEPS``). Steps that cannot act (no
        object in a state they act on) are skipped anyway."""
        return True

    def amazon_pay(self, plan: tuple[str, Any]) -> None:
        """One step of Amazon Pay's side (see ``AMAZON_STEPS``). A kind that cannot act
        now (nothing to act on, or ``amazon_may`` says no) lets one second pass instead —
        when called directly: the rule draws only kinds that can act (``can_take``)."""
        __tracebackhide__ = True
        kind, options = plan
        if not self.can_take(kind):
            _note(f"apfsm: {kind} cannot act now; 1 s passes instead")
            _event("amazon: cannot act, 1 s passes")
            kind, options = "wait", (SECOND,)
        self._amazon_step(kind, options)

    def _can(self, kind: str) -> bool:
        if kind == "deliver_ipns":
            return bool(self._inbox)
        if kind == "until_next_deadline":
            return self.sim.next_event_at() is not None
        states = _ACTS_ON.get(kind)
        if states is None:
            return True
        object_type, in_states = states
        objects = self._objects_in(object_type, in_states)
        if kind == "buyer_approves":
            return any(self._awaits_buyer(s) for s in objects)
        return bool(objects)

    def _amazon_step(self, kind: str, options: tuple[Any, ...]) -> None:
        __tracebackhide__ = True
        _event(f"amazon: {kind}")
        if kind == "wait":
            (step,) = options
            self.time_passes(step)
        elif kind == "deliver_ipns":
            self.deliver_ipns(*options)
        elif kind == "next_call_is_declined":
            self.next_call_is_declined(*options)
        else:
            getattr(self, kind)(*options)

    # -- time --------------------------------------------------------------------------

    def time_passes(self, step: timedelta) -> None:
        """Time passes: uniform jumps and exactly L − 1 s, L, L + 1 s of every limit."""
        self.sim.advance(step)

    def until_next_deadline(self, offset: int = 0) -> None:
        """To 1 s before, at, or 1 s after the next scheduled event."""
        instant = jump_target(self.sim, "next_deadline", offset)
        if instant is not None:
            self.clock.move_to(instant)
            self.sim.settle()

    # -- the buyer's and Amazon's side -------------------------------------------------

    def _objects_in(self, object_type: str, states: tuple[str, ...]) -> list[str]:
        """The objects of a type in any of ``states``, oldest first."""
        self.sim.settle()
        self._sync()
        return [
            i
            for i, (kind, state) in self._states.items()
            if kind == object_type and state in states
        ]

    def buyer_approves(self, pick: int = 0, card: str = "1111") -> None:
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

    def buyer_abandons(self, pick: int = 0) -> None:
        sessions = self._objects_in("CheckoutSession", _OPEN)
        if sessions:
            self.sim.buyer_cancel(sessions[pick % len(sessions)])

    def payment_method_problem(self, pick: int = 0, reason: str = "PaymentMethodInvalid") -> None:
        permissions = self._objects_in("ChargePermission", _USABLE)
        if permissions:
            self.sim.payment_method_problem(permissions[pick % len(permissions)], reason)

    def payment_method_fixed(self, pick: int = 0) -> None:
        permissions = self._objects_in("ChargePermission", _NON_CHARGEABLE)
        if permissions:
            self.sim.payment_method_fixed(permissions[pick % len(permissions)])

    def buyer_closes_permission(self, pick: int = 0) -> None:
        permissions = self._objects_in("ChargePermission", _USABLE)
        if permissions:
            self.sim.buyer_close_charge_permission(permissions[pick % len(permissions)])

    def amazon_cancels_charge(self, pick: int = 0) -> None:
        charges = self._objects_in("Charge", _CANCELABLE_CHARGES)
        if charges:
            self.sim.amazon_event(charges[pick % len(charges)], "amazon_cancel")

    def amazon_declines_refund(self, pick: int = 0, reason: str = "AmazonRejected") -> None:
        """Amazon declines a pending refund (``RefundInitiated`` → ``Declined``, ``reason``
        AmazonRejected or ProcessingFailure: SPEC §6); the REFUND IPN follows."""
        refunds = self._objects_in("Refund", _PENDING_REFUNDS)
        if refunds:
            self.sim.amazon_event(refunds[pick % len(refunds)], "refund_declined", reason=reason)

    def next_call_is_declined(self, operation: str, code: str) -> None:
        """Inject a simulation code into the integration's next call of an operation that
        takes one (SPEC §7): declines, rejected captures, failed refunds, canceled
        checkouts."""
        self.sim.injected[operation] = code

    # -- Amazon's truth, for your invariants --------------------------------------------

    @overload
    def amazon_json(self, object_id: str) -> dict[str, Any]: ...
    @overload
    def amazon_json(self, object_id: str, default: _T) -> dict[str, Any] | _T: ...
    def amazon_json(self, object_id: str, default: object = _NO_DEFAULT) -> object:
        """The object's current JSON as Amazon Pay holds it, read without an API call (so
        it is not your integration's traffic and uses no injected simulation code); with no
        such object, ``default`` or, without one, a ``KeyError``. Kept between steps and read
        again only for objects that changed, so invariants may read every object after
        every step cheaply. The dict is shared: do not change it."""
        self._sync()
        body = self._view.get(object_id)
        if body is None and object_id in self._states:
            body = self.sim.object_json(object_id)
            if body is not None:
                self._view[object_id] = body
        if body is None:
            if default is _NO_DEFAULT:
                raise KeyError(f"Amazon Pay holds no object {object_id!r}")
            return default
        return body

    def amazon_objects(self, object_type: str) -> list[dict[str, Any]]:
        """The current JSON of every object of ``object_type``, oldest first (see
        ``amazon_json``); any spelling of the type."""
        object_type = object_type_named(object_type)
        self._sync()
        found = (
            self.amazon_json(i, None)
            for i, (kind, _) in self._states.items()
            if kind == object_type
        )
        return [body for body in found if body is not None]

    def _sync(self) -> None:
        """Catch up with the simulator: the objects changed since the last time are read
        again (their JSON on demand). A changed refund's charge and a changed charge's
        permission count as changed too: their JSON follows it."""
        sim = self.sim
        for object_id in self._changes.take():
            self._view.pop(object_id, None)
            kind, state = sim.object_type(object_id), sim.object_state(object_id)
            if kind is None or state is None:
                self._states.pop(object_id, None)  # deleted
            else:
                self._states[object_id] = (kind, state)

    # -- helpers for your rules ----------------------------------------------------------

    def predict(
        self, operation: str, object_id: str | None, body: Mapping[str, Any] | None = None
    ) -> Outcome:
        """What Amazon Pay would answer now (``apfsm.check`` on the object's JSON)."""
        target = self.sim.object_json(object_id) if object_id else None
        return check(operation, target, body=body, at=self.sim.now(), limits=self.limits)


class FacadeMachine(FacadeRules, IntegrationMachine):
    """``IntegrationMachine`` for an integration written against a provider's facade
    (PPRO's payment charges) rather than Amazon Pay: ``FacadeRules`` (docs/facades.md)."""


def _add_step_rule(machine: type[IntegrationMachine]) -> None:
    """The machine's one rule, ``step`` (see ``add_step_rule``): Amazon Pay's side (see
    ``AMAZON_STEPS``) and your ``business_events``."""
    events = tuple(machine.business_events.items())

    def step(self: IntegrationMachine, plan: tuple[str, tuple[Any, ...]]) -> None:
        if plan[0] in AMAZON_STEPS:
            self.amazon_pay(plan)
        else:
            self.business_event(plan)

    step.__doc__ = "One step: Amazon Pay's side, or one of your business events."
    add_step_rule(machine, legacy_plan(machine.limits, events, AMAZON_STEPS), step)
