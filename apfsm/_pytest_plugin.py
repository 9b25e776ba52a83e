"""The pytest plugin (entry point ``pytest11``): fixtures for testing against apfsm.

* ``apfsm_clock`` — a ``ManualClock`` at a fixed instant (``--apfsm-start``, else the
  ``apfsm_start`` ini option, ISO 8601, else 2026-01-31T09:00:00Z), so runs are
  reproducible;
* ``apfsm_server`` — ``apfsm serve`` on a free loopback port in a thread, over
  ``apfsm_simulator``: its ``url`` for any language's client, its ``simulator``, and
  control helpers (``advance``, ``approve``, ``control``);
* ``apfsm_mock`` — ``mock_amazon_pay()`` over ``apfsm_simulator``: unchanged client code
  talking to Amazon Pay's hosts is answered in process;
* ``apfsm_simulator`` — a fresh ``apfsm.Simulator`` on that clock, its ids made from the
  seed ``--apfsm-seed N`` gives (the same ids every run), or from a random seed, printed in
  the report of a failing test so ``--apfsm-seed`` can repeat it; with ``--apfsm-strict``
  a strict ``apfsm.testing.WatchedSimulator`` (a refusal your code could have known raises
  ``IntegrationError``).

Per test, ``@pytest.mark.apfsm(start=..., seed=..., strict=...)`` overrides the options.

``--apfsm-database WHERE`` gives every Hypothesis test of the session one example database
— a directory, ``redis://host:port/db`` or ``:memory:`` — over the loaded profile, so a
``pytest -n N`` (pytest-xdist) campaign, on one machine or many, shares it: a failure one
worker saves is replayed first by every other (docs/scaling.md).
The plugin also registers Hypothesis profiles — ``apfsm-ci`` (fixed, derandomized, 200
examples), ``apfsm-dev`` (100) and ``apfsm-fuzz`` (5,000) — to pick with Hypothesis's own
``--hypothesis-profile``.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from ._clock import ManualClock, require_aware
from ._harness import DEFAULT_START
from ._sim import Simulator

if TYPE_CHECKING:
    from ._intercept import AmazonPayMock


def _register_profiles() -> None:
    try:
        from hypothesis import HealthCheck, settings  # noqa: PLC0415  (the testing extra)
    except ImportError:  # the core install: no profiles to offer
        return
    quiet = [HealthCheck.too_slow]
    settings.register_profile(
        "apfsm-ci",
        max_examples=200,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=quiet,
    )
    settings.register_profile("apfsm-dev", max_examples=100, deadline=None, print_blob=True)
    settings.register_profile(
        "apfsm-fuzz",
        max_examples=5_000,
        deadline=None,
        print_blob=True,
        suppress_health_check=quiet,
    )


# At import, so that Hypothesis's --hypothesis-profile (read when pytest configures) finds them.
_register_profiles()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apfsm", "apfsm (Amazon Pay simulator)")
    group.addoption(
        "--apfsm-seed",
        default=None,
        metavar="SEED",
        help="apfsm_simulator makes its ids from SEED (default: a random seed per test)",
    )
    group.addoption(
        "--apfsm-start",
        default=None,
        metavar="INSTANT",
        help="apfsm_clock starts at INSTANT (ISO 8601 with a UTC offset; default: the "
        "apfsm_start ini option, else 2026-01-31T09:00:00Z)",
    )
    group.addoption(
        "--apfsm-strict",
        action="store_true",
        default=False,
        help="apfsm_simulator is a strict WatchedSimulator: a refusal the code under test "
        "could have known raises IntegrationError",
    )
    group.addoption(
        "--apfsm-database",
        default=None,
        metavar="WHERE",
        help="Hypothesis's example database for every test: a directory, "
        "redis://host:port/db or :memory: (overrides the profile's; share it across "
        "pytest-xdist workers and machines)",
    )
    parser.addini(
        "apfsm_start",
        "the instant apfsm_clock starts at (ISO 8601 with a UTC offset)",
        default=DEFAULT_START.isoformat(),
    )


#: The Hypothesis profile ``--apfsm-database`` loads: the loaded one with that database.
DATABASE_PROFILE = "apfsm-database"


@pytest.hookimpl(trylast=True)  # after Hypothesis's plugin loads --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    _use_database(config)
    config.addinivalue_line(
        "markers",
        "apfsm(start=None, seed=None, strict=None, control_token=None): this test's "
        "apfsm_clock start instant, apfsm_simulator seed and strict mode (overriding "
        "--apfsm-start/-seed/-strict), and the control token apfsm_server demands",
    )


def _use_database(config: pytest.Config) -> None:
    """``--apfsm-database``: the loaded Hypothesis profile again, with that database."""
    spec = config.getoption("--apfsm-database", default=None)
    if not spec:
        return
    try:
        from hypothesis import settings  # noqa: PLC0415  (the testing extra)

        from ._fuzz import DatabaseError, open_database  # noqa: PLC0415
    except ImportError as missing:
        raise pytest.UsageError(f"--apfsm-database: {missing}") from None
    try:
        database = open_database(spec)
    except (DatabaseError, ImportError) as exc:
        raise pytest.UsageError(f"--apfsm-database: {exc}") from None
    settings.register_profile(DATABASE_PROFILE, parent=settings(), database=database)
    settings.load_profile(DATABASE_PROFILE)


_MARKER_KEYS = frozenset({"start", "seed", "strict", "control_token"})


def _setting(request: pytest.FixtureRequest, name: str, default: Any) -> Any:
    """A setting from the test's ``apfsm`` marker, else ``default``."""
    marker = request.node.get_closest_marker("apfsm")
    if marker is None:
        return default
    if marker.args or set(marker.kwargs) - _MARKER_KEYS:
        raise pytest.UsageError(
            f"@pytest.mark.apfsm takes keywords {', '.join(sorted(_MARKER_KEYS))}; "
            f"got {marker.args!r} {sorted(marker.kwargs)!r}"
        )
    value = marker.kwargs.get(name)
    return default if value is None else value


@pytest.fixture
def apfsm_clock(request: pytest.FixtureRequest) -> ManualClock:
    """A ``ManualClock`` at the configured start instant."""
    configured = request.config.getoption("--apfsm-start", default=None) or str(
        request.config.getini("apfsm_start")
    )
    start = _setting(request, "start", configured)
    if isinstance(start, datetime):
        return ManualClock(require_aware(start, "start"))
    try:
        instant = require_aware(datetime.fromisoformat(str(start)), "apfsm_start")
    except (TypeError, ValueError) as exc:
        raise pytest.UsageError(f"apfsm_start (or --apfsm-start) {start!r}: {exc}") from None
    return ManualClock(instant)


@pytest.fixture
def apfsm_simulator(request: pytest.FixtureRequest, apfsm_clock: ManualClock) -> Simulator:
    """A fresh ``apfsm.Simulator`` on ``apfsm_clock``, seeded by ``--apfsm-seed`` (strict
    with ``--apfsm-strict``; the ``apfsm`` marker overrides both)."""
    seed = _setting(request, "seed", request.config.getoption("--apfsm-seed", default=None))
    strict = _setting(request, "strict", request.config.getoption("--apfsm-strict", False))
    simulator: Simulator
    if strict:
        from .testing import WatchedSimulator  # noqa: PLC0415  (the testing extra)

        simulator = WatchedSimulator(apfsm_clock, seed=seed, strict=True)
    else:
        simulator = Simulator(apfsm_clock, seed=seed)
    request.node.user_properties.append(("apfsm_seed", simulator.seed))
    return simulator


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Tell a failing test's apfsm seed, so ``--apfsm-seed`` can repeat its ids."""
    report = yield
    seeds = [value for name, value in item.user_properties if name == "apfsm_seed"]
    if seeds and report.failed:
        report.sections.append(("apfsm", f"ids made from seed {seeds[-1]} (--apfsm-seed)"))
    return report


@pytest.fixture
def apfsm_mock(apfsm_simulator: Simulator) -> Iterator[AmazonPayMock]:
    """``apfsm.testing.mock_amazon_pay()`` over ``apfsm_simulator``: calls your unchanged
    Amazon Pay client makes (``AmazonPayClient``, ``requests``, ``httpx``) are answered in
    process; the fixture's ``.simulator`` moves time and acts as the buyer or Amazon."""
    from ._intercept import mock_amazon_pay  # noqa: PLC0415  (imports the server extra)

    with mock_amazon_pay(apfsm_simulator) as amazon:
        yield amazon


@attrs.frozen
class ApfsmServer:
    """A running ``apfsm serve`` (the ``apfsm_server`` fixture).

    Attributes:
        url: its base URL (``http://127.0.0.1:PORT``): point any client at it.
        app: the ASGI application (``app.state.simulator`` is the simulator serving).
        control_token: the token its control endpoints demand
            (``@pytest.mark.apfsm(control_token=...)``), or None; ``control`` sends it.
    """

    url: str
    app: Any
    control_token: str | None = None

    @property
    def control_headers(self) -> dict[str, str]:
        """The headers a control request needs: ``Authorization: Bearer TOKEN`` or none."""
        if self.control_token is None:
            return {}
        return {"authorization": f"Bearer {self.control_token}"}

    @property
    def simulator(self) -> Simulator:
        """The simulator answering the calls (a reset over HTTP replaces it)."""
        simulator: Simulator = self.app.state.simulator
        return simulator

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST ``body`` to the control endpoint ``/_apfsm/PATH``; its JSON answer.

        Raises:
            urllib.error.HTTPError: the control API refused it (its JSON says why).
        """
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(
            f"{self.url}/_apfsm/{path.lstrip('/')}",
            data=data,
            method="POST",
            headers={"content-type": "application/json", **self.control_headers},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def advance(self, **delta: float) -> Any:
        """Move the clock, as ``POST /_apfsm/clock/advance`` (``seconds=...``, ``days=...``)."""
        seconds = timedelta(**delta).total_seconds()
        return self.control("clock/advance", {"seconds": seconds})

    def approve(self, checkout_session_id: str, card: str = "1111") -> Any:
        """The buyer signs in and picks ``card`` (``POST /_apfsm/buyer/approve``)."""
        return self.control(
            "buyer/approve", {"checkoutSessionId": checkout_session_id, "card": card}
        )


@pytest.fixture
def apfsm_server(
    request: pytest.FixtureRequest, apfsm_simulator: Simulator
) -> Iterator[ApfsmServer]:
    """``apfsm serve`` over ``apfsm_simulator`` on a free loopback port, in a thread, for
    the test: for clients in any language (subprocesses, the Node SDK...). Needs the
    server extra. With ``@pytest.mark.apfsm(control_token=TOKEN)`` its control endpoints
    demand the token, as ``apfsm serve --control-token`` (the helpers send it)."""
    token = _setting(request, "control_token", None)
    try:
        from .server import create_app, running  # noqa: PLC0415  (the server extra)

        app = create_app(apfsm_simulator, control_token=token)
    except ImportError as missing:
        pytest.skip(f"apfsm_server needs the server extra: {missing}")
    with running(app) as url:
        yield ApfsmServer(url, app, token)
