"""The call log read while calls run (issue 16): every read answers the record asked for,
even while older records are being packed into chunks by the calling thread."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator

import pytest

from apfsm import ApiError
from apfsm._sim.log import CallLog
from tests.simhelpers import make_sim


@pytest.fixture
def fast_switching() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads very often: races show
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def test_reads_while_calls_run_answer_the_record_asked_for(fast_switching: None) -> None:
    sim = make_sim()
    calls = 6 * CallLog.CHUNK  # the writer packs chunks several times
    done = threading.Event()
    wrong: list[str] = []

    def write() -> None:
        for _ in range(calls):
            with contextlib.suppress(ApiError):
                sim.get_charge("S01-0000000-0000000-C000000")
        done.set()

    def read() -> None:
        log = sim.log
        while not done.is_set():
            size = len(log)
            for index in (size - 1, size - CallLog.CHUNK - 1):
                if 0 <= index and log[index].seq != index + 1:
                    wrong.append(f"log[{index}] is record {log[index].seq}")
            start = max(0, size - 2)
            tail = log.since(start)
            if [r.seq for r in tail] != list(range(start + 1, start + 1 + len(tail))):
                wrong.append(f"since({start}) answered {[r.seq for r in tail]}")

    def iterate() -> None:
        while not done.is_set():
            seqs = [r.seq for r in sim.log]
            if seqs != list(range(1, len(seqs) + 1)):
                wrong.append("iteration skipped or repeated records")

    readers = [threading.Thread(target=read), threading.Thread(target=iterate)]
    writer = threading.Thread(target=write)
    for thread in (*readers, writer):
        thread.start()
    writer.join(600)
    done.set()  # stop the readers even if the writer is stuck
    for thread in readers:
        thread.join(60)
    assert not writer.is_alive(), "the writer did not finish in 10 minutes"
    assert [] == wrong[:5]
    assert calls == len(sim.log)


def test_the_control_api_reads_the_log_while_calls_run() -> None:
    from starlette.testclient import TestClient

    from apfsm.server import create_app

    sim = make_sim()
    with TestClient(create_app(sim)) as client:
        done = threading.Event()

        def write() -> None:
            for _ in range(3 * CallLog.CHUNK):
                client.get("/v2/charges/S01-0000000-0000000-C000000")
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        while not done.is_set():
            records = client.get("/_apfsm/log?since=1").json()
            assert [r["seq"] for r in records] == list(range(2, len(records) + 2))
        writer.join(60)
