"""The deprecated ``business_events`` encoding of ``IntegrationMachine`` (issue 12): one
rule, ``step``, whose integer decodes into Amazon Pay's side or a business event. Kept so
old machines run (with a ``DeprecationWarning``); new ones write ``@rule`` methods beside
``amazon_rules``. ``AMAZON_STEPS`` is still named from these entries.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from apfsm._spec import NON_CHARGEABLE_REASONS, SIMULATION_CODES, Limits

from .plans import CURRENT, Menu, Product, decoded, menu_entries
from .world import BUYER_CARDS, NEAR, PICKS, deadline_waits, uniform_waits, wait_of

_INJECTIONS = tuple(
    sorted((operation, code) for operation, codes in SIMULATION_CODES.items() for code in codes)
)


def legacy_amazon_entries(limits: Limits) -> tuple[tuple[str, Product, int], ...]:
    """Amazon Pay's kinds of step, their options (the method's arguments, the first
    varying most) and weights. The first is where shrinking goes: time passing (L − 1 s of
    the shortest limit)."""
    return (
        ("wait", deadline_waits(limits), 2),
        ("wait", uniform_waits(60), 1),
        (
            "deliver_ipns",
            Product((("none", "none", "duplicate", "delay", "reorder"), (1, 2, 3))),
            4,
        ),
        ("buyer_approves", Product((BUYER_CARDS, PICKS)), 3),
        ("buyer_abandons", Product((PICKS,)), 1),
        ("payment_method_problem", Product((NON_CHARGEABLE_REASONS[:6], PICKS)), 1),
        ("payment_method_fixed", Product((PICKS,)), 1),
        ("buyer_closes_permission", Product((PICKS,)), 1),
        ("amazon_cancels_charge", Product((PICKS,)), 1),
        ("until_next_deadline", NEAR, 2),
        ("next_call_is_declined", Product((_INJECTIONS,)), 2),
    )


def legacy_plan(
    limits: Limits,
    business: tuple[tuple[str, tuple[Any, ...]], ...],
    amazon_steps: tuple[str, ...],
) -> st.SearchStrategy[tuple[str, tuple[Any, ...]]]:
    """A step — of Amazon Pay's side, or one of ``business`` events (about half the steps
    then) — as ``(kind, the method's arguments)``, one integer."""
    amazon = list(legacy_amazon_entries(limits))
    entries = menu_entries(dict(business))
    clash = {name for name, _, _ in entries} & set(amazon_steps)
    if clash:
        raise ValueError(f"business events named like Amazon Pay's steps: {sorted(clash)}")
    if entries:
        # About half the steps each: scale the smaller side's weights up.
        mine = sum(weight for _, _, weight in entries)
        theirs = sum(weight for _, _, weight in amazon)
        if mine < theirs:
            entries = [(n, p, w * round(theirs / mine)) for n, p, w in entries]
        else:
            amazon = [(n, p, w * round(mine / theirs)) for n, p, w in amazon]
    menu = Menu((*entries, *amazon))

    def step(number: int) -> tuple[str, tuple[Any, ...]]:
        machine = CURRENT.get()
        possible = getattr(machine, "can_take", None)
        kind, options = menu(number, possible)
        if kind == "wait":
            (wait,) = options
            return (kind, (wait_of(wait),))
        if kind == "next_call_is_declined":
            return (kind, options[0])
        if kind in ("buyer_approves", "payment_method_problem"):
            return (kind, (options[1], options[0]))  # (pick, card or reason)
        return (kind, options)

    return decoded(menu, step)
