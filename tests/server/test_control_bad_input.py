"""Issue 13's "Bad input" and "Done when" for the control endpoints under ``/_apfsm``:
every route the application serves there is in the OpenAPI document (and everything the
document lists is served); each endpoint the document lists is swept with malformed
bodies, unknown ids, wrong states and odd query strings, and answers an Amazon-style error
(``reasonCode`` and ``message``, the catalog's 4xx status), never a 500; schemathesis
generates more from the document, and every 200 answer matches the schema it declares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import response_schema_conformance
from starlette.routing import Route
from starlette.testclient import TestClient

from apfsm import ERRORS, Simulator
from apfsm.server import create_app, openapi
from tests.simhelpers import checkout, make_sim, session_body

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = openapi()
CONTROL = {
    (method.upper(), path): doc
    for path, item in DOCUMENT["paths"].items()
    for method, doc in item.items()
    if "Control" in doc["tags"]
}
#: An address nothing listens on: IPN delivery (needed by /_apfsm/ipn/faults) fails fast.
DEAD_RECEIVER = "http://127.0.0.1:9/ipn"


def refused(response: Any) -> tuple[int, str]:
    """A refusal in Amazon's shape with the status the catalog gives its code (SPEC §8)."""
    body = response.json()
    assert {"reasonCode", "message"} == set(body), body
    assert 400 <= response.status_code < 500, body
    assert ERRORS[body["reasonCode"]].http_status == response.status_code, body
    return response.status_code, body["reasonCode"]


@pytest.fixture
def sim() -> Simulator:
    return make_sim()


@pytest.fixture
def client(sim: Simulator) -> Iterator[TestClient]:
    app = create_app(sim, notify_url=DEAD_RECEIVER, notify_attempts=1)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# ---------------------------------------------------------------------------------------
# Every control route is in the OpenAPI document, and the other way round
# ---------------------------------------------------------------------------------------


def test_every_control_route_is_in_the_openapi_document() -> None:
    app = create_app(make_sim())
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path != "/openapi.json"
        for method in route.methods or ()
        if method != "HEAD"  # Starlette's own, beside each GET
    }
    assert {p for _, p in served} >= {"/", "/_apfsm", "/_apfsm/clock", "/_apfsm/event"}
    assert served == set(CONTROL)
    assert all(path.startswith("/_apfsm") or path == "/" for _, path in CONTROL)
    # The published copy too (kept equal to openapi() by tests/server/test_server.py).
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served <= {(m.upper(), p) for p, item in committed["paths"].items() for m in item}


def test_control_timestamps_are_the_apis() -> None:
    clock = CONTROL["GET", "/_apfsm/clock"]["responses"]["200"]["content"]["application/json"]
    api = DOCUMENT["components"]["schemas"]["Charge"]["properties"]["creationTimestamp"]
    assert api == clock["schema"]["properties"]["now"]


def test_operation_ids_are_unique() -> None:
    ids = [doc["operationId"] for item in DOCUMENT["paths"].values() for doc in item.values()]
    assert len(ids) == len(set(ids))
    assert "control_clock_advance_post" == CONTROL["POST", "/_apfsm/clock/advance"]["operationId"]


def test_the_index_lists_what_the_document_lists(client: TestClient) -> None:
    index = client.get("/_apfsm").json()["control"]
    index_paths = {"/", "/_apfsm", "/_apfsm/"}
    assert {f"{m} {p}" for m, p in CONTROL if p not in index_paths} == set(index)


# ---------------------------------------------------------------------------------------
# The sweep: malformed bodies, wrong field types, unknown fields and ids, odd queries
# ---------------------------------------------------------------------------------------

NOT_AN_OBJECT = [b"{", b"\xff\xfe", b"[]", b'"text"', b"12", b"null", b"true", b"NaN"]
WRONG_VALUES: list[Any] = [None, 7, -1, 1.5, 1e300, True, "", "x" * 5000, [], [1], {}, {"a": 1}]


def with_body(path: str, method: str, raw: bytes, client: TestClient) -> Any:
    return client.request(method, path, content=raw, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("method", "path"), sorted(CONTROL), ids=[" ".join(k) for k in sorted(CONTROL)]
)
def test_every_control_endpoint_refuses_malformed_input_in_amazons_shape(
    client: TestClient, sim: Simulator, method: str, path: str
) -> None:
    doc = CONTROL[method, path]
    session = checkout(sim)  # objects exist: ids below reach past ResourceNotFound too
    answers: list[tuple[str, Any]] = []
    if "requestBody" in doc:
        schema = doc["requestBody"]["content"]["application/json"]["schema"]
        for raw in NOT_AN_OBJECT:
            answer = with_body(path, method, raw, client)
            assert "InvalidRequestFormat" == refused(answer)[1], raw
        deep = b'{"a": ' * 100 + b"1" + b"}" * 100
        assert refused(with_body(path, method, deep, client))[0] == 400
        if "properties" in schema:
            # An undeclared field, also beside the declared ones.
            for body in ({"undeclared": 1}, {**dict.fromkeys(schema["properties"], 1), "x": 1}):
                answer = with_body(path, method, json.dumps(body).encode(), client)
                assert (400, "UnrecognizedField") == refused(answer), body
            # Each field with each value of a wrong type (or out of range), the others
            # valid where a valid value is known.
            valid = {
                "checkoutSessionId": session["checkoutSessionId"],
                "objectId": session["chargeId"],
                "event": "amazon_cancel",
                "fault": "duplicate",
            }
            for name, field in schema["properties"].items():
                for value in WRONG_VALUES:
                    if _fits(field, value):
                        continue
                    body = {k: v for k, v in valid.items() if k in schema["properties"]}
                    body[name] = value
                    answers.append(
                        (f"{name}={value!r:.40}", client.request(method, path, json=body))
                    )
        for name in ("checkoutSessionId", "objectId"):
            if name in schema.get("properties", {}):
                for unknown in ("S01-0000000-0000000", "", "../../v2", "%00", "é" * 300):
                    ids = {"checkoutSessionId": unknown, "objectId": unknown, "event": "x"}
                    sent = {k: v for k, v in ids.items() if k in schema["properties"]}
                    answer = client.request(method, path, json=sent)
                    assert refused(answer)[1] in {"ResourceNotFound", "InvalidParameterValue"}
    for query in ("since=-1", "since=abc", "since=1.5", "since=²", "since=١", "since=%zz"):
        answer = client.request(method, f"{path}?{query}")
        if doc["parameters"]:  # a declared query parameter: the odd value is refused
            assert (400, "InvalidParameterValue") == refused(answer), query
        else:  # any other query string is not read
            answers.append((query, answer))
    for query in ("since=" + "9" * 400, "a=1&a=2", "%ff=%fe", "&&=", "x" * 4000):
        answers.append((query, client.request(method, f"{path}?{query}")))
    for label, answer in answers:
        assert answer.status_code < 500, (label, answer.text)
        if answer.status_code >= 400:
            refused(answer)
        else:
            assert isinstance(answer.json(), dict | list), label


def _fits(field: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is one the field's schema allows (then it is no wrong value)."""
    kind = field.get("type")
    if "const" in field:
        return bool(value == field["const"] and isinstance(value, bool))
    if kind == "string":
        return isinstance(value, str) and ("enum" not in field or value in field["enum"])
    if kind == "array":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind in ("number", "integer"):
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or (kind == "integer" and not isinstance(value, int)):
            return False
        return bool(field.get("minimum", value) <= value <= field.get("maximum", value))
    return False


def test_every_wrong_value_of_a_body_field_is_refused(client: TestClient, sim: Simulator) -> None:
    # A tighter reading of the sweep for the fields that matter most: each wrong value is
    # a 400, named (not ignored, not a 500).
    checkout(sim)
    session = sim.create_checkout_session(session_body())["checkoutSessionId"]  # Open
    cases = [
        ("/_apfsm/clock/advance", {"days": value})
        for value in WRONG_VALUES
        if not _fits({"type": "number", "minimum": 0}, value)
    ] + [
        ("/_apfsm/clock/advance", {"days": 1e300}),
        ("/_apfsm/clock/advance", {"seconds": int("1" + "0" * 400)}),
        ("/_apfsm/clock/advance", {"weeks": 10**20}),
        ("/_apfsm/clock/advance", {"to": "not a time"}),
        ("/_apfsm/clock/advance", {"to": "2026-03-02T09:00:00"}),  # naive
        ("/_apfsm/clock/advance", {"to": "2020-01-01T00:00:00Z"}),  # the past
        ("/_apfsm/clock/advance", {"untilNextEvent": False}),
        ("/_apfsm/clock/advance", {"days": 1, "to": "2027-01-01T00:00:00Z"}),
        ("/_apfsm/clock/advance", {}),
        ("/_apfsm/buyer/approve", {"checkoutSessionId": session, "card": 1111}),
        ("/_apfsm/buyer/sign-in", {"scopes": "name"}),
        ("/_apfsm/buyer/sign-in", {"scopes": ["name", 7]}),
        ("/_apfsm/buyer/sign-in", {"scope": ["name"]}),  # a misspelt field
        ("/_apfsm/event", {"objectId": session, "event": "no_such_event"}),
        ("/_apfsm/event", {"objectId": session}),
        ("/_apfsm/ipn/faults", {"fault": "duplicate", "count": 0}),
        ("/_apfsm/ipn/faults", {"fault": "delay"}),
        ("/_apfsm/ipn/faults", {"fault": "explode"}),
        ("/_apfsm/reset", {"everything": True}),
    ]
    before = client.get("/_apfsm/clock").json()["now"]
    for path, body in cases:
        answer = client.post(path, json=body)
        assert 400 == refused(answer)[0], (path, body, answer.text)
    assert before == client.get("/_apfsm/clock").json()["now"]  # none of them moved it
    assert sim.object_ids()  # nor reset anything


def test_control_calls_in_the_wrong_state_are_amazon_errors(
    client: TestClient, sim: Simulator
) -> None:
    done = checkout(sim)  # a Completed session, an Authorized charge
    session, charge = done["checkoutSessionId"], done["chargeId"]
    permission = done["chargePermissionId"]
    cases = [
        ("/_apfsm/buyer/approve", {"checkoutSessionId": session}, 422),
        ("/_apfsm/buyer/cancel", {"checkoutSessionId": session}, 422),
        ("/_apfsm/event", {"objectId": session, "event": "amazon_cancel"}, 422),
        ("/_apfsm/event", {"objectId": charge, "event": "capture_completed"}, 422),
        ("/_apfsm/event", {"objectId": permission, "event": "payment_method_fixed"}, 422),
        # An event another object type declares, and a reason the event does not take.
        ("/_apfsm/event", {"objectId": permission, "event": "capture_completed"}, 400),
        (
            "/_apfsm/event",
            {"objectId": permission, "event": "payment_method_problem", "reason": "Nope"},
            400,
        ),
        ("/_apfsm/buyer/approve", {"checkoutSessionId": charge}, 404),  # not a session
    ]
    for path, body, status in cases:
        answer = client.post(path, json=body)
        assert status == refused(answer)[0], (path, body, answer.text)
    assert "Authorized" == sim.get_charge(charge)["statusDetails"]["state"]
    client.post("/_apfsm/reset")
    answer = client.post("/_apfsm/clock/advance", json={"untilNextEvent": True})
    assert (400, "InvalidRequest") == refused(answer)  # nothing is scheduled


def test_refused_control_calls_with_a_state_file_survive_a_restart(tmp_path: Path) -> None:
    # With --state, every control call is journaled, refused ones too: a restart replays
    # them and answers exactly as before (no refusal turns into a failed restart).
    path = tmp_path / "state.db"
    with TestClient(create_app(make_sim(), state=path), raise_server_exceptions=False) as client:
        # Over HTTP, so that the journal has it.
        headers = {"x-amz-pay-idempotency-key": "k-1"}
        session = client.post("/v2/checkoutSessions", json=session_body(), headers=headers)
        session_id = session.json()["checkoutSessionId"]
        client.post("/_apfsm/buyer/approve", json={"checkoutSessionId": session_id})
        done = client.post(
            f"/v2/checkoutSessions/{session_id}/complete",
            json={"chargeAmount": session_body()["paymentDetails"]["chargeAmount"]},
        ).json()
        session = done["checkoutSessionId"]
        bad = [
            ("/_apfsm/buyer/approve", {"checkoutSessionId": session, "card": 7}),
            ("/_apfsm/buyer/approve", {"checkoutSessionId": "S01-0000000-0000000"}),
            ("/_apfsm/buyer/sign-in", {"scopes": ["name", {"a": [1]}]}),
            ("/_apfsm/event", {"objectId": done["chargeId"], "event": "capture_completed"}),
            ("/_apfsm/event", {"objectId": "nope", "event": "amazon_cancel"}),
            ("/_apfsm/event", {"objectId": done["chargeId"], "event": "nope", "reason": "x"}),
            ("/_apfsm/clock/advance", {"weeks": 10**30}),
        ]
        for control_path, body in bad:
            refused(client.post(control_path, json=body))
        assert 200 == client.post("/_apfsm/clock/advance", json={"days": 2}).status_code
        before = client.get("/_apfsm/snapshot").json()
    with TestClient(create_app(state=path)) as restarted:
        assert before == restarted.get("/_apfsm/snapshot").json()


def test_ipn_faults_without_delivery_are_an_amazon_error(sim: Simulator) -> None:
    with TestClient(create_app(sim)) as client:
        for method in ("GET", "POST"):
            answer = client.request(method, "/_apfsm/ipn/faults", json={"fault": "duplicate"})
            assert (400, "InvalidRequest") == refused(answer)


# ---------------------------------------------------------------------------------------
# schemathesis over the control part of the document
# ---------------------------------------------------------------------------------------


def control_cases() -> Iterator[tuple[str, GenerationMode]]:
    for method, path in sorted(CONTROL):
        yield f"{method} {path}", GenerationMode.POSITIVE
        doc = CONTROL[method, path]
        if "requestBody" in doc or doc["parameters"]:
            yield f"{method} {path}", GenerationMode.NEGATIVE


@pytest.mark.parametrize(("label", "mode"), list(control_cases()), ids=str)
def test_schemathesis_finds_no_server_error_on_the_control_endpoints(
    label: str, mode: GenerationMode
) -> None:
    from apfsm.server import running

    method, path = label.split(" ", 1)
    sim = make_sim()
    with running(create_app(sim, notify_url=DEAD_RECEIVER, notify_attempts=1)) as url:
        operation = schemathesis.openapi.from_url(f"{url}/openapi.json")[path][method]

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=30,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
        )
        def check(case: Any) -> None:
            if not sim.object_ids():
                checkout(sim)  # something to act on, again after a generated reset
            response = case.call(base_url=url)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                refused(response)
            elif mode is GenerationMode.POSITIVE:
                case.validate_response(response, checks=[response_schema_conformance])

        check()


# Finite floats: the test client cannot send inf or NaN as JSON (it raises before sending).
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)


@given(
    st.dictionaries(
        st.sampled_from(["days", "weeks", "seconds", "to", "untilNextEvent"]) | st.text(max_size=5),
        SCALARS | st.lists(SCALARS, max_size=2),
        max_size=3,
    )
)
@settings(max_examples=60, database=None, deadline=None)
def test_any_advance_body_is_an_answer_or_an_amazon_error(body: dict[str, Any]) -> None:
    with TestClient(create_app(make_sim()), raise_server_exceptions=False) as client:
        answer = client.post("/_apfsm/clock/advance", json=body)
    assert answer.status_code < 500, (body, answer.text)
    if answer.status_code >= 400:
        refused(answer)
    else:
        assert {"now"} == set(answer.json())
