"""Conversion between the API server's JSON (plain dicts) and the typed attrs models.

`structure` ignores unknown keys, so objects written by newer CRD versions or by the Go operator
still load. `unstructure` writes the JSON names and leaves out fields whose value is None, so a
field that was never set stays absent rather than being sent as null. Timestamps are aware
datetimes in Python and RFC 3339 strings in UTC with second precision in JSON, as metav1.Time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.v import format_exception

from litellm_operator.api.schema import field_spec, json_name

__all__ = ["StructureError", "converter", "structure", "unstructure"]

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False)


class StructureError(ValueError):
    """Data that cannot be converted to the requested model: a missing field or a wrong type."""


def _structure_datetime(value: Any, _: type) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_structure_hook(cls: type) -> Any:
    renames = {
        attribute.name: override(rename=json_name(attribute)) for attribute in attrs.fields(cls)
    }
    return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=False, **renames)


def _make_unstructure_hook(cls: type) -> Any:
    fields = attrs.fields(cls)

    def unstructure_attrs(obj: Any) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for attribute in fields:
            value = getattr(obj, attribute.name)
            if value is None:
                continue
            data = converter.unstructure(value, unstructure_as=attribute.type)
            spec = field_spec(attribute)
            if spec is not None and spec.omit_empty and data == {}:
                continue
            result[json_name(attribute)] = data
        return result

    return unstructure_attrs


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_unstructure_hook(datetime, _unstructure_datetime)
converter.register_structure_hook_factory(attrs.has, _make_structure_hook)
converter.register_unstructure_hook_factory(attrs.has, _make_unstructure_hook)


def _describe_errors(error: BaseException, path: str) -> list[str]:
    """List the leaf errors of a cattrs validation error, each with its JSON path.

    This follows cattrs.transform_error, but names fields by their JSON names.
    """
    if isinstance(error, cattrs.ClassValidationError):
        names = {attribute.name: json_name(attribute) for attribute in attrs.fields(error.cl)}
        with_notes, without_notes = error.group_exceptions()
        messages: list[str] = []
        for inner, note in with_notes:
            inner_path = f"{path}.{names.get(note.name, note.name)}".lstrip(".")
            messages += _describe_errors_with_type(inner, inner_path, note.type)
        for inner in without_notes:
            messages += _describe_errors(inner, path)
        return messages

    if isinstance(error, cattrs.IterableValidationError):
        with_notes, without_notes = error.group_exceptions()
        messages = []
        for inner, note in with_notes:
            messages += _describe_errors_with_type(inner, f"{path}[{note.index!r}]", note.type)
        for inner in without_notes:
            messages += _describe_errors(inner, path)
        return messages

    return [f"{format_exception(error, None)} at {path or '<root>'}"]


def _describe_errors_with_type(error: BaseException, path: str, type_: Any) -> list[str]:
    if isinstance(error, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        return _describe_errors(error, path)
    return [f"{format_exception(error, type_)} at {path}"]


def structure(data: Any, cls: type[T]) -> T:
    """Convert JSON data to an instance of `cls`, ignoring keys that `cls` does not declare.

    Raises StructureError that lists every invalid or missing field by its JSON path, such as
    "required field missing at spec.teamAlias".
    """
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as error:
        problems = "; ".join(_describe_errors(error, ""))
        raise StructureError(f"invalid {cls.__name__}: {problems}") from error


def unstructure(obj: Any) -> Any:
    """Convert a model instance to JSON data with the JSON field names and without None values."""
    return converter.unstructure(obj)
