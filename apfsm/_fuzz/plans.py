"""Plans: a stateful step's choices decoded from one integer.

Hypothesis's cost in a state machine is per rule and per choice (rule selection with its
swarm-testing flags, every argument drawn), and in apfsm's machines it is most of a step's
cost. So a step draws one integer and decodes it into a readable plan: ``Product`` for a
tuple of independent options, ``Menu`` for weighted kinds of step, each with its options.
0, where Hypothesis shrinks, decodes to the first option of everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from hypothesis import strategies as st

__all__ = ["CURRENT", "Menu", "Product", "decoded"]

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
    later ones mostly in the uniform draws. Repeating a value in an option weighs it."""

    def __init__(self, options: tuple[Sequence[Any], ...]) -> None:
        self.options = options
        self.size = 1
        for values in options:
            self.size *= len(values)

    def __call__(self, number: int) -> tuple[Any, ...]:
        out = []
        for values in self.options:
            number, index = divmod(number, len(values))
            out.append(values[index])
        return tuple(out)


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
