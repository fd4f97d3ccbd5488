import asyncio

import pytest

from litellm_operator.runtime.ratelimit import ItemExponentialFailureRateLimiter
from litellm_operator.runtime.workqueue import RateLimitingQueue, ShutDown


@pytest.fixture
def queue(clock, metrics):
    queue = RateLimitingQueue("test", clock=clock, metrics=metrics)
    yield queue
    queue.shutdown()


async def test_add_dedupes(queue):
    queue.add("a")
    queue.add("b")
    queue.add("a")

    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"
    assert len(queue) == 0


async def test_len_method_matches_len(queue):
    queue.add("a")

    assert queue.len() == 1


async def test_processing_item_not_handed_out_again(queue):
    queue.add("a")
    item = await queue.get()

    queue.add("a")

    assert len(queue) == 0
    second_get = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not second_get.done()

    queue.done(item)
    assert await second_get == "a"


async def test_done_without_readd_drops_item(queue):
    queue.add("a")
    queue.done(await queue.get())

    assert len(queue) == 0


async def test_readd_while_processing_queues_once(queue):
    queue.add("a")
    item = await queue.get()
    queue.add("a")
    queue.add("a")

    queue.done(item)

    assert len(queue) == 1


async def test_get_waits_for_add(queue):
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()

    queue.add("a")

    assert await getter == "a"


async def test_cancelled_getter_passes_item_on(queue):
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)

    queue.add("a")
    first.cancel()

    assert await second == "a"
    assert first.cancelled()


async def test_add_after_waits_for_clock(queue, clock):
    queue.add_after("a", 5)
    await clock.wait_for_sleepers(1)

    await clock.advance(4.9)
    assert len(queue) == 0

    await clock.advance(0.1)
    assert len(queue) == 1


async def test_add_after_orders_by_ready_time(queue, clock):
    queue.add_after("late", 3)
    queue.add_after("early", 1)
    queue.add_after("middle", 2)
    queue.add_after("also-middle", 2)

    await clock.advance(3)

    assert [await queue.get() for _ in range(4)] == ["early", "middle", "also-middle", "late"]


async def test_add_after_keeps_earlier_time(queue, clock):
    queue.add_after("a", 1)
    queue.add_after("a", 10)

    await clock.advance(1)

    assert len(queue) == 1
    queue.done(await queue.get())
    await clock.advance(20)
    assert len(queue) == 0


async def test_add_after_moves_to_earlier_time(queue, clock):
    queue.add_after("a", 10)
    await clock.wait_for_sleepers(1)
    queue.add_after("a", 1)

    await clock.advance(1)

    assert len(queue) == 1
    queue.done(await queue.get())
    await clock.advance(20)
    assert len(queue) == 0


async def test_add_after_zero_adds_now(queue):
    queue.add_after("a", 0)

    assert len(queue) == 1


async def test_delayed_item_dedupes_with_queued(queue, clock):
    queue.add("a")
    queue.add_after("a", 1)

    await clock.advance(1)

    assert len(queue) == 1


async def test_add_rate_limited_backs_off(clock):
    queue = RateLimitingQueue(
        "test", rate_limiter=ItemExponentialFailureRateLimiter(base_delay=1), clock=clock
    )
    queue.add_rate_limited("a")
    queue.add_rate_limited("a")

    assert queue.num_requeues("a") == 2
    await clock.advance(1)
    assert len(queue) == 1

    queue.forget("a")
    assert queue.num_requeues("a") == 0
    queue.shutdown()


async def test_shutdown_raises_in_waiting_getter(queue):
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)

    queue.shutdown()

    with pytest.raises(ShutDown):
        await getter


async def test_shutdown_ignores_adds(queue, clock):
    queue.shutdown()
    queue.add("a")
    queue.add_after("b", 1)
    await clock.advance(1)

    assert len(queue) == 0
    assert queue.shutting_down


async def test_shutdown_hands_out_queued_items(queue):
    queue.add("a")

    queue.shutdown()

    assert await queue.get() == "a"
    with pytest.raises(ShutDown):
        await queue.get()


async def test_shutdown_drops_delayed_items(queue, clock):
    queue.add_after("a", 1)

    queue.shutdown()
    await clock.advance(1)

    assert len(queue) == 0
    assert clock.sleepers == 0


async def test_drain_waits_for_processing(queue):
    queue.add("a")
    item = await queue.get()

    drain = asyncio.create_task(queue.shutdown_with_drain())
    await asyncio.sleep(0)
    assert not drain.done()

    queue.done(item)
    await drain


async def test_drain_returns_when_idle(queue):
    await queue.shutdown_with_drain()

    assert queue.shutting_down


async def test_shutdown_ends_drain_early(queue):
    queue.add("a")
    await queue.get()
    drain = asyncio.create_task(queue.shutdown_with_drain())
    await asyncio.sleep(0)

    queue.shutdown()

    await drain


async def test_metrics_track_queue(clock, metrics):
    queue = RateLimitingQueue("orders", clock=clock, metrics=metrics)

    def sample(name):
        return metrics.registry.get_sample_value(name, {"name": "orders"})

    queue.add("a")
    queue.add("b")
    queue.add("a")
    assert sample("workqueue_adds_total") == 2
    assert sample("workqueue_depth") == 2

    await clock.advance(2)
    item = await queue.get()
    assert sample("workqueue_depth") == 1
    assert sample("workqueue_queue_duration_seconds_sum") == 2

    await clock.advance(3)
    assert sample("workqueue_unfinished_work_seconds") == 3
    assert sample("workqueue_longest_running_processor_seconds") == 3

    queue.done(item)
    assert sample("workqueue_work_duration_seconds_sum") == 3
    assert sample("workqueue_unfinished_work_seconds") == 0

    queue.add_after("c", 1)
    assert sample("workqueue_retries_total") == 1
    queue.shutdown()
