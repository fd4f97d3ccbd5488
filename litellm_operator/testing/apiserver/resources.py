"""Descriptions of the resource types the double serves: built-in core types and CRD-defined kinds."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define
class ResourceType:
    """One served resource: where it lives in the URL space and how its bodies are checked.

    `storage_key` names the storage bucket. Two types may share it (core v1 and events.k8s.io/v1
    Events are one stored object read through two APIs).
    """

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool = True
    list_kind: str = ""
    short_names: list[str] = attrs.field(factory=list)
    # openAPIV3Schema of a CRD version; None for built-in types, which have hand-written checks.
    schema: dict[str, Any] | None = None
    has_status: bool = False
    printer_columns: list[dict[str, Any]] = attrs.field(factory=list)
    storage_key: str = ""
    verbs: list[str] = attrs.field(
        factory=lambda: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    )
    storage_version_hash: str = ""
    is_custom: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.list_kind:
            self.list_kind = self.kind + "List"
        if not self.storage_key:
            self.storage_key = f"{self.group}/{self.plural}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version_path(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


CUSTOM_RESOURCE_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]

NAMESPACES = ResourceType(
    group="",
    version="v1",
    plural="namespaces",
    kind="Namespace",
    singular="namespace",
    namespaced=False,
    short_names=["ns"],
    verbs=["create", "delete", "get", "list", "patch", "update", "watch"],
    storage_version_hash="Q3oi5N2YM8M=",
)
SECRETS = ResourceType(
    group="", version="v1", plural="secrets", kind="Secret", singular="secret", storage_version_hash="S6u1pOWzb84="
)
CONFIGMAPS = ResourceType(
    group="",
    version="v1",
    plural="configmaps",
    kind="ConfigMap",
    singular="configmap",
    short_names=["cm"],
    storage_version_hash="qFsyl6wFWjQ=",
)
CORE_EVENTS = ResourceType(
    group="",
    version="v1",
    plural="events",
    kind="Event",
    singular="event",
    short_names=["ev"],
    storage_key="events",
    storage_version_hash="r2yiGXH7wu8=",
)
# The same stored Events served through the events.k8s.io group.
EVENTS = attrs.evolve(CORE_EVENTS, group="events.k8s.io", short_names=["ev"])
LEASES = ResourceType(
    group="coordination.k8s.io",
    version="v1",
    plural="leases",
    kind="Lease",
    singular="lease",
    storage_version_hash="gqkMMb/YqFM=",
)
CRDS = ResourceType(
    group="apiextensions.k8s.io",
    version="v1",
    plural="customresourcedefinitions",
    kind="CustomResourceDefinition",
    singular="customresourcedefinition",
    namespaced=False,
    short_names=["crd", "crds"],
    has_status=True,
    storage_version_hash="jfWCUB31mvA=",
)

BUILTIN_TYPES = [NAMESPACES, SECRETS, CONFIGMAPS, CORE_EVENTS, EVENTS, LEASES, CRDS]


def resource_type_from_crd(crd: dict[str, Any]) -> list[ResourceType]:
    """Return one ResourceType per served version of a CustomResourceDefinition body."""
    spec = crd["spec"]
    names = spec["names"]
    served = []
    for version in spec.get("versions", []):
        if not version.get("served", True):
            continue
        served.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                kind=names["kind"],
                singular=names.get("singular", names["kind"].lower()),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                list_kind=names.get("listKind", names["kind"] + "List"),
                short_names=list(names.get("shortNames", [])),
                schema=(version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object"},
                has_status="status" in (version.get("subresources") or {}),
                printer_columns=list(version.get("additionalPrinterColumns", [])),
                verbs=list(CUSTOM_RESOURCE_VERBS),
                storage_version_hash="",
                is_custom=True,
            )
        )
    return served
