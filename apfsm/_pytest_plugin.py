"""The pytest plugin (entry point ``pytest11``): fixtures for testing against apfsm.

* ``apfsm_clock`` — a ``ManualClock`` at a fixed instant (the ``apfsm_start`` ini option,
  ISO 8601, or 2026-01-31T09:00:00Z by default), so runs are reproducible;
* ``apfsm_mock`` — ``mock_amazon_pay()`` over ``apfsm_simulator``: unchanged client code
  talking to Amazon Pay's hosts is answered in process;
* ``apfsm_simulator`` — a fresh ``apfsm.Simulator`` on that clock, its ids made from the
  seed ``--apfsm-seed N`` gives (the same ids every run), or from a random seed, printed in
  the report of a failing test so ``--apfsm-seed`` can repeat it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from ._clock import ManualClock, require_aware
from ._harness import DEFAULT_START
from ._sim import Simulator

if TYPE_CHECKING:
    from ._intercept import AmazonPayMock


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--apfsm-seed",
        default=None,
        metavar="SEED",
        help="apfsm_simulator makes its ids from SEED (default: a random seed per test)",
    )
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
def apfsm_simulator(request: pytest.FixtureRequest, apfsm_clock: ManualClock) -> Simulator:
    """A fresh ``apfsm.Simulator`` on ``apfsm_clock``, seeded by ``--apfsm-seed``."""
    seed = request.config.getoption("--apfsm-seed", default=None)
    simulator = Simulator(apfsm_clock, seed=seed)
    request.node.user_properties.append(("apfsm_seed", simulator.seed))
    return simulator


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Tell a failing test's apfsm seed, so ``--apfsm-seed`` can repeat its ids."""
    report = yield
    seeds = [value for name, value in item.user_properties if name == "apfsm_seed"]
    if seeds and report.failed:
        report.sections.append(("apfsm", f"ids made from seed {seeds[-1]} (--apfsm-seed)"))
    return report


@pytest.fixture
def apfsm_mock(apfsm_simulator: Simulator) -> Iterator[AmazonPayMock]:
    """``apfsm.testing.mock_amazon_pay()`` over ``apfsm_simulator``: calls your unchanged
    Amazon Pay client makes (``AmazonPayClient``, ``requests``, ``httpx``) are answered in
    process; the fixture's ``.simulator`` moves time and acts as the buyer or Amazon."""
    from ._intercept import mock_amazon_pay  # noqa: PLC0415  (imports the server extra)

    with mock_amazon_pay(apfsm_simulator) as amazon:
        yield amazon
