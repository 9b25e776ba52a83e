"""Reading API JSON (as Amazon Pay returns it) into the facts the rules need (SPEC §1, §2).

Readers are lazy: a check reads only the fields its rules need, so a refusal decided by
state alone never parses a timestamp. Unknown reason codes are kept, not refused (SPEC §1);
a payload that lacks what a rule needs, or holds it in the wrong shape, is a ``ValueError``
naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from apfsm._clock import parse_timestamp
from apfsm._spec import Limits

from .money import Money, parse_money

__all__ = ["payload_reader", "read_payload"]

_FAST: dict[str, datetime] = {}
_FAST_MAX: Final = 8192

# SPEC §4: older spellings on a charge permission read as the current ones.
_CP_REASON_ALIASES: Final = {"MerchantCanceled": "MerchantClosed", "BuyerCanceled": "BuyerClosed"}


class _Payload:
    __slots__ = ("_data", "_details", "_memo", "limits", "reason", "state")
    object_type = "object"

    def __init__(self, data: object, limits: Limits) -> None:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ValueError(
                f"a {self.object_type} payload must be a JSON object (dict), "
                f"got {type(data).__name__}"
            )
        details = data.get("statusDetails")
        if type(details) is not dict and not isinstance(details, Mapping):
            raise ValueError(f"the {self.object_type} payload has no statusDetails object")
        state = details.get("state")
        if type(state) is not str:
            raise ValueError(f"the {self.object_type} payload has no statusDetails.state string")
        self._data = data
        self._details = details
        self.limits = limits
        self.state: str = state
        reason = details.get("reasonCode")
        # Unknown reason codes are kept as they are (SPEC §1).
        self.reason: str | None = reason if type(reason) is str else None
        self._memo: dict[str, Money | None] | None = None

    def _timestamp(self, field: str, source: Mapping[str, Any] | None = None) -> datetime | None:
        value = (self._data if source is None else source).get(field)
        if value is None:
            return None
        found = _FAST.get(value) if type(value) is str else None
        if found is not None:
            return found
        try:
            parsed = parse_timestamp(value)
        except ValueError as exc:
            raise ValueError(f"{self.object_type} {field}: {exc}") from None
        # Payloads repeat their timestamps: keep the parsed ones (bounded).
        if len(_FAST) >= _FAST_MAX:
            _FAST.clear()
        _FAST[value] = parsed
        return parsed

    def _required_timestamp(self, field: str) -> datetime:
        value = self._timestamp(field)
        if value is None:
            raise ValueError(
                f"the {self.object_type} payload lacks {field}, needed to apply its time "
                f"limits in state {self.state}"
            )
        return value

    @property
    def created_at(self) -> datetime:
        return self._required_timestamp("creationTimestamp")

    @property
    def payload_deadline(self) -> datetime | None:
        return self._timestamp("expirationTimestamp")

    def _money(self, field: str, source: Mapping[str, Any] | None = None) -> Money | None:
        memo = self._memo
        if source is None:
            if memo is None:
                memo = self._memo = {}
            elif field in memo:
                return memo[field]
        value = (self._data if source is None else source).get(field)
        money = None
        if value is not None:
            try:
                money = parse_money(value, field)
            except ValueError as exc:
                raise ValueError(f"{self.object_type} payload: {exc}") from None
        if memo is not None and source is None:
            memo[field] = money
        return money

    def _object(self, field: str) -> Mapping[str, Any]:
        value = self._data.get(field)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError(f"{self.object_type} {field} must be an object, got {value!r}")
        return value


class CheckoutSessionPayload(_Payload):
    __slots__ = ()
    object_type = "CheckoutSession"

    @property
    def constraints(self) -> tuple[str, ...]:
        value = self._data.get("constraints") or ()
        if not isinstance(value, list | tuple):
            raise ValueError(f"CheckoutSession constraints must be a list, got {value!r}")
        ids = []
        for item in value:
            if isinstance(item, Mapping) and isinstance(item.get("constraintId"), str):
                ids.append(item["constraintId"])
            elif isinstance(item, str):
                ids.append(item)
            else:
                raise ValueError(f"CheckoutSession constraint {item!r} has no constraintId")
        return tuple(ids)

    @property
    def payment_details(self) -> Mapping[str, Any]:
        return self._object("paymentDetails")

    @property
    def charge_amount(self) -> Money | None:
        return self._money("chargeAmount", self.payment_details)


class ChargePermissionPayload(_Payload):
    __slots__ = ()
    object_type = "ChargePermission"

    @property
    def reasons(self) -> tuple[str, ...]:
        value = self._details.get("reasons") or ()
        codes = []
        for item in value if isinstance(value, list | tuple) else ():
            code = item.get("reasonCode") if isinstance(item, Mapping) else None
            if isinstance(code, str):
                codes.append(_CP_REASON_ALIASES.get(code, code))
        return tuple(codes)

    def __init__(self, data: object, limits: Limits) -> None:
        super().__init__(data, limits)
        # A permission's reasons are a list; the first one stands for the state.
        reasons = self.reasons
        if reasons:
            self.reason = reasons[0]
        elif self.reason is not None:
            self.reason = _CP_REASON_ALIASES.get(self.reason, self.reason)

    @property
    def permission_type(self) -> str:
        value = self._data.get("chargePermissionType")
        if not isinstance(value, str):
            raise ValueError(
                "the ChargePermission payload lacks chargePermissionType, needed to tell "
                "which expiry applies"
            )
        return value

    # A payload does not show these; its expirationTimestamp already accounts for them.
    extended = False
    last_charge_at = None
    charge_count = None

    def monthly_total(self, at: datetime) -> Decimal | None:
        return None

    @property
    def _limits_object(self) -> Mapping[str, Any]:
        return self._object("limits")

    @property
    def currency(self) -> str | None:
        limit = self._money("amountLimit", self._limits_object)
        if limit is not None:
            return limit[1]
        presentment = self._data.get("presentmentCurrency")
        return presentment if isinstance(presentment, str) else None

    @property
    def amount_balance(self) -> Decimal | None:
        balance = self._money("amountBalance", self._limits_object)
        return None if balance is None else balance[0]


class ChargePayload(_Payload):
    __slots__ = ()
    object_type = "Charge"

    @property
    def payload_deadline(self) -> datetime | None:
        # SPEC §2: a Charge's expirationTimestamp governs only the Authorized state (the
        # only state with a timer that reads it).
        value = self._data.get("expirationTimestamp")
        if type(value) is str:
            found = _FAST.get(value)  # the hot path: a timestamp seen before
            if found is not None:
                return found
        return self._timestamp("expirationTimestamp")

    @property
    def authorized_at(self) -> datetime:
        # SPEC §2 Decision: expirationTimestamp − 30 days when present; else
        # statusDetails.lastUpdatedTimestamp while Authorized; else creationTimestamp.
        deadline = self.payload_deadline
        if deadline is not None:
            return deadline - self.limits.authorization_ttl
        if self.state == "Authorized":
            updated = self._timestamp("lastUpdatedTimestamp", self._details)
            if updated is not None:
                return updated
        return self.created_at

    @property
    def charge_amount(self) -> Money:
        memo = self._memo
        if memo is not None:
            found = memo.get("chargeAmount")
            if found is not None:
                return found
        amount = self._money("chargeAmount")
        if amount is None:
            raise ValueError("the Charge payload lacks chargeAmount")
        return amount

    @property
    def captured_amount(self) -> Money:
        captured = self._money("captureAmount")
        return captured if captured is not None else self.charge_amount

    @property
    def refund_committed(self) -> Decimal:
        # SPEC §6: refundedAmount counts refunds that reached Refunded; pending ones are not
        # visible in a Charge payload.
        refunded = self._money("refundedAmount")
        return Decimal(0) if refunded is None else refunded[0]

    refund_count = None


class RefundPayload(_Payload):
    __slots__ = ()
    object_type = "Refund"


class DisputePayload(_Payload):
    """A Dispute's JSON (dispute.html): ``merchantResponseDeadline`` gives the response
    window's end; without it, the window runs from ``statusDetails.lastUpdatedTimestamp``
    while ``ActionRequired`` (else ``creationTimestamp``), by ``disputeType``."""

    __slots__ = ()
    object_type = "Dispute"

    @property
    def payload_deadline(self) -> datetime | None:
        return self._timestamp("merchantResponseDeadline")

    @property
    def dispute_type(self) -> str:
        value = self._data.get("disputeType")
        return value if isinstance(value, str) else "Chargeback"

    @property
    def action_required_at(self) -> datetime:
        if self.state == "ActionRequired":
            updated = self._timestamp("lastUpdatedTimestamp", self._details)
            if updated is not None:
                return updated
        return self.created_at


class BuyerPayload:
    """A Buyer's JSON (Get Buyer, buyer.html): no ``statusDetails`` — a payload you hold
    was answered, so its token was ``Active`` then — and no sign-in time, so the token's
    expiry (``Limits.buyer_token_ttl``) cannot be read from it: ``signed_in_at`` is None
    and the deadline never passes (docs/buyer.md)."""

    __slots__ = ("limits",)
    object_type = "Buyer"
    state = "Active"
    reason = None
    signed_in_at = None
    payload_deadline = None

    def __init__(self, data: object, limits: Limits) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(
                f"a Buyer payload must be a JSON object (dict), got {type(data).__name__}"
            )
        if not isinstance(data.get("buyerId"), str):
            raise ValueError("the Buyer payload has no buyerId string")
        self.limits = limits


_READERS: Final[Mapping[str, Callable[[object, Limits], Any]]] = {
    "CheckoutSession": CheckoutSessionPayload,
    "ChargePermission": ChargePermissionPayload,
    "Charge": ChargePayload,
    "Refund": RefundPayload,
    "Buyer": BuyerPayload,
    "Dispute": DisputePayload,
}


def payload_reader(object_type: str) -> Callable[[object, Limits], Any]:
    """The payload reader class of ``object_type``."""
    return _READERS[object_type]


def read_payload(object_type: str, data: object, limits: Limits) -> Any:
    """Wrap an API payload of ``object_type`` as lazily read facts.

    Raises:
        ValueError: ``data`` is not a payload with a ``statusDetails.state``.
    """
    return _READERS[object_type](data, limits)
