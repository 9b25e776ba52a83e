"""The Dispute API's enumerations (Amazon Pay API v2 "Dispute" and "File", docs/dispute.md).

Data only, shared by the request bodies (``operations``) and the Dispute lifecycle
(``dispute``). Sources: https://developer.amazon.com/docs/amazon-pay-api-v2/dispute.html
(the Dispute object: ``disputeType`` "currently only supports Chargeback",
``statusDetails.state`` UnderReview, ActionRequired, Resolved, Closed; ``resolution``
BuyerWon, MerchantWon, NoFault), .../file.html (file types, ``purpose`` disputeEvidence),
and the official SDKs' enums: amzn/amazon-pay-api-sdk-php ``Amazon/Pay/API/Constants/``
(DisputeFilingReason, DisputeReasonCode, DisputeResolution, DisputeState, EvidenceType;
2.6.8) and amzn/amazon-pay-api-sdk-java ``src/com/amazon/pay/api/types/``
(EvidenceDocumentFileType, DisputeFilePurpose; 2.6.5).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DISPUTE_REASON_CODES",
    "DISPUTE_RESOLUTIONS",
    "DISPUTE_STATES",
    "DISPUTE_TYPES",
    "DISPUTE_UPDATE_STATES",
    "EVIDENCE_TYPES",
    "FILE_PURPOSES",
    "FILE_TYPES",
    "FILING_REASONS",
]

#: ``statusDetails.state`` (PHP SDK DisputeState, dispute.html).
DISPUTE_STATES: Final = ("UnderReview", "ActionRequired", "Resolved", "Closed")
#: ``statusDetails.reasonCode`` (PHP SDK DisputeReasonCode).
DISPUTE_REASON_CODES: Final = (
    "MerchantResponseRequired",
    "MerchantAdditionalEvidencesRequired",
    "BuyerAdditionalEvidencesRequired",
    "MerchantAcceptedDispute",
    "MerchantResponseDeadlineExpired",
    "BuyerCancelled",
    "InvestigatorResolved",
    "AutoResolved",
    "ChargebackFiled",
)
#: ``statusDetails.resolution`` (PHP SDK DisputeResolution, dispute.html).
DISPUTE_RESOLUTIONS: Final = ("BuyerWon", "MerchantWon", "NoFault")
#: ``filingReason`` (PHP SDK DisputeFilingReason).
FILING_REASONS: Final = (
    "ProductNotReceived",
    "ProductUnacceptable",
    "ProductNoLongerNeeded",
    "CreditNotProcessed",
    "Overcharged",
    "DuplicateCharge",
    "SubscriptionCancelled",
    "Unrecognized",
    "Fraudulent",
    "Other",
)
#: ``disputeType``: dispute.html documents ``Chargeback`` only; the SDKs' release notes say
#: buyers also file "an Amazon Pay A-to-z Guarantee claim", with a shorter window (7 days,
#: against 11 for a chargeback). **Decision**: such a claim's type is ``AtoZClaim`` (the
#: name is apfsm's; Amazon documents none).
DISPUTE_TYPES: Final = ("Chargeback", "AtoZClaim")
#: Update Dispute (a payment service provider reports the closure of a chargeback it
#: handled, the SDKs' updateDispute): the states its ``statusDetails.state`` may report
#: (**Decision**: only the two final ones; the SDKs' example sends Resolved).
DISPUTE_UPDATE_STATES: Final = ("Resolved", "Closed")
#: ``merchantEvidences[].evidenceType`` (PHP SDK EvidenceType, dispute.html).
EVIDENCE_TYPES: Final = (
    "ProductDescription",
    "Receipt",
    "CancellationPolicy",
    "CustomerSignature",
    "TrackingNumber",
    "CarrierName",
    "DeviceId",
    "DeviceName",
    "DownloadDateTime",
    "Other",
)
#: Upload File's ``type`` (file.html "Supported file types"; Java SDK
#: EvidenceDocumentFileType).
FILE_TYPES: Final = ("csv", "pdf", "xls", "xlsx", "doc", "docx", "ods", "jpg", "png")
#: Upload File's ``purpose`` (file.html; Java SDK DisputeFilePurpose).
FILE_PURPOSES: Final = ("disputeEvidence",)
