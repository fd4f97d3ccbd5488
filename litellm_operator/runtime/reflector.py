"""Reflector: keep a local view of one resource in one namespace (or all) in step with the server.

The loop follows client-go's reflector:

1. LIST (paginated) to get every object and the list's resourceVersion. The whole set goes to
   the sink's `replace`, which works out adds, updates and deletions against the cache.
2. WATCH from that resourceVersion with bookmarks and a randomised server-side timeout, and hand
   each event to the sink. Every event and bookmark moves the last seen resourceVersion.
3. When the stream ends (timeout, or the server closed it) watch again from the last seen
   resourceVersion, without a new LIST. A stream that ended within a second without a single
   event counts as an error (step 5).
4. When the server returns 410 Gone (the resourceVersion is older than its history), LIST again
   from scratch. `replace` then also reports the objects deleted while we were away.
5. Any other error waits a jittered exponential backoff on the injected clock, then resumes
   from step 3 if a resourceVersion is known, else from step 1.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp

from litellm_operator.runtime.clock import Clock
from litellm_operator.runtime.kube import ApiError, Gone, KubeClient, Resource
from litellm_operator.runtime.logging import log_fields

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 500
# A watch that ends sooner than this without any event counts as a failure, as in client-go,
# so a server that closes every stream at once does not make us reconnect in a tight loop.
MIN_HEALTHY_WATCH_SECONDS = 1.0
# client-go's minimum watch timeout. Each watch requests a random timeout between this and twice it.
DEFAULT_MIN_WATCH_TIMEOUT = 300.0


class ShortWatch(Exception):
    """A watch stream ended at once without events; the reflector backs off before the next."""


class ReflectorSink(Protocol):
    """Receiver of a reflector's results; the informer implements it."""

    def replace(self, namespace: str | None, objects: list[dict[str, Any]]) -> None: ...

    def apply_watch_event(self, event_type: str, obj: dict[str, Any]) -> None: ...


class Backoff:
    """Jittered exponential backoff that resets after a quiet period (client-go's defaults)."""

    def __init__(
        self,
        clock: Clock,
        *,
        initial: float = 0.8,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 1.0,
        reset_after: float = 120.0,
        rand: Callable[[], float] = random.random,
    ):
        self._clock = clock
        self._initial = initial
        self._maximum = maximum
        self._factor = factor
        self._jitter = jitter
        self._reset_after = reset_after
        self._rand = rand
        self._current = 0.0
        self._last_failure: float | None = None

    def next_delay(self) -> float:
        """Record a failure and return how long to wait before the next attempt."""
        now = self._clock.monotonic()
        if self._last_failure is None or now - self._last_failure > self._reset_after:
            self._current = self._initial
        else:
            self._current = min(self._current * self._factor, self._maximum)
        self._last_failure = now
        return self._current * (1 + self._rand() * self._jitter)

    async def wait(self) -> None:
        await self._clock.sleep(self.next_delay())


class Reflector:
    """List and watch one resource in one namespace (`None`: all namespaces) into a sink."""

    def __init__(
        self,
        client: KubeClient,
        resource: Resource,
        sink: ReflectorSink,
        *,
        clock: Clock,
        namespace: str | None = None,
        label_selector: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        min_watch_timeout: float = DEFAULT_MIN_WATCH_TIMEOUT,
        backoff: Backoff | None = None,
        on_synced: Callable[[], None] | None = None,
    ):
        self._client = client
        self._resource = resource
        self._sink = sink
        self._clock = clock
        self._namespace = namespace
        self._label_selector = label_selector
        self._page_size = page_size
        self._min_watch_timeout = min_watch_timeout
        self._backoff = backoff or Backoff(clock)
        self._on_synced = on_synced
        # The resourceVersion to watch from: set by each LIST, moved by every watch event and
        # bookmark, and cleared by 410 Gone so that the next round LISTs again.
        self.last_resource_version: str | None = None
        self.synced = False
        # 410 Gone responses since the last successful LIST. A second one in a row backs off, so
        # a server that keeps returning 410 is not listed in a tight loop.
        self._gone_in_a_row = 0

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            try:
                if self.last_resource_version is None:
                    await self._list()
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Gone as error:
                logger.info(
                    "watch resourceVersion expired, listing again",
                    extra=log_fields(
                        resource=self._resource.plural, namespace=self._namespace or "*", error=error.message
                    ),
                )
                self.last_resource_version = None
                self._gone_in_a_row += 1
                if self._gone_in_a_row > 1:
                    await self._clock.sleep(self._backoff.next_delay())
            except (ApiError, ShortWatch, aiohttp.ClientError, TimeoutError, ValueError) as error:
                delay = self._backoff.next_delay()
                logger.warning(
                    "list or watch failed, retrying",
                    extra=log_fields(
                        resource=self._resource.plural, namespace=self._namespace or "*", delay=round(delay, 2), error=str(error)
                    ),
                )
                await self._clock.sleep(delay)
            except Exception as error:
                delay = self._backoff.next_delay()
                logger.error(
                    "list or watch failed unexpectedly, retrying",
                    extra=log_fields(
                        resource=self._resource.plural, namespace=self._namespace or "*", delay=round(delay, 2), error=repr(error)
                    ),
                    exc_info=True,
                )
                await self._clock.sleep(delay)

    async def _list(self) -> None:
        objects: list[dict[str, Any]] = []
        continue_token: str | None = None
        while True:
            page = await self._client.list(
                self._resource,
                self._namespace,
                label_selector=self._label_selector,
                limit=self._page_size,
                continue_token=continue_token,
            )
            for item in page.get("items") or []:
                # Items of built-in kinds come without apiVersion and kind inside a List.
                item.setdefault("apiVersion", self._resource.api_version)
                item.setdefault("kind", self._resource.kind)
                objects.append(item)
            metadata = page.get("metadata") or {}
            continue_token = metadata.get("continue") or None
            if continue_token is None:
                resource_version = metadata.get("resourceVersion")
                break

        self._sink.replace(self._namespace, objects)
        self.last_resource_version = resource_version or "0"
        self._gone_in_a_row = 0
        logger.debug(
            "listed",
            extra=log_fields(
                resource=self._resource.plural,
                namespace=self._namespace or "*",
                count=len(objects),
                resourceVersion=self.last_resource_version,
            ),
        )
        if not self.synced:
            self.synced = True
            if self._on_synced is not None:
                self._on_synced()

    async def _watch(self) -> None:
        timeout_seconds = int(self._min_watch_timeout * (1 + random.random()))
        events = self._client.watch(
            self._resource,
            self._namespace,
            resource_version=self.last_resource_version,
            timeout_seconds=max(timeout_seconds, 1),
            allow_bookmarks=True,
            label_selector=self._label_selector,
        )
        started = self._clock.monotonic()
        received = 0
        async for event in events:
            received += 1
            event_type = event.get("type")
            obj = event.get("object") or {}
            resource_version = (obj.get("metadata") or {}).get("resourceVersion")
            if event_type in ("ADDED", "MODIFIED", "DELETED"):
                self._sink.apply_watch_event(event_type, obj)
            elif event_type != "BOOKMARK":
                logger.warning(
                    "ignoring unknown watch event",
                    extra=log_fields(resource=self._resource.plural, namespace=self._namespace or "*", type=event_type),
                )
                continue
            if resource_version:
                self.last_resource_version = resource_version

        if received == 0 and self._clock.monotonic() - started < MIN_HEALTHY_WATCH_SECONDS:
            raise ShortWatch(
                f"watch of {self._resource.plural} ended after less than {MIN_HEALTHY_WATCH_SECONDS}s without events"
            )
