"""Fuzzing an integration written against a provider's facade (PPRO's payment charges)
instead of Amazon Pay itself: ``FacadeRules``, mixed into ``IntegrationMachine`` as
``apfsm.testing.FacadeMachine``.

The machine plays Amazon's side as ever (buyers, declines, pending authorizations, time);
a ``PproAdapter`` over its simulator plays the provider, and every facade object's true
status is Amazon's state read through the facade's declared ``Maps`` after every step.
Each change of a true status is sent to the integration as the provider's notification
(``on_facade_notification``), duplicated or reordered as webhooks are. After every step
the machine asks the integration what it believes (``facade_view``) and fails with
``FacadeMoveError`` — and the object's story — when that view

* moves an object in a way no facade path allows (``CAPTURED`` back to
  ``CAPTURE_PENDING``; a status the facade does not have), or
* with every notification delivered, still differs from the truth while the truth is a
  status the merchant must act on (a terminal status, or one whose Amazon situation asks
  for more than waiting: ``apfsm.facades.action_for``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from apfsm._spec import LIFECYCLES
from apfsm.facades import (
    PPRO_PAYMENT_CHARGE,
    Facade,
    FacadeObject,
    PproAdapter,
    Situation,
    action_for,
)

__all__ = ["REFUND_DECLINE_REASONS", "FacadeMoveError", "FacadeRules", "path_exists"]

_FAULTS: Final = ("none", "duplicate", "reorder")
#: The reasons Amazon declines a pending refund with: the Refund lifecycle's
#: ``refund_declined`` event (AmazonRejected, ProcessingFailure; SPEC §6).
REFUND_DECLINE_REASONS: Final = next(
    e.reasons for e in LIFECYCLES["Refund"].events if e.name == "refund_declined"
)


class FacadeMoveError(AssertionError):
    """The integration's view of a facade object made a move the facade does not allow
    (``kind`` ``"illegal"``), or missed one the merchant must act on (``"missed"``).
    ``object_id``, ``view`` and ``truth`` name the object and the two statuses."""

    def __init__(self, message: str, *, kind: str, object_id: str, view: str, truth: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.object_id = object_id
        self.view = view
        self.truth = truth


def path_exists(facade: Facade, tail: str, head: str) -> bool:
    """Whether some path of ``facade``'s steps (any length, zero included) leads from
    ``tail`` to ``head``: a view may skip states it was not told of, never go back."""
    seen, frontier = {tail}, [tail]
    while frontier:
        state = frontier.pop()
        for step in facade.steps:
            if state in step.sources and step.dest not in seen:
                seen.add(step.dest)
                frontier.append(step.dest)
    return head in seen


def _must_act(found: FacadeObject) -> bool:
    """The merchant must act on this status: it is final, or Amazon's situation behind it
    asks for more than waiting."""
    if found.facade.state(found.status).terminal or found.situation is None:
        return True
    try:
        return action_for(Situation(*found.situation)).resolution != "wait"
    except KeyError:
        return True  # no action declared: treat it as one to act on


@attrs.define
class _Track:
    """One facade object's truth and the integration's view of it, with the times."""

    truth: list[tuple[timedelta, str, str]] = attrs.field(factory=list)  # (at, status, why)
    view: list[tuple[timedelta, str]] = attrs.field(factory=list)


class FacadeRules:
    """Mixed in before ``IntegrationMachine`` (``apfsm.testing.FacadeMachine`` is the
    two): see the module docs. Override ``facade_view`` and ``on_facade_notification``;
    ``on_consumer_returned`` is your return page (default: ``ppro.consumer_returned``)."""

    #: The facade the adapter plays and the view is checked against.
    facade: ClassVar[Facade] = PPRO_PAYMENT_CHARGE
    #: Let Amazon answer pending authorizations (PPRO's ``AUTHORIZATION_ASYNC``).
    pending_authorizations: ClassVar[bool] = True
    #: Duplicate and reorder the provider's notifications as webhooks do.
    facade_faults: ClassVar[bool] = True

    sim: Any  # the machine's WatchedSimulator
    start: ClassVar[datetime]

    if TYPE_CHECKING:  # IntegrationMachine's (no stub here: this class comes first)

        def _amazon_step(self, kind: str, options: tuple[Any, ...]) -> None: ...

    def __init__(self) -> None:
        super().__init__()
        #: The provider, over the machine's simulator: give it to your integration.
        self.ppro = PproAdapter(
            self.sim,
            self.sim.now,
            facade=self.facade,
            pending_authorizations=self.pending_authorizations,
        )
        self._tracks: dict[str, _Track] = {}
        self._facade_inbox: list[dict[str, Any]] = []

    # -- your side -----------------------------------------------------------------------

    def facade_view(self) -> Mapping[str, str]:
        """What your integration believes: facade object id → status (override). Objects
        left out are not checked."""
        return {}

    def on_facade_notification(self, message: dict[str, Any]) -> None:
        """Hand one provider notification (``{"id", "type", "status"}``) to your
        integration (override). Notifications may come twice or out of order."""

    def on_consumer_returned(self, facade_id: str) -> None:
        """The consumer is back on your return page after paying at Amazon (override to do
        what your page does; the default asks the provider to complete the payment)."""
        self.ppro.consumer_returned(facade_id)

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        for facade_id in self.ppro.for_checkout_session(checkout_session_id):
            self.on_consumer_returned(facade_id)
        super().after_buyer_approved(checkout_session_id)  # type: ignore[misc]

    # -- Amazon's side behind the facade ---------------------------------------------------

    def can_take(self, kind: str) -> bool:
        """``IntegrationMachine.can_take``, and one injected decline at a time: behind the
        facade every Amazon call is the provider's, and an injection waits for the next
        call of its operation however long that takes, so unguarded they pile up (one per
        operation) and the first charge, capture and refund of nearly every long run is
        declined — the way to a captured charge, and to a refund Amazon then declines,
        was rarely walked."""
        if kind == "next_call_is_declined" and self.sim.injected:
            return False
        return bool(super().can_take(kind))  # type: ignore[misc]

    @precondition(lambda self: self.can_take("amazon_declines_refund"))
    @rule(reason=st.sampled_from(REFUND_DECLINE_REASONS), pick=st.integers(0, 63))
    def amazon_declines_a_refund(self, reason: str, pick: int) -> None:
        """Amazon declines a pending refund (``RefundInitiated`` → ``Declined``, PPRO's
        ``REFUND_FUNDS_REJECTED``): drawn only while one is pending — after the facade's
        refund call, before Amazon's outcome lands (``async_outcome_delay``)."""
        __tracebackhide__ = True
        self._amazon_step("amazon_declines_refund", (pick, reason))

    # -- the provider's notifications ------------------------------------------------------

    @precondition(lambda self: bool(self._facade_inbox))
    @rule(fault=st.sampled_from(_FAULTS), count=st.integers(1, 3), everything=st.booleans())
    def facade_delivers_notifications(self, fault: str, count: int, everything: bool) -> None:
        """Waiting provider notifications arrive — the oldest ``count``, or with
        ``everything`` all of them (the provider caught up) — plainly, twice, or newest
        first."""
        __tracebackhide__ = True
        fault = fault if self.facade_faults else "none"
        count = len(self._facade_inbox) if everything else count
        batch, self._facade_inbox = self._facade_inbox[:count], self._facade_inbox[count:]
        if fault == "reorder":
            batch.reverse()
        for message in batch:
            for _ in range(2 if fault == "duplicate" else 1):
                self.on_facade_notification(dict(message))

    # -- the check -----------------------------------------------------------------------

    def _elapsed(self) -> timedelta:
        now: datetime = self.sim.now()
        return now - self.start

    def _read(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        del object_type  # the simulator finds any object by its id
        found: dict[str, Any] | None = self.sim.object_json(object_id)
        return found

    @invariant()
    def facade_view_follows_the_facade(self) -> None:
        """The integration's view of every facade object moves legally and misses no
        status the merchant must act on."""
        __tracebackhide__ = True
        at = self._elapsed()
        truths = {found.id: found for found in self.ppro.objects(self._read)}
        for found in truths.values():
            track = self._tracks.setdefault(found.id, _Track())
            if not track.truth or track.truth[-1][1] != found.status:
                why = str(Situation(*found.situation)) if found.situation else "the provider"
                track.truth.append((at, found.status, why))
                self._facade_inbox.append(
                    {"id": found.id, "type": found.facade.name, "status": found.status}
                )
        # Notifications still on their way, by object: an object's view is judged missed
        # only once every notification about it was delivered (others may still wait).
        undelivered = {message["id"] for message in self._facade_inbox}
        for object_id, status in self.facade_view().items():
            if object_id not in truths:
                continue  # not an object of this provider
            found = truths[object_id]
            track = self._tracks[object_id]
            last = track.view[-1][1] if track.view else None
            if last != status:
                track.view.append((at, status))
            known = {s.name for s in found.facade.states}
            if status not in known or (
                last is not None and not path_exists(found.facade, last, status)
            ):
                self._fail("illegal", found, status, f"the view moved {last} → {status}")
            if object_id not in undelivered and status != found.status and _must_act(found):
                self._fail(
                    "missed",
                    found,
                    status,
                    f"every notification about it was delivered, yet the view shows {status} while "
                    f"the object is {found.status}, which the merchant must act on",
                )

    def _fail(self, kind: str, found: FacadeObject, view: str, what: str) -> None:
        __tracebackhide__ = True
        track = self._tracks[found.id]
        lines = [f"{found.facade.title} {found.id}: {what} ({kind} facade move)"]
        lines.append("  the object (time since start · status · Amazon's situation behind it):")
        lines += [f"    +{at} · {status} · {why}" for at, status, why in track.truth]
        lines.append("  your integration's view of it:")
        lines += [f"    +{at} · {status}" for at, status in track.view]
        raise FacadeMoveError(
            "\n".join(lines), kind=kind, object_id=found.id, view=view, truth=found.status
        )
