"""The named guards, deadlines and checks the lifecycles refer to (SPEC §2–§6).

Each is implemented in ``_decide.rules`` under the same name; labels and descriptions are
templates over ``Limits`` fields, for diagrams and docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from .model import Check, Deadline, Guard

__all__ = ["CHECKS", "DEADLINES", "GUARDS"]

_GUARD_LIST: Final = (
    Guard("sync_capture", "≤ {async_capture_after} after authorization"),
    Guard(
        "async_capture",
        "> {async_capture_after} after authorization",
        complement="sync_capture",
    ),
    Guard("capture_now", "captureNow"),
    Guard("pending_authorization", "canHandlePendingAuthorization"),
    Guard("simulated_decline", "simulated decline"),
    Guard("intent_authorize", "paymentIntent Authorize"),
    Guard("intent_authorize_pending", "Authorize + canHandlePendingAuthorization"),
    Guard("intent_capture", "paymentIntent AuthorizeWithCapture"),
    Guard("requested_canceled", "statusDetails.state Canceled"),
    Guard("requested_resolved", "statusDetails.state Resolved"),
    Guard("requested_closed", "statusDetails.state Closed", complement="requested_resolved"),
)
GUARDS: Final[Mapping[str, Guard]] = MappingProxyType({g.name: g for g in _GUARD_LIST})

_DEADLINE_LIST: Final = (
    Deadline(
        "checkout_session_expiry",
        "{checkout_session_ttl}",
        "checkout session creation",
        ("checkout_session_ttl",),
        payload_field="expirationTimestamp",
    ),
    Deadline(
        "checkout_session_retention",
        "{checkout_session_retention}",
        "creation",
        ("checkout_session_retention",),
    ),
    Deadline(
        "pending_authorization_expiry",
        "{pending_authorization_ttl}",
        "charge creation",
        ("pending_authorization_ttl",),
    ),
    Deadline(
        "authorization_expiry",
        "{authorization_ttl}",
        "authorization",
        ("authorization_ttl",),
        payload_field="expirationTimestamp",
    ),
    Deadline(
        "permission_expiry",
        "{one_time_permission_ttl} (one-time) / {extended_permission_months} (extended) "
        "/ {recurring_permission_months} (recurring)",
        "creation (recurring: the last successful charge)",
        (
            "one_time_permission_ttl",
            "extended_permission_months",
            "recurring_permission_months",
        ),
        payload_field="expirationTimestamp",
    ),
    Deadline(
        "buyer_token_expiry",
        "{buyer_token_ttl}",
        "sign-in",
        ("buyer_token_ttl",),
    ),
    Deadline(
        "dispute_response_deadline",
        "{chargeback_response_window} (chargeback) / {claim_response_window} (A-to-z claim)",
        "the dispute asking for the merchant's response",
        ("chargeback_response_window", "claim_response_window"),
        payload_field="merchantResponseDeadline",
    ),
)
DEADLINES: Final[Mapping[str, Deadline]] = MappingProxyType({d.name: d for d in _DEADLINE_LIST})

_CHECK_LIST: Final = (
    Check(
        "constraints_met",
        "InvalidCheckoutSessionStatus",
        "no constraint left (buyer associated, amounts and URLs set)",
    ),
    Check(
        "completion_currency_matches",
        "CurrencyMismatch",
        "chargeAmount currency equals the session's",
    ),
    Check(
        "completion_amount_matches",
        "AmountMismatch",
        "chargeAmount equals the session's paymentDetails.chargeAmount",
    ),
    Check(
        "completion_total_given",
        "MissingParameterValue",
        "totalOrderAmount is given when the session's paymentDetails has one",
    ),
    Check(
        "completion_total_matches",
        "AmountMismatch",
        "totalOrderAmount equals the session's paymentDetails.totalOrderAmount",
    ),
    Check(
        "completion_within_per_charge_maximum",
        "InvalidParameterValue",
        "the charge a completion creates (paymentIntent Authorize or AuthorizeWithCapture) "
        "is ≤ the per-charge maximum of its currency",
    ),
    Check(
        "pending_with_capture",
        "InvalidParameterCombination",
        "canHandlePendingAuthorization is not combined with AuthorizeWithCapture",
    ),
    Check("charge_currency_matches", "CurrencyMismatch", "currency equals the permission's"),
    Check(
        "within_per_charge_maximum",
        "InvalidParameterValue",
        "amount ≤ the per-charge maximum of its currency",
    ),
    Check(
        "charge_count_below_limit",
        "TransactionCountExceeded",
        "a one-time permission has fewer than {max_charges_per_one_time_permission} charges",
        needs_history=True,
    ),
    Check(
        "within_permission_balance",
        "TransactionAmountExceeded",
        "amount ≤ the one-time permission's amountBalance",
    ),
    Check(
        "within_monthly_cap",
        "PeriodicAmountExceeded",
        "this calendar month's total stays within the Recurring or PaymentMethodOnFile cap",
        needs_history=True,
    ),
    Check("capture_currency_matches", "CurrencyMismatch", "currency equals the charge's"),
    Check(
        "capture_within_charge_amount",
        "TransactionAmountExceeded",
        "captureAmount ≤ chargeAmount",
    ),
    Check("refund_currency_matches", "CurrencyMismatch", "currency equals the charge's"),
    Check(
        "refund_within_maximum",
        # Amazon documents it as refundAmount's "Maximum value" (refund.html), a field
        # range like the per-charge maximum: InvalidParameterValue (SPEC §8).
        "InvalidParameterValue",
        "refundAmount ≤ the per-refund maximum of its currency",
    ),
    Check(
        "refund_count_below_limit",
        "TransactionCountExceeded",
        "fewer than {max_refunds_per_charge} refunds on the charge",
        needs_history=True,
    ),
    Check(
        "refund_within_allowance",
        "TransactionAmountExceeded",
        "refunds ≤ captured + min({refund_overage_rate} × captured, cap)",
        needs_history=True,  # the payload's refundedAmount omits refunds still pending
    ),
    Check("dispute_currency_matches", "CurrencyMismatch", "currency equals the charge's"),
    Check(
        "dispute_within_captured_amount",
        # Decision (docs/dispute.md): a dispute cannot claim more than was captured.
        "TransactionAmountExceeded",
        "disputeAmount ≤ the charge's captured amount",
    ),
    Check(
        "contest_within_dispute_window",
        # "within the specified Dispute Window" (the SDKs' contestDispute); the code is
        # apfsm's Decision, the one a contest in a refusing state answers (docs/dispute.md).
        "InvalidDisputeStatus",
        "the Dispute Window has not passed: merchantResponseDeadline, "
        "{chargeback_response_window} (chargeback) / {claim_response_window} (A-to-z claim) "
        "after the dispute last asked for the merchant's response",
    ),
)
CHECKS: Final[Mapping[str, Check]] = MappingProxyType({c.name: c for c in _CHECK_LIST})
