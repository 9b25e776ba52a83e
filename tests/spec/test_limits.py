"""Limits: SPEC's numbers and decisions as named, validated, overridable values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import attrs
import pytest

from apfsm import FrozenMap, Limits


def test_defaults_are_spec_values() -> None:
    limits = Limits()
    assert timedelta(hours=24) == limits.checkout_session_ttl
    assert timedelta(days=30) == limits.checkout_session_retention
    assert timedelta(hours=24) == limits.pending_authorization_ttl
    assert timedelta(days=7) == limits.async_capture_after
    assert timedelta(days=30) == limits.authorization_ttl
    assert timedelta(days=180) == limits.one_time_permission_ttl
    assert 13 == limits.extended_permission_months
    assert 13 == limits.recurring_permission_months
    assert 25 == limits.max_charges_per_one_time_permission
    assert 10 == limits.max_refunds_per_charge
    assert limits.ttl_passed_at_deadline
    assert not limits.async_capture_at_boundary
    assert limits.recurring_ttl_restarts_on_charge
    assert {
        "USD": 150_000,
        "EUR": 150_000,
        "GBP": 150_000,
        "JPY": 10_000_000,
    } == limits.max_charge_amount
    assert {
        "USD": 1_000,
        "EUR": 1_000,
        "GBP": 1_000,
        "JPY": 100_000,
    } == limits.recurring_monthly_cap
    assert Decimal("0.15") == limits.refund_overage_rate
    # SPEC §11 (Amazon: advanced-one-time-payment-options, Create Refund's refundAmount).
    assert {"USD": 150_000, "EUR": 150_000, "GBP": 150_000, "JPY": 10_000_000} == (
        limits.max_refund_amount
    )
    assert Decimal(9) == limits.overcharge_rate
    # Amazon's "Monthly Saved Wallet Charge Limits" page (SPEC §11).
    assert {
        **dict.fromkeys(("USD", "EUR", "GBP", "AUD", "CHF", "NZD"), 15_000),
        **dict.fromkeys(("DKK", "HKD", "NOK", "SEK", "ZAR"), 150_000),
        "JPY": 2_000_000,
    } == limits.payment_method_on_file_monthly_cap
    assert {"USD": 500, "EUR": 500, "GBP": 500, "JPY": 70_000} == limits.overcharge_floor
    assert Decimal(900) == limits.overcharge_limit(Decimal(100), "USD")
    assert Decimal(500) == limits.overcharge_limit(Decimal("55.55"), "USD")
    assert Decimal(70_000) == limits.overcharge_limit(Decimal(7_000), "JPY")
    assert Decimal(90) == limits.overcharge_limit(Decimal(10), "SEK")
    assert {"USD": 75, "EUR": 75, "GBP": 75, "JPY": 8_400} == limits.refund_overage_cap
    assert 0 == limits.currency_decimals["JPY"]
    expected_two = ("USD", "EUR", "GBP", "AUD", "CHF", "DKK", "HKD", "NOK", "NZD", "SEK", "ZAR")
    assert all(2 == limits.currency_decimals[c] for c in expected_two)
    assert 12 == len(limits.currency_decimals)
    assert timedelta(seconds=30) == limits.async_outcome_delay
    assert 32 == limits.idempotency_key_max_length
    assert 16 == limits.soft_descriptor_max_length
    assert 255 == limits.reason_text_max_length


def test_limits_are_frozen_hashable_and_evolvable() -> None:
    limits = Limits()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        limits.authorization_ttl = timedelta(days=1)  # type: ignore[misc]
    shorter = attrs.evolve(limits, authorization_ttl=timedelta(days=7))
    assert timedelta(days=7) == shorter.authorization_ttl
    assert hash(Limits()) == hash(limits)
    assert shorter != limits
    assert {limits: 1}[Limits()] == 1


def test_money_mappings_accept_ints_and_strings_and_are_read_only() -> None:
    limits = Limits(recurring_monthly_cap={"USD": 500, "CAD": "750.50"})
    assert {"USD": Decimal(500), "CAD": Decimal("750.50")} == limits.recurring_monthly_cap
    assert isinstance(limits.recurring_monthly_cap, FrozenMap)
    with pytest.raises(TypeError, match="read-only"):
        limits.recurring_monthly_cap["USD"] = Decimal(1)
    with pytest.raises(TypeError, match="read-only"):
        limits.recurring_monthly_cap.update({"USD": Decimal(1)})


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"authorization_ttl": timedelta(0)}, ValueError, "positive"),
        ({"authorization_ttl": 30}, TypeError, "timedelta"),
        ({"max_refunds_per_charge": 0}, ValueError, "positive"),
        ({"max_refunds_per_charge": 2.5}, TypeError, "int"),
        ({"max_refunds_per_charge": True}, TypeError, "int"),
        ({"ttl_passed_at_deadline": 1}, TypeError, "bool"),
        ({"recurring_monthly_cap": {"USD": 1000.0}}, TypeError, "Decimal"),
        ({"recurring_monthly_cap": {"usd": 1000}}, ValueError, "three upper-case"),
        ({"recurring_monthly_cap": {"USD": -1}}, ValueError, "positive"),
        ({"refund_overage_rate": 0.15}, TypeError, "Decimal"),
        ({"refund_overage_rate": "-0.1"}, ValueError, "zero or positive"),
        ({"currency_decimals": {"USD": 7}}, ValueError, "0 to 4"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError):
        Limits(authorisation_ttl=timedelta(days=1))  # type: ignore[call-arg]


def test_duration_and_month_listings() -> None:
    limits = Limits()
    durations = limits.durations()
    assert {
        "checkout_session_ttl",
        "checkout_session_retention",
        "pending_authorization_ttl",
        "async_capture_after",
        "authorization_ttl",
        "one_time_permission_ttl",
        "buyer_details_retention",
        "buyer_token_ttl",
        "chargeback_response_window",
        "claim_response_window",
        "file_upload_url_ttl",
        "report_processing_time",
        "report_retention",
        "async_outcome_delay",
    } == set(durations)
    assert {
        "extended_permission_months": 13,
        "recurring_permission_months": 13,
    } == limits.month_limits()
    assert "30 d" == limits.describe("authorization_ttl")
    assert "13 months" == limits.describe("recurring_permission_months")
    assert "25" == limits.describe("max_charges_per_one_time_permission")


def test_frozen_map_behaves_like_a_dict() -> None:
    m = FrozenMap({"a": 1})
    assert m == {"a": 1}
    assert "FrozenMap({'a': 1})" == repr(m)
    assert hash(m) == hash(FrozenMap({"a": 1}))
    for mutate in (m.clear, m.popitem):
        with pytest.raises(TypeError):
            mutate()
    with pytest.raises(TypeError):
        del m["a"]
