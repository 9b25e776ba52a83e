"""Amazon's side, read off the declarations: every situation an object can be in, the
moves between them, the paths a buyer's payment can take, and what a merchant must do in
each situation.

A *situation* is ``(object_type, state, reason)``: Amazon tells a merchant both. A move
comes from an ``Allow``, ``Event`` or ``Timer`` of ``apfsm._spec``'s lifecycles; a merchant
call that creates another covered object (completing a checkout creates the charge) leads
into that object's creations instead of its own destination, so one path follows the
payment across objects. Nothing here is written per state: a new state or reason in
``_spec`` shows up in every path and check. What a merchant must do in each situation is
the decline guidance's (``apfsm._spec.declines``), with a short table for the situations
that need none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Final

import attrs

from apfsm._spec import (
    CODE_ADVICE,
    DELETED,
    LIFECYCLES,
    OPERATIONS,
    SAME,
    STATE_ADVICE,
    Advice,
    BodyField,
    Lifecycle,
)

__all__ = [
    "ACTIONS",
    "AmazonGraph",
    "MerchantAction",
    "Move",
    "Situation",
    "action_for",
    "amazon_graph",
]


@attrs.frozen
class Situation:
    """An Amazon object in a state, with the reason it carries (None: no reason)."""

    object_type: str
    state: str
    reason: str | None = None

    def __str__(self) -> str:
        reason = f"/{self.reason}" if self.reason else ""
        return f"{self.object_type}.{self.state}{reason}"


@attrs.frozen
class Move:
    """One Amazon transition between situations: ``via`` is the operation, event or timer."""

    tail: Situation
    head: Situation
    via: str


@attrs.frozen
class MerchantAction:
    """What a merchant must do when Amazon's object is in a situation.

    ``resolution`` is who resolves it (``apfsm.Advice.resolution``: retry, merchant, buyer,
    none; ``wait`` and ``proceed`` for the situations no advice covers: a pending object,
    an authorization to ship against). Two situations ask the same of a merchant when
    ``key`` — the resolution, whether to retry, what to tell the buyer — is the same.
    """

    resolution: str
    what: str
    retry: bool = False
    tell_buyer: str | None = None

    @property
    def key(self) -> tuple[str, bool, str | None]:
        return (self.resolution, self.retry, self.tell_buyer)

    def __str__(self) -> str:
        return self.what


#: The situations that need no decline guidance: the merchant waits, or goes on.
#: Everything else comes from ``apfsm._spec``'s decline guidance (``STATE_ADVICE``, and
#: ``CODE_ADVICE`` for a charge declined with a reason): written once, there.
ACTIONS: Final[Mapping[tuple[str, str], MerchantAction]] = MappingProxyType(
    {
        ("CheckoutSession", "Open"): MerchantAction("wait", "wait: the buyer is on Amazon's page"),
        ("CheckoutSession", "Completed"): MerchantAction("proceed", "read the permission"),
        ("ChargePermission", "Chargeable"): MerchantAction("proceed", "charge when due"),
        ("Charge", "AuthorizationInitiated"): MerchantAction("wait", "wait for the outcome"),
        ("Charge", "Authorized"): MerchantAction("proceed", "ship, then capture (or cancel)"),
        ("Charge", "CaptureInitiated"): MerchantAction("wait", "wait: the capture is pending"),
        ("Charge", "Captured"): MerchantAction("proceed", "ship; refunds possible"),
        ("Refund", "RefundInitiated"): MerchantAction("wait", "wait: the refund is pending"),
        ("Refund", "Refunded"): MerchantAction("none", "the money is back with the buyer"),
    }
)


def _from_advice(advice: Advice) -> MerchantAction:
    return MerchantAction(advice.resolution, advice.action, advice.retry, advice.tell_buyer)


def action_for(situation: Situation) -> MerchantAction:
    """The merchant's action in ``situation``: the decline guidance's advice for it, else
    ``ACTIONS``.

    Raises:
        KeyError: neither knows the situation (the message names it).
    """
    o, state, reason = situation.object_type, situation.state, situation.reason
    if reason is not None:
        if (o, state, reason) in STATE_ADVICE:
            return _from_advice(STATE_ADVICE[(o, state, reason)])
        if (o, state) == ("Charge", "Declined") and reason in CODE_ADVICE:
            return _from_advice(CODE_ADVICE[reason])
    if (o, state) in ACTIONS:
        return ACTIONS[(o, state)]
    raise KeyError(f"no merchant action is declared for {situation}")


def _explicit(lifecycle: Lifecycle) -> set[str]:
    """The states some declared move enters with a reason it names."""
    named = {a.dest for a in lifecycle.allows if a.reason}
    named |= {e.dest for e in lifecycle.events if e.reason or e.reasons}
    return named | {t.dest for t in lifecycle.timers if t.reason}


def _body_reasons(fields: tuple[BodyField, ...]) -> tuple[str, ...]:
    """The choices of a ``reasonCode`` field anywhere in a request body."""
    for field in fields:
        if field.name == "reasonCode" and field.choices:
            return field.choices
        if found := _body_reasons(field.fields):
            return found
    return ()


def _reasons(
    lifecycle: Lifecycle, state: str, reason: str | None, operation: str | None = None
) -> tuple[str | None, ...]:
    """The reasons a move into ``state`` can give: its own; those the operation's body
    may name (Update Charge's ``reasonCode``); or, when the declaration leaves it open (a
    creation into Declined) and other moves into ``state`` name theirs, every reason
    ``state`` can carry. A state no move enters with a reason (Captured, whose
    StopShipmentAtypicalAuth is a flag) is entered bare."""
    if reason is not None:
        return (reason,)
    declared = lifecycle.state(state).reasons
    op = OPERATIONS.get(operation) if operation else None
    from_body = [r for r in _body_reasons(op.body) if r in declared] if op else []
    if from_body:
        return tuple(from_body)
    return declared if declared and state in _explicit(lifecycle) else (None,)


@attrs.frozen
class AmazonGraph:
    """The situations and moves of some lifecycles, and where a payment starts."""

    object_types: tuple[str, ...]
    starts: tuple[Situation, ...]
    moves: tuple[Move, ...]

    @property
    def situations(self) -> tuple[Situation, ...]:
        """Every situation on a path, and each reason its state may carry besides (a
        ``StopShipmentAtypicalAuth`` on an authorized charge is set on no transition)."""
        seen = dict.fromkeys([*self.starts, *(s for m in self.moves for s in (m.tail, m.head))])
        for found in list(seen):
            lifecycle = LIFECYCLES[found.object_type]
            for reason in lifecycle.state(found.state).reasons:
                seen.setdefault(Situation(found.object_type, found.state, reason))
        return tuple(sorted(seen, key=self._order))

    def _order(self, situation: Situation) -> tuple[int, int, int]:
        # Declaration order: object, state, then reason (None first).
        lifecycle = LIFECYCLES[situation.object_type]
        state = lifecycle.state(situation.state)
        reason = state.reasons.index(situation.reason) + 1 if situation.reason else 0
        names = lifecycle.state_names(virtual=True)
        return (self.object_types.index(situation.object_type), names.index(state.name), reason)

    def paths(self) -> Iterator[tuple[Situation, ...]]:
        """Every path from a start that enters no state twice, up to a situation with no
        way on (or only back to a state already on the path: the permission's
        Chargeable ↔ NonChargeable). Moves within one state (a NonChargeable permission
        getting another reason) are on no path; ``check_mapping`` checks every move
        besides."""
        out: dict[Situation, list[Situation]] = {}
        for move in self.moves:
            out.setdefault(move.tail, []).append(move.head)
        for start in self.starts:
            stack: list[tuple[Situation, ...]] = [(start,)]
            while stack:
                path = stack.pop()
                been = {(s.object_type, s.state) for s in path}
                nexts = [
                    s
                    for s in dict.fromkeys(out.get(path[-1], []))
                    if (s.object_type, s.state) not in been
                ]
                if not nexts:
                    yield path
                stack += [(*path, s) for s in reversed(nexts)]


def amazon_graph(
    object_types: tuple[str, ...], entries: tuple[tuple[str, str], ...]
) -> AmazonGraph:
    """The graph of ``object_types`` from the declarations; ``entries`` are the
    ``(object_type, operation)`` creations a payment starts with."""
    covered = [LIFECYCLES[name] for name in object_types]

    def created_by(operation: str, besides: str) -> list[Situation]:
        return [
            Situation(lc.object_type, creation.dest, reason)
            for lc in covered
            if lc.object_type != besides
            for creation in lc.creations
            if creation.operation == operation
            for reason in _reasons(lc, creation.dest, None)
        ]

    def bare(lc: Lifecycle, state: str) -> list[Situation]:
        reasons = lc.state(state).reasons
        return [Situation(lc.object_type, state, r) for r in (None, *reasons)]

    starts = []
    for object_type, operation in entries:
        lc = LIFECYCLES[object_type]
        starts += [
            Situation(object_type, c.dest, r)
            for c in lc.creations
            if c.operation == operation
            for r in _reasons(lc, c.dest, None)
        ]
    moves: list[Move] = []
    for lc in covered:
        # (operation or event or timer, sources, dest, reason)
        edges = [(a.operation, a.sources, a.dest, a.reason) for a in lc.allows]
        edges += [(e.name, e.sources, e.dest, e.reason) for e in lc.events if not e.reasons]
        edges += [(e.name, e.sources, e.dest, r) for e in lc.events if e.reasons for r in e.reasons]
        edges += [(t.name, t.sources, t.dest, t.reason) for t in lc.timers]
        for via, sources, dest, reason in edges:
            if dest in (SAME, DELETED):
                continue
            onward = created_by(via, lc.object_type)
            heads = onward or [
                Situation(lc.object_type, dest, r) for r in _reasons(lc, dest, reason, via)
            ]
            for source in sources:
                for tail in bare(lc, source):
                    moves += [Move(tail, head, via) for head in heads]
    # Only moves from situations a path reaches: a bare Canceled charge never exists.
    reached = set(starts)
    grew = True
    while grew:
        grew = False
        for move in moves:
            if move.tail in reached and move.head not in reached:
                reached.add(move.head)
                grew = True
    kept = tuple(dict.fromkeys(m for m in moves if m.tail in reached))
    return AmazonGraph(tuple(object_types), tuple(dict.fromkeys(starts)), kept)
