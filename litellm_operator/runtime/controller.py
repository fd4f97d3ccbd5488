"""Controller: workers that take object keys from a workqueue and call a reconciler.

Semantics follow controller-runtime. A reconciler is level-triggered: it receives only the
``Request`` (namespace and name) and reads the current state itself, so it never depends on
which event woke it. What the reconciler returns decides what happens to the key next:

- raising an exception retries the key with rate-limited backoff;
- ``Result(requeue_after=s)`` resets the failure count and adds the key again after ``s`` seconds;
- ``Result(requeue=True)`` retries the key with rate-limited backoff without counting an error;
- ``Result()`` (or ``None``) resets the failure count.

A failing reconcile never stops its worker. Every log line written during a reconcile can carry
the same keys (``controller``, ``namespace``, ``name``, ``reconcileID``) through
``ReconcileLogAdapter``, so one object can be followed through the logs.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Protocol

import attrs

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.runtime.logging import LOG_FIELDS, log_fields, quote
from litellm_operator.runtime.metrics import NoopMetrics
from litellm_operator.runtime.ratelimit import RateLimiter
from litellm_operator.runtime.workqueue import RateLimitingQueue, ShutDown

logger = logging.getLogger(__name__)

# Key=value fields of the reconcile running in the current task; empty outside a reconcile.
_reconcile_fields: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "reconcile_fields", default=MappingProxyType({})
)


@attrs.frozen
class Request:
    """Key of the object to reconcile; ``str()`` gives ``namespace/name`` like the store's keys."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> Request:
        """Build the request for an object as the API server returns it."""
        metadata = obj.get("metadata") or {}
        return cls(metadata.get("namespace") or "", metadata["name"])

    @classmethod
    def from_key(cls, key: str) -> Request:
        """Parse a ``namespace/name`` key, or a bare ``name`` for a cluster-scoped object."""
        namespace, _, name = key.rpartition("/")
        return cls(namespace, name)


def _to_seconds(value: float | timedelta | None) -> float | None:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


@attrs.frozen
class Result:
    """Instruction to the controller for the key after a successful reconcile.

    ``requeue_after`` is in seconds (a ``timedelta`` is converted). When it is positive it wins
    over ``requeue``.
    """

    requeue: bool = False
    requeue_after: float | None = attrs.field(default=None, converter=_to_seconds)


class Reconciler(Protocol):
    async def reconcile(self, request: Request) -> Result | None:
        """Make the world match the object named by ``request``; raise to retry with backoff."""
        ...


def reconcile_log_fields() -> dict[str, str]:
    """Return the controller, namespace, name and reconcileID of the reconcile in this task."""
    return dict(_reconcile_fields.get())


def format_log_fields(fields: Mapping[str, object]) -> str:
    """Format ``fields`` as ``key=value`` pairs, quoted as the log formatters quote them."""
    return " ".join(f"{key}={quote(value)}" for key, value in fields.items())


class ReconcileLogAdapter(logging.LoggerAdapter):
    """Logger that adds the current reconcile's fields, its own ``extra`` and a call's
    ``extra=log_fields(...)`` as key=value context.

    The fields travel in ``extra["log_fields"]``, because ``name`` as a plain ``extra`` key would
    overwrite the LogRecord's own attribute, which ``logging`` rejects with KeyError. They are also
    appended to the message text for handlers without the operator's formatter, such as pytest's
    caplog. The operator's text and JSON formatters strip that copy and render the fields as
    keys. Outside a reconcile only the adapter's and the call's fields are added.
    """

    def __init__(self, logger: logging.Logger, extra: Mapping[str, object] | None = None) -> None:
        super().__init__(logger, dict(extra or {}))

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(kwargs.get("extra") or {})
        fields = {**_reconcile_fields.get(), **(self.extra or {}), **(extra.get(LOG_FIELDS) or {})}
        if not fields:
            return msg, kwargs
        extra[LOG_FIELDS] = fields
        kwargs["extra"] = extra
        return f"{msg} {format_log_fields(fields)}", kwargs


# Module-level logger for lines outside a reconcile; fields come from each call's log_fields.
_log = ReconcileLogAdapter(logger)


def is_status_only_update(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Return True when an update changed nothing a reconciler acts on, only status.

    That is the case when the resourceVersion changed but generation, labels, annotations,
    finalizers, deletionTimestamp and ownerReferences did not. A resync (same resourceVersion)
    is not status-only. An object without ``metadata.generation`` (a kind without a status
    subresource, such as a Secret) is never status-only, because its spec changes do not bump
    a generation.
    """
    old_meta = old.get("metadata") or {}
    new_meta = new.get("metadata") or {}
    if old_meta.get("resourceVersion") == new_meta.get("resourceVersion"):
        return False
    if new_meta.get("generation") is None:
        return False

    if old_meta.get("generation") != new_meta.get("generation"):
        return False
    if old_meta.get("deletionTimestamp") != new_meta.get("deletionTimestamp"):
        return False
    for field in ("labels", "annotations", "finalizers", "ownerReferences"):
        # An empty collection and a missing one are the same to the API server.
        if (old_meta.get(field) or None) != (new_meta.get(field) or None):
            return False
    return True


class _OwnEventHandler:
    """Enqueues the object itself on every event except status-only updates."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self._controller.enqueue(Request.from_object(obj))

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        if is_status_only_update(old, new):
            return
        self._controller.enqueue(Request.from_object(new))

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self._controller.enqueue(Request.from_object(obj))


class _MappedEventHandler:
    """Enqueues the requests ``map_fn`` returns for every event, status changes included."""

    def __init__(
        self, controller: Controller, map_fn: Callable[[Mapping[str, Any]], Iterable[Request]]
    ) -> None:
        self._controller = controller
        self._map_fn = map_fn

    def on_add(self, obj: Mapping[str, Any]) -> None:
        self._enqueue_mapped(obj)

    def on_update(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        # Both sides, so that a reference that moved wakes the old target and the new one.
        self._enqueue_mapped(old)
        self._enqueue_mapped(new)

    def on_delete(self, obj: Mapping[str, Any]) -> None:
        self._enqueue_mapped(obj)

    def _enqueue_mapped(self, obj: Mapping[str, Any]) -> None:
        # Logged here rather than raised, so the line names the controller and the object.
        try:
            requests = list(self._map_fn(obj))
        except Exception as error:
            metadata = obj.get("metadata") or {}
            _log.error(
                "Mapping an event to requests failed",
                extra=log_fields(
                    controller=self._controller.name,
                    namespace=metadata.get("namespace", ""),
                    name=metadata.get("name", ""),
                    error=repr(error),
                ),
            )
            return
        for request in requests:
            self._controller.enqueue(request)


class Controller:
    """Runs ``max_concurrent_reconciles`` workers that reconcile keys from ``queue``."""

    def __init__(
        self,
        name: str,
        reconciler: Reconciler,
        *,
        max_concurrent_reconciles: int = 1,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        metrics: NoopMetrics | None = None,
    ) -> None:
        if max_concurrent_reconciles < 1:
            raise ValueError(
                f"max_concurrent_reconciles must be at least 1, got {max_concurrent_reconciles}"
            )
        self.name = name
        self.reconciler = reconciler
        self.max_concurrent_reconciles = max_concurrent_reconciles
        self._clock = clock or RealClock()
        self._metrics = metrics or NoopMetrics()
        self.queue = RateLimitingQueue(
            name, rate_limiter=rate_limiter, clock=self._clock, metrics=self._metrics
        )
        self._log = ReconcileLogAdapter(logger)
        self._workers: list[asyncio.Task[None]] = []
        # Set by shutdown() and when run() ends; a worker that finds it set exits without reconciling.
        self._stopping = False

    def enqueue(self, request: Request) -> None:
        """Add ``request`` to the queue now."""
        self.queue.add(request)

    def watch_own(self, informer: Any) -> None:
        """Reconcile objects of the informer's kind on every change except status-only updates."""
        informer.add_event_handler(_OwnEventHandler(self))

    def watch_mapped(
        self, informer: Any, map_fn: Callable[[Mapping[str, Any]], Iterable[Request]]
    ) -> None:
        """Reconcile the requests ``map_fn(obj)`` returns on every event of the informer.

        Updates call ``map_fn`` on the old and on the new object. ``map_fn`` must not block;
        an exception from it is logged and the event is skipped.
        """
        informer.add_event_handler(_MappedEventHandler(self, map_fn))

    async def run(self) -> None:
        """Start the workers and return once they stop, after ``shutdown`` or when cancelled."""
        if self._workers:
            raise RuntimeError(f"controller {self.name} is already running")
        self._metrics.init_controller(self.name, self.max_concurrent_reconciles)
        self.queue.start()
        _log.info(
            "Starting workers",
            extra=log_fields(controller=self.name, worker_count=self.max_concurrent_reconciles),
        )
        self._workers = [
            asyncio.create_task(self._run_worker(), name=f"{self.name}-worker-{index}")
            for index in range(self.max_concurrent_reconciles)
        ]

        try:
            # asyncio.wait, unlike gather, neither raises when shutdown() cancels a worker nor
            # leaves the others running when one fails.
            await asyncio.wait(self._workers, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            self._stopping = True
            self.queue.shutdown()
            for worker in self._workers:
                worker.cancel()
            outcomes = await asyncio.gather(*self._workers, return_exceptions=True)
            _log.info("Stopped workers", extra=log_fields(controller=self.name))

        # A worker catches every reconciler error, so an exception here is a bug in this module.
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome

    async def shutdown(self, drain_timeout: float = 30.0) -> None:
        """Stop taking keys and wait up to ``drain_timeout`` seconds for running reconciles.

        Reconciles still running at the deadline are cancelled. Keys still queued are dropped;
        the next process picks them up from its initial list.
        """
        self._stopping = True
        drain = asyncio.ensure_future(self.queue.shutdown_with_drain())
        deadline = asyncio.ensure_future(self._clock.sleep(drain_timeout))
        try:
            finished, _ = await asyncio.wait((drain, deadline), return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
            drain.cancel()

        if drain not in finished:
            _log.warning(
                "Cancelling reconciles still running after the drain timeout",
                extra=log_fields(controller=self.name, timeout=drain_timeout),
            )
            for worker in self._workers:
                worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _run_worker(self) -> None:
        while not self._stopping:
            try:
                request = await self.queue.get()
            except ShutDown:
                return
            try:
                if self._stopping:
                    return
                await self._reconcile(request)
            finally:
                self.queue.done(request)

    async def _reconcile(self, request: Request) -> None:
        token = _reconcile_fields.set({
            "controller": self.name,
            "namespace": request.namespace,
            "name": request.name,
            "reconcileID": uuid.uuid4().hex[:8],
        })
        started = self._clock.monotonic()
        self._metrics.add_active_workers(self.name, 1)
        try:
            result = await self.reconciler.reconcile(request)
        except asyncio.CancelledError as error:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # This worker was not cancelled, so the reconciler let an inner cancellation escape.
            self._handle_error(request, error, started)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except Exception as error:
            self._handle_error(request, error, started)
        except BaseException as error:
            # controller-runtime recovers a panicking reconciler; a BaseException that is not
            # an Exception is this runtime's equivalent, and it must not kill the worker either.
            self._metrics.observe_reconcile_panic(self.name)
            self._handle_error(request, error, started)
        else:
            self._handle_result(request, result or Result(), started)
        finally:
            self._metrics.add_active_workers(self.name, -1)
            _reconcile_fields.reset(token)

    def _handle_error(self, request: Request, error: BaseException, started: float) -> None:
        self.queue.add_rate_limited(request)
        self._metrics.observe_reconcile(self.name, "error", self._clock.monotonic() - started)
        # One line per failure; the traceback only when debug logging is on.
        self._log.error(
            "Reconciler error error=%s retries=%d",
            json.dumps(f"{type(error).__name__}: {error}"), self.queue.num_requeues(request),
            exc_info=error if logger.isEnabledFor(logging.DEBUG) else None,
        )

    def _handle_result(self, request: Request, result: Result, started: float) -> None:
        elapsed = self._clock.monotonic() - started
        if result.requeue_after is not None and result.requeue_after > 0:
            self.queue.forget(request)
            self.queue.add_after(request, result.requeue_after)
            self._metrics.observe_reconcile(self.name, "requeue_after", elapsed)
        elif result.requeue:
            self.queue.add_rate_limited(request)
            self._metrics.observe_reconcile(self.name, "requeue", elapsed)
        else:
            self.queue.forget(request)
            self._metrics.observe_reconcile(self.name, "success", elapsed)
        self._log.debug("Reconcile finished requeue=%s requeue_after=%s",
                        result.requeue, result.requeue_after)
