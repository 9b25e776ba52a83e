"""Amazon Pay's side of ``IntegrationMachine`` as ordinary Hypothesis rules.

Each kind of Amazon step is a rule of its own, its options drawn as that rule's own
arguments (``st.sampled_from``, ``st.integers``), and guarded by a precondition: a step
that cannot act now is never drawn — its probability is not handed to a neighbour, and
deleting a step while shrinking changes no other step's meaning. Your business events are
ordinary ``@rule`` methods beside these, so Hypothesis's rule choice treats yours and
Amazon's alike, and shrinks them as it shrinks any state machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from apfsm._sim import LogRecord
from apfsm._spec import (
    DISPUTE_TYPES,
    FILING_REASONS,
    NON_CHARGEABLE_REASONS,
    SIMULATION_CODES,
    Limits,
)

from .world import BUYER_CARDS, OFFSETS

__all__ = ["AMAZON_RULES", "DURATION_LIMITS", "INJECTIONS", "AmazonRules", "DisputeRules", "story"]

#: The duration limits a deadline wait lands on (L − 1 s, L, L + 1 s), by name: the
#: machine's own ``limits`` give the value when the step runs.
#: The Dispute's limits wait with ``DisputeRules`` only (IntegrationMachine's own draws stay
#: as they were before the Dispute existed).
DISPUTE_LIMITS: Final = ("chargeback_response_window", "claim_response_window")
#: The Reports API's limits concern no checkout object (docs/reports.md).
REPORT_LIMITS: Final = ("report_processing_time", "report_retention")
DURATION_LIMITS: Final = tuple(
    name
    for name in sorted(Limits().durations())
    if name not in (*DISPUTE_LIMITS, *REPORT_LIMITS, "file_upload_url_ttl")
)
INJECTIONS: Final = tuple(
    sorted((operation, code) for operation, codes in SIMULATION_CODES.items() for code in codes)
)
_PICKS = st.integers(0, 63)
_OPEN_DISPUTES: Final = ("ActionRequired", "UnderReview")
#: The dispute outcomes ``IntegrationMachine`` plays, and the states each one acts on (the
#: Dispute lifecycle's events: apfsm/_spec/dispute.py).
_DISPUTE_OUTCOMES: Final = {
    "merchant_won": ("UnderReview",),
    "buyer_won": _OPEN_DISPUTES,
    "evidence_requested": ("UnderReview",),
    "buyer_cancelled": _OPEN_DISPUTES,
}


F = TypeVar("F", bound=Callable[..., None])


def _can(kind: str) -> Callable[[F], F]:
    """The rule runs only when a step of ``kind`` can act now (``can_take``)."""
    guard: Callable[[F], F] = precondition(lambda self: self.can_take(kind))
    return guard


class AmazonRules:
    """Mixed into ``IntegrationMachine``: one rule per kind of Amazon step (see module
    docs). The methods they call (``time_passes``, ``buyer_approves``...) are the
    machine's."""

    # Declared for the type checker; IntegrationMachine has them.
    limits: ClassVar[Limits]

    def can_take(self, kind: str) -> bool:  # pragma: no cover - IntegrationMachine's
        raise NotImplementedError

    def amazon_may(self, kind: str) -> bool:  # pragma: no cover - IntegrationMachine's
        raise NotImplementedError

    def _amazon_step(self, kind: str, options: tuple[Any, ...]) -> None:  # pragma: no cover
        raise NotImplementedError

    @rule(limit=st.sampled_from(DURATION_LIMITS), offset=st.sampled_from(OFFSETS))
    def amazon_deadline_passes(self, limit: str, offset: int) -> None:
        """Exactly L − 1 s, L or L + 1 s of a duration limit passes."""
        __tracebackhide__ = True
        value = self.limits.durations()[limit] + timedelta(seconds=offset)
        self._amazon_step("wait", (max(value, timedelta(seconds=1)),))

    @rule(seconds=st.integers(1, 60 * 86_400))
    def amazon_time_passes(self, seconds: int) -> None:
        """Some time passes: up to 60 days."""
        __tracebackhide__ = True
        self._amazon_step("wait", (timedelta(seconds=seconds),))

    @_can("until_next_deadline")
    @rule(offset=st.sampled_from(OFFSETS))
    def amazon_next_deadline(self, offset: int) -> None:
        """To 1 s before, at or 1 s after the next scheduled event."""
        __tracebackhide__ = True
        self._amazon_step("until_next_deadline", (offset,))

    @_can("deliver_ipns")
    @rule(
        fault=st.sampled_from(("none", "duplicate", "delay", "reorder")),
        count=st.integers(1, 3),
    )
    def amazon_delivers_ipns(self, fault: str, count: int) -> None:
        """Waiting IPNs arrive: plainly, twice, late or newest first."""
        __tracebackhide__ = True
        self._amazon_step("deliver_ipns", (fault, count))

    @_can("buyer_approves")
    @rule(card=st.sampled_from(BUYER_CARDS), pick=_PICKS)
    def amazon_buyer_approves(self, card: str, pick: int) -> None:
        __tracebackhide__ = True
        self._amazon_step("buyer_approves", (pick, card))

    @_can("buyer_abandons")
    @rule(pick=_PICKS)
    def amazon_buyer_abandons(self, pick: int) -> None:
        __tracebackhide__ = True
        self._amazon_step("buyer_abandons", (pick,))

    @_can("payment_method_problem")
    @rule(reason=st.sampled_from(NON_CHARGEABLE_REASONS[:6]), pick=_PICKS)
    def amazon_payment_method_problem(self, reason: str, pick: int) -> None:
        __tracebackhide__ = True
        self._amazon_step("payment_method_problem", (pick, reason))

    @_can("payment_method_fixed")
    @rule(pick=_PICKS)
    def amazon_payment_method_fixed(self, pick: int) -> None:
        __tracebackhide__ = True
        self._amazon_step("payment_method_fixed", (pick,))

    @_can("buyer_closes_permission")
    @rule(pick=_PICKS)
    def amazon_buyer_closes_permission(self, pick: int) -> None:
        __tracebackhide__ = True
        self._amazon_step("buyer_closes_permission", (pick,))

    @_can("amazon_cancels_charge")
    @rule(pick=_PICKS)
    def amazon_cancels_a_charge(self, pick: int) -> None:
        __tracebackhide__ = True
        self._amazon_step("amazon_cancels_charge", (pick,))

    @_can("next_call_is_declined")
    @rule(injection=st.sampled_from(INJECTIONS))
    def amazon_declines_next_call(self, injection: tuple[str, str]) -> None:
        """The integration's next call of an operation gets a simulation code."""
        __tracebackhide__ = True
        self._amazon_step("next_call_is_declined", injection)


class DisputeRules:
    """Mixed in before ``IntegrationMachine`` by an integration that handles disputes
    (``class MyShop(DisputeRules, IntegrationMachine)``, docs/dispute.md): a dispute arrives
    on a captured charge, Amazon decides it or asks for more evidence; the Dispute Window
    runs out with the machine's deadline waits. Not in ``IntegrationMachine`` itself, so a
    machine that handles no ``CHARGEBACK`` IPN keeps its step mix."""

    sim: Any  # the machine's WatchedSimulator

    if TYPE_CHECKING:  # IntegrationMachine's (no stub here: this class comes first)

        def amazon_may(self, kind: str) -> bool: ...

        def _amazon_step(self, kind: str, options: tuple[Any, ...]) -> None: ...

    def _in_state(self, object_type: str, states: tuple[str, ...]) -> list[str]:
        sim = self.sim
        return [i for i in sim.object_ids(object_type) if sim.object_state(i) in states]

    def _may_dispute(self, kind: str, object_type: str, states: tuple[str, ...]) -> bool:
        return self.amazon_may(kind) and bool(self._in_state(object_type, states))

    def buyer_disputes(self, pick: int, filing_reason: str, dispute_type: str) -> None:
        """The buyer files a chargeback or A-to-z claim on a captured charge."""
        charges = self._in_state("Charge", ("Captured",))
        if charges:
            self.sim.file_dispute(
                charges[pick % len(charges)], filing_reason=filing_reason, dispute_type=dispute_type
            )

    def amazon_decides(self, pick: int, outcome: str) -> None:
        """Amazon (or the buyer) moves an open dispute on: one of its declared events."""
        disputes = self._in_state("Dispute", _DISPUTE_OUTCOMES[outcome])
        if disputes:
            self.sim.amazon_event(disputes[pick % len(disputes)], outcome)

    limits: ClassVar[Limits]

    @precondition(lambda self: self._may_dispute("buyer_disputes", "Dispute", ("ActionRequired",)))
    @rule(limit=st.sampled_from(DISPUTE_LIMITS), offset=st.sampled_from(OFFSETS))
    def amazon_dispute_window_passes(self, limit: str, offset: int) -> None:
        """Exactly L − 1 s, L or L + 1 s of a Dispute Window passes (11 or 7 days)."""
        __tracebackhide__ = True
        value = self.limits.durations()[limit] + timedelta(seconds=offset)
        self._amazon_step("wait", (value,))

    @precondition(lambda self: self._may_dispute("buyer_disputes", "Charge", ("Captured",)))
    @rule(
        pick=_PICKS,
        filing_reason=st.sampled_from(FILING_REASONS),
        dispute_type=st.sampled_from(DISPUTE_TYPES),
    )
    def amazon_buyer_disputes(self, pick: int, filing_reason: str, dispute_type: str) -> None:
        """A dispute arrives: the buyer files on a captured charge (its window then runs
        out with the deadline waits unless the integration contests)."""
        __tracebackhide__ = True
        self._amazon_step("buyer_disputes", (pick, filing_reason, dispute_type))

    @precondition(lambda self: self._may_dispute("amazon_decides", "Dispute", _OPEN_DISPUTES))
    @rule(pick=_PICKS, outcome=st.sampled_from(tuple(_DISPUTE_OUTCOMES)))
    def amazon_decides_dispute(self, pick: int, outcome: str) -> None:
        """Amazon decides a dispute, asks for more evidence, or the buyer withdraws."""
        __tracebackhide__ = True
        self._amazon_step("amazon_decides", (pick, outcome))


#: The rules' names (hidden on a machine that declares the deprecated business_events).
AMAZON_RULES: Final = tuple(
    name for name, value in vars(AmazonRules).items() if hasattr(value, "hypothesis_stateful_rule")
)


def story(log: Sequence[LogRecord], start: datetime) -> str:
    """A failing run's story: every call your integration made and every buyer and Amazon
    action, each with the time (from the run's start) and Amazon Pay's answer."""
    lines = ["apfsm story of this run (time since start · who · what → Amazon Pay's answer):"]
    for record in log:
        elapsed = record.at - start
        who = {"api": "you", "buyer": "buyer", "amazon": "amazon"}[record.kind]
        if record.error_code:
            answer = f"{record.status} {record.error_code}"
        else:
            body = record.response or {}
            state = body.get("statusDetails", {}).get("state")
            answer = f"{record.status}" + (f" {state}" if state else "")
        extra = f" [{record.simulation_code}]" if record.simulation_code else ""
        target = f" {record.object_id}" if record.object_id else ""
        lines.append(f"  +{elapsed} · {who} · {record.operation}{target}{extra} → {answer}")
    return "\n".join(lines)
