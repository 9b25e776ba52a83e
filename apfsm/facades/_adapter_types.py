"""The records ``PproAdapter`` (``_adapter.py``) keeps and answers with: the Amazon Pay
client it needs, its error, a facade object as Amazon's truth shows it, and its own books
of charges, agreements and refunds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from ._model import Facade

__all__ = ["AmazonPayClient", "FacadeError", "FacadeObject", "Json", "Reader"]

Json = dict[str, Any]
#: Reads Amazon's object ``(object_type, object_id)`` as JSON (None: gone).
Reader = Callable[[str, str], Json | None]


class AmazonPayClient(Protocol):
    """The Amazon Pay API v2 calls the adapter makes (``apfsm.Simulator`` has them)."""

    def create_checkout_session(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...
    def get_checkout_session(self, checkout_session_id: str) -> Json: ...
    def complete_checkout_session(
        self,
        checkout_session_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Json: ...
    def get_charge(self, charge_id: str) -> Json: ...
    def create_charge(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...
    def close_charge_permission(
        self, charge_permission_id: str, body: Mapping[str, Any]
    ) -> Json: ...
    def get_charge_permission(self, charge_permission_id: str) -> Json: ...
    def get_refund(self, refund_id: str) -> Json: ...
    def capture_charge(
        self, charge_id: str, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...
    def cancel_charge(self, charge_id: str, body: Mapping[str, Any] | None = None) -> Json: ...
    def create_refund(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...


def _usd(cents: int) -> dict[str, str]:
    # PPRO's amount.value is in minor units; Amazon's amount a decimal string (SPEC §1).
    return {"amount": str(Decimal(cents).scaleb(-2)), "currencyCode": "USD"}


class FacadeError(Exception):
    """The facade refused a call: ``code`` and a message naming the charge and status."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@attrs.frozen
class FacadeObject:
    """One facade object as Amazon's truth shows it: ``status`` in ``facade``, and the
    Amazon ``situation`` behind it as ``(object_type, state, reason)`` (None when the
    provider decided alone: PPRO's authentication timeout)."""

    id: str
    facade: Facade
    status: str
    situation: tuple[str, str, str | None] | None


@attrs.define
class _Charge:
    id: str
    value: int
    checkout_session_id: str
    created_at: datetime
    session_expires_at: datetime
    amazon_charge_id: str | None = None
    discarded: bool = False
    history: list[str] = attrs.field(factory=list)
    agreement_id: str | None = None
    failure: str | None = None  # Amazon refused the charge's creation (FAILED at once)


@attrs.define
class _Agreement:
    id: str
    checkout_session_id: str
    session_expires_at: datetime
    value: int
    charge_permission_id: str | None = None
    history: list[str] = attrs.field(factory=list)


@attrs.define
class _Refund:
    id: str
    charge_id: str
    value: int
    reference: str
    amazon_refund_id: str | None = None
    failure: str | None = None  # Amazon refused Create Refund (FAILED at once)
    history: list[str] = attrs.field(factory=list)
