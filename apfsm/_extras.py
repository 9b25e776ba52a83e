"""The optional parts of apfsm and the extra that installs each (``pip install "apfsm[X]"``).

The core — ``apfsm.check``, ``check_transition``, the declarations and the simulator — needs
only attrs and transitions. What needs more says so, naming the extra, when it is used.
"""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(extra: str, feature: str, error: ImportError) -> ImportError:
    """The error to raise when ``feature`` is used without the package ``extra`` brings."""
    package = error.name or "a dependency"
    return ImportError(
        f"{feature} needs {package}, which is not installed: "
        f'pip install "apfsm[{extra}]" (or "apfsm[all]")',
        name=error.name,
    )
