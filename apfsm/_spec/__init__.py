"""The declarations: every fact of the Amazon Pay API apfsm models, as data.

States, operations, reason and error codes, request-body schemas and limits live here, in
frozen records and read-only tables. Nothing in this package decides anything: the engine
(``_decide``), the simulator (``_sim``), the strategies, diagrams and docs are derived from
it. Lowest layer but ``_clock``: it imports nothing else of apfsm.
"""

from .bodies import (
    BODIES,
    CHARGE_PERMISSION_TYPES,
    FREQUENCY_UNITS,
    PAYMENT_INTENTS,
    BodyField,
)
from .catalog import ERRORS, OBJECT_TYPES, SANDBOX_CARDS, SIMULATION_CODES, ErrorInfo
from .lifecycles import (
    CHECKS,
    DEADLINES,
    DELETED,
    GUARDS,
    LIFECYCLES,
    NON_CHARGEABLE_REASONS,
    SAME,
    Allow,
    Check,
    Creation,
    Deadline,
    Event,
    Guard,
    Lifecycle,
    Refuse,
    StateDecl,
    Timer,
    render_label,
)
from .limits import FrozenMap, Limits
from .operations import OPERATIONS, Method, Operation

__all__ = [
    "BODIES",
    "CHARGE_PERMISSION_TYPES",
    "CHECKS",
    "DEADLINES",
    "DELETED",
    "ERRORS",
    "FREQUENCY_UNITS",
    "GUARDS",
    "LIFECYCLES",
    "NON_CHARGEABLE_REASONS",
    "OBJECT_TYPES",
    "OPERATIONS",
    "PAYMENT_INTENTS",
    "SAME",
    "SANDBOX_CARDS",
    "SIMULATION_CODES",
    "Allow",
    "BodyField",
    "Check",
    "Creation",
    "Deadline",
    "ErrorInfo",
    "Event",
    "FrozenMap",
    "Guard",
    "Lifecycle",
    "Limits",
    "Method",
    "Operation",
    "Refuse",
    "StateDecl",
    "Timer",
    "render_label",
]
