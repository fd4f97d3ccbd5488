"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a strategic merge patch
that covers the built-in types the double serves (Secrets, Leases, Events, Namespaces)."""

from __future__ import annotations

import copy
from typing import Any

from .errors import StatusError, bad_request

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
APPLY_PATCH_CBOR = "application/apply-patch+cbor"

_JSON_PATCH_FAILED = StatusError(
    422, "Invalid", "the server rejected our request due to an error in our request", {}
)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# Lists that the strategic merge patch merges by a key instead of replacing (for the kinds served here).
_STRATEGIC_LIST_KEYS = {"ownerReferences": "uid", "conditions": "type"}


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    """Apply a strategic merge patch with the merge keys of the built-in types served here.

    NOTE: directives other than `$patch: delete|replace` on maps and `$retainKeys` are not
    implemented; the built-in types served here do not need them for the operator.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {key: value for key, value in patch.items() if key != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in _STRATEGIC_LIST_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_keyed_list(result[key], value, _STRATEGIC_LIST_KEYS[key])
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_keyed_list(current: list, patch: list, merge_key: str) -> list:
    merged = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            merged.append(copy.deepcopy(item))
            continue
        position = next((i for i, old in enumerate(merged) if isinstance(old, dict) and old.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if position is not None:
                merged.pop(position)
        elif position is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[position] = strategic_merge_patch(merged[position], item)
    return merged


def json_patch(target: Any, operations: Any) -> Any:
    """Apply an RFC 6902 JSON patch; any failed operation gives the 422 the real server sends."""
    if not isinstance(operations, list):
        kind = "object" if isinstance(operations, dict) else type(operations).__name__
        raise bad_request(f"error decoding patch: json: cannot unmarshal {kind} into Go value of type []handlers.jsonPatchOp")
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise _JSON_PATCH_FAILED
        document = _apply_operation(document, operation)
    return document


def _parse_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise _JSON_PATCH_FAILED
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _resolve(document: Any, parts: list[str]) -> Any:
    node = document
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _JSON_PATCH_FAILED
    return node


def _apply_operation(document: Any, operation: dict[str, Any]) -> Any:
    op = operation["op"]
    parts = _parse_pointer(operation["path"])
    if op == "test":
        if _resolve(document, parts) != operation.get("value"):
            raise _JSON_PATCH_FAILED
        return document
    if op in ("move", "copy"):
        source = _parse_pointer(operation.get("from", ""))
        value = copy.deepcopy(_resolve(document, source))
        if op == "move":
            document = _remove(document, source)
        return _add(document, parts, value)
    if op == "add":
        return _add(document, parts, copy.deepcopy(operation.get("value")))
    if op == "remove":
        return _remove(document, parts)
    if op == "replace":
        _resolve(document, parts)
        document = _remove(document, parts)
        return _add(document, parts, copy.deepcopy(operation.get("value")))
    raise _JSON_PATCH_FAILED


def _add(document: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _resolve(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _JSON_PATCH_FAILED
    else:
        raise _JSON_PATCH_FAILED
    return document


def _remove(document: Any, parts: list[str]) -> Any:
    if not parts:
        raise _JSON_PATCH_FAILED
    parent = _resolve(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent.pop(int(last))
    else:
        raise _JSON_PATCH_FAILED
    return document
