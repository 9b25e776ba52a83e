"""What a change sets off: a state entered, its timers, the linked objects' consequences,
the notification and the journal (SPEC §2, §4–§7).

``Effects`` is the one place objects change state — whether a merchant call, the buyer,
Amazon or the clock moves them — so every path schedules the same timers, applies the same
consequences to the permission above a charge, and notifies alike.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime
from typing import Final

from apfsm._errors import ActionRefused
from apfsm._spec import DELETED, DISPUTE_RESOLUTION_BY_TRIGGER, LIFECYCLES, SAME, Limits

from .notifications import Outbox
from .records import ChargePermissionRecord, ChargeRecord, DisputeRecord, Record
from .scheduled import Timer
from .scheduler import EVENTS, TIMERS, TIMERS_FROM, Scheduler
from .store import Store

__all__ = ["Effects"]

#: The code a refusal by state answers, per object type (the codes its refusals use; a
#: Refund is refused by nothing, so an impossible event on it is an invalid request).
STATE_ERRORS: Final = {
    lc.object_type: next(
        (r.code for r in lc.refusals if r.code != "ResourceNotFound"), "InvalidRequest"
    )
    for lc in LIFECYCLES.values()
}


class Effects:
    """Changes objects (module docs)."""

    def __init__(self, store: Store, scheduler: Scheduler, outbox: Outbox, limits: Limits) -> None:
        self.store = store
        self.scheduler = scheduler
        self.outbox = outbox
        self.limits = limits
        #: The instant last settled: the current call's or action's (the JSON it answers
        #: is as of then — a one-time permission's buyer, SPEC §11).
        self.now = datetime.min.replace(tzinfo=UTC)
        #: When a permission's JSON drops its buyer (SPEC §11), by (instant, seq,
        #: id): a change the clock makes without a state change, journaled when it passes.
        #: Rebuilt from the records (after a restore, ones already passed journal once more:
        #: harmless).
        self._buyer_drops: list[tuple[datetime, int, str]] = []
        for record in store.objects.values():
            self._watch_buyer(record)

    def add(self, record: Record) -> None:
        """Store a new object in its first state and schedule that state's timers."""
        self.store.put(record)
        self._watch_buyer(record)
        for timer in TIMERS_FROM.get((record.object_type, record.state), ()):
            self.scheduler.timer(record, timer.name)

    def enter(self, record: Record, state: str, reason: str | None, stamp: datetime) -> None:
        """Move ``record`` to ``state``: schedule its timers, apply SPEC's side effects,
        and notify (SPEC §4–§7)."""
        previous = record.state
        self.store.changed(record.id)
        record.state = state
        record.updated_at = stamp
        if isinstance(record, ChargePermissionRecord):
            record.reasons = () if reason is None else (reason,)
            if state == "Closed" and previous != "Closed":
                record.closed_at = stamp
                if record.permission_type != "OneTime":  # its buyer's 30 days start now
                    self._watch_buyer(record)
        else:
            record.reason = reason
        if isinstance(record, ChargeRecord) and state == "Authorized":
            record.authorized_at = stamp  # the 30-day timer counts from here (SPEC §2)
        if isinstance(record, DisputeRecord) and state == "ActionRequired":
            record.action_required_at = stamp  # its response window counts from here
        for timer in TIMERS_FROM.get((record.object_type, state), ()):
            if previous not in timer.sources or previous == state:
                self.scheduler.timer(record, timer.name)  # else it is scheduled already
        self.outbox.notify(record)
        if isinstance(record, ChargeRecord):
            # Consequences on the permission follow the charge's own change.
            self._charge_entered(record, state, reason, stamp)

    def event(self, record: Record, name: str, reason: str | None, stamp: datetime) -> None:
        """Apply the declared event ``name`` (the buyer's or Amazon's) to ``record``.

        Raises:
            ActionRefused: the event cannot happen in the object's state, or the reason is
                not one the event allows.
        """
        object_type = record.object_type
        decl = EVENTS[(object_type, name)]
        if record.state not in decl.sources:
            raise ActionRefused(
                STATE_ERRORS[object_type],
                f"{name} cannot happen to a {object_type} in state {record.state} "
                f"(only in {', '.join(decl.sources)})",
            )
        if decl.reason is not None:
            if reason is not None and reason != decl.reason:
                raise ActionRefused(
                    "InvalidParameterValue", f"{name} always has reason {decl.reason}"
                )
            reason = decl.reason
        elif decl.reasons:
            if reason is None:
                reason = decl.reasons[0]
            elif reason not in decl.reasons:
                raise ActionRefused(
                    "InvalidParameterValue",
                    f"{name} takes a reason among {', '.join(decl.reasons)}; got {reason!r}",
                )
        elif reason is not None:
            raise ActionRefused("InvalidParameterValue", f"{name} takes no reason")
        if decl.dest == SAME:
            if isinstance(record, ChargePermissionRecord) and reason is not None:
                self._add_reason(record, reason, stamp)
            return
        if (
            isinstance(record, ChargePermissionRecord)
            and decl.dest == "NonChargeable"
            and record.state == "NonChargeable"
        ):
            assert reason is not None
            self._add_reason(record, reason, stamp)
            return
        if isinstance(record, DisputeRecord):
            record.resolution = DISPUTE_RESOLUTION_BY_TRIGGER.get(name, record.resolution)
        self.enter(record, decl.dest, reason, stamp)

    def settle(self, now: datetime) -> None:
        """Apply every scheduled event due at ``now``, in time order (SPEC §2)."""
        self.now = now
        self._drop_buyers(now)
        queue = self.store.queue
        if not queue or (now <= queue[0][0] if queue[0][1] else now < queue[0][0]):
            return  # every call settles first: most of the time nothing is due
        self._run_due(now)
        # A permission that closed on the way may have passed its buyer's retention too.
        self._drop_buyers(now)

    def _drop_buyers(self, now: datetime) -> None:
        drops = self._buyer_drops
        while drops and self.limits.ttl_passed(drops[0][0], now):
            _, _, object_id = heapq.heappop(drops)
            if object_id in self.store.objects:
                self.store.changed(object_id)

    def _run_due(self, now: datetime) -> None:
        for due, action in self.scheduler.due(now):
            record = self.store.get(action.object_id)
            if record is None:
                continue
            if isinstance(action, Timer):
                self._fire_timer(record, action.name, due)
            else:
                decl = EVENTS[(record.object_type, action.event)]
                if record.state in decl.sources:  # else overtaken (e.g. canceled meanwhile)
                    self.event(record, action.event, action.reason, due)

    def _watch_buyer(self, record: Record) -> None:
        if isinstance(record, ChargePermissionRecord):
            due = record.buyer_until(self.limits)
            if due is not None:
                heapq.heappush(self._buyer_drops, (due, record.seq, record.id))

    def _fire_timer(self, record: Record, name: str, due: datetime) -> None:
        timer = TIMERS[(record.object_type, name)]
        if record.state not in timer.sources:
            return  # the object left the state the timer governs
        deadline = self.scheduler.deadline(record, name)
        if deadline > due:
            # Restarted meanwhile (a recurring permission's charge): the restart scheduled
            # the new deadline already; this entry is stale.
            return
        if timer.dest == DELETED:
            self.store.delete(record.id)
            return
        if isinstance(record, DisputeRecord):
            record.resolution = DISPUTE_RESOLUTION_BY_TRIGGER.get(name, record.resolution)
        self.enter(record, timer.dest, timer.reason, deadline)

    def _add_reason(self, record: ChargePermissionRecord, reason: str, stamp: datetime) -> None:
        self.store.changed(record.id)
        if reason not in record.reasons:
            record.reasons = (*record.reasons, reason)
            record.updated_at = stamp
            self.outbox.notify(record)

    def _charge_entered(
        self, charge: ChargeRecord, state: str, reason: str | None, stamp: datetime
    ) -> None:
        permission = self.store.get(charge.charge_permission_id, "ChargePermission")
        assert isinstance(permission, ChargePermissionRecord)
        if state in ("Authorized", "Captured"):
            if state == "Captured" and charge.capture_amount is None:
                charge.capture_amount = charge.amount
            if (
                permission.permission_type != "OneTime"
                and self.limits.recurring_ttl_restarts_on_charge
            ):
                # [S] A successful charge restarts a recurring permission's 13 months.
                permission.last_charge_at = stamp
                self.scheduler.timer(permission, "expire")
        if (
            state == "Captured"
            and permission.amount_limit is not None
            and permission.state != "Closed"
            and permission.captured_total >= permission.amount_limit
        ):
            self.event(permission, "balance_used_up", None, stamp)
        if state == "Declined" and permission.state != "Closed":
            # SPEC §5: decline side effects on the permission.
            if reason == "AmazonRejected":
                self.event(permission, "amazon_cancel", None, stamp)
            elif (
                reason == "HardDeclined"
                and permission.permission_type != "OneTime"
                and permission.state == "Chargeable"
            ):
                self.event(permission, "hard_decline", None, stamp)
