"""One API call on the simulator, from its arguments to its answer and log record.

The order is SPEC §8's: what is due settles first (SPEC §2); then the headers (idempotency
key, simulation code), the body (``body_fault``), the target (``ResourceNotFound``), and
the engine's decision — the same ``decide`` the validator uses, with the simulator's
records as facts, so the two cannot disagree on a rule a payload shows. An accepted call
goes to its handler (``handlers.HANDLERS``). Every call, refused or not, is logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from apfsm._decide import Money, body_fault, decide
from apfsm._errors import ApiError
from apfsm._spec import LIFECYCLES, SIMULATION_CODES, Operation

from .effects import Effects
from .handlers import HANDLERS, Call, Refused, Response
from .idempotency import IdempotencyKeys
from .log import Idempotent, snapshot
from .records import Record

__all__ = ["Calls"]


class Calls:
    """Makes calls (module docs); the simulator holds its lock around ``run``."""

    def __init__(
        self, effects: Effects, keys: IdempotencyKeys, now: Callable[[], datetime]
    ) -> None:
        self._fx = effects
        self._keys = keys
        self._now = now

    def run(
        self,
        op: Operation,
        object_id: str | None,
        body: Any,
        key: str | None,
        simulation_code: str | None,
    ) -> tuple[Response, int]:
        """Make the call; returns the answer and its log record's number.

        Raises:
            ApiError: refused (logged, and nothing changed — but for the refusals SPEC §7
                gives effects).
        """
        now = self._now()
        self._fx.settle(now)
        request_data = snapshot(body)
        log = self._fx.store.log
        try:
            response, logged_id = self._process(op, object_id, body, key, simulation_code, now)
        except Refused as refused:
            err = refused.error
            log.add(
                at=now,
                operation=op.name,
                object_id=refused.object_id or object_id,
                request_data=request_data,
                status=err.http_status,
                error_code=err.reason_code,
                error_message=err.message,
                idempotency_key=key,
                simulation_code=simulation_code,
            )
            raise err from None
        seq = log.add(
            at=now,
            operation=op.name,
            object_id=logged_id,
            request_data=request_data,
            status=response.status,
            response_data=snapshot(response.body),
            idempotency_key=key,
            simulation_code=simulation_code,
        )
        return response, seq

    def repeat(
        self,
        entry: Idempotent,
        fingerprint: str,
        op: Operation,
        object_id: str | None,
        body: Any,
        key: str,
        simulation_code: str | None,
    ) -> Response:
        """Answer a request whose idempotency key was seen before (SPEC §7): in progress,
        the first answer again, or a different request with the key."""
        now = self._now()
        log = self._fx.store.log
        common: dict[str, Any] = {
            "at": now,
            "operation": op.name,
            "object_id": object_id,
            "request_data": snapshot(body),
            "idempotency_key": key,
            "simulation_code": simulation_code,
        }
        if entry.pending:
            error = ApiError.from_code(
                "TransactionInProgress",
                f"a request with idempotency key {key!r} is still being processed",
            )
        elif entry.fingerprint != fingerprint:
            error = ApiError.from_code(
                "DuplicateIdempotencyKey",
                f"idempotency key {key!r} was used with a different request",
            )
        else:
            # The first answer again, success or refusal; nothing new happens.
            first = log.by_seq(entry.log_seq) if entry.log_seq else None
            stored = entry.error
            log.add(
                **common,
                status=entry.status,
                response_data=None if first is None else first.response_data,
                error_code=None if stored is None else stored.code,
                error_message=None if stored is None else stored.message,
                replayed=True,
            )
            if stored is not None:
                raise ApiError(stored.code, stored.status, stored.message)
            assert first is not None
            response = first.response
            assert response is not None
            return Response(entry.status, response)
        log.add(
            **common,
            status=error.http_status,
            error_code=error.reason_code,
            error_message=error.message,
        )
        raise error

    def _process(
        self,
        op: Operation,
        object_id: str | None,
        body: Any,
        key: str | None,
        simulation_code: str | None,
        now: datetime,
    ) -> tuple[Response, str | None]:
        fx = self._fx
        limits = fx.limits
        # Headers before the body (SPEC §8).
        if key is not None and not self._keys.valid(key):
            raise Refused(
                "InvalidHeaderValue",
                f"x-amz-pay-idempotency-key must be 1 to {limits.idempotency_key_max_length} "
                "characters of A-Za-z0-9-_",
            )
        if simulation_code is not None and simulation_code not in SIMULATION_CODES.get(op.name, ()):
            raise Refused(
                "InvalidSandboxSimulationSpecified",
                f"simulation code {simulation_code!r} is not supported on {op.name}",
            )
        money: dict[str, Money | None] | None = None
        if body is not None:
            money = {}
            fault = body_fault(op.name, body, limits, money)
            if fault is not None:
                raise Refused(*fault)
        target = self._target(op, object_id, body)
        outcome = decide(op, target, body, now, limits, simulation_code, money)
        if not outcome.ok:
            assert outcome.reason_code is not None
            raise Refused(outcome.reason_code, outcome.message or "")
        call = Call(op, target, body if body is not None else {}, outcome, now, simulation_code)
        response = HANDLERS[op.name](fx, call)
        if op.creates is None:
            return response, object_id
        created = response.body.get(LIFECYCLES[op.creates].id_field)
        return response, created if isinstance(created, str) else None

    def _target(self, op: Operation, object_id: str | None, body: Any) -> Record | None:
        """The object the call acts on: in the path, or named in the body (SPEC §1)."""
        if op.target is None:
            return None
        target_id = op.target_id(object_id, body)
        record = self._fx.store.get(target_id, op.target)
        if record is None:
            raise Refused("ResourceNotFound", f"{op.target} {target_id!r} does not exist")
        return record
