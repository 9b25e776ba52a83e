"""benchmarks/bugs.py, small and fast: the plain Hypothesis harness it compares against is a
working harness (it finds a planted bug), and the kit's machine finds it too, each within a
bounded number of examples under a fixed seed. The full comparison is the benchmark's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "apfsm_bug_benchmark", ROOT / "benchmarks/bugs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("bug", ["capture_initiated_is_paid", "uncapped_returns"])
def test_both_harnesses_find_a_planted_bug_and_shrink_it(bug: str) -> None:
    bench = benchmark()
    for machine in (bench.kit_machine(bug), bench.plain_machine(bug)):
        found = bench.hunt(machine, seed=1, budget=30.0)
        assert found["found"], (machine.__name__, found)
        assert 1 <= found["shrunk"] <= 8, found
