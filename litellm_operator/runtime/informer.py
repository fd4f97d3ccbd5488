"""Shared informer: one store of a resource, kept current by reflectors, feeding event handlers.

One reflector runs per watched namespace (or a single one for all namespaces), all writing into
the same store. Handlers are called synchronously, in the order the events arrive, right after
the store has been updated, so a handler that reads the store gets the new state. Handlers must
not block; they are expected to put keys on a workqueue. An exception in a handler is logged and
does not stop the informer or the other handlers.

Resync replays every cached object to the handlers as an update whose old and new objects are the
same dict. It does not contact the API server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.runtime.kube import KubeClient, Resource
from litellm_operator.runtime.logging import log_fields
from litellm_operator.runtime.reflector import DEFAULT_MIN_WATCH_TIMEOUT, Backoff, Reflector
from litellm_operator.runtime.store import IndexFunc, Store, object_key

logger = logging.getLogger(__name__)


class EventHandler(Protocol):
    def on_add(self, obj: dict[str, Any]) -> None: ...

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None: ...

    def on_delete(self, obj: dict[str, Any]) -> None: ...


class Informer:
    """List+watch cache of one resource with event handlers, indexes and an optional resync."""

    def __init__(
        self,
        client: KubeClient,
        resource: Resource,
        *,
        namespace: str | None = None,
        namespaces: Iterable[str] | None = None,
        resync_period: float | None = None,
        clock: Clock | None = None,
        label_selector: str | None = None,
        min_watch_timeout: float = DEFAULT_MIN_WATCH_TIMEOUT,
        backoff_initial: float = 0.8,
    ):
        if namespace is not None and namespaces is not None:
            raise ValueError("pass either namespace or namespaces, not both")
        self.resource = resource
        self.store = Store()
        self._clock = clock or RealClock()
        self._resync_period = resync_period
        self._handlers: list[EventHandler] = []
        self._synced = asyncio.Event()

        # None in the list means all namespaces; a cluster-scoped resource is always watched whole.
        watched: list[str | None]
        if not resource.namespaced:
            watched = [None]
        elif namespaces is not None:
            watched = sorted(set(namespaces)) or [None]
        else:
            watched = [namespace]
        self._reflectors = [
            Reflector(
                client,
                resource,
                self,
                clock=self._clock,
                namespace=ns,
                label_selector=label_selector,
                min_watch_timeout=min_watch_timeout,
                backoff=Backoff(self._clock, initial=backoff_initial),
                on_synced=self._on_reflector_synced,
            )
            for ns in watched
        ]

    @property
    def reflectors(self) -> list[Reflector]:
        return list(self._reflectors)

    def add_event_handler(self, handler: EventHandler) -> None:
        """Register a handler; if the cache is already filled, it first gets an add per object."""
        self._handlers.append(handler)
        for obj in self.store.list():
            _call(handler.on_add, obj)

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self.store.add_indexers(indexers)

    def has_synced(self) -> bool:
        """Return True once every reflector has delivered its first list."""
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    async def run(self) -> None:
        """Run the reflectors (and the resync loop) until cancelled."""
        async with asyncio.TaskGroup() as group:
            for reflector in self._reflectors:
                group.create_task(reflector.run())
            if self._resync_period:
                group.create_task(self._resync_loop(self._resync_period))

    def resync(self) -> None:
        """Replay every cached object to the handlers as an update with old == new."""
        for obj in self.store.list():
            for handler in self._handlers:
                _call(handler.on_update, obj, obj)

    async def _resync_loop(self, period: float) -> None:
        await self._synced.wait()
        while True:
            await self._clock.sleep(period)
            self.resync()

    def _on_reflector_synced(self) -> None:
        if all(reflector.synced for reflector in self._reflectors):
            self._synced.set()

    # ReflectorSink

    def replace(self, namespace: str | None, objects: list[dict[str, Any]]) -> None:
        """Take a full LIST of one namespace and report what changed since the cache's view."""
        stale_keys = self.store.keys_in_namespace(namespace)
        for obj in objects:
            key = object_key(obj)
            stale_keys.discard(key)
            old = self.store.add(obj)
            if old is None:
                self._dispatch_add(obj)
            elif _resource_version(old) != _resource_version(obj):
                self._dispatch_update(old, obj)

        # Objects cached before but missing from the new LIST were deleted while the watch was
        # away (for example between a compaction and the 410).
        for key in sorted(stale_keys):
            old = self.store.delete_key(key)
            if old is not None:
                self._dispatch_delete(old)

    def apply_watch_event(self, event_type: str, obj: dict[str, Any]) -> None:
        if event_type == "DELETED":
            # The DELETED event carries the object's last state, which handlers get.
            self.store.delete(obj)
            self._dispatch_delete(obj)
            return

        old = self.store.add(obj)
        if old is None:
            self._dispatch_add(obj)
        elif _resource_version(old) != _resource_version(obj):
            self._dispatch_update(old, obj)

    def _dispatch_add(self, obj: dict[str, Any]) -> None:
        for handler in self._handlers:
            _call(handler.on_add, obj)

    def _dispatch_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for handler in self._handlers:
            _call(handler.on_update, old, new)

    def _dispatch_delete(self, obj: dict[str, Any]) -> None:
        for handler in self._handlers:
            _call(handler.on_delete, obj)


def _resource_version(obj: Mapping[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get("resourceVersion")


def _call(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except Exception:
        # A handler bug must not stop the informer; the object stays in the cache regardless.
        logger.exception("event handler failed", extra=log_fields(handler=getattr(func, "__qualname__", func)))
