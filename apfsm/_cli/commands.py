"""The ``apfsm`` command line.

Exit codes: 0 success, 1 when what was checked fails (a refused call, a failed self-check),
2 on usage errors and unreadable input. Bad arguments and files never print a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, TextIO

from apfsm._clock import SystemClock, format_duration, format_timestamp, parse_timestamp
from apfsm._docs import Format, error_table, lifecycle_table, limits_table
from apfsm._harness import explore, realistic_body
from apfsm._spec import OBJECT_TYPES, OPERATIONS
from apfsm._validator import check
from apfsm._version import __version__
from apfsm.diagrams import DEFAULT_FORMATS, EXTENSIONS, FORMATS, DiagramError
from apfsm.diagrams import Format as DiagramFormat
from apfsm.diagrams import write as write_diagrams
from apfsm.facades import write_diagrams as write_facade_diagrams

from .base import ProgressBar, UsageError, add_object_argument, fuzzing_kit, object_types, read_text
from .serve import register as _register_serve
from .testing import register as _register_testing

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _read_json(path: str, what: str) -> Any:
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} {path!r} is not valid JSON: {exc}") from None


def _cmd_tables(args: argparse.Namespace, out: TextIO) -> int:
    fmt: Format = "markdown" if args.markdown else "text"
    if args.width is not None and args.width < 40:
        raise UsageError("--width must be at least 40")
    width = args.width or shutil.get_terminal_size().columns
    for object_type in object_types(args.object):
        table = lifecycle_table(object_type, fmt, width=width)
        out.write(f"## {object_type}\n\n{table}\n\n")
    if not args.object:
        out.write(f"## Time limits and checks\n\n{limits_table(fmt, width=width)}\n\n")
        out.write(f"## Error catalog\n\n{error_table(fmt, width=width)}\n")
    return 0


def _formats(text: str) -> tuple[DiagramFormat, ...]:
    """``--format``: a comma-separated subset of the diagram formats."""
    chosen = []
    for name in (part.strip() for part in text.split(",")):
        match = next((fmt for fmt in FORMATS if fmt == name), None)
        if match is None:
            raise argparse.ArgumentTypeError(
                f"unknown format {name!r}; choose from {','.join(FORMATS)} (comma-separated)"
            )
        chosen.append(match)
    return tuple(dict.fromkeys(chosen))


_DOT_HINT = (
    "graphviz's 'dot' program is not installed (or not on PATH); install the system package "
    "'graphviz' (apt-get install graphviz, or brew install graphviz)"
)


def _cmd_diagrams(args: argparse.Namespace, out: TextIO) -> int:
    formats: tuple[DiagramFormat, ...] = args.format or DEFAULT_FORMATS
    drawn = [fmt for fmt in formats if fmt in ("svg", "png")]  # what needs graphviz's dot
    if drawn and shutil.which("dot") is None:
        if args.format:
            # Asked for by name: not producing it is a failure, not a usage error.
            kinds = " and ".join(fmt.upper() for fmt in drawn)
            sys.stderr.write(f"apfsm diagrams: error: cannot render {kinds}: {_DOT_HINT}\n")
            return 1
        formats = tuple(fmt for fmt in formats if fmt != "svg")
        sys.stderr.write(f"apfsm diagrams: warning: skipping SVG: {_DOT_HINT}\n")
    args.out = args.out or tempfile.mkdtemp(prefix="apfsm-diagrams-")
    try:
        paths = write_diagrams(args.out, formats) + write_facade_diagrams(args.out, formats)
    except DiagramError as exc:
        sys.stderr.write(f"apfsm diagrams: error: {exc}\n")
        return 1
    except OSError as exc:
        raise UsageError(f"cannot write to {args.out!r}: {exc.strerror or exc}") from None
    for path in paths:
        out.write(f"{path}\n")
    kinds = ", ".join(f"{fmt} (.{EXTENSIONS[fmt]})" for fmt in formats)
    out.write(f"{len(paths)} files written to {args.out}: {kinds}\n")
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    op = OPERATIONS[args.operation]  # argparse chose among them
    if op.target is not None and not args.target:
        raise UsageError(
            f"{op.name} acts on a {op.target}: give its API JSON with --target FILE "
            "('-' for standard input)"
        )
    target = _read_json(args.target, "target") if args.target else None
    body = _read_json(args.body, "body") if args.body else None
    try:
        at = parse_timestamp(args.at) if args.at else SystemClock().now()
    except ValueError as exc:
        raise UsageError(f"--at: {exc}") from None
    try:
        outcome = check(args.operation, target, body=body, at=at)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    body_checked = body is not None or not op.body
    if not body_checked:
        sys.stderr.write(
            f"note: no --body given: {op.name}'s body rules (required fields, amounts, "
            "formats) were not checked\n"
        )
    answer = {**outcome.to_json(), "at": format_timestamp(at), "bodyChecked": body_checked}
    out.write(json.dumps(answer, indent=2) + "\n")
    return 0 if outcome.ok else 1


# The sample the demo checks: a Charge authorized at T0, captured at several instants.
_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_SAMPLE_CHARGE: dict[str, Any] = {
    "chargeId": "S01-5105180-3221187-C056351",
    "chargePermissionId": "S01-5105180-3221187",
    "chargeAmount": {"amount": "149.99", "currencyCode": "USD"},
    "captureAmount": None,
    "refundedAmount": {"amount": "0.00", "currencyCode": "USD"},
    "statusDetails": {
        "state": "Authorized",
        "reasonCode": None,
        "reasonDescription": None,
        "lastUpdatedTimestamp": format_timestamp(_T0),
    },
    "creationTimestamp": format_timestamp(_T0),
    "expirationTimestamp": format_timestamp(_T0 + timedelta(days=30)),
    "releaseEnvironment": "Sandbox",
}


# Realistic bodies on the sample charge (as explore and the fuzzers send them), and the
# full capture with one thing wrong.
_FULL = realistic_body("capture_charge", _SAMPLE_CHARGE)


def _capture(**price: str) -> dict[str, Any]:
    """The full capture of the sample charge, with ``price`` changed (a planted fault)."""
    return {"captureAmount": {**_FULL["captureAmount"], **price}}


_DAY = timedelta(days=1)
_SAMPLE_STEPS: tuple[tuple[str, timedelta, dict[str, Any] | None, str], ...] = (
    ("capture_charge", _DAY, _FULL, "Captured"),
    ("capture_charge", 7 * _DAY, _FULL, "Captured"),
    ("capture_charge", 7 * _DAY + timedelta(seconds=1), _FULL, "CaptureInitiated"),
    ("capture_charge", 2 * _DAY, _capture(amount="150.00"), "TransactionAmountExceeded"),
    ("capture_charge", 2 * _DAY, _capture(currencyCode="EUR"), "CurrencyMismatch"),
    ("capture_charge", 2 * _DAY, _capture(amount="149.990"), "InvalidParameterValue"),
    ("capture_charge", 30 * _DAY, _FULL, "InvalidChargeStatus"),
    ("get_charge", 30 * _DAY, None, "Canceled"),
    ("create_refund", _DAY, realistic_body("create_refund", _SAMPLE_CHARGE), "InvalidChargeStatus"),
    (
        "cancel_charge",
        29 * _DAY + timedelta(hours=23),
        realistic_body("cancel_charge", _SAMPLE_CHARGE),
        "Canceled",
    ),
)


def _demo_validator(out: TextIO) -> bool:
    out.write(
        f"== 1. The validator: a sample Charge (Authorized at {format_timestamp(_T0)}) "
        "at its deadlines ==\n\n"
    )
    failures = 0
    for operation, delta, body, expected in _SAMPLE_STEPS:
        outcome = check(operation, _SAMPLE_CHARGE, body=body, at=_T0 + delta)
        got = outcome.next_state if outcome.ok else outcome.reason_code
        verdict = "ok  " if got == expected else "FAIL"
        failures += got != expected
        answer = (
            f"accepted → {outcome.next_state}"
            if outcome.ok
            else f"refused {outcome.http_status} {outcome.reason_code}: {outcome.message}"
        )
        out.write(f"  [{verdict}] {operation} at T0 + {format_duration(delta)}: {answer}\n")
    total = len(_SAMPLE_STEPS)
    out.write(f"\n{total - failures}/{total} predictions as the specification says.\n\n")
    return failures == 0


def _demo_diagrams(directory: str, out: TextIO) -> bool:
    out.write("== 2. Lifecycle diagrams, rendered from the declarations ==\n\n")
    formats: tuple[DiagramFormat, ...] = DEFAULT_FORMATS
    if shutil.which("dot") is None:
        formats = tuple(f for f in DEFAULT_FORMATS if f != "svg")
        out.write(f"  (SVG skipped: {_DOT_HINT})\n")
    try:
        paths = write_diagrams(directory, formats)
    except (DiagramError, OSError) as exc:
        out.write(f"  FAIL: {exc}\n\n")
        return False
    out.write(f"  {len(paths)} files ({', '.join(formats)}) written to {directory}\n\n")
    return True


def _demo_explore(out: TextIO, progress: bool = True) -> bool:
    out.write("== 3. Exploration: every reachable state × operation × time bucket ==\n\n")
    result = explore(progress=ProgressBar("explore") if progress else None)
    out.write("  " + result.summary().replace("\n", "\n  ") + "\n\n")
    return result.ok


def _demo_fuzz(examples: int, out: TextIO, progress: bool = True) -> bool:
    out.write(f"== 4. Fuzzing the embedded simulator: {examples} random histories ==\n\n")
    bar = ProgressBar("fuzz") if progress else None
    report = fuzzing_kit()(examples=examples, seed=0, progress=bar)
    out.write("  " + report.summary().replace("\n", "\n  ") + "\n\n")
    return report.ok


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    if args.examples < 1:
        raise UsageError("--examples must be at least 1")
    if args.tables:
        for object_type in OBJECT_TYPES:
            out.write(f"== {object_type} ==\n\n{lifecycle_table(object_type)}\n\n")
    directory = args.out or tempfile.mkdtemp(prefix="apfsm-demo-diagrams-")
    loud = not args.quiet
    sections: dict[str, Callable[[TextIO], bool]] = {
        "validator": _demo_validator,
        "diagrams": lambda sink: _demo_diagrams(directory, sink),
        "exploration": lambda sink: _demo_explore(sink, progress=loud),
        "fuzzing": lambda sink: _demo_fuzz(args.examples, sink, progress=loud),
    }
    results = {}
    for name, section in sections.items():
        # --quiet: every check still runs; only the report is printed, and what failed.
        captured = io.StringIO()
        results[name] = section(out if loud else captured)
        if not loud and not results[name]:
            out.write(captured.getvalue())
    out.write("== Report ==\n\n")
    for name, ok in results.items():
        out.write(f"  {'ok  ' if ok else 'FAIL'} {name}\n")
    good = all(results.values())
    out.write(
        "\nEverything conforms to the specification (docs/specification.md).\n"
        if good
        else "\nSome checks FAILED.\n"
    )
    return 0 if good else 1


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="apfsm",
        description="Amazon Pay API v2 lifecycles as state machines: validate calls, "
        "print the lifecycle tables, draw the diagrams.",
        epilog="Exit codes: 0 success, 1 when what was checked fails, 2 usage errors.",
    )
    parser.add_argument("--version", action="version", version=f"apfsm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo",
        help="the main job: validator, diagrams, exploration and fuzzing on the embedded simulator",
        description="Check a sample payload, render the diagrams, explore every lifecycle and "
        "run a short fuzzing campaign on the embedded simulator; print a short report. "
        "Exits 1 when anything fails.",
    )
    demo.add_argument(
        "--quiet",
        action="store_true",
        help="print only the report (and the sections that failed); every check still runs",
    )
    demo.add_argument("--tables", action="store_true", help="also print the lifecycle tables")
    demo.add_argument(
        "--out",
        default=None,
        help="where to render the diagrams (default: a new temporary directory, printed)",
    )
    demo.add_argument(
        "--examples", type=int, default=100, help="random histories to fuzz (default: 100)"
    )
    demo.set_defaults(run=_cmd_demo)

    tables = sub.add_parser("tables", help="print the lifecycle, limit and error tables")
    add_object_argument(tables)
    tables.add_argument("--markdown", action="store_true", help="Markdown instead of text")
    tables.add_argument(
        "--width",
        type=int,
        metavar="COLUMNS",
        help="fit text tables to COLUMNS: a wider table prints one block per row "
        "(default: the terminal's width)",
    )
    tables.set_defaults(run=_cmd_tables)

    chk = sub.add_parser(
        "check",
        help="predict Amazon Pay's answer to one call",
        description="Print the predicted outcome as JSON; exit 0 when the call would be "
        "accepted, 1 when refused.",
    )
    chk.add_argument("operation", choices=list(OPERATIONS), metavar="OPERATION")
    chk.add_argument(
        "--target", metavar="FILE.json", help="the target object's API JSON ('-': stdin)"
    )
    chk.add_argument("--body", metavar="FILE.json", help="the request body JSON")
    chk.add_argument(
        "--at",
        metavar="ISO-TIME",
        help="when the call is made, e.g. 20260101T120000Z (default: now)",
    )
    chk.set_defaults(run=_cmd_check)

    dia = sub.add_parser(
        "diagrams",
        help="write the lifecycle diagrams (DOT, SVG, Mermaid)",
        description="Render every lifecycle (and its refusals view) and the overview from "
        "the declarations. SVG needs graphviz's 'dot' program: without it, DOT and Mermaid are "
        "written with a warning (exit 0), unless --format names svg (exit 1).",
    )
    dia.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output directory (default: a new temporary directory, printed); "
        "in the repository: --out diagrams",
    )
    dia.add_argument(
        "--format",
        metavar="FORMATS",
        type=_formats,
        help=f"comma-separated, from {','.join(FORMATS)} (default: {','.join(DEFAULT_FORMATS)})",
    )
    dia.set_defaults(run=_cmd_diagrams)

    _register_testing(sub)  # explore, fuzz, check-log: apfsm/_cli_testing.py
    _register_serve(sub)  # apfsm serve: apfsm/_cli/serve.py runs apfsm.server.serve
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(out)
        return 2
    try:
        return int(args.run(args, out))
    except UsageError as exc:
        sys.stderr.write(f"apfsm {args.command}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
