"""Typed client for LiteLLM's management API: models, errors, client and client pool."""

from .client import DEFAULT_TIMEOUT, CallMetrics, LiteLLMClient, token_id
from .errors import (
    AlreadyExistsError,
    EnterpriseFeatureError,
    InvalidRequestError,
    LiteLLMError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
)
from .models import UNSET, Unset
from .pool import ClientPool

__all__ = [
    "DEFAULT_TIMEOUT",
    "UNSET",
    "AlreadyExistsError",
    "CallMetrics",
    "ClientPool",
    "EnterpriseFeatureError",
    "InvalidRequestError",
    "LiteLLMClient",
    "LiteLLMError",
    "NotFoundError",
    "UnauthorizedError",
    "UnavailableError",
    "Unset",
    "token_id",
]
