"""Money on the wire: ``{"amount": "100.00", "currencyCode": "USD"}`` (SPEC §1, §6).

Amounts are ``Decimal`` end to end; a float never appears in a decision. A request may carry
an amount as a JSON string or a JSON number (SPEC §1 rev 2: the official .NET SDK sends
``"amount":12.99``): either way its *text* is checked (``amount_text``). The server reads
JSON numbers as ``Decimal`` from their exact text; a Python ``float`` handed to the
simulator or validator is read through ``repr`` (the shortest text that round-trips), so
``0.1 + 0.2`` is ``"0.30000000000000004"`` and refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Final

from apfsm._spec import Limits

__all__ = ["Money", "amount_text", "check_price", "parse_money", "refund_allowance", "to_wire"]

# SPEC §1 Decision: (0|[1-9][0-9]*)(\.[0-9]{1,N})? with N the currency's decimals.
_PATTERNS: Final = {
    n: re.compile(r"(?:0|[1-9][0-9]*)" + (rf"(?:\.[0-9]{{1,{n}}})?" if n else "") + r"\Z")
    for n in range(5)
}

Money = tuple[Decimal, str]
"""An amount and its currency code."""


# Prices repeat (the same amounts are checked again and again on a request path), so the
# verdict on each (amount, currency, decimals) is kept; the cache is bounded.
_PRICES: dict[tuple[str, str, int], Decimal | str] = {}
_PRICES_MAX: Final = 4096


def _price(amount: str, currency: str, decimals: int) -> Decimal | str:
    """The amount as a Decimal, or why it is not a valid amount (SPEC §1)."""
    key = (amount, currency, decimals)
    found = _PRICES.get(key)
    if found is not None:
        return found
    if _PATTERNS[decimals].match(amount) is None:
        found = (
            f"amount {amount!r} is not a valid {currency} amount "
            f"(digits with at most {decimals} decimals, no sign or exponent)"
        )
    else:
        value = Decimal(amount)
        found = value if value > 0 else "amount must be above zero"
    if len(_PRICES) >= _PRICES_MAX:
        _PRICES.clear()
    _PRICES[key] = found
    return found


_PRICE_KEYS: Final = frozenset({"amount", "currencyCode"})


def amount_text(amount: object) -> str | None:
    """The text of an amount as the request wrote it, or None when it is no number at all.

    A string is its own text; an ``int`` (not ``bool``) its digits; a ``Decimal`` (how the
    server reads a JSON number) ``str()``, which keeps the JSON text (``12.990`` stays
    ``"12.990"``, ``1E+2`` stays an exponent and is refused by the pattern); a finite
    ``float`` its ``repr`` (shortest round-trip text). Anything else (``True``, ``None``,
    NaN, a list...) is None.
    """
    if type(amount) is str:
        return amount
    if type(amount) is int:
        return str(amount)
    if type(amount) is Decimal:
        return str(amount) if amount.is_finite() else None
    if type(amount) is float:
        return repr(amount) if math.isfinite(amount) else None
    return None


def check_price(price: object, limits: Limits, prefix: str, field: str) -> Money | str:
    """``price`` as ``(Decimal, currency)`` when it is a valid API price for ``limits``, or
    why it is not (the caller answers ``InvalidParameterValue``, SPEC §1).

    ``prefix + field`` names the field in messages (built only when there is a fault).
    """
    if type(price) is not dict:
        return f"{prefix}{field} must be an object {{amount, currencyCode}}"
    if len(price) != 2 and any(k not in _PRICE_KEYS for k in price):
        # A price is one value: an extra key makes it a wrong value (SPEC §1).
        return f"{prefix}{field} must have only amount and currencyCode"
    amount = price.get("amount")
    currency = price.get("currencyCode")
    if type(currency) is not str:
        return f"{prefix}{field}.currencyCode must be a string"
    decimals = limits.currency_decimals.get(currency)
    if decimals is None:
        return f"{prefix}{field}.currencyCode {currency!r} is not a supported currency"
    text = amount_text(amount)
    if text is None:
        return (
            f'{prefix}{field}.amount must be a decimal string such as "10.00" '
            f"or a JSON number, got {amount!r}"
        )
    verdict = _price(text, currency, decimals)
    if isinstance(verdict, str):
        return f"{prefix}{field}.{verdict}"
    return (verdict, currency)


def parse_money(price: object, where: str = "amount") -> Money:
    """Read a price dict from a payload as ``(Decimal, currency)``.

    Payloads come from Amazon, so this is lenient about format (any finite decimal string)
    but strict about shape: Amazon answers amounts as strings (bodies' JSON-number amounts
    are checked by ``check_price`` and made strings by ``normalise_body``). Results are
    cached: the same prices come back again and again.

    Raises:
        ValueError: the value is not a price dict with a decimal amount string.
    """
    if type(price) is dict or isinstance(price, Mapping):
        amount = price.get("amount")
        currency = price.get("currencyCode")
        if type(amount) is str and type(currency) is str:
            key = (amount, currency)
            found = _MONEY.get(key)
            if found is not None:
                return found
            try:
                value = Decimal(amount)
            except ArithmeticError:
                value = Decimal("NaN")
            if value.is_finite():
                if len(_MONEY) >= _PRICES_MAX:
                    _MONEY.clear()
                found = _MONEY[key] = (value, currency)
                return found
            raise ValueError(f"{where}.amount must be a decimal string, got {amount!r}")
        if type(currency) is not str:
            raise ValueError(f"{where}.currencyCode must be a string, got {currency!r}")
        raise ValueError(f"{where}.amount must be a decimal string, got {amount!r}")
    raise ValueError(f"{where} must be a price object {{amount, currencyCode}}, got {price!r}")


_MONEY: dict[tuple[str, str], Money] = {}


def to_wire(amount: Decimal, currency: str, limits: Limits) -> dict[str, str]:
    """A price dict with the amount printed to the currency's decimals."""
    decimals = limits.currency_decimals.get(currency, 2)
    quantum = Decimal(1).scaleb(-decimals)
    return {"amount": str(amount.quantize(quantum)), "currencyCode": currency}


def refund_allowance(captured: Decimal, currency: str, limits: Limits) -> Decimal:
    """How far refunds may exceed the captured amount (SPEC §6).

    ``min(rate × captured, cap)``, the cap only for currencies that have one, rounded down
    to the currency's minor unit.
    """
    allowance = captured * limits.refund_overage_rate
    cap = limits.refund_overage_cap.get(currency)
    if cap is not None and cap < allowance:
        allowance = cap
    decimals = limits.currency_decimals.get(currency, 2)
    return allowance.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
