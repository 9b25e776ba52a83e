"""Garbage on the command line (issue 16 item 3): every command's arguments, and the
files ``check`` and ``check-log`` read, give exit 0/1 or a clean exit 2 with a message —
never a traceback. Commands that would run long (``demo``, ``serve``) are checked at the
argument parser only; their files are tests/server/test_server_state.py's."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apfsm import LIFECYCLES, OPERATIONS
from apfsm._cli.commands import _parser, main
from tests.test_no_500 import JSON


def _commands() -> dict[str, list[str]]:
    """Every command and its options, read from the parser itself: an option added later is
    fuzzed too (a hand-kept list missed serve's --public-key-id, --max-clock-skew,
    --control-token and --max-notifications, and fuzz's --workers and --database)."""
    found = {}
    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                found[name] = sorted(
                    option
                    for each in command._actions
                    for option in each.option_strings
                    if option not in ("-h", "--help")
                )
    return found


_OPTIONS = _commands()
_WORDS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["-1", "0", "1", "99999999999999999999", "nan", "-", "--", "x=y", "²"]),
    st.sampled_from(sorted(OPERATIONS)),
    st.sampled_from(sorted(LIFECYCLES)),  # the object tables and explore take
    st.sampled_from([":memory:", "db", "redis", "nope://x", "off", "900", "²", "-5"]),
)


def _run(argv: list[str]) -> tuple[int, str]:
    """``apfsm ARGV`` in process: (exit code, standard error)."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv, out=out)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def _clean(code: int, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err, err
    if code == 2:
        assert "error" in err or "usage" in err, err


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=100)
@given(
    command=st.sampled_from(sorted(_OPTIONS)),
    data=st.data(),
)
def test_garbage_arguments_are_refused_at_the_parser_or_cleanly(
    command: str, data: st.DataObject
) -> None:
    words = data.draw(st.lists(st.one_of(st.sampled_from(_OPTIONS[command]), _WORDS), max_size=6))
    argv = [command, *words]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:
            _clean(exc.code if isinstance(exc.code, int) else 2, err.getvalue())
            return
    if command in ("check", "tables", "explore", "fuzz", "check-log"):
        # Small enough to run: the long-running numbers are capped here, not by apfsm.
        if command == "explore" and (args.depth > 2 or args.object is None):
            return
        if command == "fuzz" and (args.examples > 2 or args.steps > 5):
            return
        if command == "fuzz" and 1 < args.workers <= args.examples:
            return  # would start worker processes
        database = getattr(args, "database", None) or ""
        if database.startswith(("/", "~", "\\", "redis")) or ":" in database[1:3]:
            return  # outside the scratch directory, or a server to connect to
        # Run where a --database directory (or a report file) it makes is thrown away.
        with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
            _clean(*_run(argv))


#: Values each option is given in turn: empty, signs, huge, non-ASCII digits, NaN.
_ODD_VALUES = ("", " ", "-1", "0", "1.5", "nan", "99999999999999999999", "1e999", "²", "٣", "x")


@pytest.mark.parametrize("command", sorted(_OPTIONS))
def test_every_option_given_each_odd_value_is_refused_or_taken_cleanly(command: str) -> None:
    """Each option of each command, alone, with each odd value: argparse's usage error (or
    the option taken) — never a traceback from an option's type (``--max-clock-skew
    99999999999999999999`` overflowed a timedelta)."""
    for option in _OPTIONS[command]:
        for value in _ODD_VALUES:
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    _parser().parse_args([command, option, value])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 2
                    _clean(code, err.getvalue())
                    if code == 2:  # the message says what was wrong, not a type's name
                        assert "invalid _" not in err.getvalue(), err.getvalue()


def test_the_garbage_fuzzer_knows_every_command_and_option() -> None:
    assert {"demo", "tables", "check", "diagrams", "explore", "fuzz", "check-log", "serve"} <= set(
        _OPTIONS
    )
    assert {"--public-key-id", "--max-clock-skew", "--control-token", "--max-notifications"} <= (
        set(_OPTIONS["serve"])
    )
    assert {"--workers", "--database"} <= set(_OPTIONS["fuzz"])


_FILES = st.one_of(
    st.binary(max_size=80),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.lists(JSON, max_size=4).map(lambda rows: "\n".join(map(json.dumps, rows)).encode()),
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "seq": JSON, "at": JSON | st.just("2026-03-02T09:00:00+00:00"),
                "kind": st.sampled_from(["api", "buyer", "amazon", "ipn"]) | JSON,
                "operation": st.sampled_from(sorted(OPERATIONS)) | JSON,
                "objectId": JSON, "request": JSON, "status": JSON, "response": JSON,
                "error": JSON,
            },
        ),
        max_size=4,
    ).map(lambda rows: "\n".join(map(json.dumps, rows)).encode()),
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=100)
@given(
    operation=st.sampled_from(sorted(OPERATIONS)),
    target=st.none() | _FILES,
    body=st.none() | _FILES,
    at=st.none() | st.text(max_size=25) | st.just("20260302T090000Z"),
    log=_FILES,
)
def test_garbage_files_for_check_and_check_log_exit_cleanly(
    operation: str, target: bytes | None, body: bytes | None, at: str | None, log: bytes
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        argv = ["check", operation]
        for name, content in (("--target", target), ("--body", body)):
            if content is not None:
                path = Path(directory) / name.strip("-")
                path.write_bytes(content)
                argv += [name, str(path)]
        if at is not None:
            argv += ["--at", at]
        _clean(*_run(argv))
        path = Path(directory) / "log.jsonl"
        path.write_bytes(log)
        _clean(*_run(["check-log", str(path)]))


@pytest.mark.parametrize("start", ["99991231T235959Z", "00010101T000000Z"])
def test_serve_refuses_a_start_no_deadline_can_follow(start: str) -> None:
    """Taken before, the server started in the year 9999 and its first session's expiry
    overflowed (a 500 on every create); now refused at start, as a snapshot holding such a
    time is (docs/server.md)."""
    result = subprocess.run(
        [sys.executable, "-m", "apfsm", "serve", "--port", "0", "--start", start],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert 2 == result.returncode
    assert "apfsm serve: error: --start" in result.stderr
    assert "between the years 1900 and 8999" in result.stderr
    assert "Traceback" not in result.stderr
