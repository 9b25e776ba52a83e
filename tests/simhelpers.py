"""Helpers for simulator tests: bodies and whole checkouts in a line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apfsm import ManualClock, Simulator

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)
DAY = timedelta(days=1)
#: The keys the Node SDK's own test expects in a dispute (amzn/amazon-pay-api-sdk-nodejs
#: tst/webStoreClientTest.js, expectedDisputeResponseKeys).
#: Evidence for Contest Dispute: a tracking number (dispute.html's Evidence object).
DISPUTE_EVIDENCE = {
    "merchantEvidences": [{"evidenceType": "TrackingNumber", "evidenceText": "1Z9"}]
}
#: The Node SDK test's updateDisputePayload (tst/webStoreClientTest.js; its Date.now() fixed).
NODE_UPDATE_DISPUTE = {
    "statusDetails": {
        "resolution": "MerchantWon",
        "state": "Resolved",
        "reasonCode": "MerchantAcceptedDispute",
        "reasonDescription": "Merchant accepted the dispute request",
    },
    "closureTimestamp": 1_764_000_000_000,
}
NODE_DISPUTE_KEYS = (
    "disputeId",
    "chargeId",
    "disputeType",
    "disputeAmount",
    "filingReason",
    "resolutionAuthority",
    "statusDetails",
    "merchantResponseDeadline",
    "releaseEnvironment",
)


#: The keys the Node SDK's own test expects in a report and a report schedule (amzn/amazon-
#: pay-api-sdk-nodejs tst/webStoreClientTest.js, expectGetReportResponse; it compares them).
NODE_REPORT_KEYS = {
    "createdTime",
    "endTime",
    "processingEndTime",
    "processingStartTime",
    "processingStatus",
    "reportDocumentId",
    "reportId",
    "reportType",
    "startTime",
}
NODE_SCHEDULE_KEYS = {
    "nextReportCreationTime",
    "reportScheduleId",
    "reportType",
    "scheduleFrequency",
}


def price(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currencyCode": currency}


def session_body(
    amount: str | None = "100.00",
    *,
    currency: str = "USD",
    intent: str = "Authorize",
    pending: bool = False,
    kind: str = "OneTime",
    extend: bool = False,
    result_url: bool = True,
) -> dict[str, Any]:
    details: dict[str, Any] = {"paymentIntent": intent}
    if amount is not None:
        details["chargeAmount"] = price(amount, currency)
    if pending:
        details["canHandlePendingAuthorization"] = True
    if extend:
        details["extendExpiration"] = True
    web: dict[str, Any] = {"checkoutReviewReturnUrl": "https://shop.example/review"}
    if result_url:
        web["checkoutResultReturnUrl"] = "https://shop.example/result"
    body: dict[str, Any] = {
        "webCheckoutDetails": web,
        "storeId": "amzn1.application-oa2-client.test",
        "chargePermissionType": kind,
        "paymentDetails": details,
    }
    if kind != "OneTime":
        body["recurringMetadata"] = {"frequency": {"unit": "Month", "value": "1"}}
    return body


def make_sim(**kwargs: Any) -> Simulator:
    return Simulator(ManualClock(kwargs.pop("start", T0)), **kwargs)


def checkout(
    sim: Simulator,
    amount: str = "100.00",
    *,
    card: str = "1111",
    currency: str = "USD",
    intent: str = "Authorize",
    pending: bool = False,
    kind: str = "OneTime",
    extend: bool = False,
) -> dict[str, Any]:
    """Create, approve and complete a session; returns the completed session JSON."""
    session = sim.create_checkout_session(
        session_body(
            amount, currency=currency, intent=intent, pending=pending, kind=kind, extend=extend
        )
    )
    sid = session["checkoutSessionId"]
    sim.buyer_approve(sid, card=card)
    return sim.complete_checkout_session(sid, {"chargeAmount": price(amount, currency)})


def state(body: dict[str, Any]) -> str:
    return str(body["statusDetails"]["state"])


def reason(body: dict[str, Any]) -> str | None:
    details = body["statusDetails"]
    if "reasons" in details:
        reasons = details["reasons"] or []
        return reasons[0]["reasonCode"] if reasons else None
    return details["reasonCode"]  # type: ignore[no-any-return]


def forgetful_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the simulator for tests that must catch a broken one: ``cancel_charge``
    answers as if it worked, but the charge stays as it was."""
    from apfsm._sim import calls
    from apfsm._sim.effects import Effects
    from apfsm._sim.handlers import HANDLERS, Call, Response

    def cancel(fx: Effects, call: Call) -> Response:
        assert call.target is not None
        return Response(200, call.target.to_json(fx.limits, call.now))

    monkeypatch.setattr(calls, "HANDLERS", {**HANDLERS, "cancel_charge": cancel})


def serve_with_state(path: object) -> subprocess.CompletedProcess[str]:
    """``apfsm serve --port 0 --state PATH`` in a child process, its output captured: for
    the tests of a state file ``serve`` refuses (exit 2, a message, no traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "apfsm", "serve", "--port", "0", "--state", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
