"""Retries judged against Amazon's advice (issue 15, decline guidance): an integration must
not retry what cannot succeed, and — when the test asks — must retry what can.

``RetryWatch`` sees every call ``WatchedSimulator`` passes on and reads objects through a
callable, so it needs no simulator of its own:

* a **hopeless retry** is a call of an operation on a target after that target's last
  answer to the same operation was a code only the buyer can resolve (``advise`` says
  ``resolution == "buyer"`` and no retry: ``HardDeclined``, ``AmazonRejected``,
  ``PaymentMethodNotAllowed``, ``MFANotCompleted``, ``CheckoutSessionCanceled``), while the
  target's ``statusDetails`` are as they were then — nothing the buyer did since; and a
  Create Charge on a permission whose newest charge was declined so (also asynchronously, a
  pending authorization declined later) with nothing changed on the permission since;
* an **overdue retry** (only with ``retry_within``) is a decline Amazon says may pass on
  retry (``SoftDeclined``, ``ProcessingFailure``) on a permission still ``Chargeable``, with
  no newer charge on it ``retry_within`` after the decline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from apfsm._advice import advise
from apfsm._clock import parse_timestamp

__all__ = ["RetryWatch"]

Reader = Callable[[str], Mapping[str, Any] | None]


def _status(body: Mapping[str, Any] | None) -> object:
    return None if body is None else body.get("statusDetails")


def _hopeless(code: str) -> bool:
    advice = advise(code)
    return advice is not None and advice.resolution == "buyer" and not advice.retry


def _updated(body: Mapping[str, Any]) -> datetime | None:
    stamp = (body.get("statusDetails") or {}).get("lastUpdatedTimestamp")
    return parse_timestamp(stamp) if isinstance(stamp, str) else None


class RetryWatch:
    """Judges an integration's retries (module docs).

    Args:
        read: an object's current JSON by id (None when there is none).
        charges_of: the ids of a charge permission's charges, oldest first.
        retry_within: how soon a retryable decline must be retried, or None not to ask.
    """

    def __init__(
        self,
        read: Reader,
        charges_of: Callable[[str], list[str]],
        retry_within: timedelta | None = None,
    ) -> None:
        self._read = read
        self._charges_of = charges_of
        self.retry_within = retry_within
        # (operation, target) -> (code, the target's statusDetails after that answer)
        self._refused: dict[tuple[str, str], tuple[str, object]] = {}

    def before(self, operation: str, target: object) -> str | None:
        """Why calling ``operation`` on ``target`` now is a hopeless retry, or None."""
        if not isinstance(target, str):
            return None
        body = self._read(target)
        last = self._refused.get((operation, target))
        if last is not None and last[1] == _status(body):
            return (
                f"the integration called {operation} on {target} again after Amazon Pay "
                f"answered {last[0]}, with nothing changed since: {_advice_text(last[0])}"
            )
        if operation == "create_charge" and body is not None:
            return self._declined_charge(target, body)
        return None

    def _newest_decline(self, permission: str) -> tuple[Mapping[str, Any], str] | None:
        """The permission's newest charge and its reason code, when that charge is Declined."""
        charges = self._charges_of(permission)
        newest = self._read(charges[-1]) if charges else None
        status = _status(newest)
        if newest is None or not isinstance(status, Mapping):
            return None
        code = status.get("reasonCode")
        if status.get("state") != "Declined" or not isinstance(code, str):
            return None
        return newest, code

    def _declined_charge(self, permission: str, body: Mapping[str, Any]) -> str | None:
        decline = self._newest_decline(permission)
        if decline is None or not _hopeless(decline[1]):
            return None
        newest, code = decline
        declined, changed = _updated(newest), _updated(body)
        if declined is not None and changed is not None and changed > declined:
            return None  # the permission changed after the decline: the buyer acted
        return (
            f"the integration called create_charge on {permission} after its charge "
            f"{newest.get('chargeId')} was declined {code}, with nothing changed on the "
            f"permission since: {_advice_text(code)}"
        )

    def answered(self, operation: str, target: object, code: str | None) -> None:
        """Record an answer: an error ``code``, or None for success."""
        if not isinstance(target, str):
            return
        if code is not None and _hopeless(code):
            self._refused[operation, target] = (code, _status(self._read(target)))
        else:
            self._refused.pop((operation, target), None)

    def overdue(self, permissions: list[str], now: datetime) -> list[str]:
        """The retryable declines on ``permissions`` left unretried for ``retry_within``."""
        if self.retry_within is None:
            return []
        late = []
        for permission in permissions:
            body = self._read(permission)
            decline = self._newest_decline(permission)
            if body is None or decline is None or _status(body) is None:
                continue
            newest, code = decline
            status = newest["statusDetails"]
            advice = advise(code)
            when = _updated(newest)
            if (
                advice is not None
                and advice.retry
                and (body.get("statusDetails") or {}).get("state") == "Chargeable"
                and when is not None
                and now - when > self.retry_within
            ):
                late.append(
                    f"charge {newest.get('chargeId')} on {permission} was declined {code} "
                    f"at {status.get('lastUpdatedTimestamp')} and not retried within "
                    f"{self.retry_within} (retry_within): {_advice_text(code)}"
                )
        return late


def _advice_text(code: str) -> str:
    advice = advise(code)
    return "" if advice is None else f"Amazon's advice for {code} — {advice.action}"
