"""Disputes and evidence files (docs/dispute.md): what opening a dispute makes, shared by
the buyer's filing (``Actions.file_dispute``) and a provider's Create Dispute (``handlers``),
and Upload File's answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from apfsm._clock import format_timestamp
from apfsm._spec import Limits

from .effects import Effects
from .records import ChargeRecord, DisputeRecord, copy_json

__all__ = ["open_dispute", "uploaded_file"]


def open_dispute(
    fx: Effects,
    charge: ChargeRecord,
    amount: Decimal,
    currency: str,
    *,
    filing_reason: str,
    dispute_type: str,
    when: datetime,
    extra: Mapping[str, Any] | None = None,
) -> DisputeRecord:
    """A new dispute on ``charge``, asking for the merchant's response (``ActionRequired`` /
    ``MerchantResponseRequired``): stored, its window scheduled, its ``CHARGEBACK`` IPN
    sent."""
    dispute = DisputeRecord(
        id=fx.store.new_child_id(charge.charge_permission_id, "B"),
        seq=fx.store.next("object"),
        created_at=when,
        updated_at=when,
        state="ActionRequired",
        reason="MerchantResponseRequired",
        charge_id=charge.id,
        charge_permission_id=charge.charge_permission_id,
        amount=amount,
        currency=currency,
        dispute_type=dispute_type,
        filing_reason=filing_reason,
        action_required_at=when,
        extra=None if not extra else {k: copy_json(v) for k, v in extra.items()},
    )
    fx.add(dispute)  # schedules the response window
    fx.outbox.notify(dispute)  # "when a dispute is created" (manage-disputes.html)
    return dispute


def uploaded_file(fx: Effects, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Upload File's answer (file.html, step 1): the File object with the URL to PUT the
    file to. The simulator keeps no file: a ``fileId`` is taken as sent (docs/dispute.md)."""
    limits: Limits = fx.limits
    file_id = fx.store.new_file_id()
    return {
        "id": file_id,
        "type": body["type"],
        "purpose": body["purpose"],
        "size": 0,  # nothing is uploaded yet
        "uploadTimestamp": format_timestamp(now),
        "url": f"https://pay-api.amazon.com/v2/files/{file_id}/contents",
        "urlExpirationTimestamp": format_timestamp(now + limits.file_upload_url_ttl),
    }
