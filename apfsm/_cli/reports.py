"""Reports a CI reads (``--junit FILE``, ``--json FILE``) for ``explore``, ``fuzz`` and
``check-log``: JUnit XML (one test case per thing checked, a failure per problem) and JSON
(everything the summary says, what was not reached named)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .base import UsageError

__all__ = ["Case", "add_report_options", "write_reports"]


@attrs.frozen
class Case:
    """One JUnit test case: ``failure`` is None when it passed; ``output`` goes to its
    ``system-out`` (what was not reached, say)."""

    classname: str
    name: str
    failure: str | None = None
    output: str = ""


def add_report_options(parser: Any) -> None:
    """``--junit FILE`` and ``--json FILE`` on a command."""
    parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report to FILE")
    parser.add_argument("--json", metavar="FILE", help="also write a JSON report to FILE")


def _junit(suite: str, cases: Sequence[Case], seconds: float) -> bytes:
    failures = sum(c.failure is not None for c in cases)
    root = ET.Element("testsuites", tests=str(len(cases)), failures=str(failures))
    element = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
    )
    for case in cases:
        item = ET.SubElement(element, "testcase", classname=case.classname, name=case.name)
        if case.failure is not None:
            failure = ET.SubElement(item, "failure", message=case.failure.splitlines()[0][:200])
            failure.text = case.failure
        if case.output:
            ET.SubElement(item, "system-out").text = case.output
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def write_reports(
    args: Any, suite: str, document: Mapping[str, Any], cases: Sequence[Case], seconds: float
) -> None:
    """Write the reports ``--junit``/``--json`` asked for; a ``UsageError`` naming the file
    when it cannot be written."""
    for option in ("junit", "json"):
        target = getattr(args, option, None)
        if not target:
            continue
        if option == "junit":
            data = _junit(suite, cases, seconds)
        else:
            data = (json.dumps(document, indent=2, default=str) + "\n").encode()
        try:
            Path(target).write_bytes(data)
        except OSError as exc:
            raise UsageError(f"cannot write --{option} {target!r}: {exc.strerror or exc}") from None
