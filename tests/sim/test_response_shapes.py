"""Response shapes (SPEC §11): every object carries every key Amazon returns, ``null`` when
unset, Amazon's types, and no request-only field.

Source of the key lists: Amazon's own sandbox test, repo ``amzn/amazon-pay-api-sdk-nodejs``
at commit 3cb7ac1383ec60c5f0764d8ea42bc9daff9fe968, path ``tst/webStoreClientTest.js``:

- suite "WebStore Client Test Cases - Checkout Session APIs", ``expectedResponse``
  (lines 280–309), compared with ``assert.deepStrictEqual(Object.keys(expectedResponse),
  Object.keys(actualResponse))`` (lines 329, 393): the exact keys, in order;
- suite "WebStore Client Test Cases - Charge Permission APIs", ``expectedResponseKeys``
  (line 471), a presence check (``hasOwnProperty``);
- suite "WebStore Client Test Cases - Charge APIs", ``expectedResponseKeys`` (line 527),
  presence;
- suite "WebStore Client Test Cases - Refund APIs", ``expectedResponseKeys`` (line 632),
  presence.

The lists below are copied from there by hand (not imported from apfsm).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apfsm import OPERATIONS, ApiError, Limits, Simulator
from tests.simhelpers import DAY, S, checkout, make_sim, price, session_body, state

# -- Amazon's key lists (Node SDK test, see the module docstring) ------------------------

#: lines 280–309: exact, in this order.
NODE_CHECKOUT_SESSION_KEYS = [
    "checkoutSessionId",
    "webCheckoutDetails",
    "productType",
    "paymentDetails",
    "chargePermissionType",
    "orderType",
    "recurringMetadata",
    "paymentMethodOnFileMetadata",
    "merchantDetails",
    "merchantMetadata",
    "supplementaryData",
    "buyer",
    "billingAddress",
    "paymentPreferences",
    "statusDetails",
    "shippingAddress",
    "platformId",
    "chargePermissionId",
    "chargeId",
    "constraints",
    "creationTimestamp",
    "expirationTimestamp",
    "storeId",
    "providerMetadata",
    "releaseEnvironment",
    "checkoutButtonText",
    "deliverySpecifications",
    "tokens",
]
#: line 471, verbatim — including the test's stray colon in "chargePermissionReferenceId:"
#: (a key no JSON object can be meant to have; apfsm returns chargePermissionReferenceId).
NODE_CHARGE_PERMISSION_KEYS_VERBATIM = [
    "chargePermissionId",
    "chargePermissionReferenceId:",
    "platformId",
    "buyer",
    "shippingAddress",
    "billingAddress",
    "paymentPreferences",
    "statusDetails",
    "creationTimestamp",
    "expirationTimestamp",
    "merchantMetadata",
    "releaseEnvironment",
    "limits",
    "chargePermissionType",
    "recurringMetadata",
    "presentmentCurrency",
]
NODE_CHARGE_PERMISSION_KEYS = [k.rstrip(":") for k in NODE_CHARGE_PERMISSION_KEYS_VERBATIM]
#: line 527.
NODE_CHARGE_KEYS = [
    "chargeId",
    "chargeAmount",
    "chargePermissionId",
    "captureAmount",
    "refundedAmount",
    "softDescriptor",
    "providerMetadata",
    "convertedAmount",
    "conversionRate",
    "channel",
    "chargeInitiator",
    "statusDetails",
    "creationTimestamp",
    "expirationTimestamp",
    "releaseEnvironment",
    "merchantMetadata",
    "platformId",
    "webCheckoutDetails",
]
#: line 632.
NODE_REFUND_KEYS = [
    "refundId",
    "chargeId",
    "creationTimestamp",
    "refundAmount",
    "statusDetails",
    "softDescriptor",
    "releaseEnvironment",
]

# -- apfsm's own exact expectations ----------------------------------------------------

#: apfsm returns exactly Amazon's lists (in the Node test's order): nothing more.
EXACT = {
    "CheckoutSession": NODE_CHECKOUT_SESSION_KEYS,
    "ChargePermission": NODE_CHARGE_PERMISSION_KEYS,
    "Charge": NODE_CHARGE_KEYS,
    "Refund": NODE_REFUND_KEYS,
}
NODE = {
    "ChargePermission": NODE_CHARGE_PERMISSION_KEYS,
    "Charge": NODE_CHARGE_KEYS,
    "Refund": NODE_REFUND_KEYS,
}
#: SPEC §11: paymentDetails always lists these.
PAYMENT_DETAILS_KEYS = [
    "paymentIntent",
    "canHandlePendingAuthorization",
    "chargeAmount",
    "totalOrderAmount",
    "softDescriptor",
    "presentmentCurrency",
    "allowOvercharge",
    "extendExpiration",
]
WEB_CHECKOUT_DETAILS_KEYS = [
    "checkoutReviewReturnUrl",
    "checkoutResultReturnUrl",
    "checkoutCancelUrl",
    "amazonPayRedirectUrl",
    "checkoutMode",
]
BUYER_KEYS = ["buyerId", "name", "email", "phoneNumber", "primeMembershipTypes"]
ADDRESS_KEYS = [
    "name",
    "addressLine1",
    "addressLine2",
    "addressLine3",
    "city",
    "county",
    "district",
    "stateOrRegion",
    "postalCode",
    "countryCode",
    "phoneNumber",
]
#: Request-only fields: never in a response (SPEC §11).
REQUEST_ONLY = {"addressDetails", "scopes", "captureNow", "canHandlePendingAuthorization"}

TIMESTAMP = re.compile(r"\d{8}T\d{6}Z")
AMOUNT = re.compile(r"\d+(\.\d+)?")


def assert_shape(object_type: str, body: dict[str, Any]) -> None:
    """The object's keys: exactly apfsm's list in order, Amazon's list among them."""
    assert EXACT[object_type] == list(body), object_type
    if object_type in NODE:
        missing = [k for k in NODE[object_type] if k not in body]
        assert [] == missing, object_type
    assert not REQUEST_ONLY & (set(body) - {"paymentDetails"})
    for key, value in body.items():
        if key.endswith("Timestamp"):
            assert value is None or TIMESTAMP.fullmatch(value), (key, value)
        if key.endswith("Amount") and value is not None:
            assert {"amount", "currencyCode"} == set(value), (key, value)
            assert isinstance(value["amount"], str), (key, value)
            assert AMOUNT.fullmatch(value["amount"]), (key, value)
    timestamp = body["statusDetails"].get("lastUpdatedTimestamp")
    assert TIMESTAMP.fullmatch(timestamp)


def assert_session(body: dict[str, Any]) -> None:
    assert_shape("CheckoutSession", body)
    assert PAYMENT_DETAILS_KEYS == list(body["paymentDetails"])
    assert WEB_CHECKOUT_DETAILS_KEYS == list(body["webCheckoutDetails"])
    signed_in = body["buyer"] is not None
    for key in ("billingAddress", "shippingAddress", "paymentPreferences"):
        assert signed_in == (body[key] is not None), key
    if signed_in:
        assert BUYER_KEYS == list(body["buyer"])
        assert ADDRESS_KEYS == list(body["shippingAddress"])
        assert ADDRESS_KEYS == list(body["billingAddress"])
        assert [["paymentDescriptor"]] == [list(p) for p in body["paymentPreferences"]]


def assert_permission(body: dict[str, Any]) -> None:
    assert_shape("ChargePermission", body)
    assert None is body["chargePermissionReferenceId"]
    assert ADDRESS_KEYS == list(body["shippingAddress"])
    assert ADDRESS_KEYS == list(body["billingAddress"])
    if body["buyer"] is not None:
        assert BUYER_KEYS == list(body["buyer"])


CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "CheckoutSession": assert_session,
    "ChargePermission": assert_permission,
    "Charge": lambda body: assert_shape("Charge", body),
    "Refund": lambda body: assert_shape("Refund", body),
}


def assert_all_objects(sim: Simulator) -> set[tuple[str, str]]:
    """Every stored object's JSON has its shape; returns the (type, state) pairs seen."""
    seen = set()
    for object_id in sim.object_ids():
        object_type = sim.object_type(object_id)
        assert object_type is not None
        body = sim.object_json(object_id)
        assert body is not None
        CHECKS[object_type](body)
        seen.add((object_type, state(body)))
    return seen


# -- the shapes through a normal flow ---------------------------------------------------


def test_the_node_lists_are_amazons_with_the_one_typo() -> None:
    assert 28 == len(NODE_CHECKOUT_SESSION_KEYS) == len(set(NODE_CHECKOUT_SESSION_KEYS))
    assert ["chargePermissionReferenceId:"] == [
        k for k in NODE_CHARGE_PERMISSION_KEYS_VERBATIM if k.endswith(":")
    ]
    assert "addressDetails" not in NODE_CHECKOUT_SESSION_KEYS
    assert "scopes" not in NODE_CHECKOUT_SESSION_KEYS


def test_every_answer_of_a_normal_flow_has_amazons_keys() -> None:
    sim = make_sim()
    created = sim.create_checkout_session(session_body())
    assert_session(created)
    sid = created["checkoutSessionId"]
    assert None is created["buyer"]
    assert_session(sim.get_checkout_session(sid))
    updated = sim.update_checkout_session(
        sid, {"merchantMetadata": {"merchantReferenceId": "order-1"}}
    )
    assert_session(updated)
    assert {
        "merchantReferenceId": "order-1",
        "merchantStoreName": None,
        "noteToBuyer": None,
        "customInformation": None,
    } == updated["merchantMetadata"]
    assert_session(sim.buyer_approve(sid))
    done = sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
    assert_session(done)
    permission = sim.get_charge_permission(done["chargePermissionId"])
    assert_permission(permission)
    charge = sim.get_charge(done["chargeId"])
    assert_shape("Charge", charge)
    captured = sim.capture_charge(done["chargeId"], {"captureAmount": price("60.00")})
    assert_shape("Charge", captured)
    assert_permission(sim.get_charge_permission(done["chargePermissionId"]))
    refund = sim.create_refund({"chargeId": done["chargeId"], "refundAmount": price("10.00")})
    assert_shape("Refund", refund)
    sim.advance(DAY)
    assert_shape("Refund", sim.get_refund(refund["refundId"]))
    assert_permission(sim.close_charge_permission(done["chargePermissionId"], {}))
    assert {
        ("CheckoutSession", "Completed"),
        ("ChargePermission", "Closed"),
        ("Charge", "Captured"),
        ("Refund", "Refunded"),
    } == assert_all_objects(sim)


def test_objects_in_their_other_states_have_the_same_keys() -> None:
    sim = make_sim()
    sim.create_checkout_session(session_body())  # Open, nobody signed in
    canceled = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.buyer_cancel(canceled)
    checkout(sim, card="0701", pending=True)  # AuthorizationInitiated
    declined = checkout(sim)
    sim.payment_method_problem(declined["chargePermissionId"], "PaymentMethodInvalid")
    cp = checkout(sim, kind="Recurring", amount="10.00")["chargePermissionId"]
    sim.create_charge({"chargePermissionId": cp, "chargeAmount": price("5.00")})
    to_cancel = checkout(sim)["chargeId"]
    sim.cancel_charge(to_cancel, {"cancellationReason": "out of stock"})
    with pytest.raises(ApiError):
        checkout(sim, card="3434")  # the card declines at completion: session Canceled
    refunded = checkout(sim)["chargeId"]
    sim.capture_charge(refunded, {"captureAmount": price("100.00")})
    sim.create_refund({"chargeId": refunded, "refundAmount": price("1.00")})
    seen = assert_all_objects(sim)
    assert {
        ("CheckoutSession", "Open"),
        ("CheckoutSession", "Canceled"),
        ("CheckoutSession", "Completed"),
        ("ChargePermission", "Chargeable"),
        ("ChargePermission", "NonChargeable"),
        ("Charge", "AuthorizationInitiated"),
        ("Charge", "Authorized"),
        ("Charge", "Canceled"),
        ("Charge", "Captured"),
        ("Refund", "RefundInitiated"),
    } <= seen
    sim.advance(40 * DAY)  # sessions Expired/deleted, the pending charge resolved, ...
    assert_all_objects(sim)


def test_unset_fields_are_null_and_request_only_fields_are_not_echoed() -> None:
    sim = make_sim()
    body = {
        **session_body(),
        "addressDetails": {"name": "A"},
        "scopes": ["name", "email"],
        "platformId": "SPId",
        "providerMetadata": {"providerReferenceId": "p-1"},
        "deliverySpecifications": {"specialRestrictions": ["RestrictPOBoxes"]},
    }
    created = sim.create_checkout_session(body)
    assert_session(created)
    assert "SPId" == created["platformId"]
    assert {"providerReferenceId": "p-1"} == created["providerMetadata"]
    assert {"specialRestrictions": ["RestrictPOBoxes"]} == created["deliverySpecifications"]
    for key in (
        "productType",
        "orderType",
        "paymentMethodOnFileMetadata",
        "merchantDetails",
        "merchantMetadata",
        "supplementaryData",
        "checkoutButtonText",
        "tokens",
        "chargePermissionId",
        "chargeId",
    ):
        assert None is created[key], key
    details = created["paymentDetails"]
    assert {"amount": "100.00", "currencyCode": "USD"} == details["chargeAmount"]
    assert "USD" == details["presentmentCurrency"]
    for key in ("canHandlePendingAuthorization", "totalOrderAmount", "softDescriptor"):
        assert None is details[key], key
    assert (None, None) == (details["allowOvercharge"], details["extendExpiration"])
    web = created["webCheckoutDetails"]
    assert (None, None) == (web["checkoutCancelUrl"], web["checkoutMode"])


def test_a_charge_has_no_request_only_field_and_null_metadata() -> None:
    sim = make_sim()
    cp = checkout(sim, kind="Recurring", amount="10.00")["chargePermissionId"]
    charge = sim.create_charge(
        {
            "chargePermissionId": cp,
            "chargeAmount": price("5.00"),
            "captureNow": True,
            "canHandlePendingAuthorization": False,
        }
    )
    assert_shape("Charge", charge)
    for key in ("merchantMetadata", "providerMetadata", "platformId", "webCheckoutDetails"):
        assert None is charge[key], key
    assert (None, None) == (charge["convertedAmount"], charge["conversionRate"])
    assert {"amount": "0.00", "currencyCode": "USD"} == charge["refundedAmount"]


# -- the buyer and the addresses ---------------------------------------------------------


def test_the_buyer_and_addresses_appear_when_the_buyer_signs_in_and_are_deterministic() -> None:
    def approved() -> tuple[dict[str, Any], dict[str, Any]]:
        sim = make_sim(seed=7)  # ids come from the seed (SPEC §1), the buyer from the id
        sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
        before = sim.get_checkout_session(sid)
        assert (None, None, None, None) == (
            before["buyer"],
            before["shippingAddress"],
            before["billingAddress"],
            before["paymentPreferences"],
        )
        session = sim.buyer_approve(sid)
        done = sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
        return session, sim.get_charge_permission(done["chargePermissionId"])

    session, permission = approved()
    assert session["buyer"]["buyerId"].startswith("amzn1.account.")  # Node test line 268
    assert [{"paymentDescriptor": "Visa ****1111"}] == session["paymentPreferences"]
    assert "US" == session["shippingAddress"]["countryCode"]
    # The permission carries the session's buyer and addresses.
    for key in ("buyer", "shippingAddress", "billingAddress", "paymentPreferences"):
        assert session[key] == permission[key], key
    # Same seed, same clock, same calls: the same values.
    assert (session, permission) == approved()
    other = make_sim(seed=8)
    sid = other.create_checkout_session(session_body())["checkoutSessionId"]
    assert other.buyer_approve(sid)["buyer"]["buyerId"] != session["buyer"]["buyerId"]


def test_a_one_time_permission_shows_its_buyer_for_30_days() -> None:
    """SPEC §11: buyer details of a one-time permission only in the first 30 days; the
    boundary as SPEC §2's time limits (passed at t0 + L, ``ttl_passed_at_deadline``)."""
    retention = Limits().buyer_details_retention
    assert timedelta(days=30) == retention
    sim = make_sim()
    done = checkout(sim)
    cp = done["chargePermissionId"]
    sim.advance(retention - S)
    assert None is not sim.get_charge_permission(cp)["buyer"]
    sim.advance(S)
    at_limit = sim.get_charge_permission(cp)
    assert None is at_limit["buyer"]
    assert_permission(at_limit)  # the key stays, null
    assert None is not at_limit["shippingAddress"]
    sim.advance(S)
    assert None is sim.get_charge_permission(cp)["buyer"]
    assert None is sim.object_json(cp)["buyer"]  # type: ignore[index]


def test_the_buyer_boundary_follows_the_ttl_decision_and_the_limit_is_overridable() -> None:
    limits = Limits(buyer_details_retention=DAY, ttl_passed_at_deadline=False)
    sim = make_sim(limits=limits)
    cp = checkout(sim)["chargePermissionId"]
    sim.advance(DAY)
    assert None is not sim.get_charge_permission(cp)["buyer"]  # only at t > t0 + L
    sim.advance(S)
    assert None is sim.get_charge_permission(cp)["buyer"]


def test_a_recurring_permission_keeps_its_buyer() -> None:
    sim = make_sim()
    cp = checkout(sim, kind="Recurring", amount="10.00")["chargePermissionId"]
    sim.advance(31 * DAY)
    body = sim.get_charge_permission(cp)
    assert "Chargeable" == state(body)
    assert None is not body["buyer"]


@pytest.mark.parametrize("kind", ["Recurring", "PaymentMethodOnFile"])
def test_a_recurring_permission_shows_its_buyer_for_30_days_after_closing(kind: str) -> None:
    """https://developer.amazon.com/docs/amazon-pay-api-v2/charge-permission.html: "For
    recurring Charge Permissions, you can retrieve buyer details while the Charge
    Permission is in an Open State or for up to 30 days after the Charge Permission is
    closed." A Saved Wallet permission like a recurring one (Decision, docs/limits.md).
    Closed 40 days after creation, so the one-time rule (30 days from creation) would
    already have dropped it; the boundary as SPEC §2's time limits."""
    sim = make_sim()
    cp = checkout(sim, kind=kind, amount="10.00")["chargePermissionId"]
    sim.advance(40 * DAY)
    cursor = sim.watch()
    sim.close_charge_permission(cp, {"closureReason": "subscription ended"})
    assert cp in cursor.take()
    retention = Limits().buyer_details_retention
    sim.advance(retention - S)
    assert None is not sim.get_charge_permission(cp)["buyer"]
    assert cp not in cursor.take()  # reads change nothing
    restored = Simulator.restore(sim.snapshot())  # the closing instant is kept
    for each in (sim, restored):
        each.advance(S)
        at_limit = each.get_charge_permission(cp)
        assert ("Closed", None) == (state(at_limit), at_limit["buyer"])
        assert_permission(at_limit)  # the key stays, null
    assert cp in cursor.take()  # the clock changed its JSON: journaled


def test_a_restored_simulator_answers_the_same_json() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session({**session_body(), "platformId": "SPId"})["checkoutSessionId"]
    sim.buyer_approve(sid)
    done = sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
    charge = sim.get_charge(done["chargeId"])
    assert "SPId" == charge["platformId"]  # the completion's charge carries the session's
    restored = Simulator.restore(sim.snapshot())
    for object_id in sim.object_ids():
        assert sim.object_json(object_id) == restored.object_json(object_id)


# -- fields other engineers make acceptable: echoed once the body declares them -----------


def _declares(operation: str, field: str) -> bool:
    names = {f.name for f in OPERATIONS[operation].body}
    return field in names


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("supplementaryData", '{"a": 1}'),
        ("paymentMethodOnFileMetadata", {"setupOnly": True}),
    ],
)
def test_accepted_session_fields_are_echoed(field: str, value: Any) -> None:
    if not _declares("create_checkout_session", field):
        pytest.skip(f"create_checkout_session does not accept {field} yet")
    sim = make_sim()
    created = sim.create_checkout_session({**session_body(), field: value})
    assert_session(created)
    assert value == created[field]


def test_a_checkout_cancel_url_is_echoed() -> None:
    web = next(
        f for f in OPERATIONS["create_checkout_session"].body if f.name == "webCheckoutDetails"
    )
    if "checkoutCancelUrl" not in {f.name for f in web.fields}:
        pytest.skip("webCheckoutDetails.checkoutCancelUrl is not accepted yet")
    body = session_body()
    body["webCheckoutDetails"]["checkoutCancelUrl"] = "https://shop.example/cancel"
    created = make_sim().create_checkout_session(body)
    assert "https://shop.example/cancel" == created["webCheckoutDetails"]["checkoutCancelUrl"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platformId", "SPId"),
        ("webCheckoutDetails", {"checkoutResultReturnUrl": "https://shop.example/result"}),
    ],
)
def test_accepted_charge_fields_are_echoed(field: str, value: Any) -> None:
    if not _declares("create_charge", field):
        pytest.skip(f"create_charge does not accept {field} yet")
    sim = make_sim()
    cp = checkout(sim, kind="Recurring", amount="10.00")["chargePermissionId"]
    charge = sim.create_charge(
        {"chargePermissionId": cp, "chargeAmount": price("5.00"), field: value}
    )
    assert_shape("Charge", charge)
    echoed = charge[field]
    if isinstance(value, dict):
        assert value.items() <= echoed.items()
    else:
        assert value == echoed


# -- over HTTP: the server answers the same shapes, keys in the same order ----------------


def test_the_server_answers_the_same_shapes() -> None:
    pytest.importorskip("starlette")
    import json

    from starlette.testclient import TestClient

    from apfsm.server import create_app

    sim = make_sim()
    keys = iter(range(100))

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {"content-type": "application/json"}
        if method == "POST":
            headers["x-amz-pay-idempotency-key"] = f"k{next(keys)}"
        content = None if body is None else json.dumps(body)
        answer = client.request(method, f"/v2{path}", content=content, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        return dict(json.loads(answer.content))  # key order as sent

    with TestClient(create_app(sim)) as client:
        session = call("POST", "/checkoutSessions", session_body())
        assert_session(session)
        sid = session["checkoutSessionId"]
        approve = client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
        assert 200 == approve.status_code
        assert_session(approve.json())
        done = call("POST", f"/checkoutSessions/{sid}/complete", {"chargeAmount": price("100.00")})
        assert_session(done)
        assert None is not done["buyer"]
        assert_permission(call("GET", f"/chargePermissions/{done['chargePermissionId']}"))
        charge_id = done["chargeId"]
        assert_shape("Charge", call("POST", f"/charges/{charge_id}/capture", {
            "captureAmount": price("100.00")
        }))  # fmt: skip
        refund = call("POST", "/refunds", {"chargeId": charge_id, "refundAmount": price("5.00")})
        assert_shape("Refund", refund)
        assert_shape("Refund", call("GET", f"/refunds/{refund['refundId']}"))


def test_the_buyer_leaving_a_permission_is_a_journaled_change() -> None:
    """Tools that re-read only what changed (``Simulator.watch``, the integration machine's
    ``amazon_json``) see the buyer go at 30 days: the clock changes the JSON there."""
    sim = make_sim()
    one_time = checkout(sim, amount="100.00")
    cp = one_time["chargePermissionId"]
    every_month = checkout(sim, kind="Recurring", amount="10.00")
    recurring = every_month["chargePermissionId"]
    # Captured: no 30-day authorization expiry changes the permissions at the same instant.
    sim.capture_charge(one_time["chargeId"], {"captureAmount": price("50.00")})
    sim.capture_charge(every_month["chargeId"], {"captureAmount": price("10.00")})
    cursor = sim.watch()
    sim.advance(Limits().buyer_details_retention - S)
    assert cp not in cursor.take()
    sim.advance(S)
    changed = cursor.take()
    assert cp in changed
    assert recurring not in changed
    restored = Simulator.restore(sim.snapshot())
    later = restored.watch()
    restored.advance(S)
    assert cp in later.take()  # journaled once more after a restore: harmless
    restored.advance(S)
    assert cp not in later.take()


def test_a_leap_past_closing_and_retention_journals_the_buyer_in_the_same_step() -> None:
    """A recurring permission that expires (13 months without a charge) and passes its 30
    days of buyer retention within one ``advance``: the JSON is journaled as changed in that
    step, and the next call (a read) changes nothing (found by AmazonPayMachine)."""
    sim = make_sim()
    cp = checkout(sim, kind="Recurring", amount="10.00")["chargePermissionId"]
    cursor = sim.watch()
    sim.advance(500 * DAY)
    assert cp in cursor.take()
    marker = sim.change_marker()
    body = sim.get_charge_permission(cp)
    assert ("Closed", None) == (state(body), body["buyer"])
    assert marker == sim.change_marker()
