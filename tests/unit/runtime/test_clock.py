import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from litellm_operator.runtime.clock import Clock, RealClock
from litellm_operator.testing.clock import DEFAULT_START, FakeClock


def test_real_clock_now_is_aware_utc():
    now = RealClock().now()

    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)


def test_clocks_satisfy_protocol():
    assert isinstance(RealClock(), Clock)
    assert isinstance(FakeClock(), Clock)


def test_fake_clock_now_follows_monotonic():
    clock = FakeClock(start=datetime(2030, 5, 1, tzinfo=UTC))

    asyncio.run(clock.advance(90))

    assert clock.monotonic() == 90
    assert clock.now() == datetime(2030, 5, 1, 0, 1, 30, tzinfo=UTC)


def test_fake_clock_rejects_naive_start():
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(start=datetime(2030, 1, 1))


async def test_sleeper_wakes_at_deadline(clock):
    task = asyncio.create_task(clock.sleep(10))
    await clock.wait_for_sleepers(1)

    await clock.advance(9.5)
    assert not task.done()

    await clock.advance(0.5)
    assert task.done()


async def test_advance_steps_through_deadlines(clock):
    ticks: list[float] = []

    async def tick_every_two_seconds():
        while True:
            await clock.sleep(2)
            ticks.append(clock.monotonic())

    task = asyncio.create_task(tick_every_two_seconds())
    await clock.wait_for_sleepers(1)
    await clock.advance(7)
    task.cancel()

    assert ticks == [2, 4, 6]
    assert clock.monotonic() == 7


async def test_cancelled_sleeper_is_not_counted(clock):
    task = asyncio.create_task(clock.sleep(5))
    await clock.wait_for_sleepers(1)

    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert clock.sleepers == 0
    assert clock.next_deadline() is None


async def test_zero_sleep_returns_without_advance(clock):
    await clock.sleep(0)

    assert clock.monotonic() == 0


async def test_wait_for_sleepers_times_out(clock):
    with pytest.raises(TimeoutError, match="expected 1 sleeping tasks, 0 are sleeping"):
        await clock.wait_for_sleepers(1, timeout=0.01)


async def test_advance_rejects_negative(clock):
    with pytest.raises(ValueError, match="backwards"):
        await clock.advance(-1)


def test_default_start_is_utc():
    assert FakeClock().now() == DEFAULT_START
