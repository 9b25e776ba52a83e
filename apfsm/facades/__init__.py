"""Payment service providers' facades over Amazon Pay, and Amazon Pay's older v1
order-reference flow, declared as data and checked against apfsm's lifecycles.

A facade (``Facade``) is a provider's own state machine — PPRO's ``/v1/payment-charges``
and ``/v1/payment-agreements`` for Amazon Pay — with its published limits, its sources, and
how each Amazon state and reason shows through it. ``check_mapping(facade)`` walks every
Amazon path and reports, as a ``MappingReport``, what does not map onto a legal facade path
and what the facade merges that a merchant must act on differently.

The v1 flow (order reference → authorize → capture → close) is declared with the v2
lifecycles' own records (``ORDER_REFERENCE``, ``AUTHORIZATION``, ``CAPTURE``,
``REFUND``) and limits
(``OrderReferenceLimits``); ``check_v1`` answers whether a call is allowed, where it
leads, or what refuses it. ``render``/``write_diagrams`` draw both with
``apfsm.diagrams``' renderers.

This room sits above the declarations (``apfsm._spec``) and the diagram renderers
(``apfsm.diagrams``); nothing below imports it.
"""

from collections.abc import Mapping
from typing import Final

from ._adapter import AmazonPayClient, FacadeError, FacadeObject, PproAdapter
from ._amazon import (
    ACTIONS,
    AmazonGraph,
    MerchantAction,
    Move,
    Situation,
    action_for,
    amazon_graph,
)
from ._check import (
    Collapse,
    EarlyTimeout,
    IllegalStep,
    MappingReport,
    Unmapped,
    check_mapping,
    illegal_moves,
)
from ._model import (
    Facade,
    FacadeActor,
    FacadeLimits,
    FacadeState,
    FacadeStep,
    FacadeTimeout,
    Maps,
    Source,
)
from ._order_reference import (
    AUTHORIZATION,
    CAPTURE,
    ORDER_REFERENCE,
    REFUND,
    V1_LIFECYCLES,
    V1_SOURCES,
    V1_UNSOURCED,
    OrderReferenceLimits,
)
from ._ppro import PPRO_PAYMENT_AGREEMENT, PPRO_PAYMENT_CHARGE, PPRO_REFUND
from ._render import (
    DIAGRAMS,
    FACADES_BY_NAME,
    as_lifecycle,
    findings,
    mapping_table,
    refresh_docs,
    render,
    write_diagrams,
)
from ._v1check import V1Answer, check_v1

#: The declared facades, by name.
FACADES: Final[Mapping[str, Facade]] = FACADES_BY_NAME

__all__ = [
    "ACTIONS",
    "AUTHORIZATION",
    "CAPTURE",
    "DIAGRAMS",
    "FACADES",
    "ORDER_REFERENCE",
    "PPRO_PAYMENT_AGREEMENT",
    "PPRO_PAYMENT_CHARGE",
    "PPRO_REFUND",
    "REFUND",
    "V1_LIFECYCLES",
    "V1_SOURCES",
    "V1_UNSOURCED",
    "AmazonGraph",
    "AmazonPayClient",
    "Collapse",
    "EarlyTimeout",
    "Facade",
    "FacadeActor",
    "FacadeError",
    "FacadeLimits",
    "FacadeObject",
    "FacadeState",
    "FacadeStep",
    "FacadeTimeout",
    "IllegalStep",
    "MappingReport",
    "Maps",
    "MerchantAction",
    "Move",
    "OrderReferenceLimits",
    "PproAdapter",
    "Situation",
    "Source",
    "Unmapped",
    "V1Answer",
    "action_for",
    "amazon_graph",
    "as_lifecycle",
    "check_mapping",
    "check_v1",
    "findings",
    "illegal_moves",
    "mapping_table",
    "refresh_docs",
    "render",
    "write_diagrams",
]
