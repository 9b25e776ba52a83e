"""``FuzzReport`` names what a campaign did not reach (issue 14 item 5, issue 13 item 4):
states, (state, operation) pairs and error codes, not only their counts."""

from __future__ import annotations

from apfsm import ERRORS, LIFECYCLES
from apfsm._fuzz import Coverage, FuzzReport
from apfsm.stateful import fuzz


def _report(coverage: Coverage) -> FuzzReport:
    return FuzzReport(examples=1, steps=1, coverage=coverage, failure=None, trace=None, seconds=0)


def test_an_empty_campaign_misses_everything_by_name() -> None:
    missed = _report(Coverage()).unreached()
    assert len(missed["states"]) == sum(len(lc.state_names()) for lc in LIFECYCLES.values())
    assert "Charge.Declined" in missed["states"]
    assert "Charge.Captured × cancel_charge" in missed["pairs"]
    assert list(ERRORS) == missed["codes"]


def test_what_was_reached_is_not_named() -> None:
    coverage = Coverage()
    coverage.add("Charge", "Captured", "cancel_charge", "any", "InvalidChargeStatus")
    report = _report(coverage)
    missed = report.unreached()
    assert "Charge.Captured" not in missed["states"]
    assert "Charge.Captured × cancel_charge" not in missed["pairs"]
    assert "InvalidChargeStatus" not in missed["codes"]
    text = report.summary(listed=3)
    assert "unreached states: CheckoutSession.Open, CheckoutSession.Completed, " in text
    assert f"(+{len(missed['codes']) - 3} more)" in text


def test_a_real_campaign_names_its_gaps() -> None:
    report = fuzz(examples=5, steps=8, seed=1)
    missed = report.unreached()
    summary = report.summary()
    assert report.ok
    assert missed["codes"]  # a short campaign never answers every code
    assert f"unreached codes: {missed['codes'][0]}" in summary
