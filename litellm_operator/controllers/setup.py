"""Wiring: one controller per kind on the manager's shared informers.

What wakes what:
- each kind reconciles on its own changes, except status-only updates;
- a Secret change wakes every object whose connectionRef names that Secret (master-key rotation)
  and the object that owns it (a key Secret deleted or edited);
- a Team or User change, status included, wakes the TeamMemberAssociations that reference it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp
import attrs

from litellm_operator import api
from litellm_operator.controllers.base import ObjectReconciler, ReconcilerContext
from litellm_operator.controllers.connection import ConnectionResolver, connection_secret
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


def _reconciler_classes() -> list[type[ObjectReconciler]]:
    from litellm_operator.controllers.team import TeamReconciler

    classes: list[type[ObjectReconciler]] = [TeamReconciler]
    # The other kinds register themselves here as their modules exist.
    for module_name, class_name in (
        ("litellm_operator.controllers.user", "UserReconciler"),
        ("litellm_operator.controllers.virtualkey", "VirtualKeyReconciler"),
        ("litellm_operator.controllers.membership", "TeamMemberAssociationReconciler"),
    ):
        try:
            module = __import__(module_name, fromlist=[class_name])
        except ModuleNotFoundError:
            continue
        classes.append(getattr(module, class_name))
    return classes


def setup(manager: Any, options: Any, *, clock: Any = None) -> Operator:
    """Register every kind's controller on `manager` and return the handle that owns them."""
    clock = clock or manager.clock
    timeout = aiohttp.ClientTimeout(total=options.litellm_timeout, connect=min(10.0, options.litellm_timeout))
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
    for reconciler_class in _reconciler_classes():
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
        controller.watch_mapped(secrets, _secret_mapper(informer, reconciler_class.model.__name__))
        reconciler.watch_dependencies(manager, controller)
        manager.add_controller(controller)
        controllers[reconciler_class.controller_name] = controller
        reconcilers[reconciler_class.controller_name] = reconciler

    return Operator(context=context, pool=pool, controllers=controllers, reconcilers=reconcilers)


def _secret_mapper(informer: Any, kind: str) -> Callable[[Mapping[str, Any]], Iterable[Request]]:
    def map_secret(secret: Mapping[str, Any]) -> list[Request]:
        meta = secret.get("metadata") or {}
        key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        requests = [Request.from_object(obj) for obj in informer.store.by_index(CONNECTION_SECRET_INDEX, key)]
        return requests + owner_requests(kind, secret)

    return map_secret
