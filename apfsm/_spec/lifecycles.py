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
from .dispute import DISPUTE
from .model import Lifecycle
from .refund import REFUND

__all__ = ["LIFECYCLES", "object_type_named"]

#: The lifecycles by object type, in the order the API links them (the Buyer, read before
#: checkout, after the Refund; the Dispute, on a captured charge, last).
LIFECYCLES: Final[Mapping[str, Lifecycle]] = MappingProxyType(
    {
        lc.object_type: lc
        for lc in (CHECKOUT_SESSION, CHARGE_PERMISSION, CHARGE, REFUND, BUYER, DISPUTE)
    }
)

_BY_KEY: Final[Mapping[str, str]] = MappingProxyType({name.lower(): name for name in LIFECYCLES})


def object_type_named(name: str) -> str:
    """The object type a name means, in any spelling apfsm prints or Amazon sends:
    ``Charge``, ``charge``, ``CHARGE``, ``ChargePermission``, ``charge_permission``,
    ``CHARGE_PERMISSION`` (an IPN's ``ObjectType``), ``charge-permission``.

    Raises:
        ValueError: no object type has that name (the message lists them).
    """
    key = name.replace("_", "").replace("-", "").lower() if isinstance(name, str) else None
    found = None if key is None else _BY_KEY.get(key)
    if found is None:
        raise ValueError(
            f"unknown object type {name!r}; object types are {', '.join(LIFECYCLES)} "
            "(in any spelling: ChargePermission, charge_permission, CHARGE_PERMISSION)"
        )
    return found
