"""The shapes of the objects' API JSON: Amazon's key lists and the buyer's sandbox data
(SPEC §11 "Response shapes").

Every object carries every field Amazon returns — ``null`` when unset — in Amazon's order,
and no request-only field (``addressDetails``, ``scopes``, ``captureNow`` are not echoed).
The key lists are those of Amazon's own sandbox test, ``tst/webStoreClientTest.js`` of
``amzn/amazon-pay-api-sdk-nodejs`` (the Checkout Session's asserted exactly, in order; the
others as a presence check). ``records`` fills them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "BUYER_KEYS",
    "CHARGE_KEYS",
    "CHARGE_PERMISSION_KEYS",
    "CHECKOUT_SESSION_KEYS",
    "MERCHANT_METADATA_KEYS",
    "PAYMENT_DETAILS_KEYS",
    "REFUND_KEYS",
    "SIGN_IN_SCOPES",
    "WEB_CHECKOUT_DETAILS_KEYS",
    "address",
    "buyer",
    "copy",
    "pick",
]

#: A Checkout Session's keys, in Amazon's order (Node SDK test, "WebStore Client Test Cases
#: - Checkout Session APIs", ``expectedResponse``, compared with deepStrictEqual).
CHECKOUT_SESSION_KEYS: Final = (
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
)
#: A Charge Permission's keys (the Node test's list; it spells the reference id
#: ``chargePermissionReferenceId:``, a typo for the key below).
CHARGE_PERMISSION_KEYS: Final = (
    "chargePermissionId",
    "chargePermissionReferenceId",
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
)
CHARGE_KEYS: Final = (
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
)
REFUND_KEYS: Final = (
    "refundId",
    "chargeId",
    "creationTimestamp",
    "refundAmount",
    "statusDetails",
    "softDescriptor",
    "releaseEnvironment",
)
#: A Buyer's keys (Get Buyer, https://developer.amazon.com/docs/amazon-pay-api-v2/buyer.html).
BUYER_KEYS: Final = (
    "buyerId",
    "name",
    "email",
    "postalCode",
    "countryCode",
    "shippingAddress",
    "billingAddress",
    "phoneNumber",
    "primeMembershipTypes",
)
#: The Amazon Sign-in button's ``signInScopes`` and the Buyer keys each one shares
#: (https://developer.amazon.com/docs/amazon-pay-checkout/amazon-sign-in.html); Get Buyer
#: "will only return buyerId by default" (buyer.html). ``postalCode`` shares the default
#: shipping address's postal and country code (buyer.html describes both so).
SIGN_IN_SCOPES: Final[Mapping[str, tuple[str, ...]]] = {
    "name": ("name",),
    "email": ("email",),
    "postalCode": ("postalCode", "countryCode"),
    "shippingAddress": ("shippingAddress",),
    "billingAddress": ("billingAddress",),
    "phoneNumber": ("phoneNumber",),
    "primeStatus": ("primeMembershipTypes",),
}
#: ``paymentDetails`` always lists these (SPEC §11).
PAYMENT_DETAILS_KEYS: Final = (
    "paymentIntent",
    "canHandlePendingAuthorization",
    "chargeAmount",
    "totalOrderAmount",
    "softDescriptor",
    "presentmentCurrency",
    "allowOvercharge",
    "extendExpiration",
)
WEB_CHECKOUT_DETAILS_KEYS: Final = (
    "checkoutReviewReturnUrl",
    "checkoutResultReturnUrl",
    "checkoutCancelUrl",
    "amazonPayRedirectUrl",
    "checkoutMode",
)
MERCHANT_METADATA_KEYS: Final = (
    "merchantReferenceId",
    "merchantStoreName",
    "noteToBuyer",
    "customInformation",
)


def copy(value: Any) -> Any:
    """A deep copy of decoded JSON (request fields are stored, never aliased)."""
    if type(value) is dict:
        return {k: copy(v) for k, v in value.items()}
    if type(value) is list:
        return [copy(v) for v in value]
    return value


def pick(keys: tuple[str, ...], source: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``source``'s values under exactly ``keys`` (null when missing); None for no source."""
    if source is None:
        return None
    return {key: copy(source.get(key)) for key in keys}


def _suffix(seed: str) -> str:
    return seed.replace("-", "")[:12].upper()


def buyer(seed: str) -> dict[str, Any]:
    """The sandbox buyer of the session ``seed`` (deterministic: the same id, the same
    buyer)."""
    return {
        "buyerId": f"amzn1.account.{_suffix(seed)}",
        "name": "Sandbox Buyer",
        "email": "buyer@example.com",
        "phoneNumber": "800-000-0000",
        "primeMembershipTypes": None,
    }


def signed_in_buyer(buyer_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
    """The sandbox buyer as Get Buyer shows it: ``buyerId`` always; every other key
    present, null unless a scope shares it (SPEC §11: every field, null when unset);
    ``primeMembershipTypes`` an empty list with ``primeStatus`` ("not available for general
    use", buyer.html)."""
    shared = {key for scope in scopes for key in SIGN_IN_SCOPES[scope]}
    home = address()
    values: dict[str, Any] = {
        "buyerId": buyer_id,
        "name": "Sandbox Buyer",
        "email": "buyer@example.com",
        "postalCode": home["postalCode"],
        "countryCode": home["countryCode"],
        "shippingAddress": home,
        "billingAddress": address(),
        "phoneNumber": home["phoneNumber"],
        "primeMembershipTypes": [],
    }
    return {key: values[key] if key == "buyerId" or key in shared else None for key in BUYER_KEYS}


def address() -> dict[str, Any]:
    """The sandbox buyer's address (Amazon's Seattle office), used as shipping and billing
    address: every key Amazon's address has."""
    return {
        "name": "Sandbox Buyer",
        "addressLine1": "410 Terry Ave N",
        "addressLine2": None,
        "addressLine3": None,
        "city": "Seattle",
        "county": "King",
        "district": None,
        "stateOrRegion": "WA",
        "postalCode": "98109",
        "countryCode": "US",
        "phoneNumber": "800-000-0000",
    }
