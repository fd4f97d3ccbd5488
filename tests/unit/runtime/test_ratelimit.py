import pytest

from litellm_operator.runtime.ratelimit import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    default_controller_rate_limiter,
)


def test_exponential_steps_double():
    limiter = ItemExponentialFailureRateLimiter()

    delays = [limiter.when("a") for _ in range(5)]

    assert delays == [0.005, 0.01, 0.02, 0.04, 0.08]
    assert limiter.num_requeues("a") == 5


def test_exponential_reaches_cap():
    limiter = ItemExponentialFailureRateLimiter()

    delays = [limiter.when("a") for _ in range(20)]

    assert delays[17] == pytest.approx(655.36)
    assert delays[18] == 1000.0
    assert delays[19] == 1000.0


def test_exponential_overflow_safe():
    limiter = ItemExponentialFailureRateLimiter(base_delay=1.0, max_delay=60.0)

    for _ in range(2000):
        delay = limiter.when("a")

    assert delay == 60.0
    assert limiter.num_requeues("a") == 2000


def test_exponential_items_independent():
    limiter = ItemExponentialFailureRateLimiter()
    limiter.when("a")
    limiter.when("a")

    assert limiter.when("b") == 0.005
    assert limiter.num_requeues("a") == 2


def test_exponential_forget_resets():
    limiter = ItemExponentialFailureRateLimiter()
    limiter.when("a")
    limiter.when("a")

    limiter.forget("a")

    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == 0.005


def test_exponential_rejects_invalid_delays():
    with pytest.raises(ValueError, match="base_delay"):
        ItemExponentialFailureRateLimiter(base_delay=0)
    with pytest.raises(ValueError, match="max_delay"):
        ItemExponentialFailureRateLimiter(base_delay=2, max_delay=1)


def test_bucket_burst_then_qps_spacing(clock):
    limiter = BucketRateLimiter(qps=10, burst=3, clock=clock)

    burst = [limiter.when(i) for i in range(3)]
    after_burst = [limiter.when(i) for i in range(3, 6)]

    assert burst == [0.0, 0.0, 0.0]
    assert after_burst == pytest.approx([0.1, 0.2, 0.3])


async def test_bucket_refills_with_time(clock):
    limiter = BucketRateLimiter(qps=10, burst=2, clock=clock)
    limiter.when("a")
    limiter.when("a")

    await clock.advance(0.1)

    assert limiter.when("a") == 0.0
    assert limiter.when("a") == pytest.approx(0.1)


async def test_bucket_never_exceeds_burst(clock):
    limiter = BucketRateLimiter(qps=10, burst=2, clock=clock)

    await clock.advance(3600)

    assert [limiter.when("a") for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_bucket_ignores_forget_and_requeues(clock):
    limiter = BucketRateLimiter(qps=1, burst=1, clock=clock)
    limiter.when("a")

    limiter.forget("a")

    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == pytest.approx(1.0)


def test_bucket_rejects_invalid_settings(clock):
    with pytest.raises(ValueError, match="qps"):
        BucketRateLimiter(qps=0, burst=1, clock=clock)
    with pytest.raises(ValueError, match="burst"):
        BucketRateLimiter(qps=1, burst=0, clock=clock)


def test_max_of_takes_longest(clock):
    limiter = MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(base_delay=0.05),
        BucketRateLimiter(qps=1, burst=2, clock=clock),
    )

    delays = [limiter.when("a") for _ in range(4)]

    # Exponential: 0.05, 0.1, 0.2, 0.4; bucket: 0, 0, 1, 2.
    assert delays == pytest.approx([0.05, 0.1, 1.0, 2.0])


def test_max_of_forget_and_requeues(clock):
    exponential = ItemExponentialFailureRateLimiter()
    limiter = MaxOfRateLimiter(exponential, BucketRateLimiter(clock=clock))
    limiter.when("a")
    limiter.when("a")

    assert limiter.num_requeues("a") == 2
    limiter.forget("a")
    assert exponential.num_requeues("a") == 0


def test_max_of_needs_a_limiter():
    with pytest.raises(ValueError, match="at least one"):
        MaxOfRateLimiter()


def test_default_controller_limiter(clock):
    limiter = default_controller_rate_limiter(clock)

    first = [limiter.when("a") for _ in range(3)]
    other_items = [limiter.when(i) for i in range(97)]
    past_burst = limiter.when("b")

    assert first == [0.005, 0.01, 0.02]
    assert max(other_items) == 0.005
    assert past_burst == pytest.approx(0.1)
