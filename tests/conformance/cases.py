"""The conformance corpus: one record per documented Amazon Pay fact, each naming its source.

A case is data: a starting point (``setup``), one request, how much simulated time passes
before it (``after``), and Amazon's documented answer (``expect``). ``test_corpus.py`` runs
every case through the ``Simulator`` and, where the target's JSON decides, ``apfsm.check``.
The expected answers are Amazon's, never bent to what apfsm does today.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

DOCS = "https://developer.amazon.com/docs/"
CS = DOCS + "amazon-pay-api-v2/checkout-session.html"
CP = DOCS + "amazon-pay-api-v2/charge-permission.html"
CH = DOCS + "amazon-pay-api-v2/charge.html"
RF = DOCS + "amazon-pay-api-v2/refund.html"
ERR = DOCS + "amazon-pay-api-v2/error-handling.html"
SIM = DOCS + "amazon-pay-checkout/sandbox-simulations.html"
REFUNDS = DOCS + "amazon-pay-checkout/manage-refunds.html"
IPN = DOCS + "amazon-pay-checkout/set-up-instant-payment-notifications.html"
POF_CHARGE = DOCS + "amazon-pay-paymentmethodonfile/charge.html"
V1_CS = DOCS + "amazon-pay-api-v2/v1-checkout-session.html"
NODE = "amzn/amazon-pay-api-sdk-nodejs tst/webStoreClientTest.js"
SIGN = DOCS + "amazon-pay-api-v2/signing-requests.html"
CP_REC = DOCS + "amazon-pay-checkout/recurring-checkout.html"
POF = DOCS + "amazon-pay-checkout/saved-wallet.html"
OVERCHARGE = DOCS + "amazon-pay-checkout/amazon-pay-overcharge.html"
NET = "amzn/amazon-pay-api-sdk-dotnet Amazon.Pay.API.SDK.Tests/"
PHP = "amzn/amazon-pay-api-sdk-php tests/unit/ClientTest.php"
JAVA = "amzn/amazon-pay-api-sdk-java tst/com/amazon/pay/api/"
MAGENTO = "amzn/amazon-payments-magento-2-plugin "

DAY = timedelta(days=1)
SEC = timedelta(seconds=1)


def price(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


@dataclass(frozen=True)
class Case:
    """One documented fact.

    ``setup`` names a starting point (see ``test_corpus.SETUPS``); ``target`` which object of
    it the request acts on (``session``, ``permission``, ``charge``, ``refund`` or None for a
    create); ``expect`` holds ``status`` and either ``code`` (a refusal) or ``state``/
    ``reason`` of the object named by ``expect["of"]`` (default: the answer's object).
    """

    id: str
    source: str
    fact: str
    setup: str
    operation: str
    target: str | None
    body: Any
    expect: dict[str, Any]
    after: timedelta = timedelta(0)
    simulation_code: str | None = None
    xfail: str | None = None
    tags: tuple[str, ...] = field(default=())
    #: A wire case: (HTTP method, path template with ``{session}`` etc.), run through the
    #: server (``test_wire.py``) instead of ``Simulator.request``.
    wire: tuple[str, str] | None = None
    #: Headers to set (value) or drop (None) on a wire request.
    headers: tuple[tuple[str, str | None], ...] = ()
    #: Wire only: send a second request with the same idempotency key and this body; the
    #: expectation is about the second answer (``"replay"``: identical to the first).
    repeat: Any = None
    #: Wire only: sign the request (see ``test_wire.SIGNINGS``).
    signed: str | None = None


def document(source: str) -> str:
    """The document a source names: a URL, or ``repo path`` without the test's name."""
    return source.split(" '", maxsplit=1)[0]


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# --- Checkout Session (checkout-session.html, v1-checkout-session.html) -----------------

case(
    "cs-create-open",
    CS,
    "A Checkout Session starts in the Open state (201).",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
)
case(
    "cs-expires-24h",
    CS,
    "Open for 24 hours → Canceled (reason Expired).",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled", "reason": "Expired"},
    after=DAY,
)
case(
    "cs-open-before-24h",
    CS,
    "Within 24 hours the session is still Open.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    after=DAY - SEC,
)
case(
    "cs-deleted-30d",
    V1_CS,
    "Checkout Sessions are permanently deleted after 30 days.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 404, "code": "ResourceNotFound"},
    after=31 * DAY,
)
case(
    "cs-complete-authorize",
    CS,
    "Complete with paymentIntent Authorize → Completed, Charge Authorized.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 200, "state": "Completed"},
)
case(
    "cs-complete-confirm",
    CS,
    "paymentIntent Confirm → a Charge Permission, no Charge.",
    "approved_confirm",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 200, "state": "Completed", "null": "chargeId"},
)
case(
    "cs-complete-amount-mismatch",
    CS,
    "Complete with another amount → AmountMismatch 409.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("99.00")},
    {"status": 409, "code": "AmountMismatch"},
)
case(
    "cs-complete-currency-mismatch",
    CS,
    "Complete in another currency → CurrencyMismatch 400.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00", "EUR")},
    {"status": 400, "code": "CurrencyMismatch"},
)
case(
    "cs-complete-twice",
    CS,
    "Completing a Completed session → InvalidCheckoutSessionStatus 422.",
    "completed",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 422, "code": "InvalidCheckoutSessionStatus"},
)
case(
    "cs-complete-unapproved",
    CS,
    "Complete before the buyer returns → InvalidCheckoutSessionStatus.",
    "session",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 422, "code": "InvalidCheckoutSessionStatus"},
)
case(
    "cs-complete-missing-amount",
    ERR,
    "A mandatory parameter missing → MissingParameterValue 400.",
    "approved",
    "complete_checkout_session",
    "session",
    {},
    {"status": 400, "code": "MissingParameterValue"},
)
case(
    "cs-complete-unknown-field",
    ERR,
    "An invalid field in the body → UnrecognizedField 400.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00"), "bogus": 1},
    {"status": 400, "code": "UnrecognizedField"},
)
case(
    "cs-update-completed",
    CS,
    "Update only while Open → InvalidCheckoutSessionStatus 422.",
    "completed",
    "update_checkout_session",
    "session",
    {"merchantMetadata": {"merchantReferenceId": "r1"}},
    {"status": 422, "code": "InvalidCheckoutSessionStatus"},
)
case(
    "cs-update-open",
    CS,
    "Update while Open succeeds (200).",
    "session",
    "update_checkout_session",
    "session",
    {"merchantMetadata": {"merchantReferenceId": "r1"}},
    {"status": 200, "state": "Open"},
)
case(
    "cs-get-unknown",
    ERR,
    "An unknown id → ResourceNotFound 404.",
    "none",
    "get_checkout_session",
    "missing",
    None,
    {"status": 404, "code": "ResourceNotFound"},
)
case(
    "cs-complete-expired",
    CS,
    "Completing an expired session is refused (422).",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 422, "code": "InvalidCheckoutSessionStatus"},
    after=DAY,
)
for code in ("BuyerCanceled", "Declined", "AmazonCanceled"):
    case(
        f"sim-complete-{code}",
        SIM,
        f"Simulation string {code} on Complete → session Canceled/{code}, CheckoutSessionCanceled.",
        "approved",
        "complete_checkout_session",
        "session",
        {"chargeAmount": price("100.00")},
        {"status": 422, "code": "CheckoutSessionCanceled", "then": ("session", "Canceled", code)},
        simulation_code=code,
    )

# --- Sandbox cards (sandbox-simulations.html) ------------------------------------------

for card in ("1111", "0005", "4444", "9424", "0000"):
    case(
        f"card-{card}-happy",
        SIM,
        f"Card ...{card}: happy case, Charge Authorized.",
        f"approved:{card}",
        "complete_checkout_session",
        "session",
        {"chargeAmount": price("100.00")},
        {"status": 200, "then": ("charge", "Authorized", None)},
    )
case(
    "card-3064-buyer-canceled",
    SIM,
    "Card ...3064: session Canceled/BuyerCanceled.",
    "approved:3064",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled", "reason": "BuyerCanceled"},
)
case(
    "card-3434-declined",
    SIM,
    "Card ...3434: session Canceled/Declined.",
    "approved:3434",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled", "reason": "Declined"},
)
case(
    "card-0701-pending",
    SIM,
    "Card ...0701 (Authorize + pending): Charge AuthorizationInitiated.",
    "pending:0701",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 202, "then": ("charge", "AuthorizationInitiated", None)},
)
case(
    "card-0701-after-30s",
    SIM,
    "Card ...0701: Authorized 30 s later.",
    "pending_done:0701",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "Authorized"},
    after=31 * SEC,
)
case(
    "card-4354-after-30s",
    SIM,
    "Card ...4354: Declined/HardDeclined 30 s later.",
    "pending_done:4354",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "Declined", "reason": "HardDeclined"},
    after=31 * SEC,
)

# --- Charge Permission (charge-permission.html) ----------------------------------------

case(
    "cp-chargeable",
    CP,
    "Completion yields a Chargeable permission.",
    "completed",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
)
case(
    "cp-onetime-180d",
    CP,
    "A one-time permission expires after 180 days → Closed.",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Closed", "reason": "Expired"},
    after=181 * DAY,
)
case(
    "cp-onetime-179d",
    CP,
    "Before 180 days it is still Chargeable.",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=179 * DAY,
)
case(
    "cp-close",
    CP,
    "Close Charge Permission → Closed (MerchantClosed).",
    "completed",
    "close_charge_permission",
    "permission",
    {"closureReason": "done"},
    {"status": 200, "state": "Closed", "reason": "MerchantClosed"},
)
case(
    "cp-close-closed",
    CP,
    "Closing a Closed permission → InvalidChargePermissionStatus 422.",
    "closed_permission",
    "close_charge_permission",
    "permission",
    {"closureReason": "x"},
    {"status": 422, "code": "InvalidChargePermissionStatus"},
)
case(
    "cp-charge-on-closed",
    CP,
    "Create Charge on a Closed permission → 422.",
    "closed_permission",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 422, "code": "InvalidChargePermissionStatus"},
)
case(
    "cp-update-closed",
    CP,
    "Update a Closed permission → InvalidChargePermissionStatus 422.",
    "closed_permission",
    "update_charge_permission",
    "permission",
    {"merchantMetadata": {"merchantReferenceId": "r"}},
    {"status": 422, "code": "InvalidChargePermissionStatus"},
)
case(
    "cp-closed-after-full-capture",
    CP,
    "A one-time permission closes once the total order amount is captured.",
    "captured_full",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Closed"},
)
case(
    "cp-get-unknown",
    ERR,
    "Unknown permission → ResourceNotFound 404.",
    "none",
    "get_charge_permission",
    "missing",
    None,
    {"status": 404, "code": "ResourceNotFound"},
)

# --- Charge (charge.html) --------------------------------------------------------------

case(
    "ch-capture",
    CH,
    "Capture an Authorized charge → Captured.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "Captured"},
)
case(
    "ch-capture-partial",
    CH,
    "A partial capture is allowed.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("40.00")},
    {"status": 200, "state": "Captured"},
)
case(
    "ch-capture-too-much",
    CH,
    "Capture above the charge amount → TransactionAmountExceeded.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.01")},
    {"status": 400, "code": "TransactionAmountExceeded"},
)
case(
    "ch-capture-currency",
    ERR,
    "Capture in another currency → CurrencyMismatch 400.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("10.00", "EUR")},
    {"status": 400, "code": "CurrencyMismatch"},
)
case(
    "ch-capture-twice",
    CH,
    "Capturing a Captured charge → InvalidChargeStatus 422.",
    "captured",
    "capture_charge",
    "charge",
    {"captureAmount": price("10.00")},
    {"status": 422, "code": "InvalidChargeStatus"},
)
case(
    "ch-capture-7d",
    CH,
    "Captured more than 7 days after authorization → CaptureInitiated.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "CaptureInitiated"},
    after=7 * DAY + SEC,
)
case(
    "ch-capture-at-7d",
    CH,
    "Exactly 7 days after authorization capture is synchronous.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "Captured"},
    after=7 * DAY,
)
case(
    "ch-expire-30d",
    CH,
    "Authorized for 30 days → Canceled/ExpiredUnused.",
    "completed",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "Canceled", "reason": "ExpiredUnused"},
    after=30 * DAY,
)
case(
    "ch-capture-expired",
    CH,
    "Capturing an expired authorization → InvalidChargeStatus.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("1.00")},
    {"status": 422, "code": "InvalidChargeStatus"},
    after=31 * DAY,
)
case(
    "ch-cancel",
    CH,
    "Cancel an Authorized charge → Canceled/MerchantCanceled.",
    "completed",
    "cancel_charge",
    "charge",
    {"cancellationReason": "x"},
    {"status": 200, "state": "Canceled", "reason": "MerchantCanceled"},
)
case(
    "ch-cancel-captured",
    CH,
    "Cancel a Captured charge → InvalidChargeStatus 422.",
    "captured",
    "cancel_charge",
    "charge",
    {"cancellationReason": "x"},
    {"status": 422, "code": "InvalidChargeStatus"},
)
case(
    "ch-create",
    CH,
    "Create Charge on a Chargeable permission → Authorized, 201.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 201, "state": "Authorized"},
)
case(
    "ch-create-capture-now",
    CH,
    "captureNow: true → Captured.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10_NOW",
    {"status": 201, "state": "Captured"},
)
case(
    "ch-create-max-usd",
    CH,
    "chargeAmount maximum US $150,000.",
    "completed_confirm_big",
    "create_charge",
    "permission",
    "CHARGE_150001",
    {"status": 400, "code": "InvalidParameterValue"},
)
case(
    "ch-create-over-balance",
    CP,
    "One-time: capture up to the total order amount only.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE_101",
    {"status": 400, "code": "TransactionAmountExceeded"},
)
case(
    "ch-create-currency",
    ERR,
    "Charge in another currency → CurrencyMismatch.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE_EUR",
    {"status": 400, "code": "CurrencyMismatch"},
)
case(
    "ch-soft-descriptor-no-capture",
    CH,
    "softDescriptor: do not set it when captureNow is false.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE_DESC",
    {"status": 400, "code": "InvalidParameterCombination"},
)
case(
    "ch-get-unknown",
    ERR,
    "Unknown charge → ResourceNotFound 404.",
    "none",
    "get_charge",
    "missing",
    None,
    {"status": 404, "code": "ResourceNotFound"},
)
case(
    "ch-pof-max",
    POF_CHARGE,
    "Saved Wallet charge maximum US $150,000 applies too.",
    "completed_confirm_big",
    "create_charge",
    "permission",
    "CHARGE_150001",
    {"status": 400, "code": "InvalidParameterValue"},
)
for code, status in (
    ("SoftDeclined", 422),
    ("HardDeclined", 422),
    ("AmazonRejected", 422),
    ("ProcessingFailure", 500),
    ("TransactionTimedOut", 422),
):
    case(
        f"sim-charge-{code}",
        SIM,
        f"Simulation string {code} on Create Charge → {code}.",
        "completed_confirm",
        "create_charge",
        "permission",
        "CHARGE10",
        {"status": status, "code": code},
        simulation_code=code,
    )
case(
    "sim-capture-initiated",
    SIM,
    "Simulation CaptureInitiated on Capture → CaptureInitiated.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "CaptureInitiated"},
    simulation_code="CaptureInitiated",
)
case(
    "sim-unknown-code",
    ERR,
    "An invalid simulation → InvalidSandboxSimulationSpecified 400.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 400, "code": "InvalidSandboxSimulationSpecified"},
    simulation_code="Nonsense",
)

# --- Refund (refund.html, manage-refunds.html) -----------------------------------------

case(
    "rf-create",
    RF,
    "Refunds start in a pending state (RefundInitiated), 201.",
    "captured",
    "create_refund",
    "charge",
    "REFUND10",
    {"status": 201, "state": "RefundInitiated"},
)
case(
    "rf-on-authorized",
    RF,
    "A refund only on a captured Charge → InvalidChargeStatus.",
    "completed",
    "create_refund",
    "charge",
    "REFUND10",
    {"status": 422, "code": "InvalidChargeStatus"},
)
case(
    "rf-over-15pct",
    REFUNDS,
    "Refund up to 15 % or 75 USD above the capture, whichever is less.",
    "captured",
    "create_refund",
    "charge",
    "REFUND_115_01",
    {"status": 400, "code": "TransactionAmountExceeded"},
)
case(
    "rf-at-15pct",
    REFUNDS,
    "Refunding 115 % of a 100 USD capture is allowed.",
    "captured",
    "create_refund",
    "charge",
    "REFUND_115",
    {"status": 201, "state": "RefundInitiated"},
)
case(
    "rf-currency",
    ERR,
    "Refund in another currency → CurrencyMismatch.",
    "captured",
    "create_refund",
    "charge",
    "REFUND_EUR",
    {"status": 400, "code": "CurrencyMismatch"},
)
case(
    "rf-no-time-limit",
    REFUNDS,
    "There is no time limit to initiate a refund.",
    "captured",
    "create_refund",
    "charge",
    "REFUND10",
    {"status": 201, "state": "RefundInitiated"},
    after=400 * DAY,
)
case(
    "rf-refunded-later",
    RF,
    "A refund moves on to Refunded.",
    "refunded",
    "get_refund",
    "refund",
    None,
    {"status": 200, "state": "Refunded"},
    after=DAY,
)
case(
    "rf-get-unknown",
    ERR,
    "Unknown refund → ResourceNotFound 404.",
    "none",
    "get_refund",
    "missing",
    None,
    {"status": 404, "code": "ResourceNotFound"},
)
for code in ("AmazonRejected", "ProcessingFailure"):
    case(
        f"sim-refund-{code}",
        SIM,
        f"Simulation {code} on Create Refund → Declined/{code}.",
        "captured",
        "create_refund",
        "charge",
        "REFUND10",
        {"status": 201, "then": ("refund", "Declined", code)},
        after=timedelta(0),
        simulation_code=code,
    )

# --- Body rules (error-handling.html) --------------------------------------------------

case(
    "err-create-missing-store",
    ERR,
    "storeId is required → MissingParameterValue 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION_NO_STORE",
    {"status": 400, "code": "MissingParameterValue"},
)
case(
    "err-create-bad-intent",
    ERR,
    "An invalid value → InvalidParameterValue 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION_BAD_INTENT",
    {"status": 400, "code": "InvalidParameterValue"},
)
case(
    "err-charge-bad-amount",
    ERR,
    "A malformed amount → InvalidParameterValue 400.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE_BAD",
    {"status": 400, "code": "InvalidParameterValue"},
)

# --- Response keys (Node SDK sandbox tests) --------------------------------------------

case(
    "keys-charge",
    NODE + " 'Validating Get Charge API'",
    "Charge JSON carries every key of the SDK's list.",
    "completed",
    "get_charge",
    "charge",
    None,
    {
        "status": 200,
        "keys": (
            "chargeId",
            "chargeAmount",
            "chargePermissionId",
            "captureAmount",
            "refundedAmount",
            "softDescriptor",
            "providerMetadata",
            "convertedAmount",
            "conversionRate",
            "channel",
            "chargeInitiator",
            "statusDetails",
            "creationTimestamp",
            "expirationTimestamp",
            "releaseEnvironment",
            "merchantMetadata",
            "platformId",
            "webCheckoutDetails",
        ),
    },
)
case(
    "keys-permission",
    NODE + " 'Validating Get Charge Permission API'",
    "Charge Permission JSON carries every key of the SDK's list.",
    "completed",
    "get_charge_permission",
    "permission",
    None,
    {
        "status": 200,
        "keys": (
            "chargePermissionId",
            "platformId",
            "buyer",
            "shippingAddress",
            "billingAddress",
            "paymentPreferences",
            "statusDetails",
            "creationTimestamp",
            "expirationTimestamp",
            "merchantMetadata",
            "releaseEnvironment",
            "limits",
            "chargePermissionType",
            "recurringMetadata",
            "presentmentCurrency",
        ),
    },
)
case(
    "keys-refund",
    NODE + " 'Validating Get Refund API'",
    "Refund JSON carries every key of the SDK's list.",
    "refunded",
    "get_refund",
    "refund",
    None,
    {
        "status": 200,
        "keys": (
            "refundId",
            "chargeId",
            "creationTimestamp",
            "refundAmount",
            "statusDetails",
            "softDescriptor",
            "releaseEnvironment",
        ),
    },
)


# --- Buyer (buyer.html, amazon-sign-in.html): Get Buyer after Amazon Sign-in -------------

BUYER = DOCS + "amazon-pay-api-v2/buyer.html"
SIGN_IN = DOCS + "amazon-pay-checkout/amazon-sign-in.html"
BUYER_TTL = "https://amazonpay-onboarding.com/en/specification/object/buyer"
BUYER_KEYS = (
    "buyerId",
    "name",
    "email",
    "postalCode",
    "countryCode",
    "shippingAddress",
    "billingAddress",
    "phoneNumber",
    "primeMembershipTypes",
)

case(
    "by-buyer-id-by-default",
    BUYER,
    "Get Buyer will only return buyerId by default (no signInScopes): the other keys are "
    "null (apfsm's rule: every key, null when unset).",
    "buyer",
    "get_buyer",
    "buyer",
    None,
    {"status": 200, "exact_keys": BUYER_KEYS, "null": "name", "types": {"email": None}},
)
case(
    "by-node-sdk-buyer-id",
    NODE + " 'Validating Get Buyer API'",
    "validateGetBuyerResponse: status 200 and buyerId starts with amzn1.account.",
    "buyer",
    "get_buyer",
    "buyer",
    None,
    {"status": 200, "match": {"buyerId": r"amzn1\.account\.[A-Z0-9]+"}},
)
case(
    "by-scopes-share-details",
    SIGN_IN + " 'signInScopes'",
    "The details signInScopes ask for are shared: name, email, and the default shipping "
    "address's postal and country code (postalCode).",
    "buyer:name,email,postalCode",
    "get_buyer",
    "buyer",
    None,
    {
        "status": 200,
        "match": {"name": ".+", "email": ".+@.+", "postalCode": ".+", "countryCode": "[A-Z]{2}"},
        "types": {"shippingAddress": None, "phoneNumber": None},
    },
)
case(
    "by-addresses-and-phone",
    BUYER,
    "With the shippingAddress, billingAddress and phoneNumber scopes: both addresses (type "
    "address) and the billing address's phone number.",
    "buyer:shippingAddress,billingAddress,phoneNumber",
    "get_buyer",
    "buyer",
    None,
    {
        "status": 200,
        "shape": ("shippingAddress", ("addressLine1", "city", "postalCode", "countryCode")),
        "match": {"billingAddress.countryCode": "[A-Z]{2}", "phoneNumber": ".+"},
        "types": {"name": None},
    },
)
case(
    "by-token-live-until-24h",
    BUYER_TTL,
    "The buyer token lasts 24 hours: one second before, Get Buyer still answers (200).",
    "buyer",
    "get_buyer",
    "buyer",
    None,
    {"status": 200},
    after=DAY - SEC,
)
case(
    "by-token-expires-24h",
    BUYER_TTL,
    "The buyer token expires after 24 hours; at exactly 24 h it has (SPEC §2 boundary). "
    "Amazon documents no code: apfsm answers as for an unknown token (Decision).",
    "buyer",
    "get_buyer",
    "buyer",
    None,
    {"status": 404, "code": "ResourceNotFound"},
    after=DAY,
)


# More cases, by family (they append to CASES on import).
from . import cases_dispute, cases_sdk, cases_time, cases_wire  # noqa: E402, F401
