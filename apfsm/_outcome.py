"""``Outcome``: what Amazon Pay would answer to one call."""

from __future__ import annotations

from typing import Any

import attrs

from ._errors import ApiError
from ._spec import ERRORS

__all__ = ["Outcome"]


@attrs.frozen(repr=False)
class Outcome:
    """The predicted answer to one call: accepted with a next state, or refused.

    Outcomes are immutable and may be shared; ``error`` builds a fresh ``ApiError`` each
    time it is read, so raising it never entangles tracebacks of unrelated calls.

    Attributes:
        next_state: for a create call, the new object's state (``create_charge`` →
            ``"Authorized"``...); otherwise the target's state after the call. None when
            refused.
        http_status: the HTTP status of the answer (201 for creates, 202 for a pending
            completion, the error's status when refused).
        reason_code: the error code when refused, else None.
        message: the error message when refused, else None.
        created: ``(object_type, state)`` of every object the call creates, e.g.
            ``complete_checkout_session`` → ``(("ChargePermission", "Chargeable"),
            ("Charge", "Authorized"))``.
    """

    next_state: str | None
    http_status: int = 200
    reason_code: str | None = None
    message: str | None = None
    created: tuple[tuple[str, str], ...] = ()

    @classmethod
    def refused(cls, code: str, message: str) -> Outcome:
        return cls(None, ERRORS[code].http_status, code, message)

    @property
    def ok(self) -> bool:
        """True when Amazon Pay would accept the call."""
        return self.reason_code is None

    @property
    def error(self) -> ApiError | None:
        """The ``ApiError`` Amazon Pay would answer with, or None when accepted."""
        if self.reason_code is None:
            return None
        return ApiError(self.reason_code, self.http_status, self.message or "")

    def raise_for_error(self) -> None:
        """Raise the predicted ``ApiError`` when refused; do nothing when accepted."""
        error = self.error
        if error is not None:
            raise error

    def to_json(self) -> dict[str, Any]:
        """``{"ok", "next_state", "http_status", "error": {reasonCode, message} | null}``."""
        error = self.error
        return {
            "ok": self.ok,
            "next_state": self.next_state,
            "http_status": self.http_status,
            "error": None if error is None else error.to_json(),
        }

    def __repr__(self) -> str:
        if self.reason_code is None:
            return f"<Outcome ok {self.http_status} → {self.next_state}>"
        return f"<Outcome refused {self.http_status} {self.reason_code}: {self.message}>"
