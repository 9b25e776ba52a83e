"""The error catalog holds every code of SPEC §8 with its status, meaning and retryability."""

from __future__ import annotations

import attrs
import pytest

import apfsm

# SPEC §8, copied by hand: code -> HTTP status.
SPEC_STATUSES = {
    **dict.fromkeys(
        [
            "InvalidHeaderValue",
            "InvalidRequest",
            "InvalidParameterValue",
            "InvalidRequestFormat",
            "MissingHeader",
            "MissingHeaderValue",  # SPEC §8 rev 2; Amazon's error-handling page
            "MissingParameterValue",
            "UnrecognizedField",
            "InvalidSandboxSimulationSpecified",
            "DuplicateIdempotencyKey",
            "InvalidParameterCombination",
            "CurrencyMismatch",
            "TransactionAmountExceeded",
            "PeriodicAmountExceeded",
        ],
        400,
    ),
    "UnauthorizedAccess": 401,
    **dict.fromkeys(
        [
            "InvalidAuthentication",
            "InvalidAccountStatus",
            "InvalidRequestSignature",
            "InvalidAuthorizationToken",
        ],
        403,
    ),
    "ResourceNotFound": 404,
    "UnsupportedOperation": 405,
    "RequestNotSupported": 405,
    "RequestTimeout": 408,
    "AmountMismatch": 409,
    **dict.fromkeys(
        [
            "InvalidCheckoutSessionStatus",
            "InvalidChargePermissionStatus",
            "InvalidChargeStatus",
            "InvalidDisputeStatus",  # Decision (docs/dispute.md)
            "CheckoutSessionCanceled",
            "TransactionCountExceeded",
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "PaymentMethodNotAllowed",
            "MFANotCompleted",
            "TransactionTimedOut",
        ],
        422,
    ),
    "TransactionInProgress": 425,
    "TLSVersionNotSupported": 426,
    "TooManyRequests": 429,
    "InternalServerError": 500,
    "ProcessingFailure": 500,
    "ServiceUnavailable": 503,
}


def test_catalog_has_exactly_the_spec_codes_with_their_statuses() -> None:
    assert SPEC_STATUSES == {code: e.http_status for code, e in apfsm.ERRORS.items()}


def test_records_are_complete_and_keyed_by_their_code() -> None:
    for code, info in apfsm.ERRORS.items():
        assert code == info.code
        assert info.description
        assert "\n" not in info.description


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("RequestTimeout", True),
        ("TransactionInProgress", True),
        ("TooManyRequests", True),
        ("InternalServerError", True),
        ("ServiceUnavailable", True),
        ("SoftDeclined", True),
        ("ProcessingFailure", True),
        ("HardDeclined", False),
        ("AmazonRejected", False),
        ("TLSVersionNotSupported", False),
        ("InvalidChargeStatus", False),
        ("InvalidParameterValue", False),
    ],
)
def test_retryability_follows_spec(code: str, *, retryable: bool) -> None:
    assert retryable == apfsm.ERRORS[code].retryable


def test_catalog_is_read_only() -> None:
    with pytest.raises(TypeError):
        apfsm.ERRORS["Nope"] = apfsm.ERRORS["ResourceNotFound"]  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        apfsm.ERRORS["ResourceNotFound"].http_status = 200  # type: ignore[misc]


def test_record_repr_is_short() -> None:
    assert "<ErrorInfo 422 InvalidChargeStatus>" == repr(apfsm.ERRORS["InvalidChargeStatus"])
    assert "<ErrorInfo 429 TooManyRequests (retryable)>" == repr(apfsm.ERRORS["TooManyRequests"])


def test_simulation_codes_are_per_operation() -> None:
    assert ("CaptureInitiated", "AmazonRejected") == apfsm.SIMULATION_CODES["capture_charge"]
    assert set(apfsm.SIMULATION_CODES) <= set(apfsm.OPERATIONS)
