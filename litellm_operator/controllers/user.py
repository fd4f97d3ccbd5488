"""User reconciler: a User custom resource becomes a LiteLLM internal user, with its own key.

Identity: `spec.userID` when set (this adopts an existing user on purpose), else the id already
recorded in status, else the object's UID. Creating with a UID-derived id makes a crash between
"create in LiteLLM" and "record in status" harmless: the retry finds the user by that id.
`/user/update` on an unknown id creates the user in LiteLLM 1.108.7, so every reconcile reads
the user with `/user/info` first and updates only a user that exists.

The user's key: `/user/new` ignores a caller-supplied key, so the user is always created with
`auto_create_key: false`, and the key is made afterwards by `controllers.keys` (value generated
here, written to the Secret first, then sent to `/key/generate` with the `user_id`). A crash at
any step leaves a key that the next reconcile finds again by its hash.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from litellm_operator import api
from litellm_operator.controllers import mirror
from litellm_operator.controllers.base import ObjectReconciler, SpecInvalid, SyncResult, change_event
from litellm_operator.controllers.connection import Connection
from litellm_operator.controllers.fields import (
    Field,
    Kind,
    Removal,
    changed_fields,
    create_request,
    normalize,
)
from litellm_operator.controllers.keys import KeyOutcome, KeySecrets, key_secret_name
from litellm_operator.controllers.metadata import desired_metadata, metadata_changed, tags_and_guardrails
from litellm_operator.litellm import models
from litellm_operator.litellm.errors import AlreadyExistsError, LiteLLMError, NotFoundError

log = logging.getLogger(__name__)

# The user fields LiteLLM 1.108.7 stores and echoes in `/user/info`, measured on the real proxy.
# Its `/user/update` ignores null, [] and {} for most fields, so only some can be cleared:
# null clears max_budget, budget_duration, tpm_limit and rpm_limit, "" clears user_alias, and
# {} clears model_max_budget. The others keep their last value when removed from the spec.
USER_FIELDS = (
    Field("user_email", "user_email", Kind.TEXT),
    Field("user_alias", "user_alias", Kind.TEXT, on_removal=""),
    # NOTE: LiteLLM cannot clear these on a user, so removing them from the spec changes nothing.
    Field("user_role", "user_role", Kind.TEXT, on_removal=Removal.KEEP),
    Field("models", "models", Kind.SET, on_removal=Removal.KEEP),
    Field("max_parallel_requests", "max_parallel_requests", Kind.INTEGER, on_removal=Removal.KEEP),
    Field("allowed_cache_controls", "allowed_cache_controls", Kind.SET, on_removal=Removal.KEEP),
    Field("max_budget", "max_budget", Kind.MONEY),
    Field("budget_duration", "budget_duration", Kind.TEXT),
    Field("tpm_limit", "tpm_limit", Kind.INTEGER),
    Field("rpm_limit", "rpm_limit", Kind.INTEGER),
    # /user/new refuses model_max_budget without an Enterprise licence (500) but /user/update
    # accepts it, so it is left out of the create request and set by the first update.
    Field("model_max_budget", "model_max_budget", Kind.MONEY_MAPPING),
    # /user/update ignores sso_user_id. LiteLLM changes spend with every request.
    Field("sso_user_id", "sso_user_id", Kind.TEXT, create_only=True),
    Field("spend", "spend", Kind.MONEY, create_only=True),
    # /user/update ignores teams. Memberships after creation belong to TeamMemberAssociation
    # objects, so comparing teams here would fight them.
    Field("teams", "teams", Kind.LIST, create_only=True),
    Field("send_invite_email", "send_invite_email", Kind.BOOLEAN, create_only=True),
)
UPDATE_ONLY = frozenset({"model_max_budget"})

# Spec fields whose values LiteLLM keeps inside a user's `metadata`, under the same names,
# whether the request sends them at the top level or in metadata.
MODEL_LIMIT_FIELDS = ("model_rpm_limit", "model_tpm_limit")


@attrs.define
class UserKey:
    """The user's key after a reconcile: what `KeySecrets.ensure_key` returned and what changed."""

    outcome: KeyOutcome
    changed_fields: tuple[str, ...] = ()


def secret_name_of(user: api.User, raw: dict[str, Any]) -> str:
    """Return the name of the Secret with the user's key (the Go operator's naming)."""
    instance_ref = user.spec.connection_ref.instance_ref
    return key_secret_name(raw, instance_ref.name if instance_ref else None, user.spec.key_alias)


def user_id_of(user: api.User) -> str:
    """Return the LiteLLM user id this User manages."""
    return user.spec.user_id or user.status.user_id or user.metadata.uid


def wants_key(user: api.User) -> bool:
    """Return True when the operator keeps a key for the user (autoCreateKey absent means true)."""
    return user.spec.auto_create_key is not False


def model_limits(user: api.User) -> dict[str, Any]:
    """Return the per-model rate limits as the integer maps LiteLLM keeps in metadata."""
    limits: dict[str, Any] = {}
    for name in MODEL_LIMIT_FIELDS:
        limits[name] = normalize(Kind.INTEGER_MAPPING, getattr(user.spec, name)) or None
    return limits


def user_metadata(user: api.User, raw: dict[str, Any]) -> dict[str, Any]:
    """Return the metadata LiteLLM should hold for the user.

    guardrails are a metadata entry, because /user/update in LiteLLM 1.108.7 rejects a
    top-level `guardrails` field and /user/new stores that field in metadata anyway.
    """
    return desired_metadata(raw, user.spec.metadata, None, guardrails=user.spec.guardrails, managed=model_limits(user))


def observed_fields(user: models.User) -> dict[str, Any]:
    """Return the managed fields as LiteLLM reports them, by LiteLLM name."""
    return {field.api: user.raw.get(field.api, getattr(user, field.api, None)) for field in USER_FIELDS}


def user_status(info: models.UserInfo, key: UserKey | None = None) -> dict[str, Any]:
    """Return the status mirror of a LiteLLM user and, when present, of its key."""
    user = info.user_info
    metadata = user.metadata or {}
    tags, guardrails = tags_and_guardrails(metadata)
    status = {
        "userID": user.user_id,
        "userEmail": user.user_email,
        "userAlias": mirror.text(user.user_alias),
        "userRole": user.user_role,
        "teams": mirror.string_list(user.teams),
        "models": mirror.string_list(user.models),
        "maxBudget": mirror.money(user.max_budget),
        "spend": mirror.money(user.spend),
        "budgetDuration": user.budget_duration,
        "tpmLimit": user.tpm_limit,
        "rpmLimit": user.rpm_limit,
        "maxParallelRequests": user.max_parallel_requests,
        "allowedCacheControls": mirror.string_list(user.allowed_cache_controls),
        "modelMaxBudget": _money_map(user.model_max_budget),
        "modelRPMLimit": mirror.string_map(metadata.get("model_rpm_limit")),
        "modelTPMLimit": mirror.string_map(metadata.get("model_tpm_limit")),
        "guardrails": mirror.string_list(guardrails),
        "tags": mirror.string_list(tags),
        "createdAt": mirror.text(user.created_at),
        "updatedAt": mirror.text(user.updated_at),
    }
    if key is not None:
        status.update(key_status(key))
    return mirror.compact(status)


def key_status(key: UserKey) -> dict[str, Any]:
    """Return the status fields of the user's key (its hash, never the key itself)."""
    litellm_key = key.outcome.key
    return {
        **key.outcome.status,
        "keyAlias": litellm_key.key_alias,
        "keyName": litellm_key.key_name,
        "expires": mirror.text(litellm_key.expires),
        "blocked": bool(litellm_key.blocked),
        "aliases": mirror.string_map(litellm_key.aliases),
        "permissions": mirror.string_map(litellm_key.permissions),
    }


def _money_map(value: dict[str, Any] | None) -> dict[str, str] | None:
    if not value:
        return None
    return {str(name): mirror.money(amount) or "0" for name, amount in value.items()}


class UserReconciler(ObjectReconciler):
    resource = api.USERS
    model = api.User
    controller_name = "user"

    async def sync(self, obj: api.User, raw: dict[str, Any], connection: Connection) -> SyncResult:
        client = connection.client
        user_id = user_id_of(obj)
        if obj.spec.blocked and not wants_key(obj):
            raise SpecInvalid(
                "BlockedWithoutKey",
                "spec.blocked needs the user's own key, because LiteLLM 1.108.7 stores no blocked "
                "flag on users and the operator blocks the key it created. Remove autoCreateKey: "
                "false, or block the user's VirtualKeys instead",
            )

        # Observe.
        info = await self._read(client, user_id)
        created = info is None
        if created:
            info = await self._create(obj, raw, connection, user_id)

        # Compute the difference and act.
        changes = self._changes(obj, raw, info.user_info)
        if changes:
            await client.user_update(models.UserUpdateRequest(user_id=user_id, **changes))
        key: UserKey | None = None
        key_removed = False
        if wants_key(obj):
            key = await self._sync_key(obj, raw, connection, user_id)
        else:
            key_removed = await self._delete_own_key(obj, raw, connection, info)
        if changes or created or key_removed or (key is not None and key.changed_fields):
            info = await client.user_info(user_id)

        # Report.
        status = user_status(info, key)
        requeue_after = key.outcome.requeue_after if key is not None else None
        if created:
            recreated = bool(obj.status.user_id)
            return SyncResult(
                status=status,
                event_reason="DriftCorrected" if recreated else "Created",
                event_message=(
                    f"user {user_id} was missing in LiteLLM; created it again"
                    if recreated
                    else f"created user {user_id} in LiteLLM"
                ),
                requeue_after=requeue_after,
            )
        names = sorted(changes) + (list(key.changed_fields) if key is not None else [])
        if key_removed:
            names.append("key")
        if not names:
            # A key rotation or replacement reports its own Event.
            outcome = key.outcome if key is not None else None
            return SyncResult(
                status=status,
                event_reason=outcome.event_reason if outcome else None,
                event_message=outcome.event_message if outcome else None,
                requeue_after=requeue_after,
            )
        reason, message = change_event(obj, raw, names)
        return SyncResult(status=status, event_reason=reason, event_message=message, requeue_after=requeue_after)

    @staticmethod
    async def _read(client: Any, user_id: str) -> models.UserInfo | None:
        try:
            return await client.user_info(user_id)
        except NotFoundError:
            return None

    @staticmethod
    def _changes(obj: api.User, raw: dict[str, Any], observed: models.User) -> dict[str, Any]:
        changes = changed_fields(USER_FIELDS, obj.spec, observed_fields(observed))
        metadata = user_metadata(obj, raw)
        if metadata_changed(metadata, observed.metadata):
            changes["metadata"] = metadata
        return changes

    async def _create(
        self, obj: api.User, raw: dict[str, Any], connection: Connection, user_id: str
    ) -> models.UserInfo:
        fields = [field for field in USER_FIELDS if field.api not in UPDATE_ONLY]
        body = create_request(fields, obj.spec)
        body["metadata"] = user_metadata(obj, raw)
        try:
            # The key is made separately, so that its value is ours and stored first.
            await connection.client.user_new(models.UserNewRequest(user_id=user_id, auto_create_key=False, **body))
        except AlreadyExistsError:
            # Either an earlier attempt created this id (the read below finds it), or another
            # LiteLLM user has this email.
            existing = await self._read(connection.client, user_id)
            if existing is not None:
                return existing
            raise SpecInvalid("UserAlreadyExists", await self._duplicate_message(obj, connection)) from None
        self.log.info("created user in LiteLLM user_id=%s", user_id)
        return await connection.client.user_info(user_id)

    @staticmethod
    async def _duplicate_message(obj: api.User, connection: Connection) -> str:
        email = obj.spec.user_email
        try:
            listed = await connection.client.user_list(user_email=email)
        except LiteLLMError as error:
            # The message is still useful without the other user's id.
            log.info("cannot look up the user with a duplicate email error=%s", type(error).__name__)
            listed = None
        # /user/list matches the email partially, so look for the exact address.
        owner = next(
            (u.user_id for u in (listed.users if listed else []) if (u.user_email or "").lower() == email.lower()),
            None,
        )
        named = f" (user ID {owner})" if owner else ""
        return (
            f"spec.userEmail {email!r} belongs to another LiteLLM user{named}. Set spec.userID to "
            "that user's ID to manage it with this object, or use another email"
        )

    # ---- the user's key ----

    async def _sync_key(self, obj: api.User, raw: dict[str, Any], connection: Connection, user_id: str) -> UserKey:
        """Create or repair the user's key and its Secret, and block or unblock the key per the spec.

        aliases, permissions, soft_budget and duration are key fields that LiteLLM does not store
        on a user (/user/update rejects the first two with 400 and drops soft_budget). They are
        sent when the key is created and not compared afterwards. blocked is compared every time.
        """
        spec = obj.spec
        name = secret_name_of(obj, raw)
        request = models.KeyGenerateRequest(
            user_id=user_id,
            key_alias=spec.key_alias or models.UNSET,
            duration=spec.duration or models.UNSET,
            aliases=dict(spec.aliases) if spec.aliases else models.UNSET,
            permissions=dict(spec.permissions) if spec.permissions else models.UNSET,
            soft_budget=float(spec.soft_budget) if spec.soft_budget else models.UNSET,
            blocked=True if spec.blocked else models.UNSET,
            metadata=desired_metadata(raw, None, None),
        )
        outcome = await KeySecrets(self.ctx).ensure_key(
            raw, secret_name=name, connection=connection, generate_request=request
        )
        changed = ["key"] if outcome.created else []

        key = outcome.key
        if bool(spec.blocked) != bool(key.blocked):
            if spec.blocked:
                await connection.client.key_block(outcome.token_id)
            else:
                await connection.client.key_unblock(outcome.token_id)
            key.blocked = bool(spec.blocked)
            changed.append("blocked")

        # A keyAlias change renames the Secret: ensure_key has moved the key to the new name.
        if obj.status.key_secret_ref and obj.status.key_secret_ref != name:
            await KeySecrets(self.ctx).delete_secret(raw, obj.status.key_secret_ref)
        return UserKey(outcome=outcome, changed_fields=tuple(changed))

    async def _delete_own_key(
        self, obj: api.User, raw: dict[str, Any], connection: Connection, info: models.UserInfo
    ) -> bool:
        """Remove the key the operator made, after autoCreateKey turned false; True if one existed."""
        name = obj.status.key_secret_ref
        if not name:
            return False
        keys = KeySecrets(self.ctx)
        await keys.delete_keys(raw, connection, name)
        await keys.delete_secret(raw, name)
        return True

    # ---- deletion ----

    async def delete_external(self, obj: api.User, raw: dict[str, Any], connection: Connection) -> None:
        # The id is derived even without a status, so a user created just before a crash is
        # deleted too. An unknown id is a 404, which counts as deleted. LiteLLM 1.108.7 deletes
        # the user's keys together with the user.
        await connection.client.user_delete([user_id_of(obj)])

    async def cleanup_owned(self, obj: api.User, raw: dict[str, Any]) -> None:
        # A real cluster's garbage collector would also remove the Secret through its owner
        # reference. Deleting it here removes it before the finalizer goes, with or without one.
        await KeySecrets(self.ctx).delete_secret(raw, obj.status.key_secret_ref or secret_name_of(obj, raw))
