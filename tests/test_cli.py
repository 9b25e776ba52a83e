"""The command line: success and failure paths, exit codes, no tracebacks on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from apfsm._cli import main

from .payloads import T0, charge


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_demo_prints_tables_and_passes_its_checks() -> None:
    code, text = run("demo")
    assert 0 == code
    for object_type in ("CheckoutSession", "ChargePermission", "Charge", "Refund"):
        assert f"== {object_type} ==" in text
    assert "10/10 predictions as SPEC.md says." in text
    assert "[FAIL]" not in text


def test_demo_quiet_skips_tables() -> None:
    code, text = run("demo", "--quiet")
    assert 0 == code
    assert "== Charge ==" not in text


def test_tables_text_and_markdown() -> None:
    code, text = run("tables", "Charge")
    assert 0 == code
    assert "capture_charge" in text
    assert "→ CaptureInitiated [> 7 d after authorization]" in text
    code, text = run("tables", "--markdown")
    assert 0 == code
    assert "| state | get_charge | capture_charge |" in text
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
    assert {"ok": True, "next_state": "Captured", "http_status": 200, "error": None} == json.loads(
        text
    )
    code, text = run("check", "capture_charge", "--target", target, "--at", "20260501T090000Z")
    assert 1 == code
    assert "InvalidChargeStatus" == json.loads(text)["error"]["reasonCode"]


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
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run("check", "get_charge", *args)
    assert 2 == code
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


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
    for command in ("demo", "tables", "check"):
        result = subprocess.run(
            [sys.executable, "-m", "apfsm", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert 0 == result.returncode, command
        assert "usage: apfsm " + command in result.stdout
