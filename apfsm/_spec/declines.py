"""Decline guidance (issue 15): what each error code and each unhappy state tells an
integration to do — retry or not, after what waits, under what condition, what to tell the
buyer. Data only; ``apfsm.advise`` reads it.

Two tables:

* ``CODE_ADVICE`` — one ``Advice`` per error code Amazon Pay answers (every code of
  ``ERRORS``): the declines are written out one by one; knowable, set-up and transient
  codes get their kind's advice, derived from the catalog;
* ``STATE_ADVICE`` — one per ``(object type, state, reason)`` an object can show that needs
  the merchant to act (every reason of a declined, canceled, closed or non-chargeable
  state, and the charge's stop-shipment flag).

Where Amazon names no interval (a soft decline), the waits are apfsm's **Decision**, said
so in ``sources``; where it does (its SDKs' retry loops), they are Amazon's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Final, Literal

import attrs

from .catalog import ERRORS

__all__ = ["CODE_ADVICE", "SDK_BACKOFF", "STATE_ADVICE", "Advice", "Resolution"]

#: Who resolves it: ``"retry"`` — the same request again, after the waits; ``"merchant"``
#: — the integration must do something else (a new authorization, a fix in its code or
#: set-up); ``"buyer"`` — only the buyer can (another payment method, authentication);
#: ``"none"`` — nothing to do but record it.
Resolution = Literal["retry", "merchant", "buyer", "none"]

_MAGENTO: Final = (
    "Amazon's own Magento plugin, amzn/amazon-payments-magento-2-plugin "
    "etc/amazon_error_mapping_payv2.xml (the API's error descriptions)"
)
_SDKS: Final = (
    "the official SDKs retry 408, 425, 429 and 5xx three times: amzn/amazon-pay-api-sdk-php "
    "Amazon/Pay/API/HttpCurl.php (after 1.0, 2.2 and 7.0 s), amzn/amazon-pay-api-sdk-nodejs "
    "src/clientHelper.js and amzn/amazon-pay-api-sdk-dotnet Amazon.Pay.API.SDK/Util.cs "
    "(after 2, 4 and 8 s)"
)
_SPEC8: Final = (
    "SPEC §8: retryable codes; ProcessingFailure only while the permission is Chargeable"
)
_SPEC5: Final = "SPEC §5: what a decline does to the charge permission"
_STATES: Final = "Amazon's states and reason codes tables (SPEC §3–§6), as apfsm declares them"

#: The waits Amazon's SDKs make before their three retries of a transient failure (the
#: Node.js and .NET SDKs; PHP's are 1.0, 2.2 and 7.0 s).
SDK_BACKOFF: Final = (timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8))
#: apfsm's Decision for a soft decline, where Amazon names no interval: a decline by the
#: card's issuer rarely clears in seconds; three tries over a day, then ask the buyer.
_SOFT_BACKOFF: Final = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))


@attrs.frozen
class Advice:
    """What to do about one code or state (``apfsm.advise``).

    Attributes:
        code: the error or reason code.
        resolution: who resolves it (``Resolution``).
        retry: whether the same request, unchanged, can succeed later.
        backoff: the waits before each retry (empty when ``retry`` is False): after the
            last one, stop retrying and do ``action``.
        condition: what must still hold for a retry to make sense, or None.
        action: what the integration should do (instead, or after the last retry).
        tell_buyer: what to tell the buyer, or None when the buyer need not hear of it.
        affects: what the code says can no longer be used as it was: ``"request"`` (only
            this call), ``"charge"``, ``"charge_permission"``, ``"checkout_session"``,
            ``"refund"``, ``"integration"`` (a bug or set-up fault to fix).
        sources: where the advice comes from.
    """

    code: str
    resolution: Resolution
    retry: bool
    action: str
    affects: str
    sources: tuple[str, ...]
    backoff: tuple[timedelta, ...] = ()
    condition: str | None = None
    tell_buyer: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.retry != bool(self.backoff):
            raise ValueError(f"{self.code}: a retryable code has waits, and only it")


_ANOTHER_METHOD: Final = (
    "Your payment could not be completed. Please choose a different payment method in your "
    "Amazon Pay account, or pay another way."
)

_DECLINES: Final = (
    Advice(
        "SoftDeclined",
        "retry",
        True,
        "after the last retry, ask the buyer to choose a different payment instrument",
        "request",
        (_MAGENTO, "waits: apfsm's Decision (Amazon names no interval)", _SPEC8),
        _SOFT_BACKOFF,
        "the charge permission is still Chargeable",
        "We could not take your payment yet; we will try again. If it keeps failing we "
        "will ask you to choose another payment method.",
    ),
    Advice(
        "HardDeclined",
        "buyer",
        False,
        "do not retry: ask the buyer to choose a different payment instrument (a recurring "
        "permission turns NonChargeable until they do)",
        "charge_permission",
        (_MAGENTO, _SPEC5, _SPEC8),
        tell_buyer=_ANOTHER_METHOD,
    ),
    Advice(
        "AmazonRejected",
        "buyer",
        False,
        "do not retry: the charge permission is closed; offer the buyer another way to pay",
        "charge_permission",
        (_MAGENTO, _SPEC5, _SPEC8),
        tell_buyer="Amazon Pay cannot be used for this order. Please choose another "
        "payment method.",
    ),
    Advice(
        "PaymentMethodNotAllowed",
        "buyer",
        False,
        "do not retry: the buyer's payment method is not allowed for this permission; ask "
        "them to pick another in their Amazon Pay account",
        "charge_permission",
        (_MAGENTO,),
        tell_buyer=_ANOTHER_METHOD,
    ),
    Advice(
        "MFANotCompleted",
        "buyer",
        False,
        "do not retry without the buyer: they must complete multi-factor authentication, "
        "so send them through Amazon Pay's checkout again while they are present",
        "request",
        (_MAGENTO,),
        tell_buyer="Your bank needs you to confirm this payment. Please complete the "
        "payment again with Amazon Pay.",
    ),
    Advice(
        "TransactionTimedOut",
        "merchant",
        False,
        "the authorization was not resolved in time: the permission is unchanged, so "
        "authorize again later, or ask the buyer for another payment method",
        "charge",
        (
            _MAGENTO,
            _SPEC5,
            "Amazon Pay v1 'handle declined authorizations': the order "
            "reference stays Open after TransactionTimedOut",
        ),
        tell_buyer=_ANOTHER_METHOD,
    ),
    Advice(
        "ProcessingFailure",
        "retry",
        True,
        "an internal error at Amazon: retry while the permission is Chargeable; after the "
        "last retry, try again later or ask the buyer for another payment method",
        "request",
        (_MAGENTO, _SPEC8, _SDKS),
        SDK_BACKOFF,
        "the charge permission is still Chargeable",
    ),
    Advice(
        "CheckoutSessionCanceled",
        "buyer",
        False,
        "the checkout is over (the buyer canceled, or the payment was declined on Amazon's "
        "page): start a new checkout session if the buyer wants to pay",
        "checkout_session",
        (_MAGENTO, "SPEC §3: completing a canceled session"),
        tell_buyer="Your payment was not completed. Please try again.",
    ),
)


def _by_kind(code: str) -> Advice:
    """The advice a code's kind gives, for the codes that are not declines."""
    info = ERRORS[code]
    if info.retryable:
        return Advice(
            code,
            "retry",
            True,
            "retry the same request, with the same idempotency key, after the waits; then "
            "treat it as an outage (the SDKs already retried it)",
            "request",
            (_SDKS, _SPEC8),
            SDK_BACKOFF,
        )
    if info.kind == "knowable":
        return Advice(
            code,
            "merchant",
            False,
            f"do not retry: {info.description} — the integration could have known it from "
            "what Amazon had told it; fix the code that made the call",
            "integration",
            ("apfsm's catalog: a code of kind 'knowable' (SPEC §8)",),
        )
    return Advice(
        code,
        "merchant",
        False,
        f"do not retry: {info.description} — fix the client's set-up (credentials, "
        "signatures, headers, the call itself)",
        "integration",
        ("apfsm's catalog: a code of kind 'setup' (SPEC §8)",),
    )


_WRITTEN: Final = {a.code: a for a in _DECLINES}

#: Advice for every error code Amazon Pay answers: ``code -> Advice``.
CODE_ADVICE: Final[Mapping[str, Advice]] = MappingProxyType(
    {code: _WRITTEN.get(code) or _by_kind(code) for code in ERRORS}
)


def _state(
    key: tuple[str, str, str],
    resolution: Resolution,
    action: str,
    affects: str,
    *,
    tell_buyer: str | None = None,
    sources: tuple[str, ...] = (),
) -> tuple[tuple[str, str, str], Advice]:
    advice = Advice(
        key[2], resolution, False, action, affects, (_STATES, *sources), tell_buyer=tell_buyer
    )
    return key, advice


_NEW_CHECKOUT: Final = "start a new checkout session if the buyer still wants to pay"
_UPDATE_METHOD: Final = (
    "charge nothing until the buyer fixes their payment method in their Amazon Pay account "
    "(the permission turns Chargeable again, with an IPN); tell them so"
)
_FIX_METHOD_BUYER: Final = (
    "There is a problem with the payment method for your recurring payments. Please "
    "update it in your Amazon Pay account."
)

_STATE_ENTRIES: Final = (
    _state(("CheckoutSession", "Canceled", "BuyerCanceled"), "buyer", _NEW_CHECKOUT,
           "checkout_session"),
    _state(("CheckoutSession", "Canceled", "Declined"), "buyer",
           "the payment was declined on Amazon's page: " + _NEW_CHECKOUT, "checkout_session",
           tell_buyer=_ANOTHER_METHOD),
    _state(("CheckoutSession", "Canceled", "AmazonCanceled"), "buyer",
           "Amazon canceled the checkout: " + _NEW_CHECKOUT, "checkout_session",
           tell_buyer="Your payment was not completed. Please try again."),
    _state(("CheckoutSession", "Canceled", "Expired"), "buyer",
           "the session lived 24 hours unfinished: " + _NEW_CHECKOUT, "checkout_session"),
    *(
        _state(("ChargePermission", "NonChargeable", reason), "buyer", _UPDATE_METHOD,
               "charge_permission", tell_buyer=_FIX_METHOD_BUYER)
        for reason in (
            "PaymentMethodInvalid", "PaymentMethodDeleted", "BillingAddressDeleted",
            "PaymentMethodExpired", "PaymentMethodNotAllowed", "PaymentMethodNotSet",
            "MFAFailed",
        )
    ),
    _state(("ChargePermission", "NonChargeable", "ChargeInProgress"), "none",
           "another charge is being processed: wait for it (its IPN) before charging again",
           "charge_permission"),
    _state(("ChargePermission", "Closed", "MerchantClosed"), "none",
           "closed by the integration itself: nothing to do", "charge_permission"),
    _state(("ChargePermission", "Closed", "BuyerClosed"), "buyer",
           "the buyer ended the agreement: stop charging it (cancel the subscription or "
           "order) and ask them to check out again to resume", "charge_permission"),
    _state(("ChargePermission", "Closed", "AmazonClosed"), "none",
           "the permission's amount was used up: nothing more can be charged on it",
           "charge_permission"),
    _state(("ChargePermission", "Closed", "AmazonCanceled"), "buyer",
           "Amazon canceled the permission: ask the buyer to check out again or pay another "
           "way", "charge_permission", tell_buyer=_ANOTHER_METHOD),
    _state(("ChargePermission", "Closed", "Expired"), "buyer",
           "the permission expired (180 days, or 13 months): ask the buyer to check out "
           "again for anything still owed", "charge_permission"),
    *(
        _state(("Charge", state, "StopShipmentAtypicalAuth"), "merchant",
               "Amazon flags the authorization as atypical: hold the shipment until the "
               "flag clears (an IPN); before capture, cancelling the charge is safe",
               "charge")
        for state in ("Authorized", "CaptureInitiated", "Captured")
    ),
    _state(("Charge", "Canceled", "ExpiredUnused"), "merchant",
           "the authorization lapsed after 30 days: authorize again on the permission "
           "before capturing", "charge"),
    _state(("Charge", "Canceled", "MerchantCanceled"), "none",
           "canceled by the integration itself: nothing to do", "charge"),
    _state(("Charge", "Canceled", "ChargePermissionCanceled"), "buyer",
           "the permission was closed: the buyer must check out again to pay",
           "charge_permission"),
    _state(("Charge", "Canceled", "AmazonCanceled"), "merchant",
           "Amazon canceled the authorization: authorize again if the permission is "
           "Chargeable, else ask the buyer", "charge"),
    _state(("Charge", "Canceled", "BuyerCanceled"), "buyer",
           "the buyer canceled the charge: do not ship; ask them before charging again",
           "charge"),
    _state(("Refund", "Declined", "AmazonRejected"), "merchant",
           "do not retry the refund: give the money back another way, and tell the buyer",
           "refund", sources=(_MAGENTO,),
           tell_buyer="We could not refund your payment through Amazon Pay; we will contact "
           "you to refund it another way."),
    _state(("Refund", "Declined", "ProcessingFailure"), "merchant",
           "an internal error at Amazon: request the refund again (a new refund with a new "
           "idempotency key), later", "refund", sources=(_MAGENTO,)),
    # docs/dispute.md (a Decision: where ChargebackFiled belongs).
    _state(("Dispute", "Closed", "ChargebackFiled"), "merchant",
           "the buyer took the A-to-z claim to the bank: answer the chargeback's own "
           "dispute (its CHARGEBACK IPN), within its window", "dispute"),
)  # fmt: skip

#: Advice for objects showing a state that needs the merchant to act:
#: ``(object type, state, reason) -> Advice``. A charge ``Declined`` with a reason takes
#: that decline code's advice (``CODE_ADVICE``).
STATE_ADVICE: Final[Mapping[tuple[str, str, str], Advice]] = MappingProxyType(dict(_STATE_ENTRIES))
