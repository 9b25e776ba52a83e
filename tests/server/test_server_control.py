"""The control API's clock and Amazon-side actions at parity with the simulator (issue 13
item 3): read the clock, advance by a duration in any unit, to an absolute instant or to
the next scheduled event; any declared buyer or Amazon event; the index at ``/`` and
``/_apfsm``; bad input answered with its code, state unchanged."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from apfsm import OPERATIONS, Simulator, format_timestamp
from apfsm.server import create_app
from tests.simhelpers import checkout, make_sim, state


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    with TestClient(create_app(sim)) as test_client:
        yield test_client


def control(client: TestClient, path: str, body: Any = None, method: str = "POST") -> Any:
    answer = client.request(method, f"/_apfsm{path}", json=body)
    return answer.status_code, answer.json()


def test_the_clock_and_its_scheduled_events(client: TestClient, sim: Simulator) -> None:
    done = checkout(sim)
    status, clock = control(client, "/clock", method="GET")
    assert 200 == status
    assert format_timestamp(sim.now()) == clock["now"]
    assert clock["nextEventAt"] == clock["pendingEvents"][0]["at"]
    assert done["chargeId"] in {e["objectId"] for e in clock["pendingEvents"]}
    assert {"at", "objectId", "what"} == set(clock["pendingEvents"][0])


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        ({"seconds": 30}, 30),
        ({"minutes": 2}, 120),
        ({"hours": 1.5}, 5400),
        ({"days": 8}, 8 * 86400),
        ({"weeks": 1, "days": 1}, 8 * 86400),
    ],
)
def test_advance_by_a_duration_in_any_unit(
    client: TestClient, sim: Simulator, body: dict[str, Any], seconds: int
) -> None:
    before = sim.now()
    status, answer = control(client, "/clock/advance", body)
    assert 200 == status, answer
    assert seconds == (sim.now() - before).total_seconds()


def test_advance_to_an_instant_and_to_the_next_event(client: TestClient, sim: Simulator) -> None:
    charge_id = checkout(sim)["chargeId"]
    target = (sim.now() + timedelta(days=10)).replace(microsecond=0)
    status, _ = control(client, "/clock/advance", {"to": target.isoformat()})
    assert (200, target) == (status, sim.now())
    due = sim.next_event_at()
    assert due is not None
    status, _ = control(client, "/clock/advance", {"untilNextEvent": True})
    assert (200, due) == (status, sim.now())
    assert "Canceled" == sim.object_state(charge_id)  # its 30-day authorization ran out


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "MissingParameterValue"),
        ({"days": -1}, "InvalidParameterValue"),
        ({"days": "8"}, "InvalidParameterValue"),
        ({"seconds": True}, "InvalidParameterValue"),
        ({"years": 1}, "UnrecognizedField"),
        ({"days": 1, "to": "2030-01-01T00:00:00Z"}, "InvalidParameterCombination"),
        ({"to": "yesterday"}, "InvalidParameterValue"),
        ({"to": "2026-01-01T00:00:00"}, "InvalidParameterValue"),  # no UTC offset
        ({"to": "2020-01-01T00:00:00+00:00"}, "InvalidParameterValue"),  # backwards
        ({"untilNextEvent": 1}, "InvalidParameterValue"),
        ({"untilNextEvent": True}, "InvalidRequest"),  # nothing scheduled
        ({"days": 4000}, "InvalidParameterValue"),  # over ten years
    ],
)
def test_bad_advances_change_nothing(
    client: TestClient, sim: Simulator, body: dict[str, Any], code: str
) -> None:
    before = sim.state_fingerprint()
    status, answer = control(client, "/clock/advance", body)
    assert (400, code) == (status, answer["reasonCode"]), answer
    assert before == sim.state_fingerprint()


def test_any_declared_event_over_http(client: TestClient, sim: Simulator) -> None:
    done = checkout(sim)
    permission = done["chargePermissionId"]
    status, body = control(
        client,
        "/event",
        {
            "objectId": permission,
            "event": "payment_method_problem",
            "reason": "PaymentMethodInvalid",
        },
    )
    assert (200, "NonChargeable") == (status, state(body))
    status, body = control(
        client, "/event", {"objectId": done["chargeId"], "event": "amazon_cancel"}
    )
    assert (200, "Canceled") == (status, state(body))
    before = sim.state_fingerprint()
    for bad in (
        {"event": "amazon_cancel"},
        {"objectId": permission, "event": "no_such_event"},
        {"objectId": "S01-0000000-0000000", "event": "amazon_cancel"},
        {"objectId": permission, "event": "payment_method_problem", "reason": 5},
    ):
        status, body = control(client, "/event", bad)
        assert 400 <= status < 500, body
        assert {"reasonCode", "message"} == set(body)
    assert before == sim.state_fingerprint()


@pytest.mark.parametrize("path", ["/", "/_apfsm", "/_apfsm/"])
def test_the_index_names_the_api_and_the_control_endpoints(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert 200 == answer.status_code
    index = answer.json()
    assert set(OPERATIONS) == set(index["api"]["operations"])
    assert "POST /_apfsm/clock/advance" in index["control"]
    assert "GET /_apfsm/clock" in index["control"]
    assert "/openapi.json" == index["api"]["openapi"]


def test_control_actions_survive_a_restart_with_a_state_file(tmp_path: Any) -> None:
    # Journaled like the API calls (issue 16): a crash after these loses none of them.
    path = tmp_path / "state.db"
    app = create_app(make_sim(), state=path)
    first = TestClient(app)  # no lifespan: no clean shutdown, the journal must carry it
    token = first.post("/_apfsm/buyer/sign-in", json={"scopes": ["name"]}).json()["buyerToken"]
    sim: Simulator = app.state.simulator
    permission = checkout(sim)["chargePermissionId"]
    # (checkout ran in process, not journaled: reads below use only journaled objects)
    first.post("/_apfsm/clock/advance", json={"hours": 2})  # within the token's 24 h
    expected_now = sim.now()
    restarted = create_app(state=path)
    again: Simulator = restarted.state.simulator
    assert expected_now == again.now()
    assert 200 == TestClient(restarted).get(f"/v2/buyers/{token}").status_code
    assert permission not in again.object_ids()


def test_ipn_faults_duplicate_delay_and_reorder_the_next_notifications() -> None:
    with contextlib.ExitStack() as stack:
        _ipn_faults(stack)


def _ipn_faults(stack: contextlib.ExitStack) -> None:
    import json
    import time

    from tests.server.serverhelpers import receiver

    with receiver() as ipn:
        sim = make_sim()
        # As a context manager: the app's shutdown stops its IPN worker with the test.
        client = stack.enter_context(TestClient(create_app(sim, notify_url=ipn.url)))

        def messages() -> list[tuple[str, str]]:
            return [
                (
                    json.loads(json.loads(body)["Message"])["ObjectType"],
                    json.loads(body)["MessageId"],
                )
                for _, body in ipn.received
            ]

        status, pending = control(client, "/ipn/faults", {"fault": "duplicate", "count": 1})
        assert (200, 1) == (status, pending["duplicate"])
        checkout(sim)  # a permission and a charge: two notifications, the first twice
        ipn.wait_for(3)
        ids = [message_id for _, message_id in messages()]
        assert 2 == ids.count(ids[0])  # the first one, delivered twice (same MessageId)
        assert 0 == control(client, "/ipn/faults", method="GET")[1]["duplicate"]
        control(client, "/ipn/faults", {"fault": "reorder"})
        began = time.monotonic()
        checkout(sim)
        arrived = ipn.wait_for(5)[3:]
        kinds = [json.loads(json.loads(b)["Message"])["ObjectType"] for _, b in arrived]
        assert ["CHARGE", "CHARGE_PERMISSION"] == kinds  # the permission's was held back
        control(client, "/ipn/faults", {"fault": "delay", "count": 1, "seconds": 0.5})
        checkout(sim, amount="5.00")
        ipn.wait_for(7)
        assert time.monotonic() - began >= 0.5
    for bad, code in (
        ({"fault": "lose"}, "InvalidParameterValue"),
        ({"fault": "delay"}, "MissingParameterValue"),
        ({"fault": "duplicate", "count": 0}, "InvalidParameterValue"),
        ({}, "MissingParameterValue"),
    ):
        status, answer = control(client, "/ipn/faults", bad)
        assert (400, code) == (status, answer["reasonCode"]), bad


def test_ipn_faults_need_ipn_delivery(client: TestClient) -> None:
    status, body = control(client, "/ipn/faults", {"fault": "duplicate"})
    assert (400, "InvalidRequest") == (status, body["reasonCode"])
