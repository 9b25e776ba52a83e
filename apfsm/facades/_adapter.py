"""``PproAdapter``: PPRO's payment-charge facade played over an Amazon Pay client (the
``Simulator``, or anything with its methods), so an integration written against PPRO can be
tested — and fuzzed with ``IntegrationMachine`` — against apfsm's Amazon Pay.

It is thin on purpose: each facade call is one or two Amazon Pay calls, and the status it
answers is Amazon's state read through the facade's own ``Maps`` (``PPRO_PAYMENT_CHARGE``),
so what the facade hides (a soft vs a hard decline, ``StopShipmentAtypicalAuth``) the
integration cannot see either. A call the facade's lifecycle has no step for in the
current status is refused with ``FacadeError`` before Amazon is asked (a void while the
authorization is pending: ``AUTHORIZATION_ASYNC`` has no way to ``VOIDED``).

The bodies are PPRO's shapes as its Amazon Pay page shows them (``amount.value`` in minor
units, ``authenticationSettings`` REDIRECT with a ``returnUrl``); the error codes are
``AMOUNT_NOT_SUPPORTED`` (from PPRO's failure codes) and apfsm's own ``STATUS_NOT_ALLOWED``
(PPRO's name for it was not found).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from apfsm._clock import parse_timestamp
from apfsm._errors import ApiError

from ._model import Facade
from ._ppro import PPRO_PAYMENT_CHARGE

__all__ = ["AmazonPayClient", "FacadeError", "FacadeObject", "PproAdapter"]

Json = dict[str, Any]
#: Reads Amazon's object ``(object_type, object_id)`` as JSON (None: gone).
Reader = Callable[[str, str], Json | None]


class AmazonPayClient(Protocol):
    """The Amazon Pay API v2 calls the adapter makes (``apfsm.Simulator`` has them)."""

    def create_checkout_session(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...
    def get_checkout_session(self, checkout_session_id: str) -> Json: ...
    def complete_checkout_session(
        self,
        checkout_session_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> Json: ...
    def get_charge(self, charge_id: str) -> Json: ...
    def get_charge_permission(self, charge_permission_id: str) -> Json: ...
    def get_refund(self, refund_id: str) -> Json: ...
    def capture_charge(
        self, charge_id: str, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...
    def cancel_charge(self, charge_id: str, body: Mapping[str, Any] | None = None) -> Json: ...
    def create_refund(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> Json: ...


def _usd(cents: int) -> dict[str, str]:
    # PPRO's amount.value is in minor units; Amazon's amount a decimal string (SPEC §1).
    return {"amount": str(Decimal(cents).scaleb(-2)), "currencyCode": "USD"}


class FacadeError(Exception):
    """The facade refused a call: ``code`` and a message naming the charge and status."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@attrs.frozen
class FacadeObject:
    """One facade object as Amazon's truth shows it: ``status`` in ``facade``, and the
    Amazon ``situation`` behind it as ``(object_type, state, reason)`` (None when the
    provider decided alone: PPRO's authentication timeout)."""

    id: str
    facade: Facade
    status: str
    situation: tuple[str, str, str | None] | None


@attrs.define
class _Charge:
    id: str
    value: int
    checkout_session_id: str
    created_at: datetime
    session_expires_at: datetime
    amazon_charge_id: str | None = None
    discarded: bool = False
    history: list[str] = attrs.field(factory=list)


class PproAdapter:
    """PPRO's ``/v1/payment-charges`` for Amazon Pay over ``amazon_pay``.

    Args:
        amazon_pay: the Amazon Pay client (an ``apfsm.Simulator``).
        now: the clock (the simulator's ``now``): the facade's authentication timeout
            counts on it.
        facade: the declaration whose limits, steps and mapping it follows.
        store_id: the Amazon Pay store the checkout sessions are created for.
        pending_authorizations: let Amazon answer with a pending authorization
            (``canHandlePendingAuthorization``; PPRO's ``AUTHORIZATION_ASYNC``).
        id_prefix: the charges' ids are ``{id_prefix}_1``...; they also make the
            idempotency keys, so two adapters on one simulator need different prefixes.
    """

    def __init__(
        self,
        amazon_pay: AmazonPayClient,
        now: Callable[[], datetime],
        *,
        facade: Facade = PPRO_PAYMENT_CHARGE,
        store_id: str = "amzn1.application-oa2-client.ppro",
        pending_authorizations: bool = False,
        id_prefix: str = "charge",
    ) -> None:
        self.id_prefix = id_prefix
        self.pending_authorizations = pending_authorizations
        self.amazon_pay = amazon_pay
        self.now = now
        self.facade = facade
        self.store_id = store_id
        self._charges: dict[str, _Charge] = {}

    # -- the facade's calls -------------------------------------------------------------

    def create_payment_charge(self, body: Mapping[str, Any]) -> Json:
        """``POST /v1/payment-charges``: a checkout session at Amazon; the consumer is to be
        redirected (``authenticationMethods[0].details.requestUrl``)."""
        amount = body.get("amount") or {}
        value, currency = amount.get("value"), amount.get("currency")
        limits = self.facade.limits
        if not isinstance(value, int) or isinstance(value, bool) or currency != limits.currency:
            raise FacadeError("AMOUNT_NOT_SUPPORTED", f"amount {amount!r}: minor units in USD")
        if not limits.amount_allowed(Decimal(value) / 100):
            raise FacadeError("AMOUNT_NOT_SUPPORTED", f"{value} is outside the method's limits")
        return_url = next(
            (
                s["settings"]["returnUrl"]
                for s in body.get("authenticationSettings", ())
                if s.get("type") == "REDIRECT"
            ),
            None,
        )
        if not return_url:
            raise FacadeError(
                "INVALID_REQUEST", "a REDIRECT authenticationSettings returnUrl is needed"
            )
        charge_id = f"{self.id_prefix}_{len(self._charges) + 1}"
        reference = body.get("merchantPaymentChargeReference")
        session = self.amazon_pay.create_checkout_session(
            {
                "webCheckoutDetails": {
                    "checkoutReviewReturnUrl": return_url,
                    "checkoutResultReturnUrl": return_url,
                },
                "storeId": self.store_id,
                "paymentDetails": {
                    "paymentIntent": "AuthorizeWithCapture"
                    if body.get("autoCapture")
                    else "Authorize",
                    "canHandlePendingAuthorization": self.pending_authorizations,
                    "chargeAmount": _usd(value),
                },
                **({"merchantMetadata": {"merchantReferenceId": reference}} if reference else {}),
            },
            idempotency_key=f"{charge_id}-session",
        )
        expires = parse_timestamp(session["expirationTimestamp"])
        charge = _Charge(charge_id, value, session["checkoutSessionId"], self.now(), expires)
        self._charges[charge_id] = charge
        answer = self.get_payment_charge(charge_id)
        redirect = session.get("webCheckoutDetails", {}).get("amazonPayRedirectUrl")
        answer["authenticationMethods"] = [
            {"type": "REDIRECT", "details": {"requestUrl": redirect}}
        ]
        return answer

    def consumer_returned(self, charge_id: str) -> Json:
        """The consumer is back at the ``returnUrl``: PPRO completes Amazon's checkout
        (unless the authentication timeout discarded the charge first)."""
        charge = self._charge(charge_id)
        if self.get_payment_charge(charge_id)["status"] == "AUTHENTICATION_PENDING":
            session = self.amazon_pay.get_checkout_session(charge.checkout_session_id)
            if not session.get("constraints"):
                try:
                    done = self.amazon_pay.complete_checkout_session(
                        charge.checkout_session_id,
                        {
                            "chargeAmount": {
                                "amount": str(Decimal(charge.value) / 100),
                                "currencyCode": "USD",
                            }
                        },
                        idempotency_key=f"{charge_id}-complete",
                    )
                    charge.amazon_charge_id = done.get("chargeId")
                except ApiError as err:
                    if err.reason_code != "CheckoutSessionCanceled":
                        raise
        return self.get_payment_charge(charge_id)

    def get_payment_charge(self, charge_id: str) -> Json:
        """``GET /v1/payment-charges/{id}``: the status Amazon's state shows as."""
        charge = self._charge(charge_id)
        status = self._status(charge)
        if not charge.history or charge.history[-1] != status:
            charge.history.append(status)
        return {
            "id": charge.id,
            "status": status,
            "amount": {"value": charge.value, "currency": "USD"},
        }

    def capture(self, charge_id: str, value: int | None = None) -> Json:
        """``POST /v1/payment-charges/{id}/captures``."""
        charge = self._allowed(charge_id, "capture")
        amount = charge.value if value is None else value
        assert charge.amazon_charge_id is not None
        self.amazon_pay.capture_charge(
            charge.amazon_charge_id,
            {"captureAmount": _usd(amount)},
            idempotency_key=f"{charge_id}-capture",
        )
        return self.get_payment_charge(charge_id)

    def void(self, charge_id: str) -> Json:
        """``POST /v1/payment-charges/{id}/voids``."""
        charge = self._allowed(charge_id, "void")
        assert charge.amazon_charge_id is not None
        self.amazon_pay.cancel_charge(charge.amazon_charge_id, {"cancellationReason": "voided"})
        return self.get_payment_charge(charge_id)

    def refund(self, charge_id: str, value: int, *, reference: str) -> Json:
        """``POST /v1/payment-charges/{id}/refunds``: full, partial or multiple, on a
        ``CAPTURED`` charge; ``reference`` makes a retried refund the same refund."""
        charge = self._charge(charge_id)
        status = self.get_payment_charge(charge_id)["status"]
        if status != "CAPTURED":
            raise FacadeError(
                "STATUS_NOT_ALLOWED", f"{charge_id} is {status}: refunds need CAPTURED"
            )
        assert charge.amazon_charge_id is not None
        return self.amazon_pay.create_refund(
            {
                "chargeId": charge.amazon_charge_id,
                "refundAmount": _usd(value),
            },
            idempotency_key=f"{charge_id}-refund-{reference}",
        )

    def history(self, charge_id: str) -> tuple[str, ...]:
        """The statuses this adapter has answered for the charge, in order."""
        return tuple(self._charge(charge_id).history)

    def for_checkout_session(self, checkout_session_id: str) -> tuple[str, ...]:
        """The facade objects a checkout session at Amazon stands behind."""
        return tuple(
            c.id for c in self._charges.values() if c.checkout_session_id == checkout_session_id
        )

    def amazon_ids(self, charge_id: str) -> tuple[str, str | None]:
        """The Amazon checkout session and charge behind a PPRO charge (for tests' books)."""
        charge = self._charge(charge_id)
        return charge.checkout_session_id, charge.amazon_charge_id

    # -- reading Amazon through the facade ----------------------------------------------

    def _charge(self, charge_id: str) -> _Charge:
        try:
            return self._charges[charge_id]
        except KeyError:
            raise FacadeError("NOT_FOUND", f"no payment charge {charge_id!r}") from None

    def _read(self, object_type: str, object_id: str) -> Json | None:
        get = {
            "CheckoutSession": self.amazon_pay.get_checkout_session,
            "Charge": self.amazon_pay.get_charge,
            "ChargePermission": self.amazon_pay.get_charge_permission,
            "Refund": self.amazon_pay.get_refund,
        }[object_type]
        return get(object_id)

    def _status(self, charge: _Charge) -> str:
        return self._seen(charge, self._read).status

    def objects(self, read: Reader | None = None) -> tuple[FacadeObject, ...]:
        """Every facade object this adapter made, as Amazon's truth shows it now.

        ``read`` reads Amazon's objects (default: the client's ``get_*`` calls; a fuzzer
        passes one that reads the simulator directly, so looking is not the
        integration's traffic). Nothing is added to ``history``."""
        read = read or self._read
        return tuple(self._seen(charge, read) for charge in self._charges.values())

    def _seen(self, charge: _Charge, read: Reader) -> FacadeObject:
        facade = self.facade
        if charge.discarded:
            return FacadeObject(charge.id, facade, "DISCARDED", None)  # final
        obj: Json | None
        if charge.amazon_charge_id is not None:
            object_type = "Charge"
            obj = read(object_type, charge.amazon_charge_id)
        elif self.now() >= charge.session_expires_at:
            # Amazon's session is over (and later deleted): PPRO keeps the last final
            # status it saw, else it timed the consumer out long ago.
            last = charge.history[-1] if charge.history else None
            if last in ("FAILED", "DISCARDED"):
                return FacadeObject(charge.id, facade, last, None)
            charge.discarded = True
            return FacadeObject(charge.id, facade, "DISCARDED", None)
        else:
            object_type = "CheckoutSession"
            obj = read(object_type, charge.checkout_session_id)
            timeout = facade.limits.authentication_timeout
            waiting = obj is not None and obj["statusDetails"]["state"] == "Open"
            if waiting and timeout is not None and self.now() - charge.created_at >= timeout:
                charge.discarded = True  # PPRO gives up before Amazon's 24 h
                return FacadeObject(charge.id, facade, "DISCARDED", None)
        if obj is None:
            raise AssertionError(f"Amazon holds no {object_type} behind {charge.id}")
        details = obj["statusDetails"]
        state, reason = details["state"], details.get("reasonCode")
        entry = facade.maps(object_type, state, reason)
        if entry is None:
            raise AssertionError(f"{facade.name} maps no {object_type} {details}")
        return FacadeObject(charge.id, facade, entry.facade_state, (object_type, state, reason))

    def _allowed(self, charge_id: str, step: str) -> _Charge:
        charge = self._charge(charge_id)
        status = self.get_payment_charge(charge_id)["status"]
        if not any(s.name == step and status in s.sources for s in self.facade.steps):
            raise FacadeError("STATUS_NOT_ALLOWED", f"{charge_id} is {status}: no {step} from it")
        return charge
