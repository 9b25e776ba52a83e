"""The catalog: error codes, object types, operations' wire names (SPEC §1, §7, §8).

Everything here is data. Behaviour is derived from it elsewhere; nothing in this module
decides anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

__all__ = [
    "ERRORS",
    "OBJECT_TYPES",
    "SANDBOX_CARDS",
    "SIMULATION_CODES",
    "ErrorInfo",
]


@attrs.frozen(repr=False)
class ErrorInfo:
    """One Amazon Pay error code (SPEC §8).

    Attributes:
        code: the ``reasonCode`` Amazon Pay answers with.
        http_status: the HTTP status that goes with it.
        description: one line saying what it means.
        retryable: whether retrying the same request (with back-off) can succeed.
    """

    code: str
    http_status: int
    description: str
    retryable: bool

    def __repr__(self) -> str:
        return (
            f"<ErrorInfo {self.http_status} {self.code}{' (retryable)' if self.retryable else ''}>"
        )


def _e(code: str, status: int, description: str, *, retryable: bool | None = None) -> ErrorInfo:
    # SPEC §8: statuses 408, 425, 429 and 5xx are retryable with back-off unless a code says
    # otherwise.
    if retryable is None:
        retryable = status in {408, 425, 429, 500, 502, 503, 504}
    return ErrorInfo(code=code, http_status=status, description=description, retryable=retryable)


_ERROR_LIST: Final = (
    # 400
    _e("InvalidHeaderValue", 400, "a header has a value of the wrong format or range"),
    _e("InvalidRequest", 400, "the request is not valid for this operation"),
    _e("InvalidParameterValue", 400, "a field has a value of the wrong type, format or range"),
    _e("InvalidRequestFormat", 400, "the request body is not well-formed JSON"),
    _e("MissingHeader", 400, "a required header is missing"),
    _e("MissingParameterValue", 400, "a required field is missing"),
    _e("UnrecognizedField", 400, "the body has a field this operation does not accept"),
    _e(
        "InvalidSandboxSimulationSpecified",
        400,
        "the sandbox simulation code is unknown or not valid for this operation",
    ),
    _e(
        "DuplicateIdempotencyKey",
        400,
        "the idempotency key was already used with a different request body",
    ),
    _e("InvalidParameterCombination", 400, "fields that are valid alone cannot be used together"),
    _e("CurrencyMismatch", 400, "the currency differs from the one the object was created with"),
    _e("TransactionAmountExceeded", 400, "the amount exceeds what the object allows"),
    _e(
        "PeriodicAmountExceeded",
        400,
        "the amount exceeds the recurring permission's cap for this calendar month",
    ),
    # 401 / 403
    _e("UnauthorizedAccess", 401, "the caller is not authorised for this merchant or resource"),
    _e("InvalidAuthentication", 403, "the authentication information is not valid"),
    _e("InvalidAccountStatus", 403, "the merchant account cannot perform this operation"),
    _e("InvalidRequestSignature", 403, "the request signature does not match"),
    _e("InvalidAuthorizationToken", 403, "the authorization token is not valid"),
    # 404 / 405 / 408 / 409
    _e("ResourceNotFound", 404, "the object does not exist or has been deleted"),
    _e("UnsupportedOperation", 405, "the operation is not supported"),
    _e("RequestNotSupported", 405, "the HTTP method is not supported on this path"),
    _e("RequestTimeout", 408, "the request timed out"),
    _e("AmountMismatch", 409, "the amount differs from the checkout session's chargeAmount"),
    # 422
    _e(
        "InvalidCheckoutSessionStatus",
        422,
        "the checkout session's state does not allow this operation",
    ),
    _e(
        "InvalidChargePermissionStatus",
        422,
        "the charge permission's state does not allow this operation",
    ),
    _e("InvalidChargeStatus", 422, "the charge's state does not allow this operation"),
    _e("CheckoutSessionCanceled", 422, "the checkout session was canceled"),
    _e("TransactionCountExceeded", 422, "the object allows no more transactions of this kind"),
    _e(
        "SoftDeclined",
        422,
        "the payment was declined for a reason that may pass on retry",
        retryable=True,
    ),
    _e("HardDeclined", 422, "the payment was declined; retrying will not help"),
    _e("AmazonRejected", 422, "Amazon Pay rejected the transaction; retrying will not help"),
    _e("PaymentMethodNotAllowed", 422, "the buyer's payment method is not allowed here"),
    _e("MFANotCompleted", 422, "the buyer did not complete multi-factor authentication"),
    _e("TransactionTimedOut", 422, "the authorization was not resolved in time"),
    # 425 / 426 / 429
    _e(
        "TransactionInProgress",
        425,
        "a request with this idempotency key is still being processed",
    ),
    _e("TLSVersionNotSupported", 426, "the client's TLS version is not supported"),
    _e("TooManyRequests", 429, "the request rate is too high"),
    # 5xx
    _e("InternalServerError", 500, "Amazon Pay had an internal error"),
    _e(
        "ProcessingFailure",
        500,
        "the transaction could not be processed; retry while the permission is Chargeable",
    ),
    _e("ServiceUnavailable", 503, "Amazon Pay is temporarily unavailable"),
)

#: Every error code of SPEC §8, read-only: ``code -> ErrorInfo``.
ERRORS: Final[Mapping[str, ErrorInfo]] = MappingProxyType({e.code: e for e in _ERROR_LIST})

#: The four API objects, in the order the API links them (SPEC §1).
OBJECT_TYPES: Final = ("CheckoutSession", "ChargePermission", "Charge", "Refund")

#: Sandbox simulation codes each operation accepts (SPEC §7); any other code, or a code on
#: another operation, is ``InvalidSandboxSimulationSpecified``.
SIMULATION_CODES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "complete_checkout_session": ("BuyerCanceled", "Declined", "AmazonCanceled"),
        "create_charge": (
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "ProcessingFailure",
            "TransactionTimedOut",
        ),
        "capture_charge": ("CaptureInitiated", "AmazonRejected"),
        "create_refund": ("AmazonRejected", "ProcessingFailure"),
    }
)

#: Sandbox test cards the buyer can pick (SPEC §7): last four digits → behaviour.
SANDBOX_CARDS: Final[Mapping[str, str]] = {
    "1111": "success",
    "3064": "the buyer cancels on Amazon's page",
    "3434": "declined",
    "0701": "pending authorization, then Authorized",
    "4354": "pending authorization, then Declined/HardDeclined",
}
