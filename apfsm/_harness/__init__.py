"""Driving the simulator and judging answers against the declarations, without Hypothesis.

Realistic request bodies, traces and their replay, exhaustive exploration (``explore``) and
the recorded-log checker (``check_log``). Nothing here imports Hypothesis: ``import apfsm``
brings this package, and the Hypothesis-based internals live in ``_fuzz``.
"""

from .bodies import (
    AMOUNTS,
    COMPLETE_VARIANTS,
    NEW_SESSION_OPTIONS,
    REALISTIC_OPTIONS,
    checkout_session_body,
    realistic_body,
)
from .checklog import LogProblem, LogReport, check_log
from .exploration import CREATORS, ExploreFailure, ExploreResult, explore
from .oracle import (
    CARD_EFFECT_CODES,
    DECLINE_CODES,
    DECLINING_CARDS,
    HISTORY_CODES,
    KNOWABLE_CODES,
    Disagreement,
    judge,
    ledger_problem,
    refusal_may_change_state,
    shown_card,
)
from .trace import (
    DEFAULT_START,
    TRACE_DIR_VARIABLE,
    Replay,
    ReplayTarget,
    Step,
    Trace,
    TraceRecorder,
    replay,
    trace_directory,
)

__all__ = [
    "AMOUNTS",
    "CARD_EFFECT_CODES",
    "COMPLETE_VARIANTS",
    "CREATORS",
    "DECLINE_CODES",
    "DECLINING_CARDS",
    "DEFAULT_START",
    "HISTORY_CODES",
    "KNOWABLE_CODES",
    "NEW_SESSION_OPTIONS",
    "REALISTIC_OPTIONS",
    "TRACE_DIR_VARIABLE",
    "Disagreement",
    "ExploreFailure",
    "ExploreResult",
    "LogProblem",
    "LogReport",
    "Replay",
    "ReplayTarget",
    "Step",
    "Trace",
    "TraceRecorder",
    "check_log",
    "checkout_session_body",
    "explore",
    "judge",
    "ledger_problem",
    "realistic_body",
    "refusal_may_change_state",
    "replay",
    "shown_card",
    "trace_directory",
]
