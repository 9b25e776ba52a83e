"""``AmazonPayApi``: the typed face of Amazon Pay's operations (SPEC §1), one method each.

Each method is one line over ``request`` (the operation by name), which the ``Simulator``
implements; the mixin keeps the façade class short enough to read. ``checkout`` composes
them with the buyer's sign-in: a completed checkout in one call, for setting up tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .handlers import Response

__all__ = ["AmazonPayApi"]


class AmazonPayApi:
    """Amazon Pay API v2's operations as typed methods: JSON (dicts) in, JSON out; a refused
    call raises ``apfsm.ApiError``."""

    def request(
        self,
        operation: str,
        object_id: str | None = None,
        body: Any = None,
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> Response:
        """Make one API call by name (implemented by ``Simulator``)."""
        raise NotImplementedError

    def create_checkout_session(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/checkoutSessions``: a new Checkout Session, ``Open``."""
        return self.request(
            "create_checkout_session",
            None,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def get_checkout_session(self, checkout_session_id: str) -> dict[str, Any]:
        """``GET /v2/checkoutSessions/{id}``."""
        return self.request("get_checkout_session", checkout_session_id).body

    def update_checkout_session(
        self, checkout_session_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``PATCH /v2/checkoutSessions/{id}``: while ``Open``."""
        return self.request("update_checkout_session", checkout_session_id, body).body

    def complete_checkout_session(
        self,
        checkout_session_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/checkoutSessions/{id}/complete``: the permission (and a charge)."""
        return self.request(
            "complete_checkout_session",
            checkout_session_id,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def finalize_checkout_session(
        self,
        checkout_session_id: str,
        body: Mapping[str, Any],
        *,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/checkoutSessions/{id}/finalize``: Complete, with the intent in the body."""
        return self.request(
            "finalize_checkout_session",
            checkout_session_id,
            body,
            simulation_code=simulation_code,
        ).body

    def get_charge_permission(self, charge_permission_id: str) -> dict[str, Any]:
        """``GET /v2/chargePermissions/{id}``."""
        return self.request("get_charge_permission", charge_permission_id).body

    def update_charge_permission(
        self, charge_permission_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``PATCH /v2/chargePermissions/{id}``: its metadata, while not ``Closed``."""
        return self.request("update_charge_permission", charge_permission_id, body).body

    def close_charge_permission(
        self, charge_permission_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """``DELETE /v2/chargePermissions/{id}/close``: ``Closed``/``MerchantClosed``."""
        return self.request("close_charge_permission", charge_permission_id, body).body

    def create_charge(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/charges``: a charge on the permission the body names."""
        return self.request(
            "create_charge",
            None,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def create_delivery_tracker(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """``POST /v2/deliveryTrackers``: tracking numbers for a permission's shipment."""
        return self.request(
            "create_delivery_tracker", None, body, idempotency_key=idempotency_key
        ).body

    def get_charge(self, charge_id: str) -> dict[str, Any]:
        """``GET /v2/charges/{id}``."""
        return self.request("get_charge", charge_id).body

    def update_charge(self, charge_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /v2/charges/{id}``: a payment service provider cancels the charge."""
        return self.request("update_charge", charge_id, body).body

    def capture_charge(
        self,
        charge_id: str,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/charges/{id}/capture``: ``Captured``, or ``CaptureInitiated``."""
        return self.request(
            "capture_charge",
            charge_id,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def cancel_charge(
        self, charge_id: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``DELETE /v2/charges/{id}/cancel``: ``Canceled``/``MerchantCanceled``."""
        return self.request("cancel_charge", charge_id, body).body

    def create_refund(
        self,
        body: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
    ) -> dict[str, Any]:
        """``POST /v2/refunds``: a refund on the charge the body names, pending."""
        return self.request(
            "create_refund",
            None,
            body,
            idempotency_key=idempotency_key,
            simulation_code=simulation_code,
        ).body

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        """``GET /v2/refunds/{id}``."""
        return self.request("get_refund", refund_id).body

    def get_buyer(self, buyer_token: str) -> dict[str, Any]:
        """``GET /v2/buyers/{buyerToken}``: the buyer who signed in (``buyer_sign_in``)."""
        return self.request("get_buyer", buyer_token).body

    def buyer_approve(self, checkout_session_id: str, *, card: str = "1111") -> dict[str, Any]:
        """The buyer signs in and picks a card (implemented by ``Simulator``)."""
        raise NotImplementedError

    def checkout(
        self,
        amount: str = "149.99",
        currency: str = "USD",
        *,
        intent: str = "Authorize",
        kind: str = "OneTime",
        card: str = "1111",
        store_id: str = "amzn1.application-oa2-client.apfsm-example",
    ) -> dict[str, Any]:
        """A whole buyer checkout in one call, for setting up a test: create a Checkout
        Session for ``amount`` (a decimal string) in ``currency`` with ``intent``
        (``Confirm``, ``Authorize``, ``AuthorizeWithCapture``) and ``kind`` (``OneTime``,
        ``Recurring``, ``PaymentMethodOnFile``), the buyer signs in with ``card``, and
        complete it. Returns the completed session's JSON (``chargePermissionId``, and
        ``chargeId`` unless the intent is ``Confirm``).

        Raises:
            ApiError: a call is refused (a sandbox card that declines, say).
        """
        price = {"amount": amount, "currencyCode": currency}
        body: dict[str, Any] = {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://shop.example/review",
                "checkoutResultReturnUrl": "https://shop.example/result",
            },
            "storeId": store_id,
            "chargePermissionType": kind,
            "paymentDetails": {"paymentIntent": intent, "chargeAmount": price},
        }
        if kind != "OneTime":
            body["recurringMetadata"] = {"frequency": {"unit": "Month", "value": "1"}}
        session = self.create_checkout_session(body)
        session_id = str(session["checkoutSessionId"])
        self.buyer_approve(session_id, card=card)
        return self.complete_checkout_session(session_id, {"chargeAmount": price})

    def create_dispute(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """``POST /v2/disputes`` (payment service providers): report a chargeback."""
        return self.request("create_dispute", None, body, idempotency_key=idempotency_key).body

    def get_dispute(self, dispute_id: str) -> dict[str, Any]:
        """``GET /v2/disputes/{id}``."""
        return self.request("get_dispute", dispute_id).body

    def update_dispute(self, dispute_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``PATCH /v2/disputes/{id}`` (payment service providers): report its closure."""
        return self.request("update_dispute", dispute_id, body).body

    def contest_dispute(self, dispute_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v2/disputes/{id}/contest``: contest with ``merchantEvidences``."""
        return self.request("contest_dispute", dispute_id, body).body

    def upload_file(
        self, body: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """``POST /v2/files``: a URL to upload an evidence file to (``fileId`` = ``id``)."""
        return self.request("upload_file", None, body, idempotency_key=idempotency_key).body
