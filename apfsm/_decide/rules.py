"""What the named guards, deadlines and checks of ``_spec.conditions`` mean (SPEC §2–§6).

Each function reads a ``Context``: the object's facts (from a payload or the simulator's
records), the request body, the instant and the ``Limits``. Facts a caller cannot know
(history a payload does not show) are ``None``, and a check that needs them is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, Protocol

from apfsm._clock import add_months, format_timestamp
from apfsm._spec import CHARGE_UPDATE_STATES, DISPUTE_UPDATE_STATES, SIMULATION_CODES, Limits

from .money import Money, parse_money, refund_allowance

__all__ = [
    "CHECK_FUNCTIONS",
    "DEADLINE_FUNCTIONS",
    "GUARD_FUNCTIONS",
    "ChargeFacts",
    "ChargePermissionFacts",
    "CheckoutSessionFacts",
    "Context",
    "DisputeFacts",
    "Facts",
    "RefundFacts",
]


class Facts(Protocol):
    """What every object's facts provide."""

    @property
    def state(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


class CheckoutSessionFacts(Facts, Protocol):
    @property
    def payload_deadline(self) -> datetime | None: ...
    @property
    def constraints(self) -> tuple[str, ...]: ...
    @property
    def charge_amount(self) -> Money | None: ...
    @property
    def payment_details(self) -> Mapping[str, Any]: ...


class ChargePermissionFacts(Facts, Protocol):
    @property
    def payload_deadline(self) -> datetime | None: ...
    @property
    def permission_type(self) -> str: ...
    @property
    def extended(self) -> bool: ...
    @property
    def last_charge_at(self) -> datetime | None: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def amount_balance(self) -> Decimal | None: ...
    @property
    def charge_count(self) -> int | None: ...
    def monthly_total(self, at: datetime) -> Decimal | None: ...


class ChargeFacts(Facts, Protocol):
    @property
    def payload_deadline(self) -> datetime | None: ...
    @property
    def authorized_at(self) -> datetime: ...
    @property
    def charge_amount(self) -> Money: ...
    @property
    def captured_amount(self) -> Money: ...
    @property
    def refund_committed(self) -> Decimal: ...
    @property
    def refund_count(self) -> int | None: ...


class RefundFacts(Facts, Protocol):
    pass


class DisputeFacts(Facts, Protocol):
    @property
    def payload_deadline(self) -> datetime | None: ...
    @property
    def dispute_type(self) -> str: ...
    @property
    def action_required_at(self) -> datetime: ...


class Context:
    """Everything a rule may read. ``obj`` is the target's facts."""

    __slots__ = ("_money", "at", "body", "limits", "obj", "simulation_code")

    def __init__(
        self,
        obj: Any,
        body: Mapping[str, Any] | None,
        at: datetime,
        limits: Limits,
        simulation_code: str | None = None,
        money: dict[str, Money | None] | None = None,
    ) -> None:
        self.obj = obj
        self.body = body
        self.at = at
        self.limits = limits
        self.simulation_code = simulation_code
        # Every top-level price of the body, parsed by body validation, by field name.
        self._money = money

    def body_money(self, field: str) -> Money | None:
        """A validated price field of the body, or None without a body (or without it)."""
        parsed = self._money
        if parsed is not None:
            # Body validation parsed every top-level price: a field absent here is absent.
            return parsed.get(field)
        body = self.body
        value = None if body is None else body.get(field)
        return None if value is None else parse_money(value, field)


# ---------------------------------------------------------------------------------------
# Guards: which branch a transition takes
# ---------------------------------------------------------------------------------------


def _sync_capture(ctx: Context) -> bool:
    # SPEC §5: at most 7 days after authorization → synchronous; the boundary itself is a
    # Decision (Limits.async_capture_at_boundary).
    limit = ctx.obj.authorized_at + ctx.limits.async_capture_after
    if ctx.limits.async_capture_at_boundary:
        return bool(ctx.at < limit)
    return bool(ctx.at <= limit)


def _async_capture(ctx: Context) -> bool:
    return not _sync_capture(ctx)


def _body_flag(name: str) -> Callable[[Context], bool]:
    def guard(ctx: Context) -> bool:
        return ctx.body is not None and ctx.body.get(name) is True

    return guard


def _simulated_decline(ctx: Context) -> bool:
    return ctx.simulation_code in SIMULATION_CODES["create_charge"]


def _completion_intent(ctx: Context) -> Mapping[str, Any]:
    """Where a completion's paymentIntent and canHandlePendingAuthorization come from: a
    body that carries them (Finalize) replaces the session's."""
    body = ctx.body
    return body if body is not None and "paymentIntent" in body else ctx.obj.payment_details


def _intent(intent: str, *, pending: bool | None = None) -> Callable[[Context], bool]:
    def guard(ctx: Context) -> bool:
        details = _completion_intent(ctx)
        if details.get("paymentIntent") != intent:
            return False
        return pending is None or (details.get("canHandlePendingAuthorization") is True) == pending

    return guard


def _requested_state(state: str, allowed: tuple[str, ...]) -> Callable[[Context], bool]:
    # Update Charge, Update Dispute: the state the body's statusDetails asks for (its
    # allowed values are data: CHARGE_UPDATE_STATES, DISPUTE_UPDATE_STATES). Without a body
    # (the validator given no request) the call asked for a state the body check accepted:
    # the first one.
    def guard(ctx: Context) -> bool:
        if ctx.body is None:
            return state == allowed[0]
        details = ctx.body.get("statusDetails")
        return isinstance(details, Mapping) and details.get("state") == state

    return guard


GUARD_FUNCTIONS: Final[Mapping[str, Callable[[Context], bool]]] = MappingProxyType(
    {
        "sync_capture": _sync_capture,
        "async_capture": _async_capture,
        "capture_now": _body_flag("captureNow"),
        "pending_authorization": _body_flag("canHandlePendingAuthorization"),
        "simulated_decline": _simulated_decline,
        "intent_authorize": _intent("Authorize", pending=False),
        "intent_authorize_pending": _intent("Authorize", pending=True),
        "intent_capture": _intent("AuthorizeWithCapture"),
        "requested_canceled": _requested_state("Canceled", CHARGE_UPDATE_STATES),
        "requested_resolved": _requested_state("Resolved", DISPUTE_UPDATE_STATES),
        "requested_closed": _requested_state("Closed", DISPUTE_UPDATE_STATES),
    }
)

# ---------------------------------------------------------------------------------------
# Deadlines: when a timer fires
# ---------------------------------------------------------------------------------------


def _checkout_session_expiry(obj: Any, limits: Limits) -> datetime:
    deadline: datetime | None = obj.payload_deadline
    if deadline is not None:
        return deadline
    return obj.created_at + limits.checkout_session_ttl  # type: ignore[no-any-return]


def _checkout_session_retention(obj: Any, limits: Limits) -> datetime:
    return obj.created_at + limits.checkout_session_retention  # type: ignore[no-any-return]


def _pending_authorization_expiry(obj: Any, limits: Limits) -> datetime:
    return obj.created_at + limits.pending_authorization_ttl  # type: ignore[no-any-return]


def _authorization_expiry(obj: Any, limits: Limits) -> datetime:
    deadline: datetime | None = obj.payload_deadline
    if deadline is not None:
        return deadline
    return obj.authorized_at + limits.authorization_ttl  # type: ignore[no-any-return]


def _permission_expiry(obj: Any, limits: Limits) -> datetime:
    deadline: datetime | None = obj.payload_deadline
    if deadline is not None:
        return deadline
    created: datetime = obj.created_at
    if obj.permission_type == "OneTime":
        if obj.extended:
            return add_months(created, limits.extended_permission_months)
        return created + limits.one_time_permission_ttl
    # Recurring and PaymentMethodOnFile: 13 months, restarted by each successful charge [S].
    anchor = created
    last: datetime | None = obj.last_charge_at
    if limits.recurring_ttl_restarts_on_charge and last is not None and last > anchor:
        anchor = last
    return add_months(anchor, limits.recurring_permission_months)


#: The deadline of a token whose sign-in instant nobody knows: never.
_NEVER: Final = datetime.max.replace(tzinfo=UTC)


def _buyer_token_expiry(obj: Any, limits: Limits) -> datetime:
    # A Buyer payload shows no sign-in time (buyer.html): check() takes its token as live,
    # as it skips a check whose history a payload does not show; the simulator knows.
    signed_in: datetime | None = obj.signed_in_at
    return _NEVER if signed_in is None else signed_in + limits.buyer_token_ttl


def _dispute_response_deadline(obj: Any, limits: Limits) -> datetime:
    # While the buyer is asked for evidence (ActionRequired / BuyerAdditionalEvidencesRequired:
    # "pending merchant or buyer action", Java SDK DisputeState.java) no merchant window runs.
    if obj.reason == "BuyerAdditionalEvidencesRequired":
        return _NEVER
    # A payload's merchantResponseDeadline wins; else the window of its type from when it
    # asked for a response (docs/dispute.md).
    deadline: datetime | None = obj.payload_deadline
    if deadline is not None:
        return deadline
    claim = obj.dispute_type == "AtoZClaim"
    window = limits.claim_response_window if claim else limits.chargeback_response_window
    return obj.action_required_at + window  # type: ignore[no-any-return]


DEADLINE_FUNCTIONS: Final[Mapping[str, Callable[[Any, Limits], datetime]]] = MappingProxyType(
    {
        "dispute_response_deadline": _dispute_response_deadline,
        "buyer_token_expiry": _buyer_token_expiry,
        "checkout_session_expiry": _checkout_session_expiry,
        "checkout_session_retention": _checkout_session_retention,
        "pending_authorization_expiry": _pending_authorization_expiry,
        "authorization_expiry": _authorization_expiry,
        "permission_expiry": _permission_expiry,
    }
)

# ---------------------------------------------------------------------------------------
# Checks: amounts, currencies and counts (a message when the check fails)
# ---------------------------------------------------------------------------------------


def _constraints_met(ctx: Context) -> str | None:
    constraints: tuple[str, ...] = ctx.obj.constraints
    if constraints:
        return f"the checkout session still has constraints: {', '.join(constraints)}"
    return None


def _completion_currency(ctx: Context) -> str | None:
    given = ctx.body_money("chargeAmount")
    expected: Money | None = ctx.obj.charge_amount
    if given is None or expected is None or given[1] == expected[1]:
        return None
    return f"chargeAmount is in {given[1]} but the checkout session is in {expected[1]}"


def _completion_amount(ctx: Context) -> str | None:
    given = ctx.body_money("chargeAmount")
    expected: Money | None = ctx.obj.charge_amount
    if given is None or expected is None or given[0] == expected[0]:
        return None
    return (
        f"chargeAmount {given[0]} {given[1]} differs from the checkout session's "
        f"{expected[0]} {expected[1]}"
    )


def _session_total(ctx: Context) -> Money | None:
    total = ctx.obj.payment_details.get("totalOrderAmount")
    return None if total is None else parse_money(total, "paymentDetails.totalOrderAmount")


def _completion_total_given(ctx: Context) -> str | None:
    # SPEC §11 and Amazon's Complete Checkout Session: "You must also specify
    # totalOrderAmount if one was provided for the Checkout Session object".
    if ctx.body is None or _session_total(ctx) is None:
        return None
    if ctx.body_money("totalOrderAmount") is not None:
        return None
    return "totalOrderAmount is required: the checkout session has a totalOrderAmount"


def _completion_total_matches(ctx: Context) -> str | None:
    given = ctx.body_money("totalOrderAmount")
    expected = _session_total(ctx)
    if given is None or expected is None or given == expected:
        return None
    return (
        f"totalOrderAmount {given[0]} {given[1]} differs from the checkout session's "
        f"{expected[0]} {expected[1]}"
    )


def _completion_per_charge_maximum(ctx: Context) -> str | None:
    # SPEC §11: the per-charge maximum (§5) applies to the charge a completion creates.
    if _completion_intent(ctx).get("paymentIntent") not in ("Authorize", "AuthorizeWithCapture"):
        return None
    return _per_charge_maximum(ctx)


def _pending_with_capture(ctx: Context) -> str | None:
    body = ctx.body
    if body is None or not isinstance(body.get("paymentDetails"), dict):
        return None
    merged = {**ctx.obj.payment_details, **body["paymentDetails"]}
    if (
        merged.get("canHandlePendingAuthorization") is True
        and merged.get("paymentIntent") == "AuthorizeWithCapture"
    ):
        return (
            "canHandlePendingAuthorization cannot be true with paymentIntent AuthorizeWithCapture"
        )
    return None


def _charge_currency(ctx: Context) -> str | None:
    given = ctx.body_money("chargeAmount")
    currency: str | None = ctx.obj.currency
    if given is None or currency is None or given[1] == currency:
        return None
    return f"chargeAmount is in {given[1]} but the charge permission is in {currency}"


def _per_charge_maximum(ctx: Context) -> str | None:
    given = ctx.body_money("chargeAmount")
    if given is None:
        return None
    maximum = ctx.limits.max_charge_amount.get(given[1])
    if maximum is None or given[0] <= maximum:
        return None
    return f"chargeAmount {given[0]} {given[1]} is above the per-charge maximum {maximum}"


def _charge_count(ctx: Context) -> str | None:
    count: int | None = ctx.obj.charge_count
    limit = ctx.limits.max_charges_per_one_time_permission
    if ctx.obj.permission_type != "OneTime" or count is None or count < limit:
        return None
    return f"a one-time charge permission allows {limit} charges; {count} were created"


def _permission_balance(ctx: Context) -> str | None:
    given = ctx.body_money("chargeAmount")
    balance: Decimal | None = ctx.obj.amount_balance
    if ctx.obj.permission_type != "OneTime" or given is None or balance is None:
        return None
    if given[0] <= balance:
        return None
    return f"chargeAmount {given[0]} {given[1]} is above the amountBalance {balance}"


def _monthly_cap(ctx: Context) -> str | None:
    # SPEC §5: a Recurring permission's monthly cap; SPEC §11: a PaymentMethodOnFile
    # (Saved Wallet) permission has its own.
    given = ctx.body_money("chargeAmount")
    kind = ctx.obj.permission_type
    if given is None:
        return None
    if kind == "Recurring":
        cap = ctx.limits.recurring_monthly_cap.get(given[1])
    elif kind == "PaymentMethodOnFile":
        cap = ctx.limits.payment_method_on_file_monthly_cap.get(given[1])
    else:
        return None
    if cap is None:
        return None
    total: Decimal | None = ctx.obj.monthly_total(ctx.at)
    if total is None:
        # No history (a payload): one charge above the cap is refused all the same.
        if given[0] <= cap:
            return None
        return f"chargeAmount {given[0]} {given[1]} is above the monthly cap {cap}"
    if total + given[0] <= cap:
        return None
    return (
        f"this month's charges total {total} {given[1]}; {given[0]} more is above the "
        f"monthly cap {cap}"
    )


def _capture_currency(ctx: Context) -> str | None:
    given = ctx.body_money("captureAmount")
    if given is None:
        return None
    currency = ctx.obj.charge_amount[1]
    if given[1] == currency:
        return None
    return f"captureAmount is in {given[1]} but the charge is in {currency}"


def _capture_amount(ctx: Context) -> str | None:
    given = ctx.body_money("captureAmount")
    if given is None:
        return None
    authorized: Money = ctx.obj.charge_amount
    if given[0] <= authorized[0]:
        return None
    return f"captureAmount {given[0]} is above the chargeAmount {authorized[0]} {authorized[1]}"


def _refund_currency(ctx: Context) -> str | None:
    given = ctx.body_money("refundAmount")
    if given is None:
        return None
    currency = ctx.obj.captured_amount[1]
    if given[1] == currency:
        return None
    return f"refundAmount is in {given[1]} but the charge is in {currency}"


def _refund_maximum(ctx: Context) -> str | None:
    # SPEC §11: one refund is at most 150,000 USD/EUR/GBP, 10,000,000 JPY.
    given = ctx.body_money("refundAmount")
    if given is None:
        return None
    maximum = ctx.limits.max_refund_amount.get(given[1])
    if maximum is None or given[0] <= maximum:
        return None
    return f"refundAmount {given[0]} {given[1]} is above the per-refund maximum {maximum}"


def _refund_count(ctx: Context) -> str | None:
    count: int | None = ctx.obj.refund_count
    limit = ctx.limits.max_refunds_per_charge
    if count is None or count < limit:
        return None
    return f"a charge allows {limit} refunds; it has {count}"


def _refund_allowance(ctx: Context) -> str | None:
    given = ctx.body_money("refundAmount")
    if given is None:
        return None
    captured, currency = ctx.obj.captured_amount
    committed: Decimal = ctx.obj.refund_committed
    ceiling = captured + refund_allowance(captured, currency, ctx.limits)
    if committed + given[0] <= ceiling:
        return None
    return (
        f"refunds would total {committed + given[0]} {currency}, above the {ceiling} "
        f"allowed for a capture of {captured}"
    )


def _dispute_currency(ctx: Context) -> str | None:
    given = ctx.body_money("disputeAmount")
    if given is None:
        return None
    currency = ctx.obj.captured_amount[1]
    if given[1] == currency:
        return None
    return f"disputeAmount is in {given[1]} but the charge is in {currency}"


def _dispute_amount(ctx: Context) -> str | None:
    given = ctx.body_money("disputeAmount")
    if given is None:
        return None
    captured: Money = ctx.obj.captured_amount
    if given[0] <= captured[0]:
        return None
    return f"disputeAmount {given[0]} exceeds the captured {captured[0]} {captured[1]}"


def _contest_window(ctx: Context) -> str | None:
    # The Dispute Window ("within the specified Dispute Window": the SDKs' contestDispute).
    # An ActionRequired dispute past it has already moved to Resolved (its timer); this holds
    # a Resolved one to the same window, from when it last asked for the merchant's response.
    deadline = _dispute_response_deadline(ctx.obj, ctx.limits)
    if not ctx.limits.ttl_passed(deadline, ctx.at):
        return None
    return f"the Dispute Window closed at {format_timestamp(deadline)}"


CHECK_FUNCTIONS: Final[Mapping[str, Callable[[Context], str | None]]] = MappingProxyType(
    {
        "constraints_met": _constraints_met,
        "completion_currency_matches": _completion_currency,
        "completion_amount_matches": _completion_amount,
        "completion_total_given": _completion_total_given,
        "completion_total_matches": _completion_total_matches,
        "completion_within_per_charge_maximum": _completion_per_charge_maximum,
        "pending_with_capture": _pending_with_capture,
        "charge_currency_matches": _charge_currency,
        "within_per_charge_maximum": _per_charge_maximum,
        "charge_count_below_limit": _charge_count,
        "within_permission_balance": _permission_balance,
        "within_monthly_cap": _monthly_cap,
        "capture_currency_matches": _capture_currency,
        "capture_within_charge_amount": _capture_amount,
        "refund_currency_matches": _refund_currency,
        "refund_within_maximum": _refund_maximum,
        "refund_count_below_limit": _refund_count,
        "refund_within_allowance": _refund_allowance,
        "dispute_currency_matches": _dispute_currency,
        "dispute_within_captured_amount": _dispute_amount,
        "contest_within_dispute_window": _contest_window,
    }
)
