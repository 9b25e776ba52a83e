"""What every ``apfsm`` command shares: the usage error and the progress bar."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressBar", "UsageError"]


class UsageError(Exception):
    """Bad arguments or input files: the command line exits 2 with the message."""


class ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal, a few lines otherwise."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = self.stream.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int, note: str = "") -> None:
        total = max(total, 1)
        filled = self.width * min(done, total) // total
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{self.label} [{bar}] {done}/{total} {note}".rstrip()
        if self.interactive:
            self.stream.write("\r" + text + ("\n" if done >= total else ""))
            self.stream.flush()
            return
        tenth = 10 * done // total
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(text + "\n")
