"""Internals of property testing (as Hypothesis's ``strategies/_internal``): what the public
faces ``apfsm.strategies``, ``apfsm.stateful`` and ``apfsm.testing`` are built from.

* ``values`` — prices, currencies, tricky text; ``Values``, drawn by Hypothesis or a seed;
* ``bodies`` — valid bodies and single faults from one table per field kind;
* ``world`` — time steps, declared events, the choices and the one rule both machines
  share;
* ``amazon_rules`` — Amazon Pay's side as one Hypothesis rule per kind of step;
* ``plans`` — a step's choices decoded from one integer;
* ``menu`` — ``AmazonPayMachine``'s step menu; ``legacy`` — ``business_events``' one rule;
* ``run`` — ``Executed`` steps and the run's lazy trace; ``retries`` — retries judged
  against Amazon's decline advice;
* ``facade`` — ``FacadeRules``: an integration written against a provider's facade;
* ``coverage`` — what a campaign exercised; ``campaign`` — ``fuzz``'s campaign and report;
* ``database`` — Hypothesis's example database from a spec; ``workers`` — a campaign on
  several processes sharing it.

Everything here may import Hypothesis; nothing below this layer does.
"""

from apfsm._extras import missing_extra

try:
    import hypothesis  # noqa: F401  (the fuzzing kit is built on it)
except ImportError as _missing:  # the core install has no Hypothesis
    raise missing_extra("testing", "apfsm's fuzzing kit", _missing) from None

from .amazon_rules import AMAZON_RULES, AmazonRules, DisputeRules, story
from .bodies import BodyFault, fault_by_number, request_bodies, schema_body, single_faults
from .campaign import CampaignStopped, FuzzReport, run_campaign
from .coverage import AgeBuckets, Coverage, count_call
from .database import (
    DATABASE_VARIABLE,
    MEMORY,
    DatabaseError,
    default_database_spec,
    hypothesis_storage,
    open_database,
)
from .facade import FacadeMoveError, FacadeRules, path_exists
from .legacy import legacy_amazon_entries, legacy_plan
from .menu import (
    FIRST_SESSION,
    MAKERS,
    UNKNOWN_IDS,
    WORLD_LABELS,
    Plan,
    step_plan,
)
from .plans import CURRENT, Menu, Product, decoded, menu_entries, step_plans
from .retries import RetryWatch
from .run import Executed, RunLog
from .values import currencies, money, sandbox_cards, simulation_codes
from .workers import WorkerReport, WorkersReport, run_workers, shares
from .world import (
    BUYER_CARDS,
    CALENDAR,
    CALENDAR_EDGES,
    NEAR,
    ORDER_CARDS,
    PICKS,
    SECOND,
    add_step_rule,
    calendar_instant,
    deadline_offsets,
    deadline_waits,
    declared_event,
    jump_target,
    time_steps,
    uniform_waits,
    wait_of,
)

__all__ = [
    "AMAZON_RULES",
    "BUYER_CARDS",
    "CALENDAR",
    "CALENDAR_EDGES",
    "CURRENT",
    "DATABASE_VARIABLE",
    "FIRST_SESSION",
    "MAKERS",
    "MEMORY",
    "NEAR",
    "ORDER_CARDS",
    "PICKS",
    "SECOND",
    "UNKNOWN_IDS",
    "WORLD_LABELS",
    "AgeBuckets",
    "AmazonRules",
    "BodyFault",
    "CampaignStopped",
    "Coverage",
    "DatabaseError",
    "DisputeRules",
    "Executed",
    "FacadeMoveError",
    "FacadeRules",
    "FuzzReport",
    "Menu",
    "Plan",
    "Product",
    "RetryWatch",
    "RunLog",
    "WorkerReport",
    "WorkersReport",
    "add_step_rule",
    "calendar_instant",
    "count_call",
    "currencies",
    "deadline_offsets",
    "deadline_waits",
    "declared_event",
    "decoded",
    "default_database_spec",
    "fault_by_number",
    "hypothesis_storage",
    "jump_target",
    "legacy_amazon_entries",
    "legacy_plan",
    "menu_entries",
    "money",
    "open_database",
    "path_exists",
    "request_bodies",
    "run_campaign",
    "run_workers",
    "sandbox_cards",
    "schema_body",
    "shares",
    "simulation_codes",
    "single_faults",
    "step_plan",
    "step_plans",
    "story",
    "time_steps",
    "uniform_waits",
    "wait_of",
]
