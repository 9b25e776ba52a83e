"""``ApiError``: an Amazon Pay error answer, shaped like the wire (SPEC §1, §8)."""

from __future__ import annotations

from typing import Any

from ._spec import ERRORS

__all__ = ["ActionRefused", "ApiError"]


class ApiError(Exception):
    """An error Amazon Pay answers with: ``{"reasonCode", "message"}`` and an HTTP status.

    The code is data, not a subclass: compare ``err.reason_code``. Two errors with the same
    code, status and message compare equal.

    Attributes:
        reason_code: the SPEC §8 code, e.g. ``"InvalidChargeStatus"``.
        http_status: its HTTP status, e.g. ``422``.
        message: a human-readable explanation.
    """

    reason_code: str
    http_status: int
    message: str

    def __init__(self, reason_code: str, http_status: int, message: str) -> None:
        super().__init__(reason_code, http_status, message)
        self.reason_code = reason_code
        self.http_status = http_status
        self.message = message

    @classmethod
    def from_code(cls, code: str, message: str | None = None) -> ApiError:
        """Build the error for a catalog code, taking its HTTP status from ``apfsm.ERRORS``.

        Args:
            code: a code of ``apfsm.ERRORS``.
            message: the explanation; the catalog's one-line description when omitted.

        Raises:
            ValueError: ``code`` is not in the catalog.
        """
        try:
            info = ERRORS[code]
        except KeyError:
            raise ValueError(
                f"unknown Amazon Pay error code {code!r}; known codes are listed in apfsm.ERRORS"
            ) from None
        return cls(code, info.http_status, info.description if message is None else message)

    @property
    def retryable(self) -> bool:
        """Whether retrying can help, from the catalog (False for codes it does not know)."""
        info = ERRORS.get(self.reason_code)
        return info.retryable if info is not None else False

    def to_json(self) -> dict[str, str]:
        """The error body Amazon Pay sends: ``{"reasonCode": ..., "message": ...}``."""
        return {"reasonCode": self.reason_code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.http_status} {self.reason_code}: {self.message}"

    def __repr__(self) -> str:
        return f"ApiError({self.reason_code!r}, {self.http_status!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiError):
            return NotImplemented
        return (self.reason_code, self.http_status, self.message) == (
            other.reason_code,
            other.http_status,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.reason_code, self.http_status, self.message))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason_code, self.http_status, self.message))


class ActionRefused(ValueError):
    """A buyer or Amazon action the simulator cannot take — an unknown object, an event its
    state does not allow, an unknown card or reason.

    A ``ValueError`` (misuse of the simulator, not an API answer), carrying the Amazon Pay
    code a control API answers it with: ``ResourceNotFound`` for an unknown object, the
    object type's status code (``InvalidChargeStatus``...) for a state that does not allow
    the event, ``InvalidParameterValue`` for an unknown card, event or reason.
    """

    reason_code: str

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code

    @property
    def http_status(self) -> int:
        return ERRORS[self.reason_code].http_status

    def to_api_error(self) -> ApiError:
        """The ``ApiError`` a control API answers: this code, its status, the message."""
        return ApiError(self.reason_code, self.http_status, str(self))
