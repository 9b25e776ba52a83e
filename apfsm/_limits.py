"""``Limits``: every number and every **Decision** of SPEC §1, §2 and §4–§7, overridable.

Pass a modified ``Limits`` to the validator (and the simulator) to change outcomes:
``Limits(authorization_ttl=timedelta(days=7))``. Nothing else in apfsm holds a literal
for these values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final, NoReturn, TypeVar

import attrs

from ._clock import format_duration

__all__ = ["FrozenMap", "Limits"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(dict[_K, _V]):
    """A read-only, hashable ``dict`` (so a ``Limits`` can be a cache key and lookups stay
    as fast as a dict's)."""

    __slots__ = ("_hash",)

    def __init__(self, data: Mapping[_K, _V] | None = None) -> None:
        super().__init__(data or {})
        self._hash: int | None = None

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only")

    __setitem__ = _readonly
    __delitem__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly
    __ior__ = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        if self._hash is None:
            self._hash = hash(frozenset(self.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))


def _currency(code: object) -> str:
    if not (isinstance(code, str) and len(code) == 3 and code.isascii() and code.isupper()):
        raise ValueError(f"currency codes are three upper-case letters (ISO 4217), got {code!r}")
    return code


def _money_value(value: object, name: str) -> Decimal:
    # Money is Decimal end to end (SPEC §1): floats are refused, not rounded.
    if isinstance(value, bool | float):
        raise TypeError(f"{name}: money must be a Decimal, int or str, not {value!r}")
    if isinstance(value, Decimal | int | str):
        result = Decimal(value)
        if not result.is_finite() or result <= 0:
            raise ValueError(f"{name}: must be a positive amount, got {value!r}")
        return result
    raise TypeError(f"{name}: money must be a Decimal, int or str, got {type(value).__name__}")


def _money_map(value: Mapping[str, Any]) -> FrozenMap[str, Decimal]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping of currency code to amount, got {value!r}")
    return FrozenMap({_currency(k): _money_value(v, f"amount for {k}") for k, v in value.items()})


def _decimals_map(value: Mapping[str, int]) -> FrozenMap[str, int]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping of currency code to decimals, got {value!r}")
    out: dict[str, int] = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 4:
            raise ValueError(f"decimals for {k} must be an int from 0 to 4, got {v!r}")
        out[_currency(k)] = v
    return FrozenMap(out)


def _rate(value: object) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"refund_overage_rate must be a Decimal, int or str, got {value!r}")
    rate = Decimal(value)
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"refund_overage_rate must be zero or positive, got {value!r}")
    return rate


def _positive_duration(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta):
        raise TypeError(f"Limits.{attribute.name} must be a timedelta, got {value!r}")
    if value <= timedelta(0):
        raise ValueError(f"Limits.{attribute.name} must be positive, got {value}")


def _positive_int(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Limits.{attribute.name} must be an int, got {value!r}")
    if value <= 0:
        raise ValueError(f"Limits.{attribute.name} must be positive, got {value}")


def _boolean(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"Limits.{attribute.name} must be a bool, got {value!r}")


#: ISO 4217 minor units of the currencies Amazon Pay supports (SPEC §1).
DEFAULT_CURRENCY_DECIMALS: Final = FrozenMap(
    {
        "AUD": 2,
        "CHF": 2,
        "DKK": 2,
        "EUR": 2,
        "GBP": 2,
        "HKD": 2,
        "JPY": 0,
        "NOK": 2,
        "NZD": 2,
        "SEK": 2,
        "USD": 2,
        "ZAR": 2,
    }
)


def _duration(**kwargs: float) -> Any:
    return attrs.field(default=timedelta(**kwargs), validator=_positive_duration)


def _count(default: int) -> Any:
    return attrs.field(default=default, validator=_positive_int)


def _flag(default: bool) -> Any:
    return attrs.field(default=default, validator=_boolean)


@attrs.frozen(kw_only=True)
class Limits:
    """Every limit and decision of SPEC.md, as overridable values (defaults are SPEC's).

    Durations are ``timedelta`` (days are exact 24 h spans); ``*_months`` are calendar months
    in UTC (SPEC §2); money is ``Decimal`` keyed by ISO 4217 currency code.

    Example:
        >>> from datetime import timedelta
        >>> Limits(authorization_ttl=timedelta(days=7)).authorization_ttl.days
        7
    """

    # -- SPEC §2: time limits ------------------------------------------------------------
    #: Open checkout sessions expire (Canceled/Expired) this long after creation.
    checkout_session_ttl: timedelta = _duration(hours=24)
    #: Checkout sessions are deleted (404 on every call) this long after creation.
    checkout_session_retention: timedelta = _duration(days=30)
    #: A Charge still AuthorizationInitiated this long after creation becomes
    #: Declined/TransactionTimedOut.
    pending_authorization_ttl: timedelta = _duration(hours=24)
    #: A capture *more than* this long after authorization is asynchronous (CaptureInitiated).
    async_capture_after: timedelta = _duration(days=7)
    #: An Authorized charge becomes Canceled/ExpiredUnused this long after authorization.
    authorization_ttl: timedelta = _duration(days=30)
    #: A one-time charge permission closes (Closed/Expired) this long after creation.
    one_time_permission_ttl: timedelta = _duration(days=180)
    #: ... or this many calendar months when the session had ``extendExpiration: true``.
    extended_permission_months: int = _count(13)
    #: A recurring (or payment-method-on-file) permission closes this many calendar months
    #: after creation or its last successful charge.
    recurring_permission_months: int = _count(13)

    # -- SPEC §2: Decisions on boundaries --------------------------------------------------
    #: Decision: a time-to-live L started at t0 has passed at every t >= t0 + L (so exactly
    #: 24 h after creation a session is already expired). False: only at t > t0 + L.
    ttl_passed_at_deadline: bool = _flag(True)
    #: Decision: "more than 7 days after authorization" holds only at t > t0 + 7 d, so a
    #: capture exactly 7 days after is synchronous. True: asynchronous from t0 + 7 d on.
    async_capture_at_boundary: bool = _flag(False)
    #: [S] Each successful charge on a recurring permission restarts its TTL.
    recurring_ttl_restarts_on_charge: bool = _flag(True)

    # -- SPEC §4, §5: charge permission and charge -----------------------------------------
    #: A one-time permission allows this many charges, whatever state they end in.
    max_charges_per_one_time_permission: int = _count(25)
    #: Per-charge maximum by currency (else InvalidParameterValue); currencies not listed
    #: have no maximum.
    max_charge_amount: FrozenMap[str, Decimal] = attrs.field(
        default=FrozenMap(
            {
                "USD": Decimal(150_000),
                "EUR": Decimal(150_000),
                "GBP": Decimal(150_000),
                "JPY": Decimal(10_000_000),
            }
        ),
        converter=_money_map,
    )
    #: Recurring permissions: captured + authorized total per calendar month (UTC) by
    #: currency; USD and JPY [C/P], EUR and GBP a Decision; currencies not listed are
    #: unlimited.
    recurring_monthly_cap: FrozenMap[str, Decimal] = attrs.field(
        default=FrozenMap(
            {
                "USD": Decimal(1_000),
                "EUR": Decimal(1_000),
                "GBP": Decimal(1_000),
                "JPY": Decimal(100_000),
            }
        ),
        converter=_money_map,
    )

    # -- SPEC §6: refunds ------------------------------------------------------------------
    #: Decision (from the older API): at most this many refunds per charge.
    max_refunds_per_charge: int = _count(10)
    #: Refunds may exceed the captured amount by this fraction of it ...
    refund_overage_rate: Decimal = attrs.field(default=Decimal("0.15"), converter=_rate)
    #: ... but by no more than this absolute amount by currency (other currencies: the rate
    #: only, a Decision). The allowance is rounded down to the currency's minor unit.
    refund_overage_cap: FrozenMap[str, Decimal] = attrs.field(
        default=FrozenMap(
            {"USD": Decimal(75), "EUR": Decimal(75), "GBP": Decimal(75), "JPY": Decimal(8_400)}
        ),
        converter=_money_map,
    )

    # -- SPEC §1: money ----------------------------------------------------------------------
    #: Currencies Amazon Pay accepts and their decimals; amounts with more decimals, or in a
    #: currency not listed, are InvalidParameterValue.
    currency_decimals: FrozenMap[str, int] = attrs.field(
        default=DEFAULT_CURRENCY_DECIMALS, converter=_decimals_map
    )

    # -- SPEC §7: asynchronous outcomes and idempotency ------------------------------------
    #: Simulated processing time of asynchronous outcomes (pending authorizations, async
    #: captures, refunds).
    async_outcome_delay: timedelta = _duration(seconds=30)
    #: Idempotency keys are 1 to this many characters of A-Za-z0-9-_.
    idempotency_key_max_length: int = _count(32)

    # -- SPEC §10: request bodies ------------------------------------------------------------
    #: ``softDescriptor`` maximum length.
    soft_descriptor_max_length: int = _count(16)
    #: ``closureReason`` and ``cancellationReason`` maximum length.
    reason_text_max_length: int = _count(255)

    def durations(self) -> dict[str, timedelta]:
        """Every duration limit by field name (the deadlines tests must probe at L ± 1 s)."""
        return {
            f.name: getattr(self, f.name)
            for f in attrs.fields(Limits)
            if isinstance(getattr(self, f.name), timedelta)
        }

    def month_limits(self) -> dict[str, int]:
        """Every calendar-month limit by field name."""
        return {f.name: getattr(self, f.name) for f in attrs.fields(Limits) if "months" in f.name}

    def describe(self, name: str) -> str:
        """A short label for a limit: ``"30 d"``, ``"13 months"``."""
        value = getattr(self, name)
        if isinstance(value, timedelta):
            return format_duration(value)
        if name.endswith("_months"):
            return f"{value} months"
        return str(value)

    def ttl_passed(self, deadline: Any, at: Any) -> bool:
        """Whether a time-to-live ending at ``deadline`` has passed at ``at`` (SPEC §2)."""
        return bool(at >= deadline) if self.ttl_passed_at_deadline else bool(at > deadline)

    def decimals(self, currency: str) -> int | None:
        """The currency's number of decimals, or None when it is not supported."""
        return self.currency_decimals.get(currency)
