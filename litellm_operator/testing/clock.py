"""Clock for tests: time moves only when a test calls ``advance``.

``FakeClock`` implements ``litellm_operator.runtime.clock.Clock``. A task that calls
``await clock.sleep(s)`` stays suspended until a test advances the clock past its deadline, so
tests of timers, backoff and resync run in microseconds and never depend on the machine's speed.

A test usually waits until the code under test is asleep, then advances time::

    await clock.wait_for_sleepers(1)
    await clock.advance(5)
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import attrs

DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)


@attrs.define
class _Sleeper:
    deadline: float
    future: asyncio.Future[None]


class FakeClock:
    """Clock whose time moves only in ``advance``.

    ``monotonic()`` starts at 0.0 so that delays in tests are exact binary fractions, and
    ``now()`` is ``start`` plus the monotonic time that has passed.
    """

    def __init__(self, start: datetime = DEFAULT_START, *, settle_rounds: int = 50) -> None:
        if start.tzinfo is None:
            raise ValueError(f"FakeClock start must be timezone-aware, got {start!r}")
        self._start = start.astimezone(UTC)
        self._monotonic = 0.0
        # Event-loop iterations that advance() yields after waking sleepers, so that the woken
        # tasks and the tasks they wake in turn run before advance() returns.
        self._settle_rounds = settle_rounds
        # Pending sleep() calls; a sleeper leaves the list when it is woken or cancelled.
        self._sleepers: list[_Sleeper] = []
        # wait_for_sleepers() calls that are still waiting: (sleepers needed, future to resolve).
        self._sleeper_waiters: list[tuple[int, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic)

    async def sleep(self, seconds: float) -> None:
        """Suspend until ``advance`` moves time to ``seconds`` from now.

        A delay of zero or less only yields to the event loop once, like ``asyncio.sleep(0)``.
        """
        if seconds <= 0:
            await asyncio.sleep(0)
            return

        sleeper = _Sleeper(self._monotonic + seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(sleeper)
        self._notify_sleeper_waiters()
        try:
            await sleeper.future
        finally:
            if sleeper in self._sleepers:
                self._sleepers.remove(sleeper)

    @property
    def sleepers(self) -> int:
        """Number of tasks suspended in ``sleep``."""
        return sum(1 for sleeper in self._sleepers if not sleeper.future.done())

    def next_deadline(self) -> float | None:
        """Return the earliest monotonic deadline of a pending sleep, or None if none is pending."""
        pending = [sleeper.deadline for sleeper in self._sleepers if not sleeper.future.done()]
        return min(pending, default=None)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking each sleeper whose deadline passes.

        Time moves in steps from one deadline to the next, and the event loop runs the woken
        tasks after each step. A task that sleeps again within the advanced span is therefore
        woken again, as it would be in real time.
        """
        if seconds < 0:
            raise ValueError(f"FakeClock cannot move backwards, got advance({seconds})")
        target = self._monotonic + seconds

        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > target:
                break
            self._monotonic = max(self._monotonic, deadline)
            self._wake_due_sleepers()
            await self._settle()

        self._monotonic = target
        await self._settle()

    async def wait_for_sleepers(self, count: int, *, timeout: float | None = 5.0) -> None:
        """Wait until at least ``count`` tasks are suspended in ``sleep``.

        ``timeout`` is real seconds and only guards a test against hanging; it raises
        ``TimeoutError`` naming the counts.
        """
        if self.sleepers >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleeper_waiters.append((count, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"FakeClock: expected {count} sleeping tasks, {self.sleepers} are sleeping"
            ) from None
        finally:
            self._sleeper_waiters = [w for w in self._sleeper_waiters if w[1] is not future]

    def _wake_due_sleepers(self) -> None:
        for sleeper in list(self._sleepers):
            if sleeper.deadline <= self._monotonic:
                self._sleepers.remove(sleeper)
                if not sleeper.future.done():
                    sleeper.future.set_result(None)

    def _notify_sleeper_waiters(self) -> None:
        current = self.sleepers
        for count, future in self._sleeper_waiters:
            if current >= count and not future.done():
                future.set_result(None)

    async def _settle(self) -> None:
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)
