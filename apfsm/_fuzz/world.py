"""The world both fuzzing machines share: time steps (deadline offsets L − 1 s, L, L + 1 s,
± 1 s around an instant, uniform waits, calendar edges), the buyer's and Amazon's declared
events, the choices a step draws (which object, which card), and the one rule.

``AmazonPayMachine`` (``apfsm.stateful``) and ``IntegrationMachine`` (``apfsm.testing``)
build their step menus from these pieces; what differs between them — their weights,
their kinds of step — stays with each machine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from apfsm._clock import add_months, month_start
from apfsm._sim import Simulator
from apfsm._spec import FILING_REASONS, LIFECYCLES, SANDBOX_CARDS, Limits

from .plans import Product
from .values import check_limits

__all__ = [
    "BUYER_CARDS",
    "CALENDAR",
    "CALENDAR_EDGES",
    "CARDS",
    "NEAR",
    "OFFSETS",
    "ORDER_CARDS",
    "PICKS",
    "SECOND",
    "add_step_rule",
    "calendar_instant",
    "deadline_offsets",
    "deadline_waits",
    "declared_event",
    "jump_target",
    "time_steps",
    "uniform_waits",
    "wait_of",
]

SECOND: Final = timedelta(seconds=1)
#: Which object a step acts on: an index taken modulo the number of candidates, so a
#: choice that depends on the machine's state costs no draw of its own (0, where
#: shrinking goes, is the first candidate).
PICKS: Final = tuple(range(64))
#: Seconds from an instant: 1 s before, at, 1 s after.
OFFSETS: Final = (-1, 0, 1)
#: Every sandbox card, ``"1111"`` (success) first.
CARDS: Final = tuple(SANDBOX_CARDS)
#: The card of a whole order placed by ``AmazonPayMachine``: mostly success, a pending
#: authorization, and both declining cards (not 3064: the buyer would cancel the order).
ORDER_CARDS: Final = ("1111", "1111", "0701", "3434", "4354")
#: The card a buyer picks in ``IntegrationMachine``: success half the time, then each
#: other card.
BUYER_CARDS: Final = ("1111", "1111", "1111", "1111", "0701", "3064", "3434", "4354")


# ---------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------


def deadline_offsets(limits: Limits | None = None) -> list[timedelta]:
    """Exactly L − 1 s, L and L + 1 s of every duration limit of ``limits`` (SPEC's when
    None), sorted: the clock jumps that land on a deadline or next to it."""
    limits = check_limits(limits)
    out = set()
    for value in limits.durations().values():
        for offset in (-SECOND, timedelta(0), SECOND):
            if value + offset > timedelta(0):
                out.add(value + offset)
    return sorted(out)


def time_steps(
    *, limits: Limits | None = None, max_value: timedelta = timedelta(days=400)
) -> st.SearchStrategy[timedelta]:
    """Deadline-aware clock jumps: half uniform durations (whole seconds up to
    ``max_value``), half exactly L − 1 s, L or L + 1 s of a duration limit of ``limits``.

    Calendar edges (month ends, 29 February, the 1st of a month) depend on the current
    time, so stateful tests reach them by jumping to absolute instants (see
    ``apfsm.stateful``)."""
    uniform = st.integers(min_value=1, max_value=int(max_value.total_seconds())).map(
        lambda s: timedelta(seconds=s)
    )
    deadlines = st.sampled_from(deadline_offsets(limits))
    # An even choice between the two (one_of alone favours its simpler branch).
    return st.booleans().flatmap(lambda on_deadline: deadlines if on_deadline else uniform)


def deadline_waits(limits: Limits) -> Product:
    """A wait of exactly L − 1 s, L or L + 1 s of a limit (``deadline_offsets``)."""
    return Product((tuple(deadline_offsets(limits)),))


def uniform_waits(days: int) -> Product:
    """A wait of whole seconds, up to ``days`` days: mostly short, as Hypothesis draws
    most integers from their low bits (see ``Product``)."""
    return Product((range(1, days * 86_400 + 1),))


#: A jump to 1 s before, at or 1 s after an instant (the next scheduled event).
NEAR: Final = Product((OFFSETS,))
#: The calendar edges a jump may aim at: the next month's start (recurring caps), a
#: month's end, the next 29 February (13-month arithmetic) — rarer, up to four years away.
CALENDAR_EDGES: Final = ("month_start", "month_end", "month_start", "month_end", "leap_day")
#: A jump to a calendar edge ± 1 s.
CALENDAR: Final = Product((CALENDAR_EDGES, OFFSETS))


def wait_of(option: timedelta | int) -> timedelta:
    """A drawn wait as a duration (``uniform_waits`` draws seconds)."""
    return option if isinstance(option, timedelta) else timedelta(seconds=option)


def calendar_instant(edge: str, now: datetime) -> datetime:
    """The next ``edge`` (one of ``CALENDAR_EDGES``) after ``now``: the next month's
    start, noon on the month's last day, noon on the next 29 February."""
    if edge == "month_start":
        return month_start(add_months(now, 1))
    if edge == "month_end":
        return month_start(add_months(now, 1)) - timedelta(hours=12)
    year = now.year + 1
    while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        year += 1
    return datetime(year, 2, 29, 12, tzinfo=UTC)


def jump_target(sim: Simulator, label: str, offset: int) -> datetime | None:
    """Where a jump ``offset`` seconds from an instant lands: ``next_deadline`` (the next
    scheduled event) or a calendar edge (``calendar_instant``); None when there is no
    scheduled event, or the instant is not ahead of the clock."""
    now = sim.now()
    instant = sim.next_event_at() if label == "next_deadline" else calendar_instant(label, now)
    if instant is None or instant + timedelta(seconds=offset) <= now:
        return None
    return instant + timedelta(seconds=offset)


# ---------------------------------------------------------------------------------------
# The buyer's and Amazon's declared events
# ---------------------------------------------------------------------------------------


def declared_event(
    sim: Simulator, picks: tuple[int, int, int], allowed: frozenset[tuple[str, str]] | None = None
) -> tuple[str, str, str, dict[str, Any]] | None:
    """A declared event that can happen to some object now (SPEC §3–§6), as the
    simulator action that makes it: ``(actor, method, object id, arguments)`` — the buyer
    approves an open session with a sandbox card, cancels, closes a permission, files a
    dispute on a captured charge; Amazon declines, expires, cancels, completes, decides a
    dispute. None when no object has one.

    ``picks`` choose, each modulo its candidates, the event — among the (object type,
    event) pairs some object can take now, so an event that cannot act leaves the others
    as likely as before —, then the object among those that can take it, then its reason
    (or card); ``allowed`` restricts the events to these (object type, event name) pairs
    (the buyer's approval is always on)."""
    which, whom, why = picks
    candidates: dict[tuple[str, str], tuple[list[str], tuple[str, ...]]] = {}
    for object_id in sim.object_ids():
        object_type = sim.object_type(object_id)
        assert object_type is not None
        for name, reasons in _events_now(sim, object_id, allowed):
            candidates.setdefault((object_type, name), ([], reasons))[0].append(object_id)
    if not candidates:
        return None
    chosen = sorted(candidates)[which % len(candidates)]
    (_, name), (objects, reasons) = chosen, candidates[chosen]
    object_id = objects[whom % len(objects)]
    if name == "buyer_approve":
        return ("buyer", name, object_id, {"card": CARDS[why % len(CARDS)]})
    if name == "file_dispute":  # a dispute arrives (docs/dispute.md)
        return ("buyer", name, object_id, {"filing_reason": reasons[why % len(reasons)]})
    reason = reasons[why % len(reasons)] if reasons else None
    return (
        "amazon",
        "amazon_event",
        object_id,
        {"event": name, **({"reason": reason} if reason else {})},
    )


#: The buyer's actions that create an object on another one (``Creation.actor``): on a
#: Captured charge, the buyer files a chargeback or claim (``Simulator.file_dispute``).
_FILINGS: Final = {("Charge", "Captured"): ("file_dispute", FILING_REASONS)}


def _events_now(
    sim: Simulator, object_id: str, allowed: frozenset[tuple[str, str]] | None
) -> list[tuple[str, tuple[str, ...]]]:
    object_type = sim.object_type(object_id)
    assert object_type is not None
    state = sim.object_state(object_id)
    filing = _FILINGS.get((object_type, state or ""))
    filings = (
        [filing]
        if filing is not None and (allowed is None or (object_type, filing[0]) in allowed)
        else []
    )
    return filings + [
        (decl.name, decl.reasons)
        for decl in LIFECYCLES[object_type].events
        if state in decl.sources
        and decl.delay is None
        and (
            allowed is None
            or decl.name == "buyer_approve"  # the buyer's own step, always on
            or (object_type, decl.name) in allowed
        )
    ]


# ---------------------------------------------------------------------------------------
# One rule
# ---------------------------------------------------------------------------------------


def add_step_rule(
    machine: type[RuleBasedStateMachine],
    plans: st.SearchStrategy[Any],
    step: Callable[[Any, Any], None],
) -> None:
    """Give ``machine`` its one rule, ``step``, drawing one plan per step
    (``AmazonPayMachine``: its kind by weight, then each choice drawn on its own).

    One rule, because Hypothesis's own cost per step — rule selection
    with its swarm-testing flags, every argument drawn — grows with every rule and
    argument and is most of a step's cost in a machine over a fast simulator; and because
    with two rules (the merchant's or the shop's, and the world's) swarm testing switches
    one of them off in two histories out of three, leaving histories where no time passes
    or nobody calls. Weights in the plan set the mix instead. A machine calls this again
    for a subclass whose plans differ (other limits, other events)."""
    step.__name__ = "step"
    setattr(machine, "step", rule(plan=plans)(step))  # noqa: B010 - a rule added at runtime
