"""Races on every POST (issue 16 item 6): many threads send the same request with the same
idempotency key at once, over loopback HTTP, to a server with a state file — one call
runs, the others get its answer again or ``TransactionInProgress`` (SPEC §7), and a restart
from the file (no shutdown: a crash) holds exactly what was answered."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from apfsm import OPERATIONS
from apfsm._harness import realistic_body
from apfsm.server import create_app, running
from tests.simhelpers import make_sim

from .serverhelpers import price, session_body
from .test_server_reports import AUTH

THREADS = 12
POSTS = sorted(name for name, op in OPERATIONS.items() if op.method == "POST")
ROOT = Path(__file__).resolve().parents[2]


class _Setup:
    """The objects each POST needs, made over HTTP (so the state file journals them)."""

    def __init__(self, client: httpx2.Client) -> None:
        self.client = client
        self.n = 0

    def post(self, path: str, body: Any, code: str | None = None) -> Any:
        self.n += 1
        headers = {"x-amz-pay-idempotency-key": f"setup-{self.n}"}
        answer = self.client.post(f"/v2{path}", json=body, headers=headers)
        assert answer.status_code in (200, 201, 202), answer.text
        return answer.json()

    def session(self, approved: bool = True, kind: str = "OneTime") -> dict[str, Any]:
        session = self.post("/checkoutSessions", session_body("100.00", kind=kind))
        if approved:
            sid = session["checkoutSessionId"]
            answer = self.client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
            assert 200 == answer.status_code
            session = self.client.get(f"/v2/checkoutSessions/{sid}").json()
        return dict(session)

    def completed(self, kind: str = "OneTime") -> dict[str, Any]:
        sid = self.session(kind=kind)["checkoutSessionId"]
        return dict(
            self.post(f"/checkoutSessions/{sid}/complete", {"chargeAmount": price("100.00")})
        )

    def target(self, operation: str) -> tuple[str | None, Any]:
        """(the id in the path, the body) of a call ``operation`` accepts."""
        if operation in ("create_checkout_session", "upload_file"):
            return None, realistic_body(operation)
        if operation in ("complete_checkout_session", "finalize_checkout_session"):
            session = self.session()
            return session["checkoutSessionId"], realistic_body(operation, session)
        # A recurring permission takes more charges than the checkout's (its balance).
        done = self.completed("Recurring" if operation == "create_charge" else "OneTime")
        permission = self.client.get(f"/v2/chargePermissions/{done['chargePermissionId']}").json()
        charge = self.client.get(f"/v2/charges/{done['chargeId']}").json()
        if operation in ("create_charge", "create_delivery_tracker"):
            return None, realistic_body(operation, permission)
        if operation == "capture_charge":
            return charge["chargeId"], realistic_body(operation, charge)
        assert operation in ("create_refund", "create_dispute", "contest_dispute")
        self.post(
            f"/charges/{charge['chargeId']}/capture", realistic_body("capture_charge", charge)
        )
        charge = self.client.get(f"/v2/charges/{done['chargeId']}").json()
        if operation == "contest_dispute":  # a dispute the buyer filed (docs/dispute.md)
            filed = self.client.post("/_apfsm/buyer/dispute", json={"chargeId": charge["chargeId"]})
            return filed.json()["disputeId"], realistic_body(operation, filed.json())
        return None, realistic_body(operation, charge)


@pytest.mark.parametrize("operation", POSTS)
def test_the_same_post_from_many_threads_runs_once(tmp_path: Path, operation: str) -> None:
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed=operation), state=path)
    op = OPERATIONS[operation]
    with running(app) as url:
        with httpx2.Client(base_url=url) as client:
            object_id, body = _Setup(client).target(operation)
        route = "/v2" + op.path.split("{")[0] + (f"{object_id}" if object_id else "")
        route += op.path.split("}", 1)[1] if "}" in op.path else ""
        barrier = threading.Barrier(THREADS)

        def send(_: int) -> tuple[int, Any]:
            with httpx2.Client(base_url=url) as client:
                barrier.wait()  # all at once
                answer = client.post(
                    route, json=body, headers={"x-amz-pay-idempotency-key": "race"}
                )
                return answer.status_code, answer.json()

        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(send, range(THREADS)))
        sim = app.state.simulator
        accepted = {status for status, _ in answers} - {425}
        assert 1 == len(accepted), answers  # the first answer, the same for every thread
        assert accepted <= {op.success_status, 202}, answers
        first = [answer for status, answer in answers if status != 425]
        assert all(answer == first[0] for answer in first)
        ran = [r for r in sim.log if r.operation == operation and r.idempotency_key == "race"]
        assert 1 == sum(1 for r in ran if not r.replayed), ran
        expected = sim.snapshot()
    # ``running`` ended the app gracefully; a crash leaves the same objects (every answer
    # was committed first): test_server_state.py's kill -9 tests show it.
    restarted = create_app(state=path).state.simulator.snapshot()
    assert expected["objects"] == restarted["objects"]
    assert expected["idempotency"] == restarted["idempotency"]


def test_docs_count_the_posts_raced() -> None:
    server_md = " ".join((ROOT / "docs" / "server.md").read_text(encoding="utf-8").split())
    said = re.search(r"\(all (\d+) POST operations of `apfsm.OPERATIONS`", server_md)
    assert said is not None
    assert len(POSTS) == int(said.group(1))


def _reports(client: httpx2.Client) -> list[str]:
    """Every report Get Reports lists (page after page)."""
    ids: list[str] = []
    query: dict[str, Any] = {"reportTypes": AUTH, "pageSize": 100}
    while True:
        answer = client.get("/v2/reports", params=query)
        assert 200 == answer.status_code, answer.text
        ids += [report["reportId"] for report in answer.json()["reports"]]
        if "nextToken" not in answer.json():
            return ids
        query = {"nextToken": answer.json()["nextToken"]}


def test_create_report_from_many_threads_leaves_each_report_once(tmp_path: Path) -> None:
    """Create Report from many threads at once, with no key, a key of its own, or one key
    shared by every thread with the same request: each answer is a 2xx or a 4xx, never a
    5xx, and every report acknowledged is listed exactly once — by the server and by a
    restart from its file — and none that was not. Whatever the Reports API's idempotency
    rules (docs/reports.md: a shared key may replay its first answer, or be refused while
    it runs), these hold; which answer each thread gets is not asserted here."""
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="reports"), state=path)
    rounds = 4
    start = datetime(2000, 1, 1, tzinfo=UTC)

    def body(hours: int) -> dict[str, str]:
        at = (start + timedelta(hours=hours)).strftime("%Y%m%dT%H%M%SZ")
        return {"reportType": AUTH, "startTime": at, "endTime": "20990101T000000Z"}

    with running(app) as url:
        barrier = threading.Barrier(THREADS, timeout=120)  # the bound only guards a hang

        def send(thread: int) -> list[tuple[int, Any]]:
            answers = []
            with httpx2.Client(base_url=url, timeout=120) as client:
                for n in range(rounds):
                    if n % 3 == 0:  # no key
                        headers, request = {}, body(1_000 * thread + n)
                    elif n % 3 == 1:  # a key of its own
                        headers = {"x-amz-pay-idempotency-key": f"own-{thread}-{n}"}
                        request = body(1_000 * thread + n)
                    else:  # one key and one request for every thread
                        headers, request = {"x-amz-pay-idempotency-key": f"shared-{n}"}, body(n)
                    barrier.wait()  # all at once
                    answer = client.post("/v2/reports", json=request, headers=headers)
                    answers.append((answer.status_code, answer.json()))
            return answers

        with ThreadPoolExecutor(THREADS) as pool:
            answers = [a for thread in pool.map(send, range(THREADS)) for a in thread]
        assert THREADS * rounds == len(answers)
        assert all(200 <= status < 500 for status, _ in answers), answers
        acknowledged = {answer["reportId"] for status, answer in answers if status < 300}
        # Every request with no key or its own key was answered 2xx: a new report each.
        assert len(acknowledged) >= THREADS * sum(1 for n in range(rounds) if n % 3 != 2)
        with httpx2.Client(base_url=url) as client:
            listed = _reports(client)
            for report_id in acknowledged:
                assert 200 == client.get(f"/v2/reports/{report_id}").status_code
        # Read back while the server still runs: the file as a crash leaves it (no
        # lifespan: the restart never writes to the file).
        restarted = TestClient(create_app(state=path))
        assert sorted(listed) == sorted(_reports(restarted))
    assert {1} == set(Counter(listed).values())
    assert acknowledged == set(listed)
