"""Keeping a large served state out of CPython's full garbage collections (issue 16).

CPython's cyclic garbage collector (3.11–3.13) runs a *full* collection, which walks every
container object the process holds, whenever the objects that survived into its oldest
generation since the last one reach a quarter of those it held then. A server holding a
large state pays for the whole state each time: measured in process (docs/server.md
"Latency as the state grows"), 0.9 s at 500,000 Checkout Sessions (2.5 million tracked
objects), once every ~170,000 calls — a pause no call could predict, growing with the
state. Reference counting still frees everything without a cycle at once; the full
collections are there only for cycles.

``gc.freeze()`` moves every object the collector tracks into a permanent generation that
no collection walks again. ``_HeapFreezer`` applies it where that is safe and worth it:

* after a full collection that took at least ``freeze_after`` (20 ms by default): what
  survived it was reachable just then, so it is state, modules and the server's own
  objects, not garbage; the next full collections walk only what is newer. A state that
  grows by calls is frozen again each time its unfrozen part costs that much, so a full
  collection stays near 20 ms at any size. A small state is never frozen;
* after a state is loaded (start, ``PUT /_apfsm/snapshot``): a full collection at once,
  during the load, rather than in some later call;
* when a state is replaced (reset, snapshot load): the old one was frozen, and a
  simulator holds reference cycles (its parts keep its bound methods), so it would never
  be freed: everything is unfrozen and collected once, and what survives frozen again
  (if that collection took ``freeze_after``) — unless something still refers to the old
  state (a call that took it just before the switch): then everything is left unfrozen
  until the next slow full collection, when it has let go.

The trade-off: an object frozen while reachable that later becomes part of unreachable
cycles is never freed (until the next replacement unfreezes). The simulator's own drops
(call-log records and idempotency keys past their caps, Checkout Sessions past 30 days)
leave no cycles; what is in flight during a freezing collection may (a request's
exception and its traceback): measured, about 16 objects per freeze, with a freeze after
every full collection — negligible against the ~2 kB a call keeps. The freeze is
process-wide, so only a process that serves one app applies it: ``apfsm serve``
(``create_app(gc_freeze=True)``), never a test process's fixtures by default.

Python 3.14's incremental collector walks the old generation in slices instead; the
freeze is harmless there (a frozen object is simply never walked).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any, Final

#: A full collection at least this long (seconds) freezes what survived it.
FREEZE_AFTER: Final = 0.020


class _HeapFreezer:
    """Freezes what survives a slow full collection; collects a replaced state once.

    Module docs; one per process (``_heap_freezer()``), installed by ``create_app`` with
    ``gc_freeze=True``.
    """

    def __init__(self, freeze_after: float = FREEZE_AFTER) -> None:
        self.freeze_after = freeze_after
        #: How many times what survived a full collection was frozen.
        self.freezes = 0
        #: Whether this freezer froze anything since the last ``gc.unfreeze()`` (cheaper
        #: than ``gc.get_freeze_count()``, which walks every frozen object).
        self.frozen = False
        self._started = 0.0

    @property
    def installed(self) -> bool:
        return self._callback in gc.callbacks

    def install(self) -> None:
        """Watch the collector's full collections from now on (once, however often called)."""
        if not self.installed:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        """Stop watching, and unfreeze what was frozen (tests)."""
        if self.installed:
            gc.callbacks.remove(self._callback)
        gc.unfreeze()
        self.frozen = False

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        # A monotonic timer for the pause's length (not the simulated clock: no state).
        if phase == "start":
            self._started = time.perf_counter()
        elif info["generation"] == 2 and time.perf_counter() - self._started >= self.freeze_after:
            # The collection has ended: every object still tracked was reachable from the
            # program (gc.garbage aside), so none of it is cyclic garbage now.
            gc.freeze()
            self.frozen = True
            self.freezes += 1

    def loaded(self) -> None:
        """A state was just loaded: collect now rather than in some later call (frozen if
        it took ``freeze_after``). After a freeze, once more: CPython counts its next full
        collection from what the last one left in the oldest generation, which is then
        what is left unfrozen (almost nothing), not the whole state."""
        freezes = self.freezes
        gc.collect()
        if self.freezes != freezes:
            gc.collect()

    def replaced(self, old: Callable[[], object], *, loaded: bool) -> None:
        """A state was just replaced by another (``loaded``: one with objects, restored
        from a snapshot; else a reset's empty one); ``old()`` is the replaced simulator
        while anything refers to it (a weak reference).

        If anything was frozen, the old state may be among it: unfreeze and collect, so
        it is freed now, and what survived is frozen if that was slow (``loaded``) — one
        full collection. But if something still refers to the old state (a call that took
        it just before the switch), it survived and was frozen with the rest, and would
        never be freed once that call lets go: then everything is unfrozen again, until
        the next slow full collection. A reset with nothing frozen costs nothing."""
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
        elif not loaded:
            return
        freezes = self.freezes
        gc.collect()
        if self.freezes == freezes:
            return
        if old() is not None:
            gc.unfreeze()
            self.frozen = False
        else:
            gc.collect()  # as ``loaded``: the next full collection counted from what is left


_FREEZER: Final = _HeapFreezer()


def _heap_freezer() -> _HeapFreezer:
    """The process's freezer (``create_app(gc_freeze=True)`` installs it)."""
    return _FREEZER
