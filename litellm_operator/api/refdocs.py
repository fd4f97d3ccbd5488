"""Markdown reference pages of the kinds, generated from the same models as the CRDs."""

from __future__ import annotations

import typing
from typing import Any

import attrs

from litellm_operator.api.kinds import KindInfo
from litellm_operator.api.openapi import CONDITION_SCHEMA, resolved_fields, unwrap_optional
from litellm_operator.api.schema import FieldSpec, field_spec, json_name
from litellm_operator.runtime.conditions import Condition

_SCALAR_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def render_reference(info: KindInfo) -> str:
    """Render the reference page of one kind: one table per type reachable from the kind."""
    kind = info.resource.kind
    lines = [
        "<!-- Generated from litellm_operator/api by `make manifests`. Do not edit. -->",
        f"# {kind}",
        "",
        info.summary,
        "",
        f"- API version: `{info.resource.api_version}`",
        f"- Scope: {'namespaced' if info.resource.namespaced else 'cluster'}, with a status subresource",
        f"- Plural: `{info.resource.plural}`; short names: {', '.join(f'`{name}`' for name in info.short_names)}",
        "",
    ]
    for cls in _reachable_classes(info.model):
        lines += _class_table(cls)
    lines += _condition_table()
    return "\n".join(lines)


def _reachable_classes(root: type) -> list[type]:
    """List the attrs classes used by `root`, breadth first, without Condition and opaque fields."""
    order: list[type] = []
    pending = [root]
    while pending:
        cls = pending.pop(0)
        if cls in order:
            continue
        order.append(cls)
        for attribute in resolved_fields(cls):
            spec = field_spec(attribute)
            if spec is not None and spec.schema_opaque:
                continue
            pending += [nested for nested in _nested_classes(attribute.type) if nested is not Condition]
    return order


def _nested_classes(annotation: Any) -> list[type]:
    annotation = unwrap_optional(annotation)
    if attrs.has(annotation):
        return [annotation]
    nested: list[type] = []
    for argument in typing.get_args(annotation):
        nested += _nested_classes(argument)
    return nested


def _class_table(cls: type) -> list[str]:
    doc = " ".join((cls.__doc__ or "").strip().split("\n\n", 1)[0].split())
    lines = [f"## {cls.__name__}", "", doc, "", *_table_header()]
    for attribute in resolved_fields(cls):
        spec = field_spec(attribute)
        type_name = "ObjectMeta (Kubernetes)" if spec is not None and spec.schema_opaque else _type_name(attribute.type)
        required = "yes" if spec is not None and spec.required else ""
        validation = _validation_text(spec) if spec is not None else ""
        description = spec.description if spec is not None else ""
        lines.append(_row(json_name(attribute), type_name, required, validation, description))
    lines.append("")
    return lines


def _condition_table() -> list[str]:
    lines = ["## Condition", "", CONDITION_SCHEMA["description"], "", *_table_header()]
    required = CONDITION_SCHEMA["required"]
    for name, schema in CONDITION_SCHEMA["properties"].items():
        checks = []
        if "enum" in schema:
            checks.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
        if "format" in schema:
            checks.append(f"format {schema['format']}")
        if "pattern" in schema:
            checks.append(f"pattern `{schema['pattern']}`")
        if "maxLength" in schema:
            checks.append(f"at most {schema['maxLength']} characters")
        lines.append(
            _row(name, schema["type"], "yes" if name in required else "", "; ".join(checks), schema["description"])
        )
    lines.append("")
    return lines


def _table_header() -> list[str]:
    return ["| Field | Type | Required | Validation | Description |", "|---|---|---|---|---|"]


def _row(name: str, type_name: str, required: str, validation: str, description: str) -> str:
    cells = [f"`{name}`", type_name, required, validation, description]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _type_name(annotation: Any) -> str:
    annotation = unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if annotation in _SCALAR_NAMES:
        return _SCALAR_NAMES[annotation]
    if origin is list:
        (item,) = typing.get_args(annotation)
        return "[]" + _type_name(item)
    if origin is dict:
        _, value = typing.get_args(annotation)
        return "map[string]" + _type_name(value)
    name = getattr(annotation, "__name__", str(annotation))
    return f"[{name}](#{name.lower()})"


def _validation_text(spec: FieldSpec) -> str:
    checks = []
    keywords = spec.keywords()
    if "enum" in keywords:
        checks.append("one of " + ", ".join(f"`{value}`" for value in keywords["enum"]))
    if "pattern" in keywords:
        checks.append(f"pattern `{keywords['pattern']}`")
    if "minimum" in keywords:
        checks.append(f"minimum {keywords['minimum']}")
    if "maximum" in keywords:
        checks.append(f"maximum {keywords['maximum']}")
    item_keywords = spec.item_keywords()
    if "pattern" in item_keywords:
        checks.append(f"each value matches `{item_keywords['pattern']}`")
    if "minimum" in item_keywords:
        checks.append(f"each value at least {item_keywords['minimum']}")
    for rule in spec.validations:
        checks.append(f"CEL `{rule.rule}`: {rule.message}")
    return "; ".join(checks)
