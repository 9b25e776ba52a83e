"""``ReportBook``: the Reports API over a simulator's store (docs/reports.md).

A report is created ``IN_PROGRESS`` and reaches its final status
``Limits.report_processing_time`` after its creation, as the clock passes (every call of
the book settles first): ``COMPLETED`` with a document when its time range holds data,
``CANCELLED`` when it holds none (reports.html: "an automatic cancellation if there is no
data to return"). A schedule creates a report each time the clock passes its
``nextReportCreationTime``, over the period that ended then. A document is rendered from the
store's own objects created in the range (both ends included), as CSV, in a ``data:`` URL
(a Decision: Amazon's is a pre-signed S3 URL; a ``data:`` URL needs no server and every HTTP
client library reads it). Reports are deleted ``Limits.report_retention`` after their
creation.

Create Report and Create Report Schedule take an ``x-amz-pay-idempotency-key``
(idempotency.html: "Amazon Pay enforces idempotency for POST requests"; the key in
manually-requesting-reports.html's Create Report request and in the Java, .NET and Ruby
SDKs' README examples) but do not need one (the PHP SDK's ReportingClientInterface.php:
"optional x-amz-pay-authtoken" only; the Node SDK's README sends none). With a key, the
same request again answers the first answer and creates nothing; a different request with
the key is ``DuplicateIdempotencyKey``. A key counts per operation (a Decision: the Node
SDK's tst/webStoreClientTest.js sends one key to createReportSchedule, createReport and
createReportSchedule again and expects 201 from each), apart from the other calls' keys.
"""

from __future__ import annotations

import base64
import csv
import heapq
import io
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from apfsm._clock import format_timestamp
from apfsm._errors import ApiError
from apfsm._spec import (
    PROCESSING_STATUSES,
    REPORT_TYPES,
    SCHEDULE_FREQUENCIES,
    UNSCHEDULABLE_REPORT_TYPES,
    Limits,
)

from .idempotency import valid_key
from .report_documents import document_rows
from .report_parse import (
    KEYED as _KEYED,
)
from .report_parse import (
    aware as _aware,
)
from .report_parse import (
    bad as _bad,
)
from .report_parse import (
    body as _body,
)
from .report_parse import (
    fingerprint as _fingerprint,
)
from .report_parse import (
    listed as _listed,
)
from .report_parse import (
    report_type as _report_type,
)
from .report_parse import (
    time as _time,
)
from .report_parse import (
    token as _token,
)
from .report_parse import (
    untoken as _untoken,
)
from .store import Store

__all__ = ["ReportBook"]

_BASE = 50_000_000_000  # reports.html's ids are 11 digits ("59007019641")


@attrs.define
class _Report:
    report_id: str
    report_type: str
    start: datetime
    end: datetime
    created: datetime
    status: str = "IN_PROGRESS"
    ended: datetime | None = None
    document_id: str | None = None

    def row(self) -> list[Any]:  # its row of ``ReportBook.to_json``
        ended = None if self.ended is None else self.ended.isoformat()
        times = (self.start.isoformat(), self.end.isoformat(), self.created.isoformat())
        return [self.report_id, self.report_type, *times, self.status, ended, self.document_id]

    def to_json(self) -> dict[str, Any]:
        # In the order the Node SDK's tst/webStoreClientTest.js compares Object.keys with
        # (alphabetical, as Amazon's answers).
        return {
            "createdTime": format_timestamp(self.created),
            "endTime": format_timestamp(self.end),
            "processingEndTime": None if self.ended is None else format_timestamp(self.ended),
            "processingStartTime": format_timestamp(self.created),
            "processingStatus": self.status,
            "reportDocumentId": self.document_id,
            "reportId": self.report_id,
            "reportType": self.report_type,
            "startTime": format_timestamp(self.start),
        }


@attrs.define
class _Schedule:
    schedule_id: str
    report_type: str
    frequency: str
    next_at: datetime

    def row(self) -> list[Any]:  # as _Report.row
        return [self.schedule_id, self.report_type, self.frequency, self.next_at.isoformat()]

    def to_json(self) -> dict[str, Any]:
        return {  # as _Report.to_json: the Node SDK's order
            "nextReportCreationTime": format_timestamp(self.next_at),
            "reportScheduleId": self.schedule_id,
            "reportType": self.report_type,
            "scheduleFrequency": self.frequency,
        }


class _ByTime:
    """Report ids by an instant (their creation), the earliest first: a heap, as reports
    are created in time order mostly but not always (a schedule's report is made at its
    own instant, schedules in turn; a snapshot holds any order)."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []  # (instant, tiebreak, id)

    def push(self, at: datetime, report_id: str) -> None:
        heapq.heappush(self._heap, (at, len(self._heap), report_id))

    def until(self, at: datetime) -> list[str]:
        """The ids pushed with an instant no later than ``at``, taken off."""
        taken = []
        while self._heap and self._heap[0][0] <= at:
            taken.append(heapq.heappop(self._heap)[2])
        return taken


class ReportBook:
    """The reports, schedules and documents of one simulator (module docs).

    Every method takes the API's JSON and returns it; a refused call raises ``ApiError``
    and changes nothing.
    """

    def __init__(
        self, store: Store, now: Callable[[], datetime], lock: threading.RLock, limits: Limits
    ):
        self._store = store
        self._limits = limits
        self._now = now
        self._lock = lock
        self.reports: dict[str, _Report] = {}
        self.schedules: dict[str, _Schedule] = {}
        self._documents: dict[str, str] = {}  # document id -> report id
        #: Per keyed operation: idempotency key -> [fingerprint, answer, [code, message]]
        #: (the answer, or the refusal, its first request got).
        self._keys: dict[str, dict[str, list[Any]]] = {name: {} for name in _KEYED}
        #: At most this many keys per keyed operation, the oldest forgotten first
        #: (``Simulator.retain(idempotency_keys=...)``; None: all, Amazon's rule).
        self.max_keys: int | None = None
        self._next = 0
        #: The reports by creation, for ``settle`` to find those to delete and those to
        #: finish without walking them all (``_ByTime``; gone or finished ones skipped).
        self._kept, self._pending = _ByTime(), _ByTime()
        if store.reports is not None:
            self._load(store.reports)
            self.save()

    # -- time -------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._next += 1
        return str(_BASE + self._next)

    def _queue(self, report_type: str, start: datetime, end: datetime, at: datetime) -> _Report:
        report = _Report(self._new_id(), report_type, start, end, at)
        self._add(report)
        self._mark("reports", report.report_id)
        return report

    def _add(self, report: _Report) -> None:
        self.reports[report.report_id] = report
        self._kept.push(report.created, report.report_id)
        if report.status == "IN_PROGRESS":
            self._pending.push(report.created, report.report_id)

    def _mark(self, table: str, row: str) -> None:
        """A row of ``table`` changed (``report_rows``): the next checkpoint writes it."""
        if (dirty := self._store.dirty) is not None:
            if table == "report_keys":
                dirty.reports.pop((table, row), None)  # a key stored again goes last
            dirty.reports.setdefault((table, row), None)

    def settle(self) -> None:
        """Create the reports schedules owe and finish the reports due (module docs)."""
        now = self._now()
        retention = self._limits.report_retention
        for schedule in self.schedules.values():
            period = SCHEDULE_FREQUENCIES[schedule.frequency]
            if schedule.next_at <= now - retention:  # skip what would be deleted
                missed = (now - retention - schedule.next_at) // period + 1
                schedule.next_at += missed * period
                self._mark("report_schedules", schedule.schedule_id)
            while schedule.next_at <= now:
                at = schedule.next_at
                self._queue(schedule.report_type, at - period, at, at)
                schedule.next_at = at + period
                self._mark("report_schedules", schedule.schedule_id)
        for report_id in self._kept.until(now - retention):
            if (report := self.reports.pop(report_id, None)) is None:
                continue
            self._mark("reports", report_id)
            if report.document_id is not None:
                self._documents.pop(report.document_id, None)
        processing = self._limits.report_processing_time
        for report_id in self._pending.until(now - processing):
            report = self.reports.get(report_id)
            if report is not None and report.status == "IN_PROGRESS":  # not failed since
                report.ended = report.created + processing
                self._mark("reports", report_id)
                if self.rows(report):
                    report.status = "COMPLETED"
                    report.document_id = f"amzn1.tortuga.0.{report.report_id}.{self._next}"
                    self._documents[report.document_id] = report.report_id
                else:
                    report.status = "CANCELLED"
        if self.reports or self.schedules:
            self.save()

    def save(self) -> None:
        """The book holds state: snapshots and checkpoints serialise it when taken, not
        every call (a whole-state copy per Create Report: 0.25 s at 26,000, issue 16)."""
        self._store.reports_source = self.to_json
        self._store.reports_row = self.row

    def to_json(self) -> dict[str, Any]:
        return {
            "next": self._next,
            "reports": [r.row() for r in self.reports.values()],
            "schedules": [s.row() for s in self.schedules.values()],
            **(
                {"keys": {name: dict(keys) for name, keys in self._keys.items()}}
                if any(self._keys.values())
                else {}
            ),
        }

    def row(self, table: str, row: str) -> Any:
        """A ``to_json`` row by table and id (``Dirty.reports``; None: gone); "head": next."""
        if table == "head":
            return {"next": self._next}
        if table == "reports":
            return None if (r := self.reports.get(row)) is None else r.row()
        if table == "report_schedules":
            return None if (s := self.schedules.get(row)) is None else s.row()
        operation, key = row.split(" ", 1)
        return self._keys[operation].get(key)

    def _load(self, data: Mapping[str, Any]) -> None:
        """Read ``to_json``'s form back. Raises ValueError on anything else."""
        try:
            self._next = int(data["next"])
            for rid, kind, start, end, created, status, ended, doc in data["reports"]:
                if kind not in REPORT_TYPES or status not in PROCESSING_STATUSES:
                    raise ValueError(f"bad report {rid!r}")
                report = _Report(
                    str(rid),
                    kind,
                    _aware(start),
                    _aware(end),
                    _aware(created),
                    status,
                    None if ended is None else _aware(ended),
                    None if doc is None else str(doc),
                )
                self._add(report)
                if report.document_id is not None:
                    self._documents[report.document_id] = report.report_id
            for sid, kind, frequency, next_at in data["schedules"]:
                if kind not in REPORT_TYPES or frequency not in SCHEDULE_FREQUENCIES:
                    raise ValueError(f"bad report schedule {sid!r}")
                self.schedules[str(sid)] = _Schedule(str(sid), kind, frequency, _aware(next_at))
            for name, keys in data.get("keys", {}).items():
                if name not in _KEYED:
                    raise ValueError(f"bad idempotency keys of {name!r}")
                for key, (print_, answer, error) in keys.items():
                    if not isinstance(print_, str) or (answer is None) == (error is None):
                        raise ValueError(f"bad idempotency key {key!r}")
                    if error is not None:
                        ApiError.from_code(*error)  # a known code, or ValueError
                    self._keys[name][str(key)] = [print_, answer, error]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed reports in the snapshot: {exc!r}") from None

    # -- content ----------------------------------------------------------------------

    def rows(self, report: _Report) -> list[list[str]]:
        """The document's rows, header first when there is data (else none)."""
        # Nothing after the request is reported.
        end = min(report.end, report.created)
        return document_rows(report.report_type, report.start, end, self._store.objects.values())

    def document_text(self, document_id: str) -> str:
        """A document's CSV text (what its ``url`` holds)."""
        with self._lock:
            self.settle()
            report_id = self._documents.get(document_id)
            if report_id is None:
                raise ApiError.from_code("ResourceNotFound", f"no report document {document_id}")
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(self.rows(self.reports[report_id]))
            return out.getvalue()

    # -- the API ----------------------------------------------------------------------

    def _keyed(
        self,
        operation: str,
        key: str | None,
        request: object,
        make: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """``make()``'s answer, kept under idempotency key ``key`` (module docs); the
        caller holds the lock. Raises ``ApiError``: a bad key (``InvalidHeaderValue``),
        a different request with the key, the first request's refusal again, or
        ``make``'s refusal."""
        if key is None:
            return make()
        if not valid_key(key, self._limits):
            raise ApiError.from_code(
                "InvalidHeaderValue",
                "x-amz-pay-idempotency-key must be 1 to "
                f"{self._limits.idempotency_key_max_length} characters of A-Z a-z 0-9 - _",
            )
        keys = self._keys[operation]
        print_ = _fingerprint(request)
        seen = keys.get(key)
        if seen is not None:
            if seen[0] != print_:
                raise ApiError.from_code(
                    "DuplicateIdempotencyKey",
                    f"idempotency key {key!r} was used with a different request",
                )
            if seen[2] is not None:
                raise ApiError.from_code(*seen[2])  # the first request's refusal again
            return dict(seen[1])  # the first answer; nothing is created
        try:
            answer = make()
        except ApiError as err:
            keys[key] = [print_, None, [err.reason_code, err.message]]
            self._mark("report_keys", f"{operation} {key}")
            self.trim_keys()
            self.save()
            raise
        keys[key] = [print_, dict(answer), None]
        self._mark("report_keys", f"{operation} {key}")
        self.trim_keys()
        self.save()
        return answer

    def trim_keys(self) -> None:
        """Forget the oldest keys of each keyed operation over ``max_keys`` (a forgotten
        key is new again, as on the API's own operations)."""
        if self.max_keys is None:
            return
        for operation, keys in self._keys.items():
            while len(keys) > self.max_keys:
                keys.pop(key := next(iter(keys)))
                self._mark("report_keys", f"{operation} {key}")

    def create_report(self, body: object, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Create Report (201): ``{"reportId": ...}``, the report queued ``IN_PROGRESS``;
        ``idempotency_key`` is the ``x-amz-pay-idempotency-key`` header (module docs)."""
        with self._lock:
            self.settle()
            return self._keyed(
                "create_report", idempotency_key, body, lambda: self._create_report(body)
            )

    def _create_report(self, body: object) -> dict[str, Any]:
        fields = _body(body, ("reportType", "startTime", "endTime"))
        kind = _report_type(fields.get("reportType"))
        start = _time(fields, "startTime")
        end = _time(fields, "endTime")
        assert start is not None
        assert end is not None
        if start > end:
            raise _bad("startTime", "later than endTime")
        report = self._queue(kind, start, end, self._now())
        self.save()
        return {"reportId": report.report_id}

    def get_report(self, report_id: str) -> dict[str, Any]:
        with self._lock:
            self.settle()
            report = self.reports.get(report_id)
            if report is None:
                raise ApiError.from_code("ResourceNotFound", f"no report {report_id}")
            return report.to_json()

    def get_reports(self, query: Mapping[str, Any] | None = None) -> dict[str, Any]:
        with self._lock:
            self.settle()
            query = dict(query or {})
            token = query.pop("nextToken", None)
            offset = 0
            if token is not None:
                if query:
                    raise ApiError.from_code(
                        "InvalidParameterCombination", "nextToken must be the only parameter"
                    )
                try:
                    query, offset = _untoken(str(token))
                except ValueError:
                    raise _bad("nextToken", "not a token this API returned") from None
            types = _listed(query.get("reportTypes"), "reportTypes", REPORT_TYPES)
            statuses = _listed(
                query.get("processingStatuses"),
                "processingStatuses",
                ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED"),
            )
            now = self._now()
            limits = self._limits
            since = _time(query, "createdSince", required=False) or now - limits.report_retention
            until = _time(query, "createdUntil", required=False) or now
            size = query.get("pageSize", limits.report_page_size)
            most = limits.report_page_size_max
            try:
                size = int(size)
            except (TypeError, ValueError):
                raise _bad("pageSize", f"an integer from 1 to {most}") from None
            if not 1 <= size <= most:
                raise _bad("pageSize", f"an integer from 1 to {most}")
            found = [
                r
                for r in reversed(self.reports.values())
                if (types is None or r.report_type in types)
                and (statuses is None or r.status in statuses)
                and since <= r.created <= until
            ]
            page = found[offset : offset + size]
            answer: dict[str, Any] = {"reports": [r.to_json() for r in page]}
            if offset + size < len(found):
                answer["nextToken"] = _token(query, offset + size)
            return answer

    def get_report_document(self, document_id: str) -> dict[str, Any]:
        text = self.document_text(document_id)
        data = base64.b64encode(text.encode("utf-8")).decode("ascii")
        return {
            "reportDocumentId": document_id,
            "url": f"data:text/csv;base64,{data}",
            "compressionAlgorithm": "N/A",
        }

    def create_report_schedule(
        self,
        body: object,
        *,
        delete_existing: bool | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Create Report Schedule (201): ``{"reportScheduleId": ...}``; ``delete_existing``
        is the ``deleteExistingSchedule`` query parameter, ``idempotency_key`` the
        ``x-amz-pay-idempotency-key`` header (module docs)."""
        with self._lock:
            self.settle()
            return self._keyed(
                "create_report_schedule",
                idempotency_key,
                [body, delete_existing],
                lambda: self._create_report_schedule(body, delete_existing),
            )

    def _create_report_schedule(self, body: object, delete_existing: bool | None) -> dict[str, Any]:
        fields = _body(
            body,
            (
                "reportType",
                "scheduleFrequency",
                "nextReportCreationTime",
                "deleteExistingSchedule",
            ),
        )
        kind = _report_type(fields.get("reportType"))
        if kind in UNSCHEDULABLE_REPORT_TYPES:
            raise _bad("reportType", f"{kind} does not support schedule creation")
        frequency = fields.get("scheduleFrequency")
        if frequency is None:
            raise ApiError.from_code("MissingParameterValue", "scheduleFrequency is required")
        if not isinstance(frequency, str) or frequency not in SCHEDULE_FREQUENCIES:
            raise _bad("scheduleFrequency", f"one of {', '.join(SCHEDULE_FREQUENCIES)}")
        now = self._now()
        next_at = _time(fields, "nextReportCreationTime", required=False)
        next_at = next_at or now + SCHEDULE_FREQUENCIES[frequency]
        if next_at < now:
            # Decision: a past time is taken, rolled forward by whole periods to the
            # first after now, no report made for the past (the Node SDK's
            # tst/webStoreClientTest.js creates a schedule at 20230618T150630Z and
            # expects 201).
            period = SCHEDULE_FREQUENCIES[frequency]
            next_at += ((now - next_at) // period + 1) * period
        delete = (
            fields.get("deleteExistingSchedule", False)
            if delete_existing is None
            else delete_existing
        )
        if delete in ("true", "false"):
            # Decision: the Java SDK's README puts the string "false" (org.json
            # JSONObject.put(key, "false")); taken as the boolean it names.
            delete = delete == "true"
        if not isinstance(delete, bool):
            raise _bad("deleteExistingSchedule", "true or false")
        existing = [s for s in self.schedules.values() if s.report_type == kind]
        if existing and not delete:
            raise ApiError.from_code(
                "InvalidRequest",
                f"a schedule for {kind} exists ({existing[0].schedule_id}); "
                "set deleteExistingSchedule to replace it",
            )
        for schedule in existing:
            del self.schedules[schedule.schedule_id]
            self._mark("report_schedules", schedule.schedule_id)
        schedule = _Schedule(self._new_id(), kind, frequency, next_at)
        self.schedules[schedule.schedule_id] = schedule
        self._mark("report_schedules", schedule.schedule_id)
        self.save()
        return {"reportScheduleId": schedule.schedule_id}

    def get_report_schedules(self, report_types: object = None) -> dict[str, Any]:
        with self._lock:
            self.settle()
            types = _listed(report_types, "reportTypes", REPORT_TYPES)
            return {
                "reportSchedules": [
                    s.to_json()
                    for s in self.schedules.values()
                    if types is None or s.report_type in types
                ]
            }

    def get_report_schedule(self, schedule_id: str) -> dict[str, Any]:
        with self._lock:
            self.settle()
            schedule = self.schedules.get(schedule_id)
            if schedule is None:
                raise ApiError.from_code("ResourceNotFound", f"no report schedule {schedule_id}")
            return schedule.to_json()

    def cancel_report_schedule(self, schedule_id: str) -> dict[str, Any]:
        with self._lock:
            self.settle()
            if self.schedules.pop(schedule_id, None) is None:
                raise ApiError.from_code("ResourceNotFound", f"no report schedule {schedule_id}")
            self._mark("report_schedules", schedule_id)
            self.save()
            return {}

    def fail_report(self, report_id: str) -> dict[str, Any]:
        """Amazon's side: a fatal error aborts a report still ``IN_PROGRESS``.

        Raises:
            ValueError: no such report, or it has finished already.
        """
        with self._lock:
            self.settle()
            report = self.reports.get(report_id)
            if report is None or report.status != "IN_PROGRESS":
                raise ValueError(f"no report {report_id!r} in progress")
            report.status = "FAILED"
            report.ended = self._now()
            self._mark("reports", report_id)
            self.save()
            return report.to_json()
