"""``Store``: everything the simulator holds — and nothing it does.

Objects by id, the counters that make ids and order events, the scheduled events, the
idempotency keys' answers, the notifications emitted and the call log. The collaborators
(``effects``, ``scheduler``, ``idempotency``, ``calls``) are behaviour over a store; a
snapshot is a store written out (``snapshots``), and a simulator restored from one is a
store read back in.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from typing import Any, Final

import attrs

from .journal import Dirty, Journal
from .log import CallLog, Idempotent, Slot
from .records import ChargeRecord, Record, RefundRecord
from .scheduled import Entry

__all__ = ["Store"]

COUNTERS: Final = ("object", "event", "notification", "id")


def _digits(seed: str, count: int) -> str:
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    return f"{number % 10**count:0{count}d}"


class Store:
    """The simulator's whole state (module docs).

    Attributes:
        merchant_id: the merchant the objects belong to (ids and notifications use it).
        seed: the salt ids are made with (SPEC §1: ids differ between two fresh
            simulators, as Amazon's do; the same seed makes the same ids). ``""`` is the
            salt of snapshots written before seeds existed.
        objects: every stored object by id, in creation order.
        counters: ``object`` (creation order), ``event`` (scheduling order),
            ``notification`` and ``id`` (the numbers ids are made from).
        queue: the scheduled events, a heap (``scheduler.Scheduler`` keeps it).
        keys: what each idempotency key remembers, by (operation, key): keys count per
            operation (``idempotency.IdempotencyKeys``).
        notifications: the IPN messages emitted, in emission order (all of them, or the
            newest ``max_notifications``: ``notify``).
        notifications_dropped: how many of the oldest were dropped by the cap (the
            message at position ``i`` is the ``notifications_dropped + i``-th, from 0).
        max_notifications: the cap (``Simulator.retain``), or None: keep every one.
        log: one record per call.
        journal: counts changes and feeds the change cursors (not saved: cursors watch a
            running simulator).
        dirty: what changed since the last ``--state`` checkpoint (``journal.Dirty``).
    """

    def __init__(self, merchant_id: str, seed: str = "") -> None:
        self.merchant_id = merchant_id
        self.seed = seed
        self.objects: dict[str, Record] = {}
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.queue: list[Entry] = []
        self.keys: dict[Slot, Idempotent] = {}
        self.notifications: list[dict[str, Any]] = []
        self.notifications_dropped = 0
        self.max_notifications: int | None = None
        self.log = CallLog()
        self.journal = Journal()
        #: What changed since the last ``--state`` checkpoint (None when none is kept).
        self.dirty: Dirty | None = None
        #: The Reports API's state as JSON read from a snapshot (``ReportBook.to_json``;
        #: docs/reports.md), for the book to load; ``reports_json()`` is its current one.
        self.reports: dict[str, Any] | None = None
        #: The book's ``to_json`` once it holds state (set by it), else None: called when
        #: a snapshot or checkpoint is taken, not on every report call (issue 16: a
        #: whole-state copy a call took 0.25 s at 26,000 reports).
        self.reports_source: Callable[[], dict[str, Any]] | None = None
        #: The book's ``row``: one row of its ``to_json`` by (table, id), for an
        #: incremental checkpoint (``Dirty.reports`` names the rows changed).
        self.reports_row: Callable[[str, str], Any] | None = None

    def reports_json(self) -> dict[str, Any] | None:
        """The Reports API's state as JSON now (None: it never held any)."""
        if self.reports_source is not None:
            return self.reports_source()
        return self.reports

    # -- notifications ------------------------------------------------------------------

    @property
    def notifications_emitted(self) -> int:
        """How many IPN messages were ever emitted (kept and dropped)."""
        return self.notifications_dropped + len(self.notifications)

    def notify(self, message: dict[str, Any]) -> None:
        """Keep one emitted IPN message, then apply the cap (``trim_notifications``)."""
        self.notifications.append(message)
        limit = self.max_notifications
        if limit is not None and len(self.notifications) > limit:
            self.trim_notifications()

    def trim_notifications(self) -> None:
        """Drop the oldest messages over ``max_notifications``: a batch at a time (a
        32nd of the cap, at most 1,024), so a full list is not shifted on every message;
        at most the cap is kept. A rule on counts alone: a restart replaying its journal
        keeps what the first run kept."""
        limit = self.max_notifications
        if limit is None or len(self.notifications) <= limit:
            return
        batch = max(1, min(1024, limit // 32))
        drop = len(self.notifications) - limit + batch - 1
        del self.notifications[:drop]
        self.notifications_dropped += drop

    # -- objects ------------------------------------------------------------------------

    def get(self, object_id: object, object_type: str | None = None) -> Record | None:
        """The object with this id (of this type), or None."""
        try:
            record: Record | None = self.objects.get(object_id)  # type: ignore[call-overload]
        except TypeError:  # an unhashable "id" (a body's list, say) names nothing
            return None
        if record is None or (object_type is not None and record.object_type != object_type):
            return None
        return record

    def put(self, record: Record) -> None:
        """Store a new object (journaled)."""
        self.objects[record.id] = record
        self.changed(record.id)

    def delete(self, object_id: str) -> None:
        """Delete an object (journaled; SPEC §2 retention)."""
        del self.objects[object_id]
        self.changed(object_id)

    def ordered(self, object_type: str | None = None) -> list[Record]:
        """The stored objects (of one type), in creation order."""
        records = sorted(self.objects.values(), key=lambda r: r.seq)
        return [r for r in records if object_type is None or r.object_type == object_type]

    def changed(self, object_id: str) -> None:
        """Journal a change to ``object_id`` and to the objects whose JSON follows it: a
        refund's charge (its refunded amount), a charge's permission (its balance)."""
        journal = self.journal
        if not journal.cursors:
            journal.count += 1  # nobody reads the ids: counting is all a change costs
            return
        ids = [object_id]
        record = self.objects.get(object_id)
        while isinstance(record, RefundRecord | ChargeRecord):
            parent = (
                record.charge_id
                if isinstance(record, RefundRecord)
                else record.charge_permission_id
            )
            ids.append(parent)
            record = self.objects.get(parent)
        self.journal.record(*ids)

    # -- numbers and ids (SPEC §1: shapes observed on Amazon's) --------------------------

    def _salted(self, text: str) -> str:
        return f"{self.seed}/{text}" if self.seed else text

    def next(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def new_session_id(self) -> str:
        """A Checkout Session id: a UUID."""
        number = self.next("id")
        digest = hashlib.sha256(self._salted(f"{self.merchant_id}/cs/{number}").encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def new_permission_id(self) -> str:
        """A Charge Permission id: ``S01-1234567-1234567``."""
        while True:
            number = self.next("id")
            digits = _digits(self._salted(f"{self.merchant_id}/cp/{number}"), 14)
            candidate = f"S01-{digits[:7]}-{digits[7:]}"
            if candidate not in self.objects:
                return candidate

    def new_child_id(self, permission_id: str, letter: str) -> str:
        """A Charge (``C``), Refund (``R``) or Dispute (``B``: dispute.html's examples,
        ``P01-1111111-1111111-B123456``) id: ``<permission id>-C123456``.

        Six digits, as Amazon's own examples show (``S01-5105180-3221187-C056351``,
        ``...-R022311``: developer.amazon.com/docs/amazon-pay-api-v2/refund.html, and the
        Java SDK's RefundTest); SPEC §1 wrote seven.
        """
        while True:
            number = self.next("id")
            candidate = (
                f"{permission_id}-{letter}{_digits(self._salted(f'{permission_id}/{number}'), 6)}"
            )
            if candidate not in self.objects:
                return candidate

    def new_buyer_token(self) -> tuple[str, str]:
        """A buyer token and the buyerId it reads (SPEC §11): the token opaque, 43
        characters of ``A-Za-z0-9-_`` (safe in a path); the id ``amzn1.account.`` and 28
        upper-case letters and digits, as the Node SDK's sandbox test expects
        (``buyerId.startsWith('amzn1.account.')``)."""
        number = self.next("id")
        digest = hashlib.sha256(self._salted(f"{self.merchant_id}/by/{number}").encode()).digest()
        token = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        account = base64.b32encode(hashlib.sha256(digest).digest()).decode()[:28]
        return token, f"amzn1.account.{account}"

    def new_file_id(self) -> str:
        """An Upload File id: ``file_`` and 20 lower-case hex digits (file.html's example
        is ``file_sdcjscbjckndjhckj``)."""
        number = self.next("id")
        text = hashlib.sha256(self._salted(f"{self.merchant_id}/file/{number}").encode())
        return f"file_{text.hexdigest()[:20]}"

    def notification_id(self) -> str:
        """The ``NotificationId`` of the next IPN message: a UUID."""
        number = self.next("notification")
        text = hashlib.sha256(self._salted(f"{self.merchant_id}/n/{number}").encode()).hexdigest()[
            :32
        ]
        return str(uuid.UUID(text))

    # -- pictures of the state --------------------------------------------------------

    def fingerprint(self) -> tuple[Any, ...]:
        """A comparable picture of everything a call can change (``state_fingerprint``)."""
        records = tuple(
            (
                record.id,
                tuple(
                    tuple(c.id for c in value) if isinstance(value, list) else _frozen(value)
                    for value in (getattr(record, f.name) for f in attrs.fields(type(record)))
                ),
            )
            for record in self.objects.values()
        )
        # The queue in time order: a heap's layout is not state (a restored heap differs).
        queue = tuple(sorted(self.queue))
        return (records, queue, tuple(self.counters.items()), self.notifications_emitted)

    def marker(self) -> tuple[int, ...]:
        """A mark that moves with every change (``change_marker``)."""
        return (
            self.journal.count,
            *self.counters.values(),
            len(self.queue),
            self.notifications_emitted,
        )

    def __repr__(self) -> str:
        return f"<Store {self.merchant_id}: {len(self.objects)} objects, {len(self.log)} calls>"


def _frozen(value: Any) -> Any:
    """An immutable, comparable copy of decoded JSON."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value
