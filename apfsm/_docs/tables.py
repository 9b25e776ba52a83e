"""Lifecycle tables rendered from the declarations (for the terminal and the docs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from apfsm._spec import (
    CHECKS,
    DEADLINES,
    ERRORS,
    GUARDS,
    LIFECYCLES,
    OPERATIONS,
    SAME,
    Lifecycle,
    Limits,
    object_type_named,
    render_label,
)

__all__ = ["error_table", "lifecycle_table", "limits_table"]

Format = Literal["text", "markdown"]


def _wrap(text: str, room: int) -> list[str]:
    """``text`` in lines of at most ``room`` characters, broken at spaces, or after a ``/``
    inside a long word (reason lists: ``NonChargeable/PaymentMethodInvalid/...``)."""
    chunks = [c for c in re.split(r"(?<= )|(?<=/)", text) if c]
    lines, line = [], ""
    for chunk in chunks:
        if line and len(line) + len(chunk.rstrip()) > room:
            lines.append(line.rstrip())
            line = ""
        rest = chunk
        while len(rest.rstrip()) > room:  # a word too long even alone
            lines.append(rest[:room])
            rest = rest[room:]
        line += rest
    return [*lines, line.rstrip()] if line.strip() or not lines else lines


def _stacked(header: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    """A table too wide for ``width`` columns, one block per row: its first cell, then
    each other column as ``name  value``, values wrapped to fit."""
    label = max(len(h) for h in header[1:])
    room = max(width - label - 4, 20)
    blocks = []
    for row in rows:
        lines = [row[0]]
        for name, cell in zip(header[1:], row[1:], strict=True):
            wrapped = _wrap(cell, room)
            lines.append(f"  {name.ljust(label)}  {wrapped[0]}")
            lines += [f"  {'':{label}}  {more}" for more in wrapped[1:]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _grid(
    header: Sequence[str], rows: Sequence[Sequence[str]], fmt: Format, width: int | None = None
) -> str:
    if fmt == "markdown":
        lines = [
            "| " + " | ".join(header) + " |",
            "| " + " | ".join("---" for _ in header) + " |",
        ]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    if width is not None and sum(widths) + 2 * (len(widths) - 1) > width:
        return _stacked(header, rows, width)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(out)


def _cell(lifecycle: Lifecycle, op: str, state: str, limits: Limits) -> str:
    parts = []
    for allow in lifecycle.allows:
        if allow.operation == op and state in allow.sources:
            dest = state if allow.dest == SAME else allow.dest
            text = "ok" if allow.dest == SAME else f"→ {dest}"
            if allow.reason:
                text += f"/{allow.reason}"
            if allow.guard:
                text += f" [{render_label(GUARDS[allow.guard].label, limits)}]"
            parts.append(text)
    for refusal in lifecycle.refusals:
        if refusal.operation == op and state in refusal.sources:
            text = refusal.code
            if refusal.by_reason:
                variants = ", ".join(f"{r}: {c}" for r, c in refusal.by_reason.items())
                text += f" ({variants})"
            parts.append(text)
    return "; ".join(parts) or "—"


def lifecycle_table(
    object_type: str,
    fmt: Format = "text",
    limits: Limits | None = None,
    *,
    width: int | None = None,
) -> str:
    """States × operations (next state or refusal code), then events and timers."""
    limits = limits or Limits()
    lifecycle = LIFECYCLES[object_type_named(object_type)]
    ops = lifecycle.operations
    rows = []
    for state in lifecycle.states:
        marks = []
        if state.initial:
            marks.append("initial")
        if state.terminal and not state.virtual:
            marks.append("terminal")
        name = state.name + (f" ({', '.join(marks)})" if marks else "")
        if state.virtual:
            name = f"[{state.name}]"
        rows.append([name, *(_cell(lifecycle, op, state.name, limits) for op in ops)])
    parts = [_grid(["state", *ops], rows, fmt, width)]

    changes = []
    for creation in lifecycle.creations:
        guard = f" [{render_label(GUARDS[creation.guard].label, limits)}]" if creation.guard else ""
        changes.append(["created", creation.operation + guard, f"→ {creation.dest}"])
    for event in lifecycle.events:
        dest = ", ".join(event.sources) if event.dest == SAME else event.dest
        reason = event.reason or ("/".join(event.reasons[:3]) + "…" if event.reasons else "")
        when = f" (after {limits.describe(event.delay)})" if event.delay else ""
        changes.append(
            [
                f"{event.actor} event",
                f"{event.name}: {event.description}{when}",
                f"{', '.join(event.sources)} → {dest}" + (f"/{reason}" if reason else ""),
            ]
        )
    for timer in lifecycle.timers:
        deadline = DEADLINES[timer.deadline]
        label = render_label(deadline.label, limits)
        source = "any state" if len(timer.sources) > 2 else ", ".join(timer.sources)
        dest = timer.dest + (f"/{timer.reason}" if timer.reason else "")
        changes.append(["timer", f"after {label} from {deadline.anchor}", f"{source} → {dest}"])
    if changes:
        parts.append(_grid(["kind", "what", "transition"], changes, fmt, width))
    return "\n\n".join(parts)


def error_table(fmt: Format = "text", *, width: int | None = None) -> str:
    """The error catalog: code, HTTP status, meaning, retryable."""
    rows = [
        [e.code, str(e.http_status), e.description, "yes" if e.retryable else "no"]
        for e in sorted(ERRORS.values(), key=lambda e: (e.http_status, e.code))
    ]
    return _grid(["code", "HTTP", "meaning", "retryable"], rows, fmt, width)


def limits_table(
    fmt: Format = "text", limits: Limits | None = None, *, width: int | None = None
) -> str:
    """Every deadline and check with the limits they use."""
    limits = limits or Limits()
    rows = [
        [d.name, render_label(d.label, limits), d.anchor, d.payload_field or "—"]
        for d in DEADLINES.values()
    ]
    parts = [
        _grid(["deadline", "limit", "counted from", "payload field that wins"], rows, fmt, width)
    ]
    checks = [
        [op.name, name, CHECKS[name].code, render_label(CHECKS[name].description, limits)]
        for op in OPERATIONS.values()
        for name in op.checks
    ]
    parts.append(_grid(["operation", "check", "refused with", "rule"], checks, fmt, width))
    return "\n\n".join(parts)
