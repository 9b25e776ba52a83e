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
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import attrs
from hypothesis import HealthCheck, Phase, event, note
from hypothesis import seed as use_seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.control import should_note
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    invariant,
    rule,
)

from . import strategies as aps
from ._clock import ManualClock, add_months, format_duration, month_start, parse_timestamp
from ._decide import refund_allowance
from ._errors import ApiError
from ._fuzz import Menu as _Menu
from ._fuzz import Product as _Product
from ._fuzz import decoded
from ._harness import (
    COMPLETE_VARIANTS,
    DEFAULT_START,
    NEW_SESSION_OPTIONS,
    REALISTIC_OPTIONS,
    Step,
    TraceRecorder,
    judge,
    realistic_body,
    refusal_may_change_state,
    shown_card,
    trace_directory,
)
from ._outcome import Outcome
from ._sim import ChargeLedger, PermissionLedger, Response, Simulator
from ._spec import (
    ERRORS,
    LIFECYCLES,
    OBJECT_TYPES,
    OPERATIONS,
    SANDBOX_CARDS,
    SIMULATION_CODES,
    Limits,
    Operation,
)
from ._validator import check, check_transition
from .strategies import _Fault, _schema_body, _single_faults

__all__ = ["AmazonPayMachine", "Coverage", "Executed", "FuzzReport", "fuzz"]

_F = TypeVar("_F", bound=Callable[..., Any])

# Everything a step needs is drawn as its rule's arguments, from strategies built once:
# a ``data.draw`` inside a rule costs several times a rule argument (measured), and
# building a strategy on every draw cost more than the simulator call it feeds. A choice
# that depends on the machine's state (which object, which reason) draws an index ``pick``
# and takes it modulo the number of candidates (0, where shrinking goes, is the first).


_CARDS = tuple(SANDBOX_CARDS)
_UNSET: Any = object()  # an argument not given
#: Well-formed ids of objects that do not exist.
_UNKNOWN_IDS = {
    "CheckoutSession": "00000000-0000-0000-0000-000000000000",
    "ChargePermission": "S01-0000000-0000000",
    "Charge": "S01-0000000-0000000-C0000000",
    "Refund": "S01-0000000-0000000-R0000000",
}
_AUTHORIZING_INTENTS = ("Authorize", "Authorize", "AuthorizeWithCapture")
_ORDER_CARDS = ("1111", "1111", "0701", "3434", "4354")
#: What a step on an object type that has no object yet does instead (refunds and
#: charges come late in a history): a realistic call that makes one.
_MAKERS: dict[str, Plan] = {
    "Refund": ("create_refund", "smart", ("1",), None, None, 0),
    "Charge": ("create_charge", "smart", ("10.00", 0), None, None, 0),
}
#: The first orders' session options (see ``AmazonPayMachine.first_orders``).
_FIRST_SESSION = ("USD", "Authorize", "OneTime", "50.00", False, False)


class Coverage:
    """Counts of exercised (object type, state, operation, time bucket, outcome), and the
    states objects were seen in."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str, str]] = Counter()
        #: (object type, state) of every object after every step, called upon or not (a
        #: refund completes with time; no call needs to follow).
        self.observed: set[tuple[str, str]] = set()

    def add(self, object_type: str, state: str, operation: str, bucket: str, outcome: str) -> None:
        self.counts[object_type, state, operation, bucket, outcome] += 1

    def states(self) -> set[tuple[str, str]]:
        """The states objects were in: called upon, or seen after a step."""
        return {(t, s) for t, s, *_ in self.counts if s != "-"} | self.observed

    def transitions(self) -> set[tuple[str, str, str]]:
        return {(t, s, op) for t, s, op, *_ in self.counts}

    def codes(self) -> set[str]:
        return {outcome for *_, outcome in self.counts if not outcome.startswith("→")}

    def report(self) -> str:
        """A matrix per object type: state × operation → count, and the codes seen."""
        lines = []
        for object_type in OBJECT_TYPES:
            rows = {(s, op): 0 for (t, s, op, _, _) in self.counts if t == object_type}
            for (t, s, op, _, _), n in self.counts.items():
                if t == object_type:
                    rows[s, op] += n
            if not rows:
                continue
            ops = [o for o in LIFECYCLES[object_type].operations if any(k[1] == o for k in rows)]
            # "-": calls on an object that does not exist (ResourceNotFound)
            states = [
                s
                for s in (*LIFECYCLES[object_type].state_names(), "-")
                if any(k[0] == s for k in rows)
            ]
            width = max(len(s) for s in states) + 2
            lines.append(f"{object_type}")
            lines.append(" " * width + "  ".join(f"{o:>{len(o)}}" for o in ops))
            for s in states:
                cells = "  ".join(f"{rows.get((s, o), 0):>{len(o)}}" for o in ops)
                lines.append(f"{s:<{width}}{cells}")
            lines.append("")
        codes = sorted(self.codes())
        lines.append(f"error codes reached ({len(codes)}): {', '.join(codes)}")
        return "\n".join(lines)


@attrs.frozen
class Executed:
    """What one step did (ids are the simulator's, not trace references)."""

    step: Step
    status: int
    error: ApiError | None
    body: dict[str, Any] | None
    created: Mapping[str, str]
    predicted: Outcome | None


#: A call's plan: (operation, body kind, what the body needs, simulation code, key,
#: which object — 0 the newest of its type, 1 the one before, and so on).
Plan = tuple[str, str, Any, str | None, str | None, int]

#: How often an operation is drawn among its object's operations (reads are cheap to
#: cover; the rest change state).
_READ_WEIGHT = 3
_WRITE_WEIGHT = 3
#: A call's body: realistic 12 in 16; a realistic body with exactly one fault 2 in 16; a
#: retry of an earlier call with an idempotency key, or a schema-random body, 1 in 16.
_KINDS = ("smart",) * 12 + ("retry", "fault", "fault", "schema")
#: Which fault, or which schema-random body: the step's whole number modulo this prime
#: (a digit of its own would vary only in Hypothesis's rare uniform draws; see _Product).
_VARIANTS = 4093


_PICKS = tuple(range(64))


def _head(operation: str) -> _Product:
    """A call's choices but its schema or faulty body: body kind, simulation code (1 in 6
    where the operation takes one), idempotency key (1 in 4 on POSTs, one of two), the
    object (see ``Plan``), and the options of a realistic body."""
    op = OPERATIONS[operation]
    codes = SIMULATION_CODES.get(operation, ())
    return _Product(
        (
            _KINDS,
            (None,) * (5 * len(codes)) + tuple(codes) if codes else (None,),
            (None,) * 6 + (f"{operation}-1", f"{operation}-2") if op.method == "POST" else (None,),
            _PICKS if op.target else (0,),
            *REALISTIC_OPTIONS.get(operation, ()),
        )
    )


_OFFSETS = (-1, 0, 1)  # seconds from an instant
_ORDER_WEIGHT = 2


def _merchant_entries() -> tuple[tuple[str, _Product, int], ...]:
    """What the merchant does in a step: every operation of the declarations (SPEC §1),
    writes three times as often as reads, and whole orders (create, the buyer approves,
    complete), plain or charged (an authorized charge, so captures and refunds come
    soon)."""
    entries: list[tuple[str, _Product, int]] = [
        (name, _head(name), _READ_WEIGHT if op.method == "GET" else _WRITE_WEIGHT)
        for name, op in OPERATIONS.items()
    ]
    entries.append(
        (
            "order",  # the session's options, the buyer's card, how the completion ends
            _Product((*NEW_SESSION_OPTIONS, _ORDER_CARDS, COMPLETE_VARIANTS)),
            _ORDER_WEIGHT,
        )
    )
    entries.append(
        (
            "charged_order",  # the session's options and an authorizing intent
            _Product((*NEW_SESSION_OPTIONS, _AUTHORIZING_INTENTS)),
            _ORDER_WEIGHT,
        )
    )
    return tuple(entries)


_EDGES = ("month_start", "month_end", "month_start", "month_end", "leap_day")
_WAIT_SECONDS = range(1, 200 * 86_400 + 1)  # waits up to 200 days, mostly short (_Product)


def _world_entries(limits: Limits) -> tuple[tuple[str, _Product, int], ...]:
    """What happens without the merchant, about a third of the steps: mostly a little
    time passing, so asynchronous outcomes land between the merchant's calls; events
    (mostly an end: canceled, closed, declined) and big jumps are rarer — a history whose
    every object ended early tests little else."""
    deadlines = tuple(aps.deadline_offsets(limits))
    return (
        ("wait", _Product((_WAIT_SECONDS,)), 10),
        # Any event that can happen to some object now: which, with which reason.
        ("event", _Product((tuple(range(1024)),)), 3),
        ("wait", _Product((deadlines,)), 3),  # exactly L − 1 s, L, L + 1 s of a limit
        ("next_deadline", _Product((_OFFSETS,)), 2),
        # A calendar edge (the next 29 February is up to four years away: rarer).
        ("calendar", _Product((_EDGES, _OFFSETS)), 1),
    )


_WORLD_LABELS = frozenset(label for label, _, _ in _world_entries(Limits()))


def _step_menu(limits: Limits) -> _Menu:
    return _Menu(_merchant_entries() + _world_entries(limits))


def _decode_step(menu: _Menu, number: int) -> Any:
    """A step's plan from its number (see ``_step_plan``)."""
    label, options = menu(number)
    if label == "calendar":
        edge, offset = options
        return (edge, offset)
    if label in _WORLD_LABELS:
        (option,) = options
        if label == "wait" and isinstance(option, int):
            return (label, timedelta(seconds=option))
        return (label, option)
    if label in ("order", "charged_order"):
        return (label, options)
    kind, code, key, pick, *choices = options
    drawn = tuple(choices) if kind in ("smart", "retry") else (tuple(choices), number % _VARIANTS)
    return (label, kind, drawn, code, key, pick)


@functools.cache
def _step_plan(limits: Limits) -> st.SearchStrategy[Any]:
    """A step, one integer (see ``_Menu``) — what the merchant does (two thirds of the
    steps) or what happens without the merchant:

    * ``(operation, body kind, what the body needs, simulation code, idempotency key,
      which object)`` (see ``Plan``): bodies are mostly realistic (``"smart"``, with the
      options ``smart_body`` builds it from over the object's current JSON), 2 in 16
      a realistic body with exactly one fault (``"fault"``), 1 in 16 each a retry of an
      earlier call with its idempotency key or a valid schema-random body (``"schema"``)
      — faults and schema-random bodies chosen by a number;
    * ``("order", options)`` or ``("charged_order", options)``: a whole checkout;
    * ``("event", pick)``: the buyer or Amazon acts on some object;
    * ``("wait", timedelta)`` — exactly L − 1 s, L or L + 1 s of a duration limit, or a
      wait of up to 200 days, mostly short — or an instant and an offset of −1, 0 or
      +1 s: ``next_deadline`` (the next scheduled event), ``month_start``, ``month_end``,
      ``leap_day``.
    """
    menu = _step_menu(limits)
    return decoded(menu, functools.partial(_decode_step, menu))


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
        self.sim = Simulator(self.clock, self.limits)
        # What each step changed: the invariants check only that; a call's own changes
        # name the objects it created.
        self._changed = self.sim.watch()
        self._call_changes = self.sim.watch()
        self._notified = 0  # notifications already checked
        self.recorder = TraceRecorder(self.start, self.limits)
        self._unrecorded: list[Executed | Step] = []
        # Notes are shown for the final (shrunk) run only: skip formatting them otherwise.
        try:
            self._noting = should_note()
        except InvalidArgument:  # outside a test: note() says so itself
            self._noting = True
        self.keys: dict[str, tuple[str, str | None, Any, str | None, Any]] = {}
        self.seen: dict[str, tuple[str, str]] = {}  # id -> (object type, last state)
        #: Every object made so far, per type, oldest first (deleted ones stay: calls on
        #: them are answered ResourceNotFound).
        self.objects: dict[str, list[str]] = {t: [] for t in OBJECT_TYPES}
        self.known: set[str] = set()
        self.started = False  # the first orders are placed (see ``first_orders``)
        ordered = sorted(set(self.limits.durations().values()))
        self._buckets = [(limit, f"<{format_duration(limit)}") for limit in ordered]
        self._buckets_last = f"≥{format_duration(ordered[-1])}"

    # ---------------------------------------------------------------------------------
    # Hooks
    # ---------------------------------------------------------------------------------

    def after_step(self, executed: Executed) -> None:
        """Called after every step with what it did; override to add checks."""

    def export_trace(self, reason: str = "") -> Path:
        """Write the steps so far as a trace file; returns its path."""
        path = trace_directory(self.trace_dir) / f"{type(self).__name__}.json"
        self._flush_trace()
        self.recorder.trace(note=reason).save(path)
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
        if key is not None and key in self.keys:
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
        self._record(executed)
        self._count(op, target, executed)
        if error is not None:
            self._check_refusal(op, error, predicted, target, code, before, expected_fault)
        else:
            assert answer is not None
            self._check_success(op, answer, predicted, code)
        if key is not None:
            self.keys[key] = (operation, object_id, body, code, error or answer)
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

    def _record(self, executed: Executed | Step) -> None:
        """Keep a step for the trace; it is converted (ids to references) only when a
        trace is written, which is rare: a trace is for a failure."""
        self._unrecorded.append(executed)

    def _flush_trace(self) -> None:
        for item in self._unrecorded:
            if isinstance(item, Step):
                self.recorder.add(item)
            else:
                self._convert(item)
        self._unrecorded.clear()

    def _convert(self, executed: Executed) -> None:
        step = executed.step
        creates = {t: self.recorder.adopt(t, i) for t, i in executed.created.items()}
        state = None
        if executed.body is not None:
            details = executed.body.get("statusDetails")
            state = details.get("state") if isinstance(details, dict) else None
        expect = {
            "status": executed.status,
            "error": None if executed.error is None else executed.error.reason_code,
        }
        if state is not None:
            expect["state"] = state
        self.recorder.add(
            attrs.evolve(
                step,
                object=self.recorder.ref(step.object),
                body=self.recorder.symbolic(step.body),
                expect=expect,
                creates=creates,
            )
        )

    def _count(self, op: Operation, target: dict[str, Any] | None, executed: Executed) -> None:
        state = "-" if target is None else str(target["statusDetails"]["state"])
        object_type = op.target or "CheckoutSession"
        bucket = "-"
        created = target.get("creationTimestamp") if target is not None else None
        if isinstance(created, str):
            bucket = self._bucket(self.sim.now() - parse_timestamp(created))
        outcome = (
            executed.error.reason_code if executed.error else f"→ {self._new_state(op, executed)}"
        )
        type(self).coverage.add(object_type, state, op.name, bucket, outcome)
        event(f"{object_type} {state} {op.name} {outcome}")

    def _bucket(self, age: timedelta) -> str:
        """Which limit an object's age is below (the coverage matrix's time bucket)."""
        for limit, label in self._buckets:
            if age < limit:
                return label
        return self._buckets_last

    @staticmethod
    def _new_state(op: Operation, executed: Executed) -> str:
        details = (executed.body or {}).get("statusDetails") or {}
        return str(details.get("state", "?"))

    def _check_refusal(
        self,
        op: Operation,
        error: ApiError,
        predicted: Outcome,
        target: dict[str, Any] | None,
        code: str | None,
        before: tuple[Any, ...],
        expected_fault: str | None,
    ) -> None:
        if self._noting:
            note(f"{op.name} refused: {error}; predicted {predicted!r}")
        if expected_fault is not None:
            assert expected_fault == error.reason_code, (op.name, error, expected_fault)
        problems = judge(
            op.name,
            predicted,
            code=error.reason_code,
            status=error.http_status,
            simulation_code=code,
            card=shown_card(target),
        )
        assert not problems, problems[0]
        if not refusal_may_change_state(error.reason_code, simulation_code=code):
            assert before == self.sim.change_marker(), f"a refused {op.name} changed the state"

    def _check_success(
        self, op: Operation, answer: Response, predicted: Outcome, code: str | None
    ) -> None:
        if self._noting:
            note(f"{op.name} → {answer.status}; predicted {predicted!r}")
        state = answer.body["statusDetails"]["state"] if code is None else None
        problems = judge(
            op.name, predicted, code=None, status=answer.status, state=state, simulation_code=code
        )
        assert not problems, problems[0]

    def _reuse_key(
        self, operation: str, object_id: str | None, body: Any, key: str, code: str | None
    ) -> Executed:
        """SPEC §7: the same request is answered as the first time; another request with
        the same key is DuplicateIdempotencyKey; neither changes anything."""
        before = self.sim.change_marker()
        answer: Any
        try:
            answer = self.sim.request(
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
            assert isinstance(answer, ApiError), answer
            assert ("DuplicateIdempotencyKey", 400) == (answer.reason_code, answer.http_status)
        assert before == self.sim.change_marker(), "an idempotent replay changed the state"
        error = answer if isinstance(answer, ApiError) else None
        executed = Executed(
            step=Step("call", operation, object_id, body, key, code),
            status=error.http_status if error else answer.status,
            error=error,
            body=None if error else answer.body,
            created={},
            predicted=None,
        )
        self._record(executed)
        self.after_step(executed)
        return executed

    def act(self, kind: str, name: str, object_id: str, **args: Any) -> Executed:
        """A buyer or Amazon action on the simulator, recorded and passed to ``after_step``."""
        body = getattr(self.sim, name)(object_id, **args)
        executed = Executed(
            step=Step(kind, name, object_id, args or None),  # type: ignore[arg-type]
            status=200,
            error=None,
            body=body,
            created={},
            predicted=None,
        )
        self._record(executed)
        event(f"{kind} {name}")
        self.after_step(executed)
        return executed

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
        executed = Executed(
            step=step, status=200, error=None, body=None, created={}, predicted=None
        )
        self._record(step)
        self.after_step(executed)

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
        """Make the call a drawn plan describes (see ``_step_plan``): an operation on
        ``object_id`` with a realistic, schema-random or faulty body, maybe a simulation
        code and an idempotency key."""
        operation, kind, drawn, code, key, _ = plan
        expected_fault = None
        if kind == "retry":
            keys = [k for k, first in self.keys.items() if first[0] == operation]
            if keys:  # the same request again, with the same key (SPEC §7)
                key = key if key in keys else keys[0]
                _, object_id, body, code, _ = self.keys[key]
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
            body, expected_fault = self._fault(operation, body, variant)
        else:  # "schema"
            body = _schema_body(operation, self.limits, drawn[1])
            target_field = OPERATIONS[operation].target_field
            if target_field is not None:
                body[target_field] = object_id
        path_id = object_id if OPERATIONS[operation].has_path_id else None
        if expected_fault is not None and key is not None and key in self.keys:
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

    def _fault(self, operation: str, body: Any, variant: int) -> tuple[Any, str]:
        """``body`` with one fault in it, and the code it earns: ``variant`` picks the code
        first (each as likely; some have one fault, others dozens), then the fault."""
        by_code: dict[str, list[_Fault]] = {}
        for fault in _single_faults(operation, self.limits):
            if fault.applies(body):
                by_code.setdefault(fault.code, []).append(fault)
        codes = sorted(by_code)
        faults = by_code[codes[variant % len(codes)]]
        return faults[variant // len(codes) % len(faults)].apply(body)

    def pick(self, object_type: str, pick: int) -> str:
        """The object a call acts on: ``pick`` 0 the newest of ``object_type``, 1 the one
        before, and so on (modulo how many there are); an id that does not exist when
        there is none yet (SPEC §8: ``ResourceNotFound``)."""
        made = self.objects[object_type]
        return made[-1 - pick % len(made)] if made else _UNKNOWN_IDS[object_type]

    # ---------------------------------------------------------------------------------
    # Rules: orders, the buyer's and Amazon's side, time
    #
    # Few rules, each drawing one plan: Hypothesis's own cost per step grows with the
    # number of rules (rule selection and swarm-testing flags) and with every argument.
    # The operations are grouped by the object they act on (see ``_add_object_rules``).
    # ---------------------------------------------------------------------------------

    def first_orders(self) -> None:
        """Every history starts with an order that authorized a charge (USD, the sandbox's
        success card), placed by its first step, so captures and refunds are a few steps
        away. Steps place more orders, with drawn options."""
        self.started = True
        self.place_charged_order(_FIRST_SESSION, "Authorize")

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
            if source in _MAKERS and not self.objects[source] and plan[-1] % 4:
                # Nothing to act on yet: make one, 3 times in 4 (the 4th asks for an id
                # that does not exist).
                plan = _MAKERS[source]
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
            instant = self._instant(label)
            if instant is not None and instant + timedelta(seconds=argument) > self.sim.now():
                self.move_clock(to=instant + timedelta(seconds=argument))

    def _instant(self, label: str) -> datetime | None:
        now = self.sim.now()
        if label == "next_deadline":
            return self.sim.next_event_at()
        if label == "month_start":
            return month_start(add_months(now, 1))
        if label == "month_end":
            return month_start(add_months(now, 1)) - timedelta(hours=12)
        year = now.year + 1
        while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            year += 1
        return datetime(year, 2, 29, 12, tzinfo=UTC)

    def some_event(self, pick: int) -> None:
        """A declared event that can happen to some object now (SPEC §3–§6): the buyer
        approves an open session with a sandbox card, cancels, closes a permission;
        Amazon declines, expires, cancels, completes. ``pick`` chooses the object (the
        first from it that has one), the event and its reason."""
        ids = self.sim.object_ids()
        for offset in range(len(ids)):
            object_id = ids[(pick + offset) % len(ids)]
            events = self._events_now(object_id)
            if events:
                break
        else:
            return
        name, reasons = events[pick // len(ids) % len(events)]
        rest = pick // len(ids) // len(events)
        if name == "buyer_approve":
            self.act("buyer", name, object_id, card=_CARDS[rest % len(_CARDS)])
            return
        reason = reasons[rest % len(reasons)] if reasons else None
        self.act(
            "amazon",
            "amazon_event",
            object_id,
            event=name,
            **({"reason": reason} if reason else {}),
        )

    def _events_now(self, object_id: str) -> list[tuple[str, tuple[str, ...]]]:
        object_type = self.object_type(object_id)
        assert object_type is not None
        state = self.sim.object_state(object_id)
        return [
            (decl.name, decl.reasons)
            for decl in LIFECYCLES[object_type].events
            if state in decl.sources
            and decl.delay is None
            and (
                self.events is None
                or decl.name == "buyer_approve"  # the buyer's own step, always on
                or (object_type, decl.name) in self.events
            )
        ]

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
            assert check_transition(object_type, before[1], state), (
                object_type,
                before,
                state,
            )
        self.seen[object_id] = (object_type, state)
        type(self).coverage.observed.add((object_type, state))
        books = sim.ledger(object_id)
        if isinstance(books, ChargeLedger):
            if books.captured is not None:
                assert books.captured <= books.amount, books
            base = books.amount if books.captured is None else books.captured
            allowance = refund_allowance(base, books.currency, sim.limits)
            assert books.refunded <= base + allowance, books
            assert books.refunds_committed <= base + allowance, books
        elif isinstance(books, PermissionLedger):
            assert books.amount_balance is None or books.amount_balance >= 0, books

    def teardown(self) -> None:
        # Keep the latest run's trace at hand (a failing run overwrites it last).
        if os.environ.get("APFSM_KEEP_TRACES"):
            self.export_trace("last run")


def _add_rules(machine: type[AmazonPayMachine]) -> None:
    """The machine's one rule, ``step``, its plans drawn under ``machine.limits``: every
    operation of the declarations and whole orders, the buyer's and Amazon's events, time
    (see ``_step_plan``).

    One rule drawing one integer, because Hypothesis's own cost per step — rule selection
    with its swarm-testing flags, every argument drawn — grows with every rule and
    argument and is most of a step's cost here; and because with two rules (merchant,
    world) swarm testing switches one of them off in two histories out of three,
    leaving histories where no time passes or the merchant never calls. Weights set the
    mix instead."""

    def step(self: AmazonPayMachine, plan: Any) -> None:
        if plan[0] in _WORLD_LABELS or plan[0] in _EDGES:
            self.the_world(plan)
        else:
            self.merchant(plan)

    step.__doc__ = "One step: the merchant's call or order, or the world's event or time."
    machine.step = rule(plan=_step_plan(machine.limits))(_guarded(step))


_add_rules(AmazonPayMachine)


@attrs.frozen
class FuzzReport:
    """What a fuzzing campaign did."""

    examples: int
    steps: int
    coverage: Coverage
    failure: str | None
    trace: Path | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        states = {(t, s) for t, lc in LIFECYCLES.items() for s in lc.state_names()}
        transitions = {
            (t, s, op)
            for t, lc in LIFECYCLES.items()
            for s in lc.state_names()
            for op in lc.operations
        }
        seen_states = self.coverage.states() & states
        seen_transitions = self.coverage.transitions() & transitions
        codes = self.coverage.codes() & set(ERRORS)
        lines = [
            f"{self.examples} examples, {self.steps} steps in {self.seconds:.1f} s",
            f"states reached: {len(seen_states)}/{len(states)}; (state, operation) pairs: "
            f"{len(seen_transitions)}/{len(transitions)}; error codes: {len(codes)}/{len(ERRORS)}",
        ]
        if self.failure is not None:
            lines.append(f"FAILED: {self.failure}")
            if self.trace is not None:
                lines.append(f"trace: {self.trace} (replay with apfsm.replay)")
        return "\n".join(lines)


def fuzz(
    *,
    examples: int = 100,
    steps: int = 40,
    seed: int | None = None,
    machine: type[AmazonPayMachine] = AmazonPayMachine,
    progress: Callable[[int, int], object] | None = None,
) -> FuzzReport:
    """Run a fuzzing campaign of ``machine`` (``AmazonPayMachine`` by default).

    Args:
        examples: how many random histories.
        steps: the most steps a history has.
        seed: a seed for reproducible campaigns (a random one when None).
        progress: called as ``progress(done, examples)`` after each history.

    Returns:
        A ``FuzzReport``: coverage, and the (shrunk) failure and its trace file, if any.
    """
    counter = {"examples": 0, "steps": 0}

    class Campaign(machine):  # type: ignore[misc, valid-type]
        coverage = Coverage()

        def after_step(self, executed: Executed) -> None:
            counter["steps"] += 1
            super().after_step(executed)

        def teardown(self) -> None:
            counter["examples"] += 1
            if progress is not None:
                progress(min(counter["examples"], examples), examples)
            super().teardown()

    Campaign.__name__ = machine.__name__
    test = get_state_machine_test(
        Campaign,
        settings=hypothesis_settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        ),
    )
    if seed is not None:
        test = use_seed(seed)(test)
    started = time.perf_counter()
    failure = None
    trace = None
    try:
        test()
    except Exception as exc:  # the shrunk failure: report it, with its trace
        failure = f"{type(exc).__name__}: {exc}".splitlines()[0]
        candidate = trace_directory(machine.trace_dir) / f"{machine.__name__}.json"
        trace = candidate if candidate.exists() else None
    machine.coverage.counts.update(Campaign.coverage.counts)
    machine.coverage.observed |= Campaign.coverage.observed
    return FuzzReport(
        examples=counter["examples"],
        steps=counter["steps"],
        coverage=Campaign.coverage,
        failure=failure,
        trace=trace,
        seconds=time.perf_counter() - started,
    )
