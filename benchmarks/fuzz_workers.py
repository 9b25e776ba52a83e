"""Scale-out (issue 12 part 5): a campaign on 1 and on 2 worker processes, side by side in
one run (``apfsm fuzz --workers N``'s engine, ``apfsm._fuzz.run_workers``).

1. **Throughput**: the built-in campaign (``AmazonPayMachine``, what ``apfsm fuzz`` runs),
   the same number of histories shared among the workers: histories per second.
2. **Time to the first failure** on a planted bug of ``apfsm/examples/shop/buggy_shop.py``
   (``ShopMachine`` over ``BuggyShop``), on an empty example database, per trial (worker
   ``i`` runs seed ``trial seed + i``, so worker 0 of the 2-worker run draws what the
   1-worker run draws): seconds to the first failing history and to the first shrunk
   failure reported; the other workers stop then (``stop_on_failure``).
3. **Replay**: a fresh worker process with another seed, on the database the trial left,
   fails at once by replaying the failure the other worker saved: seconds to its report.

Every figure includes starting the worker processes (about a second each: they import
apfsm and Hypothesis). The database is a private ``redis-server`` on loopback when one is
installed (what machines share), else a directory (``--database directory``).

    python benchmarks/fuzz_workers.py [--histories 300] [--trials 3] [--bug NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apfsm._fuzz import run_workers
from apfsm._fuzz.coverage import Coverage
from apfsm.examples.shop.buggy_shop import BUGS, BuggyShop
from apfsm.examples.shop.shop import Shop
from apfsm.examples.shop.test_shop import ShopMachine
from apfsm.stateful import AmazonPayMachine

#: The planted bug (read by the worker processes, which inherit the environment).
BUG_VARIABLE = "APFSM_BENCH_BUG"
#: Where each worker notes when its first failing history ended (a file per process).
MARKS_VARIABLE = "APFSM_BENCH_MARKS"
DEFAULT_BUG = "capture_expired_authorization"


class BuggyShopMachine(ShopMachine):
    """The guide's machine over the buggy shop, with the bug ``$APFSM_BENCH_BUG`` planted."""

    coverage = Coverage()  # what a campaign merges its coverage into

    def make_shop(self) -> Shop:
        return BuggyShop(self.sim, now=self.sim.now, bugs={os.environ[BUG_VARIABLE]})

    def teardown(self) -> None:
        marks = os.environ.get(MARKS_VARIABLE)
        mark = Path(marks) / str(os.getpid()) if marks else None
        if mark is not None and sys.exc_info()[1] is not None and not mark.exists():
            mark.write_text(repr(time.time()))  # wall clock: comparable across processes
        super().teardown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def redis_server(binary: str) -> Iterator[str]:
    """A private redis-server on loopback, its URL base."""
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="apfsm-bench-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


class Databases:
    """A fresh, empty example database per campaign: a new redis database number, or a new
    directory."""

    def __init__(self, redis_base: str | None, scratch: Path) -> None:
        self.redis_base = redis_base
        self.scratch = scratch
        self.made = 0

    def fresh(self) -> str:
        self.made += 1
        if self.redis_base is None:
            return str(self.scratch / f"db-{self.made}")
        import redis

        spec = f"{self.redis_base}/0"
        client = redis.Redis.from_url(spec)
        client.flushdb()  # our private server's
        client.close()
        return spec


def throughput(histories: int, steps: int, databases: Databases) -> dict[str, dict[int, float]]:
    """Histories per second, wall clock (start-up included) and while the workers ran
    (from the first worker's start to the last one's end, each as its campaign timed it)."""
    rates: dict[str, dict[int, float]] = {"wall": {}, "running": {}}
    for workers in (1, 2):
        campaign = run_workers(
            AmazonPayMachine,
            workers=workers,
            examples=histories,
            steps=steps,
            seed=7,
            database=databases.fresh(),
        )
        assert campaign.ok, campaign.summary()
        running = max(w.report.seconds for w in campaign.workers)
        rates["wall"][workers] = campaign.histories_per_second
        rates["running"][workers] = campaign.examples / running
        print(
            f"  {workers} worker(s): {campaign.examples} histories, {campaign.steps} steps in "
            f"{campaign.seconds:.1f} s: {rates['wall'][workers]:.1f} histories/s; "
            f"{rates['running'][workers]:.1f} histories/s while running ({running:.1f} s)",
            flush=True,
        )
    return rates


def hunt(workers: int, seed: int, budget: int, database: str, marks: Path) -> dict[str, float]:
    """One campaign on an empty database until the first shrunk failure."""
    marks.mkdir(parents=True, exist_ok=True)
    os.environ[MARKS_VARIABLE] = str(marks)
    began = time.time()
    campaign = run_workers(
        BuggyShopMachine,
        workers=workers,
        examples=budget * workers,
        steps=40,
        seed=seed,
        database=database,
        stop_on_failure=True,
    )
    del os.environ[MARKS_VARIABLE]
    if campaign.first_failure is None:
        return {"found": 0.0, "histories": float(campaign.examples)}
    firsts = [float(m.read_text()) - began for m in marks.iterdir()]
    return {
        "found": 1.0,
        "first_history": min(firsts),
        "shrunk": campaign.first_failure,
        "histories": float(campaign.examples),
    }


def replay(seed: int, database: str) -> tuple[float, int, bool]:
    """A fresh worker on ``database``, one history: seconds to its report, failures it
    replayed, whether it failed."""
    campaign = run_workers(
        BuggyShopMachine, workers=1, examples=1, steps=40, seed=seed, database=database
    )
    worker = campaign.workers[0]
    return worker.ended, worker.report.replayed, not worker.report.ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=300, help="throughput campaign")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--bug", default=DEFAULT_BUG, choices=sorted(BUGS))
    parser.add_argument("--budget", type=int, default=3_000, help="histories per worker")
    parser.add_argument("--database", choices=("redis", "directory"), default=None)
    args = parser.parse_args()
    os.environ[BUG_VARIABLE] = args.bug
    binary = shutil.which("redis-server")
    kind = args.database or ("redis" if binary else "directory")
    if kind == "redis" and binary is None:
        parser.error("redis-server is not installed (apt-get install redis-server)")
    print(f"{os.cpu_count()} CPUs; example database: {kind}", flush=True)
    with tempfile.TemporaryDirectory(prefix="apfsm-bench-") as scratch:
        if kind == "redis":
            assert binary is not None
            with redis_server(binary) as base:
                run(args, Databases(base, Path(scratch)), Path(scratch))
        else:
            run(args, Databases(None, Path(scratch)), Path(scratch))


def run(args: argparse.Namespace, databases: Databases, scratch: Path) -> None:
    print(f"\n1. throughput: {args.histories} histories of up to {args.steps} steps")
    rates = throughput(args.histories, args.steps, databases)
    for name, label in (("wall", "wall clock"), ("running", "while running")):
        ratio = rates[name][2] / rates[name][1]
        print(f"  ratio 2 workers / 1, {label}: {ratio:.2f}x histories/s")

    print(f"\n2. time to the first failure: bug {args.bug}, {args.trials} trials")
    print(f"  {'trial':>5} {'workers':>7} {'first failing history s':>24} {'shrunk s':>9}")
    found: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    replays: list[tuple[float, int, bool]] = []
    for trial in range(1, args.trials + 1):
        seed = 1_000 * trial
        for workers in (1, 2):
            database = databases.fresh()
            result = hunt(
                workers, seed, args.budget, database, scratch / f"marks-{trial}-{workers}"
            )
            found[workers].append(result)
            if not result["found"]:
                print(f"  {trial:>5} {workers:>7} {'not found':>24}")
                continue
            print(
                f"  {trial:>5} {workers:>7} {result['first_history']:>24.1f} "
                f"{result['shrunk']:>9.1f}",
                flush=True,
            )
            if workers == 2:
                replays.append(replay(seed + 500, database))
    pairs = [(a, b) for a, b in zip(found[1], found[2], strict=True) if a["found"] and b["found"]]
    if pairs:
        for name, label in (("first_history", "first failing history"), ("shrunk", "shrunk")):
            one = statistics.median(a[name] for a, _ in pairs)
            two = statistics.median(b[name] for _, b in pairs)
            print(
                f"  median {label}: 1 worker {one:.1f} s, 2 workers {two:.1f} s, "
                f"ratio 1/2 {one / two:.2f}x"
            )

    print("\n3. replay: a fresh worker (another seed, one history) on the trial's database")
    for seconds, replayed, failed in replays:
        print(f"  {seconds:.1f} s to report; replayed {replayed} saved; failed: {failed}")
    if replays and pairs:
        again = statistics.median(s for s, _, _ in replays)
        find = statistics.median(b["shrunk"] for _, b in pairs)
        print(
            f"  median: replayed in {again:.1f} s, against {find:.1f} s to find and shrink on "
            f"2 workers (ratio {find / again:.1f}x); all failed by replay: "
            f"{all(f and r >= 1 for _, r, f in replays)}"
        )


if __name__ == "__main__":
    main()
