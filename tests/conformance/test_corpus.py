"""Run the conformance corpus (``cases.py``) through the Simulator and ``apfsm.check``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from apfsm import ApiError, Simulator, check
from tests.simhelpers import NODE_UPDATE_DISPUTE, make_sim, session_body

from .cases import CASES, Case, document, price

STORE = "amzn1.application-oa2-client.test"


def _session_with(part: str, **fields: Any) -> dict[str, Any]:
    body = session_body()
    body[part] = {**body[part], **fields}
    return body


def _body(token: Any, ids: dict[str, str]) -> Any:
    if not isinstance(token, str):
        return token
    cp = ids.get("permission", "")
    charge = ids.get("charge", "")
    net_charge = {
        "chargePermissionId": cp,
        "chargeAmount": price("12.99"),
        "captureNow": True,
        "softDescriptor": "foo2",
        "canHandlePendingAuthorization": True,
        "providerMetadata": {"providerReferenceId": "foo1"},
    }
    bodies: dict[str, Any] = {
        "SESSION": session_body(),
        "SESSION_NO_STORE": {k: v for k, v in session_body().items() if k != "storeId"},
        "SESSION_BAD_INTENT": {**session_body(), "paymentDetails": {"paymentIntent": "Buy"}},
        "SESSION_CANCEL_URL": _session_with(
            "webCheckoutDetails", checkoutCancelUrl="https://shop.example/cancel"
        ),
        "SESSION_ESTIMATE": _session_with("paymentDetails", estimateOrderTotal=price("120.00")),
        "DELIVERY": {
            "chargePermissionId": cp,
            "deliveryDetails": [{"trackingNumber": "01234567890", "carrierCode": "FEDEX"}],
        },
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
        # The Node SDK test's createDisputePayload (epoch milliseconds, as Date.now()).
        "DISPUTE_NODE": {
            "chargeId": charge,
            "providerMetadata": {"providerDisputeId": "A2CQXQ2TUSYG7J"},
            "disputeAmount": price("1"),
            "filingReason": "ProductNotReceived",
            "filingTimestamp": 1_764_000_000_000,
            "statusDetails": {"state": "ActionRequired"},
            "merchantResponseDeadline": 1_764_000_000_000 + 14 * 86_400_000,
        },
        "REFUND_115": {"chargeId": charge, "refundAmount": price("115.00")},
        "REFUND_115_01": {"chargeId": charge, "refundAmount": price("115.01")},
        "REFUND_EUR": {"chargeId": charge, "refundAmount": price("10.00", "EUR")},
        "REFUND_150001": {"chargeId": charge, "refundAmount": price("150001.00")},
        "CHARGE_600": {"chargePermissionId": cp, "chargeAmount": price("600.00")},
        "CHARGE_900_01": {"chargePermissionId": cp, "chargeAmount": price("900.01")},
        # The .NET SDK tests' JSON (CreateChargeRequestTests.cs, CreateRefundRequestTests.cs).
        "NET_CHARGE_NUMBER": {
            "chargePermissionId": cp,
            "chargeAmount": {"amount": 12.99, "currencyCode": "USD"},
        },
        "NET_CHARGE_FULL": {**net_charge, "platformId": "My Platform Id"},
        "NET_CHARGE_MM": {
            **net_charge,
            "merchantMetadata": {
                "merchantReferenceId": "123abc!",
                "merchantStoreName": "My Store Name",
                "noteToBuyer": "My Note to Buyer",
                "customInformation": "My Custom Info",
            },
        },
        "NET_CHARGE_POF": {**net_charge, "chargeInitiator": "CITR", "channel": "Web"},
        "NET_CHARGE_WEB": {
            **net_charge,
            "chargeInitiator": "CITR",
            "channel": "Web",
            "webCheckoutDetails": {"checkoutResultReturnUrl": "https://example.com/return.html"},
        },
        "NET_REFUND_NUMBER": {
            "chargeId": charge,
            "refundAmount": {"amount": 12.99, "currencyCode": "USD"},
        },
        "NET_REFUND_DESC": {
            "chargeId": charge,
            "refundAmount": price("12.99"),
            "softDescriptor": "foo",
        },
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


KINDS = {"recurring": "Recurring", "pof": "PaymentMethodOnFile"}


def setup(sim: Simulator, name: str) -> dict[str, str]:
    """Build a named starting point; returns the ids of its objects."""
    ids: dict[str, str] = {"missing": "S01-0000000-0000000-C0000000"}
    base, _, card = name.partition(":")
    if base == "none":
        return ids
    if base == "buyer":  # Amazon Sign-in, with the signInScopes after the colon
        ids["buyer"] = sim.buyer_sign_in(scopes=card.split(",") if card else [])
        return ids
    if base in ("disputed", "disputed_resolved"):
        # A captured charge the buyer disputes (the type after the colon); resolved: then
        # reported Resolved with the Node SDK test's updateDisputePayload.
        _checkout(sim, ids, "captured")
        filed = sim.file_dispute(ids["charge"], dispute_type=card or "Chargeback")
        ids["dispute"] = filed["disputeId"]
        if base == "disputed_resolved":
            sim.update_dispute(ids["dispute"], NODE_UPDATE_DISPUTE)
        return ids
    if base in ("pending", "pending_done", "pending_declined"):
        sid = _session(sim, ids, pending=True)
        sim.buyer_approve(sid, card=card)
        if base != "pending":
            _complete(sim, ids)
        if base == "pending_declined":
            sim.advance(timedelta(seconds=31))
        return ids
    if base == "canceled_session":
        sim.buyer_cancel(_session(sim, ids))
        return ids
    if base in ("approved_99", "approved_total"):
        body = session_body("99.00")
        if base == "approved_total":
            body["paymentDetails"]["totalOrderAmount"] = price("299.99")
        sid = str(sim.create_checkout_session(body)["checkoutSessionId"])
        ids["session"] = sid
        sim.buyer_approve(sid)
        return ids
    if base == "closed_recurring":
        _checkout(sim, ids, "completed_recurring")
        sim.close_charge_permission(ids["permission"], {"closureReason": "x"})
        return ids
    if base == "recurring_charged_12m":
        _checkout(sim, ids, "completed_recurring")
        sim.advance(timedelta(days=365))
        sim.create_charge({"chargePermissionId": ids["permission"], "chargeAmount": price("1.00")})
        return ids
    if base == "completed_pof_15000":
        _checkout(sim, ids, "completed_pof")
        sim.create_charge(
            {
                "chargePermissionId": ids["permission"],
                "chargeAmount": price("15000.00"),
                "captureNow": True,
            }
        )
        return ids
    _checkout(sim, ids, base, card)
    return ids


def _checkout(sim: Simulator, ids: dict[str, str], base: str, card: str = "") -> None:
    kind = KINDS.get(base.removeprefix("completed_"), "OneTime")
    confirm = base.endswith("confirm") or base.startswith("completed_")
    amount = {"completed_confirm_big": "200000.00", "captured_big": "150000.00"}.get(base, "100.00")
    body = session_body(
        amount,
        intent="Confirm" if confirm else "Authorize",
        kind=kind,
        extend=base == "completed_extended",
    )
    if base == "completed_overcharge":
        body["paymentDetails"]["allowOvercharge"] = True
    sid = str(sim.create_checkout_session(body)["checkoutSessionId"])
    ids["session"] = sid
    if base == "session":
        return
    sim.buyer_approve(sid, card=card or "1111")
    if base.startswith("approved"):
        return
    _complete(sim, ids, amount)
    if base in ("captured", "refunded", "captured_full", "captured_big"):
        sim.capture_charge(ids["charge"], {"captureAmount": price(amount)})
    if base == "refunded":
        ids["refund"] = sim.create_refund(
            {"chargeId": ids["charge"], "refundAmount": price("10.00")}
        )["refundId"]
    if base == "closed_permission":
        sim.close_charge_permission(ids["permission"], {"closureReason": "x"})


def _state(body: dict[str, Any]) -> tuple[str, str | None]:
    details = body["statusDetails"]
    if "reasons" in details:
        reasons = details["reasons"] or []
        return details["state"], (reasons[0]["reasonCode"] if reasons else None)
    return details["state"], details.get("reasonCode")


def _params(wire: bool = False) -> list[Any]:
    out = []
    for c in CASES:
        if (c.wire is not None) != wire:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        out.append(pytest.param(c, id=c.id, marks=marks))
    return out


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def check_answer(expect: dict[str, Any], status: int, got: Any, ids: dict[str, str]) -> None:
    """Compare one answer (status, JSON body) with Amazon's documented one."""
    if "code" in expect or "codes" in expect:
        assert isinstance(got, dict)
        assert "reasonCode" in got, (
            f"accepted ({status}), Amazon refuses with {expect.get('code', expect.get('codes'))}"
        )
        if expect.get("code") == "*":  # any refusal (Amazon documents no code)
            assert 400 <= status < 500, (status, got)
        else:
            codes = expect.get("codes", (expect.get("code"),))
            assert (expect["status"], True) == (status, got["reasonCode"] in codes), (status, got)
    else:
        assert isinstance(got, dict)
        assert "reasonCode" not in got, f"refused: {got}"
        assert expect["status"] == status
    if "state" in expect:
        assert expect["state"] == _state(got)[0]
    if "reason" in expect:
        assert expect["reason"] == _state(got)[1]
    if "null" in expect:
        assert got[expect["null"]] is None
    if "present" in expect:
        assert got.get(expect["present"]) is not None
    if "keys" in expect:
        assert set(expect["keys"]) <= set(got), set(expect["keys"]) - set(got)
    if "exact_keys" in expect:
        assert set(expect["exact_keys"]) == set(got), set(got) ^ set(expect["exact_keys"])
    if "shape" in expect:
        where, keys = expect["shape"]
        part = got if where is None else _at(got, where)
        assert set(keys) <= set(part), set(keys) - set(part)
    for path, want in expect.get("types", {}).items():
        value = _at(got, path)
        if want == "str":
            assert isinstance(value, str), (path, value)
        else:
            assert want == value, (path, value)
    for path, pattern in expect.get("match", {}).items():
        value = _at(got, path)
        assert isinstance(value, str), (path, value)
        assert re.fullmatch(pattern, value), (path, value)
    del ids


def check_notifications(
    expect: dict[str, Any], sent: list[dict[str, Any]], ids: dict[str, str]
) -> None:
    """IPN expectations: some message sent since the setup matches."""
    if "ipn" in expect:
        want = {k: v.format(**ids) for k, v in expect["ipn"].items()}
        assert any(want.items() <= m.items() for m in sent), (want, sent)
    if "ipn_keys" in expect:
        assert sent
        assert all(set(expect["ipn_keys"]) == set(m) for m in sent), sent
    if "ipn_absent" in expect:
        assert sent
        assert not any(set(expect["ipn_absent"]) & set(m) for m in sent)


def check_then(expect: dict[str, Any], sim: Simulator, ids: dict[str, str]) -> None:
    if "then" not in expect:
        return
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


@pytest.mark.parametrize("case", _params())
def test_simulator(case: Case) -> None:
    sim = make_sim()
    ids = setup(sim, case.setup)
    seen = len(sim.notifications)
    if case.after:
        sim.advance(case.after)
    target = None if case.target is None else ids[case.target]
    body = _body(case.body, ids)
    expect = case.expect
    try:
        answer = sim.request(case.operation, target, body, simulation_code=case.simulation_code)
    except ApiError as err:
        status, got = err.http_status, {"reasonCode": err.reason_code, "message": str(err)}
    else:
        status, got = answer.status, answer.body
    if "then" in expect and "code" in expect:
        assert (expect["status"], expect["code"]) == (status, got.get("reasonCode"))
    else:
        check_answer(expect, status, got, ids)
    sim.settle()
    check_notifications(expect, sim.notifications[seen:], ids)
    check_then(expect, sim, ids)


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
    sources = {document(c.source) for c in CASES}
    assert len({c.id for c in CASES}) == len(CASES)
    assert len(CASES) >= 140
    assert len(sources) >= 14


def test_docs_page_is_generated() -> None:
    """docs/conformance.md is rendered from the cases; refresh it with
    ``python -m tests.conformance.render``."""
    from .render import PAGE, render

    assert render() == PAGE.read_text(encoding="utf-8"), (
        "docs/conformance.md is stale: run python -m tests.conformance.render"
    )
    page = PAGE.read_text(encoding="utf-8")
    assert f"**{len(CASES)} cases" in page
    for c in CASES:
        assert f"`{c.id}`" in page
