"""The REST semantics of resource URLs: create, get, list, update, patch and delete.

Every write goes through `_commit_update` or `_commit_create`, which apply the rules a real
kube-apiserver applies to every kind. Server-owned metadata is kept and generation moves on spec
changes. Writes that change nothing keep the resourceVersion, and managedFields are recorded. An
object whose deletion is pending disappears when its last finalizer goes.

Namespace deletion (there is no namespace controller in the double, so this module does its
work): deleting a Namespace marks it Terminating and deletes every object in it. Objects with
finalizers get a deletionTimestamp and stay until their finalizers are removed. The Namespace
itself disappears as soon as it is empty. Creating objects in a Terminating namespace gives 403.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
import random
import uuid
from typing import Any

from . import builtins, fieldmanager, patching, resources
from .errors import (
    StatusError,
    already_exists,
    bad_request,
    cause,
    conflict,
    invalid,
    not_found,
    qualified_kind,
    qualified_resource,
    resource_details,
)
from .requests import ApiRequest, decode_body, decode_object, now_timestamp
from .selectors import fields_match, labels_match, parse_field_selector, parse_label_selector
from .storage import Storage
from .validation import SchemaValidator

logger = logging.getLogger(__name__)

_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "managedFields", "selfLink")


class Registry:
    """The served resource types, by (group, version, plural); CRDs add and remove entries."""

    def __init__(self) -> None:
        self.types: dict[tuple[str, str, str], resources.ResourceType] = {}
        for rt in resources.BUILTIN_TYPES:
            self.add(rt)

    def add(self, rt: resources.ResourceType) -> None:
        self.types[(rt.group, rt.version, rt.plural)] = rt

    def remove_group_plural(self, group: str, plural: str) -> None:
        for key in [key for key in self.types if key[0] == group and key[2] == plural]:
            del self.types[key]

    def lookup(self, group: str, version: str, plural: str) -> resources.ResourceType | None:
        return self.types.get((group, version, plural))

    def group_versions(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for group, version, _ in self.types:
            versions = groups.setdefault(group, [])
            if version not in versions:
                versions.append(version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[resources.ResourceType]:
        return [rt for (g, v, _), rt in self.types.items() if g == group and v == version]


class ResourceApi:
    def __init__(self, storage: Storage, registry: Registry, *, too_large_rv_wait: float = 3.0) -> None:
        self.storage = storage
        self.registry = registry
        self.too_large_rv_wait = too_large_rv_wait
        self._validators: dict[int, SchemaValidator] = {}

    # Conversion between the stored form and the form of the requested API ----------------------

    def external(self, rt: resources.ResourceType, stored: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(stored)
        if rt.storage_key == "events":
            return builtins.event_from_core(obj) if rt.group else builtins.core_event_defaults(obj)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        return obj

    def internal(self, rt: resources.ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        if rt.storage_key == "events":
            return builtins.event_to_core(obj) if rt.group else builtins.core_event_defaults(obj)
        return obj

    def _validator(self, rt: resources.ResourceType) -> SchemaValidator:
        key = id(rt.schema)
        if key not in self._validators:
            self._validators[key] = SchemaValidator(rt.schema or {})
        return self._validators[key]

    # Reads -----------------------------------------------------------------------------------

    def get(self, request: ApiRequest) -> dict[str, Any]:
        rt = request.rt
        stored = self.storage.get(rt.storage_key, request.namespace or "", request.name or "")
        if stored is None or request.subresource not in (None, "status") or (request.subresource == "status" and not rt.has_status):
            raise not_found(rt.group, rt.plural, request.name or "")
        return self.external(rt, stored)

    async def list(self, request: ApiRequest) -> dict[str, Any]:
        rt = request.rt
        query = request.query
        label_requirements = parse_label_selector(query.get("labelSelector", ""))
        field_requirements = parse_field_selector(query.get("fieldSelector", ""), rt.storage_key)
        limit = _parse_int(query.get("limit", "0") or "0")
        resource_version = query.get("resourceVersion", "")
        match = query.get("resourceVersionMatch", "")
        continue_token = query.get("continue", "")

        start_key = ""
        if continue_token:
            snapshot_revision, start_key = self._decode_continue(continue_token)
            items_source = self._snapshot_items(rt, request.namespace, snapshot_revision)
            list_revision = snapshot_revision
        else:
            list_revision = await self._list_revision(resource_version, match)
            if match == "Exact":
                items_source = self._snapshot_items(rt, request.namespace, list_revision)
            else:
                items_source = self.storage.items(rt.storage_key, request.namespace)
        if resource_version == "0" and not continue_token:
            limit = 0  # the watch cache serves RV=0 lists whole

        matched = [
            obj for obj in items_source if labels_match(label_requirements, obj) and fields_match(field_requirements, obj)
        ]
        if start_key:
            matched = [obj for obj in matched if _list_key(obj, request.namespace) > start_key]
        metadata: dict[str, Any] = {}
        if limit and len(matched) > limit:
            page = matched[:limit]
            token = {"v": "meta.k8s.io/v1", "rv": list_revision, "start": _list_key(page[-1], request.namespace) + "\u0000"}
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")
            metadata["remainingItemCount"] = len(matched) - limit
        else:
            page = matched
            if rt.is_custom:
                metadata["continue"] = ""
        metadata["resourceVersion"] = str(list_revision)
        return {
            "apiVersion": rt.api_version,
            "kind": rt.list_kind,
            "metadata": metadata,
            "items": [self._list_item(rt, obj) for obj in page],
        }

    def _list_item(self, rt: resources.ResourceType, stored: dict[str, Any]) -> dict[str, Any]:
        """Return a list item: custom resources carry apiVersion and kind, built-in kinds do not."""
        item = self.external(rt, stored)
        if not rt.is_custom:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        return item

    async def _list_revision(self, resource_version: str, match: str) -> int:
        current = self.storage.revision
        if resource_version in ("", "0"):
            return current
        revision = _parse_revision(resource_version)
        if match == "Exact" and self.storage.is_too_old(revision):
            raise StatusError(410, "Expired", "The resourceVersion for the provided list is too old.")
        if revision > self.storage.revision:
            # The real server waits up to 3 s for the watch cache to catch up before responding with 504.
            await asyncio.sleep(self.too_large_rv_wait)
            if revision > self.storage.revision:
                raise StatusError(
                    504,
                    "Timeout",
                    f"Timeout: Too large resource version: {revision}, current: {self.storage.revision}",
                    {"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1},
                )
        return revision if match == "Exact" else current

    def _snapshot_items(self, rt: resources.ResourceType, namespace: str | None, revision: int) -> list[dict[str, Any]]:
        if self.storage.is_too_old(revision):
            raise StatusError(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. "
                "You can start a new list without the continue parameter.",
            )
        state = self.storage.snapshot(rt.storage_key, revision)
        return [state[key] for key in sorted(state) if namespace is None or key[0] == namespace]

    @staticmethod
    def _decode_continue(token: str) -> tuple[int, str]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            return int(data["rv"]), str(data["start"]).rstrip("\u0000")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
            try:
                first = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[:1]
                detail = f"invalid character {first.decode('latin-1')!r} looking for beginning of value"
            except (ValueError, TypeError):
                detail = str(error)
            detail = detail.replace("'\\x", "'\\x")
            raise bad_request(f"invalid continue token: continue key is not valid: {detail}") from None

    # Create ----------------------------------------------------------------------------------

    def _require_namespace(self, rt: resources.ResourceType, namespace: str) -> None:
        ns = self.storage.get("/namespaces", "", namespace)
        if ns is None:
            raise StatusError(404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"})
        if ns["metadata"].get("deletionTimestamp"):
            raise StatusError(
                403,
                "Forbidden",
                f"{qualified_resource(rt.group, rt.plural)} is forbidden: unable to create new content in namespace "
                f"{namespace} because it is being terminated",
                resource_details(None, rt.group, rt.plural),
            )

    def create(self, request: ApiRequest) -> tuple[int, dict[str, Any], list[str]]:
        rt = request.rt
        body = decode_object(request)
        if body.get("kind") != rt.kind:
            kind = body.get("kind")
            name = body["metadata"].get("name", "")
            raise invalid(rt.group, kind, name, [cause("FieldValueInvalid", f'Invalid value: "{kind}": must be {rt.kind}', "kind")])
        metadata = body["metadata"]
        if rt.namespaced:
            if metadata.get("namespace") and metadata["namespace"] != request.namespace:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            metadata["namespace"] = request.namespace
        else:
            metadata.pop("namespace", None)
        if request.name and metadata.get("name") and metadata["name"] != request.name:
            raise bad_request(f"the name of the object ({metadata['name']}) does not match the name on the URL ({request.name})")
        return self._commit_create(request, self.internal(rt, body) if rt.storage_key == "events" else body)

    def _commit_create(self, request: ApiRequest, obj: dict[str, Any], *, managed: list | None = None) -> tuple[int, dict[str, Any], list[str]]:
        rt = request.rt
        metadata = obj["metadata"]
        for key in _SERVER_METADATA:
            metadata.pop(key, None)
        if not metadata.get("name"):
            if metadata.get("generateName"):
                metadata["name"] = metadata["generateName"] + "".join(random.choice(_GENERATE_ALPHABET) for _ in range(5))
            else:
                raise invalid(
                    rt.group,
                    rt.kind,
                    "",
                    [cause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name")],
                )
        if rt.has_status:
            obj.pop("status", None)
        warnings = self._decode_and_validate(request, obj, None)
        if rt.namespaced:
            self._require_namespace(rt, request.namespace or "")
        if self.storage.get(rt.storage_key, metadata.get("namespace", ""), metadata["name"]) is not None:
            raise already_exists(rt.group, rt.plural, metadata["name"])
        builtins.default_builtin(rt, obj)

        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = now_timestamp()
        if rt.is_custom or rt.plural == "customresourcedefinitions":
            metadata["generation"] = 1
        if managed is not None:
            metadata["managedFields"] = managed
        else:
            entries = fieldmanager.record_update(
                None, obj, manager=request.field_manager, subresource="", api_version=rt.api_version,
                schema=rt.schema, now=now_timestamp(),
            )
            if entries:
                metadata["managedFields"] = entries
        if not request.dry_run:
            metadata["resourceVersion"] = ""  # placeholder that keeps the field's position in metadata
        obj = self._order_metadata(obj)
        if request.dry_run:
            return 201, self.external(rt, obj), warnings
        stored = self.storage.put(rt.storage_key, obj, "ADDED")
        self.on_stored(rt, stored, "ADDED")
        return 201, self.external(rt, stored), warnings

    @staticmethod
    def _order_metadata(obj: dict[str, Any]) -> dict[str, Any]:
        order = ["name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                 "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
                 "finalizers", "managedFields"]
        metadata = obj["metadata"]
        ordered = {key: metadata[key] for key in order if key in metadata}
        ordered.update({key: value for key, value in metadata.items() if key not in ordered})
        obj["metadata"] = ordered
        return obj

    def _decode_and_validate(self, request: ApiRequest, obj: dict[str, Any], old: dict[str, Any] | None) -> list[str]:
        """Prune, decode and validate `obj` in place; return the Warning texts for pruned fields."""
        rt = request.rt
        warnings: list[str] = []
        name = obj["metadata"].get("name", "")
        if rt.is_custom:
            unknown = self._validator(rt).prune(obj)
            if unknown and request.query.get("fieldValidation") == "Strict":
                fields = ", ".join(f'unknown field "{path}"' for path in unknown)
                raise bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict decoding error: {fields}')
            if request.query.get("fieldValidation") != "Ignore":
                warnings = [f'unknown field "{path}"' for path in unknown]
            causes = self._validator(rt).validate(obj, old)
        else:
            builtins.decode_builtin(rt, obj)
            causes = builtins.validate_builtin(rt, obj, obj["metadata"].get("namespace", ""))
        causes = builtins.validate_metadata(rt, obj) + causes
        if causes:
            # Both Event APIs validate through the core type, so their errors name no group.
            raise invalid("" if rt.storage_key == "events" else rt.group, rt.kind, name, causes)
        return warnings

    # Update and patch ------------------------------------------------------------------------

    def update(self, request: ApiRequest) -> tuple[int, dict[str, Any], list[str]]:
        rt = request.rt
        if not request.name:
            raise bad_request("name must be provided")

        body = decode_object(request)
        metadata = body["metadata"]
        if metadata.get("name") and metadata["name"] != request.name:
            raise bad_request(f"the name of the object ({metadata['name']}) does not match the name on the URL ({request.name})")

        if rt.namespaced and metadata.get("namespace") and metadata["namespace"] != request.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")

        stored = self.storage.get(rt.storage_key, request.namespace or "", request.name)
        if stored is None:
            raise not_found(rt.group, rt.plural, request.name)

        if request.subresource == "status" and not rt.has_status:
            raise not_found(rt.group, rt.plural, request.name)

        sent_version = metadata.get("resourceVersion")
        if not sent_version and rt.is_custom:
            raise invalid(
                rt.group,
                rt.plural,
                request.name,
                [cause("FieldValueInvalid", "Invalid value: 0: must be specified for an update", "metadata.resourceVersion")],
                details_kind=rt.plural,
            )

        if sent_version and sent_version != stored["metadata"]["resourceVersion"]:
            raise conflict(rt.group, rt.plural, request.name)

        sent_uid = metadata.get("uid")
        if sent_uid and sent_uid != stored["metadata"]["uid"]:
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {qualified_resource(rt.group, rt.plural)} "{request.name}": '
                f"StorageError: invalid object, Code: 4, Key: /registry/{rt.group + '/' if rt.group else ''}{rt.plural}/"
                f"{request.namespace + '/' if request.namespace else ''}{request.name}, ResourceVersion: 0, "
                f"AdditionalErrorMsg: Precondition failed: UID in precondition: {sent_uid}, UID in object meta: {stored['metadata']['uid']}",
                resource_details(request.name, rt.group, rt.plural),
            )

        candidate = self.internal(rt, body) if rt.storage_key == "events" else body
        return self._commit_update(request, stored, candidate)

    def patch(self, request: ApiRequest) -> tuple[int, dict[str, Any], list[str]]:
        rt = request.rt
        media = request.content_type.split(";", 1)[0].strip().lower()
        accepted = [patching.JSON_PATCH, patching.MERGE_PATCH, patching.APPLY_PATCH]
        if not rt.is_custom:
            accepted.append(patching.STRATEGIC_MERGE_PATCH)

        if media not in accepted:
            raise StatusError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted),
            )

        if media == patching.APPLY_PATCH and not request.query.get("fieldManager"):
            raise StatusError(
                422,
                "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
                {"group": "meta.k8s.io", "kind": "PatchOptions",
                 "causes": [cause("FieldValueRequired", "Required value: is required for apply patch", "fieldManager")]},
            )

        patch_body = decode_body(request.body_text, request.content_type, rt)
        stored = self.storage.get(rt.storage_key, request.namespace or "", request.name or "")
        if request.subresource not in (None, "status") or (request.subresource == "status" and not rt.has_status):
            raise not_found(rt.group, rt.plural, request.name or "")

        if media == patching.APPLY_PATCH:
            return self._apply(request, stored, patch_body)

        if stored is None:
            raise not_found(rt.group, rt.plural, request.name or "")

        current = self.external(rt, stored)
        if media == patching.JSON_PATCH:
            patched = patching.json_patch(current, patch_body)
        elif media == patching.MERGE_PATCH:
            patched = patching.merge_patch(current, patch_body)
        else:
            patched = patching.strategic_merge_patch(current, patch_body)

        if not isinstance(patched, dict):
            raise bad_request("the patched object is not a JSON object")

        patched.setdefault("metadata", {})
        sent_version = patched["metadata"].get("resourceVersion")
        if sent_version and sent_version != stored["metadata"]["resourceVersion"]:
            raise conflict(rt.group, rt.plural, request.name or "")

        candidate = self.internal(rt, patched) if rt.storage_key == "events" else patched
        return self._commit_update(request, stored, candidate)

    def _apply(self, request: ApiRequest, stored: dict[str, Any] | None, config: Any) -> tuple[int, dict[str, Any], list[str]]:
        rt = request.rt
        if not isinstance(config, dict):
            raise bad_request("the applied configuration must be an object")

        config = copy.deepcopy(config)
        config.setdefault("metadata", {})
        config["metadata"]["name"] = request.name
        if rt.namespaced:
            config["metadata"]["namespace"] = request.namespace

        if rt.has_status:
            if request.subresource == "status":
                config = {key: value for key, value in config.items() if key in ("apiVersion", "kind", "status")} | {
                    "metadata": {"name": request.name}
                }
            else:
                config.pop("status", None)

        subresource = request.subresource or ""
        force = request.query.get("force") in ("true", "1")
        current = self.external(rt, stored) if stored is not None else None
        merged = fieldmanager.server_side_apply(
            current, config, manager=request.field_manager, subresource=subresource, force=force,
            api_version=rt.api_version, schema=rt.schema, now=now_timestamp(),
        )
        if stored is None:
            if request.subresource:
                raise not_found(rt.group, rt.plural, request.name or "")
            merged["apiVersion"] = rt.api_version
            merged["kind"] = rt.kind
            managed = merged["metadata"].get("managedFields")
            return self._commit_create(request, self.internal(rt, merged), managed=managed)

        return self._commit_update(request, stored, self.internal(rt, merged), managed=merged["metadata"].get("managedFields"))

    def _commit_update(
        self,
        request: ApiRequest,
        stored: dict[str, Any],
        candidate: dict[str, Any],
        *,
        managed: list | None = None,
    ) -> tuple[int, dict[str, Any], list[str]]:
        rt = request.rt
        old_metadata = stored["metadata"]
        candidate = copy.deepcopy(candidate)
        candidate.setdefault("metadata", {})

        # The subresource split: the main resource ignores status, /status ignores everything else.
        if rt.has_status and request.subresource == "status":
            status = candidate.get("status")
            candidate = copy.deepcopy(stored)
            if status is None:
                candidate.pop("status", None)
            else:
                candidate["status"] = status
        elif rt.has_status:
            if "status" in stored:
                candidate["status"] = copy.deepcopy(stored["status"])
            else:
                candidate.pop("status", None)

        metadata = candidate["metadata"]
        for key in ("name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "generateName"):
            if key in old_metadata:
                metadata[key] = old_metadata[key]
            else:
                metadata.pop(key, None)
        metadata["resourceVersion"] = old_metadata["resourceVersion"]
        metadata["managedFields"] = copy.deepcopy(old_metadata.get("managedFields", []))

        if old_metadata.get("deletionTimestamp"):
            added = [f for f in metadata.get("finalizers") or [] if f not in (old_metadata.get("finalizers") or [])]
            if added:
                quoted = ", ".join(json.dumps(f) for f in added)
                message = (
                    "Forbidden: no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers []string{{{quoted}}}"
                )
                raise invalid(rt.group, rt.kind, request.name or "", [cause("FieldValueForbidden", message, "metadata.finalizers")])

        warnings = self._decode_and_validate(request, candidate, self.external(rt, stored) if rt.is_custom else None)
        if rt.storage_key == "events":
            candidate = builtins.core_event_defaults(candidate)

        if managed is not None:
            metadata["managedFields"] = managed
        if _content(candidate) == _content(stored) and (managed is None or managed == old_metadata.get("managedFields", [])):
            return 200, self.external(rt, stored), warnings

        if "generation" in old_metadata and _spec_content(candidate, rt) != _spec_content(stored, rt):
            metadata["generation"] = old_metadata["generation"] + 1
        if managed is None:
            entries = fieldmanager.record_update(
                self.external(rt, stored), self.external(rt, candidate), manager=request.field_manager,
                subresource=request.subresource or "", api_version=rt.api_version, schema=rt.schema, now=now_timestamp(),
            )
            metadata["managedFields"] = entries
        if not metadata.get("managedFields"):
            metadata.pop("managedFields", None)
        if not metadata.get("finalizers"):
            metadata.pop("finalizers", None)
        candidate = self._order_metadata(candidate)
        if request.dry_run:
            return 200, self.external(rt, candidate), warnings

        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            # The last finalizer is gone: the object is deleted at once. The response shows the final
            # state with the previous resourceVersion; watchers see only DELETED, carrying the last
            # stored state (finalizers included) with a new resourceVersion.
            self.storage.delete(rt.storage_key, metadata.get("namespace", ""), metadata["name"])
            self.on_deleted(rt, candidate)
            return 200, self.external(rt, candidate), warnings
        stored_new = self.storage.put(rt.storage_key, candidate, "MODIFIED")
        self.on_stored(rt, stored_new, "MODIFIED")
        return 200, self.external(rt, stored_new), warnings

    # Delete ----------------------------------------------------------------------------------

    def delete(self, request: ApiRequest) -> dict[str, Any]:
        rt = request.rt
        stored = self.storage.get(rt.storage_key, request.namespace or "", request.name or "")
        if stored is None or request.subresource:
            raise not_found(rt.group, rt.plural, request.name or "")
        options = decode_body(request.body_text, "application/json", rt) if request.body_text.strip() else {}
        options = options or {}
        preconditions = options.get("preconditions") or {}
        metadata = stored["metadata"]
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != metadata["resourceVersion"]:
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {qualified_kind(rt.group, rt.kind)} "{request.name}": the ResourceVersion '
                f"in the precondition ({preconditions['resourceVersion']}) does not match the ResourceVersion in record "
                f"({metadata['resourceVersion']}). The object might have been modified",
                resource_details(request.name, rt.group, rt.kind),
            )
        if preconditions.get("uid") and preconditions["uid"] != metadata["uid"]:
            raise StatusError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {qualified_kind(rt.group, rt.kind)} "{request.name}": the UID in the '
                f"precondition ({preconditions['uid']}) does not match the UID in record ({metadata['uid']}). "
                "The object might have been modified",
                resource_details(request.name, rt.group, rt.kind),
            )
        policy = options.get("propagationPolicy") or request.query.get("propagationPolicy")
        return self._delete_object(request, stored, policy)

    def _delete_object(self, request: ApiRequest, stored: dict[str, Any], policy: str | None) -> dict[str, Any]:
        rt = request.rt
        metadata = stored["metadata"]
        finalizers = list(metadata.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers and not metadata.get("deletionTimestamp"):
            finalizers.append("foregroundDeletion")
        elif policy == "Orphan" and "orphan" not in finalizers and not metadata.get("deletionTimestamp"):
            finalizers.append("orphan")
        if rt.plural == "namespaces":
            return self._delete_namespace(request, stored)
        if finalizers:
            if metadata.get("deletionTimestamp"):
                return self.external(rt, stored)
            updated = copy.deepcopy(stored)
            updated["metadata"]["finalizers"] = finalizers
            updated["metadata"]["deletionTimestamp"] = now_timestamp()
            updated["metadata"]["deletionGracePeriodSeconds"] = 0
            if "generation" in metadata:
                updated["metadata"]["generation"] = metadata["generation"] + 1
            updated = self._order_metadata(updated)
            if request.dry_run:
                return self.external(rt, updated)
            stored_new = self.storage.put(rt.storage_key, updated, "MODIFIED")
            self.on_stored(rt, stored_new, "MODIFIED")
            return self.external(rt, stored_new)
        if not request.dry_run:
            self.storage.delete(rt.storage_key, metadata.get("namespace", ""), metadata["name"])
            self.on_deleted(rt, stored)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": resource_details(metadata["name"], rt.group, rt.plural, uid=metadata["uid"]),
        }

    def _delete_namespace(self, request: ApiRequest, stored: dict[str, Any]) -> dict[str, Any]:
        rt = request.rt
        name = stored["metadata"]["name"]
        if request.dry_run:
            return self.external(rt, stored)
        if not stored["metadata"].get("deletionTimestamp"):
            updated = copy.deepcopy(stored)
            updated["metadata"]["deletionTimestamp"] = now_timestamp()
            updated["metadata"]["deletionGracePeriodSeconds"] = 0
            updated["status"] = {"phase": "Terminating"}
            stored = self.storage.put(rt.storage_key, updated, "MODIFIED")
        result = self.external(rt, stored)
        self._empty_namespace(name)
        return result

    def _empty_namespace(self, namespace: str) -> None:
        """Delete every object in a Terminating namespace; remove the namespace once nothing is left."""
        for storage_key, bucket in list(self.storage.buckets.items()):
            for key in sorted(k for k in bucket if k[0] == namespace):
                obj = bucket[key]
                rt = self._type_for_storage_key(storage_key)
                if rt is None:
                    continue
                if obj["metadata"].get("finalizers"):
                    if not obj["metadata"].get("deletionTimestamp"):
                        updated = copy.deepcopy(obj)
                        updated["metadata"]["deletionTimestamp"] = now_timestamp()
                        updated["metadata"]["deletionGracePeriodSeconds"] = 0
                        if "generation" in updated["metadata"]:
                            updated["metadata"]["generation"] += 1
                        self.storage.put(storage_key, self._order_metadata(updated), "MODIFIED")
                else:
                    self.storage.delete(storage_key, namespace, key[1])
        self._finish_namespace_if_empty(namespace)

    def _finish_namespace_if_empty(self, namespace: str) -> None:
        ns = self.storage.get("/namespaces", "", namespace)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if any(key[0] == namespace for bucket in self.storage.buckets.values() for key in bucket):
            return
        self.storage.delete("/namespaces", "", namespace)

    def _type_for_storage_key(self, storage_key: str) -> resources.ResourceType | None:
        return next((rt for rt in self.registry.types.values() if rt.storage_key == storage_key), None)

    async def delete_collection(self, request: ApiRequest) -> dict[str, Any]:
        listing = await self.list(request)
        deleted = []
        for item in listing["items"]:
            stored = self.storage.get(request.rt.storage_key, item["metadata"].get("namespace", ""), item["metadata"]["name"])
            if stored is None:
                continue
            outcome = self._delete_object(request, stored, request.query.get("propagationPolicy"))
            deleted.append(item if outcome.get("kind") == "Status" else outcome)
        listing["items"] = deleted
        listing["metadata"] = {key: value for key, value in listing["metadata"].items() if key != "remainingItemCount"}
        if request.rt.is_custom:
            listing["metadata"]["continue"] = ""
        listing["metadata"]["resourceVersion"] = str(self.storage.revision)
        return listing

    # Hooks -----------------------------------------------------------------------------------

    def on_stored(self, rt: resources.ResourceType, obj: dict[str, Any], change: str) -> None:
        if rt.plural == "customresourcedefinitions":
            self.registry.remove_group_plural(obj["spec"]["group"], obj["spec"]["names"]["plural"])
            for served in resources.resource_type_from_crd(obj):
                self.registry.add(served)
            if change == "ADDED":
                # The CRD controller's follow-up write: names accepted, Established=True.
                established = copy.deepcopy(obj)
                established["status"] = builtins.established_crd_status(obj, now_timestamp())
                self.storage.put(rt.storage_key, established, "MODIFIED")

    def on_deleted(self, rt: resources.ResourceType, obj: dict[str, Any]) -> None:
        if rt.plural == "customresourcedefinitions":
            self.registry.remove_group_plural(obj["spec"]["group"], obj["spec"]["names"]["plural"])
        namespace = obj["metadata"].get("namespace")
        if namespace:
            self._finish_namespace_if_empty(namespace)


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    result.pop("apiVersion", None)
    result.pop("kind", None)
    metadata = result.get("metadata") or {}
    for key in ("resourceVersion", "managedFields"):
        metadata.pop(key, None)
    if not metadata.get("finalizers"):
        metadata.pop("finalizers", None)
    return result


def _spec_content(obj: dict[str, Any], rt: resources.ResourceType) -> dict[str, Any]:
    ignored = {"metadata", "apiVersion", "kind"} | ({"status"} if rt.has_status else set())
    return {key: value for key, value in obj.items() if key not in ignored}


def _list_key(obj: dict[str, Any], namespace: str | None) -> str:
    metadata = obj["metadata"]
    if namespace is None and metadata.get("namespace"):
        return f"/{metadata['namespace']}/{metadata['name']}"
    return f"/{metadata['name']}"


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


def _parse_revision(text: str) -> int:
    try:
        value = int(text)
        if value < 0:
            raise ValueError
        return value
    except ValueError:
        raise StatusError(500, "", f'resourceVersion: Invalid value: "{text}": strconv.ParseUint: parsing "{text}": invalid syntax') from None
