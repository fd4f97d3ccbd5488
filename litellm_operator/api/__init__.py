"""Typed models of the auth.litellm.ai/v1alpha1 kinds, their JSON conversion and CRD generation.

`Condition` and `Resource` belong to the runtime package and are re-exported here for convenience.
"""

from litellm_operator.api.common import (
    API_VERSION,
    GROUP,
    VERSION,
    ConnectionRef,
    CRDRef,
    InstanceRef,
    SecretKeys,
    SecretRef,
    TeamMemberWithRole,
)
from litellm_operator.api.converter import StructureError, structure, unstructure
from litellm_operator.api.kinds import (
    KINDS,
    KINDS_BY_NAME,
    TEAM_MEMBER_ASSOCIATIONS,
    TEAMS,
    USERS,
    VIRTUAL_KEYS,
    KindInfo,
    PrinterColumn,
)
from litellm_operator.api.meta import ObjectMeta
from litellm_operator.api.team import Team, TeamSpec, TeamStatus
from litellm_operator.api.teammemberassociation import (
    TeamMemberAssociation,
    TeamMemberAssociationSpec,
    TeamMemberAssociationStatus,
)
from litellm_operator.api.user import User, UserSpec, UserStatus
from litellm_operator.api.virtualkey import VirtualKey, VirtualKeySpec, VirtualKeyStatus
from litellm_operator.runtime.conditions import Condition
from litellm_operator.runtime.kube import Resource

__all__ = [
    "API_VERSION",
    "GROUP",
    "KINDS",
    "KINDS_BY_NAME",
    "TEAMS",
    "TEAM_MEMBER_ASSOCIATIONS",
    "USERS",
    "VERSION",
    "VIRTUAL_KEYS",
    "CRDRef",
    "Condition",
    "ConnectionRef",
    "InstanceRef",
    "KindInfo",
    "ObjectMeta",
    "PrinterColumn",
    "Resource",
    "SecretKeys",
    "SecretRef",
    "StructureError",
    "Team",
    "TeamMemberAssociation",
    "TeamMemberAssociationSpec",
    "TeamMemberAssociationStatus",
    "TeamMemberWithRole",
    "TeamSpec",
    "TeamStatus",
    "User",
    "UserSpec",
    "UserStatus",
    "VirtualKey",
    "VirtualKeySpec",
    "VirtualKeyStatus",
    "structure",
    "unstructure",
]
