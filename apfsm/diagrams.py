"""Lifecycle diagrams rendered from the declarations: graphviz DOT and SVG, Mermaid text.

Every diagram is derived from ``LIFECYCLES``, ``OPERATIONS``, ``GUARDS`` and ``DEADLINES``
(``apfsm._spec``); nothing is drawn by hand. Output is deterministic: nodes and edges
come in declaration order and no timestamp or generated id is written, so committed
diagrams can be compared with a fresh render.

Three kinds of transition are drawn distinctly, with the same label markers in every
format (Mermaid has no edge styles, so the markers carry the distinction there):

- merchant calls: solid edges, labelled ``operation [guard] /Reason`` (no marker);
- ``⚡`` Amazon-side events (dotted blue) and ``☺`` buyer events (dotted green);
- ``◷`` time-driven transitions (dashed orange), e.g. ``◷ after 24 h /Expired``.

(The markers are in DejaVu and the common system fonts, unlike emoji, so they also show in
PNG renders of the DOT files.)

``/Reason`` follows a label when the target state is entered with that reason code.
Terminal states have a double border (Mermaid: a thick border and an edge to ``[*]``); the
``Deleted`` pseudo-state, which is not an API state, is dashed and grey.

This is the only module that imports ``graphviz``. DOT and Mermaid are plain text and need
nothing else; SVG needs graphviz's ``dot`` program (the system package ``graphviz``) and
raises ``DiagramError`` when it is missing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

import attrs

from ._extras import missing_extra
from ._spec import (
    DEADLINES,
    ERRORS,
    GUARDS,
    LIFECYCLES,
    OPERATIONS,
    REPORT,
    SAME,
    Creation,
    Event,
    Lifecycle,
    Limits,
    Refuse,
    object_type_named,
    render_label,
)

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "DEFAULT_FORMATS",
    "EXTENSIONS",
    "FORMATS",
    "NAMES",
    "VIEWS",
    "DiagramError",
    "Format",
    "View",
    "render",
    "render_png",
    "write",
]

#: A diagram format (``render``'s ``format``).
Format = Literal["dot", "svg", "mermaid", "png"]
#: A diagram view (``render``'s ``view``).
View = Literal["lifecycle", "refusals"]

#: Every output format: the three text formats (what ``apfsm diagrams`` writes by default
#: and the repository commits), then PNG (a raster image, on request).
FORMATS: Final[tuple[Format, ...]] = get_args(Format)
#: What ``write`` and ``apfsm diagrams`` produce when no format is named.
DEFAULT_FORMATS: Final[tuple[Format, ...]] = ("dot", "svg", "mermaid")
#: Every view: the transitions, or per state the operations refused and their codes.
VIEWS: Final[tuple[View, ...]] = get_args(View)
#: File extension of each format.
EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType(
    {"dot": "dot", "svg": "svg", "mermaid": "mmd", "png": "png"}
)
#: The diagrams by file stem: each object type, the overview, the report (docs/reports.md).
NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "checkout_session": "CheckoutSession",
        "charge_permission": "ChargePermission",
        "charge": "Charge",
        "refund": "Refund",
        "buyer": "Buyer",
        "dispute": "Dispute",
        "overview": "overview",
        "report": "Report",
    }
)
_LIFECYCLE_ONLY: Final = frozenset({"overview", "Report"})  # REPORT refuses no call

_INSTALL_HINT: Final = (
    "install the system package 'graphviz' (Debian/Ubuntu: apt-get install graphviz; "
    "macOS: brew install graphviz); DOT and Mermaid output work without it"
)


class DiagramError(Exception):
    """SVG rendering failed: graphviz's ``dot`` program is missing (the message names the
    system package to install) or could not render the graph."""


# ---------------------------------------------------------------------------------------
# A neutral description of a diagram, written out as DOT or Mermaid
# ---------------------------------------------------------------------------------------

NodeKind = Literal["start", "state", "terminal", "virtual", "error", "object"]
EdgeKind = Literal["call", "same", "creation", "amazon", "buyer", "timer", "refusal", "link"]

_MARKERS: Final[Mapping[str, str]] = MappingProxyType({"amazon": "⚡", "buyer": "☺", "timer": "◷"})
_LEGEND: Final = (
    "solid: merchant call · ⚡ dotted: Amazon event · ☺ dotted: buyer event · "
    "◷ dashed: timer · double border: terminal"
)
# Mermaid draws every edge alike: the markers alone tell the kinds apart.
_MERMAID_LEGEND: Final = "unmarked: merchant call · ⚡ Amazon event · ☺ buyer event · ◷ timer"
_START: Final = "__start"


@attrs.frozen
class _Node:
    id: str
    lines: tuple[str, ...]
    kind: NodeKind
    tooltip: str = ""


@attrs.frozen
class _Edge:
    tail: str
    head: str
    lines: tuple[str, ...]
    kind: EdgeKind


@attrs.frozen
class _Diagram:
    """What to draw. ``columns`` are groups of node ids drawn side by side in the given
    order (graphviz would otherwise order unconnected nodes as it likes)."""

    name: str
    title: str
    legend: str
    nodes: tuple[_Node, ...]
    edges: tuple[_Edge, ...]
    mermaid_legend: str = ""
    rankdir: Literal["LR", "TB"] = "LR"
    columns: tuple[tuple[str, ...], ...] = ()


def _guard(name: str | None, limits: Limits) -> str:
    label = GUARDS[name].label if name and name in GUARDS else name  # a facade's: as is
    return f" [{render_label(label, limits)}]" if label else ""


def _reason_lines(reason: str | None, reasons: tuple[str, ...]) -> list[str]:
    """``/Reason``, or for an event whose reason varies every reason it can give, two a
    line so that long lists stay readable."""
    if reason:
        return [f"/{reason}"]
    pairs = [" | ".join(reasons[i : i + 2]) for i in range(0, len(reasons), 2)]
    return [("/" if i == 0 else "| ") + pair for i, pair in enumerate(pairs)]


def _state_nodes(lifecycle: Lifecycle) -> list[_Node]:
    nodes = []
    for state in lifecycle.states:
        tooltip = state.description
        if state.reasons:
            tooltip += f" (reasons: {', '.join(state.reasons)})"
        if state.virtual:
            nodes.append(_Node(state.name, (state.name, "(not an API state)"), "virtual", tooltip))
        else:
            kind: NodeKind = "terminal" if state.terminal else "state"
            nodes.append(_Node(state.name, (state.name,), kind, tooltip))
    return nodes


def _creation_edge(creation: Creation, limits: Limits) -> _Edge:
    label = creation.operation + _guard(creation.guard, limits)
    if creation.http_status is not None:
        label += f" (HTTP {creation.http_status})"
    return _Edge(_START, creation.dest, (label,), "creation")


def _event_edges(event: Event) -> list[_Edge]:
    title = f"{_MARKERS[event.actor]} {event.name}"
    if event.dest == SAME:
        return [_Edge(source, source, (title,), event.actor) for source in event.sources]
    lines = (title, *_reason_lines(event.reason, event.reasons))
    return [_Edge(source, event.dest, lines, event.actor) for source in event.sources]


def _lifecycle_diagram(lifecycle: Lifecycle, limits: Limits) -> _Diagram:
    edges = [_creation_edge(creation, limits) for creation in lifecycle.creations]
    # Operations that keep the state are grouped into one self-loop per state, so a state
    # accepting several reads and updates does not sprout a loop for each.
    kept: dict[str, list[str]] = {}
    for allow in lifecycle.allows:
        label = allow.operation + _guard(allow.guard, limits)
        if allow.dest == SAME:
            for source in allow.sources:
                kept.setdefault(source, []).append(label)
            continue
        lines = (label + (f" /{allow.reason}" if allow.reason else ""),)
        edges += [_Edge(source, allow.dest, lines, "call") for source in allow.sources]
    edges += [_Edge(state, state, tuple(ops), "same") for state, ops in kept.items()]
    for event in lifecycle.events:
        edges += _event_edges(event)
    for timer in lifecycle.timers:
        # A deadline with alternatives ("180 d (one-time) / 13 months (recurring)") is put
        # one alternative a line: a "/" inside the label would read as a reason code.
        label = DEADLINES[timer.deadline].label if timer.deadline in DEADLINES else timer.deadline
        head, *alternatives = render_label(label, limits).split(" / ")
        after = [f"{_MARKERS['timer']} after {head}", *(f"or {alt}" for alt in alternatives)]
        if timer.reason:
            after[-1] += f" /{timer.reason}"
        edges += [_Edge(source, timer.dest, tuple(after), "timer") for source in timer.sources]
    start = _Node(_START, (), "start")
    return _Diagram(
        lifecycle.object_type,
        f"{lifecycle.object_type} lifecycle",
        _LEGEND,
        (start, *_state_nodes(lifecycle)),
        tuple(edges),
        mermaid_legend=_MERMAID_LEGEND,
    )


def _refusal_lines(refusal: Refuse, reasons: tuple[str, ...]) -> dict[str, str]:
    """The label line for each code ``refusal`` answers in a state with ``reasons``."""
    if not refusal.by_reason:
        return {refusal.code: refusal.operation}
    by_code: dict[str, list[str]] = {}
    for code in refusal.by_reason.values():
        by_code.setdefault(code, [])
    for reason, code in refusal.by_reason.items():
        by_code[code].append(reason)
    # The plain code answers every reason by_reason does not name, unknown ones included
    # (SPEC §1: readers keep reason codes they do not know).
    rest = [reason for reason in reasons if reason not in refusal.by_reason]
    by_code.setdefault(refusal.code, []).extend([*rest, "any other"] if rest else ["any other"])
    lines = {}
    for code, named in by_code.items():
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} or {named[-1]}"
        lines[code] = f"{refusal.operation} [reason {listed}]"
    return lines


def _refusals_diagram(lifecycle: Lifecycle) -> _Diagram:
    grouped: dict[tuple[str, str], list[str]] = {}
    for refusal in lifecycle.refusals:
        for source in refusal.sources:
            reasons = lifecycle.state(source).reasons
            for code, line in _refusal_lines(refusal, reasons).items():
                grouped.setdefault((source, code), []).append(line)
    # Edges in state order, so that each state's refusals read together.
    order = {name: i for i, name in enumerate(lifecycle.state_names(virtual=True))}
    keys = sorted(grouped, key=lambda key: order[key[0]])
    codes = list(dict.fromkeys(code for _, code in keys))
    errors = [
        _Node(f"err_{c}", (c, f"HTTP {ERRORS[c].http_status}"), "error", ERRORS[c].description)
        for c in codes
    ]
    edges = [
        _Edge(state, f"err_{code}", tuple(grouped[state, code]), "refusal") for state, code in keys
    ]
    legend = (
        "per state, the merchant calls refused by state and the error code they answer"
        if edges
        else f"no operation on a {lifecycle.object_type} is refused by its state"
    )
    states = _state_nodes(lifecycle)
    return _Diagram(
        f"{lifecycle.object_type}_refusals",
        f"{lifecycle.object_type} refusals",
        legend,
        (*states, *errors),
        tuple(edges),
        columns=(tuple(n.id for n in states), tuple(n.id for n in errors)),
    )


def _overview_diagram(limits: Limits) -> _Diagram:
    nodes = [_Node(_START, (), "start")]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for lifecycle in LIFECYCLES.values():
        names = lifecycle.state_names()
        rows = [", ".join(names[i : i + 3]) for i in range(0, len(names), 3)]
        lines = (lifecycle.object_type, *rows)
        nodes.append(_Node(lifecycle.object_type, lines, "object", lifecycle.description))
        for creation in lifecycle.creations:
            # The object the creating call acts on is the one the new object hangs off.
            # (A Buyer is made by the buyer's sign-in, hanging off nothing.)
            op = OPERATIONS.get(creation.operation)
            tail = (op.target if op is not None else None) or _START
            key = (tail, lifecycle.object_type, creation.operation)
            guard = _guard(creation.guard, limits)
            grouped.setdefault(key, [creation.operation]).append(f"→ {creation.dest}{guard}")
    edges = [_Edge(tail, head, tuple(lines), "link") for (tail, head, _), lines in grouped.items()]
    return _Diagram(
        "overview",
        "How the objects link",
        "each edge: the merchant call (or the buyer's action) that creates the object, and "
        "the states it starts in",
        tuple(nodes),
        tuple(edges),
        rankdir="TB",
    )


# ---------------------------------------------------------------------------------------
# DOT (through the graphviz package) and Mermaid
# ---------------------------------------------------------------------------------------

_FONT: Final = "Helvetica"
_NODE_STYLE: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "start": {"shape": "point", "width": "0.15", "label": ""},
        "state": {},
        "terminal": {"peripheries": "2"},
        "virtual": {"style": "rounded,dashed", "color": "gray50", "fontcolor": "gray40"},
        "error": {"style": "filled", "fillcolor": "#fde2e2", "color": "#b22222"},
        "object": {"style": "rounded,bold"},
    }
)
_EVENT: Final = {"style": "dotted", "penwidth": "1.6"}
_EDGE_STYLE: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "call": {},
        "same": {"color": "gray45", "fontcolor": "gray35"},
        "creation": {},
        "amazon": {**_EVENT, "color": "#1f5fbf", "fontcolor": "#1f5fbf"},
        "buyer": {**_EVENT, "color": "#2e7d32", "fontcolor": "#2e7d32"},
        "timer": {"style": "dashed", "color": "#c25400", "fontcolor": "#c25400"},
        "refusal": {"color": "#b22222", "fontcolor": "#b22222"},
        "link": {},
    }
)  # fmt: skip
_GENERATED: Final = (
    "Generated by apfsm from its declarations; refresh with: apfsm diagrams --out diagrams"
)


def _graphviz() -> Any:
    """The graphviz package, imported when a .dot or .svg is made (Mermaid needs none)."""
    try:
        import graphviz  # noqa: PLC0415  (the diagrams extra; Mermaid works without it)
    except ImportError as missing:
        raise missing_extra("diagrams", "rendering .dot and .svg diagrams", missing) from None
    return graphviz


def _graph(diagram: _Diagram) -> graphviz.Digraph:
    graph = _graphviz().Digraph(
        diagram.name,
        comment=_GENERATED,
        graph_attr={
            "rankdir": diagram.rankdir,
            "label": f"{diagram.title}\n{diagram.legend}",
            "labelloc": "t",
            "fontname": _FONT,
            "fontsize": "13",
            "nodesep": "0.5",
            "ranksep": "0.8",
        },
        node_attr={"shape": "box", "style": "rounded", "fontname": _FONT, "fontsize": "12"},
        edge_attr={"fontname": _FONT, "fontsize": "10"},
    )
    for node in diagram.nodes:
        attributes = {"label": "\n".join(node.lines), **_NODE_STYLE[node.kind]}
        if node.tooltip:
            attributes["tooltip"] = node.tooltip
        graph.node(node.id, **attributes)
    for edge in diagram.edges:
        graph.edge(edge.tail, edge.head, label="\n".join(edge.lines), **_EDGE_STYLE[edge.kind])
    for column in diagram.columns:
        if len(column) < 2:
            continue
        with graph.subgraph() as same:
            same.attr(rank="same")
            # Invisible edges between neighbours fix the order inside the column.
            for upper, lower in itertools.pairwise(column):
                same.edge(upper, lower, style="invis")
    return graph


def _to_dot(diagram: _Diagram) -> str:
    return str(_graph(diagram).source)


def _to_svg(diagram: _Diagram) -> str:
    return str(_piped(diagram, "svg").decode("utf-8"))


def _piped(diagram: _Diagram, kind: str) -> bytes:
    graphviz = _graphviz()
    try:
        out = _graph(diagram).pipe(format=kind)
    except graphviz.ExecutableNotFound:
        raise DiagramError(
            f"rendering {kind.upper()} needs graphviz's 'dot' program, which is not on PATH: "
            f"{_INSTALL_HINT}"
        ) from None
    except graphviz.CalledProcessError as exc:
        raise DiagramError(f"graphviz's 'dot' could not render {diagram.name}: {exc}") from None
    return bytes(out)


def _mermaid_text(text: str) -> str:
    # Mermaid ends a transition label at ':' or ';' (its lexer reads DESCR as [^:\n;]+);
    # apfsm's labels use neither, and this keeps a future one from breaking the file.
    return text.replace(":", "꞉").replace(";", ",")


def _to_mermaid(diagram: _Diagram) -> str:
    def ref(node_id: str) -> str:
        return "[*]" if node_id == _START else node_id

    legend = diagram.mermaid_legend or diagram.legend
    lines = [
        "---",
        f'title: "{diagram.title} — {legend}"',
        "---",
        "stateDiagram-v2",
        f"    %% {_GENERATED}",
        f"    direction {diagram.rankdir}",
    ]
    for node in diagram.nodes:
        if node.kind == "start":
            continue
        if node.lines != (node.id,):
            label = "<br/>".join(_mermaid_text(line) for line in node.lines)
            lines.append(f'    state "{label}" as {node.id}')
        else:
            lines.append(f"    {node.id}")
    for edge in diagram.edges:
        label = "<br/>".join(_mermaid_text(line) for line in edge.lines)
        lines.append(f"    {ref(edge.tail)} --> {ref(edge.head)} : {label}")
    terminal = [n.id for n in diagram.nodes if n.kind in ("terminal", "virtual")]
    lines += [f"    {name} --> [*]" for name in terminal]
    classes = {
        "terminal": "stroke-width:3px",
        "virtual": "stroke-dasharray:5 5,color:#666666",
        "error": "fill:#fde2e2,stroke:#b22222",
    }
    for kind, style in classes.items():
        members = [n.id for n in diagram.nodes if n.kind == kind]
        if members:
            lines += [f"    classDef {kind} {style}", f"    class {', '.join(members)} {kind}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


def _object_type(name: str) -> str:
    if name in NAMES.values():
        return name
    if name in NAMES:
        return NAMES[name]
    try:
        return object_type_named(name)
    except ValueError:
        known = ", ".join([*NAMES.values(), *NAMES])
        raise ValueError(f"unknown diagram {name!r}; choose one of {known}") from None


def render(
    object_type: str | Lifecycle,
    format: Format = "dot",
    *,
    view: View = "lifecycle",
    limits: Limits | None = None,
) -> str:
    """Render one diagram from the declarations.

    Args:
        object_type: ``"CheckoutSession"``, ``"ChargePermission"``, ``"Charge"``,
            ``"Refund"``, ``"Buyer"``, ``"Dispute"``, ``"overview"`` or ``"Report"``; the snake_case
            file names (``"checkout_session"``, ...) are accepted too; or a ``Lifecycle``
            declared outside the API's (``apfsm.facades``), its lifecycle view.
        format: ``"dot"`` (graphviz source), ``"svg"`` (needs graphviz's ``dot``
            program) or ``"mermaid"`` (``stateDiagram-v2`` text).
        view: ``"lifecycle"`` (states, merchant calls, events, timers) or ``"refusals"``
            (per state, the operations refused and their error codes). The overview and
            the report have only the lifecycle view.
        limits: the limits whose values fill guard and timer labels (default: the spec's).

    Returns:
        The diagram as text, ending with a newline; the same input always gives the same
        text.

    Raises:
        ValueError: an unknown object type, format or view, or the refusals view of the
            overview.
        DiagramError: ``format="svg"`` and graphviz's ``dot`` program is missing (the
            message names the system package to install) or fails.
    """
    if format == "png":
        raise ValueError("PNG is binary: use render_png() (or write(..., formats=['png']))")
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    diagram = _diagram(object_type, view, limits)
    if format == "mermaid":
        return _to_mermaid(diagram)
    text = _to_svg(diagram) if format == "svg" else _to_dot(diagram)
    return text if text.endswith("\n") else text + "\n"


def render_png(
    object_type: str | Lifecycle, *, view: View = "lifecycle", limits: Limits | None = None
) -> bytes:
    """One diagram as a PNG image (graphviz's ``dot`` draws it), for places that show no
    SVG; the arguments and errors as for ``render``."""
    return _piped(_diagram(object_type, view, limits), "png")


def _diagram(object_type: str | Lifecycle, view: View, limits: Limits | None) -> _Diagram:
    if isinstance(object_type, Lifecycle):  # declared elsewhere: apfsm.facades
        if view != "lifecycle":
            raise ValueError("a Lifecycle declared outside the API has only the lifecycle view")
        return _lifecycle_diagram(object_type, limits or Limits())
    name = _object_type(object_type)
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    limits = limits or Limits()
    if name in _LIFECYCLE_ONLY and view != "lifecycle":
        raise ValueError(f"the {name} diagram has only the 'lifecycle' view")
    if name == "overview":
        return _overview_diagram(limits)
    if name == "Report":
        return _lifecycle_diagram(REPORT, limits)
    if view == "refusals":
        return _refusals_diagram(LIFECYCLES[name])
    return _lifecycle_diagram(LIFECYCLES[name], limits)


def write(
    directory: str | Path,
    formats: Iterable[Format] = DEFAULT_FORMATS,
    *,
    limits: Limits | None = None,
) -> list[Path]:
    """Write every diagram to ``directory`` (created when missing), as ``apfsm diagrams``
    does.

    For each stem of ``NAMES`` and each of ``formats``: ``STEM.EXT`` (the lifecycle view)
    and, for each object type, ``STEM-refusals.EXT``; ``EXT`` is ``EXTENSIONS[format]``.

    Args:
        directory: where to write; existing files of the same names are replaced.
        formats: some of ``FORMATS`` (``DEFAULT_FORMATS``: dot, svg and mermaid).
        limits: as for ``render``.

    Returns:
        The paths written, in a stable order.

    Raises:
        ValueError: an unknown format.
        DiagramError: as for ``render``; SVG is rendered before anything is written, so a
            missing ``dot`` leaves ``directory`` untouched.
        OSError: ``directory`` cannot be created or written.
    """
    wanted = list(dict.fromkeys(formats))
    for fmt in wanted:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    files: dict[str, bytes] = {}
    for stem, object_type in NAMES.items():
        views: tuple[View, ...] = ("lifecycle",) if object_type in _LIFECYCLE_ONLY else VIEWS
        for view in views:
            suffix = "" if view == "lifecycle" else f"-{view}"
            for fmt in wanted:
                if fmt == "png":
                    data = render_png(object_type, view=view, limits=limits)
                else:
                    data = render(object_type, fmt, view=view, limits=limits).encode("utf-8")
                files[f"{stem}{suffix}.{EXTENSIONS[fmt]}"] = data
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in files.items():
        path = root / filename
        path.write_bytes(data)
        written.append(path)
    return written
