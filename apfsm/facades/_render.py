"""The facades and the v1 lifecycles drawn with ``apfsm.diagrams``' renderers, and the
mapping tables of docs/facades.md.

A facade becomes a ``Lifecycle`` for drawing only: merchant steps are calls (solid),
consumer steps buyer events (☺), the provider's steps Amazon-side events (⚡: PPRO, or
Amazon behind it), timers timers (◷); a step inferred rather than read is labelled
``(inferred)``. Files are named ``facade-<name>.<ext>`` and ``v1-<object>.<ext>`` beside
the API's diagrams in ``diagrams/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

import attrs

from apfsm import diagrams
from apfsm._clock import format_duration
from apfsm._spec import Actor, Allow, Creation, Event, Lifecycle, StateDecl, Timer

from ._amazon import action_for, amazon_graph
from ._check import check_mapping
from ._model import Facade
from ._order_reference import DEADLINES, GUARDS, V1_LIFECYCLES, OrderReferenceLimits
from ._ppro import PPRO_PAYMENT_AGREEMENT, PPRO_PAYMENT_CHARGE, PPRO_REFUND

__all__ = [
    "DIAGRAMS",
    "FACADES_BY_NAME",
    "as_lifecycle",
    "findings",
    "mapping_table",
    "refresh_docs",
    "render",
    "write_diagrams",
]


def as_lifecycle(facade: Facade) -> Lifecycle:
    """``facade`` as a ``Lifecycle`` record, for the diagram renderers."""
    timeouts = {t.step: format_duration(t.after) for t in facade.timeouts}
    allows, events, timers = [], [], []
    for step in facade.steps:
        name = step.name if step.documented else f"{step.name} (inferred)"
        if step.actor == "merchant":
            allows.append(Allow(name, step.sources, step.dest))
        elif step.actor == "timer":
            timers.append(Timer(name, step.sources, step.dest, timeouts.get(step.name, "timeout")))
        else:
            actor: Actor = "buyer" if step.actor == "consumer" else "amazon"
            events.append(Event(name, step.sources, step.dest, actor, step.description))
    states = tuple(
        StateDecl(s.name, s.description, initial=s.initial, terminal=s.terminal)
        for s in facade.states
    )
    creations = tuple(Creation(f"POST {facade.endpoint}", s.name) for s in states if s.initial)
    return Lifecycle(
        object_type=facade.title,
        notification_type=None,
        description=facade.description,
        id_field="id",
        ref_prefix=facade.name,
        states=states,
        allows=tuple(allows),
        refusals=(),
        events=tuple(events),
        timers=tuple(timers),
        creations=creations,
    )


def _drawable(lifecycle: Lifecycle, limits: OrderReferenceLimits) -> Lifecycle:
    """A v1 lifecycle with its guard and deadline names replaced by their labels."""

    def label(guard: str | None) -> str | None:
        return GUARDS[guard] if guard else None

    return attrs.evolve(
        lifecycle,
        object_type=f"{lifecycle.object_type} (Amazon Pay v1)",
        allows=tuple(attrs.evolve(a, guard=label(a.guard)) for a in lifecycle.allows),
        creations=tuple(attrs.evolve(c, guard=label(c.guard)) for c in lifecycle.creations),
        timers=tuple(
            attrs.evolve(t, deadline=limits.describe(DEADLINES[t.deadline]))
            for t in lifecycle.timers
        ),
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


#: Every diagram this room draws, by file stem.
DIAGRAMS: Final[Mapping[str, Lifecycle]] = MappingProxyType(
    {
        **{
            f"facade-{f.name}": as_lifecycle(f)
            for f in (PPRO_PAYMENT_CHARGE, PPRO_PAYMENT_AGREEMENT, PPRO_REFUND)
        },
        **{
            f"v1-{_snake(name)}": _drawable(lc, OrderReferenceLimits())
            for name, lc in V1_LIFECYCLES.items()
        },
    }
)


def render(stem: str, format: diagrams.Format = "dot") -> str:
    """One diagram of ``DIAGRAMS`` as text (``apfsm.diagrams.render``'s formats)."""
    if stem not in DIAGRAMS:
        raise ValueError(f"unknown diagram {stem!r}; choose one of {', '.join(DIAGRAMS)}")
    return diagrams.render(DIAGRAMS[stem], format)


def write_diagrams(
    directory: str | Path, formats: Iterable[diagrams.Format] = diagrams.DEFAULT_FORMATS
) -> list[Path]:
    """Write every diagram of ``DIAGRAMS`` to ``directory`` (as ``apfsm diagrams`` does,
    beside the API's); PNG included when asked for. Returns the paths written."""
    files: dict[str, bytes] = {}
    for stem, lifecycle in DIAGRAMS.items():
        for fmt in dict.fromkeys(formats):
            if fmt == "png":
                data = diagrams.render_png(lifecycle)
            else:
                data = diagrams.render(lifecycle, fmt).encode("utf-8")
            files[f"{stem}.{diagrams.EXTENSIONS[fmt]}"] = data
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in files.items():
        (root / filename).write_bytes(data)
        written.append(root / filename)
    return written


def mapping_table(facade: Facade) -> str:
    """The Markdown table of how each Amazon situation shows through ``facade``."""
    rows = [
        "| Amazon object | state / reason | shows as | told apart by | merchant's action |",
        "| --- | --- | --- | --- | --- |",
    ]
    for situation in amazon_graph(facade.amazon, facade.entries).situations:
        entry = facade.maps(situation.object_type, situation.state, situation.reason)
        shown = f"`{entry.facade_state}`" if entry else "**unmapped**"
        detail = entry.detail if entry and entry.detail else "—"
        state = situation.state + (f" / {situation.reason}" if situation.reason else "")
        rows.append(
            f"| {situation.object_type} | {state} | {shown} | {detail} | {action_for(situation)} |"
        )
    return "\n".join(rows) + "\n"


def findings(facade: Facade) -> str:
    """``check_mapping(facade)``'s report as Markdown bullets, for docs/facades.md."""
    report = check_mapping(facade)
    lines = [
        f"`check_mapping` walks {report.paths} Amazon paths: "
        + ("every one maps onto a legal facade path." if report.legal else "some do not.")
    ]
    lines += [f"- **unmapped**: Amazon's {u.situation}" for u in report.unmapped]
    for step in report.illegal:
        tail = f"`{step.facade_tail}`" if step.facade_tail else "a start"
        lines.append(
            f"- **illegal step**: Amazon's {step.tail or 'creation'} → {step.head} "
            f"({step.via}) shows as {tail} → `{step.facade_head}`, which the facade lacks"
        )
    for collapse in report.collapses:
        told = f"with {collapse.detail}" if collapse.detail else "nothing tells them apart"
        lines.append(f"- **collapse** into `{collapse.facade_state}` ({told}):")
        for action in collapse.actions:
            cases = ", ".join(str(s) for s, a in collapse.merged if a.key == action.key)
            lines.append(f"    - {cases} — *{action.resolution}*: {action}")
    for early in report.early_timeouts:
        lines.append(
            f"- **early timeout**: {early.step} after {format_duration(early.facade_after)}, "
            f"Amazon's {early.amazon_limit} after {format_duration(early.amazon_after)}"
        )
    return "\n".join(lines) + "\n"


_BLOCK = re.compile(r"(<!-- facades:(\w+):(\w+) -->\n)(.*?)(<!-- /facades -->)", re.DOTALL)


def refresh_docs(path: str | Path, *, write: bool = True) -> bool:
    """Regenerate the ``<!-- facades:NAME:table|findings -->`` blocks of a Markdown page
    (docs/facades.md); returns whether anything was stale."""
    page = Path(path)
    text = page.read_text(encoding="utf-8")
    makers = {"table": mapping_table, "findings": findings}

    def fill(match: re.Match[str]) -> str:
        facade = FACADES_BY_NAME[match.group(2)]
        return match.group(1) + makers[match.group(3)](facade) + match.group(5)

    fresh = _BLOCK.sub(fill, text)
    if write and fresh != text:
        page.write_text(fresh, encoding="utf-8")
    return fresh != text


FACADES_BY_NAME: Final[Mapping[str, Facade]] = MappingProxyType(
    {f.name: f for f in (PPRO_PAYMENT_CHARGE, PPRO_PAYMENT_AGREEMENT, PPRO_REFUND)}
)
