"""A crash campaign (issue 16 item 6), behind ``APFSM_RELIABILITY=1``: cycles of
``apfsm serve --state`` under four clients running whole checkouts (create, approve,
complete, capture, sometimes refund or cancel), killed with ``SIGKILL`` at a random moment,
restarted on the same file — every object acknowledged is there, in the state its last
acknowledged answer gave (or one step on, when a call on it was in flight at the kill:
committed, its answer lost), and its idempotency keys replay. The one-cycle version runs
in every suite: tests/server/test_server_state.py."""

from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.server.serverhelpers import price, session_body
from tests.server.test_server_clients import serve
from tests.simhelpers import state

pytestmark = pytest.mark.skipif(
    os.environ.get("APFSM_RELIABILITY") != "1", reason="long: set APFSM_RELIABILITY=1"
)
CYCLES = int(os.environ.get("APFSM_CRASH_CYCLES", "8"))
CLIENTS = 4


class Ledger:
    """What the clients were told: each object's last acknowledged state, the objects a
    call was in flight on, and one replayable (key, path, body, id) per created object."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[str, tuple[str, str]] = {}  # id -> (kind, state)
        self.in_flight: set[str] = set()
        self.replays: list[tuple[str, str, dict[str, object], str]] = []


def _client(url: str, ledger: Ledger, tag: str, stop: threading.Event) -> None:
    client = httpx2.Client(base_url=url, timeout=30)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            key = f"{tag}-{n}"

            def post(
                path: str, body: dict[str, object], k: str, watch: str | None
            ) -> dict[str, Any]:
                if watch:
                    with ledger.lock:
                        ledger.in_flight.add(watch)
                answer = client.post(
                    f"/v2{path}", json=body, headers={"x-amz-pay-idempotency-key": k}
                )
                assert answer.status_code in (200, 201, 202), answer.text
                return dict(answer.json())

            body = session_body("30.00")
            sid = post("/checkoutSessions", body, f"{key}-s", None)["checkoutSessionId"]
            with ledger.lock:
                ledger.acked[sid] = ("checkoutSessions", "Open")
                ledger.replays.append((f"{key}-s", "/checkoutSessions", body, sid))
            if n % 5 == 0:
                ledger.in_flight.add(sid)
                client.post("/_apfsm/buyer/cancel", json={"checkoutSessionId": sid})
                with ledger.lock:
                    ledger.acked[sid] = ("checkoutSessions", "Canceled")
                    ledger.in_flight.discard(sid)
                continue
            ledger.in_flight.add(sid)
            client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
            done = post(
                f"/checkoutSessions/{sid}/complete",
                {"chargeAmount": price("30.00")},
                f"{key}-c",
                sid,
            )
            charge = done["chargeId"]
            with ledger.lock:
                ledger.acked[sid] = ("checkoutSessions", "Completed")
                ledger.in_flight.discard(sid)
                ledger.acked[charge] = ("charges", "Authorized")
            captured = post(
                f"/charges/{charge}/capture",
                {"captureAmount": price("30.00"), "softDescriptor": "apfsm"},
                f"{key}-p",
                charge,
            )
            with ledger.lock:
                ledger.acked[charge] = ("charges", state(captured))
                ledger.in_flight.discard(charge)
    except (httpx2.TransportError, AssertionError):
        return  # the server was killed mid-call
    finally:
        client.close()


def test_repeated_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ledger = Ledger()
    rng = random.Random(16)
    for cycle in range(CYCLES):
        with serve("--state", str(path), "--seed", "campaign") as (url, process):
            if cycle:
                _verify(url, ledger)
            stop = threading.Event()
            clients = [
                threading.Thread(target=_client, args=(url, ledger, f"c{cycle}-{t}", stop))
                for t in range(CLIENTS)
            ]
            for thread in clients:
                thread.start()
            stop.wait(rng.uniform(0.5, 3.0))
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            stop.set()
            for thread in clients:
                thread.join(60)
    with serve("--state", str(path), "--seed", "campaign") as (url, _):
        _verify(url, ledger)
    assert len(ledger.acked) > CYCLES * 10
    print(f"crash campaign: {CYCLES} kill -9 cycles, {len(ledger.acked)} objects acknowledged")


def _verify(url: str, ledger: Ledger) -> None:
    with httpx2.Client(base_url=url, timeout=30) as client:
        for object_id, (kind, expected) in ledger.acked.items():
            answer = client.get(f"/v2/{kind}/{object_id}")
            assert 200 == answer.status_code, (object_id, answer.text)
            if object_id in ledger.in_flight:  # committed or not: what it is now counts
                ledger.acked[object_id] = (kind, state(answer.json()))
            else:
                assert expected == state(answer.json()), object_id
        for key, route, body, object_id in ledger.replays[-20:]:
            replay = client.post(
                f"/v2{route}", json=body, headers={"x-amz-pay-idempotency-key": key}
            )
            assert object_id == replay.json()["checkoutSessionId"], key
    ledger.in_flight.clear()
