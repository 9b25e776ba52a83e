"""Run a benchmark against an earlier commit, side by side, and print the ratios.

Usage::

    .venv/bin/python benchmarks/versus.py REF BENCHMARK [--rounds N] [-- ARGS...]

e.g. ``benchmarks/versus.py ea0e21f benchmarks/simulator.py -- --orders 1000``. The script
checks ``REF`` out into a temporary git worktree, then runs the *same* benchmark script
(this checkout's) alternately against that worktree's ``apfsm`` and this checkout's,
``--rounds`` times each (alternating, because this machine's speed drifts within a
minute). Every output line that carries a figure is matched across runs by its text with
the figures taken out; the table shows each line's median figure for both sides and their
ratio (this checkout ÷ REF). Whether higher is better depends on the line: µs and ms
lower, per-second rates higher.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)")


def _figures(output: str) -> dict[str, float]:
    """Each line's first figure, keyed by the line with every figure replaced by ``#``."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        match = _NUMBER.search(line)
        if match is None:
            continue
        key = _NUMBER.sub("#", line).strip()
        found.setdefault(key, float(match.group(1).replace(",", "")))
    return found


def _run(script: Path, args: list[str], package_root: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(script), *args],
        env={**os.environ, "PYTHONPATH": str(package_root)},
        capture_output=True,
        text=True,
        check=False,
        cwd=package_root,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"{script.name} failed against {package_root}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", help="the commit to compare with (any git revision)")
    parser.add_argument("benchmark", type=Path, help="a script under benchmarks/")
    parser.add_argument("--rounds", type=int, default=3, help="runs per side (default 3)")
    argv = sys.argv[1:]
    extra: list[str] = []
    if "--" in argv:  # what follows "--" goes to the benchmark
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    options = parser.parse_args(argv)
    options.args = extra
    script = options.benchmark.resolve()
    with tempfile.TemporaryDirectory(prefix="apfsm-versus-") as directory:
        worktree = Path(directory) / "ref"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), options.ref],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            sides: dict[str, dict[str, list[float]]] = {
                "ref": defaultdict(list),
                "this": defaultdict(list),
            }
            for number in range(1, options.rounds + 1):
                for side, root in (("ref", worktree), ("this", ROOT)):
                    sys.stderr.write(f"round {number}/{options.rounds}: {side}\n")
                    for key, value in _figures(_run(script, options.args, root)).items():
                        sides[side][key].append(value)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
    keys = [k for k in sides["this"] if k in sides["ref"] and len(sides["this"][k]) > 1]
    width = max((len(k) for k in keys), default=10)
    print(f"{script.name}: {options.ref} vs this checkout, median of {options.rounds} runs each")
    print(f"{'line':<{width}}  {options.ref:>12}  {'this':>12}  this/ref")
    for key in keys:
        old = statistics.median(sides["ref"][key])
        new = statistics.median(sides["this"][key])
        ratio = f"{new / old:8.2f}" if old else "       -"
        print(f"{key:<{width}}  {old:12,.3f}  {new:12,.3f}  {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
