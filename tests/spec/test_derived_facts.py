"""Facts once written by hand in several modules are now derived from the declarations.

Each derived table is pinned here against the literal it replaced (Appendix A of the
architecture plan), so moving a fact into the declarations could not move behaviour.
"""

from __future__ import annotations

from apfsm import BODIES, LIFECYCLES, OPERATIONS, SANDBOX_CARDS, SIMULATION_CODES, BodyField
from apfsm._harness import (
    CARD_EFFECT_CODES,
    DECLINE_CODES,
    DECLINING_CARDS,
    HISTORY_CODES,
    KNOWABLE_CODES,
)
from apfsm._sim import (
    ChargePermissionRecord,
    ChargeRecord,
    CheckoutSessionRecord,
    RefundRecord,
)
from apfsm._sim.records import RECORD_TYPES, BuyerRecord, DisputeRecord
from apfsm.testing import KNOWABLE_CODES as PUBLIC_KNOWABLE_CODES


def test_the_body_field_naming_a_create_calls_target() -> None:
    # was: _simulator._target, _validator._TARGET_IDS, stateful._source_type/_target_json/
    # planned_call, testing.WatchedSimulator.request, _checklog.target_of
    assert {
        "create_charge": "chargePermissionId",
        "create_delivery_tracker": "chargePermissionId",
        "create_refund": "chargeId",
        "create_dispute": "chargeId",
    } == {name: op.target_field for name, op in OPERATIONS.items() if op.target_field}
    charge = OPERATIONS["create_charge"]
    assert "cp-1" == charge.target_id(None, {"chargePermissionId": "cp-1"})
    assert charge.target_id(None, ["not", "an", "object"]) is None
    assert "ch-1" == OPERATIONS["capture_charge"].target_id("ch-1", {"captureAmount": {}})
    # The object a call picks its target from is its declared target (stateful's old
    # _source_type): create_charge acts on a permission, create_refund on a charge.
    assert "ChargePermission" == charge.target
    assert "Charge" == OPERATIONS["create_refund"].target


def test_object_types_and_their_id_fields() -> None:
    # was: _simulator._ID_FIELDS, server._ID_FIELDS, _trace._ID_FIELDS, _checklog._ID_FIELD
    assert {
        "CheckoutSession": "checkoutSessionId",
        "ChargePermission": "chargePermissionId",
        "Charge": "chargeId",
        "Refund": "refundId",
        "Buyer": "buyerId",  # its path id is the buyer token, its JSON's id the buyerId
        "Dispute": "disputeId",
    } == {name: lc.id_field for name, lc in LIFECYCLES.items()}


def test_trace_reference_prefixes() -> None:
    # was: _trace._PREFIX
    assert {
        "CheckoutSession": "cs",
        "ChargePermission": "cp",
        "Charge": "ch",
        "Refund": "rf",
        "Buyer": "by",
        "Dispute": "dp",
    } == {name: lc.ref_prefix for name, lc in LIFECYCLES.items()}


def test_each_object_types_get_operation() -> None:
    # was: _checklog._GET
    assert {
        "CheckoutSession": "get_checkout_session",
        "ChargePermission": "get_charge_permission",
        "Charge": "get_charge",
        "Refund": "get_refund",
        "Buyer": "get_buyer",
        "Dispute": "get_dispute",
    } == {name: lc.get_operation for name, lc in LIFECYCLES.items()}


def test_record_classes_by_object_type() -> None:
    # was: _simulator._TYPES, _snapshots._RECORD_TYPES/_NAMES
    assert {
        "CheckoutSession": CheckoutSessionRecord,
        "ChargePermission": ChargePermissionRecord,
        "Charge": ChargeRecord,
        "Refund": RefundRecord,
        "Buyer": BuyerRecord,
        "Dispute": DisputeRecord,
    } == dict(RECORD_TYPES)


def test_codes_only_history_explains() -> None:
    # was: stateful.HISTORY_CODES and _checklog._HISTORY (identical copies)
    assert {
        "create_charge": frozenset({"TransactionCountExceeded", "PeriodicAmountExceeded"}),
        "create_refund": frozenset({"TransactionCountExceeded", "TransactionAmountExceeded"}),
    } == dict(HISTORY_CODES)


def test_knowable_codes() -> None:
    # was: testing.KNOWABLE_CODES (still public, now computed from ErrorInfo.kind)
    assert (
        frozenset(
            {
                "InvalidRequestFormat",
                "UnrecognizedField",
                "MissingParameterValue",
                "InvalidParameterValue",
                "InvalidParameterCombination",
                "InvalidHeaderValue",
                "DuplicateIdempotencyKey",
                "ResourceNotFound",
                "InvalidCheckoutSessionStatus",
                "InvalidChargePermissionStatus",
                "InvalidChargeStatus",
                "InvalidDisputeStatus",
                "CurrencyMismatch",
                "AmountMismatch",
                "TransactionAmountExceeded",
                "TransactionCountExceeded",
                "PeriodicAmountExceeded",
            }
        )
        == KNOWABLE_CODES
        == PUBLIC_KNOWABLE_CODES
    )


def test_decline_codes() -> None:
    # was: _checklog._DECLINES — the six below. PaymentMethodNotAllowed and MFANotCompleted
    # were missing from that hand-kept copy: both are declines of the buyer's payment
    # method that no payload foretells, so check-log called them contradictions (a false
    # alarm, test_checklog_tolerates_every_decline). They are declines in the catalog now.
    assert (
        frozenset(
            {
                "HardDeclined",
                "SoftDeclined",
                "ProcessingFailure",
                "AmazonRejected",
                "TransactionTimedOut",
                "CheckoutSessionCanceled",
            }
        )
        | {"PaymentMethodNotAllowed", "MFANotCompleted"}
        == DECLINE_CODES
    )


def test_sandbox_cards() -> None:
    # was: the literal dict _simulator.SANDBOX_CARDS; stateful._DECLINING_CARDS and
    # _EFFECT_CODES
    # SPEC §7: 1111, 0005, 4444, 9424 and 0000 succeed; 0701/4354 need Authorize plus
    # canHandlePendingAuthorization.
    needs = " (needs Authorize + canHandlePendingAuthorization)"
    assert {
        "1111": "success",
        "0005": "success",
        "4444": "success",
        "9424": "success",
        "0000": "success",
        "3064": "the buyer cancels on Amazon's page",
        "3434": "declined: the session is Canceled/Declined when the buyer returns",
        "0701": "pending authorization, then Authorized" + needs,
        "4354": "pending authorization, then Declined/HardDeclined" + needs,
    } == dict(SANDBOX_CARDS)
    assert ["1111", "0005", "4444", "9424", "0000", "3064", "3434", "0701", "4354"] == list(
        SANDBOX_CARDS
    )
    assert frozenset({"3434", "0701", "4354"}) == DECLINING_CARDS
    assert frozenset({"CheckoutSessionCanceled", "HardDeclined"}) == CARD_EFFECT_CODES


def test_checklog_tolerates_every_decline() -> None:
    import json

    from apfsm._harness import check_log

    permission = {
        "chargePermissionId": "S01-1",
        "chargePermissionType": "OneTime",
        "statusDetails": {"state": "Chargeable", "reasons": None},
        "presentmentCurrency": "USD",
        "limits": {
            "amountLimit": {"amount": "100.00", "currencyCode": "USD"},
            "amountBalance": {"amount": "100.00", "currencyCode": "USD"},
        },
        "creationTimestamp": "20260301T090000Z",
        "expirationTimestamp": "20260828T090000Z",
    }
    lines = [
        json.dumps({"at": "20260301T090000Z", "operation": "get_charge_permission",
                    "objectId": "S01-1", "status": 200, "response": permission}),
    ]  # fmt: skip
    for code in sorted(DECLINE_CODES - {"CheckoutSessionCanceled"}):
        lines.append(
            json.dumps(
                {
                    "at": "20260301T090100Z",
                    "operation": "create_charge",
                    "request": {
                        "chargePermissionId": "S01-1",
                        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
                    },
                    "status": 422,
                    "error": {"reasonCode": code, "message": "declined"},
                }
            )
        )
    report = check_log(lines)
    assert [] == [str(p) for p in report.problems]


#: Every operation's body, as each field's path, "!" when required, its kind and its
#: choices or length limit: the literal BODIES held when it was one table in _bodies.
BODY_FIELDS = {
    "create_checkout_session": (
        "webCheckoutDetails! object",
        "webCheckoutDetails.checkoutReviewReturnUrl! str",
        "webCheckoutDetails.checkoutResultReturnUrl str",
        "webCheckoutDetails.checkoutCancelUrl str",
        "webCheckoutDetails.checkoutMode str",
        "storeId! str",
        "chargePermissionType enum:OneTime|Recurring|PaymentMethodOnFile",
        "recurringMetadata object",
        "recurringMetadata.frequency object",
        "recurringMetadata.frequency.unit enum:Year|Month|Week|Day|Variable",
        "recurringMetadata.frequency.value str",
        "recurringMetadata.amount price",
        "paymentDetails object",
        "paymentDetails.paymentIntent enum:Confirm|Authorize|AuthorizeWithCapture",
        "paymentDetails.canHandlePendingAuthorization bool",
        "paymentDetails.chargeAmount price",
        "paymentDetails.totalOrderAmount price",
        "paymentDetails.presentmentCurrency currency",
        "paymentDetails.softDescriptor str<=soft_descriptor_max_length",
        "paymentDetails.allowOvercharge bool",
        "paymentDetails.extendExpiration bool",
        "paymentDetails.estimateOrderTotal price",
        "merchantMetadata object",
        "merchantMetadata.merchantReferenceId str",
        "merchantMetadata.merchantStoreName str",
        "merchantMetadata.noteToBuyer str",
        "merchantMetadata.customInformation str",
        "platformId str",
        "providerMetadata opaque",
        "addressDetails opaque",
        "deliverySpecifications opaque",
        "scopes str_list",
        "paymentMethodOnFileMetadata object",
        "paymentMethodOnFileMetadata.setupOnly bool",
        "chargePermissionId str",
        "supplementaryData str",
        "multiAddressesCheckoutMetadata object_list",
        "multiAddressesCheckoutMetadata.addressId str",
        "multiAddressesCheckoutMetadata.price price",
    ),
    "get_checkout_session": (),
    "update_checkout_session": (
        "webCheckoutDetails object",
        "webCheckoutDetails.checkoutReviewReturnUrl str",
        "webCheckoutDetails.checkoutResultReturnUrl str",
        "webCheckoutDetails.checkoutCancelUrl str",
        "webCheckoutDetails.checkoutMode str",
        "paymentDetails object",
        "paymentDetails.paymentIntent enum:Confirm|Authorize|AuthorizeWithCapture",
        "paymentDetails.canHandlePendingAuthorization bool",
        "paymentDetails.chargeAmount price",
        "paymentDetails.totalOrderAmount price",
        "paymentDetails.presentmentCurrency currency",
        "paymentDetails.softDescriptor str<=soft_descriptor_max_length",
        "paymentDetails.estimateOrderTotal price",
        "recurringMetadata object",
        "recurringMetadata.frequency object",
        "recurringMetadata.frequency.unit enum:Year|Month|Week|Day|Variable",
        "recurringMetadata.frequency.value str",
        "recurringMetadata.amount price",
        "merchantMetadata object",
        "merchantMetadata.merchantReferenceId str",
        "merchantMetadata.merchantStoreName str",
        "merchantMetadata.noteToBuyer str",
        "merchantMetadata.customInformation str",
        "platformId str",
        "providerMetadata opaque",
        "chargePermissionType enum:OneTime|Recurring|PaymentMethodOnFile",
        "supplementaryData str",
        "multiAddressesCheckoutMetadata object_list",
        "multiAddressesCheckoutMetadata.addressId str",
        "multiAddressesCheckoutMetadata.price price",
    ),
    "complete_checkout_session": (
        "chargeAmount! price",
        "totalOrderAmount price",
    ),
    # https://developer.amazon.com/docs/amazon-pay-checkout/verify-and-complete-checkout.html
    # (Buy Now); amazon-pay-api-sdk-nodejs tst/webStoreClientTest.js
    # finalizeCheckoutSessionPayload.
    "finalize_checkout_session": (
        "chargeAmount! price",
        "paymentIntent! enum:Confirm|Authorize|AuthorizeWithCapture",
        "canHandlePendingAuthorization bool",
        "totalOrderAmount price",
        "supplementaryData str",
        "shippingAddress opaque",
        "billingAddress opaque",
    ),
    "get_charge_permission": (),
    "update_charge_permission": (
        "merchantMetadata object",
        "merchantMetadata.merchantReferenceId str",
        "merchantMetadata.merchantStoreName str",
        "merchantMetadata.noteToBuyer str",
        "merchantMetadata.customInformation str",
        "recurringMetadata object",
        "recurringMetadata.frequency object",
        "recurringMetadata.frequency.unit enum:Year|Month|Week|Day|Variable",
        "recurringMetadata.frequency.value str",
        "recurringMetadata.amount price",
    ),
    "close_charge_permission": (
        "closureReason str<=reason_text_max_length",
        "cancelPendingCharges bool",
    ),
    "create_charge": (
        "chargePermissionId! str",
        "chargeAmount! price",
        "captureNow bool",
        "softDescriptor str<=soft_descriptor_max_length",
        "canHandlePendingAuthorization bool",
        "merchantMetadata object",
        "merchantMetadata.merchantReferenceId str",
        "merchantMetadata.merchantStoreName str",
        "merchantMetadata.noteToBuyer str",
        "merchantMetadata.customInformation str",
        "providerMetadata opaque",
        "chargeInitiator str",
        "channel str",
        "platformId str",
        "webCheckoutDetails object",
        "webCheckoutDetails.checkoutResultReturnUrl str",
    ),
    # https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html
    "create_delivery_tracker": ("chargePermissionId! str", "deliveryDetails! opaque_list"),
    "get_charge": (),
    # Node SDK amzn/amazon-pay-api-sdk-nodejs tst/webStoreClientTest.js updateChargePayload:
    # {"statusDetails": {"state": "Canceled", "reasonCode": "ExpiredUnused"}}
    "update_charge": (
        "statusDetails! object",
        "statusDetails.state! enum:Canceled",
        "statusDetails.reasonCode enum:ExpiredUnused|MerchantCanceled|ChargePermissionCanceled"
        "|AmazonCanceled|BuyerCanceled",
    ),
    "capture_charge": (
        "captureAmount! price",
        "softDescriptor str<=soft_descriptor_max_length",
    ),
    "cancel_charge": ("cancellationReason str<=reason_text_max_length",),
    "create_refund": (
        "chargeId! str",
        "refundAmount! price",
        "softDescriptor str<=soft_descriptor_max_length",
    ),
    "get_refund": (),
    "get_buyer": (),
    "create_dispute": (
        "chargeId! str",
        "disputeAmount! price",
        "filingReason! enum:ProductNotReceived|ProductUnacceptable|ProductNoLongerNeeded|CreditNotProcessed|Overcharged|DuplicateCharge|SubscriptionCancelled|Unrecognized|Fraudulent|Other",
        "disputeType enum:Chargeback|AtoZClaim",
        "providerMetadata opaque",
        "filingTimestamp str",
        "creationTimestamp str",
        "statusDetails object",
        "statusDetails.state enum:ActionRequired",
        # The Java SDK README's createDisputePayload sends these two (docs/dispute.md).
        "statusDetails.reasonCode enum:MerchantResponseRequired",
        "statusDetails.reasonDescription str<=reason_text_max_length",
        "merchantResponseDeadline str",
    ),
    "get_dispute": (),
    "update_dispute": (
        "statusDetails! object",
        "statusDetails.state! enum:Resolved|Closed",
        "statusDetails.resolution enum:BuyerWon|MerchantWon|NoFault",
        "statusDetails.reasonCode enum:MerchantResponseRequired|MerchantAdditionalEvidencesRequired|BuyerAdditionalEvidencesRequired|MerchantAcceptedDispute|MerchantResponseDeadlineExpired|BuyerCancelled|InvestigatorResolved|AutoResolved|ChargebackFiled",
        "statusDetails.reasonDescription str<=reason_text_max_length",
        "closureTimestamp str",
    ),
    "contest_dispute": (
        "merchantEvidences! object_list",
        "merchantEvidences.evidenceType! enum:ProductDescription|Receipt|CancellationPolicy|CustomerSignature|TrackingNumber|CarrierName|DeviceId|DeviceName|DownloadDateTime|Other",
        "merchantEvidences.fileId str",
        "merchantEvidences.evidenceText str",
    ),
    "upload_file": (
        "type! enum:csv|pdf|xls|xlsx|doc|docx|ods|jpg|png",
        "purpose! enum:disputeEvidence",
    ),
}


def _paths(fields: tuple[BodyField, ...], prefix: str = "") -> list[str]:
    out = []
    for f in fields:
        flag = "!" if f.required else ""
        extra = (
            f":{'|'.join(f.choices)}"
            if f.choices
            else (f"<={f.max_length}" if f.max_length else "")
        )
        out.append(f"{prefix}{f.name}{flag} {f.kind}{extra}")
        out.extend(_paths(f.fields, prefix + f.name + "."))
    return out


def test_bodies_are_the_operations_own() -> None:
    # was: one literal table _bodies.BODIES beside the operations; now Operation.body
    assert BODY_FIELDS == {name: tuple(_paths(fields)) for name, fields in BODIES.items()}
    assert {name: op.body for name, op in OPERATIONS.items()} == dict(BODIES)


def test_simulation_codes_are_the_operations_own() -> None:
    # was: the literal _catalog.SIMULATION_CODES; now Operation.simulation_codes
    assert {
        "complete_checkout_session": ("BuyerCanceled", "Declined", "AmazonCanceled"),
        "finalize_checkout_session": ("BuyerCanceled", "Declined", "AmazonCanceled"),
        "create_charge": (
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "ProcessingFailure",
            "TransactionTimedOut",
        ),
        "capture_charge": ("CaptureInitiated", "AmazonRejected"),
        "create_refund": ("AmazonRejected", "ProcessingFailure"),
    } == dict(SIMULATION_CODES)
