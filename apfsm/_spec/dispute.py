"""The Dispute lifecycle (SPEC §11, the Dispute API; docs/dispute.md): a buyer's chargeback
or A-to-z Guarantee claim on a captured charge.

Sources: https://developer.amazon.com/docs/amazon-pay-api-v2/dispute.html (the object, its
four states, ``resolution`` "for Resolved/Closed states"), .../amazon-pay-checkout/
manage-disputes.html (a ``CHARGEBACK`` IPN "when a dispute is created or its status
changes"), the SDKs' release notes (Node 2.3.2, PHP 2.6.8, Java 2.6.5: "requiring the
submission of necessary evidence files within the specified Dispute Window (11 days for
Chargeback, 7 days for A-Z Claims)") and their enums (``dispute_codes``). The Java SDK's
enums say what each state and reason means (amzn/amazon-pay-api-sdk-java
``src/com/amazon/pay/api/types/DisputeState.java``: "ActionRequired represents pending
merchant or buyer action", "Closed represents the dispute is closed and immutable";
``DisputeReasonCode.java``: "BUYER_ADDITIONAL_EVIDENCES_REQUIRED represents the buyer
needs to provide additional evidence"). Followed here:

- ``BuyerAdditionalEvidencesRequired`` is an ``ActionRequired`` reason (pending buyer
  action), not an ``UnderReview`` one; the merchant's response window does not run then;
- only ``Closed`` is immutable: a ``Resolved`` dispute can still be reported by Update
  Dispute (its resolution, or its closure).

dispute.html's "Dispute State Transition" section itself is not in apfsm's sources, so the
moves between the states are **Decisions** (docs/dispute.md, "What is decided"):

- a new dispute asks for the merchant's response: ``ActionRequired`` /
  ``MerchantResponseRequired``, until ``merchantResponseDeadline``
  (``Limits.chargeback_response_window`` or ``claim_response_window`` after that);
- Contest Dispute puts it ``UnderReview``: in ``ActionRequired``, and in ``Resolved``,
  whose decision it reopens (its resolution cleared). Amazon confirms that a Resolved
  dispute can be contested (the Node SDK's tst/webStoreClientTest.js: update to Resolved,
  then contest, 200) and that a contest belongs "within the specified Dispute Window" (the
  SDKs' contestDispute): after ``merchantResponseDeadline`` (the boundary as
  ``ttl_passed_at_deadline``) a contest is refused (the check
  ``contest_within_dispute_window``), and an uncontested ``ActionRequired`` dispute is
  ``Resolved`` / ``MerchantResponseDeadlineExpired``, resolution ``BuyerWon``. Refused in
  ``UnderReview`` (it holds the contest already) and ``Closed`` ("closed and immutable");
- the investigator may ask the merchant for more (``ActionRequired`` /
  ``MerchantAdditionalEvidencesRequired``, a new window) or the buyer (``ActionRequired``
  / ``BuyerAdditionalEvidencesRequired``, no window for the merchant), or decide
  (``Resolved``);
- an A-to-z claim the buyer turns into a chargeback is ``Closed`` / ``ChargebackFiled``.

Refused by state: ``InvalidDisputeStatus`` (a Decision: Amazon's code is undocumented,
named like ``InvalidChargeStatus``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .model import SAME, Allow, Creation, Event, Lifecycle, Refuse, StateDecl, Timer

__all__ = ["DISPUTE", "DISPUTE_RESOLUTION_BY_TRIGGER"]

_OPEN: Final = ("ActionRequired", "UnderReview")
#: What Update Dispute may report on: all but Closed, "closed and immutable" (Java SDK
#: DisputeState.java).
_MUTABLE: Final = (*_OPEN, "Resolved")
_ALL: Final = (*_MUTABLE, "Closed")
#: Where Contest Dispute is accepted, within the Dispute Window: a dispute waiting on a
#: response, and a decided one (Resolved) it reopens.
_CONTESTABLE: Final = ("ActionRequired", "Resolved")

DISPUTE: Final = Lifecycle(
    object_type="Dispute",
    notification_type="CHARGEBACK",
    description="A buyer's chargeback or A-to-z claim on a captured charge.",
    id_field="disputeId",
    ref_prefix="dp",
    states=(
        StateDecl(
            "ActionRequired",
            "pending the merchant's response (until merchantResponseDeadline) or the buyer's",
            # "pending merchant or buyer action" (Java SDK DisputeState.java).
            reasons=(
                "MerchantResponseRequired",
                "MerchantAdditionalEvidencesRequired",
                "BuyerAdditionalEvidencesRequired",
            ),
            initial=True,
        ),
        StateDecl(
            "UnderReview",
            "under investigation: the evidence is being reviewed",
        ),
        StateDecl(
            "Resolved",
            "decided: statusDetails.resolution says for whom (not yet immutable)",
            reasons=(
                "MerchantAcceptedDispute",
                "MerchantResponseDeadlineExpired",
                "BuyerCancelled",
                "InvestigatorResolved",
                "AutoResolved",
            ),
        ),
        StateDecl(
            "Closed",
            "closed and immutable (Java SDK DisputeState.java)",
            reasons=("ChargebackFiled",),
            terminal=True,
        ),
    ),
    creations=(
        # A payment service provider reports a chargeback it received (create_dispute);
        # a buyer files a claim or chargeback (Simulator.file_dispute).
        Creation("create_dispute", "ActionRequired"),
        Creation("file_dispute", "ActionRequired", actor="buyer"),
    ),
    allows=(
        Allow("get_dispute", _ALL, SAME),
        # Contest Dispute, within the Dispute Window (its check), puts the dispute under
        # investigation: in ActionRequired, and in Resolved, whose decision it reopens (the
        # Node SDK's tst/webStoreClientTest.js contests a dispute it has just updated to
        # Resolved and expects 200).
        Allow("contest_dispute", _CONTESTABLE, "UnderReview"),
        # Update Dispute: the state (and reason, resolution) the body reports, on any
        # dispute but a Closed one ("closed and immutable": Java SDK DisputeState.java).
        Allow("update_dispute", _MUTABLE, "Resolved", guard="requested_resolved"),
        Allow("update_dispute", _MUTABLE, "Closed", guard="requested_closed"),
    ),
    refusals=(
        # UnderReview already holds the merchant's contest (Amazon asks for more with
        # ActionRequired / MerchantAdditionalEvidencesRequired); Closed is immutable.
        Refuse("contest_dispute", ("UnderReview", "Closed"), "InvalidDisputeStatus"),
        Refuse("update_dispute", ("Closed",), "InvalidDisputeStatus"),
    ),
    events=(
        Event(
            "evidence_requested",
            ("UnderReview",),
            "ActionRequired",
            "amazon",
            "the investigator asks the merchant for more evidence (a new window)",
            "MerchantAdditionalEvidencesRequired",
        ),
        Event(
            "buyer_evidence_requested",
            ("UnderReview",),
            # Pending buyer action is ActionRequired (Java SDK DisputeState.java).
            "ActionRequired",
            "amazon",
            "the investigator asks the buyer for more evidence (no window for the merchant)",
            "BuyerAdditionalEvidencesRequired",
        ),
        Event(
            "merchant_won",
            ("UnderReview",),
            "Resolved",
            "amazon",
            "decided for the merchant (resolution MerchantWon)",
            "InvestigatorResolved",
        ),
        Event(
            "buyer_won",
            _OPEN,
            "Resolved",
            "amazon",
            "decided for the buyer (resolution BuyerWon)",
            reasons=("InvestigatorResolved", "AutoResolved"),
        ),
        Event(
            "buyer_cancelled",
            _OPEN,
            "Resolved",
            "buyer",
            "the buyer withdraws the dispute (resolution NoFault)",
            "BuyerCancelled",
        ),
        Event(
            "chargeback_filed",
            _OPEN,
            "Closed",
            "buyer",
            "the buyer takes an A-to-z claim to the bank (resolution NoFault)",
            "ChargebackFiled",
        ),
    ),
    timers=(
        Timer(
            "response_window_expiry",
            ("ActionRequired",),
            "Resolved",
            "dispute_response_deadline",
            reason="MerchantResponseDeadlineExpired",
        ),
    ),
)

#: The ``statusDetails.resolution`` each event or timer gives a dispute (Decisions where
#: Amazon names none: docs/dispute.md); Update Dispute reports its own.
DISPUTE_RESOLUTION_BY_TRIGGER: Final[Mapping[str, str]] = MappingProxyType(
    {
        "merchant_won": "MerchantWon",
        "buyer_won": "BuyerWon",
        "buyer_cancelled": "NoFault",
        "chargeback_filed": "NoFault",
        "response_window_expiry": "BuyerWon",
    }
)
