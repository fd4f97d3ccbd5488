"""Offline validation of Kubernetes manifests against the kubernetes_asyncio model classes.

The model classes are generated from the Kubernetes OpenAPI schema of the release that the
kubernetes_asyncio version tracks (its major version is the Kubernetes minor version). Each
class lists its fields with their JSON names and types (`attribute_map`, `openapi_types`),
and its constructor rejects a missing required field. Walking a manifest through them finds
unknown or misspelled fields, wrong types and missing required fields without a cluster or a
network. It does not check formats (quantities, DNS names) or cross-field rules, which only
the API server checks.

The ServiceMonitor of the Prometheus Operator has no model class here; `validate` checks it
against the few fields in `SERVICE_MONITOR_FIELDS`.
"""

from __future__ import annotations

import re
from typing import Any

from kubernetes_asyncio.client import models
from kubernetes_asyncio.client.configuration import Configuration

# (apiVersion, kind) of each object the manifests may contain, mapped to its model class.
MODEL_NAMES: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("v1", "Secret"): "V1Secret",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("apps/v1", "Deployment"): "V1Deployment",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "V1ClusterRole",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "V1ClusterRoleBinding",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): "V1CustomResourceDefinition",
}

# Fields of monitoring.coreos.com/v1 ServiceMonitor that the manifests may use. They are a
# subset of the fields in the Prometheus Operator's CRD.
SERVICE_MONITOR_FIELDS = {
    "spec": {"endpoints", "selector", "namespaceSelector", "jobLabel", "targetLabels", "podTargetLabels"},
    "endpoint": {
        "port",
        "targetPort",
        "path",
        "scheme",
        "interval",
        "scrapeTimeout",
        "honorLabels",
        "relabelings",
        "metricRelabelings",
        "tlsConfig",
        "authorization",
        "bearerTokenFile",
    },
}

_LIST_TYPE = re.compile(r"^list\[(.+)\]$")
_DICT_TYPE = re.compile(r"^dict\(str, (.+)\)$")
_CONFIGURATION = Configuration()
_CONFIGURATION.client_side_validation = True


def validate(obj: dict[str, Any]) -> list[str]:
    """Validate one manifest object and return one message per problem (none when it is valid)."""
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if (api_version, kind) == ("monitoring.coreos.com/v1", "ServiceMonitor"):
        return _validate_service_monitor(obj)
    model_name = MODEL_NAMES.get((api_version, kind))
    if model_name is None:
        return [f"{kind} {api_version}: no model class known for this apiVersion and kind"]
    errors: list[str] = []
    _convert(obj, model_name, kind or "", errors)
    return errors


def _convert(value: Any, type_name: str, path: str, errors: list[str]) -> Any:
    """Check `value` against an openapi type name and return it converted to model instances.

    A value of the wrong type is returned unchanged, so the parent's required-field check does
    not report it a second time.
    """
    list_match = _LIST_TYPE.match(type_name)
    if list_match:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, found {type(value).__name__}")
            return value
        return [_convert(item, list_match.group(1), f"{path}[{index}]", errors) for index, item in enumerate(value)]

    dict_match = _DICT_TYPE.match(type_name)
    if dict_match:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, found {type(value).__name__}")
            return value
        return {key: _convert(item, dict_match.group(1), f"{path}.{key}", errors) for key, item in value.items()}

    if type_name == "object":
        return value
    if type_name in ("str", "datetime", "date"):
        expected: tuple[type, ...] = (str,)
    elif type_name == "int":
        expected = (int,)
    elif type_name == "float":
        expected = (int, float)
    elif type_name == "bool":
        expected = (bool,)
    else:
        return _convert_model(value, type_name, path, errors)

    # bool is a subclass of int, but the API server rejects true where it expects a number.
    if not isinstance(value, expected) or (type_name != "bool" and isinstance(value, bool)):
        errors.append(f"{path}: expected {type_name}, found {type(value).__name__} {value!r}")
    return value


def _convert_model(value: Any, model_name: str, path: str, errors: list[str]) -> Any:
    model = getattr(models, model_name)
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({model_name}), found {type(value).__name__}")
        return value

    attributes_by_json_name = {json_name: attribute for attribute, json_name in model.attribute_map.items()}
    kwargs: dict[str, Any] = {}
    for json_name, item in value.items():
        attribute = attributes_by_json_name.get(json_name)
        if attribute is None:
            errors.append(f"{path}.{json_name}: unknown field of {model_name}")
            continue
        kwargs[attribute] = _convert(item, model.openapi_types[attribute], f"{path}.{json_name}", errors)

    # The generated constructors raise ValueError for a missing required field or a value
    # outside an enum.
    try:
        return model(**kwargs, local_vars_configuration=_CONFIGURATION)
    except ValueError as error:
        errors.append(f"{path}: {error}")
        return value


def _validate_service_monitor(obj: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    unknown_top = set(obj) - {"apiVersion", "kind", "metadata", "spec"}
    errors.extend(f"ServiceMonitor.{name}: unknown field" for name in sorted(unknown_top))
    _convert(obj.get("metadata", {}), "V1ObjectMeta", "ServiceMonitor.metadata", errors)

    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [*errors, "ServiceMonitor.spec: missing"]
    errors.extend(
        f"ServiceMonitor.spec.{name}: unknown field" for name in sorted(set(spec) - SERVICE_MONITOR_FIELDS["spec"])
    )
    if "selector" not in spec:
        errors.append("ServiceMonitor.spec.selector: missing")
    else:
        _convert(spec["selector"], "V1LabelSelector", "ServiceMonitor.spec.selector", errors)

    endpoints = spec.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        errors.append("ServiceMonitor.spec.endpoints: expected a non-empty list")
        return errors
    for index, endpoint in enumerate(endpoints):
        path = f"ServiceMonitor.spec.endpoints[{index}]"
        if not isinstance(endpoint, dict):
            errors.append(f"{path}: expected an object")
            continue
        errors.extend(
            f"{path}.{name}: unknown field" for name in sorted(set(endpoint) - SERVICE_MONITOR_FIELDS["endpoint"])
        )
    return errors
