"""Request-body fields (SPEC §10): the ``BodyField`` vocabulary and the shapes several
operations share (metadata, payment details, prices...).

Each operation's body is declared with the operation (``Operation.body``, in
``operations``); ``BODIES`` gathers them. ``_decide.bodycheck`` validates a body against
its schema (SPEC §8).
"""

from __future__ import annotations

from typing import Final, Literal

import attrs

__all__ = [
    "CHARGE_PERMISSION_TYPES",
    "CHARGE_UPDATE_REASONS",
    "CHARGE_UPDATE_STATES",
    "CHARGE_WEB_CHECKOUT_DETAILS",
    "CREATION_ONLY_PAYMENT_DETAILS",
    "FREQUENCY_UNITS",
    "MERCHANT_METADATA",
    "MULTI_ADDRESSES_CHECKOUT_METADATA",
    "PAYMENT_DETAILS",
    "PAYMENT_INTENTS",
    "PAYMENT_METHOD_ON_FILE_METADATA",
    "PROVIDER_METADATA",
    "RECURRING_METADATA",
    "SOFT_DESCRIPTOR",
    "SUPPLEMENTARY_DATA",
    "UPDATE_PAYMENT_DETAILS",
    "WEB_CHECKOUT_DETAILS",
    "BodyField",
    "optional",
    "without",
]

Kind = Literal[
    "price",
    "bool",
    "str",
    "enum",
    "object",
    "object_list",
    "opaque",
    "str_list",
    "currency",
    "opaque_list",
]


@attrs.frozen
class BodyField:
    """One field of a request body.

    Attributes:
        name: the camelCase field name.
        kind: ``price`` (``{amount, currencyCode}``), ``bool``, ``str``, ``enum`` (one of
            ``choices``), ``object`` (nested ``fields``), ``object_list`` (a list of objects
            of ``fields``, each checked), ``opaque`` (any object, stored as is), ``str_list``
            (list of strings), ``opaque_list`` (list of objects, stored as is), ``currency``
            (a supported currency code).
        required: missing it is ``MissingParameterValue``.
        max_length: for ``str``, the name of the ``Limits`` field bounding its length.
        numeric: for ``str``, a JSON integer is accepted too and stored as its digits (SPEC
            §1 rev 2: the SDKs send ``recurringMetadata.frequency.value`` as a number).
    """

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    fields: tuple[BodyField, ...] = ()
    max_length: str | None = None
    numeric: bool = False


def optional(field: BodyField) -> BodyField:
    """The same shape with nothing required (partial updates)."""
    return attrs.evolve(field, required=False, fields=tuple(optional(f) for f in field.fields))


def without(field: BodyField, *names: str) -> BodyField:
    """The same object shape without the nested fields ``names`` (sent, they are
    ``UnrecognizedField``)."""
    return attrs.evolve(field, fields=tuple(f for f in field.fields if f.name not in names))


PAYMENT_INTENTS: Final = ("Confirm", "Authorize", "AuthorizeWithCapture")
CHARGE_PERMISSION_TYPES: Final = ("OneTime", "Recurring", "PaymentMethodOnFile")
FREQUENCY_UNITS: Final = ("Year", "Month", "Week", "Day", "Variable")
#: Update Charge (``PATCH /v2/charges/{id}``, for payment service providers): the states a
#: ``statusDetails.state`` may ask for, and the reason codes it may give (docs/charge.md,
#: Decision: only a cancellation, with a Canceled reason; ExpiredUnused when none is given).
CHARGE_UPDATE_STATES: Final = ("Canceled",)
CHARGE_UPDATE_REASONS: Final = (
    "ExpiredUnused",
    "MerchantCanceled",
    "ChargePermissionCanceled",
    "AmazonCanceled",
    "BuyerCanceled",
)

MERCHANT_METADATA: Final = BodyField(
    "merchantMetadata",
    "object",
    fields=(
        BodyField("merchantReferenceId", "str"),
        BodyField("merchantStoreName", "str"),
        BodyField("noteToBuyer", "str"),
        BodyField("customInformation", "str"),
    ),
)
RECURRING_METADATA: Final = BodyField(
    "recurringMetadata",
    "object",
    fields=(
        BodyField(
            "frequency",
            "object",
            fields=(
                BodyField("unit", "enum", choices=FREQUENCY_UNITS),
                BodyField("value", "str", numeric=True),
            ),
        ),
        BodyField("amount", "price"),
    ),
)
WEB_CHECKOUT_DETAILS: Final = BodyField(
    "webCheckoutDetails",
    "object",
    required=True,
    fields=(
        BodyField("checkoutReviewReturnUrl", "str", required=True),
        BodyField("checkoutResultReturnUrl", "str"),
        # amzn/amazon-pay-api-sdk-dotnet Amazon.Pay.API.SDK/WebStore/Types/WebCheckoutDetails.cs
        BodyField("checkoutCancelUrl", "str"),
        BodyField("checkoutMode", "str"),
    ),
)
#: Create Charge's ``webCheckoutDetails`` (the .NET SDK's ``CreateChargeRequest`` sets only
#: ``checkoutResultReturnUrl``: where the buyer returns after an MFA challenge).
CHARGE_WEB_CHECKOUT_DETAILS: Final = BodyField(
    "webCheckoutDetails", "object", fields=(BodyField("checkoutResultReturnUrl", "str"),)
)
PAYMENT_DETAILS: Final = BodyField(
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
        # amzn/amazon-pay-api-sdk-dotnet Amazon.Pay.API.SDK/WebStore/Types/PaymentDetails.cs
        BodyField("estimateOrderTotal", "price"),
    ),
)
#: Options that can be set only when the session is created (SPEC §11; Amazon's
#: "Advanced one-time payment options" page): the update's ``paymentDetails`` lacks them.
CREATION_ONLY_PAYMENT_DETAILS: Final = ("allowOvercharge", "extendExpiration")
UPDATE_PAYMENT_DETAILS: Final = without(PAYMENT_DETAILS, *CREATION_ONLY_PAYMENT_DETAILS)
#: amzn/amazon-pay-api-sdk-dotnet Amazon.Pay.API.SDK/WebStore/Types/PaymentMethodOnFileMetadata.cs
PAYMENT_METHOD_ON_FILE_METADATA: Final = BodyField(
    "paymentMethodOnFileMetadata", "object", fields=(BodyField("setupOnly", "bool"),)
)
#: amzn/amazon-pay-api-sdk-dotnet .../WebStore/Types/MultiAddressesCheckoutMetadata.cs
#: (a ``List<MultiAddressesCheckoutMetadata>`` on UpdateCheckoutSessionRequest.cs).
MULTI_ADDRESSES_CHECKOUT_METADATA: Final = BodyField(
    "multiAddressesCheckoutMetadata",
    "object_list",
    fields=(BodyField("addressId", "str"), BodyField("price", "price")),
)
#: amzn/amazon-pay-api-sdk-dotnet .../CheckoutSession/UpdateCheckoutSessionRequest.cs
SUPPLEMENTARY_DATA: Final = BodyField("supplementaryData", "str")
PROVIDER_METADATA: Final = BodyField("providerMetadata", "opaque")
SOFT_DESCRIPTOR: Final = BodyField("softDescriptor", "str", max_length="soft_descriptor_max_length")
