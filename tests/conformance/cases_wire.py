"""Wire cases: requests through the HTTP server (``test_wire.py``) — headers, idempotency,
signatures, paths, status codes and the JSON types of answers."""

from __future__ import annotations

from .cases import CH, CP, CS, ERR, JAVA, NET, NODE, PHP, RF, SIGN, SIM, case, price

IDEMPOTENCY = "https://developer.amazon.com/docs/amazon-pay-api-v2/idempotency.html"
NET_URL = NET + "ApiUrlBuilderTests.cs"
JAVA_SIGNER = JAVA + "RequestSignerTest.java"
COMPACT = r"^\d{8}T\d{6}Z$"
KEY = "x-amz-pay-idempotency-key"

# --- Status codes and answer types -------------------------------------------------------

case(
    "w-create-session-201",
    CS,
    "POST /v2/checkoutSessions answers 201 Created with the session.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open", "types": {"checkoutSessionId": "str"}},
    wire=("POST", "/v2/checkoutSessions"),
)
case(
    "w-get-session-200",
    CS,
    "GET /v2/checkoutSessions/{id} answers 200.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    wire=("GET", "/v2/checkoutSessions/{session}"),
)
case(
    "w-update-session-200",
    CS,
    "PATCH /v2/checkoutSessions/{id} answers 200.",
    "session",
    "update_checkout_session",
    "session",
    {"merchantMetadata": {"merchantReferenceId": "r1"}},
    {"status": 200, "state": "Open"},
    wire=("PATCH", "/v2/checkoutSessions/{session}"),
)
case(
    "w-complete-200",
    CS,
    "POST /v2/checkoutSessions/{id}/complete answers 200 (not 201: nothing is created by URL).",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 200, "state": "Completed"},
    wire=("POST", "/v2/checkoutSessions/{session}/complete"),
)
case(
    "w-create-charge-201",
    CH,
    "POST /v2/charges answers 201.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 201, "state": "Authorized"},
    wire=("POST", "/v2/charges"),
)
case(
    "w-capture-200",
    CH,
    "POST /v2/charges/{id}/capture answers 200.",
    "completed",
    "capture_charge",
    "charge",
    {"captureAmount": price("100.00")},
    {"status": 200, "state": "Captured"},
    wire=("POST", "/v2/charges/{charge}/capture"),
)
case(
    "w-cancel-charge-200",
    CH,
    "DELETE /v2/charges/{id}/cancel answers 200.",
    "completed",
    "cancel_charge",
    "charge",
    {"cancellationReason": "x"},
    {"status": 200, "state": "Canceled"},
    wire=("DELETE", "/v2/charges/{charge}/cancel"),
)
case(
    "w-close-permission-200",
    CP,
    "DELETE /v2/chargePermissions/{id}/close answers 200.",
    "completed",
    "close_charge_permission",
    "permission",
    {"closureReason": "x"},
    {"status": 200, "state": "Closed"},
    wire=("DELETE", "/v2/chargePermissions/{permission}/close"),
)
case(
    "w-create-refund-201",
    RF,
    "POST /v2/refunds answers 201.",
    "captured",
    "create_refund",
    "charge",
    "REFUND10",
    {"status": 201, "state": "RefundInitiated"},
    wire=("POST", "/v2/refunds"),
)
case(
    "w-amounts-are-strings",
    NODE + " 'Validating Get Charge API'",
    'Amounts in answers are JSON strings with two decimals ("100.00").',
    "completed",
    "get_charge",
    "charge",
    None,
    {"status": 200, "types": {"chargeAmount.amount": "100.00", "chargeAmount.currencyCode": "USD"}},
    wire=("GET", "/v2/charges/{charge}"),
)
case(
    "w-timestamps-compact",
    CH,
    "Timestamps are compact ISO 8601 UTC: YYYYMMDDTHHMMSSZ.",
    "completed",
    "get_charge",
    "charge",
    None,
    {
        "status": 200,
        "match": {
            "creationTimestamp": COMPACT,
            "expirationTimestamp": COMPACT,
            "statusDetails.lastUpdatedTimestamp": COMPACT,
        },
    },
    wire=("GET", "/v2/charges/{charge}"),
)
case(
    "w-session-status-details",
    CS,
    "Checkout Session statusDetails: state, reasonCode, reasonDescription, lastUpdatedTimestamp.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {
        "status": 200,
        "shape": (
            "statusDetails",
            ("state", "reasonCode", "reasonDescription", "lastUpdatedTimestamp"),
        ),
    },
    wire=("GET", "/v2/checkoutSessions/{session}"),
)
case(
    "w-permission-status-details",
    CP,
    "Charge Permission statusDetails: state, reasons (a list), lastUpdatedTimestamp.",
    "closed_permission",
    "get_charge_permission",
    "permission",
    None,
    {
        "status": 200,
        "shape": ("statusDetails", ("state", "reasons", "lastUpdatedTimestamp")),
        "types": {"statusDetails.reasons.0.reasonCode": "MerchantClosed"},
    },
    wire=("GET", "/v2/chargePermissions/{permission}"),
)
case(
    "w-charge-status-details",
    CH,
    "Charge statusDetails: state, reasonCode, reasonDescription, lastUpdatedTimestamp.",
    "completed",
    "get_charge",
    "charge",
    None,
    {
        "status": 200,
        "shape": (
            "statusDetails",
            ("state", "reasonCode", "reasonDescription", "lastUpdatedTimestamp"),
        ),
    },
    wire=("GET", "/v2/charges/{charge}"),
)
case(
    "w-error-shape",
    ERR,
    "An error answer is {reasonCode, message}.",
    "none",
    "get_charge",
    "missing",
    None,
    {"status": 404, "code": "ResourceNotFound", "shape": (None, ("reasonCode", "message"))},
    wire=("GET", "/v2/charges/{missing}"),
)

# --- Headers and idempotency (error-handling.html, idempotency) --------------------------

case(
    "w-missing-idempotency-key",
    ERR,
    "A POST without x-amz-pay-idempotency-key → MissingHeader 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 400, "code": "MissingHeader"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, None),),
)
case(
    "w-empty-idempotency-key",
    ERR,
    "An empty x-amz-pay-idempotency-key → MissingHeaderValue 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 400, "code": "MissingHeaderValue"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, ""),),
)
case(
    "w-invalid-idempotency-key",
    ERR,
    "An idempotency key with invalid characters → InvalidHeaderValue 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 400, "code": "InvalidHeaderValue"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, "not a valid key!"),),
)
case(
    "w-complete-without-key",
    CS + " 'Complete Checkout Session'",
    "Complete Checkout Session takes no idempotency key: without one it is accepted.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00")},
    {"status": 200, "state": "Completed"},
    wire=("POST", "/v2/checkoutSessions/{session}/complete"),
    headers=((KEY, None),),
)
case(
    "w-same-key-same-body",
    IDEMPOTENCY,
    "The same key with the same body → the first answer again, nothing new created.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "replay": True},
    wire=("POST", "/v2/checkoutSessions"),
    repeat="SESSION",
)
case(
    "w-same-key-other-body",
    ERR,
    "The same key with another body → DuplicateIdempotencyKey 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 400, "code": "DuplicateIdempotencyKey"},
    wire=("POST", "/v2/checkoutSessions"),
    repeat="SESSION_BAD_INTENT",
)
case(
    "w-key-replay-charge",
    IDEMPOTENCY,
    "Retrying Create Charge with its key returns the same charge (no double charge).",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 201, "replay": True},
    wire=("POST", "/v2/charges"),
    repeat="CHARGE10",
)
case(
    "w-invalid-simulation",
    ERR,
    "An unknown x-amz-pay-simulation-code → InvalidSandboxSimulationSpecified 400.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 400, "code": "InvalidSandboxSimulationSpecified"},
    wire=("POST", "/v2/charges"),
    simulation_code="NoSuchSimulation",
)
case(
    "w-simulation-wrong-operation",
    SIM,
    "A simulation code of another operation (BuyerCanceled on Create Charge) is invalid.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 400, "code": "InvalidSandboxSimulationSpecified"},
    wire=("POST", "/v2/charges"),
    simulation_code="BuyerCanceled",
)
case(
    "w-simulation-header",
    SIM,
    "The simulation code travels in x-amz-pay-simulation-code: HardDeclined → 422.",
    "completed_confirm",
    "create_charge",
    "permission",
    "CHARGE10",
    {"status": 422, "code": "HardDeclined"},
    wire=("POST", "/v2/charges"),
    simulation_code="HardDeclined",
)
case(
    "w-malformed-json",
    ERR,
    "A body that is not JSON → InvalidRequestFormat 400.",
    "none",
    "create_checkout_session",
    None,
    b"{not json",
    {"status": 400, "code": "InvalidRequestFormat"},
    wire=("POST", "/v2/checkoutSessions"),
)
case(
    "w-unknown-path",
    ERR,
    "A path that names no resource → ResourceNotFound 404.",
    "none",
    "get_charge",
    None,
    None,
    {"status": 404, "code": "ResourceNotFound"},
    wire=("GET", "/v2/nothingHere"),
)
case(
    "w-wrong-method",
    ERR,
    "A method the resource does not take (PUT on a charge) → 405.",
    "completed",
    "get_charge",
    "charge",
    None,
    {"status": 405, "codes": ("UnsupportedOperation", "RequestNotSupported")},
    wire=("PUT", "/v2/charges/{charge}"),
)
case(
    "w-unknown-id",
    ERR,
    "GET of an unknown refund id → ResourceNotFound 404.",
    "none",
    "get_refund",
    "missing",
    None,
    {"status": 404, "code": "ResourceNotFound"},
    wire=("GET", "/v2/refunds/{missing}"),
)

# --- Environments in the URL (SDKs) -----------------------------------------------------

case(
    "w-sandbox-prefix",
    NET_URL + " 'GetApiEndPointBaseUrlForUnitedStatesSandbox'",
    "Sandbox calls go to https://pay-api.amazon.com/sandbox/v2/... → served.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
    wire=("POST", "/sandbox/v2/checkoutSessions"),
)
case(
    "w-live-prefix",
    NET_URL + " 'GetApiEndPointBaseUrlForUnitedStatesLive'",
    "Live calls go to https://pay-api.amazon.com/live/v2/... → served.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    wire=("GET", "/live/v2/checkoutSessions/{session}"),
)
case(
    "w-unified-endpoint",
    NET_URL + " 'GetApiUnifiedEndPointBaseUrlForForEurope'",
    "Keys with an environment prefix use the unified endpoint without /sandbox: /v2/... .",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    wire=("GET", "/v2/checkoutSessions/{session}"),
)

# --- Signatures (signing-requests.html, PHP and Java SDK tests) -------------------------

case(
    "sig-v2-accepted",
    SIGN,
    "A request signed AMZN-PAY-RSASSA-PSS-V2 (salt 32) is accepted.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
    wire=("POST", "/v2/checkoutSessions"),
    signed="v2",
)
case(
    "sig-v1-salt-20",
    PHP + " 'verifySignature'",
    "AMZN-PAY-RSASSA-PSS signatures use salt length 20 → accepted.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
    wire=("POST", "/v2/checkoutSessions"),
    signed="v1",
)
case(
    "sig-v2-wrong-salt",
    PHP + " 'verifySignature'",
    "A V2 signature made with salt 20 (V2 takes 32) → InvalidRequestSignature 403.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 403, "code": "InvalidRequestSignature"},
    wire=("POST", "/v2/checkoutSessions"),
    signed="v2-salt-20",
)
case(
    "sig-body-changed",
    SIGN,
    "The payload hash is signed: a body changed after signing → InvalidRequestSignature 403.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 403, "code": "InvalidRequestSignature"},
    wire=("POST", "/v2/checkoutSessions"),
    signed="tamper-body",
)
case(
    "sig-other-key",
    SIGN,
    "A signature by another private key → InvalidRequestSignature 403.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 403, "code": "InvalidRequestSignature"},
    wire=("GET", "/v2/checkoutSessions/{session}"),
    signed="other-key",
)
case(
    "sig-sorted-query",
    PHP + " 'testCreateCanonicalQuery'",
    "The canonical query string is sorted by name: a signed GET with ?z=1&a=b is accepted.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    wire=("GET", "/v2/checkoutSessions/{session}?z=1&a=b"),
    signed="query",
)
case(
    "sig-canonical-uri-prefix",
    PHP + " 'testGetCanonicalURI'",
    "The canonical URI keeps the /sandbox prefix: a signed /sandbox/v2 call is accepted.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    wire=("GET", "/sandbox/v2/checkoutSessions/{session}"),
    signed="v2",
)
case(
    "sig-java-signed-headers",
    JAVA_SIGNER,
    "SignedHeaders accept;content-type;x-amz-pay-date;x-amz-pay-host;x-amz-pay-region "
    "(lower-case, sorted) → accepted.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 200, "state": "Open"},
    wire=("GET", "/v2/checkoutSessions/{session}"),
    signed="v1",
)
case(
    "sig-missing-authorization",
    ERR,
    "A signed endpoint called without the authorization header → MissingHeader 400.",
    "session",
    "get_checkout_session",
    "session",
    None,
    {"status": 400, "code": "MissingHeader"},
    wire=("GET", "/v2/checkoutSessions/{session}"),
    signed="no-authorization",
)
case(
    "sig-unsigned-state-unchanged",
    SIGN,
    "A refused signature creates nothing: the same key afterwards, signed, creates (201).",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
    wire=("POST", "/v2/checkoutSessions"),
    signed="tamper-then-good",
)

# --- Endpoints apfsm revision 1 left out ------------------------------------------------

DELIVERY = "https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html"
BUYER = "https://developer.amazon.com/docs/amazon-pay-api-v2/buyer.html"

case(
    "w-finalize",
    CS + " 'Finalize Checkout Session'",
    "POST /v2/checkoutSessions/{id}/finalize with the matching chargeAmount → 200.",
    "approved",
    "complete_checkout_session",
    "session",
    {"chargeAmount": price("100.00"), "paymentIntent": "Authorize"},
    {"status": 200},
    wire=("POST", "/v2/checkoutSessions/{session}/finalize"),
)
case(
    "w-update-charge",
    CH + " 'Update Charge'",
    "PATCH /v2/charges/{id} (statusDetails for payment service providers) is an endpoint.",
    "completed",
    "get_charge",
    "charge",
    {"statusDetails": {"state": "Canceled", "reasonCode": "ExpiredUnused"}},
    {"status": 200},
    wire=("PATCH", "/v2/charges/{charge}"),
)
case(
    "w-delivery-tracker",
    DELIVERY,
    "POST /v2/deliveryTrackers with a chargePermissionId and tracking details → 200.",
    "completed",
    "get_charge",
    "charge",
    "DELIVERY",
    {"status": 200},
    wire=("POST", "/v2/deliveryTrackers"),
)
case(
    "w-get-buyer",
    BUYER,
    "GET /v2/buyers/{buyerToken} (Sign-in with Amazon Pay) is an endpoint → 200.",
    "buyer",
    "get_buyer",
    "buyer",
    None,
    {"status": 200, "match": {"buyerId": r"amzn1\.account\..+"}},
    wire=("GET", "/v2/buyers/{buyer}"),
)

# --- Idempotency keys (idempotency.html) -------------------------------------------------

case(
    "w-key-32-chars",
    IDEMPOTENCY,
    "An idempotency key may have up to 32 characters → accepted.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, "A" * 32),),
)
case(
    "w-key-33-chars",
    IDEMPOTENCY,
    "A 33-character idempotency key is too long → InvalidHeaderValue 400.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 400, "code": "InvalidHeaderValue"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, "A" * 33),),
)
case(
    "w-key-charset",
    IDEMPOTENCY,
    "Keys use a-z, A-Z, 0-9, dash and underscore → accepted.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 201, "state": "Open"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, "aZ09-_x"),),
)
case(
    "w-key-uuid",
    IDEMPOTENCY,
    "A V4 UUID (36 characters with dashes) exceeds 32 characters → InvalidHeaderValue.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {"status": 400, "code": "InvalidHeaderValue"},
    wire=("POST", "/v2/checkoutSessions"),
    headers=((KEY, "7d444840-9dc0-11d1-b245-5ffdce74fad2"),),
)
case(
    "w-key-no-effect-on-patch",
    IDEMPOTENCY,
    "The key has no effect on PATCH: the same key with another body is applied (200).",
    "session",
    "update_checkout_session",
    "session",
    {"merchantMetadata": {"merchantReferenceId": "r1"}},
    {"status": 200, "state": "Open", "types": {"merchantMetadata.merchantReferenceId": "r2"}},
    wire=("PATCH", "/v2/checkoutSessions/{session}"),
    repeat={"merchantMetadata": {"merchantReferenceId": "r2"}},
)

# --- More answer shapes -------------------------------------------------------------------

case(
    "w-refund-status-details",
    RF,
    "Refund statusDetails: state, reasonCode, reasonDescription, lastUpdatedTimestamp; "
    "refundAmount.amount a string.",
    "refunded",
    "get_refund",
    "refund",
    None,
    {
        "status": 200,
        "shape": (
            "statusDetails",
            ("state", "reasonCode", "reasonDescription", "lastUpdatedTimestamp"),
        ),
        "types": {"refundAmount.amount": "10.00"},
    },
    wire=("GET", "/v2/refunds/{refund}"),
)
case(
    "w-permission-limits-strings",
    CP,
    "Charge Permission limits: amountLimit and amountBalance are prices with string amounts.",
    "completed_confirm",
    "get_charge_permission",
    "permission",
    None,
    {
        "status": 200,
        "types": {"limits.amountLimit.amount": "100.00", "limits.amountBalance.amount": "100.00"},
    },
    wire=("GET", "/v2/chargePermissions/{permission}"),
)
case(
    "w-session-expiration-24h",
    CS,
    "A new session's expirationTimestamp is 24 hours after its creationTimestamp.",
    "none",
    "create_checkout_session",
    None,
    "SESSION",
    {
        "status": 201,
        "types": {
            "creationTimestamp": "20260302T090000Z",
            "expirationTimestamp": "20260303T090000Z",
        },
    },
    wire=("POST", "/v2/checkoutSessions"),
)
