"""Time source for the runtime, injected so tests can drive time by hand.

Every component that waits or measures (rate limiters, workqueue timers, controllers, leader
election, resync) takes a ``Clock`` instead of calling ``time`` or ``asyncio.sleep`` itself. In
production that is ``RealClock``; tests pass ``litellm_operator.testing.clock.FakeClock``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Monotonic time for intervals, wall time for timestamps, and an awaitable sleep."""

    def monotonic(self) -> float:
        """Return seconds on a clock that never goes backwards; only differences are meaningful."""
        ...

    def now(self) -> datetime:
        """Return the current wall time as a timezone-aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds`` of this clock's time."""
        ...


class RealClock:
    """Clock backed by ``time.monotonic``, the system wall clock and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))
