"""The declarations: every fact of the Amazon Pay API apfsm models, as data.

States, operations, reason and error codes, request-body schemas and limits live here, in
frozen records and read-only tables. Nothing in this package decides anything: the engine
(``_decide``), the simulator (``_sim``), the strategies, diagrams and docs are derived from
it. Lowest layer but ``_clock``: it imports nothing else of apfsm.
"""

from .bodies import (
    CHARGE_PERMISSION_TYPES,
    CHARGE_UPDATE_STATES,
    FREQUENCY_UNITS,
    PAYMENT_INTENTS,
    BodyField,
)
from .catalog import (
    CARD,
    CARDS,
    ERRORS,
    OBJECT_TYPES,
    SANDBOX_CARDS,
    ErrorInfo,
    ErrorKind,
    SandboxCard,
)
from .charge_permission import NON_CHARGEABLE_REASONS
from .conditions import CHECKS, DEADLINES, GUARDS
from .declines import CODE_ADVICE, SDK_BACKOFF, STATE_ADVICE, Advice, Resolution
from .dispute import DISPUTE_RESOLUTION_BY_TRIGGER
from .dispute_codes import (
    DISPUTE_REASON_CODES,
    DISPUTE_RESOLUTIONS,
    DISPUTE_STATES,
    DISPUTE_TYPES,
    DISPUTE_UPDATE_STATES,
    EVIDENCE_TYPES,
    FILE_PURPOSES,
    FILE_TYPES,
    FILING_REASONS,
)
from .lifecycles import LIFECYCLES, object_type_named
from .limits import FrozenMap, Limits
from .model import (
    DELETED,
    SAME,
    Actor,
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
from .operations import BODIES, COMPLETIONS, OPERATIONS, SIMULATION_CODES, Method, Operation
from .report import (
    PROCESSING_STATUSES,
    REPORT,
    REPORT_OPERATIONS,
    REPORT_TYPES,
    SCHEDULE_FREQUENCIES,
    UNSCHEDULABLE_REPORT_TYPES,
    ReportOperation,
)

__all__ = [
    "BODIES",
    "CARD",
    "CARDS",
    "CHARGE_PERMISSION_TYPES",
    "CHARGE_UPDATE_STATES",
    "CHECKS",
    "CODE_ADVICE",
    "COMPLETIONS",
    "DEADLINES",
    "DELETED",
    "DISPUTE_REASON_CODES",
    "DISPUTE_RESOLUTIONS",
    "DISPUTE_RESOLUTION_BY_TRIGGER",
    "DISPUTE_STATES",
    "DISPUTE_TYPES",
    "DISPUTE_UPDATE_STATES",
    "ERRORS",
    "EVIDENCE_TYPES",
    "FILE_PURPOSES",
    "FILE_TYPES",
    "FILING_REASONS",
    "FREQUENCY_UNITS",
    "GUARDS",
    "LIFECYCLES",
    "NON_CHARGEABLE_REASONS",
    "OBJECT_TYPES",
    "OPERATIONS",
    "PAYMENT_INTENTS",
    "PROCESSING_STATUSES",
    "REPORT",
    "REPORT_OPERATIONS",
    "REPORT_TYPES",
    "SAME",
    "SANDBOX_CARDS",
    "SCHEDULE_FREQUENCIES",
    "SDK_BACKOFF",
    "SIMULATION_CODES",
    "STATE_ADVICE",
    "UNSCHEDULABLE_REPORT_TYPES",
    "Actor",
    "Advice",
    "Allow",
    "BodyField",
    "Check",
    "Creation",
    "Deadline",
    "ErrorInfo",
    "ErrorKind",
    "Event",
    "FrozenMap",
    "Guard",
    "Lifecycle",
    "Limits",
    "Method",
    "Operation",
    "Refuse",
    "ReportOperation",
    "Resolution",
    "SandboxCard",
    "StateDecl",
    "Timer",
    "object_type_named",
    "render_label",
]
