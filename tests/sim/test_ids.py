"""Ids differ from run to run, as Amazon's do; a seed repeats them (SPEC §1, issue 11)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from apfsm import Simulator
from tests.simhelpers import price, session_body

UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def _ids(sim: Simulator) -> tuple[str, str, str, str]:
    sid = sim.create_checkout_session(session_body())["checkoutSessionId"]
    sim.buyer_approve(sid)
    done = sim.complete_checkout_session(sid, {"chargeAmount": price("100.00")})
    sim.capture_charge(done["chargeId"], {"captureAmount": price("100.00")})
    refund = sim.create_refund({"chargeId": done["chargeId"], "refundAmount": price("1.00")})
    return sid, done["chargePermissionId"], done["chargeId"], refund["refundId"]


def test_ids_have_amazons_shapes() -> None:
    sid, cp, charge, refund = _ids(Simulator(seed=1))
    assert re.fullmatch(UUID4, sid)
    assert uuid.UUID(sid).version == 4
    assert re.fullmatch(r"S01-\d{7}-\d{7}", cp)
    # Amazon: S01-5105180-3221187-C056351 / -R022311 (developer.amazon.com/docs/
    # amazon-pay-api-v2/refund.html, Create Refund example; Java SDK RefundTest).
    assert re.fullmatch(re.escape(cp) + r"-C\d{6}", charge)
    assert re.fullmatch(re.escape(cp) + r"-R\d{6}", refund)


def test_two_fresh_simulators_hand_out_different_ids() -> None:
    first, second = Simulator(), Simulator()
    assert first.seed != second.seed
    assert not set(_ids(first)) & set(_ids(second))


def test_the_same_seed_gives_the_same_ids() -> None:
    assert _ids(Simulator(seed=7)) == _ids(Simulator(seed="7"))
    assert _ids(Simulator(seed=7)) != _ids(Simulator(seed=8))
    sim = Simulator()
    assert _ids(Simulator(seed=sim.seed)) == _ids(sim)


@pytest.mark.parametrize("seed", ["", True, 1.5])
def test_a_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(TypeError):
        Simulator(seed=seed)  # type: ignore[arg-type]


def test_a_restored_simulator_continues_its_ids_without_collision() -> None:
    sim = Simulator()
    before = set(_ids(sim))
    restored = Simulator.restore(json.loads(json.dumps(sim.snapshot())))
    assert restored.seed == sim.seed
    after = _ids(restored)
    assert after == _ids(sim)  # exactly the ids the original makes next
    assert not before & set(after)
