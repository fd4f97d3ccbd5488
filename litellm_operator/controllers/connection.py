"""Connection resolution: which LiteLLM proxy an object talks to, and with which master key.

Resolution runs on every reconcile and reads Secrets from the shared Secret informer's cache, so a
rotated master key or a changed URL takes effect on the next reconcile without a restart, and
steady state costs no API server reads. Clients come from a pool keyed by URL and key fingerprint,
so objects that name different proxies never share a client.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import attrs

from litellm_operator.litellm.client import LiteLLMClient
from litellm_operator.litellm.pool import ClientPool

# Defaults of the Go operator, so CRs written for it resolve the same way.
DEFAULT_MASTER_KEY_KEY = "masterKey"
DEFAULT_URL_KEY = "url"
INSTANCE_SECRET_SUFFIX = "-secrets"
INSTANCE_MASTER_KEY_KEY = "masterkey"
INSTANCE_PORT = 4000


class ConnectionNotReady(Exception):
    """The connection cannot be resolved yet; `reason` is a CamelCase condition reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@attrs.frozen
class Connection:
    """A resolved connection: the client plus where its settings came from."""

    client: LiteLLMClient
    url: str
    secret_namespace: str
    secret_name: str


def connection_secret(namespace: str, connection_ref: Any) -> tuple[str, str] | None:
    """Return the (namespace, name) of the Secret a connectionRef reads, or None if it names none."""
    if connection_ref is None:
        return None
    if connection_ref.secret_ref is not None and connection_ref.secret_ref.name:
        return namespace, connection_ref.secret_ref.name
    if connection_ref.instance_ref is not None and connection_ref.instance_ref.name:
        instance = connection_ref.instance_ref
        return instance.namespace or namespace, instance.name + INSTANCE_SECRET_SUFFIX
    return None


def instance_url(name: str, namespace: str) -> str:
    """Return the in-cluster URL of a LiteLLM instance deployed by the Go operator's convention."""
    return f"http://{name}-service.{namespace}.svc.cluster.local:{INSTANCE_PORT}"


def _secret_value(secret: dict[str, Any], key: str, where: str) -> str:
    data = secret.get("data") or {}
    if key not in data:
        raise ConnectionNotReady(
            "SecretKeyMissing",
            f"{where} has no data key {key!r}; add it to the Secret or set the key name in the connectionRef",
        )
    try:
        value = base64.b64decode(data[key], validate=True).decode("utf-8").strip()
    except (binascii.Error, UnicodeDecodeError):
        raise ConnectionNotReady(
            "SecretKeyInvalid", f"{where} key {key!r} is not valid base64-encoded UTF-8 text"
        ) from None
    if not value:
        raise ConnectionNotReady("SecretKeyMissing", f"{where} key {key!r} is empty")
    return value


class ConnectionResolver:
    """Resolves a connectionRef to a LiteLLM client.

    `get_secret(namespace, name)` returns the Secret as the API server serves it, or None; the
    operator passes a lookup into the Secret informer's cache.
    """

    def __init__(
        self,
        *,
        get_secret: Callable[[str, str], dict[str, Any] | None],
        pool: ClientPool,
        url_override: str | None = None,
    ) -> None:
        self._get_secret = get_secret
        self._pool = pool
        self._url_override = url_override or None
        # The last connection resolved from each Secret, by (namespace, name). Deletion falls back
        # to it when the Secret is already gone. The in-use finalizer normally keeps a Secret
        # until its users are deleted; this covers Secrets whose finalizer someone removed.
        self._last_resolved: dict[tuple[str, str], Connection] = {}

    def resolve(self, namespace: str, connection_ref: Any, *, for_deletion: bool = False) -> Connection:
        """Return the connection for an object in `namespace`, or raise ConnectionNotReady.

        With `for_deletion`, a Secret that was deleted after it was last resolved still yields
        its last connection.
        """
        located = connection_secret(namespace, connection_ref)
        if located is None:
            raise ConnectionNotReady(
                "InvalidConnectionRef",
                "spec.connectionRef must set secretRef.name or instanceRef.name",
            )
        secret_namespace, secret_name = located
        where = f"Secret {secret_namespace}/{secret_name}"
        secret = self._get_secret(secret_namespace, secret_name)
        if secret is None and for_deletion and (secret_namespace, secret_name) in self._last_resolved:
            return self._last_resolved[(secret_namespace, secret_name)]
        if secret is None:
            raise ConnectionNotReady("SecretNotFound", f"{where} not found; create it or fix spec.connectionRef")

        if connection_ref.secret_ref is not None and connection_ref.secret_ref.name:
            keys = connection_ref.secret_ref.keys
            master_key_key = (keys.master_key if keys else None) or DEFAULT_MASTER_KEY_KEY
            url_key = (keys.url if keys else None) or DEFAULT_URL_KEY
            master_key = _secret_value(secret, master_key_key, where)
            url = self._url_override or _secret_value(secret, url_key, where)
        else:
            master_key = _secret_value(secret, INSTANCE_MASTER_KEY_KEY, where)
            url = self._url_override or instance_url(connection_ref.instance_ref.name, secret_namespace)

        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConnectionNotReady(
                # The value is not echoed: a swapped entry could hold the master key.
                "InvalidURL",
                f"{where} holds a URL value that does not start with http:// or https://; "
                "check that the URL entry, not the master key entry, holds the proxy's URL",
            )
        connection = Connection(
            client=self._pool.get(url, master_key),
            url=url,
            secret_namespace=secret_namespace,
            secret_name=secret_name,
        )
        self._last_resolved[(secret_namespace, secret_name)] = connection
        return connection
