"""The four lifecycles, declared as data (SPEC §3–§7).

This module is the single source of the lifecycle rules: the ``transitions`` machines, the
validator, the simulator, the diagrams, the docs tables and the Hypothesis strategies are
all derived from these records. It holds no behaviour: guards, deadlines and checks are
named here and implemented in ``_rules``, keyed by the same names.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

import attrs

from .limits import FrozenMap, Limits
from .operations import OPERATIONS

__all__ = [
    "CHECKS",
    "DEADLINES",
    "GUARDS",
    "LIFECYCLES",
    "SAME",
    "Allow",
    "Check",
    "Creation",
    "Deadline",
    "Event",
    "Guard",
    "Lifecycle",
    "Refuse",
    "StateDecl",
    "Timer",
]

#: ``dest`` of a transition that keeps the object in its state.
SAME: Final = "="
#: The pseudo-state of a deleted object (SPEC §2 retention). Never in a payload.
DELETED: Final = "Deleted"

Actor = Literal["buyer", "amazon"]


def _template_fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


class _Describe(dict[str, str]):
    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits

    def __missing__(self, key: str) -> str:
        return self._limits.describe(key)


def render_label(template: str, limits: Limits) -> str:
    """Fill a label template's ``{limit_name}`` fields with ``limits``' values."""
    return template.format_map(_Describe(limits))


@attrs.frozen
class StateDecl:
    """A state of an object.

    Attributes:
        name: as it appears in ``statusDetails.state``.
        description: one line for docs and diagrams.
        reasons: reason codes the object can carry in this state.
        initial: an object can be created in this state.
        terminal: no operation, event or timer leads out of it (deletion aside).
        virtual: not an API state (``Deleted``): never in a payload.
    """

    name: str
    description: str
    reasons: tuple[str, ...] = ()
    initial: bool = False
    terminal: bool = False
    virtual: bool = False


@attrs.frozen
class Guard:
    """A named condition on a transition, implemented in ``_rules.GUARD_FUNCTIONS``.

    ``label`` is a template whose ``{field}`` parts name ``Limits`` fields, e.g.
    ``"≤ {async_capture_after} after authorization"``. ``complement`` names the guard this
    one negates: a branch guarded by it after a branch guarded by its complement needs no
    evaluation.
    """

    name: str
    label: str
    complement: str | None = None

    @property
    def limits(self) -> tuple[str, ...]:
        """The ``Limits`` fields this guard depends on."""
        return _template_fields(self.label)


@attrs.frozen
class Deadline:
    """A named deadline, implemented in ``_rules.DEADLINES``.

    Attributes:
        name: the key.
        label: a template over ``Limits`` fields, e.g. ``"{authorization_ttl}"``.
        anchor: what the limit counts from, in words.
        limits: every ``Limits`` field the deadline depends on.
        payload_field: a payload field that, when present, gives this deadline directly and
            wins over the derived one (SPEC §2).
    """

    name: str
    label: str
    anchor: str
    limits: tuple[str, ...]
    payload_field: str | None = None


@attrs.frozen
class Check:
    """A rule an allowed operation must also pass (amounts, currencies, counts).

    Checks run in their operation's order after the state rule; the first failing one
    answers ``code``. A check that needs facts the caller does not have (history that a
    payload does not show) is skipped.
    """

    name: str
    code: str
    description: str


@attrs.frozen
class Allow:
    """``operation`` is accepted in ``sources``; the target moves to ``dest`` when ``guard``
    holds (several Allows for one state are tried in order)."""

    operation: str
    sources: tuple[str, ...]
    dest: str
    guard: str | None = None
    reason: str | None = None


@attrs.frozen
class Refuse:
    """``operation`` is refused in ``sources`` with ``code`` (or, for the reason the object
    carries, with ``by_reason[reason]``)."""

    operation: str
    sources: tuple[str, ...]
    code: str
    by_reason: FrozenMap[str, str] = attrs.field(
        default=FrozenMap[str, str](), converter=FrozenMap[str, str]
    )


@attrs.frozen
class Event:
    """Something the buyer or Amazon does (not a merchant call).

    ``reason`` None means the reason varies (given when the event happens, from
    ``reasons``). ``delay`` names the ``Limits`` field after which Amazon resolves an
    asynchronous outcome, when the event is one.
    """

    name: str
    sources: tuple[str, ...]
    dest: str
    actor: Actor
    description: str
    reason: str | None = None
    reasons: tuple[str, ...] = ()
    delay: str | None = None


@attrs.frozen
class Timer:
    """A time-driven transition: at ``deadline`` the object moves to ``dest``."""

    name: str
    sources: tuple[str, ...]
    dest: str
    deadline: str
    reason: str | None = None


@attrs.frozen
class Creation:
    """``operation`` creates this object in ``dest`` when ``guard`` holds (tried in order).

    ``http_status`` overrides the operation's success status (202 for a pending
    completion).
    """

    operation: str
    dest: str
    guard: str | None = None
    http_status: int | None = None


@attrs.frozen
class Lifecycle:
    """One object type's whole declaration."""

    object_type: str
    notification_type: str | None
    description: str
    states: tuple[StateDecl, ...]
    allows: tuple[Allow, ...]
    refusals: tuple[Refuse, ...]
    events: tuple[Event, ...] = ()
    timers: tuple[Timer, ...] = ()
    creations: tuple[Creation, ...] = ()

    def state(self, name: str) -> StateDecl:
        for state in self.states:
            if state.name == name:
                return state
        raise ValueError(
            f"{name!r} is not a {self.object_type} state; "
            f"states are {', '.join(self.state_names())}"
        )

    def state_names(self, *, virtual: bool = False) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if virtual or not s.virtual)

    @property
    def operations(self) -> tuple[str, ...]:
        """Operations that act on this object type, in declaration order."""
        return tuple(op.name for op in OPERATIONS.values() if op.target == self.object_type)


# ---------------------------------------------------------------------------------------
# Named guards, deadlines and checks (implemented in _rules under the same names)
# ---------------------------------------------------------------------------------------

_GUARD_LIST: Final = (
    Guard("sync_capture", "≤ {async_capture_after} after authorization"),
    Guard(
        "async_capture",
        "> {async_capture_after} after authorization",
        complement="sync_capture",
    ),
    Guard("capture_now", "captureNow"),
    Guard("pending_authorization", "canHandlePendingAuthorization"),
    Guard("simulated_decline", "simulated decline"),
    Guard("intent_authorize", "paymentIntent Authorize"),
    Guard("intent_authorize_pending", "Authorize + canHandlePendingAuthorization"),
    Guard("intent_capture", "paymentIntent AuthorizeWithCapture"),
)
GUARDS: Final[Mapping[str, Guard]] = MappingProxyType({g.name: g for g in _GUARD_LIST})

_DEADLINE_LIST: Final = (
    Deadline(
        "checkout_session_expiry",
        "{checkout_session_ttl}",
        "checkout session creation",
        ("checkout_session_ttl",),
        payload_field="expirationTimestamp",
    ),
    Deadline(
        "checkout_session_retention",
        "{checkout_session_retention}",
        "creation",
        ("checkout_session_retention",),
    ),
    Deadline(
        "pending_authorization_expiry",
        "{pending_authorization_ttl}",
        "charge creation",
        ("pending_authorization_ttl",),
    ),
    Deadline(
        "authorization_expiry",
        "{authorization_ttl}",
        "authorization",
        ("authorization_ttl",),
        payload_field="expirationTimestamp",
    ),
    Deadline(
        "permission_expiry",
        "{one_time_permission_ttl} (one-time) / {extended_permission_months} (extended) "
        "/ {recurring_permission_months} (recurring)",
        "creation (recurring: the last successful charge)",
        (
            "one_time_permission_ttl",
            "extended_permission_months",
            "recurring_permission_months",
        ),
        payload_field="expirationTimestamp",
    ),
)
DEADLINES: Final[Mapping[str, Deadline]] = MappingProxyType({d.name: d for d in _DEADLINE_LIST})

_CHECK_LIST: Final = (
    Check(
        "constraints_met",
        "InvalidCheckoutSessionStatus",
        "no constraint left (buyer associated, amounts and URLs set)",
    ),
    Check(
        "completion_currency_matches",
        "CurrencyMismatch",
        "chargeAmount currency equals the session's",
    ),
    Check(
        "completion_amount_matches",
        "AmountMismatch",
        "chargeAmount equals the session's paymentDetails.chargeAmount",
    ),
    Check(
        "pending_with_capture",
        "InvalidParameterCombination",
        "canHandlePendingAuthorization is not combined with AuthorizeWithCapture",
    ),
    Check("charge_currency_matches", "CurrencyMismatch", "currency equals the permission's"),
    Check(
        "within_per_charge_maximum",
        "InvalidParameterValue",
        "amount ≤ the per-charge maximum of its currency",
    ),
    Check(
        "charge_count_below_limit",
        "TransactionCountExceeded",
        "a one-time permission has fewer than {max_charges_per_one_time_permission} charges",
    ),
    Check(
        "within_permission_balance",
        "TransactionAmountExceeded",
        "amount ≤ the one-time permission's amountBalance",
    ),
    Check(
        "within_monthly_cap",
        "PeriodicAmountExceeded",
        "this calendar month's total stays within the recurring cap",
    ),
    Check("capture_currency_matches", "CurrencyMismatch", "currency equals the charge's"),
    Check(
        "capture_within_charge_amount",
        "TransactionAmountExceeded",
        "captureAmount ≤ chargeAmount",
    ),
    Check("refund_currency_matches", "CurrencyMismatch", "currency equals the charge's"),
    Check(
        "refund_count_below_limit",
        "TransactionCountExceeded",
        "fewer than {max_refunds_per_charge} refunds on the charge",
    ),
    Check(
        "refund_within_allowance",
        "TransactionAmountExceeded",
        "refunds ≤ captured + min({refund_overage_rate} × captured, cap)",
    ),
)
CHECKS: Final[Mapping[str, Check]] = MappingProxyType({c.name: c for c in _CHECK_LIST})

# ---------------------------------------------------------------------------------------
# The lifecycles
# ---------------------------------------------------------------------------------------

_CS_OPEN: Final = ("Open",)
_CS_ALL: Final = ("Open", "Completed", "Canceled")
_CS_CANCELED_BY: Final[dict[str, str]] = {
    # SPEC §3 step 2: canceled by the buyer, a decline or Amazon → CheckoutSessionCanceled;
    # Expired (and reasons apfsm does not know) fall through to step 3.
    "BuyerCanceled": "CheckoutSessionCanceled",
    "Declined": "CheckoutSessionCanceled",
    "AmazonCanceled": "CheckoutSessionCanceled",
}

CHECKOUT_SESSION: Final = Lifecycle(
    object_type="CheckoutSession",
    notification_type=None,
    description="The buyer's checkout on Amazon's page; completing it creates the permission.",
    states=(
        StateDecl("Open", "created; the buyer can still sign in and pay", initial=True),
        StateDecl("Completed", "completed: charge permission (and charge) created", terminal=True),
        StateDecl(
            "Canceled",
            "canceled by the buyer, a decline, Amazon, or expiry",
            reasons=("BuyerCanceled", "Declined", "AmazonCanceled", "Expired"),
            terminal=True,
        ),
        StateDecl(DELETED, "deleted after the retention period", terminal=True, virtual=True),
    ),
    creations=(Creation("create_checkout_session", "Open"),),
    allows=(
        Allow("get_checkout_session", _CS_ALL, SAME),
        Allow("update_checkout_session", _CS_OPEN, SAME),
        Allow("complete_checkout_session", _CS_OPEN, "Completed"),
    ),
    refusals=(
        Refuse(
            "update_checkout_session", ("Completed", "Canceled"), "InvalidCheckoutSessionStatus"
        ),
        Refuse("complete_checkout_session", ("Completed",), "InvalidCheckoutSessionStatus"),
        Refuse(
            "complete_checkout_session",
            ("Canceled",),
            "InvalidCheckoutSessionStatus",
            by_reason=_CS_CANCELED_BY,
        ),
        Refuse("get_checkout_session", (DELETED,), "ResourceNotFound"),
        Refuse("update_checkout_session", (DELETED,), "ResourceNotFound"),
        Refuse("complete_checkout_session", (DELETED,), "ResourceNotFound"),
    ),
    events=(
        Event(
            "buyer_approve",
            _CS_OPEN,
            SAME,
            "buyer",
            "the buyer signs in and picks a payment method (clears BuyerNotAssociated)",
        ),
        Event("buyer_cancel", _CS_OPEN, "Canceled", "buyer", "the buyer cancels", "BuyerCanceled"),
        Event(
            "checkout_declined",
            _CS_OPEN,
            "Canceled",
            "amazon",
            "the payment is declined during checkout",
            "Declined",
        ),
        Event(
            "amazon_cancel",
            _CS_OPEN,
            "Canceled",
            "amazon",
            "Amazon cancels the session",
            "AmazonCanceled",
        ),
    ),
    timers=(
        Timer("expire", _CS_OPEN, "Canceled", "checkout_session_expiry", reason="Expired"),
        Timer("delete", _CS_ALL, DELETED, "checkout_session_retention"),
    ),
)

_CP_ACTIVE: Final = ("Chargeable", "NonChargeable")
NON_CHARGEABLE_REASONS: Final = (
    "PaymentMethodInvalid",
    "PaymentMethodDeleted",
    "BillingAddressDeleted",
    "PaymentMethodExpired",
    "PaymentMethodNotAllowed",
    "PaymentMethodNotSet",
    "ChargeInProgress",
    "MFAFailed",
)

CHARGE_PERMISSION: Final = Lifecycle(
    object_type="ChargePermission",
    notification_type="CHARGE_PERMISSION",
    description="The buyer's consent to be charged; one-time or recurring.",
    states=(
        StateDecl("Chargeable", "charges can be created on it", initial=True),
        StateDecl(
            "NonChargeable",
            "the payment instrument has a problem",
            reasons=NON_CHARGEABLE_REASONS,
        ),
        StateDecl(
            "Closed",
            "closed by the merchant, buyer or Amazon, used up, or expired",
            reasons=("MerchantClosed", "BuyerClosed", "AmazonClosed", "AmazonCanceled", "Expired"),
            terminal=True,
        ),
    ),
    creations=(Creation("complete_checkout_session", "Chargeable"),),
    allows=(
        Allow("get_charge_permission", ("Chargeable", "NonChargeable", "Closed"), SAME),
        Allow("update_charge_permission", _CP_ACTIVE, SAME),
        Allow("close_charge_permission", _CP_ACTIVE, "Closed", reason="MerchantClosed"),
        Allow("create_charge", ("Chargeable",), SAME),
    ),
    refusals=(
        Refuse("update_charge_permission", ("Closed",), "InvalidChargePermissionStatus"),
        Refuse("close_charge_permission", ("Closed",), "InvalidChargePermissionStatus"),
        Refuse("create_charge", ("NonChargeable", "Closed"), "InvalidChargePermissionStatus"),
    ),
    events=(
        Event(
            "payment_method_problem",
            _CP_ACTIVE,
            "NonChargeable",
            "amazon",
            "the payment instrument becomes unusable",
            reasons=NON_CHARGEABLE_REASONS,
        ),
        Event(
            "payment_method_fixed",
            ("NonChargeable",),
            "Chargeable",
            "buyer",
            "the buyer fixes the payment instrument",
        ),
        Event(
            "hard_decline",
            ("Chargeable",),
            "NonChargeable",
            "amazon",
            "a charge on a recurring permission is hard-declined",
            "PaymentMethodInvalid",
        ),
        Event(
            "buyer_close",
            _CP_ACTIVE,
            "Closed",
            "buyer",
            "the buyer closes the permission",
            "BuyerClosed",
        ),
        Event(
            "balance_used_up",
            _CP_ACTIVE,
            "Closed",
            "amazon",
            "captures reach the one-time permission's amountLimit",
            "AmazonClosed",
        ),
        Event(
            "amazon_cancel",
            _CP_ACTIVE,
            "Closed",
            "amazon",
            "a charge is AmazonRejected; Amazon closes the permission",
            "AmazonCanceled",
        ),
    ),
    timers=(Timer("expire", _CP_ACTIVE, "Closed", "permission_expiry", reason="Expired"),),
)

_DECLINE_REASONS: Final = (
    "SoftDeclined",
    "HardDeclined",
    "AmazonRejected",
    "ProcessingFailure",
    "TransactionTimedOut",
)
_CH_ALL: Final = (
    "AuthorizationInitiated",
    "Authorized",
    "CaptureInitiated",
    "Captured",
    "Canceled",
    "Declined",
)
_CH_CANCELABLE: Final = ("AuthorizationInitiated", "Authorized")

CHARGE: Final = Lifecycle(
    object_type="Charge",
    notification_type="CHARGE",
    description="One authorization on a permission, captured at most once.",
    states=(
        StateDecl(
            "AuthorizationInitiated",
            "authorization pending; resolves asynchronously",
            initial=True,
        ),
        StateDecl(
            "Authorized",
            "authorized; can be captured or canceled",
            reasons=("StopShipmentAtypicalAuth",),
            initial=True,
        ),
        StateDecl(
            "CaptureInitiated",
            "capture pending; resolves asynchronously",
            reasons=("StopShipmentAtypicalAuth",),
        ),
        StateDecl(
            "Captured",
            "captured; can be refunded",
            reasons=("StopShipmentAtypicalAuth",),
            initial=True,
            terminal=True,
        ),
        StateDecl(
            "Canceled",
            "canceled by the merchant, the permission, Amazon, the buyer, or expiry",
            reasons=(
                "ExpiredUnused",
                "MerchantCanceled",
                "ChargePermissionCanceled",
                "AmazonCanceled",
                "BuyerCanceled",
            ),
            terminal=True,
        ),
        StateDecl(
            "Declined",
            "declined",
            reasons=_DECLINE_REASONS,
            initial=True,
            terminal=True,
        ),
    ),
    creations=(
        Creation("create_charge", "Declined", guard="simulated_decline"),
        Creation("create_charge", "Captured", guard="capture_now"),
        Creation("create_charge", "AuthorizationInitiated", guard="pending_authorization"),
        Creation("create_charge", "Authorized"),
        Creation(
            "complete_checkout_session",
            "AuthorizationInitiated",
            guard="intent_authorize_pending",
            http_status=202,
        ),
        Creation("complete_checkout_session", "Authorized", guard="intent_authorize"),
        Creation("complete_checkout_session", "Captured", guard="intent_capture"),
    ),
    allows=(
        Allow("get_charge", _CH_ALL, SAME),
        Allow("capture_charge", ("Authorized",), "Captured", guard="sync_capture"),
        Allow("capture_charge", ("Authorized",), "CaptureInitiated", guard="async_capture"),
        Allow("cancel_charge", _CH_CANCELABLE, "Canceled", reason="MerchantCanceled"),
        Allow("create_refund", ("Captured",), SAME),
    ),
    refusals=(
        Refuse(
            "capture_charge",
            ("AuthorizationInitiated", "CaptureInitiated", "Captured", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
        Refuse(
            "cancel_charge",
            ("CaptureInitiated", "Captured", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
        Refuse(
            "create_refund",
            ("AuthorizationInitiated", "Authorized", "CaptureInitiated", "Canceled", "Declined"),
            "InvalidChargeStatus",
        ),
    ),
    events=(
        Event(
            "authorization_approved",
            ("AuthorizationInitiated",),
            "Authorized",
            "amazon",
            "the pending authorization succeeds",
            delay="async_outcome_delay",
        ),
        Event(
            "authorization_declined",
            ("AuthorizationInitiated",),
            "Declined",
            "amazon",
            "the pending authorization is declined",
            reasons=_DECLINE_REASONS,
            delay="async_outcome_delay",
        ),
        Event(
            "capture_completed",
            ("CaptureInitiated",),
            "Captured",
            "amazon",
            "the asynchronous capture succeeds",
            delay="async_outcome_delay",
        ),
        Event(
            "capture_declined",
            ("CaptureInitiated",),
            "Declined",
            "amazon",
            "the asynchronous capture is declined",
            reasons=_DECLINE_REASONS,
            delay="async_outcome_delay",
        ),
        Event(
            "permission_canceled",
            _CH_CANCELABLE,
            "Canceled",
            "amazon",
            "the permission is closed with cancelPendingCharges: true",
            "ChargePermissionCanceled",
        ),
        Event(
            "amazon_cancel",
            _CH_CANCELABLE,
            "Canceled",
            "amazon",
            "Amazon cancels the charge",
            "AmazonCanceled",
        ),
        Event(
            "buyer_cancel",
            _CH_CANCELABLE,
            "Canceled",
            "buyer",
            "the buyer cancels the charge",
            "BuyerCanceled",
        ),
    ),
    timers=(
        Timer(
            "pending_timeout",
            ("AuthorizationInitiated",),
            "Declined",
            "pending_authorization_expiry",
            reason="TransactionTimedOut",
        ),
        Timer(
            "expire", ("Authorized",), "Canceled", "authorization_expiry", reason="ExpiredUnused"
        ),
    ),
)

REFUND: Final = Lifecycle(
    object_type="Refund",
    notification_type="REFUND",
    description="Money back on a captured charge; always asynchronous.",
    states=(
        StateDecl("RefundInitiated", "refund requested; resolves asynchronously", initial=True),
        StateDecl("Refunded", "the money went back to the buyer", terminal=True),
        StateDecl(
            "Declined",
            "the refund was declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
            terminal=True,
        ),
    ),
    creations=(Creation("create_refund", "RefundInitiated"),),
    allows=(Allow("get_refund", ("RefundInitiated", "Refunded", "Declined"), SAME),),
    refusals=(),
    events=(
        Event(
            "refund_completed",
            ("RefundInitiated",),
            "Refunded",
            "amazon",
            "the refund succeeds",
            delay="async_outcome_delay",
        ),
        Event(
            "refund_declined",
            ("RefundInitiated",),
            "Declined",
            "amazon",
            "the refund is declined",
            reasons=("AmazonRejected", "ProcessingFailure"),
            delay="async_outcome_delay",
        ),
    ),
)

#: The four lifecycles by object type, in the order the API links them.
LIFECYCLES: Final[Mapping[str, Lifecycle]] = MappingProxyType(
    {lc.object_type: lc for lc in (CHECKOUT_SESSION, CHARGE_PERMISSION, CHARGE, REFUND)}
)
