"""Run the whole operator in-process: the manager with every controller, as `litellm-operator` runs it.

Tests, `make demo` and the benchmark use `running_operator` so they exercise the same wiring as
the command line, against the API server double or a real cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import attrs
from prometheus_client import CollectorRegistry

from litellm_operator.cli import Options
from litellm_operator.controllers import Operator, setup
from litellm_operator.runtime.kube import KubeClient
from litellm_operator.runtime.manager import Manager


@attrs.define
class RunningOperator:
    """Handles on an operator running in this process."""

    manager: Manager
    operator: Operator
    registry: CollectorRegistry

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        """Return a sample's value from the operator's registry (0 when absent)."""
        value = self.registry.get_sample_value(name, labels or {})
        return value or 0.0

    def litellm_calls(self, endpoint: str | None = None) -> float:
        """Return how many LiteLLM calls the operator made, for one endpoint or in all."""
        total = 0.0
        for family in self.registry.collect():
            if family.name != "litellm_operator_litellm_requests":
                continue
            for sample in family.samples:
                if sample.name.endswith("_total") and (endpoint is None or sample.labels.get("endpoint") == endpoint):
                    total += sample.value
        return total


@contextlib.asynccontextmanager
async def running_operator(
    client: KubeClient,
    *,
    namespaces: Iterable[str] | None = None,
    sync_period: float = 300.0,
    max_concurrent_reconciles: int = 2,
    litellm_url_override: str | None = None,
    litellm_timeout: float = 10.0,
    metrics_bind_address: str = "0",
    health_probe_bind_address: str = "0",
    manager_options: dict[str, Any] | None = None,
) -> AsyncIterator[RunningOperator]:
    """Start the manager with every controller and stop it cleanly on exit."""
    registry = CollectorRegistry()
    manager = Manager(
        client,
        namespaces=list(namespaces) if namespaces else None,
        metrics_bind_address=metrics_bind_address,
        health_probe_bind_address=health_probe_bind_address,
        registry=registry,
        **(manager_options or {}),
    )
    options = Options(
        namespaces=tuple(namespaces or ()),
        sync_period=sync_period,
        max_concurrent_reconciles=max_concurrent_reconciles,
        litellm_url_override=litellm_url_override,
        litellm_timeout=litellm_timeout,
    )
    operator = setup(manager, options)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop), name="operator-manager")
    try:
        started = asyncio.ensure_future(manager.controllers_started.wait())
        done, _ = await asyncio.wait({started, task}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            started.cancel()
            task.result()
            raise RuntimeError("the operator's manager stopped before its controllers started")
        yield RunningOperator(manager=manager, operator=operator, registry=registry)
    finally:
        stop.set()
        await task
        await operator.close()
