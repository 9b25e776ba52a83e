"""apfsm: the Amazon Pay API v2 lifecycles as declarative finite-state machines.

Predict what Amazon Pay answers (``check``), tell legal state changes (``check_transition``),
judge a recorded log of traffic (``check_log``), and read the declarations every other part
of apfsm is derived from (``LIFECYCLES``, ``OPERATIONS``, ``ERRORS``, ``Limits``).
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

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
from ._outcome import Outcome
from ._sim import LogRecord, Response, Simulator
from ._spec import (
    BODIES,
    CHECKS,
    DEADLINES,
    ERRORS,
    GUARDS,
    LIFECYCLES,
    OBJECT_TYPES,
    OPERATIONS,
    SANDBOX_CARDS,
    SIMULATION_CODES,
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

try:
    __version__ = _version("apfsm")
except _PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = [
    "BODIES",
    "CHECKS",
    "DEADLINES",
    "ERRORS",
    "GUARDS",
    "LIFECYCLES",
    "OBJECT_TYPES",
    "OPERATIONS",
    "SANDBOX_CARDS",
    "SIMULATION_CODES",
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
    "check",
    "check_log",
    "check_transition",
    "explore",
    "format_timestamp",
    "month_start",
    "parse_timestamp",
    "replay",
]
