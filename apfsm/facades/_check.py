"""``check_mapping``: does every Amazon path show through a facade as a legal facade path,
and does the facade keep apart what a merchant must treat differently?"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import timedelta

import attrs

from apfsm._spec import Limits

from ._amazon import MerchantAction, Situation, action_for, amazon_graph
from ._model import Facade

__all__ = [
    "Collapse",
    "EarlyTimeout",
    "IllegalStep",
    "MappingReport",
    "Unmapped",
    "check_mapping",
    "illegal_moves",
]


@attrs.frozen
class Unmapped:
    """An Amazon situation a path reaches (or a state can carry) that no ``Maps`` covers."""

    situation: Situation


@attrs.frozen
class IllegalStep:
    """Amazon moves ``tail`` → ``head`` (by ``via``), but the facade has no step (even
    through its transient states) from ``facade_tail`` to ``facade_head``. ``path`` is the
    first Amazon path found taking that move; ``facade_tail`` None means the path's first
    state is not where a facade object can start."""

    tail: Situation | None
    head: Situation
    via: str
    facade_tail: str | None
    facade_head: str
    path: tuple[Situation, ...]


@attrs.frozen
class Collapse:
    """Amazon situations that ask different things of a merchant become one facade answer:
    ``facade_state`` with ``detail`` (None: nothing in the answer tells them apart).
    ``merged`` pairs each Amazon situation with the merchant's action in it."""

    facade_state: str
    detail: str | None
    merged: tuple[tuple[Situation, MerchantAction], ...]

    @property
    def actions(self) -> tuple[MerchantAction, ...]:
        """The different actions merged, one per ``MerchantAction.key``."""
        seen: dict[tuple[str, bool, str | None], MerchantAction] = {}
        for _, action in self.merged:
            seen.setdefault(action.key, action)
        return tuple(seen.values())


@attrs.frozen
class EarlyTimeout:
    """The facade gives up (``step``, after ``facade_after``) before Amazon does
    (``amazon_limit``, ``amazon_after``): in between, Amazon can still complete what the
    facade already reported as over."""

    step: str
    facade_after: timedelta
    amazon_limit: str
    amazon_after: timedelta


@attrs.frozen
class MappingReport:
    """What ``check_mapping`` found. ``legal``: every path maps onto a legal facade path
    and every situation is mapped; ``ok``: legal, and nothing collapses or times out
    early."""

    facade: str
    paths: int
    unmapped: tuple[Unmapped, ...]
    illegal: tuple[IllegalStep, ...]
    collapses: tuple[Collapse, ...]
    early_timeouts: tuple[EarlyTimeout, ...]

    @property
    def legal(self) -> bool:
        return not (self.unmapped or self.illegal)

    @property
    def ok(self) -> bool:
        return self.legal and not (self.collapses or self.early_timeouts)


def _reachable(facade: Facade, tail: str, head: str) -> bool:
    """``head`` is ``tail``, or reached from it by one facade step followed by any number
    of steps out of transient states (Amazon does not show PPRO's PROCESSING states)."""
    if tail == head:
        return True
    frontier = [s.dest for s in facade.steps if tail in s.sources]
    seen: set[str] = set()
    while frontier:
        state = frontier.pop()
        if state == head:
            return True
        if state in seen or not facade.state(state).transient:
            continue
        seen.add(state)
        frontier += [s.dest for s in facade.steps if state in s.sources]
    return False


def _can_start(facade: Facade, state: str) -> bool:
    initial = [s.name for s in facade.states if s.initial]
    return state in initial or any(
        facade.state(i).transient and _reachable(facade, i, state) for i in initial
    )


def _collapses(facade: Facade, situations: Iterable[Situation]) -> tuple[Collapse, ...]:
    buckets: dict[tuple[str, str | None], list[tuple[Situation, MerchantAction]]] = {}
    for situation in situations:
        entry = facade.maps(situation.object_type, situation.state, situation.reason)
        if entry is not None:
            key = (entry.facade_state, entry.detail)
            buckets.setdefault(key, []).append((situation, action_for(situation)))
    return tuple(
        Collapse(state, detail, tuple(merged))
        for (state, detail), merged in buckets.items()
        if len({action.key for _, action in merged}) > 1
    )


def check_mapping(facade: Facade, *, limits: Limits | None = None) -> MappingReport:
    """Check ``facade``'s mapping against Amazon's declared lifecycles.

    Every path a payment can take through ``facade.amazon``'s lifecycles (derived from
    ``apfsm._spec``: merchant calls, Amazon's and the buyer's events, timers, and the
    completion that creates the next object) is translated state by state through
    ``facade.mappings``; consecutive Amazon states showing as one facade state are one.

    Args:
        facade: e.g. ``apfsm.facades.PPRO_PAYMENT_CHARGE``.
        limits: Amazon's limits the facade's timeouts are compared with (default: the
            spec's).

    Returns:
        A ``MappingReport``: ``unmapped`` situations, ``illegal`` steps (each with the
        first Amazon path taking it), ``collapses`` (different merchant actions behind one
        facade answer) and ``early_timeouts``. Nothing is printed.
    """
    limits = limits or Limits()
    graph = amazon_graph(facade.amazon, facade.entries)
    situations = graph.situations
    unmapped = tuple(
        Unmapped(s) for s in situations if facade.maps(s.object_type, s.state, s.reason) is None
    )
    illegal: list[IllegalStep] = []
    starts_bad: dict[Situation, IllegalStep] = {}
    first_path: dict[tuple[Situation, Situation], tuple[Situation, ...]] = {}
    count = 0
    for path in graph.paths():
        count += 1
        for pair in itertools.pairwise(path):
            first_path.setdefault(pair, path)
        entry = facade.maps(path[0].object_type, path[0].state, path[0].reason)
        if entry is not None and not _can_start(facade, entry.facade_state):
            step = IllegalStep(None, path[0], "creation", None, entry.facade_state, path)
            starts_bad.setdefault(path[0], step)
    # Every move, on a path or not (a move within one state is on none).
    for move in graph.moves:
        tail = facade.maps(move.tail.object_type, move.tail.state, move.tail.reason)
        head = facade.maps(move.head.object_type, move.head.state, move.head.reason)
        if tail is None or head is None:
            continue  # reported as unmapped
        if _reachable(facade, tail.facade_state, head.facade_state):
            continue
        path = first_path.get((move.tail, move.head), (move.tail, move.head))
        illegal.append(
            IllegalStep(move.tail, move.head, move.via, tail.facade_state, head.facade_state, path)
        )
    early = tuple(
        EarlyTimeout(t.step, t.after, t.amazon_limit, getattr(limits, t.amazon_limit))
        for t in facade.timeouts
        if t.after < getattr(limits, t.amazon_limit)
    )
    return MappingReport(
        facade.name,
        count,
        unmapped,
        (*starts_bad.values(), *illegal),
        _collapses(facade, situations),
        early,
    )


def illegal_moves(facade: Facade, statuses: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The consecutive pairs of ``statuses`` (what a facade object answered, in order) that
    no facade step leads between, even through transient states — the dynamic side of
    ``check_mapping``'s ``illegal`` (``PproAdapter.history`` gives the statuses)."""
    seen = list(statuses)
    return tuple(
        (tail, head)
        for tail, head in itertools.pairwise(seen)
        if not _reachable(facade, tail, head)
    )
