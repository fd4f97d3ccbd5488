"""Field declarations that carry both the JSON name and the OpenAPI validation of each field.

The attrs classes of the API are the single source of truth: the converter reads the JSON names
from here, and the CRD generator reads the descriptions and validation keywords. A field is
declared once with :func:`field` and its OpenAPI type is inferred from the Python annotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

# Key under which the FieldSpec is stored in an attrs field's metadata.
FIELD_SPEC_KEY = "litellm_operator.api.schema"

# Budgets are amounts of US dollars written as strings. Leading zeros are allowed ("010") because
# the Go operator parsed any string that Go's ParseFloat accepts, and such a value is still an
# unambiguous amount. Signs, exponents, ".5" and "5." are rejected.
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"

# LiteLLM budget and key durations: a count followed by s, m, h, d, w or mo ("30d", "1mo").
DURATION_PATTERN = r"^[0-9]+(s|m|h|d|w|mo)$"

# Non-negative integers written as strings, for the per-model limits of a User.
INTEGER_STRING_PATTERN = r"^[0-9]+$"


@attrs.frozen
class ValidationRule:
    """A CEL rule for `x-kubernetes-validations`, evaluated by the API server with `self` bound."""

    rule: str
    message: str

    def to_openapi(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@attrs.frozen(kw_only=True)
class FieldSpec:
    """JSON name, description and OpenAPI validation keywords of one field."""

    json: str
    description: str = ""
    required: bool = False
    format: str | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    # Keywords for each list item or map value, for fields typed list[...] or dict[str, ...].
    item_pattern: str | None = None
    item_minimum: int | None = None
    validations: tuple[ValidationRule, ...] = ()
    # Omit the field from unstructured output when its value unstructures to an empty mapping.
    omit_empty: bool = False
    # Leave the field out of the CRD schema (ObjectMeta is described by the API server itself).
    schema_opaque: bool = False

    def keywords(self) -> dict[str, Any]:
        """Return the OpenAPI keywords that apply to the field's own value."""
        keywords: dict[str, Any] = {}
        if self.format is not None:
            keywords["format"] = self.format
        if self.pattern is not None:
            keywords["pattern"] = self.pattern
        if self.enum is not None:
            keywords["enum"] = list(self.enum)
        if self.minimum is not None:
            keywords["minimum"] = self.minimum
        if self.maximum is not None:
            keywords["maximum"] = self.maximum
        if self.min_length is not None:
            keywords["minLength"] = self.min_length
        if self.max_length is not None:
            keywords["maxLength"] = self.max_length
        return keywords

    def item_keywords(self) -> dict[str, Any]:
        """Return the OpenAPI keywords for each list item or map value."""
        keywords: dict[str, Any] = {}
        if self.item_pattern is not None:
            keywords["pattern"] = self.item_pattern
        if self.item_minimum is not None:
            keywords["minimum"] = self.item_minimum
        return keywords


_NO_DEFAULT = object()


def field(
    *,
    json: str,
    description: str = "",
    required: bool = False,
    default: Any = _NO_DEFAULT,
    factory: Any = None,
    format: str | None = None,
    pattern: str | None = None,
    enum: Sequence[str] | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    item_pattern: str | None = None,
    item_minimum: int | None = None,
    validations: Sequence[ValidationRule] = (),
    omit_empty: bool = False,
    schema_opaque: bool = False,
) -> Any:
    """Declare an attrs field with its JSON name and OpenAPI validation.

    A required field has no Python default unless `default` or `factory` is given. An optional
    field defaults to None, which the converter leaves out of the JSON, so "absent" and "empty"
    stay distinct. Use it in classes decorated with ``attrs.define(kw_only=True)``.
    """
    spec = FieldSpec(
        json=json,
        description=description,
        required=required,
        format=format,
        pattern=pattern,
        enum=tuple(enum) if enum is not None else None,
        minimum=minimum,
        maximum=maximum,
        min_length=min_length,
        max_length=max_length,
        item_pattern=item_pattern,
        item_minimum=item_minimum,
        validations=tuple(validations),
        omit_empty=omit_empty,
        schema_opaque=schema_opaque,
    )
    metadata = {FIELD_SPEC_KEY: spec}

    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata)
    if default is not _NO_DEFAULT:
        return attrs.field(default=default, metadata=metadata)
    if required:
        return attrs.field(metadata=metadata)
    return attrs.field(default=None, metadata=metadata)


def camel_case(name: str) -> str:
    """Convert a snake_case attribute name to the lowerCamelCase JSON convention."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def field_spec(attribute: attrs.Attribute) -> FieldSpec | None:
    """Return the FieldSpec of an attrs attribute, or None if it was not declared with field()."""
    metadata: Mapping[str, Any] = attribute.metadata
    return metadata.get(FIELD_SPEC_KEY)


def json_name(attribute: attrs.Attribute) -> str:
    """Return the JSON name of an attribute: the declared one, else the camelCase of its name.

    The fallback serves attrs classes defined outside the api package, such as Condition.
    """
    spec = field_spec(attribute)
    if spec is not None:
        return spec.json
    return camel_case(attribute.name)
