"""Generated parts of the docs, rendered from the declarations.

Markdown files mark generated blocks as ``<!-- generated:NAME -->`` ...
``<!-- /generated:NAME -->``; this module fills them. A test fails when a committed block
differs from a fresh render. To refresh them::

    .venv/bin/python -m apfsm._docs
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import attrs

from apfsm._clock import format_duration
from apfsm._spec import CODE_ADVICE, ERRORS, OBJECT_TYPES, STATE_ADVICE, Advice, Limits

from .tables import error_table, lifecycle_table, limits_table

__all__ = ["BLOCKS", "main", "refresh", "render"]


def _value(value: object) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, Decimal):
        return f"{value:,}" if value == value.to_integral_value() else str(value)
    return repr(value) if isinstance(value, bool) else str(value)


def limits_reference() -> str:
    """Every ``Limits`` field: name, default, meaning, SPEC section."""
    rows = ["| field | default | meaning | SPEC |", "| --- | --- | --- | --- |"]
    defaults = Limits()
    for field in attrs.fields(Limits):
        doc = field.metadata.get("doc", "")
        spec = field.metadata.get("spec", "")
        rows.append(
            f"| `{field.name}` | {_value(getattr(defaults, field.name))} | {doc} | {spec} |"
        )
    return "\n".join(rows)


def _waits(advice: Advice) -> str:
    return "no" if not advice.retry else "after " + ", ".join(map(_value, advice.backoff))


def _advice_row(first: str, advice: Advice) -> str:
    cells = (first, advice.resolution, _waits(advice), advice.action, advice.tell_buyer or "—")
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def declines_reference() -> str:
    """Decline guidance: every decline code, then every unhappy state (``_spec/declines``)."""
    header = "| {} | resolved by | retry | what to do | tell the buyer |\n" + "| --- " * 5 + "|"
    codes = [
        _advice_row(f"`{code}` ({ERRORS[code].http_status})", advice)
        for code, advice in CODE_ADVICE.items()
        if ERRORS[code].kind == "decline"
    ]
    states = [
        _advice_row(f"{kind} `{state}` / `{reason}`", advice)
        for (kind, state, reason), advice in STATE_ADVICE.items()
    ]
    return "\n".join(
        [header.format("error code"), *codes, "", header.format("object, state / reason"), *states]
    )


BLOCKS: Final[dict[str, Callable[[], str]]] = {
    "declines": declines_reference,
    "limits": limits_reference,
    "deadlines": lambda: limits_table("markdown"),
    "errors": lambda: error_table("markdown"),
    **{
        f"lifecycle:{name}": (lambda name=name: lifecycle_table(name, "markdown"))  # type: ignore[misc]
        for name in OBJECT_TYPES
    },
}

_BLOCK = re.compile(
    r"(<!-- generated:(?P<name>[\w:]+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)",
    re.DOTALL,
)


def render(text: str) -> str:
    """``text`` with every generated block filled afresh."""

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in BLOCKS:
            raise ValueError(f"unknown generated block {name!r}; known: {', '.join(BLOCKS)}")
        return f"{match.group(1)}{BLOCKS[name]()}\n{match.group(4)}"

    return _BLOCK.sub(fill, text)


def refresh(root: Path, *, write: bool) -> list[Path]:
    """The Markdown files under ``root`` whose generated blocks are stale (rewritten when
    ``write``)."""
    stale = []
    for path in sorted([*root.glob("docs/**/*.md"), root / "README.md"]):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        fresh = render(text)
        if fresh != text:
            stale.append(path)
            if write:
                path.write_text(fresh, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    """Refresh the generated blocks under a checkout (the current directory by default)."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path.cwd()
    for path in refresh(root, write=True):
        sys.stdout.write(f"refreshed {path}\n")
    return 0
