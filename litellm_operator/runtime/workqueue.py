"""Rate-limited work queue with client-go's semantics, for one asyncio event loop.

Controllers put object keys in the queue from event handlers, and workers take them out one at a
time. Three sets, and the rules for moving between them, give the guarantees reconcilers rely on:

- An item is queued at most once, however many times it is added before a worker takes it
  (``_dirty``), so a burst of watch events for one object costs one reconcile.
- An item is never handed to two workers at once (``_processing``). If it is added while a worker
  holds it, it is queued again when that worker calls ``done``, so the change is not lost.
- Delayed items wait in a timer heap until their time comes, driven by the injected clock, and
  are then added like any other item (``add_after``, ``add_rate_limited``).

All methods except ``get`` and ``shutdown_with_drain`` are synchronous and must be called from
the event loop's thread. Event handlers can therefore add items without awaiting.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Hashable

import attrs

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.runtime.metrics import NoopMetrics
from litellm_operator.runtime.ratelimit import RateLimiter, default_controller_rate_limiter

logger = logging.getLogger(__name__)


class ShutDown(Exception):
    """Raised by ``RateLimitingQueue.get`` once the queue is shut down and empty."""


@attrs.define(order=False)
class _WaitingItem:
    ready_at: float
    # Insertion order, so items with the same ready_at are added in the order they were delayed.
    sequence: int
    item: Hashable
    # Set when a later add_after moved this item to an earlier time; the heap skips it then.
    cancelled: bool = False

    def __lt__(self, other: _WaitingItem) -> bool:
        return (self.ready_at, self.sequence) < (other.ready_at, other.sequence)


class RateLimitingQueue:
    """Work queue with deduplication, delayed adds and per-item rate limiting.

    A worker loops ``item = await queue.get()``, processes the item, then must call
    ``queue.done(item)``, even when processing failed; until then the item is not handed out again.
    """

    def __init__(
        self,
        name: str,
        *,
        rate_limiter: RateLimiter | None = None,
        clock: Clock | None = None,
        metrics: NoopMetrics | None = None,
    ) -> None:
        self.name = name
        self._clock = clock or RealClock()
        self._rate_limiter = rate_limiter or default_controller_rate_limiter(self._clock)
        self._metrics = (metrics or NoopMetrics()).queue_metrics(name, self._clock)

        # Items ready to be handed to a worker, oldest first. Every item here is in _dirty and
        # not in _processing, and appears here once.
        self._queue: deque[Hashable] = deque()
        # Items that need processing: everything in _queue plus items added again while a
        # worker processes them. get() removes an item from _dirty when it hands the item out.
        self._dirty: set[Hashable] = set()
        # Items handed out by get() whose done() has not been called yet. An item in both
        # _processing and _dirty moves to _queue on done().
        self._processing: set[Hashable] = set()
        # Futures of get() calls waiting for an item; each add to _queue resolves one.
        self._getters: deque[asyncio.Future[None]] = deque()
        # Set once by shutdown() or shutdown_with_drain(); from then on adds are ignored.
        self._shutting_down = False
        # Futures of shutdown_with_drain() calls; resolved when _processing becomes empty or
        # when shutdown() ends the drain early.
        self._drain_waiters: list[asyncio.Future[None]] = []

        # Delayed items, a min-heap on (ready_at, sequence). Entries marked cancelled stay in
        # the heap until they reach the top and are dropped.
        self._waiting: list[_WaitingItem] = []
        # The live (not cancelled) heap entry of each delayed item; an item waits at most once,
        # at the earliest time requested.
        self._waiting_by_item: dict[Hashable, _WaitingItem] = {}
        self._sequence = itertools.count()
        # Task that moves delayed items to the queue when they are ready. start() or the first
        # add_after() with a positive delay starts it, and shutdown cancels it.
        self._timer_task: asyncio.Task[None] | None = None
        # Set to make the timer task re-read the heap top; cleared by the task each round.
        self._timer_wakeup = asyncio.Event()
        # The ready_at the timer task sleeps until, or None while it waits for the heap to fill.
        self._timer_deadline: float | None = None

    def __len__(self) -> int:
        """Return the number of items ready for a worker (delayed and in-progress items excluded)."""
        return len(self._queue)

    def len(self) -> int:
        """Return ``len(queue)``; named like client-go's ``Len``."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def start(self) -> None:
        """Start the timer task now instead of on the first delayed add; needs a running loop."""
        if self._timer_task is None and not self._shutting_down:
            self._timer_task = asyncio.get_running_loop().create_task(
                self._run_timers(), name=f"workqueue-timers-{self.name}"
            )

    def add(self, item: Hashable) -> None:
        """Mark ``item`` as needing processing; adding an item that is already dirty does nothing."""
        if self._shutting_down or item in self._dirty:
            return

        self._metrics.add(item)
        self._dirty.add(item)
        if item in self._processing:
            # done() moves it to the queue, so no second worker gets it meanwhile.
            return
        self._queue.append(item)
        self._wake_getter()

    async def get(self) -> Hashable:
        """Wait for an item and return it; the caller must call ``done(item)`` afterwards.

        Items still queued at shutdown are handed out; once the queue is shut down and empty
        this raises ``ShutDown``.
        """
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(f"workqueue {self.name} is shut down")
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    # This getter was woken for an item and then cancelled, so another
                    # getter must take the item instead.
                    self._wake_getter()
                raise

        item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        self._metrics.get(item)
        return item

    def done(self, item: Hashable) -> None:
        """Mark ``item`` as finished; re-queue it if it was added while it was being processed."""
        self._metrics.done(item)
        self._processing.discard(item)

        if item in self._dirty:
            self._queue.append(item)
            self._wake_getter()
        elif not self._processing:
            self._release_drain_waiters()

    def add_after(self, item: Hashable, delay: float) -> None:
        """Add ``item`` after ``delay`` seconds; an item already waiting keeps the earlier time."""
        if self._shutting_down:
            return
        self._metrics.retry()
        if delay <= 0:
            self.add(item)
            return

        ready_at = self._clock.monotonic() + delay
        existing = self._waiting_by_item.get(item)
        if existing is not None:
            if existing.ready_at <= ready_at:
                return
            existing.cancelled = True

        entry = _WaitingItem(ready_at, next(self._sequence), item)
        heapq.heappush(self._waiting, entry)
        self._waiting_by_item[item] = entry

        self.start()
        if self._timer_deadline is None or ready_at < self._timer_deadline:
            self._timer_wakeup.set()

    def add_rate_limited(self, item: Hashable) -> None:
        """Add ``item`` after the delay the rate limiter assigns to its next attempt."""
        self.add_after(item, self._rate_limiter.when(item))

    def forget(self, item: Hashable) -> None:
        """Reset the rate limiter's failure count for ``item``; it does not remove the item."""
        self._rate_limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        """Return how many rate-limited retries ``item`` has had since it was last forgotten."""
        return self._rate_limiter.num_requeues(item)

    def shutdown(self) -> None:
        """Ignore further adds, wake waiting getters and drop delayed items.

        Workers still receive the items already queued. A running ``shutdown_with_drain``
        returns without waiting for in-progress items.
        """
        self._begin_shutdown()
        self._release_drain_waiters()

    async def shutdown_with_drain(self) -> None:
        """Shut down like ``shutdown``, then wait until every handed-out item is marked done."""
        self._begin_shutdown()
        if not self._processing:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def _begin_shutdown(self) -> None:
        if not self._shutting_down:
            logger.debug("Shutting down workqueue name=%s queued=%d processing=%d",
                         self.name, len(self._queue), len(self._processing))
        self._shutting_down = True
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        if self._timer_task is not None:
            self._timer_task.cancel()
        self._waiting.clear()
        self._waiting_by_item.clear()

    def _wake_getter(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release_drain_waiters(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _run_timers(self) -> None:
        while not self._shutting_down:
            self._timer_wakeup.clear()
            self._add_ready_items()

            next_ready_at = self._next_ready_at()
            self._timer_deadline = next_ready_at
            if next_ready_at is None:
                await self._timer_wakeup.wait()
            else:
                await self._sleep_or_wakeup(next_ready_at - self._clock.monotonic())

    def _add_ready_items(self) -> None:
        now = self._clock.monotonic()
        while self._waiting and self._waiting[0].ready_at <= now:
            entry = heapq.heappop(self._waiting)
            if entry.cancelled:
                continue
            del self._waiting_by_item[entry.item]
            self.add(entry.item)

    def _next_ready_at(self) -> float | None:
        while self._waiting and self._waiting[0].cancelled:
            heapq.heappop(self._waiting)
        return self._waiting[0].ready_at if self._waiting else None

    async def _sleep_or_wakeup(self, delay: float) -> None:
        # The clock has no cancellable timer, so the sleep and the wakeup event race as tasks.
        # Both are cancelled on the way out, also when the timer task itself is cancelled.
        sleep = asyncio.ensure_future(self._clock.sleep(delay))
        wakeup = asyncio.ensure_future(self._timer_wakeup.wait())
        try:
            await asyncio.wait((sleep, wakeup), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleep.cancel()
            wakeup.cancel()
