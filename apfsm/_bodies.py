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

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

import attrs

from ._limits import Limits
from ._money import Money, check_price

__all__ = ["BODIES", "BodyField", "body_fault", "checkout_session_body"]

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

# Fault classes in SPEC §8's order: the lowest found wins.
_UNRECOGNIZED, _MISSING, _INVALID = range(3)
Fault = tuple[str, str]
"""An error code and its message."""


class _Node:
    """A ``BodyField`` compiled for fast walking."""

    __slots__ = ("children", "choices", "kind", "max_length", "required")

    def __init__(self, field: BodyField) -> None:
        self.kind = field.kind
        self.choices = frozenset(field.choices)
        self.max_length = field.max_length
        self.children, self.required = _compile(field.fields)


def _compile(fields: tuple[BodyField, ...]) -> tuple[dict[str, _Node], tuple[str, ...]]:
    return {f.name: _Node(f) for f in fields}, tuple(f.name for f in fields if f.required)


_SCHEMAS: Final = {op: _compile(fields) for op, fields in BODIES.items()}


def _value_fault(node: _Node, value: Any, path: str, limits: Limits) -> str | None:
    kind = node.kind
    if kind == "str":
        if type(value) is not str:
            return f"{path} must be a string"
        if node.max_length is not None:
            maximum: int = getattr(limits, node.max_length)
            if len(value) > maximum:
                return f"{path} is longer than {maximum} characters"
        return None
    if kind == "bool":
        return None if type(value) is bool else f"{path} must be true or false"
    if kind == "enum":
        if type(value) is str and value in node.choices:
            return None
        return f"{path} must be one of {', '.join(sorted(node.choices))}; got {value!r}"
    if kind == "currency":
        if type(value) is str and value in limits.currency_decimals:
            return None
        return f"{path} {value!r} is not a supported currency"
    if kind == "opaque":
        return None if isinstance(value, dict) else f"{path} must be an object"
    if kind == "str_list":
        if isinstance(value, list) and all(type(v) is str for v in value):
            return None
        return f"{path} must be a list of strings"
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover


def _walk(
    children: dict[str, _Node],
    required: tuple[str, ...],
    body: dict[str, Any],
    prefix: str,
    limits: Limits,
    found: list[Fault | None],
    money: dict[str, Money | None] | None,
) -> None:
    for key, value in body.items():
        node = children.get(key)
        if node is None:
            found[_UNRECOGNIZED] = (
                "UnrecognizedField",
                f"{prefix}{key} is not a field this operation accepts",
            )
            return
        if value is None:
            continue
        if node.kind == "object":
            if isinstance(value, dict):
                _walk(node.children, node.required, value, f"{prefix}{key}.", limits, found, None)
                if found[_UNRECOGNIZED] is not None:
                    return
            elif found[_INVALID] is None:
                found[_INVALID] = ("InvalidParameterValue", f"{prefix}{key} must be an object")
        elif node.kind == "price":
            verdict = check_price(value, limits, prefix, key)
            if type(verdict) is str:
                if found[_INVALID] is None:
                    found[_INVALID] = ("InvalidParameterValue", verdict)
            elif money is not None:
                money[key] = verdict  # type: ignore[assignment]
        elif found[_INVALID] is None:
            message = _value_fault(node, value, f"{prefix}{key}", limits)
            if message is not None:
                found[_INVALID] = ("InvalidParameterValue", message)
    if found[_MISSING] is None:
        for name in required:
            if body.get(name) is None:
                found[_MISSING] = ("MissingParameterValue", f"{prefix}{name} is required")
                break


def _charge_combination(body: dict[str, Any]) -> str | None:
    # SPEC §10: softDescriptor only together with captureNow: true.
    if body.get("softDescriptor") is not None and body.get("captureNow") is not True:
        return "softDescriptor can only be set together with captureNow: true"
    return None


def _pending_with_capture(body: dict[str, Any]) -> str | None:
    # SPEC §3 [S]: canHandlePendingAuthorization with AuthorizeWithCapture is refused.
    details = body.get("paymentDetails")
    if (
        isinstance(details, dict)
        and details.get("canHandlePendingAuthorization") is True
        and details.get("paymentIntent") == "AuthorizeWithCapture"
    ):
        return (
            "paymentDetails.canHandlePendingAuthorization cannot be true "
            "with paymentIntent AuthorizeWithCapture"
        )
    return None


#: Combination rules per operation (checked only when a body has no other fault).
COMBINATIONS: Final[Mapping[str, Callable[[dict[str, Any]], str | None]]] = MappingProxyType(
    {
        "create_charge": _charge_combination,
        "create_checkout_session": _pending_with_capture,
        "update_checkout_session": _pending_with_capture,
    }
)


def body_fault(
    operation: str,
    body: object,
    limits: Limits,
    money: dict[str, Money | None] | None = None,
) -> Fault | None:
    """The SPEC §8 fault of ``body`` for ``operation``, or None when the body is valid.

    Args:
        operation: an operation name (SPEC §1).
        body: the decoded JSON body.
        limits: lengths and currencies come from here.
        money: when given, receives the top-level prices, parsed, by field name (so the
            rules that follow need not parse them again).
    """
    if not isinstance(body, dict):
        return ("InvalidRequestFormat", "the request body must be a JSON object")
    found: list[Fault | None] = [None, None, None]
    children, required = _SCHEMAS[operation]
    _walk(children, required, body, "", limits, found, money)
    for fault in found:
        if fault is not None:
            return fault
    combination = COMBINATIONS.get(operation)
    if combination is not None:
        message = combination(body)
        if message is not None:
            return ("InvalidParameterCombination", message)
    return None


def checkout_session_body(
    payment_details: Mapping[str, Any], *, kind: str = "OneTime", store_id: str
) -> dict[str, Any]:
    """A realistic ``create_checkout_session`` body: the return URLs, the store, the
    permission type and, for a recurring or on-file permission, a monthly frequency."""
    body: dict[str, Any] = {
        "webCheckoutDetails": {
            "checkoutReviewReturnUrl": "https://shop.example/review",
            "checkoutResultReturnUrl": "https://shop.example/result",
        },
        "storeId": store_id,
        "chargePermissionType": kind,
        "paymentDetails": dict(payment_details),
    }
    if kind != "OneTime":
        body["recurringMetadata"] = {"frequency": {"unit": "Month", "value": "1"}}
    return body
