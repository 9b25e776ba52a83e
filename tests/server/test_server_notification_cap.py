"""The notification cap (issue 16, retention): ``--max-notifications`` drops the oldest,
``GET /_apfsm/notifications?since=N`` stays absolute, the answer counts the dropped ones,
snapshots and state files carry the count (and survive a restart); the IPN notifier's
failed deliveries are bounded; a whole-state replacement (reset, snapshot load) does not
hold the lock while it writes the new state file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm.server import create_app
from apfsm.server._ipn import _Notifier
from apfsm.server._wire import MAX_FAILED_DELIVERIES
from tests.simhelpers import make_sim

from .test_server import Api, checkout

HEADER = "x-apfsm-notifications-dropped"


def _notes(client: TestClient, since: int = 0) -> tuple[int, list[dict[str, Any]]]:
    answer = client.get(f"/_apfsm/notifications?since={since}")
    assert 200 == answer.status_code
    return int(answer.headers[HEADER]), answer.json()


def _all_ids(app: Any) -> list[str]:
    return [n["NotificationId"] for n in app.state.simulator.notifications]


def test_the_oldest_notifications_are_dropped_and_since_stays_absolute() -> None:
    reference = create_app(make_sim(seed="n"), max_notifications=None)
    capped = create_app(make_sim(seed="n"), max_notifications=5)
    for app in (reference, capped):
        api = Api(TestClient(app))
        for _ in range(6):
            checkout(api)
    everything = reference.state.simulator.notifications
    assert len(everything) > 5
    client = TestClient(capped)
    dropped, kept = _notes(client)
    assert len(everything) - len(kept) == dropped > 0
    assert len(kept) <= 5
    assert everything[dropped:] == kept  # the newest, in order
    # ?since=N counts every notification ever sent: the same N, the same answer.
    for since in (0, dropped - 1, dropped, dropped + 1, len(everything), len(everything) + 9):
        assert (dropped, everything[max(since, dropped) :]) == _notes(client, since)
    assert (0, everything) == _notes(TestClient(reference))


def test_the_cap_is_100000_by_default_and_validated() -> None:
    sim = create_app().state.simulator
    assert 100_000 == sim._store.max_notifications
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="max_notifications"):
            create_app(max_notifications=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="notifications"):
        make_sim().retain(notifications=0)


def test_the_dropped_count_is_in_snapshots_and_checked_on_load() -> None:
    sim = make_sim(seed="s")
    sim.retain(notifications=3)
    api_app = create_app(sim, max_notifications=3)
    api = Api(TestClient(api_app))
    for _ in range(4):
        checkout(api)
    snapshot = api_app.state.simulator.snapshot()
    assert snapshot["notificationsDropped"] == api_app.state.simulator.notifications_dropped > 0
    restored = Simulator.restore(snapshot)
    assert snapshot["notificationsDropped"] == restored.notifications_dropped
    client = TestClient(create_app(make_sim()))
    for bad in (-1, "3", True, 1.5):
        answer = client.put("/_apfsm/snapshot", json={**snapshot, "notificationsDropped": bad})
        assert 400 == answer.status_code, bad
        assert "notificationsDropped" in answer.json()["message"]
    assert 200 == client.put("/_apfsm/snapshot", json=snapshot).status_code
    assert snapshot["notificationsDropped"] == _notes(client)[0]


@pytest.mark.parametrize("checkpoint_every", [1, 7])
def test_a_restart_keeps_the_cap_and_the_numbers(tmp_path: Path, checkpoint_every: int) -> None:
    reference = create_app(make_sim(seed="r"), max_notifications=4)
    path = tmp_path / "state.db"
    app = create_app(
        make_sim(seed="r"), state=path, checkpoint_every=checkpoint_every, max_notifications=4
    )
    for served in (reference, app):
        api = Api(TestClient(served))
        for _ in range(7):
            checkout(api)
    # No shutdown: a crash. The restart holds what the first run held, numbered alike.
    restarted = create_app(state=path, max_notifications=4)
    expected = _notes(TestClient(reference), 3)
    assert expected[0] > 0
    assert expected == _notes(TestClient(restarted), 3)
    assert reference.state.simulator.snapshot() == restarted.state.simulator.snapshot()
    # And it goes on numbering from there (with keys not used before).
    for served in (restarted, reference):
        api = Api(TestClient(served))
        api.keys = 1000
        checkout(api)
    assert _all_ids(reference) == _all_ids(restarted)


def test_failed_deliveries_are_bounded() -> None:
    notifier = _Notifier("http://127.0.0.1:9/", 1, 0.0)
    for n in range(MAX_FAILED_DELIVERIES + 10):
        notifier.failed.append({"MessageId": str(n)})
    assert MAX_FAILED_DELIVERIES == len(notifier.failed)
    assert str(MAX_FAILED_DELIVERIES + 9) == notifier.failed[-1]["MessageId"]
    assert "10" == notifier.failed[0]["MessageId"]


@pytest.mark.parametrize("how", ["reset", "load"])
def test_a_whole_state_replacement_does_not_block_calls(tmp_path: Path, how: str) -> None:
    """While the new state file is written (held here, mid-write, by an event), a GET is
    answered; once the write is let go, the new state is served and survives a restart."""
    import apfsm.server._durable as durable_module

    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="w"), state=path)
    client = TestClient(app)
    api = Api(client)
    done = checkout(api)
    snapshot = app.state.simulator.snapshot()
    writing, release = threading.Event(), threading.Event()
    original = durable_module._write_new

    def held(target: Path, simulator: Simulator) -> None:
        original(target, simulator)
        writing.set()
        assert release.wait(30)

    answers: list[int] = []

    def replace() -> None:
        if how == "reset":
            answers.append(client.post("/_apfsm/reset", json={}).status_code)
        else:
            answers.append(client.put("/_apfsm/snapshot", json=snapshot).status_code)

    durable_module._write_new = held  # type: ignore[assignment]
    try:
        worker = threading.Thread(target=replace)
        worker.start()
        assert writing.wait(30)
        # The new file is written but not switched to: calls are answered, on the old state.
        status, _ = api("GET", f"/checkoutSessions/{done['checkoutSessionId']}")
        assert 200 == status
        release.set()
        worker.join(30)
    finally:
        durable_module._write_new = original
        release.set()
    assert [200] == answers
    expected = 0 if how == "reset" else len(snapshot["objects"])
    assert expected == len(app.state.simulator)
    assert expected == len(create_app(state=path).state.simulator)
    assert not list(tmp_path.glob("*.replacing*"))


def test_a_kill_during_a_replacement_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """A crash while the new file is written (held here, complete but not renamed in)
    leaves the old file whole, with the call acknowledged meanwhile; the leftover
    ``.replacing`` file is not read. A crash after the rename leaves the new state."""
    import shutil

    import apfsm.server._durable as durable_module

    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="k"), state=path)
    client = TestClient(app)
    api = Api(client)
    before = checkout(api)["checkoutSessionId"]
    writing, release = threading.Event(), threading.Event()
    original = durable_module._write_new

    def held(target: Path, simulator: Simulator) -> None:
        original(target, simulator)
        writing.set()
        assert release.wait(30)

    def crash_copy(name: str) -> Path:
        """What a ``kill -9`` leaves now: the files as they are (no write is under way)."""
        copy = tmp_path / name
        copy.mkdir()
        for file in tmp_path.glob("state.db*"):
            shutil.copy(file, copy / file.name)
        return copy / "state.db"

    answers: list[int] = []
    durable_module._write_new = held  # type: ignore[assignment]
    try:
        worker = threading.Thread(
            target=lambda: answers.append(client.post("/_apfsm/reset", json={}).status_code)
        )
        worker.start()
        assert writing.wait(30)
        meanwhile = checkout(api)["checkoutSessionId"]  # acknowledged during the write
        crashed = crash_copy("mid")
        release.set()
        worker.join(30)
    finally:
        durable_module._write_new = original
        release.set()
    assert (tmp_path / "mid" / "state.db.replacing").exists()
    old = create_app(state=crashed).state.simulator
    assert {before, meanwhile} <= _ids(old)
    # After the rename: the new (reset) state, and a call answered on it.
    assert [200] == answers
    after = checkout(api)["checkoutSessionId"]
    new = create_app(state=crash_copy("after")).state.simulator
    ids = _ids(new)
    assert after in ids
    assert before not in ids
    assert meanwhile not in ids


def _ids(simulator: Simulator) -> set[str]:
    return {o["id"] for o in simulator.snapshot(log=False)["objects"]}
