"""Realistic request bodies: what a real shop sends, for the tools that drive the simulator
(explore, the fuzzers, the demo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["checkout_session_body"]


def checkout_session_body(
    payment_details: Mapping[str, Any], *, kind: str = "OneTime", store_id: str
) -> dict[str, Any]:
    """A realistic ``create_checkout_session`` body: the return URLs, the store, the
    permission type and, for a recurring or on-file permission, a monthly frequency."""
    body: dict[str, Any] = {
        "webCheckoutDetails": {
            "checkoutReviewReturnUrl": "https://shop.example/review",
            "checkoutResultReturnUrl": "https://shop.example/result",
        },
        "storeId": store_id,
        "chargePermissionType": kind,
        "paymentDetails": dict(payment_details),
    }
    if kind != "OneTime":
        body["recurringMetadata"] = {"frequency": {"unit": "Month", "value": "1"}}
    return body
