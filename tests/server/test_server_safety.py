"""Safe by default (issue 16 item 5, and item 3's small things): ``--control-token``
protects ``/_apfsm/...``; the TLS material lives in a private directory removed on exit —
normal, SIGTERM or a start-up error; a 405 names the methods in ``Allow``; the OpenAPI
patterns match whole strings in every engine."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from apfsm.server import create_app, openapi, running
from tests.server.serverhelpers import session_body, until
from tests.simhelpers import make_sim

TOKEN = "s3cret-token"


@pytest.fixture
def guarded() -> TestClient:
    return TestClient(create_app(make_sim(), control_token=TOKEN))


def _control_endpoints() -> list[tuple[str, str]]:
    index = TestClient(create_app(make_sim())).get("/_apfsm").json()
    return [tuple(name.split(" ", 1)) for name in index["control"]]


# -- the control token -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), _control_endpoints())
def test_every_control_endpoint_needs_the_token(
    guarded: TestClient, method: str, path: str
) -> None:
    missing = guarded.request(method, path, content=b"{}")
    assert (401, "UnauthorizedAccess") == (missing.status_code, missing.json()["reasonCode"])
    assert 'Bearer realm="apfsm control"' == missing.headers["www-authenticate"]
    for wrong in (f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}", "Bearer "):
        answer = guarded.request(method, path, content=b"{}", headers={"authorization": wrong})
        assert (
            403,
            {
                "reasonCode": "InvalidAuthentication",
                "message": "the control token given is not this server's",
            },
        ) == (
            answer.status_code,
            answer.json(),
        )
    # With it, the endpoint is reached (it may then refuse the empty body in its own words).
    right = guarded.request(
        method, path, content=b"{}", headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert right.status_code not in (401, 403)


def test_a_refused_control_call_changes_nothing(guarded: TestClient) -> None:
    sim = guarded.app.state.simulator  # type: ignore[attr-defined]
    before = sim.now()
    assert 401 == guarded.post("/_apfsm/clock/advance", json={"days": 3}).status_code
    assert 401 == guarded.post("/_apfsm/reset").status_code
    assert before == sim.now()
    ok = guarded.post(
        "/_apfsm/clock/advance", json={"days": 3}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert 200 == ok.status_code
    assert 3 == (sim.now() - before).days


def test_the_index_the_document_and_the_api_stay_open(guarded: TestClient) -> None:
    for path in ("/", "/_apfsm", "/_apfsm/"):
        index = guarded.get(path)
        assert 200 == index.status_code
        assert "needs 'Authorization: Bearer TOKEN'" in index.json()["controlAuth"]
    assert 200 == guarded.get("/openapi.json").status_code
    created = guarded.post(
        "/v2/checkoutSessions",
        json=session_body(),
        headers={"x-amz-pay-idempotency-key": "open-1"},
    )
    assert 201 == created.status_code
    open_index = TestClient(create_app(make_sim())).get("/_apfsm").json()
    assert open_index["controlAuth"].startswith("none: the control endpoints are open")


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [
        ("0.0.0.0", None, True),
        ("192.0.2.7", None, True),
        ("shop.example", None, True),
        ("0.0.0.0", TOKEN, False),  # protected: nothing to warn about
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
    ],
)
def test_an_open_control_api_beyond_loopback_is_warned_about(
    host: str, token: str | None, warned: bool
) -> None:
    from apfsm.server._run import _exposure_warning

    warning = _exposure_warning(host, token)
    assert warned == (warning is not None)
    if warning is not None:
        assert warning.startswith(f"WARNING: listening on {host}, beyond this machine")
        assert "--control-token TOKEN (or APFSM_CONTROL_TOKEN) protects it" in warning


def test_the_signature_start_up_line_says_what_is_checked() -> None:
    from datetime import timedelta

    from apfsm.server._run import _signature_line

    assert "not checked" == _signature_line(None, None, timedelta(minutes=15))
    assert (
        "verified with k.pem (PublicKeyId SANDBOX-X; x-amz-pay-date at most 15 min old by "
        "this machine's clock, never in the future)"
    ) == _signature_line("k.pem", "SANDBOX-X", timedelta(minutes=15))
    assert "any PublicKeyId; x-amz-pay-date not compared with the clock" in _signature_line(
        "k.pem", None, None
    )


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="control_token must be a non-empty string"):
        create_app(make_sim(), control_token="")


# -- 405 and Allow ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/_apfsm/snapshot", {"GET", "HEAD", "PUT"}),
        ("POST", "/_apfsm/clock", {"GET", "HEAD"}),
        ("POST", "/openapi.json", {"GET", "HEAD"}),
        ("DELETE", "/v2/checkoutSessions", {"POST"}),
        ("PUT", "/v2/charges/S01-0000000-0000000-C000000", {"GET", "PATCH"}),
        ("GET", "/v2/merchantAccounts", set()),  # UnsupportedOperation: nothing simulated there
        # The Reports API (docs/reports.md): each path names its own methods.
        ("PUT", "/v2/reports", {"GET", "POST"}),
        ("DELETE", "/v2/reports/59007019641", {"GET"}),
        ("POST", "/v2/report-schedules/1", {"GET", "DELETE"}),
        ("DELETE", "/v2/report-documents/1", {"GET"}),
    ],
)
def test_a_405_names_the_methods_in_allow(method: str, path: str, allow: set[str]) -> None:
    answer = TestClient(create_app(make_sim())).request(method, path)
    assert 405 == answer.status_code
    assert "allow" in answer.headers
    assert allow == {m.strip() for m in answer.headers["allow"].split(",") if m.strip()}


# -- OpenAPI patterns --------------------------------------------------------------------------


def _patterns(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["pattern"]] if isinstance(value.get("pattern"), str) else []
        return found + [p for v in value.values() for p in _patterns(v)]
    if isinstance(value, list):
        return [p for v in value for p in _patterns(v)]
    return []


def test_the_amount_pattern_matches_whole_strings_in_every_engine() -> None:
    import jsonschema_rs

    document = openapi()
    amount = document["components"]["schemas"]["Price"]["properties"]["amount"]
    good, bad = ["0", "10.5", "25.00"], ["\n0", "0\n", " 0", "0 ", "01", "1e2", "-1", ""]
    expected = [True] * len(good) + [False] * len(bad)
    validator = jsonschema_rs.validator_for(amount)  # ECMA-262 semantics
    assert expected == [validator.is_valid(x) for x in good + bad]
    # Python validators search with re, whose $ also matches before a final newline.
    assert expected == [bool(re.search(amount["pattern"], x)) for x in good + bad]


def test_no_pattern_in_the_document_ends_in_a_bare_dollar() -> None:
    patterns = _patterns(openapi())
    assert patterns
    assert [] == [p for p in patterns if p.endswith("$")]
    for pattern in patterns:
        assert all(re.search(pattern, x + "\n") is None for x in ("0", "20260302T090000Z", "k1"))


# -- TLS material ------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_running_keeps_tls_files_private_and_removes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with running(create_app(make_sim()), tls=True) as url:
        (directory,) = tmp_path.iterdir()
        assert 0o700 == _mode(directory)
        assert 0o600 == _mode(directory / "apfsm-key.pem")
        assert 0o600 == _mode(directory / "apfsm-cert.pem")
        assert 200 == httpx.get(f"{url}/openapi.json", verify=False).status_code
    assert [] == list(tmp_path.iterdir())


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "APFSM_CONTROL_TOKEN": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "apfsm", "serve", "--no-access-log", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_removes_the_tls_directory_on_sigterm_and_reads_the_token_from_env(
    tmp_path: Path,
) -> None:
    process = _serve(tmp_path, "--port", "0", "--tls")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        while not lines[-1].startswith("TLS certificate") and lines[-1]:
            lines.append(process.stdout.readline())
        url = lines[0].split()[-1]
        cert = Path(next(x for x in lines if x.startswith("TLS certificate")).split()[-1])
        assert "control: needs Authorization: Bearer <the control token>\n" in lines
        assert TOKEN not in "".join(lines)  # the token is never printed
        assert 0o700 == _mode(cert.parent)
        assert (0o600, 0o600) == (_mode(cert), _mode(cert.parent / "apfsm-key.pem"))
        assert cert.parent.parent == tmp_path

        def up() -> bool:
            try:
                return httpx.get(f"{url}/openapi.json", verify=False).status_code == 200
            except httpx.TransportError:
                return False

        until(up)
        assert 401 == httpx.get(f"{url}/_apfsm/clock", verify=False).status_code
        bearer = {"authorization": f"Bearer {TOKEN}"}
        assert 200 == httpx.get(f"{url}/_apfsm/clock", headers=bearer, verify=False).status_code
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert -signal.SIGTERM == process.returncode, err  # still ends as SIGTERM does
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)  # reaps it and closes the pipes
    assert [] == list(tmp_path.iterdir()), "the TLS directory was left behind"


def test_serve_removes_the_tls_directory_after_a_startup_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = _serve(tmp_path, "--port", str(port), "--tls")
        _, err = process.communicate(timeout=60)
    assert 2 == process.returncode, err
    assert "apfsm serve: error:" in err
    assert [] == list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-clock-skew", "0"], "not a number of seconds: '0'"),
        (["--max-clock-skew", "15m"], "not a number of seconds: '15m'"),
    ],
)
def test_serve_refuses_a_bad_skew(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "apfsm", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert 2 == result.returncode
    assert message in result.stderr
