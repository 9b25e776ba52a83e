"""Money on the wire: amount format per currency, Decimal parsing, refund allowance (SPEC §1, §6)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apfsm import Limits
from apfsm._decide.money import amount_text, check_price, parse_money, refund_allowance, to_wire

LIMITS = Limits()


def price(amount: object, currency: object = "USD") -> dict[str, object]:
    return {"amount": amount, "currencyCode": currency}


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1", "USD"),
        ("0.01", "USD"),
        ("10.5", "EUR"),
        ("150000.00", "GBP"),
        ("100", "JPY"),
        ("0.1", "ZAR"),
    ],
)
def test_valid_amounts(amount: str, currency: str) -> None:
    assert (Decimal(amount), currency) == check_price(price(amount, currency), LIMITS, "", "x")


# SPEC §1 rev 2: an amount may be a JSON number — the .NET SDK sends every amount as one
# (amzn/amazon-pay-api-sdk-dotnet, Amazon.Pay.API.SDK/Converters/DecimalJsonConverter.cs;
# Amazon.Pay.API.SDK.Tests/.../CreateChargeRequestTests.CanConvertToJsonMinimal:
# "chargeAmount":{"amount":12.99,...}). Its text is what counts: a Decimal the server read
# exactly, an int's digits, a float's repr (the shortest text that round-trips).
@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (12.99, "EUR", "12.99"),
        (Decimal("12.99"), "EUR", "12.99"),
        (Decimal("12.990"), "JPY", None),
        (99, "EUR", "99"),
        (Decimal("100.00"), "USD", "100.00"),
        (100.0, "USD", "100.0"),
        (5000, "JPY", "5000"),
        (0.1, "USD", "0.1"),
    ],
)
def test_numeric_amounts_count_by_their_text(
    amount: object, currency: str, expected: str | None
) -> None:
    verdict = check_price(price(amount, currency), LIMITS, "", "x")
    if expected is None:
        assert isinstance(verdict, str)
    else:
        assert verdict == (Decimal(expected), currency)
    assert amount_text(amount) == str(amount) if type(amount) is not float else repr(amount)


def test_amount_text_refuses_what_is_no_number() -> None:
    for value in (True, False, None, [1], {"a": 1}, float("inf"), Decimal("sNaN")):
        assert amount_text(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (price(True), "decimal string"),
        (price(None), "decimal string"),
        (price([1]), "decimal string"),
        (price(0.30000000000000004), "at most 2 decimals"),
        (price(Decimal("0.30000000000000004")), "at most 2 decimals"),
        (price(Decimal("12.990000000000000001")), "at most 2 decimals"),
        (price(Decimal("1e2")), "no sign or exponent"),
        (price(Decimal("1E+2")), "no sign or exponent"),
        (price(1e16), "no sign or exponent"),
        (price(-1), "no sign"),
        (price(Decimal("-1")), "no sign"),
        (price(0), "above zero"),
        (price(Decimal("0.00")), "above zero"),
        (price(float("nan")), "decimal string"),
        (price(Decimal("NaN")), "decimal string"),
        (price(12.5, "JPY"), "at most 0 decimals"),
        (price("10.001"), "at most 2 decimals"),
        (price("1e3"), "no sign or exponent"),
        (price("+1"), "no sign"),
        (price("-1"), "no sign"),
        (price("01.00"), "not a valid"),
        (price("1."), "not a valid"),
        (price(".5"), "not a valid"),
        (price("0"), "above zero"),
        (price("0.00"), "above zero"),
        (price("100.5", "JPY"), "at most 0 decimals"),
        (price("10", "XXX"), "not a supported currency"),
        (price("10", None), "currencyCode must be a string"),
        ("10.00", "must be an object"),
        (price(" 1"), "not a valid"),
        (price("1\n"), "not a valid"),
    ],
)
def test_invalid_amounts_say_why(value: object, why: str) -> None:
    verdict = check_price(value, LIMITS, "body.", "chargeAmount")
    assert isinstance(verdict, str)
    assert verdict.startswith("body.chargeAmount")
    assert why in verdict


@given(
    st.sampled_from(sorted(LIMITS.currency_decimals)),
    st.integers(min_value=1, max_value=10**9),
)
def test_any_positive_amount_in_minor_units_is_valid(currency: str, minor: int) -> None:
    decimals = LIMITS.currency_decimals[currency]
    amount = Decimal(minor).scaleb(-decimals)
    text = str(amount.quantize(Decimal(1).scaleb(-decimals)))
    assert (amount, currency) == check_price(price(text, currency), LIMITS, "", "x")
    assert {"amount": text, "currencyCode": currency} == to_wire(amount, currency, LIMITS)


@given(st.sampled_from(sorted(LIMITS.currency_decimals)), st.integers(min_value=1, max_value=10**6))
def test_one_decimal_too_many_is_refused(currency: str, minor: int) -> None:
    decimals = LIMITS.currency_decimals[currency]
    text = f"{minor}.{'1' * (decimals + 1)}"
    assert isinstance(check_price(price(text, currency), LIMITS, "", "x"), str)


def test_currency_decimals_come_from_limits() -> None:
    three = Limits(currency_decimals={**LIMITS.currency_decimals, "BHD": 3})
    assert (Decimal("1.234"), "BHD") == check_price(price("1.234", "BHD"), three, "", "x")
    assert isinstance(check_price(price("1.234", "BHD"), LIMITS, "", "x"), str)


def test_parse_money_is_lenient_on_format_but_strict_on_shape() -> None:
    assert (Decimal("10.000"), "USD") == parse_money(price("10.000"))
    for bad in (
        price(10),
        price(True),
        price("ten"),
        price("NaN"),
        price("Infinity"),
        "10",
        price("1", 5),
    ):
        with pytest.raises(ValueError, match="amount"):
            parse_money(bad)


@pytest.mark.parametrize(
    ("captured", "currency", "allowance"),
    [
        ("100.00", "USD", "15.00"),  # 15 %
        ("1000.00", "USD", "75"),  # capped at 75 USD
        ("0.33", "USD", "0.04"),  # 0.0495 rounded down
        ("0.06", "EUR", "0.00"),  # 0.009 rounded down to nothing
        ("100000", "JPY", "8400"),  # capped at 8,400 JPY
        ("1999", "JPY", "299"),  # 299.85 rounded down, no decimals
        ("1000.00", "CHF", "150.00"),  # no cap for CHF: 15 % only
    ],
)
def test_refund_allowance(captured: str, currency: str, allowance: str) -> None:
    assert Decimal(allowance) == refund_allowance(Decimal(captured), currency, LIMITS)


def test_refund_allowance_uses_limits() -> None:
    limits = Limits(refund_overage_rate=Decimal("0.5"), refund_overage_cap={"USD": 10})
    assert Decimal("10.00") == refund_allowance(Decimal(100), "USD", limits)
    assert Decimal("50.00") == refund_allowance(Decimal(100), "EUR", limits)
