"""The simulator's stored objects, and their API JSON (SPEC §1, §4–§6, §10).

Each record provides the facts the rules of ``_rules`` read (state, timestamps, amounts,
and the history a payload does not show: charge and refund counts, the month's total), so
the simulator decides with the same engine as the validator. Records are small slotted
classes: a stored object costs well under 2 KiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, Final

import attrs

from apfsm._clock import format_timestamp, month_start
from apfsm._decide import DEADLINE_FUNCTIONS, Money, parse_money, to_wire
from apfsm._spec import Limits

from .shapes import (
    MERCHANT_METADATA_KEYS,
    PAYMENT_DETAILS_KEYS,
    WEB_CHECKOUT_DETAILS_KEYS,
    address,
    buyer,
    copy,
    pick,
    signed_in_buyer,
)

__all__ = [
    "CONSTRAINT_DESCRIPTIONS",
    "RECORD_TYPES",
    "BuyerRecord",
    "ChargePermissionRecord",
    "ChargeRecord",
    "CheckoutSessionRecord",
    "DisputeRecord",
    "Record",
    "RefundRecord",
    "copy_json",
    "merge",
    "stamp",
]

#: Descriptions Amazon gives with each constraint id (SPEC §3).
CONSTRAINT_DESCRIPTIONS: Final = {
    "CheckoutResultReturnUrlNotSet": "checkoutResultReturnUrl is not set",
    "ChargeAmountNotSet": "chargeAmount is not set",
    "PaymentIntentNotSet": "paymentIntent is not set",
    "BuyerNotAssociated": "the buyer has not signed in and picked a payment method",
    "RecurringFrequencyNotSet": "recurringMetadata.frequency is not set",
}

_DESCRIPTIONS: Final = {
    "BuyerCanceled": "the buyer canceled",
    "Declined": "the payment was declined",
    "AmazonCanceled": "Amazon canceled",
    "Expired": "the time limit passed",
    "MerchantClosed": "closed by the merchant",
    "BuyerClosed": "closed by the buyer",
    "AmazonClosed": "the permission's amount is used up",
    "ExpiredUnused": "the authorization expired unused",
    "MerchantCanceled": "canceled by the merchant",
    "ChargePermissionCanceled": "the charge permission was closed with cancelPendingCharges",
    "SoftDeclined": "declined; a retry may succeed",
    "HardDeclined": "declined; retrying will not help",
    "AmazonRejected": "rejected by Amazon",
    "ProcessingFailure": "could not be processed",
    "TransactionTimedOut": "the authorization was not resolved in time",
    # Dispute reasons (docs/dispute.md).
    "MerchantResponseRequired": "the merchant's response is required",
    "MerchantAdditionalEvidencesRequired": "the merchant must provide more evidence",
    "BuyerAdditionalEvidencesRequired": "the buyer must provide more evidence",
    "MerchantAcceptedDispute": "the merchant accepted the dispute",
    "MerchantResponseDeadlineExpired": "the merchant did not respond in time",
    "BuyerCancelled": "the buyer withdrew the dispute",
    "InvestigatorResolved": "decided by the investigator",
    "AutoResolved": "decided automatically",
    "ChargebackFiled": "the buyer filed a chargeback with the bank",
}


@lru_cache(maxsize=2048)  # recent instants repeat (an object's own timestamps, re-rendered)
def _ts(when: datetime) -> str:
    return format_timestamp(when)


def _ts_or_none(when: datetime | None) -> str | None:
    return None if when is None else _ts(when)


def _details(state: str, reason: str | None, updated: datetime) -> dict[str, Any]:
    return {
        "state": state,
        "reasonCode": reason,
        "reasonDescription": None if reason is None else _DESCRIPTIONS.get(reason, reason),
        "lastUpdatedTimestamp": _ts(updated),
    }


_copy = copy


def _preferences(card: str) -> list[dict[str, str]]:
    return [{"paymentDescriptor": f"Visa ****{card}"}]


@attrs.define(slots=True, eq=False)
class _Record:
    id: str
    seq: int  # creation order: ties between deadlines go to the object created first
    created_at: datetime
    updated_at: datetime
    state: str

    # Payloads can print a deadline; records derive theirs from Limits (SPEC §2).
    @property
    def payload_deadline(self) -> None:
        return None


@attrs.define(slots=True, eq=False)
class CheckoutSessionRecord(_Record):
    object_type: ClassVar[str] = "CheckoutSession"
    reason: str | None = None
    store_id: str = ""
    web: dict[str, Any] = attrs.Factory(dict)
    payment_details: dict[str, Any] = attrs.Factory(dict)
    permission_type: str = "OneTime"
    recurring: dict[str, Any] | None = None
    merchant: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None  # the other request fields (platformId, ...)
    card: str | None = None  # the sandbox card the buyer picked (SPEC §7)
    charge_permission_id: str | None = None
    charge_id: str | None = None

    @property
    def constraints(self) -> tuple[str, ...]:
        """What is still missing before completion (SPEC §3)."""
        missing = []
        if not self.web.get("checkoutResultReturnUrl"):
            missing.append("CheckoutResultReturnUrlNotSet")
        intent = self.payment_details.get("paymentIntent")
        if intent is None:
            missing.append("PaymentIntentNotSet")
        if intent in ("Authorize", "AuthorizeWithCapture") and not self.payment_details.get(
            "chargeAmount"
        ):
            missing.append("ChargeAmountNotSet")
        if self.card is None:
            missing.append("BuyerNotAssociated")
        if self.permission_type == "Recurring" and not (self.recurring or {}).get("frequency"):
            missing.append("RecurringFrequencyNotSet")
        return tuple(missing)

    @property
    def charge_amount(self) -> Money | None:
        value = self.payment_details.get("chargeAmount")
        return None if value is None else parse_money(value, "chargeAmount")

    def to_json(self, limits: Limits, now: datetime) -> dict[str, Any]:
        """The session's JSON: Amazon's keys in Amazon's order (``shapes``, SPEC §11)."""
        constraints = self.constraints if self.state == "Open" else ()
        web = pick(WEB_CHECKOUT_DETAILS_KEYS, self.web) or {}
        web["amazonPayRedirectUrl"] = (
            f"https://apay-us.amazon.com/checkout/processing?amazonCheckoutSessionId={self.id}"
            if self.state == "Open" and not constraints
            else None
        )
        deadline = DEADLINE_FUNCTIONS["checkout_session_expiry"](self, limits)
        extra = self.extra or {}
        card = self.card  # set once the buyer signed in (SPEC §7)
        return {
            "checkoutSessionId": self.id,
            "webCheckoutDetails": web,
            "productType": _copy(extra.get("productType")),
            "paymentDetails": pick(PAYMENT_DETAILS_KEYS, self.payment_details),
            "chargePermissionType": self.permission_type,
            "orderType": _copy(extra.get("orderType")),
            "recurringMetadata": _copy(self.recurring),
            "paymentMethodOnFileMetadata": _copy(extra.get("paymentMethodOnFileMetadata")),
            "merchantDetails": _copy(extra.get("merchantDetails")),
            "merchantMetadata": pick(MERCHANT_METADATA_KEYS, self.merchant),
            "supplementaryData": _copy(extra.get("supplementaryData")),
            "buyer": None if card is None else buyer(self.id),
            "billingAddress": None if card is None else address(),
            "paymentPreferences": None if card is None else _preferences(card),
            "statusDetails": _details(self.state, self.reason, self.updated_at),
            "shippingAddress": None if card is None else address(),
            "platformId": extra.get("platformId"),
            "chargePermissionId": self.charge_permission_id,
            "chargeId": self.charge_id,
            "constraints": [
                {"constraintId": c, "description": CONSTRAINT_DESCRIPTIONS[c]} for c in constraints
            ],
            "creationTimestamp": _ts(self.created_at),
            "expirationTimestamp": _ts(deadline),
            "storeId": self.store_id,
            "providerMetadata": _copy(extra.get("providerMetadata")),
            "releaseEnvironment": "Sandbox",
            "checkoutButtonText": _copy(extra.get("checkoutButtonText")),
            "deliverySpecifications": _copy(extra.get("deliverySpecifications")),
            "tokens": _copy(extra.get("tokens")),
        }


@attrs.define(slots=True, eq=False)
class ChargePermissionRecord(_Record):
    object_type: ClassVar[str] = "ChargePermission"
    permission_type: str = "OneTime"
    currency: str = "USD"
    amount_limit: Decimal | None = None  # one-time permissions only
    extended: bool = False
    reasons: tuple[str, ...] = ()
    card: str = "1111"
    checkout_session_id: str = ""
    merchant: dict[str, Any] | None = None
    recurring: dict[str, Any] | None = None
    platform_id: str | None = None
    last_charge_at: datetime | None = None
    closed_at: datetime | None = None  # when it entered Closed (its buyer's retention)
    charges: list[ChargeRecord] = attrs.Factory(list)

    # -- facts for the rules (SPEC §4, §5) -------------------------------------------------
    @property
    def charge_count(self) -> int:
        return len(self.charges)

    @property
    def captured_total(self) -> Decimal:
        return sum(
            (c.capture_amount or Decimal(0) for c in self.charges if c.state == "Captured"),
            Decimal(0),
        )

    @property
    def amount_balance(self) -> Decimal | None:
        """amountLimit − captured total − amounts of charges still pending (SPEC §4)."""
        if self.amount_limit is None:
            return None
        held = Decimal(0)
        for c in self.charges:
            if c.state == "Captured":
                held += c.capture_amount or Decimal(0)
            elif c.state in ("AuthorizationInitiated", "Authorized"):
                held += c.amount
            elif c.state == "CaptureInitiated":
                held += c.capture_amount if c.capture_amount is not None else c.amount
        return max(self.amount_limit - held, Decimal(0))

    def monthly_total(self, at: datetime) -> Decimal:
        """This calendar month's (UTC) captured + authorized total; charges that ended
        Canceled or Declined do not count (SPEC §5)."""
        start = month_start(at)
        total = Decimal(0)
        for c in self.charges:
            if c.created_at >= start and c.state not in ("Canceled", "Declined"):
                total += c.capture_amount if c.capture_amount is not None else c.amount
        return total

    @property
    def reason(self) -> str | None:
        """The first reason stands for the state (a permission can have several)."""
        return self.reasons[0] if self.reasons else None

    def buyer_until(self, limits: Limits) -> datetime | None:
        """When the permission's JSON drops its buyer (None: not yet known). Amazon's
        charge-permission.html: a one-time permission shows it for the first 30 days after
        creation; a recurring one while open and up to 30 days after closing (a Saved
        Wallet permission like a recurring one: Decision, docs/limits.md)."""
        if self.permission_type == "OneTime":
            return self.created_at + limits.buyer_details_retention
        if self.closed_at is None:
            return None
        return self.closed_at + limits.buyer_details_retention

    def shows_buyer(self, limits: Limits, now: datetime) -> bool:
        """Whether the JSON carries the buyer at ``now`` (the boundary as SPEC §2's time
        limits)."""
        until = self.buyer_until(limits)
        return until is None or not limits.ttl_passed(until, now)

    def to_json(self, limits: Limits, now: datetime) -> dict[str, Any]:
        """The permission's JSON: Amazon's keys (``shapes``, SPEC §11)."""
        deadline = DEADLINE_FUNCTIONS["permission_expiry"](self, limits)
        limits_json = None
        if self.amount_limit is not None:
            balance = self.amount_balance or Decimal(0)
            limits_json = {
                "amountLimit": to_wire(self.amount_limit, self.currency, limits),
                "amountBalance": to_wire(balance, self.currency, limits),
            }
        seed = self.checkout_session_id or self.id
        return {
            "chargePermissionId": self.id,
            "chargePermissionReferenceId": None,
            "platformId": self.platform_id,
            "buyer": buyer(seed) if self.shows_buyer(limits, now) else None,
            "shippingAddress": address(),
            "billingAddress": address(),
            "paymentPreferences": _preferences(self.card),
            "statusDetails": {
                "state": self.state,
                "reasons": [
                    {"reasonCode": r, "reasonDescription": _DESCRIPTIONS.get(r, r)}
                    for r in self.reasons
                ]
                or None,
                "lastUpdatedTimestamp": _ts(self.updated_at),
            },
            "creationTimestamp": _ts(self.created_at),
            "expirationTimestamp": None if self.state == "Closed" else _ts(deadline),
            "merchantMetadata": pick(MERCHANT_METADATA_KEYS, self.merchant),
            "releaseEnvironment": "Sandbox",
            "limits": limits_json,
            "chargePermissionType": self.permission_type,
            "recurringMetadata": _copy(self.recurring),
            "presentmentCurrency": self.currency,
        }


@attrs.define(slots=True, eq=False)
class ChargeRecord(_Record):
    object_type: ClassVar[str] = "Charge"
    reason: str | None = None
    charge_permission_id: str = ""
    amount: Decimal = Decimal(0)
    currency: str = "USD"
    capture_amount: Decimal | None = None
    authorized_at: datetime | None = None
    soft_descriptor: str | None = None
    merchant: dict[str, Any] | None = None
    provider: dict[str, Any] | None = None
    channel: str | None = None
    initiator: str | None = None
    extra: dict[str, Any] | None = None  # echoed request fields: platformId, webCheckoutDetails
    refunds: list[RefundRecord] = attrs.Factory(list)

    # -- facts for the rules (SPEC §5, §6) ------------------------------------------------
    @property
    def charge_amount(self) -> Money:
        return (self.amount, self.currency)

    @property
    def captured_amount(self) -> Money:
        captured = self.capture_amount
        return (self.amount if captured is None else captured, self.currency)

    @property
    def refund_committed(self) -> Decimal:
        """Refunds not Declined, pending ones included (SPEC §6)."""
        return sum((r.amount for r in self.refunds if r.state != "Declined"), Decimal(0))

    @property
    def refunded_total(self) -> Decimal:
        """Refunds that reached Refunded: the payload's refundedAmount (SPEC §6)."""
        return sum((r.amount for r in self.refunds if r.state == "Refunded"), Decimal(0))

    @property
    def refund_count(self) -> int:
        return len(self.refunds)

    def to_json(self, limits: Limits, now: datetime) -> dict[str, Any]:
        """The charge's JSON: Amazon's keys (``shapes``, SPEC §11)."""
        expiration = None
        if self.authorized_at is not None:
            expiration = DEADLINE_FUNCTIONS["authorization_expiry"](self, limits)
        extra = self.extra or {}
        return {
            "chargeId": self.id,
            "chargeAmount": to_wire(self.amount, self.currency, limits),
            "chargePermissionId": self.charge_permission_id,
            "captureAmount": None
            if self.capture_amount is None
            else to_wire(self.capture_amount, self.currency, limits),
            "refundedAmount": to_wire(self.refunded_total, self.currency, limits),
            "softDescriptor": self.soft_descriptor,
            "providerMetadata": _copy(self.provider),
            "convertedAmount": None,
            "conversionRate": None,
            "channel": self.channel,
            "chargeInitiator": self.initiator,
            "statusDetails": _details(self.state, self.reason, self.updated_at),
            "creationTimestamp": _ts(self.created_at),
            "expirationTimestamp": _ts_or_none(expiration),
            "releaseEnvironment": "Sandbox",
            "merchantMetadata": pick(MERCHANT_METADATA_KEYS, self.merchant),
            "platformId": extra.get("platformId"),
            "webCheckoutDetails": _copy(extra.get("webCheckoutDetails")),
        }


@attrs.define(slots=True, eq=False)
class RefundRecord(_Record):
    object_type: ClassVar[str] = "Refund"
    reason: str | None = None
    charge_id: str = ""
    amount: Decimal = Decimal(0)
    currency: str = "USD"
    soft_descriptor: str | None = None
    outcome: str | None = None  # the simulated decline reason, if any (SPEC §7)

    def to_json(self, limits: Limits, now: datetime) -> dict[str, Any]:
        """The refund's JSON: Amazon's keys in the Node SDK test's order (SPEC §11)."""
        return {
            "refundId": self.id,
            "chargeId": self.charge_id,
            "creationTimestamp": _ts(self.created_at),
            "refundAmount": to_wire(self.amount, self.currency, limits),
            "statusDetails": _details(self.state, self.reason, self.updated_at),
            "softDescriptor": self.soft_descriptor,
            "releaseEnvironment": "Sandbox",
        }


@attrs.define(slots=True, eq=False)
class DisputeRecord(_Record):
    """A buyer's chargeback or A-to-z claim on a captured charge (docs/dispute.md): filed by
    the buyer (``Simulator.file_dispute``) or reported by a payment service provider
    (``create_dispute``)."""

    object_type: ClassVar[str] = "Dispute"
    reason: str | None = None
    charge_id: str = ""
    charge_permission_id: str = ""  # the IPN's ChargePermissionId
    amount: Decimal = Decimal(0)
    currency: str = "USD"
    dispute_type: str = "Chargeback"
    filing_reason: str = "Other"
    resolution: str | None = None
    #: When it last asked for the merchant's response: the window counts from here.
    action_required_at: datetime | None = None
    #: providerMetadata, merchantEvidences, the PSP's timestamps: kept as sent;
    #: reportedStatus: a provider's own reasonDescription with the state and reason it
    #: describes (``handlers._reported_status``).
    extra: dict[str, Any] | None = None

    def to_json(self, limits: Limits, now: datetime) -> dict[str, Any]:
        """The dispute's JSON: dispute.html's keys (the Node SDK test's
        expectedDisputeResponseKeys among them)."""
        extra = self.extra or {}
        details = _details(self.state, self.reason, self.updated_at)
        reported = extra.get("reportedStatus")
        if reported and (reported["state"], reported["reasonCode"]) == (self.state, self.reason):
            details["reasonDescription"] = reported["reasonDescription"]  # the provider's
        details["resolution"] = self.resolution
        deadline = None
        if self.action_required_at is not None:
            deadline = DEADLINE_FUNCTIONS["dispute_response_deadline"](self, limits)
            if deadline.replace(tzinfo=None) == datetime.max:
                deadline = None  # the buyer is asked: no window for the merchant
        return {
            "disputeId": self.id,
            "chargeId": self.charge_id,
            "disputeType": self.dispute_type,
            "disputeAmount": to_wire(self.amount, self.currency, limits),
            "filingReason": self.filing_reason,
            "statusDetails": details,
            "merchantEvidences": _copy(extra.get("merchantEvidences", [])),
            "merchantResponseDeadline": _ts_or_none(deadline),
            # Decision: dispute.html's own example authority for every dispute.
            "resolutionAuthority": "AmazonPay",
            "providerMetadata": _copy(extra.get("providerMetadata")),
            "creationTimestamp": _ts(self.created_at),
            "releaseEnvironment": "Sandbox",
        }


@attrs.define(slots=True, eq=False)
class BuyerRecord(_Record):
    """A buyer token (its ``id``) and the buyer it reads: made by ``buyer_sign_in``,
    deleted ``Limits.buyer_token_ttl`` after (SPEC §11, docs/buyer.md)."""

    object_type: ClassVar[str] = "Buyer"
    reason: str | None = None  # never set: a Buyer enters no state (the rules read it)
    buyer_id: str = ""
    scopes: tuple[str, ...] = ()

    @property
    def signed_in_at(self) -> datetime:
        return self.created_at

    def to_json(self, limits: Limits, now: datetime) -> dict[str, Any]:
        """The Buyer's JSON: ``buyerId``, and what the sign-in's scopes share."""
        return signed_in_buyer(self.buyer_id, self.scopes)


def copy_json(value: Any) -> Any:
    """A deep copy of decoded JSON."""
    return _copy(value)


def merge(base: Mapping[str, Any] | None, update: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update`` one level deep (null values clear nothing)."""
    out = dict(base or {})
    for key, value in update.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **{k: v for k, v in _copy(value).items() if v is not None}}
        else:
            out[key] = _copy(value)
    return out


Record = (
    CheckoutSessionRecord
    | ChargePermissionRecord
    | ChargeRecord
    | RefundRecord
    | BuyerRecord
    | DisputeRecord
)
#: The record class of each object type.
RECORD_TYPES: Final[Mapping[str, type[Record]]] = MappingProxyType(
    {
        cls.object_type: cls
        for cls in (
            CheckoutSessionRecord,
            ChargePermissionRecord,
            ChargeRecord,
            RefundRecord,
            BuyerRecord,
            DisputeRecord,
        )
    }
)


def stamp(now: datetime) -> datetime:
    """Timestamps on objects are whole seconds, as payloads print them (SPEC §1)."""
    return now.replace(microsecond=0)
