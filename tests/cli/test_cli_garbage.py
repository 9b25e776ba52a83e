"""Garbage on the command line (issue 16 item 3): every command's arguments, and the
files ``check`` and ``check-log`` read, give exit 0/1 or a clean exit 2 with a message —
never a traceback. Commands that would run long (``demo``, ``serve``) are checked at the
argument parser only; their files are tests/server/test_server_state.py's."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apfsm import OPERATIONS
from apfsm._cli.commands import _parser, main
from tests.test_no_500 import JSON

_OPTIONS = {
    "demo": ["--quiet", "--tables", "--out", "--examples"],
    "tables": ["--object", "--markdown", "--width"],
    "check": ["--target", "--body", "--at"],
    "diagrams": ["--out", "--format"],
    "explore": ["--object", "--depth", "--matrix", "--paths", "--junit", "--json"],
    "fuzz": ["--examples", "--steps", "--seed", "--coverage", "--junit", "--json"],
    "check-log": ["--junit", "--json"],
    "serve": [
        "--host", "--port", "--tls", "--public-key", "--notify-url", "--state", "--seed",
        "--start", "--no-access-log", "--max-call-log", "--max-idempotency-keys",
    ],
}  # fmt: skip
_WORDS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["-1", "0", "1", "99999999999999999999", "nan", "-", "--", "x=y", "²"]),
    st.sampled_from(sorted(OPERATIONS)),
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
        _clean(*_run(argv))


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
