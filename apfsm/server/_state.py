"""What the app's endpoints share: the simulator being served and the server's options."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from apfsm._clock import ManualClock
from apfsm._sim import Simulator

from ._durable import _Durable
from ._heap import _HeapFreezer
from ._ipn import _Notifier, sns_envelope
from ._signatures import _Verifier

_T = TypeVar("_T")


class _State:
    """What the app's endpoints share: the current simulator and the server's options."""

    def __init__(
        self,
        simulator: Simulator,
        verifier: _Verifier | None,
        notifier: _Notifier | None,
        state_file: Path | None,
        seed: int | str | None = None,
        durable: _Durable | None = None,
        *,
        retain: Callable[[Simulator], None] = lambda simulator: None,
        heap: _HeapFreezer | None = None,
    ) -> None:
        self.simulator = simulator
        #: The ``--seed`` served with: a reset starts its ids again from it (a random
        #: seed each reset without one).
        self.seed = seed
        self.verifier = verifier
        #: ``--control-token``: what ``/_apfsm/...`` requests must carry, or None (open).
        self.control_token: str | None = None
        self.notifier = notifier
        self.state_file = state_file
        #: The state file's journal (``--state``), or None: state in memory only.
        self.durable = durable
        #: Applies the server's retention caps to each simulator served (reset, load).
        self.retain = retain
        #: ``gc_freeze``: the process's freezer, told of each replacement; or None.
        self.heap = heap
        #: The app's ``state``, whose ``simulator`` attribute follows ``replace``.
        self.app_state: Any = None
        self.started_at = simulator.now()
        self.topic = f"arn:aws:sns:us-east-1:000000000000:apfsm-{simulator.merchant_id}"
        self._user_callback = simulator.on_notification
        if notifier is not None:
            simulator.on_notification = self.on_notification

    def on_notification(self, message: dict[str, Any]) -> None:
        """The simulator's ``on_notification``: queue the SNS envelope for delivery."""
        if self._user_callback is not None:
            self._user_callback(message)
        if self.notifier is not None:
            envelope = sns_envelope(message, self.simulator.now(), self.topic)
            if self.durable is not None:  # kept until delivered: a restart resumes it
                self.durable.ipn_queued(envelope)
            self.notifier.submit(envelope)

    def replace(self, simulator: Simulator) -> None:
        """Serve ``simulator`` from now on (reset, restore), keeping the IPN callback."""
        simulator.on_notification = self.simulator.on_notification
        self.retain(simulator)
        self.simulator = simulator
        if self.app_state is not None:
            self.app_state.simulator = simulator

    def fresh(self) -> Simulator:
        """An empty simulator like the current one, its clock back at the server's start."""
        current = self.simulator
        clock = current.clock
        if isinstance(clock, ManualClock):
            clock = ManualClock(self.started_at)
        return Simulator(clock, current.limits, current.merchant_id, seed=self.seed)

    def run(
        self,
        kind: str,
        args: list[Any],
        command: Callable[[Simulator], _T],
        *,
        body: bytes | None = None,
        write: bool = True,
    ) -> _T:
        """Run ``command`` on the simulator being served; with a state file, journal it
        (committed before this returns when ``write``: before the call is answered).

        The simulator is read under the journal's lock, so a command never runs on one
        that a reset or a snapshot load has just replaced."""
        if self.durable is None:
            return command(self.simulator)
        with self.durable.lock:
            sim = self.simulator
            return self.durable.record(
                sim, kind, args, lambda: command(sim), body=body, write=write
            )

    def replace_and_checkpoint(self, simulator: Simulator) -> None:
        """``replace``, and with a state file make ``simulator`` its whole state: a new
        file written beside it without the lock, then renamed over it (``replace_file``),
        so calls go on being answered while a large state is written (issue 16: a
        reset or a snapshot load held the lock for seconds at 500,000 objects). A call
        answered meanwhile is one answered before the replacement. Blocking: run it off
        the event loop."""
        replaced = weakref.ref(self.simulator)
        if self.durable is None:
            self.replace(simulator)
        else:
            self.retain(simulator)  # before it is written: the file holds what is served
            self.durable.replace_file(simulator, lambda: self.replace(simulator))
        if self.heap is not None:  # off the lock: the old state is collected here
            self.heap.replaced(replaced, loaded=len(simulator) > 0)

    def close(self) -> None:
        """Shutdown: checkpoint the state file (a restart then replays nothing)."""
        if self.durable is not None:
            self.durable.close(self.simulator)
