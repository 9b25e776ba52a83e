"""The Reports API in a ``--state`` file (issue 16, schema 4): its reports, schedules and
keys a row each, a checkpoint writing those changed (not the whole book, as schema 3
did in the head's JSON), and all of it surviving a restart — after a ``kill -9`` too —
and a schema-3 file migrating in place."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from apfsm.server import create_app
from apfsm.server._durable import SCHEMA_VERSION
from tests.simhelpers import make_sim

from .test_server import Api
from .test_server_clients import serve
from .test_server_state import _state_of

AUTH = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
WINDOW = {"reportType": AUTH, "startTime": "20000101T000000Z", "endTime": "20990101T000000Z"}
DAILY = {"reportType": AUTH, "scheduleFrequency": "P1D"}


def test_a_checkpoint_after_one_more_report_writes_one_report_row(tmp_path: Path) -> None:
    app = create_app(make_sim(), state=tmp_path / "state.db", checkpoint_every=100_000)
    api = Api(TestClient(app))
    for _ in range(500):
        api("POST", "/reports", WINDOW)
    durable, simulator = _state_of(app).durable, app.state.simulator
    durable.checkpoint(simulator)
    statements: list[str] = []
    durable._db.set_trace_callback(statements.append)
    api("POST", "/reports", WINDOW)
    durable.checkpoint(simulator)
    durable._db.set_trace_callback(None)
    # A report row holds its status: the new report's, once (schema 3: the whole book,
    # 501 reports, in the head's JSON).
    assert 1 == sum(text.count("IN_PROGRESS") for text in statements)
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert 501 == db.execute("SELECT count(*) FROM reports").fetchone()[0]
        head = json.loads(db.execute("SELECT snapshot FROM head").fetchone()[0])
    assert {"next": 501} == head["reports"]


def _workload(api: Api) -> None:
    """Reports made, finished, failed, retried with their keys, schedules made,
    replaced, cancelled and run, keys forgotten by the cap."""
    for n in range(8):
        api("POST", "/reports", WINDOW, key=f"r-{n % 5}")
        if n == 3:
            api("POST", "/report-schedules", DAILY, key="s-1")
            api.control("/clock/advance", {"seconds": 3600})
        if n == 5:
            api("POST", "/report-schedules?deleteExistingSchedule=true", DAILY, key="s-2")
            api.control("/clock/advance", {"seconds": 2 * 86400})
    _, listed = api("GET", "/report-schedules")
    cancel = f"/report-schedules/{listed['reportSchedules'][0]['reportScheduleId']}"
    assert 200 == api("DELETE", cancel)[0]
    assert 201 == api("POST", "/report-schedules", DAILY)[0]
    api.control("/clock/advance", {"seconds": 86400 + 60})
    api("GET", "/reports")


@pytest.mark.parametrize("checkpoint_every", [1, 4, 10_000])
def test_a_restart_gives_the_same_reports(tmp_path: Path, checkpoint_every: int) -> None:
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="rep"), state=path, checkpoint_every=checkpoint_every)
    _workload(Api(TestClient(app)))  # never shut down: a crash
    expected = app.state.simulator.snapshot()
    assert len(expected["reports"]["reports"]) >= 6
    restarted = create_app(state=path)
    assert expected["reports"] == restarted.state.simulator.snapshot()["reports"]
    # The rest too (the call log aside: reads answered after the last write may be lost).
    assert app.state.simulator.snapshot(log=False) == restarted.state.simulator.snapshot(log=False)
    with TestClient(restarted):
        pass  # a shutdown checkpoint: everything in the rows, nothing to replay
    again = create_app(state=path).state.simulator.snapshot()
    assert expected["reports"] == again["reports"]


def test_a_schema_3_file_is_migrated_in_place(tmp_path: Path) -> None:
    """A file written before the reports had their own tables: the whole book in the
    head's JSON."""
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="rep"), state=path)
    with TestClient(app) as client:
        _workload(Api(client))
    expected = app.state.simulator.snapshot()
    with sqlite3.connect(path) as db:
        head = json.loads(db.execute("SELECT snapshot FROM head").fetchone()[0])
        head["reports"] = expected["reports"]
        db.execute("UPDATE head SET snapshot = ?", (json.dumps(head),))
        for table in ("reports", "report_schedules", "report_keys"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version=3")
    restarted = create_app(state=path).state.simulator.snapshot()
    assert expected["reports"] == restarted["reports"]
    with sqlite3.connect(path) as db:
        assert SCHEMA_VERSION == db.execute("PRAGMA user_version").fetchone()[0]
        count = db.execute("SELECT count(*) FROM reports").fetchone()[0]
        head = json.loads(db.execute("SELECT snapshot FROM head").fetchone()[0])
    assert len(expected["reports"]["reports"]) == count
    assert set(head["reports"]) == {"next"}
    assert expected["reports"] == create_app(state=path).state.simulator.snapshot()["reports"]


def _post(client: httpx2.Client, path: str, body: Any, key: str) -> Any:
    answer = client.post(f"/v2{path}", json=body, headers={"x-amz-pay-idempotency-key": key})
    assert 201 == answer.status_code, answer.text
    return answer.json()


def test_kill_9_loses_no_acknowledged_report(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    args = ("--state", str(path), "--seed", "reports")
    with serve(*args, "--start", "2026-03-02T09:00:00Z") as (url, process):
        client = httpx2.Client(base_url=url)
        made = {f"k-{n}": _post(client, "/reports", WINDOW, f"k-{n}") for n in range(12)}
        schedule = _post(client, "/report-schedules", DAILY, "sched")
        client.close()
        process.send_signal(signal.SIGINT)  # a shutdown checkpoint: the rows written
        process.wait(30)  # 130, as a shell reports an interrupted command
    with sqlite3.connect(path) as db:
        assert 12 == db.execute("SELECT count(*) FROM reports").fetchone()[0]
    with serve(*args) as (url, process):  # then changes in the journal alone, and a kill
        client = httpx2.Client(base_url=url)
        client.post("/_apfsm/clock/advance", json={"seconds": 86400 + 60})
        made["late"] = _post(client, "/reports", WINDOW, "late")  # still IN_PROGRESS
        acked = {key: client.get(f"/v2/reports/{made[key]['reportId']}").json() for key in made}
        listed = client.get("/v2/reports").json()["reports"]
        shown = client.get(f"/v2/report-schedules/{schedule['reportScheduleId']}").json()
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        client.close()
    assert {"COMPLETED", "CANCELLED"} & {r["processingStatus"] for r in acked.values()}
    assert "IN_PROGRESS" == acked["late"]["processingStatus"]
    with serve(*args) as (url, _):
        client = httpx2.Client(base_url=url)
        for key, report in acked.items():
            assert report == client.get(f"/v2/reports/{report['reportId']}").json(), key
        assert listed == client.get("/v2/reports").json()["reports"]  # the schedule's too
        assert shown == client.get(f"/v2/report-schedules/{shown['reportScheduleId']}").json()
        for key, first in made.items():  # replayed: the first answer, nothing made
            assert first == _post(client, "/reports", WINDOW, key)
        assert schedule == _post(client, "/report-schedules", DAILY, "sched")
        assert len(listed) == len(client.get("/v2/reports").json()["reports"])
        client.close()


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("reports", "json", "{nope"),  # not JSON
        ("reports", "json", '["1", "_NO_SUCH_TYPE_"]'),  # not a report
        ("report_keys", "key", "no-operation"),  # no "operation key"
    ],
)
def test_a_damaged_report_row_is_refused(
    tmp_path: Path, table: str, column: str, value: str
) -> None:
    path = tmp_path / "state.db"
    with TestClient(create_app(make_sim(), state=path)) as client:
        Api(client)("POST", "/reports", WINDOW, key="k-1")
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
    before = path.read_bytes()
    with pytest.raises(ValueError, match="holds an unreadable checkpoint"):
        create_app(state=path)
    assert before == path.read_bytes()  # left alone
