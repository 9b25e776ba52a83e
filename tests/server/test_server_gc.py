"""``create_app(gc_freeze=True)`` (``apfsm serve``): a served state is kept out of the
garbage collector's full collections (issue 16: a full collection walked every object,
0.9 s at 500,000 objects), and a replaced state is still freed.

Counted, not timed: a frozen object is one that ``gc.get_objects()`` (what a collection
walks) no longer lists. The threshold is set to 0 s here so that every full collection
counts as slow; the benchmark (``benchmarks/server_state.py``) measures the pauses.
"""

from __future__ import annotations

import gc
import io
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm.server import _run, create_app, serve
from apfsm.server._heap import FREEZE_AFTER, _heap_freezer, _HeapFreezer
from tests.simhelpers import make_sim, session_body


def filled(objects: int) -> Simulator:
    sim = make_sim(seed="gc")
    for _ in range(objects):
        sim.create_checkout_session(session_body())
    return sim


def walked(*objects: object) -> set[int]:
    """Which of ``objects`` (by id) a collection would walk."""
    wanted = {id(o) for o in objects}
    return {id(o) for o in gc.get_objects() if id(o) in wanted}


def records(sim: Simulator) -> list[Any]:
    return list(sim._store.objects.values())


@pytest.fixture
def freezer(monkeypatch: pytest.MonkeyPatch) -> Iterator[_HeapFreezer]:
    """The process's freezer, every full collection slow enough; uninstalled after."""
    heap = _heap_freezer()
    monkeypatch.setattr(heap, "freeze_after", 0.0)
    try:
        yield heap
    finally:
        heap.uninstall()
        gc.collect()


def test_a_slow_full_collection_freezes_what_survived(freezer: _HeapFreezer) -> None:
    sim = filled(50)
    freezer.install()
    assert walked(*records(sim))  # young: walked
    before = freezer.freezes
    gc.collect()
    assert before + 1 == freezer.freezes
    assert set() == walked(sim, sim._store.objects, *records(sim))
    assert gc.get_freeze_count() > 0


def test_a_quick_full_collection_freezes_nothing() -> None:
    heap = _HeapFreezer(freeze_after=3600.0)
    heap.install()
    try:
        sim = filled(20)
        gc.collect()
        assert 0 == heap.freezes
        assert 0 == gc.get_freeze_count()
        assert len(records(sim)) == len(walked(*records(sim)))
    finally:
        heap.uninstall()


def test_the_default_threshold_is_20_ms() -> None:
    # docs/server.md "Latency as the state grows": a full collection stays near this.
    assert 0.020 == FREEZE_AFTER == _heap_freezer().freeze_after


def test_create_app_freezes_the_state_it_serves(freezer: _HeapFreezer) -> None:
    sim = filled(50)
    create_app(sim, gc_freeze=True)
    assert freezer.installed
    assert set() == walked(sim, *records(sim))


def test_create_app_freezes_nothing_by_default() -> None:
    # A test process's fixtures build many apps: a process-wide freeze is opt-in.
    assert not _heap_freezer().installed
    sim = filled(20)
    create_app(sim)
    gc.collect()
    assert not _heap_freezer().installed
    assert 0 == gc.get_freeze_count()
    assert len(records(sim)) == len(walked(*records(sim)))


def test_a_reset_frees_the_frozen_state(freezer: _HeapFreezer) -> None:
    # A simulator holds reference cycles (its parts keep its bound methods): frozen and
    # then dropped, it would never be freed if the replacement did not unfreeze.
    old = filled(50)
    app = create_app(old, gc_freeze=True)
    assert set() == walked(old)
    gone = weakref.ref(old)
    del old
    with TestClient(app) as client:
        assert 200 == client.post("/_apfsm/reset").status_code
        assert gone() is None
        assert 0 == len(app.state.simulator)


def test_a_replaced_state_still_referred_to_is_not_frozen(freezer: _HeapFreezer) -> None:
    # A call that took the simulator just before a reset still holds it: frozen then, it
    # would never be freed once that call lets go.
    held = filled(30)
    app = create_app(held, gc_freeze=True)
    gone = weakref.ref(held)
    with TestClient(app) as client:
        assert 200 == client.post("/_apfsm/reset").status_code
        assert gone() is held
        assert walked(held)  # not frozen: the next collections still walk it
        del held
        gc.collect()
        assert gone() is None


def test_a_snapshot_load_frees_the_old_state_and_freezes_the_new(
    freezer: _HeapFreezer,
) -> None:
    old = filled(30)
    snapshot = filled(40).snapshot()
    app = create_app(old, gc_freeze=True)
    gone = weakref.ref(old)
    del old
    with TestClient(app) as client:
        assert 200 == client.put("/_apfsm/snapshot", json=snapshot).status_code
        assert gone() is None
        served: Simulator = app.state.simulator
        assert 40 == len(served)
        assert set() == walked(served, *records(served))


def test_a_durable_server_freezes_too(freezer: _HeapFreezer, tmp_path: Any) -> None:
    create_app(filled(30), state=tmp_path / "state.db", gc_freeze=True)
    app = create_app(state=tmp_path / "again.db", gc_freeze=True)
    with TestClient(app) as client:
        created = client.post(
            "/v2/checkoutSessions",
            json=session_body(),
            headers={"x-amz-pay-idempotency-key": "k"},
        )
        assert 201 == created.status_code
    gc.collect()
    served: Simulator = app.state.simulator
    assert set() == walked(served, *records(served))


def test_apfsm_serve_freezes(monkeypatch: pytest.MonkeyPatch) -> None:
    """``apfsm serve`` owns its process: it serves with ``gc_freeze=True``."""
    given: dict[str, Any] = {}

    class Stop(Exception):
        pass

    def app(*args: Any, **kwargs: Any) -> Any:
        given.update(kwargs)
        raise Stop

    monkeypatch.setattr(_run, "create_app", app)
    with pytest.raises(Stop):
        serve(port=0, out=io.StringIO())
    assert given["gc_freeze"] is True
