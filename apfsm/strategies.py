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

Example:
    >>> from hypothesis import given
    >>> import apfsm.strategies as aps
    >>> @given(aps.request_bodies("capture_charge", valid=False))
    ... def test_faults(pair):
    ...     body, code = pair
    ...     assert apfsm.check("capture_charge", None, body=body, at=...).reason_code == code
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

import attrs
from hypothesis import strategies as st

from ._decide import COMBINATIONS
from ._spec import BODIES, OPERATIONS, SANDBOX_CARDS, SIMULATION_CODES, BodyField, Limits

__all__ = [
    "currencies",
    "money",
    "request_bodies",
    "sandbox_cards",
    "simulation_codes",
    "time_steps",
]

_DEFAULT: Final = Limits()
_SECOND: Final = timedelta(seconds=1)


def _limits(limits: Limits | None) -> Limits:
    if limits is None:
        return _DEFAULT
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be an apfsm.Limits, got {type(limits).__name__}")
    return limits


def currencies(*, limits: Limits | None = None) -> st.SearchStrategy[str]:
    """Currency codes Amazon Pay accepts (``limits.currency_decimals``), USD first."""
    codes = sorted(_limits(limits).currency_decimals, key=lambda c: (c != "USD", c))
    return st.sampled_from(codes)


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
        min_value, max_value: bounds in major units.

    Raises:
        ValueError: an unsupported currency, or bounds that leave nothing to draw.
    """
    limits = _limits(limits)
    if currency is not None and currency not in limits.currency_decimals:
        raise ValueError(
            f"{currency!r} is not a supported currency; currencies are "
            f"{', '.join(sorted(limits.currency_decimals))}"
        )
    low = Decimal(min_value) if min_value is not None else None
    high = Decimal(max_value) if max_value is not None else None

    def in_currency(code: str) -> st.SearchStrategy[dict[str, str]]:
        decimals = limits.currency_decimals[code]
        unit = Decimal(1).scaleb(-decimals)
        top = high if high is not None else limits.max_charge_amount.get(code, Decimal(1_000_000))
        bottom = low if low is not None else unit
        lo, hi = int((bottom / unit).to_integral_value(rounding="ROUND_CEILING")), int(top / unit)
        lo = max(lo, 1)
        if lo > hi:
            raise ValueError(f"no {code} amount lies between {bottom} and {top}")
        # Small amounts and boundaries are where the rules bite: draw them often.
        minor = st.one_of(
            st.integers(min_value=lo, max_value=min(hi, lo + 10_000)),
            st.integers(min_value=lo, max_value=hi),
            st.sampled_from(sorted({lo, hi})),
        )
        return minor.map(
            lambda m: {
                "amount": str((Decimal(m) * unit).quantize(unit)),
                "currencyCode": code,
            }
        )

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
# Request bodies
# ---------------------------------------------------------------------------------------

# Text is drawn from curated tricky strings rather than random text: what breaks
# integrations is quoting, escaping, non-ASCII, whitespace and length boundaries, not
# random characters, and one choice per string keeps long stateful runs cheap (a random
# 255-character string is hundreds of Hypothesis choices).
_TRICKY: Final = (
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
_TEXT: Final = st.sampled_from(_TRICKY)
_OPAQUE_VALUES: Final[tuple[dict[str, Any], ...]] = (
    {},
    {"id": "1"},
    {"a": 1, "b": "x"},
    {"nested": {"list": [1, "two", None]}},
)
_OPAQUE: Final = st.sampled_from(_OPAQUE_VALUES).map(copy.deepcopy)
_URL_VALUES: Final = (
    "https://shop.example/review",
    "https://shop.example/result",
    "https://a.example/x?y=1",
)
_SCOPES: Final = ("name", "email", "phoneNumber", "billingAddress")


def _bounded_texts(maximum: int) -> list[str]:
    """Tricky strings that fit, and the length boundaries: empty, L - 1 and L characters
    (with a multi-byte character: limits count characters, not bytes)."""
    fitting = [t for t in _TRICKY if len(t) <= maximum]
    edges = ["", "x" * max(maximum - 1, 0), "é" * maximum, "x" * maximum]
    return [*fitting, *edges]


def _bounded_text(maximum: int) -> st.SearchStrategy[str]:
    return st.sampled_from(_bounded_texts(maximum))


_URLS: Final = st.sampled_from(_URL_VALUES)


def _value(field: BodyField, limits: Limits, currency: str | None) -> st.SearchStrategy[Any]:
    kind = field.kind
    if kind == "price":
        return money(currency=currency, max_value=100_000, limits=limits)
    if kind == "bool":
        return st.booleans()
    if kind == "enum":
        return st.sampled_from(field.choices)
    if kind == "currency":
        return currencies(limits=limits)
    if kind == "opaque":
        return _OPAQUE
    if kind == "str_list":
        return st.lists(st.sampled_from(_SCOPES), max_size=3)
    if kind == "object":
        return _object(field.fields, limits, currency, top=False)
    assert kind == "str"
    if field.max_length is not None:
        return _bounded_text(getattr(limits, field.max_length))
    if field.name.endswith("Url"):
        return _URLS
    return _TEXT


def _object(
    fields: tuple[BodyField, ...], limits: Limits, currency: str | None, *, top: bool
) -> st.SearchStrategy[dict[str, Any]]:
    required = {f.name: _value(f, limits, currency) for f in fields if f.required}
    optional = {f.name: _value(f, limits, currency) for f in fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


@functools.lru_cache(maxsize=512)
def _body_object(
    operation: str, limits: Limits, currency: str | None
) -> st.SearchStrategy[dict[str, Any]]:
    # Strategies are immutable: build each (operation, limits, currency) shape once.
    return _object(BODIES[operation], limits, currency, top=True)


@functools.lru_cache(maxsize=64)
def _currency_choice(limits: Limits) -> st.SearchStrategy[str]:
    return currencies(limits=limits)


@st.composite
def _valid_body(draw: st.DrawFn, operation: str, limits: Limits) -> dict[str, Any]:
    # One currency per body: prices in a body normally agree.
    currency = draw(_currency_choice(limits))
    shape = _body_object(operation, limits, currency)
    combination = COMBINATIONS.get(operation)
    for _ in range(20):
        body = draw(shape)
        if combination is None or combination(body) is None:
            return body
    # Combination rules reject some draws; make this one valid by dropping the culprit.
    body.pop("softDescriptor", None)
    details = body.get("paymentDetails")
    if isinstance(details, dict):
        details.pop("canHandlePendingAuthorization", None)
    return body


def _paths(
    fields: tuple[BodyField, ...], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], BodyField]]:
    out = []
    for field in fields:
        out.append(((*prefix, field.name), field))
        if field.kind == "object":
            out.extend(_paths(field.fields, (*prefix, field.name)))
    return out


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = body
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _wrong_values(field: BodyField, limits: Limits) -> list[Any]:
    kind = field.kind
    if kind == "price":
        return [
            {"amount": 10, "currencyCode": "USD"},
            {"amount": "10.001", "currencyCode": "USD"},
            {"amount": "1e3", "currencyCode": "USD"},
            {"amount": "0", "currencyCode": "USD"},
            {"amount": "-5.00", "currencyCode": "USD"},
            {"amount": "10.5", "currencyCode": "JPY"},
            {"amount": "10.00", "currencyCode": "XXX"},
            "10.00",
        ]
    if kind == "bool":
        return ["true", 1, "yes"]
    if kind == "enum":
        return [f"{field.choices[0]}X", 3]
    if kind == "currency":
        return ["XXX", "usd", 840]
    if kind == "opaque":
        return ["x", [1]]
    if kind == "str_list":
        return ["name", [1, 2]]
    if kind == "object":
        return ["x", 5, [1]]
    values: list[Any] = [5, True, ["x"]]
    if field.max_length is not None:
        values.append("x" * (getattr(limits, field.max_length) + 1))
    return values


_UNKNOWN_NAMES: Final = ("unknownField", "chargeAmont", "extra", "note")
_NOT_OBJECTS: Final[tuple[Any, ...]] = ([], "body", 7)
_NOT_A_BODY: Final = st.sampled_from(_NOT_OBJECTS)
_ANY_SCALAR: Final = st.integers() | st.text(max_size=3)
_FALSE_OR_ABSENT: Final = st.sampled_from([False, None])


class _FaultPlan:
    """Everything about an operation's faults that does not depend on the drawn body,
    built once per (operation, limits): the strategies of ``_faulty_body``."""

    def __init__(self, operation: str, limits: Limits) -> None:
        paths = _paths(BODIES[operation])
        self.paths = paths
        kinds = ["unrecognized", "invalid"]
        if any(f.required for _, f in paths):
            kinds.append("missing")
        if operation in COMBINATIONS:
            kinds.append("combination")
        self.kinds = st.sampled_from(kinds)
        # An unknown field goes at the top, or inside a declared (not opaque) object.
        places = []
        for where in [(), *(p for p, f in paths if f.kind == "object")]:
            names = {f.name for p, f in paths if p[:-1] == where}
            unknown = [n for n in _UNKNOWN_NAMES if n not in names]
            places.append((where, st.sampled_from(unknown)))
        self.places = st.sampled_from(places)
        self.required = [p for p, f in paths if f.required]
        self.wrong = st.sampled_from(
            [(path, st.sampled_from(_wrong_values(field, limits))) for path, field in paths]
        )


@functools.lru_cache(maxsize=128)
def _fault_plan(operation: str, limits: Limits) -> _FaultPlan:
    return _FaultPlan(operation, limits)


@st.composite
def _faulty_body(draw: st.DrawFn, operation: str, limits: Limits) -> tuple[Any, str]:
    if draw(st.integers(0, 19)) == 0:
        return copy.deepcopy(draw(_NOT_A_BODY)), "InvalidRequestFormat"
    body = draw(_valid_body(operation, limits))
    plan = _fault_plan(operation, limits)
    fault = draw(plan.kinds)
    if fault == "unrecognized":
        where, names = draw(plan.places)
        _set(body, (*where, draw(names)), draw(_ANY_SCALAR))
        return body, "UnrecognizedField"
    if fault == "missing":
        required = [
            p
            for p in plan.required
            # a required field inside an optional object is required only when it is there
            if all(isinstance(_get(body, p[:i]), dict) for i in range(1, len(p)))
        ]
        if required:
            path = draw(st.sampled_from(required))
            parent = _get(body, path[:-1]) if len(path) > 1 else body
            assert isinstance(parent, dict)
            if draw(st.booleans()):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = None  # null counts as missing
            return body, "MissingParameterValue"
        fault = "invalid"
    if fault == "combination":
        _put_combination(body, charge=operation == "create_charge")
        if operation == "create_charge" and draw(_FALSE_OR_ABSENT) is False:
            body["captureNow"] = False  # stated, or left out: both forbid the descriptor
        return body, "InvalidParameterCombination"
    path, values = draw(plan.wrong)
    _set(body, path, copy.deepcopy(draw(values)))  # the plan's values are shared
    return body, "InvalidParameterValue"


def _put_combination(body: dict[str, Any], *, charge: bool) -> None:
    """Make ``body`` a combination SPEC §10 forbids: a soft descriptor on a charge not
    captured now, or a pending authorization with AuthorizeWithCapture."""
    if charge:
        body["softDescriptor"] = "SHOP"
        body.pop("captureNow", None)
        return
    details = body.get("paymentDetails")
    details = dict(details) if isinstance(details, dict) else {}
    details["paymentIntent"] = "AuthorizeWithCapture"
    details["canHandlePendingAuthorization"] = True
    body["paymentDetails"] = details


def _get(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = body
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _walk_value(field: BodyField, limits: Limits, currency: str, rng: random.Random) -> Any:
    """A valid value of ``field``, as ``_value`` draws it, chosen by ``rng``."""
    kind = field.kind
    if kind == "price":
        unit = Decimal(1).scaleb(-limits.currency_decimals[currency])
        ceiling: Decimal = min(
            limits.max_charge_amount.get(currency, Decimal(100_000)), Decimal(100_000)
        )
        top = int(ceiling / unit)
        minor = rng.choice([1, 2, 100, 999, 4999, rng.randint(1, top), top])
        return {"amount": str((Decimal(minor) * unit).quantize(unit)), "currencyCode": currency}
    if kind == "bool":
        return rng.choice([False, True])
    if kind == "enum":
        return rng.choice(field.choices)
    if kind == "currency":
        return rng.choice(sorted(limits.currency_decimals))
    if kind == "opaque":
        return copy.deepcopy(rng.choice(_OPAQUE_VALUES))
    if kind == "str_list":
        return rng.sample(_SCOPES, rng.randint(0, 3))
    if kind == "object":
        return _walk_object(field.fields, limits, currency, rng)
    if field.max_length is not None:
        return rng.choice(_bounded_texts(getattr(limits, field.max_length)))
    if field.name.endswith("Url"):
        return rng.choice(_URL_VALUES)
    return rng.choice(_TRICKY)


def _walk_object(
    fields: tuple[BodyField, ...], limits: Limits, currency: str, rng: random.Random
) -> dict[str, Any]:
    return {
        f.name: _walk_value(f, limits, currency, rng)
        for f in fields
        if f.required or rng.random() < 0.5
    }


def _schema_body(operation: str, limits: Limits, seed: int) -> dict[str, Any]:
    """A valid body of ``operation`` from its schema, as ``request_bodies`` draws them —
    optional fields present or not, tricky strings, length boundaries — chosen by
    ``seed``: a stateful step gets one at the cost of one number, where a drawn body costs
    Hypothesis tens of choices (but shrinks field by field)."""
    rng = random.Random(seed)
    currency = rng.choice(sorted(limits.currency_decimals, key=lambda c: (c != "USD", c)))
    body = _walk_object(BODIES[operation], limits, currency, rng)
    combination = COMBINATIONS.get(operation)
    if combination is not None and combination(body) is not None:
        body.pop("softDescriptor", None)  # as _valid_body: drop the culprit
        details = body.get("paymentDetails")
        if isinstance(details, dict):
            details.pop("canHandlePendingAuthorization", None)
    return body


@attrs.frozen
class _Fault:
    """One fault to put into a valid body: what it does, where, and the code it earns."""

    action: str  # "replace" the body, "set" a field, "drop" or "null" one, "combination"
    path: tuple[str, ...]
    value: Any
    code: str

    def applies(self, body: Any) -> bool:
        """Whether the fault is exactly one fault in ``body`` (a valid body or None): a
        field goes into an object only where the object is there."""
        if self.action in ("replace", "combination"):
            return True
        if len(self.path) == 1:
            return self.action == "set" or isinstance(body, dict)
        return isinstance(body, dict) and isinstance(_get(body, self.path[:-1]), dict)

    def apply(self, body: Any) -> tuple[Any, str]:
        """A copy of ``body`` with the fault in it, and the code SPEC §8 gives it."""
        if self.action == "replace":
            return copy.deepcopy(self.value), self.code
        out: dict[str, Any] = copy.deepcopy(body) if isinstance(body, dict) else {}
        if self.action == "combination":
            _put_combination(out, charge="softDescriptor" in self.path)
        elif self.action == "set":
            _set(out, self.path, copy.deepcopy(self.value))
        else:
            parent = _get(out, self.path[:-1]) if len(self.path) > 1 else out
            assert isinstance(parent, dict)
            if self.action == "drop":
                parent.pop(self.path[-1], None)
            else:
                parent[self.path[-1]] = None  # null counts as missing
        return out, self.code


@functools.lru_cache(maxsize=128)
def _single_faults(operation: str, limits: Limits) -> tuple[_Fault, ...]:
    """Every single fault of ``operation``'s schema, to put into a valid body: not an
    object, an unknown field, a required field dropped or null, a wrong value in each
    field, a forbidden combination. A stateful step picks one by number, at no extra
    Hypothesis choice (``request_bodies(valid=False)`` draws them instead)."""
    paths = _paths(BODIES[operation])
    faults = [_Fault("replace", (), value, "InvalidRequestFormat") for value in _NOT_OBJECTS]
    top = {f.name for p, f in paths if len(p) == 1}
    faults += [
        _Fault("set", (name,), "x", "UnrecognizedField")
        for name in _UNKNOWN_NAMES
        if name not in top
    ]
    for path, field in paths:
        if field.required:
            faults.append(_Fault("drop", path, None, "MissingParameterValue"))
            faults.append(_Fault("null", path, None, "MissingParameterValue"))
        faults += [
            _Fault("set", path, value, "InvalidParameterValue")
            for value in _wrong_values(field, limits)
        ]
    if operation == "create_charge":
        faults.append(
            _Fault("combination", ("softDescriptor",), None, "InvalidParameterCombination")
        )
    elif operation in COMBINATIONS:
        faults.append(_Fault("combination", (), None, "InvalidParameterCombination"))
    return tuple(faults)


def request_bodies(
    operation: str, *, valid: bool = True, limits: Limits | None = None
) -> st.SearchStrategy[Any]:
    """Request bodies for ``operation``, from its schema (SPEC §10).

    Args:
        operation: an operation name of SPEC §1.
        valid: True draws bodies that pass validation (dicts); False draws
            ``(body, expected_error_code)`` pairs: a body with exactly one fault and the
            code SPEC §8 gives it (``InvalidRequestFormat``, ``UnrecognizedField``,
            ``MissingParameterValue``, ``InvalidParameterValue`` or
            ``InvalidParameterCombination``).
        limits: lengths and currencies come from here.

    Raises:
        ValueError: unknown operation.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; operations are {', '.join(OPERATIONS)}")
    return _request_bodies(operation, bool(valid), _limits(limits))


@functools.lru_cache(maxsize=256)
def _request_bodies(operation: str, valid: bool, limits: Limits) -> st.SearchStrategy[Any]:
    if valid:
        return _valid_body(operation, limits)
    if not BODIES[operation]:
        # GET operations take no fields: any field is unrecognized.
        return st.one_of(
            st.tuples(st.sampled_from([[], "body", 7]), st.just("InvalidRequestFormat")),
            st.tuples(
                st.dictionaries(
                    st.sampled_from(["x", "chargeId", "body"]),
                    st.integers(),
                    min_size=1,
                    max_size=2,
                ),
                st.just("UnrecognizedField"),
            ),
        )
    return _faulty_body(operation, limits)


# ---------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------


def deadline_offsets(limits: Limits | None = None) -> list[timedelta]:
    """Exactly L − 1 s, L and L + 1 s of every duration limit, sorted."""
    limits = _limits(limits)
    out = set()
    for value in limits.durations().values():
        for offset in (-_SECOND, timedelta(0), _SECOND):
            if value + offset > timedelta(0):
                out.add(value + offset)
    return sorted(out)


def time_steps(
    *, limits: Limits | None = None, max_value: timedelta = timedelta(days=400)
) -> st.SearchStrategy[timedelta]:
    """Deadline-aware clock jumps: half uniform durations (whole seconds up to
    ``max_value``), half exactly L − 1 s, L or L + 1 s of a duration limit of ``limits``.

    Calendar edges (month ends, 29 February, the 1st of a month) depend on the current
    time, so stateful tests reach them by jumping to absolute instants (see
    ``apfsm.stateful``)."""
    uniform = st.integers(min_value=1, max_value=int(max_value.total_seconds())).map(
        lambda s: timedelta(seconds=s)
    )
    deadlines = st.sampled_from(deadline_offsets(limits))
    # An even choice between the two (one_of alone favours its simpler branch).
    return st.booleans().flatmap(lambda on_deadline: deadlines if on_deadline else uniform)


def _unused(_: Mapping[str, Any]) -> None:  # pragma: no cover - keeps Mapping imported for docs
    return None
