"""Update Charge, ``PATCH /v2/charges/{chargeId}`` (payment service providers).

Amazon Pay Node SDK (amzn/amazon-pay-api-sdk-nodejs): ``src/client.js`` ``updateCharge``
sends a PATCH to ``v2/charges/{chargeId}``; ``tst/webStoreClientTest.js`` sends
``updateChargePayload`` = ``{"statusDetails": {"state": "Canceled", "reasonCode":
"ExpiredUnused"}}`` and expects 200 with the Charge. apfsm's Decision (docs/charge.md):
only ``Canceled`` is accepted, on a cancelable charge, with cancel_charge's effects.
"""

from __future__ import annotations

from typing import Any

import pytest

from apfsm import ApiError, Simulator, check

PAYLOAD = {"statusDetails": {"state": "Canceled", "reasonCode": "ExpiredUnused"}}


def _charge(sim: Simulator) -> tuple[str, str]:
    """An Authorized charge and its permission (a whole checkout, ``Simulator.checkout``)."""
    done = sim.checkout("10")
    return str(done["chargeId"]), str(done["chargePermissionId"])


def test_the_sdk_payload_cancels_an_authorized_charge() -> None:
    sim = Simulator()
    charge_id, _ = _charge(sim)
    sent = len(sim.notifications)
    answer = sim.request("update_charge", charge_id, PAYLOAD)
    assert (200, "Canceled", "ExpiredUnused") == (
        answer.status,
        answer.body["statusDetails"]["state"],
        answer.body["statusDetails"]["reasonCode"],
    )
    assert charge_id == answer.body["chargeId"]
    assert answer.body == sim.get_charge(charge_id)
    assert len(sim.notifications) > sent  # the IPN, as for cancel_charge


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"statusDetails": {"state": "Canceled"}}, "ExpiredUnused"),  # the default
        ({"statusDetails": {"state": "Canceled", "reasonCode": "BuyerCanceled"}}, "BuyerCanceled"),
    ],
)
def test_the_reason_comes_from_the_body(body: dict[str, Any], reason: str) -> None:
    sim = Simulator()
    charge_id, _ = _charge(sim)
    assert reason == sim.update_charge(charge_id, body)["statusDetails"]["reasonCode"]


def test_it_has_cancel_charges_effect_on_the_permission() -> None:
    canceled, updated = Simulator(), Simulator()
    first, cp1 = _charge(canceled)
    second, cp2 = _charge(updated)
    canceled.cancel_charge(first, {})
    updated.update_charge(second, PAYLOAD)
    before = canceled.get_charge_permission(cp1)["statusDetails"]["state"]
    after = updated.get_charge_permission(cp2)["statusDetails"]["state"]
    assert before == after


def test_a_charge_past_cancelation_is_invalid_charge_status_and_unchanged() -> None:
    sim = Simulator()
    charge_id, _ = _charge(sim)
    sim.capture_charge(charge_id, {"captureAmount": {"amount": "10", "currencyCode": "USD"}})
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        sim.update_charge(charge_id, PAYLOAD)
    assert ("InvalidChargeStatus", 422) == (refused.value.reason_code, refused.value.http_status)
    assert before == sim.state_fingerprint()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"statusDetails": {"state": "Captured"}}, "InvalidParameterValue"),
        ({"statusDetails": {"state": "Authorized"}}, "InvalidParameterValue"),
        ({"statusDetails": {"state": "Canceled", "reasonCode": "Nope"}}, "InvalidParameterValue"),
        ({"statusDetails": {"state": 5}}, "InvalidParameterValue"),
        ({"statusDetails": "Canceled"}, "InvalidParameterValue"),
        ({"statusDetails": {"reasonCode": "ExpiredUnused"}}, "MissingParameterValue"),
        ({}, "MissingParameterValue"),
        ({"statusDetails": {"state": "Canceled"}, "x": 1}, "UnrecognizedField"),
        ([], "InvalidRequestFormat"),
    ],
)
def test_bad_bodies_get_their_code_and_change_nothing(body: Any, code: str) -> None:
    sim = Simulator()
    charge_id, _ = _charge(sim)
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        sim.update_charge(charge_id, body)
    assert code == refused.value.reason_code
    assert before == sim.state_fingerprint()


def test_unknown_charge_is_resource_not_found() -> None:
    with pytest.raises(ApiError) as refused:
        Simulator().update_charge("S01-0000000-0000000-C000001", PAYLOAD)
    assert "ResourceNotFound" == refused.value.reason_code


def test_the_validator_knows_update_charge() -> None:
    sim = Simulator()
    charge_id, _ = _charge(sim)
    charge, at = sim.get_charge(charge_id), sim.now()
    assert "Canceled" == check("update_charge", charge, body=PAYLOAD, at=at).next_state
    assert "Canceled" == check("update_charge", charge, at=at).next_state  # without a body
    wrong = {"statusDetails": {"state": "Captured"}}
    assert "InvalidParameterValue" == check("update_charge", charge, body=wrong, at=at).reason_code
    captured = dict(charge, statusDetails=dict(charge["statusDetails"], state="Captured"))
    refused = check("update_charge", captured, body=PAYLOAD, at=at)
    assert "InvalidChargeStatus" == refused.reason_code
