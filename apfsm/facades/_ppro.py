"""PPRO's facade over Amazon Pay: the payment charge and the payment agreement, as data.

Read from PPRO's developer hub (the addresses are in each facade's ``sources``). Where
those pages are silent — or two versions of a page disagree — the declaration says so in
``silent`` and ``FacadeLimits.notes`` instead of guessing, and a step inferred from an
endpoint rather than read from the lifecycle text is marked ``documented=False``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Final

from ._model import Facade, FacadeLimits, FacadeState, FacadeStep, FacadeTimeout, Maps, Source

__all__ = ["PPRO_PAYMENT_AGREEMENT", "PPRO_PAYMENT_CHARGE", "PPRO_REFUND"]

_AMAZON_PAY: Final = Source(
    "https://developerhub.ppro.com/global-api/docs/amazon-pay",
    "Amazon Pay via PPRO: US, USD, REDIRECT authentication with a 1 hour timeout, minimum "
    "0.50 USD, maximum 20,000.00 USD (can vary by consumer), recurring payments yes, "
    "refunds full, partial and multiple, refund validity 6 months, POST /v1/payment-charges",
)
_CHARGE_OBJECT: Final = Source(
    "https://developerhub.ppro.com/global-api/docs/api-object-payment-charge",
    "payment charge lifecycle: AUTHORIZATION_PROCESSING (initial) → AUTHENTICATION_PENDING, "
    "AUTHORIZATION_ASYNC, CAPTURE_PENDING, CAPTURE_PROCESSING or FAILED; "
    "AUTHENTICATION_PENDING → AUTHORIZATION_ASYNC, CAPTURE_PENDING, CAPTURE_PROCESSING, "
    "DISCARDED or FAILED; AUTHORIZATION_ASYNC → CAPTURE_PENDING, CAPTURE_PROCESSING or "
    "FAILED; PROCESSING states are temporary. An older version of the page lists the "
    "statuses CAPTURED, DISCARDED, FAILED, REFUND_PROCESSING, REFUNDED, VOID_PROCESSING, "
    "VOIDED besides, and says voids, captures and refunds can all be partial",
)
_DISCARD: Final = Source(
    "https://developerhub.ppro.com/global-api/docs/discard",
    "a charge in AUTHENTICATION_PENDING is discarded by the Discard endpoint or "
    "automatically when the authentication timeout expires (type AUTHENTICATION_TIMEOUT vs "
    "MERCHANT_INITIATED_DISCARD); the endpoint is available only for TWINT, BLIK and SATISPAY",
)
_AGREEMENT_OBJECT: Final = Source(
    "https://developerhub.ppro.com/global-api/docs/api-object-payment-agreement",
    "payment agreement lifecycle: INITIALIZING (initial) → AUTHENTICATION_PENDING or ACTIVE; "
    "AUTHENTICATION_PENDING → ACTIVE or FAILED; ACTIVE → REVOKED; an initial payment charge "
    "may be FAILED while the agreement still becomes ACTIVE",
)
_FAILURES: Final = Source(
    "https://developerhub.ppro.com/global-api/reference/copy-of-ppro-failure-codes",
    "a failed operation carries failureType, failureCode, providerFailureCode, "
    "failureMessage and isRetryable; AGREEMENT_REVOKED: revoked by the consumer or merchant",
)

_LIMITS: Final = FacadeLimits(
    currency="USD",
    min_amount=Decimal("0.50"),
    max_amount=Decimal("20000.00"),
    authentication_timeout=timedelta(hours=1),
    separate_captures=None,
    refunds=("full", "partial", "multiple"),
    refund_validity="6 months",
    recurring=True,
    notes=(
        "separate captures: the two stored versions of PPRO's Amazon Pay page disagree "
        "(one says Yes, the other No), so apfsm declares neither",
        "the maximum 'can vary by consumer': 20,000.00 USD is an upper bound, not a promise",
    ),
)

_P: Final = "AUTHORIZATION_PROCESSING"
PPRO_PAYMENT_CHARGE: Final = Facade(
    name="ppro_payment_charge",
    title="PPRO payment charge (Amazon Pay)",
    provider="PPRO",
    endpoint="/v1/payment-charges",
    description="One payment: the consumer is redirected to Amazon, then authorized and captured.",
    amazon=("CheckoutSession", "Charge"),
    entries=(("CheckoutSession", "create_checkout_session"), ("Charge", "create_charge")),
    states=(
        FacadeState(_P, "created; the authorization request is in flight", True, transient=True),
        FacadeState("AUTHENTICATION_PENDING", "the consumer must authenticate (redirect)"),
        FacadeState("AUTHORIZATION_ASYNC", "the authorization outcome comes later"),
        FacadeState("CAPTURE_PENDING", "authorized; waiting for the merchant's capture"),
        FacadeState(
            "CAPTURE_PROCESSING", "a capture is in flight", transient=True, documented=False
        ),
        FacadeState("VOID_PROCESSING", "a void is in flight", transient=True, documented=False),
        FacadeState("CAPTURED", "captured; refunds possible", terminal=True),
        FacadeState("VOIDED", "the authorization was voided", terminal=True),
        FacadeState("DISCARDED", "abandoned before authorization", terminal=True),
        FacadeState("FAILED", "failed; the failure object says why", terminal=True),
    ),
    steps=(
        FacadeStep("redirect", (_P,), "AUTHENTICATION_PENDING", "provider", "REDIRECT needed"),
        FacadeStep(
            "authorize_async",
            (_P, "AUTHENTICATION_PENDING"),
            "AUTHORIZATION_ASYNC",
            "provider",
            "the scheme answers later",
        ),
        FacadeStep(
            "authorized",
            (_P, "AUTHENTICATION_PENDING", "AUTHORIZATION_ASYNC"),
            "CAPTURE_PENDING",
            "provider",
            "the authorization succeeds",
        ),
        FacadeStep(
            "auto_capture",
            (_P, "AUTHENTICATION_PENDING", "AUTHORIZATION_ASYNC"),
            "CAPTURE_PROCESSING",
            "provider",
            "authorized and captured at once",
        ),
        FacadeStep(
            "fail",
            (_P, "AUTHENTICATION_PENDING", "AUTHORIZATION_ASYNC"),
            "FAILED",
            "provider",
            "declined or failed",
        ),
        FacadeStep(
            "authentication_timeout",
            ("AUTHENTICATION_PENDING",),
            "DISCARDED",
            "timer",
            "the consumer did not authenticate in time (type AUTHENTICATION_TIMEOUT)",
        ),
        FacadeStep(
            "discard",
            ("AUTHENTICATION_PENDING",),
            "DISCARDED",
            "merchant",
            "POST .../discard (MERCHANT_INITIATED_DISCARD; not offered for Amazon Pay)",
        ),
        FacadeStep(
            "capture",
            ("CAPTURE_PENDING",),
            "CAPTURE_PROCESSING",
            "merchant",
            "POST .../captures",
            documented=False,
        ),
        FacadeStep(
            "captured",
            ("CAPTURE_PROCESSING",),
            "CAPTURED",
            "provider",
            "the capture succeeds",
            documented=False,
        ),
        FacadeStep(
            "capture_failed",
            ("CAPTURE_PROCESSING",),
            "FAILED",
            "provider",
            "the capture fails",
            documented=False,
        ),
        FacadeStep(
            "void",
            ("CAPTURE_PENDING",),
            "VOID_PROCESSING",
            "merchant",
            "POST .../voids",
            documented=False,
        ),
        FacadeStep(
            "voided",
            ("VOID_PROCESSING",),
            "VOIDED",
            "provider",
            "the void succeeds",
            documented=False,
        ),
    ),
    limits=_LIMITS,
    timeouts=(FacadeTimeout("authentication_timeout", timedelta(hours=1), "checkout_session_ttl"),),
    mappings=(
        Maps("CheckoutSession", "Open", "AUTHENTICATION_PENDING"),
        Maps(
            "CheckoutSession",
            "Canceled",
            "DISCARDED",
            ("Expired",),
            detail="type AUTHENTICATION_TIMEOUT",
        ),
        # The buyer leaving Amazon's page: PPRO's pages do not say what it becomes.
        Maps("CheckoutSession", "Canceled", "DISCARDED", ("BuyerCanceled",)),
        Maps("CheckoutSession", "Canceled", "FAILED", ("Declined", "AmazonCanceled")),
        Maps("Charge", "AuthorizationInitiated", "AUTHORIZATION_ASYNC"),
        Maps("Charge", "Authorized", "CAPTURE_PENDING"),
        Maps("Charge", "CaptureInitiated", "CAPTURE_PROCESSING"),
        Maps("Charge", "Captured", "CAPTURED"),
        Maps("Charge", "Canceled", "VOIDED"),
        Maps("Charge", "Declined", "FAILED"),
    ),
    sources=(_AMAZON_PAY, _CHARGE_OBJECT, _DISCARD, _FAILURES),
    silent=(
        "the exits of CAPTURE_PENDING, CAPTURE_PROCESSING and VOID_PROCESSING: the steps "
        "capture, captured, capture_failed, void and voided are inferred from the captures "
        "and voids endpoints and the status list",
        "which failureCode or providerFailureCode a FAILED Amazon Pay charge carries for "
        "each Amazon reason (SoftDeclined, HardDeclined, AmazonRejected, ...)",
        "what a buyer canceling on Amazon's page becomes (declared DISCARDED)",
        "whether a charge whose authorization is still pending (AUTHORIZATION_ASYNC) can be "
        "voided, and what Amazon's StopShipmentAtypicalAuth becomes",
        "refunds: they are separate objects under a charge (PPRO_REFUND); the older page's "
        "charge statuses REFUND_PROCESSING and REFUNDED are not on the current page, so a "
        "refunded charge stays CAPTURED (apfsm's reading)",
    ),
)

PPRO_PAYMENT_AGREEMENT: Final = Facade(
    name="ppro_payment_agreement",
    title="PPRO payment agreement (Amazon Pay)",
    provider="PPRO",
    endpoint="/v1/payment-agreements",
    description="A recurring mandate: authenticated once, then charged by the merchant.",
    amazon=("CheckoutSession", "ChargePermission"),
    entries=(("CheckoutSession", "create_checkout_session"),),
    states=(
        FacadeState("INITIALIZING", "created", initial=True, transient=True),
        FacadeState("AUTHENTICATION_PENDING", "the consumer must authenticate (redirect)"),
        FacadeState("ACTIVE", "charges can be created under it"),
        FacadeState("FAILED", "authentication failed", terminal=True),
        FacadeState("REVOKED", "revoked by the consumer or the merchant", terminal=True),
    ),
    steps=(
        FacadeStep(
            "redirect", ("INITIALIZING",), "AUTHENTICATION_PENDING", "provider", "REDIRECT needed"
        ),
        FacadeStep("activate", ("INITIALIZING",), "ACTIVE", "provider", "no authentication"),
        FacadeStep(
            "authenticated",
            ("AUTHENTICATION_PENDING",),
            "ACTIVE",
            "consumer",
            "the consumer accepts the agreement",
        ),
        FacadeStep(
            "fail", ("AUTHENTICATION_PENDING",), "FAILED", "provider", "authentication fails"
        ),
        FacadeStep(
            "revoke",
            ("ACTIVE",),
            "REVOKED",
            "merchant",
            "the merchant or the consumer revokes it (payment-agreement revocations)",
        ),
    ),
    limits=_LIMITS,
    mappings=(
        Maps("CheckoutSession", "Open", "AUTHENTICATION_PENDING"),
        Maps("CheckoutSession", "Canceled", "FAILED"),
        Maps("ChargePermission", "Chargeable", "ACTIVE"),
        # PPRO's agreement has no suspended state: a permission Amazon cannot charge still
        # shows ACTIVE (charges under it fail with a failure object instead).
        Maps("ChargePermission", "NonChargeable", "ACTIVE"),
        Maps("ChargePermission", "Closed", "REVOKED"),
    ),
    sources=(_AMAZON_PAY, _AGREEMENT_OBJECT, _FAILURES),
    silent=(
        "a state for an agreement whose payment method stopped working (Amazon's "
        "NonChargeable): none is documented, so it shows as ACTIVE",
        "whether an expired or Amazon-closed permission is REVOKED or another state; "
        "REVOKED is the only terminal state after ACTIVE that the page names",
        "an authentication timeout for agreements",
    ),
)

_REFUND_HANDLING: Final = Source(
    "https://developerhub.ppro.com/simple-api/docs/refund-handling",
    "refunds are synchronous: the API answers the technical success or failure at once; "
    "a SUCCEEDED refund PPRO handles has FundsState WAITING, which changes to SENT (the "
    "consumer was funded) or REJECTED (the consumer's bank or another party rejected it; "
    "merchant and consumer must arrange a refund outside PPRO); recon files report changes",
)
_FUND_STATUS: Final = Source(
    "https://developerhub.ppro.com/global-api/docs/fund-status",
    "a webhook is sent whenever the fund status of a charge or a refund changes: "
    "REFUND_FUNDS_NOT_EXPECTED (processing-only methods), REFUND_FUNDS_WAITING (initial, "
    "awaiting settlement confirmation), REFUND_FUNDS_SENT, REFUND_FUNDS_REJECTED (no "
    "settlement confirmation within the expected timeframe)",
)

PPRO_REFUND: Final = Facade(
    name="ppro_refund",
    title="PPRO refund (Amazon Pay)",
    provider="PPRO",
    endpoint="/v1/payment-charges/{id}/refunds",
    description="Money back on a captured charge: answered at once, funded later.",
    amazon=("Refund",),
    entries=(("Refund", "create_refund"),),
    states=(
        FacadeState(
            "REFUND_FUNDS_WAITING",
            "the refund succeeded; PPRO awaits the settlement confirmation",
            initial=True,
        ),
        FacadeState("REFUND_FUNDS_SENT", "the consumer was funded", terminal=True),
        FacadeState(
            "REFUND_FUNDS_REJECTED",
            "not funded: refund the consumer outside PPRO",
            terminal=True,
        ),
        FacadeState(
            "FAILED", "the refund request failed at once (the failure says why)", terminal=True
        ),
    ),
    steps=(
        FacadeStep("sent", ("REFUND_FUNDS_WAITING",), "REFUND_FUNDS_SENT", "provider", "funded"),
        FacadeStep(
            "rejected",
            ("REFUND_FUNDS_WAITING",),
            "REFUND_FUNDS_REJECTED",
            "provider",
            "the consumer's bank or another party rejected the funding",
        ),
        FacadeStep(
            "not_confirmed",
            ("REFUND_FUNDS_WAITING",),
            "REFUND_FUNDS_REJECTED",
            "timer",
            "no settlement confirmation within the expected timeframe",
        ),
    ),
    limits=_LIMITS,
    mappings=(
        # PPRO answers at once; Amazon's refund is still pending behind it.
        Maps("Refund", "RefundInitiated", "REFUND_FUNDS_WAITING"),
        Maps("Refund", "Refunded", "REFUND_FUNDS_SENT"),
        Maps("Refund", "Declined", "REFUND_FUNDS_REJECTED"),
    ),
    sources=(_AMAZON_PAY, _REFUND_HANDLING, _FUND_STATUS, _FAILURES),
    silent=(
        "which fund status Amazon Pay refunds take: the native-refund path "
        "(REFUND_FUNDS_NOT_EXPECTED at once) or PPRO's (WAITING, then SENT or REJECTED); "
        "apfsm declares PPRO's path, the only one in which Amazon's pending refund and its "
        "outcome show",
        "whether anything in a rejected refund tells Amazon's AmazonRejected (refund "
        "another way) from ProcessingFailure (request it again): none is documented",
        "the 'expected timeframe' after which a waiting refund is REJECTED (not_confirmed)",
        "the refund's own synchronous FAILED answer: apfsm shows Amazon refusing the "
        "Create Refund call (an error, no Refund object) as FAILED",
    ),
)
