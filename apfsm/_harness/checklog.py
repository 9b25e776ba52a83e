"""Checking a recorded log of Amazon Pay traffic against the specification.

A log is read in one of two forms, told apart by its first character (docs/cli.md):

* **JSON Lines**: one JSON object per line;
* **a JSON array** of the same objects: what the server's ``GET /_apfsm/log`` answers.

``check_log`` also takes the records themselves (dicts, or ``apfsm.LogRecord``). Each
record is one of two kinds:

* an API call — ``{"at", "operation", "objectId", "request", "status", "response",
  "error"}`` (``error`` is ``{"reasonCode", "message"}`` or null): exactly what
  ``apfsm.LogRecord.to_json()`` writes, so ``Simulator.write_log`` exports a checkable
  log; ``seq``, ``kind``, ``idempotencyKey``, ``simulationCode`` and ``replayed`` are
  optional;
* an IPN message — ``{"at", "notification": {...}}`` with the message Amazon Pay sent.

Reading in order, the checker keeps the last JSON seen of every object and reports, with
line numbers: **illegal transitions** (a state that cannot follow the one seen before);
**contradictions** (an answer other than what ``apfsm.check`` predicts from the object's
last JSON — rules that need history a payload lacks only make Amazon stricter, and calls
with a simulation code are not judged); **deadlines passed** (an object reported in a state
its deadline had already ended).

Time passes between two logged calls, and Amazon acts in it: a read (``get_charge``...) may
show any state the declarations' Amazon-side and buyer events (``Lifecycle.events``: an
asynchronous capture or refund resolving, a cancellation) lead to, at any time after the
object was last seen, and any state a timer (``Lifecycle.timers``: an authorization or a
session expiring) leads to once its deadline has passed by the read's ``at`` (SPEC §2's
boundary rule, ``Limits.ttl_passed_at_deadline``) — with the reason that event or timer
gives. Any other change a read shows (``Captured`` with no capture logged, ``Canceled`` /
``ExpiredUnused`` before the deadline) is a contradiction.
Another call's answer is judged likewise: it stands when
``apfsm.check`` gives it on the object's last JSON, or in a state the object may have
reached since.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeAlias

import attrs

from apfsm._clock import format_timestamp, parse_timestamp
from apfsm._decide import DEADLINE_FUNCTIONS, read_payload
from apfsm._outcome import Outcome
from apfsm._sim import LogRecord
from apfsm._spec import LIFECYCLES, OPERATIONS, SAME, Limits
from apfsm._validator import check, check_transition

from .oracle import Disagreement, judge

__all__ = ["LogFormat", "LogInput", "LogProblem", "LogReport", "check_log", "possible_states"]

ProblemKind = Literal["illegal transition", "contradiction", "deadline passed", "malformed"]
#: How a log was given: JSON Lines text, a JSON array (``GET /_apfsm/log``), or records.
LogFormat = Literal["JSON Lines", "JSON array", "records"]
#: What ``check_log`` reads: the log's whole text, its lines, or its records.
LogInput: TypeAlias = str | Iterable[str] | Iterable[Mapping[str, Any]] | Iterable[LogRecord]


@attrs.frozen
class LogProblem:
    """One problem found in a log.

    Attributes:
        line: where: the line number in JSON Lines, the record's position (from 1) in a
            JSON array or a sequence of records.
        kind: ``"illegal transition"``, ``"contradiction"``, ``"deadline passed"`` or
            ``"malformed"``.
        message: what is wrong, in words.
        unit: ``"line"`` or ``"record"``: what ``line`` counts.
    """

    line: int
    kind: ProblemKind
    message: str
    unit: Literal["line", "record"] = "line"

    def __str__(self) -> str:
        return f"{self.unit} {self.line}: {self.kind}: {self.message}"


@attrs.frozen
class LogReport:
    """What ``check_log`` found.

    Attributes:
        lines: how many lines (records, for a JSON array or records) were read.
        calls: the API calls among them.
        notifications: the IPN messages among them.
        problems: every problem, in log order.
        format: the form the log was read in.
    """

    lines: int
    calls: int
    notifications: int
    problems: tuple[LogProblem, ...]
    format: LogFormat = "JSON Lines"

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """One line: what was read, and the problems counted by kind."""
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.kind] = counts.get(problem.kind, 0) + 1
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"
        unit = "lines" if self.format == "JSON Lines" else "records"
        return (
            f"{self.lines} {unit}: {self.calls} API calls, {self.notifications} IPN messages; "
            f"{len(self.problems)} problem(s): {detail}"
        )


def object_type_of(body: Mapping[str, Any]) -> str | None:
    """Which object an API response describes, from its id fields."""
    if "refundId" in body:
        return "Refund"
    if "checkoutSessionId" in body and "webCheckoutDetails" in body:
        return "CheckoutSession"
    if "chargeId" in body and "chargeAmount" in body:
        return "Charge"
    if "chargePermissionId" in body and "chargePermissionType" in body:
        return "ChargePermission"
    return None


def _state(body: Mapping[str, Any]) -> str | None:
    details = body.get("statusDetails")
    return details.get("state") if isinstance(details, Mapping) else None


def _reason(object_type: str, body: Mapping[str, Any], limits: Limits) -> str | None:
    try:
        reason: str | None = read_payload(object_type, body, limits).reason
    except ValueError:
        return None
    return reason


def _as_state(body: Mapping[str, Any], state: str, reason: str | None = None) -> dict[str, Any]:
    """``body`` as if it showed ``state`` (and ``reason``): an object in a state it may
    have reached after it was last seen."""
    details = dict(body.get("statusDetails") or {})
    details["state"] = state
    details.pop("reasonDescription", None)
    if "reasons" in details:  # a Charge Permission's reasons are a list
        details["reasons"] = None if reason is None else [{"reasonCode": reason}]
    else:
        details["reasonCode"] = reason
    return {**body, "statusDetails": details}


#: Per state, the reasons it may show (None: any).
Possible: TypeAlias = dict[str, frozenset[str] | None]


def possible_states(
    object_type: str, seen: Mapping[str, Any], at: datetime, limits: Limits | None = None
) -> Possible:
    """The states (with their reasons) an object last seen as ``seen`` may show at ``at``
    when no merchant call acted on it in between.

    Its own state, unless one of its timers' deadline has passed by ``at``; every state an
    event of its lifecycle leads to (the buyer or Amazon may act at any time); every state
    a timer leads to once its deadline has passed by ``at`` (SPEC §2 boundary rule) — and
    on from those. A state reached on the way counts as still possible (when it was entered
    is not known, so its own deadlines are not enforced); the deadlines of a state the
    object had not yet reached are read from ``seen`` as if it showed that state, which
    never puts them later than they are.

    Raises:
        ValueError: ``seen`` is not a payload of ``object_type``.
    """
    limits = limits or Limits()
    lifecycle = LIFECYCLES[object_type]
    start = _state(seen)
    if start is None:
        raise ValueError(f"the {object_type} payload has no statusDetails.state")
    found: dict[str, set[str] | None] = {}

    def add(state: str, reason: str | None, reasons: tuple[str, ...]) -> None:
        if lifecycle.state(state).virtual:
            return  # Deleted: a read answers ResourceNotFound, never a payload
        allowed = {reason} if reason else set(reasons) if reasons else None
        known = found.get(state, set())
        found[state] = None if allowed is None or known is None else known | allowed

    def deadline_passed(deadline: str, state: str) -> bool:
        body = seen if state == start else _as_state(seen, state)
        try:
            facts = read_payload(object_type, body, limits)
            return limits.ttl_passed(DEADLINE_FUNCTIONS[deadline](facts, limits), at)
        except ValueError:
            return True  # a deadline the payload cannot tell: the change is not ruled out

    queue = [start]
    visited = {start}
    while queue:
        state = queue.pop(0)
        moves: list[tuple[str, str | None, tuple[str, ...]]] = []
        for event in lifecycle.events:
            if state in event.sources and event.dest not in (SAME, state):
                moves.append((event.dest, event.reason, event.reasons))
        moved_on = False
        for timer in lifecycle.timers:
            if state in timer.sources and deadline_passed(timer.deadline, state):
                moves.append((timer.dest, timer.reason, ()))
                moved_on = moved_on or state == start
        if state == start and not moved_on:
            found[start] = None
        for dest, reason, reasons in moves:
            add(dest, reason, reasons)
            if dest not in visited and not lifecycle.state(dest).virtual:
                visited.add(dest)
                queue.append(dest)
    return {s: None if r is None else frozenset(r) for s, r in found.items()}


def _describe(possible: Possible, previous: str) -> str:
    parts = []
    for state, reasons in possible.items():
        if state == previous:
            parts.append(f"{state} (as before)")
        else:
            parts.append(state if reasons is None else f"{state} ({', '.join(sorted(reasons))})")
    return ", ".join(parts) or "nothing"


@attrs.frozen
class _Seen:
    object_type: str
    body: dict[str, Any]
    line: int
    at: datetime


class _Checker:
    def __init__(self, limits: Limits, unit: Literal["line", "record"]) -> None:
        self.limits = limits
        self.unit: Literal["line", "record"] = unit
        self.known: dict[str, _Seen] = {}  # id -> its last JSON, and where it was seen
        self.problems: list[LogProblem] = []
        self.calls = 0
        self.notifications = 0

    def problem(self, line: int, kind: ProblemKind, message: str) -> None:
        self.problems.append(LogProblem(line, kind, message, self.unit))

    def target_of(self, record: Mapping[str, Any]) -> object:
        op = OPERATIONS[record["operation"]]
        request = record.get("request")
        return op.target_id(
            record.get("objectId"), dict(request) if isinstance(request, Mapping) else None
        )

    def call(self, line: int, record: Mapping[str, Any], at: datetime) -> None:
        self.calls += 1
        operation = record["operation"]
        op = OPERATIONS[operation]
        error = record.get("error") or None
        code = error.get("reasonCode") if isinstance(error, Mapping) else None
        response = record.get("response")
        target_id = self.target_of(record)
        known = self.known.get(target_id) if isinstance(target_id, str) else None
        judged = record.get("simulationCode") is None and not record.get("replayed")
        if judged and (op.target is None or known is not None):
            target = None if known is None else known.body
            try:
                predicted = check(
                    operation, target, body=record.get("request"), at=at, limits=self.limits
                )
            except ValueError as exc:
                self.problem(line, "malformed", f"{operation}: {exc}")
                predicted = None
            if predicted is not None:
                state = _state(response) if isinstance(response, Mapping) else None
                if op.is_read and known is not None and code is None and state is not None:
                    self._read(line, operation, known, response, at)  # type: ignore[arg-type]
                    state = None  # judged against time, not against check alone
                status = record.get("status")
                found = self._compare(operation, predicted, code, status, state)
                if found and known is not None and not op.is_read:
                    answer = (code, status, state)
                    if self._moved_on(operation, known, record.get("request"), answer, at):
                        found = ()
                for disagreement in found:
                    self.problem(line, disagreement.kind, disagreement.message)
        if isinstance(response, Mapping):
            self.observe(line, response, at)

    def _read(
        self, line: int, operation: str, known: _Seen, body: Mapping[str, Any], at: datetime
    ) -> None:
        """A read showing another state than the one last seen: one the buyer, Amazon or a
        deadline may have led to since (``possible_states``)?"""
        object_type = known.object_type
        previous, state = _state(known.body), _state(body)
        if state is None or previous is None or state == previous:
            return  # unchanged: a deadline it should have left is "deadline passed"
        try:
            if not check_transition(object_type, previous, state):
                return  # no way at all: "illegal transition" says so
            possible = possible_states(object_type, known.body, at, self.limits)
        except ValueError:
            return  # reported by observe
        reason = _reason(object_type, body, self.limits)
        if state in possible:
            reasons = possible[state]
            if reasons is None or reason is None or reason in reasons:
                return
        shown = f"{state} ({reason})" if reason else state
        self.problem(
            line,
            "contradiction",
            f"{operation} answered state {shown}, but from {previous} ({self.unit} "
            f"{known.line}, {format_timestamp(known.at)}) no logged call leads there, and by "
            f"{format_timestamp(at)} the buyer, Amazon and deadlines allow only "
            f"{_describe(possible, previous)}",
        )

    def _compare(
        self,
        operation: str,
        predicted: Outcome,
        code: str | None,
        status: Any,
        state: str | None,
    ) -> tuple[Disagreement, ...]:
        # A recorded log is real traffic: any decline may come where a payload shows no
        # reason, and a refusal's HTTP status is not judged, only its code.
        return judge(
            operation,
            predicted,
            code=code,
            status=status,
            state=state,
            any_decline=True,
            refusal_status=False,
        )

    def _moved_on(
        self,
        operation: str,
        known: _Seen,
        request: Any,
        answer: tuple[str | None, Any, str | None],
        at: datetime,
    ) -> bool:
        """Does the answer agree with a state the buyer, Amazon or a deadline may have
        moved the target to since it was last seen (a refund on a charge last seen
        ``CaptureInitiated``, now ``Captured``)?"""
        previous = _state(known.body)
        try:
            possible = possible_states(known.object_type, known.body, at, self.limits)
        except ValueError:
            return False
        for state, reasons in possible.items():
            if state == previous:
                continue
            for reason in sorted(reasons) if reasons else [None]:
                try:
                    outcome = check(
                        operation,
                        _as_state(known.body, state, reason),
                        body=request,
                        at=at,
                        limits=self.limits,
                    )
                except ValueError:
                    continue  # a payload this state would show differently
                if not self._compare(operation, outcome, *answer):
                    return True
        return False

    def observe(self, line: int, body: Mapping[str, Any], at: datetime) -> None:
        object_type = object_type_of(body)
        state = _state(body)
        if object_type is None or state is None:
            return
        object_id = body.get(LIFECYCLES[object_type].id_field)
        if not isinstance(object_id, str):
            return
        before = self.known.get(object_id)
        if before is not None:
            previous = _state(before.body)
            if previous is not None and previous != state:
                try:
                    legal = check_transition(object_type, previous, state)
                except ValueError as exc:
                    self.problem(line, "malformed", str(exc))
                    legal = True
                if not legal:
                    self.problem(
                        line,
                        "illegal transition",
                        f"{object_type} {object_id} went from {previous} to {state}",
                    )
            # A state its deadline had ended (e.g. Authorized past expirationTimestamp).
            try:
                now = check(
                    LIFECYCLES[object_type].get_operation, before.body, at=at, limits=self.limits
                )
            except ValueError:
                now = None
            if now is not None and now.ok and now.next_state != previous and state == previous:
                self.problem(
                    line,
                    "deadline passed",
                    f"{object_type} {object_id} is still {state}, but by "
                    f"{at.isoformat()} it should be {now.next_state}",
                )
        self.known[object_id] = _Seen(object_type, dict(body), line, at)

    def notification(self, line: int, record: Mapping[str, Any]) -> None:
        self.notifications += 1
        message = record.get("notification")
        if not isinstance(message, Mapping) or not isinstance(message.get("ObjectId"), str):
            self.problem(line, "malformed", "an IPN record needs a notification with an ObjectId")

    def record(self, number: int, record: object) -> None:
        if not isinstance(record, Mapping):
            self.problem(number, "malformed", f"each {self.unit} must be a JSON object")
            return
        try:
            at = parse_timestamp(record.get("at"))  # type: ignore[arg-type]
        except ValueError as exc:
            self.problem(number, "malformed", f"at: {exc}")
            return
        if "notification" in record:
            self.notification(number, record)
        elif isinstance(record.get("operation"), str) and record["operation"] in OPERATIONS:
            self.call(number, record, at)
        elif record.get("kind") in ("buyer", "amazon") and isinstance(
            record.get("response"), Mapping
        ):
            self.observe(number, record["response"], at)  # the buyer's or Amazon's action
        else:
            self.problem(
                number,
                "malformed",
                "a record is an API call (with an operation of SPEC §1) or an IPN (with a "
                "notification)",
            )


class _NotJson:
    """A line or document that did not parse."""

    def __init__(self, message: str) -> None:
        self.message = message


def _parse(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return _NotJson(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")


def _read_log(log: LogInput) -> tuple[LogFormat, int, list[tuple[int, object]]]:
    """The log's form, its length, and its records numbered from 1 (None: a blank line)."""
    items: list[Any] = log.splitlines() if isinstance(log, str) else list(log)
    if all(isinstance(item, str) for item in items):
        first = next((t for t in items if t.strip()), "")
        if first.lstrip().startswith("["):
            document = _parse("\n".join(items))
            if isinstance(document, list):
                return "JSON array", len(document), list(enumerate(document, 1))
            return "JSON array", 1, [(1, document)]  # not JSON, or not an array
        parsed = [(n, _parse(t) if t.strip() else None) for n, t in enumerate(items, 1)]
        return "JSON Lines", len(items), parsed
    records: list[tuple[int, object]] = []
    for number, item in enumerate(items, 1):
        record: object = item
        if isinstance(item, LogRecord):
            record = item.to_json()
        elif isinstance(item, str):
            record = _parse(item) if item.strip() else None
        records.append((number, record))
    return "records", len(items), records


def check_log(log: LogInput, *, limits: Limits | None = None) -> LogReport:
    """Check a recorded log of Amazon Pay traffic against the specification.

    Each call is judged against what ``apfsm.check`` predicts from the last JSON the log
    showed of its object, and each JSON shown against the one before it. Between two
    records time passes: a read may show whatever the buyer, Amazon (asynchronous outcomes,
    cancellations) or a deadline passed by then lead to (``possible_states``), and nothing
    else.

    Args:
        log: the log: its whole text, or its lines, in either form — JSON Lines (one
            record a line; blank lines are skipped) or a JSON array of records (what the
            server's ``GET /_apfsm/log`` answers), told apart by the first character; or
            the records themselves: dicts as ``LogRecord.to_json()`` writes them, or
            ``apfsm.LogRecord`` objects (``Simulator.log``).
        limits: the limits the log's traffic ran under; SPEC's defaults when None.

    Returns:
        A ``LogReport``: counts, and every problem with its line (or record) number and
        kind — ``illegal transition``, ``contradiction``, ``deadline passed``, or
        ``malformed`` for a record that is not JSON, or not a call or an IPN message.
    """
    limits = limits or Limits()
    form, count, records = _read_log(log)
    checker = _Checker(limits, "line" if form == "JSON Lines" else "record")
    for number, record in records:
        if record is None:
            continue
        if isinstance(record, _NotJson):
            checker.problem(number, "malformed", record.message)
            continue
        checker.record(number, record)
    return LogReport(
        count, checker.calls, checker.notifications, tuple(checker.problems), format=form
    )
