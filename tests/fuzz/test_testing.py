"""apfsm.testing: IntegrationMachine, strict mode, injected declines, IPN faults, and the
pytest plugin's fixtures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from apfsm import ApiError, ManualClock, Simulator
from apfsm._fuzz import AMAZON_RULES
from apfsm._fuzz.plans import CURRENT
from apfsm.testing import (
    AMAZON_STEPS,
    KNOWABLE_CODES,
    IntegrationError,
    IntegrationMachine,
    WatchedSimulator,
    step_plans,
)
from tests.simhelpers import T0, price, session_body

FAST = settings(
    max_examples=60,
    stateful_step_count=12,
    deadline=None,
    database=None,
    derandomize=True,
    phases=(Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)


class TinyShop:
    """Checks out, then ships by capturing — carelessly or carefully."""

    def __init__(self, amazon_pay: Any, *, careful: bool) -> None:
        self.amazon_pay = amazon_pay
        self.careful = careful
        self.charges: list[str] = []
        self.ipns: list[dict[str, Any]] = []

    def start_checkout(self) -> str:
        return str(
            self.amazon_pay.create_checkout_session(session_body("20.00"))["checkoutSessionId"]
        )

    def complete(self, session_id: str) -> None:
        try:
            done = self.amazon_pay.complete_checkout_session(
                session_id, {"chargeAmount": price("20.00")}
            )
        except ApiError as err:
            if err.reason_code in ("CheckoutSessionCanceled",):
                return  # the buyer or a decline canceled it: nothing to ship
            raise
        if done["chargeId"]:
            self.charges.append(done["chargeId"])

    def ship(self) -> None:
        for charge_id in self.charges:
            if (
                self.careful
                and self.amazon_pay.get_charge(charge_id)["statusDetails"]["state"] != "Authorized"
            ):
                continue
            try:
                self.amazon_pay.capture_charge(charge_id, {"captureAmount": price("20.00")})
            except ApiError as err:
                if err.reason_code not in (
                    "SoftDeclined",
                    "HardDeclined",
                    "AmazonRejected",
                    "ProcessingFailure",
                ):
                    raise


class TinyShopMachine(IntegrationMachine):
    careful: bool = True

    def __init__(self) -> None:
        super().__init__()
        self.shop = TinyShop(self.sim, careful=self.careful)

    def on_notification(self, message: dict[str, Any]) -> None:
        self.shop.ipns.append(message)

    def after_buyer_approved(self, checkout_session_id: str) -> None:
        self.shop.complete(checkout_session_id)

    @rule()
    def customer_checks_out(self) -> None:
        self.shop.start_checkout()

    @rule()
    def ship(self) -> None:
        self.shop.ship()

    @invariant()
    def notifications_name_real_objects(self) -> None:
        for message in self.shop.ipns:
            assert self.sim.object_json(message["ObjectId"]) is not None


class CarelessShopMachine(TinyShopMachine):
    careful = False


def test_a_careful_integration_passes() -> None:
    run_state_machine_as_test(TinyShopMachine, settings=FAST)


def test_strict_mode_catches_a_call_the_integration_could_have_avoided() -> None:
    # The bug needs checkout, approval with a card that authorizes, and two shipments:
    # random search takes a median of ~70 short histories (measured over seeds); the
    # budget leaves a wide margin, and the search stops at the first find.
    with pytest.raises(IntegrationError, match="called capture_charge on a Charge in state"):
        run_state_machine_as_test(CarelessShopMachine, settings=settings(FAST, max_examples=1000))


def test_strict_mode_by_hand() -> None:
    sim = WatchedSimulator(ManualClock(T0))
    shop = TinyShop(sim, careful=False)
    session = shop.start_checkout()
    sim.buyer_approve(session)
    shop.complete(session)
    shop.ship()
    with pytest.raises(IntegrationError, match="capture_charge on a Charge in state Captured"):
        shop.ship()
    careful = TinyShop(sim, careful=True)
    careful.charges = list(shop.charges)
    careful.ship()  # reads the charge first: nothing to capture, no refusal


def test_strict_mode_can_be_turned_off_or_narrowed() -> None:
    sim = WatchedSimulator(ManualClock(T0), strict=False)
    with pytest.raises(ApiError) as info:
        sim.get_charge("S01-0000000-0000000-C0000000")
    assert not isinstance(info.value, IntegrationError)
    strict = WatchedSimulator(ManualClock(T0))
    strict.tolerated.add("ResourceNotFound")
    with pytest.raises(ApiError) as info:
        strict.get_charge("S01-0000000-0000000-C0000000")
    assert not isinstance(info.value, IntegrationError)
    with pytest.raises(IntegrationError, match="ResourceNotFound"):
        WatchedSimulator(ManualClock(T0)).get_charge("nope")


def test_declines_are_not_the_integrations_fault() -> None:
    assert {
        "SoftDeclined",
        "HardDeclined",
        "ProcessingFailure",
        "CheckoutSessionCanceled",
    }.isdisjoint(KNOWABLE_CODES)
    sim = WatchedSimulator(ManualClock(T0))
    session = sim.create_checkout_session(session_body("20.00", intent="Confirm"))[
        "checkoutSessionId"
    ]
    sim.buyer_approve(session)
    permission = sim.complete_checkout_session(session, {"chargeAmount": price("20.00")})[
        "chargePermissionId"
    ]
    sim.injected["create_charge"] = "SoftDeclined"
    with pytest.raises(ApiError) as info:
        sim.create_charge({"chargePermissionId": permission, "chargeAmount": price("5.00")})
    assert "SoftDeclined" == info.value.reason_code
    assert not isinstance(info.value, IntegrationError)
    assert {} == sim.injected  # used once
    assert ("create_charge", None, "SoftDeclined") == sim.calls[-1]


def test_ipn_delivery_faults() -> None:
    machine = TinyShopMachine()
    session = machine.shop.start_checkout()
    machine.sim.buyer_approve(session)
    machine.after_buyer_approved(session)
    waiting = machine.pending_notifications
    assert 2 == len(waiting)  # the permission and the charge were created
    machine.deliver_ipns(fault="duplicate", count=1)
    assert [waiting[0]] * 2 == machine.shop.ipns
    machine.sim.advance(timedelta(days=31))  # the authorization expires: one more IPN
    machine.deliver_ipns(fault="reorder", count=2)
    assert "Canceled" == machine.sim.get_charge(machine.shop.charges[0])["statusDetails"]["state"]
    assert machine.shop.ipns[2]["ObjectType"] == "CHARGE"
    machine.deliver_notifications()
    assert [] == machine.pending_notifications
    machine.teardown()


def test_a_delayed_ipn_sits_out_later_deliveries_then_arrives() -> None:
    machine = TinyShopMachine()
    session = machine.shop.start_checkout()
    machine.sim.buyer_approve(session)
    machine.after_buyer_approved(session)
    machine.sim.advance(timedelta(days=31))  # the authorization expires: a third IPN
    first, second, third = machine.pending_notifications
    machine.deliver_ipns(fault="delay", count=2)  # the oldest sits out two deliveries
    assert [second, third] == machine.shop.ipns
    assert [first] == machine.pending_notifications
    machine.deliver_ipns(fault="none", count=1)  # still held (one delivery left)
    assert [second, third] == machine.shop.ipns
    machine.deliver_ipns(fault="none", count=1)
    assert [second, third, first] == machine.shop.ipns  # late, after newer news
    assert [] == machine.pending_notifications


def test_a_delayed_ipn_arrives_on_catch_up() -> None:
    machine = TinyShopMachine()
    session = machine.shop.start_checkout()
    machine.sim.buyer_approve(session)
    machine.after_buyer_approved(session)
    first, second = machine.pending_notifications
    machine.deliver_ipns(fault="delay", count=3)
    assert [second] == machine.shop.ipns
    machine.deliver_notifications()
    assert [second, first] == machine.shop.ipns


def test_amazon_side_steps_act_only_on_objects_in_their_states() -> None:
    machine = TinyShopMachine()
    enabled = machine._can
    assert sorted(["customer_checks_out", "ship", *AMAZON_RULES]) == sorted(
        r.function.__name__ for r in type(machine).setup_state().rules
    )
    object_steps = [
        "buyer_approves",
        "buyer_abandons",
        "payment_method_problem",
        "payment_method_fixed",
        "buyer_closes_permission",
        "amazon_cancels_charge",
        "deliver_ipns",
        "until_next_deadline",
    ]
    assert not any(enabled(name) for name in object_steps)
    assert enabled("wait")
    assert enabled("next_call_is_declined")
    session = machine.shop.start_checkout()
    assert enabled("buyer_approves")
    assert enabled("buyer_abandons")
    assert enabled("until_next_deadline")  # the session expires in 24 h
    machine.sim.buyer_approve(session)
    machine.after_buyer_approved(session)
    assert not enabled("buyer_approves")
    assert enabled("deliver_ipns")
    assert enabled("amazon_cancels_charge")
    assert enabled("payment_method_problem")
    assert not enabled("payment_method_fixed")
    permission = machine.sim.object_ids("ChargePermission")[0]
    machine.sim.payment_method_problem(permission, "PaymentMethodInvalid")
    assert enabled("payment_method_fixed")
    # The state index agrees with reading every object.

    def state_of(object_id: str) -> str:
        body = machine.sim.object_json(object_id)
        assert body is not None
        return str(body["statusDetails"]["state"])

    for kind in ("CheckoutSession", "ChargePermission", "Charge"):
        for state in ("Open", "Completed", "Chargeable", "NonChargeable", "Authorized"):
            expected = [i for i in machine.sim.object_ids(kind) if state_of(i) == state]
            assert expected == machine._objects_in(kind, (state,))
    assert machine._objects_in("ChargePermission", ("NonChargeable",))


def test_a_step_that_cannot_act_lets_a_second_pass_instead() -> None:
    machine = TinyShopMachine()
    before = machine.sim.now()
    machine.amazon_pay(("buyer_approves", (0, "1111")))  # no session awaits a buyer
    assert timedelta(seconds=1) == machine.sim.now() - before
    session = machine.shop.start_checkout()
    machine.amazon_pay(("buyer_approves", (0, "3064")))  # 3064: approves, then cancels
    assert "Canceled" == machine.sim.object_state(session)
    assert timedelta(seconds=1) == machine.sim.now() - before
    assert "wait" == AMAZON_STEPS[0]  # where shrinking goes: time passing


def test_the_integration_steers_amazon_side_steps() -> None:
    class NoDeclines(TinyShopMachine):
        def amazon_may(self, kind: str) -> bool:
            return kind != "next_call_is_declined"

    machine = NoDeclines()
    before = machine.sim.now()
    machine.amazon_pay(("next_call_is_declined", ("capture_charge", "SoftDeclined")))
    assert {} == machine.sim.injected
    assert timedelta(seconds=1) == machine.sim.now() - before
    plain = TinyShopMachine()
    plain.amazon_pay(("next_call_is_declined", ("capture_charge", "SoftDeclined")))
    assert {"capture_charge": "SoftDeclined"} == plain.sim.injected


def test_step_plans_draw_named_steps_with_their_arguments() -> None:
    plans = step_plans(ship=(2, range(4), ("fast", "slow")), reconcile=(1,))
    seen: set[str] = set()

    @given(plans)
    @settings(max_examples=200, database=None)
    def check(plan: tuple[str, tuple[Any, ...]]) -> None:
        name, arguments = plan
        seen.add(name)
        if name == "ship":
            pick, speed = arguments
            assert 0 <= pick < 4
            assert speed in ("fast", "slow")
        else:
            assert ("reconcile", ()) == plan

    check()
    assert {"ship", "reconcile"} == seen
    assert ("ship", (0, "fast")) == find(plans, lambda plan: True)  # where shrinking goes
    for bad in ({}, {"x": (0,)}, {"x": (1, ())}, {"x": (1, "ab")}, {"x": (True,)}):
        with pytest.raises(ValueError, match=r"step_plans|weight|sequence"):
            step_plans(**bad)


def test_ipn_faults_can_be_turned_off() -> None:
    class Orderly(TinyShopMachine):
        ipn_faults = False

    machine = Orderly()
    session = machine.shop.start_checkout()
    machine.sim.buyer_approve(session)
    machine.after_buyer_approved(session)
    machine.deliver_ipns(fault="duplicate", count=2)
    assert 2 == len(machine.shop.ipns)
    assert machine.shop.ipns[0] != machine.shop.ipns[1]


def test_predict_uses_the_validator() -> None:
    machine = TinyShopMachine()
    session = machine.shop.start_checkout()
    outcome = machine.predict(
        "complete_checkout_session", session, {"chargeAmount": price("20.00")}
    )
    assert "InvalidCheckoutSessionStatus" == outcome.reason_code  # the buyer has not approved


pytest_plugins = ["pytester"]


def test_the_pytest_plugin_provides_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from datetime import UTC, datetime

        def test_fixtures(apfsm_simulator, apfsm_clock):
            assert apfsm_simulator.clock is apfsm_clock
            assert datetime(2030, 5, 1, 12, tzinfo=UTC) == apfsm_clock.now()
            apfsm_simulator.create_checkout_session(
                {"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://a/r"}, "storeId": "s"}
            )
            assert 1 == len(apfsm_simulator.object_ids())
        """
    )
    pytester.makeini("[pytest]\napfsm_start = 2030-05-01T12:00:00+00:00\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_a_bad_start_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(apfsm_clock):\n    pass\n")
    pytester.makeini("[pytest]\napfsm_start = tomorrow\n")
    result = pytester.runpytest("-q")
    assert 0 != result.ret
    result.stdout.fnmatch_lines(["*apfsm_start*tomorrow*"])


def test_the_plugin_is_registered_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    assert "apfsm._pytest_plugin" in {e.value for e in entry_points(group="pytest11")}
    assert isinstance(Simulator(ManualClock(T0)), Simulator)


def test_the_amazon_view_follows_every_change_including_parents() -> None:
    machine = TinyShopMachine()
    sim = machine.sim

    def agrees() -> None:
        for kind in ("CheckoutSession", "ChargePermission", "Charge", "Refund"):
            fresh = [sim.object_json(i) for i in sim.object_ids(kind)]
            assert fresh == machine.amazon_objects(kind), kind
            for body in fresh:
                assert body is not None
                key = {
                    "CheckoutSession": "checkoutSessionId",
                    "ChargePermission": "chargePermissionId",
                    "Charge": "chargeId",
                    "Refund": "refundId",
                }[kind]
                assert body == machine.amazon_json(body[key])

    agrees()
    session = machine.shop.start_checkout()
    agrees()
    sim.buyer_approve(session)
    machine.after_buyer_approved(session)  # completes: a permission and a charge
    agrees()
    charge = sim.object_ids("Charge")[0]
    sim.capture_charge(charge, {"captureAmount": price("20.00")})
    sim.create_refund({"chargeId": charge, "refundAmount": price("5.00")})
    agrees()
    sim.advance(timedelta(seconds=30))  # the refund completes: the charge's refunded total
    view = machine.amazon_json(charge)
    assert "5.00" == view["refundedAmount"]["amount"]
    agrees()
    # An unknown id: the default when one is given, else a KeyError naming the id.
    assert machine.amazon_json("S01-0000000-0000000-C0000000", None) is None
    with pytest.raises(KeyError, match="S01-0000000-0000000-C0000000"):
        machine.amazon_json("S01-0000000-0000000-C0000000")


# The deprecated one-integer declaration still works (and warns, naming the replacement).
with pytest.warns(DeprecationWarning, match=r"business_events is deprecated.*@rule"):

    class EventfulShop(TinyShopMachine):
        business_events: ClassVar[dict[str, tuple[Any, ...]]] = {
            "customer_checks_out": (2,),
            "ship": (1,),
        }

        def can_happen(self, event: str) -> bool:
            return event != "ship" or bool(self.shop.charges)


def test_amazon_side_is_one_rule_per_kind_each_with_a_precondition() -> None:
    rules = {r.function.__name__: r for r in TinyShopMachine.setup_state().rules}
    assert set(AMAZON_RULES) <= set(rules)
    assert "step" not in rules
    # Only time passing is always possible; every other kind waits for something to act on.
    guarded = {name for name in AMAZON_RULES if rules[name].preconditions}
    assert guarded == set(AMAZON_RULES) - {"amazon_time_passes", "amazon_deadline_passes"}


def test_business_events_join_amazon_side_in_one_rule() -> None:
    assert ["customer_checks_out", "ship", "step"] == sorted(
        r.function.__name__ for r in EventfulShop.setup_state().rules
    )
    plan = EventfulShop.step.hypothesis_stateful_rule.arguments["plan"]  # type: ignore[attr-defined]
    seen: set[str] = set()
    CURRENT.set(None)  # no machine is running: every kind may be drawn

    @given(plan)
    @settings(max_examples=300, database=None)
    def draws(step: tuple[str, tuple[Any, ...]]) -> None:
        seen.add(step[0])

    draws()
    assert {"customer_checks_out", "ship"} <= seen
    assert {"wait", "deliver_ipns", "buyer_approves"} <= seen


def test_a_step_that_cannot_act_is_drawn_as_one_that_can() -> None:
    machine = EventfulShop()  # the machine whose steps are drawn now
    plan = EventfulShop.step.hypothesis_stateful_rule.arguments["plan"]  # type: ignore[attr-defined]
    kinds: set[str] = set()

    @given(plan)
    @settings(max_examples=300, database=None)
    def draws(step: tuple[str, tuple[Any, ...]]) -> None:
        kinds.add(step[0])

    draws()
    # Nothing to ship, no session, no IPN: only what can act now is drawn.
    assert "ship" not in kinds
    assert not {"buyer_approves", "deliver_ipns", "amazon_cancels_charge"} & kinds
    assert {"customer_checks_out", "wait", "next_call_is_declined"} <= kinds
    del machine


def test_business_events_are_checked() -> None:
    with (
        pytest.raises(ValueError, match="weight"),
        pytest.warns(DeprecationWarning, match="deprecated"),
    ):

        class NoWeight(TinyShopMachine):
            business_events: ClassVar[dict[str, tuple[Any, ...]]] = {"ship": (0,)}

    with (
        pytest.raises(ValueError, match="Amazon Pay's steps"),
        pytest.warns(DeprecationWarning, match="deprecated"),
    ):

        class Clash(TinyShopMachine):
            business_events: ClassVar[dict[str, tuple[Any, ...]]] = {"wait": (1,)}
