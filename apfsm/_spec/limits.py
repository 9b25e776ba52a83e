"""``Limits``: every number and every **Decision** of SPEC §1, §2 and §4–§7, overridable.

Pass a modified ``Limits`` to the validator (and the simulator) to change outcomes:
``Limits(authorization_ttl=timedelta(days=7))``. Nothing else in apfsm holds a literal
for these values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final, NoReturn, TypeVar

import attrs

from apfsm._clock import format_duration

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
        raise TypeError(f"a rate must be a Decimal, int or str, got {value!r}")
    rate = Decimal(value)
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"a rate must be zero or positive, got {value!r}")
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


def _duration(doc: str, spec: str, **kwargs: float) -> Any:
    return attrs.field(
        default=timedelta(**kwargs),
        validator=_positive_duration,
        metadata={"doc": doc, "spec": spec},
    )


def _count(default: int, doc: str, spec: str) -> Any:
    return attrs.field(
        default=default, validator=_positive_int, metadata={"doc": doc, "spec": spec}
    )


def _flag(default: bool, doc: str, spec: str) -> Any:
    return attrs.field(default=default, validator=_boolean, metadata={"doc": doc, "spec": spec})


def _money_default(amounts: Mapping[str, int]) -> FrozenMap[str, Decimal]:
    return FrozenMap({k: Decimal(v) for k, v in amounts.items()})


def _doc(doc: str, spec: str) -> dict[str, str]:
    return {"doc": doc, "spec": spec}


@attrs.frozen(kw_only=True)
class Limits:
    """Every limit and decision of SPEC.md, as overridable values (defaults are SPEC's).

    Durations are ``timedelta`` (days are exact 24 h spans); ``*_months`` are calendar months
    in UTC (SPEC §2); money is ``Decimal`` keyed by ISO 4217 currency code. Each field's
    meaning is in its ``metadata["doc"]`` (``attrs.fields(Limits)``), rendered in
    docs/limits.md.

    Example:
        >>> from datetime import timedelta
        >>> Limits(authorization_ttl=timedelta(days=7)).authorization_ttl.days
        7
    """

    # -- SPEC §2: time limits ------------------------------------------------------------
    checkout_session_ttl: timedelta = _duration(
        "an Open checkout session becomes Canceled/Expired this long after creation",
        "§2, §3",
        hours=24,
    )
    checkout_session_retention: timedelta = _duration(
        "a checkout session is deleted (ResourceNotFound on every call) this long after creation",
        "§2",
        days=30,
    )
    pending_authorization_ttl: timedelta = _duration(
        "a charge still AuthorizationInitiated this long after creation becomes "
        "Declined/TransactionTimedOut",
        "§2",
        hours=24,
    )
    async_capture_after: timedelta = _duration(
        "a capture more than this long after authorization is asynchronous (CaptureInitiated)",
        "§2, §5",
        days=7,
    )
    authorization_ttl: timedelta = _duration(
        "an Authorized charge becomes Canceled/ExpiredUnused this long after authorization",
        "§2, §5",
        days=30,
    )
    one_time_permission_ttl: timedelta = _duration(
        "a one-time charge permission becomes Closed/Expired this long after creation",
        "§2, §4",
        days=180,
    )
    extended_permission_months: int = _count(
        13,
        "calendar months a one-time permission lives when its session had extendExpiration",
        "§2",
    )
    recurring_permission_months: int = _count(
        13,
        "calendar months a recurring (or payment-method-on-file) permission lives after "
        "creation or its last successful charge",
        "§2",
    )
    buyer_details_retention: timedelta = _duration(
        "a one-time charge permission shows its buyer (name, email) only this long after "
        "creation, a recurring one only this long after it closed (Decision: a Saved "
        "Wallet one like a recurring one); afterwards buyer is null (the boundary as "
        "ttl_passed_at_deadline)",
        "§11",
        days=30,
    )
    buyer_token_ttl: timedelta = _duration(
        "a buyer token (Amazon Sign-in's signInReturnUrl?buyerToken=...) reads its buyer this "
        "long after sign-in (amazonpay-onboarding.com: it expires after 24 hours); Decision: "
        "afterwards Get Buyer answers it as an unknown id, ResourceNotFound (the boundary as "
        "ttl_passed_at_deadline)",
        "§11",
        hours=24,
    )
    chargeback_response_window: timedelta = _duration(
        "a chargeback's Dispute Window: the merchant contests (Contest Dispute, with "
        "evidence) within this long after the dispute asks for a response, its "
        "merchantResponseDeadline (the SDKs' contestDispute: 11 days for Chargeback); "
        "afterwards it is Resolved with MerchantResponseDeadlineExpired, BuyerWon (the "
        "boundary as ttl_passed_at_deadline)",
        "§11",
        days=11,
    )
    claim_response_window: timedelta = _duration(
        "an A-to-z Guarantee claim's Dispute Window, as chargeback_response_window (the "
        "SDKs' contestDispute: 7 days for A-Z Claims)",
        "§11",
        days=7,
    )
    file_upload_url_ttl: timedelta = _duration(
        "Upload File's url takes the file this long (urlExpirationTimestamp; Decision: "
        "file.html gives no figure)",
        "§11",
        hours=1,
    )

    # -- The Reports API (docs/reports.md) ---------------------------------------------------
    report_processing_time: timedelta = _duration(
        "Decision: a report is IN_PROGRESS this long after its creation, then COMPLETED (data "
        "in its time range) or CANCELLED (none); at exactly createdTime + this it has its "
        "final status (Amazon gives no figure)",
        "§11",
        seconds=60,
    )
    report_retention: timedelta = _duration(
        "a report (and its document) is deleted this long after its creation (the .NET SDK's "
        "GetReportsRequest: 'reports are retained for a maximum of 90 days'); Get Reports' "
        "createdSince defaults to now minus this",
        "§11",
        days=90,
    )
    report_page_size: int = _count(
        10, "Get Reports' pageSize when none is given (the .NET SDK's GetReportsRequest)", "§11"
    )
    report_page_size_max: int = _count(
        100,
        "Decision: the largest pageSize Get Reports takes (else InvalidParameterValue), as the "
        "Selling Partner Reports API whose shape Amazon Pay's follows",
        "§11",
    )

    # -- SPEC §2: Decisions on boundaries --------------------------------------------------
    ttl_passed_at_deadline: bool = _flag(
        True,
        "Decision: a time-to-live L from t0 has passed at every t >= t0 + L (exactly 24 h "
        "after creation a session is already expired); False: only at t > t0 + L",
        "§2",
    )
    async_capture_at_boundary: bool = _flag(
        False,
        "Decision: 'more than 7 days' holds only at t > t0 + 7 d (a capture exactly 7 days "
        "after authorization is synchronous); True: asynchronous from t0 + 7 d on",
        "§2",
    )
    recurring_ttl_restarts_on_charge: bool = _flag(
        True, "each successful charge on a recurring permission restarts its TTL [S]", "§2, §5"
    )

    # -- SPEC §4, §5: charge permission and charge -----------------------------------------
    max_charges_per_one_time_permission: int = _count(
        25,
        "charges a one-time permission allows, whatever state they end in "
        "(else TransactionCountExceeded)",
        "§5",
    )
    max_charge_amount: FrozenMap[str, Decimal] = attrs.field(
        default=_money_default({"USD": 150_000, "EUR": 150_000, "GBP": 150_000, "JPY": 10_000_000}),
        converter=_money_map,
        metadata=_doc(
            "per-charge maximum by currency (else InvalidParameterValue); currencies not listed "
            "have none",
            "§5",
        ),
    )
    recurring_monthly_cap: FrozenMap[str, Decimal] = attrs.field(
        default=_money_default({"USD": 1_000, "EUR": 1_000, "GBP": 1_000, "JPY": 100_000}),
        converter=_money_map,
        metadata=_doc(
            "captured + authorized total per calendar month (UTC) of a recurring permission "
            "(else PeriodicAmountExceeded); EUR and GBP are a Decision; currencies not listed "
            "are unlimited",
            "§5",
        ),
    )

    overcharge_rate: Decimal = attrs.field(
        default=Decimal(9),
        converter=_rate,
        metadata=_doc(
            "with paymentDetails.allowOvercharge, a one-time permission's amountLimit is this "
            "multiple of the order amount (900 %) ...",
            "§11",
        ),
    )
    overcharge_floor: FrozenMap[str, Decimal] = attrs.field(
        default=_money_default({"USD": 500, "EUR": 500, "GBP": 500, "JPY": 70_000}),
        converter=_money_map,
        metadata=_doc(
            "... or this amount by currency, whichever is more (other currencies: the rate "
            "only, a Decision)",
            "§11",
        ),
    )

    payment_method_on_file_monthly_cap: FrozenMap[str, Decimal] = attrs.field(
        default=_money_default(
            {
                "USD": 15_000,
                "EUR": 15_000,
                "GBP": 15_000,
                "AUD": 15_000,
                "CHF": 15_000,
                "NZD": 15_000,
                "DKK": 150_000,
                "HKD": 150_000,
                "NOK": 150_000,
                "SEK": 150_000,
                "ZAR": 150_000,
                "JPY": 2_000_000,
            }
        ),
        converter=_money_map,
        metadata=_doc(
            "captured + authorized total per calendar month (UTC) of a PaymentMethodOnFile "
            "(Saved Wallet) permission (else PeriodicAmountExceeded), from Amazon's 'Monthly "
            "Saved Wallet Charge Limits' page; currencies not listed are unlimited",
            "§11",
        ),
    )

    # -- SPEC §6: refunds ------------------------------------------------------------------
    max_refunds_per_charge: int = _count(
        10, "Decision: refunds per charge (else TransactionCountExceeded)", "§6"
    )
    max_refund_amount: FrozenMap[str, Decimal] = attrs.field(
        default=_money_default({"USD": 150_000, "EUR": 150_000, "GBP": 150_000, "JPY": 10_000_000}),
        converter=_money_map,
        metadata=_doc(
            "maximum of one refund by currency (else InvalidParameterValue); currencies "
            "not listed have none",
            "§6, §11",
        ),
    )
    refund_overage_rate: Decimal = attrs.field(
        default=Decimal("0.15"),
        converter=_rate,
        metadata=_doc("refunds may exceed the captured amount by this fraction of it ...", "§6"),
    )
    refund_overage_cap: FrozenMap[str, Decimal] = attrs.field(
        default=_money_default({"USD": 75, "EUR": 75, "GBP": 75, "JPY": 8_400}),
        converter=_money_map,
        metadata=_doc(
            "... but by no more than this amount by currency (other currencies: the rate only, "
            "a Decision); the allowance is rounded down to the minor unit",
            "§6",
        ),
    )

    # -- SPEC §1: money ----------------------------------------------------------------------
    currency_decimals: FrozenMap[str, int] = attrs.field(
        default=DEFAULT_CURRENCY_DECIMALS,
        converter=_decimals_map,
        metadata={
            "doc": "supported currencies and their decimals; more decimals, or another "
            "currency, is InvalidParameterValue",
            "spec": "§1",
        },
    )

    # -- SPEC §7: asynchronous outcomes and idempotency ------------------------------------
    async_outcome_delay: timedelta = _duration(
        "simulated processing time of asynchronous outcomes (pending authorizations, "
        "asynchronous captures, refunds)",
        "§7",
        seconds=30,
    )
    idempotency_key_max_length: int = _count(
        32, "idempotency keys are 1 to this many characters of A-Za-z0-9-_", "§7"
    )

    # -- SPEC §10: request bodies ------------------------------------------------------------
    soft_descriptor_max_length: int = _count(16, "softDescriptor maximum length", "§10")
    reason_text_max_length: int = _count(
        255, "closureReason and cancellationReason maximum length", "§10"
    )

    def to_json(self) -> dict[str, Any]:
        """The limits as JSON: durations in seconds, money as decimal strings."""
        out: dict[str, Any] = {}
        for field in attrs.fields(Limits):
            value = getattr(self, field.name)
            if isinstance(value, timedelta):
                out[field.name] = {"seconds": value.total_seconds()}
            elif isinstance(value, Mapping):
                out[field.name] = {
                    k: str(v) if isinstance(v, Decimal) else v for k, v in value.items()
                }
            elif isinstance(value, Decimal):
                out[field.name] = str(value)
            else:
                out[field.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Limits:
        """The inverse of ``to_json``; fields not given keep SPEC's defaults.

        Raises:
            ValueError, TypeError: an unknown field or a bad value.
        """
        kwargs: dict[str, Any] = {}
        names = {f.name: f for f in attrs.fields(Limits)}
        for name, value in data.items():
            if name not in names:
                raise ValueError(f"unknown Limits field {name!r}")
            default = getattr(_DEFAULTS, name)
            if isinstance(default, timedelta):
                kwargs[name] = timedelta(seconds=value["seconds"])
            elif name in ("refund_overage_rate", "overcharge_rate"):
                kwargs[name] = Decimal(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)

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

    def overcharge_limit(self, order_amount: Decimal, currency: str) -> Decimal:
        """The amountLimit of a one-time permission whose session allowed overcharge
        (SPEC §11): the larger of ``overcharge_rate`` × the order amount and the currency's
        ``overcharge_floor``; rounded down to the currency's minor unit."""
        limit = order_amount * self.overcharge_rate
        decimals = self.currency_decimals.get(currency)
        if decimals is not None:
            limit = limit.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
        floor = self.overcharge_floor.get(currency)
        return limit if floor is None or floor < limit else floor

    def decimals(self, currency: str) -> int | None:
        """The currency's number of decimals, or None when it is not supported."""
        return self.currency_decimals.get(currency)


_DEFAULTS: Final = Limits()
