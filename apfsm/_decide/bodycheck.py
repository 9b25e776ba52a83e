"""Body validation (SPEC §8, §10): ``body_fault`` walks a body against its schema.

When a body has several faults, the first *class* in SPEC §8's order wins:
``InvalidRequestFormat``, ``UnrecognizedField``, ``MissingParameterValue``,
``InvalidParameterValue``, ``InvalidParameterCombination``.

Decisions beyond SPEC's letter (documented in docs/validator.md): unknown fields are refused
at every depth of a declared object (not only at the top; *opaque* objects are not
inspected), and a JSON ``null`` for an optional field counts as absent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final

from apfsm._spec import BODIES, BodyField, Limits

from .money import Money, amount_text, check_price

__all__ = ["COMBINATIONS", "Fault", "body_fault", "normalise_body"]

# Fault classes in SPEC §8's order: the lowest found wins.
_UNRECOGNIZED, _MISSING, _INVALID = range(3)
Fault = tuple[str, str]
"""An error code and its message."""


class _Node:
    """A ``BodyField`` compiled for fast walking."""

    __slots__ = ("children", "choices", "kind", "max_length", "numeric", "required")

    def __init__(self, field: BodyField) -> None:
        self.kind = field.kind
        self.choices = frozenset(field.choices)
        self.max_length = field.max_length
        self.numeric = field.numeric
        self.children, self.required = _compile(field.fields)


def _compile(fields: tuple[BodyField, ...]) -> tuple[dict[str, _Node], tuple[str, ...]]:
    return {f.name: _Node(f) for f in fields}, tuple(f.name for f in fields if f.required)


_SCHEMAS: Final = {op: _compile(fields) for op, fields in BODIES.items()}


def _value_fault(node: _Node, value: Any, path: str, limits: Limits) -> str | None:
    kind = node.kind
    if kind == "str":
        if type(value) is not str:
            if node.numeric and (
                type(value) is int or (type(value) is Decimal and value == int(value))
            ):
                return None  # SPEC §1 rev 2: a count may come as a JSON integer
            return f"{path} must be a string" + (" or an integer" if node.numeric else "")
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
    if kind == "opaque_list":
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return None
        return f"{path} must be a list of objects"
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
        elif node.kind == "object_list":
            if not isinstance(value, list):
                if found[_INVALID] is None:
                    found[_INVALID] = ("InvalidParameterValue", f"{prefix}{key} must be a list")
                continue
            for index, item in enumerate(value):
                where = f"{prefix}{key}[{index}]"
                if isinstance(item, dict):
                    _walk(node.children, node.required, item, f"{where}.", limits, found, None)
                    if found[_UNRECOGNIZED] is not None:
                        return
                elif found[_INVALID] is None:
                    found[_INVALID] = ("InvalidParameterValue", f"{where} must be an object")
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


def _finalize_combination(body: dict[str, Any]) -> str | None:
    # Finalize carries the intent itself (top level); the same rule as on the session.
    if (
        body.get("canHandlePendingAuthorization") is True
        and body.get("paymentIntent") == "AuthorizeWithCapture"
    ):
        return (
            "canHandlePendingAuthorization cannot be true with paymentIntent AuthorizeWithCapture"
        )
    return None


#: Combination rules per operation (checked only when a body has no other fault).
COMBINATIONS: Final[Mapping[str, Callable[[dict[str, Any]], str | None]]] = MappingProxyType(
    {
        "create_charge": _charge_combination,
        "create_checkout_session": _pending_with_capture,
        "update_checkout_session": _pending_with_capture,
        "finalize_checkout_session": _finalize_combination,
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


# ---------------------------------------------------------------------------------------
# Normalising: JSON numbers where the API takes decimal strings (SPEC §1 rev 2)
# ---------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` with every ``Decimal`` (a JSON number as the server reads it) made an
    ``int`` when integral, else a ``float``; the same object when nothing changes."""
    if type(value) is Decimal:
        return int(value) if value == value.to_integral_value() else float(value)
    if type(value) is dict:
        return _normalise(None, value)
    if type(value) is list:
        items = [_plain(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _normalise_value(node: _Node | None, value: Any) -> Any:
    if node is None:
        return _plain(value)
    kind = node.kind
    if kind == "price" and type(value) is dict:
        price = _normalise(None, value)
        amount = value.get("amount")
        if type(amount) is not str:
            text = amount_text(amount)
            if text is not None:
                price = dict(price)
                price["amount"] = text
        return price
    if kind == "object" and type(value) is dict:
        return _normalise(node.children, value)
    if kind == "object_list" and type(value) is list:
        items = [_normalise(node.children, v) if type(v) is dict else _plain(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if node.numeric and (
        type(value) is int or (type(value) is Decimal and value == value.to_integral_value())
    ):
        return str(int(value))
    return _plain(value)


def _normalise(children: dict[str, _Node] | None, body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] | None = None
    for key, value in body.items():
        new = _normalise_value(None if children is None else children.get(key), value)
        if new is not value:
            if out is None:
                out = dict(body)
            out[key] = new
    return body if out is None else out


def normalise_body(operation: str, body: Any) -> Any:
    """``body`` with the numbers the API also takes as JSON numbers made strings: every
    price's ``amount`` (its exact text, ``amount_text``) and the fields declared
    ``numeric`` (``recurringMetadata.frequency.value``: an integer becomes its digits).
    Any other JSON number read as a ``Decimal`` becomes an ``int`` when integral, else a
    ``float``. Values that are no number are left for ``body_fault`` to refuse.

    Made once per call, before the idempotency fingerprint, so the log, snapshots, the
    rules and the echoed objects all see strings. The caller's body is never changed: a
    changed part is a copy; nothing changed, the same object comes back.
    """
    if type(body) is not dict:
        return _plain(body)
    return _normalise(_SCHEMAS[operation][0], body)
