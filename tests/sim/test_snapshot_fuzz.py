"""Snapshots validated in full on load (issue 16): a valid snapshot with one field mutated
at random either loads into a simulator that works (every object answers a GET, the clock
moves, it snapshots again), or is refused with a ``ValueError`` naming the field — never a
later crash; over HTTP, ``PUT /_apfsm/snapshot`` answers 200 or a 400 in Amazon's shape."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apfsm import ApiError, Simulator
from apfsm._sim.snapcheck import SnapshotError
from tests.simhelpers import checkout, make_sim, price

GETS = {
    "CheckoutSession": "get_checkout_session",
    "ChargePermission": "get_charge_permission",
    "Charge": "get_charge",
    "Refund": "get_refund",
    "Dispute": "get_dispute",
    "Buyer": "get_buyer",
}
#: The Node SDK README's "Contest Dispute API" body.
CONTEST = {
    "merchantEvidences": [
        {
            "evidenceType": "TrackingNumber",
            "fileId": "20ca8c0f-3778-1b5a-8598-3d38cfdc4bde",
            "evidenceText": "raw text supporting merchant evidence",
        }
    ]
}
#: A report type the base snapshot's schedule uses (reports.html's settlement report).
SETTLEMENT = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_SETTLEMENT_DATA_"


@functools.cache
def valid() -> str:
    """A snapshot with every object type (a dispute, a signed-in buyer among them), pending
    events, keys, notifications, a log, reports (one finished with its document, one in
    progress) and a report schedule."""
    sim = make_sim(seed="fuzz")
    first = checkout(sim)["chargeId"]
    sim.capture_charge(
        first, {"captureAmount": price("100.00")}, idempotency_key="cap", simulation_code=None
    )
    sim.create_refund({"chargeId": first, "refundAmount": price("5.00")}, idempotency_key="r")
    second = checkout(sim, "20.00")["chargeId"]
    sim.capture_charge(
        second, {"captureAmount": price("20.00")}, simulation_code="CaptureInitiated"
    )
    filed = sim.file_dispute(first, amount="10.00")["disputeId"]
    sim.contest_dispute(filed, CONTEST)  # UnderReview, with the merchant's evidences
    sim.create_dispute(  # the Java SDK README's createDisputePayload, in this charge's USD
        {
            "chargeId": first,
            "providerMetadata": {"providerDisputeId": "psp_dispute_1234"},
            "disputeAmount": price("1.00"),
            "filingReason": "ProductNotReceived",
            "statusDetails": {
                "state": "ActionRequired",
                "reasonCode": "MerchantResponseRequired",
                "reasonDescription": "Merchant needs to provide a response",
            },
        }
    )
    sim.buyer_sign_in(scopes=["name", "email", "shippingAddress"])
    checkout(sim, "7.00")  # a charge left Authorized: its authorization expires
    sim.reports.create_report(
        {"reportType": SETTLEMENT, "startTime": "20260301T000000Z", "endTime": "20260303T000000Z"},
        idempotency_key="report-1",
    )
    with pytest.raises(ApiError):  # kept with its key: the refusal replays
        sim.reports.create_report({"reportType": "_NOPE_"}, idempotency_key="report-2")
    sim.reports.create_report_schedule(
        {"reportType": SETTLEMENT, "scheduleFrequency": "P30D"}, idempotency_key="schedule-1"
    )
    sim.advance(timedelta(hours=1))
    sim.reports.create_report(
        {"reportType": SETTLEMENT, "startTime": "20260301T000000Z", "endTime": "20260302T000000Z"}
    )
    snapshot = sim.snapshot()
    kinds = {item["type"] for item in snapshot["objects"]}
    assert {"Dispute", "Buyer"} <= kinds, kinds
    states = {(item["type"], item["state"]) for item in snapshot["objects"]}
    assert ("Charge", "Authorized") in states, states
    extras = [item["extra"] for item in snapshot["objects"] if item["type"] == "Dispute"]
    assert {"merchantEvidences", "reportedStatus"} <= {key for e in extras for key in e}, extras
    statuses = {entry[5] for entry in snapshot["reports"]["reports"]}
    assert {"COMPLETED", "IN_PROGRESS"} <= statuses, statuses
    assert snapshot["reports"]["schedules"]
    assert {"create_report", "create_report_schedule"} == set(snapshot["reports"]["keys"])
    return json.dumps(snapshot)


WEIRD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(
        [
            "",
            "x",
            "NaN",
            "-1.00",
            "1e999",
            "12345678901234567890.00",
            "2026-03-02T09:00:00",
            "2026-13-45T09:00:00+00:00",
            "Open",
            "Closed",
            "Charge",
            "Nope",
            "timer",
            "expire",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["a", "type", "id"]), st.integers(), max_size=2),
    st.floats(allow_nan=False),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(paths(item, (*prefix, index)))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    snapshot = json.loads(valid())
    # Skip the log and notifications' insides mostly: they are copied, not interpreted.
    candidates = [p for p in paths(snapshot) if p and p[0] not in ("log", "notifications")]
    candidates += [("log",), ("notifications",), ("log", 0), ("log", 0, "seq")]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(candidates))
        parent: Any = snapshot
        try:
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(last, None)
            elif action == "add" and isinstance(parent, dict):
                parent["unexpected"] = draw(WEIRD)
            elif action == "add" and isinstance(parent, list):
                parent.append(copy.deepcopy(draw(WEIRD)))
            else:
                parent[last] = draw(WEIRD)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    return dict(snapshot)


def exercise_reports(sim: Simulator) -> None:
    """Every report, document and schedule the simulator holds answers its GET."""
    book = sim.reports
    for report in book.get_reports({"pageSize": 100})["reports"]:
        assert report == book.get_report(report["reportId"])
        if report["reportDocumentId"] is not None:
            book.get_report_document(report["reportDocumentId"])
    for schedule in book.get_report_schedules()["reportSchedules"]:
        assert schedule == book.get_report_schedule(schedule["reportScheduleId"])


def exercise(sim: Simulator) -> None:
    # What was overdue at the snapshot's instant (a record created long before) falls due
    # first: a GET of what that deletes is rightly ResourceNotFound.
    sim.advance(timedelta(0))
    for object_id in sim.object_ids():
        kind = sim.object_type(object_id)
        assert kind is not None
        assert sim.object_json(object_id) is not None
        answer: Any = None
        try:
            answer = sim.request(GETS[kind], object_id).status
        except ApiError as refused:  # a snapshot's shorter limit may have ended it
            answer = refused.reason_code
        assert answer in (200, "ResourceNotFound"), answer
    exercise_reports(sim)
    for dispute in sim.object_ids("Dispute"):  # Contest Dispute reads its evidences
        with contextlib.suppress(ApiError):  # refused unless ActionRequired
            sim.request("contest_dispute", dispute, CONTEST)
    sim.advance(timedelta(days=400))  # every pending event falls due
    exercise_reports(sim)
    for object_id in sim.object_ids():
        kind = sim.object_type(object_id)
        assert kind is not None
        with contextlib.suppress(ApiError):  # retention may have deleted it meanwhile
            sim.request(GETS[kind], object_id)
    json.dumps(sim.snapshot())


def test_the_valid_snapshot_loads_and_works() -> None:
    exercise(Simulator.restore(json.loads(valid())))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_snapshot_loads_and_works_or_is_refused_with_its_path(
    snapshot: dict[str, Any],
) -> None:
    refused: ValueError | None = None
    try:
        sim = Simulator.restore(snapshot)
    except ValueError as exc:
        refused = exc
    if refused is None:
        exercise(sim)
    elif isinstance(refused, SnapshotError):
        top = refused.path.split("[")[0].split(".")[0]
        names = ("now", "limits", "merchantId", "idSeed", "counters", "objects", "queue")
        assert top in (*snapshot, *names, "idempotency", "notifications", "log")
        assert refused.path in str(refused)
    else:  # the envelope: format or version
        assert "snapshot" in str(refused)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: s["objects"][2].__setitem__("amount", "ten"), "objects[2].amount"),
        (lambda s: s["objects"][0].__setitem__("state", "Nope"), "objects[0].state"),
        (lambda s: s["objects"][0].__setitem__("type", "Coupon"), "objects[0].type"),
        (lambda s: s["objects"][0].__setitem__("reason", "Whatever"), "objects[0].reason"),
        (
            lambda s: s["objects"][0].__setitem__("created_at", "2026-03-02T09:00:00"),
            "objects[0].created_at",
        ),
        (
            lambda s: s["objects"][2].__setitem__("charge_permission_id", "S01-1"),
            "objects[2].charge_permission_id",
        ),
        (lambda s: s["queue"][0][4].__setitem__(2, "explode"), "queue[0][4]"),
        (lambda s: s["counters"].__setitem__("id", "7"), "counters.id"),
        # tests/test_no_500.py found this one: loaded, the next IPN failed with a 500.
        (lambda s: s["counters"].pop("notification"), "counters.notification"),
        (lambda s: s.__setitem__("now", "yesterday"), "now"),
    ],
)
def test_each_kind_of_fault_is_named_by_its_path(change: Any, path: str) -> None:
    snapshot = json.loads(valid())
    change(snapshot)
    with pytest.raises(SnapshotError) as refused:
        Simulator.restore(snapshot)
    assert path == refused.value.path
    assert path in str(refused.value)


def _first(snapshot: dict[str, Any], kind: str) -> int:
    """The first object of ``kind`` (a Charge: the one Authorized)."""
    return next(
        n
        for n, item in enumerate(snapshot["objects"])
        if item["type"] == kind and (kind != "Charge" or item["state"] == "Authorized")
    )


@pytest.mark.parametrize(
    ("kind", "field", "value", "suffix"),
    [
        # Loaded, these failed every later GET of the dispute and every clock call (a 500).
        ("Dispute", "action_required_at", None, ""),
        ("Dispute", "action_required_at", "delete", ""),
        ("Dispute", "dispute_type", "Nope", ""),
        ("Dispute", "filing_reason", "", ""),
        ("Dispute", "resolution", "Lost", ""),
        ("Dispute", "charge_permission_id", "S01-0000000-0000000", ""),
        ("Dispute", "extra", {"reportedStatus": "x"}, ".reportedStatus"),
        ("Dispute", "extra", {"merchantEvidences": {}}, ".merchantEvidences"),
        # Loaded, these failed Get Buyer (a 500).
        ("Buyer", "scopes", [""], "[0]"),
        ("Buyer", "scopes", ["name", "nonsense"], "[1]"),
        ("Buyer", "created_at", "9999-12-31T00:00:00+00:00", ""),
        # tests/test_no_500.py found it (main's base snapshot): loaded, the charge's expiry
        # failed every later settle (a 500).
        ("Charge", "authorized_at", None, ""),
    ],
)
def test_each_fault_of_a_newer_record_is_named_by_its_path(
    kind: str, field: str, value: Any, suffix: str
) -> None:
    snapshot = json.loads(valid())
    n = _first(snapshot, kind)
    if value == "delete":
        del snapshot["objects"][n][field]
    else:
        snapshot["objects"][n][field] = value
    with pytest.raises(SnapshotError) as refused:
        Simulator.restore(snapshot)
    assert f"objects[{n}].{field}{suffix}" == refused.value.path


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: b.__setitem__("next", -1), "reports.next"),
        (lambda b: b.__setitem__("schedules", {}), "reports.schedules"),
        (lambda b: b["reports"][0].pop(), "reports.reports[0]"),
        (lambda b: b["reports"][0].__setitem__(1, "_GET_NOTHING_"), "reports.reports[0][1]"),
        (lambda b: b["reports"][0].__setitem__(1, ["x"]), "reports.reports[0][1]"),
        # Loaded, a report created at the end of time failed every later call (a 500).
        (
            lambda b: b["reports"][0].__setitem__(4, "9999-12-31T00:00:00+00:00"),
            "reports.reports[0][4]",
        ),
        (lambda b: b["reports"][0].__setitem__(5, "DONE"), "reports.reports[0][5]"),
        (lambda b: b["reports"][1].__setitem__(7, "amzn1.tortuga.0.1.1"), "reports.reports[1][7]"),
        (lambda b: b["schedules"][0].__setitem__(2, "P5D"), "reports.schedules[0][2]"),
        (lambda b: b["schedules"][0].__setitem__(3, None), "reports.schedules[0][3]"),
        (lambda b: b.__setitem__("keys", []), "reports.keys"),
        (lambda b: b["keys"].__setitem__("get_report", {}), "reports.keys.get_report"),
        # Loaded, an answer that is not an object failed the key's replay (a 500).
        (
            lambda b: b["keys"]["create_report"]["report-1"].__setitem__(1, "x"),
            "reports.keys.create_report['report-1'][1]",
        ),
        (
            lambda b: b["keys"]["create_report"]["report-2"].__setitem__(2, ["Nope", "x"]),
            "reports.keys.create_report['report-2'][2]",
        ),
        (  # found by a longer random run: a TypeError (unhashable) in the check itself
            lambda b: b["keys"]["create_report"]["report-2"].__setitem__(2, [{}, "x"]),
            "reports.keys.create_report['report-2'][2]",
        ),
    ],
)
def test_each_fault_of_a_report_or_schedule_is_named_by_its_path(change: Any, path: str) -> None:
    snapshot = json.loads(valid())
    assert "COMPLETED" == snapshot["reports"]["reports"][0][5]  # as the changes expect
    assert "IN_PROGRESS" == snapshot["reports"]["reports"][1][5]
    change(snapshot["reports"])
    with pytest.raises(SnapshotError) as refused:
        Simulator.restore(snapshot)
    assert path == refused.value.path


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_control_api_answers_a_mutated_snapshot_with_200_or_a_400(
    snapshot: dict[str, Any],
) -> None:
    from starlette.testclient import TestClient

    from apfsm.server import create_app

    with TestClient(create_app(make_sim())) as client:
        # Sent as Python's json writes it: an infinite float becomes the token Infinity,
        # which is not JSON (InvalidRequestFormat); everything else is read and checked.
        text = json.dumps(snapshot)
        answer = client.put(
            "/_apfsm/snapshot", content=text, headers={"content-type": "application/json"}
        )
        assert answer.status_code in (200, 400), answer.text
        if answer.status_code == 400:
            assert {"reasonCode", "message"} == set(answer.json())
            expected = "InvalidRequestFormat" if "Infinity" in text else "InvalidParameterValue"
            assert expected == answer.json()["reasonCode"]
        else:
            exercise(client.app.state.simulator)  # type: ignore[attr-defined]


#: What the sweep puts in each field: the values a foreign or damaged file holds most.
ODD: tuple[Any, ...] = (
    None,
    "",
    "nonsense",
    0,
    -1,
    True,
    [],
    {},
    [""],
    {"state": 1},
    "9999-12-31T00:00:00+00:00",
)


def sweep_paths(snapshot: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every field of every stored object (one level into its dicts), every slot of the
    reports' entries and of a queue entry, every limit, counter and idempotency entry's
    field, a log record's and a notification's, and the top level's."""
    out: list[tuple[Any, ...]] = [(key,) for key in snapshot]
    for n, item in enumerate(snapshot["objects"]):
        for name, value in item.items():
            out.append(("objects", n, name))
            if isinstance(value, dict):
                out += [("objects", n, name, key) for key in value]
    book = snapshot["reports"]
    out += [("reports", key) for key in book]
    for name, keys in book["keys"].items():
        out.append(("reports", "keys", name))
        for key, entry in keys.items():
            out += [("reports", "keys", name, key, i) for i in range(len(entry))]
    for key in ("reports", "schedules"):
        for n, entry in enumerate(book[key]):
            out += [("reports", key, n, i) for i in range(len(entry))]
    out += [("queue", 0, i) for i in range(5)]
    out += [("queue", 0, 4, i) for i in range(len(snapshot["queue"][0][4]))]
    for key in ("limits", "counters"):
        out += [(key, name) for name in snapshot[key]]
    for n, entry in enumerate(snapshot["idempotency"]):
        out += [("idempotency", n, name) for name in entry]
    for key in ("log", "notifications"):
        out += [(key, 0, name) for name in snapshot[key][0]]
    return out


def test_every_field_of_every_record_loads_and_works_or_is_refused() -> None:
    """Each field of each object type (a Dispute's, a Buyer's, a report's and a schedule's
    among them), set to each odd value or deleted: loaded, the simulator works — or the
    load is refused naming that field. (A Dispute's null action_required_at and a Buyer's
    unknown scope loaded, then every GET of them failed.)"""
    base = json.loads(valid())
    faults = []
    for path in sweep_paths(base):
        for value in (*ODD, "delete"):
            snapshot = copy.deepcopy(base)
            parent: Any = snapshot
            for step in path[:-1]:
                parent = parent[step]
            if value == "delete":
                if isinstance(parent, list):
                    continue
                del parent[path[-1]]
            else:
                parent[path[-1]] = copy.deepcopy(value)
            try:
                sim = Simulator.restore(snapshot)
            except ValueError:
                continue  # refused: what a damaged file should get
            except Exception as exc:
                faults.append(f"{path} = {value!r}: restore raised {exc!r}")
                continue
            try:
                exercise(sim)
            except Exception as exc:
                faults.append(f"{path} = {value!r}: {exc!r}")
    assert [] == faults, "\n".join(faults)


def test_a_record_whose_deadline_cannot_be_computed_is_refused_at_load() -> None:
    """The net under the field rules (``snapshots._deadlines``): a record in a state with a
    timer whose deadline fails is refused, naming the record — whatever field it lacks."""
    from apfsm import Limits
    from apfsm._sim.records import ChargeRecord
    from apfsm._sim.snapshots import _deadlines
    from tests.simhelpers import T0

    charge = ChargeRecord(id="c", seq=1, created_at=T0, updated_at=T0, state="Authorized")
    with pytest.raises(SnapshotError) as refused:
        _deadlines([charge], Limits())
    assert "objects[0]" == refused.value.path
    assert "expire deadline of a Charge Authorized" in str(refused.value)
