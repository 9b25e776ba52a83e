"""Typing from outside (issue 14 item 6): a small user project type-checks with
``mypy --strict`` against the package (``py.typed``), and the public signatures say what
they return — ``assert_type`` fails the check where ``Any`` would leak."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

USER_CODE = """
from datetime import UTC, datetime
from typing import Any, assert_type

from hypothesis import strategies as st

import apfsm
import apfsm.strategies as aps
from apfsm.diagrams import render, render_png
from apfsm.testing import IntegrationMachine

outcome = apfsm.check("get_charge", {"statusDetails": {"state": "Captured"}},
                      at=datetime(2026, 1, 1, tzinfo=UTC))
assert_type(outcome, apfsm.Outcome)
assert_type(outcome.ok, bool)
sim = apfsm.Simulator(seed=1)
assert_type(sim, apfsm.Simulator)
done = sim.checkout("10.00")
assert_type(done, dict[str, Any])
assert_type(apfsm.check_transition("charge", "Authorized", "Captured"), bool)
assert_type(aps.request_bodies("capture_charge"), st.SearchStrategy[dict[str, Any]])
assert_type(
    aps.request_bodies("capture_charge", valid=False), st.SearchStrategy[tuple[object, str]]
)
trace = apfsm.Trace.from_log(sim.log, start=datetime(2026, 1, 1, tzinfo=UTC))
assert_type(apfsm.replay(trace, sim), apfsm.Replay)
assert_type(render("charge", "mermaid"), str)
assert_type(render_png("charge"), bytes)
report = apfsm.check_log("[]")
assert_type(report, apfsm.LogReport)


class Machine(IntegrationMachine):
    def check_books(self, charge_id: str) -> None:
        # The docs' invariant: Amazon's JSON read straight, no None to rule out first.
        charge = self.amazon_json(charge_id)
        assert_type(charge, dict[str, Any])
        assert_type(self.amazon_json(charge_id, None), dict[str, Any] | None)
        assert_type(self.predict("capture_charge", charge_id), apfsm.Outcome)
        assert "Captured" == charge["statusDetails"]["state"]
"""

MISUSE = """
import apfsm

count: int = apfsm.Simulator().checkout("1.00")
"""


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "user.py").write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("code", [USER_CODE], ids=["public-api"])
def test_a_user_project_type_checks_strictly(tmp_path: Path, code: str) -> None:
    result = _mypy(tmp_path, code)
    assert 0 == result.returncode, result.stdout + result.stderr


def test_misuse_is_caught(tmp_path: Path) -> None:
    result = _mypy(tmp_path, MISUSE)
    assert 1 == result.returncode
    assert 'Incompatible types in assignment (expression has type "dict[str, Any]"' in (
        result.stdout
    )
