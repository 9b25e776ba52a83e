"""When may Amazon's answer differ from what ``apfsm.check`` predicts from a payload?

``check`` sees one object's JSON. Amazon (and the simulator) also know its history and the
buyer's sandbox card, and obey simulation codes, so some answers ``check`` cannot foresee
are still right. Every tool that judges an answer against ``check`` — the fuzzers, the
recorded-log checker — asks here, so they allow exactly the same things. Every set below is
derived from the declarations, and ``judge`` is the one verdict: both the fuzzers and the
log checker call it, their differences spelled out as its keyword options.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

import attrs

from apfsm._decide import refund_allowance
from apfsm._outcome import Outcome
from apfsm._sim import ChargeLedger, PermissionLedger
from apfsm._spec import CARDS, CHECKS, ERRORS, OPERATIONS, Limits

__all__ = [
    "CARD_EFFECT_CODES",
    "DECLINE_CODES",
    "DECLINING_CARDS",
    "HISTORY_CODES",
    "KNOWABLE_CODES",
    "Disagreement",
    "DisagreementKind",
    "judge",
    "ledger_problem",
    "refusal_may_change_state",
    "shown_card",
]

#: Per operation, the codes of its checks that read history a payload does not show
#: (``Check.needs_history``): Amazon may answer them where the target's JSON alone looks
#: fine (SPEC §5, §6).
HISTORY_CODES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        name: codes
        for name, op in OPERATIONS.items()
        if (codes := frozenset(CHECKS[c].code for c in op.checks if CHECKS[c].needs_history))
    }
)

#: Refusals a correct integration never provokes: it could have known from what it was
#: told (``ErrorInfo.kind == "knowable"``).
KNOWABLE_CODES: Final[frozenset[str]] = frozenset(
    code for code, info in ERRORS.items() if info.kind == "knowable"
)

#: Declines and cancellations: outcomes of a payment a correct integration must handle
#: (``ErrorInfo.kind == "decline"``).
DECLINE_CODES: Final[frozenset[str]] = frozenset(
    code for code, info in ERRORS.items() if info.kind == "decline"
)

#: The sandbox cards whose authorizations are declined, or that a completion which is not
#: a pending authorization may not use (SPEC §7).
DECLINING_CARDS: Final[frozenset[str]] = frozenset(
    c.last4 for c in CARDS if c.declines or c.needs_pending
)

#: What a declining card answers — a completion ``CheckoutSessionCanceled``, a charge its
#: decline code — refusals that come with effects (the session canceled, the Declined
#: charge kept).
CARD_EFFECT_CODES: Final[frozenset[str]] = frozenset(
    {"CheckoutSessionCanceled"} | {c.decline_code for c in CARDS if c.declines}
)


#: What a judged answer contradicts: the specification's outcome, or (an acceptance after
#: a deadline the specification counts) a deadline that had passed.
DisagreementKind = Literal["contradiction", "deadline passed"]


@attrs.frozen
class Disagreement:
    """Why an answer is not one the specification allows."""

    kind: DisagreementKind
    message: str

    def __str__(self) -> str:
        return self.message


def judge(
    operation: str,
    predicted: Outcome,
    *,
    code: str | None,
    status: object,
    state: str | None = None,
    simulation_code: str | None = None,
    card: str | None = None,
    any_decline: bool = False,
    refusal_status: bool = True,
) -> tuple[Disagreement, ...]:
    """How an answer to ``operation`` disagrees with ``predicted`` (``check`` on the
    target's JSON before the call); empty when the answer is one Amazon may give.

    A refusal where ``check`` accepts is allowed when history a payload lacks explains it
    (``HISTORY_CODES``), or the sandbox did it on purpose. An acceptance must show the
    predicted state (``Completed`` for a completion) and HTTP status.

    Args:
        code, status, state: the answer — its error code (None when accepted), its HTTP
            status, and the state its body shows (None: not shown, not judged).
        simulation_code: the call's simulation code (SPEC §7): it may be refused with the
            code itself or ``CheckoutSessionCanceled``, and an acceptance's state and status
            are its own. (The fuzzers pass theirs; the log checker judges no such call.)
        card: the buyer's sandbox card on the target (``paymentPreferences``), None when
            it shows none: a declining card may answer ``CARD_EFFECT_CODES``.
        any_decline: any decline may come where ``check`` accepts (``DECLINE_CODES``):
            for a recorded log of real traffic, where no payload shows why a payment
            failed. The fuzzers know the card and pass False.
        refusal_status: also compare a predicted refusal's HTTP status, not only its code
            (the log checker compares codes only).
    """
    if code is not None:
        if predicted.ok:
            if code in _allowed_refusals(operation, simulation_code, card, any_decline):
                return ()
            return (
                Disagreement(
                    "contradiction",
                    f"{operation} was refused with {code}, but the specification accepts it "
                    f"(→ {predicted.next_state})",
                ),
            )
        if predicted.reason_code != code:
            return (
                Disagreement(
                    "contradiction",
                    f"{operation} was refused with {code}; the specification answers "
                    f"{predicted.reason_code}: {predicted.message}",
                ),
            )
        if refusal_status and predicted.http_status != status:
            return (
                Disagreement(
                    "contradiction",
                    f"{operation} was refused with {code} and HTTP {status}; the "
                    f"specification says HTTP {predicted.http_status}",
                ),
            )
        return ()
    if not predicted.ok:
        # A refusal that names the instant a deadline passed ("... since ...") is a state
        # its deadline had already ended.
        passed = predicted.message is not None and " since " in predicted.message
        return (
            Disagreement(
                "deadline passed" if passed else "contradiction",
                f"{operation} succeeded, but the specification refuses it: "
                f"{predicted.reason_code}: {predicted.message}",
            ),
        )
    if simulation_code is not None:
        return ()  # a simulation code changes the outcome on purpose (SPEC §7)
    problems = []
    expected = "Completed" if operation == "complete_checkout_session" else predicted.next_state
    if state is not None and expected is not None and state != expected:
        problems.append(
            Disagreement(
                "contradiction",
                f"{operation} answered state {state}; the specification says {expected}",
            )
        )
    if isinstance(status, int) and status != predicted.http_status:
        problems.append(
            Disagreement(
                "contradiction",
                f"{operation} answered HTTP {status}; the specification says "
                f"{predicted.http_status}",
            )
        )
    return tuple(problems)


def _allowed_refusals(
    operation: str, simulation_code: str | None, card: str | None, any_decline: bool
) -> frozenset[str]:
    allowed = HISTORY_CODES.get(operation, frozenset())
    if simulation_code is not None:
        allowed |= {simulation_code, "CheckoutSessionCanceled"}
    if card in DECLINING_CARDS:
        allowed |= CARD_EFFECT_CODES
    if any_decline:
        allowed |= DECLINE_CODES
    return allowed


def refusal_may_change_state(code: str, *, simulation_code: str | None) -> bool:
    """Whether a refusal may come with effects: a simulation code's (SPEC §7), or a
    declining card's (``CARD_EFFECT_CODES``: the session canceled, the Declined charge
    kept). Any other refusal changes nothing."""
    return simulation_code is not None or code in CARD_EFFECT_CODES


def shown_card(payload: Mapping[str, Any] | None) -> str | None:
    """The last four digits of the buyer's card ``payload`` shows
    (``paymentPreferences``), None when it shows none."""
    prefs = (payload or {}).get("paymentPreferences") or []
    return str(prefs[0]["paymentDescriptor"][-4:]) if prefs else None


def ledger_problem(books: ChargeLedger | PermissionLedger | None, limits: Limits) -> str | None:
    """What is wrong with an object's books (``Simulator.ledger``), or None: a charge
    captured above its amount, refunded (or committed to refunds) beyond the captured
    amount and its allowance; a permission's balance below zero (SPEC §4–§6)."""
    if isinstance(books, ChargeLedger):
        if books.captured is not None and books.captured > books.amount:
            return f"captured more than the charge amount: {books}"
        base = books.amount if books.captured is None else books.captured
        ceiling = base + refund_allowance(base, books.currency, limits)
        if books.refunded > ceiling:
            return f"refunded beyond the allowance: {books}"
        if books.refunds_committed > ceiling:
            return f"committed refunds beyond the allowance: {books}"
    elif (
        isinstance(books, PermissionLedger)
        and books.amount_balance is not None
        and books.amount_balance < 0
    ):
        return f"a negative balance: {books}"
    return None
