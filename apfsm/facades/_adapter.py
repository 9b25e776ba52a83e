"""``PproAdapter``: PPRO's payment-charge, payment-agreement and refund facades played over
an Amazon Pay client (the ``Simulator``, or anything with its methods), so an integration
written against PPRO can be tested — and fuzzed with ``IntegrationMachine`` or
``FacadeMachine`` — against apfsm's Amazon Pay.

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

An agreement is a ``Recurring`` checkout session at Amazon; the charges created on it
(``paymentAgreementId``) are Amazon charges on its permission, authorized and captured
separately unless ``autoCapture``. A refund is answered at once (PPRO's refunds are
synchronous): ``REFUND_FUNDS_WAITING`` while Amazon's refund is pending, then whatever
Amazon decides, read through ``PPRO_REFUND``; Amazon refusing the call is ``FAILED``
with a ``failure`` object carrying Amazon's reason code (apfsm's choice of field).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from apfsm._clock import parse_timestamp
from apfsm._errors import ApiError

from ._adapter_types import (
    AmazonPayClient,
    FacadeError,
    FacadeObject,
    Json,
    Reader,
    _Agreement,
    _Charge,
    _Refund,
    _usd,
)
from ._model import Facade
from ._ppro import PPRO_PAYMENT_AGREEMENT, PPRO_PAYMENT_CHARGE, PPRO_REFUND

__all__ = ["AmazonPayClient", "FacadeError", "FacadeObject", "PproAdapter"]


class PproAdapter:
    """PPRO's ``/v1/payment-charges``, ``/v1/payment-agreements`` and refunds for Amazon
    Pay over ``amazon_pay``.

    Args:
        amazon_pay: the Amazon Pay client (an ``apfsm.Simulator``).
        now: the clock (the simulator's ``now``): the facade's authentication timeout
            counts on it.
        facade: the charge declaration whose limits, steps and mapping it follows.
        agreement_facade, refund_facade: the same for agreements and refunds.
        store_id: the Amazon Pay store the checkout sessions are created for.
        pending_authorizations: let Amazon answer with a pending authorization
            (``canHandlePendingAuthorization``; PPRO's ``AUTHORIZATION_ASYNC``).
        id_prefix: the charges' ids are ``{id_prefix}_1``... (agreements'
            ``{id_prefix}_agreement_1``..., refunds' ``{id_prefix}_refund_1``...); they
            also make the idempotency keys, so two adapters on one simulator need
            different prefixes.
    """

    def __init__(
        self,
        amazon_pay: AmazonPayClient,
        now: Callable[[], datetime],
        *,
        facade: Facade = PPRO_PAYMENT_CHARGE,
        agreement_facade: Facade = PPRO_PAYMENT_AGREEMENT,
        refund_facade: Facade = PPRO_REFUND,
        store_id: str = "amzn1.application-oa2-client.ppro",
        pending_authorizations: bool = False,
        id_prefix: str = "charge",
    ) -> None:
        self.id_prefix = id_prefix
        self.pending_authorizations = pending_authorizations
        self.amazon_pay = amazon_pay
        self.now = now
        self.facade = facade
        self.agreement_facade = agreement_facade
        self.refund_facade = refund_facade
        self.store_id = store_id
        self._charges: dict[str, _Charge] = {}
        self._agreements: dict[str, _Agreement] = {}
        self._refunds: dict[str, _Refund] = {}

    # -- the facade's calls -------------------------------------------------------------

    def _amount(self, body: Mapping[str, Any], *, required: bool = True) -> int | None:
        """The body's ``amount.value`` (minor units, USD) within the method's limits."""
        amount = body.get("amount")
        if amount is None and not required:
            return None
        amount = amount if isinstance(amount, Mapping) else {}
        value, currency = amount.get("value"), amount.get("currency")
        limits = self.facade.limits
        if not isinstance(value, int) or isinstance(value, bool) or currency != limits.currency:
            raise FacadeError("AMOUNT_NOT_SUPPORTED", f"amount {amount!r}: minor units in USD")
        if not limits.amount_allowed(Decimal(value) / 100):
            raise FacadeError("AMOUNT_NOT_SUPPORTED", f"{value} is outside the method's limits")
        return value

    @staticmethod
    def _return_url(body: Mapping[str, Any]) -> str:
        settings = body.get("authenticationSettings")
        return_url = next(
            (
                s.get("settings", {}).get("returnUrl")
                for s in (settings if isinstance(settings, list) else ())
                if isinstance(s, Mapping) and s.get("type") == "REDIRECT"
            ),
            None,
        )
        if not isinstance(return_url, str) or not return_url:
            raise FacadeError(
                "INVALID_REQUEST", "a REDIRECT authenticationSettings returnUrl is needed"
            )
        return return_url

    def create_payment_charge(self, body: Mapping[str, Any]) -> Json:
        """``POST /v1/payment-charges``: a checkout session at Amazon; the consumer is to be
        redirected (``authenticationMethods[0].details.requestUrl``). With
        ``paymentAgreementId`` it is a merchant-initiated charge on an ``ACTIVE``
        agreement instead: an Amazon charge on its permission, no redirect."""
        value = self._amount(body)
        assert value is not None
        if body.get("paymentAgreementId") is not None:
            return self._charge_on_agreement(body, value)
        return_url = self._return_url(body)
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

    def _charge_on_agreement(self, body: Mapping[str, Any], value: int) -> Json:
        agreement_id = str(body["paymentAgreementId"])
        agreement = self._agreement(agreement_id)
        status = self.get_payment_agreement(agreement_id)["status"]
        if status != "ACTIVE" or agreement.charge_permission_id is None:
            raise FacadeError(
                "STATUS_NOT_ALLOWED", f"{agreement_id} is {status}: charges need ACTIVE"
            )
        charge_id = f"{self.id_prefix}_{len(self._charges) + 1}"
        now = self.now()
        charge = _Charge(charge_id, value, "", now, now, agreement_id=agreement_id)
        self._charges[charge_id] = charge
        permission = self._read("ChargePermission", agreement.charge_permission_id) or {}
        details = permission.get("statusDetails", {})
        if details.get("state") != "Chargeable":
            # PPRO's ACTIVE hides Amazon's NonChargeable: the charge fails at once with
            # Amazon's reason (apfsm's reading: PPRO does not charge what Amazon refuses).
            reasons = details.get("reasons") or [{}]
            charge.failure = reasons[0].get("reasonCode") or details.get("state", "Unknown")
            return self.get_payment_charge(charge_id)
        try:
            created = self.amazon_pay.create_charge(
                {
                    "chargePermissionId": agreement.charge_permission_id,
                    "chargeAmount": _usd(value),
                    "captureNow": bool(body.get("autoCapture")),
                    "canHandlePendingAuthorization": self.pending_authorizations,
                },
                idempotency_key=f"{charge_id}-charge",
            )
            charge.amazon_charge_id = created["chargeId"]
        except ApiError as err:
            charge.failure = err.reason_code  # PPRO answers a FAILED charge
        return self.get_payment_charge(charge_id)

    def create_payment_agreement(self, body: Mapping[str, Any]) -> Json:
        """``POST /v1/payment-agreements``: a ``Recurring`` checkout session at Amazon; the
        consumer is to be redirected, and the agreement is ``ACTIVE`` once Amazon's
        permission is ``Chargeable``. ``amount`` (optional) is what Amazon shows the
        consumer (apfsm's choice; default the method's minimum, 0.50 USD)."""
        value = self._amount(body, required=False)
        if value is None:
            minimum = self.agreement_facade.limits.min_amount or Decimal("0.50")
            value = int(minimum * 100)
        return_url = self._return_url(body)
        agreement_id = f"{self.id_prefix}_agreement_{len(self._agreements) + 1}"
        session = self.amazon_pay.create_checkout_session(
            {
                "webCheckoutDetails": {
                    "checkoutReviewReturnUrl": return_url,
                    "checkoutResultReturnUrl": return_url,
                },
                "storeId": self.store_id,
                "chargePermissionType": "Recurring",
                "recurringMetadata": {"frequency": {"unit": "Variable", "value": "0"}},
                "paymentDetails": {"paymentIntent": "Confirm", "chargeAmount": _usd(value)},
            },
            idempotency_key=f"{agreement_id}-session",
        )
        expires = parse_timestamp(session["expirationTimestamp"])
        agreement = _Agreement(agreement_id, session["checkoutSessionId"], expires, value)
        self._agreements[agreement_id] = agreement
        answer = self.get_payment_agreement(agreement_id)
        redirect = session.get("webCheckoutDetails", {}).get("amazonPayRedirectUrl")
        answer["authenticationMethods"] = [
            {"type": "REDIRECT", "details": {"requestUrl": redirect}}
        ]
        return answer

    def get_payment_agreement(self, agreement_id: str) -> Json:
        """``GET /v1/payment-agreements/{id}``: the status Amazon's state shows as."""
        agreement = self._agreement(agreement_id)
        status = self._seen_agreement(agreement, self._read).status
        if not agreement.history or agreement.history[-1] != status:
            agreement.history.append(status)
        return {"id": agreement.id, "status": status}

    def revoke_agreement(self, agreement_id: str) -> Json:
        """``POST /v1/payment-agreements/{id}/revocations``: Amazon closes the permission
        (``MerchantClosed``)."""
        agreement = self._agreement(agreement_id)
        status = self.get_payment_agreement(agreement_id)["status"]
        steps = self.agreement_facade.steps
        if not any(s.name == "revoke" and status in s.sources for s in steps):
            raise FacadeError("STATUS_NOT_ALLOWED", f"{agreement_id} is {status}: no revoke")
        assert agreement.charge_permission_id is not None
        self.amazon_pay.close_charge_permission(
            agreement.charge_permission_id,
            {"closureReason": "revoked by the merchant", "cancelPendingCharges": False},
        )
        return self.get_payment_agreement(agreement_id)

    def consumer_returned(self, object_id: str) -> Json:
        """The consumer is back at the ``returnUrl``: PPRO completes Amazon's checkout
        (unless the authentication timeout discarded the charge first). ``object_id`` is
        a charge's or an agreement's."""
        if object_id in self._agreements:
            agreement = self._agreements[object_id]
            if self.get_payment_agreement(object_id)["status"] == "AUTHENTICATION_PENDING":
                done = self._complete(
                    agreement.checkout_session_id, agreement.value, f"{object_id}-complete"
                )
                if done is not None:
                    agreement.charge_permission_id = done.get("chargePermissionId")
            return self.get_payment_agreement(object_id)
        charge = self._charge(object_id)
        if self.get_payment_charge(object_id)["status"] == "AUTHENTICATION_PENDING":
            done = self._complete(charge.checkout_session_id, charge.value, f"{object_id}-complete")
            if done is not None:
                charge.amazon_charge_id = done.get("chargeId")
        return self.get_payment_charge(object_id)

    def _complete(self, checkout_session_id: str, value: int, key: str) -> Json | None:
        session = self.amazon_pay.get_checkout_session(checkout_session_id)
        if session.get("constraints"):
            return None  # the consumer did not finish at Amazon
        try:
            return self.amazon_pay.complete_checkout_session(
                checkout_session_id, {"chargeAmount": _usd(value)}, idempotency_key=key
            )
        except ApiError as err:
            if err.reason_code != "CheckoutSessionCanceled":
                raise
            return None

    def get_payment_charge(self, charge_id: str) -> Json:
        """``GET /v1/payment-charges/{id}``: the status Amazon's state shows as."""
        charge = self._charge(charge_id)
        status = self._status(charge)
        if not charge.history or charge.history[-1] != status:
            charge.history.append(status)
        answer: Json = {
            "id": charge.id,
            "status": status,
            "amount": {"value": charge.value, "currency": "USD"},
        }
        if charge.agreement_id is not None:
            answer["paymentAgreementId"] = charge.agreement_id
        if charge.failure is not None:
            answer["failure"] = {"failureCode": charge.failure}
        return answer

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
        ``CAPTURED`` charge; answered at once with the refund (``REFUND_FUNDS_WAITING``,
        or ``FAILED`` with a ``failure`` when Amazon refuses). ``reference`` makes a
        retried refund the same refund."""
        charge = self._charge(charge_id)
        for known in self._refunds.values():
            if known.charge_id == charge_id and known.reference == reference:
                return self.get_refund(known.id)  # a retry: the same refund
        status = self.get_payment_charge(charge_id)["status"]
        if status != "CAPTURED":
            raise FacadeError(
                "STATUS_NOT_ALLOWED", f"{charge_id} is {status}: refunds need CAPTURED"
            )
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise FacadeError("AMOUNT_NOT_SUPPORTED", f"refund amount {value!r}: minor units")
        assert charge.amazon_charge_id is not None
        refund_id = f"{self.id_prefix}_refund_{len(self._refunds) + 1}"
        refund = _Refund(refund_id, charge_id, value, reference)
        try:
            created = self.amazon_pay.create_refund(
                {"chargeId": charge.amazon_charge_id, "refundAmount": _usd(value)},
                idempotency_key=f"{charge_id}-refund-{reference}",
            )
            refund.amazon_refund_id = created["refundId"]
        except ApiError as err:
            refund.failure = err.reason_code
        self._refunds[refund_id] = refund
        return self.get_refund(refund_id)

    def get_refund(self, refund_id: str) -> Json:
        """``GET .../refunds/{id}``: the refund's status, Amazon's read through
        ``PPRO_REFUND``."""
        refund = self._refund(refund_id)
        status = self._seen_refund(refund, self._read).status
        if not refund.history or refund.history[-1] != status:
            refund.history.append(status)
        answer: Json = {
            "id": refund.id,
            "paymentChargeId": refund.charge_id,
            "status": status,
            "amount": {"value": refund.value, "currency": "USD"},
        }
        if refund.failure is not None:
            answer["failure"] = {"failureCode": refund.failure}
        return answer

    def refunds(self, charge_id: str) -> tuple[str, ...]:
        """The refunds made on a charge, oldest first."""
        self._charge(charge_id)
        return tuple(r.id for r in self._refunds.values() if r.charge_id == charge_id)

    def history(self, object_id: str) -> tuple[str, ...]:
        """The statuses this adapter has answered for a charge, agreement or refund, in
        order."""
        if object_id in self._agreements:
            return tuple(self._agreements[object_id].history)
        if object_id in self._refunds:
            return tuple(self._refunds[object_id].history)
        return tuple(self._charge(object_id).history)

    def for_checkout_session(self, checkout_session_id: str) -> tuple[str, ...]:
        """The facade objects (charges, agreements) a checkout session at Amazon stands
        behind."""
        charges = [c.id for c in self._charges.values()]
        agreements = [a.id for a in self._agreements.values()]
        return tuple(
            object_id
            for object_id in (*charges, *agreements)
            if self.amazon_ids(object_id)[0] == checkout_session_id
        )

    def amazon_ids(self, object_id: str) -> tuple[str, str | None]:
        """The Amazon checkout session and charge behind a PPRO charge, or the session and
        charge permission behind an agreement (for tests' books)."""
        if object_id in self._agreements:
            agreement = self._agreements[object_id]
            return agreement.checkout_session_id, agreement.charge_permission_id
        charge = self._charge(object_id)
        return charge.checkout_session_id, charge.amazon_charge_id

    # -- reading Amazon through the facade ----------------------------------------------

    def _charge(self, charge_id: str) -> _Charge:
        try:
            return self._charges[charge_id]
        except KeyError:
            raise FacadeError("NOT_FOUND", f"no payment charge {charge_id!r}") from None

    def _agreement(self, agreement_id: str) -> _Agreement:
        try:
            return self._agreements[agreement_id]
        except KeyError:
            raise FacadeError("NOT_FOUND", f"no payment agreement {agreement_id!r}") from None

    def _refund(self, refund_id: str) -> _Refund:
        try:
            return self._refunds[refund_id]
        except KeyError:
            raise FacadeError("NOT_FOUND", f"no refund {refund_id!r}") from None

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
        """Every facade object this adapter made (charges, agreements, refunds), as
        Amazon's truth shows it now.

        ``read`` reads Amazon's objects (default: the client's ``get_*`` calls; a fuzzer
        passes one that reads the simulator directly, so looking is not the
        integration's traffic). Nothing is added to ``history``."""
        read = read or self._read
        return (
            *(self._seen(charge, read) for charge in self._charges.values()),
            *(self._seen_agreement(a, read) for a in self._agreements.values()),
            *(self._seen_refund(r, read) for r in self._refunds.values()),
        )

    @staticmethod
    def _through(
        facade: Facade, object_id: str, object_type: str, obj: Json | None
    ) -> FacadeObject:
        if obj is None:
            raise AssertionError(f"Amazon holds no {object_type} behind {object_id}")
        details = obj["statusDetails"]
        state, reason = details["state"], details.get("reasonCode")
        reasons = details.get("reasons")  # a charge permission's: a list
        if reason is None and isinstance(reasons, list) and reasons:
            reason = reasons[0].get("reasonCode")
        entry = facade.maps(object_type, state, reason)
        if entry is None:
            raise AssertionError(f"{facade.name} maps no {object_type} {details}")
        return FacadeObject(object_id, facade, entry.facade_state, (object_type, state, reason))

    def _seen(self, charge: _Charge, read: Reader) -> FacadeObject:
        facade = self.facade
        if charge.failure is not None:
            return FacadeObject(charge.id, facade, "FAILED", None)  # refused at once
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
        return self._through(facade, charge.id, object_type, obj)

    def _seen_agreement(self, agreement: _Agreement, read: Reader) -> FacadeObject:
        facade = self.agreement_facade
        if agreement.charge_permission_id is not None:
            obj = read("ChargePermission", agreement.charge_permission_id)
            return self._through(facade, agreement.id, "ChargePermission", obj)
        if self.now() >= agreement.session_expires_at:
            # Amazon's session is over (and later deleted) unfinished: the agreement failed.
            return FacadeObject(agreement.id, facade, "FAILED", None)
        session = read("CheckoutSession", agreement.checkout_session_id)
        if session is None or session["statusDetails"]["state"] == "Completed":
            # Gone (Amazon deletes ended sessions) or completed by someone else: the
            # agreement failed — PPRO names no other end before ACTIVE.
            return FacadeObject(agreement.id, facade, "FAILED", None)
        return self._through(facade, agreement.id, "CheckoutSession", session)

    def _seen_refund(self, refund: _Refund, read: Reader) -> FacadeObject:
        facade = self.refund_facade
        if refund.amazon_refund_id is None:
            return FacadeObject(refund.id, facade, "FAILED", None)  # refused at once
        obj = read("Refund", refund.amazon_refund_id)
        return self._through(facade, refund.id, "Refund", obj)

    def _allowed(self, charge_id: str, step: str) -> _Charge:
        charge = self._charge(charge_id)
        status = self.get_payment_charge(charge_id)["status"]
        if not any(s.name == step and status in s.sources for s in self.facade.steps):
            raise FacadeError("STATUS_NOT_ALLOWED", f"{charge_id} is {status}: no {step} from it")
        return charge
