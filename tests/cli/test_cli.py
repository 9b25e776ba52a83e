"""The command line: success and failure paths, exit codes, no tracebacks on bad input."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apfsm import OBJECT_TYPES
from apfsm._cli.commands import _parser, main
from apfsm._docs import error_table, lifecycle_table, limits_table
from tests.payloads import T0, charge
from tests.simhelpers import forgetful_cancel


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_demo_runs_the_main_job_and_reports(tmp_path: Path) -> None:
    code, text = run("demo", "--out", str(tmp_path / "diagrams"), "--examples", "10")
    assert 0 == code
    assert "10/10 predictions as the specification says." in text
    for section in ("1. The validator", "2. Lifecycle diagrams", "3. Exploration", "4. Fuzzing"):
        assert section in text
    assert "0 failure(s)" in text
    assert "Everything conforms to the specification (docs/specification.md)." in text
    assert "[FAIL]" not in text
    assert (tmp_path / "diagrams" / "charge.mmd").is_file()
    assert "== Charge ==" not in text


def test_demo_quiet_prints_the_report_only_and_tables_on_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, text = run("demo", "--quiet", "--tables", "--examples", "5")
    assert 0 == code
    assert "== Charge ==" in text
    assert "3. Exploration" not in text
    # Every check still ran: the report lists all four.
    for name in ("validator", "diagrams", "exploration", "fuzzing"):
        assert f"ok   {name}" in text
    assert "" == capsys.readouterr().err  # no progress bars either


def test_demo_writes_nothing_into_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    code, text = run("demo", "--examples", "3")
    assert 0 == code
    assert [] == sorted(p.name for p in tmp_path.iterdir())
    written = text.split("written to ", 1)[1].split()[0]
    assert Path(written).is_dir()
    assert (Path(written) / "charge.mmd").is_file()


def test_demo_fails_when_a_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import apfsm._cli.commands as cli

    monkeypatch.setattr(cli, "_SAMPLE_STEPS", (("capture_charge", cli._DAY, None, "Declined"),))
    code, text = run("demo", "--quiet", "--examples", "3")
    assert 1 == code
    assert "[FAIL]" in text  # the failed section is printed in full
    assert "Some checks FAILED." in text
    assert 2 == run("demo", "--examples", "0")[0]


def test_explore_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("explore", "Refund", "--matrix", "--paths")
    assert 0 == code
    assert "0 failure(s)" in text
    assert "get_refund" in text
    assert "Refund RefundInitiated --refund_completed--> Refunded" in text
    assert "explore [" in capsys.readouterr().err  # the progress bar
    assert 2 == run("explore", "Order")[0]
    assert 2 == run("explore", "--depth", "0")[0]


def test_explore_command_fails_on_a_nonconforming_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    forgetful_cancel(monkeypatch)
    code, text = run("explore", "Charge")
    assert 1 == code
    assert "FAIL" in text


def test_fuzz_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("fuzz", "--examples", "8", "--steps", "10", "--seed", "4", "--coverage")
    assert 0 == code
    assert "states reached:" in text
    assert "error codes reached" in text
    assert "fuzz [" in capsys.readouterr().err
    assert 2 == run("fuzz", "--examples", "0")[0]


def test_fuzz_command_fails_with_a_trace(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:

    monkeypatch.setenv("APFSM_TRACE_DIR", str(tmp_path))
    forgetful_cancel(monkeypatch)
    code, text = run("fuzz", "--examples", "200", "--steps", "20", "--seed", "1")
    assert 1 == code
    assert "FAILED" in text
    assert "trace:" in text
    assert (tmp_path / "AmazonPayMachine.json").is_file()


def test_check_log_command(tmp_path: Path) -> None:
    from apfsm import ManualClock, Simulator

    sim = Simulator(ManualClock(T0))
    session = sim.create_checkout_session(
        {"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://a/r"}, "storeId": "s"}
    )
    sim.get_checkout_session(session["checkoutSessionId"])
    clean = tmp_path / "clean.jsonl"
    assert 2 == sim.write_log(clean)
    code, text = run("check-log", str(clean))
    assert 0 == code
    assert "0 problem(s)" in text
    bad = tmp_path / "bad.jsonl"
    lines = clean.read_text().splitlines()
    record = json.loads(lines[1])
    record["response"]["statusDetails"]["state"] = "Completed"  # Open → Completed by a GET
    bad.write_text("\n".join([lines[0], json.dumps(record), "not json"]) + "\n")
    code, text = run("check-log", str(bad))
    assert 1 == code
    assert f"{bad}:line 2: contradiction: get_checkout_session answered state Completed" in text
    assert f"{bad}:line 3: malformed" in text
    assert 2 == run("check-log", str(tmp_path / "missing.jsonl"))[0]


def test_tables_text_and_markdown() -> None:
    code, text = run("tables", "Charge", "--width", "1000")  # wide enough for one grid
    assert 0 == code
    assert "capture_charge" in text
    assert "→ CaptureInitiated [> 7 d after authorization]" in text
    code, text = run("tables", "--markdown")
    assert 0 == code
    assert "| state | get_charge | update_charge | capture_charge |" in text
    assert "## Error catalog" in text


def test_tables_unknown_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("tables", "Order")
    assert 2 == code
    assert "unknown object type 'Order'" in capsys.readouterr().err


def write(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def test_check_accepted_and_refused(tmp_path: Path) -> None:
    target = write(tmp_path, "charge.json", charge())
    body = write(
        tmp_path, "body.json", {"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}
    )
    code, text = run(
        "check", "capture_charge", "--target", target, "--body", body, "--at", "20260305T090000Z"
    )
    assert 0 == code
    assert {
        "ok": True,
        "next_state": "Captured",
        "http_status": 200,
        "error": None,
        "at": "20260305T090000Z",
        "bodyChecked": True,
    } == json.loads(text)
    code, text = run("check", "capture_charge", "--target", target, "--at", "20260501T090000Z")
    assert 1 == code
    assert "InvalidChargeStatus" == json.loads(text)["error"]["reasonCode"]


def test_check_says_when_it_skipped_the_body_and_needs_a_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = write(tmp_path, "charge.json", charge())
    code, text = run("check", "capture_charge", "--target", target, "--at", "20260305T090000Z")
    assert (0, False) == (code, json.loads(text)["bodyChecked"])
    assert "no --body given: capture_charge's body rules" in capsys.readouterr().err
    code, text = run("check", "get_charge", "--target", target, "--at", "20260305T090000Z")
    assert (0, True) == (code, json.loads(text)["bodyChecked"])  # a read has no body
    assert "" == capsys.readouterr().err
    assert 2 == run("check", "capture_charge", "--body", target)[0]
    assert "capture_charge acts on a Charge: give its API JSON with --target" in (
        capsys.readouterr().err
    )


def test_check_defaults_to_now(tmp_path: Path) -> None:
    target = write(tmp_path, "charge.json", charge("Captured"))
    code, text = run("check", "get_charge", "--target", target)
    assert 0 == code
    assert "Captured" == json.loads(text)["next_state"]
    assert T0.year <= 2026


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "/no/such/file.json"], "cannot read target"),
        (["--target", "{bad}"], "cannot read target"),
        (["--at", "yesterday"], "--at"),
        (["--at", "2026-01-01T00:00:00"], "no UTC offset"),
    ],
)
def test_check_bad_input_exits_2_without_traceback(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if "--target" not in args:
        args = ["--target", write(tmp_path, "charge.json", charge()), *args]
    code, _ = run("check", "get_charge", *args)
    assert 2 == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_input_files_that_are_not_utf8_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"note": "café"}'.encode("latin-1"))
    assert 2 == run("check", "get_charge", "--target", str(latin1))[0]
    err = capsys.readouterr().err
    assert f"target {str(latin1)!r} is not UTF-8 text" in err
    assert "Traceback" not in err
    assert 2 == run("check-log", str(latin1))[0]
    assert f"{str(latin1)!r} is not UTF-8 text" in capsys.readouterr().err


def test_check_malformed_json_and_payload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert 2 == run("check", "get_charge", "--target", str(bad))[0]
    assert "is not valid JSON" in capsys.readouterr().err
    wrong = write(tmp_path, "wrong.json", {"statusDetails": {"state": "Pending"}})
    assert 2 == run("check", "get_charge", "--target", wrong)[0]
    assert "'Pending' is not a Charge state" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run("check", "capture")
    assert 2 == info.value.code
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        run("nonsense")
    assert 2 == info.value.code
    assert 2 == run()[0]


def test_python_dash_m_and_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "apfsm", "--help"], capture_output=True, text=True, check=False
    )
    assert 0 == result.returncode
    assert "demo" in result.stdout
    assert "check" in result.stdout
    for command in ("demo", "tables", "check", "diagrams"):
        result = subprocess.run(
            [sys.executable, "-m", "apfsm", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert 0 == result.returncode, command
        assert "usage: apfsm " + command in result.stdout


# ---------------------------------------------------------------------------------------
# apfsm diagrams
# ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
HAS_DOT = shutil.which("dot") is not None


def test_diagrams_writes_what_is_committed(tmp_path: Path) -> None:
    code, text = run("diagrams", "--out", str(tmp_path), "--format", "dot,mermaid")
    assert 0 == code
    written = sorted(p.name for p in tmp_path.iterdir())
    # The API's 14 diagrams (report.* included) and apfsm.facades' 7 (facade-*, v1-*), in
    # each format.
    assert 42 == len(written)
    for name in written:
        fresh = (tmp_path / name).read_text(encoding="utf-8")
        assert (ROOT / "diagrams" / name).read_text(encoding="utf-8") == fresh, name
        assert str(tmp_path / name) in text
    assert f"42 files written to {tmp_path}: dot (.dot), mermaid (.mmd)" in text


@pytest.mark.skipif(not HAS_DOT, reason="graphviz's dot is not installed")
def test_diagrams_default_is_all_three_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, text = run("diagrams")
    assert 0 == code
    assert [] == list(tmp_path.iterdir())  # nothing in the working directory unless asked
    out = Path(text.rstrip().rsplit("written to ", 1)[1].split(":")[0])
    assert out.name.startswith("apfsm-diagrams-")
    assert {".dot": 21, ".svg": 21, ".mmd": 21} == {
        ext: len(list(out.glob(f"*{ext}"))) for ext in (".dot", ".svg", ".mmd")
    }


@pytest.mark.usefixtures("no_dot")
def test_diagrams_without_dot_skips_svg_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _ = run("diagrams", "--out", str(out))
    assert 0 == code
    assert [] == list(out.glob("*.svg"))
    assert 21 == len(list(out.glob("*.dot")))
    assert 21 == len(list(out.glob("*.mmd")))
    err = capsys.readouterr().err
    assert "warning: skipping SVG" in err
    assert "apt-get install graphviz" in err


@pytest.mark.usefixtures("no_dot")
@pytest.mark.parametrize("formats", ["svg", "dot,svg"])
def test_diagrams_without_dot_fails_when_svg_is_asked_for(
    formats: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _ = run("diagrams", "--out", str(out), "--format", formats)
    assert 1 == code
    assert not out.exists()
    err = capsys.readouterr().err
    assert "cannot render SVG" in err
    assert "apt-get install graphviz" in err
    assert "brew install graphviz" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("formats", ["gif", "dot,", "dot;svg"])
def test_diagrams_bad_format_is_a_usage_error(
    formats: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run("diagrams", "--format", formats)
    assert 2 == info.value.code
    err = capsys.readouterr().err
    assert "unknown format" in err
    assert "Traceback" not in err


def test_diagrams_unwritable_out_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    code, _ = run("diagrams", "--out", str(blocker / "sub"), "--format", "mermaid")
    assert 2 == code
    err = capsys.readouterr().err
    assert "cannot write to" in err
    assert "Traceback" not in err


def test_cli_reference_documents_every_command_and_option() -> None:
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sub.choices
    for command, parser in sub.choices.items():
        assert f"## `apfsm {command}`" in page, command
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in page, (command, option)


@pytest.mark.parametrize("width", [80, 100, 120])
def test_tables_fit_the_width(width: int) -> None:
    code, text = run("tables", "--width", str(width))
    assert 0 == code
    assert max(len(line) for line in text.splitlines()) <= width

    # Nothing is lost: every cell of every table is in the fitted text, word for word.
    def flat_text(value: str) -> str:  # wrapping breaks at spaces, or after a "/"
        return " ".join(value.split()).replace("/ ", "/")

    flat = flat_text(text)
    for table in [lifecycle_table(t, "markdown") for t in OBJECT_TYPES] + [
        limits_table("markdown"),
        error_table("markdown"),
    ]:
        for line in table.splitlines()[2:]:
            for cell in line.strip("| ").split(" | "):
                assert flat_text(cell.replace("\\|", "|")) in flat, cell


def test_tables_width_too_small_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == run("tables", "--width", "20")[0]
    assert "--width must be at least 40" in capsys.readouterr().err
