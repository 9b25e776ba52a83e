"""Reports a CI reads (issue 13 item 4): ``--junit FILE`` and ``--json FILE`` on
``explore``, ``fuzz`` and ``check-log`` — a JUnit test case per thing checked with a failure
per problem, and JSON naming what was not reached."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from apfsm import ManualClock, Simulator
from apfsm._cli.commands import main
from tests.simhelpers import T0, forgetful_cancel


def run(*argv: str) -> int:
    return main(list(argv), out=io.StringIO())


def _cases(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert "testsuites" == root.tag
    return list(root.iter("testcase"))


def test_explore_reports(tmp_path: Path) -> None:
    junit, report = tmp_path / "explore.xml", tmp_path / "explore.json"
    assert 0 == run("explore", "Charge", "Refund", "--junit", str(junit), "--json", str(report))
    assert ["Charge", "Refund"] == [c.get("name") for c in _cases(junit)]
    assert all(c.find("failure") is None for c in _cases(junit))
    document = json.loads(report.read_text())
    assert (True, "explore") == (document["ok"], document["command"])
    # The one declared transition explore does not reach is named, on its object's case.
    assert document["unreached"] == ["Charge AuthorizationInitiated pending_timeout Declined"]
    (charge,) = [c for c in _cases(junit) if c.get("name") == "Charge"]
    assert "pending_timeout" in (charge.findtext("system-out") or "")


def test_fuzz_reports_a_failure_and_what_was_not_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APFSM_TRACE_DIR", str(tmp_path))
    junit, report = tmp_path / "fuzz.xml", tmp_path / "fuzz.json"
    args = ["fuzz", "--examples", "5", "--steps", "8", "--seed", "2"]
    assert 0 == run(*args, "--junit", str(junit), "--json", str(report))
    document = json.loads(report.read_text())
    assert (True, None) == (document["ok"], document["failure"])
    assert {"states", "pairs", "codes"} == set(document["unreached"])
    assert document["unreached"]["codes"]  # a short campaign: some codes never answered
    (case,) = _cases(junit)
    assert case.find("failure") is None
    assert "unreached codes:" in (case.findtext("system-out") or "")
    forgetful_cancel(monkeypatch)
    failing = ["fuzz", "--examples", "200", "--steps", "20", "--seed", "1"]
    assert 1 == run(*failing, "--junit", str(junit), "--json", str(report))
    (case,) = _cases(junit)
    failure = case.find("failure")
    assert failure is not None
    assert json.loads(report.read_text())["failure"] in (failure.text or "")


def test_check_log_reports_one_case_per_problem(tmp_path: Path) -> None:
    sim = Simulator(ManualClock(T0))
    session = sim.create_checkout_session(
        {"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://a/r"}, "storeId": "s"}
    )
    sim.get_checkout_session(session["checkoutSessionId"])
    log = tmp_path / "log.jsonl"
    sim.write_log(log)
    lines = log.read_text().splitlines()
    log.write_text("\n".join([*lines, "not json"]) + "\n")
    junit, report = tmp_path / "log.xml", tmp_path / "log.json"
    assert 1 == run("check-log", str(log), "--junit", str(junit), "--json", str(report))
    (case,) = _cases(junit)
    assert f"{log}:3" == case.get("name")
    assert "malformed" in (case.find("failure").get("message") or "")  # type: ignore[union-attr]
    document = json.loads(report.read_text())
    assert [3] == [p["line"] for p in document["problems"]]


def test_an_unwritable_report_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-directory" / "report.xml"
    assert 2 == run("explore", "Refund", "--junit", str(target))
    assert f"cannot write --junit {str(target)!r}" in capsys.readouterr().err
