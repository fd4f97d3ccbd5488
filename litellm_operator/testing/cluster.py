"""Test harness behind the `cluster` fixture: an API server and a fresh namespace per test.

By default each test gets its own in-process `KubeApiServer` double (it starts in milliseconds)
serving the CRDs from `manifests/crd`. When the environment variable
`LITELLM_OPERATOR_TEST_KUBECONFIG` names a kubeconfig, tests run against that cluster instead:
the CRDs are applied once per process (created, or replaced when they exist) and each test
still gets a namespace of its own.

Cleanup does not rely on a garbage collector or namespace controller (the double has neither):
it removes finalizers from the test's custom resources, deletes them, then deletes the namespace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import yaml

from litellm_operator.runtime.kube import (
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
    SECRETS,
    AlreadyExists,
    ApiError,
    KubeClient,
    NotFound,
    Resource,
)
from litellm_operator.runtime.logging import log_fields

logger = logging.getLogger(__name__)

KUBECONFIG_ENV = "LITELLM_OPERATOR_TEST_KUBECONFIG"
CRD_DIR = Path(__file__).resolve().parents[2] / "manifests" / "crd"
# How long a real cluster may take to serve a freshly applied CRD.
CRD_ESTABLISH_TIMEOUT = 30.0

# Kubeconfig paths whose cluster already has the current CRDs, applied by this process.
_crds_applied: set[str] = set()


@attrs.define
class Cluster:
    """Per-test cluster access: a client, the test's own namespace, and the double when there is one."""

    client: KubeClient
    namespace: str
    kubeconfig: Path
    is_double: bool
    server: Any | None = None


def load_crds(crd_dir: Path = CRD_DIR) -> list[dict[str, Any]]:
    """Read every CustomResourceDefinition document in the YAML files of `crd_dir`."""
    crds = []
    for path in sorted(crd_dir.glob("*.y*ml")):
        with path.open() as handle:
            for document in yaml.safe_load_all(handle):
                if document and document.get("kind") == "CustomResourceDefinition":
                    crds.append(document)
    return crds


def custom_resources(crds: list[dict[str, Any]]) -> list[Resource]:
    """Return the `Resource` of the storage version of each CRD."""
    resources = []
    for crd in crds:
        spec = crd["spec"]
        versions = [version for version in spec["versions"] if version.get("storage")] or spec["versions"]
        resources.append(
            Resource(
                spec["group"],
                versions[0]["name"],
                spec["names"]["plural"],
                spec["names"]["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            )
        )
    return resources


async def apply_crds(client: KubeClient, crds: list[dict[str, Any]]) -> None:
    """Create each CRD, or replace it when it exists, then wait until its resource is served."""
    for crd in crds:
        name = crd["metadata"]["name"]
        try:
            await client.create(CUSTOM_RESOURCE_DEFINITIONS, None, crd)
        except AlreadyExists:
            current = await client.get(CUSTOM_RESOURCE_DEFINITIONS, None, name)
            body = {**crd, "metadata": {**crd["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}}
            await client.replace(CUSTOM_RESOURCE_DEFINITIONS, None, name, body)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + CRD_ESTABLISH_TIMEOUT
    for resource in custom_resources(crds):
        while True:
            try:
                await client.list(resource, limit=1)
                break
            except NotFound:
                if loop.time() > deadline:
                    raise TimeoutError(
                        f"CRD {resource.plural}.{resource.group} not served after {CRD_ESTABLISH_TIMEOUT}s"
                    ) from None
                # Polling is the only way to learn that a new CRD is served.
                await asyncio.sleep(0.1)


async def create_namespace(client: KubeClient, prefix: str = "test") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    await client.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


async def delete_namespace(client: KubeClient, namespace: str, resources: list[Resource]) -> None:
    """Delete the namespace's custom resources and Secrets (dropping finalizers first), then the namespace.

    Secrets are included because the operator puts an in-use finalizer on connection Secrets, and
    no operator runs any more to remove it when a test ends.
    """
    for resource in [*resources, SECRETS]:
        if not resource.namespaced:
            continue
        try:
            listed = await client.list(resource, namespace)
        except ApiError as error:
            logger.warning(
                "listing for cleanup failed",
                extra=log_fields(resource=resource.plural, namespace=namespace, error=str(error)),
            )
            continue
        for obj in listed.get("items") or []:
            name = obj["metadata"]["name"]
            with contextlib.suppress(NotFound):
                if obj["metadata"].get("finalizers"):
                    await client.patch(resource, namespace, name, {"metadata": {"finalizers": None}})
                await client.delete(resource, namespace, name)
    with contextlib.suppress(NotFound):
        await client.delete(NAMESPACES, None, namespace)


@contextlib.asynccontextmanager
async def open_cluster(tmp_path: Path, *, crd_dir: Path = CRD_DIR) -> AsyncIterator[Cluster]:
    """Yield a `Cluster` for one test and clean it up afterwards (see the module docstring)."""
    crds = load_crds(crd_dir)
    resources = custom_resources(crds)
    kubeconfig = os.environ.get(KUBECONFIG_ENV)

    if kubeconfig:
        client = await KubeClient.from_kubeconfig(kubeconfig)
        try:
            key = str(Path(kubeconfig).resolve())
            if key not in _crds_applied:
                await apply_crds(client, crds)
                _crds_applied.add(key)
            namespace = await create_namespace(client)
            try:
                yield Cluster(client=client, namespace=namespace, kubeconfig=Path(kubeconfig), is_double=False)
            finally:
                await delete_namespace(client, namespace, resources)
        finally:
            await client.close()
        return

    # Imported here so that a real-cluster run does not need the double.
    from litellm_operator.testing.apiserver import KubeApiServer

    # HTTPS with the CA in the kubeconfig, so the operator's client verifies the server as in a real cluster.
    server = KubeApiServer(crd_dir=str(crd_dir), tls=True)
    await server.start()
    try:
        path = tmp_path / "kubeconfig"
        server.write_kubeconfig(path)
        client = await KubeClient.from_kubeconfig(str(path))
        try:
            namespace = await create_namespace(client)
            try:
                yield Cluster(client=client, namespace=namespace, kubeconfig=path, is_double=True, server=server)
            finally:
                await delete_namespace(client, namespace, resources)
        finally:
            await client.close()
    finally:
        await server.stop()
