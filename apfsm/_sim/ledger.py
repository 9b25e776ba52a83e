"""Amazon's books for one Charge or Charge Permission, read-only (``Simulator.ledger``).

The amounts an object's JSON shows, and those it does not: refunds still pending count
against a charge's refund allowance (SPEC §6) but not in its ``refundedAmount``. For
invariants in tests ("refunds never exceed the allowance"), without reaching into the
simulator's records.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from .records import ChargePermissionRecord, ChargeRecord

__all__ = ["ChargeLedger", "PermissionLedger", "ledger_of"]


@attrs.frozen
class ChargeLedger:
    """A Charge's amounts.

    Attributes:
        charge_id, currency: which charge, in which currency.
        amount: the authorized ``chargeAmount``.
        captured: the ``captureAmount``, None until captured.
        refunded: refunds that reached ``Refunded`` (the JSON's ``refundedAmount``).
        refunds_committed: refunds not ``Declined``, pending ones included — what the
            refund allowance is checked against.
        refund_count: every refund created on it.
    """

    charge_id: str
    currency: str
    amount: Decimal
    captured: Decimal | None
    refunded: Decimal
    refunds_committed: Decimal
    refund_count: int


@attrs.frozen
class PermissionLedger:
    """A Charge Permission's amounts.

    Attributes:
        charge_permission_id, currency: which permission, in which currency.
        amount_limit, amount_balance: a one-time permission's ``limits`` (None otherwise).
        captured: the total captured on its charges.
        charge_count: every charge created on it.
    """

    charge_permission_id: str
    currency: str
    amount_limit: Decimal | None
    amount_balance: Decimal | None
    captured: Decimal
    charge_count: int


def ledger_of(record: object) -> ChargeLedger | PermissionLedger | None:
    """The ledger of a stored record (None for sessions and refunds)."""
    if isinstance(record, ChargeRecord):
        return ChargeLedger(
            record.id,
            record.currency,
            record.amount,
            record.capture_amount,
            record.refunded_total,
            record.refund_committed,
            record.refund_count,
        )
    if isinstance(record, ChargePermissionRecord):
        return PermissionLedger(
            record.id,
            record.currency,
            record.amount_limit,
            record.amount_balance,
            record.captured_total,
            record.charge_count,
        )
    return None
