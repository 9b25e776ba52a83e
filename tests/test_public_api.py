"""The public API is pinned: a flat, sorted, complete __all__ of names that exist."""

from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

import apfsm

EXPECTED = [
    "BODIES",
    "CHECKS",
    "CODE_ADVICE",
    "DEADLINES",
    "ERRORS",
    "GUARDS",
    "LIFECYCLES",
    "OBJECT_TYPES",
    "OPERATIONS",
    "SANDBOX_CARDS",
    "SIMULATION_CODES",
    "STATE_ADVICE",
    "Advice",
    "Allow",
    "ApiError",
    "BodyField",
    "Check",
    "Clock",
    "Creation",
    "Deadline",
    "ErrorInfo",
    "Event",
    "ExploreFailure",
    "ExploreResult",
    "FrozenMap",
    "Guard",
    "Lifecycle",
    "Limits",
    "LogProblem",
    "LogRecord",
    "LogReport",
    "ManualClock",
    "Operation",
    "Outcome",
    "Refuse",
    "Replay",
    "ReplayTarget",
    "Response",
    "Simulator",
    "StateDecl",
    "Step",
    "SystemClock",
    "Timer",
    "Trace",
    "__version__",
    "add_months",
    "advise",
    "check",
    "check_log",
    "check_transition",
    "explore",
    "format_timestamp",
    "month_start",
    "parse_timestamp",
    "replay",
]


def test_all_is_pinned_sorted_and_resolvable() -> None:
    assert EXPECTED == apfsm.__all__

    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then the rest.
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert sorted(apfsm.__all__, key=key) == apfsm.__all__
    for name in apfsm.__all__:
        assert hasattr(apfsm, name), name


#: The deliberate public submodules (imported by name, e.g. ``import apfsm.diagrams``):
#: everything else under apfsm/ is a private ``_module``.
PUBLIC_SUBMODULES = [
    "diagrams",
    "examples",
    "facades",
    "server",
    "stateful",
    "strategies",
    "testing",
]


def test_no_other_public_names_leak() -> None:
    # Importing a submodule binds it on the package, so a public one may show up here.
    # apfsm ships a pytest plugin, so pytest rewrites its asserts and leaves its
    # helper names (``@py_builtins``...) behind: they are not Python identifiers.
    public = {n for n in vars(apfsm) if not n.startswith("_") and n.isidentifier()}
    assert set() == public - set(apfsm.__all__) - set(PUBLIC_SUBMODULES)


def test_implementation_modules_are_private() -> None:
    package = Path(apfsm.__file__).parent
    modules = [p.stem for p in package.glob("*.py")]
    packages = [p.name for p in package.iterdir() if (p / "__init__.py").is_file()]
    public = sorted(name for name in modules + packages if not name.startswith("_"))
    assert PUBLIC_SUBMODULES == public
    # Inside a public package (apfsm.server) every module is private too: its __init__
    # is the face.
    # The shipped examples (apfsm.examples) are user code to read and copy, not an API.
    for name in packages:
        if not name.startswith("_") and name != "examples":
            inner = [p.stem for p in (package / name).glob("*.py") if p.name != "__init__.py"]
            assert [] == [m for m in inner if not m.startswith("_")], name


def test_public_submodules_pin_their_all() -> None:
    import apfsm.diagrams

    expected = [
        "DEFAULT_FORMATS",
        "EXTENSIONS",
        "FORMATS",
        "NAMES",
        "VIEWS",
        "DiagramError",
        "Format",
        "View",
        "render",
        "render_png",
        "write",
    ]
    assert expected == apfsm.diagrams.__all__
    for name in expected:
        assert hasattr(apfsm.diagrams, name), name


def test_server_pins_its_all() -> None:
    import apfsm.server

    expected = [
        "ALGORITHMS",
        "canonical_request",
        "create_app",
        "openapi",
        "running",
        "serve",
        "sns_envelope",
        "string_to_sign",
    ]
    assert expected == apfsm.server.__all__
    for name in expected:
        assert hasattr(apfsm.server, name), name
    # Every public function or class the package's private modules define is in __all__:
    # whatever is not listed there keeps a leading underscore.
    import importlib
    import pkgutil

    modules = [
        importlib.import_module(f"apfsm.server.{info.name}")
        for info in pkgutil.iter_modules(apfsm.server.__path__)
        if info.name != "__main__"
    ]
    defined = {
        name
        for module in modules
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    }
    # The scan sees the definitions (so the check below can fail): every listed function.
    assert set(expected) - {"ALGORITHMS"} <= defined
    assert set() == defined - set(expected)


def test_testing_submodules_pin_their_all() -> None:
    import apfsm.stateful
    import apfsm.strategies
    import apfsm.testing

    assert [
        "AMAZON_STEPS",
        "KNOWABLE_CODES",
        "AmazonPayMock",
        "DisputeRules",
        "FacadeMachine",
        "FacadeMoveError",
        "FacadeRules",
        "IntegrationError",
        "IntegrationMachine",
        "WatchedSimulator",
        "mock_amazon_pay",
        "step_plans",
    ] == apfsm.testing.__all__

    assert [
        "AmazonPayMachine",
        "Coverage",
        "Executed",
        "FuzzReport",
        "fuzz",
    ] == apfsm.stateful.__all__
    assert [
        "currencies",
        "deadline_offsets",
        "money",
        "request_bodies",
        "sandbox_cards",
        "simulation_codes",
        "time_steps",
    ] == apfsm.strategies.__all__


def test_version_and_typing_marker() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", apfsm.__version__)
    assert importlib.resources.files("apfsm").joinpath("py.typed").is_file()


def test_facades_pins_its_all() -> None:
    import apfsm.facades

    public = apfsm.facades.__all__
    for name in ("PPRO_PAYMENT_CHARGE", "Facade", "check_mapping", "check_v1", "PproAdapter"):
        assert name in public
    assert (
        sorted(public, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
        == public
    )
    for name in public:
        assert hasattr(apfsm.facades, name), name
