"""The real oracle: every step of AmazonPayMachine checked against an independent model.

``tests/reference/ref_amazon_pay.py`` was written from SPEC.md alone (plus the project's
written decisions), sharing no code with apfsm. The same random history runs on both; after
every step the answers (status, error code), every object's state, reason, amounts and
deadlines, and the notifications must agree.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs
from hypothesis import HealthCheck, note, settings

from apfsm import Limits, parse_timestamp
from apfsm.stateful import AmazonPayMachine, Executed
from tests.reference.ref_amazon_pay import RefAmazonPay
from tests.reference.spec_model import RefLimits

# Production's Limits field names → the reference's, where they differ.
_RENAMED = {"max_charges_per_one_time_permission": "max_charges"}


def reference_limits(limits: Limits) -> RefLimits:
    names = set(RefLimits.__dataclass_fields__)
    values = {_RENAMED.get(f.name, f.name): getattr(limits, f.name) for f in attrs.fields(Limits)}
    return RefLimits(**{k: v for k, v in values.items() if k in names})


def _decimal(price: Any) -> Decimal | None:
    return None if price is None else Decimal(price["amount"])


def _datetime(text: Any) -> datetime | None:
    return None if text is None else parse_timestamp(text)


class ReferenceMachine(AmazonPayMachine):
    # The events the reference model implements.
    events: ClassVar[frozenset[tuple[str, str]] | None] = frozenset(
        {
            ("CheckoutSession", "buyer_cancel"),
            ("ChargePermission", "buyer_close"),
            ("ChargePermission", "payment_method_problem"),
            ("ChargePermission", "payment_method_fixed"),
        }
    )

    def __init__(self) -> None:
        super().__init__()
        self.ref = RefAmazonPay(self.start, reference_limits(self.limits))
        self.to_ref: dict[str, str] = {}

    def _ref(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.to_ref.get(value, value)
        if isinstance(value, dict):
            return {k: self._ref(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._ref(v) for v in value]
        return value

    def after_step(self, executed: Executed) -> None:
        step = executed.step
        if step.kind == "time":
            if step.name == "advance":
                self.ref.advance(self.sim.now() - self.ref.now())
            else:
                self.ref.move_to(self.sim.now())
        elif step.kind in ("buyer", "amazon"):
            self._side(step.name, self._ref(step.object), dict(step.body or {}))
        else:
            outcome = self.ref.call(
                step.name,
                self._ref(step.object),
                self._ref(step.body),
                key=step.idempotency_key,
                simulation_code=step.simulation_code,
            )
            note(f"reference: {outcome}")
            actual = (
                executed.error is None,
                executed.status,
                executed.error and executed.error.reason_code,
            )
            assert (outcome.ok, outcome.status, outcome.error_code) == actual, (
                step,
                outcome,
                executed,
            )
            known = set(self.to_ref.values())
            new = {t: r for t, r in outcome.created.items() if r not in known}  # not replays
            assert set(new) == set(executed.created), (step, outcome, executed)
            for object_type, ref in new.items():
                self.to_ref[executed.created[object_type]] = ref
        self.compare_world()

    def _side(self, name: str, ref: str, args: dict[str, Any]) -> None:
        if name == "buyer_approve":
            self.ref.buyer_approve(ref, card=args.get("card", "1111"))
            return
        event, reason = args.get("event"), args.get("reason")
        if event == "buyer_cancel":
            self.ref.buyer_cancel(ref)
        elif event == "buyer_close":
            self.ref.buyer_close(ref)
        elif event == "payment_method_problem":
            self.ref.payment_method_problem(ref, str(reason))
        elif event == "payment_method_fixed":
            self.ref.payment_method_fixed(ref)
        else:  # pragma: no cover - the machine only draws the events above
            raise AssertionError(f"the reference model has no event {event!r}")

    def compare_world(self) -> None:
        sim = self.sim
        assert self.ref.now() == sim.now()
        for object_id, ref in self.to_ref.items():
            mine = sim.object_json(object_id)
            theirs = self.ref.view(ref)
            assert (mine is None) == (theirs is None), (object_id, ref, mine, theirs)
            if mine is None or theirs is None:
                continue
            details = mine["statusDetails"]
            reasons = details.get("reasons")
            reason = (
                (reasons or [{}])[0].get("reasonCode")
                if "reasons" in details
                else details["reasonCode"]
            )
            assert (theirs["state"], theirs["reason"]) == (details["state"], reason), (
                object_id,
                ref,
                mine,
                theirs,
            )
            kind = theirs["type"]
            if kind == "CheckoutSession":
                assert theirs["constraints"] == [c["constraintId"] for c in mine["constraints"]]
            elif kind == "ChargePermission":
                limits = mine["limits"] or {}
                assert (theirs["amountLimit"], theirs["amountBalance"]) == (
                    _decimal(limits.get("amountLimit")),
                    _decimal(limits.get("amountBalance")),
                ), (object_id, mine, theirs)
                assert theirs["expiration"] == _datetime(mine["expirationTimestamp"]), (
                    object_id,
                    mine,
                    theirs,
                )
            elif kind == "Charge":
                assert (theirs["amount"], theirs["captureAmount"], theirs["refundedAmount"]) == (
                    _decimal(mine["chargeAmount"]),
                    _decimal(mine["captureAmount"]),
                    _decimal(mine["refundedAmount"]),
                ), (object_id, mine, theirs)
                assert theirs["expiration"] == _datetime(mine["expirationTimestamp"]), (
                    object_id,
                    mine,
                    theirs,
                )
            elif kind == "Dispute":
                assert (theirs["amount"], theirs["deadline"]) == (
                    _decimal(mine["disputeAmount"]),
                    _datetime(mine["merchantResponseDeadline"]),
                ), (object_id, mine, theirs)
            else:
                assert theirs["amount"] == _decimal(mine["refundAmount"])
        notifications = [
            (n["ObjectType"], self.to_ref.get(n["ObjectId"], n["ObjectId"]))
            for n in sim.notifications
        ]
        assert self.ref.notifications() == notifications


# The real oracle gets the largest budget of the suite: 1,000 histories of up to 40 steps
# (about 15 s; a step costs ~0.3 ms).
ReferenceMachine.TestCase.settings = settings(
    max_examples=1_000,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestAgainstReference = ReferenceMachine.TestCase
