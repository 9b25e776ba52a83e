"""The public API is pinned: a flat, sorted, complete __all__ of names that exist."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import apfsm

EXPECTED = [
    "BODIES",
    "CHECKS",
    "DEADLINES",
    "ERRORS",
    "GUARDS",
    "LIFECYCLES",
    "OBJECT_TYPES",
    "OPERATIONS",
    "SIMULATION_CODES",
    "Allow",
    "ApiError",
    "BodyField",
    "Check",
    "Clock",
    "Creation",
    "Deadline",
    "ErrorInfo",
    "Event",
    "FrozenMap",
    "Guard",
    "Lifecycle",
    "Limits",
    "ManualClock",
    "Operation",
    "Outcome",
    "Refuse",
    "StateDecl",
    "SystemClock",
    "Timer",
    "__version__",
    "add_months",
    "check",
    "check_transition",
    "format_timestamp",
    "month_start",
    "parse_timestamp",
]


def test_all_is_pinned_sorted_and_resolvable() -> None:
    assert EXPECTED == apfsm.__all__

    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then the rest.
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(apfsm.__all__, key=key) == apfsm.__all__
    for name in apfsm.__all__:
        assert hasattr(apfsm, name), name


def test_no_other_public_names_leak() -> None:
    public = {n for n in vars(apfsm) if not n.startswith("_")}
    assert set() == public - set(apfsm.__all__)


def test_implementation_modules_are_private() -> None:
    package = Path(apfsm.__file__).parent
    for path in package.glob("*.py"):
        assert path.name.startswith("_"), path.name


def test_version_and_typing_marker() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", apfsm.__version__)
    assert importlib.resources.files("apfsm").joinpath("py.typed").is_file()
