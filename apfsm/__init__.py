"""apfsm: the Amazon Pay API v2 lifecycles as declarative finite-state machines.

Predict what Amazon Pay answers (``check``), tell legal state changes (``check_transition``),
judge a recorded log of traffic (``check_log``), say what a decline asks for
(``advise``), and read the declarations every other part
of apfsm is derived from (``LIFECYCLES``, ``OPERATIONS``, ``ERRORS``, ``Limits``).
"""

import importlib as _importlib
import typing as _typing

from ._advice import advise
from ._clock import (
    Clock,
    ManualClock,
    SystemClock,
    add_months,
    format_timestamp,
    month_start,
    parse_timestamp,
)
from ._errors import ApiError
from ._outcome import Outcome
from ._spec import (
    BODIES,
    CHECKS,
    CODE_ADVICE,
    DEADLINES,
    ERRORS,
    GUARDS,
    LIFECYCLES,
    OBJECT_TYPES,
    OPERATIONS,
    SANDBOX_CARDS,
    SIMULATION_CODES,
    STATE_ADVICE,
    Advice,
    Allow,
    BodyField,
    Check,
    Creation,
    Deadline,
    ErrorInfo,
    Event,
    FrozenMap,
    Guard,
    Lifecycle,
    Limits,
    Operation,
    Refuse,
    StateDecl,
    Timer,
)
from ._validator import check, check_transition
from ._version import __version__

if _typing.TYPE_CHECKING:
    from ._harness import (
        ExploreFailure,
        ExploreResult,
        LogProblem,
        LogReport,
        Replay,
        ReplayTarget,
        Step,
        Trace,
        check_log,
        explore,
        replay,
    )
    from ._sim import LogRecord, Response, Simulator

#: Names imported on first use, so that a service importing apfsm for ``check`` loads no
#: simulator, exploration or log-checking code (the lean core, ``benchmarks/startup.py``).
_LAZY = {
    **dict.fromkeys(("LogRecord", "Response", "Simulator"), "_sim"),
    **dict.fromkeys(
        (
            "ExploreFailure",
            "ExploreResult",
            "LogProblem",
            "LogReport",
            "Replay",
            "ReplayTarget",
            "Step",
            "Trace",
            "check_log",
            "explore",
            "replay",
        ),
        "_harness",
    ),
}


def __getattr__(name: str) -> _typing.Any:
    room = _LAZY.get(name)
    if room is None:
        raise AttributeError(f"module 'apfsm' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"apfsm.{room}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
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
