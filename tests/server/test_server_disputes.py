"""Disputes over HTTP (docs/dispute.md): the five routes the SDKs call (Node SDK
``src/client.js`` createDispute ``POST disputes``, getDispute, updateDispute ``PATCH
disputes/{id}``, contestDispute ``POST disputes/{id}/contest``, uploadFile ``POST files``;
the PHP SDK's DisputeClientInterface: an idempotency key on create and upload), the
control API's buyer filing, the ``CHARGEBACK`` IPN, and a ``--state`` file's journal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from starlette.testclient import TestClient

from apfsm.server import create_app
from tests.simhelpers import DISPUTE_EVIDENCE, make_sim

from .serverhelpers import price
from .test_server import Api, checkout, error


def _captured(api: Api) -> str:
    done = checkout(api, "40.00", intent="AuthorizeWithCapture")
    return str(done["chargeId"])


def _flow(api: Api) -> dict[str, Any]:
    charge_id = _captured(api)
    status, filed = api.control(
        "/buyer/dispute", {"chargeId": charge_id, "filingReason": "ProductUnacceptable"}
    )
    assert 200 == status, filed
    dispute_id = filed["disputeId"]
    status, upload = api("POST", "/files", {"type": "pdf", "purpose": "disputeEvidence"})
    assert 200 == status
    evidence = {"merchantEvidences": [{"evidenceType": "Receipt", "fileId": upload["id"]}]}
    status, contested = api("POST", f"/disputes/{dispute_id}/contest", evidence)
    assert (200, "UnderReview") == (status, contested["statusDetails"]["state"])
    status, decided = api.control("/event", {"objectId": dispute_id, "event": "merchant_won"})
    assert (200, "MerchantWon") == (status, decided["statusDetails"]["resolution"])
    body = {
        "chargeId": charge_id,
        "disputeAmount": price("5.00"),
        "filingReason": "Fraudulent",
        "providerMetadata": {"providerDisputeId": "P-1"},
    }
    status, reported = api("POST", "/disputes", body)
    assert (200, "ActionRequired") == (status, reported["statusDetails"]["state"])
    update = {"statusDetails": {"state": "Resolved", "resolution": "BuyerWon"}}
    status, updated = api("PATCH", f"/disputes/{reported['disputeId']}", update)
    assert (200, "Resolved") == (status, updated["statusDetails"]["state"])
    return {"charge": charge_id, "filed": dispute_id, "reported": reported["disputeId"]}


def test_the_dispute_routes_over_http() -> None:
    sim = make_sim()
    api = Api(TestClient(create_app(sim)))
    ids = _flow(api)
    for prefix in ("", "/live", "/sandbox"):
        status, read = Api(api.client, prefix)("GET", f"/disputes/{ids['filed']}")
        assert (200, "Resolved") == (status, read["statusDetails"]["state"])
    kinds = [(m["ObjectType"], m["ObjectId"]) for m in sim.notifications]
    assert ("CHARGEBACK", ids["filed"]) in kinds
    assert ("CHARGEBACK", ids["reported"]) in kinds
    # A contest of the decided dispute once the Dispute Window has passed (within it, it
    # would reopen it: docs/dispute.md), an unknown dispute, a missing idempotency key.
    assert 200 == api.control("/clock/advance", {"seconds": 11 * 24 * 3600})[0]
    assert (422, "InvalidDisputeStatus") == error(
        *api("POST", f"/disputes/{ids['filed']}/contest", DISPUTE_EVIDENCE)
    )
    assert (404, "ResourceNotFound") == error(*api("GET", "/disputes/S01-0000000-0000000-B0"))
    answer = api.client.post(
        "/v2/files",
        json={"type": "pdf", "purpose": "disputeEvidence"},
        headers={"content-type": "application/json"},
    )
    assert (400, "MissingHeader") == (answer.status_code, answer.json()["reasonCode"])


def test_the_control_filing_refuses_what_the_simulator_refuses() -> None:
    api = Api(TestClient(create_app(make_sim())))
    authorized = checkout(api)["chargeId"]
    assert (422, "InvalidChargeStatus") == error(
        *api.control("/buyer/dispute", {"chargeId": authorized})
    )
    charge_id = _captured(api)
    for body, code in [
        ({"chargeId": charge_id, "filingReason": "Bored"}, "InvalidParameterValue"),
        ({"chargeId": charge_id, "disputeType": "Claim"}, "InvalidParameterValue"),
        ({"chargeId": charge_id, "amount": "40.01"}, "TransactionAmountExceeded"),
        ({"chargeId": "nope"}, "ResourceNotFound"),
        ({}, "MissingParameterValue"),
    ]:
        assert code == error(*api.control("/buyer/dispute", body))[1], body


def test_a_state_file_replays_the_buyers_filing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    api = Api(TestClient(create_app(make_sim(seed="d"), state=path, seed="d")))
    ids = _flow(api)
    restarted = create_app(state=path).state.simulator
    assert (
        cast(Any, api.client.app).state.simulator.state_fingerprint()
        == restarted.state_fingerprint()
    )
    assert "MerchantWon" == restarted.get_dispute(ids["filed"])["statusDetails"]["resolution"]
