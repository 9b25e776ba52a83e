"""``check_v1``: may this v1 call be made on an object in this state, and where does it
lead? Answered from the declarations in ``_order_reference.py`` alone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from apfsm._spec import SAME, Lifecycle

from ._order_reference import V1_LIFECYCLES, OrderReferenceLimits

__all__ = ["V1Answer", "check_v1"]


@attrs.frozen
class V1Answer:
    """The answer to one v1 call.

    Attributes:
        object_type, operation: what was asked.
        state, reason: the object's state when the call is made (after any limit that
            passed between ``since`` and ``at``).
        allowed: the call is accepted.
        next_state, next_reason: where an accepted call leaves the object (a creation's
            outcomes are the ``outcomes``); None when refused.
        refusal: the error code of a refused call.
        outcomes: for ``authorize`` and ``capture``, the states the object they create
            can start in, by guard (``capture_now``: the 1-step capture).
        warnings: advice that does not refuse the call (a capture later than Amazon
            recommends).
    """

    object_type: str
    operation: str
    state: str
    reason: str | None
    allowed: bool
    next_state: str | None = None
    next_reason: str | None = None
    refusal: str | None = None
    outcomes: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()


def _lifecycle(object_type: str) -> Lifecycle:
    try:
        return V1_LIFECYCLES[object_type]
    except KeyError:
        known = ", ".join(V1_LIFECYCLES)
        raise ValueError(f"unknown v1 object type {object_type!r}; choose one of {known}") from None


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")


def _after_limits(
    lifecycle: Lifecycle,
    state: str,
    reason: str | None,
    since: datetime | None,
    at: datetime | None,
    limits: OrderReferenceLimits,
) -> tuple[str, str | None]:
    if since is None or at is None:
        return state, reason
    for timer in lifecycle.timers:
        if state not in timer.sources:
            continue
        deadline = since + limits.deadline(timer.deadline)
        passed = at >= deadline if limits.ttl_passed_at_deadline else at > deadline
        if passed:
            return timer.dest, timer.reason
    return state, reason


def check_v1(
    object_type: str,
    state: str,
    operation: str,
    *,
    reason: str | None = None,
    since: datetime | None = None,
    at: datetime | None = None,
    captured: bool = False,
    amount: Decimal | None = None,
    total: Decimal | None = None,
    already: Decimal = Decimal(0),
    limits: OrderReferenceLimits | None = None,
) -> V1Answer:
    """Check one call of Amazon Pay's v1 order-reference flow.

    Args:
        object_type: ``"OrderReference"``, ``"Authorization"``, ``"Capture"`` or
            ``"Refund"``.
        state: the object's state (``"Open"``...).
        operation: ``"confirm_order_reference"``, ``"authorize"``, ``"capture"``,
            ``"close_order_reference"``, ``"cancel_order_reference"``, ``"refund"``...
            (the declared operations).
        reason: the reason code the object carries, if any.
        since, at: when the object entered ``state`` (an order reference's creation or
            confirmation, an authorization's) and when the call is made, both aware; with
            both, every limit that passed in between applies first (a Draft older than 3 h
            is Canceled/Stale; an authorization older than 30 d is Closed/ExpiredUnused).
        captured: for ``cancel_order_reference``, whether money was captured on the
            order reference (then it can only be closed).
        amount, total, already: for ``authorize``, ``capture`` and ``refund``, the amount
            asked, what it is measured against (the order reference's total, the
            authorization's amount, the capture's amount) and what was already
            authorized, captured or refunded against it, all ``Decimal``. Authorizations
            and refunds may go 15% or $75 (whichever is less) above ``total``
            (``refund_overage_*``); a capture may not exceed its authorization. Over it:
            refused with ``TransactionAmountExceeded``.
        limits: the v1 limits (default: Amazon's production values).

    Returns:
        A ``V1Answer``.

    Raises:
        ValueError: an unknown object type, state or operation, or a naive datetime.
    """
    limits = limits or OrderReferenceLimits()
    lifecycle = _lifecycle(object_type)
    lifecycle.state(state)  # an unknown state raises, naming the states
    _aware(since, "since")
    _aware(at, "at")
    known = {a.operation for a in lifecycle.allows} | {r.operation for r in lifecycle.refusals}
    if operation not in known:
        ops = ", ".join(sorted(known))
        raise ValueError(f"{operation!r} is not a v1 {object_type} operation; choose one of {ops}")
    state, reason = _after_limits(lifecycle, state, reason, since, at, limits)
    if amount is not None and not _amount_fits(operation, amount, total, already, limits):
        code = "TransactionAmountExceeded"
        return V1Answer(object_type, operation, state, reason, False, refusal=code)
    warnings: list[str] = []
    for refusal in lifecycle.refusals:
        if refusal.operation == operation and state in refusal.sources:
            code = refusal.by_reason.get(reason or "", refusal.code)
            return V1Answer(object_type, operation, state, reason, False, refusal=code)
    for allow in lifecycle.allows:
        if allow.operation != operation or state not in allow.sources:
            continue
        if allow.guard == "nothing_captured" and captured:
            # You can cancel an order only if no money has been captured (v1 reference).
            code = "InvalidOrderReferenceStatus"
            return V1Answer(object_type, operation, state, reason, False, refusal=code)
        late = (
            since is not None and at is not None and at - since > limits.capture_recommended_within
        )
        if operation == "capture" and late:
            warnings.append(
                "Amazon recommends capturing within "
                f"{limits.describe('capture_recommended_within')} of the authorization"
            )
        dest = state if allow.dest == SAME else allow.dest
        next_reason = reason if allow.dest == SAME else allow.reason
        created = _created_by(operation)
        return V1Answer(
            object_type,
            operation,
            state,
            reason,
            True,
            next_state=dest,
            next_reason=next_reason,
            outcomes=created,
            warnings=tuple(warnings),
        )
    raise AssertionError(f"{object_type}.{operation} in {state} is neither allowed nor refused")


def _created_by(operation: str) -> tuple[tuple[str, str], ...]:
    """``(guard or "otherwise", state)`` of every object ``operation`` creates."""
    return tuple(
        (creation.guard or "otherwise", f"{lc.object_type}.{creation.dest}")
        for lc in V1_LIFECYCLES.values()
        for creation in lc.creations
        if creation.operation == operation
    )


#: The operations whose amount is checked, and whether they may go above ``total``.
_OVER_ALLOWED = {"authorize": True, "capture": False, "refund": True}


def _amount_fits(
    operation: str,
    amount: Decimal,
    total: Decimal | None,
    already: Decimal,
    limits: OrderReferenceLimits,
) -> bool:
    for name, value in (("amount", amount), ("total", total), ("already", already)):
        if value is not None and not isinstance(value, Decimal):
            raise TypeError(f"{name} must be a Decimal, not {value!r}")
    if operation not in _OVER_ALLOWED:
        raise ValueError(f"amounts are checked for {', '.join(_OVER_ALLOWED)}, not {operation!r}")
    if total is None:
        raise ValueError(f"{operation} with an amount needs the total it is measured against")
    if amount <= 0:
        return False
    ceiling = total
    if _OVER_ALLOWED[operation]:
        # Above the total by 15% or $75, whichever is less (capture states page).
        ceiling += min(total * limits.refund_overage_rate, limits.refund_overage_cap_usd)
    return already + amount <= ceiling
