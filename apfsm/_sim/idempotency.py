"""Idempotency keys (SPEC §7): take a key, answer a repeat, refuse a reuse.

Keys count per operation (a departure from SPEC §7's one space per merchant, on Amazon's
evidence: the Node SDK's live-sandbox test ``tst/webStoreClientTest.js`` sends one key on
createCheckoutSession, createCharge, captureCharge, createDispute, contestDispute... and
expects each to succeed): ``store.keys`` is keyed by (operation, key), and the same key on
another operation is a new, independent request.

A key is taken before its request is processed, under a lock of its own, so a duplicate
arriving while the first request is still being processed is told so at once
(``TransactionInProgress``) instead of waiting behind it. Once the first request is
answered, the key remembers the answer — by the number of its log record, the log being
the one store of answers — and the same request again gets that answer, success or
refusal; a different request with the key is ``DuplicateIdempotencyKey``.

Amazon stores keys indefinitely ("idempotency keys are unique to each Amazon Pay merchant
account and they are stored indefinitely": developer.amazon.com/docs/amazon-pay-api-v2/
idempotency.html), and so does the simulator by default. A long-running server can bound
them (``Simulator.retain``, ``apfsm serve --max-idempotency-keys``): the oldest keys are
forgotten first, and so is a key whose answer has left a capped call log (the log is where
the answer is) — a forgotten key is a new key again.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import attrs

from apfsm._errors import ApiError
from apfsm._spec import Limits

from .handlers import Response
from .log import Idempotent, Slot, StoredError, digest, dumps
from .store import Store

__all__ = ["IdempotencyKeys", "valid_key"]

_KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+\Z")


def valid_key(key: object, limits: Limits) -> bool:
    """Whether ``key`` is 1 to ``idempotency_key_max_length`` characters of
    ``A-Za-z0-9-_`` (else the call is ``InvalidHeaderValue``); the Reports API's keys too."""
    return (
        isinstance(key, str)
        and 1 <= len(key) <= limits.idempotency_key_max_length
        and _KEY_PATTERN.match(key) is not None
    )


class IdempotencyKeys:
    """Keeps ``store.keys``, by (operation, key) (module docs)."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits
        self._lock = threading.Lock()  # never held with the simulator's own lock
        #: Keep at most this many keys (None: all, as Amazon).
        self.max_keys: int | None = None
        # The keys in the order they were taken, with their entry (a key forgotten and
        # taken again is a new entry: only the current one counts).
        self._order: deque[tuple[Slot, Idempotent]] = deque(store.keys.items())

    def valid(self, key: object) -> bool:
        """Whether ``key`` is a valid key (``valid_key``)."""
        return valid_key(key, self._limits)

    @staticmethod
    def fingerprint(
        operation: str, object_id: str | None, body: Any, simulation_code: str | None
    ) -> str:
        """What makes two requests "the same request" for a key."""
        return digest(dumps([operation, object_id, body, simulation_code]))

    def run(
        self,
        operation: str,
        key: str,
        fingerprint: str,
        call: Callable[[], tuple[Response, int]],
        repeat: Callable[[Idempotent], Response],
    ) -> Response:
        """Answer a request with idempotency key ``key``.

        Args:
            operation: the operation called: its keys are its own (module docs).
            key: a valid key.
            fingerprint: the request's (``fingerprint``).
            call: makes the call for the first time; returns the answer and its log number.
            repeat: answers a request whose key was seen before, given what the key holds
                (a copy): in progress, the same request, or a different one.
        """
        keys = self._store.keys
        slot = (operation, key)
        with self._lock:
            entry = keys.get(slot)
            if entry is not None and self._answer_lost(slot, entry):
                self._forget(slot)
                entry = None
            if entry is None:
                entry = keys[slot] = Idempotent(fingerprint)
                self._order.append((slot, entry))
                if self._store.dirty is not None:
                    self._store.dirty.key_taken(slot)
                seen = None
            else:
                seen = attrs.evolve(entry)
        if seen is not None:
            return repeat(seen)
        try:
            response, seq = call()
        except ApiError as err:
            with self._lock:
                entry.pending = False
                entry.status = err.http_status
                entry.error = StoredError(err.reason_code, err.http_status, err.message)
            self._settled(slot)
            raise
        except BaseException:
            with self._lock:
                self._forget(slot)
            raise
        with self._lock:
            entry.pending = False
            entry.status = response.status
            entry.log_seq = seq
        self._settled(slot)
        return response

    def _settled(self, slot: Slot) -> None:
        dirty = self._store.dirty
        if dirty is not None:
            dirty.key_changed(slot)
        self.trim()

    def _answer_gone(self, entry: Idempotent) -> bool:
        """Whether ``entry``'s answer was a log record the capped log has dropped."""
        return (
            not entry.pending
            and entry.error is None
            and 0 < entry.log_seq < self._store.log.first_seq
        )

    def _answer_lost(self, slot: Slot, entry: Idempotent) -> bool:
        """Whether ``entry``'s answer is not the log record it names: the capped log
        dropped it (``_answer_gone``, which ``trim`` checks cheaply), or a snapshot taken
        with ``log=False`` held the key but not the record, and the restored log numbers
        its records from 1 again. Such a key is forgotten — a new key again — rather than
        answered with another request's record."""
        if entry.pending or entry.error is not None or entry.log_seq <= 0:
            return False
        record = self._store.log.by_seq(entry.log_seq)
        return record is None or (record.operation, record.idempotency_key) != slot

    def _forget(self, slot: Slot) -> None:
        self._store.keys.pop(slot, None)
        if self._store.dirty is not None:
            self._store.dirty.key_changed(slot)

    def retain(self, max_keys: int | None) -> None:
        """Keep at most ``max_keys`` keys (None: all), counting each (operation, key)
        once; forgets the oldest now."""
        if max_keys is not None and max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        self.max_keys = max_keys
        self.trim()

    def trim(self) -> None:
        """Forget the oldest keys over ``max_keys``, and the oldest whose answer has left
        the call log (amortised O(1) a call: each key is forgotten once)."""
        keys, order = self._store.keys, self._order
        with self._lock:
            while order:
                slot, entry = order[0]
                if keys.get(slot) is not entry:
                    order.popleft()  # forgotten already, or taken again since
                elif (self.max_keys is not None and len(keys) > self.max_keys) or (
                    self._answer_gone(entry)
                ):
                    order.popleft()
                    self._forget(slot)
                else:
                    return
