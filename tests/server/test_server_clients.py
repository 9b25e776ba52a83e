"""The server proven with clients nobody here wrote (issue 6, item 7), and ``apfsm serve``.

- ``AmazonPayClient`` (PyPI, an independent Python client of API v2), signing with a key
  whose public half the server verifies;
- the official Node SDK ``@amazonpay/amazon-pay-api-sdk-nodejs`` over ``--tls`` (skipped
  only where ``node``/``npm`` are missing; installed once into a cache directory outside the
  repository, ``$APFSM_NODE_CACHE`` or ``~/.cache/apfsm``);
- schemathesis, generating requests from ``/openapi.json``.

Every server here is started by the test on a free loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import response_schema_conformance, status_code_conformance

from apfsm import ERRORS, OPERATIONS, Simulator
from apfsm.server import create_app, openapi, running
from tests.simhelpers import make_sim, serve_with_state, state

from .serverhelpers import new_key, price, private_pem, public_pem, session_body, until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def key_files(
    key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("keys")
    (directory / "private.pem").write_bytes(private_pem(key))
    (directory / "public.pem").write_bytes(public_pem(key))
    return directory / "private.pem", directory / "public.pem"


# ---------------------------------------------------------------------------------------
# AmazonPayClient (PyPI)
# ---------------------------------------------------------------------------------------


@pytest.fixture
def signed_server(key: rsa.RSAPrivateKey) -> Iterator[tuple[str, Simulator]]:
    sim = make_sim()
    with running(create_app(sim, public_key=public_pem(key))) as url:
        yield url, sim


def amazon_pay_client(url: str, private_key: Path, key_id: str = "SANDBOX-AEXAMPLEKEY") -> Any:
    from AmazonPay import Client

    # Its region "us" is broken in 2.0.1 (KeyError); "na" is the same endpoint. Pointing it
    # at apfsm is one attribute: the endpoint.
    client = Client(public_key_id=key_id, private_key=str(private_key), region="na", sandbox=True)
    client.endpoint = url
    return client


def test_amazon_pay_client_full_order(
    signed_server: tuple[str, Simulator], key_files: tuple[Path, Path]
) -> None:
    url, sim = signed_server
    # A key id without the LIVE/SANDBOX prefix makes the client call /sandbox/v2/...
    for key_id in ("SANDBOX-AEXAMPLEKEY", "AEXAMPLEKEY"):
        client = amazon_pay_client(url, key_files[0], key_id)
        created = client.create_checkout_session(session_body("149.99"))
        assert 201 == created.status_code, created.text
        sid = created.json()["checkoutSessionId"]
        control = httpx2.post(f"{url}/_apfsm/buyer/approve", json={"checkoutSessionId": sid})
        assert 200 == control.status_code
        assert [] == client.get_checkout_session(sid).json()["constraints"]
        done = client.complete_checkout_session(sid, {"chargeAmount": price("149.99")})
        assert (200, "Completed") == (done.status_code, state(done.json()))
        charge_id = done.json()["chargeId"]
        captured = client.capture_charge(charge_id, {"captureAmount": price("149.99")})
        assert (200, "Captured") == (captured.status_code, state(captured.json()))
        refund = client.create_refund({"chargeId": charge_id, "refundAmount": price("20.00")})
        assert (201, "RefundInitiated") == (refund.status_code, state(refund.json()))
        httpx2.post(f"{url}/_apfsm/clock/advance", json={"seconds": 30})
        assert "Refunded" == state(client.get_refund(refund.json()["refundId"]).json())
        charge = client.get_charge(charge_id).json()
        assert {"amount": "20.00", "currencyCode": "USD"} == charge["refundedAmount"]
        # A refused call surfaces Amazon's status and error body to the client.
        again = client.capture_charge(charge_id, {"captureAmount": price("1.00")})
        assert 422 == again.status_code
        assert "InvalidChargeStatus" == again.json()["reasonCode"]
        assert {"reasonCode", "message"} == set(again.json())
    assert 2 == len(sim.object_ids("Refund"))


def test_amazon_pay_client_request_sent_twice_is_one_object(
    signed_server: tuple[str, Simulator],
    key_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import AmazonPay.client

    url, sim = signed_server
    sent: list[tuple[Any, ...]] = []
    send = AmazonPay.client.requests.request

    def recording(method: str, target: str, **kwargs: Any) -> Any:
        sent.append((method, target, kwargs))
        return send(method, target, **kwargs)

    monkeypatch.setattr(AmazonPay.client.requests, "request", recording)
    client = amazon_pay_client(url, key_files[0])
    first = client.create_checkout_session(session_body("10.00"))
    # The same signed request again, byte for byte (a network retry): a replay.
    method, target, kwargs = sent[0]
    assert kwargs["headers"]["X-Amz-Pay-Idempotency-Key"]
    second = send(method, target, **kwargs)
    assert (201, first.json()) == (second.status_code, second.json())
    assert 1 == len(sim.object_ids("CheckoutSession"))
    assert [False, True] == [record.replayed for record in sim.log]


def test_amazon_pay_client_signing_with_another_key_is_refused(
    signed_server: tuple[str, Simulator], tmp_path: Path
) -> None:
    url, sim = signed_server
    other = tmp_path / "other.pem"
    other.write_bytes(private_pem(new_key()))
    answer = amazon_pay_client(url, other).create_checkout_session(session_body())
    assert (403, "InvalidRequestSignature") == (answer.status_code, answer.json()["reasonCode"])
    assert 0 == len(sim)


# ---------------------------------------------------------------------------------------
# apfsm serve, as a process
# ---------------------------------------------------------------------------------------


#: What each served process printed after its first line, by pid.
ACCESS_LINES: dict[int, list[str]] = {}


@contextmanager
def serve(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``apfsm serve --port 0 ARGS``; yields its URL (from its first line) once it answers."""
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "apfsm", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "simulator on" not in first:
            process.wait(30)
            log.seek(0)
            pytest.fail(f"apfsm serve did not start: {first}{log.read()}")
        url = first.split()[-1]
        # Keep reading what it prints (its start-up lines, a line per request): a pipe
        # nobody reads would fill and stall the server.
        lines = ACCESS_LINES.setdefault(process.pid, [])
        stdout = process.stdout
        threading.Thread(target=lambda: lines.extend(stdout), daemon=True).start()

        def answers() -> bool:
            try:
                return httpx2.get(f"{url}/openapi.json", verify=False).status_code == 200
            except httpx2.TransportError:
                return False

        until(answers)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        if process.stdout is not None:
            process.stdout.close()
        log.close()


def test_serve_keeps_state_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with serve("--state", str(path)) as (url, process):
        created = httpx2.post(
            f"{url}/v2/checkoutSessions",
            json=session_body(),
            headers={"x-amz-pay-idempotency-key": "restart-1"},
        )
        assert 201 == created.status_code
        process.send_signal(signal.SIGTERM)  # a graceful shutdown writes the state file
        process.wait(30)
    assert path.is_file()
    with serve("--state", str(path)) as (url, _):
        sid = created.json()["checkoutSessionId"]
        assert created.json() == httpx2.get(f"{url}/v2/checkoutSessions/{sid}").json()
        replay = httpx2.post(
            f"{url}/v2/checkoutSessions",
            json=session_body(),
            headers={"x-amz-pay-idempotency-key": "restart-1"},
        )
        assert created.json() == replay.json()  # idempotency keys survive the restart


def test_serve_logs_a_line_per_request_and_starts_at_the_given_instant() -> None:
    with serve("--start", "2030-06-01T09:00:00Z", "--seed", "5") as (url, process):
        clock = httpx2.get(f"{url}/_apfsm/clock").json()
        assert "20300601T090000Z" == clock["now"]
        httpx2.get(f"{url}/v2/charges/S01-0000000-0000000-C000000")
        until(lambda: any("/v2/charges/" in line for line in ACCESS_LINES[process.pid]))
        line = next(x for x in ACCESS_LINES[process.pid] if "/v2/charges/" in x)
        assert '"GET /v2/charges/S01-0000000-0000000-C000000 HTTP/1.1" 404' in line
        process.terminate()
        process.wait(30)
    with serve("--no-access-log") as (url, process):
        httpx2.get(f"{url}/v2/charges/S01-0000000-0000000-C000000")
        process.terminate()
        process.wait(30)
        assert not any("/v2/charges/" in line for line in ACCESS_LINES[process.pid])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "yesterday"], "not an instant with a UTC offset"),
        (["--public-key", "/no/such.pem"], "No such file or directory"),
        (["--notify-url", "ftp://x"], "notify_url must be an http:// or https:// URL"),
        (["--host", "203.0.113.1"], "error: "),  # not an address of this machine
    ],
)
def test_serve_refuses_bad_settings(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "apfsm", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert 2 == result.returncode
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_state_file_that_is_not_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"format": "something else"}', encoding="utf-8")
    result = serve_with_state(path)
    assert 2 == result.returncode
    assert "is neither an apfsm SQLite state nor a simulator snapshot" in result.stderr


# ---------------------------------------------------------------------------------------
# The official Node SDK, over TLS
# ---------------------------------------------------------------------------------------

NODE_SDK = "@amazonpay/amazon-pay-api-sdk-nodejs"
NODE_SDK_VERSION = "2.3.4"


def node_sdk() -> Path:
    """The SDK's node_modules, installed once into the cache directory."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the official Node SDK cannot run here")
    default = Path.home() / ".cache" / "apfsm" / f"node-sdk-{NODE_SDK_VERSION}"
    cache = Path(os.environ.get("APFSM_NODE_CACHE") or default)
    modules = cache / "node_modules"
    if not (modules / NODE_SDK / "package.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                *("npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund"),
                *("--loglevel=error", f"{NODE_SDK}@{NODE_SDK_VERSION}"),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert 0 == result.returncode, f"npm could not install {NODE_SDK}:\n{result.stderr}"
    return modules


def test_official_node_sdk_over_tls(key_files: tuple[Path, Path]) -> None:
    modules = node_sdk()
    private, public = key_files
    with serve("--tls", "--public-key", str(public)) as (url, _):
        assert url.startswith("https://")
        for algorithm, order in (
            ("AMZN-PAY-RSASSA-PSS-V2", "node-v2"),
            ("AMZN-PAY-RSASSA-PSS", "node-v1"),
        ):
            env = {
                **os.environ,
                "NODE_PATH": str(modules),
                "APFSM_HOST": url.removeprefix("https://"),
                "APFSM_PRIVATE_KEY": str(private),
                "APFSM_ALGORITHM": algorithm,
                "APFSM_ORDER": order,
            }
            result = subprocess.run(
                ["node", str(ROOT / "tests" / "server" / "node" / "sdk_flow.js")],
                capture_output=True,
                text=True,
                check=False,
                env=env,
                timeout=120,
            )
            assert 0 == result.returncode, result.stderr
            out = json.loads(result.stdout)
            assert (201, 201) == (out["create"]["status"], out["retry"]["status"])
            assert out["create"]["id"] == out["retry"]["id"]  # the retry was a replay
            assert (200, []) == (out["get"]["status"], out["get"]["constraints"])
            assert {"status": 200, "state": "Completed"} == out["complete"]
            assert {"status": 200, "state": "Captured"} == out["capture"]
            assert {"status": 201, "state": "RefundInitiated"} == out["refund"]
            assert {"status": 200, "state": "Refunded"} == out["refunded"]
            assert {"amount": "9.99", "currencyCode": "USD"} == out["charge"]["refundedAmount"]
            assert 422 == out["recapture"]["status"]
            assert "InvalidChargeStatus" == out["recapture"]["data"]["reasonCode"]
            assert {"status": 200, "state": "Closed"} == out["permission"]
            # https://developer.amazon.com/docs/amazon-pay-api-v2/delivery-tracker.html
            details = [{"trackingNumber": "1Z999AA10123456784", "carrierCode": "UPS"}]
            assert (
                200,
                {"chargePermissionId": out["tracker"]["id"], "deliveryDetails": details},
            ) == (
                out["tracker"]["status"],
                out["tracker"]["data"],
            )
            # Finalize (Buy Now / mobile), the SDK's finalizeCheckoutSession (src/client.js;
            # tst/webStoreClientTest.js expects 200 and a Checkout Session): the body's
            # AuthorizeWithCapture captures, whatever the session's intent was.
            assert {"status": 200, "state": "Completed", "charge": "Captured"} == out["finalize"]
            # Get Buyer: tst/webStoreClientTest.js validateGetBuyerResponse asserts 200 and a
            # buyerId starting amzn1.account. (both signing algorithms, as here).
            assert (200, 200, "Sandbox Buyer") == (
                out["buyer"]["signIn"],
                out["buyer"]["status"],
                out["buyer"]["name"],
            )
            assert out["buyer"]["buyerId"].startswith("amzn1.account.")
            # The SDK's other WebStore calls on a Confirm checkout's permission (src/client.js
            # updateCheckoutSession, createCharge, updateCharge, cancelCharge,
            # updateChargePermission, closeChargePermission).
            assert {"status": 200, "note": "Thanks"} == out["updateSession"]
            assert {
                "confirm": [200, None],
                "createCharge": [201, "Authorized"],
                "updateCharge": [200, "Canceled", "ExpiredUnused"],
                "cancelCharge": [200, "Canceled", "MerchantCanceled"],
                "updatePermission": [200, "apfsm shop"],
                "closePermission": [200, "Closed"],
            } == out["permissionCalls"]
            # Disputes (SDK 2.3.2+; docs/dispute.md): every call answers 200, as
            # tst/webStoreClientTest.js validateDisputeAPIResponse / validateFileAPIResponse
            # expect; the buyer's filing comes from the control API. The test's own order,
            # create, get, update to Resolved, contest: the contest reopens the Resolved
            # dispute, UnderReview, its resolution cleared (a Decision).
            assert {
                "filed": [200, "ActionRequired"],
                "upload": [200, "disputeEvidence", True],
                "contest": [200, "UnderReview"],
                "get": [200, "Chargeback", 1],
                "create": [200, "ActionRequired", "A2CQXQ2TUSYG7J"],
                "getReported": [200, "ActionRequired"],
                "update": [200, "Resolved", "MerchantWon"],
                "contestResolved": [200, "UnderReview", None, 1],
                "keys": True,
            } == out["disputes"]
            # Reports (docs/reports.md): the SDK's eight report calls; 201 on both creates
            # and the key lists in the order tst/webStoreClientTest.js compares them.
            reports = out["reports"]
            report_keys = [
                *("createdTime", "endTime", "processingEndTime", "processingStartTime"),
                *("processingStatus", "reportDocumentId", "reportId", "reportType", "startTime"),
            ]
            assert (201, 201, 200) == (
                reports["create"],
                reports["createSchedule"],
                reports["cancel"],
            )
            assert [200, "COMPLETED", report_keys] == reports["get"]
            assert [200, "N/A", True] == reports["document"]
            assert [200, True] == reports["list"]
            assert 200 == reports["schedules"][0]
            assert 1 == len(reports["schedules"][1])
            schedule_keys = ["nextReportCreationTime", "reportScheduleId", "reportType"]
            assert [200, [*schedule_keys, "scheduleFrequency"], True] == reports["getSchedule"]
        log = httpx2.get(f"{url}/_apfsm/log", verify=False).json()
        created = [r for r in log if r["operation"] == "create_checkout_session"]
        # Per run: the session, its retry (a replay), the Buy Now session, the Confirm one.
        assert [False, True, False, False] * 2 == [r["replayed"] for r in created]
        # Every operation went through the SDK, with both algorithms (Get Buyer with a
        # token from the control API's sign-in).
        called = {r["operation"] for r in log} - {
            "buyer_approve",
            "buyer_sign_in",
            "file_dispute",
            "advance",
        }
        assert set(OPERATIONS) == called


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_control_api_from_javascript_beside_the_node_sdk(
    key_files: tuple[Path, Path],
) -> None:
    # Issue 13: the control endpoints driven from JavaScript (tests/server/node/
    # control_flow.js) — the clock read and moved by a duration, to an instant and to the
    # next event, Amazon-side and buyer events, an IPN fault — and the official SDK then
    # reads the state that follows (or Amazon's refusal).
    modules = node_sdk()
    private, public = key_files
    port = free_port()  # the script's IPN receiver
    start = ("--start", "2026-03-02T09:00:00Z", "--seed", "13")
    notify = ("--notify-url", f"http://127.0.0.1:{port}/ipn")
    with serve("--tls", "--public-key", str(public), *start, *notify) as (url, _):
        env = {
            **os.environ,
            "NODE_PATH": str(modules),
            "APFSM_HOST": url.removeprefix("https://"),
            "APFSM_PRIVATE_KEY": str(private),
            "APFSM_NOTIFY_PORT": str(port),
        }
        result = subprocess.run(
            ["node", str(ROOT / "tests" / "server" / "node" / "control_flow.js")],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=120,
        )
    assert 0 == result.returncode, result.stderr
    out = json.loads(result.stdout)
    assert {"now": "20260302T090000Z", "nextEventAt": None, "pendingEvents": []} == out["clock"]
    # SPEC §2: a checkout session expires 24 h after creation (and is deleted at 30 days).
    assert ["expire", "delete"] == [e["what"] for e in out["expiryScheduled"]]
    assert "20260303T090000Z" == out["expiryScheduled"][0]["at"]
    assert {"status": 200, "data": {"now": "20260303T090000Z"}} == out["advance24h"]
    assert ("Canceled", "Expired") == (out["expired"]["state"], out["expired"]["reasonCode"])
    assert 422 == out["completeExpired"]["status"]
    assert "InvalidCheckoutSessionStatus" == out["completeExpired"]["data"]["reasonCode"]
    # SPEC §2: a capture more than 7 days after authorization is CaptureInitiated, settled
    # by the next scheduled event.
    assert {"status": 200, "data": {"now": "20260311T090000Z"}} == out["advance8d"]
    assert "CaptureInitiated" == out["lateCapture"]
    assert "capture_completed" == out["nextEvent"]["what"]
    assert out["nextEvent"]["at"] == out["untilNext"]["data"]["now"]
    assert "Captured" == out["captured"]
    # Amazon's side (POST /_apfsm/event) as the SDK then sees it.
    assert {"status": 200, "state": "NonChargeable"} == out["problem"]
    assert "NonChargeable" == out["permission"]["state"]
    assert ["PaymentMethodInvalid"] == [r["reasonCode"] for r in out["permission"]["reasons"]]
    assert 422 == out["chargeOnNonChargeable"]["status"]
    assert "InvalidChargePermissionStatus" == out["chargeOnNonChargeable"]["data"]["reasonCode"]
    assert "Chargeable" == out["fixed"]
    assert 200 == out["amazonCancel"]["status"]
    assert ("Canceled", "AmazonCanceled") == (
        out["amazonCancel"]["details"]["state"],
        out["amazonCancel"]["details"]["reasonCode"],
    )
    assert (422, "InvalidChargeStatus") == (
        out["captureCanceled"]["status"],
        out["captureCanceled"]["data"]["reasonCode"],
    )
    assert 422 == out["wrongEvent"]["status"]
    assert {"reasonCode", "message"} == set(out["wrongEvent"]["data"])
    # To an instant: the waiting charge (authorized on day 1) expired 30 days later.
    assert {"status": 200, "data": {"now": "20260412T090000Z"}} == out["advanceTo"]
    assert {"state": "Canceled", "reasonCode": "ExpiredUnused"} == out["expiredCharge"]
    # IPN faults: the next notification came twice, with one MessageId; none left.
    assert (200, 1) == (out["faults"]["status"], out["faults"]["data"]["duplicate"])
    assert "Canceled" == out["cancel"]
    assert out["duplicated"] >= 1
    assert 0 == out["faultsLeft"]["duplicate"]
    assert "20260412T090000Z" == out["clockAtEnd"]


# ---------------------------------------------------------------------------------------
# schemathesis against /openapi.json
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[str, Any, dict[str, list[str]]]]:
    """A server, its OpenAPI document loaded by schemathesis, and ids of objects that
    exist (so generated calls reach the lifecycle rules, not only ResourceNotFound)."""
    sim = make_sim()
    with running(create_app(sim)) as url:
        for amount, kind in (("100.00", "OneTime"), ("40.00", "Recurring")):
            session = sim.create_checkout_session(session_body(amount, kind=kind))
            sim.buyer_approve(session["checkoutSessionId"])
            done = sim.complete_checkout_session(
                session["checkoutSessionId"], {"chargeAmount": price(amount)}
            )
            sim.capture_charge(done["chargeId"], {"captureAmount": price(amount)})
            sim.create_refund({"chargeId": done["chargeId"], "refundAmount": price("1.00")})
        sim.create_checkout_session(session_body())
        sim.buyer_sign_in(scopes=["name", "shippingAddress", "primeStatus"])
        for charge_id in sim.object_ids("Charge"):  # an open dispute on each captured charge
            sim.file_dispute(charge_id)
        ids = {
            "checkoutSessionId": sim.object_ids("CheckoutSession"),
            "chargePermissionId": sim.object_ids("ChargePermission"),
            "chargeId": sim.object_ids("Charge"),
            "refundId": sim.object_ids("Refund"),
            "buyerToken": sim.object_ids("Buyer"),
            "disputeId": sim.object_ids("Dispute"),
            **_report_ids(sim),
        }
        yield url, schemathesis.openapi.from_url(f"{url}/openapi.json"), ids


def _report_ids(sim: Simulator) -> dict[str, list[str]]:
    """A completed report (so a document), one in progress and a schedule (docs/reports.md)."""
    window = {"startTime": "20000101T000000Z", "endTime": "20990101T000000Z"}
    auth = "_GET_FLAT_FILE_OFFAMAZONPAYMENTS_AUTHORIZATION_DATA_"
    done = sim.reports.create_report({"reportType": auth, **window})["reportId"]
    sim.advance(sim.limits.report_processing_time)
    going = sim.reports.create_report({"reportType": auth, **window})["reportId"]
    body = {"reportType": auth, "scheduleFrequency": "P1D"}
    return {
        "reportId": [done, going],
        "reportDocumentId": [sim.reports.get_report(done)["reportDocumentId"]],
        "reportScheduleId": [sim.reports.create_report_schedule(body)["reportScheduleId"]],
    }


def fuzz_cases() -> Iterator[tuple[str, GenerationMode]]:
    """Every operation with valid data, and with invalid data where something can be made
    invalid (a body or a header: a GET's only parameter is any string)."""
    for path, item in openapi()["paths"].items():
        if not path.startswith("/v2/"):
            continue  # the control endpoints: tests/server/test_control_bad_input.py
        for method, doc in item.items():
            label = f"{method.upper()} {path}"
            yield label, GenerationMode.POSITIVE
            if "requestBody" in doc or any(p["in"] == "header" for p in doc["parameters"]):
                yield label, GenerationMode.NEGATIVE


@pytest.mark.parametrize(("label", "mode"), list(fuzz_cases()), ids=str)
def test_schemathesis_finds_no_server_error_and_only_amazon_errors(
    fuzzed: tuple[str, Any, dict[str, list[str]]], label: str, mode: GenerationMode
) -> None:
    url, schema, ids = fuzzed
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    names = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
    strategies = [operation.as_strategy(generation_mode=mode)]
    if names:  # also on objects that exist
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters={names[0]: value})
            for value in ids[names[0]]
        ]

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=25,
        database=None,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    def check(case: Any) -> None:
        response = case.call(base_url=url)
        body = response.json()
        if response.status_code >= 400:
            # Amazon's error shape, with the status the catalog gives its code (SPEC §8).
            assert {"reasonCode", "message"} == set(body), body
            assert ERRORS[body["reasonCode"]].http_status == response.status_code, body
        if response.status_code >= 500:
            # The only 5xx is the one SPEC §7 makes on purpose: a simulated ProcessingFailure.
            assert "ProcessingFailure" == body["reasonCode"], body
            assert "ProcessingFailure" == case.headers.get("x-amz-pay-simulation-code")
        if mode is GenerationMode.POSITIVE:
            case.validate_response(
                response, checks=[status_code_conformance, response_schema_conformance]
            )

    check()
