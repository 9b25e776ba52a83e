"""The simulator: an in-process Amazon Pay (moto's "backend"), with no transport.

``Simulator`` is the façade; everything it holds and does lives in its collaborators (see
ARCHITECTURE.md). The server and the testing tools use only what this package exports.
"""

from .checkpoints import Parts, snapshot_of
from .handlers import Response
from .journal import ChangeCursor
from .ledger import ChargeLedger, PermissionLedger
from .log import CallLog, LogRecord
from .records import ChargePermissionRecord, ChargeRecord, CheckoutSessionRecord, RefundRecord
from .report_calls import report_call
from .reports import ReportBook
from .simulator import Simulator
from .snapshots import check_envelope, upgrade

__all__ = [
    "CallLog",
    "ChangeCursor",
    "ChargeLedger",
    "ChargePermissionRecord",
    "ChargeRecord",
    "CheckoutSessionRecord",
    "LogRecord",
    "Parts",
    "PermissionLedger",
    "RefundRecord",
    "ReportBook",
    "Response",
    "Simulator",
    "check_envelope",
    "report_call",
    "snapshot_of",
    "upgrade",
]
