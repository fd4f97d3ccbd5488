"""Key Secrets: crash-safe creation, replacement and rotation of a LiteLLM key kept in a Secret.

Used by the VirtualKey reconciler and by the User reconciler for the user's auto-created key.

    keys = KeySecrets(ctx)
    outcome = await keys.ensure_key(
        raw, secret_name=key_secret_name(raw, connection_ref, alias), connection=connection,
        generate_request=models.KeyGenerateRequest(key_alias=alias, user_id=..., duration=...),
    )
    status.update(outcome.status)        # tokenID, token, keySecretRef and the rotation fields
    # outcome.key is the key as LiteLLM reports it; compare and update its fields yourself.
    ...
    await keys.delete_keys(raw, connection)        # in delete_external
    await keys.delete_secret(raw, secret_name)     # in cleanup_owned

LiteLLM returns a plaintext key only once, so the operator generates the value itself and writes
it to the Secret before LiteLLM receives it. LiteLLM's token id is the SHA-256 of the value, so
the key can always be found again from the Secret. Each step is safe to repeat after a crash:

1. The Secret contains the value. A Secret written by the operator carries the token id of its value
   in an annotation, so a value the operator wrote (and may not have recorded in status yet) is
   told apart from a value someone else put there.
2. `/key/info` by that token id: missing means `/key/generate` with the value, present means adopt.
3. The caller records `status.tokenID`. Until then the steps above find the same key again.

The Secret is the source of the value; status records which key that value belongs to. When
they disagree:
- Secret deleted: the old plaintext is gone, so a new value is written to a new Secret, created in
  LiteLLM, and the old key is deleted (Warning Event `KeySecretDeleted`).
- Secret value changed by someone else: the same, with Warning Event `KeySecretChanged`; the
  edited value is not trusted as a key.
- A fixed value given by the caller (VirtualKey `spec.key`) always wins over the Secret's value.

Rotation: a new value of the owner's annotation `litellm-operator.litellm.ai/rotate` requests one.
The new value is written to the Secret once, with the rotation marked on the Secret. The old key
keeps working for the grace period (`litellm-operator.litellm.ai/rotation-grace-period`, default
1h); LiteLLM key aliases are unique, so the old key's alias is first renamed to
`<alias>-rotated-<token id prefix>` and the new key gets the alias. `/key/regenerate` needs an
Enterprise licence and is not used. Status records the previous key and when it is revoked;
`ensure_key` deletes it once that time has passed and returns `requeue_after` until then.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from litellm_operator.api.common import GROUP as API_GROUP
from litellm_operator.controllers.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, ReconcilerContext, SpecInvalid
from litellm_operator.controllers.connection import Connection
from litellm_operator.litellm import models
from litellm_operator.litellm.client import token_id
from litellm_operator.litellm.errors import AlreadyExistsError, NotFoundError
from litellm_operator.runtime.kube import SECRETS, NotFound

log = logging.getLogger(__name__)

SECRET_DATA_KEY = "key"
ROTATE_ANNOTATION = "litellm-operator.litellm.ai/rotate"
GRACE_PERIOD_ANNOTATION = "litellm-operator.litellm.ai/rotation-grace-period"
DEFAULT_GRACE_PERIOD = timedelta(hours=1)
# Annotations on the key Secret, written together with the value.
SECRET_TOKEN_ANNOTATION = "litellm-operator.litellm.ai/token-id"
SECRET_ROTATION_ANNOTATION = "litellm-operator.litellm.ai/rotation"
SECRET_ROTATED_AT_ANNOTATION = "litellm-operator.litellm.ai/rotated-at"

_DURATION = re.compile(r"(\d+)(s|m|h|d)")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INVALID_NAME_CHARS = re.compile(r"[^a-z0-9.-]+")


def new_key_value() -> str:
    """Return a fresh key value in the form LiteLLM accepts (it must start with "sk-")."""
    return "sk-" + secrets.token_urlsafe(32)


def key_secret_name(raw: Mapping[str, Any], instance_name: str | None, key_alias: str | None) -> str:
    """Return the key Secret's name: `<instance or "litellm">-key-<alias>`.

    This is the Go operator's convention, so workloads that read its Secrets keep working. Without
    an alias the name comes from the object: `litellm-key-<kind>-<name>`. Characters a Secret name
    cannot contain become "-".
    """
    if key_alias:
        name = f"{instance_name or 'litellm'}-key-{key_alias}"
    else:
        name = f"litellm-key-{str(raw.get('kind', '')).lower()}-{raw['metadata']['name']}"
    # NOTE: two aliases that differ only in invalid characters map to the same Secret name.
    return _INVALID_NAME_CHARS.sub("-", name.lower()).strip("-.")[:253]


def parse_duration(text: str) -> timedelta:
    """Return a duration such as "30s", "10m", "1h" or "1h30m"; raise ValueError otherwise."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise ValueError(f"invalid duration {text!r}: use a number with s, m, h or d, such as 10m")
    return timedelta(seconds=sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION.findall(text)))


def timestamp(value: datetime) -> str:
    """Return an RFC 3339 UTC timestamp with seconds precision."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


@attrs.frozen
class KeyState:
    """The key fields of an owner's status (camelCase in JSON)."""

    token_id: str | None = None
    previous_token_id: str | None = None
    previous_key_revoke_at: str | None = None
    last_rotation_request: str | None = None
    last_rotated_at: str | None = None
    secret_name: str | None = None

    @classmethod
    def from_status(cls, status: Mapping[str, Any] | None) -> KeyState:
        status = status or {}
        return cls(
            token_id=status.get("tokenID") or status.get("token"),
            previous_token_id=status.get("previousTokenID"),
            previous_key_revoke_at=status.get("previousKeyRevokeAt"),
            last_rotation_request=status.get("lastRotationRequest"),
            last_rotated_at=status.get("lastRotatedAt"),
            secret_name=status.get("keySecretRef"),
        )


@attrs.define
class KeyOutcome:
    """The result of `ensure_key`."""

    token_id: str
    secret_name: str
    # The key as LiteLLM reports it after this call.
    key: models.Key
    # True when this call created the key in LiteLLM.
    created: bool
    # Status fields to record: tokenID, token, keySecretRef, previousTokenID, previousKeyRevokeAt,
    # lastRotationRequest, lastRotatedAt (None values mean "absent").
    status: dict[str, Any]
    # Seconds until the previous key's grace period ends, when one is running.
    requeue_after: float | None = None
    event_reason: str | None = None
    event_message: str | None = None


@attrs.define
class _Plan:
    """The value the Secret contains after step 1, and how the old key (if any) is retired."""

    value: str
    rotation: bool = False
    rotation_request: str | None = None
    rotated_at: datetime | None = None
    event_reason: str | None = None
    event_message: str | None = None


class KeySecrets:
    """Key Secret handling for one kind's reconciler; see the module docstring."""

    def __init__(self, ctx: ReconcilerContext) -> None:
        self.ctx = ctx

    # ---- the entry points ----

    async def ensure_key(
        self,
        owner_raw: Mapping[str, Any],
        *,
        secret_name: str,
        connection: Connection,
        generate_request: models.KeyGenerateRequest,
        fixed_value: str | None = None,
    ) -> KeyOutcome:
        """Make the Secret and LiteLLM hold one key for the owner, and return it.

        `generate_request` carries every field of the key except `key`, which is filled in
        here. `fixed_value` is a caller-chosen key value (VirtualKey `spec.key`); it replaces
        whatever the Secret holds, and rotation requests are recorded but not acted on.
        """
        client = connection.client
        state = KeyState.from_status(owner_raw.get("status"))
        now = self.ctx.clock.now()
        alias = generate_request.key_alias if isinstance(generate_request.key_alias, str) else None
        grace = grace_period(owner_raw)

        plan = await self._settle_secret(owner_raw, secret_name, state, fixed_value, now)
        token = token_id(plan.value)
        old = state.token_id if state.token_id and state.token_id != token else None

        # Observe LiteLLM, then make room for the alias and create the key when it is missing.
        created = False
        key = await _key_or_none(client, token)
        if key is None:
            if old is not None:
                await self._retire(client, old, alias, plan.rotation)
            request = attrs.evolve(generate_request, key=plan.value)
            try:
                await client.key_generate(request)
            except AlreadyExistsError as error:
                raise SpecInvalid(
                    "KeyAliasTaken",
                    f"another LiteLLM key already has the alias {alias!r}; delete or rename that key, "
                    f"or choose another keyAlias",
                ) from error
            created = True
            key = await client.key_info(token)
        elif old is not None:
            await self._retire(client, old, alias, plan.rotation)

        previous, revoke_at = await self._previous_key(client, state, old, plan, grace)
        requeue_after = None
        if previous is not None and revoke_at is not None:
            remaining = (revoke_at - now).total_seconds()
            if remaining <= 0:
                await _delete_key(client, previous)
                log.info("deleted the previous key after its grace period token=%s", previous[:12])
                previous, revoke_at = None, None
            else:
                requeue_after = remaining

        rotation_request = state.last_rotation_request
        last_rotated_at = state.last_rotated_at
        annotations = (owner_raw.get("metadata") or {}).get("annotations") or {}
        if plan.rotation:
            rotation_request = plan.rotation_request
            last_rotated_at = timestamp(plan.rotated_at or now)
        elif (fixed_value is not None or state.token_id is None) and annotations.get(ROTATE_ANNOTATION):
            # Nothing to rotate: the value is fixed, or the key is new anyway.
            rotation_request = annotations[ROTATE_ANNOTATION]

        event_reason, event_message = plan.event_reason, plan.event_message
        if created and event_reason is None:
            event_reason, event_message = "KeyCreated", f"created key {token[:12]} in LiteLLM"
        status = {
            "tokenID": token,
            "token": token,
            "keySecretRef": secret_name,
            "previousTokenID": previous,
            "previousKeyRevokeAt": timestamp(revoke_at) if revoke_at is not None else None,
            "lastRotationRequest": rotation_request,
            "lastRotatedAt": last_rotated_at,
        }
        return KeyOutcome(
            token_id=token,
            secret_name=secret_name,
            key=key,
            created=created,
            status=status,
            requeue_after=requeue_after,
            event_reason=event_reason,
            event_message=event_message,
        )

    async def delete_keys(self, owner_raw: Mapping[str, Any], connection: Connection, secret_name: str) -> None:
        """Delete the owner's current and previous keys in LiteLLM; missing keys are skipped.

        A key created before its token id reached status is found through the Secret's value.
        """
        state = KeyState.from_status(owner_raw.get("status"))
        tokens = {t for t in (state.token_id, state.previous_token_id) if t}
        namespace = owner_raw["metadata"]["namespace"]
        secret = self.ctx.get_object(SECRETS, namespace, secret_name)
        value = _secret_value(secret)
        if value and _owned_by(secret, owner_raw):
            tokens.add(token_id(value))
        for token in sorted(tokens):
            await _delete_key(connection.client, token)

    async def delete_secret(self, owner_raw: Mapping[str, Any], secret_name: str) -> None:
        """Delete the key Secret when the owner owns it."""
        namespace = owner_raw["metadata"]["namespace"]
        try:
            secret = await self.ctx.client.get(SECRETS, namespace, secret_name)
        except NotFound:
            return
        if not _owned_by(secret, owner_raw):
            log.info("key Secret is not owned by this object; leaving it secret=%s", secret_name)
            return
        try:
            await self.ctx.client.delete(SECRETS, namespace, secret_name)
        except NotFound:
            return

    # ---- step 1: the Secret ----

    async def _settle_secret(
        self,
        owner_raw: Mapping[str, Any],
        secret_name: str,
        state: KeyState,
        fixed_value: str | None,
        now: datetime,
    ) -> _Plan:
        """Make the Secret hold the key value and return the plan for the old key."""
        namespace = owner_raw["metadata"]["namespace"]
        secret = self.ctx.get_object(SECRETS, namespace, secret_name)
        value = _secret_value(secret)
        if secret is None or value is None or token_id(value) != state.token_id:
            # The informer cache may lag behind our own last write; decide on the live Secret.
            secret = await self._get_secret(namespace, secret_name)
            value = _secret_value(secret)
        annotations = (owner_raw.get("metadata") or {}).get("annotations") or {}
        rotate = annotations.get(ROTATE_ANNOTATION)
        rotation_pending = bool(rotate) and rotate != state.last_rotation_request and state.token_id is not None

        if secret is not None and (other := _other_owner(secret, owner_raw)) is not None:
            # Two objects whose key Secret names collide (the same keyAlias, for example) must not
            # share a key: deleting one would delete the other's key in LiteLLM.
            raise SpecInvalid(
                "KeySecretConflict",
                f"key Secret {secret_name} already holds the key of {other.get('kind')} {other.get('name')}; "
                "give this object another keyAlias",
            )

        if secret is None and state.secret_name and state.secret_name != secret_name and fixed_value is None:
            moved = await self._move_secret(owner_raw, state, secret_name, now)
            if moved is not None:
                return moved

        if secret is None:
            plan = _Plan(value=fixed_value or new_key_value())
            if state.token_id:
                plan.event_reason = "KeySecretDeleted"
                plan.event_message = (
                    f"key Secret {secret_name} was deleted and its key value is lost; wrote a new key "
                    f"to a new Secret {secret_name} and deleted the old key {state.token_id[:12]} in LiteLLM"
                )
            await self._write_secret(owner_raw, secret_name, None, plan, now)
            return self._warn(owner_raw, plan)

        if fixed_value is not None:
            plan = _Plan(value=fixed_value)
            if value != fixed_value or not _marked(secret, fixed_value) or not _owned_by(secret, owner_raw):
                if value is not None and value != fixed_value and state.token_id:
                    plan.event_reason = "KeyReplaced"
                    plan.event_message = f"spec.key changed; replaced key {state.token_id[:12]} in LiteLLM"
                await self._write_secret(owner_raw, secret_name, secret, plan, now)
            return plan

        if value is not None and state.token_id is None:
            # A value written by an earlier attempt that crashed before recording status, or by
            # the Go operator: adopt it.
            plan = _Plan(value=value if value.startswith("sk-") else new_key_value())
            if plan.value != value or not _marked(secret, value) or not _owned_by(secret, owner_raw):
                await self._write_secret(owner_raw, secret_name, secret, plan, now)
            return plan

        if value is not None and token_id(value) == state.token_id:
            if not rotation_pending:
                return _Plan(value=value)
            plan = _Plan(value=new_key_value(), rotation=True, rotation_request=rotate, rotated_at=now)
            await self._write_secret(owner_raw, secret_name, secret, plan, now)
            return plan

        if value is not None and _marked(secret, value):
            # Written by this operator for a rotation or replacement that has not reached
            # status yet: finish it.
            secret_annotations = secret["metadata"].get("annotations") or {}
            if rotation_pending and secret_annotations.get(SECRET_ROTATION_ANNOTATION) == rotate:
                rotated_at = parse_timestamp(secret_annotations.get(SECRET_ROTATED_AT_ANNOTATION)) or now
                return _Plan(value=value, rotation=True, rotation_request=rotate, rotated_at=rotated_at)
            return _Plan(value=value)

        plan = _Plan(
            value=new_key_value(),
            event_reason="KeySecretChanged",
            event_message=(
                f"the key in Secret {secret_name} was changed outside the operator; wrote a new key to "
                f"it and deleted the old key {(state.token_id or '')[:12]} in LiteLLM"
            ),
        )
        await self._write_secret(owner_raw, secret_name, secret, plan, now)
        return self._warn(owner_raw, plan)

    async def _move_secret(
        self, owner_raw: Mapping[str, Any], state: KeyState, secret_name: str, now: datetime
    ) -> _Plan | None:
        """Move the current key to a Secret of a new name (keyAlias changed); None if it cannot.

        The key stays the same: the new Secret is written first, then the old one is deleted, so
        a crash in between leaves the value in both and the next reconcile finishes the move.
        """
        namespace = owner_raw["metadata"]["namespace"]
        old = await self._get_secret(namespace, state.secret_name or "")
        value = _secret_value(old)
        if old is None or value is None or not _owned_by(old, owner_raw) or token_id(value) != state.token_id:
            return None
        plan = _Plan(
            value=value,
            event_reason="KeySecretRenamed",
            event_message=f"the key Secret name changed; moved the key from Secret {state.secret_name} to {secret_name}",
        )
        await self._write_secret(owner_raw, secret_name, None, plan, now)
        await self.delete_secret(owner_raw, state.secret_name or "")
        return plan

    def _warn(self, owner_raw: Mapping[str, Any], plan: _Plan) -> _Plan:
        """Emit the plan's Event as a Warning now, so the outcome carries no second Event."""
        if plan.event_reason:
            self.ctx.recorder.event(owner_raw, "Warning", plan.event_reason, plan.event_message or "")
            log.warning("%s: %s", plan.event_reason, plan.event_message)
            plan.event_reason = plan.event_message = None
        return plan

    async def _get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self.ctx.client.get(SECRETS, namespace, name)
        except NotFound:
            return None

    async def _write_secret(
        self,
        owner_raw: Mapping[str, Any],
        name: str,
        existing: Mapping[str, Any] | None,
        plan: _Plan,
        now: datetime,
    ) -> None:
        """Create or update the Secret with the plan's value, in one write."""
        meta = owner_raw["metadata"]
        annotations: dict[str, str | None] = {SECRET_TOKEN_ANNOTATION: token_id(plan.value)}
        if plan.rotation:
            annotations[SECRET_ROTATION_ANNOTATION] = plan.rotation_request
            annotations[SECRET_ROTATED_AT_ANNOTATION] = timestamp(plan.rotated_at or now)
        else:
            annotations[SECRET_ROTATION_ANNOTATION] = None
            annotations[SECRET_ROTATED_AT_ANNOTATION] = None
        owner_reference = {
            "apiVersion": owner_raw["apiVersion"],
            "kind": owner_raw["kind"],
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        data = {SECRET_DATA_KEY: base64.b64encode(plan.value.encode()).decode()}

        if existing is None:
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                    "annotations": {k: v for k, v in annotations.items() if v is not None},
                    "ownerReferences": [owner_reference],
                },
                "type": "Opaque",
                "data": data,
            }
            await self.ctx.client.create(SECRETS, meta["namespace"], body)
            log.info("created key Secret secret=%s", name)
            return

        others = [
            ref for ref in existing["metadata"].get("ownerReferences") or [] if ref.get("uid") != meta["uid"]
        ]
        patch = {
            "metadata": {
                "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                "annotations": annotations,
                "ownerReferences": [owner_reference] + [{**ref, "controller": False} for ref in others],
                # Compare-and-swap: a concurrent edit makes this fail and the reconcile retry.
                "resourceVersion": existing["metadata"]["resourceVersion"],
            },
            "data": data,
        }
        await self.ctx.client.patch(SECRETS, meta["namespace"], name, patch)
        log.info("wrote a new key value to Secret secret=%s", name)

    # ---- steps 2 and 3: LiteLLM ----

    async def _retire(self, client: Any, old: str, alias: str | None, rotation: bool) -> None:
        """Take the old key out of the way of the new one.

        A rotation keeps the old key working and only frees the alias; otherwise the old key
        is deleted.
        """
        if not rotation:
            await _delete_key(client, old)
            return
        if alias is None:
            return
        existing = await _key_or_none(client, old)
        if existing is not None and existing.key_alias == alias:
            await client.key_update(models.KeyUpdateRequest(key=old, key_alias=f"{alias}-rotated-{old[:8]}"))

    async def _previous_key(
        self, client: Any, state: KeyState, old: str | None, plan: _Plan, grace: timedelta
    ) -> tuple[str | None, datetime | None]:
        """Return the key in its grace period and when it is revoked."""
        if not plan.rotation or old is None:
            return state.previous_token_id, parse_timestamp(state.previous_key_revoke_at)
        if state.previous_token_id and state.previous_token_id != old:
            # A rotation during another rotation's grace period ends the older grace at once.
            await _delete_key(client, state.previous_token_id)
        return old, (plan.rotated_at or self.ctx.clock.now()) + grace


def grace_period(owner_raw: Mapping[str, Any]) -> timedelta:
    """Return the owner's rotation grace period; raise SpecInvalid for an invalid annotation."""
    annotations = (owner_raw.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(GRACE_PERIOD_ANNOTATION)
    if not text:
        return DEFAULT_GRACE_PERIOD
    try:
        return parse_duration(text)
    except ValueError as error:
        raise SpecInvalid("InvalidRotationGracePeriod", f"annotation {GRACE_PERIOD_ANNOTATION}: {error}") from error


async def _key_or_none(client: Any, token: str) -> models.Key | None:
    try:
        return await client.key_info(token)
    except NotFoundError:
        return None


async def _delete_key(client: Any, token: str) -> None:
    try:
        await client.key_delete(keys=[token])
    except NotFoundError:
        return


def _secret_value(secret: Mapping[str, Any] | None) -> str | None:
    if secret is None:
        return None
    encoded = (secret.get("data") or {}).get(SECRET_DATA_KEY)
    if not encoded:
        return None
    try:
        value = base64.b64decode(encoded).decode().strip()
    except (ValueError, UnicodeDecodeError):
        return None
    return value or None


def _marked(secret: Mapping[str, Any], value: str) -> bool:
    """Return True when the operator wrote `value` to this Secret."""
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    return annotations.get(SECRET_TOKEN_ANNOTATION) == token_id(value)


def _other_owner(secret: Mapping[str, Any], owner_raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the owner reference of another custom resource of ours on the Secret, if any."""
    uid = owner_raw["metadata"].get("uid")
    for ref in (secret.get("metadata") or {}).get("ownerReferences") or []:
        if str(ref.get("apiVersion", "")).startswith(API_GROUP + "/") and ref.get("uid") != uid:
            return ref
    return None


def _owned_by(secret: Mapping[str, Any] | None, owner_raw: Mapping[str, Any]) -> bool:
    if secret is None:
        return False
    uid = owner_raw["metadata"].get("uid")
    return any(ref.get("uid") == uid for ref in (secret.get("metadata") or {}).get("ownerReferences") or [])
