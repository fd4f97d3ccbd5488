"""Event recorder: write core v1 Events for `kubectl describe` without slowing the reconciler.

`event()` only puts the event on a bounded in-memory queue and returns. One background task
writes the queue to the API server. A repeat of the same (object, type, reason, message) within
the recorder's lifetime patches the existing Event's `count` and `lastTimestamp` instead of
creating a new one, like client-go's event correlator. Write errors are logged and dropped,
because an Event is diagnostic output. The write happens in the background task, so it cannot
fail the reconcile that called `event()`.

Callers must keep secrets out of `message`; the recorder does not inspect it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.runtime.kube import CORE_EVENTS, KubeClient, NotFound
from litellm_operator.runtime.logging import log_fields

logger = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
MAX_MESSAGE_BYTES = 1024
DEFAULT_QUEUE_SIZE = 1000
# Number of distinct (object, type, reason, message) entries remembered for aggregation.
MAX_AGGREGATION_ENTRIES = 4096


@attrs.frozen
class _PendingEvent:
    involved_object: dict[str, str]
    namespace: str
    type: str
    reason: str
    message: str
    timestamp: datetime


@attrs.define
class _RecordedEvent:
    name: str
    count: int


class EventRecorder:
    """Queue and write Events for one component (the `source.component` of each Event)."""

    def __init__(
        self,
        client: KubeClient,
        component: str,
        *,
        clock: Clock | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ):
        self._client = client
        self._component = component
        self._clock = clock or RealClock()
        self._host = socket.gethostname()
        self._queue: asyncio.Queue[_PendingEvent] = asyncio.Queue(maxsize=queue_size)
        # Aggregation key → the Event already written for it, least recently used first.
        self._recorded: collections.OrderedDict[tuple[str, ...], _RecordedEvent] = collections.OrderedDict()
        self._worker: asyncio.Task[None] | None = None
        self._dropped = 0
        self._last_name_nanoseconds = 0

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Queue an Event about `obj` and return at once; the write happens in the background."""
        if type_ not in (NORMAL, WARNING):
            logger.error("dropping event with invalid type", extra=log_fields(type=type_, reason=reason))
            return
        metadata = obj.get("metadata") or {}
        namespace = metadata.get("namespace") or "default"
        involved = {
            "apiVersion": obj.get("apiVersion", ""),
            "kind": obj.get("kind", ""),
            "name": metadata.get("name", ""),
            "namespace": metadata.get("namespace", ""),
            "uid": metadata.get("uid", ""),
            "resourceVersion": metadata.get("resourceVersion", ""),
        }
        pending = _PendingEvent(
            involved_object={key: value for key, value in involved.items() if value},
            namespace=namespace,
            type=type_,
            reason=reason,
            message=truncate_message(message),
            timestamp=self._clock.now(),
        )
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            self._dropped += 1
            logger.warning(
                "event queue full, dropping event",
                extra=log_fields(reason=reason, name=involved["name"], dropped=self._dropped),
            )
            return
        self._ensure_worker()

    async def flush(self) -> None:
        """Wait until every queued event has been written (or has failed)."""
        await self._queue.join()

    async def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, waiting at most `timeout` seconds, then stop the worker."""
        if self._worker is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            logger.warning(
                "events not written before shutdown",
                extra=log_fields(component=self._component, count=self._queue.qsize()),
            )
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    def _ensure_worker(self) -> None:
        if self._worker is not None and not self._worker.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            logger.warning(
                "no running event loop, queued events are not written", extra=log_fields(component=self._component)
            )
            return
        self._worker = loop.create_task(self._run(), name=f"events-{self._component}")

    async def _run(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning(
                    "writing event failed",
                    extra=log_fields(
                        reason=pending.reason,
                        namespace=pending.namespace,
                        name=pending.involved_object.get("name"),
                        error=str(error),
                    ),
                )
            finally:
                self._queue.task_done()

    async def _write(self, pending: _PendingEvent) -> None:
        key = _aggregation_key(pending)
        timestamp = format_time(pending.timestamp)
        recorded = self._recorded.get(key)
        if recorded is not None:
            self._recorded.move_to_end(key)
            try:
                await self._client.patch(
                    CORE_EVENTS,
                    pending.namespace,
                    recorded.name,
                    {"count": recorded.count + 1, "lastTimestamp": timestamp},
                )
                recorded.count += 1
                return
            except NotFound:
                # The Event expired on the server (default TTL one hour); start a new one.
                del self._recorded[key]

        # client-go names an Event "<object name>.<hex nanoseconds>". The counter keeps names
        # unique when two events carry the same timestamp (a fake clock, or a coarse one).
        nanoseconds = max(int(pending.timestamp.timestamp() * 1e9), self._last_name_nanoseconds + 1)
        self._last_name_nanoseconds = nanoseconds
        name = f"{pending.involved_object.get('name', 'unknown')}.{nanoseconds:x}"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": pending.namespace},
            "involvedObject": pending.involved_object,
            "reason": pending.reason,
            "message": pending.message,
            "type": pending.type,
            "source": {"component": self._component, "host": self._host},
            "reportingComponent": self._component,
            "reportingInstance": self._host,
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
        }
        await self._client.create(CORE_EVENTS, pending.namespace, body)
        self._recorded[key] = _RecordedEvent(name=name, count=1)
        while len(self._recorded) > MAX_AGGREGATION_ENTRIES:
            self._recorded.popitem(last=False)


def _aggregation_key(pending: _PendingEvent) -> tuple[str, ...]:
    involved = pending.involved_object
    return (
        pending.namespace,
        involved.get("kind", ""),
        involved.get("name", ""),
        involved.get("uid", ""),
        pending.type,
        pending.reason,
        pending.message,
    )


def truncate_message(message: str, limit: int = MAX_MESSAGE_BYTES) -> str:
    """Cut a message to at most `limit` UTF-8 bytes without splitting a character."""
    encoded = message.encode()
    if len(encoded) <= limit:
        return message
    return encoded[:limit].decode(errors="ignore")


def format_time(value: datetime) -> str:
    """Format a metav1.Time: RFC 3339 UTC with second precision."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
