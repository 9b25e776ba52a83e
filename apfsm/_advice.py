"""``advise()``: what to do about an answer or an object — retry or not, after what waits,
what to tell the buyer (issue 15, decline guidance). The advice is data
(``apfsm/_spec/declines.py``); this module only finds the entry that applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import ApiError
from ._outcome import Outcome
from ._spec import CODE_ADVICE, LIFECYCLES, OBJECT_TYPES, STATE_ADVICE, Advice, object_type_named

__all__ = ["advise"]

#: Most specific first: a Refund's JSON also names its charge, a Charge's its permission.
_BY_ID_FIELD = tuple((LIFECYCLES[t].id_field, t) for t in reversed(OBJECT_TYPES) if t in LIFECYCLES)


def _unknown(code: str) -> Advice:
    # Amazon adds codes over time (SPEC §1): advice that says so rather than an error.
    return Advice(
        code,
        "merchant",
        False,
        f"apfsm does not know the code {code!r}: look it up in Amazon Pay's documentation "
        "before retrying anything",
        "request",
        ("SPEC §1: Amazon adds states and reason codes over time",),
    )


def _for_code(code: str) -> Advice:
    return CODE_ADVICE.get(code) or _unknown(code)


def _for_object(body: Mapping[str, Any], object_type: str | None) -> Advice | None:
    if object_type is None:
        object_type = next((t for field, t in _BY_ID_FIELD if field in body), None)
    status = body.get("statusDetails")
    if object_type is None or not isinstance(status, Mapping):
        return None
    state, reason = status.get("state"), status.get("reasonCode")
    if not isinstance(state, str) or not isinstance(reason, str):
        return None
    if (object_type, state) == ("Charge", "Declined"):
        return _for_code(reason)
    return STATE_ADVICE.get((object_type, state, reason))


def advise(answer: object, *, object_type: str | None = None) -> Advice | None:
    """What Amazon Pay's answer, or an object's state, asks the integration to do.

    Args:
        answer: an ``ApiError`` (or any error answer's ``reasonCode``, as a string or as
            the error body ``{"reasonCode": ..., "message": ...}``); an ``apfsm.Outcome``
            from ``check``; or an object's JSON (a declined charge, a non-chargeable
            permission, a canceled session...).
        object_type: the object's type, in any spelling, when its JSON does not say
            (it is read from the id fields otherwise).

    Returns:
        The ``Advice``: whether to retry, the waits, the condition, what to do and what to
        tell the buyer, with sources. None for an answer that needs nothing (an accepted
        call, an object in a state that asks nothing of the merchant). An error code
        apfsm does not know gets advice saying so, never an exception.

    Raises:
        TypeError: ``answer`` is none of those.
        ValueError: ``object_type`` names no object type.
    """
    kind = None if object_type is None else object_type_named(object_type)
    if isinstance(answer, ApiError):
        return _for_code(answer.reason_code)
    if isinstance(answer, Outcome):
        return None if answer.reason_code is None else _for_code(answer.reason_code)
    if isinstance(answer, str):
        return _for_code(answer)
    if isinstance(answer, Mapping):
        code = answer.get("reasonCode")
        if isinstance(code, str) and "statusDetails" not in answer:
            return _for_code(code)  # an error body
        return _for_object(answer, kind)
    raise TypeError(
        "advise() takes an ApiError, an Outcome, a reason code or an object's JSON, "
        f"not {type(answer).__name__}"
    )
