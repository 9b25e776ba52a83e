"""Run the conformance corpus (``cases.py``) through the Simulator and ``apfsm.check``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from apfsm import ApiError, Simulator, check
from tests.simhelpers import make_sim, session_body

from .cases import CASES, Case, price

STORE = "amzn1.application-oa2-client.test"


def _body(token: Any, ids: dict[str, str]) -> Any:
    if not isinstance(token, str):
        return token
    cp = ids.get("permission", "")
    charge = ids.get("charge", "")
    bodies: dict[str, Any] = {
        "SESSION": session_body(),
        "SESSION_NO_STORE": {k: v for k, v in session_body().items() if k != "storeId"},
        "SESSION_BAD_INTENT": {**session_body(), "paymentDetails": {"paymentIntent": "Buy"}},
        "CHARGE10": {"chargePermissionId": cp, "chargeAmount": price("10.00")},
        "CHARGE10_NOW": {
            "chargePermissionId": cp,
            "chargeAmount": price("10.00"),
            "captureNow": True,
        },
        "CHARGE_101": {"chargePermissionId": cp, "chargeAmount": price("101.00")},
        "CHARGE_150001": {"chargePermissionId": cp, "chargeAmount": price("150001.00")},
        "CHARGE_EUR": {"chargePermissionId": cp, "chargeAmount": price("10.00", "EUR")},
        "CHARGE_BAD": {"chargePermissionId": cp, "chargeAmount": price("1.001")},
        "CHARGE_DESC": {
            "chargePermissionId": cp,
            "chargeAmount": price("10.00"),
            "softDescriptor": "shop",
        },
        "REFUND10": {"chargeId": charge, "refundAmount": price("10.00")},
        "REFUND_115": {"chargeId": charge, "refundAmount": price("115.00")},
        "REFUND_115_01": {"chargeId": charge, "refundAmount": price("115.01")},
        "REFUND_EUR": {"chargeId": charge, "refundAmount": price("10.00", "EUR")},
    }
    return bodies[token]


def _session(sim: Simulator, ids: dict[str, str], amount: str = "100.00", **kw: Any) -> str:
    sid = str(sim.create_checkout_session(session_body(amount, **kw))["checkoutSessionId"])
    ids["session"] = sid
    return sid


def _complete(sim: Simulator, ids: dict[str, str], amount: str = "100.00") -> None:
    done = sim.complete_checkout_session(ids["session"], {"chargeAmount": price(amount)})
    ids["permission"] = done["chargePermissionId"]
    if done.get("chargeId"):
        ids["charge"] = done["chargeId"]


def setup(sim: Simulator, name: str) -> dict[str, str]:
    """Build a named starting point; returns the ids of its objects."""
    ids: dict[str, str] = {"missing": "S01-0000000-0000000-C0000000"}
    base, _, card = name.partition(":")
    steps: dict[str, Callable[[], None]] = {}
    if base == "none":
        return ids
    if base in ("pending", "pending_done"):
        sid = _session(sim, ids, pending=True)
        sim.buyer_approve(sid, card=card)
        if base == "pending_done":
            _complete(sim, ids)
        return ids
    confirm = base.endswith("confirm") or base == "completed_confirm_big"
    amount = "200000.00" if base == "completed_confirm_big" else "100.00"
    sid = _session(sim, ids, amount, intent="Confirm" if confirm else "Authorize")
    if base == "session":
        return ids
    sim.buyer_approve(sid, card=card or "1111")
    if base.startswith("approved"):
        return ids
    _complete(sim, ids, amount)
    if base in ("captured", "refunded", "captured_full"):
        sim.capture_charge(ids["charge"], {"captureAmount": price("100.00")})
    if base == "refunded":
        ids["refund"] = sim.create_refund(
            {"chargeId": ids["charge"], "refundAmount": price("10.00")}
        )["refundId"]
    if base == "closed_permission":
        sim.close_charge_permission(ids["permission"], {"closureReason": "x"})
    del steps
    return ids


def _state(body: dict[str, Any]) -> tuple[str, str | None]:
    details = body["statusDetails"]
    if "reasons" in details:
        reasons = details["reasons"] or []
        return details["state"], (reasons[0]["reasonCode"] if reasons else None)
    return details["state"], details.get("reasonCode")


def _params() -> list[Any]:
    out = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_simulator(case: Case) -> None:
    sim = make_sim()
    ids = setup(sim, case.setup)
    if case.after:
        sim.advance(case.after)
    target = None if case.target is None else ids[case.target]
    body = _body(case.body, ids)
    expect = case.expect
    try:
        answer = sim.request(case.operation, target, body, simulation_code=case.simulation_code)
    except ApiError as err:
        assert (expect["status"], expect.get("code")) == (err.http_status, err.reason_code)  # noqa: PT017
    else:
        assert "code" not in expect, f"accepted, Amazon refuses with {expect['code']}"
        assert expect["status"] == answer.status
        got = answer.body
        if "state" in expect:
            assert expect["state"] == _state(got)[0]
        if "reason" in expect:
            assert expect["reason"] == _state(got)[1]
        if "null" in expect:
            assert got[expect["null"]] is None
        if "keys" in expect:
            assert set(expect["keys"]) <= set(got), set(expect["keys"]) - set(got)
        if "then" not in expect:
            return
    if "then" in expect:
        kind, want_state, want_reason = expect["then"]
        sim.settle()
        if kind == "refund":
            refunds = sim.object_ids("Refund")
            assert refunds
            ids["refund"] = refunds[-1]
            sim.advance(timedelta(days=1))
        if kind == "charge" and "charge" not in ids:
            ids["charge"] = sim.object_ids("Charge")[-1]
        obj = sim.object_json(ids[kind])
        assert obj is not None
        assert (want_state, want_reason) == (
            _state(obj)[0],
            _state(obj)[1] if want_reason else None,
        )


STATE_ONLY = {
    "InvalidCheckoutSessionStatus",
    "InvalidChargePermissionStatus",
    "InvalidChargeStatus",
    "CurrencyMismatch",
    "AmountMismatch",
    "TransactionAmountExceeded",
    "MissingParameterValue",
    "UnrecognizedField",
    "InvalidParameterValue",
    "InvalidParameterCombination",
}


@pytest.mark.parametrize(
    "case",
    [
        p
        for p in _params()
        if p.values[0].expect.get("code") in STATE_ONLY
        and p.values[0].target not in (None, "missing")
        and not p.values[0].simulation_code
    ],
)
def test_validator(case: Case) -> None:
    """apfsm.check, given the target's JSON, predicts the same refusal."""
    sim = make_sim()
    ids = setup(sim, case.setup)
    if case.after:
        sim.advance(case.after)
    assert case.target is not None
    target = sim.object_json(ids[case.target])
    outcome = check(case.operation, target, body=_body(case.body, ids), at=sim.now())
    assert (case.expect["status"], case.expect["code"]) == (
        outcome.http_status,
        outcome.reason_code,
    )


def test_corpus_size_and_sources() -> None:
    sources = {c.source.split(" '")[0] for c in CASES}
    assert len({c.id for c in CASES}) == len(CASES)
    assert len(CASES) >= 80
    assert len(sources) >= 10


def test_docs_page_lists_every_case() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text()
    assert f"**{len(CASES)} cases" in page
    for c in CASES:
        assert f"`{c.id}`" in page
