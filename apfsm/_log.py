"""The simulator's call log and idempotency records (SPEC §7)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import attrs

from ._clock import require_aware

__all__ = ["Idempotent", "LogRecord", "dumps"]


@attrs.frozen(repr=False)
class LogRecord:
    """One call made on the simulator (API calls, and the buyer's and Amazon's actions).

    ``request`` and ``response`` are decoded from the JSON text kept in ``request_json``
    and ``response_json`` (kept as text so later mutations by callers cannot change the
    record).
    """

    seq: int
    at: datetime
    kind: Literal["api", "buyer", "amazon"]
    operation: str
    object_id: str | None
    request_json: str | None
    status: int
    response_json: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    idempotency_key: str | None = None
    simulation_code: str | None = None
    replayed: bool = False

    @property
    def request(self) -> Any:
        return None if self.request_json is None else json.loads(self.request_json)

    @property
    def response(self) -> dict[str, Any] | None:
        return None if self.response_json is None else json.loads(self.response_json)

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def to_json(self) -> dict[str, Any]:
        """The record as one JSON object (the log export format, docs/simulator.md)."""
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "kind": self.kind,
            "operation": self.operation,
            "objectId": self.object_id,
            "request": self.request,
            "idempotencyKey": self.idempotency_key,
            "simulationCode": self.simulation_code,
            "status": self.status,
            "response": self.response,
            "error": None
            if self.error_code is None
            else {"reasonCode": self.error_code, "message": self.error_message},
            "replayed": self.replayed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogRecord:
        error = data.get("error") or {}
        request = data.get("request")
        response = data.get("response")
        return cls(
            seq=data["seq"],
            at=_fromiso(data["at"]),
            kind=data["kind"],
            operation=data["operation"],
            object_id=data.get("objectId"),
            request_json=None if request is None else dumps(request),
            status=data["status"],
            response_json=None if response is None else dumps(response),
            error_code=error.get("reasonCode"),
            error_message=error.get("message"),
            idempotency_key=data.get("idempotencyKey"),
            simulation_code=data.get("simulationCode"),
            replayed=data.get("replayed", False),
        )

    def __repr__(self) -> str:
        outcome = f"{self.status} {self.error_code}" if self.error_code else str(self.status)
        return f"<LogRecord #{self.seq} {self.operation} {self.object_id} → {outcome}>"


@attrs.define(slots=True)
class Idempotent:
    fingerprint: str
    pending: bool = True
    status: int = 0
    response_json: str | None = None
    error: tuple[str, int, str] | None = None


def dumps(value: Any) -> str:
    # Canonical text: sorted keys, so equal bodies have equal fingerprints.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def iso(when: datetime) -> str:
    return when.isoformat()


def _fromiso(text: str) -> datetime:
    return require_aware(datetime.fromisoformat(text), "snapshot time")
