"""``PproAdapter`` playing PPRO's payment agreements (``AUTHENTICATION_PENDING`` →
``ACTIVE`` → ``REVOKED``, charges on them captured separately, PPRO's 0.50–20,000 USD) and
refunds (answered at once, then funded or rejected as Amazon decides: full, partial,
multiple) over apfsm's simulator."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apfsm import ManualClock, Simulator
from apfsm.facades import (
    PPRO_PAYMENT_AGREEMENT,
    PPRO_PAYMENT_CHARGE,
    PPRO_REFUND,
    FacadeError,
    PproAdapter,
    illegal_moves,
)

REDIRECT = {
    "paymentMethod": "AMAZON_PAY",
    "consumer": {"country": "US"},
    "authenticationSettings": [
        {"type": "REDIRECT", "settings": {"returnUrl": "https://shop.example/r"}}
    ],
}


class Declining(Simulator):
    """A simulator whose next Create Refund gets a simulation code (Amazon's decline)."""

    refund_code: str | None = None

    def create_refund(  # type: ignore[override]
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        code, self.refund_code = self.refund_code, None
        return super().create_refund(body, idempotency_key=idempotency_key, simulation_code=code)


@pytest.fixture
def sim() -> Declining:
    return Declining(ManualClock(datetime(2026, 1, 31, 9, tzinfo=UTC)))


def _active(sim: Simulator, ppro: PproAdapter) -> str:
    agreement = ppro.create_payment_agreement(REDIRECT)
    assert "AUTHENTICATION_PENDING" == agreement["status"]
    assert agreement["authenticationMethods"][0]["type"] == "REDIRECT"
    session_id = ppro.amazon_ids(agreement["id"])[0]
    assert (agreement["id"],) == ppro.for_checkout_session(session_id)
    sim.buyer_approve(session_id)
    assert "ACTIVE" == ppro.consumer_returned(agreement["id"])["status"]
    return str(agreement["id"])


def _captured(sim: Simulator, ppro: PproAdapter, cents: int = 10_000) -> str:
    agreement = _active(sim, ppro)
    charge = ppro.create_payment_charge(
        {"amount": {"value": cents, "currency": "USD"}, "paymentAgreementId": agreement}
    )
    assert "CAPTURE_PENDING" == charge["status"]
    assert "CAPTURED" == ppro.capture(charge["id"])["status"]
    return str(charge["id"])


# ---------------------------------------------------------------------------------------
# Agreements
# ---------------------------------------------------------------------------------------


def test_an_agreement_becomes_active_and_its_charges_are_captured_separately(
    sim: Declining,
) -> None:
    ppro = PproAdapter(sim, sim.now)
    agreement = _active(sim, ppro)
    assert ("AUTHENTICATION_PENDING", "ACTIVE") == ppro.history(agreement)
    permission = ppro.amazon_ids(agreement)[1]
    assert permission is not None
    assert "Chargeable" == sim.get_charge_permission(permission)["statusDetails"]["state"]
    charges = []
    for cents in (50, 10_000):  # PPRO's minimum, inclusive
        charge = ppro.create_payment_charge(
            {"amount": {"value": cents, "currency": "USD"}, "paymentAgreementId": agreement}
        )
        assert "CAPTURE_PENDING" == charge["status"]  # authorized, not captured
        assert agreement == charge["paymentAgreementId"]
        charges.append(charge["id"])
    # Each charge on the agreement is captured on its own, when the merchant says so.
    assert "CAPTURED" == ppro.capture(charges[0])["status"]
    assert "CAPTURE_PENDING" == ppro.get_payment_charge(charges[1])["status"]
    at_once = ppro.create_payment_charge(
        {
            "amount": {"value": 700, "currency": "USD"},
            "paymentAgreementId": agreement,
            "autoCapture": True,
        }
    )
    assert "CAPTURED" == at_once["status"]
    for charge_id in (*charges, at_once["id"]):
        assert () == illegal_moves(PPRO_PAYMENT_CHARGE, ppro.history(charge_id))


@pytest.mark.parametrize("cents", [49, 2_000_001, 0, -50])
def test_charges_on_an_agreement_keep_ppros_limits(sim: Declining, cents: int) -> None:
    ppro = PproAdapter(sim, sim.now)
    agreement = _active(sim, ppro)
    with pytest.raises(FacadeError, match="AMOUNT_NOT_SUPPORTED"):
        ppro.create_payment_charge(
            {"amount": {"value": cents, "currency": "USD"}, "paymentAgreementId": agreement}
        )


def test_a_revoked_agreement_takes_no_charges(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    agreement = _active(sim, ppro)
    assert "REVOKED" == ppro.revoke_agreement(agreement)["status"]
    permission = ppro.amazon_ids(agreement)[1]
    assert permission is not None
    seen = {o.id: o for o in ppro.objects()}[agreement]
    assert ("ChargePermission", "Closed", "MerchantClosed") == seen.situation
    with pytest.raises(FacadeError, match="STATUS_NOT_ALLOWED"):
        ppro.create_payment_charge(
            {"amount": {"value": 500, "currency": "USD"}, "paymentAgreementId": agreement}
        )
    with pytest.raises(FacadeError, match="STATUS_NOT_ALLOWED"):
        ppro.revoke_agreement(agreement)
    assert () == illegal_moves(PPRO_PAYMENT_AGREEMENT, ppro.history(agreement))


def test_an_agreement_the_consumer_never_finishes_fails(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    agreement = ppro.create_payment_agreement(REDIRECT)["id"]
    with pytest.raises(FacadeError, match="STATUS_NOT_ALLOWED"):  # not ACTIVE yet
        ppro.create_payment_charge(
            {"amount": {"value": 500, "currency": "USD"}, "paymentAgreementId": agreement}
        )
    assert "AUTHENTICATION_PENDING" == ppro.consumer_returned(agreement)["status"]  # not paid
    sim.advance(timedelta(hours=25))  # Amazon's session expires (and is later deleted)
    assert "FAILED" == ppro.get_payment_agreement(agreement)["status"]
    sim.advance(timedelta(days=30))
    assert "FAILED" == ppro.get_payment_agreement(agreement)["status"]
    with pytest.raises(FacadeError, match="NOT_FOUND"):
        ppro.get_payment_agreement("agreement_9")


def test_ppros_maximum_passes_the_facade_and_amazons_cap_fails_it_at_once(
    sim: Declining,
) -> None:
    # 20,000.00 USD "can vary by consumer": Amazon's periodic cap on a recurring
    # permission refuses it, and PPRO answers a FAILED charge carrying Amazon's code.
    ppro = PproAdapter(sim, sim.now)
    agreement = _active(sim, ppro)
    charge = ppro.create_payment_charge(
        {"amount": {"value": 2_000_000, "currency": "USD"}, "paymentAgreementId": agreement}
    )
    assert "FAILED" == charge["status"]
    assert {"failureCode": "PeriodicAmountExceeded"} == charge["failure"]
    assert "ACTIVE" == ppro.get_payment_agreement(agreement)["status"]  # still usable
    assert ("FAILED",) == ppro.history(charge["id"])


def test_the_buyer_closing_the_permission_shows_as_revoked(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    agreement = _active(sim, ppro)
    permission = ppro.amazon_ids(agreement)[1]
    assert permission is not None
    sim.buyer_close_charge_permission(permission)  # behind PPRO's back
    assert "REVOKED" == ppro.get_payment_agreement(agreement)["status"]
    seen = {o.id: o for o in ppro.objects()}[agreement]
    assert ("ChargePermission", "Closed", "BuyerClosed") == seen.situation


# ---------------------------------------------------------------------------------------
# Refunds
# ---------------------------------------------------------------------------------------


def test_refunds_full_partial_and_multiple_wait_then_are_sent(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    charge = _captured(sim, ppro, 10_000)
    first = ppro.refund(charge, 2_500, reference="r1")
    second = ppro.refund(charge, 7_500, reference="r2")
    for refund in (first, second):
        assert "REFUND_FUNDS_WAITING" == refund["status"]  # answered at once
        assert charge == refund["paymentChargeId"]
    assert (first["id"], second["id"]) == ppro.refunds(charge)
    assert first == ppro.refund(charge, 2_500, reference="r1")  # a retry: the same refund
    sim.advance(timedelta(minutes=30))  # Amazon's refunds complete
    for refund in (first, second):
        assert "REFUND_FUNDS_SENT" == ppro.get_refund(refund["id"])["status"]
        history = ppro.history(refund["id"])
        assert ("REFUND_FUNDS_WAITING", "REFUND_FUNDS_SENT") == history
        assert () == illegal_moves(PPRO_REFUND, history)
    assert "CAPTURED" == ppro.get_payment_charge(charge)["status"]  # the charge stays


@pytest.mark.parametrize("code", ["AmazonRejected", "ProcessingFailure"])
def test_a_refund_amazon_declines_waits_then_is_rejected(sim: Declining, code: str) -> None:
    ppro = PproAdapter(sim, sim.now)
    charge = _captured(sim, ppro)
    sim.refund_code = code
    refund = ppro.refund(charge, 1_000, reference="r1")
    # PPRO's synchronous answer is a success: the refund still waits for its funds.
    assert "REFUND_FUNDS_WAITING" == refund["status"]
    sim.advance(timedelta(minutes=30))
    assert "REFUND_FUNDS_REJECTED" == ppro.get_refund(refund["id"])["status"]
    seen = {o.id: o for o in ppro.objects()}[refund["id"]]
    assert ("Refund", "Declined", code) == seen.situation


def test_a_refund_amazon_refuses_is_failed_at_once(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    charge = _captured(sim, ppro, 1_000)
    too_much = ppro.refund(charge, 100_000, reference="big")  # far over the captured amount
    assert "FAILED" == too_much["status"]
    assert too_much["failure"]["failureCode"] == "TransactionAmountExceeded"
    assert "REFUND_FUNDS_WAITING" == ppro.refund(charge, 1_000, reference="full")["status"]
    with pytest.raises(FacadeError, match="AMOUNT_NOT_SUPPORTED"):
        ppro.refund(charge, 0, reference="zero")
    with pytest.raises(FacadeError, match="NOT_FOUND"):
        ppro.get_refund("charge_refund_99")


def test_refunds_need_a_captured_charge(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    agreement = _active(sim, ppro)
    charge = ppro.create_payment_charge(
        {"amount": {"value": 500, "currency": "USD"}, "paymentAgreementId": agreement}
    )
    with pytest.raises(FacadeError, match="STATUS_NOT_ALLOWED"):
        ppro.refund(charge["id"], 500, reference="r1")
    assert () == ppro.refunds(charge["id"])


def test_objects_shows_every_facade_object_through_its_own_facade(sim: Declining) -> None:
    ppro = PproAdapter(sim, sim.now)
    charge = _captured(sim, ppro)
    ppro.refund(charge, 100, reference="r1")
    facades = {o.id: o.facade.name for o in ppro.objects()}
    assert facades == {
        "charge_1": "ppro_payment_charge",
        "charge_agreement_1": "ppro_payment_agreement",
        "charge_refund_1": "ppro_refund",
    }
