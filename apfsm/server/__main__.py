"""``python -m apfsm.server``: print the OpenAPI document (``> docs/openapi.json``)."""

from __future__ import annotations

import json
import sys

from ._openapi import openapi

if __name__ == "__main__":  # pragma: no cover - python -m apfsm.server > docs/openapi.json
    sys.stdout.write(json.dumps(openapi(), indent=2) + "\n")
