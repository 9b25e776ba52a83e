"""The vocabulary of a payment service provider's facade over Amazon Pay, as frozen records.

A facade is the provider's own state machine (``FacadeState``, ``FacadeStep``), its
published limits (``FacadeLimits``), the sources it was declared from (``Source``) and how
each Amazon state and reason shows through it (``Maps``). The records hold no behaviour:
``check_mapping`` (``_check.py``) reads them against Amazon's declarations in ``apfsm._spec``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Literal

import attrs

__all__ = [
    "Facade",
    "FacadeActor",
    "FacadeLimits",
    "FacadeState",
    "FacadeStep",
    "FacadeTimeout",
    "Maps",
    "Source",
]

#: Who moves a facade object: the merchant's call, the consumer, the provider (PPRO or
#: Amazon behind it), or the clock.
FacadeActor = Literal["merchant", "consumer", "provider", "timer"]


@attrs.frozen
class Source:
    """Where a declaration comes from: an address and what was read there, in a line."""

    url: str
    says: str


@attrs.frozen
class FacadeState:
    """A state of the provider's object, as its API names it.

    Attributes:
        transient: a processing state the provider passes through while a request is in
            flight (PPRO: "PROCESSING states are temporary"); an Amazon path may skip it.
        documented: the state's exits are written in the sources; False marks exits
            inferred from the provider's endpoints where the text was not found.
    """

    name: str
    description: str
    initial: bool = False
    terminal: bool = False
    transient: bool = False
    documented: bool = True


@attrs.frozen
class FacadeStep:
    """A transition of the facade: ``name`` moves the object from ``sources`` to ``dest``.

    ``documented`` False says the step is inferred (an endpoint exists, the lifecycle text
    naming the move was not found); the docs page lists those.
    """

    name: str
    sources: tuple[str, ...]
    dest: str
    actor: FacadeActor
    description: str
    documented: bool = True


@attrs.frozen
class FacadeTimeout:
    """A provider's timer compared with the Amazon limit it stands in front of.

    ``amazon_limit`` names a ``Limits`` field (e.g. ``checkout_session_ttl``): a facade
    that gives up earlier than Amazon leaves a window in which Amazon still completes what
    the facade already reported as over.
    """

    step: str
    after: timedelta
    amazon_limit: str


@attrs.frozen
class FacadeLimits:
    """The provider's published limits for the payment method; None where the sources are
    silent (or disagree: ``notes`` says which)."""

    currency: str
    min_amount: Decimal | None
    max_amount: Decimal | None
    authentication_timeout: timedelta | None = None
    separate_captures: bool | None = None
    refunds: tuple[str, ...] = ()
    refund_validity: str | None = None
    recurring: bool | None = None
    notes: tuple[str, ...] = ()

    def amount_allowed(self, amount: Decimal) -> bool:
        """Whether ``amount`` (in ``currency``, a ``Decimal``) is within the published
        minimum and maximum (both inclusive)."""
        if isinstance(amount, float):
            raise TypeError(f"money must be a Decimal, not {amount!r}")
        low = self.min_amount is None or amount >= self.min_amount
        high = self.max_amount is None or amount <= self.max_amount
        return low and high


@attrs.frozen
class Maps:
    """Amazon's ``object_type`` in ``state`` (with one of ``reasons``; none: any reason)
    shows through the facade as ``facade_state``.

    ``detail`` names what, in the facade's answer, tells this case apart from others in the
    same facade state (PPRO's discard ``type``, a ``failureCode``) — None when the sources
    name nothing, which is what makes merged cases a collapse.
    """

    object_type: str
    state: str
    facade_state: str
    reasons: tuple[str, ...] = ()
    detail: str | None = None


@attrs.frozen
class Facade:
    """One provider object's whole declaration.

    Attributes:
        name: the diagram and file stem, e.g. ``"ppro_payment_charge"``.
        title: e.g. ``"PPRO payment charge (Amazon Pay)"``.
        endpoint: the provider's route, e.g. ``"/v1/payment-charges"``.
        amazon: the Amazon object types behind it, in the order a buyer meets them.
        entries: ``(object_type, operation)`` pairs whose creations start one facade
            object (a checkout session's creation, a charge created on a permission).
        states, steps, limits, timeouts, mappings: the facade and how Amazon shows
            through it.
        sources: what each fact was read from; ``silent`` what the sources do not say.
    """

    name: str
    title: str
    provider: str
    endpoint: str
    description: str
    amazon: tuple[str, ...]
    entries: tuple[tuple[str, str], ...]
    states: tuple[FacadeState, ...]
    steps: tuple[FacadeStep, ...]
    limits: FacadeLimits
    mappings: tuple[Maps, ...]
    timeouts: tuple[FacadeTimeout, ...] = ()
    sources: tuple[Source, ...] = ()
    silent: tuple[str, ...] = ()

    def state(self, name: str) -> FacadeState:
        for state in self.states:
            if state.name == name:
                return state
        names = ", ".join(s.name for s in self.states)
        raise ValueError(f"{name!r} is not a state of {self.title}; states are {names}")

    def maps(self, object_type: str, state: str, reason: str | None) -> Maps | None:
        """The mapping for Amazon's object in ``state`` with ``reason``: one naming the
        reason wins over one for any reason; None when nothing maps it."""
        fallback = None
        for entry in self.mappings:
            if entry.object_type != object_type or entry.state != state:
                continue
            if reason is not None and reason in entry.reasons:
                return entry
            if not entry.reasons and fallback is None:
                fallback = entry
        return fallback
