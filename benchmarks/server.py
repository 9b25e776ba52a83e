"""Benchmark: ``apfsm serve`` against moto's server (``moto_server``), over loopback HTTP.

Run: ``.venv/bin/python benchmarks/server.py`` (needs ``pip install -e ".[bench]"``: the
server extra and moto). Each server runs in its own process; one client process keeps a
fixed number of keep-alive connections busy, each repeating a create + get pair:

* apfsm: ``POST /v2/charges`` (a Charge on a PaymentMethodOnFile permission, with its own
  idempotency key) then ``GET /v2/charges/{chargeId}``;
* moto: DynamoDB ``PutItem`` then ``GetItem`` of that item — the closest "create an object,
  read it back" pair of moto's JSON APIs.

A run is bounded both in time (``--seconds``) and in count (``--requests``), after a warm-up,
and prints requests per second and the p50/p99 latency of single requests. Target for
apfsm: ≥ 2,000 requests/s on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

INSTALL = 'pip install -e ".[bench]"  (the server extra and moto[server])'

Request = tuple[str, str, dict[str, str], bytes]
#: A create + get pair: yields requests, receives each answer's body.
Pair = Generator[Request, bytes, None]


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the client must not be the bottleneck."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.closing = False

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.closing = False

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        if self.closing:  # the server said "Connection: close" (moto's server does)
            self.close()
            await self.open()
        assert self.reader is not None
        assert self.writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and "close" in value.lower():
                self.closing = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        data = b""
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            data += await self.reader.readexactly(size + 2)
            if size == 0:
                return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(
    host: str,
    port: int,
    pair: Callable[[int, int], Pair],
    *,
    concurrency: int,
    seconds: float,
    requests: int,
    warmup: float,
) -> dict[str, Any]:
    """Run ``concurrency`` connections, each repeating ``pair``; measure after ``warmup``."""
    latencies: list[float] = []
    errors = 0
    counted = 0
    start_measuring = time.perf_counter() + warmup
    deadline = start_measuring + seconds

    async def worker(number: int) -> None:
        nonlocal errors, counted
        connection = Connection(host, port)
        await connection.open()
        n = 0
        try:
            while time.perf_counter() < deadline and counted < requests:
                steps = pair(number, n)
                n += 1
                request = next(steps)
                while True:
                    began = time.perf_counter()
                    status, answer = await connection.request(*request)
                    ended = time.perf_counter()
                    if began >= start_measuring and ended <= deadline:
                        latencies.append(ended - began)
                        counted += 1
                        errors += status >= 400
                    try:
                        request = steps.send(answer)
                    except StopIteration:
                        break
        finally:
            connection.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = min(time.perf_counter(), deadline) - start_measuring
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": 1000 * percentile(latencies, 0.50) if latencies else float("nan"),
        "p99_ms": 1000 * percentile(latencies, 0.99) if latencies else float("nan"),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
        "errors": errors,
    }


# ---------------------------------------------------------------------------------------
# The two servers
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def started(command: list[str], port: int) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def call(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    async def once() -> tuple[int, bytes]:
        connection = Connection("127.0.0.1", port)
        await connection.open()
        try:
            data = b"" if body is None else json.dumps(body).encode()
            return await connection.request(method, path, headers, data)
        finally:
            connection.close()

    status, data = asyncio.run(once())
    if status >= 400:
        raise SystemExit(f"set-up call {method} {path} failed: {status} {data[:200]!r}")
    return json.loads(data) if data else None


PRICE = {"amount": "1.00", "currencyCode": "USD"}
JSON = {"Content-Type": "application/json"}


def apfsm_permissions(port: int, count: int) -> list[str]:
    """``count`` Chargeable PaymentMethodOnFile permissions (no charge-count or monthly cap
    rule, so a long run never runs out)."""
    out = []
    for n in range(count):
        session = call(
            port,
            "POST",
            "/v2/checkoutSessions",
            {**JSON, "x-amz-pay-idempotency-key": f"setup-{n}"},
            {
                "webCheckoutDetails": {
                    "checkoutReviewReturnUrl": "https://shop.example/review",
                    "checkoutResultReturnUrl": "https://shop.example/result",
                },
                "storeId": "amzn1.application-oa2-client.bench",
                "chargePermissionType": "PaymentMethodOnFile",
                "recurringMetadata": {"frequency": {"unit": "Variable", "value": "0"}},
                "paymentDetails": {"paymentIntent": "Confirm"},
            },
        )
        sid = session["checkoutSessionId"]
        call(port, "POST", "/_apfsm/buyer/approve", JSON, {"checkoutSessionId": sid})
        done = call(
            port,
            "POST",
            f"/v2/checkoutSessions/{sid}/complete",
            {**JSON, "x-amz-pay-idempotency-key": f"setup-{n}-done"},
            {"chargeAmount": PRICE},
        )
        out.append(done["chargePermissionId"])
    return out


def apfsm_pair(permissions: list[str]) -> Callable[[int, int], Pair]:
    def pair(worker: int, n: int) -> Pair:
        body = json.dumps(
            {"chargePermissionId": permissions[worker % len(permissions)], "chargeAmount": PRICE}
        ).encode()
        headers = {**JSON, "x-amz-pay-idempotency-key": f"w{worker}-{n}"}
        created = yield ("POST", "/v2/charges", headers, body)
        charge_id = json.loads(created)["chargeId"]
        yield ("GET", f"/v2/charges/{charge_id}", {}, b"")

    return pair


DYNAMO = {
    "Content-Type": "application/x-amz-json-1.0",
    # moto routes a request to its service by the credential scope of the signature.
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
}


def dynamo(target: str) -> dict[str, str]:
    return {**DYNAMO, "X-Amz-Target": f"DynamoDB_20120810.{target}"}


def moto_setup(port: int) -> None:
    call(
        port,
        "POST",
        "/",
        dynamo("CreateTable"),
        {
            "TableName": "bench",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )


def moto_pair(worker: int, n: int) -> Pair:
    key = {"pk": {"S": f"w{worker}-{n}"}}
    item = {**key, "amount": {"S": "1.00"}, "currencyCode": {"S": "USD"}}
    yield (
        "POST",
        "/",
        dynamo("PutItem"),
        json.dumps({"TableName": "bench", "Item": item}).encode(),
    )
    yield ("POST", "/", dynamo("GetItem"), json.dumps({"TableName": "bench", "Key": key}).encode())


def report(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name:<6} {result['rps']:>9,.0f} req/s   p50 {result['p50_ms']:6.2f} ms   "
        f"p99 {result['p99_ms']:6.2f} ms   ({result['requests']:,} requests in "
        f"{result['seconds']:.1f} s, {result['errors']} errors)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time (default 5)")
    parser.add_argument(
        "--requests", type=int, default=30_000, help="at most this many (default 30,000)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured")
    parser.add_argument("--no-moto", action="store_true", help="benchmark apfsm alone")
    args = parser.parse_args()

    missing = [m for m in ("starlette", "uvicorn") if importlib.util.find_spec(m) is None]
    if not args.no_moto and importlib.util.find_spec("moto") is None:
        missing.append("moto")
    if missing:
        sys.exit(f"missing {', '.join(missing)}: install with {INSTALL}")
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

    options = {
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "requests": args.requests,
        "warmup": args.warmup,
    }
    print(
        f"loopback, {args.concurrency} connections, {args.seconds:g} s or "
        f"{args.requests:,} requests after {args.warmup:g} s warm-up, {os.cpu_count()} CPUs"
    )
    results = {}
    port = free_port()
    command = [sys.executable, "-m", "apfsm", "serve", "--port", str(port), "--no-access-log"]
    with started(command, port):
        permissions = apfsm_permissions(port, args.concurrency)
        pair = apfsm_pair(permissions)
        results["apfsm"] = asyncio.run(load("127.0.0.1", port, pair, **options))
    report("apfsm", results["apfsm"])
    if not args.no_moto:
        port = free_port()
        command = [sys.executable, "-m", "moto.server", "-p", str(port)]
        with started(command, port):
            moto_setup(port)
            results["moto"] = asyncio.run(load("127.0.0.1", port, moto_pair, **options))
        report("moto", results["moto"])
        ratio = results["apfsm"]["rps"] / results["moto"]["rps"]
        print(f"apfsm / moto: {ratio:.1f}x the requests per second")
    target = 2000
    verdict = "meets" if results["apfsm"]["rps"] >= target else "MISSES"
    print(f"apfsm {verdict} the target of {target:,} requests/s")


if __name__ == "__main__":
    main()
