"""TeamMemberAssociation reconciler: a User's membership in a Team, with its role and budget.

The membership names its Team and User by reference. Their LiteLLM ids come from those objects'
status (`status.teamID`, `status.userID`), so the membership waits until both are Ready. Waiting
does not retry on a timer: the membership informer is indexed by the Team and User it references,
and every change of a Team or User, status included, wakes the memberships that name it.

LiteLLM state is read from `/team/info`: the role from `members_with_roles` and the budget from
`team_memberships[].litellm_budget_table`, matched by user id. A missing member is added with
`/team/member_add`; a role or budget that differs is changed with `/team/member_update`, never
with a second add, which LiteLLM rejects.

Deletion removes the member with `/team/member_delete`. When the Team or User object is already
gone, its own deletion has removed the membership in LiteLLM (deleting a LiteLLM team or user
drops its memberships, measured on LiteLLM 1.108.7), so no call is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from litellm_operator import api
from litellm_operator.controllers import conditions as cond
from litellm_operator.controllers.base import ObjectReconciler, SyncResult, Waiting, change_event
from litellm_operator.controllers.connection import Connection
from litellm_operator.controllers.fields import Kind, normalize, to_request
from litellm_operator.litellm import models
from litellm_operator.litellm.errors import AlreadyExistsError, InvalidRequestError, LiteLLMError, NotFoundError
from litellm_operator.runtime.controller import ReconcileLogAdapter, Request
from litellm_operator.runtime.kube import Resource

# The adapter adds the current reconcile's controller, namespace and name to each line.
log = ReconcileLogAdapter(logging.getLogger(__name__))

TEAM_REF_INDEX = "membership-team-ref"
USER_REF_INDEX = "membership-user-ref"


def _ref_key(obj: Mapping[str, Any], ref_name: str) -> list[str]:
    meta = obj.get("metadata") or {}
    ref = (obj.get("spec") or {}).get(ref_name) or {}
    if not ref.get("name"):
        return []
    return [f"{ref.get('namespace') or meta.get('namespace', '')}/{ref['name']}"]


def team_ref_index(obj: Mapping[str, Any]) -> list[str]:
    """Index function: the `namespace/name` of the Team a membership references."""
    return _ref_key(obj, "teamRef")


def user_ref_index(obj: Mapping[str, Any]) -> list[str]:
    """Index function: the `namespace/name` of the User a membership references."""
    return _ref_key(obj, "userRef")


def referencing_memberships(informer: Any, index_name: str) -> Callable[[Mapping[str, Any]], list[Request]]:
    """Return a map function from a Team or User to the memberships that reference it."""

    def map_referenced(obj: Mapping[str, Any]) -> list[Request]:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        return [Request.from_object(m) for m in informer.store.by_index(index_name, key)]

    return map_referenced


@attrs.frozen
class Member:
    """A member of a LiteLLM team as `/team/info` reports it."""

    role: str | None
    max_budget: Decimal | None
    user_email: str | None


def find_member(info: models.TeamInfo, user_id: str) -> Member | None:
    """Return the member with `user_id` in a team, or None when the user is not a member."""
    role_entry = next((m for m in info.team_info.members_with_roles if m.user_id == user_id), None)
    if role_entry is None:
        return None
    membership = next((m for m in info.team_memberships if m.user_id == user_id), None)
    budget_table = membership.litellm_budget_table if membership else None
    return Member(
        role=role_entry.role,
        max_budget=normalize(Kind.MONEY, budget_table.max_budget if budget_table else None),
        user_email=role_entry.user_email,
    )


def member_changes(spec: api.TeamMemberAssociationSpec, member: Member) -> dict[str, Any]:
    """Return the `/team/member_update` fields whose spec value differs from LiteLLM's.

    A budget removed from the spec is sent as null, which removes the member's budget in LiteLLM.
    """
    changes: dict[str, Any] = {}
    if spec.role != member.role:
        changes["role"] = spec.role
    if normalize(Kind.MONEY, spec.max_budget_in_team) != member.max_budget:
        changes["max_budget_in_team"] = to_request(Kind.MONEY, spec.max_budget_in_team)
    return changes


@attrs.frozen
class Referenced:
    """A Team or User that a membership references, as found in the informer cache."""

    kind: str
    namespace: str
    name: str
    raw: dict[str, Any] | None

    @property
    def where(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def exists(self) -> bool:
        return self.raw is not None

    @property
    def terminating(self) -> bool:
        return self.raw is not None and bool(self.raw["metadata"].get("deletionTimestamp"))

    @property
    def status(self) -> dict[str, Any]:
        return (self.raw or {}).get("status") or {}

    def waiting_reason(self, id_field: str) -> tuple[str, str] | None:
        """Return (reason, message) while this object cannot be used yet, else None."""
        ref_field = "spec.teamRef" if self.kind == "Team" else "spec.userRef"
        if not self.exists:
            return f"{self.kind}NotFound", f"{self.where} not found; create it or fix {ref_field}"
        if self.terminating:
            return f"{self.kind}Deleting", f"{self.where} is being deleted"
        if not cond.is_ready(self.status) or not self.status.get(id_field):
            return f"{self.kind}NotReady", f"waiting for {self.where} to become Ready"
        return None


class TeamMemberAssociationReconciler(ObjectReconciler):
    resource = api.TEAM_MEMBER_ASSOCIATIONS
    model = api.TeamMemberAssociation
    controller_name = "teammemberassociation"

    def watch_dependencies(self, manager: Any, controller: Any) -> None:
        """Wake the memberships that reference a Team or User on every change of it, status included."""
        memberships = manager.informer(api.TEAM_MEMBER_ASSOCIATIONS)
        memberships.add_indexers({TEAM_REF_INDEX: team_ref_index, USER_REF_INDEX: user_ref_index})
        controller.watch_mapped(manager.informer(api.TEAMS), referencing_memberships(memberships, TEAM_REF_INDEX))
        controller.watch_mapped(manager.informer(api.USERS), referencing_memberships(memberships, USER_REF_INDEX))

    # ---- references ----

    def _referenced(self, obj: api.TeamMemberAssociation, kind: str) -> Referenced:
        resource: Resource
        if kind == "Team":
            ref, resource = obj.spec.team_ref, api.TEAMS
        else:
            ref, resource = obj.spec.user_ref, api.USERS
        namespace = ref.namespace or obj.metadata.namespace
        raw = self.ctx.get_object(resource, namespace, ref.name) if ref.name else None
        return Referenced(kind, namespace, ref.name or "", raw)

    # ---- sync ----

    async def sync(self, obj: api.TeamMemberAssociation, raw: dict[str, Any], connection: Connection) -> SyncResult:
        team = self._referenced(obj, "Team")
        user = self._referenced(obj, "User")
        status = {
            "teamExists": team.exists,
            "userExists": user.exists,
            "associationIsValid": False,
            # The ids of the membership last applied are kept while waiting, so that deletion, or a
            # later switch to a new teamRef or userRef, still finds the membership in LiteLLM.
            "teamID": obj.status.team_id or team.status.get("teamID"),
            "teamAlias": obj.status.team_alias or team.status.get("teamAlias"),
            "userID": obj.status.user_id or user.status.get("userID"),
            "userEmail": obj.status.user_email or user.status.get("userEmail"),
        }
        for referenced, id_field in ((team, "teamID"), (user, "userID")):
            waiting = referenced.waiting_reason(id_field)
            if waiting is not None:
                raise Waiting(*waiting, status=status)

        team_id, user_id = team.status["teamID"], user.status["userID"]
        status.update(teamID=team_id, userID=user_id, associationIsValid=True)
        client = connection.client
        await self._leave_previous_team(obj, team_id, user_id, connection)

        # Observe.
        try:
            info = await client.team_info(team_id)
        except NotFoundError:
            raise Waiting(
                "TeamNotFoundInLiteLLM",
                f"team {team_id} of {team.where} is missing in LiteLLM; the Team's next reconcile creates it",
                status=status,
            ) from None
        status["teamAlias"] = info.team_info.team_alias or status["teamAlias"]
        member = find_member(info, user_id)

        # Act.
        if member is None:
            outcome = await self._add(obj, raw, connection, team_id, user_id, user.where, status)
            if outcome is not None:
                return outcome
            # Added by another writer since the read: compare its role and budget instead.
            member = find_member(await client.team_info(team_id), user_id)
            if member is None:
                # Removed again by another writer between the add and this read.
                raise LiteLLMError(
                    None, "/team/member_add", f"user {user_id} left team {team_id} right after it was added; retrying"
                )

        status["userEmail"] = member.user_email or status["userEmail"]
        changes = member_changes(obj.spec, member)
        if not changes:
            return SyncResult(status=status)
        await client.team_member_update(models.TeamMemberUpdateRequest(team_id=team_id, user_id=user_id, **changes))
        names = ("maxBudgetInTeam" if name == "max_budget_in_team" else name for name in changes)
        reason, message = change_event(obj, raw, names, f"of user {user_id} in team {team_id}")
        return SyncResult(status=status, event_reason=reason, event_message=message)

    async def _add(
        self,
        obj: api.TeamMemberAssociation,
        raw: dict[str, Any],
        connection: Connection,
        team_id: str,
        user_id: str,
        user_where: str,
        status: dict[str, Any],
    ) -> SyncResult | None:
        """Add the user to the team; return None when LiteLLM reports it is a member already."""
        client = connection.client
        # `/team/member_add` silently creates a user that does not exist. That would put a bare
        # user in LiteLLM under the User's id, so wait for the User's own reconcile to create it.
        try:
            await client.user_info(user_id)
        except NotFoundError:
            raise Waiting(
                "UserNotFoundInLiteLLM",
                f"user {user_id} of {user_where} is missing in LiteLLM; the User's next reconcile creates it",
                status=status,
            ) from None

        budget = obj.spec.max_budget_in_team
        request = models.TeamMemberAddRequest(
            team_id=team_id,
            member=models.Member(role=obj.spec.role, user_id=user_id),
            max_budget_in_team=to_request(Kind.MONEY, budget) if budget is not None else models.UNSET,
        )
        try:
            await client.team_member_add(request)
        except AlreadyExistsError:
            return None

        old = raw.get("status") or {}
        added_before = cond.is_ready(old) and (old.get("teamID"), old.get("userID")) == (team_id, user_id)
        return SyncResult(
            status=status,
            event_reason="DriftCorrected" if added_before else "Created",
            event_message=(
                f"user {user_id} was missing from team {team_id} in LiteLLM; added it again"
                if added_before
                else f"added user {user_id} to team {team_id} in LiteLLM as {obj.spec.role}"
            ),
        )

    async def _leave_previous_team(
        self, obj: api.TeamMemberAssociation, team_id: str, user_id: str, connection: Connection
    ) -> None:
        """Remove the membership recorded in status when teamRef or userRef now names another object."""
        old_team, old_user = obj.status.team_id, obj.status.user_id
        if not old_team or not old_user or (old_team, old_user) == (team_id, user_id):
            return
        await _member_delete(connection, old_team, old_user)
        log.info(f"removed the previous membership team_id={old_team} user_id={old_user}")

    # ---- deletion ----

    def _references_gone(self, obj: api.TeamMemberAssociation) -> bool:
        """Return True when the Team or User object is gone, so LiteLLM has no membership to remove."""
        return not self._referenced(obj, "Team").exists or not self._referenced(obj, "User").exists

    async def delete_external(self, obj: api.TeamMemberAssociation, raw: dict[str, Any], connection: Connection) -> None:
        # The referenced objects' ids cover a membership added just before a crash that kept
        # them out of this object's status.
        team_id = obj.status.team_id or self._referenced(obj, "Team").status.get("teamID")
        user_id = obj.status.user_id or self._referenced(obj, "User").status.get("userID")
        if not team_id or not user_id:
            # Never resolved, so never added in LiteLLM.
            return
        if self._references_gone(obj):
            log.info(f"Team or User already deleted; nothing to remove in LiteLLM team_id={team_id} user_id={user_id}")
            return
        await _member_delete(connection, team_id, user_id)

    async def delete_without_connection(self, obj: api.TeamMemberAssociation, raw: dict[str, Any]) -> bool:
        """Return True when nothing was added, or when the Team or User deletion removes the membership.

        A terminating Team or User deletes its LiteLLM object, and that removes the membership.
        If that deletion cannot reach LiteLLM either, the Team or User keeps its own finalizer
        and reports DeleteFailed.
        """
        if not obj.status.team_id or not obj.status.user_id:
            return True
        team = self._referenced(obj, "Team")
        user = self._referenced(obj, "User")
        return not team.exists or not user.exists or team.terminating or user.terminating


async def _member_delete(connection: Connection, team_id: str, user_id: str) -> None:
    """Remove a user from a team. A missing team, user or membership counts as removed."""
    try:
        await connection.client.team_member_delete(models.TeamMemberDeleteRequest(team_id=team_id, user_id=user_id))
    except (NotFoundError, InvalidRequestError) as exc:
        # LiteLLM 1.108.7 returns 400 both for a missing team and for a user who is not a member,
        # and other releases return 404. Either way there is no membership left to remove.
        log.info(f"membership already absent in LiteLLM team_id={team_id} user_id={user_id} error={exc}")
