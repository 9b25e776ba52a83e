"""What every ``apfsm`` command shares: the usage error, reading input files, the
object-type argument and the progress bar."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from apfsm._spec import OBJECT_TYPES, object_type_named

if TYPE_CHECKING:
    from apfsm._fuzz import FuzzReport

__all__ = ["ProgressBar", "UsageError", "add_object_argument", "object_types", "read_text"]


class UsageError(Exception):
    """Bad arguments or input files: the command line exits 2 with the message."""


def fuzzing_kit() -> Callable[..., FuzzReport]:
    """``apfsm.stateful.fuzz``, imported when a command fuzzes: the core install (without
    the testing extra) runs every other command."""
    try:
        from apfsm.stateful import fuzz  # noqa: PLC0415  (needs the testing extra)
    except ImportError as missing:
        raise UsageError(str(missing)) from None
    from hypothesis.configuration import set_hypothesis_home_dir  # noqa: PLC0415

    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        # Hypothesis keeps files under ./.hypothesis; a command run in someone's project
        # leaves nothing there (a campaign's database is in memory; traces say where).
        set_hypothesis_home_dir(tempfile.mkdtemp(prefix="apfsm-hypothesis-"))
    return fuzz


def read_text(path: str, what: str = "") -> str:
    """The text of an input file (``-``: standard input); a ``UsageError`` naming it
    (``what``, e.g. "target") when it cannot be read or is not UTF-8."""
    name = f"{what} {path!r}" if what else repr(path)
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text") from None


def add_object_argument(parser: Any) -> None:
    """The optional ``OBJECT ...`` arguments of the commands that act per object type."""
    parser.add_argument(
        "object",
        nargs="*",
        metavar="OBJECT",
        help=f"{', '.join(OBJECT_TYPES)}, in any spelling (default: all)",
    )


def object_types(chosen: Sequence[str]) -> list[str]:
    """The object types named on the command line (all when none); a ``UsageError`` for
    an unknown one."""
    try:
        return [object_type_named(name) for name in chosen] or list(OBJECT_TYPES)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


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
