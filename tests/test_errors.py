"""ApiError: the wire's error shape."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import apfsm
from apfsm import ApiError


def test_from_code_takes_status_and_message_from_the_catalog() -> None:
    err = ApiError.from_code("InvalidChargeStatus")
    assert "InvalidChargeStatus" == err.reason_code
    assert 422 == err.http_status
    assert apfsm.ERRORS["InvalidChargeStatus"].description == err.message


def test_str_reads_like_the_wire() -> None:
    err = ApiError.from_code("InvalidChargeStatus", "cannot capture a Charge in state Captured")
    assert "422 InvalidChargeStatus: cannot capture a Charge in state Captured" == str(err)


def test_to_json_is_the_error_body() -> None:
    err = ApiError.from_code("AmountMismatch", "differs")
    assert {"reasonCode": "AmountMismatch", "message": "differs"} == err.to_json()


def test_unknown_code_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match=r"unknown Amazon Pay error code 'Nope'"):
        ApiError.from_code("Nope")


@given(st.sampled_from(sorted(apfsm.ERRORS)), st.text(max_size=40))
def test_every_code_round_trips(code: str, message: str) -> None:
    err = ApiError.from_code(code, message)
    assert err == ApiError(code, apfsm.ERRORS[code].http_status, message)
    assert hash(err) == hash(ApiError(code, apfsm.ERRORS[code].http_status, message))
    assert err == pickle.loads(pickle.dumps(err))
    assert apfsm.ERRORS[code].retryable == err.retryable


def test_is_an_exception_that_can_be_raised_and_caught() -> None:
    with pytest.raises(ApiError) as info:
        raise ApiError.from_code("ResourceNotFound")
    assert 404 == info.value.http_status
    assert "ApiError('ResourceNotFound', 404, " in repr(info.value)


def test_unknown_code_built_directly_is_not_retryable() -> None:
    assert not ApiError("SomethingNew", 499, "x").retryable
    assert ApiError("A", 400, "x") != "A"
