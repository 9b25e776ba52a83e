"""The vocabulary of the declarations: states, transitions, refusals, events, timers and
named conditions, as frozen records (SPEC §2–§7).

The records hold no behaviour: guards, deadlines and checks are named here and implemented
in ``_decide.rules`` under the same names.
"""

from __future__ import annotations

import string
from typing import Final, Literal

import attrs

from .limits import FrozenMap, Limits
from .operations import OPERATIONS

__all__ = [
    "DELETED",
    "SAME",
    "Actor",
    "Allow",
    "Check",
    "Creation",
    "Deadline",
    "Event",
    "Guard",
    "Lifecycle",
    "Refuse",
    "StateDecl",
    "Timer",
    "render_label",
]

SAME: Final = "="
#: The pseudo-state of a deleted object (SPEC §2 retention). Never in a payload.
DELETED: Final = "Deleted"

Actor = Literal["buyer", "amazon"]


def _template_fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


class _Describe(dict[str, str]):
    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits

    def __missing__(self, key: str) -> str:
        return self._limits.describe(key)


def render_label(template: str, limits: Limits) -> str:
    """Fill a label template's ``{limit_name}`` fields with ``limits``' values."""
    return template.format_map(_Describe(limits))


@attrs.frozen
class StateDecl:
    """A state of an object.

    Attributes:
        name: as it appears in ``statusDetails.state``.
        description: one line for docs and diagrams.
        reasons: reason codes the object can carry in this state.
        initial: an object can be created in this state.
        terminal: no operation, event or timer leads out of it (deletion aside).
        virtual: not an API state (``Deleted``): never in a payload.
    """

    name: str
    description: str
    reasons: tuple[str, ...] = ()
    initial: bool = False
    terminal: bool = False
    virtual: bool = False


@attrs.frozen
class Guard:
    """A named condition on a transition, implemented in ``_rules.GUARD_FUNCTIONS``.

    ``label`` is a template whose ``{field}`` parts name ``Limits`` fields, e.g.
    ``"≤ {async_capture_after} after authorization"``. ``complement`` names the guard this
    one negates: a branch guarded by it after a branch guarded by its complement needs no
    evaluation.
    """

    name: str
    label: str
    complement: str | None = None

    @property
    def limits(self) -> tuple[str, ...]:
        """The ``Limits`` fields this guard depends on."""
        return _template_fields(self.label)


@attrs.frozen
class Deadline:
    """A named deadline, implemented in ``_rules.DEADLINES``.

    Attributes:
        name: the key.
        label: a template over ``Limits`` fields, e.g. ``"{authorization_ttl}"``.
        anchor: what the limit counts from, in words.
        limits: every ``Limits`` field the deadline depends on.
        payload_field: a payload field that, when present, gives this deadline directly and
            wins over the derived one (SPEC §2).
    """

    name: str
    label: str
    anchor: str
    limits: tuple[str, ...]
    payload_field: str | None = None


@attrs.frozen
class Check:
    """A rule an allowed operation must also pass (amounts, currencies, counts).

    Checks run in their operation's order after the state rule; the first failing one
    answers ``code``. A check that needs facts the caller does not have (history that a
    payload does not show) is skipped.

    Attributes:
        name: the key (implemented in ``_decide.rules.CHECK_FUNCTIONS``).
        code: the error code a failure answers.
        description: a template over ``Limits`` fields, for docs.
        needs_history: the check reads history an object's JSON does not show (charge and
            refund counts, the month's total, refunds still pending): ``apfsm.check`` on a
            payload may accept what Amazon refuses with ``code``. It still applies what the
            payload and body alone decide (one charge above the monthly cap is refused).
    """

    name: str
    code: str
    description: str
    needs_history: bool = False


@attrs.frozen
class Allow:
    """``operation`` is accepted in ``sources``; the target moves to ``dest`` when ``guard``
    holds (several Allows for one state are tried in order)."""

    operation: str
    sources: tuple[str, ...]
    dest: str
    guard: str | None = None
    reason: str | None = None


@attrs.frozen
class Refuse:
    """``operation`` is refused in ``sources`` with ``code`` (or, for the reason the object
    carries, with ``by_reason[reason]``)."""

    operation: str
    sources: tuple[str, ...]
    code: str
    by_reason: FrozenMap[str, str] = attrs.field(
        default=FrozenMap[str, str](), converter=FrozenMap[str, str]
    )


@attrs.frozen
class Event:
    """Something the buyer or Amazon does (not a merchant call).

    ``reason`` None means the reason varies (given when the event happens, from
    ``reasons``). ``delay`` names the ``Limits`` field after which Amazon resolves an
    asynchronous outcome, when the event is one.
    """

    name: str
    sources: tuple[str, ...]
    dest: str
    actor: Actor
    description: str
    reason: str | None = None
    reasons: tuple[str, ...] = ()
    delay: str | None = None


@attrs.frozen
class Timer:
    """A time-driven transition: at ``deadline`` the object moves to ``dest``."""

    name: str
    sources: tuple[str, ...]
    dest: str
    deadline: str
    reason: str | None = None


@attrs.frozen
class Creation:
    """``operation`` creates this object in ``dest`` when ``guard`` holds (tried in order).

    ``http_status`` overrides the operation's success status (202 for a pending
    completion). ``actor`` set means ``operation`` is not a merchant call but the buyer's
    (or Amazon's) action of that name (a Buyer is made by the buyer signing in).
    """

    operation: str
    dest: str
    guard: str | None = None
    http_status: int | None = None
    actor: Actor | None = None


@attrs.frozen
class Lifecycle:
    """One object type's whole declaration.

    Attributes:
        object_type: the API's name, e.g. ``"Charge"``.
        notification_type: the IPN ``ObjectType`` of its state changes (SPEC §7), None
            when Amazon sends none.
        description: one line for docs and diagrams.
        id_field: the JSON field holding its id, e.g. ``"chargeId"`` (SPEC §1).
        ref_prefix: how traces name its objects, e.g. ``"ch"`` (``ch1``, ``ch2``...).
        states, allows, refusals, events, timers, creations: the lifecycle itself.
    """

    object_type: str
    notification_type: str | None
    description: str
    id_field: str
    ref_prefix: str
    states: tuple[StateDecl, ...]
    allows: tuple[Allow, ...]
    refusals: tuple[Refuse, ...]
    events: tuple[Event, ...] = ()
    timers: tuple[Timer, ...] = ()
    creations: tuple[Creation, ...] = ()

    def state(self, name: str) -> StateDecl:
        for state in self.states:
            if state.name == name:
                return state
        raise ValueError(
            f"{name!r} is not a {self.object_type} state; "
            f"states are {', '.join(self.state_names())}"
        )

    def state_names(self, *, virtual: bool = False) -> tuple[str, ...]:
        return tuple(s.name for s in self.states if virtual or not s.virtual)

    @property
    def operations(self) -> tuple[str, ...]:
        """Operations that act on this object type, in declaration order."""
        return tuple(op.name for op in OPERATIONS.values() if op.target == self.object_type)

    @property
    def get_operation(self) -> str:
        """The operation that reads one of these objects (``get_charge``...)."""
        (name,) = (
            op.name for op in OPERATIONS.values() if op.target == self.object_type and op.is_read
        )
        return name
