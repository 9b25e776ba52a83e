"""The buyer's and Amazon's side: what happens on Amazon's page and in Amazon's systems
(SPEC §3–§7), applied on the simulator's objects and logged like calls.

Each action first settles what is due, then applies a declared event (``Lifecycle.events``)
through ``Effects``, so it schedules, notifies and journals like any other change. An action
that cannot happen raises ``ActionRefused``: a ``ValueError`` with the Amazon Pay code a
control API answers it with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from apfsm._decide import check_price
from apfsm._errors import ActionRefused
from apfsm._spec import (
    CARD,
    DISPUTE_TYPES,
    FILING_REASONS,
    SANDBOX_CARDS,
    Limits,
    SandboxCard,
)

from .disputes import open_dispute
from .effects import Effects
from .log import snapshot
from .records import BuyerRecord, ChargeRecord, CheckoutSessionRecord, Record, stamp
from .scheduler import EVENTS
from .shapes import SIGN_IN_SCOPES

__all__ = ["Actions"]


def _card(card: object) -> SandboxCard:
    """The sandbox card ``card`` names (its last four digits).

    Raises:
        ActionRefused: no card (None), or not one of ``apfsm.SANDBOX_CARDS``.
    """
    if card is None:
        raise ActionRefused("MissingParameterValue", "card is required")
    picked = CARD.get(card) if isinstance(card, str) else None
    if picked is None:
        raise ActionRefused(
            "InvalidParameterValue",
            f"unknown sandbox card {card!r}; cards are {', '.join(SANDBOX_CARDS)}",
        )
    return picked


def _scopes(scopes: object) -> tuple[str, ...]:
    """The sign-in's ``signInScopes``: a list of the names Amazon Sign-in knows.

    Raises:
        ActionRefused: not a list (a lone string included) or an unknown scope.
    """
    if isinstance(scopes, str) or not isinstance(scopes, list | tuple):
        raise ActionRefused(
            "InvalidParameterValue", f"scopes must be a list of scope names, got {scopes!r}"
        )
    for scope in scopes:
        if not isinstance(scope, str) or scope not in SIGN_IN_SCOPES:
            raise ActionRefused(
                "InvalidParameterValue",
                f"unknown sign-in scope {scope!r}; scopes are {', '.join(SIGN_IN_SCOPES)}",
            )
    return tuple(dict.fromkeys(scopes))


def _one_of(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ActionRefused(
            "InvalidParameterValue", f"{name} must be one of {', '.join(choices)}; got {value!r}"
        )
    return value


def _disputed(amount: object, charge: ChargeRecord, limits: Limits) -> Decimal:
    """A dispute's amount: the captured amount when not given; else an amount of the
    charge's currency as the API takes one (SPEC §1: digits with at most the currency's
    decimals, no sign or exponent — "1E+1" or "0.001" would be stored as written and print
    as something else), above zero and at most the captured amount."""
    captured, currency = charge.captured_amount
    if amount is None:
        return captured
    if isinstance(amount, bool) or not isinstance(amount, str | int | float):
        raise ActionRefused(
            "InvalidParameterValue", f"amount must be a positive decimal string, got {amount!r}"
        )
    verdict = check_price({"amount": amount, "currencyCode": currency}, limits, "", "amount")
    if isinstance(verdict, str):
        raise ActionRefused("InvalidParameterValue", verdict)
    value = verdict[0]
    if value > captured:
        raise ActionRefused(
            "TransactionAmountExceeded",
            f"a dispute of {value} exceeds the {captured} {currency} captured",
        )
    return value


class Actions:
    """Takes the buyer's and Amazon's actions (the simulator holds its lock around them)."""

    def __init__(self, effects: Effects, now: Callable[[], datetime]) -> None:
        self._fx = effects
        self._now = now

    def approve(self, checkout_session_id: str, card: object) -> dict[str, Any]:
        """The buyer signs in and picks a sandbox card (SPEC §7); returns the session.

        The session is checked before the card (unknown, then not Open), as Amazon's page
        would not show a card picker otherwise."""

        def act(record: Record, when: datetime) -> None:
            assert isinstance(record, CheckoutSessionRecord)
            self._fx.event(record, "buyer_approve", None, when)  # refuses a session not Open
            picked = _card(card)
            record.card = picked.last4
            if picked.buyer_cancels:
                self._fx.event(record, "buyer_cancel", None, when)
            elif picked.declines_at_checkout:
                # Amazon's sandbox-simulations page: 3434 leaves the session Canceled with
                # reason Declined once the buyer returns (before any completion).
                self._fx.event(record, "checkout_declined", None, when)

        return self._act(
            "buyer", "buyer_approve", checkout_session_id, "CheckoutSession", {"card": card}, act
        )

    def sign_in(self, scopes: object) -> str:
        """The buyer signs in with Amazon Sign-in (SPEC §11); returns the buyer token."""
        fx = self._fx
        chosen = _scopes(scopes)
        now = self._now()
        fx.settle(now)
        when = stamp(now)
        token, buyer_id = fx.store.new_buyer_token()
        record = BuyerRecord(
            id=token,
            seq=fx.store.next("object"),
            created_at=when,
            updated_at=when,
            state="Active",
            buyer_id=buyer_id,
            scopes=chosen,
        )
        fx.add(record)  # schedules the token's expiry
        fx.store.log.add(
            at=now,
            kind="buyer",
            operation="buyer_sign_in",
            object_id=token,
            request_data=snapshot({"scopes": list(chosen)}),
            status=200,
            response_data=snapshot({"buyerToken": token}),
        )
        return token

    def file_dispute(
        self, charge_id: str, filing_reason: object, dispute_type: object, amount: object
    ) -> dict[str, Any]:
        """The buyer files a chargeback or A-to-z claim on a captured charge; returns the
        new Dispute's JSON (docs/dispute.md)."""
        fx = self._fx
        now = self._now()
        fx.settle(now)
        charge = fx.store.get(charge_id, "Charge")
        if not isinstance(charge, ChargeRecord):
            raise ActionRefused("ResourceNotFound", f"no Charge {charge_id!r} in this simulator")
        if charge.state != "Captured":
            raise ActionRefused(
                "InvalidChargeStatus",
                f"a dispute is filed on a Captured charge; {charge_id} is {charge.state}",
            )
        reason = _one_of("filing_reason", filing_reason, FILING_REASONS)
        kind = _one_of("dispute_type", dispute_type, DISPUTE_TYPES)
        value = _disputed(amount, charge, fx.limits)
        dispute = open_dispute(
            fx,
            charge,
            value,
            charge.currency,
            filing_reason=reason,
            dispute_type=kind,
            when=stamp(now),
        )
        body = dispute.to_json(fx.limits, now)
        request = {"chargeId": charge_id, "filingReason": reason, "disputeType": kind}
        fx.store.log.add(
            at=now,
            kind="buyer",
            operation="file_dispute",
            object_id=dispute.id,
            request_data=snapshot({**request, "amount": str(value)}),
            status=200,
            response_data=snapshot(body),
        )
        return body

    def cancel(self, checkout_session_id: str) -> dict[str, Any]:
        """The buyer cancels on Amazon's checkout page; returns the session."""

        def act(record: Record, when: datetime) -> None:
            self._fx.event(record, "buyer_cancel", None, when)

        return self._act(
            "buyer",
            "buyer_cancel",
            checkout_session_id,
            "CheckoutSession",
            {"event": "buyer_cancel"},
            act,
        )

    def event(self, object_id: str, event: str, reason: str | None) -> dict[str, Any]:
        """A declared event of the buyer or Amazon on any object; returns its JSON."""
        record = self._fx.store.get(object_id)
        if record is None:
            raise ActionRefused("ResourceNotFound", f"no object {object_id!r} in this simulator")
        object_type = record.object_type
        decl = EVENTS.get((object_type, event))
        if decl is None:
            names = sorted(name for (t, name) in EVENTS if t == object_type)
            raise ActionRefused(
                "InvalidParameterValue",
                f"{object_type} has no event {event!r}; events are {', '.join(names)}",
            )

        def act(target: Record, when: datetime) -> None:
            self._fx.event(target, event, reason, when)

        request = {"event": event} if reason is None else {"event": event, "reason": reason}
        return self._act(decl.actor, event, object_id, object_type, request, act)

    def _act(
        self,
        kind: Literal["buyer", "amazon"],
        name: str,
        object_id: str,
        object_type: str,
        request: dict[str, Any],
        act: Callable[[Record, datetime], None],
    ) -> dict[str, Any]:
        fx = self._fx
        now = self._now()
        fx.settle(now)
        record = fx.store.get(object_id, object_type)
        if record is None:
            raise ActionRefused(
                "ResourceNotFound", f"no {object_type} {object_id!r} in this simulator"
            )
        act(record, stamp(now))
        # Journaled even without a state change: a buyer's approval fills the session's
        # buyer and card (a cursor, a --state checkpoint must see it).
        fx.store.changed(record.id)
        body = record.to_json(fx.limits, now)
        fx.store.log.add(
            at=now,
            kind=kind,
            operation=name,
            object_id=object_id,
            request_data=snapshot(request),
            status=200,
            response_data=snapshot(body),
        )
        return body
