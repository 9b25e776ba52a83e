"""Retries judged against Amazon's advice (issue 15 part 3): with ``check_retries`` an
``IntegrationMachine`` fails an integration that retries what cannot succeed, and with
``retry_within`` one that leaves a retryable decline unretried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import rule, run_state_machine_as_test

from apfsm import ApiError
from apfsm.testing import IntegrationError, IntegrationMachine


class Checked(IntegrationMachine):
    check_retries = True


def _charge_body(permission: str) -> dict[str, Any]:
    return {
        "chargePermissionId": permission,
        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
    }


def _session(machine: IntegrationMachine, *, pending: bool = False) -> str:
    details: dict[str, Any] = {
        "paymentIntent": "Authorize",
        "chargeAmount": {"amount": "100.00", "currencyCode": "USD"},
    }
    if pending:
        details["canHandlePendingAuthorization"] = True
    session = machine.sim.create_checkout_session(
        {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://shop.example/review",
                "checkoutResultReturnUrl": "https://shop.example/result",
            },
            "storeId": "amzn1.application-oa2-client.apfsm-example",
            "paymentDetails": details,
        }
    )
    return str(session["checkoutSessionId"])


COMPLETE = {"chargeAmount": {"amount": "100.00", "currencyCode": "USD"}}


def _permission(machine: IntegrationMachine, kind: str = "OneTime") -> str:
    done = machine.sim.checkout("100.00", intent="Confirm", kind=kind)
    return str(done["chargePermissionId"])


def test_retrying_a_hard_decline_fails() -> None:
    machine = Checked()
    permission = _permission(machine)
    with pytest.raises(ApiError, match="HardDeclined"):
        machine.sim.create_charge(_charge_body(permission), simulation_code="HardDeclined")
    # The sandbox would now authorize the same request; the real Amazon would not.
    with pytest.raises(IntegrationError, match=r"HardDeclined.*check_retries"):
        machine.sim.create_charge(_charge_body(permission))
    assert 1 == len(machine.sim.object_ids("Charge"))  # the refused retry made nothing


def test_the_same_retry_passes_without_the_check() -> None:
    machine = IntegrationMachine()
    permission = _permission(machine)
    with pytest.raises(ApiError):
        machine.sim.create_charge(_charge_body(permission), simulation_code="HardDeclined")
    assert machine.sim.create_charge(_charge_body(permission))["chargeId"]


def test_a_retry_after_the_buyer_fixed_the_payment_method_passes() -> None:
    machine = Checked()
    permission = _permission(machine, "Recurring")
    with pytest.raises(ApiError):
        machine.sim.create_charge(_charge_body(permission), simulation_code="HardDeclined")
    machine.sim.advance(timedelta(minutes=5))
    machine.sim.payment_method_fixed(permission)  # the buyer picks another card
    assert machine.sim.create_charge(_charge_body(permission))["chargeId"]


def test_retrying_after_an_asynchronous_hard_decline_fails() -> None:
    machine = Checked()
    session = _session(machine, pending=True)
    machine.sim.buyer_approve(session, card="4354")  # pending, then HardDeclined
    done = machine.sim.complete_checkout_session(session, COMPLETE)
    machine.sim.advance(timedelta(minutes=5))
    assert "Declined" == machine.sim.object_state(done["chargeId"])
    with pytest.raises(IntegrationError, match="was declined HardDeclined"):
        machine.sim.create_charge(_charge_body(done["chargePermissionId"]))


def test_soft_declines_and_completions_are_judged_by_their_advice() -> None:
    machine = Checked()
    permission = _permission(machine)
    with pytest.raises(ApiError, match="SoftDeclined"):
        machine.sim.create_charge(_charge_body(permission), simulation_code="SoftDeclined")
    assert machine.sim.create_charge(_charge_body(permission))["chargeId"]  # may retry
    session = _session(machine)
    machine.sim.buyer_approve(session)
    with pytest.raises(ApiError, match="CheckoutSessionCanceled"):
        machine.sim.complete_checkout_session(session, COMPLETE, simulation_code="BuyerCanceled")
    with pytest.raises(IntegrationError, match="CheckoutSessionCanceled"):
        machine.sim.complete_checkout_session(session, COMPLETE)


class Within(IntegrationMachine):
    retry_within: ClassVar[timedelta | None] = timedelta(days=1)


def test_a_soft_decline_left_unretried_fails_after_retry_within() -> None:
    machine = Within()
    permission = _permission(machine)
    with pytest.raises(ApiError):
        machine.sim.create_charge(_charge_body(permission), simulation_code="SoftDeclined")
    machine.sim.advance(timedelta(days=1))
    machine.retries_are_kept()  # exactly a day: still in time
    machine.sim.advance(timedelta(seconds=1))
    with pytest.raises(IntegrationError, match="not retried within 1 day"):
        machine.retries_are_kept()
    machine.sim.create_charge(_charge_body(permission))  # retried: the obligation is met
    machine.retries_are_kept()


def test_a_hard_decline_asks_for_no_retry() -> None:
    machine = Within()
    permission = _permission(machine)
    with pytest.raises(ApiError):
        machine.sim.create_charge(_charge_body(permission), simulation_code="HardDeclined")
    machine.sim.advance(timedelta(days=3))
    machine.retries_are_kept()


class Stubborn(IntegrationMachine):
    """An integration that retries every decline at once: the bug the check exists for."""

    check_retries = True

    def __init__(self) -> None:
        super().__init__()
        self.permission = _permission(self)

    @rule()
    def charge(self) -> None:
        if self.amazon_json(self.permission)["statusDetails"]["state"] != "Chargeable":
            return  # it knows not to charge a permission it cannot
        for _ in range(2):
            try:
                self.sim.create_charge(_charge_body(self.permission))
                return
            except ApiError:
                continue


def test_hypothesis_finds_an_integration_that_retries_hard_declines() -> None:
    with pytest.raises(IntegrationError, match="check_retries"):
        run_state_machine_as_test(
            Stubborn,
            settings=settings(
                max_examples=300,
                stateful_step_count=8,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
