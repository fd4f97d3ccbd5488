"""Team reconciler: a Team custom resource becomes a LiteLLM team and stays equal to its spec.

Identity: `spec.teamID` when set (this adopts an existing team on purpose), else the id already
recorded in status, else the object's UID. Creating with a UID-derived id makes a crash between
"create in LiteLLM" and "record in status" harmless: the retry finds the team by that id instead
of creating a second one.
"""

from __future__ import annotations

from typing import Any

from litellm_operator import api
from litellm_operator.controllers import mirror
from litellm_operator.controllers.base import ObjectReconciler, SpecInvalid, SyncResult, change_event
from litellm_operator.controllers.connection import Connection
from litellm_operator.controllers.fields import Field, Kind, changed_fields, create_request
from litellm_operator.controllers.metadata import desired_metadata, metadata_changed, tags_and_guardrails
from litellm_operator.litellm import models
from litellm_operator.litellm.errors import AlreadyExistsError, InvalidRequestError, NotFoundError

TEAM_FIELDS = (
    Field("team_alias", "team_alias", Kind.TEXT),
    Field("models", "models", Kind.SET),
    Field("max_budget", "max_budget", Kind.MONEY),
    Field("budget_duration", "budget_duration", Kind.TEXT),
    Field("tpm_limit", "tpm_limit", Kind.INTEGER),
    Field("rpm_limit", "rpm_limit", Kind.INTEGER),
    Field("organization_id", "organization_id", Kind.TEXT),
    Field("model_aliases", "model_aliases", Kind.MAPPING),
)
# `/team/update` ignores team_member_permissions (LiteLLM 1.108.7), so the field is sent on
# create and changed afterwards through `/team/permissions_update`.
PERMISSIONS_FIELD = Field("team_member_permissions", "team_member_permissions", Kind.SET)


def team_id_of(team: api.Team) -> str:
    """Return the LiteLLM team id this Team manages."""
    return team.spec.team_id or team.status.team_id or team.metadata.uid


def observed_fields(team: models.Team) -> dict[str, Any]:
    """Return the managed fields as LiteLLM reports them, by LiteLLM name."""
    observed = {field.api: getattr(team, field.api, None) for field in TEAM_FIELDS}
    observed["model_aliases"] = team.model_aliases
    observed[PERMISSIONS_FIELD.api] = team.team_member_permissions
    return observed


def team_status(team: models.Team) -> dict[str, Any]:
    """Return the status mirror of a LiteLLM team."""
    tags, _ = tags_and_guardrails(team.metadata, team.raw)
    return mirror.compact(
        {
            "teamID": team.team_id,
            "teamAlias": team.team_alias,
            "blocked": bool(team.blocked),
            "budgetDuration": team.budget_duration,
            "budgetResetAt": mirror.text(team.budget_reset_at),
            "createdAt": mirror.text(team.created_at),
            "updatedAt": mirror.text(team.updated_at),
            "maxBudget": mirror.money(team.max_budget),
            "spend": mirror.money(team.spend),
            "maxParallelRequests": team.max_parallel_requests,
            "models": mirror.string_list(team.models),
            "organizationID": team.organization_id,
            "rpmLimit": team.rpm_limit,
            "tpmLimit": team.tpm_limit,
            "tags": mirror.string_list(tags),
            "teamMemberPermissions": mirror.string_list(team.team_member_permissions),
            "modelID": mirror.text(team.model_id),
            "liteLLMModelTable": mirror.text(
                None if team.model_aliases is None else mirror.string_map(team.model_aliases)
            ),
            "membersWithRole": [
                mirror.compact({"userID": m.user_id, "userEmail": m.user_email, "role": m.role})
                for m in team.members_with_roles
            ]
            or None,
        }
    )


class TeamReconciler(ObjectReconciler):
    resource = api.TEAMS
    model = api.Team
    controller_name = "team"

    async def sync(self, obj: api.Team, raw: dict[str, Any], connection: Connection) -> SyncResult:
        client = connection.client
        team_id = team_id_of(obj)

        # Observe.
        try:
            observed = (await client.team_info(team_id)).team_info
        except NotFoundError:
            observed = None

        if observed is None:
            team, created = await self._create(obj, raw, connection, team_id)
            if created:
                return self._creation_result(obj, team, team_id)
            # A racing attempt created it, maybe from an older spec: compare it like any other.
            observed = team

        # Compute the difference and act.
        current_fields = observed_fields(observed)
        changes = changed_fields(TEAM_FIELDS, obj.spec, current_fields)
        permissions = changed_fields((PERMISSIONS_FIELD,), obj.spec, current_fields)
        metadata = desired_metadata(raw, obj.spec.metadata, observed.metadata, obj.spec.tags, obj.spec.guardrails)
        if metadata_changed(metadata, observed.metadata):
            changes["metadata"] = metadata
        changes.update(self._enterprise_changes(obj, observed))

        blocked_changed = bool(obj.spec.blocked) != bool(observed.blocked)
        if not changes and not permissions and not blocked_changed:
            return SyncResult(status=team_status(observed))

        try:
            if changes:
                await client.team_update(models.TeamUpdateRequest(team_id=team_id, **changes))
            if permissions:
                await client.team_permissions_update(team_id, permissions[PERMISSIONS_FIELD.api])
        except InvalidRequestError as exc:
            raise SpecInvalid("InvalidSpec", f"LiteLLM rejected the team update: {exc}") from None
        if blocked_changed:
            if obj.spec.blocked:
                await client.team_block(team_id)
            else:
                await client.team_unblock(team_id)
        current = (await client.team_info(team_id)).team_info

        names = sorted({**changes, **permissions}) + (["blocked"] if blocked_changed else [])
        reason, message = change_event(obj, raw, names)
        return SyncResult(status=team_status(current), event_reason=reason, event_message=message)

    @staticmethod
    def _creation_result(obj: api.Team, team: models.Team, team_id: str) -> SyncResult:
        existed_before = bool(obj.status.team_id)
        reason = "DriftCorrected" if existed_before else "Created"
        message = (
            f"team {team_id} was missing in LiteLLM; created it again"
            if existed_before
            else f"created team {team_id} in LiteLLM"
        )
        return SyncResult(status=team_status(team), event_reason=reason, event_message=message)

    async def _create(
        self, obj: api.Team, raw: dict[str, Any], connection: Connection, team_id: str
    ) -> tuple[models.Team, bool]:
        """Create the team; return it, and False when a team with this id existed already."""
        body = create_request((*TEAM_FIELDS, PERMISSIONS_FIELD), obj.spec)
        body["metadata"] = desired_metadata(raw, obj.spec.metadata, None, obj.spec.tags, obj.spec.guardrails)
        if obj.spec.tags:
            body["tags"] = list(obj.spec.tags)
        if obj.spec.guardrails:
            body["guardrails"] = list(obj.spec.guardrails)
        if obj.spec.blocked:
            body["blocked"] = True
        try:
            await connection.client.team_new(models.TeamNewRequest(team_id=team_id, **body))
        except AlreadyExistsError as exc:
            # Either an earlier attempt created the team after our read, or LiteLLM rejected the
            # request: /team/new returns 400 for both, so only a second read can tell them apart.
            try:
                return (await connection.client.team_info(team_id)).team_info, False
            except NotFoundError:
                raise SpecInvalid("InvalidSpec", f"LiteLLM rejected the team: {exc}") from None
        except InvalidRequestError as exc:
            # For example an organizationID that does not exist: retrying cannot help.
            raise SpecInvalid("InvalidSpec", f"LiteLLM rejected the team: {exc}") from None
        return (await connection.client.team_info(team_id)).team_info, True

    @staticmethod
    def _enterprise_changes(obj: api.Team, observed: models.Team) -> dict[str, Any]:
        """Return tags and guardrails to send; LiteLLM stores them in metadata."""
        tags, guardrails = tags_and_guardrails(observed.metadata, observed.raw)
        changes: dict[str, Any] = {}
        if sorted(obj.spec.tags or []) != sorted(tags or []):
            changes["tags"] = list(obj.spec.tags or [])
        if sorted(obj.spec.guardrails or []) != sorted(guardrails or []):
            changes["guardrails"] = list(obj.spec.guardrails or [])
        return changes

    async def delete_external(self, obj: api.Team, raw: dict[str, Any], connection: Connection) -> None:
        # The same id sync uses: a team created just before a crash that kept it out of status
        # still carries the UID-derived id. A team that was never created returns 404, which
        # counts as deleted.
        await connection.client.team_delete([team_id_of(obj)])
