"""Rate limiters that decide how long a workqueue item waits before it is retried.

The semantics are client-go's (``k8s.io/client-go/util/workqueue``): a limiter's ``when(item)``
records one more attempt for ``item`` and returns the delay in seconds, ``forget(item)`` clears
what the limiter remembers about it, and ``num_requeues(item)`` is the number of failures
recorded since the last ``forget``. The controller default is the maximum of a per-item
exponential backoff and an overall token bucket, so one failing object backs off on its own
while a burst of failures across many objects is still throttled as a whole.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Protocol

from litellm_operator.runtime.clock import Clock, RealClock


class RateLimiter(Protocol):
    """Decides per item how long to wait before the next attempt."""

    def when(self, item: Hashable) -> float:
        """Record an attempt for ``item`` and return its delay in seconds."""
        ...

    def forget(self, item: Hashable) -> None:
        """Clear the failures recorded for ``item``."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """Return the failures recorded for ``item`` since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    """Per-item backoff of ``base_delay * 2**failures`` seconds, capped at ``max_delay``.

    With the defaults the delays are 5 ms, 10 ms, 20 ms, ... and reach the 1000 s cap after
    18 failures. The failure count keeps growing past the cap without overflow.
    """

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        if base_delay <= 0 or max_delay < base_delay:
            raise ValueError(
                f"invalid backoff: need 0 < base_delay <= max_delay, "
                f"got base_delay={base_delay} max_delay={max_delay}"
            )
        self.base_delay = base_delay
        self.max_delay = max_delay
        # Failures per item since its last forget(); an item with no failures has no entry.
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exponent = self._failures.get(item, 0)
        self._failures[item] = exponent + 1

        try:
            backoff = math.ldexp(self.base_delay, exponent)
        except OverflowError:
            return self.max_delay
        return min(backoff, self.max_delay)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """Overall token bucket: ``burst`` attempts at once, then ``qps`` attempts per second.

    Each ``when`` reserves one token the way ``golang.org/x/time/rate``'s ``Reserve`` does: if
    the bucket is empty, the token is borrowed from the future and the returned delay is the
    time until it refills. Reservations are never cancelled, so a burst of N calls past the
    bucket returns delays of 1/qps, 2/qps, ... N/qps. The bucket ignores the item.
    """

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"invalid token bucket: need qps > 0 and burst >= 1, got qps={qps} burst={burst}")
        self.qps = qps
        self.burst = burst
        self._clock = clock or RealClock()
        # Tokens at time self._last; negative when reservations have borrowed future tokens.
        self._tokens = float(burst)
        self._last = self._clock.monotonic()

    def when(self, item: Hashable) -> float:
        now = self._clock.monotonic()
        elapsed = max(now - self._last, 0.0)
        tokens = min(self._tokens + elapsed * self.qps, float(self.burst))

        tokens -= 1.0
        self._tokens = tokens
        self._last = now
        if tokens >= 0:
            return 0.0
        return -tokens / self.qps

    def forget(self, item: Hashable) -> None:
        pass

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """Limiter combining others: the delay is the maximum any of them returns.

    ``when`` calls every limiter, so each one records the attempt.
    """

    def __init__(self, *limiters: RateLimiter) -> None:
        if not limiters:
            raise ValueError("MaxOfRateLimiter needs at least one limiter")
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock | None = None) -> MaxOfRateLimiter:
    """Build client-go's controller default: 5 ms to 1000 s per item, 10 per second overall, burst 100."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base_delay=0.005, max_delay=1000.0),
        BucketRateLimiter(qps=10.0, burst=100, clock=clock),
    )
