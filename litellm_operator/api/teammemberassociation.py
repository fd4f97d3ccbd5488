"""TeamMemberAssociation: membership of a User in a Team, with the member's role and budget."""

from __future__ import annotations

import attrs

from litellm_operator.api.common import (
    ConnectionRef,
    CRDRef,
    api_version_field,
    conditions_field,
    connection_ref_field,
    kind_field,
    metadata_field,
    observed_generation_field,
)
from litellm_operator.api.meta import ObjectMeta
from litellm_operator.api.schema import DECIMAL_PATTERN, field
from litellm_operator.runtime.conditions import Condition

# Team roles in LiteLLM. Adding an admin needs a LiteLLM Enterprise licence on 1.108.7.
MEMBER_ROLES = ("admin", "user")


@attrs.define(kw_only=True)
class TeamMemberAssociationSpec:
    """Desired membership of a User in a Team."""

    connection_ref: ConnectionRef = connection_ref_field()
    max_budget_in_team: str | None = field(
        json="maxBudgetInTeam",
        description="Maximum spend of the member within this team in US dollars, as a decimal string.",
        pattern=DECIMAL_PATTERN,
    )
    role: str = field(
        json="role",
        description="Role of the member in the team. The admin role needs a LiteLLM Enterprise licence.",
        required=True,
        enum=MEMBER_ROLES,
    )
    team_ref: CRDRef = field(
        json="teamRef",
        description="The Team resource to add the user to.",
        required=True,
    )
    user_ref: CRDRef = field(
        json="userRef",
        description="The User resource to add to the team.",
        required=True,
    )


@attrs.define(kw_only=True)
class TeamMemberAssociationStatus:
    """Observed state of the membership."""

    team_alias: str | None = field(json="teamAlias", description="Alias of the team in LiteLLM.")
    team_id: str | None = field(json="teamID", description="LiteLLM team ID.")
    user_email: str | None = field(json="userEmail", description="Email address of the user.")
    user_id: str | None = field(json="userID", description="LiteLLM user ID.")
    team_exists: bool | None = field(
        json="teamExists", description="Whether the referenced Team was found."
    )
    user_exists: bool | None = field(
        json="userExists", description="Whether the referenced User was found."
    )
    association_is_valid: bool | None = field(
        json="associationIsValid", description="Whether both references resolve so that the membership can be set in LiteLLM."
    )
    observed_generation: int | None = observed_generation_field()
    conditions: list[Condition] | None = conditions_field("membership")


@attrs.define(kw_only=True)
class TeamMemberAssociation:
    """Membership of a LiteLLM user in a LiteLLM team, managed by the operator."""

    api_version: str = api_version_field()
    kind: str = kind_field("TeamMemberAssociation")
    metadata: ObjectMeta = metadata_field()
    spec: TeamMemberAssociationSpec = field(
        json="spec", description="Desired state of the membership.", required=True
    )
    status: TeamMemberAssociationStatus = field(
        json="status",
        description="Observed state of the membership.",
        factory=TeamMemberAssociationStatus,
        omit_empty=True,
    )
