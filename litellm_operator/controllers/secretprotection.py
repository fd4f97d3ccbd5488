"""Connection Secret protection: a Secret in use by custom resources is not deleted before them.

Deleting a LiteLLM object needs the master key, and the master key lives in the connection Secret.
A namespace delete removes Secrets and custom resources in any order, so without protection the
Secret can be gone while the custom resources still wait for their finalizers. The operator
therefore puts the finalizer `litellm-operator.litellm.ai/in-use` on every Secret a custom
resource connects through, as Kubernetes does for PersistentVolumeClaims in use, and removes it
once no Team, User, VirtualKey or TeamMemberAssociation names the Secret any more. A terminating
Secret stays readable, so deletions complete even after an operator restart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from litellm_operator.runtime.controller import Request, Result
from litellm_operator.runtime.kube import SECRETS, Conflict, KubeClient, NotFound

log = logging.getLogger(__name__)

IN_USE_FINALIZER = "litellm-operator.litellm.ai/in-use"


def secret_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


async def protect_secret(client: KubeClient, secret: Mapping[str, Any] | None) -> None:
    """Add the in-use finalizer to a connection Secret that lacks it (one write, then none)."""
    if secret is None:
        return
    meta = secret.get("metadata") or {}
    finalizers = list(meta.get("finalizers") or [])
    if IN_USE_FINALIZER in finalizers or meta.get("deletionTimestamp"):
        return
    # The resourceVersion makes this a compare-and-swap, so a stale cache cannot drop a
    # finalizer someone else added meanwhile; a conflict is retried by the reconcile.
    patch = {"metadata": {"finalizers": [*finalizers, IN_USE_FINALIZER], "resourceVersion": meta["resourceVersion"]}}
    try:
        await client.patch(SECRETS, meta["namespace"], meta["name"], patch)
    except Conflict:
        # The cache lags behind the latest Secret, often because of our own earlier patch. The
        # next reconcile reads it from the refreshed cache and adds the finalizer if it is missing.
        log.debug("connection Secret changed meanwhile; protection is retried on the next reconcile")
        return
    log.info(
        "connection Secret protected while in use",
        extra={"log_fields": {"namespace": meta["namespace"], "secret": meta["name"]}},
    )


class SecretProtectionReconciler:
    """Removes the in-use finalizer from a connection Secret that no custom resource names."""

    controller_name = "connectionsecret"

    def __init__(
        self,
        client: KubeClient,
        *,
        secrets: Any,
        users_of: Iterable[Any],
        index_name: str,
    ) -> None:
        self._client = client
        self._secrets = secrets
        self._informers = list(users_of)
        self._index_name = index_name

    def in_use(self, namespace: str, name: str) -> bool:
        """Return True while any cached custom resource names the Secret in its connectionRef."""
        key = secret_key(namespace, name)
        return any(informer.store.by_index(self._index_name, key) for informer in self._informers)

    async def reconcile(self, request: Request) -> Result:
        secret = self._secrets.store.get_by_name(request.namespace, request.name)
        if secret is None:
            return Result()
        meta = secret["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if IN_USE_FINALIZER not in finalizers or self.in_use(request.namespace, request.name):
            return Result()

        remaining = [f for f in finalizers if f != IN_USE_FINALIZER]
        patch = {"metadata": {"finalizers": remaining or None, "resourceVersion": meta["resourceVersion"]}}
        try:
            await self._client.patch(SECRETS, request.namespace, request.name, patch)
        except NotFound:
            return Result()
        log.info(
            "connection Secret no longer in use; finalizer removed",
            extra={"log_fields": {"namespace": request.namespace, "secret": request.name}},
        )
        return Result()


def secret_requests(index_function: Any) -> Any:
    """Return a map function from a custom resource to the request of its connection Secret."""

    def map_object(obj: Mapping[str, Any]) -> list[Request]:
        requests = []
        for key in index_function(dict(obj)):
            namespace, _, name = key.partition("/")
            requests.append(Request(namespace, name))
        return requests

    return map_object
