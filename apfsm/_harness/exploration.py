"""Exhaustive exploration: every reachable (state × operation × time bucket), checked.

For each object type, ``explore`` walks the declared lifecycle breadth-first from every way
the object can be created — merchant operations, the buyer's and Amazon's events, timers —
realising each path on a fresh simulator. In every (state, reason) it reaches, it calls
every operation on the object at instants around every deadline that matters there (the
state's timers and the guards' thresholds, each at L − 1 s, L and L + 1 s) and compares the
answer with what the declarations say directly: the timers that have fired by then, the
refusal code, or the transition and its guard. It returns a conformance matrix, the
failures, and one shortest path per declared transition.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs

from apfsm._clock import ManualClock, format_duration, parse_timestamp
from apfsm._errors import ApiError
from apfsm._sim import Simulator
from apfsm._spec import (
    COMPLETIONS,
    GUARDS,
    LIFECYCLES,
    OBJECT_TYPES,
    OPERATIONS,
    SAME,
    Lifecycle,
    Limits,
    object_type_named,
)

from .bodies import checkout_session_body, realistic_body
from .windows import WINDOW_CHECKS, check_windows, closed_window

__all__ = ["ExploreFailure", "ExploreResult", "explore"]

_START: Final = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)
_USD: Final = {"amount": "100.00", "currencyCode": "USD"}

Action = Callable[[Simulator, str], None]
Node = tuple[str, str | None]  # (state, reason)


@attrs.frozen
class ExploreFailure:
    """A probe whose answer differs from the declarations."""

    object_type: str
    state: str
    reason: str | None
    operation: str
    bucket: str
    path: tuple[str, ...]
    expected: str
    actual: str

    def __str__(self) -> str:
        where = self.state + (f"/{self.reason}" if self.reason else "")
        return (
            f"{self.object_type} {where}, {self.operation} at {self.bucket}: expected "
            f"{self.expected}, got {self.actual} (path: {' → '.join(self.path)})"
        )


@attrs.frozen
class ExploreResult:
    """What ``explore`` found.

    Attributes:
        failures: probes that disagree with the declarations (empty when all conform).
        matrix: ``(object_type, "State/Reason", operation, time bucket) → outcome``
            (``"→ State"`` or an error code).
        paths: ``(object_type, source state, trigger, destination) → the shortest path``
            that exercises that declared transition (step labels).
        unreached: declared transitions no path reached within the depth.
        probes: how many calls were checked; ``seconds``: how long it took.
    """

    failures: tuple[ExploreFailure, ...]
    matrix: Mapping[tuple[str, str, str, str], str]
    paths: Mapping[tuple[str, str, str, str], tuple[str, ...]]
    unreached: tuple[tuple[str, str, str, str], ...]
    probes: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        lines = [
            f"{self.probes} probes over {len({k[:2] for k in self.matrix})} (object, state) "
            f"pairs in {self.seconds:.2f} s: {len(self.failures)} failure(s); "
            f"{len(self.paths)} declared transitions exercised, {len(self.unreached)} unreached"
        ]
        lines += [f"  FAIL {f}" for f in self.failures[:20]]
        lines += [f"  unreached: {t}" for t in self.unreached[:20]]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Drivers: concrete simulator calls for declared creations, operations and events
# ---------------------------------------------------------------------------------------


def _session(
    sim: Simulator, intent: str = "Confirm", *, pending: bool = False, kind: str = "OneTime"
) -> str:
    details: dict[str, Any] = {"paymentIntent": intent, "chargeAmount": dict(_USD)}
    if pending:
        details["canHandlePendingAuthorization"] = True
    body = checkout_session_body(details, kind=kind, store_id="explore")
    return str(sim.create_checkout_session(body)["checkoutSessionId"])


def _complete(
    sim: Simulator,
    intent: str,
    *,
    pending: bool = False,
    card: str = "1111",
    operation: str = "complete_checkout_session",
) -> dict[str, Any]:
    session = _session(sim, intent, pending=pending, kind="Recurring")
    sim.buyer_approve(session, card=card)
    body = realistic_body(operation, sim.object_json(session))
    return sim.request(operation, session, body).body


def _permission(sim: Simulator, operation: str = "complete_checkout_session") -> str:
    return str(_complete(sim, "Confirm", operation=operation)["chargePermissionId"])


def _completion_creators(
    operation: str,
) -> dict[tuple[str, str | None], Callable[[Simulator], str]]:
    """How each completion (Complete, Finalize) creates its permission and charge."""

    def charge(
        intent: str, *, pending: bool = False, card: str = "1111"
    ) -> Callable[[Simulator], str]:
        return lambda sim: str(
            _complete(sim, intent, pending=pending, card=card, operation=operation)["chargeId"]
        )

    return {
        (operation, None): lambda sim: _permission(sim, operation),
        (operation, "intent_authorize_pending"): charge("Authorize", pending=True, card="0701"),
        (operation, "intent_authorize"): charge("Authorize"),
        (operation, "intent_capture"): charge("AuthorizeWithCapture"),
    }


def _charge(sim: Simulator, **flags: Any) -> str:
    body = {"chargePermissionId": _permission(sim), "chargeAmount": dict(_USD), **flags}
    return str(sim.create_charge(body)["chargeId"])


def _declined_charge(sim: Simulator) -> str:
    body = {"chargePermissionId": _permission(sim), "chargeAmount": dict(_USD)}
    # SPEC §7: the call answers the decline; the Declined charge stays.
    with contextlib.suppress(ApiError):
        sim.create_charge(body, simulation_code="SoftDeclined")
    return sim.object_ids("Charge")[-1]


def _refund(sim: Simulator) -> str:
    charge = _charge(sim, captureNow=True)
    body = {"chargeId": charge, "refundAmount": {"amount": "10.00", "currencyCode": "USD"}}
    return str(sim.create_refund(body)["refundId"])


def _dispute(sim: Simulator, *, provider: bool = False) -> str:
    charge = _charge(sim, captureNow=True)
    if not provider:
        return str(sim.file_dispute(charge)["disputeId"])
    body = realistic_body("create_dispute", sim.object_json(charge))
    return str(sim.request("create_dispute", None, body).body["disputeId"])


#: How each declared creation (operation, guard) is realised: a function making the object
#: on a fresh simulator and returning its id.
CREATORS: Final[Mapping[tuple[str, str | None], Callable[[Simulator], str]]] = {
    ("create_checkout_session", None): _session,
    ("create_charge", "simulated_decline"): _declined_charge,
    ("create_charge", "capture_now"): lambda sim: _charge(sim, captureNow=True),
    ("create_charge", "pending_authorization"): lambda sim: _charge(
        sim, canHandlePendingAuthorization=True
    ),
    ("create_charge", None): _charge,
    ("create_refund", None): _refund,
    # A provider's report, and the buyer's filing, of a dispute on a captured charge.
    ("create_dispute", None): lambda sim: _dispute(sim, provider=True),
    ("file_dispute", None): _dispute,
    # The buyer's action, not a merchant call (Amazon Sign-in): the token is the id.
    ("buyer_sign_in", None): lambda sim: sim.buyer_sign_in(scopes=["name", "email"]),
    **{key: make for name in COMPLETIONS for key, make in _completion_creators(name).items()},
}


def _call(
    sim: Simulator, operation: str, object_id: str, known: Mapping[str, Any] | None = None
) -> str:
    """Make ``operation`` on the object (approving the buyer first for a completion, as
    its constraints require) and describe the answer: ``"→ State"`` or the error code.

    ``known`` is the object's JSON from before the clock moved: the body is built from it,
    so a call on an object deleted meanwhile still sends a valid body (SPEC §8: the body
    is validated before the object is looked up)."""
    sim.settle()
    current = sim.object_json(object_id)
    if (
        operation in COMPLETIONS
        and current is not None
        and current["constraints"]
        and current["statusDetails"]["state"] == "Open"
    ):
        sim.buyer_approve(object_id)
        current = sim.object_json(object_id)
    source = current if current is not None else known
    body = realistic_body(operation, source) if source is not None else None
    path_id = object_id if OPERATIONS[operation].has_path_id else None
    try:
        answer = sim.request(operation, path_id, body)
    except ApiError as err:
        return err.reason_code
    if "statusDetails" not in answer.body:  # not the object (Delivery Tracker): its target
        return f"→ {sim.object_state(object_id)}"
    return f"→ {answer.body['statusDetails']['state']}"


# ---------------------------------------------------------------------------------------
# The declarations, read directly
# ---------------------------------------------------------------------------------------


def _deadlines(sim: Simulator, object_id: str) -> dict[str, datetime]:
    """The object's scheduled timers: name → due instant."""
    out: dict[str, datetime] = {}
    for due, owner, name in sim.pending_events():
        if owner == object_id and name not in out:
            out[name] = due
    return out


def _thresholds(
    sim: Simulator, object_id: str, lifecycle: Lifecycle, state: str, limits: Limits
) -> dict[str, datetime]:
    """Instants where the outcome of some operation may change: the state's timers and the
    thresholds of its guards (SPEC §2)."""
    marks = {}
    timers = {t.name for t in lifecycle.timers if state in t.sources}
    for name, due in _deadlines(sim, object_id).items():
        if name in timers:
            marks[name] = due
    current = sim.object_json(object_id) or {}
    for allow in lifecycle.allows:
        if state in allow.sources and allow.guard is not None:
            for limit in GUARDS[allow.guard].limits:
                anchor = _GUARD_ANCHORS[limit](current, limits)
                if anchor is not None:
                    marks[limit] = anchor + getattr(limits, limit)
    return marks | check_windows(lifecycle, state, current)  # e.g. the Dispute Window


def _authorization_instant(current: Mapping[str, Any], limits: Limits) -> datetime | None:
    text = current.get("expirationTimestamp")
    return None if text is None else parse_timestamp(text) - limits.authorization_ttl


#: For each ``Limits`` field a guard depends on: the instant it counts from, read from the
#: object's JSON.
_GUARD_ANCHORS: Final[Mapping[str, Callable[[Mapping[str, Any], Limits], datetime | None]]] = {
    "async_capture_after": _authorization_instant,
}


def _expected(
    lifecycle: Lifecycle,
    node: Node,
    operation: str,
    at: datetime,
    deadlines: Mapping[str, datetime],
    thresholds: Mapping[str, datetime],
    limits: Limits,
) -> str:
    """What the declarations say ``operation`` answers at ``at`` (without the engine)."""
    state, reason = node
    # Timers and scheduled asynchronous outcomes due by then apply, earliest first (SPEC §2).
    timers = {t.name: t for t in lifecycle.timers}
    events = {e.name: e for e in lifecycle.events}
    for name, due in sorted(deadlines.items(), key=lambda item: item[1]):
        if name in timers:
            timer = timers[name]
            passed = at >= due if limits.ttl_passed_at_deadline else at > due
            if passed and state in timer.sources:
                state, reason = timer.dest, timer.reason
        elif name in events and at >= due and state in events[name].sources:
            state, reason = events[name].dest, events[name].reason
            if state == "Authorized":
                # The authorization instant is when the pending authorization resolved.
                thresholds = {**thresholds, "async_capture_after": due + limits.async_capture_after}
    for refusal in lifecycle.refusals:
        if refusal.operation == operation and state in refusal.sources:
            return refusal.by_reason.get(reason, refusal.code) if reason else refusal.code
    if (code := closed_window(operation, at, thresholds, limits)) is not None:
        return code
    for allow in lifecycle.allows:
        if allow.operation != operation or state not in allow.sources:
            continue
        if allow.guard is not None and not _guard_holds(allow.guard, at, thresholds, limits):
            continue
        op = OPERATIONS[operation]
        if op.creates is not None:
            created = LIFECYCLES[op.creates]
            default = next(
                c for c in created.creations if c.operation == operation and c.guard is None
            )
            return f"→ {default.dest}"
        return f"→ {state if allow.dest == SAME else allow.dest}"
    raise AssertionError(f"{lifecycle.object_type}: no rule for {operation} in {state}")


def _guard_holds(
    name: str, at: datetime, thresholds: Mapping[str, datetime], limits: Limits
) -> bool:
    guard = GUARDS[name]
    if name == "sync_capture" or guard.complement == "sync_capture":
        threshold = thresholds["async_capture_after"]
        late = at >= threshold if limits.async_capture_at_boundary else at > threshold
        return late if guard.complement == "sync_capture" else not late
    if name in ("requested_canceled", "requested_resolved"):
        # Update Charge, Update Dispute: the body explore sends (_harness/bodies) asks for
        # the first state CHARGE_UPDATE_STATES, DISPUTE_UPDATE_STATES allow.
        return True
    if name == "requested_closed":
        return False
    raise AssertionError(f"explore has no rule for guard {name!r}")  # pragma: no cover


# ---------------------------------------------------------------------------------------
# The walk
# ---------------------------------------------------------------------------------------


@attrs.frozen
class _Edge:
    label: str
    trigger: str
    dest: str
    action: Action


def _edges(
    lifecycle: Lifecycle, node: Node, object_id: str, sim: Simulator, limits: Limits
) -> Iterable[_Edge]:
    state, _ = node
    for allow in lifecycle.allows:
        if state not in allow.sources or allow.dest == SAME:
            continue
        guard = allow.guard

        def run(
            sim: Simulator, oid: str, op: str = allow.operation, guard: str | None = guard
        ) -> None:
            if guard is not None and (
                guard == "async_capture" or GUARDS[guard].complement == "sync_capture"
            ):
                marks = _thresholds(
                    sim, oid, LIFECYCLES[lifecycle.object_type], "Authorized", limits
                )
                sim.clock.move_to(marks["async_capture_after"] + _SECOND)  # type: ignore[attr-defined]
            _call(sim, op, oid)

        label = allow.operation + (f" [{guard}]" if guard else "")
        yield _Edge(label, allow.operation, allow.dest, run)
    for decl in lifecycle.events:
        if state not in decl.sources or decl.dest == SAME:
            continue
        for reason in decl.reasons or (None,):
            # An event with a fixed reason takes none; one with several takes the one drawn.
            given = None if decl.reason else reason

            def fire(
                sim: Simulator, oid: str, name: str = decl.name, reason: str | None = given
            ) -> None:
                sim.amazon_event(oid, name, **({"reason": reason} if reason else {}))

            yield _Edge(
                f"{decl.actor}: {decl.name}" + (f" /{reason}" if reason else ""),
                decl.name,
                decl.dest,
                fire,
            )
    scheduled = _deadlines(sim, object_id)
    for timer in lifecycle.timers:
        if state not in timer.sources or timer.name not in scheduled:
            continue  # not here, or a deadline that never falls (a dispute asking the buyer)

        def wait(sim: Simulator, oid: str, name: str = timer.name) -> None:
            due = _deadlines(sim, oid)[name]
            sim.clock.move_to(due if limits.ttl_passed_at_deadline else due + _SECOND)  # type: ignore[attr-defined]
            sim.settle()

        yield _Edge(f"timer: {timer.name}", timer.name, timer.dest, wait)


def _node(sim: Simulator, object_id: str) -> Node | None:
    current = sim.object_json(object_id)
    if current is None:
        return None
    details = current.get("statusDetails")
    if details is None:  # a Buyer: its JSON shows no state, its token's is the record's
        state = sim.object_state(object_id)
        return None if state is None else (state, None)
    if "reasons" in details:
        reasons = details["reasons"] or []
        return details["state"], (reasons[0]["reasonCode"] if reasons else None)
    return details["state"], details["reasonCode"]


def explore(
    limits: Limits | None = None,
    depth: int = 6,
    *,
    object_types: Iterable[str] | None = None,
    progress: Callable[[int, int, str], object] | None = None,
) -> ExploreResult:
    """Check every reachable (state × operation × time bucket) against the declarations.

    Args:
        limits: the limits to explore with (SPEC's by default).
        depth: the longest path (creation included) the walk follows.
        object_types: restrict to some object types (all of them by default; any spelling).
        progress: called as ``progress(done, total, label)`` after each object type's
            states are probed (the command line draws a progress bar with it).

    Returns:
        An ``ExploreResult`` (``.failures`` empty when everything conforms, ``.matrix``,
        ``.paths``, ``.unreached``).
    """
    limits = limits or Limits()
    started = time.perf_counter()
    types = [object_type_named(t) for t in object_types or OBJECT_TYPES]
    failures: list[ExploreFailure] = []
    matrix: dict[tuple[str, str, str, str], str] = {}
    paths: dict[tuple[str, str, str, str], tuple[str, ...]] = {}
    probes = 0
    for index, object_type in enumerate(types):
        lifecycle = LIFECYCLES[object_type]
        walked = _walk(lifecycle, limits, depth, paths)
        for node, steps in walked.items():
            for operation in lifecycle.operations:
                probes += _probe(lifecycle, node, steps, operation, limits, matrix, failures)
        if progress is not None:
            progress(index + 1, len(types), object_type)
    declared = {
        (lc.object_type, source, decl_trigger, dest)
        for lc in (LIFECYCLES[t] for t in types)
        for decl_trigger, sources, dest in _declared_transitions(lc)
        for source in sources
    }
    unreached = tuple(sorted(declared - set(paths)))
    return ExploreResult(
        failures=tuple(failures),
        matrix=matrix,
        paths=paths,
        unreached=unreached,
        probes=probes,
        seconds=time.perf_counter() - started,
    )


def _declared_transitions(lifecycle: Lifecycle) -> Iterable[tuple[str, tuple[str, ...], str]]:
    for allow in lifecycle.allows:
        if allow.dest != SAME:
            yield allow.operation, allow.sources, allow.dest
    for decl in lifecycle.events:
        if decl.dest != SAME:
            yield decl.name, decl.sources, decl.dest
    for timer in lifecycle.timers:
        yield timer.name, timer.sources, timer.dest


Recipe = tuple[tuple[str, Callable[[Simulator], str]], tuple[tuple[str, Action], ...]]


def _realise(recipe: Recipe, limits: Limits) -> tuple[Simulator, str]:
    (_, create), actions = recipe
    sim = Simulator(ManualClock(_START), limits, seed=0)
    object_id = create(sim)
    for _, action in actions:
        action(sim, object_id)
    return sim, object_id


def _walk(
    lifecycle: Lifecycle,
    limits: Limits,
    depth: int,
    paths: dict[tuple[str, str, str, str], tuple[str, ...]],
) -> dict[Node, Recipe]:
    """Breadth-first over the declared graph: the shortest recipe to each (state, reason)."""
    reached: dict[Node, Recipe] = {}
    queue: deque[Recipe] = deque()
    for creation in lifecycle.creations:
        create = CREATORS[(creation.operation, creation.guard)]
        label = creation.operation + (f" [{creation.guard}]" if creation.guard else "")
        queue.append(((label, create), ()))
    while queue:
        recipe = queue.popleft()
        sim, object_id = _realise(recipe, limits)
        node = _node(sim, object_id)
        if node is None or node in reached:
            continue
        reached[node] = recipe
        if len(recipe[1]) + 1 >= depth:
            continue
        for edge in _edges(lifecycle, node, object_id, sim, limits):
            trial, trial_id = _realise(recipe, limits)
            try:
                edge.action(trial, trial_id)
            except (ApiError, ValueError):
                continue  # the edge cannot be taken from this history
            after = _node(trial, trial_id)
            dest = after[0] if after is not None else "Deleted"
            if dest != edge.dest:
                continue
            key = (lifecycle.object_type, node[0], edge.trigger, edge.dest)
            labels = (recipe[0][0], *(a for a, _ in recipe[1]), edge.label)
            paths.setdefault(key, labels)
            if after is not None and after not in reached:
                queue.append((recipe[0], (*recipe[1], (edge.label, edge.action))))
    return reached


def _probe(
    lifecycle: Lifecycle,
    node: Node,
    recipe: Recipe,
    operation: str,
    limits: Limits,
    matrix: dict[tuple[str, str, str, str], str],
    failures: list[ExploreFailure],
) -> int:
    sim, object_id = _realise(recipe, limits)
    now = sim.now()
    deadlines = _deadlines(sim, object_id)
    thresholds = _thresholds(sim, object_id, lifecycle, node[0], limits)
    instants = {"now": now}
    for name, mark in thresholds.items():
        for offset, tag in ((-_SECOND, "−1 s"), (timedelta(0), ""), (_SECOND, "+1 s")):
            if mark + offset > now and mark + offset not in instants.values():
                label = (
                    f"{name}{tag}"
                    if name in deadlines or name in WINDOW_CHECKS
                    else f"{name} {format_duration(getattr(limits, name, timedelta(0)))}{tag}"
                )
                instants[label] = mark + offset
    path = (recipe[0][0], *(a for a, _ in recipe[1]))
    where = node[0] + (f"/{node[1]}" if node[1] else "")
    for bucket, at in instants.items():
        probe_sim, probe_id = _realise(recipe, limits) if bucket != "now" else (sim, object_id)
        known = probe_sim.object_json(probe_id)
        if at > probe_sim.now():
            probe_sim.clock.move_to(at)  # type: ignore[attr-defined]
        expected = _expected(lifecycle, node, operation, at, deadlines, thresholds, limits)
        actual = _call(probe_sim, operation, probe_id, known)
        matrix[lifecycle.object_type, where, operation, bucket] = actual
        if actual != expected:
            failures.append(
                ExploreFailure(
                    lifecycle.object_type,
                    node[0],
                    node[1],
                    operation,
                    bucket,
                    path,
                    expected,
                    actual,
                )
            )
        if bucket == "now":
            sim, object_id = _realise(recipe, limits)  # the probe changed it
    return len(instants)
