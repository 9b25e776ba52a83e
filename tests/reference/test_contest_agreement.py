"""Contest Dispute, state by state and at the Dispute Window's boundary: the simulator and
the independent reference model (``ref_amazon_pay.py``, written from SPEC.md and
docs/dispute.md) run the same histories and must agree at every step.

The stateful oracle (``tests/fuzz/test_stateful_reference.py``) seldom reaches a contest on
a Resolved dispute (a dispute needs a captured charge, then an update, then a contest);
these histories reach each case on purpose. Sources: the Node SDK's
tst/webStoreClientTest.js (create, get, update to Resolved, contest: 200 each), the SDKs'
contestDispute ("within the specified Dispute Window (11 days for Chargeback, 7 days for
A-Z Claims)"), the Java SDK's DisputeState.java ("Closed represents the dispute is closed
and immutable").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from apfsm import ApiError
from tests.reference.ref_amazon_pay import RefAmazonPay
from tests.simhelpers import DISPUTE_EVIDENCE, NODE_UPDATE_DISPUTE, T0, checkout, make_sim

S = timedelta(seconds=1)
DAY = timedelta(days=1)
RESOLVED = {"statusDetails": NODE_UPDATE_DISPUTE["statusDetails"]}
CLOSED = {"statusDetails": {"state": "Closed"}}
CONTEST = ("contest_dispute", DISPUTE_EVIDENCE)

#: Each history after Create Dispute: a call (operation, body), or the time since the
#: dispute was created to move to.
HISTORIES: dict[str, list[Any]] = {
    "node-order": [("get_dispute", None), ("update_dispute", RESOLVED), CONTEST, CONTEST],
    "resolved-at-L-1s": [2 * DAY, ("update_dispute", RESOLVED), 11 * DAY - S, CONTEST],
    "resolved-at-L": [2 * DAY, ("update_dispute", RESOLVED), 11 * DAY, CONTEST],
    "resolved-at-L+1s": [("update_dispute", RESOLVED), 11 * DAY + S, CONTEST],
    "reopened-then-updated": [
        ("update_dispute", RESOLVED),
        CONTEST,
        ("update_dispute", CLOSED),
        CONTEST,
    ],
    "window-expired": [11 * DAY, ("get_dispute", None), CONTEST, 40 * DAY, CONTEST],
    "closed": [("update_dispute", CLOSED), CONTEST, ("update_dispute", RESOLVED)],
    "under-review": [CONTEST, 12 * DAY, CONTEST, ("update_dispute", RESOLVED), CONTEST],
    "claim-window": [("update_dispute", RESOLVED), 7 * DAY - S, CONTEST],
    "claim-window-closed": [("update_dispute", RESOLVED), 7 * DAY, CONTEST],
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
def test_the_simulator_and_the_reference_agree_on_contests(name: str) -> None:
    sim = make_sim()
    ref = RefAmazonPay(T0)
    done = checkout(sim, amount="40.00", intent="AuthorizeWithCapture")
    charge_id = str(done["chargeId"])
    session = ref.call(
        "create_checkout_session",
        None,
        {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://shop.example/review",
                "checkoutResultReturnUrl": "https://shop.example/result",
            },
            "storeId": "store-1",
            "paymentDetails": {
                "paymentIntent": "AuthorizeWithCapture",
                "chargeAmount": {"amount": "40.00", "currencyCode": "USD"},
            },
        },
    ).created["CheckoutSession"]
    ref.buyer_approve(session)
    completed = ref.call(
        "complete_checkout_session",
        session,
        {"chargeAmount": {"amount": "40.00", "currencyCode": "USD"}},
    )
    ref.move_to(sim.now())
    claim = name.startswith("claim")
    body = {
        "chargeId": charge_id,
        "disputeAmount": {"amount": "1", "currencyCode": "USD"},
        "filingReason": "ProductNotReceived",
        **({"disputeType": "AtoZClaim"} if claim else {}),
    }
    dispute_id = sim.create_dispute(body, idempotency_key="dispute-1")["disputeId"]
    created = ref.call(
        "create_dispute", None, {**body, "chargeId": completed.created["Charge"]}, key="dispute-1"
    )
    dp = created.created["Dispute"]
    start = sim.now()
    for step in HISTORIES[name]:
        if isinstance(step, timedelta):
            sim.advance(start + step - sim.now())
            ref.move_to(sim.now())
            continue
        operation, payload = step
        try:
            answer = sim.request(operation, dispute_id, payload)
        except ApiError as err:
            mine: tuple[bool, int, str | None] = (False, err.http_status, err.reason_code)
        else:
            mine = (True, answer.status, None)
        theirs = ref.call(operation, dp, payload)
        assert (theirs.ok, theirs.status, theirs.error_code) == mine, (name, step)
        view = ref.view(dp) or {}
        details = sim.get_dispute(dispute_id)["statusDetails"]
        assert (view["state"], view["reason"]) == (details["state"], details["reasonCode"])
