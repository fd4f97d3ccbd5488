"""Types shared by several kinds: the LiteLLM connection, object references and team members."""

from __future__ import annotations

import attrs

from litellm_operator.api.meta import ObjectMeta
from litellm_operator.api.schema import ValidationRule, field
from litellm_operator.runtime.conditions import Condition

GROUP = "auth.litellm.ai"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Exactly one way to reach LiteLLM must be given. `!=` on the two has() results is an XOR.
CONNECTION_REF_RULE = ValidationRule(
    rule="has(self.secretRef) != has(self.instanceRef)",
    message="exactly one of secretRef or instanceRef must be set",
)


@attrs.define(kw_only=True)
class SecretKeys:
    """Data keys of the connection Secret."""

    master_key: str | None = field(
        json="masterKey",
        description="Data key of the Secret whose value is the LiteLLM master key.",
    )
    url: str | None = field(
        json="url",
        description="Data key of the Secret whose value is the base URL of the LiteLLM proxy.",
    )


@attrs.define(kw_only=True)
class SecretRef:
    """A Secret in the object's namespace that contains the LiteLLM URL and master key."""

    name: str | None = field(
        json="name",
        description="Name of the Secret, in the same namespace as this object.",
    )
    keys: SecretKeys | None = field(
        json="keys",
        description="Data keys of the Secret that contain the master key and the URL.",
    )


@attrs.define(kw_only=True)
class InstanceRef:
    """A LiteLLM instance deployed by the Go operator's LiteLLMInstance resource."""

    name: str | None = field(
        json="name",
        description=(
            "Name of the LiteLLM instance. The master key is read from the Secret"
            " `<name>-secrets` and the proxy is reached at the Service `<name>-service`."
        ),
    )
    namespace: str | None = field(
        json="namespace",
        description="Namespace of the LiteLLM instance. Defaults to this object's namespace.",
    )


@attrs.define(kw_only=True)
class ConnectionRef:
    """Connection to the LiteLLM proxy that manages this object, through a Secret or an instance."""

    secret_ref: SecretRef | None = field(
        json="secretRef",
        description="Read the proxy URL and master key from a Secret.",
    )
    instance_ref: InstanceRef | None = field(
        json="instanceRef",
        description="Connect to a LiteLLM instance managed by the Go operator.",
    )


@attrs.define(kw_only=True)
class CRDRef:
    """A reference to another custom resource of this API group by name."""

    name: str | None = field(json="name", description="Name of the referenced object.")
    namespace: str | None = field(
        json="namespace",
        description="Namespace of the referenced object. Defaults to this object's namespace.",
    )


@attrs.define(kw_only=True)
class TeamMemberWithRole:
    """A member of a LiteLLM team as LiteLLM reports it."""

    user_id: str | None = field(json="userID", description="LiteLLM user ID of the member.")
    user_email: str | None = field(json="userEmail", description="Email address of the member.")
    role: str | None = field(json="role", description='Role of the member in the team: "admin" or "user".')


def connection_ref_field() -> ConnectionRef:
    """Declare the required `connectionRef` field of every spec, with its CEL rule."""
    return field(
        json="connectionRef",
        description="How to reach the LiteLLM proxy: through a Secret or a LiteLLM instance.",
        required=True,
        validations=[CONNECTION_REF_RULE],
    )


def api_version_field() -> str:
    """Declare the `apiVersion` field of a top-level kind."""
    return field(
        json="apiVersion",
        description=f"API group and version of the object, {API_VERSION}.",
        default=API_VERSION,
    )


def kind_field(kind: str) -> str:
    """Declare the `kind` field of a top-level kind, defaulting to `kind`."""
    return field(json="kind", description=f"Kind of the object, {kind}.", default=kind)


def metadata_field() -> ObjectMeta:
    """Declare the standard Kubernetes `metadata` field of a top-level kind."""
    return field(
        json="metadata",
        description="Standard Kubernetes object metadata.",
        factory=ObjectMeta,
        schema_opaque=True,
    )


def observed_generation_field() -> int | None:
    """Declare the `observedGeneration` field of a status."""
    return field(
        json="observedGeneration",
        description="The metadata.generation that this status describes.",
        format="int64",
    )


def conditions_field(noun: str) -> list[Condition] | None:
    """Declare the `conditions` field of a status; `noun` names the object in the description."""
    return field(
        json="conditions",
        description=f"Ready, Progressing and Degraded conditions of the {noun}.",
    )
