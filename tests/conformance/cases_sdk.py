"""Facts asserted by the official SDKs' tests (.NET), the Magento 2 plugin and the IPN page.

Request bodies are the SDK tests' expected JSON, with the currency changed to the
simulated checkout's (USD) where the currency is not the point.
"""

from __future__ import annotations

from .cases import CS, IPN, MAGENTO, NET, NODE, SEC, case, price

NET_CHARGE = NET + "WebStore/Charge/CreateChargeRequestTests.cs"
NET_CAPTURE = NET + "WebStore/Charge/CaptureChargeRequestTests.cs"
NET_CANCEL = NET + "WebStore/Charge/CancelChargeRequestTests.cs"
NET_REFUND = NET + "WebStore/Refund/CreateRefundRequestTests.cs"
NET_COMPLETE = NET + "WebStore/CheckoutSession/CompleteCheckoutSessionRequestTests.cs"
NET_CLOSE = NET + "WebStore/ChargePermission/CloseChargePermissionRequestTests.cs"
NET_UPDATE_CP = NET + "WebStore/ChargePermission/UpdateChargePermissionRequestTests.cs"
MG_CHARGE = MAGENTO + "Model/AsyncManagement/Charge.php"
MG_SESSION = MAGENTO + "Model/CheckoutSessionManagement.php"
MG_IPN = MAGENTO + "Controller/Payment/Ipn.php"
MG_CRON = MAGENTO + "Cron/CleanUpIncompleteSessions.php"


def number(amount: float, currency: str = "USD") -> dict[str, object]:
    """A price as the .NET SDK serialises it: the amount a JSON number."""
    return {"amount": amount, "currencyCode": currency}


# --- .NET SDK request types (their JSON is what Amazon receives) ------------------------

case(
    "net-charge-minimal-number",
    NET_CHARGE + " 'CanConvertToJsonMinimal'",
    'Create Charge as the .NET SDK sends it: {"amount":12.99} a JSON number → accepted.',
    "completed_confirm",
    "create_charge",
    "permission",
    "NET_CHARGE_NUMBER",
    {"status": 201, "state": "Authorized"},
    xfail="issue 11: amounts as JSON numbers",
)
case(
    "net-charge-full",
    NET_CHARGE + " 'CanConvertToJsonFull'",
    "captureNow, softDescriptor, platformId, canHandlePendingAuthorization, providerMetadata "
    "on Create Charge → accepted, Captured.",
    "completed_confirm",
    "create_charge",
    "permission",
    "NET_CHARGE_FULL",
    {"status": 201, "state": "Captured"},
    xfail="issue 11: platformId/webCheckoutDetails on create charge",
)
case(
    "net-charge-merchant-metadata",
    NET_CHARGE + " 'CanConvertToJsonRecurring'",
    "Create Charge carries merchantMetadata (4 fields) on a recurring permission → accepted.",
    "completed_recurring",
    "create_charge",
    "permission",
    "NET_CHARGE_MM",
    {"status": 201, "state": "Captured"},
)
case(
    "net-charge-pof-initiator",
    NET_CHARGE + " 'CanConvertToJsonPaymentMethodOnFile'",
    "chargeInitiator CITR and channel Web on a Saved Wallet charge → accepted.",
    "completed_pof",
    "create_charge",
    "permission",
    "NET_CHARGE_POF",
    {"status": 201, "state": "Captured"},
)
case(
    "net-charge-saved-wallet-web",
    NET_CHARGE + " 'CanConvertToJsonSavedWallet'",
    "webCheckoutDetails.checkoutResultReturnUrl on a Saved Wallet charge → accepted.",
    "completed_pof",
    "create_charge",
    "permission",
    "NET_CHARGE_WEB",
    {"status": 201, "state": "Captured"},
    xfail="issue 11: platformId/webCheckoutDetails on create charge",
)
case(
    "net-capture-number",
    NET_CAPTURE + " 'CanConvertToJsonMinimal'",
    'Capture with {"amount":12.99} a JSON number → accepted.',
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": number(12.99)},
    {"status": 200, "state": "Captured"},
    xfail="issue 11: amounts as JSON numbers",
)
case(
    "net-capture-soft-descriptor",
    NET_CAPTURE + " 'CanConvertToJsonFull'",
    "Capture with a softDescriptor → accepted.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("12.99"), "softDescriptor": "foo"},
    {"status": 200, "state": "Captured"},
)
case(
    "net-cancel",
    NET_CANCEL + " 'CanConvertToJson'",
    'Cancel Charge body {"cancellationReason":"foo"} → Canceled.',
    "completed",
    "cancel_charge",
    "charge",
    {"cancellationReason": "foo"},
    {"status": 200, "state": "Canceled"},
)
case(
    "net-refund-number",
    NET_REFUND + " 'CanConvertToJsonMinimal'",
    'Create Refund with {"amount":12.99} a JSON number → accepted.',
    "captured",
    "create_refund",
    "charge",
    "NET_REFUND_NUMBER",
    {"status": 201, "state": "RefundInitiated"},
    xfail="issue 11: amounts as JSON numbers",
)
case(
    "net-refund-soft-descriptor",
    NET_REFUND + " 'CanConvertToJsonFull'",
    "Create Refund with a softDescriptor → accepted.",
    "captured",
    "create_refund",
    "charge",
    "NET_REFUND_DESC",
    {"status": 201, "state": "RefundInitiated"},
)
case(
    "net-complete-number",
    NET_COMPLETE + " 'CanConvertToJsonMinimal'",
    'Complete with {"amount":99} an integer JSON number → accepted.',
    "approved_99",
    "complete_checkout_session",
    "session",
    {"chargeAmount": number(99)},
    {"status": 200, "state": "Completed"},
    xfail="issue 11: amounts as JSON numbers",
)
case(
    "net-complete-total-order-amount",
    NET_COMPLETE + " 'CanConvertToJsonMultiship'",
    "Complete carries totalOrderAmount next to chargeAmount (multi-shipment) → accepted.",
    "approved_total",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("99.00"), "totalOrderAmount": price("299.99")},
    {"status": 200, "state": "Completed"},
)
case(
    "net-close",
    NET_CLOSE + " 'CanConvertToJsonMinimal'",
    'Close Charge Permission body {"closureReason":"foo"} → Closed.',
    "completed",
    "close_charge_permission",
    "permission",
    {"closureReason": "foo"},
    {"status": 200, "state": "Closed"},
)
case(
    "net-close-cancel-pending",
    NET_CLOSE + " 'CanConvertToJsonMerchantMetadata'",
    "Close with cancelPendingCharges: true → the open charge is Canceled too.",
    "completed",
    "close_charge_permission",
    "permission",
    {"closureReason": "foo", "cancelPendingCharges": True},
    {"status": 200, "then": ("charge", "Canceled", "ChargePermissionCanceled")},
)
case(
    "net-update-cp-metadata",
    NET_UPDATE_CP + " 'CanConvertToJsonMerchantMetadata'",
    "Update Charge Permission with merchantMetadata's four fields → accepted.",
    "completed",
    "update_charge_permission",
    "permission",
    {
        "merchantMetadata": {
            "merchantReferenceId": "345",
            "merchantStoreName": "anotherShop",
            "noteToBuyer": "mee",
            "customInformation": "bar",
        }
    },
    {"status": 200, "state": "Chargeable"},
)

# --- Magento 2 plugin: states and reason codes it acts on -------------------------------

case(
    "mg-session-canceled-reason",
    MG_SESSION + " 'getCanceledMessage'",
    "A buyer-canceled session reads Canceled with reasonCode BuyerCanceled.",
    "canceled_session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Canceled", "reason": "BuyerCanceled"},
)
case(
    "mg-session-reason-description",
    MG_SESSION + " 'getCanceledMessage'",
    "A Canceled session's statusDetails carries a reasonDescription (shown to the buyer).",
    "canceled_session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "shape": ("statusDetails", ("state", "reasonCode", "reasonDescription"))},
)
case(
    "mg-session-states",
    MG_CRON,
    "The plugin's clean-up job reads a session left Open (one of Open, Completed, Canceled).",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
)
case(
    "mg-update-cp-after-complete",
    MG_SESSION + " 'updateChargePermission'",
    "After completion the plugin sets merchantReferenceId on the Chargeable permission → 200.",
    "completed",
    "update_charge_permission",
    "permission",
    {"merchantMetadata": {"merchantReferenceId": "000000001"}},
    {"status": 200, "state": "Chargeable"},
)
case(
    "mg-capture-authorized",
    MG_CHARGE + " 'processStateChange'",
    "Authorize-and-capture: an Authorized charge is captured for the grand total → Captured.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "Captured", "types": {"captureAmount.amount": "str"}},
)
case(
    "mg-pending-authorization",
    MG_SESSION + " 'AuthorizationInitiated'",
    "With canHandlePendingAuthorization the charge may be AuthorizationInitiated (202).",
    "pending:0701",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 202, "then": ("charge", "AuthorizationInitiated", None)},
)
case(
    "mg-declined-close",
    MG_CHARGE + " 'decline'",
    "After a declined charge the plugin closes the permission with cancelPendingCharges → 200.",
    "pending_declined:4354",
    "close_charge_permission",
    "permission",
    {"closureReason": "Canceled due to capture declined.", "cancelPendingCharges": True},
    {"status": 200, "state": "Closed"},
)
case(
    "mg-ipn-charge",
    MG_IPN,
    "A charge's state change is notified with ObjectType CHARGE and its ObjectId.",
    "pending_done:0701",
    "get_charge",
    "charge",
    None,
    {"status": 200, "ipn": {"ObjectType": "CHARGE", "ObjectId": "{charge}"}},
    after=31 * SEC,
)
case(
    "mg-ipn-refund",
    MG_IPN,
    "A refund's state change is notified with ObjectType REFUND and its ObjectId.",
    "captured",
    "create_refund",
    "charge",
    "REFUND10",
    {"status": 201, "ipn": {"ObjectType": "REFUND", "ChargePermissionId": "{permission}"}},
)

# --- IPN page ------------------------------------------------------------------------------

IPN_KEYS = (
    "MerchantID",
    "ObjectType",
    "ObjectId",
    "ChargePermissionId",
    "NotificationType",
    "NotificationId",
    "NotificationVersion",
)
case(
    "ipn-message-fields",
    IPN,
    "An IPN message carries MerchantID, ObjectType, ObjectId, ChargePermissionId, "
    "NotificationType, NotificationId, NotificationVersion.",
    "completed",
    "cancel_charge",
    "charge",
    {"cancellationReason": "x"},
    {"status": 200, "ipn_keys": IPN_KEYS},
)
case(
    "ipn-state-change",
    IPN,
    "NotificationType is STATE_CHANGE, NotificationVersion V2.",
    "completed",
    "cancel_charge",
    "charge",
    {"cancellationReason": "x"},
    {"status": 200, "ipn": {"NotificationType": "STATE_CHANGE", "NotificationVersion": "V2"}},
)
case(
    "ipn-charge-permission",
    IPN,
    "Closing a permission is notified with ObjectType CHARGE_PERMISSION.",
    "completed",
    "close_charge_permission",
    "permission",
    {"closureReason": "x"},
    {"status": 200, "ipn": {"ObjectType": "CHARGE_PERMISSION", "ObjectId": "{permission}"}},
)
case(
    "ipn-charge-capture",
    IPN,
    "A capture is notified with ObjectType CHARGE and the charge's id.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "ipn": {"ObjectType": "CHARGE", "ObjectId": "{charge}"}},
)
case(
    "ipn-no-state",
    IPN,
    "The message carries no state: no statusDetails in it (read the object with a GET).",
    "completed",
    "cancel_charge",
    "charge",
    {"cancellationReason": "x"},
    {"status": 200, "ipn_absent": ("statusDetails", "State")},
)

# --- Request fields and completion rules (checkout-session.html) -------------------------

REQUEST_FIELDS = (
    "issue 11: SDK request fields (checkoutCancelUrl, supplementaryData, "
    "paymentMethodOnFileMetadata, estimateOrderTotal, platformId/webCheckoutDetails on "
    "create charge, multiAddressesCheckoutMetadata)"
)
case(
    "cs-create-cancel-url",
    CS + " 'Create Checkout Session'",
    "webCheckoutDetails.checkoutCancelUrl is a Create Checkout Session field → 201.",
    "none",
    "create_checkout_session",
    None,
    "SESSION_CANCEL_URL",
    {"status": 201, "state": "Open"},
    xfail=REQUEST_FIELDS,
)
case(
    "cs-create-estimate-total",
    CS + " 'Create Checkout Session'",
    "paymentDetails.estimateOrderTotal is a Create Checkout Session field → 201.",
    "none",
    "create_checkout_session",
    None,
    "SESSION_ESTIMATE",
    {"status": 201, "state": "Open"},
    xfail=REQUEST_FIELDS,
)
case(
    "cs-update-allow-overcharge",
    CS + " 'Update Checkout Session'",
    "allowOvercharge can only be set at creation: on Update it is refused.",
    "session",
    "update_checkout_session",
    "session",
    {"paymentDetails": {"allowOvercharge": True}},
    {"status": 400, "codes": ("UnrecognizedField", "InvalidParameterValue")},
    xfail="issue 11: creation-only allowOvercharge/extendExpiration refused on update",
)
case(
    "cs-update-extend-expiration",
    CS + " 'Update Checkout Session'",
    "extendExpiration can only be set at creation: on Update it is refused.",
    "session",
    "update_checkout_session",
    "session",
    {"paymentDetails": {"extendExpiration": True}},
    {"status": 400, "codes": ("UnrecognizedField", "InvalidParameterValue")},
    xfail="issue 11: creation-only allowOvercharge/extendExpiration refused on update",
)
case(
    "cs-complete-needs-total",
    CS + " 'Complete Checkout Session'",
    "A session with totalOrderAmount must be completed with it → MissingParameterValue.",
    "approved_total",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("99.00")},
    {"status": 400, "code": "MissingParameterValue"},
)

# --- Node SDK sandbox tests: the Checkout Session's keys, buyer ids ----------------------

SESSION_KEYS = (
    "checkoutSessionId",
    "webCheckoutDetails",
    "productType",
    "paymentDetails",
    "chargePermissionType",
    "orderType",
    "recurringMetadata",
    "paymentMethodOnFileMetadata",
    "merchantDetails",
    "merchantMetadata",
    "supplementaryData",
    "buyer",
    "billingAddress",
    "paymentPreferences",
    "statusDetails",
    "shippingAddress",
    "platformId",
    "chargePermissionId",
    "chargeId",
    "constraints",
    "creationTimestamp",
    "expirationTimestamp",
    "storeId",
    "providerMetadata",
    "releaseEnvironment",
    "checkoutButtonText",
    "deliverySpecifications",
    "tokens",
)
NODE_SESSION = NODE + " 'Validating Create Checkout Session API'"
case(
    "keys-session",
    NODE_SESSION,
    "Checkout Session JSON carries every key of the SDK's list (201 on create).",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "keys": SESSION_KEYS},
)
case(
    "keys-session-exact",
    NODE_SESSION,
    "The SDK compares Object.keys exactly: no key beyond its list (no addressDetails, scopes).",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "exact_keys": SESSION_KEYS},
)
case(
    "node-buyer-id",
    NODE + " 'Validating Get Buyer API'",
    "A buyer id starts with amzn1.account.",
    "approved",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "match": {"buyer.buyerId": r"amzn1\.account\..+"}},
)
