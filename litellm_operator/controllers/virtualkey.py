"""VirtualKey reconciler: a VirtualKey custom resource becomes a LiteLLM key whose value is in a Secret.

The key itself (value, Secret, creation, replacement, rotation) is handled by `keys.KeySecrets`;
this module keeps the key's settings equal to the spec. LiteLLM 1.108.7 stores some settings in
the key's `metadata` instead of top-level fields (`model_rpm_limit`, `model_tpm_limit`,
`enforced_params`, and `tags`/`guardrails`), and replaces `metadata` as a whole on update, so
those are compared and sent as part of the desired metadata. `duration`, `spend` and
`sendInviteEmail` are applied when the key is created only: re-sending `duration` would move the
key's expiry, and `spend` grows with use.
"""

from __future__ import annotations

import json
from typing import Any

from litellm_operator import api
from litellm_operator.controllers import mirror
from litellm_operator.controllers.base import ObjectReconciler, SyncResult, change_event
from litellm_operator.controllers.connection import Connection
from litellm_operator.controllers.fields import (
    Field,
    Kind,
    changed_fields,
    create_request,
    normalize,
    to_request,
)
from litellm_operator.controllers.keys import KeySecrets, key_secret_name
from litellm_operator.controllers.metadata import desired_metadata, metadata_changed, tags_and_guardrails
from litellm_operator.litellm import models

KEY_FIELDS = (
    Field("key_alias", "key_alias", Kind.TEXT),
    Field("models", "models", Kind.SET),
    Field("max_budget", "max_budget", Kind.MONEY),
    Field("budget_duration", "budget_duration", Kind.TEXT),
    Field("tpm_limit", "tpm_limit", Kind.INTEGER),
    Field("rpm_limit", "rpm_limit", Kind.INTEGER),
    Field("max_parallel_requests", "max_parallel_requests", Kind.INTEGER),
    Field("team_id", "team_id", Kind.TEXT),
    Field("user_id", "user_id", Kind.TEXT),
    Field("aliases", "aliases", Kind.MAPPING),
    Field("config", "config", Kind.MAPPING),
    Field("permissions", "permissions", Kind.MAPPING),
    Field("allowed_cache_controls", "allowed_cache_controls", Kind.SET),
    Field("allowed_routes", "allowed_routes", Kind.SET),
    Field("model_max_budget", "model_max_budget", Kind.MONEY_MAPPING),
    Field("duration", "duration", Kind.TEXT, create_only=True),
    Field("spend", "spend", Kind.MONEY, create_only=True),
    Field("send_invite_email", "send_invite_email", Kind.BOOLEAN, create_only=True),
)


def managed_metadata(spec: api.VirtualKeySpec) -> dict[str, Any]:
    """Return the key settings LiteLLM keeps in metadata (None when the spec leaves them out)."""
    return {
        "model_rpm_limit": dict(spec.model_rpm_limit) if spec.model_rpm_limit else None,
        "model_tpm_limit": dict(spec.model_tpm_limit) if spec.model_tpm_limit else None,
        "enforced_params": list(spec.enforced_params) if spec.enforced_params else None,
    }


def key_metadata(raw: dict[str, Any], spec: api.VirtualKeySpec) -> dict[str, Any]:
    return desired_metadata(raw, spec.metadata, None, spec.tags, spec.guardrails, managed_metadata(spec))


def soft_budget_of(key: models.Key) -> Any:
    """Return the key's soft budget: top level in some LiteLLM versions, in its budget table in 1.108.7."""
    if key.soft_budget is not None:
        return key.soft_budget
    return (key.raw.get("litellm_budget_table") or {}).get("soft_budget")


def changes_for(obj: api.VirtualKey, raw: dict[str, Any], key: models.Key) -> dict[str, Any]:
    """Return the `/key/update` fields that make the key equal to the spec."""
    spec = obj.spec
    observed = {field.api: key.raw.get(field.api) for field in KEY_FIELDS}
    changes = changed_fields(KEY_FIELDS, spec, observed)

    if normalize(Kind.MONEY, spec.soft_budget) != normalize(Kind.MONEY, soft_budget_of(key)):
        changes["soft_budget"] = to_request(Kind.MONEY, spec.soft_budget)
    # LiteLLM creates a budget entry of its own for a soft budget, so budget_id is compared only
    # when the spec names one, or cleared when neither is set.
    budget_id_managed = bool(spec.budget_id or not spec.soft_budget)
    if budget_id_managed and normalize(Kind.TEXT, spec.budget_id) != normalize(Kind.TEXT, key.budget_id):
        changes["budget_id"] = spec.budget_id

    metadata = key_metadata(raw, spec)
    if metadata_changed(metadata, key.metadata):
        changes["metadata"] = metadata
    tags, guardrails = tags_and_guardrails(key.metadata, key.raw)
    if sorted(spec.tags or []) != sorted(tags or []):
        changes["tags"] = list(spec.tags or [])
    if sorted(spec.guardrails or []) != sorted(guardrails or []):
        changes["guardrails"] = list(spec.guardrails or [])
    return changes


def generate_request(obj: api.VirtualKey, raw: dict[str, Any]) -> models.KeyGenerateRequest:
    """Return the `/key/generate` request for the spec, without the key value."""
    spec = obj.spec
    body = create_request(KEY_FIELDS, spec)
    body["metadata"] = key_metadata(raw, spec)
    if spec.soft_budget:
        body["soft_budget"] = to_request(Kind.MONEY, spec.soft_budget)
    if spec.budget_id:
        body["budget_id"] = spec.budget_id
    if spec.tags:
        body["tags"] = list(spec.tags)
    if spec.guardrails:
        body["guardrails"] = list(spec.guardrails)
    if spec.blocked:
        body["blocked"] = True
    return models.KeyGenerateRequest(**body)


def key_status(key: models.Key) -> dict[str, Any]:
    """Return the status mirror of a LiteLLM key (never its value)."""
    metadata = key.metadata or {}
    tags, guardrails = tags_and_guardrails(key.metadata, key.raw)
    budget_table = key.raw.get("litellm_budget_table")
    return mirror.compact(
        {
            "keyAlias": key.key_alias,
            "keyName": key.key_name,
            "keyID": key.raw.get("id") or None,
            "aliases": mirror.string_map(key.aliases),
            "allowedCacheControls": mirror.string_list(key.allowed_cache_controls),
            "allowedRoutes": mirror.string_list(key.allowed_routes),
            "blocked": bool(key.blocked),
            "budgetDuration": key.budget_duration,
            "budgetID": key.budget_id,
            "budgetResetAt": mirror.text(key.budget_reset_at),
            "config": mirror.string_map(key.config),
            "createdAt": mirror.text(key.created_at),
            "createdBy": key.created_by,
            "enforcedParams": mirror.string_list(metadata.get("enforced_params") or key.enforced_params),
            "expires": mirror.text(key.expires),
            "guardrails": mirror.string_list(guardrails),
            "liteLLMBudgetTable": json.dumps(budget_table, sort_keys=True) if budget_table else None,
            "maxBudget": mirror.money(key.max_budget),
            "maxParallelRequests": key.max_parallel_requests,
            "models": mirror.string_list(key.models),
            "permissions": mirror.string_map(key.permissions),
            "rpmLimit": key.rpm_limit,
            "spend": mirror.money(key.spend),
            "tags": mirror.string_list(tags),
            "teamID": key.team_id,
            "tpmLimit": key.tpm_limit,
            "updatedAt": mirror.text(key.updated_at),
            "updatedBy": key.updated_by,
            "userID": key.user_id,
        }
    )


class VirtualKeyReconciler(ObjectReconciler):
    resource = api.VIRTUAL_KEYS
    model = api.VirtualKey
    controller_name = "virtualkey"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.keys = KeySecrets(ctx)

    @staticmethod
    def secret_name(obj: api.VirtualKey, raw: dict[str, Any]) -> str:
        instance = obj.spec.connection_ref.instance_ref
        return key_secret_name(raw, instance.name if instance else None, obj.spec.key_alias)

    async def sync(self, obj: api.VirtualKey, raw: dict[str, Any], connection: Connection) -> SyncResult:
        client = connection.client

        # Make the Secret and LiteLLM hold the key; this creates, replaces or rotates it.
        outcome = await self.keys.ensure_key(
            raw,
            secret_name=self.secret_name(obj, raw),
            connection=connection,
            generate_request=generate_request(obj, raw),
            fixed_value=obj.spec.key,
        )
        key = outcome.key
        token = outcome.token_id

        # Compute the difference and act. A key created just now already has every field.
        changes = {} if outcome.created else changes_for(obj, raw, key)
        blocked_changed = bool(obj.spec.blocked) != bool(key.blocked)
        if changes:
            await client.key_update(models.KeyUpdateRequest(key=token, **changes))
        if blocked_changed:
            if obj.spec.blocked:
                await client.key_block(token)
            else:
                await client.key_unblock(token)
        if changes or blocked_changed:
            key = await client.key_info(token)

        status = {**key_status(key), "duration": obj.spec.duration, **outcome.status}
        result = SyncResult(status=status, requeue_after=outcome.requeue_after)
        if changes or blocked_changed:
            names = sorted(changes) + (["blocked"] if blocked_changed else [])
            result.event_reason, result.event_message = change_event(obj, raw, names)
        if outcome.event_reason:
            result.event_reason, result.event_message = outcome.event_reason, outcome.event_message
        return result

    async def delete_external(self, obj: api.VirtualKey, raw: dict[str, Any], connection: Connection) -> None:
        await self.keys.delete_keys(raw, connection, self.secret_name(obj, raw))

    async def cleanup_owned(self, obj: api.VirtualKey, raw: dict[str, Any]) -> None:
        await self.keys.delete_secret(raw, self.secret_name(obj, raw))

