"""Simulator amount rules and histories: balances, counts, monthly caps, refunds (SPEC §4–§6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apfsm import ApiError, Limits, Simulator
from tests.simhelpers import T0, checkout, make_sim, price, reason, session_body, state


def charge_body(
    cp_id: str, amount: str, currency: str = "USD", **extra: object
) -> dict[str, object]:
    return {"chargePermissionId": cp_id, "chargeAmount": price(amount, currency), **extra}


def refused(call: object) -> ApiError:
    with pytest.raises(ApiError) as info:
        call()  # type: ignore[operator]
    return info.value


def test_one_time_balance() -> None:
    sim = make_sim()
    cp_id = checkout(sim, "100.00", intent="Confirm")["chargePermissionId"]
    first = sim.create_charge(charge_body(cp_id, "60.00"))
    assert price("40.00") == sim.get_charge_permission(cp_id)["limits"]["amountBalance"]
    err = refused(lambda: sim.create_charge(charge_body(cp_id, "40.01")))
    assert ("TransactionAmountExceeded", 400) == (err.reason_code, err.http_status)
    # A partial capture releases the rest (SPEC §5).
    sim.capture_charge(first["chargeId"], {"captureAmount": price("50.00")})
    assert price("50.00") == sim.get_charge_permission(cp_id)["limits"]["amountBalance"]
    # A canceled charge gives its amount back.
    second = sim.create_charge(charge_body(cp_id, "50.00"))
    sim.cancel_charge(second["chargeId"])
    assert price("50.00") == sim.get_charge_permission(cp_id)["limits"]["amountBalance"]
    sim.create_charge(charge_body(cp_id, "50.00", captureNow=True))
    permission = sim.get_charge_permission(cp_id)
    assert ("Closed", "AmazonClosed", price("0.00")) == (
        state(permission),
        reason(permission),
        permission["limits"]["amountBalance"],
    )


def test_total_order_amount_sets_the_limit() -> None:
    sim = make_sim()
    sid = sim.create_checkout_session(
        {
            "webCheckoutDetails": {
                "checkoutReviewReturnUrl": "https://a/r",
                "checkoutResultReturnUrl": "https://a/x",
            },
            "storeId": "s",
            "paymentDetails": {
                "paymentIntent": "Authorize",
                "chargeAmount": price("40.00"),
                "totalOrderAmount": price("100.00"),
            },
        }
    )["checkoutSessionId"]
    sim.buyer_approve(sid)
    # SPEC §11 / Amazon's Complete Checkout Session: "You must also specify
    # totalOrderAmount if one was provided for the Checkout Session object".
    err = refused(lambda: sim.complete_checkout_session(sid, {"chargeAmount": price("40.00")}))
    assert ("MissingParameterValue", 400) == (err.reason_code, err.http_status)
    wrong = {"chargeAmount": price("40.00"), "totalOrderAmount": price("100.01")}
    err = refused(lambda: sim.complete_checkout_session(sid, wrong))
    assert ("AmountMismatch", 409) == (err.reason_code, err.http_status)
    assert "Open" == state(sim.get_checkout_session(sid))  # refusals change nothing
    body = {"chargeAmount": price("40.00"), "totalOrderAmount": price("100.00")}
    done = sim.complete_checkout_session(sid, body)
    limits = sim.get_charge_permission(done["chargePermissionId"])["limits"]
    assert {"amountLimit": price("100.00"), "amountBalance": price("60.00")} == limits


@pytest.mark.parametrize(
    ("amount", "currency", "ok"),
    [
        ("149999.99", "USD", True),
        ("150000.00", "USD", True),
        ("150000.01", "USD", False),
        ("10000000", "JPY", True),
        ("10000001", "JPY", False),
    ],
)
def test_completion_charge_obeys_the_per_charge_maximum(
    amount: str, currency: str, ok: bool
) -> None:
    # SPEC §11 (rev 2): the per-charge maximum (§5) applies to the charge a completion creates.
    sim = make_sim()
    if ok:
        done = checkout(sim, amount, currency=currency, intent="AuthorizeWithCapture")
        assert "Captured" == state(sim.get_charge(done["chargeId"]))
    else:
        err = refused(
            lambda: checkout(sim, amount, currency=currency, intent="AuthorizeWithCapture")
        )
        assert ("InvalidParameterValue", 400) == (err.reason_code, err.http_status)


OVERCHARGE_SOURCE = (
    "https://developer.amazon.com/docs/amazon-pay-checkout/advanced-one-time-payment-options.html"
    " ('Amazon Pay will automatically adjust the Charge Permission amountLimit to either 900% "
    "of the order amount or 500 USD/GBP/EUR and 70000 JPY (whichever is more)'); SPEC §11"
)


def overcharge_permission(
    sim: Simulator, amount: str, currency: str = "USD", *, allow: bool = True, **details: Any
) -> str:
    body = session_body(amount, currency=currency, intent="Confirm")
    body["paymentDetails"].update({"allowOvercharge": allow, **details})
    sid = sim.create_checkout_session(body)["checkoutSessionId"]
    sim.buyer_approve(sid)
    complete: dict[str, Any] = {"chargeAmount": price(amount, currency)}
    if "totalOrderAmount" in details:
        complete["totalOrderAmount"] = details["totalOrderAmount"]
    return str(sim.complete_checkout_session(sid, complete)["chargePermissionId"])


@pytest.mark.parametrize(
    ("amount", "currency", "limit", "below", "above"),
    [
        ("100.00", "USD", "900.00", "899.99", "900.01"),  # 900 % is more than 500
        ("20.00", "USD", "500.00", "499.99", "500.01"),  # the 500 USD floor is more
        ("55.56", "EUR", "500.04", "500.03", "500.05"),
        ("55.55", "GBP", "500.00", "499.99", "500.01"),  # 499.95: the floor
        ("5000", "JPY", "70000", "69999", "70001"),  # the 70,000 JPY floor
        ("10000", "JPY", "90000", "89999", "90001"),
    ],
)
def test_allow_overcharge_raises_the_amount_limit(
    amount: str, currency: str, limit: str, below: str, above: str
) -> None:
    # Source: OVERCHARGE_SOURCE.
    for charge_amount in (below, limit):
        sim = make_sim()
        cp_id = overcharge_permission(sim, amount, currency)
        permission = sim.get_charge_permission(cp_id)
        assert price(limit, currency) == permission["limits"]["amountLimit"]
        created = sim.create_charge(charge_body(cp_id, charge_amount, currency))
        assert "Authorized" == state(created)
    sim = make_sim()
    cp_id = overcharge_permission(sim, amount, currency)
    err = refused(lambda: sim.create_charge(charge_body(cp_id, above, currency)))
    assert ("TransactionAmountExceeded", 400) == (err.reason_code, err.http_status)


def test_overcharge_counts_from_the_total_order_amount_and_needs_the_flag() -> None:
    sim = make_sim()
    cp_id = overcharge_permission(sim, "40.00", totalOrderAmount=price("100.00"))
    assert price("900.00") == sim.get_charge_permission(cp_id)["limits"]["amountLimit"]
    cp_id = overcharge_permission(sim, "100.00", allow=False)
    assert price("100.00") == sim.get_charge_permission(cp_id)["limits"]["amountLimit"]
    err = refused(lambda: sim.create_charge(charge_body(cp_id, "100.01")))
    assert "TransactionAmountExceeded" == err.reason_code


def test_overcharge_rate_and_floor_are_limits_values() -> None:
    limits = Limits(overcharge_rate=Decimal("2.5"), overcharge_floor={"USD": 100})
    sim = make_sim(limits=limits)
    cp_id = overcharge_permission(sim, "33.33")  # 83.325 → 100.00 (the floor)
    assert price("100.00") == sim.get_charge_permission(cp_id)["limits"]["amountLimit"]
    cp_id = overcharge_permission(sim, "44.45")  # 111.125, rounded down
    assert price("111.12") == sim.get_charge_permission(cp_id)["limits"]["amountLimit"]
    cp_id = overcharge_permission(sim, "10.00", "SEK")  # no floor for SEK: the rate only
    assert price("25.00", "SEK") == sim.get_charge_permission(cp_id)["limits"]["amountLimit"]


def test_25_charges_per_one_time_permission_whatever_their_state() -> None:
    sim = make_sim()
    cp_id = checkout(sim, "1000.00", intent="Confirm")["chargePermissionId"]
    for n in range(25):
        body = charge_body(cp_id, "1.00")
        if n % 2:
            created = sim.create_charge(body)
            sim.cancel_charge(created["chargeId"])  # canceled charges still count
        else:
            with pytest.raises(ApiError, match="SoftDeclined"):
                sim.create_charge(body, simulation_code="SoftDeclined")  # so do declined ones
    err = refused(lambda: sim.create_charge(charge_body(cp_id, "1.00")))
    assert ("TransactionCountExceeded", 422) == (err.reason_code, err.http_status)


def test_charge_count_limit_is_configurable() -> None:
    sim = make_sim(limits=Limits(max_charges_per_one_time_permission=2))
    cp_id = checkout(sim, "1000.00", intent="Confirm")["chargePermissionId"]
    sim.create_charge(charge_body(cp_id, "1.00"))
    sim.create_charge(charge_body(cp_id, "1.00"))
    assert (
        "TransactionCountExceeded"
        == refused(lambda: sim.create_charge(charge_body(cp_id, "1.00"))).reason_code
    )


def test_recurring_monthly_cap_by_calendar_month() -> None:
    sim = make_sim(start=datetime(2026, 3, 10, tzinfo=UTC))
    cp_id = checkout(sim, "100.00", intent="Confirm", kind="Recurring")["chargePermissionId"]
    sim.create_charge(charge_body(cp_id, "600.00", captureNow=True))
    pending = sim.create_charge(charge_body(cp_id, "300.00"))  # authorized counts too
    err = refused(lambda: sim.create_charge(charge_body(cp_id, "100.01")))
    assert ("PeriodicAmountExceeded", 400) == (err.reason_code, err.http_status)
    sim.cancel_charge(pending["chargeId"])  # canceled charges do not count
    sim.create_charge(charge_body(cp_id, "400.00"))
    assert (
        "PeriodicAmountExceeded"
        == refused(lambda: sim.create_charge(charge_body(cp_id, "0.01"))).reason_code
    )
    sim.clock.move_to(datetime(2026, 4, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    sim.create_charge(charge_body(cp_id, "1000.00"))  # a new month


PMOF_CAP_SOURCE = (
    "https://developer.amazon.com/docs/amazon-pay-checkout/"
    "monthly-paymentmethodonfile-charge-limits.html ('Monthly Saved Wallet Charge Limits': "
    "USD, EUR, GBP, AUD, CHF, NZD 15,000; DKK, HKD, NOK, SEK, ZAR 150,000; JPY 2,000,000); "
    "SPEC §11"
)


@pytest.mark.parametrize(
    ("currency", "first", "below", "at", "above"),
    [
        ("USD", "10000.00", "4999.99", "5000.00", "5000.01"),
        ("EUR", "10000.00", "4999.99", "5000.00", "5000.01"),
        ("GBP", "10000.00", "4999.99", "5000.00", "5000.01"),
        ("SEK", "100000.00", "49999.99", "50000.00", "50000.01"),
        ("JPY", "1000000", "999999", "1000000", "1000001"),
    ],
)
def test_payment_method_on_file_monthly_cap(
    currency: str, first: str, below: str, at: str, above: str
) -> None:
    # Source: PMOF_CAP_SOURCE. `first` + `at` is exactly the cap.
    for amount in (below, at):
        sim = make_sim(start=datetime(2026, 3, 10, tzinfo=UTC))
        cp_id = checkout(
            sim, "1.00" if currency != "JPY" else "1", currency=currency, intent="Confirm",
            kind="PaymentMethodOnFile",
        )["chargePermissionId"]  # fmt: skip
        sim.create_charge(charge_body(cp_id, first, currency, captureNow=True))
        assert "Authorized" == state(sim.create_charge(charge_body(cp_id, amount, currency)))
    sim = make_sim(start=datetime(2026, 3, 10, tzinfo=UTC))
    cp_id = checkout(
        sim, "1.00" if currency != "JPY" else "1", currency=currency, intent="Confirm",
        kind="PaymentMethodOnFile",
    )["chargePermissionId"]  # fmt: skip
    sim.create_charge(charge_body(cp_id, first, currency, captureNow=True))
    err = refused(lambda: sim.create_charge(charge_body(cp_id, above, currency)))
    assert ("PeriodicAmountExceeded", 400) == (err.reason_code, err.http_status)
    sim.clock.move_to(datetime(2026, 4, 1, tzinfo=UTC))  # type: ignore[attr-defined]
    assert "Authorized" == state(sim.create_charge(charge_body(cp_id, above, currency)))


def test_payment_method_on_file_cap_is_its_own_limits_value() -> None:
    limits = Limits(payment_method_on_file_monthly_cap={"USD": 50}, recurring_monthly_cap={})
    sim = make_sim(limits=limits)
    pmof = checkout(sim, "10.00", intent="Confirm", kind="PaymentMethodOnFile")
    recurring = checkout(sim, "10.00", intent="Confirm", kind="Recurring")
    err = refused(lambda: sim.create_charge(charge_body(pmof["chargePermissionId"], "50.01")))
    assert "PeriodicAmountExceeded" == err.reason_code
    sim.create_charge(charge_body(recurring["chargePermissionId"], "5000.00"))  # no cap


def test_monthly_cap_is_configurable_per_currency() -> None:
    sim = make_sim(limits=Limits(recurring_monthly_cap={"USD": 50, "CHF": 20}))
    cp_id = checkout(sim, "10.00", intent="Confirm", kind="Recurring")["chargePermissionId"]
    assert (
        "PeriodicAmountExceeded"
        == refused(lambda: sim.create_charge(charge_body(cp_id, "50.01"))).reason_code
    )


def test_per_charge_maximum_and_currency() -> None:
    sim = make_sim()
    cp_id = checkout(sim, "100.00", intent="Confirm", kind="Recurring")["chargePermissionId"]
    assert (
        "CurrencyMismatch"
        == refused(lambda: sim.create_charge(charge_body(cp_id, "1.00", "EUR"))).reason_code
    )
    assert (
        "InvalidParameterValue"
        == refused(lambda: sim.create_charge(charge_body(cp_id, "150000.01"))).reason_code
    )


def test_capture_rules() -> None:
    sim = make_sim()
    charge_id = checkout(sim, "100.00")["chargeId"]
    assert (
        "TransactionAmountExceeded"
        == refused(
            lambda: sim.capture_charge(charge_id, {"captureAmount": price("100.01")})
        ).reason_code
    )
    assert (
        "CurrencyMismatch"
        == refused(
            lambda: sim.capture_charge(charge_id, {"captureAmount": price("1.00", "EUR")})
        ).reason_code
    )
    sim.capture_charge(charge_id, {"captureAmount": price("1.00")})
    assert (
        "InvalidChargeStatus"
        == refused(
            lambda: sim.capture_charge(charge_id, {"captureAmount": price("1.00")})
        ).reason_code
    )


def captured_charge(
    amount: str = "100.00", currency: str = "USD", **limits: object
) -> tuple[Simulator, str]:
    sim = make_sim(limits=Limits(**limits))  # type: ignore[arg-type]
    charge_id = checkout(sim, amount, currency=currency, intent="AuthorizeWithCapture")["chargeId"]
    return sim, charge_id


def refund(
    sim: Simulator, charge_id: str, amount: str, currency: str = "USD", code: str | None = None
) -> dict[str, Any]:
    body = {"chargeId": charge_id, "refundAmount": price(amount, currency)}
    return sim.create_refund(body, simulation_code=code)


def test_refund_cap_counts_pending_refunds_but_not_declined_ones() -> None:
    sim, charge_id = captured_charge("100.00")
    refund(sim, charge_id, "100.00")
    refund(sim, charge_id, "10.00")  # pending: counted
    assert (
        "TransactionAmountExceeded" == refused(lambda: refund(sim, charge_id, "5.01")).reason_code
    )
    refund(sim, charge_id, "5.00")
    sim2, charge2 = captured_charge("100.00")
    refund(sim2, charge2, "115.00", code="AmazonRejected")
    sim2.advance(timedelta(seconds=30))
    refund(sim2, charge2, "115.00")  # the declined refund no longer counts


def test_refund_cap_in_yen_and_capped_at_75_usd() -> None:
    sim, charge_id = captured_charge("100000", "JPY")
    refund(sim, charge_id, "108400", "JPY")
    assert (
        "TransactionAmountExceeded"
        == refused(lambda: refund(sim, charge_id, "1", "JPY")).reason_code
    )
    sim2, charge2 = captured_charge("1000.00")
    assert (
        "TransactionAmountExceeded" == refused(lambda: refund(sim2, charge2, "1075.01")).reason_code
    )
    refund(sim2, charge2, "1075.00")


@pytest.mark.parametrize(
    ("currency", "captured", "below", "at", "above"),
    [
        ("USD", "150000.00", "149999.99", "150000.00", "150000.01"),
        ("EUR", "150000.00", "149999.99", "150000.00", "150000.01"),
        ("GBP", "150000.00", "149999.99", "150000.00", "150000.01"),
        ("JPY", "10000000", "9999999", "10000000", "10000001"),
    ],
)
def test_one_refund_is_at_most_the_refund_maximum(
    currency: str, captured: str, below: str, at: str, above: str
) -> None:
    # Amazon: Create Refund refundAmount "Maximum value: 150,000 USD/GBP/EUR and 10,000,000
    # JPY" (https://developer.amazon.com/docs/amazon-pay-paymentmethodonfile-express/
    # manage-refunds.html); SPEC §11. The overage allowance alone would allow `above`.
    for amount in (below, at):
        sim, charge_id = captured_charge(captured, currency)
        assert "RefundInitiated" == state(refund(sim, charge_id, amount, currency))
    sim, charge_id = captured_charge(captured, currency)
    err = refused(lambda: refund(sim, charge_id, above, currency))
    # A field range like the per-charge maximum (Amazon names no code): InvalidParameterValue.
    assert ("InvalidParameterValue", 400) == (err.reason_code, err.http_status)
    # The refused refund left nothing behind: the whole capture can still be refunded.
    assert "RefundInitiated" == state(refund(sim, charge_id, captured, currency))


def test_refund_maximum_is_configurable() -> None:
    sim, charge_id = captured_charge("100.00", max_refund_amount={"USD": 50})
    refund(sim, charge_id, "50.00")
    assert "InvalidParameterValue" == refused(lambda: refund(sim, charge_id, "50.01")).reason_code


def test_at_most_10_refunds_per_charge() -> None:
    sim, charge_id = captured_charge("100.00")
    for _ in range(10):
        refund(sim, charge_id, "1.00")
    err = refused(lambda: refund(sim, charge_id, "1.00"))
    assert ("TransactionCountExceeded", 422) == (err.reason_code, err.http_status)
    sim2, charge2 = captured_charge("100.00", max_refunds_per_charge=1)
    refund(sim2, charge2, "1.00")
    assert "TransactionCountExceeded" == refused(lambda: refund(sim2, charge2, "1.00")).reason_code


def test_refunds_resolve_and_update_refunded_amount() -> None:
    sim, charge_id = captured_charge("100.00")
    ok = refund(sim, charge_id, "30.00")["refundId"]
    bad = refund(sim, charge_id, "20.00", code="ProcessingFailure")["refundId"]
    sim.advance(timedelta(seconds=30))
    assert "Refunded" == state(sim.get_refund(ok))
    declined = sim.get_refund(bad)
    assert ("Declined", "ProcessingFailure") == (state(declined), reason(declined))
    assert price("30.00") == sim.get_charge(charge_id)["refundedAmount"]


def test_refunds_have_no_time_limit() -> None:
    sim, charge_id = captured_charge("100.00")
    sim.advance(timedelta(days=2000))
    assert "RefundInitiated" == state(refund(sim, charge_id, "1.00"))


def test_amounts_are_decimal_end_to_end() -> None:
    sim = make_sim()
    cp_id = checkout(sim, "0.30", intent="Confirm")["chargePermissionId"]
    for amount in ("0.10", "0.10", "0.10"):  # 0.1 + 0.1 + 0.1 == 0.3 exactly
        sim.create_charge(charge_body(cp_id, amount, captureNow=True))
    assert ("Closed", "AmazonClosed") == (
        state(sim.get_charge_permission(cp_id)),
        reason(sim.get_charge_permission(cp_id)),
    )
    assert Decimal("0.3") == sum(
        Decimal(sim.get_charge(i)["captureAmount"]["amount"]) for i in sim.object_ids("Charge")
    )


def test_yen_amounts_print_without_decimals() -> None:
    sim = make_sim()
    done = checkout(sim, "5000", currency="JPY", intent="AuthorizeWithCapture")
    charge = sim.get_charge(done["chargeId"])
    assert (price("5000", "JPY"), price("0", "JPY")) == (
        charge["chargeAmount"],
        charge["refundedAmount"],
    )
    assert T0.tzinfo is UTC
