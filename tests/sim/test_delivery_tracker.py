"""Create Delivery Tracker, ``POST /v2/deliveryTrackers``.

Amazon Pay API v2, "Delivery Tracker"
(https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html): the body names
the Charge Permission (``chargePermissionId``, required) and ``deliveryDetails``, a list of
``{trackingNumber, carrierCode}``; success is HTTP 200 with the same fields. apfsm stores
nothing: the permission is unchanged, in any state.
"""

from __future__ import annotations

from typing import Any

import pytest

from apfsm import ApiError, Simulator

DETAILS = [{"trackingNumber": "1Z999AA10123456784", "carrierCode": "UPS"}]


def _permission(sim: Simulator) -> str:
    """A Chargeable permission with an Authorized charge (``Simulator.checkout``)."""
    return str(sim.checkout("10")["chargePermissionId"])


def test_answers_the_permission_and_details_and_changes_nothing() -> None:
    sim = Simulator()
    cp = _permission(sim)
    before = sim.get_charge_permission(cp)
    answer = sim.request(
        "create_delivery_tracker", None, {"chargePermissionId": cp, "deliveryDetails": DETAILS}
    )
    assert (200, {"chargePermissionId": cp, "deliveryDetails": DETAILS}) == (
        answer.status,
        answer.body,
    )
    assert before == sim.get_charge_permission(cp)


def test_a_closed_permission_still_takes_tracking() -> None:
    sim = Simulator()
    cp = _permission(sim)
    sim.close_charge_permission(cp, {"closureReason": "shipped"})
    body = {"chargePermissionId": cp, "deliveryDetails": DETAILS}
    assert DETAILS == sim.create_delivery_tracker(body)["deliveryDetails"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"chargePermissionId": "S01-0000000-0000000", "deliveryDetails": DETAILS},
            "ResourceNotFound",
        ),
        ({"deliveryDetails": DETAILS}, "MissingParameterValue"),
        ({"chargePermissionId": "@cp"}, "MissingParameterValue"),
        ({"chargePermissionId": "@cp", "deliveryDetails": DETAILS, "x": 1}, "UnrecognizedField"),
        ({"chargePermissionId": 5, "deliveryDetails": DETAILS}, "InvalidParameterValue"),
        (
            {"chargePermissionId": "@cp", "deliveryDetails": {"carrierCode": "UPS"}},
            "InvalidParameterValue",
        ),
        ({"chargePermissionId": "@cp", "deliveryDetails": ["1Z9"]}, "InvalidParameterValue"),
        ([], "InvalidRequestFormat"),
    ],
)
def test_bad_input_gets_its_code_and_changes_nothing(body: Any, code: str) -> None:
    sim = Simulator()
    cp = _permission(sim)
    if isinstance(body, dict) and body.get("chargePermissionId") == "@cp":
        body = body | {"chargePermissionId": cp}
    before = sim.state_fingerprint()
    with pytest.raises(ApiError) as refused:
        sim.create_delivery_tracker(body)
    assert code == refused.value.reason_code
    assert before == sim.state_fingerprint()
