"""Conformance cases of the Dispute API (docs/dispute.md), each naming its source."""

from __future__ import annotations

from datetime import timedelta

from tests.simhelpers import DISPUTE_EVIDENCE, NODE_DISPUTE_KEYS, NODE_UPDATE_DISPUTE

from .cases import DOCS, NODE, SEC, case

DISPUTE = DOCS + "amazon-pay-api-v2/dispute.html"
FILE = DOCS + "amazon-pay-api-v2/file.html"
MANAGE = DOCS + "amazon-pay-checkout/manage-disputes.html"
NODE_CLIENT = "amzn/amazon-pay-api-sdk-nodejs src/client.js 'contestDispute'"
PHP_ENUMS = "amzn/amazon-pay-api-sdk-php Amazon/Pay/API/Constants/DisputeState.php"
CHARGEBACK_WINDOW = timedelta(days=11)
CLAIM_WINDOW = timedelta(days=7)

case(
    "dp-node-create-dispute",
    NODE + " 'Validating createDispute API'",
    "createDispute with createDisputePayload answers 200 and a Dispute with "
    "expectedDisputeResponseKeys.",
    "captured",
    "create_dispute",
    None,
    "DISPUTE_NODE",
    {"status": 200, "keys": NODE_DISPUTE_KEYS, "state": "ActionRequired"},
)
case(
    "dp-node-get-dispute",
    NODE + " 'Validating getDispute API'",
    "getDispute answers 200 and the Dispute's expectedDisputeResponseKeys.",
    "disputed",
    "get_dispute",
    "dispute",
    None,
    {"status": 200, "keys": NODE_DISPUTE_KEYS},
)
case(
    "dp-node-update-dispute",
    NODE + " 'Validating updateDispute API'",
    "updateDispute with updateDisputePayload (Resolved, MerchantWon, MerchantAcceptedDispute) "
    "answers 200.",
    "disputed",
    "update_dispute",
    "dispute",
    NODE_UPDATE_DISPUTE,
    {"status": 200, "state": "Resolved", "reason": "MerchantAcceptedDispute"},
)
case(
    "dp-node-contest-dispute",
    NODE + " 'Validating contestDispute API'",
    "contestDispute with contestDisputePayload (merchantEvidences: evidenceType, fileId, "
    "evidenceText) answers 200.",
    "disputed",
    "contest_dispute",
    "dispute",
    {
        "merchantEvidences": [
            {
                "evidenceType": "TrackingNumber",
                "fileId": "ababcbchdhdhhduathcfjhf",
                "evidenceText": "raw text supporting merchant evidence",
            }
        ]
    },
    {"status": 200, "keys": ("merchantEvidences",)},
)
case(
    "dp-node-contest-after-update",
    NODE + " 'Validating contestDispute API'",
    "The test contests the dispute its updateDispute has just reported Resolved and expects "
    "200: the contest reopens it, UnderReview (what it does is apfsm's Decision).",
    "disputed_resolved",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {"status": 200, "keys": NODE_DISPUTE_KEYS, "state": "UnderReview"},
    after=CHARGEBACK_WINDOW - SEC,
)
case(
    "dp-resolved-window-closed",
    NODE_CLIENT,
    "A Resolved dispute can no longer be contested once its Dispute Window (11 days for "
    "Chargeback) has passed (the code, InvalidDisputeStatus, is apfsm's Decision).",
    "disputed_resolved",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {"status": 422, "code": "InvalidDisputeStatus"},
    after=CHARGEBACK_WINDOW,
)
case(
    "dp-node-upload-file",
    NODE + " 'Validating FileUpload API'",
    "uploadFile with {type: jpg, purpose: disputeEvidence} answers 200 and "
    "expectedFileAPIResponseKeys.",
    "none",
    "upload_file",
    None,
    {"type": "jpg", "purpose": "disputeEvidence"},
    {
        "status": 200,
        "exact_keys": ("id", "type", "purpose", "url", "size", "uploadTimestamp",
                       "urlExpirationTimestamp"),
        "types": {"purpose": "disputeEvidence", "type": "jpg"},
    },
)  # fmt: skip
case(
    "dp-file-types",
    FILE + " 'Supported file types'",
    "Upload File's type is one of csv, pdf, xls, xlsx, doc, docx, ods, jpg, png.",
    "none",
    "upload_file",
    None,
    {"type": "exe", "purpose": "disputeEvidence"},
    {"status": 400, "code": "InvalidParameterValue"},
)
case(
    "dp-states",
    PHP_ENUMS,
    "A new dispute is ActionRequired (one of UnderReview, ActionRequired, Resolved, Closed; "
    "the reason MerchantResponseRequired is apfsm's placement).",
    "disputed",
    "get_dispute",
    "dispute",
    None,
    {"status": 200, "state": "ActionRequired", "reason": "MerchantResponseRequired"},
)
case(
    "dp-ipn-chargeback",
    MANAGE + " 'Receiving Dispute Notifications'",
    "A dispute's status change sends an IPN with ObjectType CHARGEBACK, the dispute and its "
    "charge permission.",
    "disputed",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {
        "status": 200,
        "state": "UnderReview",
        "ipn": {
            "ObjectType": "CHARGEBACK",
            "ObjectId": "{dispute}",
            "ChargePermissionId": "{permission}",
            "NotificationType": "STATE_CHANGE",
        },
    },
)
case(
    "dp-chargeback-window-open",
    NODE_CLIENT,
    "Contest within the Dispute Window (11 days for Chargeback): one second before, accepted.",
    "disputed",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {"status": 200, "state": "UnderReview"},
    after=CHARGEBACK_WINDOW - SEC,
)
case(
    "dp-chargeback-window-closed",
    NODE_CLIENT,
    "After the 11-day Dispute Window a chargeback can no longer be contested (at exactly 11 "
    "days: SPEC §2's boundary; the code, InvalidDisputeStatus, is apfsm's Decision).",
    "disputed",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {"status": 422, "code": "InvalidDisputeStatus"},
    after=CHARGEBACK_WINDOW,
)
case(
    "dp-claim-window-open",
    NODE_CLIENT,
    "Contest within the Dispute Window (7 days for A-Z Claims): one second before, accepted.",
    "disputed:AtoZClaim",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {"status": 200, "state": "UnderReview"},
    after=CLAIM_WINDOW - SEC,
)
case(
    "dp-claim-window-closed",
    NODE_CLIENT,
    "After the 7-day Dispute Window an A-to-z claim can no longer be contested.",
    "disputed:AtoZClaim",
    "contest_dispute",
    "dispute",
    DISPUTE_EVIDENCE,
    {"status": 422, "code": "InvalidDisputeStatus"},
    after=CLAIM_WINDOW,
)
case(
    "dp-window-resolves-for-the-buyer",
    DISPUTE + " 'resolution'",
    "Uncontested when the window closes: Resolved (MerchantResponseDeadlineExpired, a reason "
    "of the PHP SDK's DisputeReasonCode), resolution BuyerWon (apfsm's Decision).",
    "disputed",
    "get_dispute",
    "dispute",
    None,
    {
        "status": 200,
        "state": "Resolved",
        "reason": "MerchantResponseDeadlineExpired",
        "types": {"statusDetails.resolution": "BuyerWon"},
    },
    after=CHARGEBACK_WINDOW,
)
