"""Windows that an operation's checks read from the object's JSON, for ``explore()``
(docs/testing.md): the operation is accepted in the state, but one of its checks refuses it
once an instant the object shows has passed (SPEC §2's boundary rule).

One so far: Contest Dispute's Dispute Window, the dispute's ``merchantResponseDeadline``
(null while the buyer is asked: no window; docs/dispute.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from apfsm._clock import parse_timestamp
from apfsm._spec import CHECKS, OPERATIONS, Lifecycle, Limits

__all__ = ["WINDOW_CHECKS", "check_windows", "closed_window"]


def _merchant_response_deadline(current: Mapping[str, Any]) -> datetime | None:
    text = current.get("merchantResponseDeadline")
    return None if text is None else parse_timestamp(text)


#: Per check: the instant it holds until, read from the object's JSON (None: never ends).
_READERS: Final[Mapping[str, Callable[[Mapping[str, Any]], datetime | None]]] = {
    "contest_within_dispute_window": _merchant_response_deadline,
}
WINDOW_CHECKS: Final = frozenset(_READERS)


def check_windows(
    lifecycle: Lifecycle, state: str, current: Mapping[str, Any]
) -> dict[str, datetime]:
    """The end of each window a check of an operation accepted in ``state`` reads."""
    ends = {}
    for op in OPERATIONS.values():
        if op.target != lifecycle.object_type or not any(
            a.operation == op.name and state in a.sources for a in lifecycle.allows
        ):
            continue
        for check in op.checks:
            reader = _READERS.get(check)
            end = None if reader is None else reader(current)
            if end is not None:
                ends[check] = end
    return ends


def closed_window(
    operation: str, at: datetime, ends: Mapping[str, datetime], limits: Limits
) -> str | None:
    """The code of the first check of ``operation`` whose window has closed at ``at``."""
    for check in OPERATIONS[operation].checks:
        end = ends.get(check) if check in WINDOW_CHECKS else None
        if end is not None and limits.ttl_passed(end, at):
            return CHECKS[check].code
    return None
