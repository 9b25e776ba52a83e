"""The lifecycles, by object type: the single source of the lifecycle rules (SPEC §3–§7).

The ``transitions`` machines, the validator, the simulator, the diagrams, the docs tables
and the Hypothesis strategies are all derived from these records. One module per object
type holds its declaration; this one gathers them in the order the API links them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .buyer import BUYER
from .charge import CHARGE
from .charge_permission import CHARGE_PERMISSION
from .checkout_session import CHECKOUT_SESSION
from .model import Lifecycle
from .refund import REFUND

__all__ = ["LIFECYCLES"]

#: The lifecycles by object type, in the order the API links them (the Buyer, read before
#: checkout, last).
LIFECYCLES: Final[Mapping[str, Lifecycle]] = MappingProxyType(
    {lc.object_type: lc for lc in (CHECKOUT_SESSION, CHARGE_PERMISSION, CHARGE, REFUND, BUYER)}
)
