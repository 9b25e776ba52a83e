"""Tests of apfsm/fuzz."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture.providers import AVAILABLE_PROVIDERS, HypothesisProvider

#: The histories the balance tests (test_amazon_pay_balance.py, test_choice_balance.py)
#: count their draws over.
BALANCE_HISTORIES = 300


class IndependentHistories(HypothesisProvider):
    """Hypothesis's own draws (its distributions, its seeded random), each history drawn
    afresh: under a backend other than ``"hypothesis"`` the engine neither completes its
    first tenth of histories with the simplest choices nor runs its ~5 mutations (copies
    of one span of a history over another) after each generated one. Those make
    histories copies of each other — good for finding bugs, bad for measuring shares: over
    300 histories a ten-valued option's share of the example shop's machine swung from
    0.05 to 2.6 of fair between random seeds, and a derandomized run's stream is re-drawn
    by any edit to any loaded module (Hypothesis draws 1 in 20 bounded integers from the
    constants in the source of every local module loaded, so which test files pytest
    collected changed the sample). With independent histories (measured on branch h24shop's
    larger shop, 16 random seeds) the lowest share was 0.38."""


AVAILABLE_PROVIDERS["apfsm-independent-histories"] = IndependentHistories

#: Their settings: generation only (no shrinking: nothing fails), independent histories
#: (above), derandomized so the counts, and the floors they are held to, are the same on
#: every run.
BALANCE_SETTINGS = settings(
    max_examples=BALANCE_HISTORIES,
    stateful_step_count=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.generate,),
    backend="apfsm-independent-histories",
    suppress_health_check=list(HealthCheck),
)
