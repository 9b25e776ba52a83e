"""``--state`` checkpoints write what changed, and the server's retention caps (issue 16
item 2): bounded call log and idempotency keys, a restart resuming exactly with them, and
schema-1 state files migrated in place."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from apfsm import Simulator
from apfsm._cli.commands import _parser
from apfsm.server import create_app
from apfsm.server import serve as serve_forever
from apfsm.server._durable import SCHEMA_VERSION
from apfsm.server._wire import MAX_CALL_LOG, MAX_IDEMPOTENCY_KEYS, MAX_NOTIFICATIONS
from tests.simhelpers import make_sim, price, serve_with_state, session_body

from .test_server import Api
from .test_server_clients import serve

ROOT = Path(__file__).resolve().parents[2]


def _durable(app: Any) -> Any:
    return app.router.default._state.durable


def _rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_checkpoint_writes_what_changed_not_the_whole_state(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed=2), state=path, checkpoint_every=10**9)
    api = Api(TestClient(app))
    ids = [
        api("POST", "/checkoutSessions", session_body())[1]["checkoutSessionId"] for _ in range(600)
    ]
    durable, sim = _durable(app), app.state.simulator
    durable.checkpoint(sim)
    assert 600 == _rows(path, "objects")
    db = durable._db
    before = db.total_changes
    api("POST", "/checkoutSessions", session_body())
    api("POST", f"/checkoutSessions/{ids[0]}", None)  # not found: nothing changes but the log
    durable.checkpoint(sim)
    # One object, its two timers, its key, the head, the journal's three lines deleted:
    # a handful of rows, not the 600 objects again.
    assert db.total_changes - before < 20
    assert 601 == _rows(path, "objects")
    before = db.total_changes
    durable.checkpoint(sim, full=True)
    assert db.total_changes - before > 1200  # everything, for comparison


def _traffic(api: Api) -> None:
    for n in range(700):
        _, session = api("POST", "/checkoutSessions", session_body(), key=f"t{n}")
        if n % 5 == 0:
            api("GET", f"/checkoutSessions/{session['checkoutSessionId']}")
        if n % 97 == 0:
            api.control("/clock/advance", {"seconds": 7 * 86400})
    api("POST", "/checkoutSessions", session_body(), key="t699")  # replayed
    api("POST", "/checkoutSessions", session_body(), key="t0")  # forgotten: new


@pytest.mark.parametrize("checkpoint_every", [1, 50])
def test_a_restart_with_caps_resumes_exactly(tmp_path: Path, checkpoint_every: int) -> None:
    caps = {"max_call_log": 300, "max_idempotency_keys": 40}
    reference = create_app(make_sim(seed="caps"), **caps)  # type: ignore[arg-type]
    _traffic(Api(TestClient(reference)))
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="caps"), state=path, checkpoint_every=checkpoint_every, **caps)  # type: ignore[arg-type]
    _traffic(Api(TestClient(app)))  # no shutdown: a crash
    restarted = create_app(state=path, **caps).state.simulator  # type: ignore[arg-type]
    expected, actual = reference.state.simulator.snapshot(), restarted.snapshot()
    assert 40 == len(expected["idempotency"])
    assert 300 <= len(expected["log"]) <= 812
    assert expected == actual
    assert _rows(path, "keys") <= 40 + 1


def test_a_restart_forgets_the_keys_the_server_would_forget(tmp_path: Path) -> None:
    """Keys kept by a checkpoint come back in the order they were taken, not sorted by name:
    the journal replayed after it forgets the oldest first, as the server did. (Found by
    test_server_load.py: with two clients' keys interleaved, a restart forgot recent keys
    and kept older ones, so a retried POST ran again after a crash.)"""
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="order"), state=path, max_idempotency_keys=4)
    api = Api(TestClient(app))
    for key in ("b-1", "a-1", "b-2", "a-2"):  # two clients, interleaved
        api("POST", "/checkoutSessions", session_body(), key=key)
    _durable(app).checkpoint(app.state.simulator)
    api("POST", "/checkoutSessions", session_body(), key="c-1")  # journaled: forgets b-1
    served = app.state.simulator.snapshot()
    assert ["a-1", "b-2", "a-2", "c-1"] == [k["key"] for k in served["idempotency"]]
    restarted = create_app(state=path, max_idempotency_keys=4)  # no shutdown: a crash
    assert served == restarted.state.simulator.snapshot()
    # The same request again after the crash: replayed, as the server would have.
    again = Api(TestClient(restarted))("POST", "/checkoutSessions", session_body(), key="a-1")
    assert (201, served["objects"][1]["id"]) == (again[0], again[1]["checkoutSessionId"])


def test_the_server_caps_by_default_and_validates_its_caps() -> None:
    sim = create_app().state.simulator
    assert 100_000 == sim.log.max_records
    for bad in (0, -3, True, 1.5):
        with pytest.raises(ValueError, match="max_call_log"):
            create_app(max_call_log=bad)  # type: ignore[arg-type]
    assert create_app(max_call_log=None).state.simulator.log.max_records is None


#: Each retention cap: its ``create_app``/``serve`` argument, its ``apfsm serve`` option,
#: its default where it is declared (``apfsm.server._wire``), and the name of its rows in
#: docs/server.md's two retention tables.
CAPS = [
    ("max_call_log", "--max-call-log", MAX_CALL_LOG, "the call log"),
    (
        "max_idempotency_keys",
        "--max-idempotency-keys",
        MAX_IDEMPOTENCY_KEYS,
        "idempotency keys and their answers",
    ),
    ("max_notifications", "--max-notifications", MAX_NOTIFICATIONS, "IPN messages"),
]


def _held(sim: Any) -> dict[str, int | None]:
    return {
        "max_call_log": sim.log.max_records,
        "max_idempotency_keys": sim._keys.max_keys,
        "max_notifications": sim._store.max_notifications,
    }


@pytest.mark.parametrize(("argument", "option", "default", "row"), CAPS)
def test_each_cap_has_one_default_everywhere(
    argument: str, option: str, default: int, row: str
) -> None:
    """The default declared once (``apfsm.server._wire``) is the one ``create_app``,
    ``serve`` and ``apfsm serve`` use, the one a server holds, and the one docs/server.md
    and docs/cli.md state (100,000 for each; only two of them were checked, issue 16)."""
    assert default == inspect.signature(create_app).parameters[argument].default
    assert default == inspect.signature(serve_forever).parameters[argument].default
    assert default == _held(create_app().state.simulator)[argument]
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    command = sub.choices["serve"]
    assert default == getattr(command.parse_args([]), argument)
    action = next(a for a in command._actions if option in a.option_strings)
    assert f"(default: {default};" in (action.help or "")
    number = f"{default:,}"
    server_md = (ROOT / "docs" / "server.md").read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in server_md.splitlines() if line.startswith(f"| {row} ")]
    assert 2 == len(rows)  # the retention table and the audit
    assert all(number in cells[1] for cells in rows), rows
    cli_md = " ".join((ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split())
    said = re.search(rf"`{option} N`: [^(]*\(default ([0-9,]+);", cli_md)
    assert said is not None
    assert number == said.group(1)
    if argument == "max_idempotency_keys":  # "a forgotten key is a new key" ... after N
        assert f"only after {number} later keys" in " ".join(server_md.split())


def test_a_reset_keeps_the_caps(tmp_path: Path) -> None:
    app = create_app(make_sim(), max_call_log=500)
    Api(TestClient(app)).control("/reset", {})
    assert 500 == app.state.simulator.log.max_records


def _v1_file(path: Path) -> dict[str, Any]:
    """A schema-1 state file, as apfsm wrote it before incremental checkpoints: one
    compressed snapshot in ``checkpoint``, and a journal line after it."""
    sim = make_sim(seed="v1")
    sim.create_checkout_session(session_body(), idempotency_key="v1-a")
    snapshot = sim.snapshot()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA application_id={0x61706673}")
        db.execute("PRAGMA user_version=1")
        db.executescript(
            "CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER "
            "NOT NULL, snapshot BLOB NOT NULL); CREATE TABLE journal (seq INTEGER PRIMARY "
            "KEY, at TEXT NOT NULL, kind TEXT NOT NULL, args TEXT NOT NULL, body BLOB);"
            "CREATE TABLE ipn (message_id TEXT PRIMARY KEY, envelope TEXT NOT NULL);"
        )
        db.execute(
            "INSERT INTO checkpoint VALUES (1, 1, ?)",
            (zlib.compress(json.dumps(snapshot).encode()),),
        )
        body = json.dumps(session_body()).encode()
        args = json.dumps(["create_checkout_session", None, "v1-b", None])
        db.execute("INSERT INTO journal VALUES (2, ?, 'api', ?, ?)", (snapshot["now"], args, body))
    sim.create_checkout_session(session_body(), idempotency_key="v1-b")
    return sim.snapshot()


def test_a_schema_1_state_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    expected = _v1_file(path)
    app = create_app(state=path)
    assert expected == app.state.simulator.snapshot()
    with sqlite3.connect(path) as db:
        assert SCHEMA_VERSION == db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "checkpoint" not in tables
    assert 2 == _rows(path, "objects")
    assert expected == create_app(state=path).state.simulator.snapshot()


def test_a_damaged_checkpoint_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with TestClient(create_app(make_sim(), state=path)) as client:
        Api(client)("POST", "/checkoutSessions", session_body())
    with sqlite3.connect(path) as db:
        db.execute('UPDATE objects SET json = \'{"type": "Charge"}\'')
    with pytest.raises(ValueError, match="unreadable checkpoint"):
        create_app(state=path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE head SET log_tail = x'00'")
    with pytest.raises(ValueError, match="unreadable checkpoint"):
        create_app(state=path)


def _journaled(path: Path) -> Simulator:
    """A state file whose journal holds commands of several kinds after its checkpoint (no
    shutdown: nothing checkpointed at the end), refusals among them; the simulator that
    ran them."""
    app = create_app(make_sim(seed="journal"), state=path)
    api = Api(TestClient(app))
    _, session = api("POST", "/checkoutSessions", session_body())
    session_id = session["checkoutSessionId"]
    assert 200 == api.control("/buyer/approve", {"checkoutSessionId": session_id})[0]
    # Refused the first time, and again on replay: Amazon's answer, the simulator's.
    body = {"captureAmount": price("1.00")}
    assert 404 == api("POST", "/charges/S01-0000000-0000000-C000000/capture", body)[0]
    assert 404 == api.control("/buyer/cancel", {"checkoutSessionId": "nope"})[0]
    assert 200 == api.control("/clock/advance", {"seconds": 60})[0]
    simulator: Simulator = app.state.simulator
    return simulator


def test_a_journal_with_refused_commands_resumes_exactly(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    before = _journaled(path).snapshot()
    assert 5 <= _rows(path, "journal")
    assert before == create_app(state=path).state.simulator.snapshot()


def test_a_report_row_journaled_before_report_keys_replays(tmp_path: Path) -> None:
    """Report rows were [name, objectId, query] before the Reports API took idempotency
    keys ([..., key] since): an older row is no damage, it replays with no key."""
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="report-row"), state=path)
    body = {
        "reportType": "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_",
        "startTime": "20260301T000000Z",
        "endTime": "20260303T000000Z",
    }
    assert 201 == TestClient(app).post("/v2/reports", json=body).status_code
    before = app.state.simulator.snapshot()
    with sqlite3.connect(path) as db:
        (args,) = db.execute("SELECT args FROM journal WHERE kind = 'report'").fetchone()
        assert 4 == len(json.loads(args))
        db.execute(
            "UPDATE journal SET args = ? WHERE kind = 'report'", (args[: args.rindex(",")] + "]",)
        )
    assert before == create_app(state=path).state.simulator.snapshot()


#: A journal row's damage (SQL on its first row) and what the refusal says of it.
DAMAGED_ROWS = {
    "args not JSON": ("UPDATE journal SET args = '[\"create_checkout' WHERE seq = ?", "not JSON"),
    "args not a list": ("UPDATE journal SET args = '{}' WHERE seq = ?", "not a list of 4"),
    "args of another command": ("UPDATE journal SET args = '[\"x\"]' WHERE seq = ?", "list of 4"),
    "args a blob": ("UPDATE journal SET args = x'00ff' WHERE seq = ?", "not JSON text"),
    "args of a wrong type": (
        "UPDATE journal SET args = '[5, null, \"k\", null]' WHERE seq = ?",
        "argument 0 is not a str",
    ),
    "unknown command": ("UPDATE journal SET kind = 'teleport' WHERE seq = ?", "unknown command"),
    "a blob for a command": ("UPDATE journal SET kind = x'6170' WHERE seq = ?", "command b'ap'"),
    "unknown operation": (
        'UPDATE journal SET args = \'["launch_rocket", null, "k", null]\' WHERE seq = ?',
        "unknown operation 'launch_rocket'",
    ),
    "body not JSON": ("UPDATE journal SET body = x'7b7b' WHERE seq = ?", "body is not JSON"),
    "time not a timestamp": ("UPDATE journal SET at = 'yesterday' WHERE seq = ?", "time"),
    "naive time": ("UPDATE journal SET at = '2026-03-02T09:00:00' WHERE seq = ?", "UTC offset"),
    "clock moved back": (
        "UPDATE journal SET args = '[-60]' WHERE seq = (SELECT max(seq) FROM journal) AND seq >= ?",
        "moves the clock back",
    ),
    "clock moved past the dates": (
        "UPDATE journal SET args = '[1e300]' WHERE seq = (SELECT max(seq) FROM journal) "
        "AND seq >= ?",
        "advances the clock by 1e+300",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED_ROWS))
def test_a_damaged_journal_row_is_refused(tmp_path: Path, damage: str) -> None:
    """Skipped silently before: a restart lost the command and everything after it that
    depended on it, with no word said (issue 16: a damaged file is refused)."""
    path = tmp_path / "state.db"
    _journaled(path)
    sql, message = DAMAGED_ROWS[damage]
    with sqlite3.connect(path) as db:
        first = db.execute("SELECT min(seq) FROM journal").fetchone()[0]
        assert 1 == db.execute(sql, (first,)).rowcount
    before = path.read_bytes()
    with pytest.raises(ValueError, match="damaged journal entry") as refused:
        create_app(state=path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)
    assert before == path.read_bytes()  # left alone, never reset


def test_serve_refuses_a_damaged_journal_row_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    _journaled(path)
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE journal SET kind = 'teleport' WHERE seq = (SELECT max(seq) FROM journal)"
        )
    result = serve_with_state(path)
    assert 2 == result.returncode
    assert "damaged journal entry" in result.stderr
    assert "unknown command 'teleport'" in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_a_directory_as_the_state_file_is_refused_naming_it(tmp_path: Path) -> None:
    """Before, ``apfsm serve`` said only "Is a directory"."""
    folder = tmp_path / "states"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a directory") as refused:
        create_app(state=folder)
    assert str(folder) in str(refused.value)
    result = serve_with_state(folder)
    assert 2 == result.returncode
    assert str(folder) in result.stderr
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_names_the_file_an_os_error_is_about(tmp_path: Path) -> None:
    """A --public-key that is a directory: before, only "Is a directory" was said."""
    result = subprocess.run(
        [sys.executable, "-m", "apfsm", "serve", "--port", "0", "--public-key", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert 2 == result.returncode
    assert result.stderr.startswith("apfsm serve: error: ")
    assert result.stderr.rstrip().endswith(f": {tmp_path}")  # "Is a directory: ..."


@pytest.mark.parametrize("envelope", ["{", "[]", '{"MessageId": "m"}', '{"MessageId": 5}'])
def test_a_damaged_ipn_row_is_refused(tmp_path: Path, envelope: str) -> None:
    """Read when the server starts with --notify-url (deliveries a crash left undone): a row
    that is not an SNS envelope stopped the start with a bare JSON error, or failed the
    delivery thread unseen."""
    path = tmp_path / "state.db"
    _journaled(path)
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO ipn VALUES ('m', ?)", (envelope,))
    with pytest.raises(ValueError, match="damaged IPN row") as refused:
        create_app(state=path, notify_url="http://127.0.0.1:9/ipn")
    assert str(path) in str(refused.value)


def test_an_empty_state_file_is_a_new_state(tmp_path: Path) -> None:
    """0 bytes: what an interrupted creation could leave; documented in docs/server.md
    ("Refusals") as taken for a new state."""
    path = tmp_path / "state.db"
    path.write_bytes(b"")
    app = create_app(make_sim(seed="empty"), state=path)
    assert [] == app.state.simulator.object_ids()
    assert path.read_bytes().startswith(b"SQLite format 3\x00")


def test_serve_takes_the_caps(tmp_path: Path) -> None:
    with (
        serve("--max-call-log", "300", "--max-idempotency-keys", "5") as (url, _),
        httpx2.Client(base_url=url) as client,
    ):
        for _ in range(600):
            client.get("/v2/checkoutSessions/unknown")
        for n in range(8):
            client.post(
                "/v2/checkoutSessions",
                json=session_body(),
                headers={"x-amz-pay-idempotency-key": f"s{n}"},
            )
        log = client.get("/_apfsm/log").json()
        assert 300 <= len(log) <= 812
        assert 608 == log[-1]["seq"]
        first = client.post(
            "/v2/checkoutSessions",
            json=session_body(),
            headers={"x-amz-pay-idempotency-key": "s0"},
        )
        assert 201 == first.status_code  # forgotten (5 kept): a new session
        snapshot = client.get("/_apfsm/snapshot").json()
        assert 9 == len(snapshot["objects"])
        assert 5 == len(snapshot["idempotency"])


def test_a_crash_after_any_command_resumes_exactly(tmp_path: Path) -> None:
    """A checkpoint after every command, and a restart after every command: each restart
    equals the running server (a change a checkpoint missed — a buyer's approval fills the
    session without a state change — would show at the next restart)."""
    path = tmp_path / "state.db"
    app = create_app(make_sim(seed="every"), state=path, checkpoint_every=1)
    api = Api(TestClient(app))
    steps: list[Callable[[], object]] = []
    _, session = api("POST", "/checkoutSessions", session_body(pending=True), key="s")
    sid = session["checkoutSessionId"]
    steps.append(lambda: api.control("/buyer/approve", {"checkoutSessionId": sid}))
    steps.append(
        lambda: api("POST", f"/checkoutSessions/{sid}/complete", {"chargeAmount": price("100.00")})
    )
    steps.append(lambda: api.control("/clock/advance", {"seconds": 60}))
    steps.append(lambda: api.control("/buyer/sign-in", {"scopes": ["name"]}))
    steps.append(lambda: api("PATCH", f"/checkoutSessions/{sid}", {}))
    steps.append(lambda: api.control("/clock/advance", {"days": 31}))
    for step in steps:
        step()
        restarted = create_app(state=path).state.simulator.snapshot(log=False)
        assert app.state.simulator.snapshot(log=False) == restarted
