"""Idempotency keys per operation over HTTP and in ``--state`` files.

Amazon's live-sandbox test in its Node SDK, amzn/amazon-pay-api-sdk-nodejs
``tst/webStoreClientTest.js``, sends one ``headers`` object — one
``x-amz-pay-idempotency-key`` — on createCheckoutSession (expects 201), createCharge (201)
and captureCharge (200), then createDispute and contestDispute: keys count per operation.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from apfsm.server import create_app
from apfsm.server._durable import SCHEMA_VERSION
from tests.simhelpers import make_sim, price, session_body

from .test_server import Api, checkout, error

KEY = "3f1c0b2a9d8e7f6a5b4c3d2e1f0a9b8c"


def _calls(api: Api) -> dict[str, Any]:
    """One key on a session, a charge and its capture; returns the charge's body."""
    assert 201 == api("POST", "/checkoutSessions", session_body(), key=KEY)[0]
    permission = checkout(api, intent="Confirm")["chargePermissionId"]
    body = {"chargePermissionId": permission, "chargeAmount": price("10.00")}
    status, charge = api("POST", "/charges", body, key=KEY)
    assert 201 == status
    capture = {"captureAmount": price("10.00")}
    assert 200 == api("POST", f"/charges/{charge['chargeId']}/capture", capture, key=KEY)[0]
    return body


def test_one_key_on_every_operation_over_http() -> None:
    api = Api(TestClient(create_app(make_sim())))
    body = _calls(api)
    status, again = api("POST", "/charges", body, key=KEY)
    assert 201 == status  # the first answer again
    other = {**body, "chargeAmount": price("9.00")}
    assert (400, "DuplicateIdempotencyKey") == error(*api("POST", "/charges", other, key=KEY))
    assert again["chargeId"] == api("POST", "/charges", body, key=KEY)[1]["chargeId"]


def test_a_restart_keeps_each_operations_key(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(make_sim(), state=path)
    api = Api(TestClient(app))
    body = _calls(api)
    charge = api("POST", "/charges", body, key=KEY)[1]
    expected = app.state.simulator.snapshot()
    restarted = create_app(state=path)  # no shutdown: a crash, the journal replayed
    assert expected["idempotency"] == restarted.state.simulator.snapshot()["idempotency"]
    api = Api(TestClient(restarted))
    assert (201, charge) == api("POST", "/charges", body, key=KEY)
    with TestClient(restarted):
        pass  # a shutdown checkpoint: the keys as rows
    rows = {r[0] for r in sqlite3.connect(path).execute("SELECT key FROM keys")}
    assert {f"create_checkout_session {KEY}", f"create_charge {KEY}"} <= rows
    assert f"capture_charge {KEY}" in rows


def test_a_schema_2_file_is_read_per_operation_and_migrated(tmp_path: Path) -> None:
    """A file written before keys counted per operation: its head a version-1 snapshot,
    a ``keys`` row per key; each key goes to the operation of its first request."""
    path = tmp_path / "state.db"
    app = create_app(make_sim(), state=path)
    api = Api(TestClient(app))
    with TestClient(app):
        api("POST", "/checkoutSessions", session_body(), key="old-session")
    expected = app.state.simulator.snapshot()
    with sqlite3.connect(path) as db:
        head = json.loads(db.execute("SELECT snapshot FROM head").fetchone()[0])
        db.execute("UPDATE head SET snapshot = ?", (json.dumps({**head, "version": 1}),))
        rows = [json.loads(r[0]) for r in db.execute("SELECT json FROM keys")]
        db.execute("DELETE FROM keys")
        for row in rows:
            old = {k: v for k, v in row.items() if k not in {"operation", "key"}}
            db.execute("INSERT INTO keys VALUES (?, ?)", (row["key"], json.dumps(old)))
        db.execute("PRAGMA user_version=2")
    restarted = create_app(state=path).state.simulator.snapshot()
    assert expected["idempotency"] == restarted["idempotency"]
    assert "old-session" == restarted["idempotency"][0]["key"]
    with sqlite3.connect(path) as db:
        assert SCHEMA_VERSION == db.execute("PRAGMA user_version").fetchone()[0]
        keys = [r[0] for r in db.execute("SELECT key FROM keys")]
    assert "create_checkout_session old-session" in keys
