"""`make demo`: the whole operator on one machine, with no cluster.

The demo starts the Kubernetes API server double, a LiteLLM proxy (the real one named by
LITELLM_URL and LITELLM_MASTER_KEY when both are set, the in-process fake otherwise) and the
operator. It applies `manifests/samples/` with the connection Secret pointed at that proxy,
through `kubectl` when it is installed and through the operator's own client otherwise. Then it
waits until the objects are Ready and prints them as `kubectl get -o wide` would. At the end it
deletes them again, so a shared proxy is left as it was, and stops.

Run it with `python -m litellm_operator.demo` (`--help` lists the options).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import attrs
import yaml

from litellm_operator import api
from litellm_operator.runtime.kube import NAMESPACES, SECRETS, AlreadyExists, KubeClient, NotFound, Resource
from litellm_operator.testing.apiserver import KubeApiServer
from litellm_operator.testing.cluster import CRD_DIR
from litellm_operator.testing.litellm_fake import FakeLiteLLM
from litellm_operator.testing.operator import running_operator

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "manifests" / "samples"
NAMESPACE = "litellm-demo"
# Seconds between two reads while waiting for the objects, because a client of the API server polls.
POLL_INTERVAL = 0.2

# The LiteLLM-side identity of each kind, shown next to its printer columns.
LITELLM_ID_PATHS = {
    "Team": ".status.teamID",
    "User": ".status.userID",
    "VirtualKey": ".status.tokenID",
}
_FILTER = re.compile(r'^\.(?P<list>[\w.]+)\[\?\(@\.(?P<field>\w+)=="(?P<value>[^"]*)"\)\]\.(?P<rest>[\w.]+)$')


@attrs.frozen
class LiteLLMEndpoint:
    """The proxy the demo uses: its URL, master key, and a label for the output."""

    url: str
    master_key: str
    label: str


# ---- samples -----------------------------------------------------------------------------------


def load_samples(samples_dir: Path = SAMPLES_DIR) -> list[dict[str, Any]]:
    """Read the sample manifests in the order their kustomization lists them."""
    kustomization = yaml.safe_load((samples_dir / "kustomization.yaml").read_text())
    documents = []
    for name in kustomization.get("resources") or []:
        for document in yaml.safe_load_all((samples_dir / name).read_text()):
            if document:
                documents.append(document)
    return documents


def prepare_samples(
    documents: Sequence[dict[str, Any]], endpoint: LiteLLMEndpoint, *, alias_suffix: str = ""
) -> list[dict[str, Any]]:
    """Return the samples with the connection Secret pointed at `endpoint`.

    `alias_suffix` is appended to the aliases and e-mail addresses that LiteLLM keeps unique,
    so two demos on one shared proxy do not collide.
    """
    prepared = []
    for document in copy.deepcopy(list(documents)):
        if document.get("kind") == "Secret":
            document["stringData"] = {
                **(document.get("stringData") or {}),
                "url": endpoint.url,
                "masterKey": endpoint.master_key,
            }
        elif alias_suffix:
            spec = document.get("spec") or {}
            for field in ("teamAlias", "keyAlias", "userAlias"):
                if spec.get(field):
                    spec[field] = f"{spec[field]}-{alias_suffix}"
            if spec.get("userEmail"):
                local, _, domain = spec["userEmail"].partition("@")
                spec["userEmail"] = f"{local}+{alias_suffix}@{domain}"
        prepared.append(document)
    return prepared


def resource_of(document: dict[str, Any]) -> Resource:
    if document.get("kind") == "Secret":
        return SECRETS
    for info in api.KINDS:
        if info.resource.kind == document.get("kind"):
            return info.resource
    raise ValueError(f"sample of unknown kind {document.get('kind')!r}")


def with_data(secret: dict[str, Any]) -> dict[str, Any]:
    """Return a Secret with `stringData` moved into base64 `data`, as the API server stores it."""
    secret = copy.deepcopy(secret)
    string_data = secret.pop("stringData", None) or {}
    data = dict(secret.get("data") or {})
    data.update({key: base64.b64encode(value.encode()).decode() for key, value in string_data.items()})
    secret["data"] = data
    return secret


async def apply_with_client(client: KubeClient, namespace: str, documents: Sequence[dict[str, Any]]) -> list[str]:
    """Create each document (replacing one that exists) and return kubectl-style result lines."""
    lines = []
    for document in documents:
        resource = resource_of(document)
        body = with_data(document) if resource == SECRETS else document
        name = body["metadata"]["name"]
        try:
            await client.create(resource, namespace, body)
            verb = "created"
        except AlreadyExists:
            current = await client.get(resource, namespace, name)
            body = {**body, "metadata": {**body["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}}
            await client.replace(resource, namespace, name, body)
            verb = "configured"
        lines.append(f"{resource.kind.lower()}/{name} {verb}")
    return lines


async def apply_with_kubectl(
    kubectl: str, kubeconfig: Path, namespace: str, documents: Sequence[dict[str, Any]], workdir: Path
) -> list[str]:
    """Run `kubectl apply` on the documents and return its output lines."""
    manifest = workdir / "samples.yaml"
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    process = await asyncio.create_subprocess_exec(
        kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir", str(workdir / "kube-cache"),
        "--namespace", namespace, "apply", "--validate=false", "-f", str(manifest),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"kubectl apply failed with exit code {process.returncode}: {stderr.decode().strip()}")
    return stdout.decode().splitlines()


# ---- reading and printing objects --------------------------------------------------------------


def json_path(obj: dict[str, Any], path: str) -> Any:
    """Evaluate the JSONPath forms the CRD printer columns use: `.a.b` and one `[?(@.k=="v")]`."""
    match = _FILTER.match(path)
    if match:
        items = json_path(obj, "." + match["list"]) or []
        selected = [item for item in items if isinstance(item, dict) and str(item.get(match["field"])) == match["value"]]
        return json_path(selected[0], "." + match["rest"]) if selected else None
    value: Any = obj
    for part in path.strip(".").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def age(timestamp: str | None, now: datetime) -> str:
    """Format the time since `timestamp` the way kubectl's AGE column does."""
    if not timestamp:
        return "<unknown>"
    created = datetime.fromisoformat(timestamp)
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 10:
        return f"{minutes}m{seconds}s" if seconds else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m" if minutes else f"{hours}h"


def cell(value: Any) -> str:
    if value is None or value == "":
        return "<none>"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return str(value)


def table(info: api.KindInfo, objects: Sequence[dict[str, Any]], now: datetime) -> str:
    """Render objects of one kind as `kubectl get -o wide` does, plus a LiteLLM ID column."""
    columns = [(column.name.upper(), column.json_path) for column in info.printer_columns if column.type != "date"]
    id_path = LITELLM_ID_PATHS.get(info.resource.kind)
    if id_path and all(path != id_path for _, path in columns):
        columns.append(("LITELLM ID", id_path))

    rows = [["NAME", *(header for header, _ in columns), "AGE"]]
    for obj in sorted(objects, key=lambda item: item["metadata"]["name"]):
        values = [cell(json_path(obj, path)) for _, path in columns]
        rows.append([obj["metadata"]["name"], *values, age(obj["metadata"].get("creationTimestamp"), now)])
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    return "\n".join("   ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip() for row in rows)


def is_ready(obj: dict[str, Any]) -> bool:
    generation = obj["metadata"].get("generation")
    status = obj.get("status") or {}
    ready = json_path(obj, '.status.conditions[?(@.type=="Ready")].status')
    return ready == "True" and status.get("observedGeneration") == generation


async def list_objects(client: KubeClient, namespace: str, resource: Resource) -> list[dict[str, Any]]:
    return (await client.list(resource, namespace)).get("items") or []


async def wait_until_ready(
    client: KubeClient, namespace: str, kinds: Sequence[api.KindInfo], timeout: float
) -> list[str]:
    """Wait until every object of `kinds` is Ready, and return `kind/name` of those that are not."""
    deadline = time.monotonic() + timeout
    while True:
        pending = []
        for info in kinds:
            for obj in await list_objects(client, namespace, info.resource):
                if not is_ready(obj):
                    pending.append(f"{info.resource.kind.lower()}/{obj['metadata']['name']}")
        if not pending or time.monotonic() > deadline:
            return pending
        await asyncio.sleep(POLL_INTERVAL)


async def delete_all(client: KubeClient, namespace: str, timeout: float) -> list[str]:
    """Delete the sample custom resources and wait until their finalizers ran; return leftovers."""
    for info in reversed(api.KINDS):
        for obj in await list_objects(client, namespace, info.resource):
            with contextlib.suppress(NotFound):
                await client.delete(info.resource, namespace, obj["metadata"]["name"])
    deadline = time.monotonic() + timeout
    while True:
        left = [
            f"{info.resource.kind.lower()}/{obj['metadata']['name']}"
            for info in api.KINDS
            for obj in await list_objects(client, namespace, info.resource)
        ]
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(POLL_INTERVAL)


# ---- the run -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def litellm_endpoint(env: dict[str, str]) -> AsyncIterator[LiteLLMEndpoint]:
    """Yield the real proxy named by the environment, or a fake started for the demo."""
    url, master_key = env.get("LITELLM_URL"), env.get("LITELLM_MASTER_KEY")
    if url and master_key:
        yield LiteLLMEndpoint(url.rstrip("/"), master_key, f"LiteLLM proxy at {url.rstrip('/')}")
        return
    async with FakeLiteLLM() as fake:
        yield LiteLLMEndpoint(fake.url, fake.master_key, f"LiteLLM fake at {fake.url}")


async def run_demo(
    out: TextIO | None = None,
    *,
    timeout: float = 60.0,
    keep: bool = False,
    kubectl: str | None = None,
    samples_dir: Path = SAMPLES_DIR,
    alias_suffix: str = "",
    env: dict[str, str] | None = None,
) -> int:
    """Run the demo, printing to `out` (default stdout).

    Returns 0 when every object with a controller became Ready, else 1.
    """

    def say(text: str = "") -> None:
        print(text, file=out or sys.stdout, flush=True)

    env = dict(os.environ if env is None else env)
    # kubectl and the operator both verify the double's TLS certificate with the CA in the kubeconfig
    # and send its token.
    server = KubeApiServer(crd_dir=str(CRD_DIR), tls=True)
    await server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="litellm-operator-demo-") as workdir:
            kubeconfig = server.write_kubeconfig(Path(workdir) / "kubeconfig")
            client = await KubeClient.from_kubeconfig(str(kubeconfig))
            try:
                async with litellm_endpoint(env) as endpoint:
                    say(f"Kubernetes API server double at {server.url} (kubeconfig {kubeconfig})")
                    say(endpoint.label)
                    return await _run(
                        client, server, endpoint, say,
                        timeout=timeout, keep=keep, kubectl=kubectl, kubeconfig=kubeconfig,
                        workdir=Path(workdir), samples_dir=samples_dir, alias_suffix=alias_suffix,
                    )
            finally:
                await client.close()
    finally:
        await server.stop()


async def _run(
    client: KubeClient,
    server: KubeApiServer,
    endpoint: LiteLLMEndpoint,
    say: Callable[[str], None],
    *,
    timeout: float,
    keep: bool,
    kubectl: str | None,
    kubeconfig: Path,
    workdir: Path,
    samples_dir: Path,
    alias_suffix: str,
) -> int:
    await client.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    documents = prepare_samples(load_samples(samples_dir), endpoint, alias_suffix=alias_suffix)

    async with running_operator(client, namespaces=[NAMESPACE]) as operator:
        controlled = set(operator.operator.controllers)
        kinds = [info for info in api.KINDS if info.resource.kind.lower() in _controller_kinds(operator)]
        say(f"Operator running with controllers: {', '.join(sorted(controlled))}")

        say(f"\nApplying {samples_dir} to namespace {NAMESPACE} "
            f"({'kubectl apply' if kubectl else 'the operator client'}):")
        if kubectl:
            lines = await apply_with_kubectl(kubectl, kubeconfig, NAMESPACE, documents, workdir)
        else:
            lines = await apply_with_client(client, NAMESPACE, documents)
        for line in lines:
            say(f"  {line}")

        pending = await wait_until_ready(client, NAMESPACE, kinds, timeout)
        now = datetime.now(UTC)
        for info in api.KINDS:
            objects = await list_objects(client, NAMESPACE, info.resource)
            if not objects:
                continue
            say(f"\n$ kubectl get {info.resource.plural} -o wide")
            say(table(info, objects, now))
            if info not in kinds:
                say(f"({info.resource.kind} has no controller in this build, so nothing reconciles it)")

        say("")
        if pending:
            say(f"Not Ready after {timeout:g}s: {', '.join(pending)}")
        else:
            say("Every object with a controller is Ready.")

        if keep:
            say("Leaving the objects in LiteLLM (--keep).")
        else:
            left = await delete_all(client, NAMESPACE, timeout)
            if left:
                say(f"Still deleting after {timeout:g}s: {', '.join(left)}")
            else:
                say("Deleted the samples again; their LiteLLM objects are gone.")
    say("Stopped.")
    return 1 if pending else 0


def _controller_kinds(operator: Any) -> set[str]:
    """Return the lower-case kind names that have a reconciler in the running operator."""
    return {reconciler.resource.kind.lower() for reconciler in operator.operator.reconcilers.values()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m litellm_operator.demo",
        description="Run the operator against the API server double and apply the samples.",
    )
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the objects to become Ready, and again for deletion")
    parser.add_argument("--keep", action="store_true",
                        help="leave the objects in LiteLLM instead of deleting the samples at the end")
    parser.add_argument("--no-kubectl", action="store_true",
                        help="apply through the operator's client even when kubectl is installed")
    parser.add_argument("--alias-suffix", default="",
                        help="suffix for the samples' aliases and e-mail addresses, for a shared proxy")
    parser.add_argument("--log-level", default="WARNING", help="log level of the operator (default WARNING)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    kubectl = None if args.no_kubectl else shutil.which("kubectl")
    return asyncio.run(
        run_demo(timeout=args.timeout, keep=args.keep, kubectl=kubectl, alias_suffix=args.alias_suffix)
    )


if __name__ == "__main__":
    sys.exit(main())
