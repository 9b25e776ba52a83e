"""Hypothesis strategies for Amazon Pay payloads, derived from apfsm's declarations.

Every strategy is a plural-noun function with keyword-only options:

* ``money(currency=None)`` — API prices ``{"amount": str, "currencyCode": str}`` with the
  currency's minor units (SPEC §1);
* ``currencies()``, ``simulation_codes(operation=None)``, ``sandbox_cards()``;
* ``request_bodies(operation, valid=True)`` — valid bodies, or ``(body, expected_code)``
  pairs with exactly one fault and the code SPEC §8/§10 gives it;
* ``time_steps(limits=None)`` — deadline-aware jumps: uniform durations mixed with exactly
  L − 1 s, L and L + 1 s of every duration limit (naive uniform jumps almost never land on
  a deadline).

and ``deadline_offsets(limits=None)``, the list of those L − 1 s, L and L + 1 s jumps.

This module is a face: the strategies are built in ``apfsm._fuzz``, and the check at the
end of this module keeps ``__all__`` exactly its public names.

Example:
    >>> from hypothesis import given
    >>> import apfsm.strategies as aps
    >>> @given(aps.request_bodies("capture_charge", valid=False))
    ... def test_faults(pair):
    ...     body, code = pair
    ...     assert apfsm.check("capture_charge", None, body=body, at=...).reason_code == code
"""

from apfsm._fuzz import (
    currencies,
    deadline_offsets,
    money,
    request_bodies,
    sandbox_cards,
    simulation_codes,
    time_steps,
)

__all__ = [
    "currencies",
    "deadline_offsets",
    "money",
    "request_bodies",
    "sandbox_cards",
    "simulation_codes",
    "time_steps",
]


def _check_exports(_public: set[str]) -> None:
    # As Hypothesis's strategies/__init__.py: __all__ is exactly this module's public
    # names, so nothing is exported by accident and nothing public is left out.
    assert set(__all__) == _public, (set(__all__) ^ _public, "update __all__")


_check_exports({n for n in dir() if n[0] not in "_@"})
del _check_exports
