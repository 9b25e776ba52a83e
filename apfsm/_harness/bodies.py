"""Realistic request bodies: what a real shop sends, for the tools that drive the simulator
(explore, the fuzzers, the demo) — "a realistic body for this operation on this object's
JSON", written once.

``realistic_body`` builds one from the target's current JSON and a few choices (an amount,
a share of the charge, which update); ``REALISTIC_OPTIONS`` lists each operation's choices,
the first of each being the plain case. The fuzzers draw the choices; explore and the demo
take the first ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from apfsm._spec import COMPLETIONS, LIFECYCLES, OPERATIONS, BodyField

__all__ = [
    "AMOUNTS",
    "COMPLETE_VARIANTS",
    "NEW_SESSION_OPTIONS",
    "REALISTIC_OPTIONS",
    "checkout_session_body",
    "minimal_body",
    "realistic_body",
]

#: Prices a shop charges, in major units (JPY scaled by 100): around the limits that
#: bite — a cent, 50 and 115 (the 15 % over-capture and refund allowances).
AMOUNTS: Final = ("0.01", "1.00", "10.00", "49.99", "50.00", "100.00", "114.99", "115.00", "999.99")
#: A refund's share of the captured amount (over 1: beyond the allowance or within it).
_REFUND_SHARES: Final = ("0.1", "0.5", "1", "1", "1.15", "1.2")
#: A capture's share of the charge amount.
_CAPTURE_SHARES: Final = ("1", "1", "0.5", "1.01")
#: ``create_checkout_session``'s choices, in ``realistic_body``'s order.
NEW_SESSION_OPTIONS: Final[tuple[tuple[Any, ...], ...]] = (
    ("USD", "USD", "EUR", "JPY"),  # currency
    ("Confirm", "Authorize", "Authorize", "AuthorizeWithCapture"),  # paymentIntent
    ("OneTime", "OneTime", "Recurring", "PaymentMethodOnFile"),  # chargePermissionType
    AMOUNTS,
    (False, True),  # canHandlePendingAuthorization (with Authorize)
    (False, False, False, False, True),  # extendExpiration (with OneTime)
)
#: How a completion's amount relates to the session's: the same, half, another currency.
COMPLETE_VARIANTS: Final = ("same", "same", "same", "amount", "currency")
_SESSION_UPDATES: Final[tuple[dict[str, Any], ...]] = (
    {"merchantMetadata": {"merchantReferenceId": "order-1"}},
    {"paymentDetails": {"paymentIntent": "AuthorizeWithCapture"}},
    {"paymentDetails": {"canHandlePendingAuthorization": True}},
    {"webCheckoutDetails": {"checkoutResultReturnUrl": "https://x.example/r"}},
)
_CHARGE_OPTIONS: Final[tuple[dict[str, Any], ...]] = (
    {},
    {},
    {"captureNow": True},
    {"canHandlePendingAuthorization": True},
    {"captureNow": True, "softDescriptor": "SHOP"},
)

#: What a realistic body of each operation chooses (see ``realistic_body``): its options,
#: the first of each the plain case. Operations not named take no choice.
REALISTIC_OPTIONS: Final[Mapping[str, tuple[tuple[Any, ...], ...]]] = {
    "create_checkout_session": NEW_SESSION_OPTIONS,
    "update_checkout_session": (tuple(range(len(_SESSION_UPDATES))),),
    **dict.fromkeys(COMPLETIONS, (COMPLETE_VARIANTS,)),
    "close_charge_permission": ((False, True),),  # cancelPendingCharges
    "create_charge": (AMOUNTS, tuple(range(len(_CHARGE_OPTIONS)))),
    "capture_charge": (_CAPTURE_SHARES,),
    "create_refund": (_REFUND_SHARES,),
}
_PLAIN: Final = {
    name: tuple(values[0] for values in options) for name, options in REALISTIC_OPTIONS.items()
}
#: The operations with a body but no choice.
_NO_CHOICE: Final = frozenset({"update_charge_permission", "cancel_charge", "contest_dispute"})
_FALLBACK_PRICE: Final = {"amount": "10.00", "currencyCode": "USD"}
_STORE_ID: Final = "amzn1.application-oa2-client.fuzz"


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


def realistic_body(
    operation: str,
    current: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    *,
    target_id: str | None = None,
) -> Any:
    """A body a real shop sends for ``operation`` on the object whose JSON is ``current``
    (None when there is none, or for a creation without a target): valid for its schema,
    and for its checks when the choices are plain.

    Args:
        choices: one value of each of ``REALISTIC_OPTIONS[operation]``; the first of each
            (the plain case) when None.
        target_id: the id a create names (``Operation.target_field``); ``current``'s own
            id when None.

    Returns:
        A fresh dict, or None for the reads (they take no body).
    """
    if operation not in REALISTIC_OPTIONS and operation not in _NO_CHOICE:
        if OPERATIONS[operation].is_read:
            return None  # reads take no body
        return minimal_body(operation, current, target_id=target_id)
    chosen = tuple(choices) if choices is not None else _PLAIN.get(operation, ())
    now = current or {}
    if operation == "create_checkout_session":
        currency, intent, kind, amount, pending, extend = chosen
        details: dict[str, Any] = {
            "paymentIntent": intent,
            "chargeAmount": {"amount": _scaled(amount, currency), "currencyCode": currency},
        }
        if intent == "Authorize" and pending:
            details["canHandlePendingAuthorization"] = True
        if kind == "OneTime" and extend:
            details["extendExpiration"] = True
        return checkout_session_body(details, kind=kind, store_id=_STORE_ID)
    if operation == "update_checkout_session":
        return copy.deepcopy(_SESSION_UPDATES[chosen[0]])
    if operation in COMPLETIONS:
        details = now.get("paymentDetails") or {}
        price = details.get("chargeAmount") or _FALLBACK_PRICE
        if chosen[0] == "amount":
            price = _share(price, "0.5")
        elif chosen[0] == "currency":
            price = {**price, "currencyCode": "GBP" if price["currencyCode"] != "GBP" else "USD"}
        body: dict[str, Any] = {"chargeAmount": dict(price)}
        total = details.get("totalOrderAmount")
        if total is not None:  # SPEC §11: a session's totalOrderAmount must be repeated
            body["totalOrderAmount"] = dict(total)
        if any(field.name == "paymentIntent" for field in OPERATIONS[operation].body):
            # A completion carrying the intent (Finalize): the session's own, so both agree.
            body["paymentIntent"] = details.get("paymentIntent") or "Confirm"
            if details.get("canHandlePendingAuthorization") is True:
                body["canHandlePendingAuthorization"] = True
        return body
    if operation == "update_charge_permission":
        return {"merchantMetadata": {"merchantReferenceId": "order-2"}}
    if operation == "close_charge_permission":
        return {"closureReason": "no longer needed", "cancelPendingCharges": chosen[0]}
    if operation == "cancel_charge":
        return {"cancellationReason": "out of stock"}
    if operation == "contest_dispute":  # the SDKs' example: a tracking number
        return {"merchantEvidences": [{"evidenceType": "TrackingNumber", "evidenceText": "1Z9"}]}
    if operation == "capture_charge":
        return {"captureAmount": _share(now.get("chargeAmount") or _FALLBACK_PRICE, chosen[0])}
    target = target_id if target_id is not None else _own_id(operation, now)
    if operation == "create_charge":
        amount, option = chosen
        currency = _currency(current)
        body = {
            "chargePermissionId": target,
            "chargeAmount": {"amount": _scaled(amount, currency), "currencyCode": currency},
        }
        body.update(_CHARGE_OPTIONS[option])
        return body
    assert operation == "create_refund", operation
    captured = now.get("captureAmount") or now.get("chargeAmount") or _FALLBACK_PRICE
    return {"chargeId": target, "refundAmount": _share(captured, chosen[0])}


def minimal_body(
    operation: str, current: Mapping[str, Any] | None = None, *, target_id: str | None = None
) -> dict[str, Any]:
    """The smallest valid body of ``operation``'s schema (``Operation.body``): its required
    fields, each with a plain value — a price in the target's currency, the target's id for
    the field naming it. What ``realistic_body`` answers for an operation it has no entry
    for, so a new operation is explored and fuzzed from its declaration alone."""
    op = OPERATIONS[operation]
    now = current or {}
    price = now.get("captureAmount") or now.get("chargeAmount") or _FALLBACK_PRICE
    target = target_id if target_id is not None else _own_id(operation, now)

    def fill(fields: Sequence[BodyField]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields:
            if not field.required:
                continue
            if field.name == op.target_field:
                out[field.name] = target
            elif field.kind == "price":
                out[field.name] = dict(price)
            elif field.kind == "object":
                out[field.name] = fill(field.fields)
            else:
                out[field.name] = _PLAIN_VALUES[field.kind](field)
        return out

    return fill(op.body)


#: A plain valid value of each kind of field (``BodyField.kind``) but prices and objects.
_PLAIN_VALUES: Final[Mapping[str, Any]] = {
    "str": lambda field: "apfsm",
    "enum": lambda field: field.choices[0],
    "bool": lambda field: False,
    "currency": lambda field: "USD",
    "str_list": lambda field: [],
    "object_list": lambda field: [],
    "opaque": lambda field: {},
    "opaque_list": lambda field: [],
}


def _own_id(operation: str, current: Mapping[str, Any]) -> Any:
    """The id of the object ``current`` describes, for a create that names it."""
    target = OPERATIONS[operation].target
    return None if target is None else current.get(LIFECYCLES[target].id_field)


def _currency(current: Mapping[str, Any] | None) -> str:
    if current is None:
        return "USD"
    for field in ("chargeAmount", "captureAmount"):
        if isinstance(current.get(field), dict):
            return str(current[field]["currencyCode"])
    return str(current.get("presentmentCurrency") or "USD")


def _scaled(amount: str, currency: str) -> str:
    """``amount`` in ``currency``: JPY, without minor units, a hundred times more."""
    if currency == "JPY":
        return str(int(Decimal(amount) * 100))
    return amount


def _share(price: Mapping[str, str], share: str) -> dict[str, str]:
    """``share`` of ``price``, in its currency's minor units, at least one of them."""
    quantum = Decimal(1) if price["currencyCode"] == "JPY" else Decimal("0.01")
    value = max((Decimal(price["amount"]) * Decimal(share)).quantize(quantum), quantum)
    return {"amount": str(value), "currencyCode": price["currencyCode"]}
