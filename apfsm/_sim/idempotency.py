"""Idempotency keys (SPEC §7): take a key, answer a repeat, refuse a reuse.

A key is taken before its request is processed, under a lock of its own, so a duplicate
arriving while the first request is still being processed is told so at once
(``TransactionInProgress``) instead of waiting behind it. Once the first request is
answered, the key remembers the answer — by the number of its log record, the log being
the one store of answers — and the same request again gets that answer, success or
refusal; a different request with the key is ``DuplicateIdempotencyKey``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Final

import attrs

from apfsm._errors import ApiError
from apfsm._spec import Limits

from .handlers import Response
from .log import Idempotent, StoredError, digest, dumps
from .store import Store

__all__ = ["IdempotencyKeys"]

_KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+\Z")


class IdempotencyKeys:
    """Keeps ``store.keys`` (module docs)."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits
        self._lock = threading.Lock()  # never held with the simulator's own lock

    def valid(self, key: object) -> bool:
        """Whether ``key`` is 1 to ``idempotency_key_max_length`` characters of
        ``A-Za-z0-9-_`` (else the call is ``InvalidHeaderValue``)."""
        return (
            isinstance(key, str)
            and 1 <= len(key) <= self._limits.idempotency_key_max_length
            and _KEY_PATTERN.match(key) is not None
        )

    @staticmethod
    def fingerprint(
        operation: str, object_id: str | None, body: Any, simulation_code: str | None
    ) -> str:
        """What makes two requests "the same request" for a key."""
        return digest(dumps([operation, object_id, body, simulation_code]))

    def run(
        self,
        key: str,
        fingerprint: str,
        call: Callable[[], tuple[Response, int]],
        repeat: Callable[[Idempotent], Response],
    ) -> Response:
        """Answer a request with idempotency key ``key``.

        Args:
            key: a valid key.
            fingerprint: the request's (``fingerprint``).
            call: makes the call for the first time; returns the answer and its log number.
            repeat: answers a request whose key was seen before, given what the key holds
                (a copy): in progress, the same request, or a different one.
        """
        keys = self._store.keys
        with self._lock:
            entry = keys.get(key)
            if entry is None:
                entry = keys[key] = Idempotent(fingerprint)
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
            raise
        except BaseException:
            with self._lock:
                del keys[key]
            raise
        with self._lock:
            entry.pending = False
            entry.status = response.status
            entry.log_seq = seq
        return response
