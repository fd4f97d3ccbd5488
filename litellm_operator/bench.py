"""Benchmark of the whole operator in one process: `python -m litellm_operator.bench` (`make bench`).

The run starts the Kubernetes API server double, the LiteLLM fake and the operator, all in this
process. The fake adds a fixed latency to every request. The run creates N Teams plus N/2 Users
and N/2 VirtualKeys, the latter two only where their reconcilers exist, and prints:

- creation: time until every object is Ready, objects per second, LiteLLM calls per object;
- steady state: LiteLLM reads and writes and API server writes per object per drift period,
  counted over a few sync periods after creation has settled;
- reconcile time p50 and p95 per controller, estimated from the histogram buckets of
  `controller_runtime_reconcile_time_seconds` the same way Prometheus' histogram_quantile does;
- memory: resident set size before and after, and the bytes one cached object takes, measured
  with tracemalloc on a decoded copy of the informer caches.

The figures are measurements of one machine, not pass/fail checks. Because the double and the
fake run in the same process, the RSS figures include their storage too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import logging
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from litellm_operator import api
from litellm_operator.cli import Options
from litellm_operator.runtime.kube import NAMESPACES, SECRETS, USER_AGENT, KubeClient, Resource
from litellm_operator.testing.apiserver import KubeApiServer
from litellm_operator.testing.litellm_fake import FakeLiteLLM
from litellm_operator.testing.operator import RunningOperator, running_operator

logger = logging.getLogger(__name__)

NAMESPACE = "bench"
CONNECTION_SECRET = "litellm-connection"
HARNESS_USER_AGENT = "litellm-operator-bench/1.0"
OPERATOR_USER_AGENT_PREFIX = USER_AGENT.split("/", 1)[0] + "/"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
# Concurrent create requests of the harness: enough to keep the operator's queues full.
CREATE_CONCURRENCY = 20
POLL_INTERVAL = 0.25
READY_TIMEOUT = 600.0
# The operator command line's default, so the figures describe a default deployment.
DEFAULT_WORKERS = attrs.fields(Options).max_concurrent_reconciles.default
CONTROLLER_MODULES = {
    "users": "litellm_operator.controllers.user",
    "virtualkeys": "litellm_operator.controllers.virtualkey",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m litellm_operator.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=200, help="number of Teams; Users and VirtualKeys get half as many each (default 200)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="latency the LiteLLM fake adds to every request, in milliseconds (default 20)")
    parser.add_argument("--sync-period", type=float, default=20.0, help="drift check period of the operator, in seconds (default 20)")
    parser.add_argument("--periods", type=int, default=1, help="drift periods to observe in steady state (default 1)")
    parser.add_argument(
        "--max-concurrent-reconciles",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"workers per controller (default {DEFAULT_WORKERS}, as on the operator's command line)",
    )
    args = parser.parse_args(argv)
    if args.objects < 1 or args.periods < 1 or args.sync_period <= 0 or args.latency_ms < 0:
        parser.error("--objects and --periods must be at least 1, --sync-period positive and --latency-ms not negative")
    return args


def rss_bytes() -> int:
    """Return the current resident set size of this process (Linux /proc), else the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def histogram_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float | None:
    """Estimate a quantile from cumulative (upper bound, count) buckets by linear interpolation."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = quantile * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for upper_bound, count in buckets:
        if count >= rank:
            if upper_bound == float("inf"):
                return lower_bound
            if count == lower_count:
                return upper_bound
            return lower_bound + (upper_bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = upper_bound, count
    return lower_bound


def reconcile_time_buckets(running: RunningOperator) -> dict[str, list[tuple[float, float]]]:
    """Return the cumulative reconcile time buckets of each controller."""
    buckets: dict[str, list[tuple[float, float]]] = {}
    for family in running.registry.collect():
        if family.name != "controller_runtime_reconcile_time_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets.setdefault(sample.labels["controller"], []).append((bound, sample.value))
    return {name: sorted(values) for name, values in buckets.items()}


# Controllers that reconcile custom resources; the connection Secret protection only reads caches.
KIND_CONTROLLERS = ("team", "user", "virtualkey", "teammemberassociation")


def reconcile_count(running: RunningOperator) -> float:
    """Return the reconciles of the custom resource controllers so far, whatever their result."""
    total = 0.0
    for family in running.registry.collect():
        if family.name == "controller_runtime_reconcile":
            total += sum(
                sample.value
                for sample in family.samples
                if sample.name.endswith("_total") and sample.labels.get("controller") in KIND_CONTROLLERS
            )
    return total


def is_read(method: str, path: str) -> bool:
    """Return whether a LiteLLM call only reads: GET, or a POST to an /info or /list endpoint."""
    return method == "GET" or path.endswith(("/info", "/list"))


def count_calls(calls: Iterable[Any]) -> Counter[tuple[str, str]]:
    return Counter((call.method, call.path) for call in calls)


def operator_writes(records: Iterable[Any]) -> Counter[str]:
    """Count the operator's write requests to the API server by resource[/subresource]."""
    counts: Counter[str] = Counter()
    for record in records:
        if record.user_agent.startswith(OPERATOR_USER_AGENT_PREFIX) and record.verb in WRITE_VERBS and record.resource:
            counts[f"{record.resource}/{record.subresource}" if record.subresource else record.resource] += 1
    return counts


def cached_object_bytes(running: RunningOperator, resources: list[Resource]) -> tuple[int, int]:
    """Return (objects, traced bytes) of a decoded copy of the informer caches.

    The copy goes through JSON, as the reflector decodes objects from the API server, so its
    size approximates what the cache holds. NOTE: store indexes and informer bookkeeping are
    not included.
    """
    objects = [obj for res in resources for obj in running.manager.informer(res).store.list()]
    encoded = [json.dumps(obj) for obj in objects]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        copies = [json.loads(text) for text in encoded]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del copies
    return len(objects), after - before


def controller_exists(plural: str) -> bool:
    return importlib.util.find_spec(CONTROLLER_MODULES[plural]) is not None


def object_bodies(args: argparse.Namespace) -> list[tuple[Resource, dict[str, Any]]]:
    """Return the objects to create: N Teams, and N/2 Users and VirtualKeys where reconcilers exist."""
    connection = {"secretRef": {"name": CONNECTION_SECRET}}
    bodies: list[tuple[Resource, dict[str, Any]]] = []
    for index in range(args.objects):
        spec = {"connectionRef": connection, "teamAlias": f"bench-team-{index}", "maxBudget": "10"}
        bodies.append((api.TEAMS, custom_object("Team", f"team-{index}", spec)))
    half = max(args.objects // 2, 1)
    if controller_exists("users"):
        for index in range(half):
            spec = {"connectionRef": connection, "userEmail": f"user-{index}@bench.example", "userRole": "internal_user"}
            bodies.append((api.USERS, custom_object("User", f"user-{index}", spec)))
    if controller_exists("virtualkeys"):
        for index in range(half):
            spec = {"connectionRef": connection, "keyAlias": f"bench-key-{index}", "maxBudget": "1"}
            bodies.append((api.VIRTUAL_KEYS, custom_object("VirtualKey", f"key-{index}", spec)))
    return bodies


def custom_object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api.API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}


async def create_all(client: KubeClient, bodies: list[tuple[Resource, dict[str, Any]]]) -> None:
    semaphore = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def create(res: Resource, body: dict[str, Any]) -> None:
        async with semaphore:
            await client.create(res, NAMESPACE, body)

    await asyncio.gather(*(create(res, body) for res, body in bodies))


def is_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])


async def wait_all_ready(client: KubeClient, resources: list[Resource], total: int) -> None:
    """Poll the lists until every object is Ready, because an API client has no event for "all Ready"."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        ready = 0
        for res in resources:
            listed = await client.list(res, NAMESPACE)
            ready += sum(1 for obj in listed["items"] if is_ready(obj))
        if ready >= total:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {READY_TIMEOUT}s: {ready} of {total} objects Ready")
        await asyncio.sleep(POLL_INTERVAL)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    figures: dict[str, Any] = {"rss_start": rss_bytes()}
    async with KubeApiServer() as server, FakeLiteLLM(latency=args.latency_ms / 1000) as fake:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
            harness = await KubeClient.from_kubeconfig(kubeconfig, user_agent=HARNESS_USER_AGENT)
            operator_client = await KubeClient.from_kubeconfig(kubeconfig)
        try:
            await harness.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
            secret_data = {"masterKey": fake.master_key, "url": fake.url}
            await harness.create(
                SECRETS,
                NAMESPACE,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": CONNECTION_SECRET},
                    "data": {key: base64.b64encode(value.encode()).decode() for key, value in secret_data.items()},
                },
            )
            bodies = object_bodies(args)
            resources = sorted({res for res, _ in bodies}, key=lambda res: res.plural)
            figures["kinds"] = dict(Counter(res.kind for res, _ in bodies))
            figures["objects"] = len(bodies)
            async with running_operator(
                operator_client,
                namespaces=[NAMESPACE],
                sync_period=args.sync_period,
                max_concurrent_reconciles=args.max_concurrent_reconciles,
            ) as running:
                figures["rss_operator_started"] = rss_bytes()
                await measure(args, figures, server, fake, harness, running, bodies, resources)
        finally:
            await harness.close()
            await operator_client.close()
    return figures


async def measure(
    args: argparse.Namespace,
    figures: dict[str, Any],
    server: KubeApiServer,
    fake: FakeLiteLLM,
    harness: KubeClient,
    running: RunningOperator,
    bodies: list[tuple[Resource, dict[str, Any]]],
    resources: list[Resource],
) -> None:
    # Creation: from the first create request until every object is Ready. When that takes longer
    # than the sync period, the drift checks of the first objects fall inside it and add reads,
    # which is why the default sync period is close to the default creation time.
    started = time.monotonic()
    await create_all(harness, bodies)
    await wait_all_ready(harness, resources, len(bodies))
    figures["ready_seconds"] = time.monotonic() - started
    figures["creation_reconciles"] = reconcile_count(running)
    figures["creation_calls"] = count_calls(fake.calls)
    figures["creation_api_writes"] = operator_writes(server.request_log)

    # Steady state: every object's drift check falls once per sync period, plus up to 10 % jitter.
    calls_before = len(fake.calls)
    log_before = len(server.request_log)
    reconciles_before = reconcile_count(running)
    window = args.periods * args.sync_period
    await asyncio.sleep(window)
    figures["steady_window"] = window
    figures["steady_calls"] = count_calls(fake.calls[calls_before:])
    figures["steady_api_writes"] = operator_writes(server.request_log[log_before:])
    figures["steady_reconciles"] = reconcile_count(running) - reconciles_before

    figures["reconcile_quantiles"] = {
        name: (histogram_quantile(0.5, buckets), histogram_quantile(0.95, buckets), buckets[-1][1])
        for name, buckets in reconcile_time_buckets(running).items()
    }
    figures["cache"] = cached_object_bytes(running, [*resources, SECRETS])
    figures["rss_end"] = rss_bytes()


def format_report(args: argparse.Namespace, figures: dict[str, Any]) -> str:
    """Format the figures as plain-text tables."""
    objects = figures["objects"]
    header = (
        f"litellm-operator benchmark: {objects} objects {figures['kinds']}, LiteLLM latency {args.latency_ms:g} ms, "
        f"sync period {args.sync_period:g} s, {args.max_concurrent_reconciles} worker(s) per controller, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    lines = [
        header,
        "",
        "Creation",
        f"  time until all Ready          {figures['ready_seconds']:8.2f} s",
        f"  throughput                    {objects / figures['ready_seconds']:8.1f} objects/s",
    ]
    creation = figures["creation_calls"]
    reads = sum(count for (method, path), count in creation.items() if is_read(method, path))
    writes = sum(creation.values()) - reads
    lines += [
        f"  reconciles per object         {figures['creation_reconciles'] / objects:8.2f}",
        f"  LiteLLM calls per object      {sum(creation.values()) / objects:8.2f} ({reads / objects:.2f} reads, {writes / objects:.2f} writes)",
        f"  API server writes per object  {sum(figures['creation_api_writes'].values()) / objects:8.2f}",
        "",
        "  LiteLLM endpoint                     calls",
    ]
    lines += [f"  {method:4} {path:31} {count:6}" for (method, path), count in sorted(creation.items())]
    lines += ["", "  API server writes (operator)          requests"]
    lines += [f"  {name:37} {count:8}" for name, count in sorted(figures["creation_api_writes"].items())]

    periods = args.periods
    steady = figures["steady_calls"]
    steady_reads = sum(count for (method, path), count in steady.items() if is_read(method, path))
    steady_writes = sum(steady.values()) - steady_reads
    steady_api = sum(figures["steady_api_writes"].values())
    lines += [
        "",
        f"Steady state over {figures['steady_window']:g} s ({periods} drift periods)",
        f"  reconciles per object per period         {figures['steady_reconciles'] / objects / periods:8.2f}",
        f"  LiteLLM reads per object per period      {steady_reads / objects / periods:8.2f}",
        f"  LiteLLM writes per object per period     {steady_writes / objects / periods:8.2f}",
        f"  API server writes per object per period  {steady_api / objects / periods:8.2f}",
    ]
    lines += [f"    {method} {path}: {count}" for (method, path), count in sorted(steady.items())]
    lines += [f"    API server {name}: {count}" for name, count in sorted(figures["steady_api_writes"].items())]

    lines += ["", "Reconcile time (estimated from histogram buckets)", "  controller                 p50 ms    p95 ms  reconciles"]
    for name, (p50, p95, count) in sorted(figures["reconcile_quantiles"].items()):
        lines.append(f"  {name:24} {_ms(p50):>8} {_ms(p95):>9} {count:11.0f}")

    cached, cache_bytes = figures["cache"]
    mib = 1024 * 1024
    lines += [
        "",
        "Memory (the API server double and the LiteLLM fake share the process)",
        f"  RSS at start                  {figures['rss_start'] / mib:8.1f} MiB",
        f"  RSS with operator started     {figures['rss_operator_started'] / mib:8.1f} MiB",
        f"  RSS at end                    {figures['rss_end'] / mib:8.1f} MiB",
        f"  cached objects                {cached:8}",
        f"  bytes per cached object       {cache_bytes / max(cached, 1):8.0f} (tracemalloc, decoded copy)",
    ]
    return "\n".join(lines)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    figures = asyncio.run(run(args))
    print(format_report(args, figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
