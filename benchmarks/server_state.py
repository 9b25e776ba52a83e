"""Benchmark: ``apfsm serve --state`` (durable, SQLite journal) against in-memory, side by
side, at a small and a large state — and the restart time.

Run: ``.venv/bin/python benchmarks/server_state.py`` (the server extra). For each size, a
simulator is filled in process with that many objects (Checkout Sessions, quickly), then
served twice over loopback HTTP (uvicorn in a thread, ``apfsm.server.running``): once in
memory, once with a state file. One client sends, one at a time, ``--requests`` pairs of
``POST /v2/checkoutSessions`` (its own idempotency key: committed before it is answered)
and ``GET /v2/checkoutSessions/{id}``; the script prints p50/p99 of each kind, the durable
to in-memory ratio, and:

* the slowest call of each run (checkpoints happen during it: every 1,000 commands, each
  writing only what changed since the last — issue 16: a whole-state checkpoint paused
  calls ~90 µs per object, 9–14 s at 100,000),
* the initial checkpoint (the whole state written once, when the file is made),
* one more checkpoint by hand after the run (what changed since the last),
* the restart after a crash (restore the checkpoint, replay the journal's tail),
* the restart after a graceful shutdown (restore only),
* a whole-state replacement (what ``PUT /_apfsm/snapshot`` does once the snapshot is
  read: the same state, restored in process beforehand, made the served one): the new file
  is written beside the state file without the lock, so the client's calls go on being
  answered (``GET /_apfsm/clock`` and a committed POST, in turn); how many were answered
  meanwhile, their p50, p99 and slowest are printed, and the replacement's time against the
  initial checkpoint's (it writes the same: about 1 is the target — issue 16: 804 s at
  500,000 objects, 50 times a new file, while the slowest call took 4.8 s).

Each run also prints the garbage collector's pauses during it, per generation
(``gc.callbacks``). The servers are built as ``apfsm serve`` builds them,
``create_app(gc_freeze=True)`` (``--no-gc-freeze``: without, as before issue 16's fix), and
hold only the served state: the snapshot they are restored from is kept as JSON bytes,
which the collector does not walk.

Then every size is served at once, in memory and durable, and one client sends a pair to
each in turn: a p99 of 1,000 pairs on a shared 2-core machine is mostly what else ran
meanwhile (measured: the same 10,000-object server gave a POST p99 of 0.6 ms in one run
and 5.7 ms in the next), and interleaved, that load falls on every size alike.

Then the in-process GC runs (``--gc-pairs``, alone with ``--gc-only``): ``create_app`` on
each size, and that many create + get pairs through ``Simulator.request`` (no HTTP, so
a full collection's pause is not lost among the network's), without the freeze and with
it: the full collections, the longest and their sum, and each pair's p99, p99.9 and
slowest. A full collection walks every object the process holds; once every ~170,000
calls it took 0.9 s at 500,000 objects on a quiet machine (docs/server.md).

Then a bounded-memory run (``--rounds``): the durable server with small retention caps
(``--cap``) takes ``--pairs`` POST+GET pairs a round, and the clock moves 3 days after each
round, so Checkout Sessions reach their 30-day deletion; the process's resident memory, the
objects, call-log records and idempotency keys held are printed each few rounds — they level
off instead of growing with the calls.

Target (issue 16): p99 flat as state grows (large/small close to 1), in memory and durable,
no pause that grows with the state (the full collections' included), and bounded memory
under load.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

from apfsm import ManualClock, Simulator
from apfsm.server import create_app, running
from apfsm.server._durable import _Durable
from apfsm.server._heap import _heap_freezer


def body() -> dict[str, Any]:
    return {
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": "amzn1.application-oa2-client.bench",
    }


def filled(objects: int) -> Simulator:
    from datetime import UTC, datetime

    sim = Simulator(ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)), seed="bench")
    for _ in range(objects):
        sim.create_checkout_session(body())
    return sim


def frozen_text(sim: Simulator) -> bytes:
    """``sim``'s snapshot as JSON bytes, which the garbage collector does not walk (a
    snapshot's dicts and lists, kept for the next restore, would add to what it walks)."""
    return json.dumps(sim.snapshot()).encode()


def restored_from(snapshot: bytes) -> Simulator:
    return Simulator.restore(json.loads(snapshot))


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    # Inclusive: a small sample's p99 stays within it (the calls during a replacement).
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def rss_mb() -> float:
    """The process's resident memory now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class Pauses:
    """The garbage collector's pauses while installed, per generation (ms): ``gc.callbacks``.

    ``ms`` is wall time, what a call waits; ``cpu_ms`` the collecting thread's CPU time,
    the collection's own work (on a loaded machine the process is off the CPU part of the
    time, and the wall time grows with the load, not with what was walked)."""

    def __init__(self) -> None:
        self.ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self.cpu_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = (0.0, 0.0)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
        else:
            wall, cpu = self._started
            self.ms[info["generation"]].append((time.perf_counter() - wall) * 1000)
            self.cpu_ms[info["generation"]].append((time.thread_time() - cpu) * 1000)

    def __enter__(self) -> Pauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def line(self) -> str:
        return "; ".join(
            f"gen {g} {len(ms)}x"
            + (f" max {max(ms):.1f} ms (CPU {max(self.cpu_ms[g]):.1f})" if ms else "")
            for g, ms in self.ms.items()
        )


def pair(client: httpx2.Client, key: str) -> tuple[float, float]:
    """One POST (idempotency key ``key``) and a GET of what it made: their times (ms)."""
    start = time.perf_counter()
    answer = client.post(
        "/v2/checkoutSessions", json=body(), headers={"x-amz-pay-idempotency-key": key}
    )
    posted = time.perf_counter()
    assert answer.status_code == 201, answer.text
    got = client.get(f"/v2/checkoutSessions/{answer.json()['checkoutSessionId']}")
    done = time.perf_counter()
    assert got.status_code == 200
    return (posted - start) * 1000, (done - posted) * 1000


def drive(url: str, requests: int, tag: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"POST": [], "GET": []}
    with httpx2.Client(base_url=url, timeout=120) as client:  # a stall is measured
        for n in range(requests + 50):
            post, get = pair(client, f"{tag}-{n}")
            if n >= 50:  # warm-up
                times["POST"].append(post)
                times["GET"].append(get)
    return times


def interleaved(
    snapshots: dict[int, bytes], requests: int, directory: Path, freeze: bool
) -> dict[tuple[str, int], dict[str, list[float]]]:
    """Every size served at once, in memory and durable, a pair to each in turn (the
    order turning each round): whatever else loads the machine falls on all alike, so
    the large/small ratios compare like with like (run one after the other, a p99 of
    1,000 pairs on a shared machine is mostly what else ran meanwhile)."""
    apps = {}
    for objects, snapshot in snapshots.items():
        apps["memory", objects] = create_app(restored_from(snapshot), gc_freeze=freeze)
        apps["durable", objects] = create_app(
            restored_from(snapshot),
            state=directory / f"interleaved-{objects}.db",
            gc_freeze=freeze,
        )
    if freeze:  # all of them loaded: settled at once, as one server's state
        _heap_freezer().loaded()
    times: dict[tuple[str, int], dict[str, list[float]]] = {
        name: {"POST": [], "GET": []} for name in apps
    }
    with contextlib.ExitStack() as stack:
        clients = {
            name: stack.enter_context(
                httpx2.Client(base_url=stack.enter_context(running(app)), timeout=120)
            )
            for name, app in apps.items()
        }
        names = list(clients)
        for n in range(requests + 50):
            turn = n % len(names)
            for name in names[turn:] + names[:turn]:
                post, get = pair(clients[name], f"i{name[0][0]}{name[1]}-{n}")
                if n >= 50:  # warm-up
                    times[name]["POST"].append(post)
                    times[name]["GET"].append(get)
    del apps, clients
    unfrozen()
    return times


def measure(objects: int, requests: int, directory: Path, freeze: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"objects": objects}
    start = time.perf_counter()
    sim = filled(objects)
    out["fill_s"] = time.perf_counter() - start
    # Only the served state from here on, as in a server process: the filled simulator
    # doubled the heap the garbage collector walks, and a snapshot's dicts would too.
    snapshot = out["snapshot"] = frozen_text(sim)
    del sim
    with running(create_app(restored_from(snapshot), gc_freeze=freeze)) as url:
        with Pauses() as pauses:
            out["memory"] = drive(url, requests, "m")
        out["memory_gc"] = pauses.line()
    unfrozen()
    path = directory / f"state-{objects}.db"
    restored = restored_from(snapshot)
    start = time.perf_counter()
    app = create_app(restored, state=path, gc_freeze=freeze)
    out["initial_checkpoint_s"] = time.perf_counter() - start
    durable: _Durable = app.router.default._state.durable  # type: ignore[attr-defined]
    with running(app) as url:
        with Pauses() as pauses:
            out["durable"] = drive(url, requests, "d")
        out["durable_gc"] = pauses.line()
        start = time.perf_counter()
        durable.checkpoint(app.state.simulator)
        out["checkpoint_s"] = time.perf_counter() - start
        start = time.perf_counter()
        durable.checkpoint(app.state.simulator, full=True)
        out["full_checkpoint_s"] = time.perf_counter() - start
        out.update(replacement(app, url, restored_from(snapshot)))
        # The journal's tail after that checkpoint, for a crash restart to replay.
        out["tail"] = len(drive(url, requests // 2, "t")["POST"]) * 2
        # What a crash leaves: the file as it is now, journal tail included (a copy
        # through SQLite's backup API: copying a live database's files is not safe).
        crashed = path.with_name("crashed.db")
        with sqlite3.connect(path) as source, sqlite3.connect(crashed) as copy:
            source.backup(copy)
    del app, restored, durable
    unfrozen()
    start = time.perf_counter()
    create_app(state=crashed, gc_freeze=freeze)
    out["restart_crash_s"] = time.perf_counter() - start
    unfrozen()
    start = time.perf_counter()
    # The ``with`` ended gracefully: a checkpoint, nothing to replay.
    create_app(state=path, gc_freeze=freeze)
    out["restart_graceful_s"] = time.perf_counter() - start
    unfrozen()
    out["file_mb"] = path.stat().st_size / 1e6
    return out


def unfrozen() -> None:
    """One app per process is what ``gc_freeze`` is for: between this script's apps, the
    freezer is uninstalled and what it froze collected (else a finished app's state, kept
    frozen, would stay in memory)."""
    _heap_freezer().uninstall()
    gc.collect()


def gc_run(snapshot: bytes, pairs: int, freeze: bool) -> dict[str, Any]:
    """``pairs`` create + get pairs in process on the state ``snapshot`` holds, served as
    ``create_app`` serves it (its default caps): the full collections' pauses, and each
    pair's time (the collections' pauses fall inside pairs)."""
    app = create_app(restored_from(snapshot), gc_freeze=freeze)
    sim: Simulator = app.state.simulator
    times = []
    with Pauses() as pauses:
        for n in range(pairs):
            start = time.perf_counter()
            created = sim.request(
                "create_checkout_session", None, body(), idempotency_key=f"gc-{n}"
            )
            sim.request("get_checkout_session", created.body["checkoutSessionId"], None)
            times.append((time.perf_counter() - start) * 1000)
    out = {
        "full": pauses.ms[2],
        "full_cpu": pauses.cpu_ms[2],
        "young_max": max(pauses.ms[0] + pauses.ms[1], default=0.0),
        "p99": percentile(times, 0.99),
        "p999": percentile(times, 0.999),
        "slowest": max(times),
        "frozen": gc.get_freeze_count(),
    }
    del app, sim
    unfrozen()
    return out


def gc_runs(snapshots: dict[int, bytes | None], pairs: int) -> None:
    """For each size (its snapshot, or None: filled here): the full collections during
    ``pairs`` pairs in process, without the freeze (as before issue 16's fix) and with it
    (as ``apfsm serve``)."""
    print(
        f"\nfull garbage collections during {pairs:,} create + get pairs in process "
        "(no HTTP), served with the default caps:"
    )
    for objects in list(snapshots):
        snapshot = snapshots.pop(objects) or frozen_text(filled(objects))
        for freeze in (False, True):
            row = gc_run(snapshot, pairs, freeze)
            full, cpu = row["full"], row["full_cpu"]
            print(
                f"  {objects:7,} objects, gc_freeze={freeze!s:5}: {len(full):3} full "
                f"collections, the longest {max(full, default=0.0):7.1f} ms (CPU "
                f"{max(cpu, default=0.0):6.1f}), all {sum(full):7.1f} ms (CPU "
                f"{sum(cpu):7.1f}), young generations' longest {row['young_max']:.1f} ms;"
                f" pair p99 {row['p99']:.2f} ms, p99.9 {row['p999']:.2f} ms, slowest "
                f"{row['slowest']:.1f} ms; {row['frozen']:,} objects frozen at the end"
            )
        del snapshot


def replacement(app: Any, url: str, simulator: Simulator) -> dict[str, Any]:
    """A whole-state replacement in a thread while one client keeps calling (module docs)."""
    shared = app.router.default._state
    thread = threading.Thread(target=shared.replace_and_checkpoint, args=(simulator,))
    times: list[float] = []
    start = time.perf_counter()
    thread.start()
    with httpx2.Client(base_url=url, timeout=600) as client:  # a stall is measured
        n = 0
        while thread.is_alive():
            n += 1
            begin = time.perf_counter()
            answer = client.get("/_apfsm/clock")
            got = time.perf_counter()
            assert answer.status_code == 200
            posted = client.post(
                "/v2/checkoutSessions", json=body(), headers={"x-amz-pay-idempotency-key": f"r{n}"}
            )
            times += [(got - begin) * 1000, (time.perf_counter() - got) * 1000]
            assert posted.status_code == 201
    thread.join()
    return {
        "replace_s": time.perf_counter() - start,
        "replace_calls": len(times),
        "replace_p50_ms": percentile(times, 0.5),
        "replace_p99_ms": percentile(times, 0.99),
        "replace_slowest_ms": max(times) if times else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="objects (default 10,000)")
    parser.add_argument("--large", type=int, default=500_000, help="objects (default 500,000)")
    parser.add_argument("--requests", type=int, default=1_000, help="pairs per run")
    parser.add_argument("--rounds", type=int, default=40, help="bounded-memory rounds")
    parser.add_argument("--pairs", type=int, default=250, help="pairs per round")
    parser.add_argument("--cap", type=int, default=2_000, help="log and key caps there")
    parser.add_argument("--bounded-only", action="store_true", help="only the memory run")
    parser.add_argument(
        "--gc-pairs", type=int, default=200_000, help="pairs of the in-process GC runs (0: none)"
    )
    parser.add_argument("--gc-only", action="store_true", help="only the in-process GC runs")
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="serve without create_app(gc_freeze=True) (as before issue 16's fix)",
    )
    args = parser.parse_args()
    if args.bounded_only:
        bounded_runs(args.rounds, args.pairs, args.cap)
        return
    if args.gc_only:
        gc_runs({args.small: None, args.large: None}, args.gc_pairs)
        return
    freeze = not args.no_gc_freeze
    rows = []
    with tempfile.TemporaryDirectory(prefix="apfsm-bench-") as directory:
        for objects in (args.small, args.large):
            rows.append(measure(objects, args.requests, Path(directory), freeze))
        snapshots = {row["objects"]: row.pop("snapshot") for row in rows}
        together = interleaved(snapshots, args.requests, Path(directory), freeze)
    print(f"gc_freeze={freeze} (apfsm serve's setting: True)")
    print(f"{args.requests} POST+GET pairs per run, one client, loopback HTTP (ms)")
    for row in rows:
        print(f"\n{row['objects']:,} objects (filled in {row['fill_s']:.1f} s):")
        for kind in ("POST", "GET"):
            m, d = row["memory"][kind], row["durable"][kind]
            print(
                f"  {kind:4} p50 memory {percentile(m, 0.5):6.2f}"
                f"  durable {percentile(d, 0.5):6.2f}"
                f"   p99 memory {percentile(m, 0.99):6.2f}  durable {percentile(d, 0.99):6.2f}"
                f"   (p99 durable/memory {percentile(d, 0.99) / percentile(m, 0.99):.2f})"
            )
        print(
            f"  slowest call: memory {max(row['memory']['POST'] + row['memory']['GET']):.1f}"
            f" ms, durable {max(row['durable']['POST'] + row['durable']['GET']):.1f} ms"
            " (checkpoints included)"
        )
        print(f"  GC pauses: memory {row['memory_gc']}")
        print(f"             durable {row['durable_gc']}")
        print(
            f"  initial checkpoint {row['initial_checkpoint_s']:.2f} s; a checkpoint after the "
            f"run (what changed) {row['checkpoint_s'] * 1000:.1f} ms; a whole-state one (for "
            f"comparison) {row['full_checkpoint_s']:.2f} s; file {row['file_mb']:.1f} MB"
        )
        print(
            f"  whole-state replacement ({row['objects']:,} objects) took "
            f"{row['replace_s']:.2f} s; {row['replace_calls']} calls answered meanwhile: p50 "
            f"{row['replace_p50_ms']:.1f} ms, p99 {row['replace_p99_ms']:.1f} ms, the slowest "
            f"{row['replace_slowest_ms']:.1f} ms (replacement/initial checkpoint "
            f"{row['replace_s'] / row['initial_checkpoint_s']:.2f})"
        )
        print(
            f"  restart: after a crash (replaying {row['tail']} commands) "
            f"{row['restart_crash_s']:.2f} s; after a graceful shutdown "
            f"{row['restart_graceful_s']:.2f} s"
        )
    small, large = rows
    print(f"\np99 side by side (ms), {small['objects']:,} vs {large['objects']:,} objects:")
    for kind in ("POST", "GET"):
        for mode in ("memory", "durable"):
            a, b = percentile(small[mode][kind], 0.99), percentile(large[mode][kind], 0.99)
            print(f"  {kind:4} {mode:7} {a:6.2f} vs {b:6.2f}   large/small {b / a:.2f} (flat: ~1)")
    print(
        f"\np99 with every server at once, a pair to each in turn (ms), {small['objects']:,}"
        f" vs {large['objects']:,} objects:"
    )
    for kind in ("POST", "GET"):
        for mode in ("memory", "durable"):
            a = percentile(together[mode, small["objects"]][kind], 0.99)
            b = percentile(together[mode, large["objects"]][kind], 0.99)
            print(f"  {kind:4} {mode:7} {a:6.2f} vs {b:6.2f}   large/small {b / a:.2f} (flat: ~1)")
    if args.gc_pairs:
        gc_runs(dict(snapshots), args.gc_pairs)
    del snapshots
    if args.rounds:  # ``--rounds 0``: none (run it alone with ``--bounded-only``)
        bounded_runs(args.rounds, args.pairs, args.cap)


def bounded_runs(rounds: int, pairs: int, cap: int) -> None:
    """The bounded-memory run with the caps, then without (for comparison)."""
    with tempfile.TemporaryDirectory(prefix="apfsm-bench-") as directory:
        bounded(Path(directory) / "capped.db", rounds, pairs, cap)
        bounded(Path(directory) / "uncapped.db", rounds, pairs, None)


def bounded(path: Path, rounds: int, pairs: int, cap: int | None) -> None:
    """The bounded-memory run (module docs)."""
    app = create_app(
        filled(0),
        state=path,
        max_call_log=cap,
        max_idempotency_keys=cap,
        max_notifications=cap,
    )
    caps = "no caps" if cap is None else f"caps {cap:,} log records, keys and notifications"
    print(
        f"\nbounded memory: {rounds} rounds of {pairs} POST+GET pairs, the clock 3 days on "
        f"after each; {caps}"
    )
    with running(app) as url, httpx2.Client(base_url=url) as client:
        for n in range(1, rounds + 1):
            drive(url, pairs - 50, f"b{n}")  # drive adds 50 warm-up pairs
            advanced = client.post("/_apfsm/clock/advance", json={"seconds": 3 * 86400})
            assert advanced.status_code == 200
            if n % 5 == 0 or n == 1:
                sim = app.state.simulator
                keys = len(sim.snapshot(log=False)["idempotency"])
                print(
                    f"  after {n * pairs:6,} pairs: RSS {rss_mb():6.1f} MB; {len(sim):5,} objects,"
                    f" {len(sim.log):5,} log records, {keys:5,} keys"
                )


if __name__ == "__main__":
    main()
