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

import copy
import functools
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import attrs
from hypothesis import HealthCheck, Phase, event, note
from hypothesis import seed as use_seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    multiple,
    rule,
)

from . import strategies as aps
from ._bodies import checkout_session_body
from ._catalog import ERRORS, OBJECT_TYPES, SIMULATION_CODES
from ._clock import ManualClock, add_months, format_duration, month_start, parse_timestamp
from ._errors import ApiError
from ._lifecycles import LIFECYCLES, OPERATIONS, SAME, Operation
from ._limits import Limits
from ._money import refund_allowance
from ._outcome import Outcome
from ._records import ChargePermissionRecord, ChargeRecord, RefundRecord
from ._simulator import Response, Simulator
from ._trace import Step, TraceRecorder
from ._validator import check, check_transition

__all__ = ["AmazonPayMachine", "Coverage", "Executed", "FuzzReport", "fuzz"]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Codes the simulator may answer where the target's JSON alone looks fine: these rules need
#: history a payload does not show (SPEC §5, §6).
HISTORY_CODES: dict[str, frozenset[str]] = {
    "create_charge": frozenset({"TransactionCountExceeded", "PeriodicAmountExceeded"}),
    "create_refund": frozenset({"TransactionCountExceeded", "TransactionAmountExceeded"}),
}
#: Refusals that come with effects (SPEC §7): the state may change.
_EFFECT_CODES = frozenset({"CheckoutSessionCanceled", "HardDeclined"})
_DECLINING_CARDS = frozenset({"3434", "4354"})
_BUNDLE_OF_TYPE = {
    "CheckoutSession": "checkout_sessions",
    "ChargePermission": "charge_permissions",
    "Charge": "charges",
    "Refund": "refunds",
}
_AMOUNTS = ("0.01", "1.00", "10.00", "49.99", "50.00", "100.00", "114.99", "115.00", "999.99")
_SHARES = ("0.1", "0.5", "1", "1", "1.15", "1.2")

# Everything a step needs is drawn as its rule's arguments, from strategies built once:
# a ``data.draw`` inside a rule costs several times a rule argument (measured), and
# building a strategy on every draw cost more than the simulator call it feeds. A choice
# that depends on the machine's state (which object, which reason) draws an index ``pick``
# and takes it modulo the number of candidates (0, where shrinking goes, is the first).


class _Product:
    """Decodes one integer into a tuple of options (mixed radix, the first option most
    significant), so a tuple of independent choices costs Hypothesis one choice; 0, where
    shrinking goes, is the first of every option."""

    def __init__(self, options: tuple[tuple[Any, ...], ...]) -> None:
        self.options = options
        self.size = 1
        for values in options:
            self.size *= len(values)

    def __call__(self, number: int) -> tuple[Any, ...]:
        out = []
        for values in reversed(self.options):
            number, index = divmod(number, len(values))
            out.append(values[index])
        return tuple(reversed(out))


def _combos(*options: tuple[Any, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    """A tuple of options in one draw; repeats in an option weigh it."""
    product = _Product(options)
    return st.integers(0, product.size - 1).map(product)


_PICK = st.integers(0, 1023)
_NEW_SESSION_OPTIONS = (
    ("USD", "USD", "EUR", "JPY"),  # currency
    ("Confirm", "Authorize", "Authorize", "AuthorizeWithCapture"),  # paymentIntent
    ("OneTime", "OneTime", "Recurring", "PaymentMethodOnFile"),  # chargePermissionType
    _AMOUNTS,
    (False, True),  # canHandlePendingAuthorization (with Authorize)
    (False, False, False, False, True),  # extendExpiration (with OneTime)
)
_NEW_SESSION = _combos(*_NEW_SESSION_OPTIONS)
_AUTHORIZING_INTENT = st.sampled_from(["Authorize", "Authorize", "AuthorizeWithCapture"])
_COMPLETE_VARIANTS = ("same", "same", "same", "amount", "currency")
_COMPLETE_VARIANT = st.sampled_from(_COMPLETE_VARIANTS)
_ORDER_CARD = st.sampled_from(["1111", "1111", "1111", "0701", "4354"])
_SESSION_UPDATES: tuple[dict[str, Any], ...] = (
    {"merchantMetadata": {"merchantReferenceId": "order-1"}},
    {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture"}},
    {"paymentDetails": {"canHandlePendingAuthorization": True}},
    {"webCheckoutDetails": {"checkoutResultReturnUrl": "https://x.example/r"}},
)
_CHARGE_OPTIONS: tuple[dict[str, Any], ...] = (
    {},
    {},
    {"captureNow": True},
    {"canHandlePendingAuthorization": True},
    {"captureNow": True, "softDescriptor": "SHOP"},
)

#: What a realistic body of each operation chooses (see ``smart_body``): its options.
_SMART_OPTIONS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "create_checkout_session": _NEW_SESSION_OPTIONS,
    "update_checkout_session": (tuple(range(len(_SESSION_UPDATES))),),
    "complete_checkout_session": (_COMPLETE_VARIANTS,),
    "close_charge_permission": ((False, True),),  # cancelPendingCharges
    "create_charge": (_AMOUNTS, tuple(range(len(_CHARGE_OPTIONS)))),
    "capture_charge": (("1", "1", "0.5", "1.01"),),  # share of the charge amount
    "create_refund": (_SHARES,),  # share of the captured amount
}


class Coverage:
    """Counts of exercised (object type, state, operation, time bucket, outcome)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str, str, str]] = Counter()

    def add(self, object_type: str, state: str, operation: str, bucket: str, outcome: str) -> None:
        self.counts[object_type, state, operation, bucket, outcome] += 1

    def states(self) -> set[tuple[str, str]]:
        return {(t, s) for t, s, *_ in self.counts}

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
            states = [
                s for s in LIFECYCLES[object_type].state_names() if any(k[0] == s for k in rows)
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


#: An operation rule's plan: (body kind, what the body needs, simulation code, key).
Plan = tuple[str, Any, str | None, str | None]


@functools.cache
def _call_plan(operation: str, limits: Limits) -> st.SearchStrategy[Plan]:
    """One operation rule's argument: (body kind, what the body needs, simulation code,
    idempotency key).

    Bodies are realistic 14 in 16 (``"smart"`` with the options ``smart_body`` builds it
    from, over the object's current JSON), schema-random 1 in 16 (``"schema"`` with the
    body) and with exactly one fault 1 in 16 (``"fault"`` with ``(body, expected code)``):
    schema-random bodies cost Hypothesis tens of choices each and mostly exercise the
    body rules, which ``explore()`` and the strategies' own tests cover exhaustively,
    while realistic bodies reach deep states.
    A simulation code 1 in 6, where the operation takes one; an idempotency key 1 in 4 on
    POSTs, one of two. All but a schema or faulty body is one draw.
    """
    op = OPERATIONS[operation]
    codes = SIMULATION_CODES.get(operation, ())
    smart = _SMART_OPTIONS.get(operation, ())
    head = _combos(
        ("smart",) * 14 + ("schema", "fault"),
        (None,) * (5 * len(codes)) + tuple(codes) if codes else (None,),
        (None,) * 6 + (f"{operation}-1", f"{operation}-2") if op.method == "POST" else (None,),
        *smart,
    )
    bodies = {
        "schema": aps.request_bodies(operation, limits=limits),
        "fault": aps.request_bodies(operation, valid=False, limits=limits),
    }

    def expand(drawn: tuple[Any, ...]) -> st.SearchStrategy[Plan]:
        kind, code, key, *choices = drawn
        if kind == "smart":
            return st.just((kind, tuple(choices), code, key))
        return bodies[kind].map(lambda body: (kind, body, code, key))

    return head.flatmap(expand)


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
    start: ClassVar[datetime] = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    trace_dir: ClassVar[str | None] = None
    coverage: ClassVar[Coverage] = Coverage()
    #: The buyer's and Amazon's events the machine may trigger, as (object type, event
    #: name); None for every declared one.
    events: ClassVar[frozenset[tuple[str, str]] | None] = None

    checkout_sessions = Bundle("checkout_sessions")
    charge_permissions = Bundle("charge_permissions")
    charges = Bundle("charges")
    refunds = Bundle("refunds")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "limits" in cls.__dict__:  # bodies are drawn under the subclass's limits
            _add_operation_rules(cls)

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(self.start)
        self.sim = Simulator(self.clock, self.limits)
        self.sim.journal = []  # what each step changed: the invariants check only that
        self._notified = 0  # notifications already checked
        self.recorder = TraceRecorder(self.start, self.limits)
        self.keys: dict[str, tuple[str, str | None, Any, str | None, Any]] = {}
        self.seen: dict[str, tuple[str, str]] = {}  # id -> (object type, last state)
        self.completion_charges: list[str] = []
        self.completion_permissions: list[str] = []
        self.order_sessions: list[str] = []
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
        directory = Path(self.trace_dir or os.environ.get("APFSM_TRACE_DIR", ".apfsm-traces"))
        path = directory / f"{type(self).__name__}.json"
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
        if op.name == "create_charge":
            object_id = body.get("chargePermissionId") if isinstance(body, dict) else None
        elif op.name == "create_refund":
            object_id = body.get("chargeId") if isinstance(body, dict) else None
        if not isinstance(object_id, str) or op.target is None:
            return None
        if self.sim.object_type(object_id) != op.target:
            return None
        return self.sim.object_json(object_id)

    def call(
        self,
        operation: str,
        object_id: str | None,
        body: Any,
        *,
        key: str | None = None,
        code: str | None = None,
        expected_fault: str | None = None,
    ) -> Executed:
        """Make one API call, check it, record it; returns what it did."""
        op = OPERATIONS[operation]
        if key is not None and key in self.keys:
            return self._reuse_key(operation, object_id, body, key, code)
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
        ids_before = set(self.sim.object_ids())
        answer: Response | None = None
        error: ApiError | None = None
        try:
            answer = self.sim.request(
                operation, object_id, body, idempotency_key=key, simulation_code=code
            )
        except ApiError as caught:
            error = caught
        created = self._created(ids_before)
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

    def _created(self, before: set[str]) -> dict[str, str]:
        created: dict[str, str] = {}
        for object_id in self.sim.object_ids():
            if object_id not in before:
                object_type = self.object_type(object_id)
                assert object_type is not None
                created[object_type] = object_id
        return created

    def _record(self, executed: Executed) -> None:
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
        note(f"{op.name} refused: {error}; predicted {predicted!r}")
        if expected_fault is not None:
            assert expected_fault == error.reason_code, (op.name, error, expected_fault)
        if predicted.ok:
            allowed = set(HISTORY_CODES.get(op.name, ()))
            if code is not None:
                allowed |= {code, "CheckoutSessionCanceled"}
            if self._card(target) in _DECLINING_CARDS:
                allowed |= _EFFECT_CODES
            assert error.reason_code in allowed, (op.name, error, predicted)
        else:
            assert (predicted.reason_code, predicted.http_status) == (
                error.reason_code,
                error.http_status,
            ), (
                op.name,
                error,
                predicted,
            )
        if code is None and error.reason_code not in _EFFECT_CODES:
            assert before == self.sim.change_marker(), f"a refused {op.name} changed the state"

    def _check_success(
        self, op: Operation, answer: Response, predicted: Outcome, code: str | None
    ) -> None:
        note(f"{op.name} → {answer.status}; predicted {predicted!r}")
        assert predicted.ok, (op.name, predicted)
        if code is not None:
            return  # a simulation code changes the outcome on purpose (SPEC §7)
        state = answer.body["statusDetails"]["state"]
        if op.name == "complete_checkout_session":
            assert "Completed" == state
        else:
            assert predicted.next_state == state, (op.name, predicted, state)
        assert predicted.http_status == answer.status, (op.name, predicted, answer.status)

    @staticmethod
    def _card(target: dict[str, Any] | None) -> str:
        prefs = (target or {}).get("paymentPreferences") or []
        return str(prefs[0]["paymentDescriptor"][-4:]) if prefs else "1111"

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
        self.recorder.add(step)
        self.after_step(executed)

    # ---------------------------------------------------------------------------------
    # Bodies
    # ---------------------------------------------------------------------------------

    def _currency(self, object_id: str | None) -> str:
        body = self.sim.object_json(object_id) if object_id else None
        if body is None:
            return "USD"
        for field in ("chargeAmount", "captureAmount"):
            if isinstance(body.get(field), dict):
                return str(body[field]["currencyCode"])
        return str(body.get("presentmentCurrency") or "USD")

    def _scaled(self, amount: str, currency: str) -> str:
        if currency == "JPY":
            return str(int(Decimal(amount) * 100))
        return amount

    def _share(self, price: Mapping[str, str], share: str) -> dict[str, str]:
        quantum = Decimal(1) if price["currencyCode"] == "JPY" else Decimal("0.01")
        value = max((Decimal(price["amount"]) * Decimal(share)).quantize(quantum), quantum)
        return {"amount": str(value), "currencyCode": price["currencyCode"]}

    def smart_body(self, operation: str, object_id: str | None, choices: tuple[Any, ...]) -> Any:
        """A realistic body for ``operation`` on ``object_id``, from its current JSON and
        the rule's drawn ``choices`` (see ``_SMART_OPTIONS``)."""
        if operation == "create_checkout_session":
            currency, intent, kind, amount, pending, extend = choices
            details: dict[str, Any] = {
                "paymentIntent": intent,
                "chargeAmount": {
                    "amount": self._scaled(amount, currency),
                    "currencyCode": currency,
                },
            }
            if intent == "Authorize" and pending:
                details["canHandlePendingAuthorization"] = True
            if kind == "OneTime" and extend:
                details["extendExpiration"] = True
            return checkout_session_body(
                details, kind=kind, store_id="amzn1.application-oa2-client.fuzz"
            )
        if operation == "update_checkout_session":
            return copy.deepcopy(_SESSION_UPDATES[choices[0]])
        current = self.sim.object_json(object_id) if object_id else None
        if operation == "complete_checkout_session":
            amount = ((current or {}).get("paymentDetails") or {}).get("chargeAmount") or {
                "amount": "10.00",
                "currencyCode": "USD",
            }
            if choices[0] == "amount":
                amount = self._share(amount, "0.5")
            elif choices[0] == "currency":
                amount = {
                    **amount,
                    "currencyCode": "GBP" if amount["currencyCode"] != "GBP" else "USD",
                }
            return {"chargeAmount": amount}
        if operation == "update_charge_permission":
            return {"merchantMetadata": {"merchantReferenceId": "order-2"}}
        if operation == "close_charge_permission":
            return {"closureReason": "no longer needed", "cancelPendingCharges": choices[0]}
        if operation == "create_charge":
            amount, option = choices
            currency = self._currency(object_id)
            body = {
                "chargePermissionId": object_id,
                "chargeAmount": {
                    "amount": self._scaled(amount, currency),
                    "currencyCode": currency,
                },
            }
            body.update(_CHARGE_OPTIONS[option])
            return body
        if operation == "capture_charge":
            amount = (current or {}).get("chargeAmount") or {
                "amount": "10.00",
                "currencyCode": "USD",
            }
            return {"captureAmount": self._share(amount, choices[0])}
        if operation == "cancel_charge":
            return {"cancellationReason": "out of stock"}
        if operation == "create_refund":
            captured = (
                (current or {}).get("captureAmount")
                or (current or {}).get("chargeAmount")
                or {"amount": "10.00", "currencyCode": "USD"}
            )
            return {"chargeId": object_id, "refundAmount": self._share(captured, choices[0])}
        return None  # reads take no body

    def planned_call(
        self,
        op: Operation,
        object_id: str | None,
        plan: Plan,
    ) -> Executed:
        """Make the call a drawn plan describes (see ``_call_plan``): a realistic,
        schema-random or faulty body, maybe a simulation code and an idempotency key."""
        kind, drawn, code, key = plan
        expected_fault = None
        if kind == "smart":
            body = self.smart_body(op.name, object_id, drawn)
        elif kind == "schema":
            body = copy.deepcopy(drawn)
            if op.name == "create_charge":
                body["chargePermissionId"] = object_id
            elif op.name == "create_refund":
                body["chargeId"] = object_id
        else:
            body, expected_fault = copy.deepcopy(drawn)
        path_id = None if op.name in ("create_charge", "create_refund") else object_id
        if expected_fault is not None and key is not None and key in self.keys:
            expected_fault = None  # a replay answers what the key first answered
        return self.call(op.name, path_id, body, key=key, code=code, expected_fault=expected_fault)

    # ---------------------------------------------------------------------------------
    # Rules: orders, the buyer's and Amazon's side, time
    # ---------------------------------------------------------------------------------

    @initialize(
        target=charge_permissions, session=_NEW_SESSION, card=_ORDER_CARD, end=_COMPLETE_VARIANT
    )
    @_guarded
    def first_order(self, session: tuple[Any, ...], card: str, end: str) -> Any:
        return self.place_order(session, card, end)

    @rule(target=charge_permissions, session=_NEW_SESSION, card=_ORDER_CARD, end=_COMPLETE_VARIANT)
    @_guarded
    def order(self, session: tuple[Any, ...], card: str, end: str) -> Any:
        """A whole checkout: create, the buyer approves, complete (each step checked)."""
        return self.place_order(session, card, end)

    def place_order(self, choices: tuple[Any, ...], card: str, end: str) -> Any:
        body = self.smart_body("create_checkout_session", None, choices)
        created = self.call("create_checkout_session", None, body)
        session = created.created.get("CheckoutSession")
        if session is None:
            return multiple()
        self.order_sessions.append(session)
        self.act("buyer", "buyer_approve", session, card=card)
        body = self.smart_body("complete_checkout_session", session, (end,))
        done = self.call("complete_checkout_session", session, body)
        if done.body is None or done.body.get("chargePermissionId") is None:
            return multiple()
        if done.body.get("chargeId"):
            self.completion_charges.append(done.body["chargeId"])
        return done.body["chargePermissionId"]

    @initialize(target=charges, session=_NEW_SESSION, intent=_AUTHORIZING_INTENT)
    @_guarded
    def first_charge(self, session: tuple[Any, ...], intent: str) -> Any:
        return self.place_charged_order(session, intent)

    @rule(target=charges, session=_NEW_SESSION, intent=_AUTHORIZING_INTENT)
    @_guarded
    def charged_order(self, session: tuple[Any, ...], intent: str) -> Any:
        """A whole checkout that authorizes a charge (so captures and refunds come soon)."""
        return self.place_charged_order(session, intent)

    def place_charged_order(self, choices: tuple[Any, ...], intent: str) -> Any:
        body = self.smart_body("create_checkout_session", None, choices)
        body["paymentDetails"]["paymentIntent"] = intent
        if intent == "AuthorizeWithCapture":
            body["paymentDetails"].pop("canHandlePendingAuthorization", None)
        created = self.call("create_checkout_session", None, body)
        session = created.created.get("CheckoutSession")
        if session is None:
            return multiple()
        self.order_sessions.append(session)
        self.act("buyer", "buyer_approve", session, card="1111")
        done = self.call(
            "complete_checkout_session",
            session,
            {"chargeAmount": body["paymentDetails"]["chargeAmount"]},
        )
        if done.body is None or not done.body.get("chargeId"):
            return multiple()
        self.completion_permissions.append(done.body["chargePermissionId"])
        return done.body["chargeId"]

    @rule(target=checkout_sessions)
    @_guarded
    def adopt_order_sessions(self) -> Any:
        """Sessions of completed orders join the sessions bundle (their later life)."""
        adopted, self.order_sessions = self.order_sessions, []
        return multiple(*adopted)

    @rule(target=charge_permissions)
    @_guarded
    def adopt_completion_permissions(self) -> Any:
        """Permissions created with a charged order join the permissions bundle."""
        adopted, self.completion_permissions = self.completion_permissions, []
        return multiple(*adopted)

    @rule(target=charges)
    @_guarded
    def adopt_completion_charges(self) -> Any:
        """Charges created by completions join the charges bundle."""
        adopted, self.completion_charges = self.completion_charges, []
        return multiple(*adopted)

    @rule(session=checkout_sessions, card=aps.sandbox_cards())
    @_guarded
    def buyer_approves(self, session: str, card: str) -> None:
        current = self.sim.object_json(session)
        if current is not None and current["statusDetails"]["state"] == "Open":
            self.act("buyer", "buyer_approve", session, card=card)

    @rule(pick=_PICK)
    @_guarded
    def amazon_or_buyer_event(self, pick: int) -> None:
        """Any declared event that can happen to some object now (SPEC §3–§6)."""
        candidates = []
        for object_id, record in self.sim._objects.items():
            object_type = self.object_type(object_id)
            assert object_type is not None
            state = record.state
            for decl in LIFECYCLES[object_type].events:
                allowed = self.events is None or (object_type, decl.name) in self.events
                if (
                    allowed
                    and state in decl.sources
                    and decl.name != "buyer_approve"
                    and decl.delay is None
                ):
                    candidates.append((object_id, decl.name, decl.reasons, decl.dest == SAME))
        if not candidates:
            return
        object_id, name, reasons, _ = candidates[pick % len(candidates)]
        reason = reasons[pick // len(candidates) % len(reasons)] if reasons else None
        self.act(
            "amazon",
            "amazon_event",
            object_id,
            event=name,
            **({"reason": reason} if reason else {}),
        )

    @rule(pick=_PICK)
    @_guarded
    def replay_a_key(self, pick: int) -> None:
        if self.keys:
            key = sorted(self.keys)[pick % len(self.keys)]
            operation, object_id, body, code, _ = self.keys[key]
            self.call(operation, object_id, body, key=key, code=code)

    @rule(step=aps.time_steps(max_value=timedelta(days=200)))
    @_guarded
    def wait(self, step: timedelta) -> None:
        self.move_clock(delta=step)

    @rule(offset=st.sampled_from([-1, 0, 1]))
    @_guarded
    def jump_to_next_deadline(self, offset: int) -> None:
        """To 1 s before, at, or 1 s after the next scheduled event (SPEC §2 boundaries)."""
        due = self.sim.next_event_at()
        if due is not None and due + timedelta(seconds=offset) > self.sim.now():
            self.move_clock(to=due + timedelta(seconds=offset))

    @rule(
        edge=st.sampled_from(["month_start", "month_end", "leap_day"]),
        offset=st.sampled_from([-1, 0, 1]),
    )
    @_guarded
    def jump_to_calendar_edge(self, edge: str, offset: int) -> None:
        """Calendar edges depend on the current time: month ends, the 1st of a month
        (recurring caps), 29 February (13-month arithmetic)."""
        now = self.sim.now()
        next_month = month_start(add_months(now, 1))
        if edge == "month_start":
            instant = next_month
        elif edge == "month_end":
            instant = next_month - timedelta(hours=12)
        else:
            year = now.year + 1
            while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
                year += 1
            instant = datetime(year, 2, 29, 12, tzinfo=UTC)
        instant += timedelta(seconds=offset)
        if instant > now:
            self.move_clock(to=instant)

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
        journal = sim.journal if sim.journal is not None else []
        dirty = set(journal)
        journal.clear()
        for object_id in list(dirty):
            record = sim._objects.get(object_id)
            # A refund changes its charge's refunded total; a charge its permission's balance.
            if isinstance(record, RefundRecord):
                dirty.add(record.charge_id)
            elif isinstance(record, ChargeRecord):
                dirty.add(record.charge_permission_id)
        for object_id in dirty:
            self._check_object(object_id)
        live = sim._objects
        for message in sim.notifications[self._notified :]:
            assert message["ObjectId"] in live, message
        self._notified = len(sim.notifications)

    def _check_object(self, object_id: str) -> None:
        sim = self.sim
        record = sim._objects.get(object_id)
        if record is None:
            self.seen.pop(object_id, None)  # deleted (a checkout session after 30 days)
            return
        object_type = sim.object_type(object_id)
        assert object_type is not None
        before = self.seen.get(object_id)
        if before is not None:
            assert check_transition(object_type, before[1], record.state), (
                object_type,
                before,
                record.state,
            )
        self.seen[object_id] = (object_type, record.state)
        if isinstance(record, ChargeRecord):
            if record.capture_amount is not None:
                assert record.capture_amount <= record.amount, record
            base = record.captured_amount[0]
            allowance = refund_allowance(base, record.currency, sim.limits)
            assert record.refunded_total <= base + allowance, record
            assert record.refund_committed <= base + allowance, record
        elif isinstance(record, ChargePermissionRecord):
            balance = record.amount_balance
            assert balance is None or balance >= 0, record

    def teardown(self) -> None:
        # Keep the latest run's trace at hand (a failing run overwrites it last).
        if os.environ.get("APFSM_KEEP_TRACES"):
            self.export_trace("last run")


def _operation_rule(op: Operation, limits: Limits) -> Callable[..., Any]:
    """A rule for one operation, acting on an object from the right bundle, its bodies
    drawn under ``limits``."""
    if op.name == "create_charge":
        source = "charge_permissions"
    elif op.name == "create_refund":
        source = "charges"
    else:
        source = _BUNDLE_OF_TYPE[op.target] if op.target else ""
    # What the rule's result joins: the object the call creates (a completion creates a
    # permission; its charge joins the charges bundle through adopt_completion_charges).
    creates = "ChargePermission" if op.name == "complete_checkout_session" else op.creates
    target = getattr(AmazonPayMachine, _BUNDLE_OF_TYPE[creates]) if creates else None

    def run(
        self: AmazonPayMachine,
        plan: Plan,
        obj: str | None = None,
    ) -> Any:
        executed = self.planned_call(op, obj, plan)
        if creates != "Charge" and "Charge" in executed.created:
            self.completion_charges.append(executed.created["Charge"])
        if target is None:
            return None
        made = executed.created.get(creates) if creates else None
        return multiple(made) if made else multiple()

    run.__name__ = op.name
    run.__doc__ = f"{op.method} {op.path} with a realistic, random or faulty body."
    guarded = _guarded(run)
    arguments: dict[str, Any] = {"plan": _call_plan(op.name, limits)}
    if source:
        arguments["obj"] = getattr(AmazonPayMachine, source)
    decorate: Any = rule(target=target, **arguments) if target is not None else rule(**arguments)
    return cast("Callable[..., Any]", decorate(guarded))


# One rule per operation of the declarations (SPEC §1).
def _add_operation_rules(machine: type[AmazonPayMachine]) -> None:
    for op in OPERATIONS.values():
        setattr(machine, f"call_{op.name}", _operation_rule(op, machine.limits))


_add_operation_rules(AmazonPayMachine)


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
        directory = Path(machine.trace_dir or os.environ.get("APFSM_TRACE_DIR", ".apfsm-traces"))
        candidate = directory / f"{machine.__name__}.json"
        trace = candidate if candidate.exists() else None
    machine.coverage.counts.update(Campaign.coverage.counts)
    return FuzzReport(
        examples=counter["examples"],
        steps=counter["steps"],
        coverage=Campaign.coverage,
        failure=failure,
        trace=trace,
        seconds=time.perf_counter() - started,
    )
