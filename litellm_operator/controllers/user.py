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

import base64
import logging
import re
import secrets
from typing import Any

import attrs

from litellm_operator import api
from litellm_operator.controllers import mirror
from litellm_operator.controllers.base import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    ObjectReconciler,
    SpecInvalid,
    SyncResult,
    generation,
)
from litellm_operator.controllers.connection import Connection
from litellm_operator.controllers.fields import (
    Field,
    Kind,
    Removal,
    changed_fields,
    create_request,
    describe_changes,
    normalize,
)
from litellm_operator.controllers.metadata import desired_metadata, metadata_changed, tags_and_guardrails
from litellm_operator.litellm import models
from litellm_operator.litellm.client import token_id
from litellm_operator.litellm.errors import AlreadyExistsError, NotFoundError
from litellm_operator.runtime.kube import SECRETS, Conflict, NotFound

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
    # /user/update ignores sso_user_id; LiteLLM changes spend with every request.
    Field("sso_user_id", "sso_user_id", Kind.TEXT, create_only=True),
    Field("spend", "spend", Kind.MONEY, create_only=True),
    # /user/update ignores teams. Memberships after creation belong to TeamMemberAssociation
    # objects, so comparing teams here would fight them.
    Field("teams", "teams", Kind.LIST, create_only=True),
    Field("send_invite_email", "send_invite_email", Kind.BOOLEAN, create_only=True),
)
UPDATE_ONLY = frozenset({"model_max_budget"})

# LiteLLM keeps a user's per-model rate limits inside `metadata`, whatever the request names them.
MODEL_LIMIT_ENTRIES = (("model_rpm_limit", "model_rpm_limit"), ("model_tpm_limit", "model_tpm_limit"))

# Spec fields that LiteLLM stores on keys, not on users: /user/update rejects aliases,
# permissions and blocked (400), and accepts soft_budget without storing it. They are applied
# to the user's own key: aliases, permissions, soft_budget and duration when it is created,
# blocked on every reconcile. keyAlias names that key.
KEY_FIELDS = ("aliases", "permissions", "soft_budget", "duration", "key_alias", "blocked")


# Data key of the key Secret, as the Go operator writes it, so existing workloads keep reading it.
KEY_DATA_KEY = "key"
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-z0-9.-]+")


@attrs.define
class UserKey:
    """The user's key after a reconcile: its Secret, LiteLLM's record and what was changed."""

    secret_name: str
    key: models.Key
    changed_fields: tuple[str, ...] = ()


def key_secret_name(user: api.User) -> str:
    """Return the name of the Secret with the user's key.

    `<instance or "litellm">-key-<keyAlias>` is the Go operator's name; without a keyAlias the
    object's name takes its place, prefixed with `user-` so it cannot meet a VirtualKey's alias.
    """
    instance_ref = user.spec.connection_ref.instance_ref
    prefix = (instance_ref.name if instance_ref else None) or "litellm"
    suffix = user.spec.key_alias or f"user-{user.metadata.name}"
    # NOTE: an alias with characters a Secret name cannot contain is mapped to "-", so two
    # aliases that differ only there share a Secret name.
    name = _INVALID_NAME_CHARACTERS.sub("-", f"{prefix}-key-{suffix}".lower()).strip("-.")
    return name[:253]


def generate_key() -> str:
    """Return a new plaintext key; LiteLLM requires caller-chosen keys to start with "sk-"."""
    return "sk-" + secrets.token_urlsafe(32)


def key_secret_body(raw: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """Return the Secret that stores the user's key, owned by the User object."""
    meta = raw["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            "ownerReferences": [
                {
                    "apiVersion": raw.get("apiVersion", api.API_VERSION),
                    "kind": raw.get("kind", "User"),
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "type": "Opaque",
        "data": {KEY_DATA_KEY: base64.b64encode(value.encode()).decode()},
    }


def owned_by(secret: dict[str, Any], raw: dict[str, Any]) -> bool:
    """Return True when the Secret's owner references name this object."""
    uid = raw["metadata"].get("uid")
    return any(ref.get("uid") == uid for ref in (secret.get("metadata") or {}).get("ownerReferences") or [])


def secret_value(secret: dict[str, Any]) -> str | None:
    """Return the plaintext key stored in a key Secret, or None when it is missing or invalid."""
    encoded = (secret.get("data") or {}).get(KEY_DATA_KEY)
    if not encoded:
        return None
    try:
        value = base64.b64decode(encoded).decode().strip()
    except ValueError:
        return None
    return value if value.startswith("sk-") else None


def user_id_of(user: api.User) -> str:
    """Return the LiteLLM user id this User manages."""
    return user.spec.user_id or user.status.user_id or user.metadata.uid


def wants_key(user: api.User) -> bool:
    """Return True when the operator keeps a key for the user (autoCreateKey absent means true)."""
    return user.spec.auto_create_key is not False


def model_limits(user: api.User) -> dict[str, Any]:
    """Return the per-model rate limits as the integer maps LiteLLM keeps in metadata."""
    limits: dict[str, Any] = {}
    for spec_attr, entry in MODEL_LIMIT_ENTRIES:
        value = normalize(Kind.INTEGER_MAPPING, getattr(user.spec, spec_attr))
        limits[entry] = value or None
    return limits


def user_metadata(user: api.User, raw: dict[str, Any]) -> dict[str, Any]:
    """Return the metadata LiteLLM should hold for the user.

    guardrails go into metadata as an entry: /user/update rejects a top-level `guardrails`
    field in LiteLLM 1.108.7, and /user/new stores it in metadata the same way.
    """
    return desired_metadata(
        raw, user.spec.metadata, None, guardrails=user.spec.guardrails, managed=model_limits(user)
    )


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
    litellm_key = key.key
    return {
        "keySecretRef": key.secret_name,
        "token": litellm_key.token,
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
                "spec.blocked needs the user's own key: LiteLLM 1.108.7 stores no blocked flag on "
                "users, so the operator blocks the key it created; remove autoCreateKey: false, or "
                "block the user's VirtualKeys instead",
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
            key = await self._sync_key(obj, raw, connection, user_id, info)
        else:
            key_removed = await self._delete_own_key(obj, raw, connection, info)
        if changes or created or key_removed or (key is not None and key.changed_fields):
            info = await client.user_info(user_id)

        # Report.
        status = user_status(info, key)
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
            )
        names = sorted(changes) + (list(key.changed_fields) if key is not None else [])
        if key_removed:
            names.append("key")
        if not names:
            return SyncResult(status=status)
        spec_changed = generation(raw) != (obj.status.observed_generation or 0)
        return SyncResult(
            status=status,
            event_reason="Updated" if spec_changed else "DriftCorrected",
            event_message=(
                f"updated {describe_changes(dict.fromkeys(names))} in LiteLLM"
                if spec_changed
                else f"restored {describe_changes(dict.fromkeys(names))} changed outside the operator"
            ),
        )

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
            await connection.client.user_new(
                models.UserNewRequest(user_id=user_id, auto_create_key=False, **body)
            )
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
        except Exception:  # noqa: BLE001 - the message is still useful without the other id
            listed = None
        # /user/list matches the email partially, so look for the exact address.
        owner = next(
            (u.user_id for u in (listed.users if listed else []) if (u.user_email or "").lower() == email.lower()),
            None,
        )
        named = f" (user ID {owner})" if owner else ""
        return (
            f"spec.userEmail {email!r} belongs to another LiteLLM user{named}; set spec.userID to "
            "that user's ID to manage it with this object, or use another email"
        )

    # ---- the user's key ----

    async def _sync_key(
        self, obj: api.User, raw: dict[str, Any], connection: Connection, user_id: str, info: models.UserInfo
    ) -> UserKey:
        """Make sure the user's key exists, is stored in its Secret and is blocked as the spec says."""
        name = key_secret_name(obj)
        value = await self._key_value(obj, raw, name)
        token = token_id(value)
        listed = {key.token: key for key in info.keys if key.token}
        changed: list[str] = []

        key = listed.get(token)
        if key is None:
            key = await self._generate_key(obj, raw, connection, user_id, value)
            changed.append("key")
        if bool(obj.spec.blocked) != bool(key.blocked):
            if obj.spec.blocked:
                key = await connection.client.key_block(token)
            else:
                key = await connection.client.key_unblock(token)
            key.blocked = bool(obj.spec.blocked)
            changed.append("blocked")

        # A key made for an earlier Secret (renamed by a keyAlias change, or deleted and made
        # again) would keep working; it goes once its replacement exists.
        previous = obj.status.token
        if previous and previous != token and previous in listed:
            await self._delete_key(connection, previous)
            changed.append("key")
        if obj.status.key_secret_ref and obj.status.key_secret_ref != name:
            await self._delete_secret(obj, raw, obj.status.key_secret_ref)
        return UserKey(secret_name=name, key=key, changed_fields=tuple(dict.fromkeys(changed)))

    async def _key_value(self, obj: api.User, raw: dict[str, Any], name: str) -> str:
        """Return the key stored in the Secret, writing a new Secret first when there is none."""
        namespace = obj.metadata.namespace
        secret = self.ctx.get_object(SECRETS, namespace, name)
        if secret is None:
            value = generate_key()
            try:
                secret = await self.ctx.client.create(SECRETS, namespace, key_secret_body(raw, name, value))
                self.log.info("created key Secret secret=%s", name)
                return value
            except Conflict:
                # The cache has not seen a Secret created by an earlier attempt yet.
                secret = await self.ctx.client.get(SECRETS, namespace, name)
        if not owned_by(secret, raw):
            raise SpecInvalid(
                "KeySecretConflict",
                f"Secret {name} exists and is not owned by this User; set another spec.keyAlias "
                "or delete that Secret",
            )
        value = secret_value(secret)
        if not value:
            raise SpecInvalid(
                "KeySecretInvalid",
                f"Secret {name} has no data key {KEY_DATA_KEY!r} starting with 'sk-'; delete the "
                "Secret to have a new key made",
            )
        return value

    async def _generate_key(
        self, obj: api.User, raw: dict[str, Any], connection: Connection, user_id: str, value: str
    ) -> models.Key:
        spec = obj.spec
        request = models.KeyGenerateRequest(
            key=value,
            user_id=user_id,
            key_alias=spec.key_alias or models.UNSET,
            duration=spec.duration or models.UNSET,
            aliases=dict(spec.aliases) if spec.aliases else models.UNSET,
            permissions=dict(spec.permissions) if spec.permissions else models.UNSET,
            soft_budget=float(spec.soft_budget) if spec.soft_budget else models.UNSET,
            metadata=desired_metadata(raw, None, None),
        )
        try:
            generated = await connection.client.key_generate(request)
        except AlreadyExistsError:
            raise SpecInvalid(
                "KeyAliasTaken",
                f"spec.keyAlias {spec.key_alias!r} is already used by another LiteLLM key; choose "
                "another keyAlias",
            ) from None
        self.log.info("created the user's key in LiteLLM user_id=%s", user_id)
        return generated

    @staticmethod
    async def _delete_key(connection: Connection, token: str) -> None:
        try:
            await connection.client.key_delete(keys=[token])
        except NotFoundError:
            pass

    async def _delete_secret(self, obj: api.User, raw: dict[str, Any], name: str) -> None:
        secret = self.ctx.get_object(SECRETS, obj.metadata.namespace, name)
        if secret is None or not owned_by(secret, raw):
            return
        try:
            await self.ctx.client.delete(SECRETS, obj.metadata.namespace, name)
        except NotFound:
            return
        self.log.info("deleted key Secret secret=%s", name)

    async def _delete_own_key(
        self, obj: api.User, raw: dict[str, Any], connection: Connection, info: models.UserInfo
    ) -> bool:
        """Remove the key the operator made, after autoCreateKey turned false."""
        changed = False
        token = obj.status.token
        if token and any(key.token == token for key in info.keys):
            await self._delete_key(connection, token)
            changed = True
        if obj.status.key_secret_ref:
            await self._delete_secret(obj, raw, obj.status.key_secret_ref)
        return changed

    # ---- deletion ----

    async def delete_external(self, obj: api.User, raw: dict[str, Any], connection: Connection) -> None:
        # The id is derived even without a status, so a user created just before a crash is
        # deleted too; an unknown id is a 404, which counts as deleted. LiteLLM 1.108.7 deletes
        # the user's keys with the user.
        await connection.client.user_delete([user_id_of(obj)])

    async def delete_without_connection(self, obj: api.User, raw: dict[str, Any]) -> bool:
        return False

    async def cleanup_owned(self, obj: api.User, raw: dict[str, Any]) -> None:
        # A real cluster's garbage collector would remove the Secret through its owner
        # reference too; deleting it here makes it go before the finalizer, everywhere.
        await self._delete_secret(obj, raw, obj.status.key_secret_ref or key_secret_name(obj))
