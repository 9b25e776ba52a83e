"""Values: prices, currencies, tricky text, URLs, opaque values — and ``Values``, a set of
values drawn two ways from one description.

A ``Values`` is either a Hypothesis strategy (``strategy()``: shrinks, used by the public
strategies) or picked by a seeded ``random.Random`` (``pick(rng)``: a stateful step gets a
whole body for the cost of one drawn number). Both come from the same description, so the
stateful machine's seeded bodies are drawn as ``request_bodies`` draws them.
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Final

from hypothesis import strategies as st

from apfsm._spec import OPERATIONS, SANDBOX_CARDS, SIMULATION_CODES, Limits

__all__ = [
    "OPAQUE_VALUES",
    "SCOPES",
    "TRICKY",
    "URL_VALUES",
    "Booleans",
    "Integers",
    "Lists",
    "Mapped",
    "OneOf",
    "Record",
    "Sample",
    "Values",
    "bounded_text",
    "bounded_texts",
    "check_limits",
    "currencies",
    "currency_values",
    "money",
    "price_values",
    "sandbox_cards",
    "simulation_codes",
]

_DEFAULT: Final = Limits()


def check_limits(limits: Limits | None) -> Limits:
    """``limits``, or SPEC's when None.

    Raises:
        TypeError: ``limits`` is not an ``apfsm.Limits``.
    """
    if limits is None:
        return _DEFAULT
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be an apfsm.Limits, got {type(limits).__name__}")
    return limits


# ---------------------------------------------------------------------------------------
# Values: one description, two ways to draw
# ---------------------------------------------------------------------------------------


class Values:
    """A set of values with a distribution: ``strategy()`` draws them with Hypothesis,
    ``pick(rng)`` with a seeded ``random.Random``. Immutable; the strategy is built once."""

    __slots__ = ("_strategy",)

    def __init__(self) -> None:
        self._strategy: st.SearchStrategy[Any] | None = None

    def strategy(self) -> st.SearchStrategy[Any]:
        if self._strategy is None:
            self._strategy = self._build()
        return self._strategy

    def _build(self) -> st.SearchStrategy[Any]:
        raise NotImplementedError

    def pick(self, rng: random.Random) -> Any:
        raise NotImplementedError


class Sample(Values):
    """One of ``values``, evenly (``fresh``: a deep copy, for mutable values)."""

    __slots__ = ("fresh", "values")

    def __init__(self, values: Sequence[Any], *, fresh: bool = False) -> None:
        super().__init__()
        self.values = tuple(values)
        self.fresh = fresh

    def _build(self) -> st.SearchStrategy[Any]:
        sampled = st.sampled_from(self.values)
        return sampled.map(copy.deepcopy) if self.fresh else sampled

    def pick(self, rng: random.Random) -> Any:
        value = rng.choice(self.values)
        return copy.deepcopy(value) if self.fresh else value


class Booleans(Values):
    """False or True (Hypothesis: ``booleans()``, shrinking to False)."""

    __slots__ = ()

    def _build(self) -> st.SearchStrategy[Any]:
        return st.booleans()

    def pick(self, rng: random.Random) -> Any:
        return rng.choice((False, True))


class Integers(Values):
    """An integer from ``low`` to ``high``, both included, uniformly (Hypothesis favours
    small and boundary values)."""

    __slots__ = ("high", "low")

    def __init__(self, low: int, high: int) -> None:
        super().__init__()
        self.low, self.high = low, high

    def _build(self) -> st.SearchStrategy[Any]:
        return st.integers(min_value=self.low, max_value=self.high)

    def pick(self, rng: random.Random) -> Any:
        return rng.randint(self.low, self.high)


class OneOf(Values):
    """A value of one of ``parts``, each part as likely."""

    __slots__ = ("parts",)

    def __init__(self, *parts: Values) -> None:
        super().__init__()
        self.parts = parts

    def _build(self) -> st.SearchStrategy[Any]:
        return st.one_of(*(part.strategy() for part in self.parts))

    def pick(self, rng: random.Random) -> Any:
        return rng.choice(self.parts).pick(rng)


class Mapped(Values):
    """``function`` of a value of ``inner``."""

    __slots__ = ("function", "inner")

    def __init__(self, inner: Values, function: Callable[[Any], Any]) -> None:
        super().__init__()
        self.inner, self.function = inner, function

    def _build(self) -> st.SearchStrategy[Any]:
        return self.inner.strategy().map(self.function)

    def pick(self, rng: random.Random) -> Any:
        return self.function(self.inner.pick(rng))


class Lists(Values):
    """A list of up to ``max_size`` values of ``inner``."""

    __slots__ = ("inner", "max_size")

    def __init__(self, inner: Values, *, max_size: int) -> None:
        super().__init__()
        self.inner, self.max_size = inner, max_size

    def _build(self) -> st.SearchStrategy[Any]:
        return st.lists(self.inner.strategy(), max_size=self.max_size)

    def pick(self, rng: random.Random) -> Any:
        return [self.inner.pick(rng) for _ in range(rng.randint(0, self.max_size))]


class Record(Values):
    """A dict of ``fields`` — ``(name, values, required)`` — the optional ones present or
    not (the seeded pick: each as often as not)."""

    __slots__ = ("fields",)

    def __init__(self, fields: Sequence[tuple[str, Values, bool]]) -> None:
        super().__init__()
        self.fields = tuple(fields)

    def _build(self) -> st.SearchStrategy[Any]:
        required = {name: v.strategy() for name, v, needed in self.fields if needed}
        optional = {name: v.strategy() for name, v, needed in self.fields if not needed}
        return st.fixed_dictionaries(required, optional=optional)

    def pick(self, rng: random.Random) -> Any:
        return {
            name: values.pick(rng)
            for name, values, needed in self.fields
            if needed or rng.random() < 0.5
        }


# ---------------------------------------------------------------------------------------
# Prices and currencies (SPEC §1)
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def currency_values(limits: Limits) -> Values:
    """The currency codes of ``limits.currency_decimals``, USD first."""
    return Sample(sorted(limits.currency_decimals, key=lambda c: (c != "USD", c)))


def currencies(*, limits: Limits | None = None) -> st.SearchStrategy[str]:
    """Currency codes Amazon Pay accepts (``limits.currency_decimals``), USD first."""
    strategy: st.SearchStrategy[str] = currency_values(check_limits(limits)).strategy()
    return strategy


def price_values(
    code: str,
    limits: Limits,
    *,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
) -> Values:
    """API prices in ``code``: positive, with the currency's minor units, within the
    per-charge maximum unless ``max_value`` says otherwise; small amounts and both bounds
    often (where the rules bite).

    Raises:
        ValueError: the bounds leave no amount.
    """
    decimals = limits.currency_decimals[code]
    unit = Decimal(1).scaleb(-decimals)
    top = (
        max_value
        if max_value is not None
        else limits.max_charge_amount.get(code, Decimal(1_000_000))
    )
    bottom = min_value if min_value is not None else unit
    lo, hi = int((bottom / unit).to_integral_value(rounding="ROUND_CEILING")), int(top / unit)
    lo = max(lo, 1)
    if lo > hi:
        raise ValueError(f"no {code} amount lies between {bottom} and {top}")
    minor = OneOf(Integers(lo, min(hi, lo + 10_000)), Integers(lo, hi), Sample(sorted({lo, hi})))
    return Mapped(
        minor,
        lambda m: {"amount": str((Decimal(m) * unit).quantize(unit)), "currencyCode": code},
    )


def money(
    *,
    currency: str | None = None,
    min_value: Decimal | int | str | None = None,
    max_value: Decimal | int | str | None = None,
    limits: Limits | None = None,
) -> st.SearchStrategy[dict[str, str]]:
    """API price dicts ``{"amount": "12.34", "currencyCode": "USD"}``.

    Amounts are positive, have at most the currency's decimals (none for JPY), and stay
    within the per-charge maximum unless ``max_value`` says otherwise.

    Args:
        currency: a fixed currency; any supported one when None.
        min_value: the lower bound, in major units.
        max_value: the upper bound, in major units.
        limits: the limits whose currencies and per-charge maximum apply (SPEC's).

    Raises:
        ValueError: an unsupported currency, or bounds that leave nothing to draw.
    """
    limits = check_limits(limits)
    if currency is not None and currency not in limits.currency_decimals:
        raise ValueError(
            f"{currency!r} is not a supported currency; currencies are "
            f"{', '.join(sorted(limits.currency_decimals))}"
        )
    low = Decimal(min_value) if min_value is not None else None
    high = Decimal(max_value) if max_value is not None else None

    def in_currency(code: str) -> st.SearchStrategy[dict[str, str]]:
        prices = price_values(code, limits, min_value=low, max_value=high)
        strategy: st.SearchStrategy[dict[str, str]] = prices.strategy()
        return strategy

    if currency is not None:
        return in_currency(currency)
    return currencies(limits=limits).flatmap(in_currency)


def simulation_codes(*, operation: str | None = None) -> st.SearchStrategy[str]:
    """Sandbox simulation codes (SPEC §7), for one operation or any.

    Raises:
        ValueError: ``operation`` is unknown or takes no simulation code.
    """
    if operation is None:
        return st.sampled_from(sorted({c for codes in SIMULATION_CODES.values() for c in codes}))
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    codes = SIMULATION_CODES.get(operation)
    if not codes:
        raise ValueError(
            f"{operation} takes no simulation code; operations that do: "
            f"{', '.join(SIMULATION_CODES)}"
        )
    return st.sampled_from(codes)


def sandbox_cards() -> st.SearchStrategy[str]:
    """The sandbox test cards' last four digits (SPEC §7), ``"1111"`` (success) first."""
    return st.sampled_from(list(SANDBOX_CARDS))


# ---------------------------------------------------------------------------------------
# Text, URLs, opaque values
# ---------------------------------------------------------------------------------------

#: Text is drawn from curated tricky strings rather than random text: what breaks
#: integrations is quoting, escaping, non-ASCII, whitespace and length boundaries, not
#: random characters, and one choice per string keeps long stateful runs cheap (a random
#: 255-character string is hundreds of Hypothesis choices).
TRICKY: Final = (
    "order-1",
    "a",
    " leading and trailing ",
    'quote " and \\ backslash',
    "<b>&amp;</b>",
    "Ünïcödé ✓",
    "日本語のテキスト",
    "emoji 🛒💳",
    "right-to-left \u202eabc",
    "line\nbreak\ttab",
    '{"json": [1]}',
    "' OR 1=1 --",
)
#: Values of an opaque field (stored as is): empty, flat, nested.
OPAQUE_VALUES: Final[tuple[dict[str, Any], ...]] = (
    {},
    {"id": "1"},
    {"a": 1, "b": "x"},
    {"nested": {"list": [1, "two", None]}},
)
URL_VALUES: Final = (
    "https://shop.example/review",
    "https://shop.example/result",
    "https://a.example/x?y=1",
)
#: The buyer data a checkout may ask for (``scopes``).
SCOPES: Final = ("name", "email", "phoneNumber", "billingAddress")


def bounded_texts(maximum: int) -> list[str]:
    """Tricky strings that fit, and the length boundaries: empty, L - 1 and L characters
    (with a multi-byte character: limits count characters, not bytes)."""
    fitting = [t for t in TRICKY if len(t) <= maximum]
    edges = ["", "x" * max(maximum - 1, 0), "é" * maximum, "x" * maximum]
    return [*fitting, *edges]


def bounded_text(maximum: int) -> st.SearchStrategy[str]:
    """``bounded_texts(maximum)``, drawn."""
    return st.sampled_from(bounded_texts(maximum))
