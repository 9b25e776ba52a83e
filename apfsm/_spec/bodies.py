"""Request bodies: the fields each operation accepts (SPEC §10) and their validation (§8).

The schemas are data (``BODIES``); ``body_fault`` walks a body against one. When a body has
several faults, the first *class* in SPEC §8's order wins: ``InvalidRequestFormat``,
``UnrecognizedField``, ``MissingParameterValue``, ``InvalidParameterValue``,
``InvalidParameterCombination``.

Decisions beyond SPEC's letter (documented in docs/validator.md): unknown fields are refused
at every depth of a declared object (not only at the top; *opaque* objects are not
inspected), and a JSON ``null`` for an optional field counts as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

import attrs

__all__ = ["BODIES", "CHARGE_PERMISSION_TYPES", "FREQUENCY_UNITS", "PAYMENT_INTENTS", "BodyField"]

Kind = Literal["price", "bool", "str", "enum", "object", "opaque", "str_list", "currency"]


@attrs.frozen
class BodyField:
    """One field of a request body.

    Attributes:
        name: the camelCase field name.
        kind: ``price`` (``{amount, currencyCode}``), ``bool``, ``str``, ``enum`` (one of
            ``choices``), ``object`` (nested ``fields``), ``opaque`` (any object, stored as
            is), ``str_list`` (list of strings), ``currency`` (a supported currency code).
        required: missing it is ``MissingParameterValue``.
        max_length: for ``str``, the name of the ``Limits`` field bounding its length.
    """

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    fields: tuple[BodyField, ...] = ()
    max_length: str | None = None


def _optional(field: BodyField) -> BodyField:
    """The same shape with nothing required (partial updates)."""
    return attrs.evolve(field, required=False, fields=tuple(_optional(f) for f in field.fields))


PAYMENT_INTENTS: Final = ("Confirm", "Authorize", "AuthorizeWithCapture")
CHARGE_PERMISSION_TYPES: Final = ("OneTime", "Recurring", "PaymentMethodOnFile")
FREQUENCY_UNITS: Final = ("Year", "Month", "Week", "Day", "Variable")

_MERCHANT_METADATA: Final = BodyField(
    "merchantMetadata",
    "object",
    fields=(
        BodyField("merchantReferenceId", "str"),
        BodyField("merchantStoreName", "str"),
        BodyField("noteToBuyer", "str"),
        BodyField("customInformation", "str"),
    ),
)
_RECURRING_METADATA: Final = BodyField(
    "recurringMetadata",
    "object",
    fields=(
        BodyField(
            "frequency",
            "object",
            fields=(
                BodyField("unit", "enum", choices=FREQUENCY_UNITS),
                BodyField("value", "str"),
            ),
        ),
        BodyField("amount", "price"),
    ),
)
_WEB_CHECKOUT_DETAILS: Final = BodyField(
    "webCheckoutDetails",
    "object",
    required=True,
    fields=(
        BodyField("checkoutReviewReturnUrl", "str", required=True),
        BodyField("checkoutResultReturnUrl", "str"),
        BodyField("checkoutMode", "str"),
    ),
)
_PAYMENT_DETAILS: Final = BodyField(
    "paymentDetails",
    "object",
    fields=(
        BodyField("paymentIntent", "enum", choices=PAYMENT_INTENTS),
        BodyField("canHandlePendingAuthorization", "bool"),
        BodyField("chargeAmount", "price"),
        BodyField("totalOrderAmount", "price"),
        BodyField("presentmentCurrency", "currency"),
        BodyField("softDescriptor", "str", max_length="soft_descriptor_max_length"),
        BodyField("allowOvercharge", "bool"),
        BodyField("extendExpiration", "bool"),
    ),
)
_PROVIDER_METADATA: Final = BodyField("providerMetadata", "opaque")
_SOFT_DESCRIPTOR: Final = BodyField(
    "softDescriptor", "str", max_length="soft_descriptor_max_length"
)

#: The body schema of every operation (SPEC §10); operations without a body map to ``()``.
BODIES: Final[Mapping[str, tuple[BodyField, ...]]] = MappingProxyType(
    {
        "create_checkout_session": (
            _WEB_CHECKOUT_DETAILS,
            BodyField("storeId", "str", required=True),
            BodyField("chargePermissionType", "enum", choices=CHARGE_PERMISSION_TYPES),
            _RECURRING_METADATA,
            _PAYMENT_DETAILS,
            _MERCHANT_METADATA,
            BodyField("platformId", "str"),
            _PROVIDER_METADATA,
            BodyField("addressDetails", "opaque"),
            BodyField("deliverySpecifications", "opaque"),
            BodyField("scopes", "str_list"),
        ),
        "get_checkout_session": (),
        "update_checkout_session": (
            _optional(_WEB_CHECKOUT_DETAILS),
            _optional(_PAYMENT_DETAILS),
            _optional(_RECURRING_METADATA),
            _optional(_MERCHANT_METADATA),
            BodyField("platformId", "str"),
            _PROVIDER_METADATA,
        ),
        "complete_checkout_session": (
            BodyField("chargeAmount", "price", required=True),
            BodyField("totalOrderAmount", "price"),
        ),
        "get_charge_permission": (),
        "update_charge_permission": (_MERCHANT_METADATA, _RECURRING_METADATA),
        "close_charge_permission": (
            BodyField("closureReason", "str", max_length="reason_text_max_length"),
            BodyField("cancelPendingCharges", "bool"),
        ),
        "create_charge": (
            BodyField("chargePermissionId", "str", required=True),
            BodyField("chargeAmount", "price", required=True),
            BodyField("captureNow", "bool"),
            _SOFT_DESCRIPTOR,
            BodyField("canHandlePendingAuthorization", "bool"),
            _MERCHANT_METADATA,
            _PROVIDER_METADATA,
            BodyField("chargeInitiator", "str"),
            BodyField("channel", "str"),
        ),
        "get_charge": (),
        "capture_charge": (
            BodyField("captureAmount", "price", required=True),
            _SOFT_DESCRIPTOR,
        ),
        "cancel_charge": (
            BodyField("cancellationReason", "str", max_length="reason_text_max_length"),
        ),
        "create_refund": (
            BodyField("chargeId", "str", required=True),
            BodyField("refundAmount", "price", required=True),
            _SOFT_DESCRIPTOR,
        ),
        "get_refund": (),
    }
)
