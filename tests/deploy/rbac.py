"""RBAC rules of the operator, loaded from manifests/rbac, for tests that compare them with API calls.

The manager's rules live in `manifests/rbac/role.yaml` (a ClusterRole that the namespaced
overlay turns into a Role) and the leader election rules in
`manifests/rbac/leader_election_role.yaml`. A test that records the operator's requests can
check each one with `allows(rules, group=..., resource=..., verb=request_verb(...))`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

RBAC_DIR = Path(__file__).resolve().parents[2] / "manifests" / "rbac"
MANAGER_ROLE_FILE = RBAC_DIR / "role.yaml"
LEADER_ELECTION_ROLE_FILE = RBAC_DIR / "leader_election_role.yaml"


@dataclass(frozen=True)
class Rule:
    """One PolicyRule. `resources` contains "plural" or "plural/subresource" names."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    # Kind of the role that contains the rule: ClusterRole, or Role for the leader election
    # rules, which apply in the operator's namespace only.
    role_kind: str


def _load_role(path: Path) -> list[Rule]:
    role = yaml.safe_load(path.read_text())
    return [
        Rule(
            api_groups=tuple(rule.get("apiGroups", ())),
            resources=tuple(rule.get("resources", ())),
            verbs=tuple(rule["verbs"]),
            role_kind=role["kind"],
        )
        for rule in role["rules"]
    ]


def manager_rules() -> list[Rule]:
    """Load the reconcilers' rules from manifests/rbac/role.yaml."""
    return _load_role(MANAGER_ROLE_FILE)


def leader_election_rules() -> list[Rule]:
    """Load the Lease rules from manifests/rbac/leader_election_role.yaml."""
    return _load_role(LEADER_ELECTION_ROLE_FILE)


def load_rules() -> list[Rule]:
    """Load every rule the operator's ServiceAccount is granted."""
    return manager_rules() + leader_election_rules()


def granted(rules: list[Rule]) -> set[tuple[str, str, str]]:
    """Flatten rules into (API group, resource, verb) triples. The core group is ""."""
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule.api_groups
        for resource in rule.resources
        for verb in rule.verbs
    }


def allows(rules: list[Rule], *, group: str, resource: str, verb: str, subresource: str | None = None) -> bool:
    """Return whether the rules grant `verb` on `resource` (and `subresource`) in `group`."""
    name = f"{resource}/{subresource}" if subresource else resource
    return (group, name, verb) in granted(rules)


def request_verb(method: str, *, name: str | None = None, watch: bool = False) -> str:
    """Map an API request to the RBAC verb the API server checks.

    GET is `get` for one object, `list` for a collection and `watch` with `?watch=true`;
    DELETE without a name is `deletecollection`.
    """
    method = method.upper()
    if method == "GET":
        if watch:
            return "watch"
        return "get" if name else "list"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch"}
    if method not in verbs:
        raise ValueError(f"invalid HTTP method {method!r}: expected GET, POST, PUT, PATCH or DELETE")
    return verbs[method]
