"""Wiring: one controller per kind on the manager's shared informers.

What wakes what:
- each kind reconciles on its own changes, except status-only updates;
- a Secret change wakes every object whose connectionRef names that Secret (master-key rotation)
  and the object that owns it (a key Secret deleted or edited);
- a Team or User change, status included, wakes the TeamMemberAssociations that reference it;
- a custom resource change wakes its connection Secret's protection, which removes the in-use
  finalizer once no custom resource names the Secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs

from litellm_operator import api
from litellm_operator.controllers.base import ObjectReconciler, ReconcilerContext
from litellm_operator.controllers.connection import ConnectionResolver, connection_secret
from litellm_operator.controllers.membership import TeamMemberAssociationReconciler
from litellm_operator.controllers.secretprotection import SecretProtectionReconciler, secret_requests
from litellm_operator.controllers.team import TeamReconciler
from litellm_operator.controllers.user import UserReconciler
from litellm_operator.controllers.virtualkey import VirtualKeyReconciler
from litellm_operator.litellm.pool import ClientPool
from litellm_operator.runtime.controller import Controller, Request
from litellm_operator.runtime.kube import SECRETS, Resource

CONNECTION_SECRET_INDEX = "connection-secret"


def connection_secret_index(obj: dict[str, Any]) -> list[str]:
    """Index function: the `namespace/name` of the Secret an object's connectionRef reads."""
    meta = obj.get("metadata") or {}
    ref = ((obj.get("spec") or {}).get("connectionRef")) or {}
    secret_ref = ref.get("secretRef") or {}
    instance_ref = ref.get("instanceRef") or {}
    namespace = meta.get("namespace") or ""
    if secret_ref.get("name"):
        return [f"{namespace}/{secret_ref['name']}"]
    if instance_ref.get("name"):
        located = connection_secret(namespace, api.converter.structure(ref, api.ConnectionRef))
        return [f"{located[0]}/{located[1]}"] if located else []
    return []


def owner_requests(kind: str, secret: Mapping[str, Any]) -> list[Request]:
    """Return requests for the objects of `kind` that own a Secret."""
    meta = secret.get("metadata") or {}
    return [
        Request(meta.get("namespace", ""), ref["name"])
        for ref in meta.get("ownerReferences") or []
        if ref.get("kind") == kind and ref.get("apiVersion", "").startswith(api.GROUP + "/")
    ]


@attrs.define
class Operator:
    """The registered controllers and the resources they share; `close()` releases them."""

    context: ReconcilerContext
    pool: ClientPool
    controllers: dict[str, Controller]
    reconcilers: dict[str, ObjectReconciler]

    async def close(self) -> None:
        await self.pool.close()


RECONCILER_CLASSES: tuple[type[ObjectReconciler], ...] = (
    TeamReconciler,
    UserReconciler,
    VirtualKeyReconciler,
    TeamMemberAssociationReconciler,
)


def setup(manager: Any, options: Any, *, clock: Any = None) -> Operator:
    """Register every kind's controller on `manager` and return the handle that owns them."""
    clock = clock or manager.clock
    timeout = aiohttp.ClientTimeout(
        total=options.litellm_timeout, connect=min(options.litellm_connect_timeout, options.litellm_timeout)
    )
    pool = ClientPool(timeout=timeout, metrics=manager.metrics)

    secrets = manager.informer(SECRETS)
    resolver = ConnectionResolver(
        get_secret=lambda namespace, name: secrets.store.get_by_name(namespace, name),
        pool=pool,
        url_override=options.litellm_url_override,
    )

    def get_object(resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        return manager.informer(resource).store.get_by_name(namespace, name)

    context = ReconcilerContext(
        client=manager.client,
        connections=resolver,
        recorder=manager.event_recorder("litellm-operator"),
        clock=clock,
        get_object=get_object,
        sync_period=options.sync_period,
    )

    controllers: dict[str, Controller] = {}
    reconcilers: dict[str, ObjectReconciler] = {}
    for reconciler_class in RECONCILER_CLASSES:
        reconciler = reconciler_class(context)
        controller = Controller(
            reconciler_class.controller_name,
            reconciler,
            max_concurrent_reconciles=options.max_concurrent_reconciles,
            clock=clock,
            metrics=manager.metrics,
        )
        informer = manager.informer(reconciler_class.resource)
        informer.add_indexers({CONNECTION_SECRET_INDEX: connection_secret_index})
        controller.watch_own(informer)
        secrets.add_event_handler(_SecretChangeHandler(controller, informer, reconciler_class.model.__name__))
        reconciler.watch_dependencies(manager, controller)
        manager.add_controller(controller)
        controllers[reconciler_class.controller_name] = controller
        reconcilers[reconciler_class.controller_name] = reconciler

    protection = SecretProtectionReconciler(
        manager.client,
        secrets=secrets,
        users_of=[manager.informer(cls.resource) for cls in RECONCILER_CLASSES],
        index_name=CONNECTION_SECRET_INDEX,
    )
    protection_controller = Controller(protection.controller_name, protection, clock=clock, metrics=manager.metrics)
    protection_controller.watch_own(secrets)
    for cls in RECONCILER_CLASSES:
        protection_controller.watch_mapped(manager.informer(cls.resource), secret_requests(connection_secret_index))
    manager.add_controller(protection_controller)
    controllers[protection.controller_name] = protection_controller

    return Operator(context=context, pool=pool, controllers=controllers, reconcilers=reconcilers)


class _SecretChangeHandler:
    """Secret event handler that wakes the objects using or owning a Secret when its data changes.

    Metadata-only updates, such as the in-use finalizer or a key Secret's annotations written by
    the operator itself, change nothing a reconciler reads, so they wake no object.
    """

    def __init__(self, controller: Controller, informer: Any, kind: str) -> None:
        self._controller = controller
        self._informer = informer
        self._kind = kind

    def on_add(self, secret: dict[str, Any]) -> None:
        self._enqueue(secret)

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("data") != new.get("data") or old.get("metadata", {}).get("deletionTimestamp") != new.get(
            "metadata", {}
        ).get("deletionTimestamp"):
            self._enqueue(new)

    def on_delete(self, secret: dict[str, Any]) -> None:
        self._enqueue(secret)

    def _enqueue(self, secret: Mapping[str, Any]) -> None:
        meta = secret.get("metadata") or {}
        key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        for obj in self._informer.store.by_index(CONNECTION_SECRET_INDEX, key):
            self._controller.enqueue(Request.from_object(obj))
        for request in owner_requests(self._kind, secret):
            self._controller.enqueue(request)
