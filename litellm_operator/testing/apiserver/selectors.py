"""Label and field selectors with the grammar and error messages of apimachinery."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs

from .errors import StatusError, bad_request

_TOKEN = re.compile(r"\s*(==|!=|=|\(|\)|,|!|[^\s=!(),]+)")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@attrs.frozen
class Requirement:
    key: str
    operator: str  # one of =, !=, in, notin, exists, !
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "=":
            return present and value == self.values[0]
        if self.operator == "!=":
            return not present or value != self.values[0]
        if self.operator == "in":
            return present and value in self.values
        if self.operator == "notin":
            return not present or value not in self.values
        if self.operator == "exists":
            return present
        return not present


def _tokenize(text: str) -> list[str]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            break
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _is_identifier(token: str | None) -> bool:
    return token is not None and token not in ("==", "!=", "=", "(", ")", ",", "!")


def parse_label_selector(text: str) -> list[Requirement]:
    """Parse a label selector; raise a 400 StatusError with the apimachinery message on a syntax error."""
    tokens = _tokenize(text)
    requirements: list[Requirement] = []
    index = 0

    def fail(found: str, expected: str) -> StatusError:
        return bad_request(f"unable to parse requirement: found '{found}', expected: {expected}")

    while index < len(tokens):
        token = tokens[index]
        if token == "!":
            index += 1
            key = tokens[index] if index < len(tokens) else None
            if not _is_identifier(key):
                raise fail(key or "", "identifier")
            requirements.append(Requirement(key, "!"))
            index += 1
        elif _is_identifier(token):
            key = token
            index += 1
            operator = tokens[index] if index < len(tokens) else None
            if operator is None or operator == ",":
                requirements.append(Requirement(key, "exists"))
            elif operator in ("=", "==", "!="):
                index += 1
                value = tokens[index] if index < len(tokens) else ""
                if value in (",",):
                    value = ""
                elif not _is_identifier(value):
                    if value == "":
                        value = ""
                    else:
                        raise fail(value, "identifier")
                else:
                    index += 1
                _check_label_value(value)
                requirements.append(Requirement(key, "!=" if operator == "!=" else "=", (value,)))
            elif operator.lower() in ("in", "notin"):
                index += 1
                if index >= len(tokens) or tokens[index] != "(":
                    raise fail(tokens[index] if index < len(tokens) else "", "'('")
                index += 1
                values = []
                while index < len(tokens) and tokens[index] != ")":
                    if tokens[index] != ",":
                        values.append(tokens[index])
                    index += 1
                if index >= len(tokens):
                    raise fail("", "')'")
                index += 1
                requirements.append(Requirement(key, operator.lower(), tuple(values)))
            else:
                raise fail(operator, "'=', '!=', '==', 'in', notin'")
        else:
            raise fail(token, "identifier")
        if index < len(tokens):
            if tokens[index] != ",":
                raise fail(tokens[index], "','")
            index += 1
    return requirements


def _check_label_value(value: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(f'unable to parse requirement: values[0][{value}]: Invalid value: "{value}"')


def labels_match(requirements: list[Requirement], obj: dict[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(requirement.matches(labels) for requirement in requirements)


# Field-selector getters per storage bucket; every kind supports metadata.name and metadata.namespace.
def _path_getter(*path: str) -> Callable[[dict[str, Any]], str]:
    def get(obj: dict[str, Any]) -> str:
        value: Any = obj
        for part in path:
            value = (value or {}).get(part) if isinstance(value, dict) else None
        return "" if value is None else str(value)

    return get


COMMON_FIELDS = {
    "metadata.name": _path_getter("metadata", "name"),
    "metadata.namespace": _path_getter("metadata", "namespace"),
}
EXTRA_FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], str]]] = {
    "events": {
        f"involvedObject.{name}": _path_getter("involvedObject", name)
        for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    }
    | {
        "reason": _path_getter("reason"),
        "reportingComponent": _path_getter("reportingComponent"),
        "source": _path_getter("source", "component"),
        "type": _path_getter("type"),
    },
    "secrets": {"type": _path_getter("type")},
    "namespaces": {"status.phase": _path_getter("status", "phase")},
}


@attrs.frozen
class FieldRequirement:
    field: str
    negate: bool
    value: str
    getter: Callable[[dict[str, Any]], str] = attrs.field(eq=False)

    def matches(self, obj: dict[str, Any]) -> bool:
        return (self.getter(obj) == self.value) != self.negate


def parse_field_selector(text: str, storage_key: str) -> list[FieldRequirement]:
    """Parse a field selector for one storage bucket; unsupported fields give 400 like the real server."""
    supported = COMMON_FIELDS | EXTRA_FIELDS.get(storage_key, {})
    requirements = []
    for term in filter(None, (part.strip() for part in text.split(","))):
        match = re.match(r"^([^=!]+)(==|!=|=)(.*)$", term)
        if match is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, value = match.groups()
        if field not in supported:
            raise bad_request(f"field label not supported: {field}")
        requirements.append(FieldRequirement(field, operator == "!=", value, supported[field]))
    return requirements


def fields_match(requirements: list[FieldRequirement], obj: dict[str, Any]) -> bool:
    return all(requirement.matches(obj) for requirement in requirements)
