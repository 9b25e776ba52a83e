"""Disputes (docs/dispute.md): a buyer's chargeback or A-to-z claim on a captured charge,
the merchant's contest within the Dispute Window, Amazon's outcomes, a provider's Create and
Update Dispute, Upload File.

Sources: https://developer.amazon.com/docs/amazon-pay-api-v2/dispute.html (the object, its
states UnderReview, ActionRequired, Resolved, Closed; resolution BuyerWon, MerchantWon,
NoFault), .../amazon-pay-api-v2/file.html (the File object, types, purpose
disputeEvidence), .../amazon-pay-checkout/manage-disputes.html (a ``CHARGEBACK`` IPN "when
a dispute is created or its status changes", ObjectId the dispute, ChargePermissionId),
amzn/amazon-pay-api-sdk-nodejs ``CHANGES.md`` 2.3.2 and ``src/client.js`` ("within the
specified Dispute Window (11 days for Chargeback, 7 days for A-Z Claims)"),
``tst/webStoreClientTest.js`` (createDisputePayload, updateDisputePayload,
contestDisputePayload, uploadFilePayload; expectedDisputeResponseKeys,
expectedFileAPIResponseKeys; status 200), amzn/amazon-pay-api-sdk-php
``Amazon/Pay/API/Constants`` (the enums).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apfsm import ApiError, Limits, Simulator, check, parse_timestamp
from apfsm._errors import ActionRefused
from tests.simhelpers import (
    DISPUTE_EVIDENCE,
    NODE_DISPUTE_KEYS,
    NODE_UPDATE_DISPUTE,
    T0,
    checkout,
    make_sim,
    price,
)

S = timedelta(seconds=1)
CHARGEBACK_WINDOW = timedelta(days=11)
CLAIM_WINDOW = timedelta(days=7)
#: The Node SDK test's updateDisputePayload, without its description and timestamp.
NODE_RESOLVED = {
    "statusDetails": {
        "state": "Resolved",
        "resolution": "MerchantWon",
        "reasonCode": "MerchantAcceptedDispute",
    }
}


def captured(sim: Simulator, amount: str = "100.00") -> str:
    done = checkout(sim, amount=amount, intent="AuthorizeWithCapture")
    return str(done["chargeId"])


def refused(call: Any, code: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    assert code == caught.value.reason_code, caught.value
    return caught.value


def test_a_filed_chargeback_asks_for_the_merchants_response_with_an_ipn() -> None:
    sim = make_sim()
    charge_id = captured(sim)
    before = len(sim.notifications)
    dispute = sim.file_dispute(charge_id, filing_reason="Fraudulent")
    assert set(NODE_DISPUTE_KEYS) <= set(dispute)
    assert dispute["disputeId"].startswith(sim.get_charge(charge_id)["chargePermissionId"] + "-B")
    assert ("Chargeback", "Fraudulent", charge_id) == (
        dispute["disputeType"],
        dispute["filingReason"],
        dispute["chargeId"],
    )
    assert price("100.00") == dispute["disputeAmount"]  # the captured amount by default
    details = dispute["statusDetails"]
    assert ("ActionRequired", "MerchantResponseRequired", None) == (
        details["state"],
        details["reasonCode"],
        details["resolution"],
    )
    assert T0 + CHARGEBACK_WINDOW == parse_timestamp(dispute["merchantResponseDeadline"])
    # manage-disputes.html: ObjectType CHARGEBACK, the dispute, its charge permission.
    (message,) = sim.notifications[before:]
    assert (
        "CHARGEBACK",
        dispute["disputeId"],
        sim.get_charge(charge_id)["chargePermissionId"],
    ) == (
        message["ObjectType"],
        message["ObjectId"],
        message["ChargePermissionId"],
    )
    assert dispute == sim.get_dispute(dispute["disputeId"])


@pytest.mark.parametrize(
    ("dispute_type", "window"), [("Chargeback", CHARGEBACK_WINDOW), ("AtoZClaim", CLAIM_WINDOW)]
)
@pytest.mark.parametrize(("offset", "open_"), [(-S, True), (timedelta(0), False), (S, False)])
def test_the_dispute_window_closes_at_its_deadline(
    dispute_type: str, window: timedelta, offset: timedelta, open_: bool
) -> None:
    # L − 1 s, L, L + 1 s; at L the window has closed (ttl_passed_at_deadline, SPEC §2).
    sim = make_sim()
    charge_id = captured(sim)
    filed = T0 + timedelta(minutes=5)
    sim.advance(filed - sim.now())
    dispute_id = sim.file_dispute(charge_id, dispute_type=dispute_type)["disputeId"]
    before = len(sim.notifications)
    sim.advance(filed + window + offset - sim.now())
    if open_:
        assert (
            "UnderReview"
            == sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE)["statusDetails"]["state"]
        )
        return
    err = refused(lambda: sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE), "InvalidDisputeStatus")
    assert 422 == err.http_status
    details = sim.get_dispute(dispute_id)["statusDetails"]
    assert ("Resolved", "MerchantResponseDeadlineExpired", "BuyerWon") == (
        details["state"],
        details["reasonCode"],
        details["resolution"],
    )
    assert filed + window == parse_timestamp(details["lastUpdatedTimestamp"])
    assert ["CHARGEBACK"] == [m["ObjectType"] for m in sim.notifications[before:]]


def test_the_boundary_rule_is_the_limits() -> None:
    sim = make_sim(limits=Limits(ttl_passed_at_deadline=False))
    charge_id = captured(sim)
    dispute_id = sim.file_dispute(charge_id)["disputeId"]
    sim.advance(CHARGEBACK_WINDOW - (sim.now() - T0))
    assert (
        "UnderReview" == sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE)["statusDetails"]["state"]
    )


def test_contest_then_amazons_outcomes() -> None:
    sim = make_sim()
    charge_id = captured(sim)
    dispute_id = sim.file_dispute(charge_id)["disputeId"]
    contested = sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE)
    assert DISPUTE_EVIDENCE["merchantEvidences"] == contested["merchantEvidences"]
    assert ("UnderReview", None) == (
        contested["statusDetails"]["state"],
        contested["statusDetails"]["reasonCode"],
    )
    refused(lambda: sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE), "InvalidDisputeStatus")
    # The investigator asks for more: a new window from now.
    sim.advance(timedelta(days=5))
    asked = sim.amazon_event(dispute_id, "evidence_requested")
    assert "MerchantAdditionalEvidencesRequired" == asked["statusDetails"]["reasonCode"]
    assert sim.now() + CHARGEBACK_WINDOW == parse_timestamp(asked["merchantResponseDeadline"])
    more = {"merchantEvidences": [{"evidenceType": "Receipt", "fileId": "file_1"}]}
    again = sim.contest_dispute(dispute_id, more)
    assert 2 == len(again["merchantEvidences"])  # both rounds kept
    won = sim.amazon_event(dispute_id, "merchant_won")["statusDetails"]
    assert ("Resolved", "InvestigatorResolved", "MerchantWon") == (
        won["state"],
        won["reasonCode"],
        won["resolution"],
    )
    with pytest.raises(ActionRefused) as caught:
        sim.amazon_event(dispute_id, "buyer_won")
    assert "InvalidDisputeStatus" == caught.value.reason_code


@pytest.mark.parametrize(
    ("event", "state", "reason", "resolution"),
    [
        ("buyer_won", "Resolved", "InvestigatorResolved", "BuyerWon"),
        ("buyer_cancelled", "Resolved", "BuyerCancelled", "NoFault"),
        ("chargeback_filed", "Closed", "ChargebackFiled", "NoFault"),
    ],
)
def test_other_outcomes(event: str, state: str, reason: str, resolution: str) -> None:
    sim = make_sim()
    dispute_id = sim.file_dispute(captured(sim), dispute_type="AtoZClaim")["disputeId"]
    details = sim.amazon_event(dispute_id, event)["statusDetails"]
    assert (state, reason, resolution) == (
        details["state"],
        details["reasonCode"],
        details["resolution"],
    )
    closing = {"statusDetails": {"state": "Closed"}}
    if state == "Resolved":
        # Resolved is not immutable, Closed is: "Closed represents the dispute is closed and
        # immutable" (amzn/amazon-pay-api-sdk-java src/com/amazon/pay/api/types/
        # DisputeState.java). A provider can still report the closure.
        assert "Closed" == sim.update_dispute(dispute_id, closing)["statusDetails"]["state"]
    refused(lambda: sim.update_dispute(dispute_id, closing), "InvalidDisputeStatus")


def test_buyer_evidence_request_is_action_required_without_a_merchant_window() -> None:
    # "ActionRequired represents pending merchant or buyer action" (amzn/amazon-pay-api-sdk-java
    # src/com/amazon/pay/api/types/DisputeState.java); "BUYER_ADDITIONAL_EVIDENCES_REQUIRED
    # represents the buyer needs to provide additional evidence" (DisputeReasonCode.java).
    # Until this was read, apfsm kept such a dispute UnderReview.
    sim = make_sim()
    dispute_id = sim.file_dispute(captured(sim))["disputeId"]
    sim.contest_dispute(dispute_id, {"merchantEvidences": [{"evidenceType": "Receipt"}]})
    asked = sim.amazon_event(dispute_id, "buyer_evidence_requested")
    assert ("ActionRequired", "BuyerAdditionalEvidencesRequired") == (
        asked["statusDetails"]["state"],
        asked["statusDetails"]["reasonCode"],
    )
    # The merchant's window does not run while the buyer is asked (a Decision).
    assert asked["merchantResponseDeadline"] is None
    sim.advance(CHARGEBACK_WINDOW + timedelta(days=1))
    later = sim.get_dispute(dispute_id)["statusDetails"]
    assert ("ActionRequired", "BuyerAdditionalEvidencesRequired") == (
        later["state"],
        later["reasonCode"],
    )
    won = sim.amazon_event(dispute_id, "buyer_won")["statusDetails"]
    assert ("Resolved", "BuyerWon") == (won["state"], won["resolution"])


@pytest.mark.parametrize(
    "resolve",
    [
        # Amazon decides before the merchant responds (buyer_won: AutoResolved).
        lambda sim, dispute_id: sim.amazon_event(dispute_id, "buyer_won", reason="AutoResolved"),
        # A provider reports it Resolved: the Node SDK test's updateDisputePayload.
        lambda sim, dispute_id: sim.update_dispute(dispute_id, NODE_RESOLVED),
    ],
)
@pytest.mark.parametrize(("offset", "open_"), [(-S, True), (timedelta(0), False), (S, False)])
def test_a_contest_reopens_a_resolved_dispute_within_the_dispute_window(
    resolve: Callable[[Simulator, str], object], offset: timedelta, open_: bool
) -> None:
    # The Node SDK's tst/webStoreClientTest.js contests a dispute it has updated to Resolved
    # and expects 200; "within the specified Dispute Window" (its src/client.js
    # contestDispute). Decided (docs/dispute.md): UnderReview again, the resolution cleared,
    # the evidences added; the window is the one the dispute asked with (L − 1 s accepted;
    # L and L + 1 s refused, SPEC §2's boundary).
    sim = make_sim()
    dispute_id = sim.file_dispute(captured(sim))["disputeId"]
    deadline = parse_timestamp(sim.get_dispute(dispute_id)["merchantResponseDeadline"])
    sim.advance(timedelta(days=2))
    resolve(sim, dispute_id)
    assert "Resolved" == sim.get_dispute(dispute_id)["statusDetails"]["state"]
    sim.advance(deadline + offset - sim.now())
    if not open_:
        err = refused(
            lambda: sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE), "InvalidDisputeStatus"
        )
        assert 422 == err.http_status
        assert "Dispute Window" in str(err), err
        assert "Resolved" == sim.get_dispute(dispute_id)["statusDetails"]["state"]
        return
    before = len(sim.notifications)
    reopened = sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE)
    details = reopened["statusDetails"]
    assert ("UnderReview", None, None) == (
        details["state"],
        details["reasonCode"],
        details["resolution"],
    )
    assert DISPUTE_EVIDENCE["merchantEvidences"] == reopened["merchantEvidences"]
    assert deadline == parse_timestamp(reopened["merchantResponseDeadline"])
    assert ["CHARGEBACK"] == [m["ObjectType"] for m in sim.notifications[before:]]
    # Under review again: a second contest is refused; the investigator decides again.
    refused(lambda: sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE), "InvalidDisputeStatus")
    won = sim.amazon_event(dispute_id, "merchant_won")["statusDetails"]
    assert ("Resolved", "MerchantWon") == (won["state"], won["resolution"])


def test_no_contest_after_the_window_resolved_it_nor_on_a_closed_dispute() -> None:
    # Resolved / MerchantResponseDeadlineExpired: "the merchant did not respond within the
    # expected window" (Java SDK DisputeReasonCode.java); Closed: "closed and immutable"
    # (DisputeState.java).
    sim = make_sim()
    expired = sim.file_dispute(captured(sim))["disputeId"]
    closed = sim.file_dispute(captured(sim))["disputeId"]
    sim.amazon_event(closed, "chargeback_filed")
    refused(lambda: sim.contest_dispute(closed, DISPUTE_EVIDENCE), "InvalidDisputeStatus")
    sim.advance(CHARGEBACK_WINDOW)
    details = sim.get_dispute(expired)["statusDetails"]
    assert ("Resolved", "MerchantResponseDeadlineExpired") == (
        details["state"],
        details["reasonCode"],
    )
    refused(lambda: sim.contest_dispute(expired, DISPUTE_EVIDENCE), "InvalidDisputeStatus")
    sim.advance(timedelta(days=30))
    refused(lambda: sim.contest_dispute(expired, DISPUTE_EVIDENCE), "InvalidDisputeStatus")


def test_check_reads_the_window_of_a_resolved_dispute() -> None:
    sim = make_sim()
    dispute_id = sim.file_dispute(captured(sim))["disputeId"]
    resolved = sim.amazon_event(dispute_id, "buyer_won", reason="AutoResolved")
    deadline = parse_timestamp(resolved["merchantResponseDeadline"])
    outcome = check("contest_dispute", resolved, body=DISPUTE_EVIDENCE, at=deadline - S)
    assert (True, "UnderReview") == (outcome.ok, outcome.next_state)
    late = check("contest_dispute", resolved, body=DISPUTE_EVIDENCE, at=deadline)
    assert (False, "InvalidDisputeStatus") == (late.ok, late.reason_code)


def test_filing_needs_a_captured_charge_and_a_known_reason() -> None:
    sim = make_sim()
    authorized = checkout(sim)["chargeId"]
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: sim.file_dispute(authorized), "InvalidChargeStatus"),
        (lambda: sim.file_dispute("S01-0000000-0000000-C000000"), "ResourceNotFound"),
        (lambda: sim.file_dispute(captured(sim), filing_reason="Bored"), "InvalidParameterValue"),
        (lambda: sim.file_dispute(captured(sim), dispute_type="Claim"), "InvalidParameterValue"),
        (lambda: sim.file_dispute(captured(sim), amount="100.01"), "TransactionAmountExceeded"),
        (lambda: sim.file_dispute(captured(sim), amount="0"), "InvalidParameterValue"),
    ]
    for call, code in cases:
        with pytest.raises(ActionRefused) as caught:
            call()
        assert code == caught.value.reason_code
    assert price("10.00") == sim.file_dispute(captured(sim), amount="10.00")["disputeAmount"]


def _node_create_payload(charge_id: str, amount: str = "1") -> dict[str, Any]:
    """The Node SDK test's createDisputePayload (epoch milliseconds, as Date.now())."""
    return {
        "chargeId": charge_id,
        "providerMetadata": {"providerDisputeId": "A2CQXQ2TUSYG7J"},
        "disputeAmount": {"amount": amount, "currencyCode": "USD"},
        "filingReason": "ProductNotReceived",
        "filingTimestamp": 1_764_000_000_000,
        "statusDetails": {"state": "ActionRequired"},
        "merchantResponseDeadline": 1_764_000_000_000 + 14 * 86_400_000,
    }


def test_a_provider_creates_and_updates_a_dispute_as_the_sdks_send_it() -> None:
    sim = make_sim()
    charge_id = captured(sim)
    created = sim.request(
        "create_dispute", None, _node_create_payload(charge_id), idempotency_key="d1"
    )
    assert 200 == created.status  # validateDisputeAPIResponse: result.status 200
    dispute = created.body
    assert set(NODE_DISPUTE_KEYS) <= set(dispute)
    assert {"providerDisputeId": "A2CQXQ2TUSYG7J"} == dispute["providerMetadata"]
    # Decision: the provider's merchantResponseDeadline is not used; the window is Limits'.
    assert T0 + CHARGEBACK_WINDOW == parse_timestamp(dispute["merchantResponseDeadline"])
    details = sim.update_dispute(dispute["disputeId"], NODE_UPDATE_DISPUTE)["statusDetails"]
    assert ("Resolved", "MerchantAcceptedDispute", "MerchantWon") == (
        details["state"],
        details["reasonCode"],
        details["resolution"],
    )
    closed = sim.update_dispute(
        sim.create_dispute(_node_create_payload(charge_id))["disputeId"],
        {"statusDetails": {"state": "Closed"}},
    )["statusDetails"]
    assert ("Closed", "InvestigatorResolved") == (closed["state"], closed["reasonCode"])


def test_create_dispute_is_checked_against_the_charge() -> None:
    sim = make_sim()
    charge_id = captured(sim, "50.00")
    refused(lambda: sim.create_dispute(_node_create_payload(charge_id, "50.01")),
            "TransactionAmountExceeded")  # fmt: skip
    euro = {**_node_create_payload(charge_id), "disputeAmount": price("1.00", "EUR")}
    refused(lambda: sim.create_dispute(euro), "CurrencyMismatch")
    authorized = checkout(sim)["chargeId"]
    refused(lambda: sim.create_dispute(_node_create_payload(authorized)), "InvalidChargeStatus")
    refused(lambda: sim.get_dispute("S01-0000000-0000000-B000000"), "ResourceNotFound")
    bad = {**_node_create_payload(charge_id), "filingReason": "Bored"}
    refused(lambda: sim.create_dispute(bad), "InvalidParameterValue")
    refused(lambda: sim.contest_dispute("x", {"merchantEvidences": [{}]}), "MissingParameterValue")


def test_upload_file_answers_the_file_object() -> None:
    sim = make_sim()
    answer = sim.request(
        "upload_file", None, {"type": "jpg", "purpose": "disputeEvidence"}, idempotency_key="f1"
    )
    assert 200 == answer.status
    file = answer.body
    # The Node SDK test's expectedFileAPIResponseKeys.
    assert {"id", "type", "purpose", "url", "size", "uploadTimestamp", "urlExpirationTimestamp"} == set(file)  # fmt: skip
    assert file["id"].startswith("file_")
    assert ("jpg", "disputeEvidence") == (file["type"], file["purpose"])
    assert timedelta(hours=1) == parse_timestamp(file["urlExpirationTimestamp"]) - parse_timestamp(
        file["uploadTimestamp"]
    )
    assert file["id"] != sim.upload_file({"type": "pdf", "purpose": "disputeEvidence"})["id"]
    refused(lambda: sim.upload_file({"type": "exe", "purpose": "disputeEvidence"}),
            "InvalidParameterValue")  # fmt: skip


def test_check_reads_a_dispute_payload() -> None:
    sim = make_sim()
    dispute = sim.file_dispute(captured(sim), dispute_type="AtoZClaim")
    deadline = parse_timestamp(dispute["merchantResponseDeadline"])
    assert check("contest_dispute", dispute, body=DISPUTE_EVIDENCE, at=deadline - S).ok
    late = check("contest_dispute", dispute, body=DISPUTE_EVIDENCE, at=deadline)
    assert (False, "InvalidDisputeStatus") == (late.ok, late.reason_code)
    assert "Resolved" == check("get_dispute", dispute, at=deadline).next_state
    # Without merchantResponseDeadline the window of its type counts from lastUpdated.
    bare = {**dispute, "merchantResponseDeadline": None}
    assert not check("contest_dispute", bare, body=DISPUTE_EVIDENCE, at=deadline).ok
    assert check("contest_dispute", bare, body=DISPUTE_EVIDENCE, at=deadline - S).ok


def test_a_snapshot_keeps_disputes() -> None:
    sim = make_sim()
    dispute_id = sim.file_dispute(captured(sim))["disputeId"]
    sim.contest_dispute(dispute_id, DISPUTE_EVIDENCE)
    sim.amazon_event(dispute_id, "evidence_requested")
    again = Simulator.restore(sim.snapshot())
    assert sim.get_dispute(dispute_id) == again.get_dispute(dispute_id)
    assert sim.pending_events() == again.pending_events()


@pytest.mark.parametrize("amount", ["1E+1", "0.001", "1.0000000", "-1", "0", " 1", "1e999", 1e308])
def test_the_buyers_dispute_amount_is_written_as_api_amounts_are(amount: Any) -> None:
    """Taken before, "1E+1" and "1.0000000" were stored as written: the snapshot (and a
    --state checkpoint) holding them was then refused on load (docs/dispute.md)."""
    sim = make_sim()
    charge = checkout(sim, intent="AuthorizeWithCapture")["chargeId"]
    with pytest.raises(ActionRefused) as refused:
        sim.file_dispute(charge, amount=amount)
    assert "InvalidParameterValue" == refused.value.reason_code
    assert [] == sim.object_ids("Dispute")


@pytest.mark.parametrize(("amount", "expected"), [("1.5", "1.50"), (7, "7.00"), (2.25, "2.25")])
def test_a_valid_dispute_amount_restores_from_a_snapshot(amount: Any, expected: str) -> None:
    sim = make_sim()
    charge = checkout(sim, intent="AuthorizeWithCapture")["chargeId"]
    dispute = sim.file_dispute(charge, amount=amount)
    assert expected == dispute["disputeAmount"]["amount"]
    restored = Simulator.restore(sim.snapshot())
    assert dispute == restored.get_dispute(dispute["disputeId"])
