"""The Buyer lifecycle (SPEC §11, Get Buyer): the buyer who signed in with Amazon Sign-in,
read through the buyer token the sign-in gave.

https://developer.amazon.com/docs/amazon-pay-checkout/amazon-sign-in.html: the buyer is
redirected to ``signInReturnUrl?buyerToken=...``; Get Buyer
(https://developer.amazon.com/docs/amazon-pay-api-v2/buyer.html, ``GET
/v2/buyers/{buyerToken}``) answers the details ``signInScopes`` asked for. The token
expires after 24 hours (amazonpay-onboarding.com/en/specification/object/buyer). What
Amazon answers for an expired token is not documented: **Decision** — the token is gone,
as an unknown one, ``ResourceNotFound`` 404 (``Limits.buyer_token_ttl``). A Buyer has no
``statusDetails``: its one API state, ``Active``, is the token's.
"""

from __future__ import annotations

from typing import Final

from .model import DELETED, SAME, Allow, Creation, Lifecycle, Refuse, StateDecl, Timer

__all__ = ["BUYER"]

BUYER: Final = Lifecycle(
    object_type="Buyer",
    notification_type=None,
    description="The buyer who signed in with Amazon Sign-in, read by the token it gave.",
    id_field="buyerId",
    ref_prefix="by",
    states=(
        # Terminal as Completed sessions are: nothing but deletion leads out of it.
        StateDecl(
            "Active", "signed in: the buyer token reads the buyer", initial=True, terminal=True
        ),
        StateDecl(
            DELETED,
            "the buyer token expired: Get Buyer answers ResourceNotFound",
            terminal=True,
            virtual=True,
        ),
    ),
    creations=(Creation("buyer_sign_in", "Active", actor="buyer"),),
    allows=(Allow("get_buyer", ("Active",), SAME),),
    refusals=(Refuse("get_buyer", (DELETED,), "ResourceNotFound"),),
    timers=(Timer("token_expiry", ("Active",), DELETED, "buyer_token_expiry"),),
)
