"""The simulator's call log and idempotency records (SPEC §7)."""

from __future__ import annotations

import hashlib
import json
import marshal
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal, overload

import attrs

from apfsm._clock import require_aware

__all__ = [
    "CallLog",
    "Idempotent",
    "LogRecord",
    "Slot",
    "StoredError",
    "digest",
    "dumps",
    "snapshot",
]


@attrs.frozen(repr=False, eq=False)
class LogRecord:
    """One call made on the simulator (API calls, and the buyer's and Amazon's actions).

    The request and response bodies are kept as snapshots (``snapshot``): later mutations
    by callers cannot change the record. ``request`` and ``response`` decode them;
    ``request_json`` and ``response_json`` give them as canonical JSON text.
    """

    seq: int
    at: datetime
    kind: Literal["api", "buyer", "amazon"]
    operation: str
    object_id: str | None
    request_data: bytes | str | None
    status: int
    response_data: bytes | str | None = None
    error_code: str | None = None
    error_message: str | None = None
    idempotency_key: str | None = None
    simulation_code: str | None = None
    replayed: bool = False

    @property
    def request(self) -> Any:
        return _decode(self.request_data)

    @property
    def response(self) -> dict[str, Any] | None:
        value = _decode(self.response_data)
        return None if value is None else dict(value)

    @property
    def request_json(self) -> str | None:
        return _text(self.request_data)

    @property
    def response_json(self) -> str | None:
        return _text(self.response_data)

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def _key(self) -> tuple[Any, ...]:
        return (
            self.seq, self.at, self.kind, self.operation, self.object_id, self.request_json,
            self.status, self.response_json, self.error_code, self.error_message,
            self.idempotency_key, self.simulation_code, self.replayed,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogRecord):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

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
            request_data=snapshot(request),
            status=data["status"],
            response_data=snapshot(response),
            error_code=error.get("reasonCode"),
            error_message=error.get("message"),
            idempotency_key=data.get("idempotencyKey"),
            simulation_code=data.get("simulationCode"),
            replayed=data.get("replayed", False),
        )

    def __repr__(self) -> str:
        outcome = f"{self.status} {self.error_code}" if self.error_code else str(self.status)
        return f"<LogRecord #{self.seq} {self.operation} {self.object_id} → {outcome}>"


@attrs.frozen
class StoredError:
    """A refusal an idempotency key answers again (SPEC §7)."""

    code: str
    status: int
    message: str


#: Where an idempotency key's entry is kept: (operation, key) — keys count per operation.
Slot = tuple[str, str]


@attrs.define(slots=True)
class Idempotent:
    """What an idempotency key remembers: a digest of the first request, and where its
    answer is (the log record's number: the log is the one store of answers)."""

    fingerprint: str
    pending: bool = True
    status: int = 0
    log_seq: int = 0
    error: StoredError | None = None


def digest(text: str) -> str:
    """A short fingerprint of a canonical request text."""
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def dumps(value: Any) -> str:
    # Canonical text: sorted keys, so equal bodies have equal fingerprints.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def snapshot(value: Any) -> bytes | str | None:
    """A frozen copy of a body for the log: ``marshal`` bytes (several times cheaper to
    make than JSON text, and the log is written on every call), or the canonical JSON text
    when the value holds something marshal does not take (JSON prints it with ``repr``)."""
    if value is None:
        return None
    try:
        return marshal.dumps(value)
    except ValueError:
        return dumps(value)


def _decode(data: bytes | str | None) -> Any:
    if data is None:
        return None
    if isinstance(data, bytes):
        return marshal.loads(data)
    return json.loads(data)


def _text(data: bytes | str | None) -> str | None:
    if data is None or isinstance(data, str):
        return data
    return dumps(marshal.loads(data))


def iso(when: datetime) -> str:
    return when.isoformat()


def _fromiso(text: str) -> datetime:
    return require_aware(datetime.fromisoformat(text), "snapshot time")


def _pack(record: LogRecord) -> tuple[Any, ...]:
    return (
        record.seq,
        record.at.isoformat(),
        record.kind,
        record.operation,
        record.object_id,
        record.request_data,
        record.status,
        record.response_data,
        record.error_code,
        record.error_message,
        record.idempotency_key,
        record.simulation_code,
        record.replayed,
    )


def _packed(records: Sequence[LogRecord]) -> bytes:
    return zlib.compress(marshal.dumps([_pack(r) for r in records]), 1)


def _unpack(row: tuple[Any, ...]) -> LogRecord:
    (seq, at, kind, operation, object_id, request, status, response, code, message, key, sim,
     replayed) = row  # fmt: skip
    return LogRecord(
        seq=seq,
        at=require_aware(datetime.fromisoformat(at)),
        kind=kind,
        operation=operation,
        object_id=object_id,
        request_data=request,
        status=status,
        response_data=response,
        error_code=code,
        error_message=message,
        idempotency_key=key,
        simulation_code=sim,
        replayed=replayed,
    )


class CallLog(Sequence[LogRecord]):
    """The simulator's call log: an append-only sequence of ``LogRecord``.

    The newest records are kept as objects; older ones are packed and compressed in chunks
    (calls repeat their JSON, so a chunk shrinks to a small fraction), keeping a long fuzz
    campaign's log cheap. Reading an old record unpacks its chunk (the last one read is
    cached). Compares equal to any sequence of the same records.

    With ``max_records`` (``Simulator.retain``), the oldest chunks are dropped once more
    than that many records are kept: the log then holds the newest ``max_records`` to
    ``max_records + 2 * CHUNK`` records (the newest are unpacked, and only whole packed
    chunks are dropped), and positions count from the oldest kept one —
    ``first_seq`` is its number (records keep their numbers: ``by_seq``).
    """

    CHUNK: Final = 256

    def __init__(self, records: Iterable[LogRecord] = ()) -> None:
        self._chunks: list[bytes] = []
        self._recent: list[LogRecord] = []
        self._cache: tuple[int, list[LogRecord]] | None = None
        #: How many records were numbered before the first one kept (dropped, or never
        #: loaded: a snapshot's log may start later).
        self._base = 0
        self.max_records: int | None = None
        # Reads take it too: packing moves records from ``_recent`` into a chunk in two
        # steps, and a read between them would answer the wrong record (issue 16).
        self._lock = threading.RLock()
        for n, record in enumerate(records):
            if n == 0:
                self._base = record.seq - 1
            self.append(record)

    @property
    def first_seq(self) -> int:
        """The number of the oldest record kept (1 while nothing was dropped)."""
        return self._base + 1

    @property
    def next_seq(self) -> int:
        """The number the next record gets."""
        with self._lock:
            return self._base + len(self) + 1

    def add(
        self,
        *,
        at: datetime,
        operation: str,
        object_id: str | None,
        request_data: bytes | str | None,
        status: int,
        response_data: bytes | str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        idempotency_key: str | None = None,
        simulation_code: str | None = None,
        kind: Literal["api", "buyer", "amazon"] = "api",
        replayed: bool = False,
    ) -> int:
        """Append the record of one call, numbered next (safe from several threads);
        returns its number. Bodies come as ``snapshot`` data."""
        with self._lock:
            seq = self._base + len(self) + 1
            self.append(
                LogRecord(
                    seq=seq,
                    at=at,
                    kind=kind,
                    operation=operation,
                    object_id=object_id,
                    request_data=request_data,
                    status=status,
                    response_data=response_data,
                    error_code=error_code,
                    error_message=error_message,
                    idempotency_key=idempotency_key,
                    simulation_code=simulation_code,
                    replayed=replayed,
                )
            )
            return seq

    def append(self, record: LogRecord) -> None:
        with self._lock:
            self._recent.append(record)
            if len(self._recent) >= 2 * self.CHUNK:
                old, self._recent = self._recent[: self.CHUNK], self._recent[self.CHUNK :]
                self._chunks.append(_packed(old))
                self._trim()

    def retain(self, max_records: int | None) -> None:
        """Keep at most about ``max_records`` records (None: all); drops the oldest now."""
        if max_records is not None and max_records < 1:
            raise ValueError(f"max_records must be at least 1, got {max_records!r}")
        with self._lock:
            self.max_records = max_records
            self._trim()

    def _trim(self) -> None:
        limit = self.max_records
        if limit is None:
            return
        # A rule on the packed chunks alone (they change only when a chunk is packed):
        # the same records are kept whenever this runs — a restart replaying its journal
        # keeps what the first run kept. The newest 256 to 511 are unpacked, so at least
        # ``limit`` records stay.
        while self._chunks and len(self._chunks) * self.CHUNK >= limit:
            del self._chunks[0]
            self._base += self.CHUNK
            self._cache = None

    def clear(self) -> None:
        with self._lock:
            self._base = 0
            self._chunks.clear()
            self._recent.clear()
            self._cache = None

    def since(self, start: int) -> list[LogRecord]:
        """A copy of the records numbered after ``start`` (those kept), read at one instant
        (safe while calls run: ``GET /_apfsm/log?since=N``)."""
        with self._lock:
            return self[max(start - self._base, 0) :]

    def by_seq(self, seq: int) -> LogRecord | None:
        """The record numbered ``seq``, or None when it was dropped (or is not yet)."""
        with self._lock:
            index = seq - self._base - 1
            return self[index] if 0 <= index < len(self) else None

    # -- what a ``--state`` checkpoint writes: the packed chunks, as they are --------------

    def packed(self, after: int) -> tuple[int, list[tuple[int, bytes]], bytes]:
        """``(first_seq, chunks, tail)`` at one instant: the packed chunks whose first
        record is numbered after ``after`` (each with that number; chunks never change),
        and the newest records packed the same way."""
        with self._lock:
            first = self._base + 1
            chunks = [
                (first + n * self.CHUNK, chunk)
                for n, chunk in enumerate(self._chunks)
                if first + n * self.CHUNK > after
            ]
            return first, chunks, _packed(self._recent)

    @classmethod
    def from_packed(cls, first_seq: int, chunks: Sequence[bytes], tail: bytes) -> CallLog:
        """The log ``packed`` wrote (chunks in order, from record ``first_seq``).

        Raises:
            ValueError: the data is not packed log records.
        """
        log = cls()
        log._base = first_seq - 1
        try:
            for chunk in chunks:
                rows = marshal.loads(zlib.decompress(chunk))
                if len(rows) != cls.CHUNK:
                    raise ValueError(f"a packed chunk of {len(rows)} records")
                log._chunks.append(chunk)
            log._recent = [_unpack(tuple(row)) for row in marshal.loads(zlib.decompress(tail))]
            for n, record in enumerate(log._recent):
                if record.seq != log._base + len(log._chunks) * cls.CHUNK + n + 1:
                    raise ValueError(f"record {record.seq} out of sequence")
        except (ValueError, TypeError, EOFError, zlib.error) as exc:
            raise ValueError(f"not a packed call log ({exc})") from None
        return log

    def __len__(self) -> int:
        with self._lock:
            return len(self._chunks) * self.CHUNK + len(self._recent)

    def _chunk(self, index: int) -> list[LogRecord]:
        if self._cache is None or self._cache[0] != index:
            rows = marshal.loads(zlib.decompress(self._chunks[index]))
            self._cache = (index, [_unpack(tuple(row)) for row in rows])
        return self._cache[1]

    @overload
    def __getitem__(self, index: int) -> LogRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[LogRecord]: ...

    def __getitem__(self, index: int | slice) -> LogRecord | list[LogRecord]:
        with self._lock:
            if isinstance(index, slice):
                return [self[i] for i in range(*index.indices(len(self)))]
            size = len(self)
            if index < 0:
                index += size
            if not 0 <= index < size:
                raise IndexError("log index out of range")
            packed = len(self._chunks) * self.CHUNK
            if index >= packed:
                return self._recent[index - packed]
            return self._chunk(index // self.CHUNK)[index % self.CHUNK]

    def __iter__(self) -> Iterator[LogRecord]:
        # The records of one instant: chunks are never changed once packed, so a copy of
        # the two lists taken under the lock is enough; unpacking happens outside it.
        with self._lock:
            chunks, recent = list(self._chunks), list(self._recent)
        for packed in chunks:
            yield from (_unpack(tuple(row)) for row in marshal.loads(zlib.decompress(packed)))
        yield from recent

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<CallLog of {len(self)} calls>"
