"""IPN notifications (SPEC §7): the message of a state change, and its delivery.

Every state change of a Charge Permission, Charge, Refund or Dispute (``CHARGEBACK``) emits
a message naming the object (never its state: receivers must GET it). Messages are kept in
the store, in order; a callback, when set, receives each one after the call that caused it
has completed — outside the simulator's lock, so it may call the simulator again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from apfsm._spec import LIFECYCLES

from .records import ChargePermissionRecord, ChargeRecord, DisputeRecord, Record, RefundRecord
from .store import Store

__all__ = ["Notifier", "Outbox"]

Notifier = Callable[[dict[str, Any]], object]

_NOTIFICATION_TYPES: Final = {
    name: lc.notification_type for name, lc in LIFECYCLES.items() if lc.notification_type
}


class Outbox:
    """Writes the messages (into ``store.notifications``) and delivers them."""

    def __init__(self, store: Store, lock: threading.RLock) -> None:
        self._store = store
        self._lock = lock
        self.callback: Notifier | None = None
        self._waiting: list[dict[str, Any]] = []
        self._delivering = threading.local()

    def notify(self, record: Record) -> None:
        """Emit the message of a state change of ``record`` (none for a session)."""
        notification_type = _NOTIFICATION_TYPES.get(record.object_type)
        if notification_type is None:
            return
        if isinstance(record, ChargePermissionRecord):
            permission_id = record.id
        elif isinstance(record, ChargeRecord | DisputeRecord):
            permission_id = record.charge_permission_id
        else:
            assert isinstance(record, RefundRecord)
            charge = self._store.get(record.charge_id, "Charge")
            assert isinstance(charge, ChargeRecord)
            permission_id = charge.charge_permission_id
        store = self._store
        message = {
            "MerchantID": store.merchant_id,
            "ObjectType": notification_type,
            "ObjectId": record.id,
            "ChargePermissionId": permission_id,
            "NotificationType": "STATE_CHANGE",
            "NotificationId": store.notification_id(),
            "NotificationVersion": "V2",
        }
        store.notify(message)  # kept, up to the cap (``Simulator.retain``)
        if self.callback is not None:
            self._waiting.append(message)

    def deliver(self) -> None:
        """Hand what is waiting to the callback, in order, outside the lock. A callback
        that calls the simulator again delivers its own messages when done."""
        if self.callback is None or getattr(self._delivering, "active", False):
            return
        self._delivering.active = True
        try:
            while True:
                with self._lock:
                    if not self._waiting:
                        return
                    message = self._waiting.pop(0)
                callback = self.callback
                if callback is not None:
                    callback(dict(message))
        finally:
            self._delivering.active = False
