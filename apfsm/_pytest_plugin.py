"""The pytest plugin (entry point ``pytest11``): fixtures for testing against apfsm.

* ``apfsm_clock`` — a ``ManualClock`` at a fixed instant (the ``apfsm_start`` ini option,
  ISO 8601, or 2026-01-31T09:00:00Z by default), so runs are reproducible;
* ``apfsm_simulator`` — a fresh ``apfsm.Simulator`` on that clock.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from ._clock import ManualClock, require_aware
from ._harness import DEFAULT_START
from ._sim import Simulator


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "apfsm_start",
        "the instant apfsm_clock starts at (ISO 8601 with a UTC offset)",
        default=DEFAULT_START.isoformat(),
    )


@pytest.fixture
def apfsm_clock(request: pytest.FixtureRequest) -> ManualClock:
    """A ``ManualClock`` at the configured start instant."""
    text = str(request.config.getini("apfsm_start"))
    try:
        start = require_aware(datetime.fromisoformat(text), "apfsm_start")
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"apfsm_start = {text!r}: {exc}") from None
    return ManualClock(start)


@pytest.fixture
def apfsm_simulator(apfsm_clock: ManualClock) -> Simulator:
    """A fresh ``apfsm.Simulator`` on ``apfsm_clock``."""
    return Simulator(apfsm_clock)
