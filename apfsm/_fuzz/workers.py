"""A campaign on many cores (``apfsm fuzz --workers N``): N worker processes, each running
``run_campaign`` with seed ``seed + i`` on one shared example database, and their reports
merged.

Every worker replays the failures saved in the database first (a failure one worker or an
earlier campaign found is tried by all), then generates its share of the histories and
shrinks its own failure, so the merged report names every worker's. Ctrl-C stops them
all before their next history (and terminates any that do not stop within a few seconds).
Workers are spawned, not forked, so the machine class must be importable (defined at a
module's top level).
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import random
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from apfsm._harness import trace_directory

from .campaign import FuzzReport, run_campaign
from .coverage import Coverage
from .database import MEMORY, DatabaseError, open_database

__all__ = ["WorkerReport", "WorkersReport", "run_workers", "shares"]

#: Seconds a stopped worker has to finish its history before it is terminated.
_GRACE = 10.0


@attrs.frozen
class WorkerReport:
    """One worker's campaign: its number, seed and report, and when it ended (seconds
    from the campaign's start)."""

    worker: int
    seed: int
    report: FuzzReport
    ended: float


@attrs.frozen
class WorkersReport:
    """A campaign of several workers, merged."""

    workers: tuple[WorkerReport, ...]
    database: str
    seconds: float
    interrupted: bool = False

    @property
    def examples(self) -> int:
        return sum(w.report.examples for w in self.workers)

    @property
    def steps(self) -> int:
        return sum(w.report.steps for w in self.workers)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.interrupted

    @property
    def failures(self) -> list[WorkerReport]:
        """The workers that failed, in the order they ended."""
        return sorted((w for w in self.workers if not w.report.ok), key=lambda w: w.ended)

    @property
    def first_failure(self) -> float | None:
        """Seconds from the start to the first (shrunk) failure, None if none."""
        failures = self.failures
        return failures[0].ended if failures else None

    @property
    def histories_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds > 0 else 0.0

    def merged(self) -> FuzzReport:
        """The campaign as one ``FuzzReport``: totals, the coverage of all workers, the
        first failure with its story and trace."""
        coverage = Coverage()
        for w in self.workers:
            coverage.counts.update(w.report.coverage.counts)
            coverage.observed |= w.report.coverage.observed
        first = self.failures[0].report if self.failures else None
        return FuzzReport(
            examples=self.examples,
            steps=self.steps,
            coverage=coverage,
            failure=None if first is None else first.failure,
            trace=None if first is None else first.trace,
            seconds=self.seconds,
            story=None if first is None else first.story,
            replayed=max((w.report.replayed for w in self.workers), default=0),
            stopped=self.interrupted,
        )

    def summary(self, *, listed: int = 12) -> str:
        """The merged campaign's summary, then a line per worker and each failure's story."""
        rate = f"{self.histories_per_second:.1f} histories/s"
        lines = [
            f"{len(self.workers)} workers, {self.examples} histories in {self.seconds:.1f} s "
            f"({rate}); example database: {self.database}",
            self.merged().summary(listed=listed),
        ]
        if self.interrupted:
            lines.append("interrupted: the workers were stopped")
        for w in sorted(self.workers, key=lambda w: w.worker):
            r = w.report
            outcome = "passed" if r.ok else "FAILED"
            if r.stopped and r.ok:
                outcome = "stopped"
            lines.append(
                f"  worker {w.worker} (seed {w.seed}): {r.examples} histories, {r.steps} steps, "
                f"{outcome} at {w.ended:.1f} s"
            )
        for w in self.failures:
            lines.append(f"\nworker {w.worker} (seed {w.seed}) failed: {w.report.failure}")
            if w.report.story:
                lines.extend(f"  {line}" for line in w.report.story.splitlines())
        return "\n".join(lines)

    def document(self) -> dict[str, Any]:
        """What ``--json`` writes for the workers: one entry per worker."""
        return {
            "database": self.database,
            "interrupted": self.interrupted,
            "histories_per_second": self.histories_per_second,
            "first_failure_seconds": self.first_failure,
            "workers": [
                {
                    "worker": w.worker,
                    "seed": w.seed,
                    "examples": w.report.examples,
                    "steps": w.report.steps,
                    "ok": w.report.ok,
                    "stopped": w.report.stopped,
                    "ended": w.ended,
                    "replayed": w.report.replayed,
                    "failure": w.report.failure,
                    "story": w.report.story,
                    "trace": None if w.report.trace is None else str(w.report.trace),
                }
                for w in sorted(self.workers, key=lambda w: w.worker)
            ],
        }


def shares(examples: int, workers: int) -> list[int]:
    """``examples`` split as evenly as can be among ``workers`` (the first ones take the
    remainder)."""
    base, extra = divmod(examples, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


def _start(processes: Sequence[Any]) -> None:
    """Start the workers with Ctrl-C ignored, which a process inherits from its start
    (Python keeps an inherited SIG_IGN): a SIGINT to the group while a worker is still
    importing its machine would otherwise print that worker's traceback; once running,
    ``_work`` ignores it anyway and the parent stops the workers."""
    if threading.current_thread() is not threading.main_thread():
        for process in processes:  # only the main thread may set a signal handler
            process.start()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for process in processes:
            process.start()
    finally:
        signal.signal(signal.SIGINT, previous)


def _work(
    machine: type[Any],
    worker: int,
    seed: int,
    examples: int,
    steps: int,
    database: str,
    trace_dir: str,
    messages: Any,
    stop: Any,
) -> None:
    """A worker process: its campaign, its progress and its report sent to ``messages``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        db = open_database(database)
    except (DatabaseError, ImportError) as exc:
        messages.put(("error", worker, str(exc)))
        return

    def progress(done: int, total: int) -> None:
        messages.put(("progress", worker, done))

    try:
        report = run_campaign(
            machine,
            examples=examples,
            steps=steps,
            seed=seed,
            progress=progress,
            database=db,
            trace_dir=trace_dir,
            stop=stop.is_set,
        )
    except BaseException as exc:  # a worker reports what ended it, never dies silently
        messages.put(("error", worker, f"{type(exc).__name__}: {exc}"))
        return
    messages.put(("done", worker, report))


def _check_importable(machine: type[Any]) -> None:
    try:
        pickle.dumps(machine)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise ValueError(
            f"workers need a machine class they can import: {machine.__qualname__} in "
            f"{machine.__module__} is not defined at a module's top level ({exc})"
        ) from None


def run_workers(
    machine: type[Any],
    *,
    workers: int,
    examples: int,
    steps: int,
    seed: int | None,
    database: str,
    progress: Callable[[int, int, str], object] | None = None,
    stop_on_failure: bool = False,
) -> WorkersReport:
    """Run ``machine``'s campaign on ``workers`` processes (module docs).

    Args:
        machine: an ``AmazonPayMachine`` subclass defined at a module's top level.
        workers: how many processes (at least 1).
        examples: the campaign's histories in all, shared among the workers.
        steps: the most steps a history has.
        seed: worker ``i`` runs seed ``seed + i`` (a random ``seed`` when None).
        database: the example database's spec (``open_database``); not ``:memory:``,
            which workers cannot share.
        progress: called as ``progress(done, examples, note)`` as histories end.
        stop_on_failure: when a worker reports a failure, stop the others before their
            next history (their reports say ``stopped``); by default they go on, and may
            find other failures.

    Raises:
        ValueError: bad counts, an in-memory database, or a machine workers cannot import.
        DatabaseError: the database cannot be opened (checked before any worker starts).

    A Ctrl-C stops the workers and returns what they did, ``interrupted`` set.
    """
    if workers < 1 or examples < workers or steps < 1:
        raise ValueError(
            f"workers={workers}, examples={examples}, steps={steps}: need at least one "
            "worker, one step, and as many histories as workers"
        )
    if database == MEMORY:
        raise ValueError(
            f"{MEMORY} cannot be shared by worker processes: give a directory or redis://"
        )
    _check_importable(machine)
    open_database(database)  # a bad spec or an unreachable redis fails here, once
    base = random.randrange(2**32) if seed is None else seed
    traces = trace_directory(machine.trace_dir)
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    stop = context.Event()
    share = shares(examples, workers)
    processes = [
        context.Process(
            target=_work,
            args=(
                machine,
                i,
                base + i,
                share[i],
                steps,
                database,
                str(Path(traces) / f"worker-{i}"),
                messages,
                stop,
            ),
            name=f"apfsm-fuzz-worker-{i}",
            daemon=True,
        )
        for i in range(workers)
    ]
    started = time.perf_counter()
    done = [0] * workers
    reports: dict[int, WorkerReport] = {}
    errors: dict[int, str] = {}
    interrupted = False
    _start(processes)
    try:
        while len(reports) + len(errors) < workers:
            try:
                kind, worker, payload = messages.get(timeout=0.5)
            except queue.Empty:
                _check_alive(processes, reports, errors)
                continue
            except KeyboardInterrupt:
                interrupted = True
                stop.set()
                break
            if kind == "progress":
                done[worker] = payload
            elif kind == "done":
                reports[worker] = WorkerReport(
                    worker, base + worker, payload, time.perf_counter() - started
                )
                done[worker] = share[worker]
                if stop_on_failure and not payload.ok:
                    stop.set()
            else:
                errors[worker] = payload
                stop.set()
            if progress is not None:
                failed = sum(not r.report.ok for r in reports.values())
                progress(sum(done), examples, f"{failed} failed" if failed else "")
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    if interrupted:
        _collect(messages, processes, reports, errors, base, started)
    for process in processes:
        process.join(timeout=_GRACE)
        if process.is_alive():
            process.terminate()
            process.join()
    if errors and not interrupted:
        worker, message = min(errors.items())
        raise RuntimeError(f"fuzz worker {worker} failed: {message}")
    return WorkersReport(
        workers=tuple(sorted(reports.values(), key=lambda w: w.worker)),
        database=database,
        seconds=time.perf_counter() - started,
        interrupted=interrupted,
    )


def _check_alive(
    processes: Sequence[Any], reports: dict[int, WorkerReport], errors: dict[int, str]
) -> None:
    for i, process in enumerate(processes):
        if i not in reports and i not in errors and not process.is_alive():
            errors[i] = f"the process ended with exit code {process.exitcode} and no report"


def _collect(
    messages: Any,
    processes: Sequence[Any],
    reports: dict[int, WorkerReport],
    errors: dict[int, str],
    base: int,
    started: float,
) -> None:
    """After a Ctrl-C: the stopped workers' reports, each within the grace period; a
    second Ctrl-C gives up waiting."""
    deadline = time.perf_counter() + _GRACE
    try:
        while len(reports) + len(errors) < len(processes) and time.perf_counter() < deadline:
            try:
                kind, worker, payload = messages.get(timeout=0.2)
            except queue.Empty:
                _check_alive(processes, reports, errors)
                continue
            if kind == "done":
                ended = time.perf_counter() - started
                reports[worker] = WorkerReport(worker, base + worker, payload, ended)
            elif kind == "error":
                errors[worker] = payload
    except KeyboardInterrupt:
        pass
    for process in processes:
        if process.is_alive() and time.perf_counter() >= deadline:
            process.terminate()
