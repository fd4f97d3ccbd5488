"""Run the whole operator through every code path that talks to the API server, and record the requests.

The scenario runs the operator in-process, with leader election on, against the API server
double and the LiteLLM fake. The harness uses its own client with the user agent
`HARNESS_USER_AGENT`, so its requests can be separated from the operator's in the double's request log
(`litellm-operator/<version>`). `permissions_used` turns the operator's requests into
(API group, resource[/subresource], verb) triples, the form in which RBAC grants them.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from litellm_operator import api
from litellm_operator.controllers.keys import ROTATE_ANNOTATION
from litellm_operator.runtime.kube import (
    CORE_EVENTS,
    LEASES,
    NAMESPACES,
    SECRETS,
    USER_AGENT,
    KubeClient,
    NotFound,
    Resource,
)
from litellm_operator.testing.apiserver import KubeApiServer, RequestRecord
from litellm_operator.testing.litellm_fake import FakeLiteLLM
from litellm_operator.testing.operator import running_operator

HARNESS_USER_AGENT = "rbac-coverage-harness/1.0"
# The operator's user agent up to the version, which the field manager is derived from.
OPERATOR_USER_AGENT_PREFIX = USER_AGENT.split("/", 1)[0] + "/"
WATCHED_NAMESPACE = "rbac-coverage"
OPERATOR_NAMESPACE = "litellm-operator-system"
LEASE_NAME = "litellm-operator-leader"
CONNECTION_SECRET = "litellm-connection"
# A short retry period makes the elector renew the Lease several times during the scenario.
LEADER_ELECTION_OPTIONS = {
    "leader_election": True,
    "leader_election_id": LEASE_NAME,
    "leader_election_namespace": OPERATOR_NAMESPACE,
    "lease_duration": 4.0,
    "renew_deadline": 3.0,
    "retry_period": 0.2,
}
WAIT_TIMEOUT = 20.0

Permission = tuple[str, str, str]

# The reconciler module of each kind that other parts of the operator may not have yet.
CONTROLLER_MODULES = {
    "users": "litellm_operator.controllers.user",
    "virtualkeys": "litellm_operator.controllers.virtualkey",
    "teammemberassociations": "litellm_operator.controllers.membership",
}


def controller_exists(plural: str) -> bool:
    """Return whether the reconciler module of a kind exists (Team's always does)."""
    module = CONTROLLER_MODULES.get(plural)
    return module is None or importlib.util.find_spec(module) is not None


@attrs.define
class ScenarioResult:
    """What the scenario recorded: the operator's requests and the kinds it could exercise."""

    operator_requests: list[RequestRecord]
    # Plural of each kind whose steps did not run, with the reason.
    skipped_kinds: dict[str, str]
    # Owner-reference targets with blockOwnerDeletion on Secrets the operator wrote, as
    # (API group, plural) pairs. The API server checks `update` on <plural>/finalizers for them.
    blocking_owners: set[tuple[str, str]]


def permissions_used(records: Iterable[RequestRecord]) -> dict[Permission, str]:
    """Map each (group, resource[/subresource], verb) the requests needed to one example request."""
    used: dict[Permission, str] = {}
    for record in records:
        if record.resource is None or record.verb is None:
            continue  # discovery and other non-resource URLs need no resource rule
        resource = f"{record.resource}/{record.subresource}" if record.subresource else record.resource
        used.setdefault((record.group or "", resource, record.verb), f"{record.method} {record.path}")
    return used


def operator_requests(records: Iterable[RequestRecord]) -> list[RequestRecord]:
    """Return the requests sent with the operator's user agent."""
    return [record for record in records if record.user_agent.startswith(OPERATOR_USER_AGENT_PREFIX)]


async def eventually(check: Callable[[], Awaitable[Any]], *, what: str, timeout: float = WAIT_TIMEOUT) -> Any:
    """Poll `check` until it returns a truthy value, because a client of the API server has no event to await."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = await check()
            if value:
                return value
        except Exception as error:
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last error: {last_error!r}")
        await asyncio.sleep(0.05)


def secret_body(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def custom_object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api.API_VERSION,
        "kind": kind,
        "metadata": {"name": name},
        "spec": {"connectionRef": {"secretRef": {"name": CONNECTION_SECRET}}, **spec},
    }


class Scenario:
    """Steps that drive the operator. Each waits until the operator has acted on it."""

    def __init__(self, client: KubeClient, fake: FakeLiteLLM) -> None:
        self.client = client
        self.fake = fake
        self.namespace = WATCHED_NAMESPACE
        # (group, plural) of owners that Secrets seen so far reference with blockOwnerDeletion.
        self.blocking_owners: set[tuple[str, str]] = set()

    async def ready(self, resource: Resource, name: str) -> dict[str, Any]:
        """Wait until the object's Ready condition is True for its current generation."""

        async def check() -> dict[str, Any] | None:
            obj = await self.client.get(resource, self.namespace, name)
            status = obj.get("status") or {}
            ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready" and c["status"] == "True"]
            if ready and status.get("observedGeneration") == obj["metadata"]["generation"]:
                return obj
            # The last status goes into the timeout message, so a failure shows why it is not Ready.
            raise LookupError(f"generation {obj['metadata']['generation']}, status {status}")

        return await eventually(check, what=f"{resource.kind} {name} Ready")

    async def gone(self, resource: Resource, name: str) -> None:
        """Wait until the object no longer exists (its finalizer was removed)."""

        async def check() -> bool:
            try:
                await self.client.get(resource, self.namespace, name)
            except NotFound:
                return True
            return False

        await eventually(check, what=f"{resource.kind} {name} deleted")

    async def create_update_delete(
        self,
        resource: Resource,
        name: str,
        spec: dict[str, Any],
        change: dict[str, Any],
        before_delete: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """Create an object, change its spec, delete it, and wait for the operator each time."""
        await self.client.create(resource, self.namespace, custom_object(resource.kind, name, spec))
        await self.ready(resource, name)
        # Owned Secrets (a key Secret) go with their owner, so they are inspected while it exists.
        self.blocking_owners |= blocking_owner_targets(await self.owned_secrets())
        await self.client.patch(resource, self.namespace, name, {"spec": change})
        await self.ready(resource, name)
        if before_delete is not None:
            await before_delete(name)
        await self.client.delete(resource, self.namespace, name)
        await self.gone(resource, name)

    async def rotate_key(self, name: str) -> None:
        """Request a key rotation on a VirtualKey; the operator writes the new key into its Secret."""
        request = "rotation-1"
        annotations = {ROTATE_ANNOTATION: request}
        await self.client.patch(api.VIRTUAL_KEYS, self.namespace, name, {"metadata": {"annotations": annotations}})

        async def check() -> bool:
            obj = await self.ready(api.VIRTUAL_KEYS, name)
            return (obj.get("status") or {}).get("lastRotationRequest") == request

        await eventually(check, what=f"VirtualKey {name} rotated")

    async def repeated_warning(self, name: str) -> None:
        """Make one Team fail the same way twice, so the second Warning Event patches the first."""
        calls_before = len(self.fake.calls_to("/team/new"))
        self.fake.fail_next("/team/new", 500, times=2)
        body = custom_object("Team", name, {"teamAlias": f"{self.namespace}-{name}"})
        await self.client.create(api.TEAMS, self.namespace, body)
        await self.ready(api.TEAMS, name)
        assert len(self.fake.calls_to("/team/new")) >= calls_before + 3, "the injected failures were not retried"

        async def check() -> bool:
            events = await self.client.list(CORE_EVENTS, self.namespace)
            return any(
                event["involvedObject"].get("name") == name and event["type"] == "Warning" and event.get("count", 1) >= 2
                for event in events["items"]
            )

        await eventually(check, what=f"a Warning Event of Team {name} with count 2")
        await self.client.delete(api.TEAMS, self.namespace, name)
        await self.gone(api.TEAMS, name)

    async def owned_secrets(self) -> list[dict[str, Any]]:
        """Return the Secrets in the namespace that carry owner references."""
        secrets = await self.client.list(SECRETS, self.namespace)
        return [secret for secret in secrets["items"] if secret["metadata"].get("ownerReferences")]


def blocking_owner_targets(secrets: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """Return (group, plural) of owners that Secrets reference with blockOwnerDeletion."""
    plurals = {info.resource.kind: info.resource.plural for info in api.KINDS}
    targets: set[tuple[str, str]] = set()
    for secret in secrets:
        for reference in secret["metadata"].get("ownerReferences") or []:
            if not reference.get("blockOwnerDeletion"):
                continue
            group = reference["apiVersion"].rsplit("/", 1)[0] if "/" in reference["apiVersion"] else ""
            targets.add((group, plurals.get(reference["kind"], reference["kind"].lower() + "s")))
    return targets


async def run_scenario(tmp_dir: Path) -> ScenarioResult:
    """Run every step against a fresh API server double and LiteLLM fake; return what was recorded."""
    async with KubeApiServer() as server, FakeLiteLLM() as fake:
        kubeconfig = str(server.write_kubeconfig(tmp_dir / "kubeconfig"))
        harness = await KubeClient.from_kubeconfig(kubeconfig, user_agent=HARNESS_USER_AGENT)
        operator_client = await KubeClient.from_kubeconfig(kubeconfig)
        try:
            return await _run_steps(server, fake, harness, operator_client)
        finally:
            await harness.close()
            await operator_client.close()


async def _run_steps(
    server: KubeApiServer, fake: FakeLiteLLM, harness: KubeClient, operator_client: KubeClient
) -> ScenarioResult:
    for namespace in (WATCHED_NAMESPACE, OPERATOR_NAMESPACE):
        await harness.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    await harness.create(
        SECRETS, WATCHED_NAMESPACE, secret_body(CONNECTION_SECRET, {"masterKey": fake.master_key, "url": fake.url})
    )
    scenario = Scenario(harness, fake)
    skipped = {
        plural: f"{module} does not exist yet, so the {plural} steps did not run"
        for plural, module in CONTROLLER_MODULES.items()
        if not controller_exists(plural)
    }
    if "users" in skipped and "teammemberassociations" not in skipped:
        # An association becomes Ready only once its User is, so its steps need the User reconciler.
        skipped["teammemberassociations"] = (
            f"{CONTROLLER_MODULES['users']} does not exist yet, and a TeamMemberAssociation needs a Ready User"
        )

    async with running_operator(
        operator_client, namespaces=[WATCHED_NAMESPACE], manager_options=LEADER_ELECTION_OPTIONS
    ) as running:
        lease = await harness.get(LEASES, OPERATOR_NAMESPACE, LEASE_NAME)
        renewed_after = lease["spec"]["renewTime"]

        await scenario.create_update_delete(
            api.TEAMS, "team-a", {"teamAlias": "rbac-team-a", "maxBudget": "10"}, {"maxBudget": "20"}
        )
        await scenario.repeated_warning("team-warning")

        if "users" not in skipped:
            await scenario.create_update_delete(
                api.USERS,
                "user-a",
                # autoCreateKey is true when absent, so the User gets a key Secret.
                {"userEmail": "user-a@example.com", "userRole": "internal_user", "keyAlias": "rbac-user-a", "maxBudget": "5"},
                {"maxBudget": "6"},
            )
        if "virtualkeys" not in skipped:
            # The key Secret is created with the key, patched by the rotation and deleted with it.
            await scenario.create_update_delete(
                api.VIRTUAL_KEYS,
                "key-a",
                {"keyAlias": "rbac-key-a", "maxBudget": "1"},
                {"maxBudget": "2"},
                before_delete=scenario.rotate_key,
            )
        if "teammemberassociations" not in skipped:
            await _membership_steps(scenario)

        async def lease_renewed() -> bool:
            current = await harness.get(LEASES, OPERATOR_NAMESPACE, LEASE_NAME)
            return current["spec"]["renewTime"] != renewed_after

        await eventually(lease_renewed, what="the leader Lease renewed")
        assert running.manager.controllers_started.is_set()

    return ScenarioResult(operator_requests(server.request_log), skipped, scenario.blocking_owners)


async def _membership_steps(scenario: Scenario) -> None:
    """Create a Team, a User and their association, change the member budget, then delete all three."""
    await scenario.client.create(
        api.TEAMS, scenario.namespace, custom_object("Team", "team-m", {"teamAlias": "rbac-team-m"})
    )
    await scenario.client.create(
        api.USERS,
        scenario.namespace,
        custom_object("User", "user-m", {"userEmail": "user-m@example.com", "userRole": "internal_user"}),
    )
    await scenario.ready(api.TEAMS, "team-m")
    await scenario.ready(api.USERS, "user-m")
    await scenario.create_update_delete(
        api.TEAM_MEMBER_ASSOCIATIONS,
        "member-a",
        # Only the user role: LiteLLM without an Enterprise license rejects team admins.
        {"teamRef": {"name": "team-m"}, "userRef": {"name": "user-m"}, "role": "user", "maxBudgetInTeam": "5"},
        {"maxBudgetInTeam": "6"},
    )
    for resource, name in ((api.USERS, "user-m"), (api.TEAMS, "team-m")):
        await scenario.client.delete(resource, scenario.namespace, name)
        await scenario.gone(resource, name)
