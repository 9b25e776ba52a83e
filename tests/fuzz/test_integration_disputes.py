"""IntegrationMachine's Amazon-side dispute steps (docs/dispute.md): a dispute arrives on a
captured charge (``amazon_buyer_disputes``), Amazon decides it or asks for more
(``amazon_decides_dispute``), and the Dispute Window runs out with the deadline waits —
so an integration that answers ``CHARGEBACK`` IPNs by contesting is exercised, and one
that never does loses its disputes by the deadline."""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from apfsm import ApiError
from apfsm.testing import DisputeRules, IntegrationMachine
from tests.simhelpers import DISPUTE_EVIDENCE, price, session_body

FAST = settings(
    max_examples=200,
    stateful_step_count=30,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.generate,),
    suppress_health_check=list(HealthCheck),
)


class DisputingShop(DisputeRules, IntegrationMachine):
    """Sells with AuthorizeWithCapture; on a CHARGEBACK IPN, contests if it still can."""

    contests: ClassVar[bool] = True
    seen: ClassVar[dict[str, int]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def on_notification(self, message: dict[str, Any]) -> None:
        if message["ObjectType"] != "CHARGEBACK" or not self.contests:
            return
        dispute = self.sim.get_dispute(message["ObjectId"])
        if dispute["statusDetails"]["state"] == "ActionRequired":
            self.sim.contest_dispute(dispute["disputeId"], DISPUTE_EVIDENCE)
            DisputingShop.seen["contested"] = DisputingShop.seen.get("contested", 0) + 1

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        with contextlib.suppress(ApiError):  # a canceled checkout: nothing to sell
            self.sim.complete_checkout_session(
                checkout_session_id, {"chargeAmount": price("20.00")}
            )

    @rule()
    def shop_reads_its_ipns(self) -> None:
        self.deliver_notifications()

    @rule()
    def customer_checks_out(self) -> None:
        self.sim.create_checkout_session(session_body("20.00", intent="AuthorizeWithCapture"))

    @invariant()
    def count_disputes(self) -> None:
        for dispute in self.amazon_objects("Dispute"):
            details = dispute["statusDetails"]
            DisputingShop.seen[details["state"]] = DisputingShop.seen.get(details["state"], 0) + 1
            if details["reasonCode"] == "MerchantResponseDeadlineExpired":
                DisputingShop.seen["expired"] = DisputingShop.seen.get("expired", 0) + 1


def test_disputes_arrive_are_contested_and_decided() -> None:
    DisputingShop.seen = {}
    run_state_machine_as_test(DisputingShop, settings=FAST)
    seen = DisputingShop.seen
    # Disputes arrived, the shop contested some (its IPNs delivered), Amazon decided some.
    assert seen.get("ActionRequired", 0) > 0, seen
    assert seen.get("contested", 0) > 0, seen
    assert seen.get("UnderReview", 0) > 0, seen
    assert seen.get("Resolved", 0) > 0, seen


class SilentShop(DisputingShop):
    contests = False


def test_disputes_are_opt_in() -> None:
    DisputingShop.seen = {}

    class NoDisputes(IntegrationMachine):
        customer_checks_out = DisputingShop.customer_checks_out
        after_buyer_approved = DisputingShop.after_buyer_approved
        count_disputes = DisputingShop.count_disputes

    run_state_machine_as_test(NoDisputes, settings=settings(FAST, max_examples=30))
    assert {} == {k: v for k, v in DisputingShop.seen.items() if k != "contested"}


def test_the_window_runs_out_for_a_shop_that_never_contests() -> None:
    DisputingShop.seen = {}
    run_state_machine_as_test(SilentShop, settings=FAST)
    assert DisputingShop.seen.get("expired", 0) > 0, DisputingShop.seen
    assert 0 == DisputingShop.seen.get("contested", 0)
