"""``apfsm serve``: the command that runs the server (``apfsm.server.serve``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

__all__ = ["register"]


def _run_command(args: argparse.Namespace, out: TextIO) -> int:
    from apfsm.server import serve

    try:
        serve(
            host=args.host,
            port=args.port,
            tls=args.tls,
            public_key=args.public_key,
            notify_url=args.notify_url,
            state=args.state,
            seed=args.seed,
            start=args.start,
            access_log=not args.no_access_log,
            out=out,
            max_call_log=args.max_call_log or None,
            max_idempotency_keys=args.max_idempotency_keys or None,
        )
    except ImportError as exc:
        sys.stderr.write(f"apfsm serve: error: {exc}\n")
        return 2
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"apfsm serve: error: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"apfsm serve: error: {exc.strerror or exc}\n")
        return 2
    return 0


def _instant(text: str) -> Any:
    from apfsm._clock import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        message = f"not an instant with a UTC offset: {text!r} ({exc})"
        raise argparse.ArgumentTypeError(message) from None


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r} (0 to 65535)")
    return int(text)


def _cap(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (0 or more; 0: no cap)")
    return int(text)


def register(sub: Any) -> None:
    """Add ``apfsm serve`` to the command line's subparsers (called by ``apfsm._cli.commands``)."""
    command = sub.add_parser(
        "serve",
        help="serve the simulator as the Amazon Pay API v2 over HTTP",
        description="Serve the simulator behind the real Amazon Pay API v2 paths, so any "
        "client can point its endpoint at it. Needs the server extra: "
        'pip install "apfsm[server]".',
    )
    command.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    command.add_argument(
        "--port", type=_port, default=8080, help="port (default: 8080; 0: a free one)"
    )
    command.add_argument(
        "--tls", action="store_true", help="HTTPS with a self-signed certificate made at start"
    )
    command.add_argument(
        "--public-key", metavar="PEM", help="verify request signatures with this RSA public key"
    )
    command.add_argument(
        "--notify-url", metavar="URL", help="POST IPN notifications (SNS envelopes) there"
    )
    command.add_argument(
        "--state",
        metavar="FILE",
        help="keep the state in FILE (SQLite): every change committed before it is answered, "
        "resumed at start; a JSON snapshot given here is migrated in place",
    )
    command.add_argument(
        "--seed",
        metavar="SEED",
        help="make the ids from SEED: the same seed, the same ids (default: random, so ids differ "
        "from run to run as Amazon's do)",
    )
    command.add_argument(
        "--start",
        type=_instant,
        metavar="INSTANT",
        help="the simulated clock's first instant, e.g. 2026-03-02T09:00:00Z (default: now; "
        "a new state only)",
    )
    command.add_argument(
        "--no-access-log", action="store_true", help="no line per request on stdout"
    )
    command.add_argument(
        "--max-call-log",
        type=_cap,
        default=100_000,
        metavar="N",
        help="keep about the newest N call-log records (default: 100000; 0: all)",
    )
    command.add_argument(
        "--max-idempotency-keys",
        type=_cap,
        default=100_000,
        metavar="N",
        help="keep the newest N idempotency keys and their answers (default: 100000; 0: all, "
        "as Amazon, which stores them indefinitely)",
    )
    command.set_defaults(run=_run_command)
