"""Decline guidance as data (issue 15 part 3): every code and every unhappy state has
advice, and the advice agrees with the catalog it sits beside.

Sources the data cites, checked by hand against their files:

* Amazon's Magento 2 plugin (amzn/amazon-payments-magento-2-plugin,
  ``etc/amazon_error_mapping_payv2.xml``): "Charge was soft declined. Retry attempts may or
  may not by successful. If repeated retry attempts are unsuccessful, contact the buyer and
  have them choose a different payment instrument."; "Charge was hard declined. Retry
  attempts will not succeed. Please contact the buyer ..."; AmazonRejected and
  TransactionTimedOut: "... please choose another payment method"; MFANotCompleted:
  "Multi-factor authentication (MFA) is required to be complete by the buyer".
* The official SDKs' retry loops on 408, 425, 429 and 5xx, three retries:
  amzn/amazon-pay-api-sdk-nodejs ``src/clientHelper.js`` (``2 ** (count - 1) * 1000`` ms
  before attempts 2–4: 2, 4, 8 s), amzn/amazon-pay-api-sdk-dotnet
  ``Amazon.Pay.API.SDK/Util.cs`` (``2 ** retries * 1000`` ms), amzn/amazon-pay-api-sdk-php
  ``Amazon/Pay/API/HttpCurl.php`` (1.0, 2.2 and 7.0 s).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from apfsm import CODE_ADVICE, ERRORS, LIFECYCLES, STATE_ADVICE, Advice
from apfsm._spec import SDK_BACKOFF

#: States whose reasons ask something of the merchant; a charge Declined takes its code's
#: advice.
UNHAPPY = {"Canceled", "Closed", "NonChargeable", "Declined"}


def test_every_error_code_has_advice() -> None:
    assert set(ERRORS) == set(CODE_ADVICE)


def test_every_unhappy_reason_a_lifecycle_declares_has_advice() -> None:
    missing = []
    for lifecycle in LIFECYCLES.values():
        for state in lifecycle.states:
            for reason in state.reasons:
                key = (lifecycle.object_type, state.name, reason)
                if (lifecycle.object_type, state.name) == ("Charge", "Declined"):
                    if reason not in CODE_ADVICE:
                        missing.append(key)
                elif (state.name in UNHAPPY or reason.startswith("StopShipment")) and (
                    key not in STATE_ADVICE
                ):
                    missing.append(key)
    assert [] == missing
    # ...and no advice for a state nothing declares.
    declared = {
        (lc.object_type, s.name, r)
        for lc in LIFECYCLES.values()
        for s in lc.states
        for r in s.reasons
    }
    assert [] == sorted(set(STATE_ADVICE) - declared)


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_advice_agrees_with_the_catalog(code: str) -> None:
    advice, info = CODE_ADVICE[code], ERRORS[code]
    assert advice.code == code
    assert advice.retry == info.retryable
    assert bool(advice.backoff) == advice.retry
    assert all(b > timedelta(0) for b in advice.backoff)
    assert list(advice.backoff) == sorted(advice.backoff)  # waits grow
    assert advice.sources
    if info.kind in ("knowable", "setup"):
        assert (advice.resolution, advice.affects) == ("merchant", "integration")
    if info.kind == "transient":
        assert advice.backoff == SDK_BACKOFF


def test_the_declines_are_written_out_with_amazons_words() -> None:
    # Each decline code has its own entry (not its kind's default), citing Amazon's plugin.
    for code, info in ERRORS.items():
        if info.kind == "decline":
            assert any("magento" in s.lower() for s in CODE_ADVICE[code].sources), code
    hard, soft = CODE_ADVICE["HardDeclined"], CODE_ADVICE["SoftDeclined"]
    assert (hard.retry, hard.resolution, hard.tell_buyer is not None) == (False, "buyer", True)
    assert (soft.retry, soft.resolution) == (True, "retry")
    assert "Decision" in " ".join(soft.sources)  # Amazon names no interval: said so
    assert CODE_ADVICE["ProcessingFailure"].condition == "the charge permission is still Chargeable"
    assert not CODE_ADVICE["AmazonRejected"].retry


def test_the_sdk_backoff_is_the_sdks() -> None:
    # Node.js and .NET: 2, 4 and 8 seconds before the three retries (module docs).
    assert (2, 4, 8) == tuple(int(b.total_seconds()) for b in SDK_BACKOFF)


def test_an_advice_with_waits_must_be_retryable() -> None:
    with pytest.raises(ValueError, match="waits"):
        Advice("X", "retry", False, "…", "request", ("s",), (timedelta(seconds=1),))
    with pytest.raises(ValueError, match="waits"):
        Advice("X", "retry", True, "…", "request", ("s",))
