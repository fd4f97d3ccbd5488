"""In-memory fake of LiteLLM's management API for tests, benchmarks and demos."""

from .server import Call, FakeLiteLLM
from .state import FakeState, token_id

__all__ = ["Call", "FakeLiteLLM", "FakeState", "token_id"]
