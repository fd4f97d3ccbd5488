"""Structural-schema validation of custom resources: types, required, enum, pattern, formats,
bounds, pruning of unknown fields and `x-kubernetes-validations` CEL rules.

Messages and cause reasons follow kube-apiserver 1.36, for example
`spec.maxBudget: Invalid value: "integer": spec.maxBudget in body must be of type string: "integer"`.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from .errors import cause, go_type_name, go_value

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOP_LEVEL_FIELDS = {"apiVersion", "kind", "metadata"}


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class SchemaValidator:
    """Validate and prune one object against an openAPIV3Schema.

    `prune` drops unknown fields in place and returns their paths. `validate` returns field
    causes sorted by field path, because the real server reports them in that order.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema

    # Pruning ---------------------------------------------------------------------------------

    def prune(self, obj: dict[str, Any]) -> list[str]:
        unknown: list[str] = []
        for key in list(obj):
            if key in _TOP_LEVEL_FIELDS:
                continue
            properties = self.schema.get("properties") or {}
            if key in properties:
                obj[key] = self._prune_value(obj[key], properties[key], key, unknown)
            elif not self.schema.get("x-kubernetes-preserve-unknown-fields"):
                del obj[key]
                unknown.append(key)
        return unknown

    def _prune_value(self, value: Any, schema: dict[str, Any], path: str, unknown: list[str]) -> Any:
        if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
            return value
        if isinstance(value, dict):
            properties = schema.get("properties")
            additional = schema.get("additionalProperties")
            for key in list(value):
                child_path = join_path(path, key)
                if properties is not None and key in properties:
                    value[key] = self._prune_value(value[key], properties[key], child_path, unknown)
                elif isinstance(additional, dict):
                    value[key] = self._prune_value(value[key], additional, child_path, unknown)
                elif additional is True or schema.get("x-kubernetes-preserve-unknown-fields"):
                    continue
                elif properties is not None or schema.get("type") == "object":
                    del value[key]
                    unknown.append(child_path)
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                value[index] = self._prune_value(item, schema["items"], f"{path}[{index}]", unknown)
        return value

    # Validation ------------------------------------------------------------------------------

    def validate(self, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[dict[str, str]]:
        causes: list[dict[str, str]] = []
        properties = self.schema.get("properties") or {}
        for key in sorted(properties):
            if key in _TOP_LEVEL_FIELDS:
                continue
            if key in obj:
                old_value = old.get(key) if old is not None else None
                self._validate_value(obj[key], properties[key], key, causes, old_value, old is not None and key in old)
        for key in self.schema.get("required") or []:
            if key not in obj and key not in _TOP_LEVEL_FIELDS:
                causes.append(cause("FieldValueRequired", "Required value", key))
        causes.extend(_run_rules(self.schema, _strip_meta(obj), "", old=_strip_meta(old) if old else None))
        return sorted(causes, key=lambda c: c.get("field", ""))

    def _validate_value(
        self,
        value: Any,
        schema: dict[str, Any],
        path: str,
        causes: list[dict[str, str]],
        old: Any,
        has_old: bool,
    ) -> None:
        if value is None:
            if not schema.get("nullable"):
                expected = schema.get("type")
                if expected:
                    causes.append(_type_cause(path, expected, value))
            return
        if schema.get("x-kubernetes-int-or-string"):
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                causes.append(_type_cause(path, "integer-or-string", value))
                return
        elif not _type_ok(value, schema.get("type")):
            causes.append(_type_cause(path, schema["type"], value))
            return

        if "enum" in schema and value not in schema["enum"]:
            supported = ", ".join(go_value(item) for item in schema["enum"])
            causes.append(
                cause("FieldValueNotSupported", f"Unsupported value: {go_value(value)}: supported values: {supported}", path)
            )
        if isinstance(value, str):
            self._validate_string(value, schema, path, causes)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._validate_number(value, schema, path, causes)
        elif isinstance(value, list):
            self._validate_array(value, schema, path, causes, old if has_old else None)
        elif isinstance(value, dict):
            self._validate_object(value, schema, path, causes, old if has_old else None)

        rule_causes = _run_rules(schema, value, path, old=old if has_old else None, has_old=has_old)
        causes.extend(rule_causes)

    def _validate_string(self, value: str, schema: dict[str, Any], path: str, causes: list) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append(
                cause("FieldValueTooLong", f"Too long: may not be more than {schema['maxLength']} bytes", path)
            )
        if "minLength" in schema and len(value) < schema["minLength"]:
            causes.append(
                cause(
                    "FieldValueInvalid",
                    f"Invalid value: {go_value(value)}: {path} in body should be at least {schema['minLength']} chars long",
                    path,
                )
            )
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, value):
            causes.append(
                cause(
                    "FieldValueInvalid",
                    f"Invalid value: {go_value(value)}: {path} in body should match '{pattern}'",
                    path,
                )
            )
        fmt = schema.get("format")
        if fmt == "date-time" and not _is_date_time(value):
            causes.append(
                cause(
                    "FieldValueInvalid",
                    f"Invalid value: {go_value(value)}: {path} in body must be of type date-time: {go_value(value)}",
                    path,
                )
            )
        elif fmt == "date" and not _DATE.match(value):
            causes.append(
                cause(
                    "FieldValueInvalid",
                    f"Invalid value: {go_value(value)}: {path} in body must be of type date: {go_value(value)}",
                    path,
                )
            )

    def _validate_number(self, value: float, schema: dict[str, Any], path: str, causes: list) -> None:
        shown = go_value(value)
        if "minimum" in schema:
            bound = schema["minimum"]
            if schema.get("exclusiveMinimum") is True and value <= bound:
                causes.append(
                    cause("FieldValueInvalid", f"Invalid value: {shown}: {path} in body should be greater than {bound}", path)
                )
            elif value < bound:
                causes.append(
                    cause(
                        "FieldValueInvalid",
                        f"Invalid value: {shown}: {path} in body should be greater than or equal to {bound}",
                        path,
                    )
                )
        if "maximum" in schema:
            bound = schema["maximum"]
            if schema.get("exclusiveMaximum") is True and value >= bound:
                causes.append(
                    cause("FieldValueInvalid", f"Invalid value: {shown}: {path} in body should be less than {bound}", path)
                )
            elif value > bound:
                causes.append(
                    cause(
                        "FieldValueInvalid",
                        f"Invalid value: {shown}: {path} in body should be less than or equal to {bound}",
                        path,
                    )
                )

    def _validate_array(self, value: list, schema: dict[str, Any], path: str, causes: list, old: Any) -> None:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            causes.append(cause("FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxItems']} items", path))
        if "minItems" in schema and len(value) < schema["minItems"]:
            causes.append(
                cause("FieldValueInvalid", f"Invalid value: {len(value)}: {path} in body should have at least {schema['minItems']} items", path)
            )
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                self._validate_value(item, items, f"{path}[{index}]", causes, None, False)
        if schema.get("x-kubernetes-list-type") in ("set", "map"):
            keys = schema.get("x-kubernetes-list-map-keys") or []
            seen = set()
            for index, item in enumerate(value):
                identity = repr([item.get(k) for k in keys]) if keys and isinstance(item, dict) else repr(item)
                if identity in seen:
                    causes.append(cause("FieldValueDuplicate", f"Duplicate value: {go_value(item)}", f"{path}[{index}]"))
                seen.add(identity)

    def _validate_object(self, value: dict, schema: dict[str, Any], path: str, causes: list, old: Any) -> None:
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        old_map = old if isinstance(old, dict) else {}
        for key in sorted(value):
            child_path = join_path(path, key)
            if key in properties:
                child_schema = properties[key]
            elif isinstance(additional, dict):
                child_schema = additional
            else:
                continue
            self._validate_value(value[key], child_schema, child_path, causes, old_map.get(key), key in old_map)
        for key in schema.get("required") or []:
            if key not in value:
                causes.append(cause("FieldValueRequired", "Required value", join_path(path, key)))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            causes.append(cause("FieldValueTooMany", f"Too many: {len(value)}: must have at most {schema['maxProperties']} items", path))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            causes.append(
                cause("FieldValueInvalid", f"Invalid value: {len(value)}: {path} in body should have at least {schema['minProperties']} properties", path)
            )


def _strip_meta(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {key: value for key, value in obj.items() if key != "metadata"}


def _type_ok(value: Any, expected: str | None) -> bool:
    if expected is None:
        return True
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "array":
        return isinstance(value, list)
    if expected == "object":
        return isinstance(value, dict)
    return True


def _type_cause(path: str, expected: str, value: Any) -> dict[str, str]:
    actual = go_type_name(value)
    return cause(
        "FieldValueTypeInvalid",
        f'Invalid value: "{actual}": {path} in body must be of type {expected}: "{actual}"',
        path,
    )


def _is_date_time(value: str) -> bool:
    if not _DATE_TIME.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


# CEL rules ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _compile_rule(rule: str) -> Any:
    import celpy  # test dependency: imported only when a schema carries CEL rules

    environment = celpy.Environment()
    return environment.program(environment.compile(rule))


def _to_cel(value: Any) -> Any:
    import celpy

    return celpy.json_to_cel(value)


def _run_rules(
    schema: dict[str, Any], value: Any, path: str, *, old: Any = None, has_old: bool | None = None
) -> list[dict[str, str]]:
    """Evaluate `x-kubernetes-validations` at one schema node.

    Transition rules (those that mention `oldSelf`) run only on updates where the old value exists.
    """
    rules = schema.get("x-kubernetes-validations") or []
    if not rules or value is None:
        return []
    if has_old is None:
        has_old = old is not None
    causes = []
    for entry in rules:
        rule = entry["rule"]
        uses_old = "oldSelf" in rule
        if uses_old and not has_old:
            continue
        activation = {"self": _to_cel(_coerce_numbers(value, schema))}
        if uses_old:
            activation["oldSelf"] = _to_cel(_coerce_numbers(old, schema))
        try:
            passed = bool(_compile_rule(rule).evaluate(activation))
            error_message = None
        except Exception as error:  # a rule error is reported as a validation failure, as upstream does
            passed = False
            error_message = f"rule evaluation error: {error}"
        if passed:
            continue
        message = error_message or entry.get("message") or f"failed rule: {rule}"
        field = path
        if entry.get("fieldPath"):
            field = path + entry["fieldPath"] if path else entry["fieldPath"].lstrip(".")
        reason = entry.get("reason", "FieldValueInvalid")
        shown = go_type_name(value) if isinstance(value, (dict, list)) else None
        if reason == "FieldValueRequired":
            text = f"Required value: {message}"
        elif reason == "FieldValueForbidden":
            text = f"Forbidden: {message}"
        else:
            text = f'Invalid value: "{shown}": {message}' if shown else f"Invalid value: {go_value(value)}: {message}"
        causes.append(cause(reason, text, field))
    return causes


def _coerce_numbers(value: Any, schema: dict[str, Any]) -> Any:
    """Turn integers into floats where the schema declares `number`, as CEL's typed values require."""
    if value is None:
        return None
    kind = schema.get("type")
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        result = {}
        for key, item in value.items():
            child = properties.get(key) or (additional if isinstance(additional, dict) else {})
            result[key] = _coerce_numbers(item, child)
        return result
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [_coerce_numbers(item, items) for item in value]
    return value
