"""Request bodies from the schemas (SPEC §10): valid ones and single faults (§8), from ONE
table per field kind.

``KINDS`` says, for each ``BodyField.kind``, which values are valid (a ``Values``) and which
are wrong (each earns ``InvalidParameterValue``). Everything else is derived from it:

* ``request_bodies`` — the public strategy: valid bodies, or a valid body with one fault
  and its code;
* ``schema_body`` — a valid body chosen by a seed, drawn as ``request_bodies`` draws them
  (a stateful step gets one at the cost of one number, where a drawn body costs Hypothesis
  tens of choices but shrinks field by field);
* ``single_faults`` — every single fault of a schema, as data (``BodyFault``): the drawn
  faulty bodies choose among them, and a stateful step picks one by number
  (``fault_by_number``).
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Literal, overload

import attrs
from hypothesis import strategies as st

from apfsm._decide import COMBINATIONS
from apfsm._spec import BODIES, OPERATIONS, BodyField, Limits

from .values import (
    OPAQUE_VALUES,
    SCOPES,
    TRICKY,
    URL_VALUES,
    Booleans,
    Integers,
    Lists,
    OneOf,
    Record,
    Sample,
    Values,
    bounded_texts,
    check_limits,
    currency_values,
    price_values,
)

__all__ = [
    "KINDS",
    "BodyFault",
    "FieldKind",
    "fault_by_number",
    "request_bodies",
    "schema_body",
    "single_faults",
]


# ---------------------------------------------------------------------------------------
# The table: valid and wrong values of each field kind
# ---------------------------------------------------------------------------------------


@attrs.frozen
class FieldKind:
    """What a field of one kind takes.

    Attributes:
        valid: the valid values of a field, under some limits, in a body whose prices are
            in one currency.
        wrong: values of the right shape's neighbours that make the field invalid
            (``InvalidParameterValue``).
    """

    valid: Callable[[BodyField, Limits, str], Values]
    wrong: Callable[[BodyField, Limits], tuple[Any, ...]]


#: Prices in bodies stay below 100,000 (any currency's per-charge maximum is above).
_MAX_PRICE: Final = Decimal(100_000)
_BOOLEANS: Final = Booleans()
_TEXT: Final = Sample(TRICKY)
_URLS: Final = Sample(URL_VALUES)
_OPAQUE: Final = Sample(OPAQUE_VALUES, fresh=True)
_SCOPE_LISTS: Final = Lists(Sample(SCOPES), max_size=3)
_OPAQUE_LISTS: Final = Lists(Sample(OPAQUE_VALUES, fresh=True), max_size=2)
_WRONG_PRICES: Final[tuple[Any, ...]] = (
    # A JSON number is a valid amount (SPEC §1 rev 2), but not true, nor a float whose
    # shortest text has too many decimals.
    {"amount": True, "currencyCode": "USD"},
    {"amount": 0.30000000000000004, "currencyCode": "USD"},
    {"amount": "10.001", "currencyCode": "USD"},
    {"amount": "1e3", "currencyCode": "USD"},
    {"amount": "0", "currencyCode": "USD"},
    {"amount": "-5.00", "currencyCode": "USD"},
    {"amount": "10.5", "currencyCode": "JPY"},
    {"amount": "10.00", "currencyCode": "XXX"},
    "10.00",
)


_NUMERIC_TEXT: Final = OneOf(Sample(("1", "2", "12")), Integers(1, 12))


def _valid_text(field: BodyField, limits: Limits, currency: str) -> Values:
    if field.numeric:  # a count, as a string or a JSON integer (SPEC §1 rev 2)
        return _NUMERIC_TEXT
    if field.max_length is not None:
        return Sample(bounded_texts(getattr(limits, field.max_length)))
    return _URLS if field.name.endswith("Url") else _TEXT


def _wrong_text(field: BodyField, limits: Limits) -> tuple[Any, ...]:
    too_long = () if field.max_length is None else ("x" * (getattr(limits, field.max_length) + 1),)
    return (5.5 if field.numeric else 5, True, ["x"], *too_long)


def _valid_object(field: BodyField, limits: Limits, currency: str) -> Values:
    return _record(field.fields, limits, currency)


#: Per ``BodyField.kind``: its valid and wrong values.
KINDS: Final[Mapping[str, FieldKind]] = {
    "price": FieldKind(
        lambda field, limits, currency: price_values(currency, limits, max_value=_MAX_PRICE),
        lambda field, limits: _WRONG_PRICES,
    ),
    "bool": FieldKind(lambda *_: _BOOLEANS, lambda *_: ("true", 1, "yes")),
    "enum": FieldKind(
        lambda field, *_: Sample(field.choices), lambda field, _: (f"{field.choices[0]}X", 3)
    ),
    "currency": FieldKind(
        lambda field, limits, _: currency_values(limits), lambda *_: ("XXX", "usd", 840)
    ),
    "opaque": FieldKind(lambda *_: _OPAQUE, lambda *_: ("x", [1])),
    "opaque_list": FieldKind(lambda *_: _OPAQUE_LISTS, lambda *_: ("x", {}, [1])),
    "str_list": FieldKind(lambda *_: _SCOPE_LISTS, lambda *_: ("name", [1, 2])),
    "object": FieldKind(_valid_object, lambda *_: ("x", 5, [1])),
    "object_list": FieldKind(
        lambda field, limits, currency: Lists(_record(field.fields, limits, currency), max_size=2),
        lambda *_: ("x", {"addressId": "a"}, [5], ["x"]),
    ),
    "str": FieldKind(_valid_text, _wrong_text),
}


def _record(fields: tuple[BodyField, ...], limits: Limits, currency: str) -> Record:
    return Record([(f.name, KINDS[f.kind].valid(f, limits, currency), f.required) for f in fields])


@functools.lru_cache(maxsize=512)
def _body_values(operation: str, limits: Limits, currency: str) -> Record:
    # Strategies are immutable: build each (operation, limits, currency) shape once.
    return _record(BODIES[operation], limits, currency)


# ---------------------------------------------------------------------------------------
# Valid bodies
# ---------------------------------------------------------------------------------------


def _drop_combination(body: dict[str, Any]) -> dict[str, Any]:
    """Make a body that breaks a combination rule valid by dropping the culprit."""
    body.pop("softDescriptor", None)
    if "paymentIntent" in body:  # the intent at the top level (Finalize)
        body.pop("canHandlePendingAuthorization", None)
    details = body.get("paymentDetails")
    if isinstance(details, dict):
        details.pop("canHandlePendingAuthorization", None)
    return body


@st.composite
def _valid_body(draw: st.DrawFn, operation: str, limits: Limits) -> dict[str, Any]:
    # One currency per body: prices in a body normally agree.
    currency = draw(currency_values(limits).strategy())
    shape = _body_values(operation, limits, currency).strategy()
    combination = COMBINATIONS.get(operation)
    for _ in range(20):
        body: dict[str, Any] = draw(shape)
        if combination is None or combination(body) is None:
            return body
    # Combination rules reject some draws; make this one valid by dropping the culprit.
    return _drop_combination(body)


def schema_body(operation: str, limits: Limits, seed: int) -> dict[str, Any]:
    """A valid body of ``operation`` from its schema, as ``request_bodies`` draws them —
    optional fields present or not, tricky strings, length boundaries — chosen by
    ``seed``."""
    rng = random.Random(seed)
    currency = currency_values(limits).pick(rng)
    body: dict[str, Any] = _body_values(operation, limits, currency).pick(rng)
    combination = COMBINATIONS.get(operation)
    if combination is not None and combination(body) is not None:
        _drop_combination(body)
    return body


# ---------------------------------------------------------------------------------------
# Single faults
# ---------------------------------------------------------------------------------------

FaultAction = Literal["replace", "set", "drop", "null", "combination"]
#: SPEC §8's codes of a body's faults, in its order.
_FORMAT, _UNRECOGNIZED, _MISSING, _INVALID, _COMBINATION = (
    "InvalidRequestFormat",
    "UnrecognizedField",
    "MissingParameterValue",
    "InvalidParameterValue",
    "InvalidParameterCombination",
)
_NOT_OBJECTS: Final[tuple[Any, ...]] = ([], "body", 7)
_UNKNOWN_NAMES: Final = ("unknownField", "chargeAmont", "extra", "note")
#: Values of an unknown field: any scalar is refused for the name alone.
_UNKNOWN_VALUES: Final[tuple[Any, ...]] = ("x", 0, -7, "", "ü")


@attrs.frozen
class BodyFault:
    """One fault to put into a valid body: what it does, where, and the code it earns.

    ``action``: ``replace`` the body with ``value``; ``set`` the field at ``path`` to
    ``value`` (making the objects above it as needed); ``drop`` it or make it ``null``
    (missing); ``combination``: a soft descriptor on a charge not captured now
    (``path`` ``("softDescriptor",)``, ``captureNow`` left out or ``value`` False) or a
    pending authorization with AuthorizeWithCapture (``path`` ``()`` in paymentDetails,
    ``("paymentIntent",)`` at the top level)."""

    action: FaultAction
    path: tuple[str, ...]
    value: Any
    code: str

    @property
    def group(self) -> tuple[str, ...]:
        """Where the fault goes — the field, or the object an unknown field goes into —
        the drawn faults choose a place first, then a fault there."""
        if self.action in ("replace", "combination"):
            return ()
        return self.path[:-1] if self.code == _UNRECOGNIZED else self.path

    def applies(self, body: Any) -> bool:
        """Whether the fault is exactly one fault in ``body`` (a valid body or None): a
        field is dropped from an object only where the object is there."""
        if self.action not in ("drop", "null"):
            return True
        if len(self.path) == 1:
            return isinstance(body, dict)
        return isinstance(body, dict) and isinstance(_get(body, self.path[:-1]), dict)

    def apply(self, body: Any) -> tuple[Any, str]:
        """A copy of ``body`` with the fault in it, and the code SPEC §8 gives it."""
        if self.action == "replace":
            return copy.deepcopy(self.value), self.code
        out: dict[str, Any] = copy.deepcopy(body) if isinstance(body, dict) else {}
        if self.action == "combination":
            _put_combination(out, where=self.path)
            if self.value is False:
                out["captureNow"] = False  # stated, or left out: both forbid the descriptor
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


def _paths(
    fields: tuple[BodyField, ...], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], BodyField]]:
    out = []
    for field in fields:
        out.append(((*prefix, field.name), field))
        if field.kind == "object":
            out.extend(_paths(field.fields, (*prefix, field.name)))
    return out


@functools.lru_cache(maxsize=128)
def single_faults(operation: str, limits: Limits) -> tuple[BodyFault, ...]:
    """Every single fault of ``operation``'s schema, to put into a valid body, in SPEC §8's
    order of codes: not an object; an unknown field at the top or in a declared (not
    opaque) object; a required field dropped or null; each wrong value of each field
    (``KINDS``); a forbidden combination."""
    paths = _paths(BODIES[operation])
    faults = [BodyFault("replace", (), value, _FORMAT) for value in _NOT_OBJECTS]
    for where in [(), *(p for p, f in paths if f.kind == "object")]:
        names = {f.name for p, f in paths if p[:-1] == where}
        faults += [
            BodyFault("set", (*where, name), value, _UNRECOGNIZED)
            for name in _UNKNOWN_NAMES
            if name not in names
            for value in _UNKNOWN_VALUES
        ]
    faults += [
        BodyFault(action, path, None, _MISSING)
        for path, field in paths
        if field.required
        for action in ("drop", "null")
    ]
    faults += [
        BodyFault("set", path, value, _INVALID)
        for path, field in paths
        for value in KINDS[field.kind].wrong(field, limits)
    ]
    if operation == "create_charge":
        faults += [
            BodyFault("combination", ("softDescriptor",), value, _COMBINATION)
            for value in (None, False)
        ]
    elif operation in COMBINATIONS:
        # The intent at the top level of the body (Finalize), or in its paymentDetails.
        top = any(field.name == "paymentIntent" for field in BODIES[operation])
        faults.append(
            BodyFault("combination", ("paymentIntent",) if top else (), None, _COMBINATION)
        )
    return tuple(faults)


def fault_by_number(operation: str, body: Any, number: int, limits: Limits) -> tuple[Any, str]:
    """``body`` with one fault in it, and the code it earns: ``number`` picks the code
    first (each as likely; some have one fault, others dozens), then the fault — among
    the faults that apply to ``body``."""
    by_code = [
        (code, faults if always else tuple(f for f in faults if f.applies(body)))
        for code, faults, always in _faults_by_code(operation, limits)
    ]
    by_code = [(code, faults) for code, faults in by_code if faults]
    _, faults = by_code[number % len(by_code)]
    return faults[number // len(by_code) % len(faults)].apply(body)


@functools.lru_cache(maxsize=128)
def _faults_by_code(
    operation: str, limits: Limits
) -> tuple[tuple[str, tuple[BodyFault, ...], bool], ...]:
    """``single_faults`` by code, in sorted order, and whether each code's faults apply to
    every body (only dropping a field needs the object it is in)."""
    by_code: dict[str, list[BodyFault]] = {}
    for fault in single_faults(operation, limits):
        by_code.setdefault(fault.code, []).append(fault)
    return tuple(
        (code, tuple(faults), all(f.action not in ("drop", "null") for f in faults))
        for code, faults in sorted(by_code.items())
    )


class _FaultDraws:
    """``single_faults`` arranged for drawing, built once per (operation, limits): a code,
    then a place, then a fault there — each as likely as the others."""

    def __init__(self, operation: str, limits: Limits) -> None:
        places: dict[str, dict[tuple[str, ...], list[BodyFault]]] = {}
        for fault in single_faults(operation, limits):
            places.setdefault(fault.code, {}).setdefault(fault.group, []).append(fault)
        self.not_a_body = st.sampled_from(places.pop(_FORMAT)[()])
        # Not a JSON object is one fault among many where the schema has fields; without
        # fields (the reads), it is as likely as an unknown field.
        self.not_a_body_one_in = 20 if BODIES[operation] else 2
        self.codes = st.sampled_from(list(places))
        self.places = {
            code: [(faults[0], st.sampled_from(faults)) for faults in groups.values()]
            for code, groups in places.items()
        }
        self.place_choice = {code: st.sampled_from(p) for code, p in self.places.items()}


@functools.lru_cache(maxsize=128)
def _fault_draws(operation: str, limits: Limits) -> _FaultDraws:
    return _FaultDraws(operation, limits)


@st.composite
def _faulty_body(draw: st.DrawFn, operation: str, limits: Limits) -> tuple[Any, str]:
    plan = _fault_draws(operation, limits)
    if draw(st.integers(0, plan.not_a_body_one_in - 1)) == 0:
        return draw(plan.not_a_body).apply(None)
    body = draw(_valid_body(operation, limits))
    code = draw(plan.codes)
    if code == _MISSING:
        # a required field inside an optional object is required only when it is there
        present = [p for p in plan.places[code] if p[0].applies(body)]
        if present:
            _, faults = draw(st.sampled_from(present))
            return draw(faults).apply(body)
        code = _INVALID
    _, faults = draw(plan.place_choice[code])
    return draw(faults).apply(body)


@overload
def request_bodies(
    operation: str, *, valid: Literal[True] = True, limits: Limits | None = None
) -> st.SearchStrategy[dict[str, Any]]: ...


@overload
def request_bodies(
    operation: str, *, valid: Literal[False], limits: Limits | None = None
) -> st.SearchStrategy[tuple[object, str]]: ...


@overload
def request_bodies(
    operation: str, *, valid: bool, limits: Limits | None = None
) -> st.SearchStrategy[dict[str, Any]] | st.SearchStrategy[tuple[object, str]]: ...


def request_bodies(
    operation: str, *, valid: bool = True, limits: Limits | None = None
) -> st.SearchStrategy[dict[str, Any]] | st.SearchStrategy[tuple[object, str]]:
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
    return _request_bodies(operation, bool(valid), check_limits(limits))


@functools.lru_cache(maxsize=256)
def _request_bodies(operation: str, valid: bool, limits: Limits) -> st.SearchStrategy[Any]:
    return _valid_body(operation, limits) if valid else _faulty_body(operation, limits)


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _put_combination(body: dict[str, Any], *, where: tuple[str, ...]) -> None:
    """Make ``body`` a combination SPEC §10 forbids: a soft descriptor on a charge not
    captured now (``where`` ``("softDescriptor",)``), or a pending authorization with
    AuthorizeWithCapture, at the body's top level (``("paymentIntent",)``, Finalize) or
    in its paymentDetails (``()``)."""
    if where == ("softDescriptor",):
        body["softDescriptor"] = "SHOP"
        body.pop("captureNow", None)
        return
    if where == ("paymentIntent",):
        body["paymentIntent"] = "AuthorizeWithCapture"
        body["canHandlePendingAuthorization"] = True
        return
    details = body.get("paymentDetails")
    details = dict(details) if isinstance(details, dict) else {}
    details["paymentIntent"] = "AuthorizeWithCapture"
    details["canHandlePendingAuthorization"] = True
    body["paymentDetails"] = details


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = body
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _get(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = body
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
