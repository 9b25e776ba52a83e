"""Retention caps (issue 16 item 2): ``Simulator.retain`` bounds the call log and the
idempotency keys of a long-running simulator; by default everything is kept (Amazon stores
idempotency keys indefinitely: developer.amazon.com/docs/amazon-pay-api-v2/idempotency.html).
"""

from __future__ import annotations

import pytest

from apfsm import ApiError, Simulator
from apfsm._sim import CallLog
from tests.simhelpers import make_sim, session_body


def _creates(sim: Simulator, count: int, prefix: str = "k") -> list[str]:
    return [
        sim.create_checkout_session(session_body(), idempotency_key=f"{prefix}{n}")[
            "checkoutSessionId"
        ]
        for n in range(count)
    ]


def test_by_default_the_log_and_the_keys_are_kept_whole() -> None:
    sim = make_sim(seed=1)
    ids = _creates(sim, 600)
    assert 600 == len(sim.log)
    assert 1 == sim.log.first_seq
    again = sim.create_checkout_session(session_body(), idempotency_key="k0")
    assert ids[0] == again["checkoutSessionId"]


def test_a_capped_log_keeps_the_newest_records_with_their_numbers() -> None:
    sim = make_sim(seed=1)
    sim.retain(call_log=300)
    session = _creates(sim, 1)[0]
    for _ in range(999):
        sim.get_checkout_session(session)
    log = sim.log
    assert 300 <= len(log) <= 300 + 2 * CallLog.CHUNK
    assert 1001 == log.next_seq
    assert log.first_seq == log[0].seq
    assert [r.seq for r in log] == list(range(log.first_seq, 1001))
    assert log.by_seq(1) is None
    assert 1000 == log.by_seq(1000).seq  # type: ignore[union-attr]
    assert [999, 1000] == [r.seq for r in log.since(998)]
    assert len(log) == len(log.since(0))  # since a dropped number: what is kept
    # A snapshot keeps the numbering: a restored log goes on from the same number.
    restored = Simulator.restore(sim.snapshot())
    assert log.first_seq == restored.log.first_seq
    restored.get_checkout_session(session)
    assert 1001 == restored.log[-1].seq


def test_capped_keys_forget_the_oldest_first() -> None:
    sim = make_sim(seed=1)
    sim.retain(idempotency_keys=10)
    ids = _creates(sim, 30)
    assert 10 == len(sim.snapshot(log=False)["idempotency"])
    newest = sim.create_checkout_session(session_body(), idempotency_key="k29")
    assert ids[29] == newest["checkoutSessionId"]  # remembered: the first answer again
    oldest = sim.create_checkout_session(session_body(), idempotency_key="k0")
    assert oldest["checkoutSessionId"] not in ids  # forgotten: a new key, a new session
    assert 31 == len(sim)


def test_a_key_whose_answer_left_the_log_is_forgotten() -> None:
    sim = make_sim(seed=1)
    sim.retain(call_log=256)
    first = _creates(sim, 1, "old")[0]
    for _ in range(800):
        sim.get_checkout_session(first)
    assert sim.log.first_seq > 1  # the create's record is gone
    again = sim.create_checkout_session(session_body(), idempotency_key="old0")
    assert first != again["checkoutSessionId"]
    assert "old0" in [
        k["key"] for k in sim.snapshot(log=False)["idempotency"]
    ]  # the new answer is remembered


def test_a_refusal_stays_remembered_without_its_log_record() -> None:
    sim = make_sim(seed=1)
    sim.retain(call_log=256)
    bad = {**session_body(), "storeId": 5}
    with pytest.raises(ApiError) as first:
        sim.create_checkout_session(bad, idempotency_key="bad")
    for n in range(800):
        sim.get_checkout_session(_creates(sim, 1, f"g{n}")[0])
    with pytest.raises(ApiError) as again:
        sim.create_checkout_session(bad, idempotency_key="bad")
    assert str(first.value) == str(again.value)


@pytest.mark.parametrize("cap", [0, -1])
def test_caps_must_be_positive(cap: int) -> None:
    sim = make_sim()
    with pytest.raises(ValueError, match="at least 1"):
        sim.retain(call_log=cap)
    with pytest.raises(ValueError, match="at least 1"):
        sim.retain(idempotency_keys=cap)
