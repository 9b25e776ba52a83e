"""Request body validation (SPEC §8, §10)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apfsm import BODIES, OPERATIONS, Limits
from apfsm._decide.bodycheck import body_fault
from apfsm._harness.bodies import checkout_session_body

LIMITS = Limits()
USD = {"amount": "10.00", "currencyCode": "USD"}

# SPEC §10, copied by hand: top-level fields per operation (required ones marked *), with
# SPEC §11's additions from the .NET SDK's request types (amzn/amazon-pay-api-sdk-dotnet
# @4c6cbc1, Amazon.Pay.API.SDK/WebStore/CheckoutSession/CreateCheckoutSessionRequest.cs,
# UpdateCheckoutSessionRequest.cs, WebStore/Charge/CreateChargeRequest.cs).
SPEC_FIELDS = {
    "create_checkout_session": "webCheckoutDetails* storeId* chargePermissionType recurringMetadata "
    "paymentDetails merchantMetadata platformId providerMetadata addressDetails "
    "deliverySpecifications scopes paymentMethodOnFileMetadata chargePermissionId "
    "supplementaryData multiAddressesCheckoutMetadata",
    "update_checkout_session": "webCheckoutDetails paymentDetails recurringMetadata merchantMetadata "
    "platformId providerMetadata chargePermissionType supplementaryData "
    "multiAddressesCheckoutMetadata",
    "complete_checkout_session": "chargeAmount* totalOrderAmount",
    "update_charge_permission": "merchantMetadata recurringMetadata",
    "close_charge_permission": "closureReason cancelPendingCharges",
    "create_charge": "chargePermissionId* chargeAmount* captureNow softDescriptor "
    "canHandlePendingAuthorization merchantMetadata providerMetadata chargeInitiator channel "
    "platformId webCheckoutDetails",
    "capture_charge": "captureAmount* softDescriptor",
    "cancel_charge": "cancellationReason",
    "create_refund": "chargeId* refundAmount* softDescriptor",
}

VALID: dict[str, dict[str, Any]] = {
    "create_checkout_session": {
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": "amzn1.application-oa2-client.1",
    },
    "update_checkout_session": {},
    "complete_checkout_session": {"chargeAmount": USD},
    "update_charge_permission": {},
    "close_charge_permission": {},
    "create_charge": {"chargePermissionId": "S01-1234567-1234567", "chargeAmount": USD},
    "capture_charge": {"captureAmount": USD},
    "cancel_charge": {},
    "create_refund": {"chargeId": "S01-1234567-1234567-C1234567", "refundAmount": USD},
    "get_checkout_session": {},
    "get_charge_permission": {},
    "get_charge": {},
    "get_refund": {},
}


def code(operation: str, body: object) -> str | None:
    fault = body_fault(operation, body, LIMITS)
    return None if fault is None else fault[0]


def test_schemas_cover_every_operation_and_match_spec_section_10() -> None:
    assert set(OPERATIONS) == set(BODIES)
    for operation, spec in SPEC_FIELDS.items():
        declared = {f.name + ("*" if f.required else "") for f in BODIES[operation]}
        assert set(spec.split()) == declared, operation
    for operation in ("get_checkout_session", "get_charge_permission", "get_charge", "get_refund"):
        assert () == BODIES[operation]


@pytest.mark.parametrize("operation", sorted(VALID))
def test_minimal_valid_bodies_pass(operation: str) -> None:
    assert None is body_fault(operation, VALID[operation], LIMITS)


@pytest.mark.parametrize("operation", sorted(VALID))
@pytest.mark.parametrize("body", [[], "x", 3, None])
def test_a_body_that_is_not_an_object_is_invalid_request_format(
    operation: str, body: object
) -> None:
    assert "InvalidRequestFormat" == code(operation, body)


def test_full_create_checkout_session_body_passes() -> None:
    body = {
        "webCheckoutDetails": {
            "checkoutReviewReturnUrl": "https://a/r",
            "checkoutResultReturnUrl": "https://a/x",
            "checkoutMode": "ProcessOrder",
        },
        "storeId": "s",
        "chargePermissionType": "Recurring",
        "recurringMetadata": {"frequency": {"unit": "Month", "value": "1"}, "amount": USD},
        "paymentDetails": {
            "paymentIntent": "Authorize",
            "canHandlePendingAuthorization": True,
            "chargeAmount": USD,
            "totalOrderAmount": USD,
            "presentmentCurrency": "USD",
            "softDescriptor": "SHOP",
            "allowOvercharge": False,
            "extendExpiration": True,
        },
        "merchantMetadata": {
            "merchantReferenceId": "o-1",
            "merchantStoreName": "Shop",
            "noteToBuyer": "thanks",
            "customInformation": "x",
        },
        "platformId": "p",
        "providerMetadata": {"anything": {"goes": [1, 2]}},
        "addressDetails": {"name": "A"},
        "deliverySpecifications": {"x": None},
        "scopes": ["name", "email"],
    }
    assert None is body_fault("create_checkout_session", body, LIMITS)


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        # Unknown fields, at the top and nested in declared objects.
        ("capture_charge", {"captureAmount": USD, "note": "x"}, "UnrecognizedField"),
        ("get_charge", {"x": 1}, "UnrecognizedField"),
        ("update_checkout_session", {"paymentDetails": {"chargeAmont": USD}}, "UnrecognizedField"),
        (
            "update_charge_permission",
            {"recurringMetadata": {"frequency": {"unit": "Day", "every": "1"}}},
            "UnrecognizedField",
        ),
        # Missing required fields, and required fields given as null.
        ("capture_charge", {}, "MissingParameterValue"),
        ("create_refund", {"chargeId": "c"}, "MissingParameterValue"),
        ("create_refund", {"chargeId": None, "refundAmount": USD}, "MissingParameterValue"),
        ("create_checkout_session", {"storeId": "s", "webCheckoutDetails": {}}, "MissingParameterValue"),
        # Wrong types and values.
        ("capture_charge", {"captureAmount": {"amount": "1.001", "currencyCode": "USD"}}, "InvalidParameterValue"),
        ("capture_charge", {"captureAmount": "10.00"}, "InvalidParameterValue"),
        ("capture_charge", {"captureAmount": USD, "softDescriptor": "x" * 17}, "InvalidParameterValue"),
        ("create_charge", {**VALID["create_charge"], "captureNow": "true"}, "InvalidParameterValue"),
        ("create_charge", {**VALID["create_charge"], "captureNow": 1}, "InvalidParameterValue"),
        ("create_charge", {**VALID["create_charge"], "chargePermissionId": 5}, "InvalidParameterValue"),
        ("close_charge_permission", {"closureReason": "x" * 256}, "InvalidParameterValue"),
        ("cancel_charge", {"cancellationReason": "x" * 256}, "InvalidParameterValue"),
        ("update_checkout_session", {"paymentDetails": {"paymentIntent": "Capture"}}, "InvalidParameterValue"),
        ("update_checkout_session", {"paymentDetails": {"presentmentCurrency": "XXX"}}, "InvalidParameterValue"),
        ("update_checkout_session", {"paymentDetails": "Authorize"}, "InvalidParameterValue"),
        ("update_checkout_session", {"providerMetadata": "x"}, "InvalidParameterValue"),
        ("create_checkout_session", {**VALID["create_checkout_session"], "scopes": "name"}, "InvalidParameterValue"),
        ("create_checkout_session", {**VALID["create_checkout_session"], "scopes": [1]}, "InvalidParameterValue"),
        ("create_checkout_session", {**VALID["create_checkout_session"], "chargePermissionType": "Monthly"}, "InvalidParameterValue"),
        # Combinations.
        ("create_charge", {**VALID["create_charge"], "softDescriptor": "SHOP"}, "InvalidParameterCombination"),
        ("create_charge", {**VALID["create_charge"], "softDescriptor": "SHOP", "captureNow": False}, "InvalidParameterCombination"),
        (
            "update_checkout_session",
            {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture", "canHandlePendingAuthorization": True}},
            "InvalidParameterCombination",
        ),
    ],
)  # fmt: skip
def test_each_fault_gets_its_spec_code(operation: str, body: dict[str, Any], expected: str) -> None:
    assert expected == code(operation, body)


def test_allowed_combinations_pass() -> None:
    body = {**VALID["create_charge"], "softDescriptor": "SHOP", "captureNow": True}
    assert None is code("create_charge", body)
    details = {"paymentIntent": "AuthorizeWithCapture", "canHandlePendingAuthorization": False}
    assert None is code("update_checkout_session", {"paymentDetails": details})


def test_null_optional_fields_count_as_absent() -> None:
    body = {**VALID["create_charge"], "captureNow": None, "merchantMetadata": None}
    assert None is code("create_charge", body)


def test_update_checkout_session_requires_nothing_nested() -> None:
    assert None is code("update_checkout_session", {"webCheckoutDetails": {}})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # SPEC §8 Decision: the first fault class wins, wherever the faults are.
        ({"captureAmount": "bad", "zzz": 1}, "UnrecognizedField"),
        ({"softDescriptor": 5, "zzz": 1}, "UnrecognizedField"),
        ({"softDescriptor": 5}, "MissingParameterValue"),
        (
            {"captureAmount": {"amount": 1, "currencyCode": "USD"}, "softDescriptor": 5},
            "InvalidParameterValue",
        ),
    ],
)
def test_fault_class_order(body: dict[str, Any], expected: str) -> None:
    assert expected == code("capture_charge", body)


def test_nested_unrecognized_beats_top_level_missing_and_invalid() -> None:
    body = {"webCheckoutDetails": {"checkoutReviewReturnUrl": 5, "bogus": 1}}
    assert "UnrecognizedField" == code("create_checkout_session", body)


def test_the_message_names_the_field_path() -> None:
    fault = body_fault("update_checkout_session", {"paymentDetails": {"chargeAmont": USD}}, LIMITS)
    assert fault is not None
    assert "paymentDetails.chargeAmont" in fault[1]
    fault = body_fault("create_refund", {"chargeId": "c"}, LIMITS)
    assert fault == ("MissingParameterValue", "refundAmount is required")


def test_lengths_come_from_limits() -> None:
    body = {"captureAmount": USD, "softDescriptor": "x" * 20}
    assert "InvalidParameterValue" == code("capture_charge", body)
    assert None is body_fault("capture_charge", body, Limits(soft_descriptor_max_length=22))


def _paths(operation: str) -> list[tuple[str, ...]]:
    """Every declared object path of an operation's schema (where a field can be added)."""
    found: list[tuple[str, ...]] = [()]

    def walk(fields: tuple[Any, ...], prefix: tuple[str, ...]) -> None:
        for field in fields:
            if field.kind == "object":
                found.append((*prefix, field.name))
                walk(field.fields, (*prefix, field.name))

    walk(BODIES[operation], ())
    return found


@given(st.data())
def test_an_unknown_field_at_any_declared_depth_is_unrecognized(data: st.DataObject) -> None:
    operation = data.draw(st.sampled_from(sorted(SPEC_FIELDS)))
    path = data.draw(st.sampled_from(_paths(operation)))
    name = data.draw(st.text(alphabet="abcxyzQ_", min_size=1, max_size=8))
    body: dict[str, Any] = {**VALID[operation]}
    node = body
    for part in path:
        node[part] = dict(node.get(part) or {})
        node = node[part]
    declared = {f.name for f in _fields_at(operation, path)}
    if name in declared:
        return
    node[name] = data.draw(st.one_of(st.none(), st.integers(), st.text(max_size=3)))
    assert "UnrecognizedField" == code(operation, body)


def _fields_at(operation: str, path: tuple[str, ...]) -> tuple[Any, ...]:
    fields = BODIES[operation]
    for part in path:
        fields = next(f for f in fields if f.name == part).fields
    return fields


@pytest.mark.parametrize("kind", ["OneTime", "Recurring", "PaymentMethodOnFile"])
def test_the_realistic_session_body_is_valid(kind: str) -> None:
    details = {"paymentIntent": "Authorize", "chargeAmount": USD}
    body = checkout_session_body(details, kind=kind, store_id="store-1")
    assert None is body_fault("create_checkout_session", body, LIMITS)
    assert ("recurringMetadata" in body) == (kind != "OneTime")
    body["paymentDetails"]["paymentIntent"] = "Confirm"
    assert "Authorize" == details["paymentIntent"]  # the caller's details are not shared


# ---------------------------------------------------------------------------------------
# JSON-number amounts (SPEC §1 rev 2): normalise_body makes them strings
# ---------------------------------------------------------------------------------------


def test_normalise_body_makes_amounts_and_counts_strings() -> None:
    from decimal import Decimal

    from apfsm._decide.bodycheck import normalise_body

    body: dict[str, Any] = {
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": "s",
        "chargePermissionType": "Recurring",
        "recurringMetadata": {
            "frequency": {"unit": "Month", "value": 1},
            "amount": {"amount": Decimal("12.99"), "currencyCode": "EUR"},
        },
        "paymentDetails": {"chargeAmount": {"amount": 99, "currencyCode": "EUR"}},
        "providerMetadata": {"n": Decimal("1.5"), "m": Decimal("2"), "l": [Decimal("3.25")]},
    }
    out = normalise_body("create_checkout_session", body)
    assert out["recurringMetadata"] == {
        "frequency": {"unit": "Month", "value": "1"},
        "amount": {"amount": "12.99", "currencyCode": "EUR"},
    }
    assert out["paymentDetails"]["chargeAmount"] == {"amount": "99", "currencyCode": "EUR"}
    # Other JSON numbers: int when integral, else float (documented in docs/validator.md).
    assert out["providerMetadata"] == {"n": 1.5, "m": 2, "l": [3.25]}
    assert type(out["providerMetadata"]["m"]) is int
    # The caller's body is not changed; an unchanged part is the same object.
    assert body["paymentDetails"]["chargeAmount"]["amount"] == 99
    assert out["webCheckoutDetails"] is body["webCheckoutDetails"]
    plain = {"captureAmount": {"amount": "1.00", "currencyCode": "USD"}}
    assert normalise_body("capture_charge", plain) is plain
    assert None is body_fault("create_checkout_session", out, LIMITS)


@pytest.mark.parametrize("amount", [True, None, [1], 0.30000000000000004, -1, 0])
def test_normalise_body_leaves_what_is_no_amount_to_body_fault(amount: object) -> None:
    from apfsm._decide.bodycheck import normalise_body

    body = {"captureAmount": {"amount": amount, "currencyCode": "USD"}}
    fault = body_fault("capture_charge", normalise_body("capture_charge", body), LIMITS)
    assert fault is not None
    assert "InvalidParameterValue" == fault[0]


def test_body_fault_takes_numeric_amounts_and_counts_as_the_validator() -> None:
    # apfsm.check sees bodies as the caller wrote them: numbers are judged by their text.
    from decimal import Decimal

    import apfsm
    from tests.simhelpers import T0

    body = {"captureAmount": {"amount": 12.99, "currencyCode": "USD"}}
    assert None is body_fault("capture_charge", body, LIMITS)
    body = {"captureAmount": {"amount": Decimal("12.990000000000000001"), "currencyCode": "USD"}}
    assert ("InvalidParameterValue",) == body_fault("capture_charge", body, LIMITS)[:1]  # type: ignore[index]
    update = {"recurringMetadata": {"frequency": {"unit": "Month", "value": 2}}}
    assert None is body_fault("update_charge_permission", update, LIMITS)
    update = {"recurringMetadata": {"frequency": {"unit": "Month", "value": 2.5}}}
    assert "InvalidParameterValue" == body_fault("update_charge_permission", update, LIMITS)[0]  # type: ignore[index]
    session = {
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": "s",
        "paymentDetails": {
            "paymentIntent": "Authorize",
            "chargeAmount": {"amount": 50, "currencyCode": "USD"},
        },
    }
    assert apfsm.check("create_checkout_session", None, body=session, at=T0).ok


# ---------------------------------------------------------------------------------------
# SPEC §11: request fields of the official SDKs' request types
# (amzn/amazon-pay-api-sdk-dotnet @4c6cbc1, under Amazon.Pay.API.SDK/)
# ---------------------------------------------------------------------------------------

_REVIEW = {"checkoutReviewReturnUrl": "https://shop.example/review"}
_EUR = {"amount": 12.99, "currencyCode": "EUR"}


def test_create_checkout_session_takes_the_dotnet_sdks_fields() -> None:
    # WebStore/CheckoutSession/CreateCheckoutSessionRequest.cs (paymentMethodOnFileMetadata,
    # chargePermissionId) and what it inherits from UpdateCheckoutSessionRequest.cs
    # (supplementaryData, multiAddressesCheckoutMetadata); WebStore/Types/WebCheckoutDetails.cs
    # (checkoutCancelUrl); WebStore/Types/PaymentDetails.cs (estimateOrderTotal);
    # WebStore/Types/MultiAddressesCheckoutMetadata.cs ({addressId, price}).
    body = {
        "webCheckoutDetails": {**_REVIEW, "checkoutCancelUrl": "https://shop.example/cancel"},
        "storeId": "s",
        "chargePermissionType": "PaymentMethodOnFile",
        "paymentMethodOnFileMetadata": {"setupOnly": True},
        "chargePermissionId": "S01-1234567-1234567",
        "supplementaryData": '{"k":"v"}',
        "multiAddressesCheckoutMetadata": [
            {"addressId": "a1", "price": _EUR},
            {"addressId": "a2", "price": {"amount": "1.00", "currencyCode": "EUR"}},
        ],
        "paymentDetails": {"paymentIntent": "Confirm", "estimateOrderTotal": _EUR},
    }
    assert None is body_fault("create_checkout_session", body, LIMITS)


def test_update_checkout_session_takes_the_dotnet_sdks_fields() -> None:
    # WebStore/CheckoutSession/UpdateCheckoutSessionRequest.cs
    body = {
        "webCheckoutDetails": {"checkoutCancelUrl": "https://shop.example/cancel"},
        "chargePermissionType": "Recurring",
        "supplementaryData": "x",
        "multiAddressesCheckoutMetadata": [{"addressId": "a1", "price": _EUR}],
        "paymentDetails": {"estimateOrderTotal": _EUR},
    }
    assert None is body_fault("update_checkout_session", body, LIMITS)


def test_create_charge_takes_platform_id_and_web_checkout_details() -> None:
    # WebStore/Charge/CreateChargeRequest.cs: platformId; webCheckoutDetails with only
    # checkoutResultReturnUrl (its constructor's fourth argument).
    body = {
        "chargePermissionId": "S01-1234567-1234567",
        "chargeAmount": _EUR,
        "platformId": "p",
        "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
    }
    assert None is body_fault("create_charge", body, LIMITS)
    body["webCheckoutDetails"] = {"checkoutReviewReturnUrl": "https://shop.example/review"}
    assert "UnrecognizedField" == body_fault("create_charge", body, LIMITS)[0]  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "code", "where"),
    [
        ("x", "InvalidParameterValue", "multiAddressesCheckoutMetadata must be a list"),
        (["x"], "InvalidParameterValue", "multiAddressesCheckoutMetadata[0] must be an object"),
        ([{"addressId": 5}], "InvalidParameterValue", "[0].addressId must be a string"),
        (
            [{"price": {"amount": "1.001", "currencyCode": "USD"}}],
            "InvalidParameterValue",
            "[0].price",
        ),
        ([{"addressId": "a"}, {"nope": 1}], "UnrecognizedField", "[1].nope"),
    ],
)
def test_a_list_of_objects_is_checked_item_by_item(value: object, code: str, where: str) -> None:
    body = {"multiAddressesCheckoutMetadata": value}
    fault = body_fault("update_checkout_session", body, LIMITS)
    assert fault is not None
    assert code == fault[0]
    assert where in fault[1]


@pytest.mark.parametrize("option", ["allowOvercharge", "extendExpiration"])
def test_creation_only_options_are_unrecognized_on_update(option: str) -> None:
    # SPEC §11, Amazon's "Advanced one-time payment options" page
    # (https://developer.amazon.com/docs/amazon-pay-checkout/advanced-one-time-payment-options.html):
    # allowOvercharge / extendExpiration can be set only when the session is created. The
    # page names no error code: Decision — the update's paymentDetails has no such field,
    # so it is UnrecognizedField (docs/validator.md).
    create = {
        "webCheckoutDetails": _REVIEW,
        "storeId": "s",
        "paymentDetails": {option: True},
    }
    assert None is body_fault("create_checkout_session", create, LIMITS)
    fault = body_fault("update_checkout_session", {"paymentDetails": {option: True}}, LIMITS)
    assert fault is not None
    assert (
        "UnrecognizedField",
        f"paymentDetails.{option} is not a field this operation accepts",
    ) == fault
