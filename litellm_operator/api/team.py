"""Team: a LiteLLM team, with its budget, rate limits and allowed models."""

from __future__ import annotations

import attrs

from litellm_operator.api.common import (
    ConnectionRef,
    TeamMemberWithRole,
    api_version_field,
    conditions_field,
    connection_ref_field,
    kind_field,
    metadata_field,
    observed_generation_field,
)
from litellm_operator.api.meta import ObjectMeta
from litellm_operator.api.schema import DECIMAL_PATTERN, DURATION_PATTERN, field
from litellm_operator.runtime.conditions import Condition


@attrs.define(kw_only=True)
class TeamSpec:
    """Desired state of a LiteLLM team."""

    connection_ref: ConnectionRef = connection_ref_field()
    blocked: bool | None = field(
        json="blocked",
        description="Block the team: LiteLLM rejects every request made with the team's keys.",
    )
    budget_duration: str | None = field(
        json="budgetDuration",
        description=(
            "Period after which LiteLLM resets the team's spend, such as 30s, 30m, 30h, 30d, 2w"
            " or 1mo. Without it the budget never resets."
        ),
        pattern=DURATION_PATTERN,
    )
    guardrails: list[str] | None = field(
        json="guardrails",
        description="Guardrails applied to the team's requests. Needs a LiteLLM Enterprise licence.",
    )
    max_budget: str | None = field(
        json="maxBudget",
        description='Maximum spend of the team in US dollars, as a decimal string such as "100.50".',
        pattern=DECIMAL_PATTERN,
    )
    metadata: dict[str, str] | None = field(
        json="metadata",
        description="Free-form string metadata stored on the LiteLLM team.",
    )
    model_aliases: dict[str, str] | None = field(
        json="modelAliases",
        description="Map from an alias that the team's callers may use to a model name.",
    )
    models: list[str] | None = field(
        json="models",
        description=(
            "Models that the team's keys may call. Keys of the team can never use more models"
            " than these. Empty or absent allows every model."
        ),
    )
    organization_id: str | None = field(
        json="organizationID",
        description="LiteLLM organization that the team belongs to. Absent means no organization.",
    )
    rpm_limit: int | None = field(
        json="rpmLimit",
        description="Maximum requests per minute, shared by all keys of the team.",
        minimum=0,
    )
    tags: list[str] | None = field(
        json="tags",
        description="Tags for spend tracking and tag-based routing. Needs a LiteLLM Enterprise licence.",
    )
    team_alias: str = field(
        json="teamAlias",
        description="Human-readable name of the team in LiteLLM.",
        required=True,
    )
    team_id: str | None = field(
        json="teamID",
        description=(
            "LiteLLM team ID. When set, the operator manages the existing team with this ID;"
            " when absent, it derives a stable ID from this object's UID."
        ),
    )
    team_member_permissions: list[str] | None = field(
        json="teamMemberPermissions",
        description='Routes that team members without the admin role may call, such as "/key/generate".',
    )
    tpm_limit: int | None = field(
        json="tpmLimit",
        description="Maximum tokens per minute, shared by all keys of the team.",
        minimum=0,
    )


@attrs.define(kw_only=True)
class TeamStatus:
    """Observed state of the LiteLLM team, copied from LiteLLM."""

    observed_generation: int | None = observed_generation_field()
    blocked: bool | None = field(json="blocked", description="Whether LiteLLM blocks the team.")
    budget_duration: str | None = field(
        json="budgetDuration", description="Budget reset period that LiteLLM stores for the team."
    )
    budget_reset_at: str | None = field(
        json="budgetResetAt", description="Time of the next budget reset, as LiteLLM reports it."
    )
    created_at: str | None = field(json="createdAt", description="Time LiteLLM created the team.")
    litellm_model_table: str | None = field(
        json="liteLLMModelTable", description="LiteLLM's model table entry of the team, serialized as a string."
    )
    max_budget: str | None = field(json="maxBudget", description="Maximum spend in US dollars.")
    max_parallel_requests: int | None = field(
        json="maxParallelRequests", description="Maximum number of concurrent requests."
    )
    members_with_role: list[TeamMemberWithRole] | None = field(
        json="membersWithRole", description="Members of the team and their roles."
    )
    model_id: str | None = field(json="modelID", description="ID of the team's model entry in LiteLLM.")
    models: list[str] | None = field(json="models", description="Models that the team's keys may call.")
    organization_id: str | None = field(
        json="organizationID", description="LiteLLM organization of the team."
    )
    rpm_limit: int | None = field(json="rpmLimit", description="Maximum requests per minute.")
    spend: str | None = field(json="spend", description="Spend of the team so far, in US dollars.")
    tags: list[str] | None = field(json="tags", description="Tags of the team.")
    team_alias: str | None = field(json="teamAlias", description="Alias of the team in LiteLLM.")
    team_id: str | None = field(json="teamID", description="LiteLLM team ID.")
    team_member_permissions: list[str] | None = field(
        json="teamMemberPermissions", description="Routes that members without the admin role may call."
    )
    tpm_limit: int | None = field(json="tpmLimit", description="Maximum tokens per minute.")
    updated_at: str | None = field(json="updatedAt", description="Time LiteLLM last updated the team.")
    conditions: list[Condition] | None = conditions_field("team")


@attrs.define(kw_only=True)
class Team:
    """A LiteLLM team managed by the operator."""

    api_version: str = api_version_field()
    kind: str = kind_field("Team")
    metadata: ObjectMeta = metadata_field()
    spec: TeamSpec = field(json="spec", description="Desired state of the team.", required=True)
    status: TeamStatus = field(
        json="status",
        description="Observed state of the team.",
        factory=TeamStatus,
        omit_empty=True,
    )
