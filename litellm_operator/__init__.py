"""Kubernetes operator for LiteLLM proxy teams, users, virtual keys and team memberships."""

__version__ = "0.1.0"
