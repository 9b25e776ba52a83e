"""``apfsm.advise`` (issue 15 part 3): the advice for an error, a predicted refusal, an
error body or an object's JSON; nothing for what needs nothing; never an exception on
JSON it does not know."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

import apfsm
from apfsm import ApiError, Outcome, advise

AT = datetime(2026, 1, 2, tzinfo=UTC)


def _charge(state: str, reason: str | None) -> dict[str, object]:
    return {
        "chargeId": "S01-1111111-1111111-C1111111",
        "chargePermissionId": "S01-1111111-1111111",
        "statusDetails": {"state": state, "reasonCode": reason},
    }


def test_an_error_gets_its_codes_advice() -> None:
    advice = advise(ApiError.from_code("HardDeclined"))
    assert advice is not None
    assert (advice.code, advice.retry, advice.resolution) == ("HardDeclined", False, "buyer")
    assert (
        advice is advise("HardDeclined") is advise({"reasonCode": "HardDeclined", "message": "x"})
    )


def test_a_predicted_refusal_gets_advice_and_an_acceptance_none() -> None:
    authorized = {
        "chargeId": "S01-1111111-1111111-C1111111",
        "chargePermissionId": "S01-1111111-1111111",
        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
        "statusDetails": {"state": "Authorized", "lastUpdatedTimestamp": "20260101T000000Z"},
        "creationTimestamp": "20260101T000000Z",
        "expirationTimestamp": "20260131T000000Z",
    }
    refused = apfsm.check(
        "cancel_charge", {**authorized, "statusDetails": {"state": "Captured"}}, at=AT
    )
    advice = advise(refused)
    assert advice is not None
    assert refused.reason_code == advice.code == "InvalidChargeStatus"
    assert (advice.resolution, advice.affects, advice.retry) == ("merchant", "integration", False)
    assert advise(apfsm.check("get_charge", authorized, at=AT)) is None
    assert advise(Outcome("Captured")) is None


def test_objects_say_what_their_state_asks() -> None:
    soft = advise(_charge("Declined", "SoftDeclined"))
    assert soft is not None
    assert soft.retry
    assert len(soft.backoff) == 3
    assert advise(_charge("Captured", None)) is None
    assert advise(_charge("Authorized", None)) is None
    flagged = advise(_charge("Authorized", "StopShipmentAtypicalAuth"))
    assert flagged is not None
    assert "hold the shipment" in flagged.action
    lapsed = advise(_charge("Canceled", "ExpiredUnused"))
    assert lapsed is not None
    assert "authorize again" in lapsed.action
    permission = {
        "chargePermissionId": "S01-1111111-1111111",
        "statusDetails": {"state": "NonChargeable", "reasonCode": "PaymentMethodExpired"},
    }
    expired = advise(permission)
    assert expired is not None
    assert expired.resolution == "buyer"
    assert expired.tell_buyer
    refund = {
        "refundId": "S01-1111111-1111111-R1111111",
        "chargeId": "S01-1111111-1111111-C1111111",
        "statusDetails": {"state": "Declined", "reasonCode": "AmazonRejected"},
    }
    refund_advice = advise(refund)
    assert refund_advice is not None
    assert refund_advice.affects == "refund"
    session = {"statusDetails": {"state": "Canceled", "reasonCode": "BuyerCanceled"}}
    assert advise(session) is None  # no id field: the type is unknown...
    told = advise(session, object_type="CHECKOUT_SESSION")  # ...unless told, in any spelling
    assert told is not None
    assert "new checkout" in told.action


def test_an_unknown_code_gets_cautious_advice() -> None:
    # Amazon adds codes over time (SPEC §1): advice that says so, not an exception.
    advice = advise("SomethingNew")
    assert advice is not None
    assert (advice.retry, advice.resolution) == (False, "merchant")
    assert "does not know" in advice.action


def test_wrong_arguments_say_so() -> None:
    with pytest.raises(TypeError, match="advise\\(\\) takes"):
        advise(42)
    with pytest.raises(ValueError, match="unknown object type"):
        advise({"statusDetails": {}}, object_type="Invoice")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "chargeId": JSON,
        "refundId": JSON,
        "chargePermissionId": JSON,
        "checkoutSessionId": JSON,
        "reasonCode": JSON,
        "statusDetails": JSON
        | st.fixed_dictionaries({}, optional={"state": JSON, "reasonCode": JSON}),
    },
)


@given(st.one_of(JSON, FIELDS))
def test_any_json_gets_advice_or_none(value: object) -> None:
    json.dumps(value)  # what an API could send
    if isinstance(value, dict | str):
        result = advise(value)
        assert result is None or isinstance(result, apfsm.Advice)
    else:
        with pytest.raises(TypeError):
            advise(value)
