"""The merchant's API calls (SPEC §1), declared as data: name, route, checks, status, the
request body (SPEC §10) and the sandbox simulation codes (SPEC §7).

Data only: what a call does is decided in ``_decide`` (the engine) and carried out in
``_sim`` (the handlers); both key on these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

import attrs

from .bodies import (
    CHARGE_PERMISSION_TYPES,
    CHARGE_UPDATE_REASONS,
    CHARGE_UPDATE_STATES,
    CHARGE_WEB_CHECKOUT_DETAILS,
    MERCHANT_METADATA,
    MULTI_ADDRESSES_CHECKOUT_METADATA,
    PAYMENT_DETAILS,
    PAYMENT_INTENTS,
    PAYMENT_METHOD_ON_FILE_METADATA,
    PROVIDER_METADATA,
    RECURRING_METADATA,
    SOFT_DESCRIPTOR,
    SUPPLEMENTARY_DATA,
    UPDATE_PAYMENT_DETAILS,
    WEB_CHECKOUT_DETAILS,
    BodyField,
    optional,
)
from .dispute_codes import (
    DISPUTE_REASON_CODES,
    DISPUTE_RESOLUTIONS,
    DISPUTE_TYPES,
    DISPUTE_UPDATE_STATES,
    EVIDENCE_TYPES,
    FILE_PURPOSES,
    FILE_TYPES,
    FILING_REASONS,
)

__all__ = ["BODIES", "COMPLETIONS", "OPERATIONS", "SIMULATION_CODES", "Method", "Operation"]

Method = Literal["GET", "POST", "PATCH", "DELETE"]


@attrs.frozen
class Operation:
    """A merchant call (SPEC §1).

    Attributes:
        name: snake_case name, e.g. ``capture_charge``.
        method, path: the HTTP route under ``/v2``.
        verb: for messages: "cannot {verb} a Charge in state ...".
        target: the object type the call acts on (None for ``create_checkout_session``).
        creates: the object type whose new state is the outcome's ``next_state``.
        checks: ``Check`` names, in the order they apply.
        success_status: HTTP status of success.
        target_field: for a call whose target is named in the body, not the path
            (``create_charge``: ``chargePermissionId``; ``create_refund``: ``chargeId``).
        body: the fields its request body accepts (SPEC §10); ``()`` for none.
        simulation_codes: the sandbox simulation codes it accepts (SPEC §7); any other
            code is ``InvalidSandboxSimulationSpecified``.
        requires_idempotency_key: over HTTP, a request without
            ``x-amz-pay-idempotency-key`` is ``MissingHeader`` (SPEC §7). True for the
            creates and capture, the calls the official SDKs send a key with (the Node
            SDK's README: createCheckoutSession, createCharge, captureCharge,
            createRefund); another POST (complete) may carry a key — then it replays as
            any keyed call — or not (no replay protection).
    """

    name: str
    method: Method
    path: str
    verb: str
    target: str | None
    creates: str | None = None
    checks: tuple[str, ...] = ()
    success_status: int = 200
    target_field: str | None = None
    body: tuple[BodyField, ...] = ()
    simulation_codes: tuple[str, ...] = ()
    requires_idempotency_key: bool = False

    @property
    def is_read(self) -> bool:
        return self.method == "GET"

    @property
    def has_path_id(self) -> bool:
        """Whether the object's id is in the path (``create_*`` name it in the body, or
        create it)."""
        return "{" in self.path

    def target_id(self, object_id: object, body: object) -> object:
        """The id of the object the call acts on: the body's ``target_field`` when the
        call names its target there, else the id in the path. Not checked: whatever the
        caller sent (a body that is not an object names nothing: None)."""
        if self.target_field is None:
            return object_id
        return body.get(self.target_field) if isinstance(body, dict) else None


#: What a completion checks and the simulation codes it takes, shared by Complete and
#: Finalize (Finalize replaces Complete in Buy Now and mobile checkouts).
_COMPLETION_CHECKS: Final = (
    "constraints_met",
    "completion_currency_matches",
    "completion_amount_matches",
    "completion_total_given",
    "completion_total_matches",
    "completion_within_per_charge_maximum",
)
_COMPLETION_SIMULATION_CODES: Final = ("BuyerCanceled", "Declined", "AmazonCanceled")
#: The completions: each completes an Open session and creates its Charge Permission (and
#: a Charge, per the intent). The lifecycles declare them once for both.
COMPLETIONS: Final = ("complete_checkout_session", "finalize_checkout_session")

_OPERATION_LIST: Final = (
    Operation(
        "create_checkout_session",
        "POST",
        "/checkoutSessions",
        "create",
        target=None,
        creates="CheckoutSession",
        success_status=201,
        requires_idempotency_key=True,
        body=(
            WEB_CHECKOUT_DETAILS,
            BodyField("storeId", "str", required=True),
            BodyField("chargePermissionType", "enum", choices=CHARGE_PERMISSION_TYPES),
            RECURRING_METADATA,
            PAYMENT_DETAILS,
            MERCHANT_METADATA,
            BodyField("platformId", "str"),
            PROVIDER_METADATA,
            BodyField("addressDetails", "opaque"),
            BodyField("deliverySpecifications", "opaque"),
            BodyField("scopes", "str_list"),
            # amzn/amazon-pay-api-sdk-dotnet .../CheckoutSession/CreateCheckoutSessionRequest.cs
            # (and the fields it inherits from UpdateCheckoutSessionRequest.cs)
            PAYMENT_METHOD_ON_FILE_METADATA,
            BodyField("chargePermissionId", "str"),
            SUPPLEMENTARY_DATA,
            MULTI_ADDRESSES_CHECKOUT_METADATA,
        ),
    ),
    Operation(
        "get_checkout_session",
        "GET",
        "/checkoutSessions/{checkoutSessionId}",
        "get",
        target="CheckoutSession",
    ),
    Operation(
        "update_checkout_session",
        "PATCH",
        "/checkoutSessions/{checkoutSessionId}",
        "update",
        target="CheckoutSession",
        checks=("pending_with_capture",),
        body=(
            optional(WEB_CHECKOUT_DETAILS),
            optional(UPDATE_PAYMENT_DETAILS),
            optional(RECURRING_METADATA),
            optional(MERCHANT_METADATA),
            BodyField("platformId", "str"),
            PROVIDER_METADATA,
            # amzn/amazon-pay-api-sdk-dotnet .../CheckoutSession/UpdateCheckoutSessionRequest.cs
            BodyField("chargePermissionType", "enum", choices=CHARGE_PERMISSION_TYPES),
            SUPPLEMENTARY_DATA,
            MULTI_ADDRESSES_CHECKOUT_METADATA,
        ),
    ),
    Operation(
        "complete_checkout_session",
        "POST",
        "/checkoutSessions/{checkoutSessionId}/complete",
        "complete",
        target="CheckoutSession",
        checks=_COMPLETION_CHECKS,
        body=(
            BodyField("chargeAmount", "price", required=True),
            BodyField("totalOrderAmount", "price"),
        ),
        simulation_codes=_COMPLETION_SIMULATION_CODES,
    ),
    Operation(  # Buy Now / mobile: complete, carrying the intent and the addresses
        # https://developer.amazon.com/docs/amazon-pay-checkout/verify-and-complete-checkout.html
        # (Buy Now), amazon-pay-api-sdk-nodejs src/client.js finalizeCheckoutSession and
        # tst/webStoreClientTest.js finalizeCheckoutSessionPayload (200, a Checkout Session).
        "finalize_checkout_session",
        "POST",
        "/checkoutSessions/{checkoutSessionId}/finalize",
        "finalize",
        target="CheckoutSession",
        checks=_COMPLETION_CHECKS,
        body=(
            BodyField("chargeAmount", "price", required=True),
            # The intent of this payment: they replace the session's paymentIntent and
            # canHandlePendingAuthorization (absent: false), Authorize-pending with
            # AuthorizeWithCapture being InvalidParameterCombination as on the session.
            BodyField("paymentIntent", "enum", required=True, choices=PAYMENT_INTENTS),
            BodyField("canHandlePendingAuthorization", "bool"),
            BodyField("totalOrderAmount", "price"),
            BodyField("supplementaryData", "str"),
            # Accepted as they are: Amazon's check that they match the buyer's chosen
            # addresses is not modelled.
            BodyField("shippingAddress", "opaque"),
            BodyField("billingAddress", "opaque"),
        ),
        simulation_codes=_COMPLETION_SIMULATION_CODES,
    ),
    Operation(
        "get_charge_permission",
        "GET",
        "/chargePermissions/{chargePermissionId}",
        "get",
        target="ChargePermission",
    ),
    Operation(
        "update_charge_permission",
        "PATCH",
        "/chargePermissions/{chargePermissionId}",
        "update",
        target="ChargePermission",
        body=(MERCHANT_METADATA, RECURRING_METADATA),
    ),
    Operation(
        "close_charge_permission",
        "DELETE",
        "/chargePermissions/{chargePermissionId}/close",
        "close",
        target="ChargePermission",
        body=(
            BodyField("closureReason", "str", max_length="reason_text_max_length"),
            BodyField("cancelPendingCharges", "bool"),
        ),
    ),
    Operation(
        "create_charge",
        "POST",
        "/charges",
        "charge",
        target="ChargePermission",
        creates="Charge",
        target_field="chargePermissionId",
        checks=(
            "charge_currency_matches",
            "within_per_charge_maximum",
            "charge_count_below_limit",
            "within_permission_balance",
            "within_monthly_cap",
        ),
        success_status=201,
        requires_idempotency_key=True,
        body=(
            BodyField("chargePermissionId", "str", required=True),
            BodyField("chargeAmount", "price", required=True),
            BodyField("captureNow", "bool"),
            SOFT_DESCRIPTOR,
            BodyField("canHandlePendingAuthorization", "bool"),
            MERCHANT_METADATA,
            PROVIDER_METADATA,
            BodyField("chargeInitiator", "str"),
            BodyField("channel", "str"),
            # amzn/amazon-pay-api-sdk-dotnet .../WebStore/Charge/CreateChargeRequest.cs
            BodyField("platformId", "str"),
            CHARGE_WEB_CHECKOUT_DETAILS,
        ),
        simulation_codes=(
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "ProcessingFailure",
            "TransactionTimedOut",
        ),
    ),
    Operation(  # Amazon Pay API v2 "Delivery Tracker": delivery-tracker.html
        "create_delivery_tracker",
        "POST",
        "/deliveryTrackers",
        "track",
        target="ChargePermission",
        target_field="chargePermissionId",
        body=(
            BodyField("chargePermissionId", "str", required=True),
            # [{trackingNumber, carrierCode}], echoed back as sent.
            BodyField("deliveryDetails", "opaque_list", required=True),
        ),
    ),
    Operation("get_charge", "GET", "/charges/{chargeId}", "get", target="Charge"),
    Operation(  # Amazon Pay API v2 "Update Charge" (payment service providers): Node SDK
        # src/client.js updateCharge, tst/webStoreClientTest.js updateChargePayload
        "update_charge",
        "PATCH",
        "/charges/{chargeId}",
        "update",
        target="Charge",
        body=(
            BodyField(
                "statusDetails",
                "object",
                required=True,
                fields=(
                    BodyField("state", "enum", required=True, choices=CHARGE_UPDATE_STATES),
                    BodyField("reasonCode", "enum", choices=CHARGE_UPDATE_REASONS),
                ),
            ),
        ),
    ),
    Operation(
        "capture_charge",
        "POST",
        "/charges/{chargeId}/capture",
        "capture",
        target="Charge",
        checks=("capture_currency_matches", "capture_within_charge_amount"),
        requires_idempotency_key=True,
        body=(BodyField("captureAmount", "price", required=True), SOFT_DESCRIPTOR),
        simulation_codes=("CaptureInitiated", "AmazonRejected"),
    ),
    Operation(
        "cancel_charge",
        "DELETE",
        "/charges/{chargeId}/cancel",
        "cancel",
        target="Charge",
        body=(BodyField("cancellationReason", "str", max_length="reason_text_max_length"),),
    ),
    Operation(
        "create_refund",
        "POST",
        "/refunds",
        "refund",
        target="Charge",
        creates="Refund",
        target_field="chargeId",
        checks=(
            "refund_currency_matches",
            "refund_within_maximum",
            "refund_count_below_limit",
            "refund_within_allowance",
        ),
        success_status=201,
        requires_idempotency_key=True,
        body=(
            BodyField("chargeId", "str", required=True),
            BodyField("refundAmount", "price", required=True),
            SOFT_DESCRIPTOR,
        ),
        simulation_codes=("AmazonRejected", "ProcessingFailure"),
    ),
    Operation("get_refund", "GET", "/refunds/{refundId}", "get", target="Refund"),
    Operation(  # Amazon Pay API v2 "Get Buyer": buyer.html; Node SDK src/client.js getBuyer
        # (GET buyers/${buyerToken}), tst/webStoreClientTest.js validateGetBuyerResponse
        "get_buyer",
        "GET",
        "/buyers/{buyerToken}",
        "get",
        target="Buyer",
    ),
    # -- Disputes (docs/dispute.md): the Node SDK's src/client.js createDispute (POST
    # disputes), getDispute (GET disputes/{id}), updateDispute (PATCH disputes/{id}),
    # contestDispute (POST disputes/{id}/contest), uploadFile (POST files); the PHP SDK's
    # DisputeClientInterface (idempotency key required on create and upload); every one
    # answers 200 in tst/webStoreClientTest.js.
    Operation(  # a payment service provider reports a chargeback it received
        "create_dispute",
        "POST",
        "/disputes",
        "dispute",
        target="Charge",
        creates="Dispute",
        target_field="chargeId",
        checks=("dispute_currency_matches", "dispute_within_captured_amount"),
        requires_idempotency_key=True,
        body=(
            BodyField("chargeId", "str", required=True),
            BodyField("disputeAmount", "price", required=True),
            BodyField("filingReason", "enum", required=True, choices=FILING_REASONS),
            BodyField("disputeType", "enum", choices=DISPUTE_TYPES),
            # {providerDisputeId} (Node SDK createDisputePayload), echoed back.
            PROVIDER_METADATA,
            # Epoch numbers in the SDKs' examples (Node: Date.now(), milliseconds; PHP:
            # time(), seconds; PHP names it creationTimestamp): accepted, kept as sent.
            BodyField("filingTimestamp", "str", numeric=True),
            BodyField("creationTimestamp", "str", numeric=True),
            BodyField(
                "statusDetails",
                "object",
                # The Java SDK's README createDisputePayload also sends reasonCode
                # MerchantResponseRequired and a reasonDescription (amzn/amazon-pay-api-
                # sdk-java README.md, "CreateDispute API request"): accepted; the answer's
                # reason is MerchantResponseRequired, its description apfsm's (a Decision).
                fields=(
                    BodyField("state", "enum", choices=("ActionRequired",)),
                    BodyField("reasonCode", "enum", choices=("MerchantResponseRequired",)),
                    BodyField("reasonDescription", "str", max_length="reason_text_max_length"),
                ),
            ),
            # Decision: accepted, not used: the window is Limits' (docs/dispute.md).
            BodyField("merchantResponseDeadline", "str", numeric=True),
        ),
    ),
    Operation("get_dispute", "GET", "/disputes/{disputeId}", "get", target="Dispute"),
    Operation(  # a payment service provider reports the closure of its chargeback
        "update_dispute",
        "PATCH",
        "/disputes/{disputeId}",
        "update",
        target="Dispute",
        body=(
            BodyField(
                "statusDetails",
                "object",
                required=True,
                fields=(
                    BodyField("state", "enum", required=True, choices=DISPUTE_UPDATE_STATES),
                    BodyField("resolution", "enum", choices=DISPUTE_RESOLUTIONS),
                    BodyField("reasonCode", "enum", choices=DISPUTE_REASON_CODES),
                    BodyField("reasonDescription", "str", max_length="reason_text_max_length"),
                ),
            ),
            BodyField("closureTimestamp", "str", numeric=True),
        ),
    ),
    Operation(  # the merchant contests, with evidence, within the response window
        "contest_dispute",
        "POST",
        "/disputes/{disputeId}/contest",
        "contest",
        target="Dispute",
        # "requiring the submission of necessary evidence files within the specified
        # Dispute Window" (Node SDK src/client.js contestDispute; PHP, Java the same).
        checks=("contest_within_dispute_window",),
        body=(
            BodyField(
                "merchantEvidences",
                "object_list",
                required=True,
                fields=(
                    BodyField("evidenceType", "enum", required=True, choices=EVIDENCE_TYPES),
                    BodyField("fileId", "str"),
                    BodyField("evidenceText", "str"),
                ),
            ),
        ),
    ),
    Operation(  # file.html: step 1 of two, a URL to PUT the evidence file to
        "upload_file",
        "POST",
        "/files",
        "upload",
        target=None,
        requires_idempotency_key=True,
        body=(
            BodyField("type", "enum", required=True, choices=FILE_TYPES),
            BodyField("purpose", "enum", required=True, choices=FILE_PURPOSES),
        ),
    ),
)
#: Every operation of SPEC §1 by name, in the API's order.
OPERATIONS: Final[Mapping[str, Operation]] = MappingProxyType(
    {op.name: op for op in _OPERATION_LIST}
)
#: The body schema of every operation (SPEC §10); operations without a body map to ``()``.
BODIES: Final[Mapping[str, tuple[BodyField, ...]]] = MappingProxyType(
    {op.name: op.body for op in _OPERATION_LIST}
)
#: Sandbox simulation codes each operation accepts (SPEC §7); any other code, or a code on
#: another operation, is ``InvalidSandboxSimulationSpecified``.
SIMULATION_CODES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {op.name: op.simulation_codes for op in _OPERATION_LIST if op.simulation_codes}
)
