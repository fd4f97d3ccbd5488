"""Structural OpenAPI v3 schemas built from the attrs models and their field declarations.

Every node gets an explicit `type`, so the schemas are structural as the API server requires, and
nothing preserves unknown fields, so the API server prunes keys that the models do not declare.
"""

from __future__ import annotations

import copy
import types
import typing
from datetime import datetime
from typing import Any

import attrs

from litellm_operator.api.schema import FieldSpec, field_spec, json_name
from litellm_operator.runtime.conditions import Condition

# metav1.Condition's validation, with our own descriptions. Conditions form a list-map keyed by
# `type`, so a merge or server-side apply patch updates one condition without replacing the rest.
CONDITION_SCHEMA: dict[str, Any] = {
    "description": "One observed aspect of the object's state, following the Kubernetes condition conventions.",
    "type": "object",
    "required": ["type", "status", "lastTransitionTime", "reason", "message"],
    "properties": {
        "type": {
            "type": "string",
            "description": "Condition type in CamelCase, such as Ready.",
            "maxLength": 316,
            "pattern": r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        },
        "status": {
            "type": "string",
            "description": "Whether the condition holds.",
            "enum": ["True", "False", "Unknown"],
        },
        "observedGeneration": {
            "type": "integer",
            "format": "int64",
            "minimum": 0,
            "description": "The metadata.generation that the condition was computed from.",
        },
        "lastTransitionTime": {
            "type": "string",
            "format": "date-time",
            "description": "Time the status last changed between True, False and Unknown.",
        },
        "reason": {
            "type": "string",
            "description": "Machine-readable reason for the status, in CamelCase.",
            "minLength": 1,
            "maxLength": 1024,
            "pattern": r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        },
        "message": {
            "type": "string",
            "description": "Human-readable details of the status. May be empty.",
            "maxLength": 32768,
        },
    },
}

_SCALARS: dict[type, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime: {"type": "string", "format": "date-time"},
}


def unwrap_optional(annotation: Any) -> Any:
    """Return X for `X | None`, and the annotation unchanged otherwise."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def resolved_fields(cls: type) -> tuple[attrs.Attribute, ...]:
    """Return the attrs fields of `cls` with their string annotations resolved to types."""
    attrs.resolve_types(cls)
    return attrs.fields(cls)


def type_schema(annotation: Any) -> dict[str, Any]:
    """Build the schema of a Python type: a scalar, list[...], dict[str, ...] or attrs class."""
    annotation = unwrap_optional(annotation)
    origin = typing.get_origin(annotation)

    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if origin is list:
        (item,) = typing.get_args(annotation)
        return {"type": "array", "items": type_schema(item)}
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is not str:
            raise TypeError(f"map keys must be str in a CRD schema, got {key!r}")
        return {"type": "object", "additionalProperties": type_schema(value)}
    if annotation is Condition:
        return copy.deepcopy(CONDITION_SCHEMA)
    if attrs.has(annotation):
        return object_schema(annotation)
    raise TypeError(f"no OpenAPI schema for the Python type {annotation!r}")


def object_schema(cls: type) -> dict[str, Any]:
    """Build the schema of an attrs class from its declared fields."""
    schema: dict[str, Any] = {}
    description = _class_description(cls)
    if description:
        schema["description"] = description
    schema["type"] = "object"

    required: list[str] = []
    properties: dict[str, Any] = {}
    for attribute in resolved_fields(cls):
        spec = field_spec(attribute)
        name = json_name(attribute)
        if spec is not None and spec.schema_opaque:
            properties[name] = {"type": "object"}
            continue
        properties[name] = field_schema(attribute.type, spec)
        if spec is not None and spec.required:
            required.append(name)

    if required:
        schema["required"] = required
    schema["properties"] = properties
    return schema


def field_schema(annotation: Any, spec: FieldSpec | None) -> dict[str, Any]:
    """Build the schema of one field: its type's schema plus the field's own keywords."""
    schema = type_schema(annotation)
    if spec is None:
        return schema

    if spec.description:
        # The field's description replaces the description of its type.
        schema = {"description": spec.description, **{k: v for k, v in schema.items() if k != "description"}}
    schema.update(spec.keywords())

    item_keywords = spec.item_keywords()
    if item_keywords:
        if schema["type"] == "array":
            schema["items"].update(item_keywords)
        elif "additionalProperties" in schema:
            schema["additionalProperties"].update(item_keywords)
        else:
            raise TypeError(f"item keywords on the non-collection field {spec.json!r}")

    if unwrap_optional(annotation) == list[Condition]:
        schema["x-kubernetes-list-type"] = "map"
        schema["x-kubernetes-list-map-keys"] = ["type"]

    if spec.validations:
        schema["x-kubernetes-validations"] = [rule.to_openapi() for rule in spec.validations]
    return schema


def _class_description(cls: type) -> str:
    """Return the first paragraph of a class docstring as one line."""
    doc = cls.__doc__ or ""
    first_paragraph = doc.strip().split("\n\n", 1)[0]
    return " ".join(first_paragraph.split())

