"""What an accepted call does: one handler per operation, in ``HANDLERS``.

By the time a handler runs, the call has been validated and decided (``calls``): the body
is valid, the target exists, and the engine's ``Outcome`` says which states result. The
handler builds or updates the records, and lets ``Effects`` move states. A refusal that
comes with effects (SPEC §7: a sandbox card or simulation code declines, and the Declined
charge or the canceled session stays) raises ``Refused`` after making them.

Adding an operation: declare it in ``apfsm/_spec`` and add its handler here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, NamedTuple, TypeVar

import attrs

from apfsm._decide import Money, parse_money
from apfsm._errors import ApiError
from apfsm._outcome import Outcome
from apfsm._spec import CARD, ERRORS, OPERATIONS, Operation, SandboxCard

from .disputes import open_dispute, uploaded_file
from .effects import Effects
from .records import (
    ChargePermissionRecord,
    ChargeRecord,
    CheckoutSessionRecord,
    DisputeRecord,
    Record,
    RefundRecord,
    copy_json,
    merge,
    stamp,
)

__all__ = ["HANDLERS", "Call", "Handler", "Refused", "Response"]

R = TypeVar("R", bound=Record)


@attrs.frozen
class Response:
    """A successful answer: the HTTP status and the JSON body."""

    status: int
    body: dict[str, Any]


class Call(NamedTuple):
    """An accepted call, as its handler sees it (a tuple: one is made for every call).

    Attributes:
        operation: the declared operation.
        target: the object it acts on (None for ``create_checkout_session``).
        body: the validated request body (``{}`` for none).
        outcome: the engine's decision (``next_state``, ``created``, ``http_status``).
        now: when the call is made.
        simulation_code: the ``x-amz-pay-simulation-code`` header (SPEC §7), if any.
    """

    operation: Operation
    target: Record | None
    body: dict[str, Any]
    outcome: Outcome
    now: datetime
    simulation_code: str | None

    def on(self, kind: type[R]) -> R:
        """The target, as the record type this operation acts on."""
        assert isinstance(self.target, kind), (self.operation.name, self.target)
        return self.target


class Refused(Exception):
    """A refusal raised by a handler after its effects (becomes the ``ApiError``)."""

    def __init__(self, code: str, message: str, *, object_id: str | None = None) -> None:
        super().__init__(code, message)
        self.error = ApiError(code, ERRORS[code].http_status, message)
        #: The object the call logs as its own (a Declined charge, a canceled session).
        self.object_id = object_id


Handler = Callable[[Effects, Call], Response]


def _card(last4: str | None) -> SandboxCard:
    """The buyer's sandbox card (the success card when the buyer picked none)."""
    return CARD.get(last4 or "1111", CARD["1111"])


def _money(price: Mapping[str, Any]) -> Money:
    # Validated already; parse_money shares equal amounts' Decimal objects (memory).
    return parse_money(price)


def _render(fx: Effects, record: Record, status: int = 200) -> Response:
    return Response(status, record.to_json(fx.limits, fx.now))


def _extra(body: Mapping[str, Any], stored: frozenset[str]) -> dict[str, Any]:
    """The body's other fields, kept as they are (the JSON echoes those Amazon returns)."""
    return {k: copy_json(v) for k, v in body.items() if k not in stored and v is not None}


def read(fx: Effects, call: Call) -> Response:
    """``get_*``: the object's JSON."""
    assert call.target is not None
    return _render(fx, call.target)


# -- Checkout Session (SPEC §3) ------------------------------------------------------------

#: Fields of a session body stored in fields of their own; the others are kept as they are
#: (``extra``), and the JSON echoes those Amazon returns (SPEC §10, §11).
_SESSION_STORED: Final = frozenset(
    {
        "webCheckoutDetails",
        "storeId",
        "chargePermissionType",
        "recurringMetadata",
        "paymentDetails",
        "merchantMetadata",
    }
)


def create_checkout_session(fx: Effects, call: Call) -> Response:
    body = call.body
    details = copy_json(body.get("paymentDetails") or {})
    amount = details.get("chargeAmount")
    if amount is not None and not details.get("presentmentCurrency"):
        details["presentmentCurrency"] = amount["currencyCode"]
    extra = _extra(body, _SESSION_STORED)
    when = stamp(call.now)
    record = CheckoutSessionRecord(
        id=fx.store.new_session_id(),
        seq=fx.store.next("object"),
        created_at=when,
        updated_at=when,
        state="Open",
        store_id=body["storeId"],
        web=copy_json(body["webCheckoutDetails"]),
        payment_details=details,
        permission_type=body.get("chargePermissionType") or "OneTime",
        recurring=copy_json(body.get("recurringMetadata")),
        merchant=copy_json(body.get("merchantMetadata")),
        extra=extra or None,
    )
    fx.add(record)
    return _render(fx, record, call.outcome.http_status)


def update_checkout_session(fx: Effects, call: Call) -> Response:
    record, body = call.on(CheckoutSessionRecord), call.body
    if body.get("webCheckoutDetails") is not None:
        record.web = merge(record.web, body["webCheckoutDetails"])
    if body.get("paymentDetails") is not None:
        record.payment_details = merge(record.payment_details, body["paymentDetails"])
        amount = record.payment_details.get("chargeAmount")
        if amount is not None and "presentmentCurrency" not in body["paymentDetails"]:
            record.payment_details["presentmentCurrency"] = amount["currencyCode"]
    if body.get("recurringMetadata") is not None:
        record.recurring = merge(record.recurring, body["recurringMetadata"])
    if body.get("merchantMetadata") is not None:
        record.merchant = merge(record.merchant, body["merchantMetadata"])
    if body.get("chargePermissionType") is not None:
        record.permission_type = body["chargePermissionType"]
    extra = _extra(body, _SESSION_STORED)
    if extra:
        record.extra = {**(record.extra or {}), **extra}
    record.updated_at = stamp(call.now)
    fx.store.changed(record.id)
    return _render(fx, record)


def complete_checkout_session(fx: Effects, call: Call) -> Response:
    """Complete, and Finalize (Buy Now / mobile), which does the same with the intent in
    its body; the addresses it may carry are accepted, not compared (not modelled)."""
    session, body = call.on(CheckoutSessionRecord), call.body
    card = _card(session.card)
    created = dict(call.outcome.created)
    # The buyer's card declines when the completion authorizes (SPEC §7) — now, unless
    # its decline is the outcome of a pending authorization, which comes later. A card of
    # pending authorizations (0701, 4354) used by any other completion is an error: the
    # session is canceled (SPEC §7: "using them is an error, not a success").
    authorizing = created.get("Charge")
    if card.needs_pending:
        declined_card = authorizing != "AuthorizationInitiated"
    else:
        declined_card = authorizing is not None and card.declines
    code = call.simulation_code
    if code is not None or declined_card:
        # Sandbox cancellations (SPEC §7): the session is canceled and the call answers
        # CheckoutSessionCanceled — a refusal with effects.
        reason = code or "Declined"
        fx.enter(session, "Canceled", reason, stamp(call.now))
        raise Refused(
            "CheckoutSessionCanceled",
            f"the checkout session was canceled ({reason})",
            object_id=session.id,
        )
    if "paymentIntent" in body:  # Finalize: its intent replaces the session's
        session.payment_details = {
            **session.payment_details,
            "paymentIntent": body["paymentIntent"],
            "canHandlePendingAuthorization": body.get("canHandlePendingAuthorization") is True,
        }
    when = stamp(call.now)
    amount, currency = _money(body["chargeAmount"])
    total = body.get("totalOrderAmount") or session.payment_details.get("totalOrderAmount")
    limit = _money(total)[0] if total is not None else amount
    if session.payment_details.get("allowOvercharge") is True:
        # SPEC §11: the larger of 900 % of the order amount and 500 USD/EUR/GBP (70,000 JPY).
        limit = fx.limits.overcharge_limit(limit, currency)
    permission = ChargePermissionRecord(
        id=fx.store.new_permission_id(),
        seq=fx.store.next("object"),
        created_at=when,
        updated_at=when,
        state="Chargeable",
        permission_type=session.permission_type,
        currency=currency,
        amount_limit=limit if session.permission_type == "OneTime" else None,
        extended=session.payment_details.get("extendExpiration") is True,
        card=card.last4,
        checkout_session_id=session.id,
        merchant=copy_json(session.merchant),
        recurring=copy_json(session.recurring),
        platform_id=(session.extra or {}).get("platformId"),
    )
    fx.add(permission)
    fx.outbox.notify(permission)
    session.charge_permission_id = permission.id
    charge_state = created.get("Charge")
    if charge_state is not None:
        charge = _new_charge(
            fx, permission, amount, when, charge_state,
            soft_descriptor=session.payment_details.get("softDescriptor"),
            merchant=session.merchant,
            extra=_extra({"platformId": (session.extra or {}).get("platformId")}, frozenset()),
        )  # fmt: skip
        session.charge_id = charge.id
    fx.enter(session, "Completed", None, when)
    return _render(fx, session, call.outcome.http_status)


# -- Charge Permission (SPEC §4) -----------------------------------------------------------


def update_charge_permission(fx: Effects, call: Call) -> Response:
    record, body = call.on(ChargePermissionRecord), call.body
    if body.get("merchantMetadata") is not None:
        record.merchant = merge(record.merchant, body["merchantMetadata"])
    if body.get("recurringMetadata") is not None:
        record.recurring = merge(record.recurring, body["recurringMetadata"])
    record.updated_at = stamp(call.now)
    fx.store.changed(record.id)
    return _render(fx, record)


def close_charge_permission(fx: Effects, call: Call) -> Response:
    record = call.on(ChargePermissionRecord)
    when = stamp(call.now)
    fx.enter(record, "Closed", "MerchantClosed", when)
    if call.body.get("cancelPendingCharges") is True:
        # SPEC §4: pending charges are canceled; one CaptureInitiated finishes normally.
        for charge in record.charges:
            if charge.state in ("AuthorizationInitiated", "Authorized"):
                fx.event(charge, "permission_canceled", None, when)
    return _render(fx, record)


def create_delivery_tracker(fx: Effects, call: Call) -> Response:
    """Delivery Tracker: Amazon answers 200 with the permission id and the details sent
    (https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html); no
    object is stored, the permission is unchanged."""
    record = call.on(ChargePermissionRecord)
    details = copy_json(call.body["deliveryDetails"])
    return Response(200, {"chargePermissionId": record.id, "deliveryDetails": details})


# -- Charge (SPEC §5) ----------------------------------------------------------------------


def _new_charge(
    fx: Effects,
    permission: ChargePermissionRecord,
    amount: Decimal,
    when: datetime,
    state: str,
    *,
    reason: str | None = None,
    soft_descriptor: str | None = None,
    merchant: Any = None,
    provider: Any = None,
    channel: str | None = None,
    initiator: str | None = None,
    extra: dict[str, Any] | None = None,
) -> ChargeRecord:
    """A charge on ``permission``, entering ``state`` (a pending one resolves later, as
    the buyer's sandbox card says)."""
    charge = ChargeRecord(
        id=fx.store.new_child_id(permission.id, "C"),
        seq=fx.store.next("object"),
        created_at=when,
        updated_at=when,
        state="AuthorizationInitiated",
        charge_permission_id=permission.id,
        amount=amount,
        currency=permission.currency,
        soft_descriptor=soft_descriptor,
        merchant=copy_json(merchant),
        provider=copy_json(provider),
        channel=channel,
        initiator=initiator,
        extra=extra or None,
    )
    fx.store.put(charge)
    permission.charges.append(charge)
    if state == "AuthorizationInitiated":
        fx.enter(charge, state, None, when)
        card = _card(permission.card)
        if card.pending_outcome == "Declined":
            fx.scheduler.outcome(charge, when, "authorization_declined", card.decline_code)
        else:
            fx.scheduler.outcome(charge, when, "authorization_approved", None)
    else:
        fx.enter(charge, state, reason, when)
    return charge


#: Fields of a create-charge body stored in fields of their own (or not kept: request-only);
#: the others (platformId, webCheckoutDetails) are echoed (SPEC §11).
_CHARGE_STORED: Final = frozenset(
    {
        "chargePermissionId",
        "chargeAmount",
        "captureNow",
        "softDescriptor",
        "canHandlePendingAuthorization",
        "merchantMetadata",
        "providerMetadata",
        "chargeInitiator",
        "channel",
    }
)


def create_charge(fx: Effects, call: Call) -> Response:
    permission, body = call.on(ChargePermissionRecord), call.body
    when = stamp(call.now)
    amount, _ = _money(body["chargeAmount"])
    state = dict(call.outcome.created)["Charge"]
    code = call.simulation_code
    card = _card(permission.card)
    if state in ("Authorized", "Captured") and card.declines:
        state, code = "Declined", card.decline_code  # the buyer's sandbox card declines
    charge = _new_charge(
        fx, permission, amount, when, state,
        reason=code if state == "Declined" else None,
        soft_descriptor=body.get("softDescriptor"),
        merchant=body.get("merchantMetadata"),
        provider=body.get("providerMetadata"),
        channel=body.get("channel"),
        initiator=body.get("chargeInitiator"),
        extra=_extra(body, _CHARGE_STORED),
    )  # fmt: skip
    if state == "Declined":
        assert code is not None
        # SPEC §7: the call answers the decline; the Declined charge stays.
        raise Refused(code, f"the charge was declined ({code})", object_id=charge.id)
    return _render(fx, charge, call.outcome.http_status)


def capture_charge(fx: Effects, call: Call) -> Response:
    charge, body = call.on(ChargeRecord), call.body
    when = stamp(call.now)
    charge.capture_amount = _money(body["captureAmount"])[0]
    charge.soft_descriptor = body.get("softDescriptor") or charge.soft_descriptor
    code = call.simulation_code
    # Both capture simulation codes go asynchronous (SPEC §7).
    state = "CaptureInitiated" if code is not None else call.outcome.next_state
    if state == "CaptureInitiated":
        fx.enter(charge, "CaptureInitiated", None, when)
        if code == "AmazonRejected":
            fx.scheduler.outcome(charge, when, "capture_declined", "AmazonRejected")
        else:
            fx.scheduler.outcome(charge, when, "capture_completed", None)
    else:
        fx.enter(charge, "Captured", None, when)
    return _render(fx, charge)


def cancel_charge(fx: Effects, call: Call) -> Response:
    charge = call.on(ChargeRecord)
    fx.enter(charge, "Canceled", "MerchantCanceled", stamp(call.now))
    return _render(fx, charge)


def update_charge(fx: Effects, call: Call) -> Response:
    """Update Charge (payment service providers): the charge enters the state the body asks
    for (only Canceled is accepted, docs/charge.md), with its reasonCode; the effects are
    cancel_charge's (the permission above, the IPN)."""
    charge = call.on(ChargeRecord)
    details = call.body["statusDetails"]
    fx.enter(charge, details["state"], details.get("reasonCode", "ExpiredUnused"), stamp(call.now))
    return _render(fx, charge)


# -- Refund (SPEC §6) ----------------------------------------------------------------------


def create_refund(fx: Effects, call: Call) -> Response:
    charge, body = call.on(ChargeRecord), call.body
    when = stamp(call.now)
    amount, currency = _money(body["refundAmount"])
    code = call.simulation_code
    refund = RefundRecord(
        id=fx.store.new_child_id(charge.charge_permission_id, "R"),
        seq=fx.store.next("object"),
        created_at=when,
        updated_at=when,
        state="RefundInitiated",
        charge_id=charge.id,
        amount=amount,
        currency=currency,
        soft_descriptor=body.get("softDescriptor"),
        outcome=code,
    )
    fx.add(refund)
    charge.refunds.append(refund)
    fx.outbox.notify(refund)
    # Refunds are always asynchronous (SPEC §6); simulation codes decline them (§7).
    if code is None:
        fx.scheduler.outcome(refund, when, "refund_completed", None)
    else:
        fx.scheduler.outcome(refund, when, "refund_declined", code)
    return _render(fx, refund, call.outcome.http_status)


# -- Dispute, File (docs/dispute.md) ---------------------------------------------------------

#: Create Dispute's fields kept as sent (the JSON echoes providerMetadata).
_DISPUTE_KEPT: Final = ("providerMetadata", "filingTimestamp", "creationTimestamp")


def _reported_status(details: Mapping[str, Any], state: str, reason: str) -> dict[str, Any]:
    """A provider's own ``reasonDescription`` (the Java SDK README's createDisputePayload,
    every SDK's updateDisputePayload), kept with the state and reason it describes: the
    answer shows it while the dispute stays there (a Decision, docs/dispute.md)."""
    text = details.get("reasonDescription")
    if text is None:
        return {}
    return {"reportedStatus": {"state": state, "reasonCode": reason, "reasonDescription": text}}


def create_dispute(fx: Effects, call: Call) -> Response:
    """A payment service provider reports a chargeback on a captured charge."""
    charge, body = call.on(ChargeRecord), call.body
    amount, currency = _money(body["disputeAmount"])
    reported = _reported_status(
        body.get("statusDetails") or {}, "ActionRequired", "MerchantResponseRequired"
    )
    dispute = open_dispute(
        fx,
        charge,
        amount,
        currency,
        filing_reason=body["filingReason"],
        dispute_type=body.get("disputeType") or "Chargeback",
        when=stamp(call.now),
        extra={k: body[k] for k in _DISPUTE_KEPT if body.get(k) is not None} | reported,
    )
    return _render(fx, dispute, call.outcome.http_status)


def update_dispute(fx: Effects, call: Call) -> Response:
    """A payment service provider reports its chargeback's closure: the state, reason,
    resolution and description the body gives (the reason InvestigatorResolved when it
    gives none; the SDKs' updateDisputePayload, docs/dispute.md)."""
    dispute = call.on(DisputeRecord)
    details = call.body["statusDetails"]
    dispute.resolution = details.get("resolution", dispute.resolution)
    reason = details.get("reasonCode", "InvestigatorResolved")
    reported = _reported_status(details, details["state"], reason)
    if reported:
        dispute.extra = {**(dispute.extra or {}), **reported}
    fx.enter(dispute, details["state"], reason, stamp(call.now))
    return _render(fx, dispute)


def contest_dispute(fx: Effects, call: Call) -> Response:
    """The merchant contests: its evidences are added, the dispute goes UnderReview. A
    Resolved one is reopened: its resolution, "for Resolved/Closed states" (dispute.html),
    is cleared until it is decided again (a Decision, docs/dispute.md)."""
    dispute = call.on(DisputeRecord)
    extra = dict(dispute.extra or {})
    evidences = [*extra.get("merchantEvidences", [])]
    evidences.extend(copy_json(call.body["merchantEvidences"]))
    extra["merchantEvidences"] = evidences
    dispute.extra = extra
    dispute.resolution = None
    fx.enter(dispute, "UnderReview", None, stamp(call.now))
    return _render(fx, dispute)


def upload_file(fx: Effects, call: Call) -> Response:
    return Response(call.outcome.http_status, uploaded_file(fx, call.body, call.now))


#: What each operation does once accepted: every operation of ``apfsm.OPERATIONS`` (a read
#: answers the object's JSON unless it is given a handler of its own).
HANDLERS: Final[Mapping[str, Handler]] = MappingProxyType(
    {name: read for name, op in OPERATIONS.items() if op.is_read}
    | {
        "create_checkout_session": create_checkout_session,
        "create_delivery_tracker": create_delivery_tracker,
        "update_checkout_session": update_checkout_session,
        "complete_checkout_session": complete_checkout_session,
        "finalize_checkout_session": complete_checkout_session,
        "update_charge_permission": update_charge_permission,
        "close_charge_permission": close_charge_permission,
        "create_charge": create_charge,
        "capture_charge": capture_charge,
        "cancel_charge": cancel_charge,
        "update_charge": update_charge,
        "create_refund": create_refund,
        "create_dispute": create_dispute,
        "update_dispute": update_dispute,
        "contest_dispute": contest_dispute,
        "upload_file": upload_file,
    }
)
