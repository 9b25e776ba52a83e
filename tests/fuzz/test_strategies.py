"""apfsm.strategies: valid draws are valid, faulty draws get exactly their code."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning

import apfsm
import apfsm.strategies as aps
from apfsm import OPERATIONS, Limits
from apfsm._decide.bodycheck import body_fault
from apfsm._fuzz.bodies import schema_body, single_faults
from tests.reference.spec_model import predict

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
LIMITS = Limits()


@given(st.data())
def test_money_respects_minor_units(data: st.DataObject) -> None:
    price = data.draw(aps.money())
    decimals = LIMITS.currency_decimals[price["currencyCode"]]
    amount = Decimal(price["amount"])
    assert amount > 0
    assert -amount.as_tuple().exponent <= decimals  # type: ignore[operator]
    assert (
        apfsm.check("capture_charge", None, body={"captureAmount": price}, at=AT).reason_code
        == "ResourceNotFound"
    )


@given(aps.money(currency="JPY", min_value=100, max_value=200))
def test_money_bounds_and_currency(price: dict[str, str]) -> None:
    assert "JPY" == price["currencyCode"]
    assert "." not in price["amount"]
    assert 100 <= int(price["amount"]) <= 200


def test_money_misuse() -> None:
    with pytest.raises(ValueError, match="not a supported currency"):
        aps.money(currency="XXX")
    with pytest.raises(ValueError, match="no USD amount"):
        aps.money(currency="USD", min_value=5, max_value=1).example()


@settings(max_examples=20)
@given(
    aps.currencies(),
    aps.sandbox_cards(),
    aps.simulation_codes(),
    aps.simulation_codes(operation="capture_charge"),
)
def test_small_strategies(currency: str, card: str, code: str, capture_code: str) -> None:
    assert currency in LIMITS.currency_decimals
    assert card in apfsm.SANDBOX_CARDS
    assert any(code in codes for codes in apfsm.SIMULATION_CODES.values())
    assert capture_code in apfsm.SIMULATION_CODES["capture_charge"]


def test_simulation_codes_misuse() -> None:
    with pytest.raises(ValueError, match="takes no simulation code"):
        aps.simulation_codes(operation="get_charge")
    with pytest.raises(ValueError, match="unknown operation"):
        aps.simulation_codes(operation="refund_all")
    with pytest.raises(ValueError, match="unknown operation"):
        aps.request_bodies("refund_all")


OPS = sorted(OPERATIONS)
#: The codes a body's faults get (SPEC §8).
BODY_CODES = {
    "InvalidRequestFormat",
    "UnrecognizedField",
    "MissingParameterValue",
    "InvalidParameterValue",
    "InvalidParameterCombination",
}


@given(st.sampled_from(OPS), st.data())
def test_valid_bodies_pass_validation(operation: str, data: st.DataObject) -> None:
    body = data.draw(aps.request_bodies(operation))
    assert None is body_fault(operation, body, LIMITS)


@given(st.sampled_from(OPS), st.data())
def test_faulty_bodies_get_exactly_their_code(operation: str, data: st.DataObject) -> None:
    body, code = data.draw(aps.request_bodies(operation, valid=False))
    fault = body_fault(operation, body, LIMITS)
    assert fault is not None
    assert code == fault[0]
    # The independent reference model agrees on the code (SPEC §8 order).
    target: Any = None if operation == "create_checkout_session" else {}
    assert code == predict(operation, target, body, AT).error_code


def test_every_fault_class_is_drawn() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, database=None)
    @given(st.sampled_from(OPS), st.data())
    def collect(operation: str, data: st.DataObject) -> None:
        seen.add(data.draw(aps.request_bodies(operation, valid=False))[1])

    collect()
    assert BODY_CODES == seen


def test_time_steps_hit_every_deadline() -> None:
    offsets = aps.deadline_offsets()
    for limit in LIMITS.durations().values():
        for delta in (limit - timedelta(seconds=1), limit, limit + timedelta(seconds=1)):
            assert delta in offsets
    custom = aps.deadline_offsets(Limits(authorization_ttl=timedelta(days=3)))
    assert timedelta(days=3) in custom
    assert timedelta(days=3) not in offsets


def test_time_steps_land_on_deadlines_often() -> None:
    # A distribution, not a property: draw freely (as a stateful test does, step after
    # step) and count. About half land exactly on a deadline; uniform jumps almost never do.
    offsets = set(aps.deadline_offsets())
    strategy = aps.time_steps()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        steps = [strategy.example() for _ in range(300)]
    assert all(step > timedelta(0) for step in steps)
    assert sum(step in offsets for step in steps) >= len(steps) // 4
    # Every one of them can be drawn.
    for target in (timedelta(days=7), timedelta(days=30) + timedelta(seconds=1)):

        def hits(step: timedelta, target: timedelta = target) -> bool:
            return step == target

        assert target == find(strategy, hits)


def test_limited_text_hits_the_length_boundaries() -> None:
    from apfsm._fuzz.values import bounded_text as _bounded_text

    seen: set[str] = set()

    @settings(max_examples=200, database=None)
    @given(_bounded_text(16))
    def collect(text: str) -> None:
        assert len(text) <= 16
        seen.add(text)

    collect()
    assert {"", "x" * 15, "x" * 16, "é" * 16} <= seen


# ---------------------------------------------------------------------------------------
# What the stateful machine uses instead of drawing bodies: faults put into a valid body
# by number, and schema-random bodies from a seed (one integer each per step)
# ---------------------------------------------------------------------------------------


@given(st.sampled_from(OPS), st.integers(0, 2**32))
def test_schema_bodies_from_a_seed_are_valid_and_repeatable(operation: str, seed: int) -> None:
    body = schema_body(operation, LIMITS, seed)
    assert None is body_fault(operation, body, LIMITS)
    assert body == schema_body(operation, LIMITS, seed)


def test_schema_bodies_from_seeds_vary_like_drawn_ones() -> None:
    bodies = [schema_body("create_checkout_session", LIMITS, seed) for seed in range(200)]
    assert len({repr(b) for b in bodies}) > 150
    currencies = {
        b["paymentDetails"]["chargeAmount"]["currencyCode"]
        for b in bodies
        if "chargeAmount" in b.get("paymentDetails", {})
    }
    assert {"USD", "EUR", "JPY"} <= currencies
    assert any("merchantMetadata" in b for b in bodies)
    assert any("merchantMetadata" not in b for b in bodies)


@given(st.sampled_from(OPS), st.data())
def test_every_single_fault_gets_exactly_its_code(operation: str, data: st.DataObject) -> None:
    valid = data.draw(aps.request_bodies(operation))
    faults = [f for f in single_faults(operation, LIMITS) if f.applies(valid)]
    assert faults
    for fault in faults:
        body, code = fault.apply(valid)
        found = body_fault(operation, body, LIMITS)
        assert found is not None, (fault, body)
        assert code == found[0], (fault, body, found)
        # The independent reference model agrees on the code (SPEC §8 order).
        target: Any = None if operation == "create_checkout_session" else {}
        assert code == predict(operation, target, body, AT).error_code, (fault, body)
    assert None is body_fault(operation, valid, LIMITS)  # apply() changed a copy


def test_single_faults_cover_every_body_code() -> None:
    codes = {f.code for op in OPS for f in single_faults(op, LIMITS)}
    assert BODY_CODES == codes
