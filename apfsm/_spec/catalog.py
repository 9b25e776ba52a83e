"""The catalog: error codes, object types, operations' wire names (SPEC §1, §7, §8).

Everything here is data. Behaviour is derived from it elsewhere; nothing in this module
decides anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

import attrs

__all__ = [
    "CARD",
    "CARDS",
    "ERRORS",
    "OBJECT_TYPES",
    "SANDBOX_CARDS",
    "ErrorInfo",
    "ErrorKind",
    "SandboxCard",
]


#: What an error code tells an integration (``ErrorInfo.kind``).
ErrorKind = Literal["knowable", "decline", "transient", "setup"]


@attrs.frozen(repr=False)
class ErrorInfo:
    """One Amazon Pay error code (SPEC §8).

    Attributes:
        code: the ``reasonCode`` Amazon Pay answers with.
        http_status: the HTTP status that goes with it.
        description: one line saying what it means.
        retryable: whether retrying the same request (with back-off) can succeed.
        kind: what the code tells an integration (``ErrorKind``): ``"knowable"`` — a
            correct integration never provokes it, it could have known from what it was
            told (states, deadlines, amounts, the API's rules); ``"decline"`` — the
            payment was declined or canceled, a correct integration must handle it;
            ``"transient"`` — the service was busy or failed, retry with back-off;
            ``"setup"`` — the client or the account is set up wrongly (credentials,
            signatures, headers, unsupported calls, sandbox codes).
    """

    code: str
    http_status: int
    description: str
    retryable: bool
    kind: ErrorKind = "setup"

    def __repr__(self) -> str:
        return (
            f"<ErrorInfo {self.http_status} {self.code}{' (retryable)' if self.retryable else ''}>"
        )


def _e(
    code: str,
    status: int,
    description: str,
    kind: ErrorKind,
    *,
    retryable: bool | None = None,
) -> ErrorInfo:
    # SPEC §8: statuses 408, 425, 429 and 5xx are retryable with back-off unless a code says
    # otherwise.
    if retryable is None:
        retryable = status in {408, 425, 429, 500, 502, 503, 504}
    return ErrorInfo(code, status, description, retryable, kind)


_ERROR_LIST: Final = (
    # 400
    _e("InvalidHeaderValue", 400, "a header has a value of the wrong format or range", "knowable"),
    _e("InvalidRequest", 400, "the request is not valid for this operation", "setup"),
    _e(
        "InvalidParameterValue",
        400,
        "a field has a value of the wrong type, format or range",
        "knowable",
    ),
    _e("InvalidRequestFormat", 400, "the request body is not well-formed JSON", "knowable"),
    _e("MissingHeader", 400, "a required header is missing", "setup"),
    _e("MissingHeaderValue", 400, "a required header is present but empty", "setup"),
    _e("MissingParameterValue", 400, "a required field is missing", "knowable"),
    _e("UnrecognizedField", 400, "the body has a field this operation does not accept", "knowable"),
    _e(
        "InvalidSandboxSimulationSpecified",
        400,
        "the sandbox simulation code is unknown or not valid for this operation",
        "setup",
    ),
    _e(
        "DuplicateIdempotencyKey",
        400,
        "the idempotency key was already used on this operation with a different request",
        "knowable",
    ),
    _e(
        "InvalidParameterCombination",
        400,
        "fields that are valid alone cannot be used together",
        "knowable",
    ),
    _e(
        "CurrencyMismatch",
        400,
        "the currency differs from the one the object was created with",
        "knowable",
    ),
    _e("TransactionAmountExceeded", 400, "the amount exceeds what the object allows", "knowable"),
    _e(
        "PeriodicAmountExceeded",
        400,
        "the amount exceeds the recurring permission's cap for this calendar month",
        "knowable",
    ),
    # 401 / 403
    _e(
        "UnauthorizedAccess",
        401,
        "the caller is not authorised for this merchant or resource",
        "setup",
    ),
    _e("InvalidAuthentication", 403, "the authentication information is not valid", "setup"),
    _e("InvalidAccountStatus", 403, "the merchant account cannot perform this operation", "setup"),
    _e("InvalidRequestSignature", 403, "the request signature does not match", "setup"),
    _e("InvalidAuthorizationToken", 403, "the authorization token is not valid", "setup"),
    # 404 / 405 / 408 / 409
    _e("ResourceNotFound", 404, "the object does not exist or has been deleted", "knowable"),
    _e("UnsupportedOperation", 405, "the operation is not supported", "setup"),
    _e("RequestNotSupported", 405, "the HTTP method is not supported on this path", "setup"),
    _e("RequestTimeout", 408, "the request timed out", "transient"),
    _e(
        "AmountMismatch",
        409,
        "the amount differs from the checkout session's chargeAmount",
        "knowable",
    ),
    # 422
    _e(
        "InvalidCheckoutSessionStatus",
        422,
        "the checkout session's state does not allow this operation",
        "knowable",
    ),
    _e(
        "InvalidChargePermissionStatus",
        422,
        "the charge permission's state does not allow this operation",
        "knowable",
    ),
    _e("InvalidChargeStatus", 422, "the charge's state does not allow this operation", "knowable"),
    # Decision (docs/dispute.md): Amazon's code for a dispute call its state refuses is
    # undocumented; named like the other objects' status codes.
    _e(
        "InvalidDisputeStatus",
        422,
        "the dispute's state does not allow this operation",
        "knowable",
    ),
    _e("CheckoutSessionCanceled", 422, "the checkout session was canceled", "decline"),
    _e(
        "TransactionCountExceeded",
        422,
        "the object allows no more transactions of this kind",
        "knowable",
    ),
    _e(
        "SoftDeclined",
        422,
        "the payment was declined for a reason that may pass on retry",
        "decline",
        retryable=True,
    ),
    _e("HardDeclined", 422, "the payment was declined; retrying will not help", "decline"),
    _e(
        "AmazonRejected",
        422,
        "Amazon Pay rejected the transaction; retrying will not help",
        "decline",
    ),
    _e("PaymentMethodNotAllowed", 422, "the buyer's payment method is not allowed here", "decline"),
    _e("MFANotCompleted", 422, "the buyer did not complete multi-factor authentication", "decline"),
    _e("TransactionTimedOut", 422, "the authorization was not resolved in time", "decline"),
    # 425 / 426 / 429
    _e(
        "TransactionInProgress",
        425,
        "a request with this idempotency key is still being processed",
        "transient",
    ),
    _e("TLSVersionNotSupported", 426, "the client's TLS version is not supported", "setup"),
    _e("TooManyRequests", 429, "the request rate is too high", "transient"),
    # 5xx
    _e("InternalServerError", 500, "Amazon Pay had an internal error", "transient"),
    _e(
        "ProcessingFailure",
        500,
        "the transaction could not be processed; retry while the permission is Chargeable",
        "decline",
    ),
    _e("ServiceUnavailable", 503, "Amazon Pay is temporarily unavailable", "transient"),
)

#: Every error code of SPEC §8, read-only: ``code -> ErrorInfo``.
ERRORS: Final[Mapping[str, ErrorInfo]] = MappingProxyType({e.code: e for e in _ERROR_LIST})

#: The API objects, in the order the API links them (SPEC §1), the Buyer Get Buyer reads
#: and the Dispute on a captured charge (SPEC §11).
OBJECT_TYPES: Final = (
    "CheckoutSession",
    "ChargePermission",
    "Charge",
    "Refund",
    "Buyer",
    "Dispute",
)


@attrs.frozen
class SandboxCard:
    """A sandbox test card the buyer can pick on Amazon's page (SPEC §7).

    Attributes:
        last4: the card's last four digits, as ``paymentPreferences`` shows them.
        description: what it does, in words.
        buyer_cancels: the buyer cancels on Amazon's page right after picking it.
        declines_at_checkout: the payment is declined on Amazon's page: the session is
            ``Canceled``/``Declined`` once the buyer returns, before any completion.
        declines: an authorization on it is declined (``decline_code``); a completion that
            authorizes answers ``CheckoutSessionCanceled``.
        needs_pending: it may only be used by a completion with ``paymentIntent``
            ``Authorize`` and ``canHandlePendingAuthorization: true`` (a pending
            authorization); any other completion cancels the session (``Declined``) and
            answers ``CheckoutSessionCanceled`` (SPEC §7).
        pending_outcome: how a pending authorization on it resolves (``Authorized`` or
            ``Declined`` with ``decline_code``).
        decline_code: the reason of its declines.
    """

    last4: str
    description: str
    buyer_cancels: bool = False
    declines_at_checkout: bool = False
    declines: bool = False
    needs_pending: bool = False
    pending_outcome: Literal["Authorized", "Declined"] = "Authorized"
    decline_code: str = "HardDeclined"


#: The sandbox test cards (SPEC §7), the success cards first (``1111`` the default).
CARDS: Final[tuple[SandboxCard, ...]] = (
    SandboxCard("1111", "success"),
    SandboxCard("0005", "success"),
    SandboxCard("4444", "success"),
    SandboxCard("9424", "success"),
    SandboxCard("0000", "success"),
    SandboxCard("3064", "the buyer cancels on Amazon's page", buyer_cancels=True),
    SandboxCard(
        "3434",
        "declined: the session is Canceled/Declined when the buyer returns",
        declines_at_checkout=True,
        declines=True,
    ),
    SandboxCard(
        "0701",
        "pending authorization, then Authorized (needs Authorize + canHandlePendingAuthorization)",
        needs_pending=True,
    ),
    SandboxCard(
        "4354",
        "pending authorization, then Declined/HardDeclined (needs Authorize + "
        "canHandlePendingAuthorization)",
        declines=True,
        needs_pending=True,
        pending_outcome="Declined",
    ),
)
#: Sandbox test cards the buyer can pick (SPEC §7): last four digits → behaviour.
SANDBOX_CARDS: Final[Mapping[str, str]] = MappingProxyType(
    {card.last4: card.description for card in CARDS}
)
#: The cards by last four digits.
CARD: Final[Mapping[str, SandboxCard]] = MappingProxyType({card.last4: card for card in CARDS})
