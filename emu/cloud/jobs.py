"""The AWS IoT Jobs service for one thing, answering over a :class:`MessageBus`.

What the device sees follows the AWS IoT developer guide ("Jobs device MQTT API operations",
"Jobs notifications") and the API reference ("UpdateJobExecution", "JobExecutionState",
"JobExecutionStatusDetails"). Requests go to topics under ``$aws/things/<thing>/jobs/`` and are
answered on the request topic plus ``/accepted`` or ``/rejected``:

==================  ===========================  ======================================
request topic       operation                    accepted payload
==================  ===========================  ======================================
``$next/get``       DescribeJobExecution, next   ``execution`` (absent when none pend)
``<jobId>/get``     DescribeJobExecution         ``execution``
``<jobId>/update``  UpdateJobExecution           ``executionState``/``jobDocument`` if asked
``get``             GetPendingJobExecutions      ``inProgressJobs``, ``queuedJobs``
``start-next``      StartNextPendingJobExecution ``execution`` (absent when none pend)
==================  ===========================  ======================================

Every answer carries ``timestamp`` and echoes a valid ``clientToken``. A rejection carries
``code`` and ``message`` (and ``executionState`` for InvalidStateTransition and
VersionMismatch). The service also publishes ``notify`` when the set of pending executions
changes and ``notify-next`` when the first pending execution changes; pending executions are
ordered IN_PROGRESS before QUEUED, then by the time they were queued.

Rules applied: an execution starts QUEUED with versionNumber 1; every accepted change adds one
to versionNumber; a device may set only IN_PROGRESS, SUCCEEDED, FAILED or REJECTED; an execution
in a terminal state cannot change (InvalidStateTransition); a given ``expectedVersion`` must
equal the current version (VersionMismatch); ``statusDetails``, when given, replaces the stored
map and must map keys of ``[a-zA-Z0-9:_-]{1,128}`` to 1..1024 printable characters.

Not modelled: step and in-progress timers (``stepTimeoutInMinutes`` is checked for type and
then ignored; a scenario calls :meth:`ThingJobs.time_out`), job rollouts, aborts and
scheduling, namespaces, and the 10-pair limit on ``statusDetails`` (the reference states it for
CancelJobExecution only).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from emu.cloud.errors import CloudError
from emu.cloud.mqtt import Message, MessageBus

log = logging.getLogger(__name__)

QUEUED = "QUEUED"
IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
REJECTED = "REJECTED"
TIMED_OUT = "TIMED_OUT"
CANCELED = "CANCELED"
REMOVED = "REMOVED"
STATUSES = (QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, REJECTED, TIMED_OUT, CANCELED, REMOVED)
TERMINAL = frozenset({SUCCEEDED, FAILED, REJECTED, TIMED_OUT, CANCELED, REMOVED})
DEVICE_STATUSES = frozenset({IN_PROGRESS, SUCCEEDED, FAILED, REJECTED})

# Codes of the Jobs ErrorResponse.
INVALID_TOPIC = "InvalidTopic"
INVALID_JSON = "InvalidJson"
INVALID_REQUEST = "InvalidRequest"
INVALID_STATE_TRANSITION = "InvalidStateTransition"
RESOURCE_NOT_FOUND = "ResourceNotFound"
VERSION_MISMATCH = "VersionMismatch"

MAX_CLIENT_TOKEN = 64
JOB_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
THING_NAME = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
DETAILS_KEY = re.compile(r"[a-zA-Z0-9:_-]{1,128}")
MAX_DETAILS_VALUE = 1024


class ManualClock:
    """Whole seconds since the epoch that move only when told to, for repeatable payloads."""

    def __init__(self, start: int = 1_700_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        """The current time in whole seconds."""
        return self.now

    def advance(self, seconds: int) -> None:
        """Move the clock forward."""
        self.now += seconds


@dataclass
class Execution:
    """The execution of one job on this thing (AWS: JobExecution)."""

    job_id: str
    document: dict[str, Any]
    queued_at: int
    order: int
    status: str = QUEUED
    status_details: dict[str, str] = field(default_factory=dict)
    started_at: int | None = None
    last_updated_at: int = 0
    version_number: int = 1
    execution_number: int = 1

    def state(self) -> dict[str, Any]:
        """The JobExecutionState object of rejections and update answers."""
        return {"status": self.status, "statusDetails": dict(self.status_details),
                "versionNumber": self.version_number}

    def summary(self) -> dict[str, Any]:
        """The JobExecutionSummary object of ``notify`` and GetPendingJobExecutions."""
        out: dict[str, Any] = {"jobId": self.job_id, "queuedAt": self.queued_at}
        if self.started_at is not None:
            out["startedAt"] = self.started_at
        out.update(lastUpdatedAt=self.last_updated_at, executionNumber=self.execution_number,
                   versionNumber=self.version_number)
        return out

    def describe(self, thing: str | None, with_document: bool = True) -> dict[str, Any]:
        """The JobExecution object; ``thing`` is omitted from notifications (None)."""
        out: dict[str, Any] = {"jobId": self.job_id}
        if thing is not None:
            out["thingName"] = thing
        out["status"] = self.status
        if self.status_details:
            out["statusDetails"] = dict(self.status_details)
        out.update((k, v) for k, v in self.summary().items() if k != "jobId")
        if with_document:
            out["jobDocument"] = self.document
        return out


@dataclass(frozen=True)
class StatusUpdate:
    """One UpdateJobExecution request as the service saw it, for scenario verdicts.

    ``code`` is None when the update was accepted, else the rejection code.
    """

    thing: str
    job_id: str
    status: Any
    status_details: Any
    code: str | None
    timestamp: int

    @property
    def accepted(self) -> bool:
        """Whether the service accepted the update."""
        return self.code is None


class _Rejection(Exception):
    """Internal: a request is answered on its rejected topic."""

    def __init__(self, code: str, message: str, execution: Execution | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.execution = execution


class ThingJobs:
    """The job executions of one thing and the MQTT API that serves them."""

    def __init__(self, bus: MessageBus, thing: str, clock: Callable[[], int] | None = None,
                 on_update: Callable[[StatusUpdate], None] | None = None) -> None:
        """Subscribe to the thing's job topics. ``on_update`` sees every update request."""
        if not THING_NAME.fullmatch(thing):
            raise CloudError(f"thing name {thing!r} does not match [a-zA-Z0-9:_-]{{1,128}}")
        self.bus = bus
        self.thing = thing
        self.clock = clock or ManualClock()
        self.on_update = on_update
        self.updates: list[StatusUpdate] = []
        self.prefix = f"$aws/things/{thing}/jobs/"
        self._executions: dict[str, Execution] = {}
        self._order = 0
        self._sub = bus.subscribe(self.prefix + "#", self._on_message, qos=1)

    def close(self) -> None:
        """Stop answering requests."""
        self.bus.unsubscribe(self._sub)

    # -- control plane ---------------------------------------------------------------------

    def add_job(self, job_id: str, document: dict[str, Any]) -> Execution:
        """Queue a new job for this thing (AWS: CreateJob targeting it)."""
        if not JOB_ID.fullmatch(job_id):
            raise CloudError(f"job id {job_id!r} does not match [a-zA-Z0-9_-]{{1,64}}")
        if job_id in self._executions:
            raise CloudError(f"job {job_id} already exists for thing {self.thing}")
        now = self.clock()
        self._order += 1
        with self._notifying():
            execution = Execution(job_id, document, now, self._order, last_updated_at=now)
            self._executions[job_id] = execution
        return execution

    def cancel_job(self, job_id: str, force: bool = False) -> str:
        """Cancel a job (AWS: CancelJob): a QUEUED execution becomes CANCELED, an IN_PROGRESS
        one only with ``force``; terminal executions stay. Returns the resulting status."""
        execution = self.execution(job_id)
        if execution.status == QUEUED or (force and execution.status == IN_PROGRESS):
            self._set_terminal(execution, CANCELED)
        return execution.status

    def time_out(self, job_id: str) -> str:
        """Let a pending execution's timer expire: it becomes TIMED_OUT."""
        execution = self.execution(job_id)
        if execution.status not in TERMINAL:
            self._set_terminal(execution, TIMED_OUT)
        return execution.status

    def remove(self, job_id: str) -> str:
        """Take the thing out of the job's targets: a pending execution becomes REMOVED."""
        execution = self.execution(job_id)
        if execution.status not in TERMINAL:
            self._set_terminal(execution, REMOVED)
        return execution.status

    def execution(self, job_id: str) -> Execution:
        """The execution of ``job_id`` (raises CloudError when there is none)."""
        try:
            return self._executions[job_id]
        except KeyError:
            raise CloudError(f"no job {job_id} for thing {self.thing}") from None

    def pending(self) -> list[Execution]:
        """Non-terminal executions, IN_PROGRESS first, then oldest queued first."""
        live = [e for e in self._executions.values() if e.status not in TERMINAL]
        return sorted(live, key=lambda e: (e.status != IN_PROGRESS, e.queued_at, e.order))

    def next_execution(self) -> Execution | None:
        """The execution ``$next`` names, or None."""
        pending = self.pending()
        return pending[0] if pending else None

    def _set_terminal(self, execution: Execution, status: str) -> None:
        """A control-plane change to a terminal state, with its notifications."""
        with self._notifying():
            self._touch(execution, status)

    # -- notifications ---------------------------------------------------------------------

    @contextmanager
    def _notifying(self) -> Iterator[None]:
        """Publish ``notify``/``notify-next`` if the change made inside the block calls for
        them. Nothing is published when the block raises."""
        before = [e.job_id for e in self.pending()]
        yield
        after = [e.job_id for e in self.pending()]
        if set(before) != set(after):
            self._publish_notify()
        if before[:1] != after[:1]:
            self._publish_notify_next()

    def _publish_notify(self) -> None:
        """The ListNotification: pending summaries grouped by status, empty groups left out."""
        jobs: dict[str, list[dict[str, Any]]] = {}
        for execution in self.pending():
            jobs.setdefault(execution.status, []).append(execution.summary())
        self._publish("notify", {"timestamp": self.clock(), "jobs": jobs})

    def _publish_notify_next(self) -> None:
        """The NextNotification: the next execution, or only a timestamp when none pends."""
        body: dict[str, Any] = {"timestamp": self.clock()}
        nxt = self.next_execution()
        if nxt is not None:
            body["execution"] = nxt.describe(None)
        self._publish("notify-next", body)

    def _publish(self, suffix: str, body: dict[str, Any]) -> None:
        """Publish a JSON payload under the thing's jobs prefix."""
        payload = json.dumps(body, separators=(",", ":"))
        self.bus.publish(self.prefix + suffix, payload, qos=1, sender=self)

    # -- data plane ------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        """Answer one request that arrived under the jobs prefix."""
        if msg.sender is self:
            return
        levels = msg.topic[len(self.prefix):].split("/")
        if levels[-1] in ("accepted", "rejected") or levels in (["notify"], ["notify-next"]):
            return
        token = None
        try:
            handler, job_id = self._route(levels)
            request = _parse_request(msg.payload)
            token = _client_token(request)
            body = handler(job_id, request, msg.topic)
        except _Rejection as rejection:
            self._reject(msg.topic, rejection, token)
            return
        if body is not None:
            self._answer(msg.topic + "/accepted", body, token)

    def _route(self, levels: list[str]) -> tuple[Callable[..., dict[str, Any] | None], str]:
        """Map the topic levels after the prefix to a handler and a job id."""
        if levels == ["get"]:
            return self._get_pending, ""
        if levels == ["start-next"]:
            return self._start_next, ""
        if len(levels) == 2 and levels[1] == "get":
            return self._describe, levels[0]
        if len(levels) == 2 and levels[1] == "update" and levels[0] != "$next":
            return self._update, levels[0]
        raise _Rejection(INVALID_TOPIC, "the topic maps to no Jobs API")

    def _answer(self, topic: str, body: dict[str, Any], token: str | None) -> None:
        """Publish an accepted answer with its timestamp and client token."""
        body["timestamp"] = self.clock()
        if token is not None:
            body["clientToken"] = token
        self.bus.publish(topic, json.dumps(body, separators=(",", ":")), qos=1, sender=self)

    def _reject(self, topic: str, rejection: _Rejection, token: str | None) -> None:
        """Publish an ErrorResponse on the rejected topic of a request."""
        body: dict[str, Any] = {"code": rejection.code, "message": rejection.message}
        if rejection.execution is not None:
            body["executionState"] = rejection.execution.state()
        log.debug("%s rejected: %s", topic, rejection.code)
        self._answer(topic + "/rejected", body, token)

    def _lookup(self, job_id: str, request: dict[str, Any]) -> Execution:
        """The execution a request names, checked against its ``executionNumber``."""
        number = _optional(request, "executionNumber", int)
        execution = self._executions.get(job_id)
        if execution is None or (number is not None and number != execution.execution_number):
            raise _Rejection(RESOURCE_NOT_FOUND, f"no execution of job {job_id} for this thing")
        return execution

    def _describe(self, job_id: str, request: dict[str, Any], topic: str) -> dict[str, Any]:
        """DescribeJobExecution for ``$next`` or a job id."""
        with_document = _optional(request, "includeJobDocument", bool)
        if job_id == "$next":
            execution = self.next_execution()
            if execution is None:
                return {}
        else:
            execution = self._lookup(job_id, request)
        return {"execution": execution.describe(self.thing, with_document is not False)}

    def _get_pending(self, _job_id: str, _request: dict[str, Any],
                     _topic: str) -> dict[str, Any]:
        """GetPendingJobExecutions."""
        pending = self.pending()
        return {"inProgressJobs": [e.summary() for e in pending if e.status == IN_PROGRESS],
                "queuedJobs": [e.summary() for e in pending if e.status == QUEUED]}

    def _start_next(self, _job_id: str, request: dict[str, Any], _topic: str) -> dict[str, Any]:
        """StartNextPendingJobExecution: the next QUEUED execution becomes IN_PROGRESS."""
        details = _status_details(request)
        _optional(request, "stepTimeoutInMinutes", int)
        execution = self.next_execution()
        if execution is None:
            return {}
        if execution.status == QUEUED:
            with self._notifying():
                self._touch(execution, IN_PROGRESS, details)
        return {"execution": execution.describe(self.thing)}

    def _update(self, job_id: str, request: dict[str, Any], topic: str) -> None:
        """UpdateJobExecution. It answers itself, so that the answer precedes the
        notifications, and records the request whatever the outcome."""
        try:
            execution = self._check_update(job_id, request)
        except _Rejection as rejection:
            self._record(job_id, request, rejection.code)
            raise
        self._record(job_id, request, None)
        body: dict[str, Any] = {}
        with self._notifying():
            self._touch(execution, request["status"], _status_details(request))
            if request.get("includeJobExecutionState") is True:
                body["executionState"] = execution.state()
            if request.get("includeJobDocument") is True:
                body["jobDocument"] = execution.document
            self._answer(topic + "/accepted", body, request.get("clientToken"))

    def _check_update(self, job_id: str, request: dict[str, Any]) -> Execution:
        """Check an update request against the API and the execution's state."""
        status = request.get("status")
        if not isinstance(status, str) or status not in DEVICE_STATUSES:
            raise _Rejection(INVALID_REQUEST,
                             "status must be IN_PROGRESS, SUCCEEDED, FAILED or REJECTED")
        _status_details(request)
        for key, kind in (("stepTimeoutInMinutes", int), ("includeJobExecutionState", bool),
                          ("includeJobDocument", bool)):
            _optional(request, key, kind)
        expected = _optional(request, "expectedVersion", int)
        execution = self._lookup(job_id, request)
        if expected is not None and expected != execution.version_number:
            raise _Rejection(VERSION_MISMATCH, "expectedVersion is not the current version",
                             execution)
        if execution.status in TERMINAL:
            raise _Rejection(INVALID_STATE_TRANSITION,
                             f"the execution is {execution.status}, a terminal state", execution)
        return execution

    def _touch(self, execution: Execution, status: str,
               details: dict[str, str] | None = None) -> None:
        """Apply an accepted change: status, details, version and times."""
        now = self.clock()
        if status == IN_PROGRESS and execution.started_at is None:
            execution.started_at = now
        execution.status = status
        if details is not None:
            execution.status_details = details
        execution.version_number += 1
        execution.last_updated_at = now

    def _record(self, job_id: str, request: dict[str, Any], code: str | None) -> None:
        """Log an update request for verdicts."""
        update = StatusUpdate(self.thing, job_id, request.get("status"),
                              request.get("statusDetails"), code, self.clock())
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)


def _parse_request(payload: bytes) -> dict[str, Any]:
    """Decode a request body; an empty payload counts as ``{}``."""
    if not payload.strip():
        return {}
    try:
        request = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Rejection(INVALID_JSON, "the request is not valid UTF-8 JSON") from None
    if not isinstance(request, dict):
        raise _Rejection(INVALID_REQUEST, "the request must be a JSON object")
    return request


def _client_token(request: dict[str, Any]) -> str | None:
    """The client token to echo; a malformed one is rejected and not echoed."""
    token = request.get("clientToken")
    if token is None:
        return None
    if not isinstance(token, str) or not 1 <= len(token.encode("utf-8")) <= MAX_CLIENT_TOKEN:
        raise _Rejection(INVALID_REQUEST, "clientToken must be a string of 1 to 64 bytes")
    return token


def _optional(request: dict[str, Any], key: str, kind: type) -> Any:
    """An optional field of type ``kind`` (null counts as absent); None when absent."""
    value = request.get(key)
    if value is None:
        return None
    wrong_bool = kind is int and isinstance(value, bool)
    if wrong_bool or not isinstance(value, kind):
        raise _Rejection(INVALID_REQUEST, f"{key} must be a {kind.__name__}")
    return value


def _status_details(request: dict[str, Any]) -> dict[str, str] | None:
    """The ``statusDetails`` map of a request, checked against the API's constraints."""
    details = request.get("statusDetails")
    if details is None:
        return None
    if not isinstance(details, dict):
        raise _Rejection(INVALID_REQUEST, "statusDetails must be an object")
    for key, value in details.items():
        if not DETAILS_KEY.fullmatch(key):
            raise _Rejection(INVALID_REQUEST, f"statusDetails key {key!r} is not allowed")
        if not isinstance(value, str) or not _printable(value):
            raise _Rejection(INVALID_REQUEST, f"statusDetails value of {key!r} is not allowed")
    return dict(details)


def _printable(value: str) -> bool:
    """1 to 1024 characters, none in Unicode category C (control, format, unassigned)."""
    if not 1 <= len(value) <= MAX_DETAILS_VALUE:
        return False
    return not any(unicodedata.category(ch).startswith("C") for ch in value)
