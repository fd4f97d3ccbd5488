"""Discovery documents (/version, /api, /apis, aggregated discovery), minimal OpenAPI v3
documents for kubectl, and the meta.k8s.io Table and PartialObjectMetadata forms."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from typing import Any

from .handlers import Registry
from .resources import ResourceType

VERSION_INFO = {
    "major": "1",
    "minor": "36",
    "emulationMajor": "1",
    "emulationMinor": "36",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "35",
    "gitVersion": "v1.36.2-litellm-operator-double",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "1970-01-01T00:00:00Z",
    "goVersion": "go1.27.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}
AGGREGATED_DISCOVERY_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
_SUBRESOURCE_VERBS = ["get", "patch", "update"]


def wants_aggregated(accept: str) -> bool:
    first = accept.split(",", 1)[0]
    return "as=APIGroupDiscoveryList" in first and "v=v2" in first.replace("v=v2beta1", "")


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_entry(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{version}", "version": version} for version in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group_entry(group, versions) for group, versions in registry.group_versions().items() if group]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    versions = registry.group_versions().get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1"} | _group_entry(group, versions)


def api_resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    resources = []
    for rt in sorted(types, key=lambda t: t.plural):
        entry: dict[str, Any] = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs,
        }
        if rt.short_names:
            entry["shortNames"] = rt.short_names
        entry["storageVersionHash"] = rt.storage_version_hash or _hash(rt)
        resources.append(entry)
        if rt.has_status:
            resources.append({"name": f"{rt.plural}/status", "singularName": "", "namespaced": rt.namespaced,
                              "kind": rt.kind, "verbs": _SUBRESOURCE_VERBS})
    body: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        body["apiVersion"] = "v1"
    body["groupVersion"] = f"{group}/{version}" if group else version
    body["resources"] = resources
    return body


def _hash(rt: ResourceType) -> str:
    import base64

    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def aggregated_discovery(registry: Registry, *, core: bool) -> dict[str, Any]:
    items = []
    for group, versions in registry.group_versions().items():
        if bool(group) == core:
            continue
        version_entries = []
        for version in versions:
            resources = []
            for rt in sorted(registry.in_group_version(group, version), key=lambda t: t.plural):
                kind_ref = {"group": group if rt.is_custom else "", "version": version if rt.is_custom else "", "kind": rt.kind}
                entry: dict[str, Any] = {
                    "resource": rt.plural,
                    "responseKind": kind_ref,
                    "scope": "Namespaced" if rt.namespaced else "Cluster",
                    "singularResource": rt.singular,
                    "verbs": rt.verbs,
                }
                if rt.short_names:
                    entry["shortNames"] = rt.short_names
                if rt.has_status:
                    entry["subresources"] = [{"subresource": "status", "responseKind": kind_ref, "verbs": _SUBRESOURCE_VERBS}]
                resources.append(entry)
            version_entries.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group} if group else {}, "versions": version_entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


# OpenAPI v3 ----------------------------------------------------------------------------------------


def _openapi_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_index(registry: Registry) -> dict[str, Any]:
    paths = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            path = _openapi_path(group, version)
            document = openapi_document(registry, group, version)
            digest = hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest().upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def _schema_name(rt: ResourceType) -> str:
    reversed_group = ".".join(reversed(rt.group.split("."))) if rt.group else "io.k8s.api.core"
    return f"{reversed_group}.{rt.version}.{rt.kind}"


def openapi_document(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """Return a small OpenAPI v3 document: one schema per kind, tagged with its group/version/kind.

    NOTE: built-in kinds get an open object schema, not their full upstream schemas; kubectl
    needs only the group/version/kind tags for `apply --validate=false`.
    """
    types = registry.in_group_version(group, version)
    if not types:
        return None
    schemas = {}
    for rt in types:
        schema = dict(rt.schema) if rt.schema else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        schema["x-kubernetes-group-version-kind"] = [{"group": group, "version": version, "kind": rt.kind}]
        schemas[_schema_name(rt)] = schema
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": VERSION_INFO["gitVersion"]},
        "paths": {},
        "components": {"schemas": schemas},
    }


# Table and PartialObjectMetadata -----------------------------------------------------------------

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}
_AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def partial_metadata_list(listing: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": listing["metadata"],
        "items": [partial_metadata(item) for item in listing["items"]],
    }


def table(rt: ResourceType, objects: list[dict[str, Any]], list_metadata: dict[str, Any]) -> dict[str, Any]:
    columns = rt.printer_columns if rt.is_custom and rt.printer_columns else [_AGE_COLUMN]
    definitions = [_NAME_COLUMN] + [
        {
            "name": column["name"],
            "type": column.get("type", "string"),
            "format": column.get("format", ""),
            "description": column.get("description")
            or f"Custom resource definition column (in JSONPath format): {column['jsonPath']}",
            "priority": column.get("priority", 0),
        }
        for column in columns
    ]
    rows = []
    for obj in objects:
        cells = [obj["metadata"]["name"]]
        for column in columns:
            value = evaluate_json_path(obj, column["jsonPath"])
            if column.get("type") == "date" and isinstance(value, str):
                value = _age(value)
            cells.append(value)
        rows.append({"cells": cells, "object": partial_metadata(obj)})
    metadata = {key: value for key, value in list_metadata.items() if key in ("resourceVersion", "continue", "remainingItemCount") and value != ""}
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": definitions, "rows": rows}


_FILTER = re.compile(r'^\[\?\(@\.(\w+)==["\']([^"\']*)["\']\)\]')


def evaluate_json_path(obj: Any, path: str) -> Any:
    """Evaluate the JSONPath subset printer columns use: `.a.b`, `[0]` and `[?(@.k=="v")]`."""
    node = obj
    rest = path.strip().strip("{}")
    while rest:
        if rest.startswith("."):
            match = re.match(r"^\.([\w\-]+)", rest)
            if not match:
                return None
            node = node.get(match.group(1)) if isinstance(node, dict) else None
            rest = rest[match.end():]
        elif rest.startswith("[?"):
            match = _FILTER.match(rest)
            if not match or not isinstance(node, list):
                return None
            node = next((item for item in node if isinstance(item, dict) and str(item.get(match.group(1))) == match.group(2)), None)
            rest = rest[match.end():]
        elif rest.startswith("["):
            match = re.match(r"^\[(\d+)\]", rest)
            if not match or not isinstance(node, list) or int(match.group(1)) >= len(node):
                return None
            node = node[int(match.group(1))]
            rest = rest[match.end():]
        else:
            return None
        if node is None:
            return None
    return node


def _age(timestamp: str) -> str:
    try:
        created = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    seconds = int((datetime.datetime.now(datetime.UTC) - created).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 3600 * 3:
        return f"{seconds // 60}m"
    if seconds < 86400 * 2:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
