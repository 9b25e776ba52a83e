"""The curl examples of docs/other-languages.md run (issue 13): every ``console`` block's
commands, in order, against a fresh ``apfsm serve`` started with the page's own command
line on a loopback port (and an IPN receiver for ``--notify-url``), with the real ``curl``;
each answer is checked against the one the page shows — its JSON shape and values, where
``"..."`` stands for any value, a ``"...": "..."`` entry for more fields and a trailing
``"..."`` for more items — and its status: 2xx, or the catalog's status for the error code
shown. Skipped, with the reason, where ``curl`` or ``bash`` is not installed."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from apfsm import ERRORS
from tests.server.serverhelpers import receiver, until

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "other-languages.md"
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.DOTALL | re.MULTILINE)
ADDRESS = "localhost:8080"


def sessions(text: str) -> list[tuple[str, str]]:
    """The page's shell session: (command, expected output) pairs, in order. A command is a
    ``$ `` line and the ``> `` lines after it (the shell's continuation prompt, as for a
    heredoc or an open quote); what follows, up to the next command, is its output."""
    pairs: list[tuple[list[str], list[str]]] = []
    for block in CONSOLE.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                pairs.append(([line[2:]], []))
            elif line.startswith("> ") and pairs and not pairs[-1][1]:
                pairs[-1][0].append(line[2:])
            elif pairs:
                pairs[-1][1].append(line)
    return [("\n".join(command), "\n".join(output).strip()) for command, output in pairs]


def matches(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` has the shape and values ``expected`` shows (``"..."`` rules)."""
    if expected == "...":
        return True
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        named = {k: v for k, v in expected.items() if k != "..."}
        if "..." not in expected and set(named) != set(actual):
            return False
        return all(k in actual and matches(v, actual[k]) for k, v in named.items())
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return False
        more = bool(expected) and expected[-1] == "..."
        items = expected[:-1] if more else expected
        if len(actual) < len(items) or (not more and len(actual) != len(items)):
            return False
        return all(matches(e, a) for e, a in zip(items, actual, strict=False))
    return bool(expected == actual and type(expected) is type(actual))


@contextmanager
def page_server(command: str, notify_url: str) -> Iterator[str]:
    """``apfsm serve`` with the page's options, on a free port; yields its address."""
    args = shlex.split(command)
    assert ["apfsm", "serve"] == args[:2], command
    options = args[2:]
    options[options.index("--port") + 1] = "0"
    options[options.index("--notify-url") + 1] = notify_url
    process = subprocess.Popen(
        [sys.executable, "-m", "apfsm", "serve", *options, "--no-access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "simulator on http://" in first, first
        address = first.split()[-1].removeprefix("http://")
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()


def test_the_page_shows_every_control_endpoint_and_event() -> None:
    # Each control endpoint of the OpenAPI document, and each declared event, is shown.
    from apfsm import LIFECYCLES
    from apfsm.server import openapi

    commands = [command for command, _ in sessions(PAGE.read_text(encoding="utf-8"))]
    index = {"/", "/_apfsm", "/_apfsm/"}
    for path, item in openapi()["paths"].items():
        if not path.startswith("/_apfsm") or path in index:
            continue
        at = re.compile(re.escape(f"{ADDRESS}{path}") + r"(?=[\s'?]|$)")
        for method in item:
            shown = [c for c in commands if at.search(c)]
            if method == "get":
                shown = [c for c in shown if "-X " not in c and " -d " not in c]
            else:
                shown = [c for c in shown if f"-X {method.upper()}" in c]
            assert shown, f"no curl example of {method.upper()} {path}"
    assert any(c == f"curl -s {ADDRESS}/_apfsm" for c in commands)
    text = PAGE.read_text(encoding="utf-8")
    for object_type, lifecycle in LIFECYCLES.items():
        for event in lifecycle.events:
            assert f"`{event.name}`" in text, (object_type, event.name)


def test_the_curl_examples_run_and_answer_as_shown(tmp_path: Path) -> None:
    curl, bash = shutil.which("curl"), shutil.which("bash")
    if curl is None or bash is None:
        pytest.skip("curl and bash are needed to run the page's shell examples")
    pairs = sessions(PAGE.read_text(encoding="utf-8"))
    serve = [command for command, _ in pairs if command.startswith("apfsm serve")]
    assert 1 == len(serve)
    # curl as the page runs it, with its HTTP status written to stderr (the page's
    # commands and their stdout — also what they redirect to a file — are unchanged).
    shim = tmp_path / "bin" / "curl"
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {curl} -w '%{{stderr}}%{{http_code}}' \"$@\"\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    work = tmp_path / "work"
    work.mkdir()
    with receiver() as ipn, page_server(serve[0], ipn.url) as address:
        ran = 0
        for command, shown in pairs:
            if command.startswith("apfsm serve"):
                continue
            result = subprocess.run(
                [bash, "-c", command.replace(ADDRESS, address)],
                capture_output=True,
                text=True,
                check=False,
                cwd=work,
                env=env,
                timeout=60,
            )
            where = f"docs/other-languages.md: {command}"
            assert 0 == result.returncode, f"{where}\n{result.stderr}"
            ran += 1
            if "curl " not in command:
                continue
            status = int(result.stderr.strip()[-3:])
            if ">" in command.replace("->", ""):  # written to a file
                assert 200 == status, where
                continue
            answer = json.loads(result.stdout)
            if os.environ.get("APFSM_SHOW_CURL"):  # to write the page: what it answers
                print(f"$ {command}\n{json.dumps(answer)}\n")
            expected = json.loads(shown)
            assert matches(expected, answer), f"{where}\nshown: {shown}\nanswered: {answer}"
            if isinstance(expected, dict) and "reasonCode" in expected:
                assert ERRORS[expected["reasonCode"]].http_status == status, where
            else:
                assert 200 <= status < 300, where
        assert ran >= 40
        until(lambda: len(ipn.received) > 0)  # the IPN examples reached the receiver


def test_the_shape_rules() -> None:
    assert matches({"a": "...", "...": "..."}, {"a": 1, "b": 2})
    assert not matches({"a": "..."}, {"a": 1, "b": 2})
    assert matches([{"x": 1}, "..."], [{"x": 1}, 2, 3])
    assert not matches([{"x": 1}], [{"x": 1}, 2])
    assert not matches({"n": 1}, {"n": 1.0})
    assert not matches({"...": "...", "missing": 1}, {"other": 1})
