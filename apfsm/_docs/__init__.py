"""Tables and generated docs blocks, rendered from the declarations.

Refresh the generated parts of ``docs/`` with ``python -m apfsm._docs``.
"""

from .blocks import BLOCKS, refresh, render
from .tables import Format, error_table, lifecycle_table, limits_table

__all__ = [
    "BLOCKS",
    "Format",
    "error_table",
    "lifecycle_table",
    "limits_table",
    "refresh",
    "render",
]
