"""The testing commands of the ``apfsm`` command line: ``explore``, ``fuzz``, ``check-log``."""

from __future__ import annotations

import argparse
import sys
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
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.examples < args.workers:
        raise UsageError("--examples must be at least --workers (the histories are shared)")
    fuzz = fuzzing_kit()  # the testing extra; Hypothesis's storage out of the cwd
    from apfsm._fuzz import (  # noqa: PLC0415  (the testing extra)
        MEMORY,
        DatabaseError,
        default_database_spec,
        open_database,
    )

    spec = args.database or default_database_spec()
    if args.workers > 1 and spec == MEMORY:
        raise UsageError(f"--database {MEMORY} cannot be shared by workers: give a "
                         "directory or redis://host:port/db")  # fmt: skip
    try:
        database = open_database(spec)
    except (DatabaseError, ImportError) as exc:
        raise UsageError(str(exc)) from None
    bar = ProgressBar("fuzz")
    workers_document: dict[str, Any] = {}
    interrupted = False
    if args.workers == 1:
        report = fuzz(
            examples=args.examples, steps=args.steps, seed=args.seed, progress=bar,
            database=database,
        )  # fmt: skip
        out.write(report.summary() + f"\nexample database: {spec}\n")
        if report.story:
            out.write("\n" + report.story + "\n")
    else:
        from apfsm._fuzz import run_workers  # noqa: PLC0415
        from apfsm.stateful import AmazonPayMachine  # noqa: PLC0415

        campaign = run_workers(
            AmazonPayMachine, workers=args.workers, examples=args.examples, steps=args.steps,
            seed=args.seed, database=spec, progress=bar,
        )  # fmt: skip
        report = campaign.merged()
        workers_document = campaign.document()
        interrupted = campaign.interrupted
        out.write(campaign.summary() + "\n")
    if args.coverage:
        out.write("\n" + report.coverage.report() + "\n")
    missed = report.unreached()
    document = {
        "command": "fuzz",
        "ok": report.ok and not interrupted,
        "examples": report.examples,
        "steps": report.steps,
        "seconds": report.seconds,
        "failure": report.failure,
        "story": report.story,
        "trace": None if report.trace is None else str(report.trace),
        "database": spec,
        "replayed": report.replayed,
        "unreached": missed,
        **workers_document,
    }
    output = "\n".join(f"unreached {kind}: {', '.join(names)}" for kind, names in missed.items())
    case = Case("apfsm.fuzz", "AmazonPayMachine campaign", report.failure, output)
    write_reports(args, "apfsm fuzz", document, [case], report.seconds)
    if interrupted:
        sys.stderr.write("apfsm fuzz: interrupted; the workers are stopped\n")
        return 130
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
        "the shrunk history written as a trace file. Failures are saved in an example "
        "database and replayed first by the next campaign (docs/scaling.md).",
    )
    fz.add_argument("--examples", type=int, default=200, help="random histories (default: 200)")
    fz.add_argument("--steps", type=int, default=40, help="steps per history (default: 40)")
    fz.add_argument("--seed", type=int, default=None, help="seed for a reproducible campaign")
    fz.add_argument("--coverage", action="store_true", help="print the coverage matrix")
    fz.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run the campaign on N processes, worker i with seed --seed + i, the histories "
        "shared among them (default: 1, in process)",
    )
    fz.add_argument(
        "--database",
        metavar="WHERE",
        default=None,
        help="Hypothesis's example database, where failures are saved and replayed first: a "
        "directory, redis://host:port/db (the scale extra) or :memory: (default: "
        "$APFSM_DATABASE, else apfsm-examples in Hypothesis's storage directory, which is "
        "$HYPOTHESIS_STORAGE_DIRECTORY or a new temporary directory)",
    )
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
