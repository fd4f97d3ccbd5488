import pytest

from litellm_operator.runtime.metrics import Metrics
from litellm_operator.testing.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()
