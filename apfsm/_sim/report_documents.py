"""The Reports API's documents (apfsm/_sim/reports.py): a report's CSV rows, from the
simulator's own objects created within the report's period."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from apfsm._clock import format_timestamp

from .records import ChargePermissionRecord, ChargeRecord, RefundRecord


def document_rows(
    kind: str, start: datetime, end: datetime, records: Iterable[Any]
) -> list[list[str]]:
    """The rows of a ``kind`` report over ``start``..``end``, header first when there is
    data (else none)."""

    def within(record: Any) -> bool:
        return bool(start <= record.created_at <= end)

    objects = [r for r in records if within(r)]
    objects.sort(key=lambda r: r.seq)
    body: list[list[str]]
    if "ORDER_REFERENCE" in kind or "BILLING_AGREEMENT" in kind:
        recurring = "BILLING_AGREEMENT" in kind
        header = ["ChargePermissionId", "CreationTimestamp", "State", "Type", "Currency"]
        body = [
            [r.id, format_timestamp(r.created_at), r.state, r.permission_type, r.currency]
            for r in objects
            if isinstance(r, ChargePermissionRecord)
            and (r.permission_type == "Recurring") == recurring
        ]
    elif "REFUND" in kind:
        header = ["RefundId", "ChargeId", "CreationTimestamp", "State", "Amount", "Currency"]
        body = [
            [
                r.id,
                r.charge_id,
                format_timestamp(r.created_at),
                r.state,
                str(r.amount),
                r.currency,
            ]
            for r in objects
            if isinstance(r, RefundRecord)
        ]
    elif "SETTLEMENT" in kind or "CAPTURE" in kind:
        header = ["TransactionType", "TransactionId", "Timestamp", "Amount", "Currency"]
        body = [
            ["Capture", r.id, format_timestamp(r.created_at), str(r.capture_amount), r.currency]
            for r in objects
            if isinstance(r, ChargeRecord) and r.state == "Captured"
        ]
        if "SETTLEMENT" in kind:
            body += [
                ["Refund", r.id, format_timestamp(r.created_at), str(-r.amount), r.currency]
                for r in objects
                if isinstance(r, RefundRecord) and r.state == "Refunded"
            ]
    else:  # authorizations; the multi-currency report
        header = ["ChargeId", "ChargePermissionId", "CreationTimestamp", "State", "Amount"]
        header.append("Currency")
        body = [
            [
                r.id,
                r.charge_permission_id,
                format_timestamp(r.created_at),
                r.state,
                str(r.amount),
                r.currency,
            ]
            for r in objects
            if isinstance(r, ChargeRecord)
        ]
    return [header, *body] if body else []
