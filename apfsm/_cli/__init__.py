"""The ``apfsm`` command line (entry point ``apfsm._cli:main``)."""

from .commands import main

__all__ = ["main"]
