"""Portable traces: a sequence of calls, buyer and Amazon events and clock moves, with the
outcomes expected, as versioned JSON — and ``replay`` against a simulator or an adapter.

Objects are named by symbolic references in the order they are created (``cs1``, ``cp1``,
``ch1``, ``rf1``), so a trace replays against any target whatever ids it hands out; in
bodies, a reference is written ``"@cp1"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal, Protocol, runtime_checkable

import attrs

from apfsm._clock import ManualClock, require_aware
from apfsm._errors import ApiError
from apfsm._sim import LogRecord, Simulator, check_envelope
from apfsm._spec import LIFECYCLES, OPERATIONS, Limits

__all__ = [
    "DEFAULT_START",
    "TRACE_DIR_VARIABLE",
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "Replay",
    "ReplayTarget",
    "Step",
    "Trace",
    "TraceRecorder",
    "replay",
    "trace_directory",
]

TRACE_FORMAT: Final = "apfsm.trace"
TRACE_VERSION: Final = 1
#: Where the testing tools' histories start unless told otherwise: the last day of a month,
#: so calendar edges (the next month's first, 13 months from a month's end) come soon.
DEFAULT_START: Final = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
#: The environment variable naming the directory failing runs write their traces to.
TRACE_DIR_VARIABLE: Final = "APFSM_TRACE_DIR"


def trace_directory(override: str | os.PathLike[str] | None = None) -> Path:
    """Where traces go: ``override``, else ``$APFSM_TRACE_DIR``, else ``.apfsm-traces``."""
    if override is not None:
        return Path(override)
    return Path(os.environ.get(TRACE_DIR_VARIABLE, ".apfsm-traces"))


#: Object type by the JSON field holding its id (``Lifecycle.id_field``).
_ID_FIELDS: Final = {lc.id_field: lc.object_type for lc in LIFECYCLES.values()}
StepKind = Literal["call", "buyer", "amazon", "time"]


@attrs.frozen
class Step:
    """One step of a trace.

    Attributes:
        kind: ``call`` (an API operation), ``buyer`` or ``amazon`` (a side action by
            name: ``buyer_approve``, ``amazon_event``...), or ``time`` (a clock move).
        name: the operation or action name (``"advance"`` / ``"move_to"`` for time).
        object: the reference of the object in the path, or None.
        body: the request body (references as ``"@ref"``), or the action's arguments.
        idempotency_key, simulation_code: the headers of a call.
        expect: what the step answered when recorded: ``{"status", "error", "state"}``.
        creates: references of the objects the step created, by object type.
    """

    kind: StepKind
    name: str
    object: str | None = None
    body: Any = None
    idempotency_key: str | None = None
    simulation_code: str | None = None
    expect: Mapping[str, Any] | None = None
    creates: Mapping[str, str] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        for key, value in (
            ("object", self.object),
            ("body", self.body),
            ("idempotencyKey", self.idempotency_key),
            ("simulationCode", self.simulation_code),
            ("expect", None if self.expect is None else dict(self.expect)),
            ("creates", dict(self.creates) or None),
        ):
            if value is not None:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        if data.get("kind") not in ("call", "buyer", "amazon", "time"):
            raise ValueError(f"unknown trace step kind {data.get('kind')!r}")
        if not isinstance(data.get("name"), str):
            raise ValueError(f"trace step without a name: {data!r}")
        return cls(
            kind=data["kind"],
            name=data["name"],
            object=data.get("object"),
            body=data.get("body"),
            idempotency_key=data.get("idempotencyKey"),
            simulation_code=data.get("simulationCode"),
            expect=data.get("expect"),
            creates=dict(data.get("creates") or {}),
        )


@attrs.frozen
class Trace:
    """A recorded sequence of steps from a start instant, with the limits in force."""

    start: datetime
    steps: tuple[Step, ...]
    limits: Limits = attrs.field(factory=Limits)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRACE_FORMAT,
            "version": TRACE_VERSION,
            "start": self.start.isoformat(),
            "limits": self.limits.to_json(),
            "note": self.note,
            "steps": [s.to_json() for s in self.steps],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trace:
        """Read a trace written by ``to_json`` (or ``save``).

        Raises:
            ValueError: not an apfsm trace, an unsupported version, or malformed steps.
        """
        check_envelope(data, TRACE_FORMAT, TRACE_VERSION, "trace")
        try:
            start = require_aware(datetime.fromisoformat(data["start"]), "trace start")
            limits = Limits.from_json(data.get("limits") or {})
            steps = tuple(Step.from_json(s) for s in data["steps"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed trace: {exc!r}") from None
        return cls(start=start, steps=steps, limits=limits, note=str(data.get("note", "")))

    @classmethod
    def from_log(
        cls,
        log: Iterable[LogRecord],
        *,
        start: datetime,
        limits: Limits | None = None,
        note: str = "",
    ) -> Trace:
        """The trace of a simulator's call log (``Simulator.log``): every API call, buyer
        and Amazon action as a step, with the clock moved to each record's instant
        before it (time passing between calls is what changed the objects there).

        Objects are named by reference in the order the answers reveal them; an id no
        answer revealed (an object created by a refused call) stays as it is.
        """
        recorder = TraceRecorder(require_aware(start, "trace start"), limits or Limits())
        now = recorder.start
        for record in log:
            if record.at > now:
                now = record.at
                recorder.add(Step("time", "move_to", None, {"to": now.isoformat()}))
            response = record.response
            expect: dict[str, Any] = {"status": record.status, "error": record.error_code}
            state = _state_of(response)
            if state is not None:
                expect["state"] = state
            if record.kind != "api":
                request = dict(record.request or {})
                name = "buyer_approve" if record.operation == "buyer_approve" else "amazon_event"
                recorder.add(
                    Step(record.kind, name, recorder.ref(record.object_id), request, expect=expect)
                )
                continue
            op = OPERATIONS.get(record.operation)
            path_id = record.object_id if op is not None and op.has_path_id else None
            step = Step(
                "call",
                record.operation,
                recorder.ref(path_id),
                recorder.symbolic(record.request),
                record.idempotency_key,
                record.simulation_code,
                expect,
            )
            creates = {
                object_type: recorder.adopt(object_type, object_id)
                for object_type, object_id in _created_ids(response)
                if object_id not in recorder._refs
            }
            recorder.add(attrs.evolve(step, creates=creates))
        return recorder.trace(note)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the trace as indented JSON; returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Trace:
        """Read a trace file.

        Raises:
            ValueError: the file is not valid JSON or not a trace.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
        return cls.from_json(data)


class TraceRecorder:
    """Records steps while a test runs, naming objects by reference."""

    def __init__(self, start: datetime, limits: Limits) -> None:
        self.start = start
        self.limits = limits
        self.steps: list[Step] = []
        self._refs: dict[str, str] = {}  # actual id -> reference
        self._counts: dict[str, int] = {}

    def ref(self, object_id: str | None) -> str | None:
        """The reference of an id (the id itself when unknown: a made-up or foreign id)."""
        if object_id is None:
            return None
        return self._refs.get(object_id, object_id)

    def adopt(self, object_type: str, object_id: str) -> str:
        """Name a newly created object; returns its reference."""
        if object_id not in self._refs:
            self._counts[object_type] = self._counts.get(object_type, 0) + 1
            prefix = LIFECYCLES[object_type].ref_prefix
            self._refs[object_id] = f"{prefix}{self._counts[object_type]}"
        return self._refs[object_id]

    def symbolic(self, value: Any) -> Any:
        """``value`` with known ids written as ``"@ref"``."""
        if isinstance(value, str) and value in self._refs:
            return "@" + self._refs[value]
        if isinstance(value, dict):
            return {k: self.symbolic(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.symbolic(v) for v in value]
        return value

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def trace(self, note: str = "") -> Trace:
        return Trace(start=self.start, steps=tuple(self.steps), limits=self.limits, note=note)


@runtime_checkable
class ReplayTarget(Protocol):
    """What ``replay`` drives: ``apfsm.Simulator`` is one; wrap your own client in an
    adapter with the same methods to replay a trace against it."""

    def request(
        self,
        operation: str,
        object_id: str | None = None,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Any: ...

    def advance(self, delta: timedelta) -> Any: ...


@attrs.frozen
class Mismatch:
    """A step whose answer differs from the trace's expectation."""

    index: int
    step: Step
    expected: Mapping[str, Any] | None
    actual: Mapping[str, Any]

    def __str__(self) -> str:
        return (
            f"step {self.index} ({self.step.kind} {self.step.name} {self.step.object or ''}): "
            f"expected {dict(self.expected or {})}, got {dict(self.actual)}"
        )


@attrs.frozen
class Replay:
    """The result of replaying a trace."""

    steps: int
    mismatches: tuple[Mismatch, ...]
    ids: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def raise_for_mismatches(self) -> None:
        """Raise ``AssertionError`` listing every mismatch, if any."""
        if self.mismatches:
            lines = "\n".join(f"  {m}" for m in self.mismatches)
            raise AssertionError(f"{len(self.mismatches)} step(s) differ from the trace:\n{lines}")


def _state_of(body: Any) -> str | None:
    if isinstance(body, Mapping):
        details = body.get("statusDetails")
        if isinstance(details, Mapping):
            state = details.get("state")
            return state if isinstance(state, str) else None
    return None


def _concrete(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("@") and value[1:] in ids:
        return ids[value[1:]]
    if isinstance(value, dict):
        return {k: _concrete(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_concrete(v, ids) for v in value]
    return value


def _created_ids(body: Any) -> Iterable[tuple[str, str]]:
    if isinstance(body, Mapping):
        for field, object_type in _ID_FIELDS.items():
            value = body.get(field)
            if isinstance(value, str):
                yield object_type, value


def replay(
    trace: Trace | Mapping[str, Any] | str | os.PathLike[str],
    target: ReplayTarget | None = None,
    *,
    on_step: Callable[[int, Step, Mapping[str, Any]], object] | None = None,
) -> Replay:
    """Replay ``trace`` against ``target`` and compare every answer with the trace.

    Args:
        trace: a ``Trace``, its JSON dict, or the path of a trace file.
        target: an ``apfsm.Simulator`` (a fresh one at the trace's start, with its limits,
            when None) or any ``ReplayTarget`` adapter. Buyer and Amazon steps call the
            target's method of the same name (``buyer_approve``, ``amazon_event``...);
            time steps call ``advance`` (or ``clock.move_to`` for absolute instants).
        on_step: called after each step with its index, the step and what it answered.

    Returns:
        A ``Replay`` with the mismatches (status, error code, resulting state) and the
        reference → id mapping.

    Raises:
        ValueError: the trace is malformed, or names an object it never created.
        TypeError: ``target`` lacks a method a step needs.
    """
    if isinstance(trace, str | os.PathLike):
        trace = Trace.load(trace)
    elif not isinstance(trace, Trace):
        trace = Trace.from_json(trace)
    if target is None:
        target = Simulator(ManualClock(trace.start), trace.limits)
    ids: dict[str, str] = {}
    mismatches: list[Mismatch] = []
    for index, step in enumerate(trace.steps):
        actual = _play(step, target, ids)
        created = actual.pop("_created", {})
        for object_type, reference in step.creates.items():
            if object_type in created:
                ids[reference] = created[object_type]
        expected = step.expect
        # Compare what both sides know (an adapter may answer bodies without statuses).
        if expected is not None and any(
            expected[k] != actual[k]
            for k in ("status", "error", "state")
            if k in expected and k in actual
        ):
            mismatches.append(Mismatch(index, step, expected, actual))
        if on_step is not None:
            on_step(index, step, actual)
    return Replay(steps=len(trace.steps), mismatches=tuple(mismatches), ids=ids)


def _object_id(step: Step, ids: Mapping[str, str]) -> str | None:
    if step.object is None:
        return None
    return ids.get(step.object, step.object)


def _play(step: Step, target: Any, ids: dict[str, str]) -> dict[str, Any]:
    if step.kind == "time":
        if step.name == "advance":
            target.advance(timedelta(seconds=float(step.body["seconds"])))
        elif step.name == "move_to":
            clock = getattr(target, "clock", None)
            move_to = getattr(clock, "move_to", None) or getattr(target, "move_to", None)
            if move_to is None:
                raise TypeError("the replay target cannot move its clock to an instant")
            move_to(require_aware(datetime.fromisoformat(step.body["to"])))
            settle = getattr(target, "settle", None)
            if settle is not None:
                settle()
        else:
            raise ValueError(f"unknown time step {step.name!r}")
        return {}
    if step.kind in ("buyer", "amazon"):
        method = getattr(target, step.name, None)
        if method is None:
            raise TypeError(f"the replay target has no {step.name}()")
        args = dict(step.body or {})
        object_id = _object_id(step, ids)
        try:
            answer = method(object_id, **args)
        except ApiError as err:
            return {"status": err.http_status, "error": err.reason_code}
        return {"status": 200, "error": None, "state": _state_of(answer)}
    before = set(_ids_of(target))
    try:
        answer = target.request(
            step.name,
            _object_id(step, ids),
            _concrete(step.body, ids),
            idempotency_key=step.idempotency_key,
            simulation_code=step.simulation_code,
        )
    except ApiError as err:
        result: dict[str, Any] = {"status": err.http_status, "error": err.reason_code}
        created_now = [i for i in _ids_of(target) if i not in before]
        if created_now:
            result["_created"] = _by_type(target, created_now)
        return result
    body = getattr(answer, "body", answer)
    result = {"error": None, "state": _state_of(body)}
    if hasattr(answer, "status"):
        result["status"] = answer.status
    created: dict[str, str] = {}
    known = set(ids.values())
    for object_type, object_id in _created_ids(body):
        if object_id not in known:
            created[object_type] = object_id
    result["_created"] = created
    return result


def _ids_of(target: Any) -> list[str]:
    ids = getattr(target, "object_ids", None)
    return list(ids()) if callable(ids) else []


def _by_type(target: Any, object_ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for object_type in LIFECYCLES:
        for object_id in target.object_ids(object_type):
            if object_id in object_ids:
                out[object_type] = object_id
    return out
