"""Parsed API requests: which resource, namespace, name and subresource a URL addresses, and the
helpers that decode bodies and encode responses."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import attrs
import yaml

from .errors import StatusError, bad_request
from .resources import ResourceType


@attrs.define
class ApiRequest:
    """One request to a resource URL, with the verb the authorizer would derive from it."""

    method: str
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    query: dict[str, str]
    content_type: str
    accept: str
    user_agent: str
    body_text: str = ""

    @property
    def field_manager(self) -> str:
        """The manager recorded in managedFields: ?fieldManager, else the User-Agent up to the first "/"."""
        if self.query.get("fieldManager"):
            return self.query["fieldManager"]
        return self.user_agent.split("/", 1)[0] or "unknown"

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    @property
    def verb(self) -> str:
        return request_verb(self.method, self.name, self.query)


def request_verb(method: str, name: str | None, query: dict[str, str]) -> str:
    """Derive the Kubernetes authorization verb (get, list, watch, create, ...) of a request."""
    watching = query.get("watch") in ("1", "true", "True")
    if method == "GET":
        if watching:
            return "watch"
        return "get" if name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    return method.lower()


def now_timestamp() -> str:
    """Return the current time as a metav1.Time string: RFC 3339, second precision, UTC."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _go_json_error(text: str, error: json.JSONDecodeError) -> str:
    position = error.pos
    character = text[position] if position < len(text) else ""
    if "Expecting property name" in error.msg:
        return f"invalid character '{character}' looking for beginning of object key string"
    if character:
        return f"invalid character '{character}' looking for beginning of value"
    return "unexpected end of JSON input"


class _GoYamlLoader(yaml.SafeLoader):
    """A YAML loader that resolves booleans as the Go YAML library of the API server does:
    y, Y, yes, n, N, no, on, off, true and false in any common casing."""


_GoYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_GoYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
    list("yYnNtTfFoO"),
)
_GoYamlLoader.add_constructor(
    "tag:yaml.org,2002:bool",
    lambda loader, node: loader.construct_scalar(node) in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"),
)


def decode_body(text: str, content_type: str, rt: ResourceType) -> Any:
    """Decode a JSON or YAML request body; malformed input gives the 400 the real server sends."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
        try:
            return yaml.load(text, Loader=_GoYamlLoader) if text.strip() else None
        except yaml.YAMLError as error:
            raise bad_request(f"the object provided is unrecognized (must be of type {rt.kind}): yaml: {error}") from None
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError as error:
        snippet = text if len(text) <= 48 else text[:48] + " ..."
        raise bad_request(
            f"the object provided is unrecognized (must be of type {rt.kind}): couldn't get version/kind; "
            f"json parse error: {_go_json_error(text, error)} ({snippet})"
        ) from None


def decode_object(request: ApiRequest) -> dict[str, Any]:
    """Decode a create or update body and check its kind, as the real decoder does."""
    body = decode_body(request.body_text, request.content_type, request.rt)
    rt = request.rt
    if not isinstance(body, dict):
        raise bad_request(f"the object provided is unrecognized (must be of type {rt.kind}): couldn't get version/kind")
    if not body.get("kind"):
        raw = request.body_text.strip()
        short = raw if len(raw) <= 32 else raw[:32] + " ..."
        raise bad_request(
            f"the object provided is unrecognized (must be of type {rt.kind}): Object 'Kind' is missing in '{raw}' ({short})"
        )
    body.setdefault("metadata", {})
    if not isinstance(body["metadata"], dict):
        raise bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: metadata must be an object')
    return body


def media_type_of(accept: str) -> str:
    """Pick the response encoding from an Accept header: json, yaml, or "" when none is acceptable."""
    if not accept:
        return "json"
    for candidate in accept.split(","):
        media = candidate.split(";", 1)[0].strip().lower()
        if media in ("application/json", "*/*", "application/*", "application/json-seq"):
            return "json"
        if media == "application/yaml":
            return "yaml"
    return ""


def wants(accept: str, as_kind: str) -> bool:
    """Return whether the first acceptable media type requests the meta.k8s.io form `as_kind`."""
    for candidate in accept.split(","):
        parameters = dict(
            part.strip().split("=", 1) for part in candidate.split(";")[1:] if "=" in part
        )
        if parameters.get("as") == as_kind and parameters.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
        if candidate.split(";", 1)[0].strip() in ("application/json", "*/*") and "as" not in parameters:
            return False
    return False


def not_acceptable() -> StatusError:
    return StatusError(
        406,
        "NotAcceptable",
        "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    )
