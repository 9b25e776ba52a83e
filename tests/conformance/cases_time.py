"""Deadlines at L−1 s / L / L+1 s, permission lifetimes, Saved Wallet and overcharge rules."""

from __future__ import annotations

from .cases import CH, CP, CS, DAY, SEC, SIM, V1_CS, case, price

ONBOARD_CP = "https://amazonpay-onboarding.com/en/specification/object/charge-permission"
POF_CP = "https://developer.amazon.com/docs/amazon-pay-paymentmethodonfile/charge-permission.html"
POF_LIMITS = (
    "https://developer.amazon.com/docs/amazon-pay-paymentmethodonfile/"
    "monthly-paymentmethodonfile-charge-limits.html"
)
ADVANCED = (
    "https://developer.amazon.com/docs/amazon-pay-checkout/advanced-one-time-payment-options.html"
)
OVERCHARGE = ADVANCED + " 'Charging more than the original order amount'"
RF_MAX = "https://developer.amazon.com/docs/amazon-pay-api-v2/refund.html 'refundAmount'"

# --- Checkout Session: 24 h life, 30 days retention -------------------------------------

case(
    "cs-expires-24h-plus-1s",
    CS,
    "One second after the 24 hours the session is Canceled/Expired.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled", "reason": "Expired"},
    after=DAY + SEC,
)
case(
    "cs-approved-expires-24h",
    CS,
    "An approved but not completed session also expires after 24 hours.",
    "approved",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled", "reason": "Expired"},
    after=DAY,
)
case(
    "cs-complete-24h-minus-1s",
    CS,
    "One second before the 24 hours an approved session can still be completed.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 200, "state": "Completed"},
    after=DAY - SEC,
)
case(
    "cs-kept-30d-minus-1s",
    V1_CS,
    "Until 30 days after creation the session can still be read.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled"},
    after=30 * DAY - SEC,
)
case(
    "cs-deleted-30d-plus-1s",
    V1_CS,
    "Just after 30 days the session is gone → ResourceNotFound.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 404, "code": "ResourceNotFound"},
    after=30 * DAY + SEC,
)

# --- Charge: 30 days authorization, 7 days synchronous capture --------------------------

case(
    "ch-authorized-30d-minus-1s",
    CH,
    "One second before 30 days the authorization is still Authorized.",
    "completed",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "Authorized"},
    after=30 * DAY - SEC,
)
case(
    "ch-expire-30d-plus-1s",
    CH,
    "After 30 days the authorization is Canceled/ExpiredUnused.",
    "completed",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "Canceled", "reason": "ExpiredUnused"},
    after=30 * DAY + SEC,
)
case(
    "ch-capture-30d-minus-1s",
    CH,
    "Capture one second before the authorization expires → accepted (asynchronously).",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "CaptureInitiated"},
    after=30 * DAY - SEC,
)
case(
    "ch-capture-7d-minus-1s",
    CH,
    "Within 7 days of the authorization, capture is synchronous → Captured.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "Captured"},
    after=7 * DAY - SEC,
)
case(
    "card-0701-at-30s-minus-1s",
    SIM,
    "Card ...0701: still AuthorizationInitiated before the 30 s pass.",
    "pending_done:0701",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "AuthorizationInitiated"},
    after=30 * SEC - SEC,
)
case(
    "card-0701-at-30s",
    SIM,
    "Card ...0701: Authorized once 30 s passed.",
    "pending_done:0701",
    "get_charge",
    "charge",
    None,
    {"status": 200, "state": "Authorized"},
    after=30 * SEC,
)

# --- Charge Permission lifetimes --------------------------------------------------------

case(
    "cp-onetime-180d-exact",
    CP,
    "A one-time permission expires after 180 days (at 180 days: Closed/Expired).",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Closed", "reason": "Expired"},
    after=180 * DAY,
)
case(
    "cp-onetime-180d-minus-1s",
    CP,
    "One second before 180 days the permission is still Chargeable.",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=180 * DAY - SEC,
)
case(
    "cp-extended-after-180d",
    ADVANCED + " 'Extending order expiration'",
    "extendExpiration=true keeps the one-time permission alive 13 months instead of 180 days.",
    "completed_extended",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=200 * DAY,
)
case(
    "cp-extended-13-months",
    ADVANCED + " 'Extending order expiration'",
    "An extended one-time permission is Closed/Expired after 13 months (2027-04-02).",
    "completed_extended",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Closed", "reason": "Expired"},
    after=396 * DAY,
)
case(
    "cp-recurring-13-months-minus-1s",
    ONBOARD_CP,
    "A recurring permission is still Chargeable just before 13 months (2027-04-02 09:00).",
    "completed_recurring",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=396 * DAY - SEC,
)
case(
    "cp-recurring-13-months",
    ONBOARD_CP,
    "A recurring permission without charges is Closed/Expired after 13 months.",
    "completed_recurring",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Closed", "reason": "Expired"},
    after=396 * DAY,
)
case(
    "cp-recurring-not-180d",
    CP,
    "The 180-day expiry is the one-time permission's: a recurring one is Chargeable at day 200.",
    "completed_recurring",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=200 * DAY,
)
case(
    "cp-recurring-charge-extends",
    ONBOARD_CP + " 'Recurring'",
    "A charge on a recurring permission at month 12 keeps it alive past the first 13 months.",
    "recurring_charged_12m",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=60 * DAY,
)

# --- Saved Wallet (PaymentMethodOnFile) --------------------------------------------------

case(
    "pof-not-180d",
    POF_CP,
    "A Saved Wallet permission is not a one-time one: still Chargeable after 200 days.",
    "completed_pof",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "state": "Chargeable"},
    after=200 * DAY,
)
case(
    "pof-charge",
    POF_CP,
    "A Saved Wallet permission is charged ad hoc with Create Charge (201).",
    "completed_pof",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 201, "state": "Authorized"},
)
case(
    "pof-monthly-cap",
    POF_LIMITS,
    "Saved Wallet charges are capped at USD 15,000 per calendar month → PeriodicAmountExceeded.",
    "completed_pof_15000",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 400, "code": "PeriodicAmountExceeded"},
)
case(
    "pof-monthly-cap-next-month",
    POF_LIMITS,
    "The cap is per calendar month: next month the same permission can be charged again.",
    "completed_pof_15000",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 201, "state": "Authorized"},
    after=31 * DAY,
)

# --- Overcharge, refund maximum -----------------------------------------------------------

case(
    "overcharge-limit",
    OVERCHARGE,
    "allowOvercharge: amountLimit is the larger of 900 % of the order and USD 500.",
    "completed_overcharge",
    "create_charge",
    "permission",
    "CHARGE_600",
    {"status": 201, "state": "Authorized"},
)
case(
    "overcharge-above-limit",
    OVERCHARGE,
    "Above the overcharge limit (USD 900 on a USD 100 order) → TransactionAmountExceeded.",
    "completed_overcharge",
    "create_charge",
    "permission",
    "CHARGE_900_01",
    {"status": 400, "code": "TransactionAmountExceeded"},
)
case(
    "overcharge-off-by-default",
    CP,
    "Without allowOvercharge one-time charges stop at the order amount.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE_600",
    {"status": 400, "code": "TransactionAmountExceeded"},
)
case(
    "rf-max-150000",
    RF_MAX,
    "One refund is at most USD 150,000 → InvalidParameterValue.",
    "captured_big",
    "create_refund",
    "charge",
    "REFUND_150001",
    {"status": 400, "code": "InvalidParameterValue"},
)

# --- Pending cards used without pending handling (sandbox-simulations.html) -------------

for card in ("0701", "4354"):
    case(
        f"card-{card}-needs-pending",
        SIM,
        f"Card ...{card} needs paymentIntent Authorize and canHandlePendingAuthorization: "
        "without them, completing is an error, not a success.",
        f"approved:{card}",
        "complete_checkout_session",
        "session",
        {"chargeAmount": price("100.00")},
        {"status": "4xx", "code": "*"},
        # 4354 without pending handling is declined synchronously, already a refusal.
    )

# --- Buyer details retention (charge-permission.html) -----------------------------------

CP_BUYER = CP + " 'buyer details'"
case(
    "cp-buyer-30d-minus-1s",
    CP_BUYER,
    "One-time: buyer details can be retrieved in the first 30 days after creation.",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "present": "buyer"},
    after=30 * DAY - SEC,
)
case(
    "cp-buyer-after-30d",
    CP_BUYER,
    "One-time: after 30 days the buyer details are gone (buyer null).",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "null": "buyer"},
    after=30 * DAY + SEC,
)
case(
    "cp-recurring-buyer-open",
    CP_BUYER,
    "Recurring: buyer details can be retrieved while the permission is open (day 40).",
    "completed_recurring",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "present": "buyer"},
    after=40 * DAY,
)
case(
    "cp-recurring-buyer-after-close",
    CP_BUYER,
    "Recurring: buyer details are kept for up to 30 days after the permission is closed; "
    "31 days after closing, buyer is null.",
    "closed_recurring",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "null": "buyer"},
    after=31 * DAY,
)
case(
    "cp-recurring-buyer-after-close-29d",
    CP_BUYER,
    "Recurring: 29 days after closing the buyer details are still there.",
    "closed_recurring",
    "get_charge_permission",
    "permission",
    None,
    {"status": 200, "present": "buyer"},
    after=29 * DAY,
)
