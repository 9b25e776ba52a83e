"""``AmazonPayMachine``'s step menu: what one step may be — the merchant's call or order,
or the world's event or time — weighted, and decoded from one integer (see ``plans``).
"""

from __future__ import annotations

import functools
from typing import Any, Final

from hypothesis import strategies as st

from apfsm._harness import COMPLETE_VARIANTS, NEW_SESSION_OPTIONS, REALISTIC_OPTIONS
from apfsm._spec import OPERATIONS, SIMULATION_CODES, Limits, Operation

from .plans import Menu, Product, decoded
from .world import CALENDAR, NEAR, ORDER_CARDS, PICKS, deadline_waits, uniform_waits, wait_of

__all__ = [
    "FIRST_SESSION",
    "MAKERS",
    "UNKNOWN_IDS",
    "WORLD_LABELS",
    "Plan",
    "decode_step",
    "merchant_entries",
    "step_menu",
    "step_plan",
    "world_entries",
]

# Everything a step needs is drawn as its rule's arguments, from strategies built once:
# a ``data.draw`` inside a rule costs several times a rule argument (measured), and
# building a strategy on every draw cost more than the simulator call it feeds. A choice
# that depends on the machine's state (which object, which reason) draws an index ``pick``
# and takes it modulo the number of candidates (0, where shrinking goes, is the first).


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
#: Which fault, or which schema-random body: the step's whole number modulo this prime
#: (a digit of its own would vary only in Hypothesis's rare uniform draws; see Product).
_VARIANTS = 4093


def _head(operation: str) -> Product:
    """A call's choices but its schema or faulty body: body kind, simulation code (1 in 6
    where the operation takes one), idempotency key (1 in 4 on POSTs, one of two), the
    object (see ``Plan``), and the options of a realistic body."""
    op = OPERATIONS[operation]
    codes = SIMULATION_CODES.get(operation, ())
    return Product(
        (
            _KINDS,
            (None,) * (5 * len(codes)) + tuple(codes) if codes else (None,),
            (None,) * 6 + (f"{operation}-1", f"{operation}-2") if op.method == "POST" else (None,),
            PICKS if op.target else (0,),
            *REALISTIC_OPTIONS.get(operation, ()),
        ),
        spread=True,  # every choice varies in every draw (tests/fuzz/test_choice_balance.py)
    )


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


def merchant_entries() -> tuple[tuple[str, Product, int], ...]:
    """What the merchant does in a step: every operation of the declarations (SPEC §1),
    writes three times as often as reads, and whole orders (create, the buyer approves,
    complete), plain or charged (an authorized charge, so captures and refunds come
    soon)."""
    entries: list[tuple[str, Product, int]] = [
        (name, _head(name), _weight(name, op)) for name, op in OPERATIONS.items()
    ]
    entries.append(
        (
            "order",  # the session's options, the buyer's card, how the completion ends
            Product((*NEW_SESSION_OPTIONS, ORDER_CARDS, COMPLETE_VARIANTS), spread=True),
            _ORDER_WEIGHT,
        )
    )
    entries.append(
        (
            "charged_order",  # the session's options and an authorizing intent
            Product((*NEW_SESSION_OPTIONS, _AUTHORIZING_INTENTS), spread=True),
            _ORDER_WEIGHT,
        )
    )
    return tuple(entries)


def world_entries(limits: Limits) -> tuple[tuple[str, Product, int], ...]:
    """What happens without the merchant, about a third of the steps: mostly a little
    time passing, so asynchronous outcomes land between the merchant's calls; events
    (mostly an end: canceled, closed, declined) and big jumps are rarer — a history whose
    every object ended early tests little else."""
    return (
        ("wait", uniform_waits(200), 10),
        # Any event that can happen to some object now: which, with which reason.
        # (5: the buyer's dispute filings and Amazon's decisions on them are events too.)
        ("event", Product((tuple(range(1024)),)), 5),
        ("wait", deadline_waits(limits), 3),  # exactly L − 1 s, L, L + 1 s of a limit
        ("next_deadline", NEAR, 2),
        ("calendar", CALENDAR, 1),  # a calendar edge ± 1 s
    )


WORLD_LABELS = frozenset(label for label, _, _ in world_entries(Limits()))


def step_menu(limits: Limits) -> Menu:
    return Menu(merchant_entries() + world_entries(limits))


def decode_step(menu: Menu, number: int) -> Any:
    """A step's plan from its number (see ``step_plan``)."""
    label, options = menu(number)
    if label == "calendar":
        edge, offset = options
        return (edge, offset)
    if label in WORLD_LABELS:
        (option,) = options
        return (label, wait_of(option) if label == "wait" else option)
    if label in ("order", "charged_order"):
        return (label, options)
    kind, code, key, pick, *choices = options
    drawn = tuple(choices) if kind in ("smart", "retry") else (tuple(choices), number % _VARIANTS)
    return (label, kind, drawn, code, key, pick)


@functools.cache
def step_plan(limits: Limits) -> st.SearchStrategy[Any]:
    """A step, one integer (see ``Menu``) — what the merchant does (two thirds of the
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
    menu = step_menu(limits)
    return decoded(menu, functools.partial(decode_step, menu))
