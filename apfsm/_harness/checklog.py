"""Checking a recorded log of Amazon Pay traffic against the specification.

The log is JSON Lines: one JSON object per line, of two kinds (docs/cli.md):

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
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from apfsm._clock import parse_timestamp
from apfsm._outcome import Outcome
from apfsm._spec import LIFECYCLES, OPERATIONS, Limits
from apfsm._validator import check, check_transition

from .oracle import judge

__all__ = ["LogProblem", "LogReport", "check_log"]

ProblemKind = Literal["illegal transition", "contradiction", "deadline passed", "malformed"]


@attrs.frozen
class LogProblem:
    line: int
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.message}"


@attrs.frozen
class LogReport:
    lines: int
    calls: int
    notifications: int
    problems: tuple[LogProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.kind] = counts.get(problem.kind, 0) + 1
        detail = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none"
        return (
            f"{self.lines} lines: {self.calls} API calls, {self.notifications} IPN messages; "
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


class _Checker:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.known: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (type, last JSON)
        self.problems: list[LogProblem] = []
        self.calls = 0
        self.notifications = 0

    def problem(self, line: int, kind: ProblemKind, message: str) -> None:
        self.problems.append(LogProblem(line, kind, message))

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
            target = None if known is None else known[1]
            try:
                predicted = check(
                    operation, target, body=record.get("request"), at=at, limits=self.limits
                )
            except ValueError as exc:
                self.problem(line, "malformed", f"{operation}: {exc}")
                predicted = None
            if predicted is not None:
                self._compare(line, operation, predicted, code, record.get("status"), response)
        if isinstance(response, Mapping):
            self.observe(line, response, at)

    def _compare(
        self,
        line: int,
        operation: str,
        predicted: Outcome,
        code: str | None,
        status: Any,
        response: Any,
    ) -> None:
        # A recorded log is real traffic: any decline may come where a payload shows no
        # reason, and a refusal's HTTP status is not judged, only its code.
        state = _state(response) if isinstance(response, Mapping) else None
        for problem in judge(
            operation,
            predicted,
            code=code,
            status=status,
            state=state,
            any_decline=True,
            refusal_status=False,
        ):
            self.problem(line, problem.kind, problem.message)

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
            previous = _state(before[1])
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
                    LIFECYCLES[object_type].get_operation, before[1], at=at, limits=self.limits
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
        self.known[object_id] = (object_type, dict(body))

    def notification(self, line: int, record: Mapping[str, Any]) -> None:
        self.notifications += 1
        message = record.get("notification")
        if not isinstance(message, Mapping) or not isinstance(message.get("ObjectId"), str):
            self.problem(line, "malformed", "an IPN record needs a notification with an ObjectId")


def check_log(lines: Iterable[str], *, limits: Limits | None = None) -> LogReport:
    """Check a JSON Lines log (module docs) and report problems with line numbers.

    Blank lines are skipped; a line that is not a JSON object of one of the two kinds is a
    ``malformed`` problem.
    """
    checker = _Checker(limits or Limits())
    count = 0
    for number, text in enumerate(lines, 1):
        count = number
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            checker.problem(number, "malformed", f"not JSON: {exc.msg}")
            continue
        if not isinstance(record, dict):
            checker.problem(number, "malformed", "each line must be a JSON object")
            continue
        try:
            at = parse_timestamp(record.get("at"))  # type: ignore[arg-type]
        except ValueError as exc:
            checker.problem(number, "malformed", f"at: {exc}")
            continue
        if "notification" in record:
            checker.notification(number, record)
        elif record.get("operation") in OPERATIONS:
            checker.call(number, record, at)
        elif record.get("kind") in ("buyer", "amazon") and isinstance(record.get("response"), dict):
            checker.observe(number, record["response"], at)  # the buyer's or Amazon's action
        else:
            checker.problem(
                number,
                "malformed",
                "a line is an API call (with an operation of SPEC §1) or an IPN (with a "
                "notification)",
            )
    return LogReport(count, checker.calls, checker.notifications, tuple(checker.problems))
