"""Start-up cost of the lean core (issue 14): ``import apfsm`` (what a service that only
validates pays) against a bare interpreter and against ``import transitions`` alone, each
in a fresh interpreter, interleaved round by round so drift hits all alike.

    python benchmarks/startup.py [--rounds 15]

Prints the medians and the verdict against the target: ``import apfsm`` at most 80 ms over
the bare interpreter. Also shown: ``import apfsm`` plus a first ``check`` call, and the
simulator's first use (``apfsm.Simulator``, imported on first access).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES = {
    "bare interpreter": "pass",
    "import transitions": "import transitions",
    "import attrs": "import attrs",
    "import apfsm": "import apfsm",
    "import apfsm + check()": (
        "import apfsm; from datetime import UTC, datetime; apfsm.check('get_charge', "
        "{'chargeId': 'S01-1-1-C1', 'statusDetails': {'state': 'Authorized'}, "
        "'creationTimestamp': '20260101T000000Z'}, "
        "at=datetime(2026, 1, 2, tzinfo=UTC))"
    ),
    "import apfsm + Simulator()": "import apfsm; apfsm.Simulator()",
}
TARGET_MS = 80.0
#: As an installed package runs: from bytecode (pip compiles it at install; a checkout
#: writes it on first import unless PYTHONDONTWRITEBYTECODE is set, as on this CI machine).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_ENV)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for code in CASES.values():  # a first run writes the bytecode; it is not counted
        _once(code)
    for _ in range(args.rounds):
        for name, code in CASES.items():
            samples[name].append(_once(code))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    bare = medians["bare interpreter"]
    print(f"{'':28} {'median ms':>10} {'over bare':>10}  ({args.rounds} rounds)")
    for name, value in medians.items():
        print(f"{name:28} {value:10.1f} {value - bare:10.1f}")
    over = medians["import apfsm"] - bare
    ratio = over / max(medians["import transitions"] - bare, 0.1)
    print(
        f"\nimport apfsm costs {over:.1f} ms over a bare interpreter "
        f"({ratio:.1f}x import transitions alone); target <= {TARGET_MS:.0f} ms: "
        f"{'MET' if over <= TARGET_MS else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
