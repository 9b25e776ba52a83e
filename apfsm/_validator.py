"""The validator: what would Amazon Pay answer to this call on this object, at this time?

``check`` is meant for request paths: a refusal decided by state alone is a few dictionary
lookups; anything else reads only the payload fields its rules need.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ._clock import require_aware
from ._decide import (
    COMPILED,
    Money,
    body_fault,
    constant_outcomes,
    decide,
    payload_reader,
    reachable,
)
from ._outcome import Outcome
from ._spec import OPERATIONS, Limits, object_type_named

__all__ = ["check", "check_transition"]

_DEFAULT_LIMITS: Final = Limits()
_OPS: Final = dict(OPERATIONS)
#: The payload reader of each operation's target.
_READERS: Final = {
    name: payload_reader(op.target) for name, op in OPERATIONS.items() if op.target is not None
}


_CONSTANT: Final = constant_outcomes(_DEFAULT_LIMITS)


def _unknown_operation(operation: object) -> ValueError:
    return ValueError(f"unknown operation {operation!r}; operations are {', '.join(OPERATIONS)}")


def _id_mismatch(field: str, target: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    # A body naming another object than the target is a caller's mistake, not an API answer.
    named, actual = body.get(field), target.get(field)
    if isinstance(named, str) and isinstance(actual, str) and named != actual:
        raise ValueError(f"the body's {field} {named!r} is not the target's {field} {actual!r}")


def check(
    operation: str,
    target: Mapping[str, Any] | None,
    *,
    body: Mapping[str, Any] | None = None,
    at: datetime,
    limits: Limits | None = None,
) -> Outcome:
    """Predict Amazon Pay's answer to ``operation`` on ``target`` at ``at``.

    Args:
        operation: an operation name of SPEC §1, e.g. ``"capture_charge"``.
        target: the API JSON of the object the call acts on: the Checkout Session for
            ``*_checkout_session``; the Charge Permission for ``get/update/close_charge_
            permission`` and ``create_charge``; the Charge for ``get/capture/cancel_charge``
            and ``create_refund``; the Refund for ``get_refund``; None for
            ``create_checkout_session``. For other operations None means the object does
            not exist: the answer is ``ResourceNotFound``.
        body: the request body. When None, body validation and the rules that need the body
            (amounts, currencies) are skipped: the answer covers state and time only.
        at: when the call is made (timezone-aware).
        limits: the limits to apply; SPEC's defaults when None.

    Returns:
        An ``Outcome``: ``ok`` with ``next_state``, or the ``error`` Amazon Pay answers.

    Raises:
        ValueError: unknown operation; naive ``at``; a malformed payload, an unknown state,
            or a payload that lacks a field a rule needs.
        TypeError: ``at`` is not a datetime, or ``limits`` not a ``Limits``.
    """
    op = _OPS.get(operation)
    if op is None:
        raise _unknown_operation(operation)
    if type(at) is not datetime or at.tzinfo is not UTC:
        at = require_aware(at, "at")
    if limits is None:
        limits = _DEFAULT_LIMITS
    elif not isinstance(limits, Limits):
        raise TypeError(f"limits must be an apfsm.Limits, got {type(limits).__name__}")
    money: dict[str, Money | None] | None = None
    if body is not None:
        if type(body) is not dict and isinstance(body, Mapping):
            body = dict(body)
        money = {}
        fault = body_fault(operation, body, limits, money)
        if fault is not None:
            return Outcome.refused(*fault)
    if op.target is None:
        if target is not None:
            raise ValueError(f"{operation} acts on no existing object: pass target=None")
        return decide(op, None, body, at, limits)
    if body is not None and op.target_field is not None and isinstance(target, Mapping):
        _id_mismatch(op.target_field, target, body)
    if target is None:
        # No such object (a lookup found nothing): what Amazon answers for unknown ids.
        noun = OPERATIONS[operation].target
        return Outcome.refused("ResourceNotFound", f"the {noun} does not exist")
    if type(target) is dict:
        details = target.get("statusDetails")
        if type(details) is dict:
            constant = _CONSTANT.get((operation, details.get("state")))  # type: ignore[arg-type]
            if constant is not None:
                return constant
    facts = _READERS[operation](target, limits)
    return decide(op, facts, body, at, limits, None, money)


_REACHABLE: Final = reachable()


def check_transition(
    object_type: str, from_state: str, to_state: str, *, direct: bool = False
) -> bool:
    """Is an observed state change legal?

    For state changes seen by polling (e.g. after an IPN): by default the question is
    whether ``to_state`` can follow ``from_state`` through any sequence of operations,
    Amazon-side events and timers, since a poll can miss intermediate states. With
    ``direct=True`` only a single transition counts. The same state twice is always legal.

    Args:
        object_type: ``"CheckoutSession"``, ``"ChargePermission"``, ``"Charge"`` or
            ``"Refund"``, in any spelling (``"charge_permission"``, an IPN's
            ``"CHARGE_PERMISSION"``).

    Raises:
        ValueError: unknown object type or state.
    """
    object_type = object_type_named(object_type)
    compiled = COMPILED[object_type]
    for state in (from_state, to_state):
        if state not in compiled.states:
            raise ValueError(
                f"{state!r} is not a {object_type} state; states are "
                f"{', '.join(compiled.lifecycle.state_names())}"
            )
    if from_state == to_state:
        return True
    if direct:
        return (from_state, to_state) in compiled.edges
    return to_state in _REACHABLE[object_type][from_state]
