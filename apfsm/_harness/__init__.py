"""Driving the simulator and judging answers against the declarations, without Hypothesis.

Realistic request bodies, traces and their replay, exhaustive exploration (``explore``) and
the recorded-log checker (``check_log``). Nothing here imports Hypothesis: ``import apfsm``
brings this package, and the Hypothesis-based internals live in ``_fuzz``.
"""

from .bodies import checkout_session_body
from .checklog import LogProblem, LogReport, check_log
from .exploration import CREATORS, ExploreFailure, ExploreResult, explore
from .trace import Replay, ReplayTarget, Step, Trace, TraceRecorder, replay

__all__ = [
    "CREATORS",
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
    "replay",
]
