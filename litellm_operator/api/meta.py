"""ObjectMeta: the subset of Kubernetes object metadata that the operator reads and writes.

Keys not modelled here (managedFields, selfLink and so on) are ignored when structuring. An
update built from a structured object therefore sends no managedFields, and the API server keeps
the ones it has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from litellm_operator.api.schema import field


@attrs.define(kw_only=True)
class ObjectMeta:
    """Name, identity, version and bookkeeping fields of a Kubernetes object."""

    name: str | None = field(json="name")
    generate_name: str | None = field(json="generateName")
    namespace: str | None = field(json="namespace")
    uid: str | None = field(json="uid")
    resource_version: str | None = field(json="resourceVersion")
    generation: int | None = field(json="generation")
    creation_timestamp: datetime | None = field(json="creationTimestamp")
    deletion_timestamp: datetime | None = field(json="deletionTimestamp")
    labels: dict[str, str] | None = field(json="labels")
    annotations: dict[str, str] | None = field(json="annotations")
    finalizers: list[str] | None = field(json="finalizers")
    # Kept as the API server's dicts (apiVersion, kind, name, uid, controller, blockOwnerDeletion).
    owner_references: list[dict[str, Any]] | None = field(json="ownerReferences")
