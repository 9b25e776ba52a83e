"""Test configuration: Hypothesis profiles, the slow-suite switch and shared fixtures.

The tests mirror the package: ``spec/``, ``decide/``, ``sim/``, ``server/``, ``harness/``,
``fuzz/``, ``cli/``, ``docs/`` for the rooms of ``apfsm/``; top-level modules and what
spans rooms (the architecture, the public API, adding an operation) here; ``reference/``
the independent reference model and its differential tests.

Profiles (``HYPOTHESIS_PROFILE``): ``ci`` (what ``scripts/test`` and CI run: a fixed,
derandomized number of examples, so a run is reproducible and bounded), ``dev`` (the
default outside scripts/test: random, Hypothesis' usual count) and ``fuzz`` (long
campaigns: many more examples). Tests marked ``slow`` run only with ``--run-slow`` or
``APFSM_SLOW=1``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None, print_blob=True)
settings.register_profile(
    "fuzz",
    max_examples=5_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH on which graphviz's ``dot`` cannot be found (diagram and CLI tests)."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


@pytest.fixture(autouse=True, scope="session")
def _traces_out_of_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Failing machines write trace files (tests provoke failures on purpose): keep them
    in a temporary directory, not in the working tree's .apfsm-traces/."""
    if "APFSM_TRACE_DIR" not in os.environ:
        os.environ["APFSM_TRACE_DIR"] = str(tmp_path_factory.mktemp("traces"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run the long property campaigns")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or os.environ.get("APFSM_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow or APFSM_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
