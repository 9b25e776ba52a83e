"""``apfsm.server``: the simulator behind the real Amazon Pay API v2 over HTTP.

Integrations written in any language point their Amazon Pay client at this server instead
of the sandbox and change nothing but the endpoint. ``create_app`` builds the ASGI
application (Starlette), ``running`` serves it from a background thread (pytest fixtures),
``serve`` is ``apfsm serve``, and ``openapi`` is the OpenAPI 3 document of the served API.

- **API** (SPEC §1): every operation of ``apfsm.OPERATIONS`` under ``/v2``, ``/live/v2`` and
  ``/sandbox/v2``, with Amazon's JSON, statuses and error body ``{"reasonCode", "message"}``
  (SPEC §8). Headers: ``x-amz-pay-idempotency-key`` (required on POST, SPEC §7),
  ``x-amz-pay-simulation-code``, and for signatures ``authorization``, ``x-amz-pay-date``,
  ``x-amz-pay-host``, ``x-amz-pay-region``.
- **Signatures**: with a public key, ``AMZN-PAY-RSASSA-PSS`` (salt 20) and
  ``AMZN-PAY-RSASSA-PSS-V2`` (salt 32) are verified the way the official SDKs sign.
- **Control** endpoints under ``/_apfsm`` play the buyer, move the clock, read the
  notifications and the call log, reset, and save or load snapshots.
- **IPN**: with a notify URL, each notification is POSTed as the SNS envelope Amazon Pay
  sends, from a background thread, with retries.

Starlette, uvicorn and cryptography come with the ``server`` extra
(``pip install "apfsm[server]"``) and are imported only when a server is built, so
``import apfsm.server`` and ``openapi()`` work without them.

One file per job, as moto splits ``urls.py`` and ``responses.py``: ``_routes`` (paths →
operations), ``_api`` (the API endpoint), ``_control`` (``/_apfsm``), ``_signatures``,
``_ipn``, ``_openapi``, ``_run`` (``running``, ``serve``), ``_app`` (``create_app``), with
``_state`` (what the endpoints share) and ``_wire`` (JSON in and out) beneath them.
"""

from __future__ import annotations

from ._app import create_app
from ._ipn import sns_envelope
from ._openapi import openapi
from ._run import running, serve
from ._signatures import ALGORITHMS, canonical_request, string_to_sign

__all__ = [
    "ALGORITHMS",
    "canonical_request",
    "create_app",
    "openapi",
    "running",
    "serve",
    "sns_envelope",
    "string_to_sign",
]
