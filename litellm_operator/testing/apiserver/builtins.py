"""Validation and defaulting of the built-in kinds: Namespace, Secret, Event (both APIs), Lease
and CustomResourceDefinition, plus the metadata checks every kind shares."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from . import resources
from .errors import StatusError, bad_request, cause, go_value

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_MICRO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_GO_MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
CONFIG_KEY_MESSAGE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
    "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


def validate_metadata(rt: resources.ResourceType, obj: dict[str, Any]) -> list[dict[str, str]]:
    """Check the name and owner references that every kind validates."""
    causes = []
    metadata = obj.get("metadata") or {}
    name = metadata.get("name", "")
    if rt.plural == "namespaces":
        if not _LABEL.match(name) or len(name) > 63:
            causes.append(cause("FieldValueInvalid", f"Invalid value: {go_value(name)}: {LABEL_MESSAGE}", "metadata.name"))
    elif rt.plural != "events" and (not _SUBDOMAIN.match(name) or len(name) > 253):
        causes.append(cause("FieldValueInvalid", f"Invalid value: {go_value(name)}: {SUBDOMAIN_MESSAGE}", "metadata.name"))
    for reference in metadata.get("ownerReferences") or []:
        for field in ("apiVersion", "kind", "name", "uid"):
            if not reference.get(field):
                causes.append(
                    cause("FieldValueInvalid", 'Invalid value: "": must not be empty' if field != "apiVersion" else 'Invalid value: "": version must not be empty', f"metadata.ownerReferences.{field}")
                )
    return causes


# Decoding (400 errors happen before validation, as in the real server) ---------------------------


def cannot_handle(rt: resources.ResourceType, detail: str) -> StatusError:
    return bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: {detail}')


def check_micro_time(rt: resources.ResourceType, value: Any) -> None:
    """Raise the 400 that Go's MicroTime decoder gives unless `value` has exactly 6 fractional digits."""
    if value is None:
        return
    if not isinstance(value, str):
        raise cannot_handle(rt, "invalid MicroTime")
    head = _MICRO_TIME.match(value)
    prefix = f'parsing time "{value}" as "{_GO_MICRO_LAYOUT}": '
    if head is None:
        raise cannot_handle(rt, prefix + f'cannot parse "{value}" as "2006"')
    rest = value[head.end():]
    fraction = re.match(r"^\.\d{6}(?!\d)", rest)
    if fraction is None:
        raise cannot_handle(rt, prefix + f'cannot parse "{rest}" as ".000000"')
    zone = rest[7:]
    if not re.match(r"^(Z|[+-]\d{2}:\d{2})$", zone):
        raise cannot_handle(rt, prefix + f'cannot parse "{zone}" as "Z07:00"')


def decode_builtin(rt: resources.ResourceType, obj: dict[str, Any]) -> None:
    """Normalise a built-in kind's body in place and raise the 400s of its decoder."""
    if rt.plural == "secrets":
        data = obj.get("data") or {}
        for value in data.values():
            if not isinstance(value, str):
                raise cannot_handle(rt, "illegal base64 data")
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                position = next((i for i, ch in enumerate(value) if not re.match(r"[A-Za-z0-9+/=]", ch)), 0)
                raise cannot_handle(rt, f"illegal base64 data at input byte {position}") from None
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = dict(data)
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            obj["data"] = data
        if not obj.get("data"):
            obj.pop("data", None)
        obj.setdefault("type", "Opaque")
    elif rt.plural == "leases":
        spec = obj.get("spec")
        if spec is None:
            obj["spec"] = {}
        for field in ("acquireTime", "renewTime"):
            check_micro_time(rt, (obj.get("spec") or {}).get(field))
    elif rt.plural == "events":
        check_micro_time(rt, obj.get("eventTime"))


def validate_builtin(rt: resources.ResourceType, obj: dict[str, Any], namespace: str) -> list[dict[str, str]]:
    causes: list[dict[str, str]] = []
    if rt.plural == "secrets":
        for key in sorted(obj.get("data") or {}):
            if not _CONFIG_KEY.match(key):
                causes.append(cause("FieldValueInvalid", f"Invalid value: {go_value(key)}: {CONFIG_KEY_MESSAGE}", f"data[{key}]"))
    elif rt.plural == "leases":
        duration = (obj.get("spec") or {}).get("leaseDurationSeconds")
        if duration is not None and duration <= 0:
            causes.append(cause("FieldValueInvalid", f"Invalid value: {duration}: must be greater than 0", "spec.leaseDurationSeconds"))
        transitions = (obj.get("spec") or {}).get("leaseTransitions")
        if transitions is not None and transitions < 0:
            causes.append(cause("FieldValueInvalid", f"Invalid value: {transitions}: must be greater than or equal to 0", "spec.leaseTransitions"))
    elif rt.plural == "events":
        involved_namespace = (obj.get("involvedObject") or {}).get("namespace", "")
        if involved_namespace != namespace:
            causes.append(
                cause("FieldValueInvalid", f"Invalid value: {go_value(involved_namespace)}: does not match event.namespace", "involvedObject.namespace")
            )
        if rt.group == "events.k8s.io":
            if not obj.get("eventTime"):
                causes.append(cause("FieldValueRequired", "Required value", "eventTime"))
            if obj.get("type") not in ("Normal", "Warning"):
                causes.append(cause("FieldValueInvalid", f'Invalid value: "": has invalid value: {obj.get("type") or ""}', "type"))
    elif rt.plural == "customresourcedefinitions":
        spec = obj.get("spec") or {}
        expected = f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}"
        name = obj["metadata"].get("name", "")
        if name != expected:
            causes.append(
                cause("FieldValueInvalid", f'Invalid value: {go_value(name)}: must be spec.names.plural+"."+spec.group', "metadata.name")
            )
    return causes


def default_builtin(rt: resources.ResourceType, obj: dict[str, Any]) -> None:
    """Fill the defaults the real server adds on create."""
    if rt.plural == "namespaces":
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": obj.get("status", {}).get("phase", "Active")}
    elif rt.plural == "customresourcedefinitions":
        obj.setdefault("spec", {}).setdefault("conversion", {"strategy": "None"})
        obj["status"] = {
            "conditions": None,
            "acceptedNames": {"plural": "", "kind": ""},
            "storedVersions": [v["name"] for v in obj["spec"].get("versions", []) if v.get("storage")],
        }


def established_crd_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """Return the status the CRD controller writes once the names are accepted and served."""
    return {
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts",
             "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted"},
        ],
        "acceptedNames": dict(crd["spec"].get("names") or {}),
        "storedVersions": list(crd["status"].get("storedVersions") or []),
    }


# Events: stored in core v1 form, converted for events.k8s.io/v1 ---------------------------------

_CORE_EVENT_FIELDS = [
    ("involvedObject", "regarding"),
    ("related", "related"),
    ("reason", "reason"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("type", "type"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("action", "action"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
]


def core_event_defaults(event: dict[str, Any]) -> dict[str, Any]:
    """Return a core v1 Event with the fields the real server always prints, in its order."""
    result = {"kind": "Event", "apiVersion": "v1", "metadata": event["metadata"]}
    result["involvedObject"] = event.get("involvedObject") or {}
    for field in ("reason", "message"):
        if field in event:
            result[field] = event[field]
    result["source"] = event.get("source") or {}
    result["firstTimestamp"] = event.get("firstTimestamp")
    result["lastTimestamp"] = event.get("lastTimestamp")
    if event.get("count"):
        result["count"] = event["count"]
    if "type" in event:
        result["type"] = event["type"]
    result["eventTime"] = event.get("eventTime")
    for field in ("series", "action", "related"):
        if event.get(field):
            result[field] = event[field]
    result["reportingComponent"] = event.get("reportingComponent", "")
    result["reportingInstance"] = event.get("reportingInstance", "")
    return result


def event_to_core(event: dict[str, Any]) -> dict[str, Any]:
    """Convert an events.k8s.io/v1 body to the stored core v1 form."""
    core: dict[str, Any] = {"metadata": event.get("metadata") or {}}
    for core_field, new_field in _CORE_EVENT_FIELDS:
        if new_field in event:
            core[core_field] = event[new_field]
    return core_event_defaults(core)


def event_from_core(core: dict[str, Any]) -> dict[str, Any]:
    """Convert a stored core v1 Event to its events.k8s.io/v1 form."""
    event: dict[str, Any] = {"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": core["metadata"]}
    event["eventTime"] = core.get("eventTime")
    for core_field, new_field in _CORE_EVENT_FIELDS:
        if core_field in ("eventTime",):
            continue
        value = core.get(core_field)
        if new_field in ("deprecatedSource",):
            event[new_field] = value or {}
        elif new_field in ("deprecatedFirstTimestamp", "deprecatedLastTimestamp") or value not in (None, "", 0):
            event[new_field] = value
    return event
