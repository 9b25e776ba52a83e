"""Plans: a stateful step's choices decoded from one integer.

Hypothesis's cost in a state machine is per rule and per choice (rule selection with its
swarm-testing flags, every argument drawn), and in apfsm's machines it is most of a step's
cost. So a step draws one integer and decodes it into a readable plan: ``Product`` for a
tuple of independent options, ``Menu`` for weighted kinds of step, each with its options.
0, where Hypothesis shrinks, decodes to the first option of everything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from hypothesis import strategies as st

__all__ = ["CURRENT", "Menu", "Product", "decoded", "menu_entries", "step_plans"]

T = TypeVar("T")

#: The state machine whose step is being drawn: a machine sets itself here when it is
#: made (Hypothesis makes one per history, then draws its steps), so a decoder can give a
#: step that cannot act now to one that can — and the failing case prints what happened.
CURRENT: ContextVar[Any] = ContextVar("apfsm_machine", default=None)


class Product:
    """Decodes one integer into a tuple of options (mixed radix, the first option least
    significant), so a tuple of independent choices costs Hypothesis one choice; 0, where
    shrinking goes, is the first of every option.

    Hypothesis draws most integers of a wide range from their low 8 to 16 bits (the rest
    uniformly), so the options that matter most come first: they vary in every draw, the
    later ones mostly in the uniform draws. Repeating a value in an option weighs it.

    With ``spread``, the number is first hashed (0 stays 0, the first of everything):
    every option then varies in every draw, its values about as often as their
    repetitions say — at the price of shrinking, where a smaller number no longer means
    the first options stay. Without it, a ``range`` option stays mostly small (a wait,
    mostly short)."""

    def __init__(self, options: tuple[Sequence[Any], ...], *, spread: bool = False) -> None:
        self.options = options
        self.size = 1
        for values in options:
            self.size *= len(values)
        self.spread = spread

    def __call__(self, number: int) -> tuple[Any, ...]:
        if self.spread and number:
            number = _mixed(number) % self.size
        out = []
        for values in self.options:
            number, index = divmod(number, len(values))
            out.append(values[index])
        return tuple(out)


def _mixed(number: int) -> int:
    """SplitMix64's finalizer: a number's 64 bits, well mixed (``Product``'s spread)."""
    z = (number + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


_MASK = (1 << 64) - 1


class Menu:
    """Weighted entries, each a label and a ``Product`` of options, decoded from one
    integer: its lowest digit picks the entry, the rest its options.

    One integer, not two (kind, options): a second draw per step costs about a quarter of
    the throughput (measured with ``benchmarks/fuzz.py``). The price is in shrinking:
    lowering the integer can change the kind, so a shrunk case may keep a step or two
    that two draws would have simplified."""

    def __init__(self, entries: tuple[tuple[str, Product, int], ...]) -> None:
        self.entries = entries
        self.slots = [i for i, (_, _, weight) in enumerate(entries) for _ in range(weight)]
        self.size = len(self.slots) * max(product.size for _, product, _ in entries)
        self.numbers = st.integers(0, self.size - 1)

    def __call__(
        self, number: int, possible: Callable[[str], bool] | None = None
    ) -> tuple[str, tuple[Any, ...]]:
        """Decode ``number``. With ``possible``, an entry it rejects gives way to the next
        one (in slot order, from the drawn slot on) that it accepts — all entries rejected,
        the drawn one stays."""
        slots = self.slots
        start = number % len(slots)
        label, product, _ = self.entries[slots[start]]
        if possible is not None and not possible(label):
            verdicts = {label: False}
            for offset in range(1, len(slots)):
                other, other_product, _ = self.entries[slots[(start + offset) % len(slots)]]
                verdict = verdicts.get(other)
                if verdict is None:
                    verdict = verdicts[other] = possible(other)
                if verdict:
                    label, product = other, other_product
                    break
        # A spread product decodes the whole number, so that the numbers Hypothesis draws
        # most (below the number of slots: every entry's first draw) vary its options too.
        if product.spread:
            return label, product(number)
        return label, product(number // len(slots) % product.size)

    def __repr__(self) -> str:
        return _DESCRIPTION


#: How a decoder describes itself. Hypothesis prints a mapped value as the call that made
#: it (``decode(1234)``) when that is shorter, unless the call is not valid Python: this
#: makes failing cases print the plans themselves, ``('ship', (0, 10))``.
_DESCRIPTION = "<apfsm plan>"


class _Decoder:
    def __init__(self, function: Callable[[int], Any]) -> None:
        self.function = function

    def __call__(self, number: int) -> Any:
        return self.function(number)

    def __repr__(self) -> str:
        return _DESCRIPTION


def decoded(menu: Menu, function: Callable[[int], T]) -> st.SearchStrategy[T]:
    """The plans ``function`` decodes from ``menu``'s integers, printed as themselves."""
    return menu.numbers.map(_Decoder(function))


def menu_entries(events: Mapping[str, tuple[Any, ...]]) -> list[tuple[str, Product, int]]:
    """``name=(weight, values, ...)`` specs as ``Menu`` entries (see ``step_plans``).

    Raises:
        ValueError: a weight that is not a positive integer, an empty option, a name that
            is one of Amazon Pay's kinds of step.
    """
    entries = []
    for name, (weight, *options) in events.items():
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise ValueError(f"{name}: the weight must be a positive integer, got {weight!r}")
        for position, values in enumerate(options, 1):
            if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not values:
                raise ValueError(
                    f"{name}: argument {position} needs a non-empty sequence of values, "
                    f"got {values!r}"
                )
        entries.append((name, Product(tuple(options)), weight))
    return entries


def step_plans(**steps: tuple[Any, ...]) -> st.SearchStrategy[tuple[str, tuple[Any, ...]]]:
    """Plans for a rule that dispatches among kinds of step, each drawn as one integer.

    Hypothesis's own cost per step grows with every rule and every argument drawn, and in
    a state machine over a fast simulator it is most of a step's cost: one rule with one
    plan is several times cheaper than a rule per event with arguments of their own
    (``benchmarks/fuzz.py`` measures it). Each keyword names a kind of step::

        name=(weight, values of the first argument, values of the second, ...)

    and the strategy draws ``(name, arguments)``. Repeat a value to weigh it; a
    ``range`` is fine for wide options. The first argument varies most from draw to draw
    (Hypothesis draws most integers from their low bits), and everything shrinks towards
    the first kind with the first value of every argument.

    Example::

        SHOP_STEPS = step_plans(
            place_order=(3, range(100, 50_001), ("1111", "0701")),
            ship=(2, range(16)),
            reconcile=(1,),
        )

        @rule(plan=SHOP_STEPS)
        def shop(self, plan):
            name, arguments = plan
            getattr(self, name)(*arguments)

    Raises:
        ValueError: no kinds, a weight that is not a positive integer, an empty option.
    """
    if not steps:
        raise ValueError("step_plans needs at least one kind of step")
    menu = Menu(tuple(menu_entries(steps)))
    return decoded(menu, menu)
