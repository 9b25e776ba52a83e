"""``apfsm serve``: the command that runs the server (``apfsm.server.serve``)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import Any, TextIO

__all__ = ["CONTROL_TOKEN_ENV", "register"]

#: The environment variable ``apfsm serve`` reads its control token from when
#: ``--control-token`` is not given (a token on the command line shows in ``ps``).
CONTROL_TOKEN_ENV = "APFSM_CONTROL_TOKEN"


def _run_command(args: argparse.Namespace, out: TextIO) -> int:
    from apfsm.server import serve

    try:
        serve(
            host=args.host,
            port=args.port,
            tls=args.tls,
            public_key=args.public_key,
            public_key_id=args.public_key_id,
            max_clock_skew=args.max_clock_skew,
            control_token=args.control_token or os.environ.get(CONTROL_TOKEN_ENV) or None,
            notify_url=args.notify_url,
            state=args.state,
            seed=args.seed,
            start=args.start,
            access_log=not args.no_access_log,
            out=out,
            max_call_log=args.max_call_log or None,
            max_idempotency_keys=args.max_idempotency_keys or None,
            max_notifications=args.max_notifications or None,
        )
    except ImportError as exc:
        sys.stderr.write(f"apfsm serve: error: {exc}\n")
        return 2
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"apfsm serve: error: {exc}\n")
        return 2
    except OSError as exc:
        # The file it is about, when there is one (a --state path, a key file): a bare
        # "Permission denied" does not say which.
        where = f": {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"apfsm serve: error: {exc.strerror or exc}{where}\n")
        return 2
    return 0


def _instant(text: str) -> Any:
    from apfsm._clock import parse_timestamp

    try:
        return parse_timestamp(text)
    except ValueError as exc:
        message = f"not an instant with a UTC offset: {text!r} ({exc})"
        raise argparse.ArgumentTypeError(message) from None


#: The largest --max-clock-skew: ten years (beyond, 'off' says it; and far beyond, the
#: seconds overflow a timedelta).
_MAX_SKEW_SECONDS = 10 * 365 * 86_400


def _digits(text: str) -> bool:
    # ASCII only: str.isdigit() takes "²" and "٣", which int() then refuses.
    return text.isascii() and text.isdigit()


def _skew(text: str) -> timedelta | None:
    if text == "off":
        return None
    if not _digits(text) or not 1 <= int(text) <= _MAX_SKEW_SECONDS:
        raise argparse.ArgumentTypeError(
            f"not a number of seconds: {text!r} (1 to {_MAX_SKEW_SECONDS}, or 'off')"
        )
    return timedelta(seconds=int(text))


def _port(text: str) -> int:
    if not _digits(text) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r} (0 to 65535)")
    return int(text)


def _cap(text: str) -> int:
    if not _digits(text):
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
        "--public-key-id",
        metavar="ID",
        help="the PublicKeyId the public key is registered under: requests naming another "
        "are refused (default: any)",
    )
    command.add_argument(
        "--max-clock-skew",
        type=_skew,
        default=timedelta(minutes=15),
        metavar="SECONDS",
        help="refuse a signed request whose x-amz-pay-date is older than this by this "
        "machine's clock, or in the future (default: 900, as Amazon's other signed APIs; "
        "'off': dates are not checked)",
    )
    command.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="the control API (/_apfsm/...) needs 'Authorization: Bearer TOKEN' (default: "
        f"${CONTROL_TOKEN_ENV}, else open)",
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
    command.add_argument(
        "--max-notifications",
        type=_cap,
        default=100_000,
        metavar="N",
        help="keep the newest N IPN notifications for GET /_apfsm/notifications (default: "
        "100000; 0: all)",
    )
    command.set_defaults(run=_run_command)
