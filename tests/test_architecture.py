"""The layout is pinned: rooms in layers, no import cycle, no import pointing upward, every
room entered through its ``__init__``, and no module or class too big to read.

ARCHITECTURE.md draws the same layers; a change here is a change there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import apfsm

PACKAGE = Path(apfsm.__file__).parent

#: Rooms bottom up. A room may import rooms of its own layer or below, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_clock", "_version", "_extras"),
    ("_spec",),
    ("_errors", "_outcome", "diagrams", "_docs"),
    ("_decide",),
    ("_validator", "_advice", "_sim", "facades"),
    ("server", "_harness"),
    ("_fuzz", "_intercept"),
    ("strategies", "stateful", "testing", "_pytest_plugin"),
    ("_cli", "__init__", "__main__"),
    ("examples",),
)
LAYER = {room: number for number, rooms in enumerate(LAYERS) for room in rooms}

#: The most lines a module and a class may have (ARCHITECTURE.md, "Sizes").
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 500


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield ".".join(("apfsm", *parts)), path


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every apfsm module ``module`` imports (type-only and function-local imports too),
    with the line of the import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "apfsm" or alias.name.startswith("apfsm."):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            if not (source == "apfsm" or source.startswith("apfsm.")):
                continue
            known = dict(_modules())
            for alias in node.names:
                # ``from . import strategies`` imports a module, not a name.
                candidate = f"{source}.{alias.name}"
                yield (candidate if candidate in known else source), node.lineno


def _graph() -> dict[str, set[str]]:
    return {
        module: {target for target, _ in _imports(module, path) if target != module}
        for module, path in _modules()
    }


def test_every_module_is_in_a_layer() -> None:
    assert [] == sorted({_room(m) for m, _ in _modules()} - set(LAYER))


def test_no_import_points_to_a_higher_layer() -> None:
    upward = [
        f"{path.relative_to(PACKAGE.parent)}:{line} ({_room(module)}, layer "
        f"{LAYER[_room(module)]}) imports {target} (layer {LAYER[_room(target)]})"
        for module, path in _modules()
        for target, line in _imports(module, path)
        if LAYER[_room(target)] > LAYER[_room(module)]
    ]
    assert [] == upward


def test_rooms_are_entered_through_their_init() -> None:
    # Inside a room, modules import their siblings; from outside, only the room's face.
    back_doors = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for module, path in _modules()
        for target, line in _imports(module, path)
        if _room(target) != _room(module)
        and target.count(".") > 1
        and (PACKAGE / _room(target) / "__init__.py").is_file()
    ]
    assert [] == back_doors


#: What the shipped examples may import: the faces a user's own code imports.
PUBLIC_FACES = frozenset({"apfsm", "apfsm.testing", "apfsm.strategies", "apfsm.stateful"})


def test_the_examples_use_only_public_faces() -> None:
    # The examples are user code shipped with the package: a private import there would be
    # one a user copies.
    private = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        for module, path in _modules()
        if _room(module) == "examples"
        for target, line in _imports(module, path)
        if _room(target) != "examples" and target not in PUBLIC_FACES
    ]
    assert [] == private
    assert any(_room(module) == "examples" for module, _ in _modules())


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert [] == _cycles(_graph())


def test_the_cycle_finder_finds_cycles() -> None:
    # The test above must be able to fail.
    assert [["a", "b", "c"]] == _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})


def test_no_module_or_class_is_too_big_to_read() -> None:
    too_big = []
    for _, path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    too_big.append(f"{path.relative_to(PACKAGE.parent)}: class {node.name} {size}")
    assert [] == too_big


def test_import_apfsm_brings_no_hypothesis_graphviz_or_server() -> None:
    import subprocess
    import sys

    code = (
        "import sys, apfsm\n"
        "heavy = ('hypothesis', 'graphviz', 'starlette', 'uvicorn', 'apfsm._fuzz')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == result.stdout.strip()


def _layout_paths(text: str) -> list[str]:
    """The paths in the first column of README's layout table (``a/b.py``, ``c.py``...)."""
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    paths = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        names = [part.strip(" `") for part in cell.split(",")]
        directory = ""
        for name in names:
            if "/" in name.rstrip("/"):
                directory = name.rsplit("/", 1)[0] + "/" if not name.endswith("/") else ""
                paths.append(name)
            else:
                paths.append(directory + name)
    return paths


def test_the_readme_layout_table_matches_the_tree() -> None:
    root = PACKAGE.parent
    listed = _layout_paths((root / "README.md").read_text(encoding="utf-8"))
    assert [] == [path for path in listed if not (root / path).exists()]
    # Every room of the package is in the table.
    rooms = {room for room in LAYER if room not in {"__init__", "__main__"}}
    shown = {Path(path).stem if path.endswith(".py") else Path(path).name for path in listed}
    assert [] == sorted(rooms - shown)


def test_architecture_md_names_every_room_and_draws_these_layers() -> None:
    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    drawn = {
        int(row.split("|")[1]): {cell.strip(" `/") for cell in row.split("|")[2].split(",")}
        for row in rows
    }
    assert {number: set(rooms) for number, rooms in enumerate(LAYERS)} == drawn
