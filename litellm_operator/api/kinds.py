"""The four kinds of the auth.litellm.ai API: REST resources, models, short names, columns."""

from __future__ import annotations

import attrs

from litellm_operator.api.common import GROUP, VERSION
from litellm_operator.api.team import Team
from litellm_operator.api.teammemberassociation import TeamMemberAssociation
from litellm_operator.api.user import User
from litellm_operator.api.virtualkey import VirtualKey
from litellm_operator.runtime.kube import Resource

TEAMS = Resource(GROUP, VERSION, "teams", "Team")
USERS = Resource(GROUP, VERSION, "users", "User")
VIRTUAL_KEYS = Resource(GROUP, VERSION, "virtualkeys", "VirtualKey")
TEAM_MEMBER_ASSOCIATIONS = Resource(GROUP, VERSION, "teammemberassociations", "TeamMemberAssociation")

# `kubectl get litellm` lists all four kinds.
CATEGORIES = ("litellm",)

_READY_STATUS = '.status.conditions[?(@.type=="Ready")].status'
_READY_REASON = '.status.conditions[?(@.type=="Ready")].reason'


@attrs.frozen(kw_only=True)
class PrinterColumn:
    """A column of `kubectl get`, from the CRD's additionalPrinterColumns."""

    name: str
    type: str
    json_path: str
    description: str = ""
    # 0 shows the column always; 1 only with `kubectl get -o wide`.
    priority: int = 0

    def to_crd(self) -> dict[str, object]:
        column: dict[str, object] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            column["description"] = self.description
        if self.priority:
            column["priority"] = self.priority
        return column


@attrs.frozen(kw_only=True)
class KindInfo:
    """Everything the CRD generator and the controllers need to know about one kind."""

    resource: Resource
    model: type
    short_names: tuple[str, ...]
    printer_columns: tuple[PrinterColumn, ...]
    # One line on what the kind is, for the CRD's top-level description and the docs.
    summary: str

    @property
    def singular(self) -> str:
        return self.resource.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.resource.kind}List"

    @property
    def crd_name(self) -> str:
        return f"{self.resource.plural}.{self.resource.group}"


def _ready_columns() -> tuple[PrinterColumn, ...]:
    return (
        PrinterColumn(
            name="Ready",
            type="string",
            json_path=_READY_STATUS,
            description="Status of the Ready condition.",
        ),
        PrinterColumn(
            name="Reason",
            type="string",
            json_path=_READY_REASON,
            description="Reason of the Ready condition.",
            priority=1,
        ),
    )


_AGE = PrinterColumn(
    name="Age",
    type="date",
    json_path=".metadata.creationTimestamp",
    description="Time since the object was created.",
)

KINDS: tuple[KindInfo, ...] = (
    KindInfo(
        resource=TEAMS,
        model=Team,
        short_names=("lteam",),
        summary="A LiteLLM team, with its budget, rate limits and allowed models.",
        printer_columns=(
            PrinterColumn(name="Alias", type="string", json_path=".spec.teamAlias", description="Team alias."),
            PrinterColumn(
                name="Team ID",
                type="string",
                json_path=".status.teamID",
                description="LiteLLM team ID.",
                priority=1,
            ),
            *_ready_columns(),
            _AGE,
        ),
    ),
    KindInfo(
        resource=USERS,
        model=User,
        short_names=("luser",),
        summary="A LiteLLM user, optionally with a key that the operator stores in a Secret.",
        printer_columns=(
            PrinterColumn(name="Email", type="string", json_path=".spec.userEmail", description="User email."),
            PrinterColumn(name="Role", type="string", json_path=".spec.userRole", description="LiteLLM user role."),
            PrinterColumn(
                name="User ID",
                type="string",
                json_path=".status.userID",
                description="LiteLLM user ID.",
                priority=1,
            ),
            *_ready_columns(),
            _AGE,
        ),
    ),
    KindInfo(
        resource=VIRTUAL_KEYS,
        model=VirtualKey,
        short_names=("vkey",),
        summary="A LiteLLM virtual key whose value the operator stores in a Secret.",
        printer_columns=(
            PrinterColumn(name="Alias", type="string", json_path=".spec.keyAlias", description="Key alias."),
            PrinterColumn(
                name="Secret",
                type="string",
                json_path=".status.keySecretRef",
                description="Secret that contains the key.",
            ),
            *_ready_columns(),
            _AGE,
        ),
    ),
    KindInfo(
        resource=TEAM_MEMBER_ASSOCIATIONS,
        model=TeamMemberAssociation,
        short_names=("tma",),
        summary="Membership of a User in a Team, with the member's role and budget.",
        printer_columns=(
            PrinterColumn(name="Team", type="string", json_path=".spec.teamRef.name", description="Team resource."),
            PrinterColumn(name="User", type="string", json_path=".spec.userRef.name", description="User resource."),
            PrinterColumn(name="Role", type="string", json_path=".spec.role", description="Role in the team."),
            *_ready_columns(),
            _AGE,
        ),
    ),
)

KINDS_BY_NAME = {info.resource.kind: info for info in KINDS}
