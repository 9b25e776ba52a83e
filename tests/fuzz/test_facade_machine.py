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
from apfsm.facades import PPRO_PAYMENT_AGREEMENT, PPRO_PAYMENT_CHARGE, PPRO_REFUND, FacadeError
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


# ---------------------------------------------------------------------------------------
# Agreements and refunds: a subscription shop written against PPRO
# ---------------------------------------------------------------------------------------

FACADES = {f.name: f for f in (PPRO_PAYMENT_CHARGE, PPRO_PAYMENT_AGREEMENT, PPRO_REFUND)}


class PproSubscriptionShop(FacadeMachine):
    """Signs buyers up to an agreement, charges it (authorize, then capture separately),
    and refunds captured charges in parts; it books every facade object's newest status.
    Authorizations are answered at once, to keep the way to a refund short."""

    pending_authorizations = False

    def __init__(self) -> None:
        super().__init__()
        self.books: dict[str, str] = {}
        self.kinds: dict[str, str] = {}  # facade object id -> its facade's name
        self.billed: dict[str, int] = {}  # charge id -> its amount in cents
        self.refunded: dict[str, int] = {}  # charge id -> the cents asked back so far

    def facade_view(self) -> dict[str, str]:
        return self.books

    def count(self, kind: str) -> int:
        return sum(1 for k in self.kinds.values() if k == kind)

    def refundable_charges(self) -> list[str]:
        # Within what was captured, and under Amazon's count of refunds per charge (a
        # refund past either is a call Amazon refuses: strict mode's IntegrationError).
        limit = self.limits.max_refunds_per_charge
        return [
            c
            for c, s in self.books.items()
            if s == "CAPTURED"
            and self.refunded.get(c, 0) < self.billed[c]
            and len(self.ppro.refunds(c)) < limit
        ]

    def learn(self, object_id: str, status: str, kind: str | None = None) -> None:
        kind = self.kinds.setdefault(object_id, kind or "")
        known = self.books.get(object_id)
        if known is None or path_exists(FACADES[kind], known, status):
            self.books[object_id] = status

    def on_facade_notification(self, message: dict[str, Any]) -> None:
        self.learn(message["id"], message["status"], message["type"])

    def on_consumer_returned(self, facade_id: str) -> None:
        # The return page: PPRO completes the agreement, and the shop books its answer.
        self.learn(facade_id, self.ppro.consumer_returned(facade_id)["status"])

    def _pick(self, status: str, pick: int) -> str:
        found = [i for i, s in self.books.items() if s == status]
        return found[pick % len(found)]

    # The caps count each kind on its own: sign-ups that failed (the buyer gone, the
    # session expired) leave room for charges.
    @precondition(lambda self: self.count("ppro_payment_agreement") < 4)
    @rule()
    def sign_up(self) -> None:
        agreement = self.ppro.create_payment_agreement(BODY)
        self.learn(agreement["id"], agreement["status"], "ppro_payment_agreement")

    @precondition(
        lambda self: "ACTIVE" in self.books.values() and self.count("ppro_payment_charge") < 8
    )
    # Eight charges of at most 125 USD stay within the agreement's monthly cap (1,000 USD:
    # Limits.recurring_monthly_cap), which Amazon enforces behind PPRO's back.
    # Either captured at once (PPRO's autoCapture) or later, when the order ships.
    @rule(cents=st.integers(50, 12_500), pick=st.integers(0, 7), auto_capture=st.booleans())
    def bill(self, cents: int, pick: int, auto_capture: bool) -> None:
        agreement = self._pick("ACTIVE", pick)
        body = {
            "amount": {"value": cents, "currency": "USD"},
            "paymentAgreementId": agreement,
            "autoCapture": auto_capture,
        }
        try:
            charge = self.ppro.create_payment_charge(body)
        except FacadeError:  # the books were behind: the agreement is no longer ACTIVE
            self.learn(agreement, self.ppro.get_payment_agreement(agreement)["status"])
            return
        self.billed[charge["id"]] = cents
        self.learn(charge["id"], charge["status"], "ppro_payment_charge")

    @precondition(lambda self: "CAPTURE_PENDING" in self.books.values())
    @rule(pick=st.integers(0, 7))
    def ship(self, pick: int) -> None:
        charge_id = self._pick("CAPTURE_PENDING", pick)
        try:
            answer = self.ppro.capture(charge_id)
        except FacadeError:
            answer = self.ppro.get_payment_charge(charge_id)
        self.learn(charge_id, answer["status"])

    @precondition(lambda self: bool(self.refundable_charges()))
    @rule(pick=st.integers(0, 7), cents=st.integers(1, 5_000))
    def refund(self, pick: int, cents: int) -> None:
        charges = self.refundable_charges()
        charge_id = charges[pick % len(charges)]
        cents = min(cents, self.billed[charge_id] - self.refunded.get(charge_id, 0))
        # A declined refund's money is not asked back again (the shop refunds it outside).
        self.refunded[charge_id] = self.refunded.get(charge_id, 0) + cents
        reference = f"r{len(self.ppro.refunds(charge_id))}"
        refund = self.ppro.refund(charge_id, cents, reference=reference)
        self.book_refund(refund)

    def book_refund(self, refund: dict[str, Any]) -> None:
        self.learn(refund["id"], refund["status"], "ppro_refund")


class TreatsWaitingAsRefunded(PproSubscriptionShop):
    def book_refund(self, refund: dict[str, Any]) -> None:
        # The bug: PPRO's synchronous success is booked as money sent to the buyer.
        status = "REFUND_FUNDS_SENT" if refund["status"] == "REFUND_FUNDS_WAITING" else None
        self.learn(refund["id"], status or refund["status"], "ppro_refund")


#: The planted-bug search, in the style of test_examples_shop.py's BUG_SETTINGS: a ceiling
#: on examples (the search stops at the first failure), derandomized, 40 steps a run.
BUG_SETTINGS = settings(
    max_examples=2_000,
    stateful_step_count=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate, Phase.shrink),
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)
#: The most steps the shrunk case of the waiting-refund bug may have. Six make it (sign-up,
#: approval, billing captured at once, the refund, Amazon declining it, the notifications);
#: the shrinker leaves a few more (10 when this file ran alone: three extra sign-ups, the
#: rule it turns other steps into, and a partial delivery). The bound leaves room for the
#: modules a session has loaded, from which Hypothesis draws constants.
WAITING_REFUND_MOST_STEPS = 12


class CountsRejections(PproSubscriptionShop):
    """The correct shop, counting the runs in which Amazon declined a refund."""

    rejections: int = 0

    def teardown(self) -> None:
        statuses = {track.truth[-1][1] for track in self._tracks.values()}
        type(self).rejections += "REFUND_FUNDS_REJECTED" in statuses
        super().teardown()


def test_a_correct_subscription_shop_passes() -> None:
    # As deep as the bug search (40 steps a run), on fewer runs: the correct shop meets
    # declined refunds and books them.
    CountsRejections.rejections = 0
    run_state_machine_as_test(CountsRejections, settings=settings(BUG_SETTINGS, max_examples=400))
    # Run alone, 5 of the 400 runs met a declined refund; in the whole suite (other loaded
    # modules) none did, so the count is not asserted: finding the wrong booking of one is
    # test_the_fuzzer_finds_...'s job.


def test_the_fuzzer_finds_a_waiting_refund_booked_as_sent() -> None:
    # Searched, not scripted: Amazon's side declines the pending refund on its own
    # (amazon_declines_a_refund), and the view is judged once the refund's notifications
    # are delivered.
    from tests.fuzz.test_examples_shop import shrunk_steps

    with pytest.raises(FacadeMoveError) as caught:
        run_state_machine_as_test(TreatsWaitingAsRefunded, settings=BUG_SETTINGS)
    assert ("missed", "REFUND_FUNDS_SENT", "REFUND_FUNDS_REJECTED") == (
        caught.value.kind,
        caught.value.view,
        caught.value.truth,
    )
    assert "Refund.Declined/" in str(caught.value)  # the story names Amazon's reason
    steps = shrunk_steps(caught.value, TreatsWaitingAsRefunded)
    assert any(step.startswith("state.amazon_declines_a_refund(") for step in steps) or any(
        "create_refund" in step for step in steps
    ), steps
    assert 0 < len(steps) <= WAITING_REFUND_MOST_STEPS, "\n".join(steps)


def test_a_waiting_refund_booked_as_sent_misses_the_rejection() -> None:
    # The same bug, step by step: Amazon declines the refund while it is pending.
    shop = TreatsWaitingAsRefunded()

    def check() -> None:
        shop.facade_view_follows_the_facade()

    shop.sign_up()
    check()
    shop.amazon_buyer_approves(card="1111", pick=0)
    check()
    shop.bill(1000, 0, auto_capture=False)
    check()
    shop.ship(0)
    check()
    shop.refund(0, 100)
    check()
    shop.amazon_declines_a_refund("AmazonRejected", 0)
    check()
    assert "REFUND_FUNDS_REJECTED" == shop.ppro.get_refund("charge_refund_1")["status"]

    def deliver_all() -> None:
        for _ in range(5):
            if shop._facade_inbox:
                shop.facade_delivers_notifications("none", 3, everything=False)
            check()

    with pytest.raises(FacadeMoveError) as caught:
        deliver_all()
    assert caught.value.truth == "REFUND_FUNDS_REJECTED"
    assert caught.value.view == "REFUND_FUNDS_SENT"
    assert "Refund.Declined/AmazonRejected" in str(caught.value)  # the story


def test_amazon_declines_a_refund_only_while_one_is_pending() -> None:
    shop = PproSubscriptionShop()
    assert not shop.can_take("amazon_declines_refund")  # no refund yet
    shop.sign_up()
    shop.amazon_buyer_approves(card="1111", pick=0)
    shop.bill(1000, 0, auto_capture=True)
    shop.refund(0, 100)
    assert shop.can_take("amazon_declines_refund")  # RefundInitiated
    shop.amazon_time_passes(30)  # async_outcome_delay: Amazon's outcome lands
    assert "REFUND_FUNDS_SENT" == shop.ppro.get_refund("charge_refund_1")["status"]
    assert not shop.can_take("amazon_declines_refund")
