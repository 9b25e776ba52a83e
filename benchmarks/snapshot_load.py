"""Benchmark: other calls during ``PUT /_apfsm/snapshot`` — the snapshot's JSON decoded by
``apfsm.server._bigjson._loads_yielding`` (now) against one ``json.loads`` call (before),
side by side in one run.

Run: ``.venv/bin/python benchmarks/snapshot_load.py [--objects 10000,100000,300000]`` (the server
extra). For each size a simulator is filled in process with that many Checkout Sessions
and its snapshot serialised; a server is started as ``apfsm serve`` starts it
(``create_app(gc_freeze=True)``, uvicorn in a thread, loopback HTTP) and the snapshot is
PUT to it while a second client calls ``GET /_apfsm/clock`` one call after another. Printed
per size and decoder: the PUT's time, the clock calls answered meanwhile, their p50, p99
and slowest.

``json.loads`` is one call into the C decoder and never lets go of the GIL, so every other
call waits for the whole parse (issue 16: ~20 s at 500,000 objects). The "before" run
patches the decoder back to ``json.loads`` (in the same worker thread; before, it ran on
the event loop itself, after a nesting scan in Python that blocked it too). Target: the
slowest clock call during a load far below the parse's time, and about the same PUT time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_state import filled

from apfsm.server import _bigjson, create_app, running
from apfsm.server._wire import _finite_float, _reject_constant


def before(raw: bytes) -> Any:
    """The decoder as before: one ``json.loads`` call, same number rules."""
    return json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)


def load_once(snapshot: bytes, objects: int) -> dict[str, Any]:
    app = create_app(filled(1), gc_freeze=True)
    latencies: list[float] = []
    done = threading.Event()
    with running(app) as url:

        def clock_calls() -> None:
            with httpx2.Client(base_url=url, timeout=300) as client:
                client.get("/_apfsm/clock").raise_for_status()
                while not done.is_set():
                    began = time.perf_counter()
                    client.get("/_apfsm/clock").raise_for_status()
                    latencies.append((time.perf_counter() - began) * 1000)

        ticker = threading.Thread(target=clock_calls)
        ticker.start()
        time.sleep(0.2)
        latencies.clear()
        with httpx2.Client(base_url=url, timeout=600) as client:
            began = time.perf_counter()
            answer = client.put("/_apfsm/snapshot", content=snapshot)
            took = time.perf_counter() - began
        done.set()
        ticker.join()
    answer.raise_for_status()
    assert answer.json()["objects"] == objects, answer.text
    ordered = sorted(latencies) or [0.0]
    return {
        "seconds": took,
        "calls": len(latencies),
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "slowest": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", default="10000,100000,300000", help="sizes, comma-separated")
    args = parser.parse_args()
    print("PUT /_apfsm/snapshot while another client calls GET /_apfsm/clock (ms)")
    for objects in (int(n) for n in args.objects.split(",")):
        snapshot = json.dumps(filled(objects).snapshot()).encode()
        print(f"\n{objects:,} objects, a {len(snapshot) / 1e6:,.0f} MB snapshot:")
        rows = {}
        for name in ("before (json.loads)", "now (loads_yielding)"):
            saved = _bigjson._loads_yielding
            if name.startswith("before"):
                _bigjson._loads_yielding = before
            try:
                rows[name] = row = load_once(snapshot, objects)
            finally:
                _bigjson._loads_yielding = saved
            print(
                f"  {name:22} PUT {row['seconds']:6.2f} s; {row['calls']:6,} clock calls "
                f"meanwhile: p50 {row['p50']:6.1f}, p99 {row['p99']:7.1f}, "
                f"slowest {row['slowest']:7.1f}"
            )
        old, new = rows.values()
        print(
            f"  slowest clock call now/before {new['slowest'] / old['slowest']:.2f}; "
            f"PUT time now/before {new['seconds'] / old['seconds']:.2f}"
        )


if __name__ == "__main__":
    main()
