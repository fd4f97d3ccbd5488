"""The reconcile skeleton shared by every kind.

Each kind's reconciler reads top to bottom as: resolve the connection, observe LiteLLM, compute
the difference, act, report status. The steps every kind does the same way live here: reading the
object from the informer cache, the finalizer, the deletion policy, mapping errors to conditions,
writing status only when it changed, Events and the jittered drift-check requeue. A kind supplies
`sync` (make LiteLLM match the spec and return the status mirror) and `delete_external`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any, ClassVar

import attrs

from litellm_operator.api import converter
from litellm_operator.controllers import conditions as cond
from litellm_operator.controllers.connection import Connection, ConnectionNotReady, ConnectionResolver
from litellm_operator.controllers.patch import merge_patch
from litellm_operator.controllers.secretprotection import protect_secret
from litellm_operator.litellm.errors import (
    EnterpriseFeatureError,
    InvalidRequestError,
    LiteLLMError,
    NotFoundError,
    UnauthorizedError,
)
from litellm_operator.runtime.clock import Clock
from litellm_operator.runtime.controller import ReconcileLogAdapter, Request, Result
from litellm_operator.runtime.kube import SECRETS, Conflict, KubeClient, NotFound, Resource

log = logging.getLogger(__name__)

FINALIZER = "litellm-operator.litellm.ai/finalizer"
# "orphan" lets an object go without deleting it in LiteLLM: the way out when the proxy is gone
# for good, or when the LiteLLM object should outlive the custom resource.
DELETION_POLICY_ANNOTATION = "litellm-operator.litellm.ai/deletion-policy"
DELETION_POLICY_ORPHAN = "orphan"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "litellm-operator"


class SpecInvalid(Exception):
    """The spec cannot work as written; waiting for a spec change is the only fix."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Waiting(Exception):
    """The object depends on something that is not ready; a watch wakes it when that changes."""

    def __init__(self, reason: str, message: str, status: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status or {}


@attrs.define
class SyncResult:
    """Outcome of `sync`: the status mirror to record and the Event to emit, if any."""

    status: dict[str, Any]
    event_reason: str | None = None
    event_message: str | None = None
    requeue_after: float | None = None


@attrs.define
class ReconcilerContext:
    """Collaborators every reconciler needs, built once by the operator setup."""

    client: KubeClient
    connections: ConnectionResolver
    recorder: Any
    clock: Clock
    get_object: Callable[[Resource, str, str], dict[str, Any] | None]
    sync_period: float = 300.0
    # Fraction of sync_period added at random, so objects created together do not all
    # check drift in the same second.
    jitter: float = 0.1
    rng: random.Random = attrs.field(factory=random.Random)


class ObjectReconciler:
    """Base class of the per-kind reconcilers."""

    resource: ClassVar[Resource]
    model: ClassVar[type]
    controller_name: ClassVar[str]

    def __init__(self, ctx: ReconcilerContext) -> None:
        self.ctx = ctx
        self.log = ReconcileLogAdapter(log)

    # ---- hooks for the kinds ----

    async def sync(self, obj: Any, raw: dict[str, Any], connection: Connection) -> SyncResult:
        raise NotImplementedError

    async def delete_external(self, obj: Any, raw: dict[str, Any], connection: Connection) -> None:
        raise NotImplementedError

    async def delete_without_connection(self, obj: Any, raw: dict[str, Any]) -> bool:
        """Return True when deletion can finish although the connection cannot be resolved."""
        return False

    async def cleanup_owned(self, obj: Any, raw: dict[str, Any]) -> None:
        """Remove Kubernetes objects this object owns, before its finalizer goes."""

    def watch_dependencies(self, manager: Any, controller: Any) -> None:
        """Register watches beyond the own kind and the connection Secret (none by default)."""

    # ---- the loop ----

    async def reconcile(self, request: Request) -> Result:
        try:
            return await self._reconcile(request)
        except Conflict:
            # The cache was older than the object: a write carried a stale resourceVersion.
            # That is routine after our own writes, so it is a retry, not an error.
            self.log.info("object changed meanwhile; requeued")
            return Result(requeue=True)

    async def _reconcile(self, request: Request) -> Result:
        raw = self.ctx.get_object(self.resource, request.namespace, request.name)
        if raw is None:
            return Result()
        obj = converter.structure(raw, self.model)

        if obj.metadata.deletion_timestamp:
            return await self._reconcile_delete(obj, raw)
        if FINALIZER not in (obj.metadata.finalizers or []):
            # The finalizer patch is a change of the object, so its watch event wakes the next
            # reconcile, which does the sync. Syncing here as well would call LiteLLM twice for
            # every new object, and repeat a create that LiteLLM rejected.
            await self._add_finalizer(raw)
            return Result()

        try:
            connection = self.ctx.connections.resolve(request.namespace, obj.spec.connection_ref)
            await protect_secret(
                self.ctx.client, self.ctx.get_object(SECRETS, connection.secret_namespace, connection.secret_name)
            )
            outcome = await self.sync(obj, raw, connection)
        except ConnectionNotReady as exc:
            await self._report(raw, cond.failed(exc.reason, exc.message, generation(raw)))
            raise
        except Waiting as exc:
            self.log.info("waiting reason=%s message=%r", exc.reason, exc.message)
            await self._report(raw, cond.waiting(exc.reason, exc.message, generation(raw)), exc.status or None)
            return Result(requeue_after=self.drift_delay())
        except (SpecInvalid, EnterpriseFeatureError, InvalidRequestError) as exc:
            reason, message = terminal_reason(exc)
            # Not retried with backoff: only a spec change or the next drift check can help.
            self.log.warning("spec cannot be applied reason=%s error=%r", reason, message)
            await self._report(raw, cond.degraded(reason, message, generation(raw)))
            self.ctx.recorder.event(raw, "Warning", reason, message)
            return Result(requeue_after=self.drift_delay())
        except LiteLLMError as exc:
            reason = failure_reason(exc)
            await self._report(raw, cond.failed(reason, str(exc), generation(raw)))
            self.ctx.recorder.event(raw, "Warning", reason, str(exc))
            raise

        await self._report(raw, cond.ready(generation(raw)), outcome.status)
        if outcome.event_reason:
            self.ctx.recorder.event(raw, "Normal", outcome.event_reason, outcome.event_message or "")
        return Result(requeue_after=outcome.requeue_after or self.drift_delay())

    def drift_delay(self) -> float:
        """Return the delay until the next drift check, with jitter."""
        return self.ctx.sync_period * (1 + self.ctx.jitter * self.ctx.rng.random())

    # ---- deletion ----

    async def _reconcile_delete(self, obj: Any, raw: dict[str, Any]) -> Result:
        if FINALIZER not in (obj.metadata.finalizers or []):
            return Result()

        annotations = obj.metadata.annotations or {}
        if annotations.get(DELETION_POLICY_ANNOTATION) == DELETION_POLICY_ORPHAN:
            self.log.info("deletion policy is orphan; leaving the LiteLLM object in place")
        else:
            try:
                connection = self.ctx.connections.resolve(
                    obj.metadata.namespace, obj.spec.connection_ref, for_deletion=True
                )
            except ConnectionNotReady as exc:
                if not await self.delete_without_connection(obj, raw):
                    message = (
                        f"cannot delete in LiteLLM: {exc.message}; restore the connection or set "
                        f"annotation {DELETION_POLICY_ANNOTATION}={DELETION_POLICY_ORPHAN} to let go"
                    )
                    await self._report(raw, cond.delete_failed(exc.reason, message, generation(raw)))
                    raise
            else:
                try:
                    await self.delete_external(obj, raw, connection)
                except NotFoundError:
                    pass
                except LiteLLMError as exc:
                    message = (
                        f"cannot delete in LiteLLM: {exc}; it is retried with backoff, or set annotation "
                        f"{DELETION_POLICY_ANNOTATION}={DELETION_POLICY_ORPHAN} to let go"
                    )
                    await self._report(raw, cond.delete_failed("DeleteFailed", message, generation(raw)))
                    self.ctx.recorder.event(raw, "Warning", "DeleteFailed", message)
                    raise
                self.ctx.recorder.event(raw, "Normal", "Deleted", f"deleted {self.model.__name__} in LiteLLM")

        await self.cleanup_owned(obj, raw)
        await self._remove_finalizer(raw)
        return Result()

    # ---- Kubernetes writes ----

    async def _add_finalizer(self, raw: dict[str, Any]) -> dict[str, Any]:
        meta = raw["metadata"]
        finalizers = [*list(meta.get("finalizers") or []), FINALIZER]
        # The resourceVersion makes this a compare-and-swap: a stale cache gets 409 and a retry
        # instead of dropping someone else's finalizer.
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        return await self.ctx.client.patch(self.resource, meta["namespace"], meta["name"], patch)

    async def _remove_finalizer(self, raw: dict[str, Any]) -> None:
        meta = raw["metadata"]
        finalizers = [f for f in meta.get("finalizers") or [] if f != FINALIZER]
        patch = {"metadata": {"finalizers": finalizers or None, "resourceVersion": meta["resourceVersion"]}}
        try:
            await self.ctx.client.patch(self.resource, meta["namespace"], meta["name"], patch)
        except NotFound:
            return
        self.log.info("finalizer removed")

    async def _report(
        self,
        raw: dict[str, Any],
        conditions: list[cond.Condition],
        mirror: dict[str, Any] | None = None,
    ) -> None:
        """Write status: the mirror fields (kept as they were when None) and the conditions."""
        old = raw.get("status") or {}
        new = dict(old) if mirror is None else {k: v for k, v in old.items() if k == "conditions"}
        if mirror:
            new.update({k: v for k, v in mirror.items() if v is not None})
        new["observedGeneration"] = generation(raw)
        new["conditions"] = cond.merge(old.get("conditions") or [], conditions, self.ctx.clock.now())

        patch = merge_patch(old, new)
        if not patch:
            return
        meta = raw["metadata"]
        try:
            await self.ctx.client.patch(
                self.resource, meta["namespace"], meta["name"], {"status": patch}, subresource="status"
            )
        except NotFound:
            return


def terminal_reason(exc: Exception) -> tuple[str, str]:
    """Return the condition reason and message of a spec that cannot work as written."""
    if isinstance(exc, SpecInvalid):
        return exc.reason, exc.message
    if isinstance(exc, EnterpriseFeatureError):
        return "EnterpriseFeatureRequired", str(exc)
    # A 400 or 422: LiteLLM rejects the same request again until the spec changes.
    return "InvalidSpec", f"LiteLLM rejected the request; fix the field it names: {exc}"


def failure_reason(exc: LiteLLMError) -> str:
    """Return the condition reason of a LiteLLM call that failed and is retried."""
    if isinstance(exc, UnauthorizedError):
        # A wrong or rotated master key in the connection Secret.
        return "Unauthorized"
    if exc.status is None or exc.status >= 500:
        return "LiteLLMUnavailable"
    return "LiteLLMRequestFailed"


def change_event(obj: Any, raw: dict[str, Any], names: Any, subject: str = "") -> tuple[str, str]:
    """Return the Event reason and message for fields written to LiteLLM.

    `Updated` when the spec changed since the last successful reconcile, else `DriftCorrected`:
    LiteLLM was changed outside the operator. `names` are field names, never values, because
    some values are secret. `subject` names what was changed, such as "of user u in team t".
    """
    listed = ", ".join(sorted(dict.fromkeys(names)))
    where = f" {subject}" if subject else ""
    if generation(raw) != (obj.status.observed_generation or 0):
        return "Updated", f"updated {listed}{where} in LiteLLM"
    return "DriftCorrected", f"restored {listed}{where}, changed outside the operator"


def generation(raw: dict[str, Any]) -> int:
    return int(raw["metadata"].get("generation") or 0)
