"""managedFields bookkeeping and server-side apply.

A field set is a set of paths in FieldsV1 notation: `("f:spec", "f:models")` for a field,
`("f:status", "f:conditions", 'k:{"type":"Ready"}', ".")` for a list-map item itself and
`("f:metadata", "f:finalizers", 'v:"x"')` for a set element. An `Update` entry owns the fields that
its writes changed; an `Apply` entry owns exactly the fields of its last applied configuration.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import StatusError

Path = tuple[str, ...]
_SKIP = object()

_METADATA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ownerReferences": {
            "type": "array",
            "items": {"type": "object"},
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["uid"],
        },
    },
}
# Server-owned metadata that never appears in a field set.
_SERVER_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
}


def _child_schema(schema: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    if not schema:
        return None
    properties = schema.get("properties") or {}
    if key in properties:
        return properties[key]
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, dict) else None


def _item_key(item: Any, keys: list[str]) -> str:
    if isinstance(item, dict):
        return "k:" + json.dumps({k: item.get(k) for k in keys}, separators=(",", ":"), sort_keys=True)
    return "v:" + json.dumps(item, separators=(",", ":"))


def flatten(obj: dict[str, Any], schema: dict[str, Any] | None, *, apply: bool) -> dict[Path, Any]:
    """Return every owned path of `obj` with its leaf value; map markers (".") get `_SKIP`."""
    out: dict[Path, Any] = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata" and isinstance(value, dict):
            for meta_key, meta_value in value.items():
                if meta_key in _SERVER_METADATA or (meta_key == "generateName" and apply):
                    continue
                _flatten_value(
                    meta_value, _child_schema(_METADATA_SCHEMA, meta_key), ("f:metadata", "f:" + meta_key), out, apply
                )
            continue
        _flatten_value(value, _child_schema(schema, key), ("f:" + key,), out, apply)
    return out


def _flatten_value(value: Any, schema: dict[str, Any] | None, path: Path, out: dict[Path, Any], apply: bool) -> None:
    list_type = (schema or {}).get("x-kubernetes-list-type")
    if isinstance(value, dict) and (schema or {}).get("x-kubernetes-map-type") != "atomic":
        if not apply and value:
            out[(*path, ".")] = _SKIP
        elif apply and not value:
            out[path] = _SKIP
        for key, item in value.items():
            _flatten_value(item, _child_schema(schema, key), (*path, "f:" + key), out, apply)
    elif isinstance(value, list) and list_type in ("map", "set"):
        if not apply:
            out[(*path, ".")] = _SKIP
        keys = (schema or {}).get("x-kubernetes-list-map-keys") or []
        items_schema = (schema or {}).get("items")
        for item in value:
            element = (*path, _item_key(item, keys))
            if isinstance(item, dict):
                out[(*element, ".")] = _SKIP
                for key, child in item.items():
                    _flatten_value(child, _child_schema(items_schema, key), (*element, "f:" + key), out, apply)
            else:
                out[element] = item
    else:
        out[path] = value


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(part, {})
    return tree


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    paths: set[Path] = set()
    for key, child in tree.items():
        if child:
            paths |= from_fields_v1(child, (*prefix, key))
        else:
            paths.add((*prefix, key))
    return paths


def _entry_id(entry: dict[str, Any]) -> tuple[str, str, str]:
    return (entry["manager"], entry["operation"], entry.get("subresource", ""))


def _make_entry(manager: str, operation: str, subresource: str, api_version: str, now: str, paths: set[Path]) -> dict[str, Any]:
    entry = {
        "apiVersion": api_version,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
        "manager": manager,
        "operation": operation,
        "time": now,
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _rebuild(entries: list[tuple[dict[str, Any], set[Path]]]) -> list[dict[str, Any]]:
    result = []
    for entry, paths in entries:
        if not paths:
            continue
        entry = dict(entry)
        entry["fieldsV1"] = to_fields_v1(paths)
        result.append(entry)
    return result


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    subresource: str,
    api_version: str,
    schema: dict[str, Any] | None,
    now: str,
) -> list[dict[str, Any]]:
    """Return the managedFields after an Update by `manager` that turned `old` into `new`."""
    old_flat = flatten(old, schema, apply=False) if old is not None else {}
    new_flat = flatten(new, schema, apply=False)
    changed = {path for path, value in new_flat.items() if path not in old_flat or old_flat[path] != value}
    removed = set(old_flat) - set(new_flat)
    entries = [(entry, from_fields_v1(entry.get("fieldsV1") or {})) for entry in ((old or {}).get("metadata", {}).get("managedFields") or [])]
    target = (manager, "Update", subresource)
    found = False
    updated = []
    for entry, paths in entries:
        if _entry_id(entry) == target:
            found = True
            paths = (paths | changed) - removed
            if changed or removed:
                entry = dict(entry, time=now, apiVersion=api_version)
        else:
            paths = paths - changed - removed
        updated.append((entry, paths))
    if not found and changed:
        updated.append((_make_entry(manager, "Update", subresource, api_version, now, changed), changed))
    return _rebuild(updated)


def _path_text(path: Path) -> str:
    text = ""
    for part in path:
        if part.startswith("f:"):
            text += "." + part[2:]
        elif part.startswith("k:"):
            keys = json.loads(part[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        elif part.startswith("v:"):
            text += "[=" + part[2:] + "]"
    return text


def server_side_apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    subresource: str,
    force: bool,
    api_version: str,
    schema: dict[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    """Merge an applied configuration into `live` and return the new object with its managedFields.

    Raises a 409 Conflict naming each field that another manager owns with a different value,
    unless `force` is set, which moves those fields to `manager`.
    NOTE: list-map and set items are merged by key, and atomic lists are owned whole. Ownership
    rules for `x-kubernetes-map-type` and nested list types are simpler than upstream's.
    """
    base = copy.deepcopy(live) if live is not None else {"apiVersion": config.get("apiVersion"), "kind": config.get("kind"), "metadata": {}}
    applied = flatten(config, schema, apply=True)
    applied_leaves = {path: value for path, value in applied.items() if value is not _SKIP}
    live_flat = flatten(base, schema, apply=False)
    entries = [(entry, from_fields_v1(entry.get("fieldsV1") or {})) for entry in (base["metadata"].get("managedFields") or [])]
    target = (manager, "Apply", subresource)

    conflicts: list[tuple[Path, dict[str, Any]]] = []
    for path, value in applied_leaves.items():
        if path not in live_flat or live_flat[path] == value:
            continue
        for entry, paths in entries:
            if _entry_id(entry) != target and path in paths:
                conflicts.append((path, entry))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    forced = {path for path, _ in conflicts}

    previous = next((paths for entry, paths in entries if _entry_id(entry) == target), set())
    result = _merge(base, config, schema)
    others = [(entry, paths - forced) for entry, paths in entries if _entry_id(entry) != target]
    still_owned = set().union(*(paths for _, paths in others)) if others else set()
    for path in sorted(previous - set(applied), key=len, reverse=True):
        if path in still_owned:
            continue
        _remove_path(result, path)
        _remove_empty_parents(result, path[:-1], still_owned | set(applied))

    new_entries = []
    placed = False
    for entry, paths in entries:
        if _entry_id(entry) == target:
            entry = dict(entry, time=now if set(applied) != paths else entry["time"], apiVersion=api_version)
            new_entries.append((entry, set(applied)))
            placed = True
        else:
            new_entries.append((entry, paths - forced))
    if not placed:
        new_entries.append((_make_entry(manager, "Apply", subresource, api_version, now, set(applied)), set(applied)))
    result["metadata"]["managedFields"] = _rebuild(new_entries)
    return result


def _conflict_error(conflicts: list[tuple[Path, dict[str, Any]]]) -> StatusError:
    def owner(entry: dict[str, Any]) -> str:
        if entry["operation"] == "Apply":
            return f'conflict with "{entry["manager"]}"'
        return f'conflict with "{entry["manager"]}" using {entry["apiVersion"]}'

    causes = [{"reason": "FieldManagerConflict", "message": owner(entry), "field": _path_text(path)} for path, entry in conflicts]
    if len(conflicts) == 1:
        message = f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        lines = [f"{c['message']}: {c['field']}" for c in causes]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return StatusError(409, "Conflict", message, {"causes": causes})


def _merge(live: Any, config: Any, schema: dict[str, Any] | None) -> Any:
    if isinstance(live, dict) and isinstance(config, dict):
        result = copy.deepcopy(live)
        for key, value in config.items():
            if key == "metadata" and isinstance(value, dict):
                merged = dict(result.get("metadata") or {})
                for meta_key, meta_value in value.items():
                    if meta_key in _SERVER_METADATA - {"name", "namespace"}:
                        continue
                    merged[meta_key] = _merge(merged.get(meta_key), meta_value, _child_schema(_METADATA_SCHEMA, meta_key))
                result["metadata"] = merged
            else:
                result[key] = _merge(result.get(key), value, _child_schema(schema, key))
        return result
    list_type = (schema or {}).get("x-kubernetes-list-type")
    if isinstance(live, list) and isinstance(config, list) and list_type in ("map", "set"):
        keys = (schema or {}).get("x-kubernetes-list-map-keys") or []
        result = copy.deepcopy(live)
        index = {_item_key(item, keys): position for position, item in enumerate(result)}
        for item in config:
            identity = _item_key(item, keys)
            if identity in index:
                result[index[identity]] = _merge(result[index[identity]], item, (schema or {}).get("items"))
            else:
                index[identity] = len(result)
                result.append(copy.deepcopy(item))
        return result
    return copy.deepcopy(config)


def _remove_path(obj: dict[str, Any], path: Path) -> None:
    if path and path[-1] == ".":
        path = path[:-1]
    node: Any = obj
    for part in path[:-1]:
        node = _step(node, part)
        if node is None:
            return
    last = path[-1] if path else None
    if last is None:
        return
    if isinstance(node, dict) and last.startswith("f:"):
        node.pop(last[2:], None)
    elif isinstance(node, list):
        for position, item in enumerate(node):
            keys = list(json.loads(last[2:]).keys()) if last.startswith("k:") else []
            if _item_key(item, keys) == last:
                node.pop(position)
                break


def _remove_empty_parents(obj: dict[str, Any], path: Path, owned: set[Path]) -> None:
    """Remove maps that a removal left empty, unless a manager still owns them or something inside."""
    while path and path != ("f:metadata",):
        if path and path[-1] == ".":
            path = path[:-1]
            continue
        if any(owned_path[: len(path)] == path for owned_path in owned):
            return
        node: Any = obj
        for part in path:
            node = _step(node, part)
        if node not in ({}, []):
            return
        _remove_path(obj, path)
        path = path[:-1]


def _step(node: Any, part: str) -> Any:
    if isinstance(node, dict) and part.startswith("f:"):
        return node.get(part[2:])
    if isinstance(node, list) and part.startswith(("k:", "v:")):
        keys = list(json.loads(part[2:]).keys()) if part.startswith("k:") else []
        for item in node:
            if _item_key(item, keys) == part:
                return item
    return None
