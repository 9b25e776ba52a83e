"""check_log agrees with time: a read may show what the buyer, Amazon or a passed deadline
led to since the object was last seen (SPEC §2, §3–§6), and nothing else; the server's
``GET /_apfsm/log`` reads as it is (issue 11, item 7)."""

from __future__ import annotations

import copy
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import apfsm
from apfsm import Limits, LogReport, Simulator, check_log, format_timestamp
from apfsm._cli.commands import main
from apfsm._harness.checklog import possible_states
from tests.simhelpers import DAY, T0, S, checkout, make_sim, price, session_body

HOUR = timedelta(hours=1)


def log_of(sim: Simulator) -> list[dict[str, Any]]:
    return [record.to_json() for record in sim.log]


def problems(report: LogReport) -> list[str]:
    return [str(p) for p in report.problems]


def showing(
    record: dict[str, Any], at: datetime, state: str, reason: str | None = None
) -> dict[str, Any]:
    """A copy of a logged read, made at ``at``, whose answer shows ``state`` (``reason``)."""
    forged = copy.deepcopy(record)
    forged["at"] = format_timestamp(at)
    details = forged["response"]["statusDetails"]
    details["state"] = state
    if "reasons" in details:  # a Charge Permission's reasons are a list
        details["reasons"] = None if reason is None else [{"reasonCode": reason}]
    else:
        details["reasonCode"] = reason
    return forged


def last_get(log: list[dict[str, Any]], operation: str) -> dict[str, Any]:
    return next(r for r in reversed(log) if r["operation"] == operation)


@pytest.fixture
def authorized() -> tuple[Simulator, str]:
    """A charge Authorized at T0, read once at T0 (its 30-day deadline: T0 + 30 d)."""
    sim = make_sim(seed=0)
    charge_id = checkout(sim)["chargeId"]
    sim.get_charge(charge_id)
    return sim, charge_id


# ---------------------------------------------------------------------------------------
# Event-driven changes: legal any time after their trigger
# ---------------------------------------------------------------------------------------


def test_an_asynchronous_capture_read_as_captured_is_legal(
    authorized: tuple[Simulator, str],
) -> None:
    # SPEC §5: more than 7 days after authorization a capture is CaptureInitiated, which
    # resolves (an Amazon-side event, not a call) to Captured.
    sim, charge_id = authorized
    sim.advance(8 * DAY)
    capture = sim.capture_charge(charge_id, {"captureAmount": price("100.00")})
    assert "CaptureInitiated" == capture["statusDetails"]["state"]
    sim.advance(HOUR)
    assert "Captured" == sim.get_charge(charge_id)["statusDetails"]["state"]
    log = log_of(sim)
    assert [] == [r for r in log if r["kind"] == "amazon"]  # no record of the event itself
    report = check_log(log)
    assert [] == problems(report)
    # ... and Declined (capture_declined) is the other outcome it may resolve to.
    declined = showing(log[-1], sim.now(), "Declined", "ProcessingFailure")
    assert [] == problems(check_log([*log[:-1], declined]))
    # A second later the same read cannot show Authorized again: no way back at all.
    back = showing(last_get(log, "get_charge"), sim.now() + S, "Authorized")
    assert ["illegal transition"] == [p.kind for p in check_log([*log, back]).problems]


def test_a_refund_read_as_refunded_after_refund_initiated_is_legal() -> None:
    # SPEC §6: refunds are always asynchronous: RefundInitiated → Refunded or Declined.
    sim = make_sim(seed=0)
    charge_id = checkout(sim, intent="AuthorizeWithCapture")["chargeId"]
    refund = sim.create_refund({"chargeId": charge_id, "refundAmount": price("10.00")})
    assert "RefundInitiated" == refund["statusDetails"]["state"]
    sim.advance(HOUR)
    assert "Refunded" == sim.get_refund(refund["refundId"])["statusDetails"]["state"]
    log = log_of(sim)
    assert [] == problems(check_log(log))
    # From Refunded nothing follows: a later read showing Declined is illegal.
    later = showing(last_get(log, "get_refund"), sim.now() + DAY, "Declined", "AmazonRejected")
    assert ["illegal transition"] == [p.kind for p in check_log([*log, later]).problems]


def test_amazon_and_buyer_cancellations_are_legal_before_any_deadline(
    authorized: tuple[Simulator, str],
) -> None:
    sim, _ = authorized
    log = log_of(sim)
    read = last_get(log, "get_charge")
    for reason in ("AmazonCanceled", "BuyerCanceled", "ChargePermissionCanceled"):
        canceled = showing(read, T0 + HOUR, "Canceled", reason)
        assert [] == problems(check_log([*log, canceled])), reason


# ---------------------------------------------------------------------------------------
# Deadline-driven changes: legal only once the deadline has passed (SPEC §2 boundary)
# ---------------------------------------------------------------------------------------


def test_an_expired_authorization_needs_its_30_day_deadline(
    authorized: tuple[Simulator, str],
) -> None:
    # SPEC §5: 30 days in Authorized → Canceled / ExpiredUnused; SPEC §2: a TTL has passed
    # at every t >= t0 + L. Amazon: an expired authorization is a Charge in state Canceled
    # (there is no "Expired" Charge state): "move to a Canceled state if the Charge is
    # explicitly canceled, or the Charge expires after 30 days in the Authorized state"
    # (https://developer.amazon.com/docs/amazon-pay-api-v2/v1-charge.html).
    sim, charge_id = authorized
    deadline = T0 + 30 * DAY
    log = log_of(sim)
    read = last_get(log, "get_charge")
    early = showing(read, deadline - S, "Canceled", "ExpiredUnused")
    report = check_log([*log, early])
    assert ["contradiction"] == [p.kind for p in report.problems]
    message = report.problems[0].message
    assert message.startswith("get_charge answered state Canceled (ExpiredUnused)")
    assert "Canceled (AmazonCanceled, BuyerCanceled, ChargePermissionCanceled)" in message
    for at in (deadline, deadline + S):
        assert [] == problems(check_log([*log, showing(read, at, "Canceled", "ExpiredUnused")]))
    # Under the other boundary rule, the deadline instant itself is still too early.
    late_rule = Limits(ttl_passed_at_deadline=False)
    at_deadline = showing(read, deadline, "Canceled", "ExpiredUnused")
    assert ["contradiction"] == [
        p.kind for p in check_log([*log, at_deadline], limits=late_rule).problems
    ]
    # The simulator itself agrees: read at the deadline, the charge shows the expiry.
    sim.advance(deadline - sim.now())
    assert "ExpiredUnused" == sim.get_charge(charge_id)["statusDetails"]["reasonCode"]
    assert [] == problems(check_log(log_of(sim)))


def test_a_read_still_showing_a_state_its_deadline_ended_is_one_problem(
    authorized: tuple[Simulator, str],
) -> None:
    sim, _ = authorized
    log = log_of(sim)
    stale = showing(last_get(log, "get_charge"), T0 + 30 * DAY, "Authorized")
    report = check_log([*log, stale])
    assert ["deadline passed"] == [p.kind for p in report.problems]


def test_a_checkout_session_expires_after_24_hours() -> None:
    # SPEC §2/§3: Open → Canceled / Expired 24 h after creation. Amazon: "The Checkout
    # Session starts in an Open state and moves to a Canceled state, unless the buyer
    # completes checkout within 24 hours"
    # (https://developer.amazon.com/docs/amazon-pay-api-v2/v1-introduction.html).
    sim = make_sim(seed=0)
    session = sim.create_checkout_session(session_body())
    sim.get_checkout_session(session["checkoutSessionId"])
    log = log_of(sim)
    read = last_get(log, "get_checkout_session")
    early = showing(read, T0 + 24 * HOUR - S, "Canceled", "Expired")
    assert ["contradiction"] == [p.kind for p in check_log([*log, early]).problems]
    expired = showing(read, T0 + 24 * HOUR, "Canceled", "Expired")
    assert [] == problems(check_log([*log, expired]))
    # The buyer may cancel at any time.
    buyer = showing(read, T0 + HOUR, "Canceled", "BuyerCanceled")
    assert [] == problems(check_log([*log, buyer]))


def test_a_permission_closes_by_the_buyer_any_time_and_by_expiry_after_180_days() -> None:
    # SPEC §2/§4: a one-time permission expires 180 days after creation (Closed / Expired);
    # the buyer may close it at any time (Closed / BuyerClosed).
    sim = make_sim(seed=0)
    permission_id = checkout(sim)["chargePermissionId"]
    sim.get_charge_permission(permission_id)
    log = log_of(sim)
    read = last_get(log, "get_charge_permission")
    deadline = T0 + 180 * DAY
    early = showing(read, deadline - S, "Closed", "Expired")
    assert ["contradiction"] == [p.kind for p in check_log([*log, early]).problems]
    assert [] == problems(check_log([*log, showing(read, deadline, "Closed", "Expired")]))
    assert [] == problems(check_log([*log, showing(read, T0 + S, "Closed", "BuyerClosed")]))
    # Closed by the merchant needs the merchant's call in the log.
    merchant = showing(read, T0 + S, "Closed", "MerchantClosed")
    assert ["contradiction"] == [p.kind for p in check_log([*log, merchant]).problems]


# ---------------------------------------------------------------------------------------
# What no event or deadline explains stays a contradiction
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "reason"),
    [("Captured", None), ("CaptureInitiated", None), ("Canceled", "MerchantCanceled")],
)
def test_a_change_only_a_merchant_call_makes_is_a_contradiction(
    authorized: tuple[Simulator, str], state: str, reason: str | None
) -> None:
    sim, _ = authorized
    log = log_of(sim)
    forged = showing(last_get(log, "get_charge"), T0 + 40 * DAY, state, reason)
    report = check_log([*log, forged])
    assert [("record", len(log) + 1, "contradiction")] == [
        (p.unit, p.line, p.kind) for p in report.problems
    ]
    assert "no logged call leads there" in report.problems[0].message


def test_possible_states_follow_the_declarations() -> None:
    sim = make_sim(seed=0)
    charge = checkout(sim, pending=True)
    charge_json = sim.get_charge(charge["chargeId"])
    assert "AuthorizationInitiated" == charge_json["statusDetails"]["state"]
    soon = possible_states("Charge", charge_json, T0 + HOUR)
    # Resolved either way by Amazon, or canceled; not timed out, and not expired, yet.
    assert {"AuthorizationInitiated", "Authorized", "Declined", "Canceled"} == set(soon)
    canceled = frozenset({"AmazonCanceled", "BuyerCanceled", "ChargePermissionCanceled"})
    assert canceled == soon["Canceled"]
    assert soon["Authorized"] is None  # a state that events reach with any reason
    later = possible_states("Charge", charge_json, T0 + 24 * HOUR)
    assert "AuthorizationInitiated" not in later  # its 24 h deadline moved it on
    # Authorized (an event) then expired (a timer): the 30 days have passed by then.
    expired = possible_states("Charge", charge_json, T0 + 30 * DAY)
    assert "ExpiredUnused" in (expired["Canceled"] or ())
    assert "ExpiredUnused" not in (later["Canceled"] or ())


# ---------------------------------------------------------------------------------------
# The log's forms: JSON Lines, JSON array (GET /_apfsm/log), records
# ---------------------------------------------------------------------------------------


def test_every_form_of_the_same_log_reads_alike(authorized: tuple[Simulator, str]) -> None:
    sim, _ = authorized
    forged = showing(last_get(log_of(sim), "get_charge"), T0 + DAY, "Captured")
    log = [*log_of(sim), forged]
    lines = [json.dumps(r) for r in log]
    forms = {
        "JSON Lines": check_log("\n".join(lines)),
        "JSON array": check_log(json.dumps(log, indent=2)),
        "records": check_log(log),
    }
    assert "JSON Lines" == check_log(lines).format
    assert "JSON array" == check_log(json.dumps(log, indent=2).splitlines()).format
    for form, report in forms.items():
        assert form == report.format
        assert (len(log), len(log) - 1) == (report.lines, report.calls), form
        assert [(len(log), "contradiction")] == [(p.line, p.kind) for p in report.problems]
    assert str(forms["JSON Lines"].problems[0]).startswith(f"line {len(log)}: contradiction")
    assert str(forms["JSON array"].problems[0]).startswith(f"record {len(log)}: contradiction")
    assert forms["JSON array"].summary().startswith(f"{len(log)} records:")
    # The simulator's own records, as they are.
    assert [] == problems(check_log(sim.log))


def test_malformed_forms_are_problems_not_exceptions() -> None:
    assert ["malformed"] == [p.kind for p in check_log('[{"at": 1},').problems]
    report = check_log(["{}", "", "[1]", "nope"])
    assert [(1, "malformed"), (3, "malformed"), (4, "malformed")] == [
        (p.line, p.kind) for p in report.problems
    ]
    odd: list[Any] = [3, "x"]  # neither a record nor JSON text
    assert ["malformed", "malformed"] == [p.kind for p in check_log(odd).problems]


# ---------------------------------------------------------------------------------------
# The server's GET /_apfsm/log, round trip through check_log and the command line
# ---------------------------------------------------------------------------------------


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_the_servers_log_round_trips_through_check_log_and_the_cli(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from apfsm.server import create_app

    sim = make_sim(seed=0)
    with TestClient(create_app(sim)) as client:
        post = {"x-amz-pay-idempotency-key": "k1"}
        session = client.post("/v2/checkoutSessions", json=session_body(), headers=post).json()
        sid = session["checkoutSessionId"]
        client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
        done = client.post(
            f"/v2/checkoutSessions/{sid}/complete",
            json={"chargeAmount": price("100.00")},
            headers={"x-amz-pay-idempotency-key": "k2"},
        ).json()
        charge_id = done["chargeId"]
        assert (
            "Authorized" == client.get(f"/v2/charges/{charge_id}").json()["statusDetails"]["state"]
        )
        client.post("/_apfsm/clock/advance", json={"seconds": 8 * 86400})
        capture = client.post(
            f"/v2/charges/{charge_id}/capture",
            json={"captureAmount": price("100.00")},
            headers={"x-amz-pay-idempotency-key": "k3"},
        ).json()
        assert "CaptureInitiated" == capture["statusDetails"]["state"]
        client.post("/_apfsm/clock/advance", json={"seconds": 3600})
        assert "Captured" == client.get(f"/v2/charges/{charge_id}").json()["statusDetails"]["state"]
        answer = client.get("/_apfsm/log")
    assert 200 == answer.status_code
    text = answer.text
    assert text.lstrip().startswith("[")  # the server's JSON form, read as it is
    report = apfsm.check_log(text)
    assert ("JSON array", []) == (report.format, problems(report))
    assert report.calls == sum(1 for r in answer.json() if r["kind"] == "api")

    path = tmp_path / "server-log.json"
    path.write_text(text, encoding="utf-8")
    code, out = cli("check-log", str(path))
    assert (0, True) == (code, "0 problem(s)" in out), out
    # A read a day after the first one, forged to show the expiry 29 days early: the
    # command names the record.
    records = answer.json()
    first = next(n for n, r in enumerate(records) if r["operation"] == "get_charge")
    records = records[: first + 1]
    records.append(showing(records[first], T0 + DAY, "Canceled", "ExpiredUnused"))
    path.write_text(json.dumps(records), encoding="utf-8")
    code, out = cli("check-log", str(path))
    assert 1 == code
    assert f"{path}:record {len(records)}: contradiction: get_charge answered state Canceled" in (
        out
    )


# ---------------------------------------------------------------------------------------
# Calls other than reads: judged against the state the object may have reached
# ---------------------------------------------------------------------------------------


def test_a_refund_on_a_charge_last_seen_capture_initiated_is_legal(
    authorized: tuple[Simulator, str],
) -> None:
    # The merchant refunds on Amazon's notice that the capture completed, without reading
    # the charge again: the log last shows it CaptureInitiated.
    sim, charge_id = authorized
    sim.advance(8 * DAY)
    sim.capture_charge(charge_id, {"captureAmount": price("100.00")})
    sim.advance(HOUR)
    refund = sim.create_refund({"chargeId": charge_id, "refundAmount": price("10.00")})
    assert "RefundInitiated" == refund["statusDetails"]["state"]
    log = log_of(sim)
    assert "CaptureInitiated" == log[-2]["response"]["statusDetails"]["state"]
    assert [] == problems(check_log(log))


def test_a_refund_on_a_charge_never_captured_stays_a_contradiction(
    authorized: tuple[Simulator, str],
) -> None:
    sim, charge_id = authorized
    other = make_sim(seed=0)
    other_charge = checkout(other, intent="AuthorizeWithCapture")["chargeId"]
    other.create_refund({"chargeId": other_charge, "refundAmount": price("10.00")})
    refund = copy.deepcopy(log_of(other)[-1])  # an accepted refund, moved onto our charge
    refund["request"]["chargeId"] = charge_id
    refund["response"]["chargeId"] = charge_id
    refund["at"] = format_timestamp(T0 + DAY)
    report = check_log([*log_of(sim), refund])
    assert ["contradiction"] == [p.kind for p in report.problems]
    assert "create_refund succeeded, but the specification refuses it" in (
        report.problems[0].message
    )


def test_a_refusal_explained_by_an_amazon_cancellation_is_legal(
    authorized: tuple[Simulator, str],
) -> None:
    # Amazon canceled the charge after it was last read: capturing it is refused.
    sim, charge_id = authorized
    sim.amazon_event(charge_id, "amazon_cancel")
    sim.advance(HOUR)
    with pytest.raises(apfsm.ApiError, match="InvalidChargeStatus"):
        sim.capture_charge(charge_id, {"captureAmount": price("100.00")})
    log = [r for r in log_of(sim) if r["kind"] != "amazon"]  # as a merchant's log has it
    assert "InvalidChargeStatus" == log[-1]["error"]["reasonCode"]
    assert [] == problems(check_log(log))
