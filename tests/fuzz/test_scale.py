"""Scale-out (issue 12 part 5): example databases from a spec, a failure found by one
worker replayed by the others through redis and through a directory, ``apfsm fuzz
--workers``, ``pytest -n N --apfsm-database`` and the default database's place.

The redis tests run against a real ``redis-server`` (Debian's package) started on loopback
on a free port; they are skipped, saying why, only when the binary is missing."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.database import DirectoryBasedExampleDatabase, InMemoryExampleDatabase

from apfsm._cli import main
from apfsm._fuzz import DatabaseError, Executed, open_database, run_campaign, run_workers
from apfsm.stateful import AmazonPayMachine

ROOT = Path(__file__).resolve().parents[2]


class CaptureIsForbidden(AmazonPayMachine):
    """A planted failure: an accepted capture (three steps once shrunk)."""

    def after_step(self, executed: Executed) -> None:
        if executed.step.name == "capture_charge" and executed.error is None:
            raise AssertionError("a capture was accepted")


class CaptureIsForbiddenOnWorkerZero(AmazonPayMachine):
    """The planted failure, only in the worker process numbered 0."""

    def after_step(self, executed: Executed) -> None:
        if multiprocessing.current_process().name != "apfsm-fuzz-worker-0":
            return
        if executed.step.name == "capture_charge" and executed.error is None:
            raise AssertionError("a capture was accepted")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on loopback, its URL base (``redis://127.0.0.1:PORT``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server is not installed, so the redis example database is not tested "
            "(apt-get install redis-server; scripts/test does it when run as root)"
        )
    pytest.importorskip(
        "redis", reason='the redis package is not installed (pip install "apfsm[scale]")'
    )
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """An empty redis database for one test."""
    import redis

    client = redis.Redis.from_url(redis_server + "/0")
    client.flushall()
    client.close()
    return redis_server + "/0"


@pytest.fixture(params=["directory", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A shared database's spec: a directory, or a database on the test's redis-server."""
    if request.param == "directory":
        return str(tmp_path / "examples")
    url: str = request.getfixturevalue("redis_url")
    return url


# -----------------------------------------------------------------------------------------
# Specs
# -----------------------------------------------------------------------------------------


def test_a_spec_names_its_database(tmp_path: Path, redis_url: str) -> None:
    from hypothesis.extra.redis import RedisExampleDatabase

    assert isinstance(open_database(":memory:"), InMemoryExampleDatabase)
    directory = open_database(str(tmp_path / "a" / "b"))
    assert isinstance(directory, DirectoryBasedExampleDatabase)
    assert (tmp_path / "a" / "b").is_dir()
    assert isinstance(open_database(redis_url), RedisExampleDatabase)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "give a directory, redis://host:port/db or :memory:"),
        ("http://example.com/db", "unknown scheme 'http'"),
        ("redis://127.0.0.1:notaport/0", "the port is not a number"),
        ("redis:///0", "no host"),
        ("redis://127.0.0.1:6379/zero", "the database 'zero' is not a number"),
    ],
)
def test_a_bad_spec_says_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        open_database(spec)


def test_a_file_is_not_a_directory_database(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatabaseError, match="not a directory"):
        open_database(str(tmp_path / "file"))


def test_an_unreachable_redis_is_refused_at_once() -> None:
    pytest.importorskip("redis")
    port = _free_port()  # nothing listens there
    with pytest.raises(DatabaseError, match=f"redis at 127.0.0.1:{port} does not answer"):
        open_database(f"redis://127.0.0.1:{port}/0")


def test_a_redis_spec_without_the_scale_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` fails, as uninstalled
    monkeypatch.delitem(sys.modules, "hypothesis.extra.redis", raising=False)
    needs = (
        'a redis example database needs redis, which is not installed: pip install "apfsm[scale]"'
    )
    with pytest.raises(ImportError, match=re.escape(needs)):
        open_database("redis://127.0.0.1:6379/0")
    assert 2 == main(["fuzz", "--examples", "2", "--database", "redis://127.0.0.1:6379/0"])
    err = capsys.readouterr().err
    assert f"apfsm fuzz: error: {needs}" in err
    assert "Traceback" not in err


def test_the_command_line_exits_2_on_a_bad_database(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("redis")
    port = _free_port()
    assert 2 == main(["fuzz", "--examples", "2", "--database", f"redis://127.0.0.1:{port}/0"])
    err = capsys.readouterr().err
    assert "apfsm fuzz: error: example database" in err
    assert "does not answer" in err
    assert "Traceback" not in err
    assert 2 == main(["fuzz", "--examples", "2", "--workers", "2", "--database", ":memory:"])
    assert "cannot be shared by workers" in capsys.readouterr().err


# -----------------------------------------------------------------------------------------
# A failure found by one worker is replayed by the others
# -----------------------------------------------------------------------------------------


def test_a_failure_found_by_worker_a_is_replayed_by_the_others(shared: str) -> None:
    # Worker A: a campaign in this process finds the planted failure and saves it.
    found = run_campaign(
        CaptureIsForbidden,
        examples=200,
        steps=20,
        seed=1,
        progress=None,
        database=open_database(shared),
    )
    assert "AssertionError: a capture was accepted" == found.failure
    assert 0 == found.replayed
    assert found.story is not None
    assert "capture_charge" in found.story
    # Workers B and C: other processes, other seeds, one history each. Hypothesis's first
    # history is the simplest (no step), which cannot capture: they fail because they
    # replayed what A saved.
    again = run_workers(
        CaptureIsForbidden, workers=2, examples=2, steps=20, seed=50, database=shared
    )
    assert 2 == len(again.failures)
    for worker in again.workers:
        assert 1 <= worker.report.replayed
        assert "AssertionError: a capture was accepted" == worker.report.failure
        assert _steps(found.story) == _steps(worker.report.story or "")  # the same history


def _steps(story: str) -> list[str]:
    return [line for line in story.splitlines() if line.startswith("state.")]


# What a fresh process runs: one history of the machine, on the database given.
REPLAYER = """
import json, sys
from apfsm.stateful import fuzz
from tests.fuzz.test_scale import CaptureIsForbidden
report = fuzz(machine=CaptureIsForbidden, examples=1, steps=20, seed=99, database=sys.argv[1])
print(json.dumps({"failure": report.failure, "replayed": report.replayed, "story": report.story}))
"""


def test_a_failure_a_worker_saves_in_redis_is_replayed_first_by_a_fresh_process(
    redis_url: str, tmp_path: Path
) -> None:
    # A campaign of two worker processes finds the failure, saves it in redis and stops.
    found = run_workers(
        CaptureIsForbidden,
        workers=2,
        examples=400,
        steps=20,
        seed=21,
        database=redis_url,
        stop_on_failure=True,
    )
    assert not found.ok
    first = found.failures[0].report
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() > 0  # what was saved lives in redis, not in these processes
    client.close()
    # A fresh process, another seed, one history: Hypothesis's first history is the
    # simplest (no step), which cannot capture, so it fails only by replaying first.
    result = subprocess.run(
        [sys.executable, "-c", REPLAYER, redis_url],
        cwd=tmp_path,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    replayer = json.loads(result.stdout.splitlines()[-1])
    assert 1 <= replayer["replayed"]
    assert "AssertionError: a capture was accepted" == replayer["failure"]
    # A shrunk history that captures (the worker stopped by the first may have saved its
    # own, half-shrunk, so the replayer's shrink may end on another as short).
    steps = _steps(replayer["story"])
    assert any("capture_charge" in step for step in steps), replayer["story"]
    assert len(steps) <= len(_steps(first.story or "")) + 2


def test_a_stopped_campaign_is_stopped_not_failed(tmp_path: Path) -> None:
    # Stopping raises before a history's first draw, where earlier histories drew:
    # Hypothesis answers with FlakyStrategyDefinition, which is the stop, not a failure.
    asked = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 5

    report = run_campaign(
        AmazonPayMachine,
        examples=200,
        steps=20,
        seed=8,
        progress=None,
        database=open_database(str(tmp_path / "db")),
        stop=stop,
    )
    assert report.stopped
    assert report.ok, report.failure
    assert report.examples <= 5


def test_stop_on_failure_stops_the_other_workers(tmp_path: Path) -> None:
    # Only worker 0 can fail; worker 1 would run its 2,000 histories without stopping.
    campaign = run_workers(
        CaptureIsForbiddenOnWorkerZero,
        workers=2,
        examples=4_000,
        steps=20,
        seed=4,
        database=str(tmp_path / "db"),
        stop_on_failure=True,
    )
    zero, one = campaign.workers
    assert "AssertionError: a capture was accepted" == zero.report.failure
    assert one.report.ok
    assert one.report.stopped
    assert one.report.examples < 2_000
    assert not campaign.ok
    assert "worker 1 (seed 5): " in campaign.summary()
    assert "stopped at" in campaign.summary()


def test_without_the_saved_failure_one_history_passes(tmp_path: Path) -> None:
    """The control of the test above: the same short campaign on an empty database."""
    report = run_campaign(
        CaptureIsForbidden,
        examples=1,
        steps=20,
        seed=50,
        progress=None,
        database=open_database(str(tmp_path / "empty")),
    )
    assert report.ok
    assert 0 == report.replayed


def test_workers_need_a_machine_they_can_import(tmp_path: Path) -> None:
    class Local(AmazonPayMachine):
        pass

    with pytest.raises(ValueError, match="not defined at a module's top level"):
        run_workers(Local, workers=2, examples=2, steps=2, seed=0, database=str(tmp_path))


# -----------------------------------------------------------------------------------------
# apfsm fuzz --workers
# -----------------------------------------------------------------------------------------


def test_two_workers_make_one_merged_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    database = tmp_path / "db"
    code = main(
        ["fuzz", "--workers", "2", "--examples", "7", "--steps", "5", "--seed", "5",
         "--database", str(database), "--json", str(report)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert 0 == code, captured.err
    document = json.loads(report.read_text())
    assert [0, 1] == [w["worker"] for w in document["workers"]]
    assert [5, 6] == [w["seed"] for w in document["workers"]]
    assert [4, 3] == [w["examples"] for w in document["workers"]]  # 7 histories, shared
    assert 7 == document["examples"]
    assert str(database) == document["database"]
    assert document["ok"]
    assert "2 workers, 7 histories in " in captured.out
    assert "worker 0 (seed 5): 4 histories" in captured.out
    assert "worker 1 (seed 6): 3 histories" in captured.out
    assert "fuzz [" in captured.err  # the progress bar


def test_a_merged_report_names_the_failing_worker_and_its_story(tmp_path: Path) -> None:
    campaign = run_workers(
        CaptureIsForbidden, workers=2, examples=400, steps=20, seed=3, database=str(tmp_path)
    )
    assert not campaign.ok
    first = campaign.failures[0]
    summary = campaign.summary()
    assert f"worker {first.worker} (seed {3 + first.worker}) failed: AssertionError" in summary
    assert "capture_charge" in summary  # the shrunk story
    assert first.report.trace is not None
    assert f"worker-{first.worker}" == first.report.trace.parent.name  # one trace per worker
    assert campaign.first_failure == first.ended
    assert not any(w.report.stopped for w in campaign.workers)
    # Every failing worker is named, each with its own shrunk story.
    for worker in campaign.failures:
        assert f"worker {worker.worker} (seed {3 + worker.worker}) failed" in summary


def _environment(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _children_marked(marker: str) -> list[int]:
    """The live processes whose environment holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"APFSM_TEST_MARKER={marker}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc")
def test_ctrl_c_stops_the_workers_cleanly(tmp_path: Path) -> None:
    marker = f"ctrl-c-{os.getpid()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "apfsm", "fuzz", "--workers", "2", "--examples", "1000000",
         "--database", str(tmp_path / "db")],
        cwd=tmp_path,
        env=_environment(APFSM_TEST_MARKER=marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )  # fmt: skip
    assert process.stderr is not None
    first = process.stderr.readline()  # the progress bar: the workers are running
    assert "fuzz [" in first
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole group
    out, err = process.communicate(timeout=60)
    assert 130 == process.returncode, err
    assert "interrupted; the workers are stopped" in err
    assert "Traceback" not in err + out
    assert "interrupted: the workers were stopped" in out
    assert "worker 0 (seed" in out
    assert "FAILED" not in out  # stopped, not failed (nor FlakyStrategyDefinition)
    assert [] == _children_marked(marker)


# -----------------------------------------------------------------------------------------
# pytest -n N --apfsm-database
# -----------------------------------------------------------------------------------------

# The same test in two files: Hypothesis keys a test by its source, so both share one key.
# REPLAY_ONLY=1 leaves out generation: the test can then fail only by replaying a saved
# failure.
SHARED_TEST = """
import os

from hypothesis import Phase, given, settings, strategies as st

REPLAY = [Phase.explicit, Phase.reuse] if os.environ.get("REPLAY_ONLY") else list(Phase)


@settings(phases=REPLAY, deadline=None, max_examples=500)
@given(st.integers())
def test_shared(n):
    assert n < 1000, "failed on " + os.environ.get("PYTEST_XDIST_WORKER", "main")
"""


def _pytest(project: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=project,
        env=_environment(HYPOTHESIS_STORAGE_DIRECTORY=str(project / ".storage"), **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pytest_xdist_workers_share_one_database(tmp_path: Path, redis_url: str) -> None:
    pytest.importorskip("xdist", reason="pytest-xdist (the scale extra) is not installed")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_a.py").write_text(SHARED_TEST)
    (project / "test_b.py").write_text(SHARED_TEST)
    option = f"--apfsm-database={redis_url}"
    # Nothing saved yet: replaying alone finds nothing.
    empty = _pytest(project, "-n", "2", option, REPLAY_ONLY="1")
    assert 0 == empty.returncode, empty.stdout + empty.stderr
    # One process finds the failure and saves it in redis...
    found = _pytest(project, "test_a.py", option)
    assert 1 == found.returncode, found.stdout + found.stderr
    assert "failed on main" in found.stdout
    # ...and both xdist workers, one file each, replay it.
    replayed = _pytest(project, "-n", "2", "--dist", "loadfile", option, REPLAY_ONLY="1")
    assert 1 == replayed.returncode, replayed.stdout + replayed.stderr
    assert "2 failed" in replayed.stdout
    assert "failed on gw0" in replayed.stdout
    assert "failed on gw1" in replayed.stdout


def test_pytest_refuses_an_unreachable_database(tmp_path: Path) -> None:
    pytest.importorskip("redis")
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    result = _pytest(tmp_path, f"--apfsm-database=redis://127.0.0.1:{_free_port()}/0")
    assert 4 == result.returncode  # pytest's usage error
    assert "--apfsm-database: example database" in result.stderr
    assert "Traceback" not in result.stderr


# -----------------------------------------------------------------------------------------
# Where the command line's default database lives (issue 14: outputs out of the cwd)
# -----------------------------------------------------------------------------------------


def _fuzz_in(cwd: Path, **env: str | None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "apfsm", "fuzz", "--examples", "2", "--steps", "3"],
        cwd=cwd,
        env=_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == result.returncode, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("example database: "))
    return line.removeprefix("example database: ")


def test_the_default_database_is_never_in_the_working_directory(tmp_path: Path) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir()
    where = Path(_fuzz_in(cwd, HYPOTHESIS_STORAGE_DIRECTORY=None, APFSM_DATABASE=None))
    assert "apfsm-examples" == where.name
    assert where.is_dir()
    assert cwd not in where.parents
    assert not (cwd / ".hypothesis").exists()
    assert [] == sorted(p.name for p in cwd.iterdir() if p.name != ".apfsm-traces")


def test_the_default_database_follows_the_environment(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    where = _fuzz_in(tmp_path, HYPOTHESIS_STORAGE_DIRECTORY=str(storage), APFSM_DATABASE=None)
    assert str(storage / "apfsm-examples") == where
    chosen = tmp_path / "chosen"
    assert str(chosen) == _fuzz_in(tmp_path, APFSM_DATABASE=str(chosen))
    assert chosen.is_dir()
