"""``FacadeMachine``: fuzzing a shop written against PPRO's facade. A correct shop (it
keeps the newest status a notification or its own call tells it, never moving back) passes;
a shop that trusts notifications in arrival order makes an illegal facade move when they
come reordered, and a shop that ignores ``FAILED`` and ``DISCARDED`` notifications misses a status the
merchant must act on — each found, with the object's story."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule, run_state_machine_as_test

from apfsm._fuzz import path_exists
from apfsm.facades import PPRO_PAYMENT_CHARGE, FacadeError
from apfsm.testing import FacadeMachine, FacadeMoveError
from apfsm.testing import FacadeRules as PublicFacadeRules

SETTINGS = settings(
    max_examples=400,
    stateful_step_count=20,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)
BODY = {
    "paymentMethod": "AMAZON_PAY",
    "consumer": {"country": "US"},
    "authenticationSettings": [
        {"type": "REDIRECT", "settings": {"returnUrl": "https://shop.example/r"}}
    ],
}


class PproShop(FacadeMachine):
    def __init__(self) -> None:
        super().__init__()
        self.books: dict[str, str] = {}

    def facade_view(self) -> dict[str, str]:
        return self.books

    def learn(self, charge_id: str, status: str) -> None:
        # A notification may be older than what the shop knows: keep the newest.
        known = self.books.get(charge_id)
        if known is None or path_exists(PPRO_PAYMENT_CHARGE, known, status):
            self.books[charge_id] = status

    def on_facade_notification(self, message: dict[str, Any]) -> None:
        self.learn(message["id"], message["status"])

    @precondition(lambda self: len(self.books) < 3)
    @rule(cents=st.integers(50, 90_000))
    def place_order(self, cents: int) -> None:
        amount = {"value": cents, "currency": "USD"}
        charge = self.ppro.create_payment_charge({**BODY, "amount": amount})
        self.learn(charge["id"], charge["status"])

    @precondition(lambda self: "CAPTURE_PENDING" in self.books.values())
    @rule(pick=st.integers(0, 7))
    def ship(self, pick: int) -> None:
        pending = [c for c, s in self.books.items() if s == "CAPTURE_PENDING"]
        charge_id = pending[pick % len(pending)]
        try:
            answer = self.ppro.capture(charge_id)
        except FacadeError:  # the books were behind (Amazon canceled it): look again
            answer = self.ppro.get_payment_charge(charge_id)
        self.learn(charge_id, answer["status"])


class TrustsArrivalOrder(PproShop):
    def learn(self, charge_id: str, status: str) -> None:
        self.books[charge_id] = status  # the bug: an older notification wins


class IgnoresFailures(PproShop):
    def on_facade_notification(self, message: dict[str, Any]) -> None:
        # The bug: a failed or discarded payment is never booked.
        if message["status"] not in ("FAILED", "DISCARDED"):
            super().on_facade_notification(message)


def test_the_public_names() -> None:
    assert issubclass(FacadeMachine, PublicFacadeRules)
    assert issubclass(FacadeMoveError, AssertionError)


def test_a_correct_facade_shop_passes() -> None:
    run_state_machine_as_test(PproShop, settings=SETTINGS)


def test_a_reordered_notification_is_an_illegal_move() -> None:
    with pytest.raises(FacadeMoveError) as caught:
        run_state_machine_as_test(TrustsArrivalOrder, settings=SETTINGS)
    # The stale status shows either as a move back (when the view is read between the
    # two notifications) or, read after both, as a missed one.
    assert caught.value.kind in ("illegal", "missed")
    assert "your integration's view of it" in str(caught.value)
    assert "Amazon's situation behind it" in str(caught.value)  # the story


def test_an_ignored_failure_is_a_missed_move() -> None:
    with pytest.raises(FacadeMoveError) as caught:
        run_state_machine_as_test(IgnoresFailures, settings=SETTINGS)
    assert "missed" == caught.value.kind
    assert caught.value.truth in ("FAILED", "DISCARDED")
    assert "must act on" in str(caught.value)
