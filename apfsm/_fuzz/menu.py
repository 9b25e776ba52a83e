"""``AmazonPayMachine``'s step menu: what one step may be — the merchant's call or order,
or the world's event or time — weighted, each of its choices a Hypothesis draw of its own.

A step draws its kind (``st.sampled_from`` over the weighted kinds), then that kind's
options, each from its own ``st.sampled_from`` or ``st.integers``: every option varies in
every draw, whatever its position, and deleting a step while shrinking changes no other
step (issue 12 measured the one-integer encoding this replaced: later options barely
varied, and shrunk cases kept filler steps).
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any, Final

from hypothesis import strategies as st

from apfsm._harness import COMPLETE_VARIANTS, NEW_SESSION_OPTIONS, REALISTIC_OPTIONS
from apfsm._spec import OPERATIONS, SIMULATION_CODES, Limits, Operation

from .world import CALENDAR_EDGES, OFFSETS, ORDER_CARDS, PICKS

__all__ = [
    "EVENT_PICKS",
    "FIRST_SESSION",
    "MAKERS",
    "UNKNOWN_IDS",
    "WORLD_LABELS",
    "Plan",
    "merchant_entries",
    "step_plan",
    "world_entries",
]

# Everything a step needs is drawn as its rule's argument, from strategies built once
# (building a strategy on every draw cost more than the simulator call it feeds). A
# choice that depends on the machine's state (which object, which reason) draws an index
# ``pick`` and takes it modulo the number of candidates (0, where shrinking goes, is the
# first).


#: A call's plan: (operation, body kind, what the body needs, simulation code, key,
#: which object — 0 the newest of its type, 1 the one before, and so on).
Plan = tuple[str, str, Any, str | None, str | None, int]

#: Well-formed ids of objects that do not exist.
UNKNOWN_IDS: Final = {
    "CheckoutSession": "00000000-0000-0000-0000-000000000000",
    "ChargePermission": "S01-0000000-0000000",
    "Charge": "S01-0000000-0000000-C0000000",
    "Refund": "S01-0000000-0000000-R0000000",
    # A buyer token no sign-in gave: the fuzzers sign no buyer in, so Get Buyer is always
    # probed on an unknown token (ResourceNotFound); tests/sim/test_get_buyer.py covers
    # the rest.
    "Buyer": "unknown-buyer-token",
    "Dispute": "S01-0000000-0000000-B0000000",
}
_AUTHORIZING_INTENTS = ("Authorize", "Authorize", "AuthorizeWithCapture")
#: What a step on an object type that has no object yet does instead (refunds and
#: charges come late in a history): a realistic call that makes one.
MAKERS: dict[str, Plan] = {
    "Refund": ("create_refund", "smart", ("1",), None, None, 0),
    "Charge": ("create_charge", "smart", ("10.00", 0), None, None, 0),
}
#: The first orders' session options (see ``AmazonPayMachine.first_orders``).
FIRST_SESSION: Final = ("USD", "Authorize", "OneTime", "50.00", False, False)


#: How often an operation is drawn among its object's operations (reads are cheap to
#: cover; the rest change state).
_READ_WEIGHT = 3
_WRITE_WEIGHT = 3
#: A call's body: realistic 12 in 16; a realistic body with exactly one fault 2 in 16; a
#: retry of an earlier call with an idempotency key, or a schema-random body, 1 in 16.
_KINDS = ("smart",) * 12 + ("retry", "fault", "fault", "schema")
#: Which fault, or which schema-random body: a number below this prime (``fault_by_number``
#: takes it modulo the codes, then the faults, that apply; ``schema_body`` seeds with it).
_VARIANTS = 4093
_VARIANT = st.integers(0, _VARIANTS - 1)
_PICK = st.sampled_from(PICKS)
#: An event step's picks (``declared_event``): which event, which object, which reason.
EVENT_PICKS: Final = 1024


def _sampled(options: tuple[Any, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(*(st.sampled_from(values) for values in options))


def _call(operation: str) -> st.SearchStrategy[Plan]:
    """A call's plan (see ``Plan``): body kind, simulation code (1 in 6 where the
    operation takes one), idempotency key (1 in 4 on POSTs, one of two), the object, the
    options of a realistic body — and, for a faulty or schema-random body, its number."""
    op = OPERATIONS[operation]
    codes = SIMULATION_CODES.get(operation, ())
    code = st.sampled_from((None,) * (5 * len(codes)) + tuple(codes)) if codes else st.none()
    keys = (None,) * 6 + (f"{operation}-1", f"{operation}-2")
    key = st.sampled_from(keys) if op.method == "POST" else st.none()
    pick = _PICK if op.target else st.just(0)
    choices = _sampled(REALISTIC_OPTIONS.get(operation, ()))

    def plan(kind: str) -> st.SearchStrategy[Plan]:
        drawn: st.SearchStrategy[Any] = (
            choices if kind in ("smart", "retry") else st.tuples(choices, _VARIANT)
        )
        return st.tuples(st.just(operation), st.just(kind), drawn, code, key, pick)

    by_kind = {kind: plan(kind) for kind in set(_KINDS)}
    return st.sampled_from(_KINDS).flatmap(by_kind.__getitem__)


_ORDER_WEIGHT = 2
#: Disputes are rare in a shop's life (a few in a thousand orders): their calls, and Upload
#: File (evidence), are drawn once where another call is drawn three times.
_DISPUTE_CALLS: Final = frozenset(
    name
    for name, op in OPERATIONS.items()
    if "Dispute" in (op.target, op.creates) or name == "upload_file"
)


def _weight(name: str, op: Operation) -> int:
    if name in _DISPUTE_CALLS:
        return 1
    return _READ_WEIGHT if op.method == "GET" else _WRITE_WEIGHT


def merchant_entries() -> tuple[tuple[str, st.SearchStrategy[Any], int], ...]:
    """What the merchant does in a step, as (label, plans, weight): every operation of the
    declarations (SPEC §1), writes three times as often as reads, and whole orders
    (create, the buyer approves, complete), plain or charged (an authorized charge, so
    captures and refunds come soon)."""
    entries: list[tuple[str, st.SearchStrategy[Any], int]] = [
        (name, _call(name), _weight(name, op)) for name, op in OPERATIONS.items()
    ]
    # The session's options, the buyer's card, how the completion ends.
    order = _sampled((*NEW_SESSION_OPTIONS, ORDER_CARDS, COMPLETE_VARIANTS))
    entries.append(("order", st.tuples(st.just("order"), order), _ORDER_WEIGHT))
    # The session's options and an authorizing intent.
    charged = _sampled((*NEW_SESSION_OPTIONS, _AUTHORIZING_INTENTS))
    entries.append(("charged_order", st.tuples(st.just("charged_order"), charged), _ORDER_WEIGHT))
    return tuple(entries)


def _deadline(drawn: tuple[tuple[str, timedelta], int]) -> timedelta:
    """Exactly L − 1 s, L or L + 1 s of a limit (at least 1 s)."""
    (_, value), offset = drawn
    return max(value + timedelta(seconds=offset), timedelta(seconds=1))


_SECONDS = st.integers(1, 200 * 86_400).map(lambda s: timedelta(seconds=s))
_OFFSET = st.sampled_from(OFFSETS)


def world_entries(limits: Limits) -> tuple[tuple[str, st.SearchStrategy[Any], int], ...]:
    """What happens without the merchant, about a third of the steps: mostly a little
    time passing, so asynchronous outcomes land between the merchant's calls; events
    (mostly an end: canceled, closed, declined) and big jumps are rarer — a history whose
    every object ended early tests little else."""
    # A limit, shortest first, and an offset: each limit as likely whatever its length.
    durations = sorted(limits.durations().items(), key=lambda item: (item[1], item[0]))
    deadlines = st.tuples(st.sampled_from(durations), _OFFSET).map(_deadline)
    picks = st.integers(0, EVENT_PICKS - 1)
    return (
        # Up to 200 days, mostly short (Hypothesis favours small integers).
        ("wait", st.tuples(st.just("wait"), _SECONDS), 10),
        # Any event that can happen to some object now: which event, which object, which
        # reason, each uniformly among those that can (see ``declared_event``). (The
        # buyer's dispute filings and Amazon's decisions on them are events too.)
        ("event", st.tuples(st.just("event"), st.tuples(picks, picks, picks)), 5),
        # Exactly L − 1 s, L, L + 1 s of a limit.
        ("deadline", st.tuples(st.just("wait"), deadlines), 3),
        ("next_deadline", st.tuples(st.just("next_deadline"), _OFFSET), 2),
        # A calendar edge ± 1 s.
        ("calendar", st.tuples(st.sampled_from(CALENDAR_EDGES), _OFFSET), 1),
    )


#: The labels a world step's plan starts with (a calendar jump starts with its edge).
WORLD_LABELS = frozenset(("wait", "event", "next_deadline"))


@functools.cache
def step_plan(limits: Limits) -> st.SearchStrategy[Any]:
    """A step — what the merchant does (about two thirds of the steps) or what happens
    without the merchant — its kind drawn by weight, then each of its choices drawn on
    its own:

    * ``(operation, body kind, what the body needs, simulation code, idempotency key,
      which object)`` (see ``Plan``): bodies are mostly realistic (``"smart"``, with the
      options ``smart_body`` builds it from over the object's current JSON), 2 in 16
      a realistic body with exactly one fault (``"fault"``), 1 in 16 each a retry of an
      earlier call with its idempotency key or a valid schema-random body (``"schema"``)
      — faults and schema-random bodies chosen by a number;
    * ``("order", options)`` or ``("charged_order", options)``: a whole checkout;
    * ``("event", (event, object, reason))``: the buyer or Amazon acts on some object;
    * ``("wait", timedelta)`` — exactly L − 1 s, L or L + 1 s of a duration limit, or a
      wait of up to 200 days, mostly short — or an instant and an offset of −1, 0 or
      +1 s: ``next_deadline`` (the next scheduled event), ``month_start``, ``month_end``,
      ``leap_day``.
    """
    entries = merchant_entries() + world_entries(limits)
    slots = tuple(i for i, (_, _, weight) in enumerate(entries) for _ in range(weight))
    plans = [strategy for _, strategy, _ in entries]
    return st.sampled_from(slots).flatmap(plans.__getitem__)
