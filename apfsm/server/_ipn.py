"""IPN delivery (SPEC §7): SNS envelopes, a background worker, retries."""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ._wire import MAX_FAILED_DELIVERIES

# The server's one logger, whichever module logs (users configure "apfsm.server").
_log = logging.getLogger("apfsm.server")


def sns_envelope(message: Mapping[str, Any], at: datetime, topic: str) -> dict[str, str]:
    """The SNS notification Amazon Pay wraps each IPN message in (SPEC §7).

    apfsm does not sign it: ``Signature``, ``SigningCertURL`` and ``UnsubscribeURL`` are
    empty.

    Args:
        message: the IPN message (``Simulator.notifications`` holds them).
        at: when it is sent (aware); becomes ``Timestamp``.
        topic: the SNS topic ARN.

    Returns:
        The envelope; ``Message`` is ``message`` as JSON text.
    """
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": json.dumps(dict(message), separators=(",", ":")),
        "Timestamp": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{at.microsecond // 1000:03d}Z",
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": "",
        "UnsubscribeURL": "",
    }


#: How long a reordered notification is held back (``POST /_apfsm/ipn/faults``).
REORDER_HOLD: Final = 1.0


class _Notifier:
    """Delivers envelopes to ``url`` from one background thread: in order, each retried with
    exponential back-off while later ones go on (real delivery can reorder too, SPEC §7)."""

    def __init__(self, url: str, attempts: int, backoff: float, timeout: float = 5.0) -> None:
        self.url = url
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        #: Envelopes given up on after every attempt failed (for inspection): the newest
        #: ``MAX_FAILED_DELIVERIES`` (issue 16: bounded, however long the receiver is down).
        self.failed: deque[dict[str, str]] = deque(maxlen=MAX_FAILED_DELIVERIES)
        self._queue: list[tuple[float, int, int, dict[str, str]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        #: Called with each envelope whose delivery is over (delivered, or given up): a
        #: state file forgets it then (until then a restart delivers it again).
        self.finished: Callable[[dict[str, str]], None] | None = None
        #: Faults injected into the next notifications (``POST /_apfsm/ipn/faults``): how
        #: many still to duplicate, delay (by ``delay_seconds``) or reorder.
        self.faults = {"duplicate": 0, "delay": 0, "reorder": 0}
        self.delay_seconds = 0.0

    def inject(self, fault: str, count: int, seconds: float = 0.0) -> dict[str, Any]:
        """Apply ``fault`` to the next ``count`` notifications: ``duplicate`` (each sent
        twice, the same MessageId), ``delay`` (each held ``seconds``), ``reorder`` (each
        held back ``REORDER_HOLD`` seconds, so what follows it goes first). Returns the
        faults still to apply."""
        with self._cond:
            self.faults[fault] += count
            if fault == "delay":
                self.delay_seconds = seconds
            return self.pending_faults()

    def pending_faults(self) -> dict[str, Any]:
        return {**self.faults, "delaySeconds": self.delay_seconds}

    def submit(self, envelope: dict[str, str]) -> None:
        """Queue one envelope (never blocks on the network), with any injected fault."""
        with self._cond:
            now = time.monotonic()
            due = now
            if self.faults["delay"]:
                self.faults["delay"] -= 1
                due = now + self.delay_seconds
            if self.faults["reorder"]:
                # Held back: the notifications that follow within REORDER_HOLD go first.
                self.faults["reorder"] -= 1
                due += REORDER_HOLD
            heapq.heappush(self._queue, (due, next(self._seq), 1, envelope))
            if self.faults["duplicate"]:
                self.faults["duplicate"] -= 1
                copy = dict(envelope)
                heapq.heappush(self._queue, (due + 0.05, next(self._seq), 1, copy))
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="apfsm-ipn", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker; what is still queued is dropped (and logged)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        if self._queue:
            _log.warning("apfsm: %d IPN notifications not delivered at shutdown", len(self._queue))

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopping:
                    return
                _, _, attempt, envelope = heapq.heappop(self._queue)
            if self._post(envelope):
                self._finish(envelope)
                continue
            if attempt >= self.attempts:
                _log.warning(
                    "apfsm: IPN %s not delivered to %s after %d attempts",
                    envelope["MessageId"],
                    self.url,
                    attempt,
                )
                self.failed.append(envelope)
                self._finish(envelope)
                continue
            due = time.monotonic() + self.backoff * 2 ** (attempt - 1)
            with self._cond:
                heapq.heappush(self._queue, (due, next(self._seq), attempt + 1, envelope))

    def _finish(self, envelope: dict[str, str]) -> None:
        if self.finished is not None:
            self.finished(envelope)

    def _post(self, envelope: dict[str, str]) -> bool:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(envelope, indent=2).encode(),
            method="POST",
            headers={
                # As Amazon Pay (through SNS) sends it: the JSON envelope as text/plain.
                "Content-Type": "text/plain; charset=UTF-8",
                "x-amz-sns-message-type": "Notification",
                "x-amz-sns-message-id": envelope["MessageId"],
                "x-amz-sns-topic-arn": envelope["TopicArn"],
                "User-Agent": "Amazon Simple Notification Service Agent",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return 200 <= int(answer.status) < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            _log.info("apfsm: IPN delivery to %s failed: %s", self.url, exc)
            return False
