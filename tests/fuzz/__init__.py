"""Tests of apfsm/fuzz."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

#: The histories the balance tests (test_amazon_pay_balance.py, test_choice_balance.py)
#: count their draws over.
BALANCE_HISTORIES = 300

#: Their settings: generation only (no shrinking: nothing fails), derandomized so the
#: counts, and the floors they are held to, are the same on every run.
BALANCE_SETTINGS = settings(
    max_examples=BALANCE_HISTORIES,
    stateful_step_count=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate,),
    suppress_health_check=list(HealthCheck),
)
