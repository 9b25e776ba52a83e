"""``AmazonPayMachine``: a Hypothesis state machine over the simulator, derived from the
declarations.

It generates operation sequences — every operation of SPEC §1 with valid and invalid
bodies, the buyer's and Amazon's events, simulation codes, idempotent replays, and
deadline-aware clock jumps (L − 1 s, L, L + 1 s of every limit, the next scheduled event,
month ends, 29 February) — and after every step checks that:

* the simulator answered what ``apfsm.check`` predicts from the target's current JSON, for
  every rule a payload shows (history-only rules — charge and refund counts, the month's
  total, pending refunds — simulation codes and sandbox cards may only make it stricter);
* a refusal changed nothing; a body with a known fault got its SPEC §8 code;
* the ledger invariants hold and every observed state change is legal.

Run it under pytest with ``TestAmazonPay = AmazonPayMachine.TestCase``; subclass it to add
checks (``after_step``) — apfsm's own tests check every step against an independent
reference model that way. Every exercised (object, state, operation, outcome) is reported
with ``hypothesis.event()`` and counted in ``AmazonPayMachine.coverage``. When a run
fails, the (shrunk) sequence is written as a trace file that ``apfsm.replay`` replays.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ._extras import missing_extra

try:
    from hypothesis import event, note
    from hypothesis.control import should_note
    from hypothesis.database import ExampleDatabase
    from hypothesis.errors import InvalidArgument
    from hypothesis.stateful import RuleBasedStateMachine, invariant
except ImportError as _missing:  # the core install has no Hypothesis
    raise missing_extra("testing", "apfsm.stateful", _missing) from None

from ._clock import ManualClock
from ._errors import ApiError
from ._fuzz import (
    CALENDAR_EDGES,
    FIRST_SESSION,
    MAKERS,
    UNKNOWN_IDS,
    WORLD_LABELS,
    AgeBuckets,
    Coverage,
    Executed,
    FuzzReport,
    Plan,
    RunLog,
    add_step_rule,
    count_call,
    declared_event,
    fault_by_number,
    jump_target,
    open_database,
    run_campaign,
    schema_body,
    step_plan,
)
from ._harness import (
    DEFAULT_START,
    Step,
    judge,
    ledger_problem,
    realistic_body,
    refusal_may_change_state,
    shown_card,
    trace_directory,
)
from ._outcome import Outcome
from ._sim import Response, Simulator
from ._spec import (
    OBJECT_TYPES,
    OPERATIONS,
    Limits,
    Operation,
)
from ._validator import check, check_transition

__all__ = ["AmazonPayMachine", "Coverage", "Executed", "FuzzReport", "fuzz"]

_F = TypeVar("_F", bound=Callable[..., Any])

_UNSET: Any = object()  # an argument not given


def _guarded(fn: _F) -> _F:
    """Run a rule or invariant; when it fails, export the sequence so far as a trace."""

    @functools.wraps(fn)
    def run(self: AmazonPayMachine, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except BaseException:
            self.export_trace(f"failure in {fn.__name__}")
            raise

    return run  # type: ignore[return-value]


class AmazonPayMachine(RuleBasedStateMachine):
    """Random histories on an ``apfsm.Simulator``, every step checked (module docs).

    Class attributes a subclass may override: ``limits`` (the limits in force), ``start``
    (the clock's start — by default a month end, 31 January, so calendar edges come soon),
    ``trace_dir`` (where failing traces go; ``APFSM_TRACE_DIR`` or ``.apfsm-traces``).
    """

    limits: ClassVar[Limits] = Limits()
    start: ClassVar[datetime] = DEFAULT_START
    trace_dir: ClassVar[str | None] = None
    coverage: ClassVar[Coverage] = Coverage()
    #: The buyer's and Amazon's events the machine may trigger, as (object type, event
    #: name); None for every declared one.
    events: ClassVar[frozenset[tuple[str, str]] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "limits" in cls.__dict__:  # bodies are drawn under the subclass's limits
            _add_rules(cls)

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(self.start)
        # A fixed seed: the same example makes the same ids, so shrinking and
        # @reproduce_failure replay it exactly.
        self.sim = Simulator(self.clock, self.limits, seed=0)
        # What each step changed: the invariants check only that; a call's own changes
        # name the objects it created.
        self._changed = self.sim.watch()
        self._call_changes = self.sim.watch()
        self._notified = 0  # notifications already checked
        self.run_log = RunLog(self.start, self.limits)
        # Notes are shown for the final (shrunk) run only: skip formatting them otherwise.
        try:
            self._noting = should_note()
        except InvalidArgument:  # outside a test: note() says so itself
            self._noting = True
        self.keys: dict[tuple[str, str], tuple[str | None, Any, str | None, Any]] = {}
        self.seen: dict[str, tuple[str, str]] = {}  # id -> (object type, last state)
        #: Every object made so far, per type, oldest first (deleted ones stay: calls on
        #: them are answered ResourceNotFound).
        self.objects: dict[str, list[str]] = {t: [] for t in OBJECT_TYPES}
        self.known: set[str] = set()
        self.started = False  # the first orders are placed (see ``first_orders``)
        self._bucket = AgeBuckets(self.limits)

    # ---------------------------------------------------------------------------------
    # Hooks
    # ---------------------------------------------------------------------------------

    def after_step(self, executed: Executed) -> None:
        """Called after every step with what it did; override to add checks."""

    def export_trace(self, reason: str = "") -> Path:
        """Write the steps so far as a trace file; returns its path."""
        path = trace_directory(self.trace_dir) / f"{type(self).__name__}.json"
        self.run_log.trace(note=reason).save(path)
        note(
            f"apfsm trace of this run ({reason}): {path} — replay with apfsm.replay({str(path)!r})"
        )
        return path

    # ---------------------------------------------------------------------------------
    # Steps
    # ---------------------------------------------------------------------------------

    def object_type(self, object_id: str | None) -> str | None:
        return None if object_id is None else self.sim.object_type(object_id)

    def _target_json(
        self, op: Operation, object_id: str | None, body: Any
    ) -> dict[str, Any] | None:
        target_id = op.target_id(object_id, body)
        if not isinstance(target_id, str) or op.target is None:
            return None
        if self.sim.object_type(target_id) != op.target:
            return None
        return self.sim.object_json(target_id)

    def call(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        *,
        key: str | None = None,
        code: str | None = None,
        expected_fault: str | None = None,
        target: Any = _UNSET,
    ) -> Executed:
        """Make one API call, check it, record it; returns what it did. ``target``: the
        JSON of the object the call acts on, when the caller has it at hand."""
        op = OPERATIONS[operation]
        if key is not None and (operation, key) in self.keys:
            return self._reuse_key(operation, object_id, body, key, code)
        if target is _UNSET:
            target = self._target_json(op, object_id, body)
        at = self.sim.now()
        predicted = check(
            operation,
            target if op.target is not None else None,
            body=body,
            at=at,
            limits=self.limits,
        )
        before = self.sim.change_marker()
        self._call_changes.take()
        answer: Response | None = None
        error: ApiError | None = None
        try:
            answer = self.sim.request(
                operation, object_id, body, idempotency_key=key, simulation_code=code
            )
        except ApiError as caught:
            error = caught
        created = self._created(self._call_changes.take())
        executed = Executed(
            step=Step("call", operation, object_id, body, key, code),
            status=error.http_status if error else answer.status,  # type: ignore[union-attr]
            error=error,
            body=None if answer is None else answer.body,
            created=created,
            predicted=predicted,
        )
        self.run_log.add(executed)
        outcome = count_call(type(self).coverage, self._bucket, op, target, executed, at)
        event(outcome)
        self._judge(op, predicted, target, code, answer, error, before, expected_fault)
        if key is not None:
            self.keys[operation, key] = (object_id, body, code, error or answer)
        self.after_step(executed)
        return executed

    def _created(self, changed: list[str]) -> dict[str, str]:
        """The objects among ``changed`` (journal entries) never seen before, by type;
        they join ``objects``."""
        created: dict[str, str] = {}
        for object_id in changed:
            if object_id not in self.known:
                self.known.add(object_id)
                object_type = self.object_type(object_id)
                assert object_type is not None
                created[object_type] = object_id
                self.objects[object_type].append(object_id)
        return created

    def _judge(
        self,
        op: Operation,
        predicted: Outcome,
        target: dict[str, Any] | None,
        code: str | None,
        answer: Response | None,
        error: ApiError | None,
        before: tuple[Any, ...],
        expected_fault: str | None,
    ) -> None:
        """The answer is one Amazon may give (``judge``: a refusal ``check`` does not
        predict only where history, the simulation code or the card explains it); a body
        with a known fault got its code; a refusal changed nothing (but the sandbox's)."""
        state = None
        if error is not None:
            if self._noting:
                note(f"{op.name} refused: {error}; predicted {predicted!r}")
            if expected_fault is not None:
                assert expected_fault == error.reason_code, (op.name, error, expected_fault)
            refused, status = error.reason_code, error.http_status
        else:
            assert answer is not None
            if self._noting:
                note(f"{op.name} → {answer.status}; predicted {predicted!r}")
            refused, status = None, answer.status
            if code is None:
                # An answer that is not an object (Delivery Tracker) leaves its target as is.
                shown = answer.body if "statusDetails" in answer.body else target or {}
                state = shown.get("statusDetails", {}).get("state")
        problems = judge(
            op.name,
            predicted,
            code=refused,
            status=status,
            state=state,
            simulation_code=code,
            card=shown_card(target),
        )
        assert not problems, problems[0]
        if error is not None and not refusal_may_change_state(
            error.reason_code, simulation_code=code
        ):
            assert before == self.sim.change_marker(), f"a refused {op.name} changed the state"

    def _reuse_key(
        self, operation: str, object_id: str | None, body: Any, key: str, code: str | None
    ) -> Executed:
        """SPEC §7, keys per operation (``self.keys``): the same request is answered as the
        first time; another with the key is DuplicateIdempotencyKey; neither changes a thing."""
        before = self.sim.change_marker()
        answer: Any
        try:
            answer = self.sim.request(
                operation, object_id, body, idempotency_key=key, simulation_code=code
            )
        except ApiError as err:
            answer = err
        first = self.keys[operation, key]
        if (object_id, body, code) == first[:3]:
            event("idempotent replay")
            assert first[3] == answer
        else:
            event("duplicate idempotency key")
            assert isinstance(answer, ApiError), answer
            assert ("DuplicateIdempotencyKey", 400) == (answer.reason_code, answer.http_status)
        assert before == self.sim.change_marker(), "an idempotent replay changed the state"
        error = answer if isinstance(answer, ApiError) else None
        return self._done(
            Step("call", operation, object_id, body, key, code),
            status=error.http_status if error else answer.status,
            error=error,
            body=None if error else answer.body,
        )

    def act(self, kind: str, name: str, object_id: str, **args: Any) -> Executed:
        """A buyer or Amazon action on the simulator, recorded and passed to ``after_step``."""
        body = getattr(self.sim, name)(object_id, **args)
        event(f"{kind} {name}")
        return self._done(Step(kind, name, object_id, args or None), body=body)  # type: ignore[arg-type]

    def move_clock(self, *, delta: timedelta | None = None, to: datetime | None = None) -> None:
        """Move the clock (and settle), recorded and passed to ``after_step``."""
        if delta is not None:
            self.sim.advance(delta)
            step = Step("time", "advance", None, {"seconds": delta.total_seconds()})
        else:
            assert to is not None
            self.clock.move_to(to)
            self.sim.settle()
            step = Step("time", "move_to", None, {"to": to.isoformat()})
        self._done(step)

    def _done(
        self,
        step: Step,
        *,
        status: int = 200,
        error: ApiError | None = None,
        body: dict[str, Any] | None = None,
    ) -> Executed:
        """A step with no prediction done: recorded (a clock move as its step alone) and
        passed to ``after_step``."""
        executed = Executed(step, status, error, body, created={}, predicted=None)
        self.run_log.add(step if step.kind == "time" else executed)
        self.after_step(executed)
        return executed

    # ---------------------------------------------------------------------------------
    # Bodies
    # ---------------------------------------------------------------------------------

    def smart_body(
        self,
        operation: str,
        object_id: str | None,
        choices: tuple[Any, ...],
        current: dict[str, Any] | None = None,
    ) -> Any:
        """A realistic body for ``operation`` on ``object_id``, from its ``current`` JSON
        (fetched when not given) and the drawn ``choices`` (see ``realistic_body``)."""
        if current is None and object_id and operation != "create_checkout_session":
            current = self.sim.object_json(object_id)
        return realistic_body(operation, current, choices, target_id=object_id)

    def planned_call(self, object_id: str | None, plan: Plan) -> Executed:
        """Make the call a drawn plan describes (see ``step_plan``): an operation on
        ``object_id`` with a realistic, schema-random or faulty body, maybe a simulation
        code and an idempotency key."""
        operation, kind, drawn, code, key, _ = plan
        expected_fault = None
        if kind == "retry":
            keys = [k for op, k in self.keys if op == operation]
            if keys:  # the same request again, with the same key (SPEC §7)
                key = key if key in keys else keys[0]
                object_id, body, code, _ = self.keys[operation, key]
                return self.call(operation, object_id, body, key=key, code=code)
            kind = "smart"
        known: Any = _UNSET
        if kind == "smart":
            current = self.sim.object_json(object_id) if object_id else None
            body = self.smart_body(operation, object_id, drawn, current)
            known = current if OPERATIONS[operation].target else None
        elif kind == "fault":
            choices, variant = drawn
            body = self.smart_body(operation, object_id, choices)
            body, expected_fault = fault_by_number(operation, body, variant, self.limits)
        else:  # "schema"
            body = schema_body(operation, self.limits, drawn[1])
            target_field = OPERATIONS[operation].target_field
            if target_field is not None:
                body[target_field] = object_id
        path_id = object_id if OPERATIONS[operation].has_path_id else None
        if expected_fault is not None and key is not None and (operation, key) in self.keys:
            expected_fault = None  # a replay answers what the key first answered
        return self.call(
            operation,
            path_id,
            body,
            key=key,
            code=code,
            expected_fault=expected_fault,
            target=known,
        )

    def pick(self, object_type: str, pick: int) -> str:
        """The object a call acts on: ``pick`` 0 the newest of ``object_type``, 1 the one
        before, and so on (modulo how many there are); an id that does not exist when
        there is none yet (SPEC §8: ``ResourceNotFound``)."""
        made = self.objects[object_type]
        return made[-1 - pick % len(made)] if made else UNKNOWN_IDS[object_type]

    # ---------------------------------------------------------------------------------
    # The step: the merchant's calls and orders, the buyer's and Amazon's side, time
    # (one rule drawing one plan: see ``_add_rules``)
    # ---------------------------------------------------------------------------------

    def first_orders(self) -> None:
        """Every history starts with an order that authorized a charge (USD, the sandbox's
        success card), placed by its first step, so captures and refunds are a few steps
        away. Steps place more orders, with drawn options."""
        self.started = True
        self.place_charged_order(FIRST_SESSION, "Authorize")

    def merchant(self, plan: Any) -> None:
        """The merchant's step: any operation on the newest objects (or older ones),
        with a realistic, retried, faulty or schema-random body, maybe a simulation code
        and an idempotency key; or a whole order, plain or charged."""
        if not self.started:
            self.first_orders()
        label, *options = plan
        if label == "order":
            *session, card, end = options[0]
            self.place_order(tuple(session), card, end)
        elif label == "charged_order":
            *session, intent = options[0]
            self.place_charged_order(tuple(session), intent)
        else:
            source = OPERATIONS[label].target
            if source in MAKERS and not self.objects[source] and plan[-1] % 4:
                # Nothing to act on yet: make one, 3 times in 4 (the 4th asks for an id
                # that does not exist).
                plan = MAKERS[source]
                source = OPERATIONS[plan[0]].target
                if self._noting:
                    note(f"no {label} target yet: {plan[0]} instead")
            self.planned_call(None if source is None else self.pick(source, plan[-1]), plan)

    def place_order(self, choices: tuple[Any, ...], card: str, end: str) -> None:
        """Create a session, the buyer approves it with ``card``, complete it."""
        body = self.smart_body("create_checkout_session", None, choices)
        created = self.call("create_checkout_session", None, body)
        session = created.created.get("CheckoutSession")
        if session is not None:
            self.act("buyer", "buyer_approve", session, card=card)
            body = self.smart_body("complete_checkout_session", session, (end,))
            self.call("complete_checkout_session", session, body)

    def place_charged_order(self, choices: tuple[Any, ...], intent: str) -> None:
        """An order that authorizes a charge (``intent`` Authorize or
        AuthorizeWithCapture)."""
        body = self.smart_body("create_checkout_session", None, choices)
        body["paymentDetails"]["paymentIntent"] = intent
        if intent == "AuthorizeWithCapture":
            body["paymentDetails"].pop("canHandlePendingAuthorization", None)
        created = self.call("create_checkout_session", None, body)
        session = created.created.get("CheckoutSession")
        if session is not None:
            self.act("buyer", "buyer_approve", session, card="1111")
            amount = body["paymentDetails"]["chargeAmount"]
            self.call("complete_checkout_session", session, {"chargeAmount": amount})

    def the_world(self, plan: tuple[str, Any]) -> None:
        """What happens without the merchant (SPEC §2–§6): the buyer or Amazon acts on
        some object, or time passes — a deadline-aware wait (L − 1 s, L, L + 1 s of every
        limit, or uniform), or a jump to 1 s before, at or 1 s after the next scheduled
        event or a calendar edge: the next month's start (recurring caps), a month's end,
        the next 29 February (13-month arithmetic)."""
        if not self.started:
            self.first_orders()
        label, argument = plan
        if label == "event":
            self.some_event(argument)
        elif label == "wait":
            self.move_clock(delta=argument)
        else:
            instant = jump_target(self.sim, label, argument)
            if instant is not None:
                self.move_clock(to=instant)

    def some_event(self, picks: tuple[int, int, int]) -> None:
        """A declared event that can happen to some object now (SPEC §3–§6), of
        ``events``: ``picks`` choose the event, the object and its reason (see
        ``declared_event``)."""
        action = declared_event(self.sim, picks, self.events)
        if action is not None:
            kind, name, object_id, args = action
            self.act(kind, name, object_id, **args)

    # ---------------------------------------------------------------------------------
    # Invariants
    # ---------------------------------------------------------------------------------

    @invariant()
    @_guarded
    def ledger_and_transitions(self) -> None:
        """For every object the last step created, changed or deleted: captured ≤ charge
        amount; refunds within the cap; balances never negative; its state change legal.
        Every new notification names an existing object (SPEC §4–§7)."""
        sim = self.sim
        # The cursor names a changed refund's charge and a changed charge's permission
        # too: their amounts follow it.
        for object_id in self._changed.take():
            self._check_object(object_id)
        for message in sim.notifications[self._notified :]:
            assert sim.object_type(message["ObjectId"]) is not None, message
        self._notified = len(sim.notifications)

    def _check_object(self, object_id: str) -> None:
        sim = self.sim
        object_type = sim.object_type(object_id)
        state = sim.object_state(object_id)
        if object_type is None or state is None:
            self.seen.pop(object_id, None)  # deleted (a checkout session after 30 days)
            return
        before = self.seen.get(object_id)
        if before is not None:
            assert check_transition(object_type, before[1], state), (object_type, before, state)
        self.seen[object_id] = (object_type, state)
        type(self).coverage.observed.add((object_type, state))
        problem = ledger_problem(sim.ledger(object_id), sim.limits)
        assert problem is None, problem

    def teardown(self) -> None:
        # Keep the latest run's trace at hand (a failing run overwrites it last).
        if os.environ.get("APFSM_KEEP_TRACES"):
            self.export_trace("last run")


def _add_rules(machine: type[AmazonPayMachine]) -> None:
    """The machine's one rule, ``step`` (see ``add_step_rule``), its plans drawn under
    ``machine.limits``: every operation of the declarations and whole orders, the buyer's
    and Amazon's events, time (see ``step_plan``)."""

    def step(self: AmazonPayMachine, plan: Any) -> None:
        if plan[0] in WORLD_LABELS or plan[0] in CALENDAR_EDGES:
            self.the_world(plan)
        else:
            self.merchant(plan)

    step.__doc__ = "One step: the merchant's call or order, or the world's event or time."
    add_step_rule(machine, step_plan(machine.limits), _guarded(step))


_add_rules(AmazonPayMachine)


def fuzz(
    *,
    examples: int = 100,
    steps: int = 40,
    seed: int | None = None,
    machine: type[AmazonPayMachine] = AmazonPayMachine,
    progress: Callable[[int, int], object] | None = None,
    database: str | ExampleDatabase | None = None,
) -> FuzzReport:
    """Run a fuzzing campaign of ``machine`` (``AmazonPayMachine`` by default).

    Args:
        examples: how many random histories.
        steps: the most steps a history has.
        seed: a seed for reproducible campaigns (a random one when None).
        progress: called as ``progress(done, examples)`` after each history.
        database: an example database or its spec (a directory, ``redis://host:port/db``,
            ``:memory:``): saved failures are replayed first, a new one saved. None: none.

    Returns:
        A ``FuzzReport``: coverage, the (shrunk) failure with its story and trace, if any.

    Raises:
        ValueError: a database spec that names no usable database (``DatabaseError``).
    """
    db = open_database(database) if isinstance(database, str) else database
    return run_campaign(
        machine, examples=examples, steps=steps, seed=seed, progress=progress, database=db
    )
