"""The stateful machine: random histories on the simulator, every step checked."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from apfsm.stateful import AmazonPayMachine

AmazonPayMachine.TestCase.settings = settings(
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestAmazonPay = AmazonPayMachine.TestCase
