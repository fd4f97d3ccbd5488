"""Pool of LiteLLM clients, one per proxy URL and master key, over one aiohttp session.

Objects can point at different LiteLLM instances, and a master key can be rotated in its
Secret at any time, so clients are keyed by (URL, SHA-256 of the master key). The next
``get`` after a rotation returns a new client with the new key. The key itself is kept only
inside the client it belongs to.
"""

from __future__ import annotations

import hashlib

import aiohttp

from .client import DEFAULT_TIMEOUT, CallMetrics, LiteLLMClient


def key_fingerprint(master_key: str) -> str:
    """Return the SHA-256 hex digest used to tell master keys apart without storing them."""
    return hashlib.sha256(master_key.encode()).hexdigest()


class ClientPool:
    """Cache of ``LiteLLMClient`` objects sharing one lazily created ``aiohttp.ClientSession``."""

    def __init__(
        self,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        metrics: CallMetrics | None = None,
    ) -> None:
        self._timeout = timeout
        self._metrics = metrics
        self._session: aiohttp.ClientSession | None = None
        # (URL without trailing slash, key fingerprint) -> client.
        # NOTE: clients of rotated keys stay cached until close(); each is a few small objects.
        self._clients: dict[tuple[str, str], LiteLLMClient] = {}

    def __repr__(self) -> str:
        return f"ClientPool(clients={len(self._clients)})"

    def get(self, url: str, master_key: str) -> LiteLLMClient:
        """Return the client for ``url`` and ``master_key``; call it from the event loop."""
        cache_key = (url.rstrip("/"), key_fingerprint(master_key))
        client = self._clients.get(cache_key)
        if client is None:
            client = LiteLLMClient(
                cache_key[0],
                master_key,
                session=self._get_session(),
                timeout=self._timeout,
                metrics=self._metrics,
            )
            self._clients[cache_key] = client
        return client

    async def close(self) -> None:
        """Close the shared session; clients handed out before must not be used afterwards."""
        self._clients.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session
