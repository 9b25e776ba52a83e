"""Races on every POST (issue 16 item 6): many threads send the same request with the same
idempotency key at once, over loopback HTTP, to a server with a state file — one call
runs, the others get its answer again or ``TransactionInProgress`` (SPEC §7), and a restart
from the file (no shutdown: a crash) holds exactly what was answered."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from apfsm import OPERATIONS
from apfsm._harness import realistic_body
from apfsm.server import create_app, running
from tests.simhelpers import make_sim

from .serverhelpers import price, session_body

THREADS = 12
POSTS = sorted(name for name, op in OPERATIONS.items() if op.method == "POST")


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
    assert expected["idempotency"]["race"] == restarted["idempotency"]["race"]
