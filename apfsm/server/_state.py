"""What the app's endpoints share: the simulator being served and the server's options."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from apfsm._clock import ManualClock
from apfsm._sim import Simulator

from ._ipn import _Notifier, sns_envelope
from ._signatures import _Verifier


class _State:
    """What the app's endpoints share: the current simulator and the server's options."""

    def __init__(
        self,
        simulator: Simulator,
        verifier: _Verifier | None,
        notifier: _Notifier | None,
        state_file: Path | None,
        seed: int | str | None = None,
    ) -> None:
        self.simulator = simulator
        #: The ``--seed`` served with: a reset starts its ids again from it (a random
        #: seed each reset without one).
        self.seed = seed
        self.verifier = verifier
        self.notifier = notifier
        self.state_file = state_file
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
            self.notifier.submit(sns_envelope(message, self.simulator.now(), self.topic))

    def replace(self, simulator: Simulator) -> None:
        """Serve ``simulator`` from now on (reset, restore), keeping the IPN callback."""
        simulator.on_notification = self.simulator.on_notification
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

    def save(self) -> None:
        """Write the snapshot to the state file (atomically: a crash never leaves half)."""
        if self.state_file is None:
            return
        temporary = self.state_file.with_name(self.state_file.name + ".tmp")
        temporary.write_text(json.dumps(self.simulator.snapshot()), encoding="utf-8")
        os.replace(temporary, self.state_file)
