"""Bounded resources under sustained load (issue 16, items 2 and 6): a durable server on
loopback, with small retention caps, takes a few thousand mixed calls — GETs and POSTs —
from several threads. Counted under the journal's lock after every call and at the end,
what it holds stays within its caps: checkout sessions (deleted 30 days after creation),
the other objects (no more than were created), call-log records, idempotency keys, the
IPN messages kept and the reads journaled but not committed. Every acknowledged POST is
in the state a restart reads back (no shutdown: a crash), and every IPN message emitted
was delivered. Counts, never durations: the machine may be slow."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import attrs
import httpx2

from apfsm import Simulator
from apfsm._sim import CallLog
from apfsm.server import create_app, running
from apfsm.server._durable import MAX_UNCOMMITTED_READS
from tests.simhelpers import make_sim

from .serverhelpers import Receiver, price, receiver, session_body, until

THREADS: Final = 4
#: Rounds of orders; the clock moves 31 days after each, so the round's checkout sessions
#: pass their 30-day retention (Amazon's, docs/server.md "Retention").
ROUNDS: Final = 3
ORDERS: Final = 25  # per thread and round: about 11 calls each
MAX_CALL_LOG: Final = 300
MAX_KEYS: Final = 60
MAX_NOTIFICATIONS: Final = 50
#: The most call-log records kept over the cap: the newest 256 to 511 stay unpacked, and
#: only whole packed chunks of 256 are dropped (``CallLog``, docs/server.md).
LOG_SLACK: Final = 2 * CallLog.CHUNK - 1
UNKNOWN_CHARGE: Final = "S01-0000000-0000000-C000000"


@attrs.define
class _Counts:
    """What the server holds at one instant between two commands."""

    sessions: int
    objects: int
    log: int
    keys: int
    notifications: int
    uncommitted: int
    #: Objects other than sessions whose creation was sent by then (a bound).
    others_sent: int


@attrs.define
class _Load:
    """The clients' shared book: what was sent, acknowledged and counted."""

    app: Any
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    others_sent: int = 0
    #: (kind, id) of every object an acknowledged POST created.
    created: list[tuple[str, str]] = attrs.field(factory=list)
    #: One count after every call, and after each clock move.
    counts: list[_Counts] = attrs.field(factory=list)
    statuses: dict[int, int] = attrs.field(factory=dict)

    def count(self) -> None:
        """Count what the server holds, under the journal's lock (between two commands)."""
        durable = self.app.router.default._state.durable
        with durable.lock:
            sim: Simulator = self.app.state.simulator
            counts = _Counts(
                sessions=len(sim.object_ids("CheckoutSession")),
                objects=len(sim),
                log=len(sim.log),
                keys=len(sim._store.keys),
                notifications=len(sim.notifications),
                uncommitted=len(durable._pending),
                others_sent=0,
            )
        with self.lock:  # read after the objects: it only grows
            counts.others_sent = self.others_sent
            self.counts.append(counts)

    def sent_others(self, n: int) -> None:
        with self.lock:
            self.others_sent += n

    def answered(self, status: int, kind: str | None = None, object_id: str = "") -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if kind is not None and 200 <= status < 300:
                self.created.append((kind, object_id))


class _Client:
    """One thread's calls, each followed by a count of what the server holds."""

    def __init__(self, load: _Load, http: httpx2.Client, name: str) -> None:
        self.load, self.http, self.name = load, http, name
        self.n = 0

    def call(self, method: str, path: str, body: Any = None, *, key: str = "") -> Any:
        headers = {"x-amz-pay-idempotency-key": key} if key else {}
        answer = self.http.request(method, path, json=body, headers=headers)
        self.load.count()
        return answer

    def post(self, path: str, body: Any, kind: str | None = None, id_field: str = "") -> Any:
        self.n += 1
        key = f"{self.name}-{self.n}"
        answer = self.call("POST", f"/v2{path}", body, key=key)
        data = answer.json()
        self.load.answered(answer.status_code, kind, data.get(id_field, ""))
        # The same request again at once: its answer replayed (the key is among the newest
        # MAX_KEYS, its answer among the newest log records).
        again = self.call("POST", f"/v2{path}", body, key=key)
        assert (answer.status_code, data) == (again.status_code, again.json())
        return answer

    def get(self, path: str, expected: int = 200) -> Any:
        answer = self.call("GET", f"/v2{path}")
        self.load.answered(answer.status_code)
        assert expected == answer.status_code, answer.text
        return answer.json()

    def order(self, n: int) -> None:
        """A checkout, charged, captured, read, sometimes refunded; a read of nothing."""
        created = self.post(
            "/checkoutSessions", session_body("40.00"), "session", "checkoutSessionId"
        )
        assert 201 == created.status_code, created.text
        sid = created.json()["checkoutSessionId"]
        self.get(f"/checkoutSessions/{sid}")
        approved = self.call("POST", "/_apfsm/buyer/approve", {"checkoutSessionId": sid})
        assert 200 == approved.status_code, approved.text
        self.load.sent_others(2)  # a Charge Permission and a Charge
        done = self.post(f"/checkoutSessions/{sid}/complete", {"chargeAmount": price("40.00")})
        assert 200 == done.status_code, done.text
        charge_id, permission_id = done.json()["chargeId"], done.json()["chargePermissionId"]
        with self.load.lock:
            self.load.created += [("charge", charge_id), ("permission", permission_id)]
        self.get(f"/chargePermissions/{permission_id}")
        captured = self.post(f"/charges/{charge_id}/capture", {"captureAmount": price("40.00")})
        assert 200 == captured.status_code, captured.text
        if n % 3 == 0:
            self.load.sent_others(1)
            refund = {"chargeId": charge_id, "refundAmount": price("5.00")}
            refunded = self.post("/refunds", refund, "refund", "refundId")
            assert 201 == refunded.status_code, refunded.text
        self.get(f"/charges/{charge_id}")
        self.get(f"/charges/{UNKNOWN_CHARGE}", 404)


def _capped(simulator: Simulator | None = None, **options: Any) -> Any:
    """``create_app`` with this test's caps (a restart needs them too: the journal's
    commands ran with them)."""
    return create_app(
        simulator,
        max_call_log=MAX_CALL_LOG,
        max_idempotency_keys=MAX_KEYS,
        max_notifications=MAX_NOTIFICATIONS,
        **options,
    )


@contextmanager
def _server(path: Path) -> Iterator[tuple[Any, str, Receiver]]:
    with receiver() as inbox:
        app = _capped(make_sim(seed="load"), state=path, checkpoint_every=200, notify_url=inbox.url)
        with running(app) as url:
            yield app, url, inbox


def test_a_durable_server_stays_bounded_under_load(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with _server(path) as (app, url, inbox):
        load = _Load(app)

        def orders(name: str) -> None:
            with httpx2.Client(base_url=url) as http:
                client = _Client(load, http, name)
                for n in range(ORDERS):
                    client.order(n)

        with httpx2.Client(base_url=url) as control:
            for round_ in range(ROUNDS):
                names = [f"r{round_}t{t}" for t in range(THREADS)]
                with ThreadPoolExecutor(THREADS) as pool:
                    list(pool.map(orders, names))  # re-raises a client's failure
                moved = control.post("/_apfsm/clock/advance", json={"days": 31})
                assert 200 == moved.status_code
                load.count()
        sim: Simulator = app.state.simulator
        state = app.router.default._state
        # Every IPN message emitted was delivered, and then forgotten by the state file.
        until(lambda: not state.notifier._queue and not state.durable.ipn_pending())
        delivered = [json.loads(body)["MessageId"] for _, body in inbox.received]
        # Read back from the file while the server still runs: what a crash leaves.
        restarted = _capped(state=path).state.simulator
        expected, actual = sim.snapshot(), restarted.snapshot()

    calls = sim.log.next_seq - 1
    assert calls > 3_000
    assert set(load.statuses) == {200, 201, 404}, load.statuses
    # Each cap was reached, and never passed: after every call and at the end.
    assert calls > MAX_CALL_LOG + LOG_SLACK
    assert sim.notifications_dropped > 0
    assert len(load.counts) >= calls  # one after each call (a clock move is not logged)
    one_round = THREADS * ORDERS  # the sessions of one round; the older ones are deleted
    for counts in load.counts:
        assert counts.sessions <= one_round, counts
        assert counts.objects <= one_round + counts.others_sent, counts
        assert counts.log <= MAX_CALL_LOG + LOG_SLACK, counts
        assert counts.keys <= MAX_KEYS, counts
        assert counts.notifications <= MAX_NOTIFICATIONS, counts
        assert counts.uncommitted < MAX_UNCOMMITTED_READS, counts
    assert max(c.keys for c in load.counts) == MAX_KEYS
    assert max(c.notifications for c in load.counts) == MAX_NOTIFICATIONS
    assert max(c.sessions for c in load.counts) > 0 == load.counts[-1].sessions
    # Every acknowledged create is held — but a session past its 30 days — and a restart
    # holds the same state, its keys in the same order.
    held = set(sim.object_ids())
    kinds = {kind for kind, _ in load.created}
    assert {"session", "charge", "permission", "refund"} == kinds
    assert not {oid for kind, oid in load.created if kind != "session"} - held
    assert not {oid for kind, oid in load.created if kind == "session"} & held
    states: dict[str, set[str | None]] = {kind: set() for kind in kinds}
    for kind, oid in load.created:
        states[kind].add(restarted.object_state(oid))
    # Each capture and refund acknowledged is in the state a restart holds (the refunds
    # settled by the clock's moves).
    assert {"Captured"} == states["charge"]
    assert {"Refunded"} == states["refund"]
    assert expected == actual  # the call log too: the last call was a write
    assert list(expected["idempotency"]) == list(actual["idempotency"])  # the next to forget
    emitted = sim.notifications_dropped + len(sim.notifications)
    assert emitted == len(delivered) == len(set(delivered))
    with sqlite3.connect(path) as db:
        assert 0 == db.execute("SELECT count(*) FROM ipn").fetchone()[0]
