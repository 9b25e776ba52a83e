"""schemathesis in stateful mode (issue 16 item 6): sequences of calls chained by the
OpenAPI document's links (a created session's id into get/update/complete, a completion's
charge into capture, a charge into refunds...), against a real server over loopback, each
answer checked: never a 5xx but the simulated ``ProcessingFailure``, errors in Amazon's
shape with the catalog's status, successes matching the document.

``APFSM_RELIABILITY=1`` runs a longer campaign (figures in docs/server.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.stateful import run_state_machine_as_test  # noqa: E402

from apfsm._spec import ERRORS  # noqa: E402
from apfsm.server import create_app, running  # noqa: E402
from tests.simhelpers import make_sim  # noqa: E402

LONG = os.environ.get("APFSM_RELIABILITY") == "1"
CALLS: list[tuple[str, int]] = []  # (operation label, status) of every call made


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("stateful") / "state.db"
    with running(create_app(make_sim(seed="stateful"), state=path)) as url:
        yield url


def test_stateful_sequences_along_the_links_get_only_documented_answers(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    machine = schema.as_state_machine()

    class Linked(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": server}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            CALLS.append((f"{case.method} {case.path}", response.status_code))
            body = response.json()
            if response.status_code >= 400:
                assert {"reasonCode", "message"} == set(body), body
                assert ERRORS[body["reasonCode"]].http_status == response.status_code, body
            if response.status_code >= 500:
                assert "ProcessingFailure" == body["reasonCode"], body
            case.validate_response(
                response, checks=[status_code_conformance, response_schema_conformance]
            )

    run_state_machine_as_test(
        Linked,
        settings=settings(
            max_examples=300 if LONG else 25,
            stateful_step_count=10,
            deadline=None,
            database=None,
            derandomize=not LONG,
            suppress_health_check=list(HealthCheck),
        ),
    )
    operations = {label for label, _ in CALLS}
    # The links were followed: calls on objects the sequence created, not only creates.
    assert any(label.endswith("/complete") for label in operations), operations
    assert any("{chargeId}" in label for label in operations), operations
    if LONG:
        print(f"stateful: {len(CALLS)} calls, {len(operations)} operations, statuses "
              f"{sorted({status for _, status in CALLS})}")  # fmt: skip
