"""The testing commands of the ``apfsm`` command line: ``explore``, ``fuzz``, ``check-log``."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from apfsm._harness import check_log, explore

from .base import ProgressBar, UsageError, add_object_argument, fuzzing_kit, object_types, read_text
from .reports import Case, add_report_options, write_reports

__all__ = ["register"]


def _cmd_explore(args: argparse.Namespace, out: TextIO) -> int:
    types = object_types(args.object)
    if args.depth < 1:
        raise UsageError("--depth must be at least 1")
    bar = ProgressBar("explore")
    result = explore(depth=args.depth, object_types=types, progress=bar)
    out.write(result.summary() + "\n")
    unreached = [" ".join(str(part) for part in t) for t in result.unreached]
    cases = [
        Case(
            "apfsm.explore",
            object_type,
            "\n".join(str(f) for f in result.failures if f.object_type == object_type) or None,
            "\n".join(u for u in unreached if u.startswith(f"{object_type} ")),
        )
        for object_type in types
    ]
    document = {
        "command": "explore",
        "ok": result.ok,
        "probes": result.probes,
        "seconds": result.seconds,
        "failures": [str(f) for f in result.failures],
        "exercised": len(result.paths),
        "unreached": unreached,
    }
    write_reports(args, "apfsm explore", document, cases, result.seconds)
    if args.matrix:
        for (object_type, where, operation, bucket), outcome in sorted(result.matrix.items()):
            out.write(f"  {object_type:<16} {where:<40} {operation:<26} {bucket:<32} {outcome}\n")
    if args.paths:
        for (object_type, source, trigger, dest), path in sorted(result.paths.items()):
            out.write(f"  {object_type} {source} --{trigger}--> {dest}: {' → '.join(path)}\n")
    return 0 if result.ok else 1


def _cmd_fuzz(args: argparse.Namespace, out: TextIO) -> int:
    if args.examples < 1 or args.steps < 1:
        raise UsageError("--examples and --steps must be at least 1")
    bar = ProgressBar("fuzz")
    report = fuzzing_kit()(examples=args.examples, steps=args.steps, seed=args.seed, progress=bar)
    out.write(report.summary() + "\n")
    if args.coverage:
        out.write("\n" + report.coverage.report() + "\n")
    missed = report.unreached()
    document = {
        "command": "fuzz",
        "ok": report.ok,
        "examples": report.examples,
        "steps": report.steps,
        "seconds": report.seconds,
        "failure": report.failure,
        "trace": None if report.trace is None else str(report.trace),
        "unreached": missed,
    }
    output = "\n".join(f"unreached {kind}: {', '.join(names)}" for kind, names in missed.items())
    case = Case("apfsm.fuzz", "AmazonPayMachine campaign", report.failure, output)
    write_reports(args, "apfsm fuzz", document, [case], report.seconds)
    return 0 if report.ok else 1


def _cmd_check_log(args: argparse.Namespace, out: TextIO) -> int:
    report = check_log(read_text(args.file))  # JSON Lines or a JSON array, told apart
    for problem in report.problems:
        out.write(f"{args.file}:{problem}\n")
    out.write(report.summary() + "\n")
    document = {
        "command": "check-log",
        "file": args.file,
        "ok": report.ok,
        "lines": report.lines,
        "calls": report.calls,
        "problems": [
            {"line": p.line, "kind": p.kind, "message": p.message} for p in report.problems
        ],
    }
    cases = [Case("apfsm.check_log", f"{args.file}:{p.line}", f"{p.kind}: {p.message}")
             for p in report.problems] or [Case("apfsm.check_log", args.file)]  # fmt: skip
    write_reports(args, "apfsm check-log", document, cases, 0.0)
    return 0 if report.ok else 1


def register(sub: Any) -> None:
    """Add ``explore``, ``fuzz`` and ``check-log`` to the command line."""
    exp = sub.add_parser(
        "explore",
        help="check every reachable state × operation × time bucket against the declarations",
        description="Walk every lifecycle on the embedded simulator and check each reachable "
        "(state, operation, time bucket) against the declarations. Exits 1 on any failure.",
    )
    add_object_argument(exp)
    exp.add_argument("--depth", type=int, default=6, help="the longest path walked (default: 6)")
    exp.add_argument("--matrix", action="store_true", help="print the conformance matrix")
    exp.add_argument("--paths", action="store_true", help="print one shortest path per transition")
    add_report_options(exp)
    exp.set_defaults(run=_cmd_explore)

    fz = sub.add_parser(
        "fuzz",
        help="run the built-in stateful campaign against the embedded simulator",
        description="Random histories on the embedded simulator, every step checked against "
        "the specification (apfsm.stateful.AmazonPayMachine). Exits 1 on a failure, with "
        "the shrunk history written as a trace file.",
    )
    fz.add_argument("--examples", type=int, default=200, help="random histories (default: 200)")
    fz.add_argument("--steps", type=int, default=40, help="steps per history (default: 40)")
    fz.add_argument("--seed", type=int, default=None, help="seed for a reproducible campaign")
    fz.add_argument("--coverage", action="store_true", help="print the coverage matrix")
    add_report_options(fz)
    fz.set_defaults(run=_cmd_fuzz)

    cl = sub.add_parser(
        "check-log",
        help="check a recorded log of API calls and IPNs (JSON Lines or a JSON array)",
        description="Report, with line numbers, illegal transitions, outcomes that contradict "
        "the specification and deadlines passed in a recorded log: JSON Lines "
        "(Simulator.write_log writes it) or a JSON array (what the server's GET /_apfsm/log "
        "answers), told apart by the first character; docs/cli.md describes the records. "
        "Between two calls the buyer, Amazon and passed deadlines may move an object on "
        "(asynchronous outcomes, expiry). Exits 1 when problems are found.",
    )
    cl.add_argument("file", metavar="FILE", help="the log, .jsonl or .json ('-': standard input)")
    add_report_options(cl)
    cl.set_defaults(run=_cmd_check_log)
