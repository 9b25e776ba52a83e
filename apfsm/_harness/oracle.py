"""When may Amazon's answer differ from what ``apfsm.check`` predicts from a payload?

``check`` sees one object's JSON. Amazon (and the simulator) also know its history and the
buyer's sandbox card, and obey simulation codes, so some answers ``check`` cannot foresee
are still right. Every tool that judges an answer against ``check`` — the fuzzers, the
recorded-log checker — asks here, so they allow exactly the same things. Every set below is
derived from the declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from apfsm._spec import CARDS, CHECKS, ERRORS, OPERATIONS

__all__ = [
    "CARD_EFFECT_CODES",
    "DECLINE_CODES",
    "DECLINING_CARDS",
    "HISTORY_CODES",
    "KNOWABLE_CODES",
]

#: Per operation, the codes of its checks that read history a payload does not show
#: (``Check.needs_history``): Amazon may answer them where the target's JSON alone looks
#: fine (SPEC §5, §6).
HISTORY_CODES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        name: codes
        for name, op in OPERATIONS.items()
        if (codes := frozenset(CHECKS[c].code for c in op.checks if CHECKS[c].needs_history))
    }
)

#: Refusals a correct integration never provokes: it could have known from what it was
#: told (``ErrorInfo.kind == "knowable"``).
KNOWABLE_CODES: Final[frozenset[str]] = frozenset(
    code for code, info in ERRORS.items() if info.kind == "knowable"
)

#: Declines and cancellations: outcomes of a payment a correct integration must handle
#: (``ErrorInfo.kind == "decline"``).
DECLINE_CODES: Final[frozenset[str]] = frozenset(
    code for code, info in ERRORS.items() if info.kind == "decline"
)

#: The sandbox cards whose authorizations are declined (SPEC §7).
DECLINING_CARDS: Final[frozenset[str]] = frozenset(c.last4 for c in CARDS if c.declines)

#: What a declining card answers — a completion ``CheckoutSessionCanceled``, a charge its
#: decline code — refusals that come with effects (the session canceled, the Declined
#: charge kept).
CARD_EFFECT_CODES: Final[frozenset[str]] = frozenset(
    {"CheckoutSessionCanceled"} | {c.decline_code for c in CARDS if c.declines}
)
